#!/usr/bin/env bash
# Installs the Debian packages the Docker-free stack and the tests need. Idempotent; run as root.
set -euo pipefail

packages=(
  postgresql-15 postgresql-client-15 postgresql-contrib
  postgresql-15-pgtap postgresql-15-cron postgresql-15-plpgsql-check postgresql-15-wal2json
  libtap-parser-sourcehandler-pgtap-perl
  clamav-daemon
)

if [ "$(id -u)" -ne 0 ]; then
  echo "run as root: sudo bash $0" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

echo "installing: ${missing[*]}"
# Package maintainer scripts must not start system services (clamav-freshclam would try to download signatures;
# the stack runs its own clamd and PostgreSQL).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "system packages: installed ${#missing[@]}"
