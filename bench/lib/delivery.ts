// Delivery, end to end: from the commit of a send_message to its `message.sent` broadcast reaching every subscriber
// of the chat topic over a Realtime socket (the local Realtime server in its own process: logical replication of
// realtime.messages, the private-channel fan-out), next to a bare broadcast in the same run: an INSERT into
// realtime.messages (same topic, a payload of the same shape and size, no triggers, no RPC) as the Realtime server
// would stream any row. Subscribers are raw Phoenix 2.0.0 sockets (phoenix-socket.ts), one per subscriber, each
// joined to the private chat topic with its user's token (so every join runs the real read check).
//
// Latency of one send = arrival at the last subscriber - the moment the sender's COMMIT returned (both clocks are
// this process's performance.now(); the broadcast cannot leave the server before the commit is durable, so the
// difference is the replication + fan-out + socket path, within the commit reply's own sub-millisecond trip).
import { randomUUID } from "node:crypto";
import type postgres from "postgres";
import { signJwt } from "../../stack/shared/keys.ts";
import { inRequest, userClaims, type Claims } from "../../stack/shared/request-context.ts";
import { step } from "../../scripts/lib/util.ts";
import { PhoenixSocket, type Arrival } from "./phoenix-socket.ts";
import { comparisonRecord, type BenchRecord } from "./report.ts";
import { summarize, type Measurement } from "./stats.ts";

interface Person {
  user_id: string;
  email: string;
}
interface Topic {
  chatId: string;
  subscribers: Person[];
  senders: Person[];
}
export interface DeliveryDeps {
  url: string;
  apikey: string;
  jwtSecret: string;
  admin: postgres.Sql;
  /** Connections for send_message (request context) and for the bare inserts (superuser, autocommit). */
  clients: postgres.Sql[];
  baseClients: postgres.Sql[];
  channelId: string;
}
export interface DeliveryOptions {
  /** Sends measured per chat size (each also measured as a bare broadcast). */
  sends: number;
  /** Subscribers of the channel. */
  channelSubscribers: number;
  /** 2-member chats for the sustained-rate steps. */
  rateChats: number;
  rateSteps: number[];
  stepSeconds: number;
  goalP95Ms: number;
}

/** Arrivals per key (message id or bare broadcast id): how many, and when the last came. */
class Tracker {
  private readonly seen = new Map<string, { n: number; last: number; done?: () => void; expected?: number }>();

  arrive(key: string, at: number): void {
    const e = this.seen.get(key) ?? { n: 0, last: 0 };
    e.n += 1;
    e.last = at;
    this.seen.set(key, e);
    if (e.expected !== undefined && e.n >= e.expected) e.done?.();
  }

  /** Resolves with the last arrival's time once `expected` arrived, or null after `timeoutMs`. */
  wait(key: string, expected: number, timeoutMs: number): Promise<number | null> {
    const e = this.seen.get(key) ?? { n: 0, last: 0 };
    this.seen.set(key, e);
    e.expected = expected;
    if (e.n >= expected) {
      this.seen.delete(key);
      return Promise.resolve(e.last);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.seen.delete(key);
        resolve(null);
      }, timeoutMs);
      e.done = () => {
        clearTimeout(timer);
        this.seen.delete(key);
        resolve(e.last);
      };
    });
  }
}

function keyOf(a: Arrival): string | null {
  const p = a.payload as { bench_id?: string; data?: { message_id?: string } };
  if (a.event === "message.sent") return p.data?.message_id ?? null;
  if (a.event === "bench.bare") return p.bench_id ?? null;
  return null;
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

export async function measureDelivery(deps: DeliveryDeps, opts: DeliveryOptions): Promise<{ records: BenchRecord[]; notes: string[] }> {
  const { admin } = deps;
  const records: BenchRecord[] = [];
  const notes: string[] = [];
  const tracker = new Tracker();
  const sockets: PhoenixSocket[] = [];
  const claims = new Map<string, Claims>();
  const claimsOf = (p: Person) => {
    let c = claims.get(p.user_id);
    if (!c) claims.set(p.user_id, (c = userClaims(p.user_id, p.email)));
    return c;
  };

  // The chats ------------------------------------------------------------------------------------------------------
  const members = (chatId: string, where = "true") =>
    admin.unsafe<Person[]>(
      `select m.user_id::text, u.email from public.chat_members m join auth.users u on u.id = m.user_id
        where m.chat_id = $1 and ${where} order by m.user_id`, [chatId]);
  // 2-member chats with no member in common, so no sender meets the send rate limit (30 per 10 s) at the top steps
  // (the hub user alone is in hundreds of direct chats).
  const pairs = await admin<{ chat_id: string; user_id: string; email: string }[]>`
    select m.chat_id::text, m.user_id::text, u.email
      from (select id from public.chats where kind = 'direct' and member_count = 2 order by id limit ${opts.rateChats * 20}) c
      join public.chat_members m on m.chat_id = c.id join auth.users u on u.id = m.user_id
     order by m.chat_id, m.user_id`;
  const byChat = new Map<string, Person[]>();
  for (const p of pairs) byChat.set(p.chat_id, [...(byChat.get(p.chat_id) ?? []), { user_id: p.user_id, email: p.email }]);
  const used = new Set<string>();
  const direct: Topic[] = [];
  for (const [chatId, ms] of byChat) {
    if (direct.length >= opts.rateChats) break;
    if (ms.length !== 2 || ms.some((m) => used.has(m.user_id))) continue;
    for (const m of ms) used.add(m.user_id);
    direct.push({ chatId, subscribers: ms, senders: ms });
  }
  if (direct.length < opts.rateChats) throw new Error(`only ${direct.length} disjoint 2-member chats`);
  const [g] = await admin<{ id: string; n: number }[]>`
    select id::text, member_count as n from public.chats where kind = 'group' and member_count between 80 and 150
     order by abs(member_count - 100), id limit 1`;
  if (!g) throw new Error("the data set has no group of about 100 members");
  const groupMembers = await members(g.id);
  const group: Topic = { chatId: g.id, subscribers: groupMembers, senders: groupMembers };
  const channelAll = await members(deps.channelId);
  const channel: Topic = {
    chatId: deps.channelId,
    subscribers: channelAll.slice(0, opts.channelSubscribers),
    senders: await members(deps.channelId, "m.role <> 'member'"),
  };

  try {
    // Subscribers: one socket each, joined to chat:<id> as a private channel with their own token ---------------------
    const t0 = performance.now();
    const subscriptions = [...direct, group, channel].flatMap((t) => t.subscribers.map((p) => ({ t, p })));
    await inBatches(subscriptions, 25, async ({ t, p }) => {
      const token = await signJwt({ ...claimsOf(p), exp: Math.floor(Date.now() / 1000) + 3600 }, deps.jwtSecret);
      const s = await PhoenixSocket.open(deps.url, deps.apikey);
      sockets.push(s);
      s.onBroadcast = (a) => {
        const key = keyOf(a);
        if (key) tracker.arrive(key, a.at);
      };
      await s.join(`chat:${t.chatId}`, token);
    });
    step(`delivery: ${sockets.length} sockets joined (${direct.length * 2} in 2-member chats, ${group.subscribers.length} in a ` +
      `${g.n}-member group, ${channel.subscribers.length} of the ${channelAll.length}-member channel) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    let sendNo = 0;
    /** One send_message; resolves with the commit time and the message id. */
    const send = async (sql: postgres.Sql, t: Topic, sender: Person) => {
      const body = `delivery ${sendNo++} ${randomUUID()}`;
      const [row] = await inRequest(sql, claimsOf(sender), (tx) =>
        tx<{ id: string }[]>`select id::text from public.send_message(chat_id => ${t.chatId}::uuid, body => ${body}, client_id => ${randomUUID()}::uuid)`);
      return { committed: performance.now(), key: row!.id };
    };
    /** The bare broadcast: the row the Realtime server streams, inserted directly (autocommit). */
    const bare = async (sql: postgres.Sql, t: Topic, sender: Person) => {
      const key = randomUUID();
      const payload = {
        id: randomUUID(), chat_id: t.chatId, cursor: 1, actor_id: sender.user_id, at: new Date().toISOString(),
        data: { message_id: randomUUID(), message_seq: 1 }, bench_id: key,
      };
      await sql`insert into realtime.messages (topic, extension, event, payload, private)
                values (${`chat:${t.chatId}`}, 'broadcast', 'bench.bare', ${sql.json(payload)}, true)`;
      return { committed: performance.now(), key };
    };
    const deliver = async (op: Promise<{ committed: number; key: string }>, expected: number) => {
      const { committed, key } = await op;
      const last = await tracker.wait(key, expected, 3000);
      return last === null ? null : Math.max(0, last - committed);
    };

    // 1. Latency, one send at a time (each waits for its last subscriber), send and bare alternating -------------------
    const latency = async (name: string, topics: Topic[]) => {
      const ours: number[] = [];
      const base: number[] = [];
      let lost = 0;
      const started = performance.now();
      for (let i = 0; i < opts.sends + 10; i++) {
        const t = topics[i % topics.length]!;
        const sender = t.senders[Math.floor(i / topics.length) % t.senders.length]!;
        const a = await deliver(send(deps.clients[0]!, t, sender), t.subscribers.length);
        const b = await deliver(bare(deps.baseClients[0]!, t, sender), t.subscribers.length);
        if (i < 10) continue; // warm-up
        if (a === null || b === null) lost += 1;
        if (a !== null) ours.push(a);
        if (b !== null) base.push(b);
      }
      const seconds = (performance.now() - started) / 1000;
      const m = summarize(ours, seconds);
      const bm = summarize(base, seconds);
      step(`delivery ${name}: send_message commit -> every subscriber p50 ${m.p50.toFixed(1)} / p95 ${m.p95.toFixed(1)} / p99 ${m.p99.toFixed(1)} ms; ` +
        `bare broadcast p50 ${bm.p50.toFixed(1)} / p95 ${bm.p95.toFixed(1)} / p99 ${bm.p99.toFixed(1)} ms (${m.ops} sends${lost ? `, ${lost} not delivered to all in 3 s` : ""})`);
      if (lost) notes.push(`delivery ${name}: ${lost} sends not delivered to every subscriber within 3 s`);
      for (const metric of ["p50", "p95", "p99"] as const) records.push(comparisonRecord(`delivery.${name}`, metric, m[metric], bm[metric]));
    };
    await latency("2_member_chat", direct);
    await latency(`group_${g.n}_members`, [group]);
    await latency(`channel_${channel.subscribers.length}_subscribers`, [channel]);

    // 2. Sustained rate over 2-member chats: open loop at R sends/s for stepSeconds, R stepped up until p95 > goal ------
    const sustained = async (label: string, op: typeof send): Promise<number> => {
      let best = 0;
      let k = 0;
      for (const rate of opts.rateSteps) {
        const n = Math.round(rate * opts.stepSeconds);
        const lat: number[] = [];
        let lost = 0;
        let errors = 0;
        let issued = 0;
        const codes: Record<string, number> = {};
        const started = performance.now();
        const inflight: Promise<void>[] = [];
        // One worker per connection; each takes the next send when its scheduled time has come.
        let next = 0;
        await Promise.all(deps.clients.map((_c, w) => (async () => {
          const sql = label === "bare" ? deps.baseClients[w]! : deps.clients[w]!;
          for (;;) {
            const i = next++;
            if (i >= n) return;
            const due = started + (i * 1000) / rate;
            const wait = due - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            const t = direct[(k + i) % direct.length]!;
            const sender = t.senders[Math.floor((k + i) / direct.length) % 2]!;
            issued++;
            try {
              const { committed, key } = await op(sql, t, sender);
              inflight.push(tracker.wait(key, 2, 3000).then((last) => {
                if (last === null) lost++;
                else lat.push(Math.max(0, last - committed));
              }));
            } catch (err) {
              errors++;
              const code = (err as { code?: string }).code ?? "error";
              codes[code] = (codes[code] ?? 0) + 1;
            }
          }
        })()));
        const achieved = issued / ((performance.now() - started) / 1000);
        await Promise.all(inflight);
        k += n;
        const m: Measurement = summarize(lat, opts.stepSeconds);
        const ok = errors === 0 && lost === 0 && achieved >= rate * 0.9 && m.p95 <= opts.goalP95Ms;
        step(`delivery sustained (${label}) ${rate}/s: achieved ${achieved.toFixed(0)}/s, p50 ${m.p50.toFixed(1)} / p95 ${m.p95.toFixed(1)} / ` +
          `p99 ${m.p99.toFixed(1)} ms${lost ? `, ${lost} lost` : ""}${errors ? `, ${errors} errors ${JSON.stringify(codes)}` : ""} ${ok ? "ok" : "over"}`);
        if (!ok) {
          const why = [
            achieved < rate * 0.9 ? `achieved ${achieved.toFixed(0)}/s` : "",
            errors ? `${errors} failed ${JSON.stringify(codes)}` : "",
            lost ? `${lost} not delivered in 3 s` : "",
            m.p95 > opts.goalP95Ms ? `p95 ${m.p95.toFixed(0)} ms` : "",
          ].filter(Boolean).join(", ");
          notes.push(`delivery sustained (${label}): the ${rate}/s step failed: ${why}`);
          break;
        }
        best = rate;
      }
      return best;
    };
    const ourRate = await sustained("send_message", send);
    const bareRate = await sustained("bare", bare);
    records.push(comparisonRecord("delivery.sustained_2_member_chats", "rate", ourRate, bareRate, "sends/s"));
    step(`delivery: highest step with p95 <= ${opts.goalP95Ms} ms: send_message ${ourRate}/s, bare broadcast ${bareRate}/s` +
      (bareRate === opts.rateSteps.at(-1) ? " (the bare broadcast passed the top step: its limit is higher, so the ratio is an upper bound)" : ""));
  } finally {
    for (const s of sockets) s.close();
  }
  return { records, notes };
}
