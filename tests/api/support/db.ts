// The API tests' database: a shared pool and requests run exactly as PostgREST runs them
// (stack/shared/request-context.ts).
import postgres from "postgres";
import { type Claims, type RequestOptions, inRequest } from "../../../stack/shared/request-context.ts";
import { randomUUID } from "node:crypto";

const url = process.env.DB_URL ?? process.env.SUPABASE_DB_URL;
if (!url) throw new Error("DB_URL is not set: run the api suite through `npm test` (or set DB_URL to a migrated database)");

/** A connection as `postgres`, the role PostgREST's `authenticator` switches from in production. */
export const sql = postgres(url, { max: 4, onnotice: () => {}, idle_timeout: 5 });

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;
export type { ApiRole, Claims, RequestOptions } from "../../../stack/shared/request-context.ts";

/** One API request: `fn` runs inside the request's transaction as the claims' role. */
export function request<T>(claims: Claims, fn: (tx: Tx) => Promise<T>, opts: RequestOptions = {}): Promise<T> {
  return inRequest(sql, claims, fn, opts);
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

/**
 * Creates an anonymous user as Supabase Auth's anonymous sign-in does (is_anonymous, no email, nothing confirmed)
 * and the claims of its access token (is_anonymous true, amr method "anonymous").
 */
export async function createAnonymousUser(): Promise<TestUser> {
  const id = randomUUID();
  await sql`
    insert into auth.users (instance_id, id, aud, role, encrypted_password, raw_app_meta_data, raw_user_meta_data,
                            created_at, updated_at, is_anonymous)
    values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', 'authenticated', '', '{}'::jsonb, '{}'::jsonb,
            now(), now(), true)`;
  const claims = userClaims(id, "");
  return {
    id,
    email: "",
    claims: { ...claims, app_metadata: {}, amr: [{ method: "anonymous", timestamp: Number(claims.iat) }], is_anonymous: true },
  };
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
