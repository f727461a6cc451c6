// The handlers behind the routes in index.ts, one method per GoTrue handler (supabase/auth:internal/api/*.go, checked
// at bc32168; each method names its file). Multi-statement work runs in one transaction, as GoTrue's
// db.Transaction does, so a failing trigger or mail rolls the whole request back.
import bcrypt from "bcryptjs";
import { createHash, randomInt, randomUUID } from "node:crypto";
import * as OTPAuth from "otpauth";
import type postgres from "postgres";
import { bearerToken, JwtError, verifyJwt, type JwtClaims } from "../shared/keys.ts";
import { json } from "../shared/http.ts";
import {
  AuthError, badRequest, forbidden, internalError, notFound, tooMany, unprocessable, weakPassword,
} from "./errors.ts";
import type { RateLimits } from "./limits.ts";
import type { Mailer } from "./mailer.ts";
import type { AuthSettings } from "./settings.ts";
import {
  audit, clearOneTimeToken, confirmUser, factorsOf, insertEmailIdentity, insertUser, setOneTimeToken, tokenHash,
  userByEmail, userById, type FactorRow, type OneTimeTokenType, type SessionRow, type Sql, type UserRow,
} from "./store.ts";
import { addAmrClaim, issueSession, refreshGrant, reissueInSession, type AuthMethod } from "./tokens.ts";
import { factorJson, loadUserJson, userJson } from "./user-json.ts";

export interface AuthContext {
  settings: AuthSettings;
  sql: postgres.Sql;
  jwtSecret: string;
  mailer: Mailer;
  limits: RateLimits;
}

type Body = Record<string, unknown>;

interface Caller {
  claims: JwtClaims;
  user: UserRow;
  session: SessionRow | undefined;
}

const EMAIL_RE = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
/** FlowStateExpiryDuration (internal/models/flow_state.go): an auth code is good for 5 minutes. */
const FLOW_STATE_TTL_MS = 5 * 60 * 1000;
const PKCE_PREFIX = "pkce_";

async function readBody(request: Request): Promise<Body> {
  const text = await request.text();
  if (text.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Body;
  } catch {
    // fall through
  }
  throw badRequest("bad_json", "Could not parse request body as JSON");
}

const str = (v: unknown) => (typeof v === "string" ? v : "");
const obj = (v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

function clientIp(request: Request): string {
  return request.headers.get("x-forwarded-for")?.split(",")[0]?.trim() || "127.0.0.1";
}

/** crypto.GenerateOtp: `length` random digits. */
function generateOtp(length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += String(randomInt(10));
  return out;
}

/** mail.go validateEmail (checkmail.ValidateFormat is approximated by a regular expression). */
function validateEmail(email: string): string {
  if (email === "") throw badRequest("validation_failed", "An email address is required");
  if (email.length > 255) throw badRequest("validation_failed", "An email address is too long");
  if (!EMAIL_RE.test(email)) throw badRequest("validation_failed", "Unable to validate email address: invalid format");
  return email.toLowerCase();
}

/** utilities.IsRedirectURLValid (internal/utilities/request.go) with conf.URIAllowListMap globs (separators . and /). */
export function isRedirectAllowed(settings: AuthSettings, target: string): boolean {
  if (target === "") return false;
  let url: URL;
  let site: URL;
  try {
    url = new URL(target);
    site = new URL(settings.siteUrl);
  } catch {
    return false;
  }
  // WHATWG URL turns a decimal host (http://2130706433/) into 127.0.0.1; GoTrue refuses such hosts, so look at the
  // host as written.
  const rawHost = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^:/?#]*)/i.exec(target)?.[1] ?? "";
  if (/^\d+$/.test(rawHost)) return false;
  const localhost = (h: string) => h === "localhost" || h === "127.0.0.1" || h === "[::1]";
  if (url.protocol === site.protocol && url.hostname === site.hostname && (url.port === site.port || localhost(site.hostname))) return true;
  if (/^127\.\d+\.\d+\.\d+$/.test(url.hostname) || url.hostname === "[::1]") return true;
  const withoutFragment = target.split("#")[0]!;
  return settings.additionalRedirectUrls.some((pattern) => {
    const regex = pattern
      .split("**")
      .map((part) => part.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&").replace(/\\\?/g, "[^./]")).join("[^./]*"))
      .join(".*");
    return new RegExp(`^${regex}$`).test(withoutFragment);
  });
}

export class Api {
  constructor(private readonly ctx: AuthContext) {}

  private get settings(): AuthSettings {
    return this.ctx.settings;
  }

  private redirectTarget(request: Request, wanted?: string): string {
    const fromQuery = new URL(request.url).searchParams.get("redirect_to") ?? wanted ?? "";
    if (isRedirectAllowed(this.settings, fromQuery)) return fromQuery;
    const referer = request.headers.get("referer") ?? "";
    if (isRedirectAllowed(this.settings, referer)) return referer;
    return this.settings.siteUrl;
  }

  // -------------------------------------------------------------------------------------------------------------
  // bearer checks (auth.go requireAuthentication, requireAdminCredentials)
  // -------------------------------------------------------------------------------------------------------------

  private async claims(request: Request): Promise<JwtClaims> {
    const token = bearerToken(request.headers.get("authorization"));
    if (!token) throw new AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token");
    try {
      return await verifyJwt(token, this.ctx.jwtSecret);
    } catch (error) {
      const detail = error instanceof JwtError ? error.message : "invalid token";
      throw forbidden("bad_jwt", `invalid JWT: unable to parse or verify signature, ${detail}`);
    }
  }

  private async caller(request: Request, sql: Sql = this.ctx.sql): Promise<Caller> {
    const claims = await this.claims(request);
    if (!claims.sub) throw forbidden("bad_jwt", "invalid claim: missing sub claim");
    if (!/^[0-9a-f-]{36}$/i.test(claims.sub)) throw badRequest("bad_jwt", "invalid claim: sub claim must be a UUID");
    const user = await userById(sql, claims.sub);
    if (!user) throw forbidden("user_not_found", "User from sub claim in JWT does not exist");
    let session: SessionRow | undefined;
    const sessionId = typeof claims.session_id === "string" ? claims.session_id : "";
    if (sessionId !== "" && sessionId !== "00000000-0000-0000-0000-000000000000") {
      [session] = await sql<SessionRow[]>`select * from auth.sessions where id = ${sessionId}`;
      if (!session) throw forbidden("session_not_found", "Session from session_id claim in JWT does not exist");
    }
    return { claims, user, session };
  }

  private async requireAdmin(request: Request): Promise<void> {
    const claims = await this.claims(request);
    // GOTRUE_JWT_ADMIN_ROLES=service_role under the CLI (supabase/cli:apps/cli-go/internal/start/start.go).
    if (claims.role !== "service_role" && claims.role !== "supabase_admin") throw forbidden("not_admin", "User not allowed");
  }

  // -------------------------------------------------------------------------------------------------------------
  // passwords (password.go)
  // -------------------------------------------------------------------------------------------------------------

  private passwordProblems(password: string): { message: string; reasons: string[] } | undefined {
    const reasons: string[] = [];
    const messages: string[] = [];
    if (password.length < this.settings.minPasswordLength) {
      reasons.push("length");
      messages.push(`Password should be at least ${this.settings.minPasswordLength} characters.`);
    }
    const sets = this.settings.requiredCharacters;
    if (sets.some((set) => ![...password].some((c) => set.includes(c)))) {
      reasons.push("characters");
      messages.push(`Password should contain at least one character of each: ${sets.join(", ")}.`);
    }
    return reasons.length > 0 ? { message: messages.join(" "), reasons } : undefined;
  }

  private checkPassword(password: string): void {
    if (password.length > 72) throw badRequest("validation_failed", "Password cannot be longer than 72 characters");
    const problems = this.passwordProblems(password);
    if (problems) throw weakPassword(problems.message, problems.reasons);
  }

  private static hash(password: string): Promise<string> {
    return bcrypt.hash(password, 10);
  }

  // -------------------------------------------------------------------------------------------------------------
  // mail (mail.go sendConfirmation, sendPasswordRecovery, sendMagicLink, sendEmailChange, sendReauthenticationOtp)
  // -------------------------------------------------------------------------------------------------------------

  private checkFrequency(sentAt: Date | null): void {
    if (!sentAt) return;
    const wait = sentAt.getTime() + this.settings.email.maxFrequency * 1000 - Date.now();
    if (wait > 0) {
      throw tooMany("over_email_send_rate_limit", `For security purposes, you can only request this after ${Math.floor(wait / 1000)} seconds.`);
    }
  }

  /** Stores a fresh OTP for `kind` on the user and sends the mail, inside the caller's transaction. */
  private async sendOtpMail(
    tx: Sql,
    user: UserRow,
    kind: "confirmation" | "invite" | "recovery" | "magic_link" | "reauthentication",
    redirectTo: string,
    pkce: boolean,
  ): Promise<void> {
    const email = user.email ?? "";
    const column = { confirmation: "confirmation", invite: "confirmation", recovery: "recovery", magic_link: "recovery", reauthentication: "reauthentication" }[kind];
    const sentAt = column === "confirmation" ? user.confirmation_sent_at : column === "recovery" ? user.recovery_sent_at : user.reauthentication_sent_at;
    if (kind !== "invite") this.checkFrequency(sentAt);
    this.ctx.limits.emailSent();
    const otp = generateOtp(this.settings.email.otpLength);
    const hash = (pkce ? PKCE_PREFIX : "") + tokenHash(email, otp);
    const tokenType: OneTimeTokenType = `${column}_token` as OneTimeTokenType;
    if (column === "confirmation") {
      await tx`update auth.users set confirmation_token = ${hash}, confirmation_sent_at = now(), updated_at = now() where id = ${user.id}`;
    } else if (column === "recovery") {
      await tx`update auth.users set recovery_token = ${hash}, recovery_sent_at = now(), updated_at = now() where id = ${user.id}`;
    } else {
      await tx`update auth.users set reauthentication_token = ${hash}, reauthentication_sent_at = now(), updated_at = now() where id = ${user.id}`;
    }
    await setOneTimeToken(tx, user.id, tokenType, hash, email);
    const verifyType = { confirmation: "signup", invite: "invite", recovery: "recovery", magic_link: "magiclink", reauthentication: "reauthentication" }[kind];
    await this.deliver(tx, { to: email, kind, verifyType, token: otp, tokenHash: hash, email, redirectTo, data: user.raw_user_meta_data ?? {} });
  }

  private async deliver(tx: Sql, values: Parameters<Mailer["send"]>[0]): Promise<void> {
    void tx;
    try {
      await this.ctx.mailer.send(values);
    } catch (error) {
      console.error("auth: sending mail failed:", error);
      const what = values.kind === "confirmation" ? "confirmation" : values.kind === "recovery" ? "recovery" : values.kind === "magic_link" ? "magic link" : values.kind.replace("_", " ");
      throw internalError(`Error sending ${what} email`);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // PKCE (pkce.go, flow_state.go)
  // -------------------------------------------------------------------------------------------------------------

  private static pkceParams(body: Body): { challenge: string; method: "s256" | "plain" } | undefined {
    const challenge = str(body.code_challenge);
    const method = str(body.code_challenge_method).toLowerCase();
    if (challenge === "" && method === "") return undefined;
    if (challenge === "" || (method !== "s256" && method !== "plain")) {
      throw badRequest("validation_failed", "PKCE flow requires code_challenge_method and code_challenge");
    }
    return { challenge, method };
  }

  private static async createFlowState(tx: Sql, userId: string, method: AuthMethod, pkce: { challenge: string; method: string }): Promise<void> {
    await tx`
      insert into auth.flow_state (id, user_id, auth_code, code_challenge_method, code_challenge, provider_type,
                                   created_at, updated_at, authentication_method)
      values (${randomUUID()}, ${userId}, ${randomUUID()}, ${pkce.method}, ${pkce.challenge}, 'email', now(), now(), ${method})`;
  }

  // -------------------------------------------------------------------------------------------------------------
  // misc
  // -------------------------------------------------------------------------------------------------------------

  async health(): Promise<Response> {
    return json({ version: "local", name: "GoTrue", description: "GoTrue is a user registration and authentication API" });
  }

  async settingsJson(): Promise<Response> {
    const providers = [
      "apple", "azure", "bitbucket", "discord", "facebook", "snapchat", "figma", "fly", "github", "gitlab", "google",
      "keycloak", "kakao", "linkedin", "linkedin_oidc", "notion", "spotify", "slack", "slack_oidc", "workos", "twitch",
      "twitter", "zoom",
    ];
    const external: Record<string, boolean> = { anonymous_users: this.settings.anonymousSignIns };
    for (const p of providers) external[p] = false;
    external.email = this.settings.email.enabled;
    external.phone = false;
    return json({
      external,
      disable_signup: !this.settings.enableSignup,
      mailer_autoconfirm: this.settings.email.autoconfirm,
      phone_autoconfirm: false,
      sms_provider: "",
      saml_enabled: false,
      saml_private_key_next_configured: false,
      passkeys_enabled: false,
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // POST /signup (signup.go)
  // -------------------------------------------------------------------------------------------------------------

  async signup(request: Request): Promise<Response> {
    const body = await readBody(request);
    const email = str(body.email);
    if (email === "" && str(body.phone) === "") {
      if (!this.settings.anonymousSignIns) throw unprocessable("anonymous_provider_disabled", "Anonymous sign-ins are disabled");
      this.ctx.limits.check("anonymous", request);
      return this.signupAnonymously(request, body);
    }
    this.ctx.limits.check("signup", request);
    if (!this.settings.enableSignup) throw unprocessable("signup_disabled", "Signups not allowed for this instance");
    if (str(body.phone) !== "") throw badRequest("phone_provider_disabled", "Unsupported phone provider");
    if (!this.settings.email.enabled) throw unprocessable("email_provider_disabled", "Email signups are disabled");
    const address = validateEmail(email);
    const password = str(body.password);
    if (password === "") throw unprocessable("validation_failed", "Signup requires a valid password");
    this.checkPassword(password);
    const data = obj(body.data) ?? {};
    const pkce = Api.pkceParams(body);
    const redirectTo = this.redirectTarget(request);
    const ip = clientIp(request);

    return this.ctx.sql.begin(async (tx) => {
      const existing = await userByEmail(tx, address);
      if (existing && existing.email_confirmed_at) {
        await audit(tx, existing, "user_repeated_signup", ip, { provider: "email" });
        if (this.settings.email.autoconfirm) throw unprocessable("user_already_exists", "User already registered");
        // signup.go sanitizeUser: a confirmed address is not revealed; answer a fake, unconfirmed user.
        const now = new Date().toISOString();
        return json({
          id: randomUUID(), aud: "authenticated", role: "", email: address, phone: "", confirmation_sent_at: now,
          app_metadata: { provider: "email", providers: ["email"] }, user_metadata: {}, identities: [],
          created_at: now, updated_at: now, is_anonymous: false,
        });
      }
      let user = existing;
      if (!user) {
        try {
          user = await insertUser(tx, { email: address, encryptedPassword: await Api.hash(password), userMetadata: data });
          await insertEmailIdentity(tx, user, data);
        } catch (error) {
          if (error instanceof AuthError) throw error;
          console.error("auth: saving a new user failed:", error);
          throw internalError("Database error saving new user");
        }
      }
      if (this.settings.email.autoconfirm) {
        await audit(tx, user, "user_signedup", ip, { provider: "email" });
        await confirmUser(tx, user.id);
        const confirmed = (await userById(tx, user.id))!;
        return json(await issueSession(tx, this.settings, this.ctx.jwtSecret, confirmed, { method: "password", ip, userAgent: request.headers.get("user-agent") }));
      }
      if (pkce) await Api.createFlowState(tx, user.id, "email/signup", pkce);
      await this.sendOtpMail(tx, user, "confirmation", redirectTo, pkce !== undefined);
      await audit(tx, user, "user_confirmation_requested", ip, { provider: "email" });
      return json(await loadUserJson(tx, (await userById(tx, user.id))!));
    }) as Promise<Response>;
  }

  private async signupAnonymously(request: Request, body: Body): Promise<Response> {
    const ip = clientIp(request);
    return this.ctx.sql.begin(async (tx) => {
      const user = await insertUser(tx, {
        email: "", encryptedPassword: "", userMetadata: obj(body.data) ?? {}, appMetadata: {}, isAnonymous: true,
      });
      return json(await issueSession(tx, this.settings, this.ctx.jwtSecret, user, { method: "anonymous", ip }));
    }) as Promise<Response>;
  }

  // -------------------------------------------------------------------------------------------------------------
  // POST /token (token.go)
  // -------------------------------------------------------------------------------------------------------------

  async token(request: Request): Promise<Response> {
    const grant = new URL(request.url).searchParams.get("grant_type") ?? "";
    const body = await readBody(request);
    const ip = clientIp(request);
    const userAgent = request.headers.get("user-agent");
    // token.go: one limiter (token_refresh) for every grant.
    if (["password", "refresh_token", "pkce"].includes(grant)) this.ctx.limits.check("token", request);
    switch (grant) {
      case "password": {
        const email = str(body.email);
        const password = str(body.password);
        if (str(body.phone) !== "" && email === "") throw badRequest("phone_provider_disabled", "Phone logins are disabled");
        if (email === "") throw badRequest("validation_failed", "missing email or phone");
        return this.ctx.sql.begin(async (tx) => {
          const user = await userByEmail(tx, email);
          const ok = user && user.encrypted_password ? await bcrypt.compare(password, user.encrypted_password) : false;
          if (!user || !ok) throw badRequest("invalid_credentials", "Invalid login credentials");
          if (user.banned_until && user.banned_until.getTime() > Date.now()) throw badRequest("user_banned", "User is banned");
          if (!user.email_confirmed_at && !this.settings.email.autoconfirm) throw badRequest("email_not_confirmed", "Email not confirmed");
          const session = await issueSession(tx, this.settings, this.ctx.jwtSecret, user, { method: "password", ip, userAgent });
          const problems = this.passwordProblems(password);
          if (problems) session.weak_password = { reasons: problems.reasons, message: problems.message };
          return json(session);
        }) as Promise<Response>;
      }
      case "refresh_token": {
        const presented = str(body.refresh_token);
        if (presented === "") throw badRequest("validation_failed", "Refresh token is required");
        const outcome = await this.ctx.sql.begin((tx) => refreshGrant(tx, this.settings, this.ctx.jwtSecret, presented, ip));
        if (outcome.commitThenThrow) throw outcome.commitThenThrow;
        return json(outcome.session);
      }
      case "pkce":
        return this.pkceGrant(body, ip, userAgent);
      default:
        // token.go answers an unknown grant with this code and message.
        throw badRequest("invalid_credentials", "unsupported_grant_type");
    }
  }

  private async pkceGrant(body: Body, ip: string, userAgent: string | null): Promise<Response> {
    const authCode = str(body.auth_code);
    const verifier = str(body.code_verifier);
    if (authCode === "" || verifier === "") throw badRequest("validation_failed", "invalid request: both auth code and code verifier should be non-empty");
    return this.ctx.sql.begin(async (tx) => {
      const [flow] = await tx<{ id: string; user_id: string | null; code_challenge: string; code_challenge_method: string; authentication_method: string; auth_code_issued_at: Date | null; created_at: Date }[]>`
        select * from auth.flow_state where auth_code = ${authCode} for update`;
      if (!flow) throw notFound("flow_state_not_found", "invalid flow state, no valid flow state found");
      const issuedAt = flow.auth_code_issued_at ?? flow.created_at;
      if (Date.now() > issuedAt.getTime() + FLOW_STATE_TTL_MS) throw notFound("flow_state_expired", "invalid flow state, flow state has expired");
      const computed = flow.code_challenge_method === "s256"
        ? createHash("sha256").update(verifier).digest("base64url")
        : verifier;
      if (computed !== flow.code_challenge) throw forbidden("bad_code_verifier", "code challenge does not match previously saved code verifier");
      const user = flow.user_id ? await userById(tx, flow.user_id) : undefined;
      if (!user) throw notFound("user_not_found", "User not found");
      await tx`delete from auth.flow_state where id = ${flow.id}`;
      return json(await issueSession(tx, this.settings, this.ctx.jwtSecret, user, { method: flow.authentication_method as AuthMethod, ip, userAgent }));
    }) as Promise<Response>;
  }

  // -------------------------------------------------------------------------------------------------------------
  // /verify (verify.go)
  // -------------------------------------------------------------------------------------------------------------

  /** verifyTokenHash / verifyUserAndToken plus the per-type confirmation; returns the user to sign in, or null for
   * the first half of a double email change. `type` is resolved for "email". */
  private async verifyInTx(
    tx: Sql,
    params: { type: string; tokenHash: string; byEmail?: string },
    request: Request,
  ): Promise<{ user: UserRow | null; type: string }> {
    const expiry = this.settings.email.otpExpiry * 1000;
    const fresh = (sentAt: Date | null) => sentAt !== null && Date.now() <= sentAt.getTime() + expiry;
    const matchesToken = (stored: string | null) => stored !== null && stored !== "" && (stored === params.tokenHash || stored === PKCE_PREFIX + params.tokenHash);
    const invalid = params.byEmail !== undefined
      ? forbidden("otp_expired", "Token has expired or is invalid")
      : forbidden("otp_expired", "Email link is invalid or has expired");
    const hashes = [params.tokenHash, PKCE_PREFIX + params.tokenHash];
    let user: UserRow | undefined;
    let type = params.type;
    switch (params.type) {
      case "signup": case "invite": case "recovery": case "magiclink": case "email": case "email_change": break;
      default: throw badRequest("validation_failed", "Invalid email verification type");
    }
    if (params.byEmail !== undefined) {
      if (type === "email_change") {
        [user] = await tx<UserRow[]>`
          select * from auth.users where (lower(email) = lower(${params.byEmail}) or lower(email_change) = lower(${params.byEmail}))
             and (email_change_token_current = any(${hashes}) or email_change_token_new = any(${hashes})) for update`;
      } else {
        user = await userByEmail(tx, params.byEmail);
      }
    } else if (type === "signup" || type === "invite") {
      [user] = await tx<UserRow[]>`select * from auth.users where confirmation_token = any(${hashes}) for update`;
    } else if (type === "recovery" || type === "magiclink") {
      [user] = await tx<UserRow[]>`select * from auth.users where recovery_token = any(${hashes}) for update`;
    } else if (type === "email") {
      [user] = await tx<UserRow[]>`select * from auth.users where confirmation_token = any(${hashes}) or recovery_token = any(${hashes}) for update`;
    } else {
      [user] = await tx<UserRow[]>`select * from auth.users where email_change_token_current = any(${hashes}) or email_change_token_new = any(${hashes}) for update`;
    }
    if (!user) throw invalid;
    if (user.banned_until && user.banned_until.getTime() > Date.now()) throw forbidden("user_banned", "User is banned");
    if (type === "email") {
      if (matchesToken(user.confirmation_token) && fresh(user.confirmation_sent_at)) type = "signup";
      else if (matchesToken(user.recovery_token) && fresh(user.recovery_sent_at)) type = "magiclink";
      else throw invalid;
    }
    const ok =
      type === "signup" || type === "invite" ? matchesToken(user.confirmation_token) && fresh(user.confirmation_sent_at)
      : type === "recovery" || type === "magiclink" ? matchesToken(user.recovery_token) && fresh(user.recovery_sent_at)
      : (matchesToken(user.email_change_token_current) || matchesToken(user.email_change_token_new)) && fresh(user.email_change_sent_at);
    if (!ok) throw invalid;

    const ip = clientIp(request);
    if (type === "signup" || type === "invite") {
      await audit(tx, user, "user_signedup", ip, { provider: "email" });
      await confirmUser(tx, user.id);
    } else if (type === "recovery" || type === "magiclink") {
      // models.User.Recover: the token is single-use.
      await tx`update auth.users set recovery_token = '', updated_at = now() where id = ${user.id}`;
      await clearOneTimeToken(tx, user.id, "recovery_token");
      if (!user.email_confirmed_at) await confirmUser(tx, user.id);
    } else {
      const current = matchesToken(user.email_change_token_current);
      const needsBoth = this.settings.email.doubleConfirmChanges && user.email_change_token_current !== "" && user.email_change_token_new !== "";
      if (needsBoth && user.email_change_confirm_status === 0) {
        if (current) {
          await tx`update auth.users set email_change_confirm_status = 1, email_change_token_current = '' where id = ${user.id}`;
          await clearOneTimeToken(tx, user.id, "email_change_token_current");
        } else {
          await tx`update auth.users set email_change_confirm_status = 1, email_change_token_new = '' where id = ${user.id}`;
          await clearOneTimeToken(tx, user.id, "email_change_token_new");
        }
        return { user: null, type };
      }
      // models.User.ConfirmEmailChange
      const newEmail = user.email_change ?? "";
      await tx`
        update auth.users
           set email = ${newEmail}, email_change = '', email_change_token_current = '', email_change_token_new = '',
               email_change_confirm_status = 0, email_confirmed_at = coalesce(email_confirmed_at, now()),
               raw_user_meta_data = coalesce(raw_user_meta_data, '{}'::jsonb) || jsonb_build_object('email', ${newEmail}::text),
               updated_at = now()
         where id = ${user.id}`;
      await tx`
        update auth.identities
           set identity_data = identity_data || jsonb_build_object('email', ${newEmail}::text, 'email_verified', true), updated_at = now()
         where user_id = ${user.id} and provider = 'email'`;
      await tx`delete from auth.one_time_tokens where user_id = ${user.id} and token_type in ('email_change_token_current', 'email_change_token_new')`;
      await audit(tx, user, "user_modified", ip);
    }
    return { user: (await userById(tx, user.id))!, type };
  }

  async verifyPost(request: Request): Promise<Response> {
    this.ctx.limits.check("verify", request);
    const body = await readBody(request);
    const type = str(body.type);
    const token = str(body.token);
    const hash = str(body.token_hash);
    const email = str(body.email);
    if (str(body.phone) !== "") throw badRequest("phone_provider_disabled", "Unsupported phone provider");
    let params: { type: string; tokenHash: string; byEmail?: string };
    if (hash !== "") {
      if (token !== "" || email !== "") throw badRequest("validation_failed", "Only the token_hash and type should be provided");
      params = { type, tokenHash: hash };
    } else if (token !== "" && email !== "") {
      params = { type, tokenHash: tokenHash(email.toLowerCase(), token), byEmail: email.toLowerCase() };
    } else {
      throw badRequest("validation_failed", "Verify requires either a token or a token hash");
    }
    const ip = clientIp(request);
    return this.ctx.sql.begin(async (tx) => {
      const { user } = await this.verifyInTx(tx, params, request);
      if (!user) {
        return json({ msg: "Confirmation link accepted. Please proceed to confirm link sent to the other email", code: "200" });
      }
      return json(await issueSession(tx, this.settings, this.ctx.jwtSecret, user, { method: "otp", ip, userAgent: request.headers.get("user-agent") }));
    }) as Promise<Response>;
  }

  async verifyGet(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const type = url.searchParams.get("type") ?? "";
    const token = url.searchParams.get("token") ?? "";
    const redirectTo = this.redirectTarget(request);
    const pkce = token.startsWith(PKCE_PREFIX);
    const redirect = (location: string) => new Response(null, { status: 303, headers: { location } });
    try {
      this.ctx.limits.check("verify", request);
      if (token === "") throw badRequest("validation_failed", "Verify requires a token or a token hash");
      const ip = clientIp(request);
      const outcome = await this.ctx.sql.begin(async (tx) => {
        const { user, type: resolved } = await this.verifyInTx(tx, { type, tokenHash: token }, request);
        if (!user) return { message: "Confirmation link accepted. Please proceed to confirm link sent to the other email" };
        if (pkce) {
          const method: AuthMethod = resolved === "signup" ? "email/signup" : (resolved as AuthMethod);
          const [flow] = await tx<{ id: string; auth_code: string }[]>`
            update auth.flow_state set auth_code_issued_at = now(), updated_at = now()
             where id = (select id from auth.flow_state where user_id = ${user.id} and authentication_method = ${method}
                          order by created_at desc limit 1)
            returning id, auth_code`;
          if (!flow) throw badRequest("flow_state_not_found", "No associated flow state found.");
          return { code: flow.auth_code };
        }
        const session = await issueSession(tx, this.settings, this.ctx.jwtSecret, user, { method: "otp", ip, userAgent: request.headers.get("user-agent") });
        return { session, type: resolved };
      });
      const target = new URL(redirectTo);
      if ("message" in outcome) {
        target.hash = new URLSearchParams({ message: outcome.message!, sb: "" }).toString();
      } else if ("code" in outcome) {
        target.searchParams.set("code", outcome.code!);
      } else {
        const s = outcome.session!;
        // AccessTokenResponse.AsRedirectURL: url.Values encoding, keys sorted.
        const fragment = new URLSearchParams([
          ["access_token", String(s.access_token)], ["expires_at", String(s.expires_at)],
          ["expires_in", String(s.expires_in)], ["refresh_token", String(s.refresh_token)], ["sb", ""],
          ["token_type", "bearer"], ["type", type],
        ]);
        target.hash = fragment.toString();
      }
      return redirect(target.toString());
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      // prepErrorRedirectURL
      const target = new URL(redirectTo);
      const oauth: Record<number, string> = { 400: "invalid_request", 401: "unauthorized_client", 403: "access_denied", 429: "access_denied", 500: "server_error", 503: "temporarily_unavailable" };
      const fragment = new URLSearchParams();
      if (oauth[error.status]) fragment.set("error", oauth[error.status]!);
      fragment.set("error_code", error.code);
      fragment.set("error_description", error.message);
      if (pkce) for (const [k, v] of fragment) target.searchParams.set(k, v);
      fragment.set("sb", "");
      target.hash = fragment.toString();
      return redirect(target.toString());
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // /otp, /magiclink (otp.go, magic_link.go), /recover (recover.go), /resend (resend.go), /reauthenticate
  // -------------------------------------------------------------------------------------------------------------

  async otp(request: Request, magiclink: boolean): Promise<Response> {
    this.ctx.limits.check(magiclink ? "magiclink" : "otp", request);
    const body = await readBody(request);
    if (str(body.phone) !== "") throw badRequest("phone_provider_disabled", "Unsupported phone provider");
    if (!this.settings.email.enabled) throw unprocessable("email_provider_disabled", "Email logins are disabled");
    const email = validateEmail(str(body.email));
    const createUser = magiclink ? true : body.create_user !== false;
    const pkce = Api.pkceParams(body);
    const redirectTo = this.redirectTarget(request);
    const ip = clientIp(request);
    await this.ctx.sql.begin(async (tx) => {
      let user = await userByEmail(tx, email);
      if (!user) {
        if (!createUser) throw unprocessable("otp_disabled", "Signups not allowed for otp");
        if (!this.settings.enableSignup) throw unprocessable("signup_disabled", "Signups not allowed for this instance");
        // otp.go: a new address signs up with a random password and gets the confirmation mail.
        const data = obj(body.data) ?? {};
        const password = randomUUID() + randomUUID();
        user = await insertUser(tx, { email, encryptedPassword: await Api.hash(password), userMetadata: data });
        await insertEmailIdentity(tx, user, data);
        if (!this.settings.email.autoconfirm) {
          await audit(tx, user, "user_confirmation_requested", ip, { provider: "email" });
          if (pkce) await Api.createFlowState(tx, user.id, "email/signup", pkce);
          await this.sendOtpMail(tx, user, "confirmation", redirectTo, pkce !== undefined);
          return;
        }
        await audit(tx, user, "user_signedup", ip, { provider: "email" });
        await confirmUser(tx, user.id);
        user = (await userById(tx, user.id))!;
      }
      if (pkce) await Api.createFlowState(tx, user.id, "magiclink", pkce);
      await this.sendOtpMail(tx, user, "magic_link", redirectTo, pkce !== undefined);
      await audit(tx, user, "user_recovery_requested", ip);
    });
    return json({});
  }

  async recover(request: Request): Promise<Response> {
    this.ctx.limits.check("recover", request);
    const body = await readBody(request);
    const email = validateEmail(str(body.email));
    const pkce = Api.pkceParams(body);
    const redirectTo = this.redirectTarget(request);
    await this.ctx.sql.begin(async (tx) => {
      const user = await userByEmail(tx, email);
      if (!user) return; // recover.go: unknown addresses get the same answer
      if (pkce) await Api.createFlowState(tx, user.id, "recovery", pkce);
      await this.sendOtpMail(tx, user, "recovery", redirectTo, pkce !== undefined);
      await audit(tx, user, "user_recovery_requested", clientIp(request));
    });
    return json({});
  }

  async resend(request: Request): Promise<Response> {
    this.ctx.limits.check("resend", request);
    const body = await readBody(request);
    const type = str(body.type);
    if (type === "sms" || type === "phone_change") throw badRequest("phone_provider_disabled", "Unsupported phone provider");
    if (type !== "signup" && type !== "email_change") throw badRequest("validation_failed", "Missing one of these types: signup, email_change, sms, phone_change");
    const email = validateEmail(str(body.email));
    const redirectTo = this.redirectTarget(request);
    await this.ctx.sql.begin(async (tx) => {
      const user = type === "signup"
        ? await userByEmail(tx, email)
        : (await tx<UserRow[]>`select * from auth.users where lower(email_change) = ${email} or (lower(email) = ${email} and email_change <> '')`)[0];
      if (!user) return; // resend.go: no leak of unknown addresses
      if (type === "signup") {
        if (user.email_confirmed_at) return;
        await this.sendOtpMail(tx, user, "confirmation", redirectTo, (user.confirmation_token ?? "").startsWith(PKCE_PREFIX));
      } else {
        await this.sendEmailChange(tx, user, user.email_change ?? "", redirectTo);
      }
    });
    return json({});
  }

  async reauthenticate(request: Request): Promise<Response> {
    const { user } = await this.caller(request);
    if (!user.email) throw badRequest("validation_failed", "Reauthentication requires the user to have an email or a phone number");
    if (!user.email_confirmed_at) throw unprocessable("email_not_confirmed", "Please verify your email first.");
    await this.ctx.sql.begin(async (tx) => {
      await audit(tx, user, "user_reauthenticate_requested", clientIp(request));
      await this.sendOtpMail(tx, user, "reauthentication", this.settings.siteUrl, false);
    });
    return json({});
  }

  /** mail.go sendEmailChange: with secure email change both addresses get their own OTP. */
  private async sendEmailChange(tx: Sql, user: UserRow, newEmail: string, redirectTo: string): Promise<void> {
    this.checkFrequency(user.email_change_sent_at);
    this.ctx.limits.emailSent();
    const otpNew = generateOtp(this.settings.email.otpLength);
    const hashNew = tokenHash(newEmail, otpNew);
    const both = this.settings.email.doubleConfirmChanges && (user.email ?? "") !== "";
    const otpCurrent = both ? generateOtp(this.settings.email.otpLength) : "";
    const hashCurrent = both ? tokenHash(user.email ?? "", otpCurrent) : "";
    await tx`
      update auth.users
         set email_change = ${newEmail}, email_change_token_new = ${hashNew}, email_change_token_current = ${hashCurrent},
             email_change_confirm_status = 0, email_change_sent_at = now(), updated_at = now()
       where id = ${user.id}`;
    await setOneTimeToken(tx, user.id, "email_change_token_new", hashNew, newEmail);
    if (both) await setOneTimeToken(tx, user.id, "email_change_token_current", hashCurrent, user.email ?? "");
    else await clearOneTimeToken(tx, user.id, "email_change_token_current");
    const common = { kind: "email_change" as const, verifyType: "email_change", email: user.email ?? "", newEmail, redirectTo, data: user.raw_user_meta_data ?? {} };
    if (both) await this.deliver(tx, { ...common, to: user.email ?? "", token: otpCurrent, tokenHash: hashCurrent });
    await this.deliver(tx, { ...common, to: newEmail, token: otpNew, tokenHash: hashNew });
  }

  // -------------------------------------------------------------------------------------------------------------
  // /user (user.go), /logout (logout.go)
  // -------------------------------------------------------------------------------------------------------------

  async getUser(request: Request): Promise<Response> {
    const { user } = await this.caller(request);
    return json(await loadUserJson(this.ctx.sql, user));
  }

  async updateUser(request: Request): Promise<Response> {
    this.ctx.limits.check("user", request);
    const body = await readBody(request);
    const ip = clientIp(request);
    return this.ctx.sql.begin(async (tx) => {
      const { user, session } = await this.caller(request, tx);
      const email = str(body.email).toLowerCase();
      const password = typeof body.password === "string" ? body.password : undefined;
      if (body.app_metadata !== undefined) throw forbidden("not_admin", "Updating app_metadata requires admin privileges");
      if (str(body.phone) !== "") throw badRequest("phone_provider_disabled", "Unsupported phone provider");
      if (email !== "") validateEmail(email);
      if (password !== undefined && password !== "") this.checkPassword(password);
      const factors = await factorsOf(tx, user.id);
      const mfaEnabled = factors.some((f) => f.status === "verified");
      if (mfaEnabled && session?.aal !== "aal2") {
        if ((password ?? "") !== "" || (email !== "" && email !== user.email)) {
          throw new AuthError(401, "insufficient_aal", "AAL2 session is required to update email or password when MFA is enabled.");
        }
      }
      if (email !== "" && email !== user.email) {
        const duplicate = await userByEmail(tx, email);
        if (duplicate && duplicate.id !== user.id) throw unprocessable("email_exists", "A user with this email address has already been registered");
      }
      if (password !== undefined) {
        if (this.settings.email.securePasswordChange && (!session || Date.now() > session.created_at.getTime() + 24 * 3600 * 1000)) {
          const nonce = str(body.nonce);
          if (nonce === "") throw badRequest("reauthentication_needed", "Password update requires reauthentication");
          const fresh = user.reauthentication_sent_at && Date.now() <= user.reauthentication_sent_at.getTime() + this.settings.email.otpExpiry * 1000;
          if (!fresh || !user.reauthentication_token || user.reauthentication_token !== tokenHash(user.email ?? "", nonce)) {
            throw unprocessable("reauthentication_not_valid", "Nonce has expired or is invalid");
          }
          await tx`update auth.users set reauthentication_token = '', reauthentication_sent_at = null where id = ${user.id}`;
          await clearOneTimeToken(tx, user.id, "reauthentication_token");
        }
        if (password !== "" && user.encrypted_password && (await bcrypt.compare(password, user.encrypted_password))) {
          throw unprocessable("same_password", "New password should be different from the old password.");
        }
        // models.User.UpdatePassword: new hash, every pending token cleared, the other sessions signed out.
        await tx`
          update auth.users
             set encrypted_password = ${await Api.hash(password)}, confirmation_token = '', confirmation_sent_at = null,
                 recovery_token = '', recovery_sent_at = null, email_change_token_current = '', email_change_token_new = '',
                 email_change_sent_at = null, phone_change_token = '', phone_change_sent_at = null,
                 reauthentication_token = '', reauthentication_sent_at = null, updated_at = now()
           where id = ${user.id}`;
        await tx`delete from auth.one_time_tokens where user_id = ${user.id}`;
        if (session) await tx`delete from auth.sessions where user_id = ${user.id} and id <> ${session.id}`;
        else await tx`delete from auth.sessions where user_id = ${user.id}`;
        await audit(tx, user, "user_updated_password", ip);
      }
      const data = obj(body.data);
      if (data) {
        // models.User.UpdateUserMetaData: shallow merge, null deletes a key.
        await tx`
          update auth.users set raw_user_meta_data = jsonb_strip_nulls(coalesce(raw_user_meta_data, '{}'::jsonb) || ${tx.json(data as postgres.JSONValue)}),
                 updated_at = now() where id = ${user.id}`;
      }
      if (email !== "" && email !== user.email) {
        await this.sendEmailChange(tx, (await userById(tx, user.id))!, email, this.redirectTarget(request));
      }
      await audit(tx, user, "user_modified", ip);
      return json(await loadUserJson(tx, (await userById(tx, user.id))!));
    }) as Promise<Response>;
  }

  async logout(request: Request): Promise<Response> {
    const scope = new URL(request.url).searchParams.get("scope") ?? "global";
    if (!["global", "local", "others"].includes(scope)) throw badRequest("validation_failed", "Unsupported logout scope");
    const { user, session } = await this.caller(request);
    await this.ctx.sql.begin(async (tx) => {
      await audit(tx, user, "logout", clientIp(request));
      if (scope === "local") {
        if (session) await tx`delete from auth.sessions where id = ${session.id}`;
      } else if (scope === "others") {
        if (session) await tx`delete from auth.sessions where user_id = ${user.id} and id <> ${session.id}`;
      } else {
        await tx`delete from auth.sessions where user_id = ${user.id}`;
      }
    });
    return new Response(null, { status: 204 });
  }

  // -------------------------------------------------------------------------------------------------------------
  // MFA TOTP (mfa.go)
  // -------------------------------------------------------------------------------------------------------------

  async enrollFactor(request: Request): Promise<Response> {
    const { user, session, claims } = await this.caller(request);
    if (claims.is_anonymous === true) throw forbidden("no_authorization", "Anonymous user not allowed to perform these actions");
    const body = await readBody(request);
    const type = str(body.factor_type);
    if (type === "phone") throw unprocessable("mfa_phone_enroll_not_enabled", "MFA enroll is disabled for Phone");
    if (type === "webauthn") throw unprocessable("mfa_webauthn_enroll_not_enabled", "MFA enroll is disabled for WebAuthn");
    if (type !== "totp") throw badRequest("validation_failed", "factor_type needs to be totp, phone, or webauthn");
    if (!this.settings.mfa.totpEnroll) throw unprocessable("mfa_totp_enroll_not_enabled", "MFA enroll is disabled for TOTP");
    const friendlyName = str(body.friendly_name);
    const issuer = str(body.issuer) || new URL(this.settings.siteUrl).hostname;
    return this.ctx.sql.begin(async (tx) => {
      const factors = await factorsOf(tx, user.id);
      const verified = factors.filter((f) => f.status === "verified");
      if (factors.length >= this.settings.mfa.maxEnrolledFactors || verified.length >= this.settings.mfa.maxEnrolledFactors) {
        throw unprocessable("too_many_enrolled_mfa_factors", "Maximum number of verified factors reached, unenroll to continue");
      }
      if (verified.length > 0 && session?.aal !== "aal2") throw forbidden("insufficient_aal", "AAL2 required to enroll a new factor");
      if (friendlyName !== "" && factors.some((f) => f.friendly_name === friendlyName)) {
        throw unprocessable("mfa_factor_name_conflict", `A factor with the friendly name "${friendlyName}" for this user already exists`);
      }
      const secret = new OTPAuth.Secret({ size: 20 }).base32;
      const totp = new OTPAuth.TOTP({ issuer, label: user.email ?? "", secret, digits: 6, period: 30, algorithm: "SHA1" });
      const id = randomUUID();
      await tx`
        insert into auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at, updated_at, secret)
        values (${id}, ${user.id}, ${friendlyName || null}, 'totp', 'unverified', now(), now(), ${secret})`;
      await audit(tx, user, "factor_in_progress", clientIp(request), { factor_id: id, factor_type: "totp" });
      return json({ id, type: "totp", friendly_name: friendlyName, totp: { qr_code: "", secret, uri: totp.toString() } });
    }) as Promise<Response>;
  }

  private async ownFactor(sql: Sql, user: UserRow, factorId: string): Promise<FactorRow> {
    const [factor] = await sql<FactorRow[]>`select * from auth.mfa_factors where id = ${factorId} and user_id = ${user.id}`;
    if (!factor) throw notFound("mfa_factor_not_found", "Factor not found");
    return factor;
  }

  async challengeFactor(request: Request, factorId: string): Promise<Response> {
    const { user } = await this.caller(request);
    const factor = await this.ownFactor(this.ctx.sql, user, factorId);
    if (!this.settings.mfa.totpVerify) throw unprocessable("mfa_totp_verify_not_enabled", "MFA verification is disabled for TOTP");
    const id = randomUUID();
    const [row] = await this.ctx.sql<{ created_at: Date }[]>`
      insert into auth.mfa_challenges (id, factor_id, created_at, ip_address) values (${id}, ${factor.id}, now(), ${clientIp(request)})
      returning created_at`;
    await this.ctx.sql`update auth.mfa_factors set last_challenged_at = now() where id = ${factor.id}`;
    // MFA challenges expire after GOTRUE_MFA_CHALLENGE_EXPIRY_DURATION (300 s by default).
    return json({ id, type: factor.factor_type, expires_at: Math.floor(row!.created_at.getTime() / 1000) + 300 });
  }

  async verifyFactor(request: Request, factorId: string): Promise<Response> {
    const body = await readBody(request);
    const code = str(body.code);
    const challengeId = str(body.challenge_id);
    const ip = clientIp(request);
    return this.ctx.sql.begin(async (tx) => {
      const { user, session } = await this.caller(request, tx);
      if (!session) throw forbidden("session_not_found", "Session from session_id claim in JWT does not exist");
      const factor = await this.ownFactor(tx, user, factorId);
      if (!this.settings.mfa.totpVerify) throw unprocessable("mfa_totp_verify_not_enabled", "MFA verification is disabled for TOTP");
      const [challenge] = await tx<{ id: string; created_at: Date; verified_at: Date | null; ip_address: string }[]>`
        select id, created_at, verified_at, host(ip_address) as ip_address from auth.mfa_challenges
         where id = ${challengeId} and factor_id = ${factor.id} for update`;
      if (!challenge) throw unprocessable("mfa_factor_not_found", "MFA factor with the provided challenge ID not found");
      if (challenge.ip_address !== ip) throw unprocessable("mfa_ip_address_mismatch", "Challenge and verify IP addresses mismatch.");
      if (challenge.verified_at || Date.now() > challenge.created_at.getTime() + 300_000) {
        throw unprocessable("mfa_challenge_expired", `MFA challenge ${challenge.id} has expired, verify against another challenge or create a new challenge.`);
      }
      const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(factor.secret ?? ""), digits: 6, period: 30, algorithm: "SHA1" });
      if (totp.validate({ token: code, window: 1 }) === null) {
        throw unprocessable("mfa_verification_failed", "Invalid TOTP code entered");
      }
      await tx`update auth.mfa_challenges set verified_at = now() where id = ${challenge.id}`;
      if (factor.status !== "verified") {
        await tx`update auth.mfa_factors set status = 'verified', updated_at = now() where id = ${factor.id}`;
        // Other unverified TOTP factors of the user are dropped once one is verified.
        await tx`delete from auth.mfa_factors where user_id = ${user.id} and status = 'unverified' and factor_type = 'totp' and id <> ${factor.id}`;
      }
      await addAmrClaim(tx, session.id, "totp");
      await tx`update auth.sessions set aal = 'aal2', factor_id = ${factor.id}, updated_at = now() where id = ${session.id}`;
      // Sessions of this user below aal2 are signed out (models.InvalidateSessionsWithAALLessThan).
      await tx`delete from auth.sessions where user_id = ${user.id} and id <> ${session.id} and aal = 'aal1'`;
      await audit(tx, user, "mfa_code_login", ip, { factor_id: factor.id });
      return json(await reissueInSession(tx, this.settings, this.ctx.jwtSecret, user, session.id));
    }) as Promise<Response>;
  }

  async unenrollFactor(request: Request, factorId: string): Promise<Response> {
    const { user, session } = await this.caller(request);
    const factor = await this.ownFactor(this.ctx.sql, user, factorId);
    if (factor.status === "verified" && session?.aal !== "aal2") throw forbidden("insufficient_aal", "AAL2 required to unenroll verified factor");
    await this.ctx.sql.begin(async (tx) => {
      await tx`delete from auth.mfa_factors where id = ${factor.id}`;
      await audit(tx, user, "factor_deleted", clientIp(request), { factor_id: factor.id });
    });
    return json({ id: factor.id });
  }

  // -------------------------------------------------------------------------------------------------------------
  // admin (admin.go, invite.go, mail.go GenerateLink)
  // -------------------------------------------------------------------------------------------------------------

  private async adminUser(sql: Sql, id: string): Promise<UserRow> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound("user_not_found", "User not found");
    const user = await userById(sql, id);
    if (!user) throw notFound("user_not_found", "User not found");
    return user;
  }

  async adminListUsers(request: Request): Promise<Response> {
    await this.requireAdmin(request);
    const url = new URL(request.url);
    const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
    const perPage = Math.min(1000, Math.max(1, Number(url.searchParams.get("per_page") ?? 50) || 50));
    const sql = this.ctx.sql;
    const [total] = await sql<{ count: number }[]>`select count(*)::int as count from auth.users where aud = 'authenticated'`;
    const count = total?.count ?? 0;
    const rows = await sql<UserRow[]>`
      select * from auth.users where aud = 'authenticated' order by created_at desc, id limit ${perPage} offset ${(page - 1) * perPage}`;
    const users = [];
    for (const row of rows) users.push(await loadUserJson(sql, row));
    // Pagination headers as GoTrue's addPaginationHeaders (X-Total-Count and a Link header with next/last).
    const last = Math.max(1, Math.ceil(count / perPage));
    const link = (p: number, rel: string) => `<${this.settings.externalUrl}/admin/users?page=${p}&per_page=${perPage}>; rel="${rel}"`;
    const links = [...(page < last ? [link(page + 1, "next")] : []), link(last, "last")];
    return json({ users, aud: "authenticated" }, 200, { "x-total-count": String(count), link: links.join(", ") });
  }

  async adminCreateUser(request: Request): Promise<Response> {
    await this.requireAdmin(request);
    const body = await readBody(request);
    const email = str(body.email);
    if (email === "" && str(body.phone) === "") throw badRequest("validation_failed", "Cannot create a user without either an email or phone");
    if (str(body.phone) !== "") throw badRequest("phone_provider_disabled", "Unsupported phone provider");
    const address = validateEmail(email);
    const password = typeof body.password === "string" ? body.password : undefined;
    if (password !== undefined) this.checkPassword(password);
    const passwordHash = str(body.password_hash);
    const userMetadata = obj(body.user_metadata) ?? obj(body.data) ?? {};
    const appMetadata = { provider: "email", providers: ["email"], ...(obj(body.app_metadata) ?? {}) };
    return this.ctx.sql.begin(async (tx) => {
      if (await userByEmail(tx, address)) throw unprocessable("email_exists", "A user with this email address has already been registered");
      let user: UserRow;
      try {
        user = await insertUser(tx, {
          ...(str(body.id) ? { id: str(body.id) } : {}),
          email: address,
          encryptedPassword: passwordHash || (password ? await Api.hash(password) : ""),
          userMetadata,
          appMetadata,
          ...(str(body.role) ? { role: str(body.role) } : {}),
        });
        await insertEmailIdentity(tx, user, userMetadata);
      } catch (error) {
        console.error("auth: saving a new user failed:", error);
        throw internalError("Database error creating new user");
      }
      if (body.email_confirm === true) await confirmUser(tx, user.id);
      await this.applyBan(tx, user.id, body.ban_duration);
      return json(await loadUserJson(tx, (await userById(tx, user.id))!));
    }) as Promise<Response>;
  }

  private async applyBan(tx: Sql, id: string, duration: unknown): Promise<void> {
    if (typeof duration !== "string" || duration === "") return;
    if (duration === "none") {
      await tx`update auth.users set banned_until = null where id = ${id}`;
      return;
    }
    const match = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(duration);
    if (!match) throw badRequest("validation_failed", "invalid format for ban duration: " + duration);
    const seconds = Number(match[1]) * { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 }[match[2] as "s"]!;
    await tx`update auth.users set banned_until = now() + make_interval(secs => ${seconds}) where id = ${id}`;
  }

  async adminGetUser(request: Request, id: string): Promise<Response> {
    await this.requireAdmin(request);
    return json(await loadUserJson(this.ctx.sql, await this.adminUser(this.ctx.sql, id)));
  }

  async adminUpdateUser(request: Request, id: string): Promise<Response> {
    await this.requireAdmin(request);
    const body = await readBody(request);
    return this.ctx.sql.begin(async (tx) => {
      const user = await this.adminUser(tx, id);
      if (typeof body.email === "string" && body.email !== "") {
        const email = validateEmail(body.email);
        const other = await userByEmail(tx, email);
        if (other && other.id !== user.id) throw unprocessable("email_exists", "A user with this email address has already been registered");
        await tx`update auth.users set email = ${email}, updated_at = now() where id = ${id}`;
        await tx`update auth.identities set identity_data = identity_data || jsonb_build_object('email', ${email}::text) where user_id = ${id} and provider = 'email'`;
      }
      if (typeof body.password === "string") {
        this.checkPassword(body.password);
        await tx`update auth.users set encrypted_password = ${await Api.hash(body.password)}, updated_at = now() where id = ${id}`;
      }
      const userMetadata = obj(body.user_metadata);
      if (userMetadata) {
        await tx`update auth.users set raw_user_meta_data = jsonb_strip_nulls(coalesce(raw_user_meta_data, '{}'::jsonb) || ${tx.json(userMetadata as postgres.JSONValue)}), updated_at = now() where id = ${id}`;
      }
      const appMetadata = obj(body.app_metadata);
      if (appMetadata) {
        await tx`update auth.users set raw_app_meta_data = jsonb_strip_nulls(coalesce(raw_app_meta_data, '{}'::jsonb) || ${tx.json(appMetadata as postgres.JSONValue)}), updated_at = now() where id = ${id}`;
      }
      if (typeof body.role === "string" && body.role !== "") await tx`update auth.users set role = ${body.role} where id = ${id}`;
      if (body.email_confirm === true) await confirmUser(tx, id);
      await this.applyBan(tx, id, body.ban_duration);
      await audit(tx, { id: "00000000-0000-0000-0000-000000000000", email: "service_role" }, "user_modified", clientIp(request), { user_id: id });
      return json(await loadUserJson(tx, (await userById(tx, id))!));
    }) as Promise<Response>;
  }

  async adminDeleteUser(request: Request, id: string): Promise<Response> {
    await this.requireAdmin(request);
    const body = await readBody(request);
    return this.ctx.sql.begin(async (tx) => {
      const user = await this.adminUser(tx, id);
      if (body.should_soft_delete === true) {
        // models.User.SoftDeleteUser: obfuscated address and tokens, deleted_at set, sessions and factors dropped.
        await tx`
          update auth.users set email = null, phone = null, encrypted_password = '', confirmation_token = '', recovery_token = '',
                 email_change = '', email_change_token_new = '', email_change_token_current = '', deleted_at = now(), updated_at = now()
           where id = ${id}`;
        await tx`delete from auth.sessions where user_id = ${id}`;
        await tx`delete from auth.mfa_factors where user_id = ${id}`;
        await tx`delete from auth.identities where user_id = ${id}`;
      } else {
        await tx`delete from auth.users where id = ${id}`;
      }
      await audit(tx, { id: "00000000-0000-0000-0000-000000000000", email: "service_role" }, "user_deleted", clientIp(request), { user_id: id, user_email: user.email });
      return json(userJson(user, [], []));
    }) as Promise<Response>;
  }

  async adminListFactors(request: Request, id: string): Promise<Response> {
    await this.requireAdmin(request);
    await this.adminUser(this.ctx.sql, id);
    return json((await factorsOf(this.ctx.sql, id)).map(factorJson));
  }

  async adminDeleteFactor(request: Request, id: string, factorId: string): Promise<Response> {
    await this.requireAdmin(request);
    const [factor] = await this.ctx.sql<FactorRow[]>`delete from auth.mfa_factors where id = ${factorId} and user_id = ${id} returning *`;
    if (!factor) throw notFound("mfa_factor_not_found", "Factor not found");
    return json(factorJson(factor));
  }

  async invite(request: Request): Promise<Response> {
    await this.requireAdmin(request);
    const body = await readBody(request);
    const email = validateEmail(str(body.email));
    const data = obj(body.data) ?? {};
    const redirectTo = this.redirectTarget(request);
    return this.ctx.sql.begin(async (tx) => {
      let user = await userByEmail(tx, email);
      if (user && user.email_confirmed_at) throw unprocessable("email_exists", "A user with this email address has already been registered");
      if (!user) {
        user = await insertUser(tx, { email, encryptedPassword: "", userMetadata: data });
        await insertEmailIdentity(tx, user, data);
      }
      await tx`update auth.users set invited_at = now() where id = ${user.id}`;
      await this.sendOtpMail(tx, (await userById(tx, user.id))!, "invite", redirectTo, false);
      await audit(tx, user, "user_invited", clientIp(request), { user_id: user.id, user_email: email });
      return json(await loadUserJson(tx, (await userById(tx, user.id))!));
    }) as Promise<Response>;
  }

  /** POST /admin/generate_link: the link and OTP a mail would carry, without sending it. */
  async generateLink(request: Request): Promise<Response> {
    await this.requireAdmin(request);
    const body = await readBody(request);
    const type = str(body.type);
    const email = validateEmail(str(body.email));
    const data = obj(body.data) ?? {};
    const redirectTo = isRedirectAllowed(this.settings, str(body.redirect_to)) ? str(body.redirect_to) : this.redirectTarget(request);
    return this.ctx.sql.begin(async (tx) => {
      let user = await userByEmail(tx, email);
      const otp = generateOtp(this.settings.email.otpLength);
      let hash: string;
      let verificationType = type;
      switch (type) {
        case "signup": {
          const password = str(body.password);
          if (!user) {
            if (password === "") throw unprocessable("validation_failed", "Signup requires a valid password");
            this.checkPassword(password);
            user = await insertUser(tx, { email, encryptedPassword: await Api.hash(password), userMetadata: data });
            await insertEmailIdentity(tx, user, data);
          } else if (user.email_confirmed_at) {
            throw unprocessable("email_exists", "A user with this email address has already been registered");
          }
          hash = tokenHash(email, otp);
          await tx`update auth.users set confirmation_token = ${hash}, confirmation_sent_at = now() where id = ${user.id}`;
          await setOneTimeToken(tx, user.id, "confirmation_token", hash, email);
          break;
        }
        case "invite": {
          if (!user) {
            user = await insertUser(tx, { email, encryptedPassword: "", userMetadata: data });
            await insertEmailIdentity(tx, user, data);
          }
          hash = tokenHash(email, otp);
          await tx`update auth.users set invited_at = now(), confirmation_token = ${hash}, confirmation_sent_at = now() where id = ${user.id}`;
          await setOneTimeToken(tx, user.id, "confirmation_token", hash, email);
          break;
        }
        case "magiclink": case "recovery": {
          if (!user) throw notFound("user_not_found", "User with this email not found");
          hash = tokenHash(email, otp);
          await tx`update auth.users set recovery_token = ${hash}, recovery_sent_at = now() where id = ${user.id}`;
          await setOneTimeToken(tx, user.id, "recovery_token", hash, email);
          break;
        }
        case "email_change_current": case "email_change_new": {
          if (!user) throw notFound("user_not_found", "User with this email not found");
          const newEmail = validateEmail(str(body.new_email));
          const hashNew = tokenHash(newEmail, otp);
          const hashCurrent = tokenHash(email, otp);
          await tx`
            update auth.users set email_change = ${newEmail}, email_change_token_new = ${hashNew},
                   email_change_token_current = ${this.settings.email.doubleConfirmChanges ? hashCurrent : ""},
                   email_change_confirm_status = 0, email_change_sent_at = now() where id = ${user.id}`;
          hash = type === "email_change_current" ? hashCurrent : hashNew;
          verificationType = "email_change";
          break;
        }
        default:
          throw badRequest("validation_failed", "Invalid email action link type requested: " + type);
      }
      const fresh = (await userById(tx, user.id))!;
      const link = this.ctx.mailer.confirmationUrl({ to: email, kind: "confirmation", verifyType: verificationType, token: otp, tokenHash: hash, email, redirectTo, data });
      return json({
        ...(await loadUserJson(tx, fresh)),
        action_link: link,
        email_otp: otp,
        hashed_token: hash,
        verification_type: verificationType,
        redirect_to: redirectTo,
      });
    }) as Promise<Response>;
  }
}
