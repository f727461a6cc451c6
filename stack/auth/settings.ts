// [auth] of supabase/config.toml as GoTrue sees it. The Supabase CLI turns these keys into GOTRUE_* variables
// (supabase/cli:apps/cli-go/internal/start/start.go, pkg/config/auth.go); the defaults here are the CLI's
// (pkg/config/templates/config.toml) so a missing key behaves as under `supabase start`.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseDuration, section, type ProjectConfig, type TomlTable } from "../shared/config.ts";

/** Mail kinds, named as GoTrue's template config (GOTRUE_MAILER_TEMPLATES_*, [auth.email.template.<kind>]). */
export type MailKind = "confirmation" | "invite" | "recovery" | "magic_link" | "email_change" | "reauthentication";

export interface MailTemplate {
  subject: string;
  /** A Go-template body; GoTrue's default when no content_path is configured. */
  body: string;
}

export interface SmtpSettings {
  host: string;
  port: number;
  user?: string;
  pass?: string;
  adminEmail: string;
  senderName: string;
}

export interface AuthSettings {
  /** GOTRUE_API_EXTERNAL_URL: API_URL + /auth/v1; also the JWT issuer unless auth.jwt_issuer is set. */
  externalUrl: string;
  issuer: string;
  siteUrl: string;
  additionalRedirectUrls: string[];
  jwtExpiry: number;
  rotation: boolean;
  reuseInterval: number;
  enableSignup: boolean;
  anonymousSignIns: boolean;
  minPasswordLength: number;
  /** GOTRUE_PASSWORD_REQUIRED_CHARACTERS as sets of characters of which each must appear once. */
  requiredCharacters: string[];
  rateLimit: {
    emailSent: number;
    signInSignUps: number;
    tokenRefresh: number;
    tokenVerifications: number;
    anonymousUsers: number;
  };
  email: {
    enabled: boolean;
    autoconfirm: boolean;
    doubleConfirmChanges: boolean;
    securePasswordChange: boolean;
    /** Seconds between two mails of one kind to one user (GOTRUE_SMTP_MAX_FREQUENCY). */
    maxFrequency: number;
    otpLength: number;
    otpExpiry: number;
    templates: Record<MailKind, MailTemplate>;
    smtp?: SmtpSettings;
  };
  mfa: { maxEnrolledFactors: number; totpEnroll: boolean; totpVerify: boolean };
  localSender: { adminEmail: string; senderName: string };
}

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS = "0123456789";
const SYMBOLS = "!@#$%^&*()_+-=[]{};'\\:\"|<>?,./`~";

/** supabase/cli:apps/cli-go/pkg/config/auth.go PasswordRequirements.ToChar (":"-separated sets for GoTrue). */
export function requiredCharacters(requirement: string): string[] {
  switch (requirement) {
    case "": return [];
    case "letters_digits": return [LOWER + UPPER, DIGITS];
    case "lower_upper_letters_digits": return [LOWER, UPPER, DIGITS];
    case "lower_upper_letters_digits_symbols": return [LOWER, UPPER, DIGITS, SYMBOLS];
    default: throw new Error(`auth.password_requirements: unknown value ${JSON.stringify(requirement)}`);
  }
}

// GoTrue's default subjects and bodies (supabase/auth:internal/mailer/templatemailer), used when config.toml names
// no template for a kind.
const DEFAULT_TEMPLATES: Record<MailKind, MailTemplate> = {
  confirmation: {
    subject: "Confirm Your Signup",
    body: `<h2>Confirm your signup</h2>\n<p>Follow this link to confirm your user:</p>\n<p><a href="{{ .ConfirmationURL }}">Confirm your mail</a></p>\n<p>Alternatively, enter the code: {{ .Token }}</p>`,
  },
  invite: {
    subject: "You have been invited",
    body: `<h2>You have been invited</h2>\n<p>You have been invited to create a user on {{ .SiteURL }}. Follow this link to accept the invite:</p>\n<p><a href="{{ .ConfirmationURL }}">Accept the invite</a></p>\n<p>Alternatively, enter the code: {{ .Token }}</p>`,
  },
  recovery: {
    subject: "Reset Your Password",
    body: `<h2>Reset Password</h2>\n<p>Follow this link to reset the password for your user:</p>\n<p><a href="{{ .ConfirmationURL }}">Reset Password</a></p>\n<p>Alternatively, enter the code: {{ .Token }}</p>`,
  },
  magic_link: {
    subject: "Your Magic Link",
    body: `<h2>Magic Link</h2>\n<p>Follow this link to login:</p>\n<p><a href="{{ .ConfirmationURL }}">Log In</a></p>\n<p>Alternatively, enter the code: {{ .Token }}</p>`,
  },
  email_change: {
    subject: "Confirm Email Change",
    body: `<h2>Confirm Change of Email</h2>\n<p>Follow this link to confirm the update of your email from {{ .Email }} to {{ .NewEmail }}:</p>\n<p><a href="{{ .ConfirmationURL }}">Change Email</a></p>\n<p>Alternatively, enter the code: {{ .Token }}</p>`,
  },
  reauthentication: {
    subject: "Confirm reauthentication",
    body: `<h2>Confirm reauthentication</h2>\n<p>Enter the code: {{ .Token }}</p>`,
  },
};

const num = (value: unknown, fallback: number) => (typeof value === "number" ? value : fallback);
const bool = (value: unknown, fallback: boolean) => (typeof value === "boolean" ? value : fallback);
const str = (value: unknown, fallback: string) => (typeof value === "string" ? value : fallback);

/** `env(NAME)` values in config.toml are read from the environment, as the CLI does. */
function envValue(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^env\((\w+)\)$/.exec(value);
  return match ? process.env[match[1]!] : value;
}

function templates(config: ProjectConfig): Record<MailKind, MailTemplate> {
  const configured = section(config, "auth.email.template");
  const result = { ...DEFAULT_TEMPLATES };
  for (const kind of Object.keys(DEFAULT_TEMPLATES) as MailKind[]) {
    const t = (configured[kind] ?? {}) as TomlTable;
    const contentPath = typeof t.content_path === "string" ? t.content_path : undefined;
    result[kind] = {
      subject: str(t.subject, DEFAULT_TEMPLATES[kind].subject),
      // content_path is relative to the project directory, the parent of supabase/ (as the CLI resolves it).
      body: contentPath ? readFileSync(path.resolve(path.dirname(config.dir), contentPath), "utf8") : DEFAULT_TEMPLATES[kind].body,
    };
  }
  return result;
}

export function authSettings(config: ProjectConfig, apiUrl: string): AuthSettings {
  const auth = section(config, "auth");
  const rate = section(config, "auth.rate_limit");
  const email = section(config, "auth.email");
  const smtp = section(config, "auth.email.smtp");
  const totp = section(config, "auth.mfa.totp");
  const localSmtp = section(config, "local_smtp");
  const externalUrl = `${apiUrl.replace(/\/+$/, "")}/auth/v1`;
  const smtpEnabled = Object.keys(smtp).length > 0 && bool(smtp.enabled, true);
  return {
    externalUrl: str(auth.external_url, "") || externalUrl,
    issuer: str(auth.jwt_issuer, "") || str(auth.external_url, "") || externalUrl,
    siteUrl: str(auth.site_url, "http://127.0.0.1:3000"),
    additionalRedirectUrls: Array.isArray(auth.additional_redirect_urls) ? (auth.additional_redirect_urls as string[]) : [],
    jwtExpiry: num(auth.jwt_expiry, 3600),
    rotation: bool(auth.enable_refresh_token_rotation, true),
    reuseInterval: num(auth.refresh_token_reuse_interval, 10),
    enableSignup: bool(auth.enable_signup, true),
    anonymousSignIns: bool(auth.enable_anonymous_sign_ins, false),
    minPasswordLength: num(auth.minimum_password_length, 6),
    requiredCharacters: requiredCharacters(str(auth.password_requirements, "")),
    rateLimit: {
      emailSent: num(rate.email_sent, 2),
      signInSignUps: num(rate.sign_in_sign_ups, 30),
      tokenRefresh: num(rate.token_refresh, 150),
      tokenVerifications: num(rate.token_verifications, 30),
      anonymousUsers: num(rate.anonymous_users, 30),
    },
    localSender: {
      // The CLI passes [local_smtp] admin_email / sender_name to GoTrue when no [auth.email.smtp] is set.
      adminEmail: str(envValue(localSmtp.admin_email), "admin@email.com"),
      senderName: str(envValue(localSmtp.sender_name), "Admin"),
    },
    email: {
      enabled: bool(email.enable_signup, true) && bool(email.enabled, true),
      autoconfirm: !bool(email.enable_confirmations, false),
      doubleConfirmChanges: bool(email.double_confirm_changes, true),
      securePasswordChange: bool(email.secure_password_change, false),
      maxFrequency: parseDuration(email.max_frequency ?? "1s") ?? 1,
      otpLength: num(email.otp_length, 6),
      otpExpiry: num(email.otp_expiry, 3600),
      templates: templates(config),
      ...(smtpEnabled
        ? {
            smtp: {
              host: str(envValue(smtp.host), "localhost"),
              port: Number(envValue(smtp.port) ?? 587),
              ...(envValue(smtp.user) ? { user: envValue(smtp.user)! } : {}),
              ...(envValue(smtp.pass) ? { pass: envValue(smtp.pass)! } : {}),
              adminEmail: str(envValue(smtp.admin_email), "admin@email.com"),
              senderName: str(envValue(smtp.sender_name), ""),
            },
          }
        : {}),
    },
    mfa: {
      maxEnrolledFactors: num(section(config, "auth.mfa").max_enrolled_factors, 10),
      totpEnroll: bool(totp.enroll_enabled, false),
      totpVerify: bool(totp.verify_enabled, false),
    },
  };
}
