// Where the state of a service that runs as its own OS user lives.
//
// As root, PostgreSQL runs as `postgres` (initdb refuses root) and clamd drops to `clamav`. Their state normally
// sits in the checkout (.local/, git-ignored), but a checkout those users cannot reach — a clone in root's home,
// mode 0700 as in many containers — would make `npm start` and `npm test` fail. Then the state goes to
// /var/tmp/supabase-chat-<hash of the checkout path>/, a root-owned 0755 directory that both users can traverse,
// one per checkout so two clones never share a cluster. /var/tmp rather than /tmp: a dev database should survive a
// reboot. Once state exists there, it stays there (a later `chmod o+x` does not make the database disappear).
import { createHash } from "node:crypto";
import { chmodSync, existsSync, lstatSync, mkdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { ROOT, isRoot } from "./util.ts";

export const EXTERNAL_BASE = process.env.SUPABASE_CHAT_EXTERNAL_BASE ?? "/var/tmp";

/** The per-checkout directory outside the checkout, keyed by a hash of the checkout's path. */
export function externalRoot(): string {
  const hash = createHash("sha256").update(path.resolve(ROOT)).digest("hex").slice(0, 12);
  return path.join(EXTERNAL_BASE, `supabase-chat-${hash}`);
}

/** `localDir`'s counterpart outside the checkout: its path below .local/ (or a hash if it is elsewhere). */
export function externalCounterpart(localDir: string): string {
  const rel = path.relative(path.join(ROOT, ".local"), path.resolve(localDir));
  const tail = rel && !rel.startsWith("..") && !path.isAbsolute(rel)
    ? rel
    : `dir-${createHash("sha256").update(path.resolve(localDir)).digest("hex").slice(0, 12)}`;
  return path.join(externalRoot(), tail);
}

/** True when `user` can get to `dir` (every parent and `dir` searchable). */
export function userCanReach(user: string, dir: string): boolean {
  return spawnSync("runuser", ["-u", user, "--", "test", "-x", dir], { stdio: "ignore" }).status === 0;
}

export interface ServiceDir {
  dir: string;
  /** True when the directory is outside the checkout because the service's user cannot reach the checkout. */
  external: boolean;
}

/**
 * The directory a service running as `user` should use for the state the project keeps in `localDir`: `localDir`
 * itself when that user can reach its parent (the service chowns `localDir` to itself; when we are not root the
 * service runs as us and can always reach it), otherwise its counterpart under externalRoot(), created root-owned
 * and 0755 on the way.
 */
export function serviceDir(localDir: string, user: string): ServiceDir {
  if (!isRoot()) return { dir: localDir, external: false };
  const top = externalRoot();
  if (path.resolve(localDir).startsWith(top + path.sep)) return { dir: localDir, external: true }; // resolved already
  const outside = externalCounterpart(localDir);
  if (!existsSync(outside)) {
    mkdirSync(path.dirname(localDir), { recursive: true });
    if (userCanReach(user, path.dirname(localDir))) return { dir: localDir, external: false };
  }
  if (!existsSync(top)) mkdirSync(top, { recursive: true });
  assertOwnedByRoot(top);
  for (let p = top; ; ) {
    if (!existsSync(p)) mkdirSync(p);
    chmodSync(p, 0o755); // whatever the umask: both service users must traverse it
    if (p === outside) break;
    p = path.join(p, path.relative(p, outside).split(path.sep)[0]!);
  }
  return { dir: outside, external: true };
}

/**
 * /var/tmp is writable by everyone: refuse a per-checkout directory that another user created (or replaced by a
 * symlink), which would hand them the database files. Below it only root can create entries.
 */
function assertOwnedByRoot(dir: string): void {
  const st = lstatSync(dir);
  if (st.isSymbolicLink() || !st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new Error(`${dir} is not a directory owned and only writable by root; remove it and try again`);
  }
}
