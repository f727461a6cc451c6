// Starts the local stack (gateway and services, stack/server.ts) once for the client suite, on the database that
// `npm test` built, and hands its URL and keys to the tests (inject("stack")).
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startStack, type RunningStack } from "../../../stack/server.ts";
import { freePort, ROOT } from "../../../scripts/lib/util.ts";

export interface StackInfo {
  url: string;
  anonKey: string;
  serviceRoleKey: string;
  publishableKey: string;
  secretKey: string;
  jwtSecret: string;
  dbUrl: string;
  /** The mail catcher's HTTP API (Mailpit-compatible), where Auth mails arrive. */
  mailUrl: string;
  /** The edge functions runtime is behind /functions/v1 (the suite's runner starts it). */
  functions: boolean;
}

declare module "vitest" {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the client suite through \`npm test -- client\``);
  return value;
}

let running: RunningStack | undefined;

export async function setup(project: TestProject): Promise<void> {
  const dbUrl = new URL(need("DB_URL"));
  const port = process.env.STACK_PORT ? Number(process.env.STACK_PORT) : await freePort(56321);
  running = await startStack({
    port,
    net: true,
    jwtSecret: need("JWT_SECRET"),
    db: { host: dbUrl.hostname, port: Number(dbUrl.port), database: dbUrl.pathname.slice(1), password: "postgres" },
    dataDir: process.env.STACK_DATA_DIR ?? path.join(ROOT, ".local", "test", "stack"),
    ...(process.env.FUNCTIONS_URL ? { functionsUrl: process.env.FUNCTIONS_URL } : {}),
    // The notify function (started by the runner) sends its mails to this SMTP port.
    ...(process.env.MAIL_SMTP_PORT ? { mail: { smtpPort: Number(process.env.MAIL_SMTP_PORT) } } : {}),
  });
  const { keys } = running.deps;
  project.provide("stack", {
    url: running.url,
    anonKey: keys.anonKey,
    serviceRoleKey: keys.serviceRoleKey,
    publishableKey: keys.publishableKey,
    secretKey: keys.secretKey,
    jwtSecret: keys.jwtSecret,
    dbUrl: dbUrl.toString(),
    mailUrl: running.mailUrl,
    functions: Boolean(process.env.FUNCTIONS_URL),
  });
}

export async function teardown(): Promise<void> {
  await running?.close();
}
