// Tokens on a live socket against the local Realtime server: a member removed from a chat keeps receiving until
// their token is refreshed (Realtime re-checks read access only then), an expiring token ends the channel with the
// real system message, a refreshed token keeps it, and a join with an expired token gets the real error reply.
import { afterEach, describe, expect, it } from "vitest";
import type { RealtimeChannel } from "@supabase/supabase-js";
import { db } from "./support/users.ts";
import {
  disconnect, eventually, groupChat, joined, liveUser, sendMessage, sleep, type LiveUser,
} from "./support/realtime.ts";

const users: LiveUser[] = [];
async function person(name: string, tokenSeconds?: number, heartbeatIntervalMs?: number) {
  const u = await liveUser(name, {
    ...(tokenSeconds === undefined ? {} : { tokenSeconds }),
    ...(heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs }),
  });
  users.push(u);
  return u;
}

afterEach(async () => {
  await disconnect(...users.splice(0).map((u) => u.live));
});

interface SystemMessage {
  extension: string;
  status: string;
  message: string;
  channel: string;
}

function watch(channel: RealtimeChannel) {
  const events: string[] = [];
  const system: SystemMessage[] = [];
  const statuses: string[] = [];
  channel.on("broadcast", { event: "*" }, ({ event }) => events.push(event));
  channel.on("system", {}, (p) => system.push(p as SystemMessage));
  return { events, system, statuses };
}

describe("realtime: tokens and membership on a live socket", () => {
  it("a removed member receives until their token is refreshed, then the channel is shut down", async () => {
    const [owner, member] = await Promise.all([person("olga"), person("mo")]);
    const chatId = await groupChat(owner, [member]);
    const channel = member.live.channel(`chat:${chatId}`, { config: { private: true } });
    const seen = watch(channel);
    const closed = new Promise<void>((resolve) => channel.subscribe((s) => s === "CLOSED" && resolve()));
    await eventually(() => channel.state === "joined", 5000, "joined");

    await db()`delete from public.chat_members where chat_id = ${chatId} and user_id = ${member.id}`;
    await sendMessage(owner, chatId, "still cached");
    // Realtime caches the read check per join: until the token changes the removed member still receives.
    await eventually(() => seen.events.includes("message.sent"), 5000, "message before refresh");

    member.token = await member.mint(3600);
    const refreshedAt = Date.now();
    await member.live.realtime.setAuth();
    await closed;
    const cutOffMs = Date.now() - refreshedAt;
    expect(seen.system.at(-1)).toEqual({
      extension: "system",
      status: "error",
      message: `You do not have permissions to read from this Channel topic: chat:${chatId}`,
      channel: `chat:${chatId}`,
    });
    expect(cutOffMs).toBeLessThan(2000);

    const before = seen.events.length;
    await sendMessage(owner, chatId, "after removal");
    await sleep(500);
    expect(seen.events.length).toBe(before);
  });

  it("in callback mode realtime-js sends a changed token with the next heartbeat: the removed member is cut off then", async () => {
    const [owner, member] = await Promise.all([person("olga"), person("mo", undefined, 400)]);
    const chatId = await groupChat(owner, [member]);
    // supabase-js hands the first token over as a fixed one; setAuth() without a token switches realtime-js to
    // asking the accessToken callback on every heartbeat (25 s by default, 400 ms here).
    await member.live.realtime.setAuth();
    const channel = member.live.channel(`chat:${chatId}`, { config: { private: true } });
    const seen = watch(channel);
    const closed = new Promise<void>((resolve) => channel.subscribe((s) => s === "CLOSED" && resolve()));
    await eventually(() => channel.state === "joined", 5000, "joined");
    await db()`delete from public.chat_members where chat_id = ${chatId} and user_id = ${member.id}`;
    member.token = await member.mint(3600);
    const changedAt = Date.now();
    await closed;
    const cutOffMs = Date.now() - changedAt;
    expect(seen.system.at(-1)?.message).toBe(`You do not have permissions to read from this Channel topic: chat:${chatId}`);
    expect(cutOffMs).toBeLessThan(400 + 1500);
  });

  it("an expiring token ends the channel with Realtime's system message; a refreshed one keeps it", async () => {
    const [owner, expiring, refreshed] = await Promise.all([person("olga"), person("exp", 3), person("ref", 3)]);
    const chatId = await groupChat(owner, [expiring, refreshed]);
    const chExp = expiring.live.channel(`chat:${chatId}`, { config: { private: true } });
    const chRef = refreshed.live.channel(`chat:${chatId}`, { config: { private: true } });
    const exp = watch(chExp);
    const ref = watch(chRef);
    const closed = new Promise<void>((resolve) => chExp.subscribe((s) => s === "CLOSED" && resolve()));
    await Promise.all([eventually(() => chExp.state === "joined", 5000, "joined"), joined(chRef)]);

    refreshed.token = await refreshed.mint(3600);
    await refreshed.live.realtime.setAuth();

    await closed;
    expect(exp.system.at(-1)).toMatchObject({ extension: "system", status: "error", channel: `chat:${chatId}` });
    expect(exp.system.at(-1)!.message).toMatch(/^Token has expired \d+ seconds ago$/);

    await sleep(1000);
    expect(chRef.state).toBe("joined");
    await sendMessage(owner, chatId, "after expiry");
    await eventually(() => ref.events.includes("message.sent"), 5000, "refreshed member still receives");
    expect(exp.events).not.toContain("message.sent");
  });

  it("a join with an expired token is refused with InvalidJWTToken", async () => {
    const [owner, late] = await Promise.all([person("olga"), person("late", -10)]);
    const chatId = await groupChat(owner, [late]);
    const ch = late.live.channel(`chat:${chatId}`, { config: { private: true } });
    await expect(joined(ch)).rejects.toThrow(/^InvalidJWTToken: Token has expired \d+ seconds ago$/);
  });
});
