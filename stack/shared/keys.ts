// The project's API keys and the access-token check every service shares.
//
// Legacy keys are HS256 JWTs (`role: anon` / `role: service_role`) signed with the project JWT secret; the new
// `sb_publishable_…` / `sb_secret_…` keys are opaque strings that only the gateway understands: it swaps them for the
// matching legacy JWT before a request reaches Auth, REST or Storage, which verify JWTs only
// (supabase/cli:packages/stack/src/ApiProxy.ts `transformAuthorization`).
import { JwtError, signJwt, verifyJwt, type JwtClaims } from "../../functions/_shared/jwt.ts";

export { JwtError, signJwt, verifyJwt, type JwtClaims };

/** Supabase's local development JWT secret: with it the keys below equal what `supabase start` prints. */
export const DEFAULT_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
/** The publishable and secret keys `supabase start` prints on every machine (not secrets: local only). */
export const DEFAULT_PUBLISHABLE_KEY = "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH";
export const DEFAULT_SECRET_KEY = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz";
/** The legacy keys' `exp` as the Supabase CLI signs them. */
const KEY_EXPIRY = 1983812996;

export interface ProjectKeys {
  jwtSecret: string;
  /** Legacy HS256 JWT with role anon. */
  anonKey: string;
  /** Legacy HS256 JWT with role service_role. */
  serviceRoleKey: string;
  publishableKey: string;
  secretKey: string;
}

export async function projectKeys(
  jwtSecret: string = DEFAULT_JWT_SECRET,
  opaque: { publishableKey?: string; secretKey?: string } = {},
): Promise<ProjectKeys> {
  return {
    jwtSecret,
    anonKey: await signJwt({ iss: "supabase-demo", role: "anon", exp: KEY_EXPIRY }, jwtSecret),
    serviceRoleKey: await signJwt({ iss: "supabase-demo", role: "service_role", exp: KEY_EXPIRY }, jwtSecret),
    publishableKey: opaque.publishableKey ?? DEFAULT_PUBLISHABLE_KEY,
    secretKey: opaque.secretKey ?? DEFAULT_SECRET_KEY,
  };
}

/** The bearer token of an `Authorization` header, or undefined when there is none (case-insensitive scheme). */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Verifies an access token or legacy key and returns its claims; throws JwtError. */
export async function verifyAccessToken(token: string, keys: Pick<ProjectKeys, "jwtSecret">): Promise<JwtClaims> {
  return verifyJwt(token, keys.jwtSecret);
}
