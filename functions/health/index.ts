// health: reports whether the functions runtime can reach the database. See functions/_shared/health.ts.

import { createDb } from "../_shared/db.ts";
import { requireEnv } from "../_shared/env.ts";
import { createHealthHandler } from "../_shared/health.ts";

const sql = createDb(requireEnv("SUPABASE_DB_URL"), { applicationName: "supabase-chat/health", max: 1 });

Deno.serve(createHealthHandler({ sql }));
