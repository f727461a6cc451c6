// Search never shows more than the history does: over random worlds (two groups and a direct chat, random sends,
// edits, deletes, additions, leaves, bans, blocks and history settings, every step a real API call through the
// request context), every result of search_messages, for every user and several queries, is a message that
// get_chat_messages returns to that user, not deleted, not by a user on either side of a block with them, and its
// snippet (marks removed, HTML unescaped) is text of that message's body. And search is not trivially empty: every
// visible message with a searched word is found.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import type postgres from "postgres";
import { inRequest } from "../../stack/shared/request-context.ts";
import { SOAK, connect, createUsers, type User } from "./support.ts";

const RUNS = SOAK ? 200 : 20;
const SEED = 20261202;
const WORDS = ["apple", "banana", "cherry", "delta"] as const;
const USERS = 5;

type Action =
  | { t: "send"; u: number; c: number; words: number[]; mention: boolean }
  | { t: "edit"; u: number; m: number; words: number[] }
  | { t: "delete"; u: number; m: number }
  | { t: "add"; c: number; who: number }
  | { t: "leave"; u: number; c: number }
  | { t: "ban"; c: number; who: number }
  | { t: "block"; u: number; who: number }
  | { t: "unblock"; u: number; who: number }
  | { t: "history"; c: number; visible: boolean }
  | { t: "index" }
  | { t: "age"; c: number; hours: number };

const user = fc.integer({ min: 0, max: USERS - 1 });
const chat = fc.integer({ min: 0, max: 2 });
const words = fc.array(fc.integer({ min: 0, max: WORDS.length - 1 }), { minLength: 1, maxLength: 4 });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant("send" as const), u: user, c: chat, words, mention: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("edit" as const), u: user, m: fc.nat(), words }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("delete" as const), u: user, m: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("add" as const), c: chat, who: user }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("leave" as const), u: user, c: chat }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("ban" as const), c: chat, who: user }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("block" as const), u: user, who: user }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("unblock" as const), u: user, who: user }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("history" as const), c: chat, visible: fc.boolean() }) },
  // The search-index job: queued messages move into the index (so a world searches some of each).
  { weight: 2, arbitrary: fc.record({ t: fc.constant("index" as const) }) },
  // A chat's messages so far become older (hours to years), so the newest-first walk crosses its time windows.
  { weight: 2, arbitrary: fc.record({ t: fc.constant("age" as const), c: chat, hours: fc.integer({ min: 1, max: 40_000 }) }) },
);

let admin: postgres.Sql;
let client: postgres.Sql;

beforeAll(() => {
  admin = connect();
  client = connect();
});

afterAll(async () => {
  await client.end({ timeout: 5 });
  await admin.end({ timeout: 5 });
});

/** One API call; a refusal (not a member, not allowed, ...) is part of the random world, not a failure. */
async function attempt(u: User, fn: (tx: postgres.TransactionSql) => Promise<unknown>): Promise<void> {
  try {
    await inRequest(client, u.claims, fn);
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    if (!["42501", "PT404", "22023", "23505", "23514", "PT429"].includes(code)) throw err;
  }
}

function unescapeHtml(s: string): string {
  return s.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&amp;", "&");
}

interface Visible {
  id: string;
  chat_id: string;
  body: string | null;
  author_id: string | null;
  deleted_at: string | null;
}

interface Hit {
  message_id: string;
  chat_id: string;
  author_id: string | null;
  snippet: string;
  cursor: string;
}

async function world(actions: Action[]): Promise<void> {
  const users = await createUsers(admin, "srch", USERS);
  const u = (i: number) => users[i]!;
  const one = async <T>(who: User, fn: (tx: postgres.TransactionSql) => Promise<T[]>) => (await inRequest(client, who.claims, fn))[0]!;
  const g0 = await one(u(0), (tx) => tx<{ id: string }[]>`select id from public.create_group_chat('g0', ${[u(1).id, u(2).id]}::uuid[])`);
  const g1 = await one(u(1), (tx) => tx<{ id: string }[]>`select id from public.create_group_chat('g1', ${[u(0).id, u(3).id]}::uuid[])`);
  const d = await one(u(2), (tx) => tx<{ id: string }[]>`select id from public.create_direct_chat(${u(3).id}::uuid)`);
  const chats = [g0.id, g1.id, d.id];
  // Who adds, bans and changes settings in each chat: its owner (the direct chat has none, so those calls fail).
  const owners = [0, 1, 2];
  // g0 starts with hidden history for new members, g1 with visible history.
  await inRequest(client, u(0).claims, (tx) => tx`select public.update_chat(${g0.id}::uuid, history_visible_to_new_members => false)`);
  const messages: string[] = [];
  const text = (ws: number[]) => ws.map((w) => WORDS[w]).join(" ") + " <b>&</b>";

  for (const a of actions) {
    if (a.t === "index") {
      await admin`select private.index_pending_messages()`;
      continue;
    }
    if (a.t === "age") {
      // Time moves for the data, not the code: the chat and its messages (and their index rows) are backdated.
      await admin.begin(async (tx) => {
        // Everything that records the chat's times moves with them (bench.check_consistency, which other suites of
        // this database check, compares last_message_at with the newest message).
        await tx`update public.chats set created_at = created_at - make_interval(hours => ${a.hours}),
                                          last_message_at = last_message_at - make_interval(hours => ${a.hours})
                  where id = ${chats[a.c]!}::uuid`;
        await tx`update public.messages set created_at = created_at - make_interval(hours => ${a.hours}) where chat_id = ${chats[a.c]!}::uuid`;
        await tx`update private.message_search set created_at = created_at - make_interval(hours => ${a.hours}) where chat_id = ${chats[a.c]!}::uuid`;
      });
      continue;
    }
    const me = u("u" in a ? a.u : owners[a.c]!);
    switch (a.t) {
      case "send":
        await attempt(me, async (tx) => {
          const [m] = await tx<{ id: string }[]>`select id from public.send_message(chat_id => ${chats[a.c]!}::uuid, body => ${text(a.words)},
                                                   mentions => ${a.mention ? users.map((x) => x.id) : []}::uuid[])`;
          if (m) messages.push(m.id);
        });
        break;
      case "edit":
        if (messages.length) await attempt(me, (tx) => tx`select public.edit_message(${messages[a.m % messages.length]!}::uuid, ${text(a.words) + " edited"})`);
        break;
      case "delete":
        if (messages.length) await attempt(me, (tx) => tx`select public.delete_message(${messages[a.m % messages.length]!}::uuid)`);
        break;
      case "add":
        await attempt(me, (tx) => tx`select public.add_chat_members(${chats[a.c]!}::uuid, ${[u(a.who).id]}::uuid[])`);
        break;
      case "leave":
        await attempt(me, (tx) => tx`select public.leave_chat(${chats[a.c]!}::uuid)`);
        break;
      case "ban":
        await attempt(me, (tx) => tx`select public.ban_chat_member(${chats[a.c]!}::uuid, ${u(a.who).id}::uuid)`);
        break;
      case "block":
        if (a.who !== a.u) await attempt(me, (tx) => tx`insert into public.user_blocks (blocked_id) values (${u(a.who).id}::uuid) on conflict do nothing`);
        break;
      case "unblock":
        await attempt(me, (tx) => tx`delete from public.user_blocks where blocker_id = ${me.id}::uuid and blocked_id = ${u(a.who).id}::uuid`);
        break;
      case "history":
        await attempt(me, (tx) => tx`select public.update_chat(${chats[a.c]!}::uuid, history_visible_to_new_members => ${a.visible})`);
        break;
    }
  }

  const blocks = await admin<{ blocker_id: string; blocked_id: string }[]>`
    select blocker_id::text, blocked_id::text from public.user_blocks where blocker_id in ${admin(users.map((x) => x.id))}`;
  for (const me of users) {
    // What the history shows this user: every page of every chat they can open.
    const visible = new Map<string, Visible>();
    for (const c of chats) {
      const page = await inRequest(client, me.claims, (tx) =>
        tx<Visible[]>`select id::text, chat_id::text, body, author_id::text, deleted_at::text from public.get_chat_messages(${c}::uuid, page_size => 200)`,
      ).catch((err: { code?: string }) => {
        if (err.code === "PT404") return [] as Visible[];
        throw err;
      });
      for (const m of page) visible.set(m.id, m);
    }
    const partners = new Set(blocks.flatMap((b) => (b.blocker_id === me.id ? [b.blocked_id] : b.blocked_id === me.id ? [b.blocker_id] : [])));
    for (const query of [...WORDS.map((w) => `${w} `), "ban", '"apple banana"', "cherry or delta ", "apple -banana ", "b"]) {
      for (const sort of ["relevance", "newest"] as const) {
        // Every page, found through the GIN index and again through the newest-first walk (search_message_hits
        // picks one by the word's frequency; both must give the same pages, cursors and snippets).
        const pages = async (strategy: "index" | "recent") => {
          const found: Hit[] = [];
          let cursor: string | null = null;
          for (let guard = 0; guard < 20; guard++) {
            const page: Hit[] = await inRequest(client, me.claims, async (tx) => {
              await tx`select set_config('chat.search_strategy', ${strategy}, true)`;
              return tx<Hit[]>`select message_id::text, chat_id::text, author_id::text, snippet, cursor
                                 from public.search_messages(${query}, sort => ${sort}, cursor => ${cursor}, page_size => 7)`;
            });
            found.push(...page);
            if (page.length < 7) break;
            cursor = page.at(-1)!.cursor;
          }
          return found;
        };
        const hits = await pages("index");
        expect(await pages("recent"), `${query} (${sort}): the newest-first walk gives the index's pages`).toEqual(hits);
        expect(new Set(hits.map((h) => h.message_id)).size, `${query} (${sort}): pages do not repeat a result`).toBe(hits.length);
        for (const h of hits) {
          const m = visible.get(h.message_id);
          expect(m, `${query} (${sort}) returned a message get_chat_messages does not return`).toBeDefined();
          expect(m!.deleted_at, `${query}: a deleted message`).toBeNull();
          expect(m!.author_id !== null && partners.has(m!.author_id), `${query}: a message across a block`).toBe(false);
          for (const fragment of h.snippet.split(" … ")) {
            expect(m!.body ?? "", `${query}: the snippet is text of the message`).toContain(unescapeHtml(fragment.replaceAll("<mark>", "").replaceAll("</mark>", "")));
          }
          expect(h.snippet.replace(/<\/?mark>/g, ""), "the snippet has no other markup").not.toMatch(/[<>]/);
        }
        if (/^[a-z]+ $/.test(query)) {
          const word = query.trim();
          const expected = [...visible.values()].filter((m) =>
            m.deleted_at === null && m.body !== null && m.body.split(/\s+/).includes(word) && !(m.author_id && partners.has(m.author_id)));
          expect(hits.map((h) => h.message_id).sort(), `${query} (${sort}) finds every visible message with the word`)
            .toEqual(expected.map((m) => m.id).sort());
        }
      }
    }
  }
}

describe("search visibility", () => {
  it("search results and snippets are always a subset of what get_chat_messages returns", async () => {
    await fc.assert(fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 30 }), world), { numRuns: RUNS, seed: SEED });
  });
});
