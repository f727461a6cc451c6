// The token checks of Realtime (supabase/realtime:lib/realtime_web/channels/auth/channels_authorization.ex and
// jwt_verification.ex): signature with the project secret, `role` and `exp` required, `exp` in the future.
import { JwtError, verifyJwt, type JwtClaims } from "../shared/keys.ts";

export type TokenResult =
  | { ok: true; claims: JwtClaims & { exp: number; role: string }; expiresInSeconds: number }
  | { ok: false; error: "expired_token" | "missing_claims" | "token_malformed" | "signature_error" | "invalid_token"; message: string };

export async function confirmToken(token: unknown, jwtSecret: string): Promise<TokenResult> {
  if (typeof token !== "string") return { ok: false, error: "invalid_token", message: "The token provided is not a valid JWT" };
  // Realtime URI-decodes the token and removes whitespace before verifying it.
  let clean: string;
  try {
    clean = decodeURIComponent(token).replace(/\s/g, "");
  } catch {
    clean = token;
  }
  let claims: JwtClaims;
  try {
    // Expiry is checked below so the message can say how long ago the token expired.
    claims = await verifyJwt(clean, jwtSecret, { nowSeconds: -Infinity });
  } catch (error) {
    if (error instanceof JwtError && error.reason === "not_yet_valid") {
      // Realtime validates only `exp` (and configured claims), never `nbf`; the signature was checked already.
      claims = JSON.parse(Buffer.from(clean.split(".")[1]!, "base64url").toString("utf8")) as JwtClaims;
    } else if (error instanceof JwtError && error.reason === "bad_signature") {
      return { ok: false, error: "signature_error", message: "Failed to validate JWT signature" };
    } else {
      return { ok: false, error: "token_malformed", message: "The token provided is not a valid JWT" };
    }
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp === "number" && !(claims.exp > now)) {
    return { ok: false, error: "expired_token", message: `Token has expired ${now - Math.floor(claims.exp)} seconds ago` };
  }
  if (!("role" in claims) || !("exp" in claims) || typeof claims.exp !== "number") {
    return { ok: false, error: "missing_claims", message: "Fields `role` and `exp` are required in JWT" };
  }
  return { ok: true, claims: claims as JwtClaims & { exp: number; role: string }, expiresInSeconds: claims.exp - now };
}
