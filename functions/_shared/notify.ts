// POST /notify {"max_deliveries"?}: drains the notification outbox (private.notification_outbox).
//
// Woken by the database through pg_net when a transaction queues deliveries, and every minute by the pg_cron job
// notifications-deliver (the backstop, and the sender of delayed mention emails). Several instances may run at once:
// private.claim_deliveries leases rows with `for update skip locked`, so each delivery goes to one worker, and
// private.settle_delivery records each outcome:
// - Web Push (RFC 8030/8291/8292): the payload encrypted with aes128gcm for the subscription's keys and a VAPID JWT
//   (the `web-push` package builds the request; it is sent with fetch), TTL, Urgency, and Topic = the chat, so a newer
//   push for a chat replaces an older one still waiting. 201/202 sent; 404/410 the subscription is gone (the device is
//   pruned); 429/5xx retried after Retry-After or with exponential backoff and jitter; other 4xx failed (dead).
// - Email on mention: one message per (recipient, chat) batch with the mentions still unread, text and HTML,
//   List-Unsubscribe with a one-click link (RFC 8058) to GET/POST /notify/unsubscribe.
// - FCM HTTP v1 (functions/_shared/fcm.ts): notification + data + Android/APNs overrides, collapse key per chat;
//   UNREGISTERED prunes the device, 429/5xx are retried.
// - APNs (functions/_shared/apns.ts): token-based (ES256 provider token, cached and renewed), HTTP/2, an alert with
//   the unread count as badge and thread-id/apns-collapse-id = the chat; 410 (Unregistered) and 400 BadDeviceToken
//   prune the device, 429/5xx are retried after Retry-After or with backoff.
// Answers 200 {claimed, sent, retried, pruned, dead}, 401/403 without the service role, 400 for bad input.

import { z } from "npm:zod@4.6.7";
import webpush from "npm:web-push@3.6.7";
import { preflightResponse } from "./cors.ts";
import type { Sql } from "./db.ts";
import { errorResponse, json, methodNotAllowed, parseJsonBody } from "./http.ts";
import { requireServiceRole, type ServiceAuth } from "./service-auth.ts";
import type { FcmClient } from "./fcm.ts";
import type { ApnsClient } from "./apns.ts";

export const notifyRequestSchema = z.strictObject({ max_deliveries: z.int().min(1).max(500).optional() });

export interface VapidConfig {
  publicKey: string;
  privateKey: string;
  /** mailto: or https: contact the push services can reach (VAPID `sub`). */
  subject: string;
}

export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export interface NotifyDeps {
  sql: Sql;
  auth: ServiceAuth;
  vapid?: VapidConfig;
  mailer?: Mailer;
  /** Sender of notification emails, e.g. `Chat <notifications@example.com>`. */
  mailFrom?: string;
  /** Public base URL of this function (for unsubscribe links), e.g. https://<ref>.supabase.co/functions/v1/notify. */
  publicUrl?: string;
  fetch?: typeof fetch;
  /** FCM HTTP v1 (FCM_SERVICE_ACCOUNT); without it FCM deliveries fail as not configured. */
  fcm?: FcmClient;
  /** APNs (APNS_KEY, APNS_KEY_ID, APNS_TEAM_ID); without it APNs deliveries fail as not configured. */
  apns?: ApnsClient;
  /** Seconds a claimed delivery stays leased to this worker. */
  leaseSeconds?: number;
}

export interface NotifyResult {
  claimed: number;
  sent: number;
  retried: number;
  pruned: number;
  dead: number;
}

type Outcome = { outcome: "sent" | "retry" | "gone" | "failed"; status?: number; retryAfter?: number; error?: string };

interface Claimed {
  delivery_id: string;
  channel: "web_push" | "fcm" | "apns" | "email";
  attempt: number;
  payload: Record<string, unknown>;
}

const notificationPart = {
  notification: z.object({
    id: z.string(),
    kind: z.string(),
    chat_id: z.string().nullable(),
    message_id: z.string().nullable(),
    actor_id: z.string().nullable(),
    preview: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  }),
  chat_title: z.string().nullable(),
  actor_name: z.string().nullable(),
  unread_count: z.number(),
};
const pushSchema = z.object({
  target: z.object({
    subscription: z.object({ endpoint: z.string(), keys: z.object({ p256dh: z.string(), auth: z.string() }) }),
    endpoint_allowed: z.boolean(),
  }),
  ...notificationPart,
});
const fcmSchema = z.object({ target: z.object({ token: z.string() }), ...notificationPart });
const apnsSchema = z.object({ target: z.object({ token: z.string(), app_id: z.string() }), ...notificationPart });
type PushDelivery = z.infer<typeof pushSchema> | z.infer<typeof fcmSchema> | z.infer<typeof apnsSchema>;

const emailSchema = z.object({
  to: z.string(),
  user_id: z.string(),
  display_name: z.string().nullable(),
  chat_id: z.string(),
  chat_title: z.string().nullable(),
  unsubscribe_token: z.string(),
  mentions: z.array(z.object({ preview: z.string().nullable(), actor: z.string().nullable(), created_at: z.string() })),
});

/** Web Push payloads must fit one 4096-byte record; keep the plaintext well below (encryption adds ~100 bytes). */
export const WEB_PUSH_MAX_PAYLOAD = 3000;

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or undefined. */
export function retryAfterSeconds(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** What a push service's HTTP status means for the delivery. */
export function outcomeOf(status: number, retryAfter?: number): Outcome {
  if (status >= 200 && status < 300) return { outcome: "sent", status };
  if (status === 404 || status === 410) return { outcome: "gone", status };
  if (status === 429 || status >= 500) return { outcome: "retry", status, retryAfter };
  return { outcome: "failed", status, error: `push service answered ${status}` };
}

/** The JSON a service worker receives: what to show, and where to go when it is clicked. */
function titleOf(p: PushDelivery): string {
  const n = p.notification;
  return n.kind === "system"
    ? String(n.data.title ?? "Notice")
    : [p.actor_name, p.chat_title].filter(Boolean).join(" in ") || "New notification";
}

export function webPushPayload(p: z.infer<typeof pushSchema>): string {
  const n = p.notification;
  const title = titleOf(p);
  const body = { notification_id: n.id, kind: n.kind, chat_id: n.chat_id, message_id: n.message_id, title,
    body: n.preview, data: n.data, unread_count: p.unread_count, created_at: n.created_at };
  let text = JSON.stringify(body);
  if (new TextEncoder().encode(text).length > WEB_PUSH_MAX_PAYLOAD) {
    text = JSON.stringify({ ...body, body: n.preview?.slice(0, 100) ?? null, data: {} });
  }
  return text;
}

function urgencyOf(kind: string): "high" | "normal" | "low" {
  return ["mention", "reply", "direct_message", "invitation"].includes(kind) ? "high" : kind === "reaction" ? "low" : "normal";
}

export async function sendWebPush(deps: NotifyDeps, raw: Record<string, unknown>): Promise<Outcome> {
  if (!deps.vapid) return { outcome: "failed", error: "Web Push is not configured (VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY)" };
  const parsed = pushSchema.safeParse(raw);
  if (!parsed.success) return { outcome: "failed", error: "malformed delivery: " + parsed.error.message.slice(0, 200) };
  const p = parsed.data;
  // Never a request into the function's own network: the database's verdict on the endpoint
  // (private.push_endpoint_allowed) comes with the target; such a subscription is removed (it can never be delivered).
  if (!p.target.endpoint_allowed) {
    return { outcome: "gone", error: "endpoint is not a public push service (docs/security.md)" };
  }
  let details: { endpoint: string; method: string; headers: Record<string, string | number>; body: Uint8Array | null };
  try {
    details = webpush.generateRequestDetails(p.target.subscription, webPushPayload(p), {
      vapidDetails: deps.vapid,
      TTL: 24 * 3600,
      urgency: urgencyOf(p.notification.kind),
      // A newer push about the same chat replaces one the service still holds (Topic: at most 32 URL-safe chars).
      ...(p.notification.chat_id ? { topic: p.notification.chat_id.replaceAll("-", "") } : {}),
      contentEncoding: "aes128gcm",
    }) as typeof details;
  } catch (error) {
    // A subscription whose keys cannot be used will never work.
    return { outcome: "gone", error: error instanceof Error ? error.message : String(error) };
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(details.headers)) headers.set(name, String(value));
  try {
    const response = await (deps.fetch ?? fetch)(details.endpoint, {
      method: "POST",
      headers,
      body: details.body ? new Uint8Array(details.body) : null,
      signal: AbortSignal.timeout(15_000),
      // A push service answers, it does not redirect: a 3xx is not followed (it could point anywhere) and fails.
      redirect: "manual",
    });
    await response.body?.cancel();
    return outcomeOf(response.status, retryAfterSeconds(response.headers.get("retry-after")));
  } catch (error) {
    return { outcome: "retry", error: error instanceof Error ? error.message : String(error) };
  }
}

async function sendFcm(deps: NotifyDeps, raw: Record<string, unknown>): Promise<Outcome> {
  if (!deps.fcm) return { outcome: "failed", error: "fcm delivery is not configured (FCM_SERVICE_ACCOUNT)" };
  const parsed = fcmSchema.safeParse(raw);
  if (!parsed.success) return { outcome: "failed", error: "malformed delivery: " + parsed.error.message.slice(0, 200) };
  const p = parsed.data;
  const n = p.notification;
  try {
    const r = await deps.fcm.send({
      token: p.target.token,
      title: titleOf(p),
      body: n.preview,
      // FCM data values are strings.
      data: Object.fromEntries(Object.entries({ notification_id: n.id, kind: n.kind, chat_id: n.chat_id, message_id: n.message_id,
        unread_count: String(p.unread_count) }).filter(([, v]) => v !== null) as Array<[string, string]>),
      ...(n.chat_id ? { collapseKey: n.chat_id } : {}),
      urgent: urgencyOf(n.kind) === "high",
      ttlSeconds: 24 * 3600,
    });
    if (r.status >= 200 && r.status < 300) return { outcome: "sent", status: r.status };
    // The token is no longer valid (app uninstalled, token rotated): FCM's own signal to drop it.
    if (r.errorCode === "UNREGISTERED") return { outcome: "gone", status: r.status, error: r.errorCode };
    if (r.status === 429 || r.status >= 500) return { outcome: "retry", status: r.status, retryAfter: retryAfterSeconds(r.retryAfter ?? null), error: r.errorCode };
    return { outcome: "failed", status: r.status, error: `FCM answered ${r.status} ${r.errorCode ?? ""}`.trim() };
  } catch (error) {
    return { outcome: "retry", error: error instanceof Error ? error.message : String(error) };
  }
}

/** What an alert says when the recipient hides previews (or a notice has no text). */
const hiddenBody: Record<string, string> = {
  mention: "You were mentioned", reply: "New reply", thread_reply: "New reply in a thread", direct_message: "New message",
  reaction: "New reaction", invitation: "New invitation", added_to_chat: "You were added to a chat", system: "New notice",
};

async function sendApns(deps: NotifyDeps, raw: Record<string, unknown>): Promise<Outcome> {
  if (!deps.apns) return { outcome: "failed", error: "apns delivery is not configured (APNS_KEY, APNS_KEY_ID, APNS_TEAM_ID)" };
  const parsed = apnsSchema.safeParse(raw);
  if (!parsed.success) return { outcome: "failed", error: "malformed delivery: " + parsed.error.message.slice(0, 200) };
  const p = parsed.data;
  const n = p.notification;
  try {
    const r = await deps.apns.send({
      deviceToken: p.target.token,
      topic: p.target.app_id,
      alert: { title: titleOf(p), body: n.preview ?? hiddenBody[n.kind] ?? "New notification" },
      badge: p.unread_count,
      ...(n.chat_id ? { threadId: n.chat_id, collapseId: n.chat_id } : {}),
      priority: urgencyOf(n.kind) === "high" ? 10 : 5,
      expiration: Math.floor(Date.now() / 1000) + 24 * 3600,
      data: { notification_id: n.id, kind: n.kind, chat_id: n.chat_id, message_id: n.message_id },
    });
    if (r.status === 200) return { outcome: "sent", status: 200 };
    // APNs's own signals that the token is dead: 410 (Unregistered, ExpiredToken) and 400 BadDeviceToken.
    if (r.status === 410 || (r.status === 400 && r.reason === "BadDeviceToken")) return { outcome: "gone", status: r.status, error: r.reason };
    if (r.status === 429 || r.status >= 500) {
      return { outcome: "retry", status: r.status, retryAfter: retryAfterSeconds(r.retryAfter ?? null), error: r.reason };
    }
    return { outcome: "failed", status: r.status, error: `APNs answered ${r.status} ${r.reason ?? ""}`.trim() };
  } catch (error) {
    return { outcome: "retry", error: error instanceof Error ? error.message : String(error) };
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** The batched mention email: one message for every unread mention of the recipient in one chat. */
export function mentionEmail(raw: z.infer<typeof emailSchema>, from: string, publicUrl: string | undefined): MailMessage {
  const chat = raw.chat_title ?? "a chat";
  const n = raw.mentions.length;
  const subject = n === 1 ? `${raw.mentions[0]!.actor ?? "Someone"} mentioned you in ${chat}` : `${n} new mentions in ${chat}`;
  const lines = raw.mentions.map((m) => `${m.actor ?? "Someone"}: ${m.preview ?? "(preview hidden)"}`);
  const headers: Record<string, string> = { "X-Chat-Id": raw.chat_id };
  let unsubscribe = "";
  if (publicUrl) {
    const url = `${publicUrl.replace(/\/$/, "")}/unsubscribe?user=${encodeURIComponent(raw.user_id)}&token=${encodeURIComponent(raw.unsubscribe_token)}`;
    headers["List-Unsubscribe"] = `<${url}>`;
    headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click";
    unsubscribe = url;
  }
  const greeting = `Hi ${raw.display_name ?? "there"},`;
  const text = [greeting, "", `You were mentioned in ${chat}:`, "", ...lines.map((l) => `  ${l}`), "",
    ...(unsubscribe ? [`Stop these emails: ${unsubscribe}`] : [])].join("\n");
  const html = `<!doctype html><html><body><p>${escapeHtml(greeting)}</p><p>You were mentioned in <b>${escapeHtml(chat)}</b>:</p><ul>${
    raw.mentions.map((m) => `<li><b>${escapeHtml(m.actor ?? "Someone")}</b>: ${escapeHtml(m.preview ?? "(preview hidden)")}</li>`).join("")
  }</ul>${unsubscribe ? `<p><a href="${escapeHtml(unsubscribe)}">Stop these emails</a></p>` : ""}</body></html>`;
  return { from, to: raw.to, subject, text, html, headers };
}

async function sendEmail(deps: NotifyDeps, raw: Record<string, unknown>): Promise<Outcome> {
  if (!deps.mailer || !deps.mailFrom) return { outcome: "failed", error: "email is not configured (SMTP_HOST, NOTIFY_MAIL_FROM)" };
  const parsed = emailSchema.safeParse(raw);
  if (!parsed.success) return { outcome: "failed", error: "malformed delivery: " + parsed.error.message.slice(0, 200) };
  try {
    await deps.mailer.send(mentionEmail(parsed.data, deps.mailFrom, deps.publicUrl));
    return { outcome: "sent" };
  } catch (error) {
    const code = (error as { responseCode?: number }).responseCode;
    // 5xx SMTP replies are permanent for that message; connection problems and 4xx are worth another try.
    if (typeof code === "number" && code >= 500) return { outcome: "failed", status: code, error: String(error) };
    return { outcome: "retry", status: code, error: error instanceof Error ? error.message : String(error) };
  }
}

async function deliver(deps: NotifyDeps, row: Claimed): Promise<Outcome> {
  switch (row.channel) {
    case "web_push":
      return await sendWebPush(deps, row.payload);
    case "email":
      return await sendEmail(deps, row.payload);
    case "fcm":
      return await sendFcm(deps, row.payload);
    case "apns":
      return await sendApns(deps, row.payload);
    default:
      return { outcome: "failed", error: `${row.channel} delivery is not configured` };
  }
}

/** Drains up to `max` deliveries (in batches), settling each. */
export async function drainOutbox(deps: NotifyDeps, max = 200): Promise<NotifyResult> {
  const result: NotifyResult = { claimed: 0, sent: 0, retried: 0, pruned: 0, dead: 0 };
  while (result.claimed < max) {
    const batch = await deps.sql<Claimed[]>`
      select delivery_id, channel, attempt, payload
        from private.claim_deliveries(${Math.min(50, max - result.claimed)}, ${deps.leaseSeconds ?? 120})`;
    if (batch.length === 0) break;
    result.claimed += batch.length;
    await Promise.all(batch.map(async (row) => {
      const o = await deliver(deps, row);
      const [settled] = await deps.sql<{ status: string | null }[]>`
        select private.settle_delivery(${row.delivery_id}::bigint, ${o.outcome}, ${o.status ?? null}::integer,
                                       ${o.retryAfter ?? null}::integer, ${o.error ?? null}) as status`;
      const status = settled?.status;
      if (status === "sent") result.sent++;
      else if (status === "pending") result.retried++;
      else if (status === "pruned") result.pruned++;
      else if (status === "dead") result.dead++;
    }));
  }
  return result;
}

export function createNotifyHandler(deps: NotifyDeps): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method === "OPTIONS") return preflightResponse();
    const url = new URL(request.url);
    // One-click unsubscribe from a mention email: a mail client POSTs (RFC 8058), a person clicks (GET).
    if (url.pathname.endsWith("/unsubscribe")) {
      if (request.method !== "GET" && request.method !== "POST") return methodNotAllowed(request.method, ["GET", "POST", "OPTIONS"]);
      const user = url.searchParams.get("user");
      const token = url.searchParams.get("token");
      if (!user || !token || !/^[0-9a-f-]{36}$/i.test(user)) {
        return errorResponse(400, "BAD_REQUEST", "user and token are required", "Use the link from the email");
      }
      const [row] = await deps.sql<{ ok: boolean }[]>`select private.unsubscribe_email(${user}::uuid, ${token}) as ok`;
      if (!row?.ok) return errorResponse(400, "BAD_REQUEST", "invalid unsubscribe link", "Use the link from the email");
      return json({ unsubscribed: true });
    }
    if (request.method !== "POST") return methodNotAllowed(request.method, ["POST", "OPTIONS"]);
    const denied = await requireServiceRole(request, deps.auth);
    if (denied) return denied;
    const parsed = await parseJsonBody(request, notifyRequestSchema);
    if (!parsed.ok) return parsed.response;
    return json(await drainOutbox(deps, parsed.data.max_deliveries ?? 200));
  };
}
