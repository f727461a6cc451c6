// Rate limits, quotas and privacy settings as an app meets them through supabase-js and the local stack: HTTP 429
// with retry_after_seconds, the upload quota as Storage reports it, direct messages refused by a privacy choice, an
// add that becomes an invitation, presence hidden from strangers, and the block gaps in a direct chat.
// The limits are the defaults; a test that needs a user at a limit fills that user's own counter (service SQL), so no
// other test running at the same time is affected.
import { describe, expect, it } from "vitest";
import { db } from "./support/users.ts";
import { actor, call, group, message } from "./support/world.ts";

/** Puts `userId` at the limit of `action` in a window that started now. */
async function atLimit(userId: string, action: string): Promise<void> {
  await db()`
    insert into private.rate_counters (user_id, action, window_started_at, used)
    select ${userId}, l.action, now(), l.max_count from private.rate_limits l where l.action = ${action}
    on conflict (user_id, action) do update set window_started_at = now(), used = excluded.used`;
}

describe("rate limits through supabase-js", () => {
  it("the 21st edit within a minute gets HTTP 429 with retry_after_seconds and changes nothing", async () => {
    const [alice, bob] = await Promise.all([actor("alice"), actor("bob")]);
    const chatId = await group(alice, [bob]);
    const m = await message(alice, chatId, "v0");
    for (let i = 1; i <= 20; i++) {
      const { error } = await alice.supabase.rpc("edit_message", { message_id: m.id, body: `v${i}` });
      expect(error).toBeNull();
    }
    const { error } = await alice.supabase.rpc("edit_message", { message_id: m.id, body: "v21" });
    expect(error).toMatchObject({ code: "PT429", message: "editing too fast" });
    expect(alice.log.at(-1)?.status).toBe(429);
    const { retry_after_seconds } = JSON.parse(error!.details) as { retry_after_seconds: number };
    expect(retry_after_seconds).toBeGreaterThan(0);
    expect(retry_after_seconds).toBeLessThanOrEqual(60);
    const { data } = await bob.supabase.from("messages").select("body").eq("id", m.id).single();
    expect(data?.body).toBe("v20");
  });

  it("a user at the chat-creation limit cannot create a group; others can", async () => {
    const [alice, bob] = await Promise.all([actor("alice"), actor("bob")]);
    await atLimit(alice.id, "chat_create");
    const { error } = await alice.supabase.rpc("create_group_chat", { title: "one too many" });
    expect(error).toMatchObject({ code: "PT429", message: "creating chats too fast" });
    const { error: other } = await bob.supabase.rpc("create_group_chat", { title: "fine" });
    expect(other).toBeNull();
  });

  it("an upload past the daily quota is refused by Storage with the wait in the message, and nothing is stored", async () => {
    const [alice] = await Promise.all([actor("alice")]);
    const chatId = await group(alice);
    await atLimit(alice.id, "upload");
    const path = `${chatId}/${crypto.randomUUID()}/notes.txt`;
    const up = await alice.supabase.storage.from("attachments").upload(path, new Blob(["hello"], { type: "text/plain" }), {
      contentType: "text/plain",
    });
    expect(up.error).not.toBeNull();
    expect(up.error!.message).toMatch(/^upload quota reached; retry after \d+ seconds$/);
    expect((up.error as unknown as { statusCode?: string }).statusCode).toBe("403");
    const [row] = await db()<{ n: number }[]>`select count(*)::int as n from storage.objects where name = ${path}`;
    expect(row?.n).toBe(0);
  });
});

describe("privacy settings through supabase-js", () => {
  it("who_can_message nobody refuses a new direct chat with 42501; contacts lets a co-member in", async () => {
    const [alice, bob, carol] = await Promise.all([actor("alice"), actor("bob"), actor("carol")]);
    await group(alice, [bob]);
    await call(alice, "update_privacy_settings", { who_can_message: "contacts" });
    const stranger = await carol.supabase.rpc("create_direct_chat", { user_id: alice.id });
    expect(stranger.error).toMatchObject({ code: "42501", message: "this user does not accept direct messages from you" });
    expect(carol.log.at(-1)?.status).toBe(403);
    const contact = await bob.supabase.rpc("create_direct_chat", { user_id: alice.id });
    expect(contact.error).toBeNull();
    await call(alice, "update_privacy_settings", { who_can_message: "nobody" });
    const send = await bob.supabase.rpc("send_message", { chat_id: (contact.data as { id: string }).id, body: "hi" });
    expect(send.error).toMatchObject({ code: "42501" });
  });

  it("who_can_add contacts turns a stranger's add into an invitation the user accepts", async () => {
    const [alice, bob] = await Promise.all([actor("alice"), actor("bob")]);
    await call(bob, "update_privacy_settings", { who_can_add: "contacts" });
    const chatId = await group(alice);
    const { data: added, error } = await alice.supabase.rpc("add_chat_members", { chat_id: chatId, user_ids: [bob.id] });
    expect(error).toBeNull();
    expect(added).toBe(0);
    const { data: invitations } = await bob.supabase.from("chat_invitations").select("id, chat_id, status").eq("chat_id", chatId);
    expect(invitations).toEqual([expect.objectContaining({ chat_id: chatId, status: "pending" })]);
    const { error: accept } = await bob.supabase.rpc("respond_to_invitation", { invitation_id: invitations![0]!.id, accept: true });
    expect(accept).toBeNull();
    const { data: members } = await bob.supabase.from("chat_members").select("user_id").eq("chat_id", chatId);
    expect(members?.map((m) => m.user_id).sort()).toEqual([alice.id, bob.id].sort());
  });

  it("who_can_see_presence contacts hides the status from strangers and shows it to contacts", async () => {
    const [alice, bob, carol] = await Promise.all([actor("alice"), actor("bob"), actor("carol")]);
    await call(alice, "heartbeat", { status: "busy" });
    await group(alice, [bob]);
    await call(alice, "update_privacy_settings", { who_can_see_presence: "contacts" });
    const { data: seenByStranger } = await carol.supabase.from("profiles").select("status, last_seen_at").eq("id", alice.id).single();
    expect(seenByStranger).toEqual({ status: "offline", last_seen_at: null });
    const { data: strangerPresence } = await carol.supabase.rpc("get_presence", { user_ids: [alice.id] });
    expect(strangerPresence).toEqual([{ user_id: alice.id, status: "offline", last_seen_at: null }]);
    const { data: contactPresence } = await bob.supabase.rpc("get_presence", { user_ids: [alice.id] });
    expect(contactPresence?.[0]?.status).toBe("busy");
    expect(contactPresence?.[0]?.last_seen_at).not.toBeNull();
  });
});

describe("blocks in a direct chat through supabase-js", () => {
  it("after a block neither person can edit, react or pin in their direct chat", async () => {
    const [alice, bob] = await Promise.all([actor("alice"), actor("bob")]);
    const dm = (await call(alice, "create_direct_chat", { user_id: bob.id })) as { id: string };
    const mine = await message(bob, dm.id, "mine");
    const theirs = await message(alice, dm.id, "theirs");
    const { error: block } = await alice.supabase.from("user_blocks").insert({ blocker_id: alice.id, blocked_id: bob.id });
    expect(block).toBeNull();
    const edit = await bob.supabase.rpc("edit_message", { message_id: mine.id, body: "changed" });
    expect(edit.error).toMatchObject({ code: "42501", message: "cannot act in this chat" });
    const react = await bob.supabase.rpc("toggle_reaction", { message_id: theirs.id, emoji: "👍" });
    expect(react.error).toMatchObject({ code: "42501", message: "cannot act in this chat" });
    const pin = await alice.supabase.rpc("pin_message", { message_id: mine.id });
    expect(pin.error).toMatchObject({ code: "42501", message: "cannot act in this chat" });
  });
});
