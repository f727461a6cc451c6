// The request context PostgREST gives every API request: one transaction (read only for GET and HEAD), one
// set_config batch (search_path, the role's own `alter role ... set` settings, role, request.jwt.claims, method,
// path, headers, cookies), then the query as that role; commit on success, rollback on error. The REST server
// (stack/rest) runs every request through withRequestContext; inRequest is the same code for the API tests
// (tests/api/support/db.ts), the benchmarks and the reliability suites.
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

const roleSettings = new WeakMap<postgres.Sql, Map<string, Array<[string, string]>>>();

async function settingsFor(sql: postgres.Sql, role: string): Promise<Array<[string, string]>> {
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

/** Everything PostgREST puts into one request's transaction (PostgREST/postgrest:src/library/PostgREST/Query/PreQuery.hs). */
export interface RequestContext {
  /** The role to switch to: the JWT's `role` claim, else the anon role. */
  role: string;
  /** request.jwt.claims: the JWT's claims with `role` always present. */
  claims: Record<string, unknown>;
  method: string;
  /** request.path as PostgREST receives it (after the gateway strips /rest/v1). */
  path: string;
  /** Request headers (names lower-cased). */
  headers: Record<string, string>;
  cookies: Record<string, string>;
  /** READ ONLY for GET/HEAD and for STABLE/IMMUTABLE functions. */
  readOnly: boolean;
  /** search_path: the exposed schema first, then `[api] extra_search_path`. */
  searchPath: string[];
  /** Prefer: timezone=... */
  timezone?: string;
}

/** The identifier quoting PostgREST uses for search_path entries. */
function quoteSearchPath(schemas: string[]): string {
  return schemas.map((s) => `"${s.replace(/"/g, '""')}"`).join(", ");
}

/**
 * Runs `fn` in the transaction PostgREST opens for a request: start transaction (read only or read write), one
 * `select set_config(..., true), ...` in PostgREST's order, then `fn`; commit when it resolves, rollback when it
 * throws. The REST server (stack/rest) and the API tests both go through here, so they cannot drift.
 */
export async function withRequestContext<T>(
  sql: postgres.Sql,
  ctx: RequestContext,
  fn: (tx: postgres.TransactionSql) => Promise<T>,
): Promise<T> {
  const settings = await settingsFor(sql, ctx.role);
  return (await sql.begin(ctx.readOnly ? "read only" : "read write", async (tx) => {
    const pairs: Array<[string, string]> = [
      ["search_path", quoteSearchPath(ctx.searchPath)],
      ...settings,
      ["role", ctx.role],
      ["request.jwt.claims", JSON.stringify({ ...ctx.claims, role: ctx.role })],
      ["request.method", ctx.method],
      ["request.path", ctx.path],
      ["request.headers", JSON.stringify(ctx.headers)],
      ["request.cookies", JSON.stringify(ctx.cookies)],
    ];
    if (ctx.timezone) pairs.push(["timezone", ctx.timezone]);
    await tx.unsafe(`select ${pairs.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(", ")}`, pairs.flat());
    return fn(tx);
  })) as T;
}

/** Forgets the cached `alter role ... set` settings (PostgREST rereads them with the schema cache). */
export function forgetRoleSettings(sql: postgres.Sql): void {
  roleSettings.delete(sql);
}

/** One API request on `sql`: `fn` runs inside the request's transaction as the claims' role. */
export async function inRequest<T>(
  sql: postgres.Sql,
  claims: Claims,
  fn: (tx: postgres.TransactionSql) => Promise<T>,
  opts: RequestOptions = {},
): Promise<T> {
  const method = opts.method ?? "POST";
  const headers = Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return withRequestContext(
    sql,
    {
      role: claims.role,
      claims,
      method,
      path: opts.path ?? "/rpc",
      headers,
      cookies: {},
      readOnly: method === "GET" || method === "HEAD",
      searchPath: ["public", "public", "extensions"], // [api] schemas[0] + extra_search_path, as PostgREST builds it
    },
    fn,
  );
}

/** Cookies of a Cookie header as PostgREST passes them to request.cookies. */
export function parseCookies(header: string | null | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i <= 0) continue;
    cookies[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return cookies;
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
