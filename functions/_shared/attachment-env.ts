// What the attachment functions (scan, thumbnail) read from their environment: the database, the object storage
// (supabase-js Storage in production; STORAGE_DIR on the Docker-free stack, which has no Storage API server) and
// the credentials a caller must present (the service role).

import { createClient } from "npm:@supabase/supabase-js@2.109.0";
import type { Database } from "../../types/database.ts";
import { createDb, type Sql } from "./db.ts";
import { requireEnv } from "./env.ts";
import { createLocalObjectStorage, createSupabaseObjectStorage, type ObjectStorage } from "./storage.ts";

export interface AttachmentFunctionEnv {
  sql: Sql;
  storage: ObjectStorage;
  auth: { serviceRoleKey: string | undefined; jwtSecret: string | undefined };
}

export function attachmentFunctionEnv(functionName: string): AttachmentFunctionEnv {
  const sql = createDb(requireEnv("SUPABASE_DB_URL"), { applicationName: `supabase-chat/${functionName}`, max: 2 });
  const storageDir = Deno.env.get("STORAGE_DIR");
  const storage = storageDir
    ? createLocalObjectStorage(storageDir, sql)
    : createSupabaseObjectStorage(
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
