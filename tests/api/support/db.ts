// Runs queries exactly as PostgREST runs a request: one transaction (read only for GET/HEAD), then one
// `set_config` batch — search_path, the role's own settings, role, request.jwt.claims, method, path, headers —
// then the query as that role. Commits on success, rolls back on error, as PostgREST does.
import postgres from "postgres";
import { randomUUID } from "node:crypto";

const url = process.env.DB_URL ?? process.env.SUPABASE_DB_URL;
if (!url) throw new Error("DB_URL is not set: run the api suite through `npm test` (or set DB_URL to a migrated database)");

/** A connection as `postgres`, the role PostgREST's `authenticator` switches from in production. */
export const sql = postgres(url, { max: 4, onnotice: () => {}, idle_timeout: 5 });

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;
export type ApiRole = "anon" | "authenticated" | "service_role";

export interface Claims {
  role: ApiRole;
  sub?: string;
  [claim: string]: unknown;
}

export interface RequestOptions {
  method?: "GET" | "HEAD" | "POST" | "PATCH" | "PUT" | "DELETE";
  path?: string;
  headers?: Record<string, string>;
}

const roleSettings = new Map<ApiRole, Array<[string, string]>>();

/** The `alter role ... set` settings PostgREST applies per request (anon's 3s statement_timeout, ...). */
async function settingsFor(role: ApiRole): Promise<Array<[string, string]>> {
  const cached = roleSettings.get(role);
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
  roleSettings.set(role, pairs);
  return pairs;
}

/** One API request: `fn` runs inside the request's transaction as the claims' role. */
export async function request<T>(claims: Claims, fn: (tx: Tx) => Promise<T>, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? "POST";
  const readOnly = method === "GET" || method === "HEAD";
  const settings = await settingsFor(claims.role);
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
    await tx.unsafe(
      `select ${pairs.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(", ")}`,
      pairs.flat(),
    );
    return fn(tx);
  })) as T;
}

export const ANON: Claims = { role: "anon", iss: "supabase-demo" };
export const SERVICE_ROLE: Claims = { role: "service_role", iss: "supabase-demo" };

export interface TestUser {
  id: string;
  email: string;
  claims: Claims;
}

/** Creates an auth user (as Supabase Auth would on a confirmed sign-up) and the claims of its access token. */
export async function createUser(name: string, metadata: Record<string, unknown> = {}): Promise<TestUser> {
  const id = randomUUID();
  const email = `${name}.${id.slice(0, 8)}@example.test`;
  await sql`
    insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                            raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
    values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', 'authenticated', ${email}, '', now(),
            ${sql.json({ provider: "email", providers: ["email"] })}, ${sql.json(metadata as postgres.JSONValue)}, now(), now())`;
  return { id, email, claims: userClaims(id, email, metadata) };
}

/** Claims shaped like a Supabase access token. */
export function userClaims(id: string, email: string, userMetadata: Record<string, unknown> = {}): Claims {
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
    user_metadata: userMetadata,
    role: "authenticated",
    aal: "aal1",
    amr: [{ method: "password", timestamp: now }],
    session_id: randomUUID(),
    is_anonymous: false,
  };
}

/** The SQLSTATE of a rejected promise (or undefined when it resolved). */
export async function sqlstate(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}
