// Failures mid-conversation, on a stack this file starts itself (so it can kill it): the Realtime service stopped
// and started again, and one client's socket dropped without a close frame. realtime-js reconnects and rejoins on
// its own; every event is received at most once, and everything sent after the rejoin arrives.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RealtimeChannel, SupabaseClient } from "@supabase/supabase-js";
import { startStack, type RunningStack, type StackOptions } from "../../stack/server.ts";
import { freePort, ROOT } from "../../scripts/lib/util.ts";
import type { Database } from "../../types/database.ts";
import { stack } from "./support/clients.ts";
import { eventually, groupChat, liveClientFor, liveUser, sendMessage, sleep, type LiveUser } from "./support/realtime.ts";

let running: RunningStack | undefined;
let options: StackOptions;

beforeAll(async () => {
  const db = new URL(stack.dbUrl);
  options = {
    port: await freePort(57321),
    jwtSecret: stack.jwtSecret,
    db: { host: db.hostname, port: Number(db.port), database: db.pathname.slice(1), password: "postgres" },
    dataDir: path.join(ROOT, ".local", "test", "stack-restart"),
  };
  running = await startStack(options);
});

afterAll(async () => {
  await running?.close();
});

interface Seen {
  ids: string[];
  statuses: string[];
}

function follow(client: SupabaseClient<Database>, chatId: string): { channel: RealtimeChannel; seen: Seen } {
  const seen: Seen = { ids: [], statuses: [] };
  const channel = client
    .channel(`chat:${chatId}`, { config: { private: true } })
    // The whole payload: it carries the event's own id and the message's, so equal strings mean a duplicate.
    .on("broadcast", { event: "message.sent" }, ({ payload }) => seen.ids.push(JSON.stringify(payload)));
  channel.subscribe((status) => seen.statuses.push(status));
  return { channel, seen };
}

async function conversation(): Promise<{ owner: LiveUser; member: LiveUser; chatId: string; clients: SupabaseClient<Database>[] }> {
  const [owner, member] = await Promise.all([liveUser("olga"), liveUser("mo")]);
  const chatId = await groupChat(owner, [member]);
  const url = running!.url;
  const clients = [liveClientFor(owner, () => owner.token, { url }), liveClientFor(member, () => member.token, { url })];
  // supabase-js hands the token to Realtime asynchronously after createClient; a join before that is anonymous.
  for (const c of clients) await c.realtime.setAuth();
  return { owner, member, chatId, clients };
}

function messageIds(seen: Seen): string[] {
  return seen.ids;
}

describe("realtime: reconnecting", () => {
  it("killing and restarting the Realtime service: clients rejoin, nothing arrives twice", async () => {
    const { owner, chatId, clients } = await conversation();
    const [a, b] = clients.map((c) => follow(c, chatId));
    await eventually(() => a!.channel.state === "joined" && b!.channel.state === "joined", 5000, "joined");

    const before = await sendMessage(owner, chatId, "before");
    await eventually(() => b!.seen.ids.length === 1, 5000, "before");

    await running!.close();
    running = undefined;
    await sleep(300);
    running = await startStack(options);
    await eventually(() => a!.channel.state === "joined" && b!.channel.state === "joined" && running!.realtime.connectionCount() === 2,
      20_000, "rejoined after restart");

    const after = await sendMessage(owner, chatId, "after");
    await eventually(() => b!.seen.ids.length === 2 && a!.seen.ids.length === 2, 5000, "after");
    await sleep(300);
    expect(messageIds(b!.seen)).toHaveLength(2);
    expect(new Set(b!.seen.ids).size).toBe(2);
    expect(JSON.stringify(b!.seen.ids)).toContain(before);
    expect(JSON.stringify(b!.seen.ids)).toContain(after);
    for (const c of clients) await c.removeAllChannels();
  }, 40_000);

  it("a dropped socket: the client reconnects and rejoins, nothing arrives twice", async () => {
    const { owner, chatId, clients } = await conversation();
    const [a, b] = clients.map((c) => follow(c, chatId));
    await eventually(() => a!.channel.state === "joined" && b!.channel.state === "joined", 5000, "joined");
    await sendMessage(owner, chatId, "one");
    await eventually(() => b!.seen.ids.length === 1, 5000, "one");

    running!.realtime.dropConnections();
    await eventually(() => running!.realtime.connectionCount() === 2 && b!.channel.state === "joined" && a!.channel.state === "joined",
      20_000, "reconnected");
    await sendMessage(owner, chatId, "two");
    await sendMessage(owner, chatId, "three");
    await eventually(() => b!.seen.ids.length === 3, 5000, "two and three");
    await sleep(300);
    expect(new Set(b!.seen.ids).size).toBe(3);
    expect(b!.seen.ids).toHaveLength(3);
    for (const c of clients) await c.removeAllChannels();
  }, 40_000);
});
