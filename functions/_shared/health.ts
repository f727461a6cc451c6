// GET /health: is the function runtime up, and can it reach the database?
//
// 200 {"status":"ok","database":{"version","server_version_num"},"time"} when a query succeeds,
// 503 DB_UNAVAILABLE when it does not (the reason goes to the log, not to the caller), 405 for other methods,
// 204 for a CORS preflight.

import { preflightResponse } from "./cors.ts";
import type { Sql } from "./db.ts";
import { errorResponse, json, methodNotAllowed } from "./http.ts";

export interface HealthDeps {
  sql: Sql;
  /** Clock for the `time` field; injectable for tests. */
  now?: () => Date;
}

export interface HealthBody {
  status: "ok";
  database: { version: string; server_version_num: number };
  time: string;
}

export function createHealthHandler(deps: HealthDeps): (request: Request) => Promise<Response> {
  const now = deps.now ?? (() => new Date());

  return async (request) => {
    if (request.method === "OPTIONS") return preflightResponse();
    if (request.method !== "GET") return methodNotAllowed(request.method, ["GET", "OPTIONS"]);

    let row: { version: string; server_version_num: number } | undefined;
    try {
      [row] = await deps.sql<{ version: string; server_version_num: number }[]>`
        select version() as version, current_setting('server_version_num')::int as server_version_num
      `;
    } catch (error) {
      console.error(`health: database query failed: ${error instanceof Error ? error.message : String(error)}`);
      return errorResponse(
        503,
        "DB_UNAVAILABLE",
        "The database is not reachable",
        "Check SUPABASE_DB_URL and that Postgres is running",
      );
    }
    if (row === undefined) throw new Error("select version() returned no row");

    const body: HealthBody = {
      status: "ok",
      database: { version: row.version, server_version_num: row.server_version_num },
      time: now().toISOString(),
    };
    return json(body, 200, { "Cache-Control": "no-store" });
  };
}
