// What notifications cost: send_message with the notification producer (the messages_notify trigger) against the
// same sends with that trigger disabled, in the same run, for a mention in a 2-member chat, a mention of one member
// in a 1,000-member channel and `@channel` there (every member has a Web Push device, so each notification also
// queues a push and, for mentions, the batched email); then the outbox drain rate of the notify function's worker
// loop (functions/_shared/notify.ts on Deno: claim, encrypt with aes128gcm, sign VAPID, POST, settle) against the
// loopback Web Push service, which checks each VAPID signature and decrypts each payload.
import path from "node:path";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import type postgres from "postgres";
import { inRequest, userClaims, type Claims } from "../../stack/shared/request-context.ts";
import { startPushService } from "../../tests/client/support/push-service.ts";
import { generateVapidKeys } from "../../scripts/lib/functions-runtime.ts";
import { BIN, ROOT, step } from "../../scripts/lib/util.ts";
import { benchRecords, comparisonRecord, type BenchRecord } from "./report.ts";
import { drive, type Measurement } from "./stats.ts";

export interface NotificationBenchOptions {
  admin: postgres.Sql;
  /** One connection as `postgres`, in the request context (sends are measured one at a time). */
  client: postgres.Sql;
  /** The bench database as `postgres` (the notify function's SUPABASE_DB_URL). */
  dbUrl: string;
  members?: number;
  sends?: { direct: number; mention: number; channel: number };
  /** Deliveries queued for the drain measurement. */
  drain?: number;
}

interface Send {
  claims: Claims;
  chat: string;
  body: string;
  mentions: string[];
}

export async function measureNotifications(o: NotificationBenchOptions): Promise<{ records: BenchRecord[]; notes: string[] }> {
  const members = o.members ?? 1000;
  const sends = o.sends ?? { direct: 300, mention: 300, channel: 30 };
  const drainN = o.drain ?? 2000;
  const records: BenchRecord[] = [];
  const notes: string[] = [];
  const vapid = generateVapidKeys();
  const push = await startPushService(vapid.publicKey, { quiet: true });
  const tag = randomUUID().slice(0, 8);
  try {
    // People: the channel's members (the first 20 are its admins, the first its owner) and 200 direct pairs.
    const pairs = 200;
    const users = await o.admin<{ id: string; email: string }[]>`
      insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                              raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
      select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
             'notify-' || ${tag} || '-' || g || '@bench.test', '', now(), '{"provider":"email"}', '{}', now(), now()
        from generate_series(1, ${members + 2 * pairs}) g
      returning id::text, email`;
    const channelUsers = users.slice(0, members);
    const pairUsers = users.slice(members);
    const claims = (u: { id: string; email: string }) => userClaims(u.id, u.email);
    const owner = channelUsers[0]!;
    const admins = channelUsers.slice(0, 20);
    const [channel] = await inRequest(o.client, claims(owner), (tx) =>
      tx<{ id: string }[]>`select id::text from public.create_channel(title => ${"Notify bench " + tag})`);
    for (let i = 1; i < members; i += 100) {
      const ids = channelUsers.slice(i, i + 100).map((u) => u.id);
      await inRequest(o.client, claims(owner), (tx) => tx`select public.add_chat_members(${channel!.id}::uuid, ${ids}::uuid[])`);
    }
    for (const a of admins.slice(1)) {
      await inRequest(o.client, claims(owner), (tx) => tx`select public.set_member_role(${channel!.id}::uuid, ${a.id}::uuid, 'admin')`);
    }
    const direct: Array<{ a: { id: string; email: string }; b: { id: string; email: string }; chat: string }> = [];
    for (let k = 0; k < pairs; k++) {
      const a = pairUsers[2 * k]!;
      const b = pairUsers[2 * k + 1]!;
      const [c] = await inRequest(o.client, claims(a), (tx) => tx<{ id: string }[]>`select id::text from public.create_direct_chat(${b.id}::uuid)`);
      direct.push({ a, b, chat: c!.id });
    }
    // Every recipient has one Web Push device at the loopback service.
    for (const u of [...channelUsers, ...direct.map((d) => d.b)]) {
      const subscription = await push.subscribe(`/bench/${u.id}`);
      await inRequest(o.client, claims(u), (tx) =>
        tx`select public.register_push_device(provider => 'web_push', platform => 'web', subscription => ${tx.json(subscription)})`);
    }
    await o.admin`delete from private.notification_outbox`;
    step(`notifications: a ${members}-member channel (${admins.length} admins) and ${pairs} direct chats, every recipient with a Web Push device`);

    const sendOp = (sql: postgres.Sql, s: Send) =>
      inRequest(sql, s.claims, (tx) => tx`
        select id from public.send_message(chat_id => ${s.chat}::uuid, body => ${s.body}, mentions => ${s.mentions}::uuid[],
                                           client_id => ${randomUUID()}::uuid)`);
    const items = (n: number, make: (i: number) => Send) => Array.from({ length: n }, (_, i) => make(i));
    const directSend = (i: number): Send => {
      const d = direct[i % direct.length]!;
      return { claims: claims(d.a), chat: d.chat, body: `hi @b, message ${i}`, mentions: [d.b.id] };
    };
    const mentionSend = (i: number): Send => ({
      claims: claims(admins[i % admins.length]!), chat: channel!.id, body: `hey @someone, ${i}`,
      mentions: [channelUsers[20 + ((i * 37) % (members - 20))]!.id],
    });
    const everyoneSend = (i: number): Send => ({
      claims: claims(admins[i % admins.length]!), chat: channel!.id, body: `@channel update ${i}`, mentions: [],
    });
    const trigger = async (on: boolean) => {
      await o.admin.unsafe(`alter table public.messages ${on ? "enable" : "disable"} trigger messages_notify`);
    };
    // Without, with, without, with: each side gets half its sends from either round, so drift (autovacuum, the
    // growing tables) lands on both.
    const pair = async (name: string, n: number, make: (i: number) => Send) => {
      const half = Math.max(1, Math.floor(n / 2));
      const runs: { on: Measurement[]; off: Measurement[] } = { on: [], off: [] };
      await drive([o.client], items(Math.min(10, n), make), sendOp); // warm-up
      for (let round = 0; round < 2; round++) {
        await o.admin`delete from private.rate_counters`;
        await trigger(false);
        runs.off.push(await drive([o.client], items(half, (i) => make(i + round * half)), sendOp));
        await o.admin`delete from private.rate_counters`;
        await trigger(true);
        runs.on.push(await drive([o.client], items(half, (i) => make(i + (round + 2) * half)), sendOp));
      }
      const merge = (ms: Measurement[]) => {
        const lat = ms.flatMap((m) => m.latencies);
        const seconds = ms.reduce((a, m) => a + m.seconds, 0);
        const errors = ms.reduce((a, m) => a + m.errors, 0);
        const sorted = [...lat].sort((a, b) => a - b);
        const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
        return { ...ms[0]!, ops: lat.length, errors, seconds, throughput: lat.length / seconds, p50: pct(50), p95: pct(95), p99: pct(99),
                 mean: lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length), latencies: sorted };
      };
      const on = merge(runs.on);
      const off = merge(runs.off);
      step(`${name}: with notifications p50 ${on.p50.toFixed(2)} ms, p95 ${on.p95.toFixed(2)} ms; without p50 ${off.p50.toFixed(2)} ms, ` +
           `p95 ${off.p95.toFixed(2)} ms (${on.ops} + ${off.ops} sends${on.errors + off.errors ? `, ${on.errors + off.errors} failed` : ""})`);
      if (on.errors + off.errors) notes.push(`${name}: ${on.errors + off.errors} failed sends ${JSON.stringify({ ...on.errorCodes, ...off.errorCodes })}`);
      records.push(...benchRecords(name, on, off));
    };
    try {
      await pair("notify.send_2_member_chat_mention", sends.direct, directSend);
      await pair(`notify.send_channel_${members}_mention`, sends.mention, mentionSend);
      await pair(`notify.send_channel_${members}_at_channel`, sends.channel, everyoneSend);
    } finally {
      await trigger(true);
    }
    const [rows] = await o.admin<{ notifications: string; outbox: string }[]>`
      select (select count(*) from public.notifications n where n.chat_id = ${channel!.id}::uuid
                 and n.data ->> 'scope' = 'channel')::text as notifications,
             (select count(*) from private.notification_outbox x where x.chat_id = ${channel!.id}::uuid)::text as outbox`;
    step(`notifications: @channel made ${rows?.notifications} notifications; the channel queued ${rows?.outbox} deliveries`);

    // The drain: `drainN` Web Push deliveries due now, drained by one worker, then by two at once.
    for (const workers of [1, 2]) {
      await o.admin`delete from private.notification_outbox`;
      const before = push.received.length;
      let total = 0;
      for (let i = 0; total < drainN; i++) {
        await o.admin`delete from private.rate_counters`;
        await sendOp(o.client, everyoneSend(10_000 + workers * 100 + i));
        const [q] = await o.admin<{ n: string }[]>`select count(*)::text as n from private.notification_outbox where channel = 'web_push'`;
        total = Number(q?.n ?? 0);
      }
      // Only the pushes: the mention emails wait for their delay.
      await o.admin`delete from private.notification_outbox where channel = 'email'`;
      const out = await runDrain({ dbUrl: o.dbUrl, vapid, workers, max: total + 100 });
      const got = push.received.length - before;
      step(`notify drain, ${workers} worker(s): ${out.sent} of ${total} deliveries sent in ${out.seconds.toFixed(2)} s = ` +
           `${(out.sent / out.seconds).toFixed(0)} deliveries/s (the push service decrypted ${got}, rejected ${push.rejected.length})`);
      if (out.sent !== total || got !== total || push.rejected.length) {
        notes.push(`notify drain (${workers} workers): sent ${out.sent}, received ${got}, queued ${total}, rejected ${push.rejected.length}`);
      }
      records.push({ name: `notify.drain_${workers}_worker${workers > 1 ? "s" : ""}`, metric: "throughput",
                     value: Math.round((out.sent / out.seconds) * 100) / 100, unit: "deliveries/s", baseline: null, ratio: null });
    }
    const find = (name: string) => records.find((r) => r.name === name && r.metric === "p50")?.value ?? NaN;
    records.push(comparisonRecord("compare.at_channel_vs_mention", "p50", find(`notify.send_channel_${members}_at_channel`),
                                  find(`notify.send_channel_${members}_mention`)));
    return { records, notes };
  } finally {
    await push.close();
  }
}

/** Runs the notify function's drain loop on Deno (bench/deno/notify-drain.ts) and returns what it reports. */
function runDrain(o: { dbUrl: string; vapid: { publicKey: string; privateKey: string }; workers: number; max: number }) {
  return new Promise<{ sent: number; seconds: number }>((resolve, reject) => {
    const child = spawn(path.join(BIN, "deno"), ["run", "-A", path.join(ROOT, "bench", "deno", "notify-drain.ts")], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, SUPABASE_DB_URL: o.dbUrl, VAPID_PUBLIC_KEY: o.vapid.publicKey, VAPID_PRIVATE_KEY: o.vapid.privateKey,
             WORKERS: String(o.workers), MAX_DELIVERIES: String(o.max) },
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`bench/deno/notify-drain.ts exited with ${code}: ${out}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").at(-1)!) as { sent: number; seconds: number });
      } catch (error) {
        reject(error);
      }
    });
  });
}
