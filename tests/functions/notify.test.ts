// The notify function against real peers on loopback, started here: a Web Push service that checks the VAPID JWT's
// ES256 signature and claims and decrypts the aes128gcm payload with the subscription's private key (ECDH, HKDF and
// AES-GCM through WebCrypto, RFC 8291/8292), answering 201, 404, 410, 429 or 500 by endpoint path; and a real SMTP
// server (smtp-server) whose messages are parsed as MIME (mailparser). Notifications are made the way clients make
// them: RPCs in the request context PostgREST sets, on the migrated PostgreSQL.

import assert from "node:assert/strict";
import webpush from "npm:web-push@3.6.7";
import { SMTPServer } from "npm:smtp-server@3.21.6";
import { simpleParser } from "npm:mailparser@3.14.2";
import { createDb, type Sql } from "../../functions/_shared/db.ts";
import { signJwt } from "../../functions/_shared/jwt.ts";
import { createNotifyHandler, drainOutbox, type NotifyDeps, retryAfterSeconds, sendWebPush } from "../../functions/_shared/notify.ts";
import { createSmtpMailer } from "../../functions/_shared/smtp.ts";
import { createFcmClient, FCM_SCOPE } from "../../functions/_shared/fcm.ts";
import { APNS_MAX_PAYLOAD, apnsPayload, createApnsClient } from "../../functions/_shared/apns.ts";
import { startApnsPeer } from "./apns-peer.ts";
import { z } from "npm:zod@4.6.7";
import { databaseUrl, jwtSecret } from "./gateway-process.ts";

// ---------------------------------------------------------------------------------------------------------------
// base64url and the Web Push service
// ---------------------------------------------------------------------------------------------------------------
const b64u = {
  enc(bytes: Uint8Array): string {
    return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  },
  dec(text: string): Uint8Array<ArrayBuffer> {
    const s = text.replaceAll("-", "+").replaceAll("_", "/");
    return Uint8Array.from(atob(s + "=".repeat((4 - (s.length % 4)) % 4)), (c) => c.charCodeAt(0));
  },
};
const utf8 = new TextEncoder();
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.length);
  return out;
};

/** A browser's push subscription: its ECDH key pair and auth secret stay here, the JSON goes to the server. */
async function browserSubscription(endpoint: string) {
  const keys = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  const publicRaw = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
  const auth = crypto.getRandomValues(new Uint8Array(16));
  return { keys, publicRaw, auth, json: { endpoint, keys: { p256dh: b64u.enc(publicRaw), auth: b64u.enc(auth) } } };
}
type Subscription = Awaited<ReturnType<typeof browserSubscription>>;

/** RFC 8291 decryption of an aes128gcm body (RFC 8188: salt, rs, idlen, keyid = sender's public key, one record). */
async function decrypt(body: Uint8Array, sub: Subscription): Promise<string> {
  const salt = body.slice(0, 16);
  const idlen = body[20]!;
  const senderPublic = body.slice(21, 21 + idlen);
  const ciphertext = body.slice(21 + idlen);
  const sender = await crypto.subtle.importKey("raw", senderPublic, { name: "ECDH", namedCurve: "P-256" }, false, []);
  const shared = await crypto.subtle.deriveBits({ name: "ECDH", public: sender }, sub.keys.privateKey, 256);
  const hkdf = (ikm: BufferSource) => crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const keyInfo = concat(utf8.encode("WebPush: info\0"), sub.publicRaw, senderPublic);
  const ikm = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: sub.auth, info: keyInfo }, await hkdf(shared), 256);
  const prk = await hkdf(ikm);
  const cek = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info: utf8.encode("Content-Encoding: aes128gcm\0") }, prk, 128);
  const nonce = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info: utf8.encode("Content-Encoding: nonce\0") }, prk, 96);
  const key = await crypto.subtle.importKey("raw", cek, "AES-GCM", false, ["decrypt"]);
  const plain = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: nonce }, key, ciphertext));
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  assert.equal(plain[end], 2, "the last record ends with the padding delimiter 0x02");
  return new TextDecoder().decode(plain.slice(0, end));
}

/** RFC 8292: `vapid t=<ES256 JWT>, k=<public key>`; the JWT's audience is the push service's origin. */
async function verifyVapid(request: Request, expectedKey: string): Promise<string | null> {
  const m = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+),\s*k=([\w-]+)$/.exec(request.headers.get("authorization") ?? "");
  if (!m) return "no vapid authorization";
  const [jwt, k] = [m[1]!, m[2]!];
  if (k !== expectedKey) return "unknown application server key";
  const [h, p, s] = jwt.split(".") as [string, string, string];
  const header = JSON.parse(new TextDecoder().decode(b64u.dec(h)));
  const claims = JSON.parse(new TextDecoder().decode(b64u.dec(p)));
  if (header.alg !== "ES256") return "alg is not ES256";
  const key = await crypto.subtle.importKey("raw", b64u.dec(k), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, b64u.dec(s), utf8.encode(`${h}.${p}`));
  if (!ok) return "bad signature";
  if (claims.aud !== new URL(request.url).origin) return `aud ${claims.aud}`;
  const now = Date.now() / 1000;
  if (!(claims.exp > now && claims.exp <= now + 24 * 3600)) return "exp out of range";
  if (!/^(mailto:|https:)/.test(claims.sub ?? "")) return "sub is not a contact";
  return null;
}

interface Received {
  path: string;
  payload: Record<string, unknown>;
  headers: Headers;
}

/** The push service: /ok/* 201, /gone/* 410, /missing/* 404, /busy/* 429 (Retry-After: 7) once then 201, /error/* 500. */
function startPushService(vapidPublicKey: string) {
  const subscriptions = new Map<string, Subscription>();
  const received: Received[] = [];
  const rejected: string[] = [];
  const busySeen = new Set<string>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = new URL(request.url).pathname;
    const body = new Uint8Array(await request.arrayBuffer());
    const problem = await verifyVapid(request, vapidPublicKey);
    if (problem) {
      rejected.push(`${path}: ${problem}`);
      return new Response(problem, { status: 403 });
    }
    if (request.headers.get("content-encoding") !== "aes128gcm") return new Response("encoding", { status: 400 });
    if (body.length > 4096) return new Response("too large", { status: 413 });
    if (path.startsWith("/gone/")) return new Response(null, { status: 410 });
    if (path.startsWith("/missing/")) return new Response(null, { status: 404 });
    if (path.startsWith("/error/")) return new Response(null, { status: 500 });
    if (path.startsWith("/busy/") && !busySeen.has(path)) {
      busySeen.add(path);
      return new Response(null, { status: 429, headers: { "Retry-After": "7" } });
    }
    const sub = subscriptions.get(path);
    if (!sub) return new Response(null, { status: 404 });
    received.push({ path, payload: JSON.parse(await decrypt(body, sub)), headers: request.headers });
    return new Response(null, { status: 201 });
  });
  const origin = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  return {
    received,
    rejected,
    async subscribe(path: string) {
      const sub = await browserSubscription(origin + path);
      subscriptions.set(path, sub);
      return sub.json;
    },
    close: () => server.shutdown(),
  };
}

/**
 * FCM's two endpoints as the real ones check a request: the OAuth token endpoint verifies the service account's
 * RS256 JWT (signature with the account's public key, iss, scope, aud, lifetime) for the JWT bearer grant; the v1 send
 * endpoint wants a token it issued and a message of the v1 schema (strict: unknown fields are an error, as FCM's
 * INVALID_ARGUMENT). Registration tokens starting with `dead-` answer 404 UNREGISTERED.
 */
async function startFcm() {
  const keys = await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"]);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const pem = `-----BEGIN PRIVATE KEY-----\n${btoa(String.fromCharCode(...pkcs8)).match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`;
  const clientEmail = "notify@test-project.iam.gserviceaccount.com";
  const issued = new Set<string>();
  const messages: Array<z.infer<typeof v1Message>> = [];
  const rejected: string[] = [];
  let tokenRequests = 0;
  const v1Message = z.strictObject({
    token: z.string().min(1),
    notification: z.strictObject({ title: z.string().optional(), body: z.string().optional(), image: z.string().optional() }).optional(),
    data: z.record(z.string(), z.string()).optional(),
    android: z.strictObject({
      collapse_key: z.string().optional(),
      priority: z.enum(["NORMAL", "HIGH"]).optional(),
      ttl: z.string().regex(/^\d+(\.\d{1,9})?s$/).optional(),
    }).optional(),
    apns: z.strictObject({ headers: z.record(z.string(), z.string()).optional(), payload: z.record(z.string(), z.unknown()).optional() }).optional(),
  });
  let origin = "";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/token") {
      tokenRequests++;
      const form = new URLSearchParams(await request.text());
      if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return Response.json({ error: "unsupported_grant_type" }, { status: 400 });
      const [h, p, sig] = (form.get("assertion") ?? "").split(".") as [string, string, string];
      const ok = await crypto.subtle.verify("RSASSA-PKCS1-v1_5", keys.publicKey, b64u.dec(sig ?? ""), utf8.encode(`${h}.${p}`));
      const header = JSON.parse(new TextDecoder().decode(b64u.dec(h)));
      const claims = JSON.parse(new TextDecoder().decode(b64u.dec(p)));
      const now = Date.now() / 1000;
      if (!ok || header.alg !== "RS256" || claims.iss !== clientEmail || claims.scope !== FCM_SCOPE || claims.aud !== `${origin}/token`
          || !(claims.exp > now && claims.exp - claims.iat <= 3600)) {
        rejected.push(`token: ${JSON.stringify({ ok, header, claims })}`);
        return Response.json({ error: "invalid_grant" }, { status: 400 });
      }
      const token = `ya29.${crypto.randomUUID()}`;
      issued.add(token);
      return Response.json({ access_token: token, expires_in: 3599, token_type: "Bearer" });
    }
    if (path !== "/v1/projects/test-project/messages:send") return new Response(null, { status: 404 });
    const bearer = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
    if (!bearer || !issued.has(bearer)) return Response.json({ error: { code: 401, status: "UNAUTHENTICATED" } }, { status: 401 });
    const body = z.strictObject({ message: v1Message, validate_only: z.boolean().optional() }).safeParse(await request.json());
    if (!body.success) {
      rejected.push(`send: ${body.error.message}`);
      return Response.json({ error: { code: 400, status: "INVALID_ARGUMENT", message: body.error.message } }, { status: 400 });
    }
    if (body.data.message.token.startsWith("dead-")) {
      return Response.json({ error: { code: 404, status: "NOT_FOUND", details: [
        { "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode: "UNREGISTERED" }] } }, { status: 404 });
    }
    messages.push(body.data.message);
    return Response.json({ name: `projects/test-project/messages/${crypto.randomUUID()}` });
  });
  origin = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  return {
    messages, rejected,
    tokenRequests: () => tokenRequests,
    client: createFcmClient({ project_id: "test-project", client_email: clientEmail, private_key: pem, token_uri: `${origin}/token` },
                            { apiUrl: origin }),
    close: () => server.shutdown(),
  };
}

/** A real SMTP server keeping every message it accepts, parsed as MIME. */
async function startSmtp() {
  const messages: Awaited<ReturnType<typeof simpleParser>>[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, _session, callback) {
      simpleParser(stream).then((m) => (messages.push(m), callback()), callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.server.address() as { port: number }).port;
  return { messages, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

// ---------------------------------------------------------------------------------------------------------------
// the world: users, a chat, requests as PostgREST runs them
// ---------------------------------------------------------------------------------------------------------------
async function user(sql: Sql, name: string): Promise<string> {
  const id = crypto.randomUUID();
  await sql`
    insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                            raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
    values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', 'authenticated',
            ${`${name}-${id.slice(0, 8)}@example.test`}, '', now(), '{"provider":"email"}',
            ${sql.json({ display_name: name })}, now(), now())`;
  return id;
}

/** Runs `fn` as `userId` inside one transaction, with the role and claims PostgREST sets. */
async function as<T>(sql: Sql, userId: string, fn: (tx: Sql) => Promise<T>): Promise<T> {
  return await sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: "authenticated", aal: "aal1" })}, true)`;
    await tx`set local role authenticated`;
    return await fn(tx as unknown as Sql);
  }) as T;
}

async function team(sql: Sql, owner: string, members: string[]): Promise<string> {
  return await as(sql, owner, async (tx) =>
    (await tx<{ id: string }[]>`select id from public.create_group_chat(title => 'Launch', member_ids => ${members}::uuid[])`)[0]!.id);
}

async function mention(sql: Sql, author: string, chat: string, target: string, body = "hi @bob"): Promise<void> {
  await sql`delete from private.rate_counters where user_id = ${author}`;
  await as(sql, author, (tx) => tx`select id from public.send_message(chat_id => ${chat}, body => ${body}, mentions => ${[target]}::uuid[])`);
}

async function registerWebPush(sql: Sql, userId: string, subscription: unknown): Promise<string> {
  return await as(sql, userId, async (tx) =>
    (await tx<{ id: string }[]>`
      select id from public.register_push_device(provider => 'web_push', platform => 'web', subscription => ${tx.json(subscription as never)})`)[0]!.id);
}

async function outbox(sql: Sql, userId: string) {
  return await sql<{ id: string; channel: string; status: string; attempts: number; last_status: number | null; wait: number }[]>`
    select id, channel, status, attempts, last_status, extract(epoch from next_attempt_at - now())::float8 as wait
      from private.notification_outbox where recipient_id = ${userId} order by id`;
}

const vapid = webpush.generateVAPIDKeys();

async function setup() {
  const sql = createDb(databaseUrl(), { applicationName: "supabase-chat/tests", max: 4 });
  const push = startPushService(vapid.publicKey);
  const smtp = await startSmtp();
  const fcm = await startFcm();
  const apnsPeer = await startApnsPeer({ teamId: "TEAM123456", keyId: "KEY1234567", topics: ["com.example.chat"] });
  const apns = createApnsClient({ key: apnsPeer.p8, keyId: "KEY1234567", teamId: "TEAM123456", baseUrl: apnsPeer.url,
                                  caCerts: [apnsPeer.ca] });
  const now = Math.floor(Date.now() / 1000);
  const deps: NotifyDeps = {
    sql,
    auth: { jwtSecret },
    vapid: { ...vapid, subject: "mailto:ops@example.test" },
    mailer: createSmtpMailer({ host: "127.0.0.1", port: smtp.port }),
    mailFrom: "Chat <notifications@example.test>",
    publicUrl: "http://127.0.0.1:54321/functions/v1/notify",
    fcm: fcm.client,
    apns,
  };
  const serviceToken = await signJwt({ iss: "supabase-demo", role: "service_role", iat: now, exp: now + 3600 }, jwtSecret);
  return {
    sql, push, smtp, fcm, apnsPeer, deps, serviceToken,
    async close() {
      await fcm.close();
      apns.close();
      await apnsPeer.close();
      await sql`update private.notification_delivery_settings set email_delay = interval '10 minutes', max_attempts = 8`;
      await push.close();
      await smtp.close();
      await sql.end();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------------------------------------------
Deno.test({ name: "notify", sanitizeResources: false, sanitizeOps: false }, async (t) => {
  const w = await setup();
  try {
    const alice = await user(w.sql, "alice");
    const bob = await user(w.sql, "bob");
    const chat = await team(w.sql, alice, [bob]);

    await t.step("alice mentions bob: the push service verifies VAPID and decrypts the payload with bob's key", async () => {
      await registerWebPush(w.sql, bob, await w.push.subscribe(`/ok/${bob}`));
      await w.sql`delete from private.notification_outbox where recipient_id = ${bob}`;
      await mention(w.sql, alice, chat, bob, "hi @bob, the launch is at 5");
      const response = await createNotifyHandler(w.deps)(new Request("http://localhost/notify", {
        method: "POST", headers: { authorization: `Bearer ${w.serviceToken}`, "content-type": "application/json" }, body: "{}",
      }));
      assert.equal(response.status, 200);
      assert.ok(((await response.json()) as { sent: number }).sent >= 1);
      assert.deepEqual(w.push.rejected, []);
      const got = w.push.received.filter((r) => r.path === `/ok/${bob}`);
      assert.equal(got.length, 1);
      assert.equal(got[0]!.payload.kind, "mention");
      assert.equal(got[0]!.payload.body, "hi @bob, the launch is at 5");
      assert.equal(got[0]!.payload.title, "alice in Launch");
      assert.equal(got[0]!.payload.chat_id, chat);
      assert.equal(got[0]!.headers.get("ttl"), "86400");
      assert.equal(got[0]!.headers.get("urgency"), "high");
      assert.equal(got[0]!.headers.get("topic"), chat.replaceAll("-", ""), "one topic per chat: a newer push replaces an older one");
      assert.deepEqual((await outbox(w.sql, bob)).filter((o) => o.channel === "web_push").map((o) => o.status), ["sent"]);
    });

    await t.step("callers without the service role are refused", async () => {
      const response = await createNotifyHandler(w.deps)(new Request("http://localhost/notify", { method: "POST", body: "{}" }));
      assert.equal(response.status, 401);
      await response.body?.cancel();
    });

    await t.step("a 410 or 404 from the push service prunes the subscription", async () => {
      const carol = await user(w.sql, "carol");
      const chat2 = await team(w.sql, alice, [carol]);
      const gone = await registerWebPush(w.sql, carol, await w.push.subscribe(`/gone/${carol}`));
      const missing = await registerWebPush(w.sql, carol, await w.push.subscribe(`/missing/${carol}`));
      await mention(w.sql, alice, chat2, carol, "hello @carol");
      const result = await drainOutbox(w.deps);
      assert.ok(result.pruned >= 2);
      const left = await w.sql`select id from public.push_devices where id in (${gone}, ${missing})`;
      assert.equal(left.length, 0);
    });

    await t.step("a 429 is retried after Retry-After, then delivered", async () => {
      const dave = await user(w.sql, "dave");
      const chat3 = await team(w.sql, alice, [dave]);
      await registerWebPush(w.sql, dave, await w.push.subscribe(`/busy/${dave}`));
      await mention(w.sql, alice, chat3, dave, "hey @dave");
      await drainOutbox(w.deps);
      const [row] = (await outbox(w.sql, dave)).filter((o) => o.channel === "web_push");
      assert.equal(row!.status, "pending");
      assert.equal(row!.last_status, 429);
      assert.ok(row!.wait > 5 && row!.wait <= 7.5, `waits Retry-After (7 s), got ${row!.wait}`);
      await w.sql`update private.notification_outbox set next_attempt_at = now() where id = ${row!.id}`;
      await drainOutbox(w.deps);
      assert.equal((await outbox(w.sql, dave)).find((o) => o.id === row!.id)!.status, "sent");
      assert.equal(w.push.received.filter((r) => r.path === `/busy/${dave}`).length, 1);
    });

    await t.step("5xx answers back off and end dead after max_attempts, visible to operators", async () => {
      const erin = await user(w.sql, "erin");
      const chat4 = await team(w.sql, alice, [erin]);
      await registerWebPush(w.sql, erin, await w.push.subscribe(`/error/${erin}`));
      await w.sql`update private.notification_delivery_settings set max_attempts = 2`;
      await mention(w.sql, alice, chat4, erin, "hey @erin");
      await drainOutbox(w.deps);
      const [first] = (await outbox(w.sql, erin)).filter((o) => o.channel === "web_push");
      assert.equal(first!.status, "pending");
      assert.ok(first!.wait >= 14 && first!.wait <= 31, `backoff with jitter from 30 s, got ${first!.wait}`);
      await w.sql`update private.notification_outbox set next_attempt_at = now() where id = ${first!.id}`;
      await drainOutbox(w.deps);
      const dead = await w.sql`select id, last_status from private.dead_deliveries where id = ${first!.id}`;
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.last_status, 500);
      await w.sql`update private.notification_delivery_settings set max_attempts = 8`;
    });

    await t.step("two workers draining one outbox send each delivery once", async () => {
      const frank = await user(w.sql, "frank");
      const chat5 = await team(w.sql, alice, [frank]);
      await registerWebPush(w.sql, frank, await w.push.subscribe(`/ok/${frank}`));
      for (let i = 0; i < 24; i++) await mention(w.sql, alice, chat5, frank, `ping ${i} @frank`);
      const other = createDb(databaseUrl(), { applicationName: "supabase-chat/tests-2", max: 4 });
      try {
        await Promise.all([drainOutbox(w.deps), drainOutbox({ ...w.deps, sql: other })]);
      } finally {
        await other.end();
      }
      const got = w.push.received.filter((r) => r.path === `/ok/${frank}`).map((r) => r.payload.notification_id as string);
      assert.equal(got.length, 24);
      assert.equal(new Set(got).size, 24, "no delivery was sent twice");
    });

    await t.step("a burst of 50 mentions gives one email, with text, HTML and a working List-Unsubscribe", async () => {
      const gina = await user(w.sql, "gina");
      const chat6 = await team(w.sql, alice, [gina]);
      await w.sql`update private.notification_delivery_settings set email_delay = interval '0'`;
      for (let i = 0; i < 50; i++) await mention(w.sql, alice, chat6, gina, `mention ${i} @gina`);
      await drainOutbox(w.deps);
      const mails = w.smtp.messages.filter((m) => (Array.isArray(m.to) ? m.to : [m.to]).some((a) => a?.text.includes("gina-")));
      assert.equal(mails.length, 1);
      const mail = mails[0]!;
      assert.equal(mail.subject, "50 new mentions in Launch");
      assert.match(mail.text ?? "", /alice: mention 0 @gina/);
      assert.match(mail.text ?? "", /alice: mention 49 @gina/);
      assert.match(String(mail.html), /<b>Launch<\/b>/);
      const raw = (key: string) => mail.headerLines.find((h) => h.key === key)?.line.replace(/^[^:]+:\s*/, "") ?? "";
      const unsubscribe = raw("list-unsubscribe").replace(/^<|>$/g, "");
      assert.match(unsubscribe, /^http:\/\/127\.0\.0\.1:54321\/functions\/v1\/notify\/unsubscribe\?user=/);
      assert.equal(raw("list-unsubscribe-post"), "List-Unsubscribe=One-Click");
      const response = await createNotifyHandler(w.deps)(new Request(unsubscribe, { method: "POST" }));
      assert.equal(response.status, 200);
      await response.body?.cancel();
      const [s] = await w.sql`select email_on_mention from public.notification_settings where user_id = ${gina}`;
      assert.equal(s!.email_on_mention, false);
      const bad = await createNotifyHandler(w.deps)(new Request(unsubscribe.replace(/token=[^&]+/, "token=forged"), { method: "POST" }));
      assert.equal(bad.status, 400);
      await bad.body?.cancel();
    });

    await t.step("FCM HTTP v1: an OAuth token from the service account (cached), the v1 message, UNREGISTERED prunes", async () => {
      const ivan = await user(w.sql, "ivan");
      const chat8 = await team(w.sql, alice, [ivan]);
      const token = `fcm:${crypto.randomUUID()}`;
      const dead = await as(w.sql, ivan, async (tx) => {
        await tx`select public.register_push_device(provider => 'fcm', platform => 'android', token => ${token})`;
        return (await tx<{ id: string }[]>`
          select id from public.register_push_device(provider => 'fcm', platform => 'android', token => ${"dead-" + crypto.randomUUID()})`)[0]!.id;
      });
      await mention(w.sql, alice, chat8, ivan, "first @ivan");
      await mention(w.sql, alice, chat8, ivan, "second @ivan");
      const before = w.fcm.tokenRequests();
      await drainOutbox(w.deps);
      assert.deepEqual(w.fcm.rejected, []);
      const got = w.fcm.messages.filter((m) => m.token === token);
      assert.deepEqual(got.map((m) => m.notification?.body).sort(), ["first @ivan", "second @ivan"]);
      assert.match(got[0]!.notification!.title!, / in Launch$/);
      assert.equal(got[0]!.data!.kind, "mention");
      assert.equal(got[0]!.data!.chat_id, chat8);
      assert.deepEqual({ ...got[0]!.android }, { priority: "HIGH", ttl: "86400s", collapse_key: chat8 });
      assert.equal(got[0]!.apns!.headers!["apns-collapse-id"], chat8);
      assert.ok(w.fcm.tokenRequests() - before <= 1, "the access token is fetched once and cached");
      assert.equal((await w.sql`select id from public.push_devices where id = ${dead}`).length, 0, "UNREGISTERED prunes the token");
    });

    await t.step("APNs: over HTTP/2, a verified provider token, the alert with the unread count as badge, Apple's headers", async () => {
      const jack = await user(w.sql, "jack");
      const chat9 = await team(w.sql, alice, [jack]);
      const token = crypto.randomUUID().replaceAll("-", "").repeat(2);
      await as(w.sql, jack, (tx) => tx`
        select public.register_push_device(provider => 'apns', platform => 'ios', token => ${token.toUpperCase()},
                                           app_id => 'com.example.chat', device_name => 'iPhone')`);
      await mention(w.sql, alice, chat9, jack, "@jack the launch is at 5");
      const sessionsBefore = w.apnsPeer.sessions();
      await drainOutbox(w.deps);
      assert.deepEqual(w.apnsPeer.rejected, []);
      const got = w.apnsPeer.received.filter((r) => r.token === token);
      assert.equal(got.length, 1);
      const r = got[0]!;
      assert.equal(r.alpn, "h2", "HTTP/2 by ALPN (the peer refuses HTTP/1.1)");
      assert.deepEqual(r.jwt, { kid: "KEY1234567", iss: "TEAM123456", iat: r.jwt.iat });
      assert.equal(r.headers["apns-topic"], "com.example.chat");
      assert.equal(r.headers["apns-push-type"], "alert");
      assert.equal(r.headers["apns-priority"], "10");
      assert.equal(r.headers["apns-collapse-id"], chat9, "one collapse id per chat");
      const expiration = Number(r.headers["apns-expiration"]) - Date.now() / 1000;
      assert.ok(expiration > 86_000 && expiration <= 86_400, `expires in a day, got ${expiration}`);
      assert.deepEqual(r.payload.aps, { alert: { title: "alice in Launch", body: "@jack the launch is at 5" }, badge: 2,
                                        sound: "default", "thread-id": chat9 });
      assert.equal(r.payload.kind, "mention");
      assert.equal(r.payload.chat_id, chat9);
      assert.deepEqual((await outbox(w.sql, jack)).filter((o) => o.channel === "apns").map((o) => o.status), ["sent"]);

      // Hidden previews: the alert says what happened, not what was written.
      await as(w.sql, jack, (tx) => tx`select public.update_notification_settings(hide_previews => true)`);
      await mention(w.sql, alice, chat9, jack, "@jack secret plans");
      await drainOutbox(w.deps);
      const hidden = w.apnsPeer.received.filter((x) => x.token === token).at(-1)!;
      assert.deepEqual(hidden.payload.aps.alert, { title: "alice in Launch", body: "You were mentioned" });
      assert.equal(hidden.payload.aps.badge, 3);
      assert.ok(!JSON.stringify(hidden.payload).includes("secret"));
      assert.ok(w.apnsPeer.sessions() - sessionsBefore <= 1, "one connection carries every request");
    });

    await t.step("APNs: 410 Unregistered and 400 BadDeviceToken prune the token; 429 is retried after Retry-After", async () => {
      const kate = await user(w.sql, "kate");
      const chat10 = await team(w.sql, alice, [kate]);
      const [gone, bad, busy] = [1, 2, 3].map(() => crypto.randomUUID().replaceAll("-", "").repeat(2));
      w.apnsPeer.behave(gone!, "unregistered");
      w.apnsPeer.behave(bad!, "bad-token");
      w.apnsPeer.behave(busy!, "busy");
      const ids = await as(w.sql, kate, async (tx) => {
        const out: string[] = [];
        for (const t of [gone, bad, busy]) {
          out.push((await tx<{ id: string }[]>`
            select id from public.register_push_device(provider => 'apns', platform => 'ios', token => ${t!},
                                                       app_id => 'com.example.chat')`)[0]!.id);
        }
        return out;
      });
      await mention(w.sql, alice, chat10, kate, "@kate ping");
      const result = await drainOutbox(w.deps);
      assert.ok(result.pruned >= 2);
      const left = await w.sql<{ id: string }[]>`select id from public.push_devices where id = any (${ids}::uuid[])`;
      assert.deepEqual(left.map((d) => d.id), [ids[2]], "the dead tokens are gone, the busy one stays");
      const [row] = (await outbox(w.sql, kate)).filter((o) => o.channel === "apns");
      assert.equal(row!.status, "pending");
      assert.equal(row!.last_status, 429);
      assert.ok(row!.wait > 7 && row!.wait <= 9.5, `waits Retry-After (9 s), got ${row!.wait}`);
      await w.sql`update private.notification_outbox set next_attempt_at = now() where id = ${row!.id}`;
      await drainOutbox(w.deps);
      assert.equal((await outbox(w.sql, kate)).find((o) => o.id === row!.id)!.status, "sent");
      assert.equal(w.apnsPeer.received.filter((r) => r.token === busy).length, 1);
    });

    await t.step("an email whose mentions were read meanwhile is not sent", async () => {
      const hank = await user(w.sql, "hank");
      const chat7 = await team(w.sql, alice, [hank]);
      await mention(w.sql, alice, chat7, hank, "look @hank");
      await as(w.sql, hank, (tx) => tx`select public.mark_all_notifications_read()`);
      await drainOutbox(w.deps);
      assert.deepEqual((await outbox(w.sql, hank)).map((o) => o.status), ["skipped"]);
      assert.equal(w.smtp.messages.filter((m) => JSON.stringify(m.to).includes("hank-")).length, 0);
    });
  } finally {
    await w.close();
  }
});

Deno.test("Retry-After is read as seconds or as an HTTP date", () => {
  assert.equal(retryAfterSeconds("120"), 120);
  assert.equal(retryAfterSeconds(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1)), 30);
  assert.equal(retryAfterSeconds(null), undefined);
  assert.equal(retryAfterSeconds("soon"), undefined);
});

Deno.test({ name: "APNs provider token: signed once, reused, renewed after 50 minutes; old or foreign tokens are refused",
            sanitizeResources: false, sanitizeOps: false }, async () => {
  let clock = Date.now();
  const peer = await startApnsPeer({ teamId: "TEAM123456", keyId: "KEY1234567", topics: ["com.example.chat"], now: () => clock });
  const client = createApnsClient({ key: peer.p8, keyId: "KEY1234567", teamId: "TEAM123456", baseUrl: peer.url, caCerts: [peer.ca] },
                                  { now: () => clock });
  const message = (n: number) => ({
    deviceToken: "ab".repeat(32), topic: "com.example.chat", alert: { title: "alice", body: `hello ${n}` }, badge: n,
    priority: 10 as const, expiration: Math.floor(clock / 1000) + 60,
  });
  const stale = createApnsClient({ key: peer.p8, keyId: "KEY1234567", teamId: "TEAM123456", baseUrl: peer.url, caCerts: [peer.ca] },
                                 { now: () => clock - 61 * 60_000 });
  const other = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const otherP8 = `-----BEGIN PRIVATE KEY-----\n${btoa(String.fromCharCode(...new Uint8Array(
    await crypto.subtle.exportKey("pkcs8", other.privateKey))))}\n-----END PRIVATE KEY-----\n`;
  const foreign = createApnsClient({ key: otherP8, keyId: "KEY1234567", teamId: "TEAM123456", baseUrl: peer.url, caCerts: [peer.ca] },
                                   { now: () => clock });
  try {
    const first = await Promise.all([1, 2, 3, 4, 5].map((n) => client.send(message(n))));
    assert.deepEqual(first.map((r) => r.status), [200, 200, 200, 200, 200]);
    assert.deepEqual(peer.rejected, []);
    assert.equal(peer.tokensSeen.length, 1, "concurrent sends share one signature");
    const issued = client.tokenIssuedAt();

    clock += 30 * 60_000;
    assert.equal((await client.send(message(6))).status, 200);
    assert.equal(peer.tokensSeen.length, 1, "reused at 30 minutes");
    assert.equal(client.tokenIssuedAt(), issued);

    clock += 21 * 60_000;
    assert.equal((await client.send(message(7))).status, 200);
    assert.equal(peer.tokensSeen.length, 2, "renewed after 50 minutes, before APNs would refuse it");
    assert.equal(client.tokenIssuedAt(), issued! + 51 * 60);
    assert.deepEqual(peer.rejected, []);
    assert.equal(peer.sessions(), 1, "one HTTP/2 connection for all of it");

    const expired = await stale.send(message(8));
    assert.equal(expired.status, 403);
    assert.equal(expired.reason, "ExpiredProviderToken", "a token older than an hour");
    assert.equal((await foreign.send(message(9))).reason, "InvalidProviderToken", "a token signed with another key");
  } finally {
    client.close();
    stale.close();
    foreign.close();
    await peer.close();
  }
});

Deno.test("an APNs payload stays within 4 KB: a long body is shortened, never cut inside a character", () => {
  const long = "\u{1F600}".repeat(3000);
  const text = apnsPayload({ deviceToken: "ab".repeat(32), topic: "t", alert: { title: "alice", body: long }, badge: 1,
                             priority: 10, expiration: 0, threadId: "c" });
  assert.ok(new TextEncoder().encode(text).length <= APNS_MAX_PAYLOAD);
  const body = (JSON.parse(text) as { aps: { alert: { body: string } } }).aps.alert.body;
  assert.ok(body.endsWith("\u2026") && body.length > 1000);
  assert.ok(!/[\uD800-\uDFFF](?![\uDC00-\uDFFF])/.test(body.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, "")), "no broken surrogate");
});

// An endpoint the database refuses (private.push_endpoint_allowed, pgTAP 61 has the cases) comes to the worker with
// endpoint_allowed false: no request is made, and the subscription is settled as gone.
Deno.test("Web Push: no request to an endpoint of a private network, and no redirect followed", async () => {
  const keys = webpush.generateVAPIDKeys();
  const calls: Array<{ url: string; redirect: RequestRedirect | undefined }> = [];
  let answer = 201;
  const deps = {
    sql: undefined as unknown as Sql,
    auth: undefined as unknown as NotifyDeps["auth"],
    vapid: { subject: "mailto:ops@example.test", publicKey: keys.publicKey, privateKey: keys.privateKey },
    fetch: ((input: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(input), redirect: init?.redirect });
      return Promise.resolve(new Response(null, { status: answer, headers: answer === 301 ? { location: "http://10.0.0.5/" } : {} }));
    }) as typeof fetch,
  } satisfies NotifyDeps;
  // A browser's subscription keys, as PushSubscription.toJSON() gives them.
  const ecdh = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  const p256dh = b64u.enc(new Uint8Array(await crypto.subtle.exportKey("raw", ecdh.publicKey)));
  const auth = b64u.enc(crypto.getRandomValues(new Uint8Array(16)));
  const delivery = (endpoint: string, allowed = true) => ({
    target: { subscription: { endpoint, keys: { p256dh, auth } }, endpoint_allowed: allowed },
    notification: { id: crypto.randomUUID(), kind: "mention", chat_id: crypto.randomUUID(), message_id: null, actor_id: null,
                    preview: "hi", data: {}, created_at: new Date().toISOString() },
    chat_title: "team", actor_name: "alice", unread_count: 1,
  });

  const refused = await sendWebPush(deps, delivery("https://169.254.169.254/latest/meta-data", false));
  assert.equal(refused.outcome, "gone");
  assert.equal(calls.length, 0, "no request is made");

  assert.equal((await sendWebPush(deps, delivery("https://push.example.test/send/1"))).outcome, "sent");
  answer = 301;
  const redirected = await sendWebPush(deps, delivery("https://push.example.test/send/2"));
  assert.equal(redirected.outcome, "failed");
  assert.deepEqual(calls.map((c) => c.redirect), ["manual", "manual"], "redirects are not followed");
});
