// Checks the Debian packages the Docker-free stack needs; installs them when running as root.
import { existsSync } from "node:fs";
import path from "node:path";
import { PG_BIN, ROOT, isRoot, runInherit, step } from "./util.ts";

const EXT_DIR = "/usr/share/postgresql/15/extension";
const NEEDS: Array<{ what: string; file: string }> = [
  { what: "PostgreSQL 15 server", file: `${PG_BIN}/initdb` },
  { what: "pgTAP", file: `${EXT_DIR}/pgtap.control` },
  { what: "pg_cron", file: `${EXT_DIR}/pg_cron.control` },
  { what: "plpgsql_check", file: `${EXT_DIR}/plpgsql_check.control` },
  { what: "wal2json", file: "/usr/lib/postgresql/15/lib/wal2json.so" },
  { what: "pg_prove", file: "/usr/bin/pg_prove" },
  { what: "ClamAV clamd", file: "/usr/sbin/clamd" },
];

export const INSTALL_SCRIPT = path.join(ROOT, "scripts", "install-system-deps.sh");

export function missingSystemDeps(): string[] {
  return NEEDS.filter((n) => !existsSync(n.file)).map((n) => n.what);
}

export async function ensureSystemDeps(): Promise<void> {
  const missing = missingSystemDeps();
  if (missing.length === 0) return;
  if (!isRoot()) {
    throw new Error(
      `missing system packages: ${missing.join(", ")}.\nInstall them with:\n  sudo bash scripts/install-system-deps.sh\n` +
        `(or: sudo apt-get update && sudo apt-get install -y postgresql-15 postgresql-15-pgtap postgresql-15-cron ` +
        `postgresql-15-plpgsql-check postgresql-15-wal2json libtap-parser-sourcehandler-pgtap-perl clamav-daemon)`,
    );
  }
  step(`installing system packages (${missing.join(", ")})`);
  const code = await runInherit("bash", [INSTALL_SCRIPT]);
  if (code !== 0) throw new Error(`scripts/install-system-deps.sh failed with exit code ${code}`);
  const still = missingSystemDeps();
  if (still.length) throw new Error(`still missing after install: ${still.join(", ")}`);
}
