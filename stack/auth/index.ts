// Supabase Auth (GoTrue) for the Docker-free stack: the endpoints supabase-js' `supabase.auth` calls, on GoTrue's
// own auth schema (sql/platform/02_auth.sql), connected as supabase_auth_admin like GoTrue. Routes as
// supabase/auth:internal/api/api.go (checked at bc32168); the gateway strips /auth/v1 before we see the path.
// What is implemented and every known difference: docs/local-stack/auth.md.
import postgres from "postgres";
import type { StackDeps } from "../shared/deps.ts";
import type { Handler } from "../shared/http.ts";
import { json } from "../shared/http.ts";
import { Api, type AuthContext } from "./api.ts";
import { AuthError, errorResponse, internalError, notFound } from "./errors.ts";
import { RateLimits } from "./limits.ts";
import { Mailer } from "./mailer.ts";
import { authSettings } from "./settings.ts";

export interface AuthOptions {
  /** Where mail goes when config.toml has no [auth.email.smtp]: the stack's mail catcher. */
  smtp: { host: string; port: number };
}

export interface AuthService {
  handler: Handler;
  close(): Promise<void>;
}

type Route = [method: string, pattern: RegExp, run: (api: Api, request: Request, params: string[]) => Promise<Response>];

const ROUTES: Route[] = [
  ["GET", /^\/health$/, (api) => api.health()],
  ["GET", /^\/settings$/, (api) => api.settingsJson()],
  ["GET", /^\/\.well-known\/jwks\.json$/, async () => json({ keys: [] })],
  ["POST", /^\/signup$/, (api, r) => api.signup(r)],
  ["POST", /^\/token$/, (api, r) => api.token(r)],
  ["GET", /^\/verify$/, (api, r) => api.verifyGet(r)],
  ["POST", /^\/verify$/, (api, r) => api.verifyPost(r)],
  ["POST", /^\/otp$/, (api, r) => api.otp(r, false)],
  ["POST", /^\/magiclink$/, (api, r) => api.otp(r, true)],
  ["POST", /^\/recover$/, (api, r) => api.recover(r)],
  ["POST", /^\/resend$/, (api, r) => api.resend(r)],
  ["GET", /^\/reauthenticate$/, (api, r) => api.reauthenticate(r)],
  ["GET", /^\/user$/, (api, r) => api.getUser(r)],
  ["PUT", /^\/user$/, (api, r) => api.updateUser(r)],
  ["POST", /^\/logout$/, (api, r) => api.logout(r)],
  ["POST", /^\/factors$/, (api, r) => api.enrollFactor(r)],
  ["POST", /^\/factors\/([^/]+)\/challenge$/, (api, r, p) => api.challengeFactor(r, p[0]!)],
  ["POST", /^\/factors\/([^/]+)\/verify$/, (api, r, p) => api.verifyFactor(r, p[0]!)],
  ["DELETE", /^\/factors\/([^/]+)$/, (api, r, p) => api.unenrollFactor(r, p[0]!)],
  ["POST", /^\/invite$/, (api, r) => api.invite(r)],
  ["GET", /^\/admin\/users$/, (api, r) => api.adminListUsers(r)],
  ["POST", /^\/admin\/users$/, (api, r) => api.adminCreateUser(r)],
  ["GET", /^\/admin\/users\/([^/]+)$/, (api, r, p) => api.adminGetUser(r, p[0]!)],
  ["PUT", /^\/admin\/users\/([^/]+)$/, (api, r, p) => api.adminUpdateUser(r, p[0]!)],
  ["DELETE", /^\/admin\/users\/([^/]+)$/, (api, r, p) => api.adminDeleteUser(r, p[0]!)],
  ["GET", /^\/admin\/users\/([^/]+)\/factors$/, (api, r, p) => api.adminListFactors(r, p[0]!)],
  ["DELETE", /^\/admin\/users\/([^/]+)\/factors\/([^/]+)$/, (api, r, p) => api.adminDeleteFactor(r, p[0]!, p[1]!)],
  ["POST", /^\/admin\/generate_link$/, (api, r) => api.generateLink(r)],
];

export function createAuth(deps: StackDeps, opts: AuthOptions): AuthService {
  const settings = authSettings(deps.config, deps.apiUrl);
  const sql = postgres(deps.db.url("supabase_auth_admin"), {
    max: 5,
    idle_timeout: 20,
    onnotice: () => {},
    connection: { application_name: "gotrue (local stack)" },
  });
  const mailer = new Mailer(settings, opts.smtp);
  const limits = new RateLimits({
    ...settings.rateLimit,
    emailSent: settings.email.smtp ? settings.rateLimit.emailSent : 360000,
  });
  const ctx: AuthContext = { settings, sql, jwtSecret: deps.keys.jwtSecret, mailer, limits };
  const api = new Api(ctx);

  const handler: Handler = async (request) => {
    const { pathname } = new URL(request.url);
    const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
    try {
      for (const [method, pattern, run] of ROUTES) {
        const match = pattern.exec(path);
        if (match && method === request.method) return await run(api, request, match.slice(1));
      }
      throw notFound("not_found", "Not Found");
    } catch (error) {
      if (error instanceof AuthError) return errorResponse(error, request);
      console.error(`auth: ${request.method} ${path} failed:`, error);
      return errorResponse(internalError(), request);
    }
  };
  return {
    handler,
    async close() {
      mailer.close();
      await sql.end({ timeout: 5 });
    },
  };
}
