// Firebase Cloud Messaging HTTP v1: an OAuth 2 access token from the service account key (JWT bearer grant,
// RFC 7523, RS256; cached until a minute before it expires) and the v1 message with notification, data and the
// Android and APNs overrides. https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages

import { importPKCS8, SignJWT } from "npm:jose@6.2.18";
import { z } from "npm:zod@4.6.7";

export const serviceAccountSchema = z.object({
  project_id: z.string().min(1),
  client_email: z.string().min(1),
  private_key: z.string().min(1),
  token_uri: z.string().url().default("https://oauth2.googleapis.com/token"),
});
export type ServiceAccount = z.infer<typeof serviceAccountSchema>;

export const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";

export interface FcmMessage {
  token: string;
  title: string;
  body: string | null;
  data: Record<string, string>;
  /** One collapse key / thread per chat, so a newer notification replaces an older one. */
  collapseKey?: string;
  urgent: boolean;
  ttlSeconds: number;
}

export interface FcmResult {
  status: number;
  /** FCM's errorCode (UNREGISTERED, INVALID_ARGUMENT, QUOTA_EXCEEDED, UNAVAILABLE, ...). */
  errorCode?: string;
  retryAfter?: string | null;
}

export interface FcmClient {
  send(message: FcmMessage): Promise<FcmResult>;
}

export function createFcmClient(account: ServiceAccount, options: { apiUrl?: string; fetch?: typeof fetch } = {}): FcmClient {
  const doFetch = options.fetch ?? fetch;
  const apiUrl = (options.apiUrl ?? "https://fcm.googleapis.com").replace(/\/$/, "");
  let cached: { token: string; expiresAt: number } | undefined;
  // Concurrent sends share one token request.
  let inFlight: Promise<string> | undefined;

  function accessToken(): Promise<string> {
    if (cached && cached.expiresAt - 60_000 > Date.now()) return Promise.resolve(cached.token);
    inFlight ??= fetchToken().finally(() => (inFlight = undefined));
    return inFlight;
  }

  async function fetchToken(): Promise<string> {
    const key = await importPKCS8(account.private_key, "RS256");
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({ alg: "RS256", typ: "JWT" })
      .setIssuer(account.client_email)
      .setAudience(account.token_uri)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(key);
    const response = await doFetch(account.token_uri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }),
      signal: AbortSignal.timeout(15_000),
    });
    if (!response.ok) throw new Error(`FCM token endpoint answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    const body = (await response.json()) as { access_token: string; expires_in: number };
    cached = { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
    return cached.token;
  }

  async function post(message: FcmMessage): Promise<Response> {
    return await doFetch(`${apiUrl}/v1/projects/${encodeURIComponent(account.project_id)}/messages:send`, {
      method: "POST",
      headers: { authorization: `Bearer ${await accessToken()}`, "content-type": "application/json" },
      body: JSON.stringify({
        message: {
          token: message.token,
          notification: { title: message.title, ...(message.body ? { body: message.body } : {}) },
          data: message.data,
          android: {
            priority: message.urgent ? "HIGH" : "NORMAL",
            ttl: `${message.ttlSeconds}s`,
            ...(message.collapseKey ? { collapse_key: message.collapseKey } : {}),
          },
          apns: {
            headers: {
              "apns-priority": message.urgent ? "10" : "5",
              "apns-expiration": String(Math.floor(Date.now() / 1000) + message.ttlSeconds),
              ...(message.collapseKey ? { "apns-collapse-id": message.collapseKey } : {}),
            },
            payload: { aps: { ...(message.collapseKey ? { "thread-id": message.collapseKey } : {}), sound: "default" } },
          },
        },
      }),
      signal: AbortSignal.timeout(15_000),
    });
  }

  return {
    async send(message) {
      let response = await post(message);
      if (response.status === 401) {
        // The cached token was revoked or expired early: one more try with a fresh one.
        await response.body?.cancel();
        cached = undefined;
        response = await post(message);
      }
      if (response.ok) {
        await response.body?.cancel();
        return { status: response.status };
      }
      const text = await response.text();
      let errorCode: string | undefined;
      try {
        const details = (JSON.parse(text) as { error?: { status?: string; details?: Array<{ errorCode?: string }> } }).error;
        errorCode = details?.details?.find((d) => d.errorCode)?.errorCode ?? details?.status;
      } catch {
        errorCode = undefined;
      }
      return { status: response.status, errorCode, retryAfter: response.headers.get("retry-after") };
    },
  };
}
