// GoTrue's rate limits (supabase/auth:internal/api/middleware.go, api.go route setup; internal/conf rate limits).
// - Per-IP limits, per 5 minutes, one counter per endpoint as GoTrue keeps one limiter per field
//   (internal/api/apilimiter/apilimiter.go): sign_in_sign_ups (GOTRUE_RATE_LIMIT_OTP) for /signup, /otp,
//   /magiclink, /recover, /resend and PUT /user; token_refresh for every /token grant (password sign-ins included);
//   token_verifications for /verify. They apply only to requests that carry the rate-limit header (here
//   X-Forwarded-For, first value), as GoTrue skips rate limiting when the configured header is absent
//   (performRateLimitingWithHeader).
// - The email limit (email_sent per hour) is global to the instance, like GoTrue's limitEmailOrPhoneSentHandler.
//   The CLI passes it to GoTrue only with [auth.email.smtp] enabled and sets 360000 for the local mail catcher
//   (supabase/cli:apps/cli-go/internal/start/start.go); createAuth does the same.
// Counters live in memory: a restart resets them, as it does for GoTrue's in-memory tollbooth limiters.
import { tooMany } from "./errors.ts";

class Window {
  private readonly hits = new Map<string, number[]>();
  constructor(private readonly limit: number, private readonly seconds: number) {}

  /** Counts a hit for `key`; false when the limit is already reached within the window. */
  take(key: string, now = Date.now()): boolean {
    const since = now - this.seconds * 1000;
    const recent = (this.hits.get(key) ?? []).filter((t) => t > since);
    if (recent.length >= this.limit) {
      this.hits.set(key, recent);
      return false;
    }
    recent.push(now);
    this.hits.set(key, recent);
    return true;
  }
}

export type LimitedEndpoint = "signup" | "otp" | "magiclink" | "recover" | "resend" | "user" | "token" | "verify" | "anonymous";

export class RateLimits {
  private readonly perIp: Record<LimitedEndpoint, Window>;
  private readonly email: Window;

  constructor(limits: { emailSent: number; signInSignUps: number; tokenRefresh: number; tokenVerifications: number; anonymousUsers: number }) {
    const otp = () => new Window(limits.signInSignUps, 300);
    this.perIp = {
      signup: otp(), otp: otp(), magiclink: otp(), recover: otp(), resend: otp(), user: otp(),
      token: new Window(limits.tokenRefresh, 300),
      verify: new Window(limits.tokenVerifications, 300),
      anonymous: new Window(limits.anonymousUsers, 3600),
    };
    this.email = new Window(limits.emailSent, 3600);
  }

  /** The client address used as the limiter key, or undefined when the request has no X-Forwarded-For. */
  static clientKey(request: Request): string | undefined {
    const value = request.headers.get("x-forwarded-for");
    const first = value?.split(",")[0]?.trim();
    return first ? first : undefined;
  }

  check(kind: LimitedEndpoint, request: Request): void {
    const key = RateLimits.clientKey(request);
    if (key !== undefined && !this.perIp[kind].take(key)) {
      throw tooMany("over_request_rate_limit", "Request rate limit reached");
    }
  }

  emailSent(): void {
    if (!this.email.take("global")) throw tooMany("over_email_send_rate_limit", "Email rate limit exceeded");
  }
}
