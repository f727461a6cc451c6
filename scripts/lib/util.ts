// Small process and filesystem helpers shared by the stack, test and CI scripts.
import { spawn, spawnSync, type SpawnOptions } from "node:child_process";
import { createServer } from "node:net";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BIN = path.join(ROOT, "node_modules", ".bin");
export const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

export const isRoot = (): boolean => typeof process.getuid === "function" && process.getuid() === 0;

/** Prints a progress line for a long step. */
export function step(message: string): void {
  process.stdout.write(`\u2022 ${message}\n`);
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  /** Run as this OS user (only when we are root). */
  user?: string;
  allowFailure?: boolean;
}

/** Runs a command to completion, capturing output; throws CommandError on a non-zero exit. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): { stdout: string; stderr: string; status: number } {
  const [file, argv] = opts.user && isRoot() ? ["runuser", ["-u", opts.user, "--", cmd, ...args]] : [cmd, args];
  const result = spawnSync(file, argv, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    input: opts.input,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  const out = { stdout: result.stdout ?? "", stderr: result.stderr ?? "", status: result.status ?? 1 };
  if (out.status !== 0 && !opts.allowFailure) {
    throw new CommandError(
      `${cmd} ${args.join(" ")} exited with ${out.status}\n${out.stderr || out.stdout}`,
      result.status,
      out.stdout,
      out.stderr,
    );
  }
  return out;
}

/** Runs a command with inherited stdio and resolves with its exit code. */
export function runInherit(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: "inherit", ...opts });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export function commandExists(name: string): boolean {
  if (name.includes("/")) return existsSync(name);
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

export function portIsFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** The first free port at or after `preferred`, skipping any in `taken`. */
export async function freePort(preferred: number, taken: number[] = []): Promise<number> {
  for (let port = preferred; port < preferred + 200; port++) {
    if (!taken.includes(port) && (await portIsFree(port))) return port;
  }
  throw new Error(`no free port found from ${preferred}`);
}

export function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
