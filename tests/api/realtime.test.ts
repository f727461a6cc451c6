// Realtime from the client's side, with every request committed as PostgREST commits it: every broadcast and every
// catch-up answer parses with types/events.ts; a client that misses random broadcasts and fills the gaps with
// get_chat_events ends with exactly the server's state (property test); get_updates is exact under concurrent
// writers; only chats and messages reach postgres_changes, and a DELETE there carries nothing but an id.
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { type Claims, type TestUser, createUser, request, sql } from "./support/db.ts";
import { type ChatView, ChatClient } from "./support/chat-client.ts";
import {
  type ChatEventName,
  type UserEventName,
  chatBroadcast,
  chatEventNames,
  statusBroadcast,
  chatEventsPage,
  heartbeatResult,
  storedUserEventNames,
  updatesPage,
  userBroadcast,
  userEventNames,
} from "../../types/events.ts";

afterAll(() => sql.end());

type Row = Record<string, unknown>;
const ALLOWED_REFUSALS = new Set(["22023", "42501", "PT404", "PT429", "23514", "23505"]);

/** `supabase.rpc(fn, args)` as PostgREST runs it: a row for composite results, the value for scalar ones. */
async function rpc<T = Row>(claims: Claims, fn: string, args: Record<string, unknown> = {}, method: "GET" | "POST" = "POST"): Promise<T> {
  const names = Object.keys(args);
  const list = names.map((n, i) => `${n} := $${i + 1}`).join(", ");
  const rows = await request(claims, (tx) => tx.unsafe(`select * from public.${fn}(${list})`, names.map((n) => args[n] as never)), {
    method,
    path: `/rpc/${fn}`,
  });
  const row = rows[0] as Row | undefined;
  if (row && Object.keys(row).length === 1 && fn in row) return row[fn] as T;
  return row as T;
}

/** Runs an operation that may be refused; a refusal must be one of the documented errors. */
async function attempt(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    if (!ALLOWED_REFUSALS.has(code)) throw err;
    return false;
  }
}

interface Broadcast {
  topic: string;
  event: string;
  payload: { cursor: number; data: Row } & Row;
}

async function broadcasts(topics: string[]): Promise<Broadcast[]> {
  return (await sql`
    select topic, event, payload from realtime.messages
     where topic = any(${topics}) and extension = 'broadcast'
     order by inserted_at, (payload ->> 'cursor')::bigint nulls last`) as unknown as Broadcast[];
}

async function chatBroadcastsAfter(chatId: string, after: number): Promise<Broadcast[]> {
  return (await sql`
    select topic, event, payload from realtime.messages
     where topic = ${"chat:" + chatId} and extension = 'broadcast' and (payload ->> 'cursor')::bigint > ${after}
     order by (payload ->> 'cursor')::bigint`) as unknown as Broadcast[];
}

/** The chat as the server has it, seen by a member, in the shape of the client's view. */
async function serverView(claims: Claims, chatId: string): Promise<ChatView> {
  const [row] = await request(claims, (tx) => tx`
    select (select c.title from public.chats c where c.id = ${chatId}) as title,
           (select c.description from public.chats c where c.id = ${chatId}) as description,
           (select coalesce(jsonb_object_agg(m.user_id, jsonb_build_object('role', m.role, 'last_read_seq', m.last_read_seq)), '{}')
              from public.chat_members m where m.chat_id = ${chatId}) as members,
           (select coalesce(jsonb_object_agg(m.id, jsonb_build_object(
                     'seq', m.seq, 'author_id', m.author_id, 'kind', m.kind, 'body', m.body, 'deleted', m.deleted_at is not null,
                     'edited', m.edited_at is not null, 'pinned', m.pinned_at is not null, 'reply_count', m.reply_count,
                     'thread_root_id', m.thread_root_id, 'forwarded_from_message_id', m.forwarded_from_message_id,
                     'reaction_counts', m.reaction_counts)), '{}')
              from public.messages m where m.chat_id = ${chatId}) as messages`, { method: "GET" });
  const r = row as Row;
  const members = r.members as Record<string, { role: string; last_read_seq: number }>;
  for (const m of Object.values(members)) m.last_read_seq = Number(m.last_read_seq);
  return { title: r.title as string | null, description: r.description as string | null, members, messages: r.messages as ChatView["messages"] };
}

function pageFetcher(claims: Claims, chatId: string, pageSize: number) {
  return async (after: number) =>
    chatEventsPage.parse(await rpc(claims, "get_chat_events", { chat_id: chatId, after_cursor: after, page_size: pageSize }, "GET"));
}

describe("the realtime contract", () => {
  it("every broadcast and every catch-up answer of a full scenario parses with types/events.ts", async () => {
    const [a, b, c, d] = await Promise.all(["rt_a", "rt_b", "rt_c", "rt_d"].map((n) => createUser(n)));
    const team = await rpc<Row>(a!.claims, "create_group_chat", { title: "Contract", member_ids: [b!.id, c!.id] });
    const direct = await rpc<Row>(a!.claims, "create_direct_chat", { user_id: b!.id });
    const m1 = await rpc<Row>(a!.claims, "send_message", { chat_id: team.id, body: "first" });
    await rpc(a!.claims, "send_message", { chat_id: team.id, body: "reply", thread_root_id: m1.id });
    await rpc(a!.claims, "edit_message", { message_id: m1.id, body: "first, edited" });
    await rpc(a!.claims, "pin_message", { message_id: m1.id });
    await rpc(b!.claims, "toggle_reaction", { message_id: m1.id, emoji: "👍" });
    await rpc(b!.claims, "toggle_reaction", { message_id: m1.id, emoji: "👍" });
    await rpc(b!.claims, "mark_chat_read", { chat_id: team.id });
    await rpc(b!.claims, "mark_all_notifications_read", { chat_id: team.id });
    await rpc(b!.claims, "set_chat_preferences", { chat_id: team.id, muted_until: new Date(Date.now() + 3600_000).toISOString() });
    await rpc(a!.claims, "forward_message", { message_id: m1.id, to_chat_id: direct.id });
    // A file: uploaded as the Storage API inserts it, scanned clean, sent, then its thumbnail is ready.
    const fileId = randomUUID();
    await request(a!.claims, async (tx) => {
      await tx`select set_config('storage.operation', 'storage.object.upload', true)`;
      await tx`insert into storage.objects (bucket_id, name, owner, owner_id, metadata, version)
               values ('attachments', ${`${team.id}/${fileId}/photo.png`}, auth.uid(), auth.uid()::text,
                       ${tx.json({ size: 4096, mimetype: "image/png", httpStatusCode: 200 })}, gen_random_uuid()::text)`;
    });
    await sql`select private.set_attachment_scan_result(${fileId}, 'clean', detected_mime_type => 'image/png')`;
    await rpc(a!.claims, "send_message", { chat_id: team.id, kind: "image", attachment_ids: [fileId] });
    await sql`select private.set_attachment_thumbnail(${fileId}, 'ready', ${`${team.id}/${fileId}/photo.png.thumb.jpg`}, 64, 48)`;
    await rpc(a!.claims, "set_member_role", { chat_id: team.id, user_id: b!.id, role: "admin" });
    await rpc(a!.claims, "update_chat", { chat_id: team.id, title: "Contract 2", history_visible_to_new_members: false });
    await rpc(a!.claims, "set_disappearing_messages", { chat_id: team.id, ttl_seconds: 86400 });
    await rpc(a!.claims, "add_chat_members", { chat_id: team.id, user_ids: [d!.id] });
    await rpc(a!.claims, "edit_message", { message_id: m1.id, body: "first, edited twice" }); // partial for d
    await rpc(a!.claims, "delete_message", { message_id: m1.id });
    await rpc(a!.claims, "remove_chat_member", { chat_id: team.id, user_id: d!.id });
    await rpc(a!.claims, "ban_chat_member", { chat_id: team.id, user_id: c!.id });
    await rpc(b!.claims, "leave_chat", { chat_id: team.id });
    const doomed = await rpc<Row>(a!.claims, "create_group_chat", { title: "Doomed", member_ids: [b!.id] });
    await rpc(a!.claims, "delete_chat", { chat_id: doomed.id });
    // A direct message (chat.activity to the other person), a mention, the three invitation events, a status change.
    await rpc(b!.claims, "send_message", { chat_id: direct.id, body: "hi @a", mentions: [a!.id] });
    const club = await rpc<Row>(a!.claims, "create_group_chat", { title: "Invites", member_ids: [b!.id] });
    const inv1 = await rpc<Row>(a!.claims, "invite_user", { chat_id: club.id, user_id: c!.id });
    await rpc(c!.claims, "respond_to_invitation", { invitation_id: inv1.id, accept: false });
    const inv2 = await rpc<Row>(a!.claims, "invite_user", { chat_id: club.id, user_id: c!.id });
    await rpc(a!.claims, "revoke_invitation", { invitation_id: inv2.id });
    await rpc(b!.claims, "heartbeat", { status: "busy" });
    // Moderation: a report decided (report.resolved), a mute and its lifting (member.muted), a freeze and a thaw
    // (chat.frozen), a suspension by a moderator and its lifting (account.suspended).
    const spam = await rpc<Row>(a!.claims, "send_message", { chat_id: club.id, body: "spam" });
    const report = await rpc<Row>(b!.claims, "report_content", { target_kind: "message", target_id: spam.id, reason: "spam" });
    await rpc(a!.claims, "resolve_report", { report_id: report.id, action: "dismiss" });
    await rpc(a!.claims, "mute_chat_member", { chat_id: club.id, user_id: b!.id, duration_seconds: 600 });
    await rpc(a!.claims, "unmute_chat_member", { chat_id: club.id, user_id: b!.id });
    await rpc(a!.claims, "freeze_chat", { chat_id: club.id });
    await rpc(a!.claims, "unfreeze_chat", { chat_id: club.id });
    await sql`update auth.users set raw_app_meta_data = raw_app_meta_data || '{"app_role": "moderator"}' where id = ${d!.id}`;
    await rpc(d!.claims, "suspend_user", { user_id: c!.id, duration_seconds: 600 });
    await rpc(d!.claims, "unsuspend_user", { user_id: c!.id });

    const topics = [`chat:${team.id}`, `chat:${direct.id}`, `chat:${doomed.id}`, `chat:${club.id}`,
      ...[a, b, c, d].flatMap((u) => [`user:${u!.id}`, `status:${u!.id}`])];
    const seen = await broadcasts(topics);
    const counts: Record<string, number> = {};
    for (const bc of seen) {
      counts[bc.event] = (counts[bc.event] ?? 0) + 1;
      if (bc.topic.startsWith("status:")) {
        const parsed = statusBroadcast.safeParse(bc.payload);
        expect(parsed.success, `${bc.event}: ${parsed.error?.message}`).toBe(true);
        expect(bc.event).toBe("status.changed");
      } else if (bc.topic.startsWith("chat:")) {
        expect(chatEventNames, bc.event).toContain(bc.event);
        const parsed = chatBroadcast(bc.event as ChatEventName).safeParse(bc.payload);
        expect(parsed.success, `${bc.event}: ${parsed.error?.message}`).toBe(true);
      } else {
        expect(userEventNames, bc.event).toContain(bc.event);
        const parsed = userBroadcast(bc.event as UserEventName).safeParse(bc.payload);
        expect(parsed.success, `${bc.event}: ${parsed.error?.message}`).toBe(true);
        expect(bc.payload.event_id === null, bc.event).toBe(!storedUserEventNames.includes(bc.event as UserEventName));
      }
    }
    // Every event of the contract occurred at least once in this scenario.
    for (const name of [...chatEventNames, ...userEventNames, "status.changed"]) expect(counts[name] ?? 0, name).toBeGreaterThan(0);
    // Stored broadcasts never carry message content (Broadcast Replay hands them out without RLS), except the preview
    // of a notification on its recipient's own topic (docs/realtime.md, "The notification preview").
    const previews = seen.filter((bc) => bc.topic.startsWith("user:") && bc.event === "notification.created");
    const stored = JSON.stringify(seen.filter((bc) => !previews.includes(bc)).map((bc) => bc.payload));
    for (const body of ["first", "reply", "hi @a"]) expect(stored.includes(`"${body}`), body).toBe(false);
    const mentioned = previews.filter((bc) => JSON.stringify(bc.payload).includes("hi @a"));
    expect(mentioned.map((bc) => [bc.topic, (bc.payload.data as Row).kind, (bc.payload.data as Row).preview]))
      .toEqual([[`user:${a!.id}`, "mention", "hi @a"]]);

    // Catch-up pages and global sync answers parse too.
    const page = chatEventsPage.parse(await rpc(a!.claims, "get_chat_events", { chat_id: team.id }, "GET"));
    expect(page.events.length).toBeGreaterThan(10);
    const start = await rpc<Row>(d!.claims, "get_updates", {}, "GET");
    expect(updatesPage.parse(start).events).toEqual([]);
    const hb = heartbeatResult.parse(await rpc(a!.claims, "heartbeat", { status: "away" }));
    expect(hb.shown_status).toBe("away");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Property: live events with random losses + catch-up = the server's state
// ---------------------------------------------------------------------------------------------------------------
type Op =
  | { t: "send"; by: number; text: string }
  | { t: "reply"; by: number; root: number; text: string }
  | { t: "edit"; by: number; msg: number; text: string }
  | { t: "delete"; by: number; msg: number }
  | { t: "react"; by: number; msg: number; emoji: string }
  | { t: "read"; by: number }
  | { t: "pin"; by: number; msg: number; pinned: boolean }
  | { t: "role"; target: number; role: "admin" | "member" }
  | { t: "add"; target: number }
  | { t: "remove"; by: number; target: number }
  | { t: "title"; text: string };

const user = fc.integer({ min: 0, max: 3 });
const other = fc.integer({ min: 1, max: 3 });
const index = fc.nat(50);
const text = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim().length > 0);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant("send" as const), by: user, text }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("reply" as const), by: user, root: index, text }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("edit" as const), by: user, msg: index, text }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("delete" as const), by: user, msg: index }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("react" as const), by: user, msg: index, emoji: fc.constantFrom("👍", "🎉", "🔥") }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("read" as const), by: user }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("pin" as const), by: user, msg: index, pinned: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("role" as const), target: other, role: fc.constantFrom("admin" as const, "member" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("add" as const), target: other }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("remove" as const), by: user, target: other }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("title" as const), text }) },
);

const RUNS = Number(process.env.REALTIME_PROPERTY_RUNS ?? 40);

describe("exact delivery", () => {
  it(`a client that misses random broadcasts and catches up ends with the server's state (${RUNS} runs)`, async () => {
    let runs = 0;
    let totalEvents = 0;
    let totalCatchUps = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 5, maxLength: 25 }),
        fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
        fc.integer({ min: 1, max: 7 }),
        async (ops, received, pageSize) => {
          runs += 1;
          const users: TestUser[] = await Promise.all([0, 1, 2, 3].map((i) => createUser(`prop${i}`)));
          const owner = users[0]!;
          const chat = await rpc<Row>(owner.claims, "create_group_chat", {
            title: "Property", member_ids: [users[1]!.id, users[2]!.id],
          });
          const chatId = chat.id as string;
          // New members do not see earlier history (broadcasts are thin either way; catch-up applies the rules).
          await rpc(owner.claims, "update_chat", { chat_id: chatId, history_visible_to_new_members: false });

          const client = new ChatClient(pageFetcher(owner.claims, chatId, pageSize));
          const messages: string[] = [];
          let heard = 0;
          let delivered = 0;
          const deliver = async () => {
            for (const bc of await chatBroadcastsAfter(chatId, delivered)) {
              delivered = bc.payload.cursor;
              // The client receives this broadcast or misses it.
              if (received[heard++ % received.length]) await client.receive(bc.event, bc.payload);
            }
          };

          for (const op of ops) {
            const pick = (i: number) => messages[i % Math.max(messages.length, 1)];
            const claims = (i: number) => users[i]!.claims;
            await attempt(async () => {
              switch (op.t) {
                case "send":
                  messages.push((await rpc<Row>(claims(op.by), "send_message", { chat_id: chatId, body: op.text })).id as string);
                  break;
                case "reply":
                  if (!messages.length) return;
                  messages.push((await rpc<Row>(claims(op.by), "send_message", { chat_id: chatId, body: op.text, thread_root_id: pick(op.root) })).id as string);
                  break;
                case "edit":
                  if (messages.length) await rpc(claims(op.by), "edit_message", { message_id: pick(op.msg), body: op.text });
                  break;
                case "delete":
                  if (messages.length) await rpc(claims(op.by), "delete_message", { message_id: pick(op.msg) });
                  break;
                case "react":
                  if (messages.length) await rpc(claims(op.by), "toggle_reaction", { message_id: pick(op.msg), emoji: op.emoji });
                  break;
                case "read":
                  await rpc(claims(op.by), "mark_chat_read", { chat_id: chatId });
                  break;
                case "pin":
                  if (messages.length) await rpc(claims(op.by), "pin_message", { message_id: pick(op.msg), pinned: op.pinned });
                  break;
                case "role":
                  await rpc(owner.claims, "set_member_role", { chat_id: chatId, user_id: users[op.target]!.id, role: op.role });
                  break;
                case "add":
                  await rpc(owner.claims, "add_chat_members", { chat_id: chatId, user_ids: [users[op.target]!.id] });
                  break;
                case "remove":
                  await rpc(claims(op.by), "remove_chat_member", { chat_id: chatId, user_id: users[op.target]!.id });
                  break;
                case "title":
                  await rpc(owner.claims, "update_chat", { chat_id: chatId, title: op.text });
                  break;
              }
            });
            await deliver();
          }
          // Reconnect: whatever was missed at the end comes from the catch-up.
          await client.catchUp();
          totalEvents += delivered;
          totalCatchUps += client.catchUps;

          const server = await serverView(owner.claims, chatId);
          expect(client.view).toEqual(server);
          const [{ last_event_seq }] = (await sql`select last_event_seq from public.chats where id = ${chatId}`) as unknown as [{ last_event_seq: string }];
          expect(client.cursor).toBe(Number(last_event_seq));
        },
      ),
      { numRuns: RUNS, seed: 5150, endOnFailure: true },
    );
    expect(runs).toBe(RUNS);
    console.log(`[realtime property] ${runs} runs, ${totalEvents} chat events, ${totalCatchUps} catch-ups`);
  }, 300_000);
});

// ---------------------------------------------------------------------------------------------------------------
// get_updates: exact under concurrent writers
// ---------------------------------------------------------------------------------------------------------------
describe("global catch-up", () => {
  it("get_updates returns every event of every chat exactly once while others keep writing", async () => {
    const [me, x, y] = await Promise.all(["sync_me", "sync_x", "sync_y"].map((n) => createUser(n)));
    const chats = await Promise.all([0, 1, 2].map((i) => rpc<{ id: string }>(me!.claims, "create_group_chat", { title: `Sync ${i}`, member_ids: [x!.id, y!.id] })));
    let point = updatesPage.parse(await rpc(me!.claims, "get_updates", {}, "GET")).cursor;
    const baseline = new Map<string, number>();
    for (const c of chats) {
      const [{ last_event_seq }] = (await sql`select last_event_seq from public.chats where id = ${c.id as string}`) as unknown as [{ last_event_seq: string }];
      baseline.set(c.id as string, Number(last_event_seq));
    }

    const got = new Map<string, number[]>();
    let syncs = 0;
    const sync = async () => {
      let cursor = point;
      for (;;) {
        const page = updatesPage.parse(await rpc(me!.claims, "get_updates", { since: cursor, page_size: 7 }, "GET"));
        expect(page.reset_required).toBe(false);
        for (const e of page.events) {
          got.set(e.chat_id, [...(got.get(e.chat_id) ?? []), e.cursor]);
        }
        cursor = page.cursor;
        if (!page.has_more) break;
      }
      point = cursor;
      syncs += 1;
    };

    // Two writers send, react and read in all three chats while the client syncs over and over.
    let writing = true;
    const writer = async (u: TestUser, n: number) => {
      for (let i = 0; i < n; i++) {
        const chat = chats[i % 3]!.id as string;
        const m = await rpc<Row>(u.claims, "send_message", { chat_id: chat, body: `${i}` });
        await rpc(u.claims, "toggle_reaction", { message_id: m.id, emoji: "👍" });
        if (i % 4 === 0) await rpc(u.claims, "mark_chat_read", { chat_id: chat });
      }
    };
    const writers = Promise.all([writer(x!, 24), writer(y!, 24)]).finally(() => { writing = false; });
    while (writing) await sync();
    await writers;
    await sync();

    for (const c of chats) {
      const id = c.id as string;
      const [{ last_event_seq }] = (await sql`select last_event_seq from public.chats where id = ${id}`) as unknown as [{ last_event_seq: string }];
      const want = Array.from({ length: Number(last_event_seq) - baseline.get(id)! }, (_, i) => baseline.get(id)! + i + 1);
      expect((got.get(id) ?? []).sort((p, q) => p - q)).toEqual(want);
    }
    expect(syncs).toBeGreaterThan(1);
    // The user's own events come back too: a new chat shows up as chat.added.
    await rpc(x!.claims, "create_group_chat", { title: "Late", member_ids: [me!.id] });
    const late = updatesPage.parse(await rpc(me!.claims, "get_updates", { since: point }, "GET"));
    // ... and being added to it was a notification.
    expect(late.user_events.map((e) => e.event)).toEqual(["chat.added", "notification.created"]);
    // Of the new chat's events, only those from the user's own join on are theirs.
    expect(late.events.map((e) => [e.event, (e.data as Row).user_id])).toEqual([["participant.added", me!.id]]);
  }, 120_000);

  it("a mention is one notification.created, live and in the catch-up, with what a client renders; a delete clears its preview", async () => {
    const [x, y, z] = await Promise.all([createUser("ncx"), createUser("ncy"), createUser("ncz")]);
    const chat = await rpc<Row>(x.claims, "create_group_chat", { title: "Render", member_ids: [y.id, z.id] });
    const start = updatesPage.parse(await rpc(y.claims, "get_updates", {}, "GET")).cursor;
    await rpc(z.claims, "update_notification_settings", { hide_previews: true });
    const m = await rpc<Row>(x.claims, "send_message", { chat_id: chat.id, body: "@y @z lunch at noon", mentions: [y.id, z.id] });
    const page = updatesPage.parse(await rpc(y.claims, "get_updates", { since: start }, "GET"));
    const events = page.user_events.filter((e) => (e.data as Row).message_id === m.id);
    expect(events.map((e) => e.event)).toEqual(["notification.created"]);
    const data = events[0]!.data as Row;
    expect(data).toMatchObject({ kind: "mention", chat_id: chat.id, chat_title: "Render", message_id: m.id,
                                 preview: "@y @z lunch at noon", silent: false, unread_count: 2 });
    expect((data.actor as Row).id).toBe(x.id);
    const live = await broadcasts([`user:${y.id}`, `user:${z.id}`]);
    const mention = live.filter((bc) => bc.event === "notification.created" && (bc.payload.data as Row).message_id === m.id);
    expect(mention.map((bc) => [bc.topic, (bc.payload.data as Row).preview])).toEqual(
      expect.arrayContaining([[`user:${y.id}`, "@y @z lunch at noon"], [`user:${z.id}`, null]]));
    expect(mention).toHaveLength(2);
    expect(live.some((bc) => bc.event === "mention")).toBe(false);

    await rpc(x.claims, "delete_message", { message_id: m.id });
    const after = updatesPage.parse(await rpc(y.claims, "get_updates", { since: start }, "GET"));
    expect(after.user_events.filter((e) => (e.data as Row).message_id === m.id).map((e) => (e.data as Row).preview)).toEqual([null]);
  });

  it("a sync point older than the retained events requires a reset", async () => {
    const me = await createUser("sync_old");
    const point = updatesPage.parse(await rpc(me.claims, "get_updates", {}, "GET")).cursor;
    await rpc(me.claims, "create_group_chat", { title: "Old" });
    const [{ tx }] = (await sql`select max(tx)::text as tx from private.user_events where user_id = ${me.id}`) as unknown as [{ tx: string }];
    const [{ before }] = (await sql`select pruned_max_tx::text as before from private.event_retention`) as unknown as [{ before: string | null }];
    try {
      await sql`update private.event_retention set pruned_max_tx = ${tx}::xid8`;
      const page = updatesPage.parse(await rpc(me.claims, "get_updates", { since: point }, "GET"));
      expect(page.reset_required).toBe(true);
      expect(page.events).toEqual([]);
    } finally {
      await sql`update private.event_retention set pruned_max_tx = ${before}::xid8`;
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// postgres_changes: the tables reach logical decoding
// ---------------------------------------------------------------------------------------------------------------
describe("postgres_changes", () => {
  it("only chats and messages are published, and a message DELETE (sent to subscribers without RLS) carries only its id", async () => {
    const published = (await sql`select tablename from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'public' order by 1`)
      .map((r) => r.tablename as string);
    expect(published).toEqual(["chats", "messages"]);
    const slot = `chat_test_${process.pid}`;
    const a = await createUser("wal_a");
    const chat = await rpc<Row>(a.claims, "create_group_chat", { title: "WAL" });
    await sql`select pg_create_logical_replication_slot(${slot}, 'wal2json')`;
    try {
      const m = await rpc<Row>(a.claims, "send_message", { chat_id: chat.id, body: "decoded" });
      // A hard delete (service role, account deletion): the DELETE postgres_changes would send to every subscriber.
      await sql`delete from public.messages where id = ${m.id as string}`;
      // Decoding reads WAL up to what is flushed (the test cluster commits asynchronously): poll briefly.
      const changes: Row[] = [];
      const done = () => changes.some((c) => c.table === "messages" && c.action === "D");
      for (let i = 0; i < 50 && !done(); i++) {
        const rows = (await sql`
          select data from pg_logical_slot_get_changes(${slot}, null, null, 'format-version', '2',
                                                       'add-tables', 'public.messages')`) as unknown as { data: string }[];
        changes.push(...rows.map((r) => JSON.parse(r.data) as Row).filter((c) => c.action !== "B" && c.action !== "C"));
        if (!done()) await new Promise((r) => setTimeout(r, 100));
      }
      const insert = changes.find((c) => c.table === "messages" && c.action === "I"
        && (c.columns as { name: string; value: unknown }[]).some((col) => col.name === "id" && col.value === m.id));
      const columns = insert?.columns as { name: string; value: unknown }[];
      expect(columns.find((c) => c.name === "body")?.value).toBe("decoded");
      const removal = changes.find((c) => c.table === "messages" && c.action === "D");
      const identity = removal?.identity as { name: string; value: unknown }[];
      expect(identity.map((c) => c.name)).toEqual(["id"]);
      expect(identity[0]?.value).toBe(m.id);
    } finally {
      await sql`select pg_drop_replication_slot(${slot})`;
    }
  });
});
