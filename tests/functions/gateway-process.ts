// Runs scripts/functions-serve.ts as a child process for the function tests: a temporary supabase/ directory with
// a config.toml (and optionally functions/.env), PORT=0 so the OS picks a free port, readiness taken from the
// "functions ready on ..." line, and a stop() that sends SIGTERM and waits for the exit so no resource leaks.

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { signJwt } from "../../functions/_shared/jwt.ts";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** JWT_SECRET for the gateway under test: the environment's, else the Supabase CLI's well-known local secret. */
export const jwtSecret = Deno.env.get("JWT_SECRET") || "super-secret-jwt-token-with-at-least-32-characters-long";

/** The database the tests use. Functions tests need a real PostgreSQL 15, not a mock. */
export function databaseUrl(): string {
  const url = Deno.env.get("SUPABASE_DB_URL");
  if (url === undefined || url === "") {
    throw new Error(
      "SUPABASE_DB_URL is not set. Point it at a PostgreSQL 15 database, e.g. " +
        "SUPABASE_DB_URL=postgresql://postgres@127.0.0.1:54322/postgres deno test -A tests/functions/",
    );
  }
  return url;
}

/** A token shaped like the Supabase anon key, valid for an hour unless `claims` say otherwise. */
export function anonJwt(claims: Record<string, unknown> = {}, secret = jwtSecret): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ iss: "supabase-demo", role: "anon", iat: now, exp: now + 3600, ...claims }, secret);
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

export interface FunctionEntry {
  /** Absolute path of the function's index.ts. */
  entrypoint: string;
  verifyJwt?: boolean;
  enabled?: boolean;
}

export interface GatewayOptions {
  functions: Record<string, FunctionEntry>;
  env?: Record<string, string>;
  /** Contents of <config dir>/functions/.env. */
  dotEnv?: string;
}

export interface RunningGateway {
  /** http://127.0.0.1:<port>/functions/v1 */
  baseUrl: string;
  /** Sends SIGTERM, waits for the exit, and returns the exit status with everything the process printed. */
  stop(): Promise<{ code: number; stdout: string; stderr: string }>;
}

export function functionPath(...segments: string[]): string {
  return join(repoRoot, ...segments);
}

function configToml(functions: Record<string, FunctionEntry>): string {
  return Object.entries(functions)
    .map(([name, entry]) =>
      [
        `[functions.${name}]`,
        `enabled = ${entry.enabled ?? true}`,
        ...(entry.verifyJwt === undefined ? [] : [`verify_jwt = ${entry.verifyJwt}`]),
        `entrypoint = ${JSON.stringify(entry.entrypoint)}`,
      ].join("\n")
    )
    .join("\n\n") + "\n";
}

const READY = /functions ready on http:\/\/127\.0\.0\.1:(\d+)\/functions\/v1/;

/** Starts the gateway and resolves once it is listening with all functions loaded. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const supabaseDir = await Deno.makeTempDir({ prefix: "functions-serve-test-" });
  await Deno.writeTextFile(join(supabaseDir, "config.toml"), configToml(options.functions));
  if (options.dotEnv !== undefined) {
    await Deno.mkdir(join(supabaseDir, "functions"));
    await Deno.writeTextFile(join(supabaseDir, "functions", ".env"), options.dotEnv);
  }

  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/functions-serve.ts"],
    cwd: repoRoot,
    env: {
      SUPABASE_CONFIG: join(supabaseDir, "config.toml"),
      PORT: "0",
      JWT_SECRET: jwtSecret,
      NO_COLOR: "1",
      ...options.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let stdout = "";
  let stderr = "";
  const ready = Promise.withResolvers<number>();
  const readStdout = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      stdout += chunk;
      const match = READY.exec(stdout);
      if (match !== null) ready.resolve(Number(match[1]));
    }
    ready.reject(new Error(`functions-serve exited before it was ready.\nstdout:\n${stdout}\nstderr:\n${stderr}`));
  })();
  const readStderr = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();

  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    const status = await child.status;
    await Promise.all([readStdout, readStderr]);
    await Deno.remove(supabaseDir, { recursive: true });
    return { code: status.code, stdout, stderr };
  };

  // Waits for functions-serve to print its ready line, i.e. to have loaded every entrypoint: a second or two idle,
  // much longer on a loaded 2-core machine; the limit only catches a server that never gets there.
  const timer = setTimeout(() => ready.reject(new Error("functions-serve was not ready within 120 s")), 120_000);
  try {
    const port = await ready.promise;
    return { baseUrl: `http://127.0.0.1:${port}/functions/v1`, stop };
  } catch (error) {
    const { stderr: printed } = await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${printed}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `body` against a started gateway, then stops it. On success it also asserts that SIGTERM ended the process
 * with exit code 0 and returns what the process printed; on failure the output is printed next to the error.
 */
export async function withGateway(
  options: GatewayOptions,
  body: (gateway: RunningGateway) => Promise<void>,
): Promise<{ stdout: string; stderr: string }> {
  const gateway = await startGateway(options);
  try {
    await body(gateway);
  } catch (error) {
    const { stdout, stderr } = await gateway.stop();
    console.error(`functions-serve output:\n${stdout}\n${stderr}`);
    throw error;
  }
  const { code, stdout, stderr } = await gateway.stop();
  assert.equal(code, 0, `functions-serve did not exit cleanly on SIGTERM:\n${stdout}\n${stderr}`);
  return { stdout, stderr };
}

/** fetch() that always consumes the body (Deno's sanitizers flag unread bodies) and returns it parsed. */
export async function request(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  if (response.headers.get("content-type")?.includes("application/json")) body = JSON.parse(text);
  return { status: response.status, headers: response.headers, body };
}
