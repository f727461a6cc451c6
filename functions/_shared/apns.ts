// Apple Push Notification service, token-based: an ES256 provider token (JWT with `kid` = the key id and claims
// `iss` = the team id, `iat`) signed with the .p8 key, reused for every request and renewed after 50 minutes (APNs
// refuses a token older than one hour and one renewed more often than every 20 minutes), sent over HTTP/2 (APNs
// speaks nothing else: the client is made HTTP/2-only) to POST /3/device/<device token> with the headers
// apns-topic (bundle id), apns-push-type, apns-priority, apns-expiration and apns-collapse-id.
// Apple's references: "Establishing a token-based connection to APNs", "Sending notification requests to APNs",
// "Generating a remote notification" (the `aps` dictionary), "Handling notification responses from APNs".

import { importPKCS8, SignJWT } from "npm:jose@6.2.18";

export const APNS_PRODUCTION_URL = "https://api.push.apple.com";
export const APNS_SANDBOX_URL = "https://api.sandbox.push.apple.com";
/** The largest payload of a regular remote notification (VoIP ones may have 5 KB). */
export const APNS_MAX_PAYLOAD = 4096;
/** A provider token is reused this long; APNs wants a new one at most every 60 and at least 20 minutes apart. */
export const APNS_TOKEN_LIFETIME_MS = 50 * 60_000;

export interface ApnsConfig {
  /** The contents of the AuthKey_<key id>.p8 file (PKCS #8 PEM). */
  key: string;
  keyId: string;
  teamId: string;
  /** https://api.push.apple.com (default) or https://api.sandbox.push.apple.com (development builds). */
  baseUrl?: string;
  /** Extra CA certificates (PEM) to trust: only for a test peer; Apple's certificate chains to a public root. */
  caCerts?: string[];
}

export interface ApnsAlert {
  title: string;
  body: string;
}

export interface ApnsMessage {
  deviceToken: string;
  /** The app's bundle id. */
  topic: string;
  alert: ApnsAlert;
  badge?: number;
  threadId?: string;
  /** A newer notification with the same id replaces an older one on the device (at most 64 bytes). */
  collapseId?: string;
  /** 10 = now, 5 = when power allows. */
  priority: 10 | 5;
  /** Unix seconds after which APNs stops trying (0 = deliver once or drop). */
  expiration: number;
  sound?: string;
  /** Custom keys, outside `aps`. */
  data?: Record<string, string | number | null>;
}

export interface ApnsResult {
  status: number;
  /** APNs's `reason` (BadDeviceToken, Unregistered, TooManyRequests, ...). */
  reason?: string;
  retryAfter?: string | null;
  apnsId?: string | null;
}

export interface ApnsClient {
  send(message: ApnsMessage): Promise<ApnsResult>;
  /** Issue time (Unix seconds) of the provider token in use, for tests and logs. */
  tokenIssuedAt(): number | undefined;
  close(): void;
}

const utf8 = new TextEncoder();

/**
 * The JSON body of an alert: `aps` with alert, badge, sound and thread-id, custom keys beside it. When it would exceed
 * 4 KB the alert body is shortened (never cut inside a character).
 */
export function apnsPayload(message: ApnsMessage): string {
  const build = (body: string) => JSON.stringify({
    aps: {
      alert: { title: message.alert.title, body },
      ...(message.badge !== undefined ? { badge: message.badge } : {}),
      sound: message.sound ?? "default",
      ...(message.threadId ? { "thread-id": message.threadId } : {}),
    },
    ...message.data,
  });
  let body = message.alert.body;
  let text = build(body);
  while (utf8.encode(text).length > APNS_MAX_PAYLOAD && body.length > 0) {
    const chars = Array.from(body);
    // Drop characters from the end until they account for the excess (and 3 bytes for the ellipsis); escapes in
    // the JSON make a character longer there, never shorter, so the loop ends within a round or two.
    let excess = utf8.encode(text).length - APNS_MAX_PAYLOAD + 3;
    if (body.endsWith("\u2026")) chars.pop();
    while (chars.length > 0 && excess > 0) excess -= utf8.encode(chars.pop()!).length;
    body = chars.length > 0 ? chars.join("") + "\u2026" : "";
    text = build(body);
  }
  return text;
}

export function createApnsClient(config: ApnsConfig, options: { now?: () => number } = {}): ApnsClient {
  const now = options.now ?? Date.now;
  const baseUrl = (config.baseUrl ?? APNS_PRODUCTION_URL).replace(/\/$/, "");
  // HTTP/2 only (ALPN h2): APNs closes HTTP/1.1 connections. One client keeps its connection for every request.
  const client = Deno.createHttpClient({ http1: false, http2: true, ...(config.caCerts?.length ? { caCerts: config.caCerts } : {}) });
  let key: CryptoKey | undefined;
  let cached: { jwt: string; issuedAt: number } | undefined;
  let inFlight: Promise<string> | undefined;

  async function sign(): Promise<string> {
    key ??= await importPKCS8(config.key, "ES256");
    const issuedAt = Math.floor(now() / 1000);
    const jwt = await new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: config.keyId })
      .setIssuer(config.teamId).setIssuedAt(issuedAt).sign(key);
    cached = { jwt, issuedAt };
    return jwt;
  }

  function providerToken(): Promise<string> {
    if (cached && now() - cached.issuedAt * 1000 < APNS_TOKEN_LIFETIME_MS) return Promise.resolve(cached.jwt);
    // Concurrent sends share one signature.
    inFlight ??= sign().finally(() => (inFlight = undefined));
    return inFlight;
  }

  async function post(message: ApnsMessage, jwt: string): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `bearer ${jwt}`,
      "apns-topic": message.topic,
      "apns-push-type": "alert",
      "apns-priority": String(message.priority),
      "apns-expiration": String(message.expiration),
      "content-type": "application/json",
    };
    if (message.collapseId) headers["apns-collapse-id"] = message.collapseId;
    return await fetch(`${baseUrl}/3/device/${encodeURIComponent(message.deviceToken)}`, {
      method: "POST",
      headers,
      body: apnsPayload(message),
      client,
      signal: AbortSignal.timeout(15_000),
    });
  }

  async function reasonOf(response: Response): Promise<string | undefined> {
    const text = await response.text();
    try {
      return (JSON.parse(text) as { reason?: string }).reason;
    } catch {
      return undefined;
    }
  }

  return {
    async send(message) {
      let response = await post(message, await providerToken());
      let reason: string | undefined;
      if (response.status === 403) {
        reason = await reasonOf(response);
        if (reason === "ExpiredProviderToken") {
          // The token aged out early (clock skew): one more try with a fresh one.
          cached = undefined;
          response = await post(message, await providerToken());
          reason = undefined;
        }
      }
      if (response.status === 200) {
        await response.body?.cancel();
        return { status: 200, apnsId: response.headers.get("apns-id") };
      }
      reason ??= await reasonOf(response);
      return { status: response.status, reason, retryAfter: response.headers.get("retry-after"), apnsId: response.headers.get("apns-id") };
    },
    tokenIssuedAt: () => cached?.issuedAt,
    close: () => client.close(),
  };
}
