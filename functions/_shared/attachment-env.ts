// What the attachment functions (scan, thumbnail, attachments-cleanup) read from their environment: the database,
// the object storage (supabase-js Storage at SUPABASE_URL with the service role key: Supabase's Storage API in
// production, the local stack's at the gateway on the Docker-free stack) and the credentials a caller must present
// (the service role).

import { createClient } from "npm:@supabase/supabase-js@2.109.0";
import type { Database } from "../../types/database.ts";
import { createDb, type Sql } from "./db.ts";
import { requireEnv } from "./env.ts";
import { createSupabaseObjectStorage, type ObjectStorage } from "./storage.ts";

export interface AttachmentFunctionEnv {
  sql: Sql;
  storage: ObjectStorage;
  auth: { serviceRoleKey: string | undefined; jwtSecret: string | undefined };
}

export function attachmentFunctionEnv(functionName: string): AttachmentFunctionEnv {
  const sql = createDb(requireEnv("SUPABASE_DB_URL"), { applicationName: `supabase-chat/${functionName}`, max: 2 });
  const storage = createSupabaseObjectStorage(
    createClient<Database>(requireEnv("SUPABASE_URL"), requireEnv("SUPABASE_SERVICE_ROLE_KEY"), {
      auth: { persistSession: false, autoRefreshToken: false },
    }),
  );
  return {
    sql,
    storage,
    auth: {
      serviceRoleKey: Deno.env.get("SUPABASE_SERVICE_ROLE_KEY"),
      jwtSecret: Deno.env.get("JWT_SECRET") ?? Deno.env.get("SUPABASE_JWT_SECRET"),
    },
  };
}
