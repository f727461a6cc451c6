// The rows GoTrue reads and writes in the auth schema, and the statements on them (supabase/auth:internal/models/,
// checked at bc32168: user.go, identity.go, sessions.go, refresh_token.go, one_time_token.go, factor.go,
// challenge.go, amr.go, audit_log_entry.go). Every value is a bind parameter. Token columns hold '' rather than
// NULL, as GoTrue writes them.
import { createHash, randomUUID } from "node:crypto";
import type postgres from "postgres";

export type Sql = postgres.Sql | postgres.TransactionSql;
type Json = postgres.JSONValue;

export const NIL_UUID = "00000000-0000-0000-0000-000000000000";

export interface UserRow {
  instance_id: string | null;
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  encrypted_password: string | null;
  email_confirmed_at: Date | null;
  invited_at: Date | null;
  confirmation_token: string | null;
  confirmation_sent_at: Date | null;
  recovery_token: string | null;
  recovery_sent_at: Date | null;
  email_change_token_new: string | null;
  email_change: string | null;
  email_change_sent_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  is_super_admin: boolean | null;
  created_at: Date | null;
  updated_at: Date | null;
  phone: string | null;
  phone_confirmed_at: Date | null;
  phone_change: string | null;
  phone_change_sent_at: Date | null;
  confirmed_at: Date | null;
  email_change_token_current: string | null;
  email_change_confirm_status: number | null;
  banned_until: Date | null;
  reauthentication_token: string | null;
  reauthentication_sent_at: Date | null;
  is_sso_user: boolean;
  deleted_at: Date | null;
  is_anonymous: boolean;
}

export interface IdentityRow {
  id: string;
  provider_id: string;
  user_id: string;
  identity_data: Record<string, unknown>;
  provider: string;
  last_sign_in_at: Date | null;
  created_at: Date | null;
  updated_at: Date | null;
  email: string | null;
}

export interface FactorRow {
  id: string;
  user_id: string;
  friendly_name: string | null;
  factor_type: string;
  status: "unverified" | "verified";
  created_at: Date;
  updated_at: Date;
  secret: string | null;
  phone: string | null;
  last_challenged_at: Date | null;
}

export interface SessionRow {
  id: string;
  user_id: string;
  created_at: Date;
  updated_at: Date;
  factor_id: string | null;
  aal: "aal1" | "aal2" | "aal3" | null;
  not_after: Date | null;
  refreshed_at: Date | null;
}

export interface RefreshTokenRow {
  id: string;
  token: string;
  user_id: string;
  revoked: boolean;
  created_at: Date;
  updated_at: Date;
  parent: string | null;
  session_id: string;
}

export type OneTimeTokenType =
  | "confirmation_token" | "reauthentication_token" | "recovery_token"
  | "email_change_token_new" | "email_change_token_current" | "phone_change_token";

/** crypto.GenerateTokenHash (internal/crypto/crypto.go): hex SHA-224 of the address followed by the OTP. */
export function tokenHash(address: string, otp: string): string {
  return createHash("sha224").update(address + otp).digest("hex");
}

// ---------------------------------------------------------------------------------------------------------------
// users
// ---------------------------------------------------------------------------------------------------------------

export async function userById(sql: Sql, id: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`select * from auth.users where id = ${id}`;
  return row;
}

/** models.FindUserByEmailAndAudience: non-SSO users, case-insensitive. */
export async function userByEmail(sql: Sql, email: string, aud = "authenticated"): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`
    select * from auth.users where lower(email) = lower(${email}) and aud = ${aud} and is_sso_user = false`;
  return row;
}

export interface NewUser {
  id?: string;
  email: string;
  encryptedPassword: string;
  userMetadata: Record<string, unknown>;
  appMetadata?: Record<string, unknown>;
  isAnonymous?: boolean;
  role?: string;
}

/** signup.go: INSERT with role '' (INSERT triggers see it), then UPDATE role (models.User.SetRole). */
export async function insertUser(sql: Sql, user: NewUser): Promise<UserRow> {
  const id = user.id ?? randomUUID();
  const app = user.appMetadata ?? { provider: "email", providers: ["email"] };
  await sql`
    insert into auth.users (instance_id, id, aud, role, email, encrypted_password, raw_app_meta_data,
                            raw_user_meta_data, is_super_admin, created_at, updated_at, confirmation_token,
                            recovery_token, email_change_token_new, email_change, email_change_token_current,
                            phone_change, phone_change_token, reauthentication_token, is_sso_user, is_anonymous)
    values (${NIL_UUID}, ${id}, 'authenticated', '', ${user.email.toLowerCase() || null}, ${user.encryptedPassword},
            ${sql.json(app as Json)}, ${sql.json(user.userMetadata as Json)}, false, now(), now(), '', '', '', '', '',
            '', '', '', false, ${user.isAnonymous ?? false})`;
  await sql`update auth.users set role = ${user.role ?? "authenticated"}, updated_at = now() where id = ${id}`;
  return (await userById(sql, id))!;
}

/** models.User.Confirm: confirm the email, clear the token, email_verified in the metadata, drop one-time tokens. */
export async function confirmUser(sql: Sql, id: string): Promise<void> {
  await sql`
    update auth.users
       set email_confirmed_at = coalesce(email_confirmed_at, now()), confirmation_token = '',
           raw_user_meta_data = coalesce(raw_user_meta_data, '{}'::jsonb) || '{"email_verified": true}'::jsonb,
           updated_at = now()
     where id = ${id}`;
  await sql`
    update auth.identities set identity_data = identity_data || '{"email_verified": true}'::jsonb, updated_at = now()
     where user_id = ${id} and provider = 'email'`;
  await sql`delete from auth.one_time_tokens where user_id = ${id} and token_type = 'confirmation_token'`;
}

// ---------------------------------------------------------------------------------------------------------------
// identities, factors
// ---------------------------------------------------------------------------------------------------------------

/** identity.go NewIdentity for the email provider: provider_id = user id. */
export async function insertEmailIdentity(sql: Sql, user: UserRow, data: Record<string, unknown>): Promise<void> {
  const identityData = {
    ...data,
    sub: user.id,
    email: user.email,
    email_verified: user.email_confirmed_at !== null,
    phone_verified: false,
  };
  await sql`
    insert into auth.identities (id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
    values (${randomUUID()}, ${user.id}, ${user.id}, ${sql.json(identityData as Json)}, 'email', now(), now(), now())`;
}

export async function identitiesOf(sql: Sql, userId: string): Promise<IdentityRow[]> {
  return sql<IdentityRow[]>`select * from auth.identities where user_id = ${userId} order by created_at`;
}

export async function factorsOf(sql: Sql, userId: string): Promise<FactorRow[]> {
  return sql<FactorRow[]>`select * from auth.mfa_factors where user_id = ${userId} order by created_at`;
}

// ---------------------------------------------------------------------------------------------------------------
// one-time tokens (models/one_time_token.go): one per (user, type), replaced on every send
// ---------------------------------------------------------------------------------------------------------------

export async function setOneTimeToken(sql: Sql, userId: string, type: OneTimeTokenType, hash: string, relatesTo: string): Promise<void> {
  await sql`delete from auth.one_time_tokens where user_id = ${userId} and token_type = ${type}`;
  await sql`
    insert into auth.one_time_tokens (id, user_id, token_type, token_hash, relates_to, created_at, updated_at)
    values (${randomUUID()}, ${userId}, ${type}, ${hash}, ${relatesTo.toLowerCase()}, now(), now())`;
}

export async function clearOneTimeToken(sql: Sql, userId: string, type: OneTimeTokenType): Promise<void> {
  await sql`delete from auth.one_time_tokens where user_id = ${userId} and token_type = ${type}`;
}

// ---------------------------------------------------------------------------------------------------------------
// audit log (models/audit_log_entry.go)
// ---------------------------------------------------------------------------------------------------------------

export type AuditAction =
  | "login" | "logout" | "user_signedup" | "user_repeated_signup" | "user_confirmation_requested" | "user_recovery_requested"
  | "user_reauthenticate_requested" | "token_refreshed" | "token_revoked" | "user_modified"
  | "user_updated_password" | "user_invited" | "user_deleted" | "factor_in_progress" | "verification_attempted"
  | "mfa_code_login" | "factor_deleted";

const LOG_TYPES: Partial<Record<AuditAction, string>> = {
  login: "account", logout: "account", user_signedup: "team", user_repeated_signup: "user", user_invited: "team", user_deleted: "team",
  user_confirmation_requested: "user", user_recovery_requested: "user", user_reauthenticate_requested: "user",
  user_modified: "user", user_updated_password: "user", token_refreshed: "token", token_revoked: "token",
  factor_in_progress: "factor", factor_deleted: "factor", mfa_code_login: "account", verification_attempted: "user",
};

export async function audit(
  sql: Sql,
  actor: { id: string; email?: string | null },
  action: AuditAction,
  ip: string,
  traits?: Record<string, unknown>,
): Promise<void> {
  const payload: Record<string, unknown> = {
    actor_id: actor.id,
    actor_username: actor.email ?? "",
    actor_via_sso: false,
    action,
    log_type: LOG_TYPES[action] ?? "user",
  };
  if (traits) payload.traits = traits;
  await sql`
    insert into auth.audit_log_entries (instance_id, id, payload, created_at, ip_address)
    values (${NIL_UUID}, ${randomUUID()}, ${sql.json(payload as Json)}, now(), ${ip.slice(0, 64)})`;
}
