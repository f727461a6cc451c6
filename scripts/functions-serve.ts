// Docker-free Edge Functions runtime: serves every function in supabase/config.toml at
// http://127.0.0.1:<PORT>/functions/v1/<name>, the way Supabase's API gateway and edge runtime do.
//
//   deno run -A scripts/functions-serve.ts
//
// Environment: SUPABASE_CONFIG (default supabase/config.toml), PORT (default 54321; 0 picks a free port),
// JWT_SECRET (required when a function has verify_jwt on), and whatever the functions read (SUPABASE_URL,
// SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY, SUPABASE_DB_URL, ...). <config dir>/functions/.env, if present,
// fills in variables the environment does not already set.
//
// Every function's index.ts calls Deno.serve(handler) at import time. This process replaces Deno.serve before
// importing the functions so that call records the handler instead of opening a port; one real server then routes
// /functions/v1/<name>/... to the handler with the path rewritten to /<name>/..., after checking the caller's JWT
// where verify_jwt is on. All functions share this one process (Supabase gives each its own isolate): see
// docs/operations.md.

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parse as parseToml } from "npm:smol-toml@1.9.1";
import { z } from "npm:zod@4.6.7";
import { errorResponse, json } from "../functions/_shared/http.ts";
import { JwtError, verifyJwt } from "../functions/_shared/jwt.ts";

const HOSTNAME = "127.0.0.1";
const DEFAULT_PORT = 54321;
const SHUTDOWN_GRACE_MS = 5_000;

// ---------------------------------------------------------------------------------------------------------------
// Configuration

export interface FunctionConfig {
  name: string;
  /** Absolute path of the module to import. */
  entrypoint: string;
  verifyJwt: boolean;
}

const functionTable = z.looseObject({
  enabled: z.boolean().optional(),
  verify_jwt: z.boolean().optional(),
  entrypoint: z.string().min(1).optional(),
  import_map: z.string().optional(),
});
const configFile = z.looseObject({ functions: z.record(z.string(), functionTable).optional() });

/** Supabase's rule for function slugs. */
const FUNCTION_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/**
 * The enabled functions of a config.toml. Entrypoints are relative to the directory holding config.toml (the
 * supabase/ directory), defaulting to ./functions/<name>/index.ts; verify_jwt defaults to true, as in Supabase.
 */
export function parseFunctionsConfig(tomlText: string, configDir: string): FunctionConfig[] {
  const parsed = configFile.safeParse(parseToml(tomlText));
  if (!parsed.success) throw new Error(`invalid [functions] section: ${z.prettifyError(parsed.error)}`);
  const functions: FunctionConfig[] = [];
  for (const [name, table] of Object.entries(parsed.data.functions ?? {})) {
    if (!FUNCTION_NAME.test(name)) throw new Error(`invalid function name [functions.${name}]`);
    if (table.enabled === false) continue;
    if (table.import_map !== undefined) {
      console.warn(`functions: [functions.${name}] import_map is ignored here; use full npm: specifiers`);
    }
    functions.push({
      name,
      entrypoint: resolve(configDir, table.entrypoint ?? `./functions/${name}/index.ts`),
      verifyJwt: table.verify_jwt ?? true,
    });
  }
  return functions.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * KEY=value lines of a .env file: blank lines and # comments skipped, an optional `export ` prefix, values either
 * bare (trimmed, a ` #` starts a comment), 'single-quoted' (literal) or "double-quoted" (\n, \t, \", \\ escapes).
 */
export function parseDotEnv(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(trimmed);
    if (match === null) throw new Error(`.env line ${index + 1} is not KEY=value`);
    const [, key, raw] = match as unknown as [string, string, string];
    let value: string;
    const quoted = /^(["'])(.*)\1\s*(?:#.*)?$/.exec(raw);
    if (quoted?.[1] === "'") {
      value = quoted[2] ?? "";
    } else if (quoted?.[1] === '"') {
      const escapes: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };
      value = (quoted[2] ?? "").replace(/\\(.)/g, (whole, char: string) => escapes[char] ?? whole);
    } else {
      value = raw.replace(/\s+#.*$/, "").trim();
    }
    vars.set(key, value);
  });
  return vars;
}

/** Adds the .env variables the environment lacks; like the Supabase CLI, SUPABASE_* names are reserved. */
function applyEnvFile(path: string): void {
  const vars = parseDotEnv(Deno.readTextFileSync(path));
  const applied: string[] = [];
  for (const [key, value] of vars) {
    if (key.startsWith("SUPABASE_")) {
      console.warn(`functions: ${path}: skipping ${key} (names starting with SUPABASE_ are reserved)`);
    } else if (Deno.env.get(key) === undefined) {
      Deno.env.set(key, value);
      applied.push(key);
    }
  }
  console.log(`functions: loaded ${applied.length} variable(s) from ${path}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Capturing Deno.serve

type Handler = Deno.ServeHandler<Deno.NetAddr>;
type ErrorHandler = (error: unknown) => Response | Promise<Response>;

interface CapturedFunction {
  handler: Handler;
  onError?: ErrorHandler;
  stopped: boolean;
}

type FunctionState =
  | { kind: "ready"; captured: CapturedFunction }
  | { kind: "failed"; reason: string };

/** While a function module is being imported: where its Deno.serve call goes. */
let capture: ((captured: CapturedFunction) => void) | undefined;
let gatewayAddr: Deno.NetAddr = { transport: "tcp", hostname: HOSTNAME, port: 0 };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/**
 * Stands in for Deno.serve inside function modules. Accepts Deno.serve(handler), Deno.serve(options, handler) and
 * Deno.serve({ handler, ...options }); ports and hostnames are ignored (the gateway owns the socket); `signal` and
 * `onError` are honoured. Returns a server object whose shutdown() stops routing to the function.
 */
function capturingServe(first: unknown, second?: unknown): Deno.HttpServer<Deno.NetAddr> {
  const options = isRecord(first) ? first : {};
  const handler = typeof first === "function" ? first : typeof second === "function" ? second : options.handler;
  if (typeof handler !== "function") throw new TypeError("Deno.serve: a handler function is required");
  if (capture === undefined) {
    throw new Error("Deno.serve was called after the function finished loading; call it while index.ts runs");
  }
  const captured: CapturedFunction = {
    handler: handler as Handler,
    onError: typeof options.onError === "function" ? (options.onError as ErrorHandler) : undefined,
    stopped: false,
  };
  capture(captured);

  const { promise: finished, resolve: finish } = Promise.withResolvers<void>();
  const shutdown = () => {
    captured.stopped = true;
    finish();
    return Promise.resolve();
  };
  const signal = options.signal;
  if (signal instanceof AbortSignal) {
    if (signal.aborted) void shutdown();
    else signal.addEventListener("abort", () => void shutdown(), { once: true });
  }
  return {
    finished,
    get addr() {
      return gatewayAddr;
    },
    ref() {},
    unref() {},
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}

/** Imports one function module and returns the handler it registered with Deno.serve (or default-exported). */
async function loadFunction(fn: FunctionConfig): Promise<FunctionState> {
  if (!existsSync(fn.entrypoint)) return { kind: "failed", reason: `entrypoint ${fn.entrypoint} does not exist` };
  const registered: CapturedFunction[] = [];
  capture = (captured) => registered.push(captured);
  let module: Record<string, unknown>;
  try {
    // The query makes the specifier unique per function, so two functions sharing an entrypoint each evaluate it
    // (and each call Deno.serve) instead of the second getting the cached module.
    module = await import(`${pathToFileURL(fn.entrypoint).href}?function=${encodeURIComponent(fn.name)}`);
  } catch (error) {
    return { kind: "failed", reason: describe(error) };
  } finally {
    capture = undefined;
  }
  if (registered.length > 1) return { kind: "failed", reason: "Deno.serve was called more than once" };
  const [captured] = registered;
  if (captured !== undefined) return { kind: "ready", captured };
  // `export default { fetch }`, the shape `deno serve` and newer Supabase templates use.
  const fallback = module.default;
  if (isRecord(fallback) && typeof fallback.fetch === "function") {
    const fetchHandler = fallback.fetch as Handler;
    const handler: Handler = (req, info) => fetchHandler.call(fallback, req, info);
    return { kind: "ready", captured: { handler, stopped: false } };
  }
  return { kind: "failed", reason: "the module neither called Deno.serve(handler) nor exported default { fetch }" };
}

// ---------------------------------------------------------------------------------------------------------------
// Gateway

const ROUTE = /^\/functions\/v1\/([^/]+)(\/.*)?$/;

function unauthorized(message: "Missing authorization header" | "Invalid JWT"): Response {
  return json({ code: 401, message }, 401);
}

async function checkJwt(request: Request, secret: string): Promise<Response | undefined> {
  const authorization = request.headers.get("authorization");
  if (authorization === null || authorization.trim() === "") return unauthorized("Missing authorization header");
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (bearer === null) return unauthorized("Invalid JWT");
  try {
    await verifyJwt(bearer[1] as string, secret);
    return undefined;
  } catch (error) {
    if (error instanceof JwtError) return unauthorized("Invalid JWT");
    throw error;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

export interface Gateway {
  addr: Deno.NetAddr;
  names: string[];
  shutdown(): Promise<void>;
}

export async function startGateway(
  config: { configPath: string; port: number; jwtSecret: string | undefined },
): Promise<Gateway> {
  const configDir = dirname(config.configPath);
  const functions = parseFunctionsConfig(await Deno.readTextFile(config.configPath), configDir);
  const needsJwt = functions.filter((fn) => fn.verifyJwt).map((fn) => fn.name);
  if (needsJwt.length > 0 && !config.jwtSecret) {
    throw new Error(`JWT_SECRET is not set but verify_jwt is on for: ${needsJwt.join(", ")}`);
  }
  const envFile = join(configDir, "functions", ".env");
  if (existsSync(envFile)) applyEnvFile(envFile);

  const byName = new Map(functions.map((fn) => [fn.name, fn]));
  const states = new Map<string, FunctionState>();
  const { promise: loaded, resolve: markLoaded } = Promise.withResolvers<void>();

  async function route(request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> {
    const url = new URL(request.url);
    const match = ROUTE.exec(url.pathname);
    if (match === null) return errorResponse(404, "NOT_FOUND", "No route matches this path");
    const [, name, rest] = match as unknown as [string, string, string | undefined];
    const fn = byName.get(name);
    if (fn === undefined) return errorResponse(404, "NOT_FOUND", "Function not found");

    // Preflight requests carry no Authorization header; they go to the function so it can answer CORS.
    if (fn.verifyJwt && request.method !== "OPTIONS") {
      const denied = await checkJwt(request, config.jwtSecret as string);
      if (denied !== undefined) return denied;
    }

    await loaded;
    const state = states.get(name);
    if (state === undefined || state.kind === "failed") {
      return errorResponse(503, "BOOT_ERROR", "Function failed to start (please check logs)");
    }
    if (state.captured.stopped) return errorResponse(503, "FUNCTION_STOPPED", "Function has shut down its server");

    const target = new URL(url);
    target.pathname = `/${name}${rest ?? ""}`;
    const forwarded = new Request(target, request);
    try {
      const response: unknown = await state.captured.handler(forwarded, info);
      if (!(response instanceof Response)) throw new TypeError("the handler did not return a Response");
      return response;
    } catch (error) {
      console.error(`functions: ${name} threw: ${describe(error)}`);
      if (state.captured.onError !== undefined) {
        try {
          return await state.captured.onError(error);
        } catch (onErrorFailure) {
          console.error(`functions: ${name} onError threw: ${describe(onErrorFailure)}`);
        }
      }
      return errorResponse(500, "INTERNAL", `Function ${name} failed with an unhandled error (see the logs)`);
    }
  }

  async function handle(request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> {
    const started = performance.now();
    let response: Response;
    try {
      response = await route(request, info);
    } catch (error) {
      console.error(`functions: gateway error: ${describe(error)}`);
      response = errorResponse(500, "INTERNAL", "Gateway error (see the logs)");
    }
    const ms = Math.round(performance.now() - started);
    // The path only: query strings may carry tokens.
    const path = new URL(request.url).pathname;
    console.log(`${new Date().toISOString()} ${request.method} ${path} ${response.status} ${ms}ms`);
    return response;
  }

  const server = Deno.serve({ hostname: HOSTNAME, port: config.port, onListen: () => {} }, handle);
  gatewayAddr = server.addr;

  // Function modules load after the socket is open so their server objects report the real address; requests
  // arriving meanwhile wait for `loaded`. Imports run one at a time so each Deno.serve call is attributed.
  const nativeServe = Deno.serve;
  Object.defineProperty(Deno, "serve", { value: capturingServe, configurable: true, writable: true });
  try {
    for (const fn of functions) {
      const state = await loadFunction(fn);
      states.set(fn.name, state);
      if (state.kind === "failed") console.error(`functions: ${fn.name} failed to start: ${state.reason}`);
    }
  } finally {
    markLoaded();
  }

  return {
    addr: server.addr,
    names: functions.map((fn) => fn.name),
    async shutdown() {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((done) => (timer = setTimeout(done, SHUTDOWN_GRACE_MS)));
      await Promise.race([server.shutdown(), timeout]);
      clearTimeout(timer);
      Object.defineProperty(Deno, "serve", { value: nativeServe, configurable: true, writable: true });
    },
  };
}

function readPort(): number {
  const raw = Deno.env.get("PORT");
  if (raw === undefined || raw === "") return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be 0..65535, got ${raw}`);
  return port;
}

async function main(): Promise<void> {
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      configPath: resolve(Deno.env.get("SUPABASE_CONFIG") ?? "supabase/config.toml"),
      port: readPort(),
      jwtSecret: Deno.env.get("JWT_SECRET"),
    });
  } catch (error) {
    console.error(`functions: cannot start: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }

  let stopping = false;
  const stop = async (signal: Deno.Signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`functions: ${signal} received, shutting down`);
    await gateway.shutdown();
    // Database pools and other handles the functions hold would keep the event loop alive.
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));

  const { hostname, port } = gateway.addr;
  console.log(`functions ready on http://${hostname}:${port}/functions/v1 (${gateway.names.join(", ")})`);
}

if (import.meta.main) await main();
