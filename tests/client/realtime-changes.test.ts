// postgres_changes and Broadcast Replay against the local Realtime server, through realtime-js: RLS per subscriber
// on INSERT, filters, the real server's DELETE behaviour (no RLS, old record cut to the primary key), and replay of
// stored broadcasts on private channels.
import { afterEach, describe, expect, it } from "vitest";
import type { RealtimeChannel, RealtimePostgresChangesPayload } from "@supabase/supabase-js";
import { db } from "./support/users.ts";
import {
  disconnect, eventually, groupChat, joined, liveUser, sendMessage, sleep, type LiveUser,
} from "./support/realtime.ts";

const users: LiveUser[] = [];
async function person(name: string) {
  const u = await liveUser(name);
  users.push(u);
  return u;
}

afterEach(async () => {
  await disconnect(...users.splice(0).map((u) => u.live));
});

type Change = RealtimePostgresChangesPayload<Record<string, unknown>>;

function changes(
  user: LiveUser,
  filter: { event: "*" | "INSERT" | "UPDATE" | "DELETE"; table: string; filter?: string },
): { channel: RealtimeChannel; got: Change[]; system: Record<string, unknown>[] } {
  const got: Change[] = [];
  const system: Record<string, unknown>[] = [];
  const channel = user.live
    .channel(`changes-${crypto.randomUUID()}`)
    .on("postgres_changes" as never, { schema: "public", ...filter } as never, (p: Change) => got.push(p))
    .on("system", {}, (p) => system.push(p));
  return { channel, got, system };
}

describe("realtime: postgres_changes", () => {
  it("INSERTs reach the subscribers RLS lets see the row, not outsiders; filters are applied", async () => {
    const [owner, member, outsider] = await Promise.all([person("olga"), person("mo"), person("eve")]);
    const chatId = await groupChat(owner, [member]);
    const otherChat = await groupChat(owner, [member]);
    const m = changes(member, { event: "INSERT", table: "messages", filter: `chat_id=eq.${chatId}` });
    const all = changes(member, { event: "INSERT", table: "messages" });
    const inList = changes(member, { event: "INSERT", table: "messages", filter: `chat_id=in.(${chatId},${otherChat})` });
    const later = changes(member, { event: "INSERT", table: "messages", filter: "seq=gt.1" });
    const o = changes(outsider, { event: "*", table: "messages" });
    await Promise.all([m, all, inList, later, o].map((s) => joined(s.channel)));
    await eventually(() => m.system.some((s) => s.message === "Subscribed to PostgreSQL"), 5000, "system ok");

    const first = await sendMessage(owner, chatId, "one");
    const second = await sendMessage(owner, chatId, "two");
    const elsewhere = await sendMessage(owner, otherChat, "elsewhere");

    await eventually(() => m.got.length === 2 && all.got.length === 3 && inList.got.length === 3, 5000, "inserts");
    expect(m.got.map((c) => (c.new as { id: string }).id)).toEqual([first, second]);
    expect(m.got[0]).toMatchObject({ schema: "public", table: "messages", eventType: "INSERT", errors: null });
    expect(m.got[0]!.new).toMatchObject({ chat_id: chatId, body: "one", seq: 1, mentions: [] });
    expect(typeof m.got[0]!.commit_timestamp).toBe("string");
    await eventually(() => later.got.length === 1, 5000, "seq > 1");
    expect((later.got[0]!.new as { id: string }).id).toBe(second);
    expect(all.got.map((c) => (c.new as { id: string }).id)).toContain(elsewhere);
    await sleep(400);
    expect(o.got).toEqual([]);
  });

  it("DELETEs go to every matching subscriber without RLS, with only the primary key in old", async () => {
    const [owner, outsider] = await Promise.all([person("olga"), person("eve")]);
    const chatId = await groupChat(owner, []);
    const o = changes(outsider, { event: "DELETE", table: "messages" });
    await joined(o.channel);
    const id = await sendMessage(owner, chatId, "to be removed");
    await db()`delete from public.messages where id = ${id}`;
    const got = await eventually(() => o.got.find((c) => (c.old as { id?: string }).id === id), 5000, "delete");
    expect(got.eventType).toBe("DELETE");
    expect(got.old).toEqual({ id });
  });
});

describe("realtime: Broadcast Replay", () => {
  it("a member joining with replay gets the stored broadcasts of the topic, marked replayed, oldest first, thin (no content)", async () => {
    const [owner, member, outsider] = await Promise.all([person("olga"), person("mo"), person("eve")]);
    const chatId = await groupChat(owner, [member]);
    const since = Date.now() - 60_000;
    await sendMessage(owner, chatId, "first");
    await sendMessage(owner, chatId, "second");
    await sleep(500);
    const got: { event: string; payload: unknown; meta?: { replayed?: boolean; id?: string } }[] = [];
    const ch = member.live
      .channel(`chat:${chatId}`, { config: { private: true, broadcast: { replay: { since, limit: 25 } } } })
      .on("broadcast", { event: "*" }, (m) => got.push(m as never));
    await joined(ch);
    const replayed = () => got.filter((m) => m.meta?.replayed === true);
    await eventually(() => replayed().filter((m) => m.event === "message.sent").length === 2, 5000, "replayed");
    expect(replayed().every((m) => typeof m.meta!.id === "string")).toBe(true);
    // Replay reads stored rows without RLS: they name the messages (id, seq, cursor) and carry none of their content.
    const sent = replayed().filter((m) => m.event === "message.sent").map((m) => m.payload as { data: Record<string, unknown> });
    expect(sent.map((p) => p.data.message_seq)).toEqual([1, 2]);
    expect(sent.every((p) => Object.keys(p.data).sort().join() === "message_id,message_seq")).toBe(true);
    expect(JSON.stringify(replayed())).not.toMatch(/first|second/);

    const refused = outsider.live.channel(`chat:${chatId}`, {
      config: { private: true, broadcast: { replay: { since, limit: 25 } } },
    });
    await expect(joined(refused)).rejects.toThrow(`Unauthorized: You do not have permissions to read from this Channel topic: chat:${chatId}`);
  });

  it("limit is bounded to 25 and the newest messages are the ones replayed", async () => {
    const owner = await person("olga");
    const chatId = await groupChat(owner, []);
    const since = Date.now() - 60_000;
    for (let i = 0; i < 3; i++) await sendMessage(owner, chatId, `m${i}`);
    // Let the live deliveries of these sends pass first: only stored broadcasts are under test here.
    await sleep(500);
    const got: { event: string; payload: unknown; meta?: { replayed?: boolean } }[] = [];
    const ch = owner.live
      .channel(`chat:${chatId}`, { config: { private: true, broadcast: { replay: { since, limit: 1 } } } })
      .on("broadcast", { event: "*" }, (m) => got.push(m as never));
    await joined(ch);
    // Live events may follow (pg_cron's presence sweep broadcasts too); only the replayed ones are counted.
    const replayed = () => got.filter((m) => m.meta?.replayed === true);
    await eventually(() => replayed().length >= 1, 5000, "one replayed");
    await sleep(300);
    expect(replayed()).toHaveLength(1);
  });
});
