// The security matrix: every table operation and RPC, tried by every persona through the PostgREST request context.
// `buildFixture` creates a small world (committed, like real API calls would leave it); `runMatrix` then runs each
// operation once per persona inside its own request whose transaction is always rolled back, so no persona sees
// another's effects; `renderSecurityDoc` turns the outcomes into docs/security.md.
// Outcomes depend only on the fixture's own rows (every query filters on fixture ids), so the matrix is the same on
// any database the migrations were applied to, whatever other tests left in it.
import { randomUUID } from "node:crypto";
import { ANON, SERVICE_ROLE, createAnonymousUser, createUser, request, sql, type Claims, type RequestOptions, type TestUser, type Tx } from "./db.ts";

// ---------------------------------------------------------------------------------------------------------------
// personas and fixture
// ---------------------------------------------------------------------------------------------------------------
export const PERSONAS = [
  "anon", "anonymous", "outsider", "member", "admin", "owner", "removed", "banned", "blocked", "moderator", "suspended", "muted",
  "service_role",
] as const;
export type Persona = (typeof PERSONAS)[number];
/** Personas that are signed-in users (role authenticated). */
export type UserPersona = Exclude<Persona, "anon" | "service_role">;

export const PERSONA_DESCRIPTIONS: Record<Persona, string> = {
  anon: "no access token (the anon key only)",
  anonymous: "a guest: signed in through Auth's anonymous sign-in (`is_anonymous`), not a member of the group",
  outsider: "signed in, not a member of the group; holds a pending direct invitation to it",
  member: "member of the group (role `member`), author of a message in it",
  admin: "admin of the group",
  owner: "owner of the group; has blocked `blocked`",
  removed: "was a member of the group, then removed from it by the owner (not banned)",
  banned: "was a member of the group, then banned from it",
  blocked: "signed in, not a member; the owner has blocked this user",
  moderator: "app moderator (auth `app_metadata.app_role` = `moderator`, set with the service role); in no chat",
  suspended: "member of the group and of the frozen group, suspended app-wide by the moderator",
  muted: "member of the group and of the frozen group, muted in both by the admin",
  service_role: "the service role key (server side only; bypasses RLS)",
};

export interface Fixture {
  users: Record<UserPersona | "bystander" | "spare", TestUser>;
  /** A second group with the same members, frozen by the admin; the owner wrote `frozenMessageId` before. */
  frozenGroupId: string;
  frozenMessageId: string;
  /** The owner's open report of the member's message; the bystander's open report of the member (a user report). */
  reportId: string;
  userReportId: string;
  /** The group's word filter (by the admin) and an app-wide one (by the moderator). */
  wordFilterId: string;
  appWordFilterId: string;
  /** The group chat: owner, admin and member are members; banned was banned. */
  groupId: string;
  memberMessageId: string;
  ownerMessageId: string;
  linkId: string;
  linkToken: string;
  /** The pending direct invitation of `outsider` to the group. */
  invitationId: string;
  /** Attachments uploaded by `member` to the group: scanned clean and sent; pending and not sent; found infected. */
  cleanFilePath: string;
  draftFilePath: string;
  infectedFileId: string;
  /** The member's notification of the admin's reaction to their message. */
  memberNotificationId: string;
  /** The member's registered FCM device. */
  memberDeviceId: string;
}

/** Runs `fn` as a Storage API request does: the caller's claims plus the settings storage-api adds. */
async function asStorageApi<T>(tx: Tx, operation: string, fn: () => Promise<T>): Promise<T> {
  await tx`select set_config('request.jwt.claim.sub', coalesce(auth.jwt() ->> 'sub', ''), true),
                  set_config('request.jwt.claim.role', coalesce(auth.jwt() ->> 'role', ''), true),
                  set_config('storage.operation', ${operation}, true),
                  set_config('storage.allow_delete_query', 'true', true)`;
  return fn();
}

/** Inserts a storage.objects row as the Storage API does for an upload (metadata from the uploaded bytes). */
function uploadObject(tx: Tx, bucket: string, name: string, mime: string, size: number) {
  return tx`with pgrst_source as (
              insert into storage.objects (bucket_id, name, owner, owner_id, metadata, version)
              values (${bucket}, ${name}, auth.uid(), auth.uid()::text,
                      ${tx.json({ size, mimetype: mime, httpStatusCode: 200 })}, gen_random_uuid()::text)
              returning 1)
            select count(*)::int as n from pgrst_source`;
}

/** Calls an RPC as PostgREST does (named arguments) in a committed request and returns its first row. */
async function call<T>(claims: Claims, fn: (tx: Tx) => Promise<T[]>): Promise<T> {
  const rows = await request(claims, fn);
  const row = rows[0];
  if (row === undefined) throw new Error("the fixture call returned no row");
  return row;
}

/** Builds the fixture world through the request context; every step is a real API call and is committed. */
export async function buildFixture(): Promise<Fixture> {
  const names = [
    "owner", "admin", "member", "outsider", "removed", "banned", "blocked", "moderator", "suspended", "muted", "bystander", "spare",
  ] as const;
  const created = await Promise.all(names.map((n) => createUser(`matrix_${n}`)));
  const users = { ...Object.fromEntries(names.map((n, i) => [n, created[i]])), anonymous: await createAnonymousUser() } as Fixture["users"];
  const { owner, admin, member, outsider, removed, banned, blocked, moderator, suspended, muted, bystander, spare } = users;
  await sql`update auth.users set raw_app_meta_data = raw_app_meta_data || '{"app_role": "moderator"}' where id = ${moderator.id}`;

  await request(owner.claims, (tx) => tx`insert into public.user_blocks (blocker_id, blocked_id) values (${owner.id}, ${blocked.id})`);
  const group = await call<{ id: string }>(owner.claims, (tx) => tx`
    select * from public.create_group_chat(title => 'Security matrix',
                                           member_ids => ${[admin.id, member.id, removed.id, banned.id, suspended.id, muted.id]}::uuid[])`);
  await request(owner.claims, (tx) => tx`
    select * from public.set_member_role(chat_id => ${group.id}, user_id => ${admin.id}, role => 'admin')`);
  await request(owner.claims, (tx) => tx`
    select * from public.ban_chat_member(chat_id => ${group.id}, user_id => ${banned.id}, reason => 'matrix')`);
  await request(owner.claims, (tx) => tx`
    select * from public.remove_chat_member(chat_id => ${group.id}, user_id => ${removed.id})`);
  await request(owner.claims, (tx) => tx`
    select * from public.add_chat_emoji(chat_id => ${group.id}, shortcode => ':matrix:', image_path => ${owner.id + "/matrix.png"})`);
  const memberMessage = await call<{ id: string }>(member.claims, (tx) => tx`
    select * from public.send_message(chat_id => ${group.id}, body => 'hello from member')`);
  await request(member.claims, (tx) => tx`
    select * from public.edit_message(message_id => ${memberMessage.id}, body => 'hello from member (edited)')`);
  const ownerMessage = await call<{ id: string }>(owner.claims, (tx) => tx`
    select * from public.send_message(chat_id => ${group.id}, body => 'hello from owner')`);
  await request(admin.claims, (tx) => tx`
    select * from public.toggle_reaction(message_id => ${memberMessage.id}, emoji => '👍')`);
  const link = await call<{ id: string; token: string }>(owner.claims, (tx) => tx`
    select * from public.create_invite_link(chat_id => ${group.id})`);
  const invitation = await call<{ id: string }>(owner.claims, (tx) => tx`
    select * from public.invite_user(chat_id => ${group.id}, user_id => ${outsider.id})`);
  // A user without a profile, so that the service role's direct profile insert has a valid row to insert.
  await request(SERVICE_ROLE, (tx) => tx`delete from public.profiles where id = ${spare.id}`);

  // Files: the member uploads three; the scan (server side) finds one clean (then sent), one infected.
  const file = (name: string) => ({ id: randomUUID(), path: "", name });
  const clean = file("photo.png");
  const draft = file("draft.pdf");
  const infected = file("virus.txt");
  for (const [f, mime] of [[clean, "image/png"], [draft, "application/pdf"], [infected, "text/plain"]] as const) {
    f.path = `${group.id}/${f.id}/${f.name}`;
    await request(member.claims, (tx) => asStorageApi(tx, "storage.object.upload", () => uploadObject(tx, "attachments", f.path, mime, 1234)));
  }
  await sql`select private.set_attachment_scan_result(${clean.id}::uuid, 'clean', detected_mime_type => 'image/png')`;
  await request(member.claims, (tx) => tx`
    select * from public.send_message(chat_id => ${group.id}, body => 'a photo', kind => 'image', attachment_ids => ${[clean.id]}::uuid[])`);
  await sql`select private.set_attachment_scan_result(${infected.id}::uuid, 'infected', 'Eicar-Test-Signature')`;
  await request(member.claims, (tx) => tx`select * from public.update_notification_settings(hide_previews => true)`);
  await request(member.claims, (tx) => tx`select * from public.update_privacy_settings(who_can_add => 'contacts')`);
  await request(member.claims, (tx) => tx`select * from public.save_recent_search(query => 'hello')`);
  const [reactionNotice] = await sql<{ id: string }[]>`
    select id from public.notifications where recipient_id = ${member.id} and kind = 'reaction'`;
  if (reactionNotice === undefined) throw new Error("the fixture's reaction made no notification");
  const device = await call<{ id: string }>(member.claims, (tx) => tx`
    select * from public.register_push_device(provider => 'fcm', platform => 'android', token => ${"matrix-fcm-token-" + randomUUID()})`);
  // GDPR and retention: disappearing messages in the group (a month: nothing expires), a finished export of the member.
  await request(owner.claims, (tx) => tx`
    select * from public.set_disappearing_messages(chat_id => ${group.id}, ttl_seconds => 2592000)`);
  await sql`insert into public.data_exports (user_id, status, progress) values (${member.id}, 'ready', 100)`;
  await sql.begin(async (tx) => {
    await tx`select set_config('storage.allow_delete_query', 'true', true)`;
    await tx`delete from storage.objects where bucket_id = 'attachments' and name = ${infected.path}`;
  });

  // Moderation: a frozen group with the same members; the muted member muted in both; the suspended member suspended.
  const frozen = await call<{ id: string }>(owner.claims, (tx) => tx`
    select * from public.create_group_chat(title => 'Frozen matrix', member_ids => ${[admin.id, member.id, suspended.id, muted.id]}::uuid[])`);
  await request(owner.claims, (tx) => tx`
    select * from public.set_member_role(chat_id => ${frozen.id}, user_id => ${admin.id}, role => 'admin')`);
  const frozenMessage = await call<{ id: string }>(owner.claims, (tx) => tx`
    select * from public.send_message(chat_id => ${frozen.id}, body => 'before the freeze')`);
  await request(admin.claims, (tx) => tx`select * from public.freeze_chat(chat_id => ${frozen.id}, reason => 'matrix')`);
  for (const chat of [group.id, frozen.id]) {
    await request(admin.claims, (tx) => tx`
      select * from public.mute_chat_member(chat_id => ${chat}, user_id => ${muted.id}, duration_seconds => 86400)`);
  }
  const report = await call<{ id: string }>(owner.claims, (tx) => tx`
    select * from public.report_content(target_kind => 'message', target_id => ${memberMessage.id}, reason => 'spam')`);
  const userReport = await call<{ id: string }>(bystander.claims, (tx) => tx`
    select * from public.report_content(target_kind => 'user', target_id => ${member.id}, reason => 'harassment')`);
  const filter = await call<{ id: string }>(admin.claims, (tx) => tx`
    select * from public.add_word_filter(word => 'matrixword', action => 'mask', chat_id => ${group.id})`);
  const appFilter = await call<{ id: string }>(moderator.claims, (tx) => tx`
    select * from public.add_word_filter(word => 'matrixappword')`);
  await request(moderator.claims, (tx) => tx`select * from public.suspend_user(user_id => ${suspended.id}, reason => 'matrix')`);

  return {
    users,
    frozenGroupId: frozen.id,
    frozenMessageId: frozenMessage.id,
    reportId: report.id,
    userReportId: userReport.id,
    wordFilterId: filter.id,
    appWordFilterId: appFilter.id,
    groupId: group.id,
    memberMessageId: memberMessage.id,
    ownerMessageId: ownerMessage.id,
    linkId: link.id,
    linkToken: link.token,
    invitationId: invitation.id,
    cleanFilePath: clean.path,
    draftFilePath: draft.path,
    infectedFileId: infected.id,
    memberNotificationId: reactionNotice.id,
    memberDeviceId: device.id,
  };
}

export function claimsOf(f: Fixture, persona: Persona): Claims {
  if (persona === "anon") return ANON;
  if (persona === "service_role") return SERVICE_ROLE;
  return f.users[persona].claims;
}

/** The acting user's id; personas without one (anon, service_role) act on the owner's behalf. */
function actorId(f: Fixture, persona: Persona): string {
  return persona === "anon" || persona === "service_role" ? f.users.owner.id : f.users[persona].id;
}

// ---------------------------------------------------------------------------------------------------------------
// operations
// ---------------------------------------------------------------------------------------------------------------
export type OperationKind = "select" | "insert" | "update" | "delete" | "rpc";

export interface Operation {
  /** Stable id, e.g. `chats.select` or `rpc.update_chat`. */
  id: string;
  kind: OperationKind;
  /** Table name for table operations, function name for RPCs. */
  target: string;
  /** What exactly is tried, as shown in the doc. */
  description: string;
  /** RPCs on the fixture group or its messages/invitations that require membership of the group. */
  needsMembership?: boolean;
  /** Show the number of rows (selects, updates, deletes, set-returning RPCs). */
  countsRows: boolean;
  method: NonNullable<RequestOptions["method"]>;
  /** Runs the operation; returns the number of rows it returned or affected. */
  run(tx: Tx, f: Fixture, persona: Persona): Promise<number>;
}

/** Row count of a data-modifying statement wrapped like PostgREST wraps it (`with pgrst_source as (... returning 1)`). */
async function affected(q: PromiseLike<readonly object[]>): Promise<number> {
  const [row] = await q;
  return Number((row as { n?: number } | undefined)?.n ?? 0);
}

function select(target: string, description: string, run: Operation["run"]): Operation {
  return { id: `${target}.select`, kind: "select", target, description, countsRows: true, method: "GET", run };
}
function insert(target: string, description: string, run: Operation["run"], suffix = ""): Operation {
  return { id: `${target}.insert${suffix}`, kind: "insert", target, description, countsRows: false, method: "POST", run };
}
function update(target: string, description: string, run: Operation["run"], suffix = ""): Operation {
  return { id: `${target}.update${suffix}`, kind: "update", target, description, countsRows: true, method: "PATCH", run };
}
function remove(target: string, description: string, run: Operation["run"], suffix = ""): Operation {
  return { id: `${target}.delete${suffix}`, kind: "delete", target, description, countsRows: true, method: "DELETE", run };
}
function rpc(
  target: string,
  description: string,
  run: Operation["run"],
  opts: { suffix?: string; needsMembership?: boolean; countsRows?: boolean } = {},
): Operation {
  return {
    id: `rpc.${target}${opts.suffix ?? ""}`,
    kind: "rpc",
    target,
    description,
    needsMembership: opts.needsMembership ?? false,
    countsRows: opts.countsRows ?? false,
    method: "POST",
    run,
  };
}

/** Runs a set-returning or single-row RPC and returns how many rows came back. */
async function rows(q: PromiseLike<readonly unknown[]>): Promise<number> {
  return (await q).length;
}

export const TABLE_OPERATIONS: Operation[] = [
  // profiles: everyone signed in reads profiles (except of users who blocked them); owners edit selected columns.
  select("profiles", "the fixture's 12 profiles", (tx, f) =>
    rows(tx`select * from public.profiles where id in ${tx(Object.values(f.users).map((u) => u.id))}`)),
  insert("profiles", "a profile for a user who has none", (tx, f) =>
    affected(tx`with pgrst_source as (insert into public.profiles (id, username) values (${f.users.spare.id}, ${"spare_" + randomUUID().slice(0, 8)}) returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("profiles", "the owner's profile: `bio`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.profiles set bio = 'changed' where id = ${f.users.owner.id} returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("profiles", "own profile: `bio`", (tx, f, p) =>
    affected(tx`with pgrst_source as (update public.profiles set bio = 'mine' where id = ${actorId(f, p)} returning 1)
                select count(*)::int as n from pgrst_source`), ".own"),
  update("profiles", "own profile: `created_at` (not an editable column)", (tx, f, p) =>
    affected(tx`with pgrst_source as (update public.profiles set created_at = now() - interval '1 year' where id = ${actorId(f, p)} returning 1)
                select count(*)::int as n from pgrst_source`), ".created_at"),
  remove("profiles", "the owner's profile", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.profiles where id = ${f.users.owner.id} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // user_blocks: a user manages their own blocks and sees only those.
  select("user_blocks", "the owner's block of `blocked`", (tx, f) =>
    rows(tx`select * from public.user_blocks where blocker_id = ${f.users.owner.id}`)),
  insert("user_blocks", "own block of the bystander (`blocker_id` = caller)", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.user_blocks (blocker_id, blocked_id) values (${actorId(f, p)}, ${f.users.bystander.id}) returning 1)
                select count(*)::int as n from pgrst_source`)),
  insert("user_blocks", "a block in another user's name (`blocker_id` = bystander)", (tx, f) =>
    affected(tx`with pgrst_source as (insert into public.user_blocks (blocker_id, blocked_id) values (${f.users.bystander.id}, ${f.users.owner.id}) returning 1)
                select count(*)::int as n from pgrst_source`), ".as_other"),
  update("user_blocks", "the owner's block: `created_at`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.user_blocks set created_at = now() where blocker_id = ${f.users.owner.id} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("user_blocks", "the owner's block of `blocked`", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.user_blocks where blocker_id = ${f.users.owner.id} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // chats
  select("chats", "the group", (tx, f) => rows(tx`select * from public.chats where id = ${f.groupId}`)),
  insert("chats", "a new group", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.chats (kind, title, created_by) values ('group', 'inserted', ${actorId(f, p)}) returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("chats", "the group: `title`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.chats set title = 'renamed' where id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("chats", "the group", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.chats where id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // chat_members
  select("chat_members", "the group's members", (tx, f) =>
    rows(tx`select user_id, role, joined_at, last_read_seq, last_read_at from public.chat_members where chat_id = ${f.groupId}`)),
  insert("chat_members", "self into the group as owner", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.chat_members (chat_id, user_id, role) values (${f.groupId}, ${p === "anon" || p === "service_role" ? f.users.bystander.id : actorId(f, p)}, 'owner') returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("chat_members", "own membership in the group: `role` = owner", (tx, f, p) =>
    affected(tx`with pgrst_source as (update public.chat_members set role = 'owner' where chat_id = ${f.groupId} and user_id = ${p === "anon" || p === "service_role" ? f.users.member.id : actorId(f, p)} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("chat_members", "the group's members", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.chat_members where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // chat_bans
  select("chat_bans", "the group's bans", (tx, f) => rows(tx`select * from public.chat_bans where chat_id = ${f.groupId}`)),
  insert("chat_bans", "a ban of the bystander", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.chat_bans (chat_id, user_id, banned_by) values (${f.groupId}, ${f.users.bystander.id}, ${actorId(f, p)}) returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("chat_bans", "the group's bans: `reason`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.chat_bans set reason = 'changed' where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("chat_bans", "the group's bans (unban)", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.chat_bans where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // messages
  select("messages", "the group's messages", (tx, f) => rows(tx`select * from public.messages where chat_id = ${f.groupId}`)),
  insert("messages", "a message in the group as the caller", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.messages (chat_id, seq, author_id, body) values (${f.groupId}, 1000, ${actorId(f, p)}, 'inserted') returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("messages", "the group's messages: `body`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.messages set body = 'tampered' where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("messages", "the group's messages", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.messages where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // message_edits
  select("message_edits", "the group's edit history", (tx, f) =>
    rows(tx`select * from public.message_edits where chat_id = ${f.groupId}`)),
  insert("message_edits", "a fake earlier body of the member's message", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.message_edits (message_id, chat_id, previous_body, edited_by) values (${f.memberMessageId}, ${f.groupId}, 'fake', ${actorId(f, p)}) returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("message_edits", "the group's edit history: `previous_body`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.message_edits set previous_body = 'tampered' where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("message_edits", "the group's edit history", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.message_edits where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // message_reactions
  select("message_reactions", "the group's reactions", (tx, f) =>
    rows(tx`select * from public.message_reactions where chat_id = ${f.groupId}`)),
  insert("message_reactions", "a reaction as the caller to the member's message", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.message_reactions (message_id, user_id, emoji, chat_id) values (${f.memberMessageId}, ${actorId(f, p)}, '🔥', ${f.groupId}) returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("message_reactions", "the group's reactions: `emoji`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.message_reactions set emoji = '👎' where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("message_reactions", "the group's reactions", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.message_reactions where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // chat_emoji: members read the chat's custom emoji; owners and admins manage them through the RPCs.
  select("chat_emoji", "the group's custom emoji", (tx, f) =>
    rows(tx`select * from public.chat_emoji where chat_id = ${f.groupId}`)),
  insert("chat_emoji", "a custom emoji of the group", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.chat_emoji (chat_id, shortcode, image_path, created_by) values (${f.groupId}, ':inserted:', ${actorId(f, p) + "/x.png"}, ${actorId(f, p)}) returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("chat_emoji", "the group's custom emoji: `image_path`", (tx, f, p) =>
    affected(tx`with pgrst_source as (update public.chat_emoji set image_path = ${actorId(f, p) + "/y.png"} where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("chat_emoji", "the group's custom emoji", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.chat_emoji where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // chat_invitations
  select("chat_invitations", "the group's invite link and invitation", (tx, f) =>
    rows(tx`select * from public.chat_invitations where chat_id = ${f.groupId}`)),
  insert("chat_invitations", "an invitation of the bystander", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.chat_invitations (chat_id, created_by, invited_user_id) values (${f.groupId}, ${actorId(f, p)}, ${f.users.bystander.id}) returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("chat_invitations", "the group's invitations: `max_uses`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.chat_invitations set max_uses = 100000 where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("chat_invitations", "the group's invitations", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.chat_invitations where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // attachments: rows are registered by uploads and written by the scan; clients only read them.
  select("attachments", "the group's attachments (clean and sent, pending draft, infected)", (tx, f) =>
    rows(tx`select * from public.attachments where chat_id = ${f.groupId}`)),
  insert("attachments", "an attachment row for an object that does not exist", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.attachments (id, chat_id, uploader_id, object_path, name, mime_type, size_bytes)
                values (${"00000000-0000-4000-8000-000000000001"}, ${f.groupId}, ${actorId(f, p)},
                        ${f.groupId + "/00000000-0000-4000-8000-000000000001/fake.png"}, 'fake.png', 'image/png', 1) returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("attachments", "the group's attachments: `scan_status` = clean", (tx, f) =>
    affected(tx`with pgrst_source as (update public.attachments set scan_status = 'clean' where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("attachments", "the group's attachments", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.attachments where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // audit_log: written by the server; a chat's admins read the rows about it.
  select("audit_log", "the group's audit log (the infected upload)", (tx, f) =>
    rows(tx`select * from public.audit_log where chat_id = ${f.groupId}`)),
  insert("audit_log", "a fake event about the group", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.audit_log (action, chat_id, actor_id) values ('fake.event', ${f.groupId}, ${actorId(f, p)}) returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("audit_log", "the group's audit log: `details`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.audit_log set details = '{}' where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("audit_log", "the group's audit log", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.audit_log where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // moderation tables: written only through the moderation RPCs
  select("reports", "the fixture's two reports", (tx, f) =>
    rows(tx`select * from public.reports where id in ${tx([f.reportId, f.userReportId])}`)),
  insert("reports", "a report of the owner's message", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.reports (reporter_id, target_kind, chat_id, message_id, reason)
                values (${actorId(f, p)}, 'message', ${f.groupId}, ${f.ownerMessageId}, 'spam') returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("reports", "the owner's report: `status`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.reports set status = 'dismissed', resolved_at = now() where id = ${f.reportId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("reports", "the owner's report", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.reports where id = ${f.reportId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  select("user_suspensions", "the suspended member's suspension", (tx, f) =>
    rows(tx`select * from public.user_suspensions where user_id = ${f.users.suspended.id}`)),
  insert("user_suspensions", "a suspension of the bystander", (tx, f) =>
    affected(tx`with pgrst_source as (insert into public.user_suspensions (user_id) values (${f.users.bystander.id}) returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("user_suspensions", "the suspension: `suspended_until`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.user_suspensions set suspended_until = now() where user_id = ${f.users.suspended.id} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("user_suspensions", "the suspension (lift it)", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.user_suspensions where user_id = ${f.users.suspended.id} returning 1)
                select count(*)::int as n from pgrst_source`)),
  select("chat_mutes", "the group's mutes", (tx, f) => rows(tx`select * from public.chat_mutes where chat_id = ${f.groupId}`)),
  insert("chat_mutes", "a mute of the member", (tx, f) =>
    affected(tx`with pgrst_source as (insert into public.chat_mutes (chat_id, user_id, muted_until) values (${f.groupId}, ${f.users.member.id}, now() + interval '1 hour') returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("chat_mutes", "the group's mutes: `muted_until`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.chat_mutes set muted_until = now() where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("chat_mutes", "the group's mutes (unmute)", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.chat_mutes where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  select("chat_freezes", "the frozen group's freeze", (tx, f) => rows(tx`select * from public.chat_freezes where chat_id = ${f.frozenGroupId}`)),
  insert("chat_freezes", "a freeze of the group", (tx, f) =>
    affected(tx`with pgrst_source as (insert into public.chat_freezes (chat_id) values (${f.groupId}) returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("chat_freezes", "the freeze: `reason`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.chat_freezes set reason = 'changed' where chat_id = ${f.frozenGroupId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("chat_freezes", "the freeze (unfreeze)", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.chat_freezes where chat_id = ${f.frozenGroupId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  select("word_filters", "the group's and the app-wide filter", (tx, f) =>
    rows(tx`select * from public.word_filters where id in ${tx([f.wordFilterId, f.appWordFilterId])}`)),
  insert("word_filters", "a filter for the group", (tx, f) =>
    affected(tx`with pgrst_source as (insert into public.word_filters (chat_id, word) values (${f.groupId}, 'inserted') returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("word_filters", "the group's filter: `action`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.word_filters set action = 'block' where id = ${f.wordFilterId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("word_filters", "the group's filter", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.word_filters where id = ${f.wordFilterId} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // notifications: made by the server; only the recipient reads them; marked read through the RPCs.
  select("notifications", "the member's notifications (added to the group, the admin's reaction)", (tx, f) =>
    rows(tx`select * from public.notifications where recipient_id = ${f.users.member.id}`)),
  insert("notifications", "a notification for the member", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.notifications (recipient_id, kind, actor_id) values (${f.users.member.id}, 'system', ${actorId(f, p)}) returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("notifications", "the member's notifications: `read_at`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.notifications set read_at = now() where recipient_id = ${f.users.member.id} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("notifications", "the member's notifications", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.notifications where recipient_id = ${f.users.member.id} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // notification_settings: the user's own row, changed through update_notification_settings.
  select("notification_settings", "the member's settings", (tx, f) =>
    rows(tx`select * from public.notification_settings where user_id = ${f.users.member.id}`)),
  insert("notification_settings", "own settings row", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.notification_settings (user_id) values (${p === "anon" || p === "service_role" ? f.users.bystander.id : actorId(f, p)}) on conflict do nothing returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("notification_settings", "the member's settings: `push_enabled`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.notification_settings set push_enabled = false where user_id = ${f.users.member.id} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("notification_settings", "the member's settings", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.notification_settings where user_id = ${f.users.member.id} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // privacy_settings: the user's own row, changed through update_privacy_settings.
  select("privacy_settings", "the member's settings", (tx, f) =>
    rows(tx`select * from public.privacy_settings where user_id = ${f.users.member.id}`)),
  insert("privacy_settings", "own settings row", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.privacy_settings (user_id) values (${p === "anon" || p === "service_role" ? f.users.bystander.id : actorId(f, p)}) on conflict do nothing returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("privacy_settings", "the member's settings: `who_can_message`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.privacy_settings set who_can_message = 'nobody' where user_id = ${f.users.member.id} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("privacy_settings", "the member's settings", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.privacy_settings where user_id = ${f.users.member.id} returning 1)
                select count(*)::int as n from pgrst_source`)),
  // recent_searches: each user reads their own; written and cleared through the RPCs.
  select("recent_searches", "the member's recent searches", (tx, f) =>
    rows(tx`select * from public.recent_searches where user_id = ${f.users.member.id}`)),
  insert("recent_searches", "a recent search for oneself", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.recent_searches (user_id, query) values (${p === "anon" || p === "service_role" ? f.users.bystander.id : actorId(f, p)}, ${"inserted " + randomUUID()}) returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("recent_searches", "the member's recent searches: `query`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.recent_searches set query = 'tampered' where user_id = ${f.users.member.id} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("recent_searches", "the member's recent searches", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.recent_searches where user_id = ${f.users.member.id} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // push_devices: the user's own push targets (tokens are encrypted in the private schema), through the RPCs.
  select("push_devices", "the member's devices", (tx, f) =>
    rows(tx`select * from public.push_devices where user_id = ${f.users.member.id}`)),
  insert("push_devices", "a device for oneself", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.push_devices (user_id, provider, platform) values (${p === "anon" || p === "service_role" ? f.users.bystander.id : actorId(f, p)}, 'fcm', 'android') returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("push_devices", "the member's devices: `device_name`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.push_devices set device_name = 'renamed' where user_id = ${f.users.member.id} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("push_devices", "the member's devices", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.push_devices where user_id = ${f.users.member.id} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // chat_retention: the group's disappearing-message TTL; members read it, admins set it through set_disappearing_messages.
  select("chat_retention", "the group's message TTL", (tx, f) =>
    rows(tx`select * from public.chat_retention where chat_id = ${f.groupId}`)),
  insert("chat_retention", "a TTL for the group", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.chat_retention (chat_id, message_ttl, set_by) values (${f.groupId}, interval '1 minute', ${actorId(f, p)}) on conflict do nothing returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("chat_retention", "the group's TTL: `message_ttl`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.chat_retention set message_ttl = interval '1 minute' where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("chat_retention", "the group's TTL", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.chat_retention where chat_id = ${f.groupId} returning 1)
                select count(*)::int as n from pgrst_source`)),

  // data_exports: export jobs, made and advanced by the gdpr-export function; only their owner reads them.
  select("data_exports", "the member's export jobs", (tx, f) =>
    rows(tx`select * from public.data_exports where user_id = ${f.users.member.id}`)),
  insert("data_exports", "an export job for oneself", (tx, f, p) =>
    affected(tx`with pgrst_source as (insert into public.data_exports (user_id) values (${p === "anon" || p === "service_role" ? f.users.bystander.id : actorId(f, p)}) returning 1)
                select count(*)::int as n from pgrst_source`)),
  update("data_exports", "the member's export jobs: `status`", (tx, f) =>
    affected(tx`with pgrst_source as (update public.data_exports set status = 'failed' where user_id = ${f.users.member.id} returning 1)
                select count(*)::int as n from pgrst_source`)),
  remove("data_exports", "the member's export jobs", (tx, f) =>
    affected(tx`with pgrst_source as (delete from public.data_exports where user_id = ${f.users.member.id} returning 1)
                select count(*)::int as n from pgrst_source`)),
];

/** Storage API requests on storage.objects (the statements storage-api runs, as the caller). */
export const STORAGE_OPERATIONS: Operation[] = [
  { ...select("storage.objects", "download the clean photo sent in the group", (tx, f) =>
      asStorageApi(tx, "storage.object.get_authenticated", () =>
        rows(tx`select id from storage.objects where bucket_id = 'attachments' and name = ${f.cleanFilePath}`))),
    id: "storage.attachments.download_clean" },
  { ...select("storage.objects", "download the member's pending, unsent draft", (tx, f) =>
      asStorageApi(tx, "storage.object.get_authenticated", () =>
        rows(tx`select id from storage.objects where bucket_id = 'attachments' and name = ${f.draftFilePath}`))),
    id: "storage.attachments.download_pending" },
  { ...insert("storage.objects", "upload an image to `attachments/<group>/<new uuid>/`", (tx, f) =>
      asStorageApi(tx, "storage.object.upload", () =>
        affected(uploadObject(tx, "attachments", `${f.groupId}/${randomUUID()}/new.png`, "image/png", 1000)))),
    id: "storage.attachments.upload" },
  { ...remove("storage.objects", "remove the member's clean photo", (tx, f) =>
      asStorageApi(tx, "storage.object.delete", () =>
        affected(tx`with pgrst_source as (delete from storage.objects where bucket_id = 'attachments' and name = ${f.cleanFilePath} returning 1)
                    select count(*)::int as n from pgrst_source`))),
    id: "storage.attachments.remove" },
  { ...insert("storage.objects", "upload an avatar to `avatars/<the member's id>/`", (tx, f) =>
      asStorageApi(tx, "storage.object.upload", () =>
        affected(uploadObject(tx, "avatars", `${f.users.member.id}/avatar.png`, "image/png", 1000)))),
    id: "storage.avatars.upload_member_folder" },
];

export const RPC_OPERATIONS: Operation[] = [
  // creating and joining chats
  rpc("create_direct_chat", "with the owner", (tx, f) =>
    rows(tx`select * from public.create_direct_chat(user_id => ${f.users.owner.id})`)),
  rpc("create_group_chat", "a group with the bystander", (tx, f) =>
    rows(tx`select * from public.create_group_chat(title => 'new group', member_ids => ${[f.users.bystander.id]}::uuid[])`)),
  rpc("create_channel", "a channel", (tx) => rows(tx`select * from public.create_channel(title => 'new channel')`)),
  rpc("join_chat", "the group (not discoverable)", (tx, f) =>
    rows(tx`select * from public.join_chat(chat_id => ${f.groupId})`)),

  // chat settings and lifecycle
  rpc("update_chat", "the group's title", (tx, f) =>
    rows(tx`select * from public.update_chat(chat_id => ${f.groupId}, title => 'renamed')`), { needsMembership: true }),
  rpc("set_chat_preferences", "pin the group for oneself", (tx, f) =>
    rows(tx`select * from public.set_chat_preferences(chat_id => ${f.groupId}, pinned => true)`), { needsMembership: true }),
  rpc("set_disappearing_messages", "a one-day TTL in the group", (tx, f) =>
    rows(tx`select * from public.set_disappearing_messages(chat_id => ${f.groupId}, ttl_seconds => 86400)`), { needsMembership: true }),
  rpc("mark_chat_read", "the group", (tx, f) =>
    rows(tx`select * from public.mark_chat_read(chat_id => ${f.groupId})`), { needsMembership: true }),
  rpc("leave_chat", "the group", (tx, f) =>
    rows(tx`select * from public.leave_chat(chat_id => ${f.groupId})`), { needsMembership: true }),
  rpc("transfer_chat_ownership", "of the group to the admin", (tx, f) =>
    rows(tx`select * from public.transfer_chat_ownership(chat_id => ${f.groupId}, new_owner_id => ${f.users.admin.id})`),
    { needsMembership: true }),
  rpc("delete_chat", "the group", (tx, f) =>
    rows(tx`select * from public.delete_chat(chat_id => ${f.groupId})`), { needsMembership: true }),

  // participants
  rpc("add_chat_members", "the bystander to the group", (tx, f) =>
    rows(tx`select * from public.add_chat_members(chat_id => ${f.groupId}, user_ids => ${[f.users.bystander.id]}::uuid[])`),
    { needsMembership: true }),
  rpc("set_member_role", "member → admin", (tx, f) =>
    rows(tx`select * from public.set_member_role(chat_id => ${f.groupId}, user_id => ${f.users.member.id}, role => 'admin')`),
    { needsMembership: true }),
  rpc("set_member_role", "admin → member", (tx, f) =>
    rows(tx`select * from public.set_member_role(chat_id => ${f.groupId}, user_id => ${f.users.admin.id}, role => 'member')`),
    { suffix: ".demote_admin", needsMembership: true }),
  rpc("set_member_role", "owner → member", (tx, f) =>
    rows(tx`select * from public.set_member_role(chat_id => ${f.groupId}, user_id => ${f.users.owner.id}, role => 'member')`),
    { suffix: ".demote_owner", needsMembership: true }),
  rpc("remove_chat_member", "the member", (tx, f) =>
    rows(tx`select * from public.remove_chat_member(chat_id => ${f.groupId}, user_id => ${f.users.member.id})`),
    { needsMembership: true }),
  rpc("remove_chat_member", "the owner", (tx, f) =>
    rows(tx`select * from public.remove_chat_member(chat_id => ${f.groupId}, user_id => ${f.users.owner.id})`),
    { suffix: ".owner", needsMembership: true }),
  rpc("ban_chat_member", "the member", (tx, f) =>
    rows(tx`select * from public.ban_chat_member(chat_id => ${f.groupId}, user_id => ${f.users.member.id})`),
    { needsMembership: true }),
  rpc("ban_chat_member", "the owner", (tx, f) =>
    rows(tx`select * from public.ban_chat_member(chat_id => ${f.groupId}, user_id => ${f.users.owner.id})`),
    { suffix: ".owner", needsMembership: true }),
  rpc("unban_chat_member", "the banned user", (tx, f) =>
    rows(tx`select * from public.unban_chat_member(chat_id => ${f.groupId}, user_id => ${f.users.banned.id})`),
    { needsMembership: true }),

  // messages
  rpc("send_message", "to the group", (tx, f) =>
    rows(tx`select * from public.send_message(chat_id => ${f.groupId}, body => 'hi')`), { needsMembership: true }),
  rpc("forward_message", "the member's message to the group", (tx, f) =>
    rows(tx`select * from public.forward_message(message_id => ${f.memberMessageId}, to_chat_id => ${f.groupId})`),
    { needsMembership: true }),
  rpc("edit_message", "the member's message", (tx, f) =>
    rows(tx`select * from public.edit_message(message_id => ${f.memberMessageId}, body => 'edited again')`),
    { needsMembership: true }),
  rpc("delete_message", "the member's message", (tx, f) =>
    rows(tx`select * from public.delete_message(message_id => ${f.memberMessageId})`), { needsMembership: true }),
  rpc("delete_message", "the owner's message", (tx, f) =>
    rows(tx`select * from public.delete_message(message_id => ${f.ownerMessageId})`),
    { suffix: ".owner", needsMembership: true }),
  rpc("pin_message", "the member's message", (tx, f) =>
    rows(tx`select * from public.pin_message(message_id => ${f.memberMessageId})`), { needsMembership: true }),
  rpc("toggle_reaction", "🎉 on the member's message", (tx, f) =>
    rows(tx`select * from public.toggle_reaction(message_id => ${f.memberMessageId}, emoji => '🎉')`),
    { needsMembership: true }),
  rpc("add_chat_emoji", "`:added:` with an image in the caller's folder", (tx, f, p) =>
    rows(tx`select * from public.add_chat_emoji(chat_id => ${f.groupId}, shortcode => ':added:', image_path => ${actorId(f, p) + "/added.png"})`),
    { needsMembership: true }),
  rpc("remove_chat_emoji", "the group's `:matrix:`", (tx, f) =>
    rows(tx`select * from public.remove_chat_emoji(chat_id => ${f.groupId}, shortcode => ':matrix:')`), { needsMembership: true }),
  rpc("get_chat_messages", "of the group", (tx, f) =>
    rows(tx`select * from public.get_chat_messages(chat_id => ${f.groupId})`), { needsMembership: true, countsRows: true }),
  rpc("list_chats", "the caller's chats", (tx) => rows(tx`select * from public.list_chats()`), { countsRows: true }),

  // realtime catch-up and presence
  rpc("get_chat_events", "of the group after cursor 0", (tx, f) =>
    rows(tx`select * from public.get_chat_events(chat_id => ${f.groupId})`), { needsMembership: true }),
  rpc("get_updates", "from a starting point", (tx) => rows(tx`select * from public.get_updates()`)),
  rpc("heartbeat", "with status away", (tx) => rows(tx`select * from public.heartbeat(status => 'away')`)),

  // invitations
  rpc("create_invite_link", "for the group", (tx, f) =>
    rows(tx`select * from public.create_invite_link(chat_id => ${f.groupId})`), { needsMembership: true }),
  rpc("invite_user", "the bystander to the group", (tx, f) =>
    rows(tx`select * from public.invite_user(chat_id => ${f.groupId}, user_id => ${f.users.bystander.id})`),
    { needsMembership: true }),
  rpc("revoke_invitation", "the group's invite link", (tx, f) =>
    rows(tx`select * from public.revoke_invitation(invitation_id => ${f.linkId})`), { needsMembership: true }),
  rpc("get_invite_link_info", "with the group's token", (tx, f) =>
    rows(tx`select * from public.get_invite_link_info(token => ${f.linkToken})`), { countsRows: true }),
  rpc("accept_invite_link", "with the group's token", (tx, f) =>
    rows(tx`select * from public.accept_invite_link(token => ${f.linkToken})`)),
  rpc("respond_to_invitation", "accept the outsider's invitation", (tx, f) =>
    rows(tx`select * from public.respond_to_invitation(invitation_id => ${f.invitationId}, accept => true)`)),

  // search: messages of the group (members only), people, chats, suggestions and the caller's recent searches
  rpc("search_messages", "`hello` in the group", (tx, f) =>
    rows(tx`select * from public.search_messages(query => 'hello', chat_id => ${f.groupId})`), { needsMembership: true, countsRows: true }),
  rpc("search_messages", "`hello` across the caller's chats", (tx) =>
    rows(tx`select * from public.search_messages(query => 'hello')`), { suffix: ".all_chats", countsRows: true }),
  // The member's own username (fixture-scoped: other fixtures in the same database have other usernames).
  rpc("search_people", "the member's username", (tx, f) =>
    rows(tx`select * from public.search_people(query => (select p.username from public.profiles p where p.id = ${f.users.member.id}))`),
    { countsRows: true }),
  rpc("search_chats", "`security`", (tx) => rows(tx`select * from public.search_chats(query => 'security')`), { countsRows: true }),
  rpc("search_suggestions", "`hel`", (tx) => rows(tx`select * from public.search_suggestions(query => 'hel')`), { countsRows: true }),
  rpc("save_recent_search", "`hello` for oneself", (tx) => rows(tx`select * from public.save_recent_search(query => 'hello')`)),
  rpc("clear_recent_searches", "the caller's own", (tx) => rows(tx`select public.clear_recent_searches()`)),

  // notifications: every call acts on the caller's own inbox and settings only
  rpc("list_notifications", "the caller's inbox", (tx) =>
    rows(tx`select * from public.list_notifications()`), { countsRows: true }),
  rpc("get_unread_notification_count", "the caller's", (tx) =>
    rows(tx`select * from public.get_unread_notification_count()`)),
  rpc("mark_notifications_read", "the member's reaction notification (ignored unless it is the caller's)", (tx, f) =>
    rows(tx`select * from public.mark_notifications_read(notification_ids => ${[f.memberNotificationId]}::uuid[])`)),
  rpc("mark_all_notifications_read", "of the group", (tx, f) =>
    rows(tx`select * from public.mark_all_notifications_read(chat_id => ${f.groupId})`)),
  rpc("get_notification_settings", "the caller's", (tx) =>
    rows(tx`select * from public.get_notification_settings()`)),
  rpc("register_push_device", "an FCM token of one's own", (tx) =>
    rows(tx`select * from public.register_push_device(provider => 'fcm', platform => 'android', token => ${"matrix-other-token-" + "x".repeat(20)})`)),
  rpc("unregister_push_device", "the member's device (only removed for its owner)", (tx, f) =>
    rows(tx`select * from public.unregister_push_device(device_id => ${f.memberDeviceId})`)),
  rpc("update_notification_settings", "quiet hours 22:00-07:00 in Europe/Berlin", (tx) =>
    rows(tx`select * from public.update_notification_settings(quiet_hours_start => '22:00', quiet_hours_end => '07:00', time_zone => 'Europe/Berlin')`)),

  // privacy
  rpc("get_privacy_settings", "the caller's", (tx) => rows(tx`select * from public.get_privacy_settings()`)),
  rpc("update_privacy_settings", "direct messages from contacts only", (tx) =>
    rows(tx`select * from public.update_privacy_settings(who_can_message => 'contacts')`)),
  rpc("get_presence", "of the member", (tx, f) =>
    rows(tx`select * from public.get_presence(user_ids => ${[f.users.member.id]}::uuid[])`)),
  // moderation: reports, decisions, mutes, freezes, suspensions, word filters
  rpc("report_content", "the owner's message", (tx, f) =>
    rows(tx`select * from public.report_content(target_kind => 'message', target_id => ${f.ownerMessageId}, reason => 'spam')`),
    { needsMembership: true }),
  rpc("report_content", "the owner (a user report)", (tx, f) =>
    rows(tx`select * from public.report_content(target_kind => 'user', target_id => ${f.users.owner.id}, reason => 'spam')`),
    { suffix: ".user" }),
  rpc("resolve_report", "the owner's report of the member's message: dismiss", (tx, f) =>
    rows(tx`select * from public.resolve_report(report_id => ${f.reportId}, action => 'dismiss')`), { needsMembership: true }),
  rpc("resolve_report", "the bystander's report of the member: suspend", (tx, f) =>
    rows(tx`select * from public.resolve_report(report_id => ${f.userReportId}, action => 'suspend', duration_seconds => 3600)`),
    { suffix: ".suspend" }),
  rpc("mute_chat_member", "the member, for an hour", (tx, f) =>
    rows(tx`select * from public.mute_chat_member(chat_id => ${f.groupId}, user_id => ${f.users.member.id}, duration_seconds => 3600)`),
    { needsMembership: true }),
  rpc("unmute_chat_member", "the muted member", (tx, f) =>
    rows(tx`select * from public.unmute_chat_member(chat_id => ${f.groupId}, user_id => ${f.users.muted.id})`),
    { needsMembership: true }),
  rpc("freeze_chat", "the group", (tx, f) =>
    rows(tx`select * from public.freeze_chat(chat_id => ${f.groupId})`), { needsMembership: true }),
  rpc("unfreeze_chat", "the frozen group", (tx, f) =>
    rows(tx`select * from public.unfreeze_chat(chat_id => ${f.frozenGroupId})`), { needsMembership: true }),
  rpc("send_message", "to the frozen group", (tx, f) =>
    rows(tx`select * from public.send_message(chat_id => ${f.frozenGroupId}, body => 'hi')`), { suffix: ".frozen", needsMembership: true }),
  rpc("toggle_reaction", "🎉 on the owner's message in the frozen group", (tx, f) =>
    rows(tx`select * from public.toggle_reaction(message_id => ${f.frozenMessageId}, emoji => '🎉')`),
    { suffix: ".frozen", needsMembership: true }),
  rpc("suspend_user", "the bystander, for an hour", (tx, f) =>
    rows(tx`select * from public.suspend_user(user_id => ${f.users.bystander.id}, duration_seconds => 3600)`)),
  rpc("unsuspend_user", "the suspended member", (tx, f) =>
    rows(tx`select * from public.unsuspend_user(user_id => ${f.users.suspended.id})`)),
  rpc("add_word_filter", "`darn` (mask) for the group", (tx, f) =>
    rows(tx`select * from public.add_word_filter(word => 'darn', action => 'mask', chat_id => ${f.groupId})`), { needsMembership: true }),
  rpc("add_word_filter", "`darn` app-wide", (tx) =>
    rows(tx`select * from public.add_word_filter(word => 'darn')`), { suffix: ".app" }),
  rpc("remove_word_filter", "the group's filter", (tx, f) =>
    rows(tx`select * from public.remove_word_filter(filter_id => ${f.wordFilterId})`), { needsMembership: true }),
  rpc("remove_word_filter", "the app-wide filter", (tx, f) =>
    rows(tx`select * from public.remove_word_filter(filter_id => ${f.appWordFilterId})`), { suffix: ".app" }),
];

export const OPERATIONS: Operation[] = [...TABLE_OPERATIONS, ...STORAGE_OPERATIONS, ...RPC_OPERATIONS];

// ---------------------------------------------------------------------------------------------------------------
// running
// ---------------------------------------------------------------------------------------------------------------
export type Outcome =
  | { allowed: true; rows: number }
  | { allowed: false; code: string; message: string };

export type Matrix = Map<string, Record<Persona, Outcome>>;

/** Thrown at the end of every operation so that its request's transaction rolls back. */
class Rollback extends Error {
  constructor(readonly rows: number) {
    super("rollback");
  }
}

export async function runOperation(f: Fixture, op: Operation, persona: Persona): Promise<Outcome> {
  try {
    await request(claimsOf(f, persona), async (tx) => {
      throw new Rollback(await op.run(tx, f, persona));
    }, { method: op.method, path: op.kind === "rpc" ? `/rpc/${op.target}` : `/${op.target}` });
  } catch (err) {
    if (err instanceof Rollback) return { allowed: true, rows: err.rows };
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
      return { allowed: false, code, message: (err as Error).message };
    }
    throw err;
  }
  throw new Error(`${op.id} as ${persona}: the request committed instead of rolling back`);
}

/** Every operation as every persona, one rolled-back request each, in a fixed order. */
export async function runMatrix(f: Fixture, operations: Operation[] = OPERATIONS): Promise<Matrix> {
  const matrix: Matrix = new Map();
  for (const op of operations) {
    const row = {} as Record<Persona, Outcome>;
    for (const persona of PERSONAS) row[persona] = await runOperation(f, op, persona);
    matrix.set(op.id, row);
  }
  return matrix;
}

// ---------------------------------------------------------------------------------------------------------------
// rendering
// ---------------------------------------------------------------------------------------------------------------
export function formatOutcome(op: Operation, o: Outcome): string {
  if (!o.allowed) return o.code;
  if (!op.countsRows) return "✓";
  if (o.rows === 0) return "0 rows";
  return `✓ ${o.rows} ${o.rows === 1 ? "row" : "rows"}`;
}

function tableOf(ops: Operation[], matrix: Matrix, label: (op: Operation) => string): string {
  const lines = [
    `| operation | ${PERSONAS.join(" | ")} |`,
    `|---|${PERSONAS.map(() => "---").join("|")}|`,
  ];
  for (const op of ops) {
    const row = matrix.get(op.id);
    if (!row) throw new Error(`no outcome for ${op.id}`);
    lines.push(`| ${label(op)} | ${PERSONAS.map((p) => formatOutcome(op, row[p])).join(" | ")} |`);
  }
  return lines.join("\n");
}

/** docs/security.md, from a matrix run over OPERATIONS. */
export function renderSecurityDoc(matrix: Matrix): string {
  const personas = PERSONAS.map((p) => `- **${p}** — ${PERSONA_DESCRIPTIONS[p]}`).join("\n");
  return `<!-- Generated by scripts/security-matrix.ts (npm run docs:security). Do not edit by hand. -->
# Security matrix

Row level security and grants are the only barrier between a client and the data: the Data API (PostgREST) runs every
request as \`anon\` or \`authenticated\` with the caller's JWT claims, and whatever the database allows that role, any
client can do. Every table is read-only to clients except a user's own editable profile columns and their own
\`user_blocks\`; every change with an invariant goes through an RPC that checks who is calling.

This page is not written by hand: it lists what each persona actually got when it tried each operation against a
freshly migrated database. \`tests/api/security-matrix.test.ts\` regenerates it on every test run, fails when it
differs from this file, and asserts the expectations that must never change (anon gets nothing, outsiders, removed
and banned users get no rows and no chat RPC, guests only read, members cannot administer, admins cannot act on the
owner, only the owner deletes the chat, blocks hold, direct writes are refused).

## Rules every path follows

- **Authorize before any early return.** Every RPC checks who is calling before it answers anything, an idempotent
  retry included: a retry with a known \`client_id\` is answered from the stored row only to a caller who may still
  make the call (\`send_message\` and \`forward_message\` run \`private.authorize_send\` on the target chat first). A caller who was
  removed, banned or blocked since the first attempt gets the refusal, never the row's live state.
- **One helper per act.** An act reachable through two paths is decided by one helper that both paths call:
  deleting a message (\`delete_message\`) and deleting its files through Storage (the policy on \`storage.objects\`,
  \`private.can_delete_attachment\`) both ask \`private.can_delete_message\` (the author, or a member whose role
  outranks the author's; never a former member). A file not sent yet is its uploader's alone, while a member.
  Sending and forwarding share their checks: \`private.authorize_send\`.
- **One rule per act, checked first.** Each act has one rule, in one helper, and every path to the act asks it
  before it reads or returns anything: membership (\`private.require_member\`, \`PT404\` for anyone who is not a member,
  so a hidden chat and a missing one look alike), administration (\`private.require_admin\`), being a full user
  (\`private.require_user\`, which refuses guests), posting (\`private.authorize_send\`), deleting
  (\`private.can_delete_message\`), reacting (\`private.reaction_key\`), the images a client points at
  (\`private.assert_image_path\`).
- **Least privilege.** Nothing in \`private\` is executable by \`anon\`; \`authenticated\` executes only the helpers a
  policy calls (policies run as the caller), listed below. \`supabase/tests/database/01-baseline.test.sql\` lists each
  one with the policies that need it and fails on a grant nobody needs or a listed policy that stops calling it;
  \`supabase db advisors\` and \`supabase db lint\` run in \`npm test\` and report nothing at WARN or above.

### Content rules

Text a client writes is checked in the database (\`22023\` with a hint, nothing changed; docs/errors.md):

- **Names and titles** (display names, chat titles, file names) are one line: no control characters, line breaks or
  bidirectional formatting characters (\`private.assert_name\`, \`private.assert_file_name\`).
- **Bodies** (messages when sent or edited, chat descriptions, bios) keep right-to-left text and the bidi marks
  (U+200E, U+200F, U+061C), but every embedding, override or isolate they open (U+202A, U+202B, U+202D, U+202E,
  U+2066-U+2068) must be closed by its own terminator (PDF U+202C, PDI U+2069), innermost first, before the paragraph
  ends; a terminator that closes nothing is refused too (\`private.bidi_unbalanced\`). Refusing rather than
  neutralising keeps what the author sent byte for byte (an edit never rewrites it), and a balanced text cannot
  reorder anything outside itself (a quoted reply, a file name, the author's name beside it).
- **Reactions** are exactly one emoji of Unicode's RGI list (Emoji 17.0, every fully-qualified line of emoji-test.txt:
  skin tones, ZWJ sequences, keycaps and flags included; a lone character sent without its emoji presentation
  selector is stored fully qualified), kept in \`private.rgi_emoji\` (one primary-key probe), or the \`:short_code:\` of
  one of the chat's custom emoji (\`chat_emoji\`, managed by owners and admins). Words, invisible characters, two emoji
  or an unknown short code are refused.
- **Paths** a client sets (the profile avatar, a chat's avatar, a custom emoji's image) are avatars-bucket paths
  \`<user id>/<file name>\` in the folder of the user who sets them, the only folder Storage lets them write; URLs,
  traversal and formatting characters are refused. Web Push endpoints must be https URLs of a public host on port 443 (loopback http only for local peers;
  \`register_push_device\`, \`private.push_endpoint_allowed\`): no IP literal of any form (decimal and hex IPv4 forms
  included), no user info, no other port, no single-label name and no name of a local network (\`localhost\`,
  \`.localhost\`, \`.local\`, \`.internal\`, \`.home.arpa\`, \`.lan\`), so a client cannot have the notify function send
  requests into the network it runs in. The delivery worker gets the rule's verdict with each target
  (\`private.push_device_target\`): it sends nothing to a stored subscription that fails it (one registered before the
  rule, or written by the service role) and removes it as gone, and it does not follow redirects. Nothing resolves names: a public name pointing at
  a private address is for the operator's egress filter (a self-hosted edge runtime should not reach the database or
  other internal services except through the URLs it is given).

### Guests and unconfirmed users

A **guest** is a signed-in user whose access token says \`is_anonymous\` (Auth's anonymous sign-in, off unless an
operator turns it on; GoTrue puts the claim in every access token and so does the local stack), or whose account is
anonymous or has neither a confirmed email nor a confirmed phone (an operator may let unconfirmed users sign in).
\`private.is_guest()\` decides from the account row, so confirming an email (or linking one to an anonymous account)
lifts it at once; a token that still says \`is_anonymous\` keeps its holder a guest until it is refreshed.

A guest may join discoverable channels (\`join_chat\`), read them (\`messages\`, \`get_chat_messages\`,
\`get_chat_events\`, \`get_updates\`, \`list_chats\`, \`search_messages\`, Realtime on \`chat:<id>\`), keep their own read state and chat
preferences (\`mark_chat_read\`, \`set_chat_preferences\`), read their own inbox, and leave. Everything else is refused
with \`42501\` (\`guest accounts can only read channels\`): every other RPC (\`private.require_user\` refuses them),
editing their profile and blocking (restrictive policies), uploads to \`avatars\` and \`attachments\` (restrictive
policies on \`storage.objects\`), typing broadcasts and Presence. Nobody can add a guest to a group or a direct chat,
or make one an admin or the owner of a channel (\`42501\`, \`guest accounts can only join channels\` /
\`cannot administer chats\`). The matrix below shows the **anonymous** persona; the replay suite replays every call
as a guest; \`supabase/tests/database/58-guests.test.sql\` covers unconfirmed users the same way.

### Presence

An invisible user is shown \`offline\`, exactly like one who closed the app, and while they stay invisible nothing
another user can read about them changes: no column of their profile row (\`status\`, \`last_seen_at\`, \`updated_at\`,
which dates profile edits only), no \`status.changed\` broadcast, and no Realtime Presence (the typing topic refuses
their \`presence\` writes). \`supabase/tests/database/59-invisible-presence.test.sql\` compares the whole row another
user reads before and after heartbeats, repeated choices and a sweep.

### Replayed calls

\`tests/api/authorization.test.ts\` takes every function in \`public\` that \`authenticated\` (or \`anon\`) may execute
from the catalog. For each, \`tests/api/support/replay.ts\` holds a call that is valid for a member, and the answer
each persona state must get when the same call (same arguments, same \`client_id\`, the first call committed when it
has one) is replayed after the state changed: **outsider** (never a member), **removed** (removed by an admin),
**banned**, **blocked** (the other party blocked the caller; direct chats, additions, invitations), **suspended**
(suspended app-wide by an app moderator: every write is refused with \`42501\`; reads and the caller's own read
cursor, preferences, inbox, devices and presence stay open, and leaving a chat is always allowed), **anonymous** (a
guest signed in through anonymous sign-in: \`42501\` unless the entry says why a guest may make the call) and **anon**. The
replay must be refused with the documented SQLSTATE and carry none of the chat's content, or, for the caller's own
lists (\`list_chats\`, \`get_updates\`), answer without the chat's messages. A function without an entry fails the
suite; a state that does not apply says why in the entry.

### Private helpers clients may execute

| helper | needed by |
|---|---|
| \`private.blocker_ids()\` | policy on \`profiles\` (select): users who blocked the reader |
| \`private.is_app_moderator()\` | policies on \`audit_log\`, \`reports\`, \`user_suspensions\`, \`chat_mutes\`, \`chat_freezes\`, \`word_filters\` (select): app moderators read them all |
| \`private.is_suspended()\` | policies on \`profiles\` (update) and \`storage.objects\` (insert and update, bucket \`avatars\`): a suspended user does not write |
| \`private.my_chat_ids()\` | policy on \`chat_members\` (select): members of the caller's chats |
| \`private.can_upload_attachment(text)\` | policy on \`storage.objects\` (insert, bucket \`attachments\`) |
| \`private.can_read_attachment(text, text)\` | policy on \`storage.objects\` (select, bucket \`attachments\`) |
| \`private.can_delete_attachment(text)\` | policy on \`storage.objects\` (delete, bucket \`attachments\`) |
| \`private.topic_read_extensions(text)\` | policy on \`realtime.messages\` (select): which topics a user may hear |
| \`private.topic_write_extensions(text)\` | policy on \`realtime.messages\` (insert): which topics a user may send to |
| \`private.is_guest()\` | restrictive policies "guests cannot edit their profile" (\`profiles\` update), "guests cannot block users" (\`user_blocks\` insert), "guests cannot upload files" and "guests cannot replace files" (\`storage.objects\` insert and update) |
| \`private.require_member(uuid)\` | \`get_chat_messages\`, a security-invoker RPC (RLS decides its rows; the guard gives outsiders \`PT404\`) |
| \`private.search_message_hits(...)\` | \`search_messages\`, a security-invoker RPC: the helper finds the page in the caller's chats and visible history, then the messages policy (the rule of \`get_chat_messages\`) checks every row of it |

## How it is generated

\`tests/api/support/matrix.ts\` builds a fixture through real API calls (a group chat with an owner, an admin and a
member, a removed and a banned user, a custom emoji, an anonymous user, a message by the member that was edited and got a reaction, a message by the owner, an invite
link, a pending direct invitation of the outsider, a block by the owner, three files the member uploaded: one scanned
clean and sent in a message, one pending and unsent, one found infected; for moderation a second group with the same
members frozen by the admin, the muted member muted in both, the suspended member suspended by the moderator, the
owner's open report of the member's message, the bystander's open report of the member, a word filter of the group
and an app-wide one), then runs each operation once per persona,
each in its own request exactly as PostgREST runs it (one transaction, \`role\` and \`request.jwt.claims\` set per
request; reads in a read-only transaction). Every request is rolled back, so no persona sees another's changes.
Table operations are the SQL PostgREST runs for \`.from(table).select/insert/update/delete\`, filtered to the
fixture's rows; RPCs are called with named arguments like \`.rpc(name, args)\`.

To regenerate after a schema change:

\`\`\`sh
KEEP_TEST_DB=1 npm test -- api     # leaves the migrated test database running
DB_URL=postgresql://postgres:postgres@127.0.0.1:$(cat .local/test/port)/postgres npm run docs:security
\`\`\`

## Personas

${personas}

## Reading the cells

- \`✓\` allowed; \`✓ n rows\` allowed and returned or changed n rows.
- \`0 rows\` allowed by the grants, but row level security filtered out every row (nothing read or changed).
- A SQLSTATE means refused: \`42501\` not allowed (no grant, a policy's \`with check\`, not signed in, or not the right
  role), \`PT404\` not found or not a member (outsiders cannot tell a hidden chat from a missing one), \`22023\` bad
  input, \`23505\` conflict, \`23514\` limit, \`PT429\` rate limit.

## Tables

${tableOf(TABLE_OPERATIONS, matrix, (op) => `\`${op.target}\` ${op.kind}: ${op.description}`)}

## Storage

Requests to the Storage API, run as storage-api runs them: the caller's role and claims, storage-api's own request
settings, and its statement on \`storage.objects\`. The policies on \`storage.objects\` decide.

${tableOf(STORAGE_OPERATIONS, matrix, (op) => `\`${op.id.split(".").slice(1, 2).join("")}\` bucket: ${op.description}`)}

## RPCs

${tableOf(RPC_OPERATIONS, matrix, (op) => `\`${op.target}\`: ${op.description}`)}
`;
}
