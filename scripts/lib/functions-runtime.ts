// The edge functions runtime (scripts/functions-serve.ts on Deno), started by `npm start` behind the gateway and by
// the client suite for the file flow and the health function.
import { closeSync, openSync } from "node:fs";
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { BIN, ROOT, waitFor } from "./util.ts";

export interface FunctionsRuntimeOptions {
  port: number;
  /** The gateway's URL (SUPABASE_URL inside the functions). */
  apiUrl: string;
  anonKey: string;
  serviceRoleKey: string;
  jwtSecret: string;
  dbUrl: string;
  clamdPort: number;
  logFile: string;
  /** The notify function's Web Push keys (VAPID, base64url) and the SMTP port of the mail catcher. */
  vapid?: { publicKey: string; privateKey: string };
  smtpPort?: number;
  /** Keep running after the parent exits (`npm start`). */
  detached?: boolean;
}

export function functionsEnv(o: FunctionsRuntimeOptions): Record<string, string> {
  return {
    PORT: String(o.port),
    SUPABASE_URL: o.apiUrl,
    SUPABASE_ANON_KEY: o.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: o.serviceRoleKey,
    SUPABASE_DB_URL: o.dbUrl,
    JWT_SECRET: o.jwtSecret,
    CLAMD_HOST: "127.0.0.1",
    CLAMD_PORT: String(o.clamdPort),
    ...(o.vapid ? { VAPID_PUBLIC_KEY: o.vapid.publicKey, VAPID_PRIVATE_KEY: o.vapid.privateKey, VAPID_SUBJECT: "mailto:notifications@example.test" } : {}),
    ...(o.smtpPort ? { SMTP_HOST: "127.0.0.1", SMTP_PORT: String(o.smtpPort), NOTIFY_MAIL_FROM: "Chat <notifications@example.test>" } : {}),
  };
}

/** A fresh VAPID key pair (P-256; public key uncompressed, both base64url), as `web-push generate-vapid-keys` makes. */
export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const pub = publicKey.export({ format: "jwk" });
  const priv = privateKey.export({ format: "jwk" });
  const raw = Buffer.concat([Buffer.from([4]), Buffer.from(pub.x!, "base64url"), Buffer.from(pub.y!, "base64url")]);
  return { publicKey: raw.toString("base64url"), privateKey: priv.d! };
}

/** The health function answers 200 through `baseUrl` (the gateway or the functions runtime itself). */
export async function functionHealthy(baseUrl: string, anonKey: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/functions/v1/health`, { headers: { authorization: `Bearer ${anonKey}` } });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Starts the runtime and waits until its health function answers (the functions load at start). */
export async function startFunctionsRuntime(o: FunctionsRuntimeOptions): Promise<ChildProcess> {
  const log = openSync(o.logFile, "a");
  const child = spawn(`${BIN}/deno`, ["run", "-A", "scripts/functions-serve.ts"], {
    cwd: ROOT,
    detached: o.detached ?? false,
    stdio: ["ignore", log, log],
    env: { ...process.env, ...functionsEnv(o) },
  });
  closeSync(log);
  if (o.detached) child.unref();
  await waitFor(`edge functions (log: ${o.logFile})`, async () => {
    if (child.exitCode !== null) throw new Error(`the functions runtime exited with ${child.exitCode}; see ${o.logFile}`);
    return functionHealthy(`http://127.0.0.1:${o.port}`, o.anonKey);
  }, 120_000);
  return child;
}
