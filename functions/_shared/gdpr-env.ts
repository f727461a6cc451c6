// What the GDPR functions (gdpr-export, delete-account) read from their environment: the database, the service-role
// supabase-js client at SUPABASE_URL (Storage and the Auth admin API: Supabase's in production, the local stack's
// behind the gateway on the Docker-free stack) and the JWT secret that signs users' access tokens.

import { createClient } from "npm:@supabase/supabase-js@2.109.0";
import type { Database } from "../../types/database.ts";
import { createDb } from "./db.ts";
import { requireEnv } from "./env.ts";
import type { GdprDeps } from "./gdpr.ts";

interface EdgeRuntimeGlobal {
  EdgeRuntime?: { waitUntil(work: Promise<unknown>): void };
}

export function gdprFunctionEnv(functionName: string): GdprDeps {
  const runtime = (globalThis as EdgeRuntimeGlobal).EdgeRuntime;
  return {
    sql: createDb(requireEnv("SUPABASE_DB_URL"), { applicationName: `supabase-chat/${functionName}`, max: 3 }),
    admin: createClient<Database>(requireEnv("SUPABASE_URL"), requireEnv("SUPABASE_SERVICE_ROLE_KEY"), {
      auth: { persistSession: false, autoRefreshToken: false },
    }),
    jwtSecret: Deno.env.get("JWT_SECRET") ?? Deno.env.get("SUPABASE_JWT_SECRET"),
    ...(runtime ? { waitUntil: (work: Promise<unknown>) => runtime.waitUntil(work) } : {}),
  };
}
