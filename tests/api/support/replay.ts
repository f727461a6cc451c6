// The replay registry (issue 21, item 2): for every function in `public` that `authenticated` may execute, a call
// that is valid for a member (the "actor"), and what each persona state must get when the same call, with the same
// arguments and the same idempotency key, is replayed after the state changed. tests/api/authorization.test.ts takes
// the functions from the catalog and fails on any signature that has no entry here, so a new RPC cannot ship
// without saying how it refuses outsiders, removed, banned and blocked users and anon.
//
// Every world is built through the request context (tests/api/support/db.ts), committed like real API calls, with
// fresh users, so the cases do not see each other.
import { randomUUID } from "node:crypto";
import { ANON, createAnonymousUser, createUser, request, sql, type Claims, type TestUser, type Tx } from "./db.ts";

/**
 * The persona states of issue 21, suspended (issue 18: suspended app-wide by a moderator) and `anonymous`: a guest,
 * a user signed in through Auth's anonymous sign-in (docs/security.md, "Guests and unconfirmed users"), who may only
 * read discoverable channels; unless an entry says otherwise the replay must be refused with 42501.
 */
export const STATES = ["outsider", "removed", "banned", "blocked", "suspended", "anon", "anonymous"] as const;
export type State = (typeof STATES)[number];

/** What the replay must get: a refusal with this SQLSTATE, or an answer that shows nothing of the chat. */
export type Expect =
  | { refuse: string; /** a known gap, with the reason and who owns the fix: the case is expected to fail */ known?: string }
  | { hides: true; /** why the answer may name the chat (ids only, never its content) */ namesChat?: string }
  | { na: string };

export interface World {
  /** Owner of the group (admin when the actor is the owner); never changes state. */
  keeper: TestUser;
  /** The persona under test: admin (or owner) of the group when the call is valid. */
  actor: TestUser;
  /** A member of the group, author of `peerMessage`. */
  peer: TestUser;
  /** A user in no chat: the other party of direct chats, additions and invitations; blocks the actor in `blocked`. */
  stranger: TestUser;
  /** Never a member of anything the world has. */
  outsider: TestUser;
  group: string;
  peerMessage: string;
  actorMessage: string;
  /** What `prepare` made: chat ids, tokens, cursors, idempotency keys. */
  extra: Record<string, string>;
  /** Text every message of the world contains; no refusal and no hidden answer may contain it. */
  secret: string;
}

type Query = PromiseLike<readonly unknown[]>;

export interface Entry {
  /** The actor's role in the group when the call is valid (default admin). */
  actorRole?: "admin" | "owner";
  /** The chat whose membership `removed` and `banned` change (default the group; `channel` = extra.channel). */
  scope?: "group" | "channel";
  /** Committed set-up before the valid call, as real API calls. */
  prepare?: (w: World) => Promise<void>;
  /** The call, identical for the valid call and the replay (`state` picks the target where states differ). */
  call: (tx: Tx, w: World, state: State) => Query;
  /** The call takes an idempotency key: the valid call is committed, so the replay meets the stored row. */
  keep?: boolean;
  /**
   * `suspended` defaults to a 42501 refusal for writes and to "reads stay open" for reads (see suspendedDefault);
   * `anonymous` (a guest) to a 42501 refusal.
   */
  states: Record<Exclude<State, "anon" | "suspended" | "anonymous">, Expect> & { suspended?: Expect; anonymous?: Expect };
}

const as = <T>(who: TestUser, fn: (tx: Tx) => Promise<T>): Promise<T> => request(who.claims, fn);

/** A value `prepare` made; a missing one is a mistake in the entry. */
function x(w: World, key: string): string {
  const v = w.extra[key];
  if (v === undefined) throw new Error(`the entry's prepare made no ${key}`);
  return v;
}

async function one<T>(who: TestUser, fn: (tx: Tx) => Query): Promise<T> {
  const rows = (await as(who, async (tx) => [...(await fn(tx))])) as T[];
  if (rows[0] === undefined) throw new Error("set-up call returned no row");
  return rows[0];
}

const PT404 = { refuse: "PT404" } as const;
const NOT_A_MEMBER = { outsider: PT404, removed: PT404, banned: PT404, anonymous: PT404 } as const;
/** Writes that refuse a guest before they look at membership (private.require_user first). */
const GUEST_FIRST = { anonymous: { refuse: "42501" } } as const;
const GROUP_ONLY = { blocked: { na: "acts on a group; a block between two users does not change group rights" } } as const;
const NEW_CHAT = {
  outsider: { na: "creates a new chat: no earlier membership to lose" },
  removed: { na: "creates a new chat: no earlier membership to lose" },
  banned: { na: "creates a new chat: no earlier membership to lose" },
} as const;

async function channel(w: World, discoverable: boolean): Promise<void> {
  const c = await one<{ id: string }>(w.keeper, (tx) =>
    tx`select * from public.create_channel(title => 'replay channel', discoverable => ${discoverable})`);
  w.extra.channel = c.id;
}

async function directWithStranger(w: World): Promise<void> {
  const c = await one<{ id: string }>(w.actor, (tx) => tx`select * from public.create_direct_chat(user_id => ${w.stranger.id})`);
  w.extra.direct = c.id;
}

/** A second group the actor stays in, with a message of the keeper to forward from. */
async function originChat(w: World): Promise<void> {
  const g = await one<{ id: string }>(w.keeper, (tx) =>
    tx`select * from public.create_group_chat(title => 'replay origin', member_ids => ${[w.actor.id]}::uuid[])`);
  const m = await one<{ id: string }>(w.keeper, (tx) =>
    tx`select * from public.send_message(chat_id => ${g.id}, body => ${w.secret + " origin"})`);
  w.extra.origin = g.id;
  w.extra.originMessage = m.id;
}

/** Makes a user an app moderator, as the service role does through Auth's admin API. */
export async function makeModerator(user: TestUser): Promise<void> {
  await sql`update auth.users set raw_app_meta_data = coalesce(raw_app_meta_data, '{}'::jsonb) || '{"app_role": "moderator"}'
             where id = ${user.id}`;
}

const MODERATOR_ONLY = {
  outsider: { refuse: "42501" },
  removed: { na: "app-wide: chat membership does not matter to a moderator's act" },
  banned: { na: "app-wide: chat membership does not matter to a moderator's act" },
  blocked: { na: "app-wide: a block between two users does not change a moderator's rights" },
  suspended: { na: "moderators cannot be suspended (private.suspend refuses it)" },
} as const;

/**
 * Keyed by the function's signature as `format('%I.%I(%s)', schema, name, pg_get_function_identity_arguments(oid))`
 * with an empty search_path: a changed argument list is a new signature and needs its own entry.
 */
export const REGISTRY: Record<string, Entry> = {
  "public.accept_invite_link(token text)": {
    prepare: async (w) => {
      const link = await one<{ token: string }>(w.keeper, (tx) => tx`select * from public.create_invite_link(chat_id => ${w.group})`);
      w.extra.token = link.token;
    },
    call: (tx, w) => tx`select * from public.accept_invite_link(token => ${x(w, "token")})`,
    states: {
      outsider: { na: "an invite link is for outsiders" },
      removed: { na: "an invite link lets a removed member back in; that is what links are for" },
      banned: { refuse: "42501" },
      ...GROUP_ONLY,
    },
  },
  "public.add_chat_emoji(chat_id uuid, shortcode text, image_path text)": {
    call: (tx, w) => tx`select * from public.add_chat_emoji(chat_id => ${w.group}, shortcode => ':replay:',
                                 image_path => ${w.actor.id + "/replay.png"})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY, ...GUEST_FIRST },
  },
  "public.add_chat_members(chat_id uuid, user_ids uuid[])": {
    call: (tx, w) => tx`select * from public.add_chat_members(chat_id => ${w.group}, user_ids => ${[w.stranger.id]}::uuid[])`,
    states: { ...NOT_A_MEMBER, blocked: { refuse: "42501" } },
  },
  "public.ban_chat_member(chat_id uuid, user_id uuid, reason text)": {
    call: (tx, w) => tx`select * from public.ban_chat_member(chat_id => ${w.group}, user_id => ${w.peer.id}, reason => 'replay')`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.create_channel(title text, description text, discoverable boolean)": {
    call: (tx) => tx`select * from public.create_channel(title => 'replay channel')`,
    states: { ...NEW_CHAT, blocked: { na: "a channel has no other party at creation" } },
  },
  "public.create_direct_chat(user_id uuid)": {
    call: (tx, w) => tx`select * from public.create_direct_chat(user_id => ${w.stranger.id})`,
    states: { ...NEW_CHAT, blocked: { refuse: "42501" } },
  },
  "public.create_group_chat(title text, member_ids uuid[], description text)": {
    call: (tx, w) => tx`select * from public.create_group_chat(title => 'replay group', member_ids => ${[w.stranger.id]}::uuid[])`,
    states: { ...NEW_CHAT, blocked: { refuse: "42501" } },
  },
  "public.create_invite_link(chat_id uuid, expires_in_seconds integer, max_uses integer)": {
    call: (tx, w) => tx`select * from public.create_invite_link(chat_id => ${w.group})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.delete_chat(chat_id uuid)": {
    actorRole: "owner",
    call: (tx, w) => tx`select * from public.delete_chat(chat_id => ${w.group})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.delete_message(message_id uuid)": {
    call: (tx, w) => tx`select * from public.delete_message(message_id => ${w.peerMessage})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY, ...GUEST_FIRST },
  },
  "public.edit_message(message_id uuid, body text)": {
    call: (tx, w) => tx`select * from public.edit_message(message_id => ${w.actorMessage}, body => 'edited on replay')`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY, ...GUEST_FIRST },
  },
  "public.forward_message(message_id uuid, to_chat_id uuid, client_id uuid)": {
    keep: true,
    prepare: async (w) => {
      await originChat(w);
      await directWithStranger(w);
      w.extra.clientId = randomUUID();
    },
    // Into the group (removed, banned, outsider) or into the direct chat with the stranger (blocked); the origin is
    // a chat the actor stays in, so only the target's rule can refuse.
    call: (tx, w, state) => tx`select * from public.forward_message(message_id => ${x(w, "originMessage")},
                                 to_chat_id => ${state === "blocked" ? x(w, "direct") : w.group}, client_id => ${x(w, "clientId")})`,
    states: { ...NOT_A_MEMBER, blocked: { refuse: "42501" }, ...GUEST_FIRST },
  },
  "public.get_chat_events(chat_id uuid, after_cursor bigint, page_size integer)": {
    call: (tx, w) => tx`select * from public.get_chat_events(chat_id => ${w.group})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.get_chat_messages(chat_id uuid, before_seq bigint, after_seq bigint, around_seq bigint, page_size integer)": {
    call: (tx, w) => tx`select * from public.get_chat_messages(chat_id => ${w.group})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.get_invite_link_info(token text)": {
    prepare: async (w) => {
      const link = await one<{ token: string }>(w.keeper, (tx) => tx`select * from public.create_invite_link(chat_id => ${w.group})`);
      w.extra.token = link.token;
    },
    call: (tx, w) => tx`select * from public.get_invite_link_info(token => ${x(w, "token")})`,
    states: {
      outsider: { na: "the link's preview is for outsiders" },
      removed: { na: "a removed member may rejoin through a link" },
      banned: { refuse: "42501" },
      ...GROUP_ONLY,
    },
  },
  "public.get_notification_settings()": {
    call: (tx) => tx`select * from public.get_notification_settings()`,
    states: {
      outsider: { na: "the caller's own notification settings" },
      removed: { na: "the caller's own notification settings" },
      banned: { na: "the caller's own notification settings" },
      blocked: { na: "the caller's own notification settings" },
    },
  },
  "public.get_unread_notification_count()": {
    call: (tx) => tx`select public.get_unread_notification_count()`,
    states: {
      outsider: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
      removed: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
      banned: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
      blocked: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
    },
  },
  "public.list_notifications(unread_only boolean, chat_id uuid, before_at timestamp with time zone, before_id uuid, page_size integer)": {
    call: (tx, w) => tx`select * from public.list_notifications(chat_id => ${w.group})`,
    states: {
      outsider: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
      removed: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
      banned: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
      anonymous: { hides: true },
      blocked: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
    },
  },
  "public.mark_all_notifications_read(chat_id uuid)": {
    call: (tx, w) => tx`select public.mark_all_notifications_read(chat_id => ${w.group})`,
    states: {
      outsider: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
      removed: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
      banned: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
      blocked: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
    },
  },
  "public.mark_notifications_read(notification_ids uuid[])": {
    prepare: async (w) => {
      await as(w.peer, (tx) => tx`select public.send_message(chat_id => ${w.group}, body => ${w.secret + " @actor"}, mentions => ${[w.actor.id]}::uuid[])`);
      w.extra.notification = (await one<{ id: string }>(w.actor, (tx) => tx`select id from public.list_notifications()`)).id;
    },
    call: (tx, w) => tx`select public.mark_notifications_read(notification_ids => ${[x(w, "notification")]}::uuid[])`,
    states: {
      outsider: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
      removed: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
      banned: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
      blocked: { na: "the caller's own inbox: notifications delivered while a member stay theirs, as delivered pushes and emails do" },
    },
  },
  "public.register_push_device(provider public.push_provider, platform text, token text, subscription jsonb, app_id text, device_name text, remove_on_sign_out boolean)": {
    call: (tx, w) => tx`select * from public.register_push_device(provider => 'fcm', platform => 'android', token => ${"fcm-token-" + w.secret})`,
    states: {
      outsider: { na: "the caller's own push devices" },
      removed: { na: "the caller's own push devices" },
      banned: { na: "the caller's own push devices" },
      blocked: { na: "the caller's own push devices" },
    },
  },
  "public.unregister_push_device(device_id uuid, provider public.push_provider, token text, subscription jsonb)": {
    call: (tx, w) => tx`select public.unregister_push_device(provider => 'fcm', token => ${"fcm-token-" + w.secret})`,
    states: {
      outsider: { na: "the caller's own push devices" },
      removed: { na: "the caller's own push devices" },
      banned: { na: "the caller's own push devices" },
      blocked: { na: "the caller's own push devices" },
    },
  },
  "public.update_privacy_settings(who_can_message public.privacy_audience, who_can_add public.privacy_audience, who_can_see_presence public.privacy_audience)": {
    call: (tx) => tx`select * from public.update_privacy_settings(who_can_message => 'contacts')`,
    states: {
      outsider: { na: "the caller's own privacy settings" },
      removed: { na: "the caller's own privacy settings" },
      banned: { na: "the caller's own privacy settings" },
      blocked: { na: "the caller's own privacy settings" },
    },
  },
  "public.update_notification_settings(push_enabled boolean, email_on_mention boolean, hide_previews boolean, quiet_hours_start time without time zone, quiet_hours_end time without time zone, time_zone text, disabled_kinds public.notification_kind[], clear_quiet_hours boolean)": {
    call: (tx) => tx`select * from public.update_notification_settings(hide_previews => true)`,
    states: {
      outsider: { na: "the caller's own notification settings" },
      removed: { na: "the caller's own notification settings" },
      banned: { na: "the caller's own notification settings" },
      blocked: { na: "the caller's own notification settings" },
    },
  },
  "public.get_presence(user_ids uuid[])": {
    call: (tx, w) => tx`select * from public.get_presence(user_ids => ${[w.peer.id]}::uuid[])`,
    states: {
      outsider: { na: "presence is per user, not per chat: the peer's who_can_see_presence decides (default everyone)" },
      removed: { na: "presence is per user, not per chat: the peer's who_can_see_presence decides (default everyone)" },
      banned: { na: "presence is per user, not per chat: the peer's who_can_see_presence decides (default everyone)" },
      blocked: { na: "the stranger blocks the actor; the peer's presence is not the stranger's (a blocker is left out, pgTAP 85)" },
    },
  },
  "public.get_privacy_settings()": {
    call: (tx) => tx`select * from public.get_privacy_settings()`,
    states: {
      outsider: { na: "the caller's own privacy settings" },
      removed: { na: "the caller's own privacy settings" },
      banned: { na: "the caller's own privacy settings" },
      blocked: { na: "the caller's own privacy settings" },
    },
  },
  "public.get_updates(since text, page_size integer)": {
    prepare: async (w) => {
      const r = await one<{ get_updates: { cursor: string } }>(w.actor, (tx) => tx`select public.get_updates()`);
      w.extra.cursor = r.get_updates.cursor;
    },
    call: (tx, w) => tx`select public.get_updates(since => ${x(w, "cursor")})`,
    states: {
      outsider: { hides: true },
      removed: { hides: true, namesChat: "the caller's own chat.removed event says which chat they were removed from" },
      banned: { hides: true, namesChat: "the caller's own chat.removed event says which chat they were banned from" },
      ...GROUP_ONLY,
      anonymous: { hides: true },
    },
  },
  "public.heartbeat(status public.user_status)": {
    call: (tx) => tx`select public.heartbeat(status => 'online')`,
    states: {
      outsider: { na: "the caller's own presence" },
      removed: { na: "the caller's own presence" },
      banned: { na: "the caller's own presence" },
      blocked: { na: "the caller's own presence; what a blocker sees is the profiles policy's" },
    },
  },
  "public.invite_user(chat_id uuid, user_id uuid)": {
    call: (tx, w) => tx`select * from public.invite_user(chat_id => ${w.group}, user_id => ${w.stranger.id})`,
    states: { ...NOT_A_MEMBER, blocked: { refuse: "42501" } },
  },
  "public.join_chat(chat_id uuid)": {
    scope: "channel",
    prepare: (w) => channel(w, true),
    call: (tx, w) => tx`select * from public.join_chat(chat_id => ${x(w, "channel")})`,
    states: {
      outsider: { na: "anyone may join a discoverable channel" },
      removed: { na: "a removed member may join a discoverable channel again; a ban keeps them out" },
      banned: { refuse: "42501" },
      blocked: { na: "a channel has no other party" },
      anonymous: { na: "guests may join and read discoverable channels (docs/security.md)" },
    },
  },
  "public.leave_chat(chat_id uuid)": {
    call: (tx, w) => tx`select * from public.leave_chat(chat_id => ${w.group})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.list_chats(kind public.chat_kind, archived boolean, unread_only boolean, search text, before_activity_at timestamp with time zone, before_chat_id uuid, page_size integer)": {
    call: (tx) => tx`select * from public.list_chats()`,
    states: { outsider: { hides: true }, removed: { hides: true }, banned: { hides: true }, ...GROUP_ONLY, anonymous: { hides: true } },
  },
  "public.search_messages(query text, chat_id uuid, author_id uuid, kind public.message_kind, has_files boolean, file_kind text, mentions_me boolean, after timestamp with time zone, before timestamp with time zone, thread_root_id uuid, sort text, language text, cursor text, page_size integer)": {
    // Across the caller's chats: once out of the group, its messages (and their snippets) are gone from the answer.
    call: (tx) => tx`select * from public.search_messages(query => 'peer')`,
    states: { outsider: { hides: true }, removed: { hides: true }, banned: { hides: true }, ...GROUP_ONLY },
  },
  "public.search_people(query text, cursor text, page_size integer)": {
    call: (tx) => tx`select * from public.search_people(query => 'replay')`,
    states: {
      outsider: { na: "finds people, not chat content: the profiles policy and blocks decide (supabase/tests/database/72)" },
      removed: { na: "finds people, not chat content: the profiles policy and blocks decide (supabase/tests/database/72)" },
      banned: { na: "finds people, not chat content: the profiles policy and blocks decide (supabase/tests/database/72)" },
      blocked: { na: "finds people, not chat content: the profiles policy and blocks decide (supabase/tests/database/72)" },
    },
  },
  "public.search_chats(query text, cursor text, page_size integer)": {
    call: (tx) => tx`select * from public.search_chats(query => 'group')`,
    states: { outsider: { hides: true }, removed: { hides: true }, banned: { hides: true }, ...GROUP_ONLY },
  },
  "public.search_suggestions(query text, page_size integer)": {
    call: (tx) => tx`select * from public.search_suggestions(query => 'gro')`,
    states: { outsider: { hides: true }, removed: { hides: true }, banned: { hides: true }, ...GROUP_ONLY },
  },
  "public.save_recent_search(query text)": {
    call: (tx) => tx`select * from public.save_recent_search(query => 'peer')`,
    states: {
      outsider: { na: "the caller's own recent searches" },
      removed: { na: "the caller's own recent searches" },
      banned: { na: "the caller's own recent searches" },
      blocked: { na: "the caller's own recent searches" },
    },
  },
  "public.clear_recent_searches(query text)": {
    call: (tx) => tx`select public.clear_recent_searches()`,
    states: {
      outsider: { na: "the caller's own recent searches" },
      removed: { na: "the caller's own recent searches" },
      banned: { na: "the caller's own recent searches" },
      blocked: { na: "the caller's own recent searches" },
    },
  },
  "public.mark_chat_read(chat_id uuid, up_to_seq bigint)": {
    call: (tx, w) => tx`select * from public.mark_chat_read(chat_id => ${w.group})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.pin_message(message_id uuid, pinned boolean)": {
    call: (tx, w) => tx`select * from public.pin_message(message_id => ${w.peerMessage})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY, ...GUEST_FIRST },
  },
  "public.remove_chat_emoji(chat_id uuid, shortcode text)": {
    prepare: async (w) => {
      await as(w.keeper, (tx) => tx`select public.add_chat_emoji(chat_id => ${w.group}, shortcode => ':replay:',
                                      image_path => ${w.keeper.id + "/replay.png"})`);
    },
    call: (tx, w) => tx`select public.remove_chat_emoji(chat_id => ${w.group}, shortcode => ':replay:')`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.remove_chat_member(chat_id uuid, user_id uuid)": {
    call: (tx, w) => tx`select * from public.remove_chat_member(chat_id => ${w.group}, user_id => ${w.peer.id})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.respond_to_invitation(invitation_id uuid, accept boolean)": {
    scope: "channel",
    prepare: async (w) => {
      await channel(w, false);
      const inv = await one<{ id: string }>(w.keeper, (tx) =>
        tx`select * from public.invite_user(chat_id => ${x(w, "channel")}, user_id => ${w.actor.id})`);
      w.extra.invitation = inv.id;
    },
    call: (tx, w) => tx`select * from public.respond_to_invitation(invitation_id => ${x(w, "invitation")}, accept => true)`,
    states: {
      outsider: PT404,
      removed: { na: "the invited user is not a member yet" },
      banned: { refuse: "42501" },
      blocked: { na: "a channel has no other party" },
    },
  },
  "public.revoke_invitation(invitation_id uuid)": {
    prepare: async (w) => {
      const link = await one<{ id: string }>(w.keeper, (tx) => tx`select * from public.create_invite_link(chat_id => ${w.group})`);
      w.extra.link = link.id;
    },
    call: (tx, w) => tx`select * from public.revoke_invitation(invitation_id => ${x(w, "link")})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.send_message(chat_id uuid, body text, kind public.message_kind, reply_to_id uuid, thread_root_id uuid, mentions uuid[], metadata jsonb, client_id uuid, attachment_ids uuid[])": {
    keep: true,
    prepare: async (w) => {
      await directWithStranger(w);
      w.extra.clientId = randomUUID();
    },
    call: (tx, w, state) => tx`select * from public.send_message(chat_id => ${state === "blocked" ? x(w, "direct") : w.group},
                                 body => 'sent once', client_id => ${x(w, "clientId")})`,
    states: {
      ...NOT_A_MEMBER,
      blocked: { refuse: "42501" },
      ...GUEST_FIRST,
    },
  },
  "public.set_chat_preferences(chat_id uuid, archived boolean, pinned boolean, muted_until timestamp with time zone, notification_level public.notification_level)": {
    call: (tx, w) => tx`select * from public.set_chat_preferences(chat_id => ${w.group}, pinned => true)`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.set_disappearing_messages(chat_id uuid, ttl_seconds integer)": {
    call: (tx, w) => tx`select * from public.set_disappearing_messages(chat_id => ${w.group}, ttl_seconds => 3600)`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.set_member_role(chat_id uuid, user_id uuid, role public.chat_role)": {
    actorRole: "owner",
    call: (tx, w) => tx`select * from public.set_member_role(chat_id => ${w.group}, user_id => ${w.peer.id}, role => 'admin')`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.toggle_reaction(message_id uuid, emoji text)": {
    call: (tx, w) => tx`select * from public.toggle_reaction(message_id => ${w.peerMessage}, emoji => '👍')`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY, ...GUEST_FIRST },
  },
  "public.transfer_chat_ownership(chat_id uuid, new_owner_id uuid)": {
    actorRole: "owner",
    call: (tx, w) => tx`select * from public.transfer_chat_ownership(chat_id => ${w.group}, new_owner_id => ${w.keeper.id})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY, ...GUEST_FIRST },
  },
  "public.unban_chat_member(chat_id uuid, user_id uuid)": {
    prepare: async (w) => {
      await as(w.keeper, (tx) => tx`select public.ban_chat_member(chat_id => ${w.group}, user_id => ${w.stranger.id})`);
    },
    call: (tx, w) => tx`select * from public.unban_chat_member(chat_id => ${w.group}, user_id => ${w.stranger.id})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.update_chat(chat_id uuid, title text, description text, avatar_path text, who_can_post public.post_permission, slow_mode_seconds integer, history_visible_to_new_members boolean, discoverable boolean, everyone_mentions boolean)": {
    call: (tx, w) => tx`select * from public.update_chat(chat_id => ${w.group}, title => 'renamed on replay')`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },

  // moderation (issue 18)
  "public.report_content(target_kind public.report_target, target_id uuid, reason public.report_reason, note text)": {
    call: (tx, w) => tx`select * from public.report_content(target_kind => 'message', target_id => ${w.peerMessage}, reason => 'spam')`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.resolve_report(report_id uuid, action public.moderation_action, note text, duration_seconds integer)": {
    prepare: async (w) => {
      const r = await one<{ id: string }>(w.keeper, (tx) =>
        tx`select * from public.report_content(target_kind => 'message', target_id => ${w.peerMessage}, reason => 'spam')`);
      w.extra.report = r.id;
    },
    call: (tx, w) => tx`select * from public.resolve_report(report_id => ${x(w, "report")}, action => 'dismiss')`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.mute_chat_member(chat_id uuid, user_id uuid, duration_seconds integer, reason text)": {
    call: (tx, w) => tx`select * from public.mute_chat_member(chat_id => ${w.group}, user_id => ${w.peer.id}, duration_seconds => 600)`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.unmute_chat_member(chat_id uuid, user_id uuid)": {
    prepare: async (w) => {
      await as(w.keeper, (tx) => tx`select public.mute_chat_member(chat_id => ${w.group}, user_id => ${w.peer.id}, duration_seconds => 600)`);
    },
    call: (tx, w) => tx`select public.unmute_chat_member(chat_id => ${w.group}, user_id => ${w.peer.id})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.freeze_chat(chat_id uuid, reason text)": {
    call: (tx, w) => tx`select * from public.freeze_chat(chat_id => ${w.group})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.unfreeze_chat(chat_id uuid)": {
    prepare: async (w) => {
      await as(w.keeper, (tx) => tx`select public.freeze_chat(chat_id => ${w.group})`);
    },
    call: (tx, w) => tx`select public.unfreeze_chat(chat_id => ${w.group})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.add_word_filter(word text, action public.word_filter_action, chat_id uuid)": {
    call: (tx, w) => tx`select * from public.add_word_filter(word => 'replayword', action => 'mask', chat_id => ${w.group})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.remove_word_filter(filter_id uuid)": {
    prepare: async (w) => {
      const f = await one<{ id: string }>(w.keeper, (tx) =>
        tx`select * from public.add_word_filter(word => 'replayword', chat_id => ${w.group})`);
      w.extra.filter = f.id;
    },
    call: (tx, w) => tx`select public.remove_word_filter(filter_id => ${x(w, "filter")})`,
    states: { ...NOT_A_MEMBER, ...GROUP_ONLY },
  },
  "public.suspend_user(user_id uuid, duration_seconds integer, reason text)": {
    prepare: (w) => makeModerator(w.actor),
    call: (tx, w) => tx`select * from public.suspend_user(user_id => ${w.stranger.id}, duration_seconds => 3600)`,
    states: MODERATOR_ONLY,
  },
  "public.unsuspend_user(user_id uuid)": {
    prepare: async (w) => {
      await makeModerator(w.actor);
      await as(w.actor, (tx) => tx`select public.suspend_user(user_id => ${w.stranger.id})`);
    },
    call: (tx, w) => tx`select public.unsuspend_user(user_id => ${w.stranger.id})`,
    states: MODERATOR_ONLY,
  },
};

/**
 * What a suspended caller gets when an entry does not say: reads and the caller's own state stay open (a suspended
 * user reads, marks read, leaves, manages notifications and devices); every other call is refused with 42501 by
 * private.assert_can_write(), before anything else.
 */
const SUSPENDED_MAY: Record<string, string> = {
  get_chat_events: "reads stay open to a suspended user",
  get_chat_messages: "reads stay open to a suspended user",
  get_invite_link_info: "reads stay open to a suspended user",
  get_notification_settings: "reads stay open to a suspended user",
  get_unread_notification_count: "reads stay open to a suspended user",
  get_updates: "reads stay open to a suspended user",
  list_chats: "reads stay open to a suspended user",
  list_notifications: "reads stay open to a suspended user",
  heartbeat: "the caller's own presence",
  leave_chat: "a suspended user may always leave a chat",
  mark_chat_read: "the caller's own read cursor",
  set_chat_preferences: "the caller's own archive, pin, mute and notification level",
  mark_notifications_read: "the caller's own inbox",
  mark_all_notifications_read: "the caller's own inbox",
  update_notification_settings: "the caller's own notification settings",
  register_push_device: "the caller's own push devices",
  get_privacy_settings: "reads stay open to a suspended user",
  update_privacy_settings: "the caller's own privacy settings",
  get_presence: "reads stay open to a suspended user",
  search_messages: "reads stay open to a suspended user",
  search_people: "reads stay open to a suspended user",
  search_chats: "reads stay open to a suspended user",
  search_suggestions: "reads stay open to a suspended user",
  save_recent_search: "the caller's own recent searches",
  clear_recent_searches: "the caller's own recent searches",
  unregister_push_device: "the caller's own push devices",
};

export function suspendedDefault(signature: string): Expect {
  const name = signature.replace(/^public\./, "").replace(/\(.*$/, "");
  const why = SUSPENDED_MAY[name];
  return why ? { na: why } : { refuse: "42501" };
}

/** The expectation of a state for an entry: anon always refused; suspended and anonymous from their defaults when the entry does not say. */
export function expectationOf(signature: string, entry: Entry, state: State): Expect {
  if (state === "anon") return { refuse: "42501" };
  if (state === "anonymous") {
    // Every write RPC starts with private.assert_can_write(), which refuses a guest before it looks at membership:
    // a write that refuses non-members with PT404 refuses a guest with 42501 (the same guard as for suspended users).
    const e = entry.states.anonymous;
    const guardedWrite = "refuse" in suspendedDefault(signature);
    if (guardedWrite && (e === undefined || ("refuse" in e && e.refuse === "PT404"))) return { refuse: "42501" };
    return e ?? { refuse: "42501" };
  }
  if (state === "suspended") return entry.states.suspended ?? suspendedDefault(signature);
  return entry.states[state];
}

/** A fresh world for one case: the group, its messages, then the entry's own set-up. */
export async function buildWorld(entry: Entry, tag: string): Promise<World> {
  const [keeper, actor, peer, stranger, outsider] = await Promise.all(
    ["keeper", "actor", "peer", "stranger", "outsider"].map((n) => createUser(`replay_${n}_${tag}`)),
  ) as [TestUser, TestUser, TestUser, TestUser, TestUser];
  const secret = `secret-${randomUUID()}`;
  const owner = entry.actorRole === "owner" ? actor : keeper;
  const second = entry.actorRole === "owner" ? keeper : actor;
  const g = await one<{ id: string }>(owner, (tx) =>
    tx`select * from public.create_group_chat(title => 'replay group', member_ids => ${[second.id, peer.id]}::uuid[])`);
  await as(owner, (tx) => tx`select public.set_member_role(chat_id => ${g.id}, user_id => ${second.id}, role => 'admin')`);
  const pm = await one<{ id: string }>(peer, (tx) => tx`select * from public.send_message(chat_id => ${g.id}, body => ${secret + " peer"})`);
  const am = await one<{ id: string }>(actor, (tx) => tx`select * from public.send_message(chat_id => ${g.id}, body => ${secret + " actor"})`);
  const w: World = { keeper, actor, peer, stranger, outsider, group: g.id, peerMessage: pm.id, actorMessage: am.id, extra: {}, secret };
  await entry.prepare?.(w);
  return w;
}

/** Changes the actor's state; returns the caller of the replay. */
export async function enterState(entry: Entry, w: World, state: State): Promise<Claims> {
  const scope = entry.scope === "channel" ? x(w, "channel") : w.group;
  switch (state) {
    case "anon":
      return ANON;
    case "anonymous":
      return (await createAnonymousUser()).claims;
    case "outsider":
      return w.outsider.claims;
    case "suspended": {
      // Suspended through the real path: an app moderator (app_metadata.app_role) calls suspend_user.
      const moderator = await createUser(`replay_moderator_${w.secret.slice(7, 15)}`);
      await makeModerator(moderator);
      await as(moderator, (tx) => tx`select public.suspend_user(user_id => ${w.actor.id}, reason => 'replay')`);
      return w.actor.claims;
    }
    case "blocked":
      await as(w.stranger, (tx) => tx`insert into public.user_blocks (blocker_id, blocked_id) values (${w.stranger.id}, ${w.actor.id})`);
      return w.actor.claims;
    case "removed":
    case "banned": {
      if (entry.actorRole === "owner") {
        await as(w.actor, (tx) => tx`select public.transfer_chat_ownership(chat_id => ${scope}, new_owner_id => ${w.keeper.id})`);
      }
      await as(w.keeper, (tx) => state === "removed"
        ? tx`select public.remove_chat_member(chat_id => ${scope}, user_id => ${w.actor.id})`
        : tx`select public.ban_chat_member(chat_id => ${scope}, user_id => ${w.actor.id})`);
      return w.actor.claims;
    }
  }
}

/** After the state changed, the chat goes on: a message the replay must not reveal. */
export async function lateMessage(w: World): Promise<string> {
  const m = await one<{ id: string }>(w.keeper, (tx) =>
    tx`select * from public.send_message(chat_id => ${w.group}, body => ${w.secret + " late"})`);
  return m.id;
}
