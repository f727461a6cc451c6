// Live chat over real sockets with the real realtime-js (inside @supabase/supabase-js): several clients follow a chat
// by the procedure of docs/realtime.md (tests/client/support/live-chat.ts) and see each other's messages, edits,
// deletes, reactions and reads, typing and presence; outsiders, removed and banned members are refused at join and
// cut off at their next token refresh (timed); a member cannot forge a server event or presence on any server topic;
// Broadcast Replay gives a newcomer to a chat with hidden history nothing the API would not.
import { afterEach, describe, expect, it } from "vitest";
import type { RealtimeChannel } from "@supabase/supabase-js";
import {
  chatBroadcast, chatEventNames, presenceState, topics, typingPayload, userEventNames, type ChatEventName,
} from "../../types/events.ts";
import { call, group, message } from "./support/world.ts";
import { stack } from "./support/clients.ts";
import { db } from "./support/users.ts";
import { PhoenixSocket, type Arrival } from "../../bench/lib/phoenix-socket.ts";
import { LiveChat, messagesOf, serverMessages } from "./support/live-chat.ts";
import { eventually, joined, liveUser, sleep, type LiveUser } from "./support/realtime.ts";

const users: LiveUser[] = [];
const chats: LiveChat[] = [];
async function person(name: string) {
  const u = await liveUser(name);
  // supabase-js hands the token to Realtime asynchronously after createClient; a join before that is anonymous.
  await u.live.realtime.setAuth();
  users.push(u);
  return u;
}
async function follow(u: LiveUser, chatId: string) {
  const chat = new LiveChat(u.live, chatId);
  chats.push(chat);
  await chat.start();
  await eventually(() => chat.stats.subscribes > 0, 5000, `${u.email} subscribed`);
  return chat;
}

afterEach(async () => {
  for (const c of chats.splice(0)) await c.stop();
  for (const u of users.splice(0)) await u.live.removeAllChannels();
});

interface Received {
  event: string;
  payload: Record<string, unknown>;
  meta?: { replayed?: boolean; id?: string };
}
function collect(channel: RealtimeChannel, event = "*"): Received[] {
  const got: Received[] = [];
  channel.on("broadcast", { event }, (m) => got.push(m as unknown as Received));
  return got;
}
/** Subscribes; `ready` resolves on SUBSCRIBED, `closed` when the server shuts the channel down. */
function subscribeWatched(channel: RealtimeChannel): { ready: Promise<void>; closed: Promise<void> } {
  let ready!: () => void;
  let closed!: () => void;
  const r = new Promise<void>((res) => (ready = res));
  const c = new Promise<void>((res) => (closed = res));
  channel.subscribe((s) => {
    if (s === "SUBSCRIBED") ready();
    if (s === "CLOSED") closed();
  });
  return { ready: r, closed: c };
}

/** Waits until every client's messages equal the server's (read through the API by `reader`). */
async function converged(reader: LiveUser, chatId: string, clients: LiveChat[], timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs;
  let server = await serverMessages(reader.client, chatId);
  for (;;) {
    await Promise.all(clients.map((c) => c.settled()));
    const same = clients.every((c) => JSON.stringify(sortKeys(messagesOf(c.view))) === JSON.stringify(sortKeys(server)));
    if (same || Date.now() > deadline) break;
    await sleep(50);
    server = await serverMessages(reader.client, chatId);
  }
  for (const c of clients) {
    expect(c.errors).toEqual([]);
    expect(messagesOf(c.view)).toEqual(server);
  }
  return server;
}
function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

describe("realtime live: several clients in one chat", () => {
  it("three clients see each other's messages, edits, deletes, reactions and reads (thin events, then get_chat_events)", async () => {
    const [ann, bob, cid] = await Promise.all([person("ann"), person("bob"), person("cid")]);
    const chatId = await group(ann, [bob, cid], "Live");
    const [a, b, c] = await Promise.all([follow(ann, chatId), follow(bob, chatId), follow(cid, chatId)]);

    const m1 = await message(ann, chatId, "hello from ann");
    const m2 = await message(bob, chatId, "hi ann");
    await converged(ann, chatId, [a, b, c]);
    expect(b.view.messages[m1.id]?.body).toBe("hello from ann");
    expect(a.view.messages[m2.id]?.body).toBe("hi ann");

    await call(ann, "edit_message", { message_id: m1.id, body: "hello from ann (edited)" });
    await call(cid, "toggle_reaction", { message_id: m1.id, emoji: "👍" });
    await call(bob, "toggle_reaction", { message_id: m1.id, emoji: "👍" });
    await call(bob, "delete_message", { message_id: m2.id });
    await call(cid, "mark_chat_read", { chat_id: chatId });
    const server = await converged(ann, chatId, [a, b, c]);
    expect(server[m1.id]).toMatchObject({ body: "hello from ann (edited)", edited: true, reaction_counts: { "👍": 2 } });
    expect(server[m2.id]).toMatchObject({ body: null, deleted: true });

    // cid's read reached the others live, with the cursor the server stored.
    const read = await eventually(() => b.log.find((r) => r.event === "message.read" && r.payload.actor_id === cid.id), 5000, "message.read");
    const parsed = chatBroadcast("message.read").parse(read.payload);
    expect(parsed.data).toMatchObject({ user_id: cid.id, last_read_seq: 2 });
    for (const live of [a, b, c]) {
      // Every client got the events live (no polling here: only broadcasts trigger catch-ups after the first).
      expect(live.stats.received).toBeGreaterThanOrEqual(7);
      expect(live.stats.catchUps).toBeGreaterThan(1);
    }
  });

  it("typing and presence between three clients on chat:<id>:typing; a leaver disappears", async () => {
    const [ann, bob, cid] = await Promise.all([person("ann"), person("bob"), person("cid")]);
    const chatId = await group(ann, [bob, cid], "Typing");
    const devices = [ann, bob, cid].map((u) => {
      const ch = u.live.channel(topics.typing(chatId), { config: { private: true, presence: { key: `${u.id}:web` } } });
      const typing = collect(ch);
      ch.on("presence", { event: "sync" }, () => {});
      return { u, ch, typing };
    });
    await Promise.all(devices.map((d) => joined(d.ch)));
    for (const d of devices) {
      const state = { user_id: d.u.id, device_id: "web", status: "online" as const, online_at: new Date().toISOString() };
      expect(await d.ch.track(presenceState.parse(state))).toBe("ok");
    }
    for (const d of devices) {
      await eventually(() => Object.keys(d.ch.presenceState()).length === 3, 5000, "three present");
      for (const metas of Object.values(d.ch.presenceState())) {
        const { presence_ref: _ref, ...meta } = metas[0] as unknown as Record<string, unknown>;
        presenceState.parse(meta);
      }
    }
    const [da, db, dc] = devices as [typeof devices[0], typeof devices[0], typeof devices[0]];
    await da.ch.send({ type: "broadcast", event: "typing.start", payload: typingPayload.parse({ user_id: ann.id, thread_root_id: null }) });
    await eventually(() => db.typing.length === 1 && dc.typing.length === 1, 5000, "typing.start reaches bob and cid");
    expect(typingPayload.parse(db.typing[0]!.payload)).toEqual({ user_id: ann.id, thread_root_id: null });
    expect(da.typing).toEqual([]); // not echoed to the sender (self: false)
    await db.ch.send({ type: "broadcast", event: "typing.stop", payload: { user_id: bob.id } });
    await eventually(() => da.typing.some((t) => t.event === "typing.stop"), 5000, "typing.stop reaches ann");

    await cid.live.removeChannel(dc.ch);
    await eventually(() => !(`${cid.id}:web` in da.ch.presenceState()) && !(`${cid.id}:web` in db.ch.presenceState()), 5000, "cid gone");
    expect(Object.keys(da.ch.presenceState()).sort()).toEqual([`${ann.id}:web`, `${bob.id}:web`].sort());
  });
});

describe("realtime live: outsiders, removed and banned members", () => {
  it("an outsider, a removed member and a banned member are refused at join on the chat and typing topics", async () => {
    const [owner, outsider, removed, banned] = await Promise.all([person("olga"), person("eve"), person("rem"), person("ban")]);
    const chatId = await group(owner, [removed, banned], "Gate");
    await call(owner, "remove_chat_member", { chat_id: chatId, user_id: removed.id });
    await call(owner, "ban_chat_member", { chat_id: chatId, user_id: banned.id, reason: "spam" });
    for (const u of [outsider, removed, banned]) {
      for (const topic of [topics.chat(chatId), topics.typing(chatId)]) {
        const ch = u.live.channel(topic, { config: { private: true, presence: { key: u.id } } });
        await expect(joined(ch)).rejects.toThrow(`Unauthorized: You do not have permissions to read from this Channel topic: ${topic}`);
        await u.live.removeChannel(ch);
      }
    }
  });

  it("removed and banned members stop receiving at their next token refresh (timed), and the API gives them nothing", async () => {
    const [owner, removed, banned] = await Promise.all([person("olga"), person("rem"), person("ban")]);
    const chatId = await group(owner, [removed, banned], "Cut off");
    const watched = [removed, banned].map((u) => {
      const chat = u.live.channel(topics.chat(chatId), { config: { private: true } });
      const typing = u.live.channel(topics.typing(chatId), { config: { private: true } });
      return { u, chat, typing, inChat: collect(chat), inTyping: collect(typing) };
    });
    const subs = watched.map((w) => [subscribeWatched(w.chat), subscribeWatched(w.typing)]);
    await Promise.all(subs.flat().map((s) => s.ready));
    const closed = subs.map((pair) => pair.map((s) => s.closed));
    const ownerTyping = owner.live.channel(topics.typing(chatId), { config: { private: true } });
    await joined(ownerTyping);

    await call(owner, "remove_chat_member", { chat_id: chatId, user_id: removed.id });
    await call(owner, "ban_chat_member", { chat_id: chatId, user_id: banned.id });
    await message(owner, chatId, "after the removal");
    // The answer of the read check is cached per channel: until the token changes, thin events still arrive.
    for (const w of watched) await eventually(() => w.inChat.some((m) => m.event === "message.sent"), 5000, "cached read");
    // ... and the content does not: the API answers nothing from the moment of removal.
    for (const w of watched) {
      const { data } = await w.u.client.from("messages").select("id, body").eq("chat_id", chatId);
      expect(data ?? []).toEqual([]);
      const { error } = await w.u.client.rpc("get_chat_events", { chat_id: chatId, after_cursor: 0, page_size: 10 });
      expect(error).not.toBeNull();
    }

    const cutOff: number[] = [];
    for (const [i, w] of watched.entries()) {
      w.u.token = await w.u.mint(3600);
      const t0 = performance.now();
      await w.u.live.realtime.setAuth(); // what supabase-js does on TOKEN_REFRESHED
      await Promise.all(closed[i]!);
      cutOff.push(performance.now() - t0);
    }
    console.log(`[realtime live] removed/banned cut off ${cutOff.map((ms) => ms.toFixed(0)).join(" / ")} ms after the token refresh`);
    for (const ms of cutOff) expect(ms).toBeLessThan(2000);

    const before = watched.map((w) => w.inChat.length + w.inTyping.length);
    await message(owner, chatId, "after the refresh");
    await ownerTyping.send({ type: "broadcast", event: "typing.start", payload: { user_id: owner.id } });
    await sleep(500);
    expect(watched.map((w) => w.inChat.length + w.inTyping.length)).toEqual(before);
  });
});

describe("realtime live: forgery and replay", () => {
  it("a member cannot forge any server event or presence on chat:, user: or status: topics", async () => {
    const [owner, member] = await Promise.all([person("olga"), person("mo")]);
    const chatId = await group(owner, [member], "Forge");
    await call(owner, "heartbeat", { status: "online" });
    const serverTopics = [topics.chat(chatId), topics.user(member.id), topics.status(owner.id), topics.status(member.id)];
    // The victims: the owner on the chat and on their status topic, the member's other device on their user topic.
    const victims = [
      owner.live.channel(topics.chat(chatId), { config: { private: true } }),
      owner.live.channel(topics.status(owner.id), { config: { private: true } }),
      owner.live.channel(topics.status(member.id), { config: { private: true } }),
    ];
    const inbox = victims.map((v) => collect(v));
    await Promise.all(victims.map((v) => joined(v)));

    const forgedIds: string[] = [];
    for (const topic of serverTopics) {
      const forger = member.live.channel(topic, { config: { private: true, broadcast: { ack: true }, presence: { key: owner.id } } });
      forger.on("presence", { event: "sync" }, () => {});
      await joined(forger);
      const events = topic.startsWith("chat:") ? chatEventNames : topic.startsWith("user:") ? userEventNames : ["status.changed"];
      // Denied by the write check: dropped without a reply, even with ack.
      const answers = await Promise.all(events.map((event) => {
        const payload = { id: crypto.randomUUID(), chat_id: chatId, user_id: owner.id, cursor: 999, status: "online", data: { message_id: crypto.randomUUID(), message_seq: 999 } };
        forgedIds.push(payload.id, payload.data.message_id);
        return forger.send({ type: "broadcast", event, payload }, { timeout: 500 });
      }));
      expect(answers).toEqual(events.map(() => "timed out"));
      expect(await forger.track({ user_id: owner.id, device_id: "x", status: "online", online_at: new Date().toISOString() })).toBe("error");
      await member.live.removeChannel(forger);
    }
    // The REST broadcast endpoint with the member's token is held to the same write check.
    const res = await fetch(`${stack.url}/realtime/v1/api/broadcast`, {
      method: "POST",
      headers: { apikey: stack.publishableKey, authorization: `Bearer ${member.token}`, "content-type": "application/json" },
      body: JSON.stringify({ messages: serverTopics.map((topic) => ({ topic, event: "message.sent", payload: { forged: true }, private: true })) }),
    });
    expect(res.status).toBe(202);
    await sleep(400);
    // What the victims did receive (the chat's own participant.added may still be streaming in, status.changed from
    // the heartbeat) are stored server events: each one's meta.id is a row of realtime.messages. Forged client
    // broadcasts are never stored.
    const ids = inbox.flat().map((m) => m.meta?.id ?? "none");
    const stored = await db()<{ n: number }[]>`select count(*)::int as n from realtime.messages where id::text = any(${ids})`;
    expect(stored[0]!.n).toBe(ids.length);
    // No forged payload arrived (matched by the random ids it carried; a real event's timestamp may well contain 999).
    const received = JSON.stringify(inbox);
    expect(forgedIds.filter((id) => received.includes(id))).toEqual([]);
    expect(JSON.stringify(inbox)).not.toContain("forged");
    // Nor presence: the owner's view of the chat topic's presence stays empty.
    expect(victims[0]!.presenceState()).toEqual({});
  });

  it("a member added to a chat with hidden history replays only ids of earlier messages, and the API returns nothing for them", async () => {
    const [owner, early, late] = await Promise.all([person("olga"), person("ed"), person("lia")]);
    const chatId = await group(owner, [early], "Hidden");
    await call(owner, "update_chat", { chat_id: chatId, history_visible_to_new_members: false });
    const since = Date.now() - 60_000;
    const before = [await message(owner, chatId, "secret one"), await message(early, chatId, "secret two")];
    await call(owner, "edit_message", { message_id: before[0]!.id, body: "secret one, edited" });
    await call(early, "toggle_reaction", { message_id: before[0]!.id, emoji: "🔥" });
    await call(owner, "add_chat_members", { chat_id: chatId, user_ids: [late.id] });
    const after = await message(owner, chatId, "welcome lia");
    await sleep(300);

    const ch = late.live.channel(topics.chat(chatId), { config: { private: true, broadcast: { replay: { since, limit: 25 } } } });
    const got = collect(ch);
    await joined(ch);
    const replayed = () => got.filter((m) => m.meta?.replayed === true);
    await eventually(() => replayed().some((m) => m.event === "message.sent" && JSON.stringify(m.payload).includes(after.id)), 5000, "replay");
    await sleep(200);
    const rep = replayed();
    // Every replayed event parses with the thin schema; none carries a body, old or new.
    for (const m of rep) chatBroadcast(m.event as ChatEventName).parse(m.payload);
    expect(JSON.stringify(rep)).not.toMatch(/secret|welcome/);
    const replayedIds = new Set(rep.flatMap((m) => {
      const d = m.payload.data as { message_id?: string };
      return d.message_id ? [d.message_id] : [];
    }));
    // Ids of messages before the join are in the replay (that is what replay hands out) ...
    expect(replayedIds.has(before[0]!.id)).toBe(true);
    // ... and the API gives the newcomer nothing for them: not the rows, not their events, not their reactions.
    const { data: rows } = await late.client.from("messages").select("id, body").in("id", before.map((m) => m.id));
    expect(rows).toEqual([]);
    const { data: reactions } = await late.client.from("message_reactions").select("message_id").in("message_id", before.map((m) => m.id));
    expect(reactions ?? []).toEqual([]);
    const page = await call(late, "get_chat_events", { chat_id: chatId, after_cursor: 0, page_size: 200 }) as unknown as { events: { data: { message_id?: string } }[] };
    const visible = page.events.flatMap((e) => (e.data.message_id ? [e.data.message_id] : []));
    expect(visible).not.toContain(before[0]!.id);
    expect(visible).not.toContain(before[1]!.id);
    expect(visible).toContain(after.id);
    // The one message after the join is readable, with its body.
    const { data: mine } = await late.client.from("messages").select("id, body").eq("chat_id", chatId);
    expect(mine).toEqual([{ id: after.id, body: "welcome lia" }]);
  });
});

describe("realtime live: the bench's raw Phoenix subscriber", () => {
  it("joins a private chat topic with a member's token, is refused for an outsider, and receives message.sent", async () => {
    const [owner, member, outsider] = await Promise.all([person("olga"), person("mo"), person("eve")]);
    const chatId = await group(owner, [member], "Bench client");
    const socket = await PhoenixSocket.open(stack.url, stack.publishableKey);
    const refused = await PhoenixSocket.open(stack.url, stack.publishableKey);
    try {
      const got: Arrival[] = [];
      socket.onBroadcast = (a) => got.push(a);
      await socket.join(topics.chat(chatId), member.token);
      await expect(refused.join(topics.chat(chatId), outsider.token)).rejects.toThrow(/Unauthorized: You do not have permissions/);
      const m = await message(owner, chatId, "to the raw socket");
      const sent = await eventually(() => got.find((a) => a.event === "message.sent"), 5000, "message.sent");
      expect(sent.topic).toBe(`realtime:chat:${chatId}`);
      expect(chatBroadcast("message.sent").parse(sent.payload).data).toEqual({ message_id: m.id, message_seq: m.seq });
    } finally {
      socket.close();
      refused.close();
    }
  });
});
