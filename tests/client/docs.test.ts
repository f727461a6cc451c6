// docs/api.md, executed: every ```ts block runs as written through supabase-js against the local stack, with the
// free variables it uses (supabase, me, chatId, ...) set up by its scenario below. A block passes when it throws
// nothing and every HTTP answer it caused is 2xx (or one of the statuses its scenario expects). A block that has no
// scenario, or a scenario whose block is gone, fails the suite: documentation and tests cannot drift apart.
import { readFileSync } from "node:fs";
import path from "node:path";
import { createClient } from "@supabase/supabase-js";
import * as OTPAuth from "otpauth";
import { describe, expect, it } from "vitest";
import { runBlock, tsBlocks } from "./support/docs-blocks.ts";
import { serviceClient, stack } from "./support/clients.ts";
import { latestMail, newAddress, otpIn } from "./support/mail.ts";
import { db } from "./support/users.ts";
import { actor, authActor, call, group, message, type Actor } from "./support/world.ts";


const root = path.resolve(import.meta.dirname, "..", "..");
const blocks = tsBlocks(readFileSync(path.join(root, "docs", "api.md"), "utf8"));

/** Who runs a block: a client whose HTTP answers are recorded. */
type Runner = Pick<Actor, "supabase" | "log">;

interface Scenario {
  /** Builds what the block needs; returns the acting client and the block's other free variables. */
  setup(): Promise<{ as?: Runner; scope?: Record<string, unknown> }>;
  /** HTTP statuses the block may receive besides 2xx (a call the page documents as failing). */
  allow?: number[];
  /** Blocks that make no request (setup code). */
  requests?: 0;
  /** Checks after the block ran. */
  after?(as: Runner | undefined, scope: Record<string, unknown>): Promise<void>;
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

/** A password that meets the project's policy (10+ characters, lower and upper case, digits). */
const PASSWORD = "Correct-Horse-9-Battery";

/** A confirmed account (made with the admin API) and a signed-out client of its own. */
async function account(name: string) {
  const email = newAddress(name);
  const { error } = await serviceClient().auth.admin.createUser({ email, password: PASSWORD, email_confirm: true });
  if (error) throw error;
  return { as: authActor(), email };
}

/** A confirmed account whose client is signed in with its password. */
async function signedIn(name: string) {
  const a = await account(name);
  const { error } = await a.as.supabase.auth.signInWithPassword({ email: a.email, password: PASSWORD });
  if (error) throw error;
  return a;
}

/** What the user's authenticator app shows now for their newest factor (read from GoTrue's table). */
function authenticatorFor(email: string) {
  return async () => {
    const [row] = await db()<{ secret: string }[]>`
      select f.secret from auth.mfa_factors f join auth.users u on u.id = f.user_id
       where u.email = ${email} order by f.created_at desc limit 1`;
    if (!row) throw new Error(`no factor for ${email}`);
    return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(row.secret) }).generate();
  };
}

/** A signed-in account with a verified TOTP factor; `aal2` keeps the session at aal2, else it signs in anew (aal1). */
async function withFactor(name: string, aal2: boolean) {
  const a = await signedIn(name);
  const auth = a.as.supabase.auth;
  const { data: factor, error } = await auth.mfa.enroll({ factorType: "totp", friendlyName: "Phone" });
  if (error) throw error;
  const verified = await auth.mfa.challengeAndVerify({ factorId: factor.id, code: await authenticatorFor(a.email)() });
  if (verified.error) throw verified.error;
  if (!aal2) {
    // A new password sign-in starts at aal1.
    const again = await auth.signInWithPassword({ email: a.email, password: PASSWORD });
    if (again.error) throw again.error;
  }
  return { ...a, factorId: factor.id };
}

/** A 1x1 PNG. */
const PNG = Uint8Array.from(
  atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="),
  (c) => c.charCodeAt(0),
);

/** An image uploaded by `user` to `chatId` through Storage; returns its attachment id. */
async function upload(user: Actor, chatId: string): Promise<string> {
  const id = crypto.randomUUID();
  const { error } = await user.supabase.storage.from("attachments").upload(`${chatId}/${id}/photo.png`, new Blob([PNG], { type: "image/png" }), { contentType: "image/png" });
  if (error) throw error;
  return id;
}

/**
 * An upload with a thumbnail, as the server leaves it once the thumbnail function ran: the thumbnail object written
 * through Storage with the service role, and its path on the attachment row.
 */
async function uploadWithThumbnail(user: Actor, chatId: string): Promise<{ id: string; object_path: string; thumbnail_path: string }> {
  const id = await upload(user, chatId);
  const thumbnail = `${chatId}/${id}/thumbnail/photo.jpg`;
  const { error } = await serviceClient().storage.from("attachments").upload(thumbnail, new Blob([PNG], { type: "image/jpeg" }), { contentType: "image/jpeg" });
  if (error) throw error;
  const [a] = await db()<{ id: string; object_path: string; thumbnail_path: string }[]>`
    update public.attachments set thumbnail_path = ${thumbnail}, thumbnail_status = 'ready' where id = ${id}
    returning id, object_path, thumbnail_path`;
  return a!;
}

const scenarios: Record<string, Entry> = {
  "Client API (supabase-js v2) #1": {
    requests: 0,
    async setup() {
      return { scope: { createClient, SUPABASE_URL: stack.url, SUPABASE_ANON_KEY: stack.publishableKey } };
    },
  },

  // Auth
  "POST /auth/register #1": {
    async setup() {
      return { as: authActor(), scope: { email: newAddress("register"), password: PASSWORD } };
    },
    async after() {
      // The confirmation email was delivered; the user exists unconfirmed.
      const [row] = await db()<{ n: number }[]>`
        select count(*)::int as n from auth.users where email like 'register.%' and email_confirmed_at is null`;
      expect(row!.n).toBeGreaterThan(0);
    },
  },
  "POST /auth/verify-email #1": {
    async setup() {
      const as = authActor();
      const email = newAddress("verify");
      const { error } = await as.supabase.auth.signUp({ email, password: PASSWORD });
      if (error) throw error;
      return { as, scope: { email, code: otpIn(await latestMail(email)) } };
    },
    async after(as) {
      const { data } = await as!.supabase.auth.getSession();
      expect(data.session?.user.email_confirmed_at).toBeTruthy();
    },
  },
  "POST /auth/verify-email #2": {
    async setup() {
      const as = authActor();
      const email = newAddress("resend");
      const { error } = await as.supabase.auth.signUp({ email, password: PASSWORD });
      if (error) throw error;
      // The first email went out more than max_frequency (60 s) ago.
      await db()`update auth.users set confirmation_sent_at = now() - interval '2 minutes' where email = ${email}`;
      return { as, scope: { email } };
    },
  },
  "POST /auth/login #1": {
    async setup() {
      const { as, email } = await account("login");
      return { as, scope: { email, password: PASSWORD } };
    },
    async after(as) {
      expect((await as!.supabase.auth.getSession()).data.session).not.toBeNull();
    },
  },
  "POST /auth/logout #1": {
    async setup() {
      return { as: (await signedIn("logout")).as };
    },
  },
  "POST /auth/refresh #1": {
    async setup() {
      return { as: (await signedIn("refresh")).as };
    },
  },
  "POST /auth/reset-password #1": {
    async setup() {
      const { as, email } = await signedIn("reset");
      return { as, scope: { email, newPassword: "Another-Horse-7-Battery" } };
    },
  },
  "POST /auth/reset-password #2": {
    async setup() {
      return { as: (await signedIn("reauth")).as };
    },
  },
  "POST /auth/reset-password #3": {
    async setup() {
      const { as, email } = await signedIn("nonce");
      const { error } = await as.supabase.auth.reauthenticate();
      if (error) throw error;
      return { as, scope: { newPassword: "Another-Horse-7-Battery", code: otpIn(await latestMail(email)) } };
    },
  },
  "MFA (TOTP) #1": {
    async setup() {
      const { as, email } = await signedIn("enroll");
      return { as, scope: { askForCode: authenticatorFor(email) } };
    },
    async after(as) {
      const { data } = await as!.supabase.auth.mfa.getAuthenticatorAssuranceLevel();
      expect(data?.currentLevel).toBe("aal2");
    },
  },
  "MFA (TOTP) #2": {
    async setup() {
      const { as, email } = await withFactor("challenge", false);
      return { as, scope: { askForCode: authenticatorFor(email) } };
    },
    async after(as) {
      const { data } = await as!.supabase.auth.mfa.getAuthenticatorAssuranceLevel();
      expect(data?.currentLevel).toBe("aal2");
    },
  },
  "MFA (TOTP) #3": {
    async setup() {
      const { as, factorId } = await withFactor("unenroll", true);
      return { as, scope: { factorId } };
    },
  },
  "GET /users/me #1": {
    async setup() {
      return { as: (await signedIn("me")).as };
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
      // PostgREST filter syntax and LIKE wildcards in the input are plain text; bob is found by the rest of it.
      return { as: alice, scope: { term: "bob" } };
    },
    async after(as) {
      const hostile = await as!.supabase.rpc("search_people", { query: "bo(b)%,x.ilike" });
      expect(hostile.error).toBeNull();
      expect(hostile.data).toEqual([]);
      const { data } = await as!.supabase.rpc("search_people", { query: "bob" });
      expect((data ?? []).some((p) => (p.username ?? "").startsWith("bob"))).toBe(true);
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
      const title = `Release news ${Math.random().toString(36).slice(2, 8)}`;
      await call(bob, "create_channel", { title, discoverable: true });
      return { as: alice, scope: { q: title } };
    },
    async after(as, scope) {
      const { data } = await as!.supabase.rpc("search_chats", { query: scope.q as string });
      expect(data?.[0]).toMatchObject({ title: scope.q, is_member: false });
    },
  },

  // Search
  "GET /search/messages #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      await message(bob, chatId, "lunch on friday?");
      await message(alice, chatId, "The quarterly report is out");
      return { as: alice, scope: { chatId } };
    },
    async after(as, scope) {
      const { data: hits } = await as!.supabase.rpc("search_messages", { query: "lunch friday", chat_id: scope.chatId as string });
      expect(hits?.length).toBe(1);
      expect(hits?.[0]?.snippet).toBe("<mark>lunch</mark> on <mark>friday</mark>?");
    },
  },
  "GET /search/suggestions #1": {
    async setup() {
      const { alice } = await trio();
      await call(alice, "save_recent_search", { query: "alias for lunch" });
      return { as: alice };
    },
    async after(as) {
      const { data } = await as!.supabase.rpc("search_suggestions", { query: "ali" });
      expect(data?.[0]).toEqual(expect.objectContaining({ kind: "query", label: "alias for lunch" }));
    },
  },
  "Recent searches #1": {
    async setup() {
      const { alice } = await trio();
      return { as: alice };
    },
    async after(as) {
      const { data } = await as!.supabase.from("recent_searches").select("query");
      expect(data).toEqual([]);
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
  "PUT /chats/:id/disappearing-messages #1": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId } };
    },
    async after(_as, scope) {
      const [row] = await db()<{ seconds: number }[]>`
        select extract(epoch from message_ttl)::int as seconds from public.chat_retention where chat_id = ${scope.chatId as string}`;
      expect(row?.seconds).toBe(86400);
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
  "Custom emoji #1": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { me: alice.id, chatId, file: new Blob([PNG], { type: "image/png" }) } };
    },
    async after(as, scope) {
      const [row] = await db()<{ n: number }[]>`
        select count(*)::int as n from public.chat_emoji where chat_id = ${scope.chatId as string} and shortcode = ':party_parrot:'`;
      expect(row!.n).toBe(1);
    },
  },
  "Custom emoji #2": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      await call(alice, "add_chat_emoji", { chat_id: chatId, shortcode: ":party_parrot:", image_path: `${alice.id}/party_parrot.png` });
      return { as: bob, scope: { chatId, afterShortcode: null } };
    },
  },
  "Custom emoji #3": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      await call(alice, "add_chat_emoji", { chat_id: chatId, shortcode: ":party_parrot:", image_path: `${alice.id}/party_parrot.png` });
      return { as: alice, scope: { chatId, messageId: (await message(bob, chatId)).id } };
    },
    async after(_as, scope) {
      const [row] = await db()<{ emoji: number; reactions: number }[]>`
        select (select count(*)::int from public.chat_emoji where chat_id = ${scope.chatId as string}) as emoji,
               (select count(*)::int from public.message_reactions where message_id = ${scope.messageId as string}
                   and emoji = ':party_parrot:') as reactions`;
      expect(row).toEqual({ emoji: 0, reactions: 1 });
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

  // Notifications
  "The inbox: list, unread count, mark read #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      await call(alice, "send_message", { chat_id: chatId, body: "hi @bob", mentions: [bob.id] });
      return { as: bob };
    },
    async after(as) {
      const { data } = await as!.supabase.from("notifications").select("kind, preview").order("updated_at", { ascending: false });
      expect(data?.map((n) => n.kind)).toEqual(["mention", "added_to_chat"]);
      expect(data?.[0]?.preview).toBe("hi @bob");
    },
  },
  "The inbox: list, unread count, mark read #2": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      await call(alice, "send_message", { chat_id: chatId, body: "hi @bob", mentions: [bob.id] });
      const [first] = (await call(bob, "list_notifications", {})) as Array<{ id: string }>;
      return { as: bob, scope: { chatId, notificationId: first!.id } };
    },
    async after(as) {
      const { data } = await as!.supabase.rpc("get_unread_notification_count");
      expect(data).toBe(0);
    },
  },
  "Notification settings #1": {
    async setup() {
      const { alice } = await trio();
      return { as: alice };
    },
    async after(as) {
      const { data } = await as!.supabase.from("notification_settings").select("disabled_kinds, time_zone").single();
      expect(data).toEqual({ disabled_kinds: ["reaction"], time_zone: "Europe/Berlin" });
    },
  },

  "Privacy settings #1": {
    async setup() {
      const { alice } = await trio();
      return { as: alice };
    },
    async after(as) {
      const { data } = await as!.supabase.from("privacy_settings").select("who_can_message, who_can_add, who_can_see_presence").single();
      expect(data).toEqual({ who_can_message: "contacts", who_can_add: "contacts", who_can_see_presence: "nobody" });
    },
  },

  "Push devices #1": {
    async setup() {
      // A real password sign-in: the access token names an Auth session the device can be tied to.
      const { as } = await signedIn("webpush");
      const subscription = {
        endpoint: `https://push.example.test/send/${crypto.randomUUID()}`,
        keys: { p256dh: "B" + "x".repeat(86), auth: "a".repeat(22) },
      };
      const navigator = { serviceWorker: { ready: Promise.resolve({ pushManager: { subscribe: async () => ({ toJSON: () => subscription }) } }) } };
      return { as, scope: { navigator, VAPID_PUBLIC_KEY: "BPublicKey" } };
    },
    async after(as) {
      const { data } = await as!.supabase.from("push_devices").select("id, provider, platform, device_name, session_id");
      expect(data).toHaveLength(1);
      expect(data![0]).toMatchObject({ provider: "web_push", platform: "web", device_name: "Firefox on my laptop" });
      expect(data![0]!.session_id).not.toBeNull();
      // Signing out of that session removes the device.
      await as!.supabase.auth.signOut();
      const [row] = await db()<{ n: number }[]>`select count(*)::int as n from public.push_devices where id = ${data![0]!.id}`;
      expect(row!.n).toBe(0);
    },
  },
  "Push devices #2": {
    async setup() {
      const { alice } = await trio();
      return { as: alice, scope: { apnsDeviceTokenHex: crypto.randomUUID().replaceAll("-", "").repeat(2) } };
    },
    async after(as) {
      const { data } = await as!.supabase.from("push_devices").select("id");
      expect(data).toEqual([]);
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

  "Presence and status (heartbeat) #2": {
    async setup() {
      const { alice, bob } = await trio();
      await call(bob, "heartbeat", { status: "busy" });
      await group(alice, [bob]);
      await call(bob, "update_privacy_settings", { who_can_see_presence: "contacts" });
      return { as: alice, scope: { userId: bob.id } };
    },
    async after(as, scope) {
      // alice shares a chat with bob, so she reads the real status that profiles hide from everyone.
      const { data } = await as!.supabase.rpc("get_presence", { user_ids: [scope.userId as string] });
      expect(data?.[0]?.status).toBe("busy");
      const { data: profile } = await as!.supabase.from("profiles").select("status").eq("id", scope.userId as string).single();
      expect(profile?.status).toBe("offline");
    },
  },

  "Presence and status (heartbeat) #1": {
    async setup() {
      const { alice } = await trio();
      // The block starts a timer; the scenario keeps it, fires it once and stops it.
      const timers: Array<() => void> = [];
      const setIntervalSpy = (fn: () => void, ms: number) => {
        expect(ms).toBe(30_000);
        timers.push(fn);
        return timers.length;
      };
      return { as: alice, scope: { setInterval: setIntervalSpy, timers } };
    },
    async after(as, scope) {
      const timers = scope.timers as Array<() => void>;
      expect(timers).toHaveLength(1);
      const before = as!.log.length;
      timers[0]!();
      // The tick's request is sent without being awaited; wait for its answer to be recorded.
      for (let i = 0; i < 100 && as!.log.length === before; i++) await new Promise((r) => setTimeout(r, 20));
      expect(as!.log.slice(before).map((r) => [r.url.replace(stack.url, ""), r.status])).toEqual([["/rest/v1/rpc/heartbeat", 200]]);
    },
  },

  // Files
  "Avatars #1": {
    async setup() {
      const { alice } = await trio();
      return { as: alice, scope: { me: alice.id, file: new Blob([PNG], { type: "image/png" }) } };
    },
  },
  "Attachments: upload, send, download, delete #1": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId, file: new File([PNG], "photo.png", { type: "image/png" }) } };
    },
  },
  "Attachments: upload, send, download, delete #2": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId, attachmentId: await upload(alice, chatId) } };
    },
  },
  "Attachments: upload, send, download, delete #3": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      const attachmentId = await upload(alice, chatId);
      await call(alice, "send_message", { chat_id: chatId, kind: "image", body: "pic", attachment_ids: [attachmentId] });
      return { as: alice, scope: { chatId, attachmentId } };
    },
  },
  "Attachments: upload, send, download, delete #4": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { a: await uploadWithThumbnail(alice, chatId) } };
    },
  },
  "Attachments: upload, send, download, delete #5": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { a: await uploadWithThumbnail(alice, chatId) } };
    },
    async after(_as, scope) {
      const a = scope.a as { id: string };
      expect(await db()`select 1 from public.attachments where id = ${a.id}`).toHaveLength(0);
    },
  },

  "Health function #1": {
    async setup() {
      if (!stack.functions) throw new Error("the client suite runs with the functions runtime (npm test -- client)");
      return { as: (await signedIn("health")).as };
    },
  },

  // Your data
  "POST /me/export #1": {
    async setup() {
      if (!stack.functions) throw new Error("the client suite runs with the functions runtime (npm test -- client)");
      const { as, email } = await signedIn("exporter");
      return { as, scope: { email } };
    },
    async after(_as, scope) {
      const [row] = await db()<{ status: string; url: string | null }[]>`
        select e.status, e.download_url as url from public.data_exports e join auth.users u on u.id = e.user_id
         where u.email = ${scope.email as string}`;
      expect(row?.status).toBe("ready");
      expect((await fetch(row!.url!)).status).toBe(200);
    },
  },
  "DELETE /me #1": {
    async setup() {
      if (!stack.functions) throw new Error("the client suite runs with the functions runtime (npm test -- client)");
      const { as, email } = await signedIn("leaver");
      return { as, scope: { email, password: PASSWORD } };
    },
    async after(_as, scope) {
      const [row] = await db()<{ n: number }[]>`select count(*)::int as n from auth.users where email = ${scope.email as string}`;
      expect(row!.n).toBe(0);
    },
  },

  // Audit log
  "Audit log #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      await call(alice, "set_member_role", { chat_id: chatId, user_id: bob.id, role: "admin" });
      return { as: alice, scope: { chatId } };
    },
    async after(_as, scope) {
      const rows = await db()<{ before: unknown; after: unknown }[]>`
        select before, after from public.audit_log where chat_id = ${scope.chatId as string} and action = 'member.role_changed'`;
      expect(rows).toEqual([{ before: { role: "member" }, after: { role: "admin" } }]);
    },
  },

  // Moderation
  "Reports #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      const m = await message(bob, chatId, "buy cheap pills");
      return { as: alice, scope: { messageId: m.id, me: alice.id } };
    },
    async after(_as, scope) {
      const rows = await db()<{ status: string; reporter_id: string }[]>`
        select status::text, reporter_id from public.reports where message_id = ${scope.messageId as string}`;
      expect(rows).toEqual([{ status: "open", reporter_id: scope.me }]);
    },
  },
  "Deciding reports #1": {
    async setup() {
      const { alice, bob, carol, chatId } = await aliceInGroup();
      const m = await message(bob, chatId, "spam spam");
      await call(carol, "report_content", { target_kind: "message", target_id: m.id, reason: "spam" });
      return { as: alice, scope: { chatId, bob, carol } };
    },
    async after(_as, scope) {
      const [report] = await db()<{ status: string }[]>`select status::text from public.reports where chat_id = ${scope.chatId as string}`;
      expect(report?.status).toBe("actioned");
      const [notice] = await db()<{ category: string }[]>`
        select data ->> 'category' as category from public.notifications
         where recipient_id = ${(scope.carol as Actor).id} and kind = 'system' order by created_at desc limit 1`;
      expect(notice?.category).toBe("moderation");
    },
  },
  "Mutes and frozen chats #1": {
    async setup() {
      const { alice, bob, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId, userId: bob.id } };
    },
  },
  "Word filters #1": {
    async setup() {
      const { alice, chatId } = await aliceInGroup();
      return { as: alice, scope: { chatId } };
    },
    async after(_as, scope) {
      const rows = await db()<{ action: string }[]>`
        select action from public.audit_log where chat_id = ${scope.chatId as string} and action like 'word_filter.%' order by id`;
      expect(rows.map((r) => r.action)).toEqual(["word_filter.added", "word_filter.removed"]);
    },
  },
  "App moderators and suspension #1": {
    async setup() {
      const mod = await actor("moderator");
      return { scope: { admin: serviceClient(), moderatorId: mod.id } };
    },
    // The block's one request goes through the service client (not recorded); the check below reads its effect.
    requests: 0,
    async after(_as, scope) {
      const [row] = await db()<{ role: string }[]>`
        select raw_app_meta_data ->> 'app_role' as role from auth.users where id = ${scope.moderatorId as string}`;
      expect(row?.role).toBe("moderator");
    },
  },
  "App moderators and suspension #2": {
    async setup() {
      const [mod, bob] = await Promise.all([actor("moderator"), actor("bob")]);
      const { error } = await serviceClient().auth.admin.updateUserById(mod.id, { app_metadata: { app_role: "moderator" } });
      if (error) throw error;
      return { as: mod, scope: { userId: bob.id } };
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
      await entry.after?.(as, scope);
    });
  }

  it("lists the blocks it does not run, each with a reason", () => {
    const skipped = Object.entries(scenarios).filter(([, e]) => "skip" in e);
    for (const [, e] of skipped) expect((e as { skip: string }).skip.length).toBeGreaterThan(10);
  });
});
