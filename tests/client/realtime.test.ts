// The local Realtime server (stack/realtime) through the real realtime-js in @supabase/supabase-js: client
// broadcasts, presence, Broadcast from the database on private chat topics, and the join refusal of outsiders.
import { afterEach, describe, expect, it } from "vitest";
import type { RealtimeChannel } from "@supabase/supabase-js";
import postgres from "postgres";
import { stack } from "./support/clients.ts";
import { db } from "./support/users.ts";
import {
  disconnect, eventually, groupChat, joined, liveClientFor, liveUser, sendMessage, sleep, type LiveUser,
} from "./support/realtime.ts";

const users: LiveUser[] = [];
async function person(name: string, opts = {}) {
  const u = await liveUser(name, opts);
  users.push(u);
  return u;
}

afterEach(async () => {
  await disconnect(...users.splice(0).map((u) => u.live));
});

interface Received {
  event: string;
  payload: Record<string, unknown>;
  meta?: Record<string, unknown>;
}

function collect(channel: RealtimeChannel, event = "*"): Received[] {
  const got: Received[] = [];
  channel.on("broadcast", { event }, (m) => got.push(m as unknown as Received));
  return got;
}

describe("realtime: client broadcasts", () => {
  it("three clients on a public channel see each other's broadcasts, not their own (self: false)", async () => {
    const [a, b, c] = await Promise.all([person("ann"), person("bob"), person("cid")]);
    const topic = `room-${crypto.randomUUID()}`;
    const channels = [a, b, c].map((u) => u.live.channel(topic));
    const inbox = channels.map((ch) => collect(ch, "say"));
    await Promise.all(channels.map((ch) => joined(ch)));

    await channels[0]!.send({ type: "broadcast", event: "say", payload: { text: "hi from ann" } });
    await channels[1]!.send({ type: "broadcast", event: "say", payload: { text: "hi from bob" } });

    await eventually(() => inbox[2]!.length === 2, 5000, "cid gets both");
    await eventually(() => inbox[0]!.length === 1 && inbox[1]!.length === 1, 5000, "ann and bob get the other's");
    expect(inbox[0]!.map((m) => m.payload.text)).toEqual(["hi from bob"]);
    expect(inbox[1]!.map((m) => m.payload.text)).toEqual(["hi from ann"]);
    expect(inbox[2]!.map((m) => m.payload.text).sort()).toEqual(["hi from ann", "hi from bob"]);
  });

  it("self: true echoes to the sender and ack: true confirms the send", async () => {
    const a = await person("ann");
    const ch = a.live.channel(`echo-${crypto.randomUUID()}`, { config: { broadcast: { self: true, ack: true } } });
    const inbox = collect(ch);
    await joined(ch);
    expect(await ch.send({ type: "broadcast", event: "ping", payload: { n: 1 } })).toBe("ok");
    await eventually(() => inbox.length === 1, 5000, "echo");
    expect(inbox[0]).toMatchObject({ event: "ping", payload: { n: 1 } });
  });

  it("speaks the 1.0.0 serializer too", async () => {
    const a = await person("ann", { vsn: "1.0.0" });
    const b = await person("bob");
    const topic = `v1-${crypto.randomUUID()}`;
    const chA = a.live.channel(topic);
    const chB = b.live.channel(topic);
    const inA = collect(chA);
    const inB = collect(chB);
    await Promise.all([joined(chA), joined(chB)]);
    await chA.send({ type: "broadcast", event: "x", payload: { from: "v1" } });
    await chB.send({ type: "broadcast", event: "x", payload: { from: "v2" } });
    await eventually(() => inA.length === 1 && inB.length === 1, 5000, "both ways");
    expect(inA[0]!.payload).toEqual({ from: "v2" });
    expect(inB[0]!.payload).toEqual({ from: "v1" });
  });

  it("the REST broadcast endpoint reaches subscribers (202)", async () => {
    const a = await person("ann");
    const topic = `rest-${crypto.randomUUID()}`;
    const ch = a.live.channel(topic);
    const inbox = collect(ch);
    await joined(ch);
    const res = await fetch(`${stack.url}/realtime/v1/api/broadcast`, {
      method: "POST",
      headers: { apikey: stack.secretKey, "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ topic, event: "note", payload: { via: "rest" } }] }),
    });
    expect(res.status).toBe(202);
    await eventually(() => inbox.length === 1, 5000, "rest broadcast");
    expect(inbox[0]).toMatchObject({ event: "note", payload: { via: "rest" } });
  });
});

describe("realtime: presence", () => {
  it("sync, join and leave across three clients", async () => {
    const [a, b, c] = await Promise.all([person("ann"), person("bob"), person("cid")]);
    const topic = `presence-${crypto.randomUUID()}`;
    const chA = a.live.channel(topic, { config: { presence: { key: "ann" } } });
    const joins: string[] = [];
    const leaves: string[] = [];
    chA.on("presence", { event: "sync" }, () => {});
    chA.on("presence", { event: "join" }, ({ key }) => joins.push(key));
    chA.on("presence", { event: "leave" }, ({ key }) => leaves.push(key));
    await joined(chA);
    expect(await chA.track({ name: "Ann" })).toBe("ok");

    const chB = b.live.channel(topic, { config: { presence: { key: "bob" } } });
    chB.on("presence", { event: "sync" }, () => {});
    await joined(chB);
    expect(await chB.track({ name: "Bob" })).toBe("ok");
    const chC = c.live.channel(topic, { config: { presence: { key: "cid" } } });
    chC.on("presence", { event: "sync" }, () => {});
    await joined(chC);
    await chC.track({ name: "Cid" });

    await eventually(() => Object.keys(chA.presenceState()).length === 3, 5000, "ann sees three");
    await eventually(() => Object.keys(chC.presenceState()).length === 3, 5000, "cid sees three (state + diffs)");
    expect(chB.presenceState().ann?.[0]).toMatchObject({ name: "Ann" });
    expect(joins).toEqual(expect.arrayContaining(["ann", "bob", "cid"]));

    await chB.untrack();
    await eventually(() => !("bob" in chA.presenceState()), 5000, "bob untracked");
    await c.live.removeChannel(chC);
    await eventually(() => !("cid" in chA.presenceState()), 5000, "cid left");
    expect(leaves).toEqual(expect.arrayContaining(["bob", "cid"]));
  });
});

describe("realtime: presence limits", () => {
  it("a sixth presence message within 30 s shuts the channel down, as Realtime's client presence limit does", async () => {
    const a = await person("ann");
    const ch = a.live.channel(`busy-${crypto.randomUUID()}`, { config: { presence: { key: "ann" } } });
    const system: { message: string; status: string }[] = [];
    ch.on("presence", { event: "sync" }, () => {});
    ch.on("system", {}, (p) => system.push(p as never));
    const closed = new Promise<void>((resolve) => ch.subscribe((s) => s === "CLOSED" && resolve()));
    await eventually(() => ch.state === "joined", 5000, "joined");
    for (let i = 0; i < 5; i++) expect(await ch.track({ n: i })).toBe("ok");
    void ch.track({ n: 5 });
    await closed;
    expect(system.at(-1)).toMatchObject({ status: "error", message: "Client presence rate limit exceeded" });
  });
});

describe("realtime: presence on a chat's typing topic", () => {
  it("members see each other; nobody tracks on the server topic; a member of another chat cannot join to track", async () => {
    const [owner, member, other] = await Promise.all([person("olga"), person("mo"), person("eve")]);
    const chatId = await groupChat(owner, [member]);
    // chat:<id> carries server events only: the write check refuses presence there, even for members.
    const server = member.live.channel(`chat:${chatId}`, { config: { private: true, presence: { key: member.id } } });
    server.on("presence", { event: "sync" }, () => {});
    await joined(server);
    expect(await server.track({ user_id: owner.id, status: "online" })).toBe("error");
    await member.live.removeChannel(server);
    const topic = `chat:${chatId}:typing`;
    const a = owner.live.channel(topic, { config: { private: true, presence: { key: owner.id } } });
    const b = member.live.channel(topic, { config: { private: true, presence: { key: member.id } } });
    for (const ch of [a, b]) ch.on("presence", { event: "sync" }, () => {});
    await Promise.all([joined(a), joined(b)]);
    expect(await a.track({ status: "online" })).toBe("ok");
    expect(await b.track({ status: "away" })).toBe("ok");
    await eventually(() => Object.keys(a.presenceState()).length === 2 && Object.keys(b.presenceState()).length === 2, 5000, "both");
    expect(b.presenceState()[owner.id]?.[0]).toMatchObject({ status: "online" });
    const c = other.live.channel(topic, { config: { private: true, presence: { key: other.id } } });
    c.on("presence", { event: "sync" }, () => {});
    await expect(joined(c)).rejects.toThrow(/^Unauthorized: /);
  });
});

describe("realtime: private chat topics", () => {
  it("Broadcast from the database reaches the members of a chat: realtime.send and a real send_message", async () => {
    const [owner, member] = await Promise.all([person("olga"), person("mo")]);
    const chatId = await groupChat(owner, [member]);
    const chOwner = owner.live.channel(`chat:${chatId}`, { config: { private: true } });
    const chMember = member.live.channel(`chat:${chatId}`, { config: { private: true } });
    const inOwner = collect(chOwner);
    const inMember = collect(chMember);
    await Promise.all([joined(chOwner), joined(chMember)]);

    await db()`select realtime.send(${db().json({ hello: "db" })}, 'test.event', ${`chat:${chatId}`}, true)`;
    await eventually(() => inMember.some((m) => m.event === "test.event"), 5000, "realtime.send row");
    const raw = inMember.find((m) => m.event === "test.event")!;
    expect(raw.payload).toMatchObject({ hello: "db" });
    expect(typeof raw.payload.id).toBe("string");
    expect(raw.meta?.id).toEqual(expect.any(String));

    const messageId = await sendMessage(owner, chatId, "hello live");
    const sent = await eventually(() => inMember.find((m) => m.event === "message.sent"), 5000, "message.sent");
    expect(JSON.stringify(sent.payload)).toContain(messageId);
    await eventually(() => inOwner.some((m) => m.event === "message.sent"), 5000, "the author's own devices too");
    // Exactly once each.
    await sleep(300);
    expect(inMember.filter((m) => m.event === "message.sent")).toHaveLength(1);
    expect(inMember.filter((m) => m.event === "test.event")).toHaveLength(1);
  });

  it("database broadcasts from four concurrent writers arrive exactly once, each writer's in its commit order", async () => {
    const [owner] = await Promise.all([person("olga")]);
    const chatId = await groupChat(owner, []);
    const ch = owner.live.channel(`chat:${chatId}`, { config: { private: true } });
    const got = collect(ch, "load.test");
    await joined(ch);
    const writers = 4;
    const each = 50;
    const conns = Array.from({ length: writers }, () => postgres(stack.dbUrl, { max: 1, onnotice: () => {} }));
    try {
      await Promise.all(conns.map(async (sql, w) => {
        for (let i = 0; i < each; i++) await sql`select realtime.send(${sql.json({ w, i })}, 'load.test', ${`chat:${chatId}`}, true)`;
      }));
    } finally {
      await Promise.all(conns.map((c) => c.end({ timeout: 1 })));
    }
    await eventually(() => got.length >= writers * each, 10_000, "all broadcasts");
    await sleep(300);
    expect(got).toHaveLength(writers * each);
    expect(new Set(got.map((m) => m.meta?.id)).size).toBe(writers * each);
    for (let w = 0; w < writers; w++) {
      expect(got.filter((m) => m.payload.w === w).map((m) => m.payload.i)).toEqual(Array.from({ length: each }, (_, i) => i));
    }
  });

  it("a public channel of the same name does not receive the private broadcasts", async () => {
    const [owner, member] = await Promise.all([person("olga"), person("mo")]);
    const chatId = await groupChat(owner, [member]);
    const pub = member.live.channel(`chat:${chatId}`);
    const got = collect(pub);
    await joined(pub);
    await sendMessage(owner, chatId, "private only");
    await sleep(500);
    expect(got).toEqual([]);
  });

  it("an outsider is refused at join with the real error reply", async () => {
    const [owner, outsider] = await Promise.all([person("olga"), person("eve")]);
    const chatId = await groupChat(owner, []);
    const ch = outsider.live.channel(`chat:${chatId}`, { config: { private: true } });
    await expect(joined(ch)).rejects.toThrow(
      `Unauthorized: You do not have permissions to read from this Channel topic: chat:${chatId}`,
    );
  });

  it("a member cannot forge a server event: broadcasts on chat:<id> are dropped silently, even with ack", async () => {
    const [owner, member] = await Promise.all([person("olga"), person("mo")]);
    const chatId = await groupChat(owner, [member]);
    const forger = member.live.channel(`chat:${chatId}`, { config: { private: true, broadcast: { ack: true } } });
    const victim = owner.live.channel(`chat:${chatId}`, { config: { private: true } });
    const inVictim = collect(victim, "message.sent");
    await Promise.all([joined(forger), joined(victim)]);
    const forged = { chat_id: chatId, cursor: 999, data: { message_id: crypto.randomUUID(), message_seq: 999 } };
    expect(await forger.send({ type: "broadcast", event: "message.sent", payload: forged }, { timeout: 1000 })).toBe("timed out");
    await sleep(300);
    expect(inVictim).toEqual([]);
  });

  it("members broadcast typing to each other on the typing topic; the write check runs once per join", async () => {
    const [owner, member] = await Promise.all([person("olga"), person("mo")]);
    const chatId = await groupChat(owner, [member]);
    const chOwner = owner.live.channel(`chat:${chatId}:typing`, { config: { private: true, broadcast: { ack: true } } });
    const chMember = member.live.channel(`chat:${chatId}:typing`, { config: { private: true } });
    const inMember = collect(chMember, "typing.start");
    await Promise.all([joined(chOwner), joined(chMember)]);
    expect(await chOwner.send({ type: "broadcast", event: "typing.start", payload: { user_id: owner.id } })).toBe("ok");
    await eventually(() => inMember.length === 1, 5000, "typing");
    expect(inMember[0]!.payload).toEqual({ user_id: owner.id });
  });

  it("a broadcast the write policy denies is dropped silently, even with ack (the user topic is read-only)", async () => {
    const me = await person("uma");
    const otherDevice = liveClientFor(me, () => me.token);
    // supabase-js hands the token to Realtime asynchronously after createClient; a join before that is anonymous.
    await otherDevice.realtime.setAuth();
    const phone = me.live.channel(`user:${me.id}`, { config: { private: true, broadcast: { ack: true } } });
    const laptop = otherDevice.channel(`user:${me.id}`, { config: { private: true } });
    const inLaptop = collect(laptop);
    await Promise.all([joined(phone), joined(laptop)]);
    expect(await phone.send({ type: "broadcast", event: "chat.added", payload: { forged: true } }, { timeout: 1000 })).toBe("timed out");
    await sleep(300);
    expect(inLaptop).toEqual([]);
    await otherDevice.removeAllChannels();
  });

  it("REST broadcasts to a private topic pass the caller's write check: a member's arrives, an outsider's does not", async () => {
    const [owner, member, outsider] = await Promise.all([person("olga"), person("mo"), person("eve")]);
    const chatId = await groupChat(owner, [member]);
    const ch = owner.live.channel(`chat:${chatId}:typing`, { config: { private: true } });
    const got = collect(ch, "typing.start");
    await joined(ch);
    const post = (token: string, who: string) =>
      fetch(`${stack.url}/realtime/v1/api/broadcast`, {
        method: "POST",
        headers: { apikey: stack.publishableKey, authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ topic: `chat:${chatId}:typing`, event: "typing.start", payload: { who }, private: true }] }),
      });
    expect((await post(outsider.token, "eve")).status).toBe(202);
    expect((await post(member.token, "mo")).status).toBe(202);
    await eventually(() => got.length === 1, 5000, "the member's broadcast");
    await sleep(300);
    expect(got.map((m) => m.payload.who)).toEqual(["mo"]);
  });
});
