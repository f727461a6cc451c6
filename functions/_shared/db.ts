// The postgres.js client functions use for SUPABASE_DB_URL.
//
// - prepare: false. On a hosted project the URL may go through Supavisor in transaction mode, where named prepared
//   statements break between transactions. Queries still use the extended protocol, so parameters stay bound
//   server-side (no string interpolation); the cost is one extra parse per query, which these functions can afford.
// - A small pool: a function is one short-lived isolate among many sharing the database's connection budget.
// - idle_timeout closes connections an idle isolate holds; connect_timeout turns an unreachable database into a
//   fast error (health answers 503) instead of a hanging request.
// - application_name shows which function holds a connection in pg_stat_activity.
// Connections are opened lazily on the first query, so creating the client in index.ts costs nothing.

import postgres from "npm:postgres@3.4.9";

export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;

export interface DbOptions {
  /** Shown in pg_stat_activity, e.g. "supabase-chat/health". */
  applicationName?: string;
  /** Pool size; default 3. */
  max?: number;
  /** Seconds to wait for a connection before failing; default 5. */
  connectTimeoutSeconds?: number;
}

export function createDb(url: string, options: DbOptions = {}): Sql {
  return postgres(url, {
    prepare: false,
    max: options.max ?? 3,
    idle_timeout: 20,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    connection: { application_name: options.applicationName ?? "supabase-chat/functions" },
  });
}
