-- Chats and their members.
-- * `chats`: direct (one per pair of users), group and channel conversations with their settings and the counters
--   the chat list needs (last message sequence and time), so the list never counts rows.
-- * `chat_members`: who is in a chat with which role (owner > admin > member), their read cursor and their own
--   preferences (notification level, mute, archive, pin).
-- * `chat_bans`: users banned from a chat; they cannot come back until unbanned.
-- Reads go through the tables under RLS; every change with an invariant goes through an RPC below. The realtime events
-- of members and chat settings are emitted by triggers here; the event log and its emitters are in the realtime
-- events migration.

-- ---------------------------------------------------------------------------------------------------------------
-- types
-- ---------------------------------------------------------------------------------------------------------------
create type public.chat_kind as enum ('direct', 'group', 'channel');

create type public.chat_role as enum ('owner', 'admin', 'member');

create type public.notification_level as enum ('all', 'mentions', 'none');

create type public.post_permission as enum ('members', 'admins');

-- ---------------------------------------------------------------------------------------------------------------
-- tables
-- ---------------------------------------------------------------------------------------------------------------
create table public.chats (
  id uuid primary key default gen_random_uuid(),
  kind public.chat_kind not null,
  title text,
  description text,
  avatar_path text,
  who_can_post public.post_permission not null default 'members',
  slow_mode_seconds integer not null default 0,
  history_visible_to_new_members boolean not null default true,
  discoverable boolean not null default false,
  direct_key text unique,
  created_by uuid references public.profiles (id) on delete set null,
  member_count integer not null default 0,
  last_message_seq bigint not null default 0,
  last_message_at timestamptz,
  last_activity_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_event_seq bigint not null default 0,
  everyone_mentions boolean not null default true,
  moderation_seq bigint not null default 0,
  constraint chats_title_length check (char_length(title) between 1 and 128),
  constraint chats_title_required check (kind = 'direct' or title is not null),
  constraint chats_description_length check (char_length(description) <= 1000),
  constraint chats_slow_mode_range check (slow_mode_seconds between 0 and 3600),
  constraint chats_avatar_path_format check (avatar_path ~ '^[0-9a-f-]{36}/[^/]{1,200}$'),
  constraint chats_direct_key check ((kind = 'direct') = (direct_key is not null))
) with (fillfactor = 80);
comment on table public.chats is 'Conversations: direct (1:1), group, or channel (admins post, members read).';
comment on column public.chats.direct_key is 'Direct chats only: the two member ids in order; one chat per pair.';
comment on column public.chats.last_message_seq is 'Sequence of the newest message; unread = this - member''s last_read_seq.';
comment on column public.chats.who_can_post is 'members: everyone may post; admins: owner and admins only (channels default).';
comment on column public.chats.everyone_mentions is
  'Whether owners and admins may notify every member with @channel/@everyone (or the online ones with @here).';
comment on column public.chats.last_event_seq is
  'Cursor of the newest chat event (gap-free per chat); pass a cursor you hold to get_chat_events to catch up.';
comment on column public.chats.moderation_seq is
  'Moves when a freeze or a mute starts in the chat (under the chat row''s lock); a send that checked its posting '
  'rights at an older value checks them again under the lock, so nothing lands after the freeze or mute commits.';

create table public.chat_members (
  chat_id uuid not null references public.chats (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  role public.chat_role not null default 'member',
  joined_at timestamptz not null default now(),
  history_from_seq bigint not null default 0,
  last_read_seq bigint not null default 0,
  last_read_at timestamptz,
  notification_level public.notification_level not null default 'all',
  muted_until timestamptz,
  archived_at timestamptz,
  pinned_at timestamptz,
  last_posted_at timestamptz,
  joined_event_seq bigint not null default 0,
  primary key (chat_id, user_id)
) with (fillfactor = 80);
comment on table public.chat_members is 'Membership, role and per-user state (read cursor, mute, archive, pin) of a chat.';
-- Both tables leave a fifth of each page free (fillfactor 80): every send updates its chat row and its sender's
-- member row, and every read receipt a member row, and an update can only be HOT (no index entries, see the indexes
-- below) while the row's page has room for the new version. Packed full, the bench's member rows took a HOT update
-- for 35 % of the updates of a run and an entry in each of the three member indexes for the rest; at 80, all but a
-- few in ten thousand (issue 20, docs/performance.md).
comment on column public.chat_members.history_from_seq is 'Messages with seq above this are visible to the member.';
comment on column public.chat_members.last_posted_at is 'When the member last sent a message (slow mode).';
comment on column public.chat_members.joined_event_seq is 'The chat''s event cursor when the member joined; earlier events are not theirs.';

create table public.chat_bans (
  chat_id uuid not null references public.chats (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  banned_by uuid references public.profiles (id) on delete set null,
  reason text,
  created_at timestamptz not null default now(),
  primary key (chat_id, user_id),
  constraint chat_bans_reason_length check (char_length(reason) <= 500)
);
comment on table public.chat_bans is 'Users banned from a chat; visible to the chat''s admins.';

-- ---------------------------------------------------------------------------------------------------------------
-- indexes
-- ---------------------------------------------------------------------------------------------------------------
-- archived_at is included for the chat list's first pass (index-only); read-cursor updates stay HOT.
create index chat_members_user_id_idx on public.chat_members (user_id, chat_id) include (archived_at);
-- No index on the columns a send updates (last_message_seq, last_event_seq, last_message_at, last_activity_at): the
-- send's one update of the chat row is then a HOT update, which writes no index entry (pkey, trigram indexes of the
-- title) while the chat's other senders wait for the row (issue 20, docs/performance.md "The hot chat"). The chat list
-- sorts the caller's own chats by last_activity_at after reading them through chat_members (pgTAP 97); its first pass
-- reads that column from the chat rows (an index including it would cost every send the HOT update).
create index chats_created_by_idx on public.chats (created_by);

create index chats_discoverable_title_idx on public.chats using gin (title extensions.gin_trgm_ops)
  where discoverable;

create index chat_bans_user_id_idx on public.chat_bans (user_id);
create index chat_bans_banned_by_idx on public.chat_bans (banned_by);
create index chat_members_history_from_idx on public.chat_members (chat_id, history_from_seq) where history_from_seq > 0;

-- ---------------------------------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on public.chats, public.chat_members, public.chat_bans from anon, authenticated;
grant select on public.chats, public.chat_bans to authenticated;

-- Co-members see who is in the chat, their role and read position (read receipts); each member's own archive, pin,
-- mute and notification settings are theirs alone (list_chats and set_chat_preferences return them to the owner).
grant select (chat_id, user_id, role, joined_at, history_from_seq, last_read_seq, last_read_at, joined_event_seq)
  on public.chat_members to authenticated;

grant all on public.chats, public.chat_members, public.chat_bans to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers
-- ---------------------------------------------------------------------------------------------------------------
create function private.my_chat_ids() returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (select coalesce(array_agg(m.chat_id), '{}') from public.chat_members m where m.user_id = auth.uid());
end
$$;
comment on function private.my_chat_ids() is 'Chats the caller is a member of.';
revoke all on function private.my_chat_ids() from public, anon, authenticated;
grant execute on function private.my_chat_ids() to authenticated;

create function private.chat_role_of(chat uuid, member uuid) returns public.chat_role
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (select m.role from public.chat_members m where m.chat_id = chat and m.user_id = member);
end
$$;
revoke all on function private.chat_role_of(uuid, uuid) from public, anon, authenticated;

create function private.role_rank(r public.chat_role) returns integer
language sql
immutable
set search_path = ''
as $$
  select case r when 'owner' then 3 when 'admin' then 2 when 'member' then 1 else 0 end
$$;
revoke all on function private.role_rank(public.chat_role) from public, anon, authenticated;

-- The caller's role in a chat, or an error if the caller is not a member (PT404 so that outsiders cannot tell a
-- chat they may not see from one that does not exist).
create function private.require_member(chat uuid) returns public.chat_role
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  r public.chat_role;
begin
  -- Guests may be members of the discoverable channels they joined: reading is what they may do.
  perform private.require_signed_in();
  r := private.chat_role_of(chat, auth.uid());
  if r is null then
    raise exception 'chat not found' using errcode = 'PT404',
      hint = 'The chat does not exist or you are not a member of it.';
  end if;
  return r;
end
$$;
revoke all on function private.require_member(uuid) from public, anon, authenticated;
grant execute on function private.require_member(uuid) to authenticated, service_role;

create function private.require_admin(chat uuid) returns public.chat_role
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  r public.chat_role := private.require_member(chat);
begin
  perform private.require_user();
  if r not in ('owner', 'admin') then
    raise exception 'only chat admins can do this' using errcode = '42501', hint = 'Ask an admin of the chat.';
  end if;
  return r;
end
$$;
revoke all on function private.require_admin(uuid) from public, anon, authenticated;

-- Adds a member, checking bans, blocks and the member limit. Called by the RPCs below with the actor's id.
-- * Someone else's add (actor <> member) to a group or channel follows the member's who_can_add: when it does not let
--   the actor in, the add becomes an invitation (private.invite_member) and nothing is added. It counts against the
--   actor's member_add limit, and against stranger_add when the two share no chat (limits and privacy migration).
-- * Joining on one's own (a link, discovery, an invitation) is refused when an owner or admin of the chat blocked the
--   user.
create function private.add_member(chat uuid, member uuid, actor uuid, member_role public.chat_role default 'member')
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  c public.chats;
  visible_from bigint := 0;
begin
  select * into c from public.chats where id = chat for update;
  if not exists (select 1 from public.profiles where id = member) then
    raise exception 'user not found' using errcode = 'PT404', hint = 'Check the user id.';
  end if;
  if exists (select 1 from public.chat_members where chat_id = chat and user_id = member) then
    return false;
  end if;
  if exists (select 1 from public.chat_bans where chat_id = chat and user_id = member) then
    raise exception 'user is banned from this chat' using errcode = '42501', hint = 'Unban the user first.';
  end if;
  -- Guests (anonymous or unconfirmed accounts) read discoverable channels and are in nothing else.
  if c.kind <> 'channel' and private.is_guest_account(member) then
    raise exception 'guest accounts can only join channels' using errcode = '42501',
      hint = 'The user has to sign up with an email address and confirm it first.';
  end if;
  if member <> actor and private.is_blocked_between(member, actor) then
    raise exception 'user cannot be added' using errcode = '42501',
      hint = 'One of you has blocked the other.';
  end if;
  if c.kind <> 'direct' then
    if member = actor then
      if private.blocked_by_chat_admin(chat, member) then
        raise exception 'cannot join this chat' using errcode = '42501', hint = 'Someone who runs this chat has blocked you.';
      end if;
    else
      if not private.audience_allows((private.privacy_settings_of(member)).who_can_add, member, actor) then
        perform private.invite_member(chat, member, actor);
        return false;
      end if;
      perform private.rate_limit('member_add', actor);
      if not private.shares_chat(actor, member) then
        perform private.rate_limit('stranger_add', actor);
      end if;
    end if;
  end if;
  if c.member_count >= private.max_members(c.kind) then
    raise exception 'chat is full' using errcode = '23514',
      hint = format('A %s has at most %s members.', c.kind, private.max_members(c.kind));
  end if;
  if not c.history_visible_to_new_members then
    visible_from := c.last_message_seq;
  end if;
  insert into public.chat_members (chat_id, user_id, role, history_from_seq, last_read_seq)
  values (chat, member, member_role, visible_from, c.last_message_seq);
  return true;
end
$$;
revoke all on function private.add_member(uuid, uuid, uuid, public.chat_role) from public, anon, authenticated;

create function private.max_members(kind public.chat_kind) returns integer
language sql
immutable
set search_path = ''
as $$
  select case kind when 'direct' then 2 when 'group' then 1000 else 200000 end
$$;
comment on function private.max_members(public.chat_kind) is 'Member limits: direct 2, group 1000, channel 200000.';
revoke all on function private.max_members(public.chat_kind) from public, anon, authenticated;

create function private.remove_member(chat uuid, member uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from public.chat_members where chat_id = chat and user_id = member;
  return found;
end
$$;
revoke all on function private.remove_member(uuid, uuid) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- triggers: member count, ownership succession, updated_at
-- ---------------------------------------------------------------------------------------------------------------
create trigger chats_touch_updated_at before update on public.chats
  for each row execute function private.touch_updated_at();

-- member_count follows chat_members whatever removes a row (leave, remove, ban, account deletion), an owner who
-- goes is succeeded by the senior remaining admin or member, and a group or channel left empty is deleted.
create function private.after_member_insert() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.chats set member_count = member_count + 1 where id = new.chat_id;
  return null;
end
$$;
revoke all on function private.after_member_insert() from public, anon, authenticated;

create function private.after_member_delete() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  c public.chats;
  successor uuid;
begin
  update public.chats set member_count = greatest(member_count - 1, 0)
   where id = old.chat_id
  returning * into c;
  if c.id is null or c.kind = 'direct' then
    return null;
  end if;
  if c.member_count = 0 then
    delete from public.chats where id = c.id;
  elsif old.role = 'owner' and not exists (select 1 from public.chat_members m where m.chat_id = c.id and m.role = 'owner') then
    select m.user_id into successor from public.chat_members m
     where m.chat_id = c.id
     order by private.role_rank(m.role) desc, m.joined_at
     limit 1;
    update public.chat_members set role = 'owner' where chat_id = c.id and user_id = successor;
  end if;
  return null;
end
$$;
revoke all on function private.after_member_delete() from public, anon, authenticated;

create trigger chat_members_after_insert after insert on public.chat_members
  for each row execute function private.after_member_insert();

create trigger chat_members_after_delete after delete on public.chat_members
  for each row execute function private.after_member_delete();

-- ---------------------------------------------------------------------------------------------------------------
-- triggers: realtime events of members (participant.*)
-- ---------------------------------------------------------------------------------------------------------------
create function private.before_member_insert() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- The chat row's lock orders this join among the chat's events.
  select c.last_event_seq into new.joined_event_seq from public.chats c where c.id = new.chat_id for update;
  new.joined_event_seq := coalesce(new.joined_event_seq, 0);
  return new;
end
$$;
revoke all on function private.before_member_insert() from public, anon, authenticated;

create function private.on_member_added() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  c public.chats;
begin
  select * into c from public.chats where id = new.chat_id;
  perform private.emit_chat_event(new.chat_id, 'participant.added', jsonb_build_object(
    'user_id', new.user_id, 'role', new.role, 'joined_at', new.joined_at, 'last_read_seq', new.last_read_seq,
    'history_from_seq', new.history_from_seq, 'profile', private.profile_json(new.user_id), 'member_count', c.member_count));
  select * into c from public.chats where id = new.chat_id;
  perform private.emit_user_event(new.user_id, 'chat.added', jsonb_build_object(
    'chat_id', c.id, 'role', new.role, 'chat', private.chat_json(c)));
  return null;
end
$$;
revoke all on function private.on_member_added() from public, anon, authenticated;

create function private.on_member_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  c public.chats;
begin
  select * into c from public.chats where id = new.chat_id;
  if c.id is null then
    return null;
  end if;
  if new.role is distinct from old.role then
    perform private.emit_chat_event(new.chat_id, 'participant.updated',
      jsonb_build_object('user_id', new.user_id, 'role', new.role));
  end if;
  -- A send moves the author's read cursor to their own message; message.sent already says so (clients apply
  -- "the author has read up to their message"). Any other move is a read.
  if new.last_read_seq > old.last_read_seq and not exists (
       select 1 from public.messages m
        where m.chat_id = new.chat_id and m.seq = new.last_read_seq and m.author_id = new.user_id) then
    if not private.is_large_chat(c.member_count) then
      perform private.emit_chat_event(new.chat_id, 'message.read', jsonb_build_object(
        'user_id', new.user_id, 'last_read_seq', new.last_read_seq, 'last_read_at', new.last_read_at));
    end if;
    perform private.emit_user_event(new.user_id, 'unread.updated', jsonb_build_object(
      'chat_id', new.chat_id, 'last_read_seq', new.last_read_seq, 'last_message_seq', c.last_message_seq,
      'unread_count', greatest(c.last_message_seq - greatest(new.last_read_seq, new.history_from_seq), 0)));
  end if;
  if (new.notification_level, new.muted_until, new.archived_at, new.pinned_at)
     is distinct from (old.notification_level, old.muted_until, old.archived_at, old.pinned_at) then
    perform private.emit_user_event(new.user_id, 'preferences.updated', jsonb_build_object(
      'chat_id', new.chat_id, 'notification_level', new.notification_level, 'muted_until', new.muted_until,
      'archived', new.archived_at is not null, 'pinned', new.pinned_at is not null));
  end if;
  return null;
end
$$;
revoke all on function private.on_member_changed() from public, anon, authenticated;

create function private.on_member_removed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  c public.chats;
  reason text;
begin
  select * into c from public.chats where id = old.chat_id;
  reason := case
    when c.id is null then 'deleted'
    when exists (select 1 from public.chat_bans b where b.chat_id = old.chat_id and b.user_id = old.user_id) then 'banned'
    when auth.uid() = old.user_id then 'left'
    else 'removed' end;
  if c.id is not null then
    perform private.emit_chat_event(old.chat_id, 'participant.removed', jsonb_build_object(
      'user_id', old.user_id, 'reason', reason, 'member_count', c.member_count));
  end if;
  perform private.emit_user_event(old.user_id, 'chat.removed', jsonb_build_object('chat_id', old.chat_id, 'reason', reason));
  return null;
end
$$;
revoke all on function private.on_member_removed() from public, anon, authenticated;

create trigger chat_members_before_insert before insert on public.chat_members
  for each row execute function private.before_member_insert();

create trigger chat_members_emit_added after insert on public.chat_members
  for each row execute function private.on_member_added();

create trigger chat_members_emit_changed after update on public.chat_members
  for each row
  -- A send moves its author's read cursor together with last_posted_at: message.sent says it all, the trigger is skipped.
  when (old.role is distinct from new.role
        or (old.last_read_seq is distinct from new.last_read_seq and old.last_posted_at is not distinct from new.last_posted_at)
        or (old.notification_level, old.muted_until, old.archived_at, old.pinned_at)
           is distinct from (new.notification_level, new.muted_until, new.archived_at, new.pinned_at))
  execute function private.on_member_changed();

create trigger chat_members_emit_removed after delete on public.chat_members
  for each row execute function private.on_member_removed();

-- ---------------------------------------------------------------------------------------------------------------
-- triggers: realtime events of chat settings (chat.updated)
-- ---------------------------------------------------------------------------------------------------------------
create function private.on_chat_updated() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.emit_chat_event(new.id, 'chat.updated', jsonb_build_object('chat', private.chat_json(new)));
  return null;
end
$$;
revoke all on function private.on_chat_updated() from public, anon, authenticated;

create trigger chats_emit_updated after update on public.chats
  for each row
  when ((old.title, old.description, old.avatar_path, old.who_can_post, old.slow_mode_seconds,
         old.history_visible_to_new_members, old.discoverable, old.everyone_mentions)
        is distinct from (new.title, new.description, new.avatar_path, new.who_can_post, new.slow_mode_seconds,
         new.history_visible_to_new_members, new.discoverable, new.everyone_mentions))
  execute function private.on_chat_updated();

-- ---------------------------------------------------------------------------------------------------------------
-- row level security
-- ---------------------------------------------------------------------------------------------------------------
alter table public.chats enable row level security;
alter table public.chat_members enable row level security;
alter table public.chat_bans enable row level security;

-- ---------------------------------------------------------------------------------------------------------------
-- policies
-- ---------------------------------------------------------------------------------------------------------------
-- Membership is one index probe of the caller's own chat_members row (its primary key): the idiom of every policy
-- that asks whether the caller is a member (or an admin) of the row's chat. It replaced a scan of the caller's array
-- of chat ids per row: reading chats as a hub user in 1,000 chats 6.7 -> 5.2 ms p50 (service_role 3.0; bench preset
-- large, one client, request context).
create policy "members and anyone signed in (if discoverable) can read chats"
  on public.chats for select to authenticated
  using (exists (select 1 from public.chat_members m where m.chat_id = chats.id and m.user_id = (select auth.uid()))
         or (discoverable and kind <> 'direct'));

-- The one policy that cannot probe chat_members (a policy on chat_members that reads chat_members would recurse):
-- the caller's own membership rows pass on user_id alone; others' rows need a shared chat. Comparing every row's chat
-- id with the caller's array of chat ids was a linear scan of that array per row (up to 1,000 comparisons for a user
-- in 1,000 chats), and the array was built even for the caller's own rows. The messages policy probes the caller's
-- own row, so a history page never builds the array. Measured on the bench cluster (preset large, hub user in 1,000
-- chats, one client, request context, p50): history page 1.36 -> 0.66 ms (service_role 0.41), a 1,000-member chat's
-- member list 1.45 -> 1.34 ms (service_role 1.33).
create policy "members can read the members of their chats"
  on public.chat_members for select to authenticated
  using (user_id = (select auth.uid()) or chat_id = any (coalesce((select private.my_chat_ids()), '{}'::uuid[])));

create policy "admins can read the bans of their chats"
  on public.chat_bans for select to authenticated
  using (exists (select 1 from public.chat_members m
                  where m.chat_id = chat_bans.chat_id and m.user_id = (select auth.uid()) and m.role in ('owner', 'admin')));

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs: creating chats
-- ---------------------------------------------------------------------------------------------------------------
create function public.create_direct_chat(user_id uuid) returns public.chats
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.assert_can_write(); -- signed in, not a guest, not suspended (moderation migration)
  other uuid := create_direct_chat.user_id;
  key text;
  c public.chats;
begin
  if other is null or other = me then
    raise exception 'a direct chat needs another user' using errcode = '22023', hint = 'Pass the other user''s id.';
  end if;
  if not exists (select 1 from public.profiles where id = other) then
    raise exception 'user not found' using errcode = 'PT404', hint = 'Check the user id.';
  end if;
  if private.is_blocked_between(me, other) then
    raise exception 'cannot open a direct chat with this user' using errcode = '42501',
      hint = 'One of you has blocked the other.';
  end if;
  perform private.assert_may_message(other, true);
  key := least(me::text, other::text) || ':' || greatest(me::text, other::text);
  insert into public.chats (kind, direct_key, created_by) values ('direct', key, me)
  on conflict (direct_key) do nothing
  returning * into c;
  if c.id is null then
    select * into c from public.chats where direct_key = key;
  else
    perform private.rate_limit('chat_create', me);
  end if;
  -- Both sides are (re)added: a no-op for current members, a re-join for one who left earlier.
  perform private.add_member(c.id, me, me, 'member');
  perform private.add_member(c.id, other, me, 'member');
  select * into c from public.chats where id = c.id;
  return c;
end
$$;
comment on function public.create_direct_chat(uuid) is
  'Opens (or returns) the direct chat with another user. Idempotent; refused if either blocked the other or the other''s '
  'who_can_message does not allow it.';
revoke all on function public.create_direct_chat(uuid) from public, anon, authenticated;
grant execute on function public.create_direct_chat(uuid) to authenticated, service_role;

create function public.create_group_chat(title text, member_ids uuid[] default '{}', description text default null)
returns public.chats
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.assert_can_write(); -- signed in, not a guest, not suspended (moderation migration)
  c public.chats;
  m uuid;
begin
  if coalesce(cardinality(member_ids), 0) > 100 then
    raise exception 'too many members at once' using errcode = '22023', hint = 'Add at most 100 members per call.';
  end if;
  perform private.rate_limit('chat_create', me);
  insert into public.chats (kind, title, description, created_by)
  values ('group', private.filter_words(null, private.assert_name(title, 'title', 128, true), 'title'),
          private.filter_words(null, private.assert_body(private.assert_text(description, 'description', 1000), 'description'), 'description'), me)
  returning * into c;
  perform private.add_member(c.id, me, me, 'owner');
  foreach m in array coalesce(member_ids, '{}') loop
    if m <> me then
      perform private.add_member(c.id, m, me, 'member');
    end if;
  end loop;
  select * into c from public.chats where id = c.id;
  return c;
end
$$;
comment on function public.create_group_chat(text, uuid[], text) is
  'Creates a group owned by the caller with the given members (users whose who_can_add does not allow the caller are '
  'invited instead).';
revoke all on function public.create_group_chat(text, uuid[], text) from public, anon, authenticated;
grant execute on function public.create_group_chat(text, uuid[], text) to authenticated, service_role;

create function public.create_channel(title text, description text default null, discoverable boolean default true)
returns public.chats
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.assert_can_write(); -- signed in, not a guest, not suspended (moderation migration)
  c public.chats;
begin
  perform private.rate_limit('chat_create', me);
  insert into public.chats (kind, title, description, created_by, who_can_post, discoverable)
  values ('channel', private.filter_words(null, private.assert_name(title, 'title', 128, true), 'title'),
          private.filter_words(null, private.assert_body(private.assert_text(description, 'description', 1000), 'description'), 'description'),
          me, 'admins', coalesce(create_channel.discoverable, true))
  returning * into c;
  perform private.add_member(c.id, me, me, 'owner');
  select * into c from public.chats where id = c.id;
  return c;
end
$$;
comment on function public.create_channel(text, text, boolean) is 'Creates a broadcast channel: admins post, members read.';
revoke all on function public.create_channel(text, text, boolean) from public, anon, authenticated;
grant execute on function public.create_channel(text, text, boolean) to authenticated, service_role;

create function public.join_chat(chat_id uuid) returns public.chat_members
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.assert_can_write(guest_may => true); -- not suspended; guests may join channels (add_member)
  c public.chats;
  m public.chat_members;
begin
  select * into c from public.chats where id = join_chat.chat_id;
  -- Guests join discoverable channels only (a discoverable group is not theirs to join: add_member says so).
  if c.id is null or not c.discoverable or c.kind = 'direct' then
    raise exception 'chat not found' using errcode = 'PT404', hint = 'Only discoverable chats can be joined without an invitation.';
  end if;
  perform private.add_member(c.id, me, me, 'member');
  select * into m from public.chat_members where chat_members.chat_id = c.id and user_id = me;
  return m;
end
$$;
comment on function public.join_chat(uuid) is 'Joins a discoverable group or channel.';
revoke all on function public.join_chat(uuid) from public, anon, authenticated;
grant execute on function public.join_chat(uuid) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs: chat settings and lifecycle
-- ---------------------------------------------------------------------------------------------------------------
create function public.update_chat(
  chat_id uuid,
  title text default null,
  description text default null,
  avatar_path text default null,
  who_can_post public.post_permission default null,
  slow_mode_seconds integer default null,
  history_visible_to_new_members boolean default null,
  discoverable boolean default null,
  everyone_mentions boolean default null
) returns public.chats
language plpgsql
security definer
set search_path = ''
as $$
declare
  c public.chats;
begin
  perform private.assert_can_write(); -- suspended users read but do not write (moderation migration)
  -- Members of a direct chat are all plain members: check the kind before the role so they get the real reason.
  perform private.require_member(update_chat.chat_id);
  select * into c from public.chats where id = update_chat.chat_id;
  if c.kind = 'direct' then
    raise exception 'direct chats have no settings' using errcode = '22023', hint = 'Create a group instead.';
  end if;
  perform private.require_admin(update_chat.chat_id);
  if slow_mode_seconds is not null and slow_mode_seconds not between 0 and 3600 then
    raise exception 'slow mode must be between 0 and 3600 seconds' using errcode = '22023', hint = 'Use 0 to turn it off.';
  end if;
  update public.chats set
    title = coalesce(private.filter_words(chats.id, private.assert_name(update_chat.title, 'title', 128), 'title'), chats.title),
    description = case when update_chat.description is null then chats.description
                       else private.filter_words(chats.id, private.assert_body(private.assert_text(update_chat.description, 'description', 1000), 'description'), 'description') end,
    avatar_path = coalesce(private.assert_image_path(update_chat.avatar_path, auth.uid(), 'avatar path'), chats.avatar_path),
    who_can_post = coalesce(update_chat.who_can_post, chats.who_can_post),
    slow_mode_seconds = coalesce(update_chat.slow_mode_seconds, chats.slow_mode_seconds),
    history_visible_to_new_members = coalesce(update_chat.history_visible_to_new_members, chats.history_visible_to_new_members),
    discoverable = coalesce(update_chat.discoverable, chats.discoverable),
    everyone_mentions = coalesce(update_chat.everyone_mentions, chats.everyone_mentions),
    last_activity_at = now()
  where id = update_chat.chat_id
  returning * into c;
  return c;
end
$$;
comment on function public.update_chat(uuid, text, text, text, public.post_permission, integer, boolean, boolean, boolean) is
  'Changes a group''s or channel''s settings (owner and admins). Arguments left null keep their value.';
revoke all on function public.update_chat(uuid, text, text, text, public.post_permission, integer, boolean, boolean, boolean) from public, anon, authenticated;
grant execute on function public.update_chat(uuid, text, text, text, public.post_permission, integer, boolean, boolean, boolean) to authenticated, service_role;

create function public.leave_chat(chat_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.require_member(leave_chat.chat_id);
  -- Ownership passes on, and an empty group or channel is deleted, in the chat_members delete trigger.
  perform private.remove_member(leave_chat.chat_id, auth.uid());
end
$$;
comment on function public.leave_chat(uuid) is
  'Leaves a chat. An owner''s role passes to the senior remaining admin or member; a chat left empty is deleted.';
revoke all on function public.leave_chat(uuid) from public, anon, authenticated;
grant execute on function public.leave_chat(uuid) to authenticated, service_role;

create function public.delete_chat(chat_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.assert_can_write(); -- suspended users read but do not write (moderation migration)
  if private.require_member(delete_chat.chat_id) <> 'owner' then
    raise exception 'only the owner can delete the chat' using errcode = '42501', hint = 'Leave the chat instead.';
  end if;
  perform private.require_user();
  delete from public.chats where id = delete_chat.chat_id;
end
$$;
comment on function public.delete_chat(uuid) is 'Deletes a group or channel with all its messages (owner only).';
revoke all on function public.delete_chat(uuid) from public, anon, authenticated;
grant execute on function public.delete_chat(uuid) to authenticated, service_role;

create function public.transfer_chat_ownership(chat_id uuid, new_owner_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.assert_can_write(); -- signed in, not a guest, not suspended (moderation migration)
begin
  if private.require_member(transfer_chat_ownership.chat_id) <> 'owner' then
    raise exception 'only the owner can transfer ownership' using errcode = '42501', hint = 'Ask the owner.';
  end if;
  if private.chat_role_of(transfer_chat_ownership.chat_id, new_owner_id) is null then
    raise exception 'the new owner must be a member' using errcode = '22023', hint = 'Add the user first.';
  end if;
  if new_owner_id = me then
    return;
  end if;
  if private.is_guest_account(new_owner_id) then
    raise exception 'guest accounts cannot administer chats' using errcode = '42501',
      hint = 'The user has to sign up with an email address and confirm it first.';
  end if;
  update public.chat_members set role = 'admin' where chat_members.chat_id = transfer_chat_ownership.chat_id and user_id = me;
  update public.chat_members set role = 'owner'
   where chat_members.chat_id = transfer_chat_ownership.chat_id and user_id = new_owner_id;
end
$$;
comment on function public.transfer_chat_ownership(uuid, uuid) is 'Makes another member the owner; the old owner becomes an admin.';
revoke all on function public.transfer_chat_ownership(uuid, uuid) from public, anon, authenticated;
grant execute on function public.transfer_chat_ownership(uuid, uuid) to authenticated, service_role;

create function public.set_chat_preferences(
  chat_id uuid,
  archived boolean default null,
  pinned boolean default null,
  muted_until timestamptz default null,
  notification_level public.notification_level default null
) returns public.chat_members
language plpgsql
security definer
set search_path = ''
as $$
declare
  m public.chat_members;
begin
  perform private.require_member(set_chat_preferences.chat_id);
  update public.chat_members cm set
    archived_at = case when archived is null then cm.archived_at when archived then coalesce(cm.archived_at, now()) end,
    pinned_at = case when pinned is null then cm.pinned_at when pinned then coalesce(cm.pinned_at, now()) end,
    muted_until = case when set_chat_preferences.muted_until is null then cm.muted_until
                       when set_chat_preferences.muted_until <= now() then null
                       else set_chat_preferences.muted_until end,
    notification_level = coalesce(set_chat_preferences.notification_level, cm.notification_level)
  where cm.chat_id = set_chat_preferences.chat_id and cm.user_id = auth.uid()
  returning * into m;
  return m;
end
$$;
comment on function public.set_chat_preferences(uuid, boolean, boolean, timestamptz, public.notification_level) is
  'The caller''s own archive, pin, mute (a past time unmutes) and notification level for a chat.';
revoke all on function public.set_chat_preferences(uuid, boolean, boolean, timestamptz, public.notification_level) from public, anon, authenticated;
grant execute on function public.set_chat_preferences(uuid, boolean, boolean, timestamptz, public.notification_level) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs: participants
-- ---------------------------------------------------------------------------------------------------------------
create function public.add_chat_members(chat_id uuid, user_ids uuid[]) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  added integer := 0;
  u uuid;
begin
  perform private.assert_can_write(); -- suspended users read but do not write (moderation migration)
  -- As in update_chat: the kind before the role, so members of a direct chat get the real reason.
  perform private.require_member(add_chat_members.chat_id);
  if (select kind from public.chats where id = add_chat_members.chat_id) = 'direct' then
    raise exception 'direct chats have exactly two members' using errcode = '22023', hint = 'Create a group instead.';
  end if;
  perform private.require_admin(add_chat_members.chat_id);
  if coalesce(cardinality(user_ids), 0) > 100 then
    raise exception 'too many members at once' using errcode = '22023', hint = 'Add at most 100 members per call.';
  end if;
  foreach u in array coalesce(user_ids, '{}') loop
    if private.add_member(add_chat_members.chat_id, u, auth.uid(), 'member') then
      added := added + 1;
    end if;
  end loop;
  return added;
end
$$;
comment on function public.add_chat_members(uuid, uuid[]) is
  'Adds users to a group or channel (admins); users whose who_can_add does not allow the caller are invited instead. '
  'Returns how many were added.';
revoke all on function public.add_chat_members(uuid, uuid[]) from public, anon, authenticated;
grant execute on function public.add_chat_members(uuid, uuid[]) to authenticated, service_role;

-- Role ladder: owner > admin > member. The actor must outrank the target's current role and may grant at most
-- a role below their own; nobody changes their own role (owners use transfer_chat_ownership).
create function private.assert_outranks(chat uuid, target uuid) returns public.chat_role
language plpgsql
security definer
set search_path = ''
as $$
declare
  mine public.chat_role := private.require_admin(chat);
  theirs public.chat_role := private.chat_role_of(chat, target);
begin
  if target = auth.uid() then
    raise exception 'you cannot do this to yourself' using errcode = '42501', hint = 'Use leave_chat to leave.';
  end if;
  if theirs is null then
    raise exception 'user is not a member of this chat' using errcode = 'PT404', hint = 'Check the user id.';
  end if;
  if private.role_rank(theirs) >= private.role_rank(mine) then
    raise exception 'you cannot act on a member with the same or a higher role' using errcode = '42501',
      hint = 'Only the owner can act on admins.';
  end if;
  return theirs;
end
$$;
revoke all on function private.assert_outranks(uuid, uuid) from public, anon, authenticated;

create function public.set_member_role(chat_id uuid, user_id uuid, role public.chat_role) returns public.chat_role
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.assert_can_write(); -- suspended users read but do not write (moderation migration)
  if set_member_role.role is null then
    raise exception 'role is required' using errcode = '22023', hint = 'Pass admin or member.';
  end if;
  perform private.assert_outranks(set_member_role.chat_id, set_member_role.user_id);
  if role = 'owner' then
    raise exception 'ownership is transferred, not granted' using errcode = '22023', hint = 'Use transfer_chat_ownership.';
  end if;
  if private.role_rank(role) >= private.role_rank(private.chat_role_of(set_member_role.chat_id, auth.uid())) then
    raise exception 'you can only grant roles below your own' using errcode = '42501', hint = 'Ask the owner.';
  end if;
  if role <> 'member' and private.is_guest_account(set_member_role.user_id) then
    raise exception 'guest accounts cannot administer chats' using errcode = '42501',
      hint = 'The user has to sign up with an email address and confirm it first.';
  end if;
  update public.chat_members cm set role = set_member_role.role
   where cm.chat_id = set_member_role.chat_id and cm.user_id = set_member_role.user_id;
  return set_member_role.role;
end
$$;
comment on function public.set_member_role(uuid, uuid, public.chat_role) is
  'Changes a member''s role (owner: admin or member; admins cannot touch admins or the owner). Returns the new role.';
revoke all on function public.set_member_role(uuid, uuid, public.chat_role) from public, anon, authenticated;
grant execute on function public.set_member_role(uuid, uuid, public.chat_role) to authenticated, service_role;

create function public.remove_chat_member(chat_id uuid, user_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.assert_can_write(); -- suspended users read but do not write (moderation migration)
  perform private.assert_outranks(remove_chat_member.chat_id, remove_chat_member.user_id);
  perform private.remove_member(remove_chat_member.chat_id, remove_chat_member.user_id);
end
$$;
comment on function public.remove_chat_member(uuid, uuid) is 'Removes a member with a lower role than the caller''s.';
revoke all on function public.remove_chat_member(uuid, uuid) from public, anon, authenticated;
grant execute on function public.remove_chat_member(uuid, uuid) to authenticated, service_role;

create function public.ban_chat_member(chat_id uuid, user_id uuid, reason text default null) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.assert_can_write(); -- suspended users read but do not write (moderation migration)
  if private.chat_role_of(ban_chat_member.chat_id, ban_chat_member.user_id) is not null then
    perform private.assert_outranks(ban_chat_member.chat_id, ban_chat_member.user_id);
  else
    perform private.require_admin(ban_chat_member.chat_id);
    if ban_chat_member.user_id = auth.uid() then
      raise exception 'you cannot do this to yourself' using errcode = '42501', hint = 'Use leave_chat to leave.';
    end if;
    if not exists (select 1 from public.profiles p where p.id = ban_chat_member.user_id) then
      raise exception 'user not found' using errcode = 'PT404', hint = 'Check the user id.';
    end if;
  end if;
  insert into public.chat_bans (chat_id, user_id, banned_by, reason)
  values (ban_chat_member.chat_id, ban_chat_member.user_id, auth.uid(), private.assert_text(reason, 'reason', 500))
  on conflict on constraint chat_bans_pkey do nothing;
  perform private.remove_member(ban_chat_member.chat_id, ban_chat_member.user_id);
end
$$;
comment on function public.ban_chat_member(uuid, uuid, text) is 'Removes a user and keeps them out until unbanned (admins).';
revoke all on function public.ban_chat_member(uuid, uuid, text) from public, anon, authenticated;
grant execute on function public.ban_chat_member(uuid, uuid, text) to authenticated, service_role;

create function public.unban_chat_member(chat_id uuid, user_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.assert_can_write(); -- suspended users read but do not write (moderation migration)
  perform private.require_admin(unban_chat_member.chat_id);
  delete from public.chat_bans cb where cb.chat_id = unban_chat_member.chat_id and cb.user_id = unban_chat_member.user_id;
end
$$;
comment on function public.unban_chat_member(uuid, uuid) is 'Lifts a ban (admins); the user may be added or join again.';
revoke all on function public.unban_chat_member(uuid, uuid) from public, anon, authenticated;
grant execute on function public.unban_chat_member(uuid, uuid) to authenticated, service_role;
