// Notifications end to end with supabase-js, against a running backend (`npm start`):
//   set -a; eval "$(npm run -s status)"; set +a; npx tsx examples/notifications.ts
// Starts a Web Push service on loopback (it checks each request's VAPID signature and decrypts the payload with the
// subscription's private key, as a browser's push service and service worker would), signs alice and bob up, registers
// a Web Push subscription for bob, has alice mention bob, prints the push payload the service decrypted, and then the
// batched mention email from the mail catcher. The email waits `email_delay` (10 minutes in production): the script
// sets it to EMAIL_DELAY seconds (default 3) through DB_URL, as an operator would, and puts it back at the end.
import { createClient } from "@supabase/supabase-js";
import postgres from "postgres";
import ws from "ws";
import type { Database } from "../types/database.ts";
import { startPushService } from "../tests/client/support/push-service.ts";

const API_URL = process.env.API_URL ?? "http://127.0.0.1:54321";
const KEY = process.env.PUBLISHABLE_KEY ?? process.env.ANON_KEY;
const SECRET = process.env.SECRET_KEY ?? process.env.SERVICE_ROLE_KEY;
const MAILPIT_URL = process.env.MAILPIT_URL ?? "http://127.0.0.1:54324";
const VAPID_PUBLIC_KEY = process.env.VAPID_PUBLIC_KEY;
const DB_URL = process.env.DB_URL;
const EMAIL_DELAY = Number(process.env.EMAIL_DELAY ?? 3);
if (!KEY || !SECRET || !VAPID_PUBLIC_KEY || !DB_URL) {
  throw new Error("set the stack's variables first: set -a; eval \"$(npm run -s status)\"; set +a");
}

const client = () => createClient<Database>(API_URL, KEY, { auth: { persistSession: false }, realtime: { transport: ws as never } });
const password = "Correct-Horse-9-Battery";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface MailSummary { ID: string; Subject: string }
async function search(query: string): Promise<MailSummary[]> {
  const res = await fetch(`${MAILPIT_URL}/api/v1/search?query=${encodeURIComponent(query)}`);
  return ((await res.json()) as { messages?: MailSummary[] }).messages ?? [];
}

async function newUser(name: string) {
  const supabase = client();
  const email = `${name}.${Date.now()}@example.test`;
  const signUp = await supabase.auth.signUp({ email, password, options: { data: { display_name: name } } });
  if (signUp.error) throw signUp.error;
  const mail = await until(`${name}'s confirmation email`, 10_000, async () => (await search(`to:${email}`))[0]);
  const html = ((await (await fetch(`${MAILPIT_URL}/api/v1/message/${mail.ID}`)).json()) as { HTML: string }).HTML;
  const code = /<strong>(\d{6,10})<\/strong>/.exec(html)![1]!;
  const verified = await supabase.auth.verifyOtp({ email, token: code, type: "email" });
  if (verified.error) throw verified.error;
  console.log(`${name}: signed up and confirmed ${email} (${verified.data.user!.id})`);
  return { supabase, email, id: verified.data.user!.id };
}

const push = await startPushService(VAPID_PUBLIC_KEY, { quiet: true });
const sql = postgres(DB_URL, { max: 1, onnotice: () => {} });
const [before] = await sql<{ delay: string }[]>`select email_delay::text as delay from private.notification_delivery_settings`;
try {
  console.log(`push service: listening at ${push.origin} (checks VAPID, decrypts aes128gcm)`);
  const alice = await newUser("alice");
  const bob = await newUser("bob");

  // bob's browser: PushManager.subscribe() gave it a subscription at the push service; the app registers it.
  const { data: device, error: deviceError } = await bob.supabase.rpc("register_push_device", {
    provider: "web_push", platform: "web", subscription: await push.subscribe(`/push/${bob.id}`), device_name: "bob's browser",
  });
  if (deviceError) throw deviceError;
  console.log(`bob: registered Web Push device ${device.id}`);

  await sql`update private.notification_delivery_settings set email_delay = make_interval(secs => ${EMAIL_DELAY})`;
  console.log(`operator: mention emails wait ${EMAIL_DELAY} s (was ${before?.delay})`);

  const { data: chat, error: chatError } = await alice.supabase.rpc("create_group_chat", { title: "Launch", member_ids: [bob.id] });
  if (chatError) throw chatError;
  const sentAt = Date.now();
  const { error: sendError } = await alice.supabase.rpc("send_message", {
    chat_id: chat.id, body: "@bob the launch is at 5", mentions: [bob.id],
  });
  if (sendError) throw sendError;
  console.log(`alice: mentioned bob in "${chat.title}"`);

  // The send's transaction queued the push; pg_net woke the notify function, which encrypted and sent it.
  const pushed = await until("the push", 30_000, () => push.received.find((r) => r.payload.kind === "mention"));
  if (push.rejected.length) throw new Error(`the push service refused: ${push.rejected.join("; ")}`);
  console.log(`push service: decrypted payload for ${pushed.path} (Topic ${pushed.topic}, Urgency ${pushed.urgency}, TTL ${pushed.ttl}):`);
  console.log(JSON.stringify(pushed.payload, null, 2));

  // The email is due EMAIL_DELAY after the mention; the pg_cron backstop would send it within the minute, this asks
  // the worker right away, as pg_net does.
  await sleep(Math.max(0, sentAt + EMAIL_DELAY * 1000 + 500 - Date.now()));
  const res = await fetch(`${API_URL}/functions/v1/notify`, {
    method: "POST", headers: { apikey: SECRET, authorization: `Bearer ${SECRET}`, "content-type": "application/json" }, body: "{}",
  });
  if (!res.ok) throw new Error(`notify answered ${res.status}: ${await res.text()}`);
  console.log(`notify: ${JSON.stringify(await res.json())}`);
  const summary = await until("the mention email", 30_000, async () =>
    (await search(`to:${bob.email}`)).find((m) => m.Subject.includes("Launch")));
  const mail = (await (await fetch(`${MAILPIT_URL}/api/v1/message/${summary.ID}`)).json()) as {
    Subject: string; From: { Address: string; Name: string }; Text: string;
  };
  console.log(`mail catcher: "${mail.Subject}" from ${mail.From.Name} <${mail.From.Address}> to ${bob.email}`);
  console.log(mail.Text.trim().split("\n").map((l) => `  | ${l}`).join("\n"));
  await Promise.all([alice.supabase.auth.signOut(), bob.supabase.auth.signOut()]);
} finally {
  if (before) await sql`update private.notification_delivery_settings set email_delay = ${before.delay}::interval`;
  await sql.end();
  await push.close();
}
