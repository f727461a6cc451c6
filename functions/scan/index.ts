// scan: ClamAV verdict for an uploaded attachment. See functions/_shared/scan.ts.

import { createClient } from "npm:@supabase/supabase-js@2.109.0";
import type { Database } from "../../types/database.ts";
import { createDb } from "../_shared/db.ts";
import { requireEnv } from "../_shared/env.ts";
import { createScanHandler } from "../_shared/scan.ts";
import { createLocalObjectStorage, createSupabaseObjectStorage } from "../_shared/storage.ts";

const sql = createDb(requireEnv("SUPABASE_DB_URL"), { applicationName: "supabase-chat/scan", max: 2 });
// STORAGE_DIR is set only by the Docker-free stack, which has no Storage API server.
const storageDir = Deno.env.get("STORAGE_DIR");
const storage = storageDir
  ? createLocalObjectStorage(storageDir, sql)
  : createSupabaseObjectStorage(
    createClient<Database>(requireEnv("SUPABASE_URL"), requireEnv("SUPABASE_SERVICE_ROLE_KEY"), {
      auth: { persistSession: false, autoRefreshToken: false },
    }),
  );

Deno.serve(createScanHandler({
  sql,
  storage,
  auth: {
    serviceRoleKey: Deno.env.get("SUPABASE_SERVICE_ROLE_KEY"),
    jwtSecret: Deno.env.get("JWT_SECRET") ?? Deno.env.get("SUPABASE_JWT_SECRET"),
  },
  clamd: { host: requireEnv("CLAMD_HOST"), port: Number(requireEnv("CLAMD_PORT")) },
  maxStreamBytes: Number(Deno.env.get("SCAN_MAX_BYTES") ?? 50 * 1024 * 1024),
}));
