// Property over random schedules, on a stack this file starts itself (so it can kill it): three members send, edit,
// delete, react and read through the API while the test kills and restarts the Realtime service (the REST API of
// the suite's stack stays up, as in production when Realtime restarts) and, separately, drops one client's socket
// without a close frame. Each client follows docs/realtime.md's reconnect-and-catch-up procedure exactly
// (support/live-chat.ts: setAuth, subscribe, get_chat_events on every SUBSCRIBED, the cursor rule, resubscribe with
// backoff), over the real realtime-js. At the end every client's messages (bodies, edits, deletions, reaction
// counts) and cursor equal the server's, read through the API. Seeded: the seed is printed, and fast-check prints it
// with the counterexample on failure (rerun with REALTIME_LIVE_SEED=<seed>).
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SupabaseClient } from "@supabase/supabase-js";
import { startStack, type RunningStack, type StackOptions } from "../../stack/server.ts";
import { freePort, ROOT } from "../../scripts/lib/util.ts";
import type { Database } from "../../types/database.ts";
import { stack } from "./support/clients.ts";
import { LiveChat, messagesOf, serverMessages } from "./support/live-chat.ts";
import { liveClientFor, liveUser, sleep, type LiveUser } from "./support/realtime.ts";
import { group } from "./support/world.ts";

const SOAK = process.env.RELIABILITY_SCALE === "soak";
const RUNS = Number(process.env.REALTIME_LIVE_RUNS ?? (SOAK ? 25 : 4));
const SEED = Number(process.env.REALTIME_LIVE_SEED ?? (SOAK ? Date.now() % 2 ** 31 : 20261202));

let running: RunningStack | undefined;
let options: StackOptions;

beforeAll(async () => {
  const db = new URL(stack.dbUrl);
  options = {
    port: await freePort(57421),
    jwtSecret: stack.jwtSecret,
    db: { host: db.hostname, port: Number(db.port), database: db.pathname.slice(1), password: "postgres" },
    dataDir: path.join(ROOT, ".local", "test", "stack-property"),
  };
  running = await startStack(options);
});

afterAll(async () => {
  await running?.close();
});

type Op =
  | { t: "send"; by: number; text: string }
  | { t: "edit"; by: number; msg: number; text: string }
  | { t: "delete"; by: number; msg: number }
  | { t: "react"; by: number; msg: number; emoji: string }
  | { t: "read"; by: number }
  | { t: "restart"; downFor: number }
  | { t: "drop"; who: number }
  | { t: "settle" };

const by = fc.integer({ min: 0, max: 2 });
const msg = fc.nat(30);
const text = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim().length > 0);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant("send" as const), by, text }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("edit" as const), by, msg, text }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("delete" as const), by, msg }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("react" as const), by, msg, emoji: fc.constantFrom("👍", "🎉", "🔥") }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("read" as const), by }) },
  // Wait until every client is joined again, so that later ops also arrive live (not only through catch-ups).
  { weight: 2, arbitrary: fc.constant({ t: "settle" as const }) },
);
/** Ops, with one Realtime restart (down for 0-3 ops) and one dropped socket at random places. */
const scheduleArb = fc
  .tuple(
    fc.array(opArb, { minLength: 6, maxLength: 16 }),
    fc.nat(), fc.integer({ min: 0, max: 3 }),
    fc.nat(), by,
  )
  .map(([ops, restartAt, downFor, dropAt, who]) => {
    const out: Op[] = [...ops];
    out.splice(restartAt % (out.length + 1), 0, { t: "restart", downFor });
    out.splice(dropAt % (out.length + 1), 0, { t: "drop", who });
    return out;
  });

/** The documented refusals a random op may meet (not your message, gone, rate limit). */
const REFUSALS = new Set(["42501", "22023", "PT404", "PT429", "23514", "23505"]);

async function rpc(u: LiveUser, name: string, args: Record<string, unknown>): Promise<Record<string, unknown> | null> {
  const { data, error } = await (u.client.rpc as (n: string, a: unknown) => PromiseLike<{ data: unknown; error: { code?: string } | null }>)(name, args);
  if (error) {
    if (REFUSALS.has(error.code ?? "")) return null;
    throw new Error(`${name}: ${JSON.stringify(error)}`);
  }
  return data as Record<string, unknown>;
}

function dropSocket(client: SupabaseClient<Database>): void {
  // The ws socket under realtime-js (phoenix Socket.conn): gone without a close frame, as on a network failure.
  const conn = (client.realtime as unknown as { socketAdapter: { socket: { conn: { terminate?: () => void } | null } } })
    .socketAdapter.socket.conn;
  conn?.terminate?.();
}

describe("realtime live: exact state after restarts and dropped sockets", () => {
  it(`clients that follow the documented procedure end with the server's state (${RUNS} runs, seed ${SEED})`, async () => {
    console.log(`[realtime property] seed ${SEED}, ${RUNS} runs (REALTIME_LIVE_SEED / REALTIME_LIVE_RUNS to change)`);
    let runs = 0;
    const totals = { ops: 0, restarts: 0, drops: 0, catchUps: 0, received: 0, appliedLive: 0, resubscribes: 0 };
    await fc.assert(
      fc.asyncProperty(scheduleArb, async (schedule) => {
        runs += 1;
        const people = await Promise.all(["pa", "pb", "pc"].map((n) => liveUser(n)));
        const chatId = await group(people[0]!, people.slice(1), "Property");
        const realtimeClients = people.map((p) => liveClientFor(p, () => p.token, { url: running!.url }));
        const chats = realtimeClients.map((c, i) => new LiveChat(c, chatId, 5, people[i]!.client));
        try {
          await Promise.all(chats.map((c) => c.start()));
          const messages: string[] = [];
          let down = -1;
          const restartIfDue = async () => {
            if (down === 0) {
              running = await startStack(options);
              down = -1;
            } else if (down > 0) down -= 1;
          };
          for (const op of schedule) {
            const actor = people[(op as { by?: number }).by ?? 0]!;
            const pick = (i: number) => messages[i % Math.max(messages.length, 1)];
            switch (op.t) {
              case "send": {
                const m = await rpc(actor, "send_message", { chat_id: chatId, body: op.text });
                if (m) messages.push(m.id as string);
                break;
              }
              case "edit":
                if (messages.length) await rpc(actor, "edit_message", { message_id: pick(op.msg), body: op.text });
                break;
              case "delete":
                if (messages.length) await rpc(actor, "delete_message", { message_id: pick(op.msg) });
                break;
              case "react":
                if (messages.length) await rpc(actor, "toggle_reaction", { message_id: pick(op.msg), emoji: op.emoji });
                break;
              case "read":
                await rpc(actor, "mark_chat_read", { chat_id: chatId });
                break;
              case "restart":
                totals.restarts += 1;
                await running!.close();
                running = undefined;
                down = op.downFor;
                break;
              case "settle": {
                const until = Date.now() + 5000;
                while (running && Date.now() < until && !chats.every((c) => c.state === "joined")) await sleep(25);
                break;
              }
              case "drop":
                totals.drops += 1;
                dropSocket(realtimeClients[op.who]!);
                break;
            }
            if (op.t !== "restart") await restartIfDue();
            totals.ops += 1;
            await sleep(20); // a conversation, not a burst: live deliveries interleave with the ops
          }
          if (!running) running = await startStack(options);

          // Exactly the server's state, read through the API, once every client has rejoined and caught up.
          const server = await serverMessages(people[0]!.client, chatId);
          const { data: chatRow } = await people[0]!.client.from("chats").select("last_event_seq").eq("id", chatId).single();
          const latest = Number(chatRow!.last_event_seq);
          const deadline = Date.now() + 20_000;
          while (Date.now() < deadline) {
            await Promise.all(chats.map((c) => c.settled()));
            if (chats.every((c) => c.cursor === latest && c.state === "joined")) break;
            await sleep(50);
          }
          for (const c of chats) {
            expect(c.errors).toEqual([]);
            expect(c.state).toBe("joined");
            expect(c.cursor).toBe(latest);
            expect(messagesOf(c.view)).toEqual(server);
            totals.catchUps += c.stats.catchUps;
            totals.received += c.stats.received;
            totals.appliedLive += c.stats.appliedLive;
            totals.resubscribes += c.stats.resubscribes;
          }
        } finally {
          for (const c of chats) await c.stop();
          for (const c of realtimeClients) await c.removeAllChannels();
          for (const p of people) await p.live.removeAllChannels();
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    expect(runs).toBe(RUNS);
    console.log(`[realtime property] ${runs} runs: ${totals.ops} steps, ${totals.restarts} restarts, ${totals.drops} dropped sockets, ` +
      `${totals.received} live broadcasts (${totals.appliedLive} applied from the broadcast alone), ${totals.catchUps} catch-ups, ${totals.resubscribes} resubscribes`);
  }, SOAK ? 900_000 : 90_000);
});
