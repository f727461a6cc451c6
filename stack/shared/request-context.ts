// The request context PostgREST gives every API request: one transaction (read only for GET and HEAD), one
// set_config batch (search_path, the role's own `alter role ... set` settings, role, request.jwt.claims, method,
// path, headers, cookies), then the query as that role; commit on success, rollback on error. Used on a shared pool
// by the API tests (tests/api/support/db.ts) and on one connection per simulated client by the benchmarks and the
// reliability suites.
import postgres from "postgres";
import { randomUUID } from "node:crypto";

export type ApiRole = "anon" | "authenticated" | "service_role";

export interface Claims {
  role: ApiRole;
  sub?: string;
  [claim: string]: unknown;
}

export type Method = "GET" | "HEAD" | "POST" | "PATCH" | "PUT" | "DELETE";

export interface RequestOptions {
  method?: Method;
  path?: string;
  /** Request headers as PostgREST passes them (names lower-cased). */
  headers?: Record<string, string>;
}

const roleSettings = new WeakMap<postgres.Sql, Map<ApiRole, Array<[string, string]>>>();

async function settingsFor(sql: postgres.Sql, role: ApiRole): Promise<Array<[string, string]>> {
  let perRole = roleSettings.get(sql);
  if (!perRole) roleSettings.set(sql, (perRole = new Map()));
  const cached = perRole.get(role);
  if (cached) return cached;
  const rows = await sql<{ setting: string }[]>`
    select unnest(s.setconfig) as setting
      from pg_db_role_setting s
      join pg_roles r on r.oid = s.setrole
     where r.rolname = ${role} and s.setdatabase in (0, (select oid from pg_database where datname = current_database()))`;
  const pairs = rows.map((r) => {
    const i = r.setting.indexOf("=");
    return [r.setting.slice(0, i), r.setting.slice(i + 1)] as [string, string];
  });
  perRole.set(role, pairs);
  return pairs;
}

/** One API request on `sql`: `fn` runs inside the request's transaction as the claims' role. */
export async function inRequest<T>(
  sql: postgres.Sql,
  claims: Claims,
  fn: (tx: postgres.TransactionSql) => Promise<T>,
  opts: RequestOptions = {},
): Promise<T> {
  const method = opts.method ?? "POST";
  const readOnly = method === "GET" || method === "HEAD";
  const settings = await settingsFor(sql, claims.role);
  const headers = Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return (await sql.begin(readOnly ? "read only" : "read write", async (tx) => {
    const pairs: Array<[string, string]> = [
      ["search_path", "public, extensions"],
      ...settings,
      ["role", claims.role],
      ["request.jwt.claims", JSON.stringify(claims)],
      ["request.method", method],
      ["request.path", opts.path ?? "/rpc"],
      ["request.headers", JSON.stringify(headers)],
      ["request.cookies", "{}"],
    ];
    await tx.unsafe(`select ${pairs.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(", ")}`, pairs.flat());
    return fn(tx);
  })) as T;
}

export const SERVICE_ROLE: Claims = { role: "service_role", iss: "supabase-demo" };

/** Claims shaped like a Supabase access token of a signed-in user. */
export function userClaims(id: string, email: string): Claims {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: "http://127.0.0.1:54321/auth/v1",
    sub: id,
    aud: "authenticated",
    exp: now + 3600,
    iat: now,
    email,
    phone: "",
    app_metadata: { provider: "email", providers: ["email"] },
    user_metadata: {},
    role: "authenticated",
    aal: "aal1",
    amr: [{ method: "password", timestamp: now }],
    session_id: randomUUID(),
    is_anonymous: false,
  };
}
