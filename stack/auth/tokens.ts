// Sessions, access tokens and refresh tokens as GoTrue issues them (supabase/auth:internal/tokens/service.go
// issueRefreshToken, RefreshTokenGrant, generateAccessToken; internal/models/refresh_token.go, sessions.go).
import { randomInt, randomUUID } from "node:crypto";
import { signJwt } from "../shared/keys.ts";
import { badRequest } from "./errors.ts";
import type { AuthSettings } from "./settings.ts";
import { audit, type RefreshTokenRow, type SessionRow, type Sql, type UserRow } from "./store.ts";
import { loadUserJson } from "./user-json.ts";

/** models.AuthenticationMethod values that appear in `amr`. */
export type AuthMethod =
  | "password" | "otp" | "magiclink" | "email/signup" | "recovery" | "invite" | "email_change" | "totp"
  | "anonymous" | "token_refresh";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** crypto.SecureAlphanumeric(12): the v0 refresh token format. */
export function newRefreshToken(): string {
  let out = "";
  for (let i = 0; i < 12; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return out;
}

async function insertRefreshToken(sql: Sql, userId: string, sessionId: string, parent: string | null): Promise<string> {
  const token = newRefreshToken();
  await sql`
    insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
    values ('00000000-0000-0000-0000-000000000000', ${token}, ${userId}, false, now(), now(), ${parent}, ${sessionId})`;
  return token;
}

/** models.AddClaimToSession: one row per (session, method), its updated_at refreshed on reuse. */
export async function addAmrClaim(sql: Sql, sessionId: string, method: AuthMethod): Promise<void> {
  await sql`
    insert into auth.mfa_amr_claims (id, session_id, created_at, updated_at, authentication_method)
    values (${randomUUID()}, ${sessionId}, now(), now(), ${method})
    on conflict (session_id, authentication_method) do update set updated_at = excluded.updated_at`;
}

interface AmrEntry {
  method: string;
  timestamp: number;
}

/** models.Session.CalculateAALAndAMR: most recent first; aal2 when a second factor is among them. */
async function aalAndAmr(sql: Sql, sessionId: string): Promise<{ aal: "aal1" | "aal2"; amr: AmrEntry[] }> {
  const rows = await sql<{ authentication_method: string; updated_at: Date }[]>`
    select authentication_method, updated_at from auth.mfa_amr_claims where session_id = ${sessionId}
     order by updated_at desc`;
  const amr = rows.map((r) => ({ method: r.authentication_method, timestamp: Math.floor(r.updated_at.getTime() / 1000) }));
  const aal = amr.some((a) => a.method === "totp" || a.method === "mfa/phone" || a.method === "mfa/webauthn") ? "aal2" : "aal1";
  return { aal, amr };
}

export async function accessToken(
  sql: Sql,
  settings: AuthSettings,
  jwtSecret: string,
  user: UserRow,
  sessionId: string,
): Promise<{ token: string; expiresAt: number }> {
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + settings.jwtExpiry;
  const { aal, amr } = await aalAndAmr(sql, sessionId);
  // Claim order and presence as generateAccessToken builds AccessTokenClaims (aud is a single string).
  const claims = {
    iss: settings.issuer,
    sub: user.id,
    aud: user.aud ?? "authenticated",
    exp,
    iat,
    email: user.email ?? "",
    phone: user.phone ?? "",
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    role: user.role ?? "",
    aal,
    amr,
    session_id: sessionId,
    is_anonymous: user.is_anonymous,
  };
  return { token: await signJwt(claims, jwtSecret), expiresAt: exp };
}

export async function sessionJson(
  sql: Sql,
  settings: AuthSettings,
  jwtSecret: string,
  user: UserRow,
  sessionId: string,
  refreshToken: string,
): Promise<Record<string, unknown>> {
  const { token, expiresAt } = await accessToken(sql, settings, jwtSecret, user, sessionId);
  return {
    access_token: token,
    token_type: "bearer",
    expires_in: settings.jwtExpiry,
    expires_at: expiresAt,
    refresh_token: refreshToken,
    user: await loadUserJson(sql, user),
  };
}

export interface IssueOptions {
  method: AuthMethod;
  userAgent?: string | null;
  ip?: string;
}

/** issueRefreshToken: a new session, its first refresh token, the amr claim, last_sign_in_at, an audit row. */
export async function issueSession(
  sql: Sql,
  settings: AuthSettings,
  jwtSecret: string,
  user: UserRow,
  opts: IssueOptions,
): Promise<Record<string, unknown>> {
  const sessionId = randomUUID();
  await sql`
    insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip)
    values (${sessionId}, ${user.id}, now(), now(), 'aal1', ${opts.userAgent ?? null}, ${opts.ip ?? null})`;
  const refresh = await insertRefreshToken(sql, user.id, sessionId, null);
  await addAmrClaim(sql, sessionId, opts.method);
  const [updated] = await sql<UserRow[]>`
    update auth.users set last_sign_in_at = now(), updated_at = now() where id = ${user.id} returning *`;
  await sql`update auth.identities set last_sign_in_at = now() where user_id = ${user.id} and provider = 'email'`;
  await audit(sql, user, "login", opts.ip ?? "", { provider: "email" });
  return sessionJson(sql, settings, jwtSecret, updated!, sessionId, refresh);
}

/** updateMFASessionAndClaims (internal/api/token.go), v0 tokens: the session's current token (FindTokenBySessionID:
 * the oldest unrevoked one) is swapped for a child, and a new access token is signed with the session's new aal. */
export async function reissueInSession(
  sql: Sql,
  settings: AuthSettings,
  jwtSecret: string,
  user: UserRow,
  sessionId: string,
): Promise<Record<string, unknown>> {
  const [current] = await sql<RefreshTokenRow[]>`
    select * from auth.refresh_tokens where session_id = ${sessionId} and revoked = false order by created_at asc, id asc limit 1`;
  if (current) await sql`update auth.refresh_tokens set revoked = true, updated_at = now() where id = ${current.id}`;
  const refresh = await insertRefreshToken(sql, user.id, sessionId, current?.token ?? null);
  return sessionJson(sql, settings, jwtSecret, user, sessionId, refresh);
}

/**
 * grant_type=refresh_token (RefreshTokenGrant with refresh_token_algorithm_version 0, the default):
 * - a live token is revoked and replaced by a child (parent = old token), same session;
 * - a revoked token that is the parent of the session's active token gets that active token back;
 * - a revoked token within refresh_token_reuse_interval of its revocation gets a new child;
 * - otherwise, with rotation on, the whole session's tokens are revoked (committed) and the answer is
 *   400 refresh_token_already_used.
 * Returns the session JSON, or throws an AuthError; `commitThenThrow` carries an error raised after writes that
 * must stay committed.
 */
export async function refreshGrant(
  sql: Sql,
  settings: AuthSettings,
  jwtSecret: string,
  presented: string,
  ip: string,
): Promise<{ session?: Record<string, unknown>; commitThenThrow?: Error }> {
  const [token] = await sql<RefreshTokenRow[]>`
    select * from auth.refresh_tokens where token = ${presented} for update`;
  if (!token) throw badRequest("refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
  const [session] = await sql<SessionRow[]>`select * from auth.sessions where id = ${token.session_id} for update`;
  if (!session) throw badRequest("refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
  if (session.not_after && session.not_after.getTime() < Date.now()) {
    throw badRequest("session_expired", "Invalid Refresh Token: Session Expired");
  }
  const [user] = await sql<UserRow[]>`select * from auth.users where id = ${session.user_id}`;
  if (!user) throw badRequest("refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
  if (user.banned_until && user.banned_until.getTime() > Date.now()) {
    throw badRequest("user_banned", "Invalid Refresh Token: User Banned");
  }

  let issued: string | undefined;
  if (token.revoked) {
    const [active] = await sql<RefreshTokenRow[]>`
      select * from auth.refresh_tokens where session_id = ${session.id} and revoked = false order by id desc limit 1`;
    if (active && active.parent === token.token) {
      issued = active.token;
    } else if (Date.now() > token.updated_at.getTime() + settings.reuseInterval * 1000) {
      if (settings.rotation) {
        await sql`update auth.refresh_tokens set revoked = true, updated_at = now() where session_id = ${session.id} and revoked = false`;
        await audit(sql, user, "token_revoked", ip);
        return { commitThenThrow: badRequest("refresh_token_already_used", "Invalid Refresh Token: Already Used") };
      }
    }
  }
  await audit(sql, user, "token_refreshed", ip);
  if (issued === undefined) {
    // GrantRefreshTokenSwap
    await sql`update auth.refresh_tokens set revoked = true, updated_at = now() where id = ${token.id}`;
    issued = await insertRefreshToken(sql, user.id, session.id, token.token);
  }
  await sql`update auth.sessions set refreshed_at = now() at time zone 'utc', updated_at = now() where id = ${session.id}`;
  return { session: await sessionJson(sql, settings, jwtSecret, user, session.id, issued) };
}
