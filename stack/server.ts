// The Docker-free Supabase surface in one process: the gateway at API_URL and the services behind it.
//
//   tsx stack/server.ts
//
// Environment (set by scripts/lib/local-stack.ts; `npm run status` prints the public part):
//   PORT                 the gateway's port (API_URL)
//   API_URL              the public base URL (defaults to http://127.0.0.1:$PORT)
//   DB_HOST, DB_PORT, DB_NAME, DB_PASSWORD   the database; each service connects as its own platform role
//   JWT_SECRET           the project JWT secret (the legacy anon/service_role keys are derived from it)
//   PUBLISHABLE_KEY, SECRET_KEY             the opaque keys (defaults: the ones `supabase start` prints)
//   FUNCTIONS_URL        the edge functions runtime (scripts/functions-serve.ts) that /functions/v1 is passed to
//   NET_WORKER           0 turns off the pg_net worker (stack/net), which sends what net.http_post queues
//   STACK_DATA_DIR       where services keep their files (storage objects, mail)
//   MAIL_PORT, MAIL_SMTP_PORT  the mail catcher's HTTP API (MAILPIT_URL) and SMTP ports (default: free ports)
//   SUPABASE_CONFIG      config.toml (default supabase/config.toml)
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createAdaptorServer } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { loadProjectConfig } from "./shared/config.ts";
import { databaseAccess, type StackDeps } from "./shared/deps.ts";
import { projectKeys } from "./shared/keys.ts";
import { createGateway, proxyTo, type GatewayServices } from "./gateway/index.ts";
import { createRest } from "./rest/index.ts";
import { startNetWorker, type NetWorker } from "./net/worker.ts";
import { createStorage } from "./storage/index.ts";
import { createAuth } from "./auth/index.ts";
import { startMailCatcher } from "./mail/index.ts";
import { createRealtime, socketApiKey, type RealtimeService } from "./realtime/index.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === "") throw new Error(`stack: ${name} is not set`);
  return value;
}

export interface StackOptions {
  port: number;
  /** Defaults to http://127.0.0.1:<port>. */
  apiUrl?: string;
  configFile?: string;
  jwtSecret: string;
  publishableKey?: string;
  secretKey?: string;
  db: { host: string; port: number; database: string; password: string };
  /** Where /functions/v1 is passed on to; without it /functions/v1 answers 404. */
  functionsUrl?: string;
  /** Send the requests the database queues with pg_net's net.http_post (stack/net); off unless asked for. */
  net?: boolean;
  dataDir: string;
  /** The mail catcher's ports ([local_smtp] port / smtp_port); 0 or absent picks free ports. */
  mail?: { httpPort?: number; smtpPort?: number };
}

export interface RunningStack {
  url: string;
  /** The pg_net worker, when `net` was asked for. */
  net?: NetWorker;
  /** The mail catcher's HTTP API (MAILPIT_URL). */
  mailUrl: string;
  deps: StackDeps;
  realtime: RealtimeService;
  close(): Promise<void>;
}

/** Builds every service and serves the gateway; returns once the port listens. */
export async function startStack(opts: StackOptions): Promise<RunningStack> {
  const config = loadProjectConfig(opts.configFile ?? path.join(ROOT, "supabase", "config.toml"));
  const opaque: { publishableKey?: string; secretKey?: string } = {};
  if (opts.publishableKey) opaque.publishableKey = opts.publishableKey;
  if (opts.secretKey) opaque.secretKey = opts.secretKey;
  const keys = await projectKeys(opts.jwtSecret, opaque);
  const deps: StackDeps = {
    config,
    keys,
    db: databaseAccess(opts.db),
    apiUrl: opts.apiUrl ?? `http://127.0.0.1:${opts.port}`,
    dataDir: opts.dataDir,
  };
  const closers: Array<() => Promise<void> | void> = [];
  const services: GatewayServices = {};
  if (opts.functionsUrl) services.functions = proxyTo(opts.functionsUrl);
  // Each service: `services.<name> = create<Name>(deps)`, and its close() pushed onto `closers`.
  let net: NetWorker | undefined;
  if (opts.net) {
    net = startNetWorker({ url: deps.db.url("supabase_admin") });
    closers.push(() => net!.close());
  }
  const rest = createRest(deps);
  services.rest = rest;
  closers.push(() => rest.close());
  const storage = createStorage(deps);
  services.storage = storage;
  closers.push(() => storage.close());
  const mail = await startMailCatcher({ httpPort: opts.mail?.httpPort ?? 0, smtpPort: opts.mail?.smtpPort ?? 0 });
  closers.push(() => mail.close());
  const auth = createAuth(deps, { smtp: { host: "127.0.0.1", port: mail.smtpPort } });
  services.auth = auth.handler;
  closers.push(() => auth.close());
  const realtime = await createRealtime(deps);
  services.realtime = realtime.api;
  closers.push(() => realtime.close());

  const server = createAdaptorServer({ fetch: createGateway({ keys, services }) });
  // The Realtime socket: /realtime/v1/websocket upgrades go to the Realtime service with the gateway's socket rule
  // applied to the `apikey` query parameter (passed on as x-api-key, which Realtime reads first).
  server.on("upgrade", (request, socket, head) => {
    const url = new URL(request.url ?? "/", "http://gateway.local");
    if (url.pathname !== "/realtime/v1/websocket") {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    realtime.handleUpgrade(request, socket, head, socketApiKey(url.searchParams.get("apikey"), keys));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    mailUrl: mail.url,
    deps,
    ...(net ? { net } : {}),
    realtime,
    async close() {
      // Open websockets keep server.close() waiting: the services end them first.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const close of closers.reverse()) await close();
      (server as import("node:http").Server).closeAllConnections?.();
      await closed;
    },
  };
}

/** The options from the environment described at the top of this file. */
export function optionsFromEnv(): StackOptions {
  const port = Number(env("PORT", "54321"));
  const opts: StackOptions = {
    port,
    jwtSecret: env("JWT_SECRET"),
    db: {
      host: env("DB_HOST", "127.0.0.1"),
      port: Number(env("DB_PORT")),
      database: env("DB_NAME", "postgres"),
      password: env("DB_PASSWORD", "postgres"),
    },
    dataDir: env("STACK_DATA_DIR"),
  };
  if (process.env.API_URL) opts.apiUrl = process.env.API_URL;
  if (process.env.SUPABASE_CONFIG) opts.configFile = process.env.SUPABASE_CONFIG;
  if (process.env.PUBLISHABLE_KEY) opts.publishableKey = process.env.PUBLISHABLE_KEY;
  if (process.env.SECRET_KEY) opts.secretKey = process.env.SECRET_KEY;
  if (process.env.FUNCTIONS_URL) opts.functionsUrl = process.env.FUNCTIONS_URL;
  opts.net = process.env.NET_WORKER !== "0";
  opts.mail = { httpPort: Number(process.env.MAIL_PORT ?? 0), smtpPort: Number(process.env.MAIL_SMTP_PORT ?? 0) };
  return opts;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const running = await startStack(optionsFromEnv());
  console.log(`stack: listening on ${running.url}; mail catcher on ${running.mailUrl}`);
  const shutdown = () => {
    void running.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}
