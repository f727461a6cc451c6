// docs/api.md, executed: every ```ts block runs as written through supabase-js against the local stack, with the
// free variables it uses (supabase, me, chatId, ...) set up by its scenario below. A block passes when it throws
// nothing and every HTTP answer it caused is 2xx (or one of the statuses its scenario expects). A block that has no
// scenario, or a scenario whose block is gone, fails the suite: documentation and tests cannot drift apart.
import { readFileSync } from "node:fs";
import path from "node:path";
import { createClient as createSupabaseClient, type SupabaseClientOptions } from "@supabase/supabase-js";
import WebSocket from "ws";
import { describe, expect, it } from "vitest";
import { runBlock, tsBlocks } from "./support/docs-blocks.ts";
import { stack } from "./support/clients.ts";
import { actor, call, group, message, type Actor } from "./support/world.ts";

/** createClient as the page's blocks call it; on Node 20 realtime-js needs the `ws` transport a browser would not. */
function createClient(url: string, key: string, options: SupabaseClientOptions<"public"> = {}) {
  return createSupabaseClient(url, key, { ...options, realtime: { transport: WebSocket as never, ...options.realtime } });
}

const root = path.resolve(import.meta.dirname, "..", "..");
const blocks = tsBlocks(readFileSync(path.join(root, "docs", "api.md"), "utf8"));

interface Scenario {
  /** Builds what the block needs; returns the acting user and the block's other free variables. */
  setup(): Promise<{ as?: Actor; scope?: Record<string, unknown> }>;
  /** HTTP statuses the block may receive besides 2xx (a call the page documents as failing). */
  allow?: number[];
  /** Blocks that make no request (setup code). */
  requests?: 0;
  /** Checks after the block ran. */
  after?(as: Actor | undefined): Promise<void>;
}

type Entry = Scenario | { skip: string };

/** Three users: the actor (alice) and two others, with the actor's `me`. */
async function trio() {
  const [alice, bob, carol] = await Promise.all([actor("alice"), actor("bob"), actor("carol")]);
  return { alice, bob, carol };
}

async function aliceInGroup() {
  const t = await trio();
  const chatId = await group(t.alice, [t.bob, t.carol]);
  return { ...t, chatId };
}

const ignore = () => {};

const scenarios: Record<string, Entry> = {
  "Client API (supabase-js v2) #1": {
    requests: 0,
    async setup() {
      return { scope: { createClient, SUPABASE_URL: stack.url, SUPABASE_ANON_KEY: stack.publishableKey } };
    },
  },

  // Users
  "PUT /users/me #1": {
    async setup() {
      const { alice } = await trio();
      return { as: alice, scope: { me: alice.id } };
    },
  },
  "GET /users/:id #1": {
    async setup() {
      const { alice, bob } = await trio();
      return { as: alice, scope: { userId: bob.id } };
    },
  },
  "GET /users?search= #1": {
    async setup() {
      const { alice } = await trio();
      return { as: alice, scope: { term: "bo(b)%" } };
    },
  },
  "POST /users/:id/block and DELETE /users/:id/block #1": {
    async setup() {
      const { alice, bob } = await trio();
      return { as: alice, scope: { me: alice.id, userId: bob.id } };
    },
  },

  // Chats
  "GET /chats: the chat list #1": {
    async setup() {
      const t = await trio();
      await group(t.alice, [t.bob], "one");
      await group(t.bob, [t.alice], "two");
      return { as: t.alice };
    },
  },
  "GET /chats: the chat list #2": {
    async setup() {
      const { alice, bob } = await trio();
      await call(bob, "create_channel", { title: "Release news", discoverable: true });
      return { as: alice, scope: { q: "news" } };
    },
  },
  "POST /chats #1": {
    async setup() {
      const { alice, bob, carol } = await trio();
      const channel = await call(carol, "create_channel", { title: "Open", discoverable: true });
      return { as: alice, scope: { otherUserId: bob.id, u1: bob.id, u2: carol.id, chatId: (channel as { id: string }).id } };
    },
  },
  "GET /chats/:id #1": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId } };
    },
  },
  "PUT /chats/:id #1": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId } };
    },
  },
  "DELETE /chats/:id #1": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId } };
    },
  },
  "POST /chats/:id/leave #1": {
    async setup() {
      const { alice, bob } = await trio();
      return { as: alice, scope: { chatId: await group(bob, [alice]) } };
    },
  },
  "POST /chats/:id/transfer #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId, userId: bob.id } };
    },
  },
  "PUT /chats/:id/preferences (archive, pin, mute, notification level) #1": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId } };
    },
  },

  // Participants, bans, invitations
  "GET /chats/:id/participants #1": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId, lastUserId: null } };
    },
  },
  "POST /chats/:id/participants #1": {
    async setup() {
      const { alice, bob, carol } = await trio();
      return { as: alice, scope: { chatId: await group(alice), u1: bob.id, u2: carol.id } };
    },
  },
  "PUT /chats/:id/participants/:userId #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId, userId: bob.id } };
    },
  },
  "DELETE /chats/:id/participants/:userId #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId, userId: bob.id } };
    },
  },
  "Bans #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId, userId: bob.id } };
    },
  },
  "POST /chats/:id/invites #1": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId } };
    },
  },
  "POST /chats/:id/invites #2": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      const link = await call(alice, "create_invite_link", { chat_id: chatId });
      return { as: alice, scope: { chatId, link } };
    },
  },
  "GET /invites/:token #1": {
    async setup() {
      const { alice, bob } = await trio();
      const link = await call(bob, "create_invite_link", { chat_id: await group(bob) });
      return { as: alice, scope: { token: (link as { token: string }).token } };
    },
  },
  "POST /invites/:token/accept #1": {
    async setup() {
      const { alice, bob } = await trio();
      const link = await call(bob, "create_invite_link", { chat_id: await group(bob) });
      return { as: alice, scope: { token: (link as { token: string }).token } };
    },
  },
  "Direct invitations #1": {
    async setup() {
      const { alice, carol } = await trio();
      return { as: alice, scope: { chatId: await group(alice), userId: carol.id } };
    },
  },
  "Direct invitations #2": {
    async setup() {
      const { alice, bob } = await trio();
      await call(bob, "invite_user", { chat_id: await group(bob), user_id: alice.id });
      return { as: alice, scope: { me: alice.id } };
    },
  },

  // Messages
  "GET /chats/:id/messages: history #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      const first = await message(bob, chatId, "one");
      await message(alice, chatId, "two");
      const last = await message(bob, chatId, "three");
      return { as: alice, scope: { chatId, oldestSeqShown: last.seq, newestSeqShown: first.seq, seq: first.seq } };
    },
  },
  "GET /chats/:id/messages: history #2": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      const m = await message(bob, chatId, "one");
      return { as: alice, scope: { chatId, cursor: m.seq + 1 } };
    },
  },
  "POST /chats/:id/messages: send #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId, bobId: bob.id } };
    },
  },
  "PUT /messages/:id #1": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { messageId: (await message(alice, chatId, "fixed tpyo")).id } };
    },
  },
  "DELETE /messages/:id #1": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { messageId: (await message(alice, chatId)).id } };
    },
  },
  "GET /messages/:id/edits #1": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      const m = await message(alice, chatId, "first");
      await call(alice, "edit_message", { message_id: m.id, body: "second" });
      return { as: alice, scope: { messageId: m.id } };
    },
  },
  "Replies and threads #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      const m = await message(bob, chatId, "question");
      await call(alice, "send_message", { chat_id: chatId, body: "answer", reply_to_id: m.id });
      return { as: alice, scope: { chatId } };
    },
  },
  "Replies and threads #2": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      const root = await message(bob, chatId, "topic");
      await call(alice, "send_message", { chat_id: chatId, body: "in thread", thread_root_id: root.id });
      return { as: alice, scope: { rootId: root.id, lastSeenSeq: null } };
    },
  },
  "Forward #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      const m = await message(bob, chatId, "worth sharing");
      return { as: alice, scope: { messageId: m.id, targetChatId: await group(alice, [], "elsewhere") } };
    },
  },
  "Pin and unpin #1": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId, messageId: (await message(alice, chatId)).id } };
    },
  },
  "Reactions #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      return { as: alice, scope: { messageId: (await message(bob, chatId)).id } };
    },
  },
  "Reactions #2": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      const m = await message(bob, chatId);
      await call(bob, "toggle_reaction", { message_id: m.id, emoji: "👍" });
      return { as: alice, scope: { messageId: m.id } };
    },
  },

  // Read state
  "POST /chats/:id/read #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId, newestSeqShown: (await message(bob, chatId)).seq } };
    },
  },
  "Unread counts #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      await message(bob, chatId);
      return { as: alice, scope: { chatId, me: alice.id } };
    },
  },
  "Read receipts (small chats) #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      const m = await message(alice, chatId);
      await call(bob, "mark_chat_read", { chat_id: chatId, up_to_seq: m.seq });
      return { as: alice, scope: { chatId, message: m } };
    },
  },

  // Catch-up and presence
  "Catch up one chat #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      await message(bob, chatId);
      return { as: alice, scope: { chatId, lastAppliedCursor: 0, reloadChat: async () => {}, apply: ignore } };
    },
  },
  "Catch up everything (app back online) #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      await message(bob, chatId);
      return {
        as: alice,
        scope: { storedSyncCursor: null, reloadEverything: async () => {}, applyUserEvent: ignore, applyChatEvent: ignore },
      };
    },
  },

  // Audit log
  "Audit log #1": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId } };
    },
  },
};

describe("docs/api.md runs as written", () => {
  it("every code block has a scenario or a reason to skip, and every scenario has its block", () => {
    const ids = blocks.map((b) => b.id);
    expect(ids.filter((id) => !(id in scenarios))).toEqual([]);
    expect(Object.keys(scenarios).filter((id) => !ids.includes(id))).toEqual([]);
  });

  for (const block of blocks) {
    const entry = scenarios[block.id];
    if (!entry || "skip" in entry) continue;
    it(`${block.id} (docs/api.md:${block.line})`, async () => {
      const { as, scope = {} } = await entry.setup();
      const before = as?.log.length ?? 0;
      await runBlock(block.code, { ...(as ? { supabase: as.supabase } : {}), ...scope });
      const answers = as ? as.log.slice(before) : [];
      if (entry.requests === 0) expect(answers).toEqual([]);
      else expect(answers.length, "the block made no request").toBeGreaterThan(0);
      const allowed = new Set(entry.allow ?? []);
      expect(answers.filter((a) => a.status >= 400 && !allowed.has(a.status))).toEqual([]);
      await entry.after?.(as);
    });
  }

  it("lists the blocks it does not run, each with a reason", () => {
    const skipped = Object.entries(scenarios).filter(([, e]) => "skip" in e);
    for (const [, e] of skipped) expect((e as { skip: string }).skip.length).toBeGreaterThan(10);
  });
});
