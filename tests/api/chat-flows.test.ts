// The main client flows, each step a separate request exactly as PostgREST runs it (RPCs are called with named
// arguments, `select * from public.fn(arg := value)`, as PostgREST does for `supabase.rpc('fn', { arg: value })`).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { type Claims, type TestUser, type Tx, ANON, createUser, request, sql, sqlstate } from "./support/db.ts";

afterAll(() => sql.end());

type Row = Record<string, unknown>;

/** `supabase.rpc(fn, args)` as PostgREST executes it. */
async function rpc<T = Row>(claims: Claims, fn: string, args: Record<string, unknown> = {}, method: "GET" | "POST" = "POST"): Promise<T[]> {
  const names = Object.keys(args);
  const list = names.map((n, i) => `${n} := $${i + 1}`).join(", ");
  return request(claims, (tx) => tx.unsafe(`select * from public.${fn}(${list})`, names.map((n) => args[n] as never)), {
    method,
    path: `/rpc/${fn}`,
  }) as Promise<T[]>;
}

/** `supabase.from(table).select(...)` with a where clause, as the request's role. */
async function select<T = Row>(claims: Claims, query: string, params: unknown[] = []): Promise<T[]> {
  return request(claims, (tx) => tx.unsafe(query, params as never[]), { method: "GET" }) as Promise<T[]>;
}

describe("profiles", () => {
  it("creates a profile with the username chosen at sign-up", async () => {
    const name = `flow_${randomUUID().slice(0, 6)}`;
    const u = await createUser("signup", { username: name, display_name: "Flow User" });
    const [p] = await select(u.claims, "select username, display_name, status from public.profiles where id = $1", [u.id]);
    expect(p).toEqual({ username: name, display_name: "Flow User", status: "online" });
  });

  it("lets a user edit their profile but not someone else's", async () => {
    const a = await createUser("edit_a");
    const b = await createUser("edit_b");
    await request(a.claims, (tx) => tx`update public.profiles set bio = 'hello' where id = ${a.id}`);
    const changed = await request(a.claims, (tx) => tx`update public.profiles set bio = 'hacked' where id = ${b.id} returning id`);
    expect(changed).toHaveLength(0);
    const [pb] = await sql`select bio from public.profiles where id = ${b.id}`;
    expect(pb?.bio).toBeNull();
  });

  it("hides a blocker's profile from the user they blocked", async () => {
    const a = await createUser("blocker");
    const b = await createUser("blocked");
    await request(a.claims, (tx) => tx`insert into public.user_blocks (blocker_id, blocked_id) values (${a.id}, ${b.id})`);
    expect(await select(b.claims, "select id from public.profiles where id = $1", [a.id])).toHaveLength(0);
    expect(await select(a.claims, "select id from public.profiles where id = $1", [b.id])).toHaveLength(1);
    expect(await sqlstate(rpc(b.claims, "create_direct_chat", { user_id: a.id }))).toBe("42501");
  });
});

describe("a group conversation", () => {
  let owner: TestUser;
  let member: TestUser;
  let outsider: TestUser;
  let chatId: string;

  beforeAll(async () => {
    owner = await createUser("g_owner");
    member = await createUser("g_member");
    outsider = await createUser("g_outsider");
    const [chat] = await rpc<{ id: string; member_count: number }>(owner.claims, "create_group_chat", {
      title: "Weekend plans",
      member_ids: [member.id],
    });
    chatId = chat!.id;
    expect(chat!.member_count).toBe(2);
  });

  it("delivers messages in a gap-free order and never duplicates a retried send", async () => {
    const clientId = randomUUID();
    const [first] = await rpc<{ id: string; seq: string }>(member.claims, "send_message", { chat_id: chatId, body: "hi all", client_id: clientId });
    const [retry] = await rpc<{ id: string; seq: string }>(member.claims, "send_message", { chat_id: chatId, body: "hi all", client_id: clientId });
    const [second] = await rpc<{ seq: string }>(owner.claims, "send_message", { chat_id: chatId, body: "hello!" });
    expect(retry!.id).toBe(first!.id);
    expect([Number(first!.seq), Number(second!.seq)]).toEqual([1, 2]);
  });

  it("shows unread counts and the last message in the chat list, and clears them on read", async () => {
    const [entry] = await rpc<{ chat_id: string; unread_count: string; last_message: { body: string } }>(
      member.claims, "list_chats", {}, "GET");
    expect(entry!.chat_id).toBe(chatId);
    expect(Number(entry!.unread_count)).toBe(1);
    expect(entry!.last_message.body).toBe("hello!");
    const [left] = await rpc<{ mark_chat_read: string }>(member.claims, "mark_chat_read", { chat_id: chatId });
    expect(Number(left!.mark_chat_read)).toBe(0);
    const [after] = await rpc<{ unread_count: string }>(member.claims, "list_chats", {}, "GET");
    expect(Number(after!.unread_count)).toBe(0);
  });

  it("pages history newest first with a seq cursor", async () => {
    for (let i = 0; i < 5; i++) await rpc(owner.claims, "send_message", { chat_id: chatId, body: `page ${i}` });
    const page1 = await rpc<{ seq: string }>(member.claims, "get_chat_messages", { chat_id: chatId, page_size: 3 }, "GET");
    const cursor = page1.at(-1)!.seq;
    const page2 = await rpc<{ seq: string }>(member.claims, "get_chat_messages", { chat_id: chatId, before_seq: cursor, page_size: 3 }, "GET");
    expect(page1.map((m) => Number(m.seq))).toEqual([7, 6, 5]);
    expect(page2.map((m) => Number(m.seq))).toEqual([4, 3, 2]);
  });

  it("keeps edit history and leaves a tombstone on delete", async () => {
    const [msg] = await rpc<{ id: string }>(member.claims, "send_message", { chat_id: chatId, body: "tyop" });
    await rpc(member.claims, "edit_message", { message_id: msg!.id, body: "typo" });
    const edits = await select(owner.claims, "select previous_body from public.message_edits where message_id = $1", [msg!.id]);
    expect(edits).toEqual([{ previous_body: "tyop" }]);
    await rpc(owner.claims, "delete_message", { message_id: msg!.id });
    const [tomb] = await select(member.claims, "select body, deleted_at is not null as deleted from public.messages where id = $1", [msg!.id]);
    expect(tomb).toEqual({ body: null, deleted: true });
  });

  it("summarises reactions on the message", async () => {
    const [msg] = await rpc<{ id: string }>(owner.claims, "send_message", { chat_id: chatId, body: "pizza?" });
    await rpc(member.claims, "toggle_reaction", { message_id: msg!.id, emoji: "🍕" });
    await rpc(owner.claims, "toggle_reaction", { message_id: msg!.id, emoji: "🍕" });
    await rpc(owner.claims, "toggle_reaction", { message_id: msg!.id, emoji: "👍" });
    await rpc(owner.claims, "toggle_reaction", { message_id: msg!.id, emoji: "👍" });
    const [row] = await select(member.claims, "select reaction_counts from public.messages where id = $1", [msg!.id]);
    expect(row!.reaction_counts).toEqual({ "🍕": 2 });
  });

  it("refuses outsiders and anon everything about the chat", async () => {
    expect(await select(outsider.claims, "select id from public.messages where chat_id = $1", [chatId])).toHaveLength(0);
    expect(await select(outsider.claims, "select chat_id from public.chat_members where chat_id = $1", [chatId])).toHaveLength(0);
    expect(await sqlstate(rpc(outsider.claims, "send_message", { chat_id: chatId, body: "let me in" }))).toBe("PT404");
    expect(await sqlstate(rpc(ANON, "send_message", { chat_id: chatId, body: "let me in" }))).toBe("42501");
    expect(await sqlstate(select(ANON, "select id from public.messages"))).toBe("42501");
  });

  it("lets an outsider join through an invite link and see history", async () => {
    const [link] = await rpc<{ token: string }>(owner.claims, "create_invite_link", { chat_id: chatId, max_uses: 1 });
    const [preview] = await rpc<{ title: string; already_member: boolean }>(outsider.claims, "get_invite_link_info", { token: link!.token }, "GET");
    expect(preview).toMatchObject({ title: "Weekend plans", already_member: false });
    await rpc(outsider.claims, "accept_invite_link", { token: link!.token });
    const visible = await select(outsider.claims, "select count(*)::int as n from public.messages where chat_id = $1", [chatId]);
    expect(visible[0]!.n).toBeGreaterThan(0);
  });

  it("enforces the role ladder", async () => {
    expect(await sqlstate(rpc(member.claims, "set_member_role", { chat_id: chatId, user_id: member.id, role: "admin" }))).toBe("42501");
    await rpc(owner.claims, "set_member_role", { chat_id: chatId, user_id: member.id, role: "admin" });
    expect(await sqlstate(rpc(member.claims, "remove_chat_member", { chat_id: chatId, user_id: owner.id }))).toBe("42501");
    await rpc(member.claims, "remove_chat_member", { chat_id: chatId, user_id: outsider.id });
    const members = await select(owner.claims, "select user_id from public.chat_members where chat_id = $1", [chatId]);
    expect(members.map((m) => m.user_id).sort()).toEqual([owner.id, member.id].sort());
  });
});

describe("sending limits", () => {
  it("rate-limits a user with a 429-class error that says when to retry, and stores nothing", async () => {
    const a = await createUser("rate_a");
    const b = await createUser("rate_b");
    const [chat] = await rpc<{ id: string }>(a.claims, "create_direct_chat", { user_id: b.id });
    for (let i = 0; i < 30; i++) await rpc(a.claims, "send_message", { chat_id: chat!.id, body: `m${i}` });
    const err = await rpc(a.claims, "send_message", { chat_id: chat!.id, body: "one too many" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "PT429" });
    const detail = JSON.parse((err as { detail: string }).detail) as { retry_after_seconds: number };
    expect(detail.retry_after_seconds).toBeGreaterThan(0);
    expect(detail.retry_after_seconds).toBeLessThanOrEqual(10);
    const [count] = await sql`select count(*)::int as n from public.messages where chat_id = ${chat!.id}`;
    expect(count!.n).toBe(30);
  });

  it("lets only admins post in a channel", async () => {
    const owner = await createUser("ch_owner");
    const reader = await createUser("ch_reader");
    const [channel] = await rpc<{ id: string }>(owner.claims, "create_channel", { title: "Announcements" });
    await rpc(reader.claims, "join_chat", { chat_id: channel!.id });
    expect(await sqlstate(rpc(reader.claims, "send_message", { chat_id: channel!.id, body: "hi" }))).toBe("42501");
    const [post] = await rpc<{ seq: string }>(owner.claims, "send_message", { chat_id: channel!.id, body: "welcome" });
    expect(Number(post!.seq)).toBe(1);
  });
});

describe("a freeze or a mute and the sends already under way", () => {
  // The member's send runs its checks before it waits for the chat row, so it starts while the moderator's
  // transaction is still open (the freeze or mute not visible yet), waits for the chat row, and goes on after the
  // commit: it must then be refused, and store nothing.
  async function sendDuringModeration(moderate: (tx: Tx, chatId: string, memberId: string) => Promise<unknown>) {
    const owner = await createUser("frz_owner");
    const member = await createUser("frz_poster");
    const [chat] = await rpc<{ id: string }>(owner.claims, "create_group_chat", { title: "Busy room", member_ids: [member.id] });
    const body = `in flight ${randomUUID()}`;
    let send: Promise<string | undefined> | undefined;
    await request(owner.claims, async (tx) => {
      await moderate(tx, chat!.id, member.id);
      send = sqlstate(rpc(member.claims, "send_message", { chat_id: chat!.id, body }));
      // Until the send waits for the chat row (a lock held by this transaction).
      for (let i = 0; ; i++) {
        const [w] = await sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
           where wait_event_type = 'Lock' and query like '%send_message%' and pid <> pg_backend_pid()`;
        if (w!.n > 0) break;
        if (i > 200) throw new Error("the send never waited for the chat row");
        await new Promise((r) => setTimeout(r, 10));
      }
    });
    const code = await send!;
    const [stored] = await sql<{ n: number }[]>`select count(*)::int as n from public.messages where chat_id = ${chat!.id} and body = ${body}`;
    return { code, stored: stored!.n };
  }

  it("refuses a member's send that was checked before a freeze committed", async () => {
    const r = await sendDuringModeration((tx, chatId) => tx`select * from public.freeze_chat(chat_id := ${chatId})`);
    expect(r).toEqual({ code: "42501", stored: 0 });
  });

  it("refuses a send of a member who was muted while it was under way", async () => {
    const r = await sendDuringModeration((tx, chatId, memberId) =>
      tx`select * from public.mute_chat_member(chat_id := ${chatId}, user_id := ${memberId}, duration_seconds := 600)`);
    expect(r).toEqual({ code: "42501", stored: 0 });
  });
});
