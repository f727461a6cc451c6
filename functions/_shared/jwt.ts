// HS256 JSON Web Tokens with WebCrypto only.
//
// This module deliberately has no imports: it is loaded by Deno (the functions gateway, edge functions, deno tests)
// and by Node scripts through tsx, and both runtimes provide crypto.subtle, TextEncoder, atob and btoa globally.
// It signs and verifies the tokens a Supabase project issues with its legacy JWT secret (anon key, service_role
// key, user access tokens from GoTrue): header {"alg":"HS256","typ":"JWT"}, the secret's UTF-8 bytes as HMAC key.

/** Registered claims plus whatever else the token carries (role, email, app_metadata, ...). */
export interface JwtClaims {
  [claim: string]: unknown;
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  role?: string;
}

export type JwtErrorReason = "malformed" | "unsupported_algorithm" | "bad_signature" | "expired" | "not_yet_valid";

/** Thrown by verifyJwt; `reason` says which check failed. The message never contains the token. */
export class JwtError extends Error {
  readonly reason: JwtErrorReason;

  constructor(reason: JwtErrorReason, message: string) {
    super(message);
    this.name = "JwtError";
    this.reason = reason;
  }
}

export interface VerifyOptions {
  /** Current time in seconds since the epoch; defaults to the wall clock. */
  nowSeconds?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function base64UrlEncode(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function base64UrlDecode(segment: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(segment) || segment.length % 4 === 1) {
    throw new JwtError("malformed", "token segment is not base64url");
  }
  const base64 = segment.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (segment.length % 4)) % 4);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function decodeJsonObject(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(base64UrlDecode(segment)));
  } catch (error) {
    if (error instanceof JwtError) throw error;
    throw new JwtError("malformed", `token ${what} is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new JwtError("malformed", `token ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

// The return type is inferred: Node's types have no global CryptoKey without the DOM lib.
function hmacKey(secret: string, usage: "sign" | "verify") {
  if (secret.length === 0) throw new TypeError("JWT secret must not be empty");
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

/** Signs `payload` as an HS256 JWT. Claims are written as given; add `exp`/`iat` yourself. */
export async function signJwt(payload: JwtClaims, secret: string): Promise<string> {
  const header = base64UrlEncode(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const body = base64UrlEncode(encoder.encode(JSON.stringify(payload)));
  const signingInput = `${header}.${body}`;
  const key = await hmacKey(secret, "sign");
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(signingInput)));
  return `${signingInput}.${base64UrlEncode(signature)}`;
}

/**
 * Verifies an HS256 JWT and returns its claims. Rejects (JwtError) a token that is not three base64url JSON
 * segments, uses any algorithm but HS256 (including "none"), has a wrong signature, has expired (`exp` <= now) or is
 * not valid yet (`nbf` > now). A token without `exp` is accepted, as Supabase's gateway does.
 */
export async function verifyJwt(token: string, secret: string, options: VerifyOptions = {}): Promise<JwtClaims> {
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtError("malformed", "token does not have three segments");
  const [headerSegment, payloadSegment, signatureSegment] = parts as [string, string, string];

  const header = decodeJsonObject(headerSegment, "header");
  if (header.alg !== "HS256") {
    throw new JwtError("unsupported_algorithm", `token algorithm ${JSON.stringify(header.alg)} is not HS256`);
  }

  const signature = base64UrlDecode(signatureSegment);
  const key = await hmacKey(secret, "verify");
  const valid = await crypto.subtle.verify(
    "HMAC",
    key,
    signature,
    encoder.encode(`${headerSegment}.${payloadSegment}`),
  );
  if (!valid) throw new JwtError("bad_signature", "token signature does not match");

  const claims = decodeJsonObject(payloadSegment, "payload") as JwtClaims;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (claims.exp !== undefined) {
    if (typeof claims.exp !== "number") throw new JwtError("malformed", "token exp is not a number");
    if (claims.exp <= now) throw new JwtError("expired", "token has expired");
  }
  if (claims.nbf !== undefined) {
    if (typeof claims.nbf !== "number") throw new JwtError("malformed", "token nbf is not a number");
    if (claims.nbf > now) throw new JwtError("not_yet_valid", "token is not valid yet");
  }
  return claims;
}
