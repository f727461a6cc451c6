// Adds lock entries for other platforms' optional binary packages (deno, supabase CLI) that npm leaves out when the
// registry it installed from does not serve them. Without these entries `npm ci` refuses the lock as out of sync.
// Each added entry names its os/cpu/libc, so npm skips it on every other platform without fetching it.
// Run after `npm install` changes package-lock.json: `npx tsx scripts/complete-lockfile.ts`.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./lib/util.ts";

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  optionalDependencies?: Record<string, string>;
  os?: string[];
  cpu?: string[];
  libc?: string[];
}

const file = path.join(ROOT, "package-lock.json");
const lock = JSON.parse(readFileSync(file, "utf8")) as { packages: Record<string, LockEntry> };

function platformOf(name: string): Pick<LockEntry, "os" | "cpu" | "libc"> | undefined {
  const m = /(darwin|linux|win32|windows)-(arm64|x64)(?:-(glibc|musl))?$/.exec(name);
  if (!m) return undefined;
  const os = m[1] === "windows" ? "win32" : m[1]!;
  return { os: [os], cpu: [m[2]!], ...(m[3] ? { libc: [m[3]] } : os === "linux" ? { libc: ["glibc"] } : {}) };
}

let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const depKey = `node_modules/${dep}`;
    const platform = platformOf(dep);
    if (lock.packages[depKey] || !platform || key === "") continue;
    lock.packages[depKey] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platform };
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
lock.packages = sorted;
writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");
console.log(`package-lock.json: added ${added} platform entries`);
