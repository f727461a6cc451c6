-- Notifications: each user's in-app inbox, produced in the same transaction as its cause, and the preferences that
-- decide whether a notification is made at all and whether it may push.
-- * Producers are triggers on the tables of the cause (messages, message_reactions, chat_invitations, chat_members,
--   chat_bans) plus one internal function for system and moderation notices (private.notify_system). Every producer
--   goes through private.create_notification, the one place where blocks, per-kind switches and hidden previews are
--   applied and the push decision (`silent`) is taken.
-- * Per chat: notification_level `none` makes nothing, `mentions` keeps mentions (@user, @channel/@here) and replies
--   to the member's own messages, `all` everything. A muted chat (muted_until in the future) still fills the inbox and
--   the unread count, but its notifications are silent (never pushed). Per user: push on/off, quiet hours in the
--   user's time zone and status busy make notifications silent; per-kind switches drop a kind altogether.
-- * Unread count: a counter row per user (private.notification_counters) kept by statement-level triggers with
--   transition tables, so reading it is O(1) and "mark all read" costs one counter update, not one per row.
-- * Realtime: private.emit_notification_event is the one call that puts notification events and the unread count on
--   user:<id> (stored, so get_updates returns them after a reconnect).

-- ---------------------------------------------------------------------------------------------------------------
-- types
-- ---------------------------------------------------------------------------------------------------------------
create type public.notification_kind as enum (
  'mention', 'reply', 'thread_reply', 'direct_message', 'reaction', 'invitation', 'added_to_chat', 'system'
);
comment on type public.notification_kind is
  'What caused a notification: mention (@user, @channel, @here), reply (to my message or my thread), thread_reply '
  '(in a thread I took part in), direct_message (while I was offline), reaction (to my message, collapsed per '
  'message), invitation (direct), added_to_chat, system (moderation and service notices).';

-- ---------------------------------------------------------------------------------------------------------------
-- tables
-- ---------------------------------------------------------------------------------------------------------------
create table public.notifications (
  id uuid primary key default gen_random_uuid(),
  recipient_id uuid not null references public.profiles (id) on delete cascade,
  kind public.notification_kind not null,
  chat_id uuid references public.chats (id) on delete cascade,
  message_id uuid references public.messages (id) on delete cascade,
  actor_id uuid references public.profiles (id) on delete set null,
  preview text,
  data jsonb not null default '{}'::jsonb,
  silent boolean not null default false,
  created_at timestamptz not null default clock_timestamp(),
  updated_at timestamptz not null default clock_timestamp(),
  read_at timestamptz,
  constraint notifications_preview_length check (char_length(preview) <= 140),
  constraint notifications_data_object check (jsonb_typeof(data) = 'object')
);
comment on table public.notifications is
  'Each user''s inbox; readable only by its recipient, written only by the server in the transaction of its cause.';
comment on column public.notifications.preview is
  'Up to 140 characters of the message (or the notice); null when the recipient hides previews.';
comment on column public.notifications.data is
  'Kind-specific details: message_seq, message_kind, thread_root_id, scope (channel/here), emoji, reactor_count, '
  'invitation_id, title, category.';
comment on column public.notifications.silent is
  'In the inbox only: the chat was muted, push was off, quiet hours or status busy when it was made. Never pushed.';
comment on column public.notifications.updated_at is
  'Sort key of the inbox: the creation time, moved forward when a collapsed notification (reactions) is updated. '
  'Clock time, so notifications made in one transaction keep their order.';

create table public.notification_settings (
  user_id uuid primary key references public.profiles (id) on delete cascade,
  push_enabled boolean not null default true,
  email_on_mention boolean not null default true,
  hide_previews boolean not null default false,
  quiet_hours_start time,
  quiet_hours_end time,
  time_zone text not null default 'UTC',
  disabled_kinds public.notification_kind[] not null default '{}',
  updated_at timestamptz not null default now(),
  constraint notification_settings_quiet_hours check ((quiet_hours_start is null) = (quiet_hours_end is null)),
  constraint notification_settings_system_kind check (not 'system' = any (disabled_kinds))
);
comment on table public.notification_settings is
  'A user''s notification preferences (a missing row means the defaults); changed with update_notification_settings.';
comment on column public.notification_settings.disabled_kinds is
  'Kinds that make no notification at all (system notices cannot be switched off).';
comment on column public.notification_settings.quiet_hours_start is
  'Start of the daily quiet hours in time_zone (with quiet_hours_end; may wrap past midnight): notifications stay silent.';

create table private.notification_counters (
  user_id uuid primary key references auth.users (id) on delete cascade,
  unread integer not null default 0,
  constraint notification_counters_not_negative check (unread >= 0)
);
comment on table private.notification_counters is 'Unread notifications per user, kept by triggers on notifications.';

-- ---------------------------------------------------------------------------------------------------------------
-- indexes
-- ---------------------------------------------------------------------------------------------------------------
-- The policy (recipient_id) and both list paths (all, unread) walk these in (updated_at, id) order.
create index notifications_recipient_idx on public.notifications (recipient_id, updated_at desc, id desc);
create index notifications_recipient_unread_idx on public.notifications (recipient_id, updated_at desc, id desc)
  where read_at is null;
create index notifications_chat_unread_idx on public.notifications (recipient_id, chat_id) where read_at is null;
-- Reactions collapse to one notification per message and recipient.
create unique index notifications_reaction_key on public.notifications (recipient_id, message_id) where kind = 'reaction';
create index notifications_chat_idx on public.notifications (chat_id) where chat_id is not null;
create index notifications_message_idx on public.notifications (message_id) where message_id is not null;
create index notifications_actor_idx on public.notifications (actor_id) where actor_id is not null;

-- ---------------------------------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on public.notifications, public.notification_settings from anon, authenticated;
grant select on public.notifications, public.notification_settings to authenticated;
grant all on public.notifications, public.notification_settings to service_role;
revoke all on private.notification_counters from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- triggers: the unread counter (statement level, one counter update per user per statement)
-- ---------------------------------------------------------------------------------------------------------------
create function private.count_new_notifications() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into private.notification_counters as c (user_id, unread)
  select n.recipient_id, count(*) from new_rows n where n.read_at is null group by n.recipient_id
  on conflict (user_id) do update set unread = c.unread + excluded.unread;
  return null;
end
$$;
revoke all on function private.count_new_notifications() from public, anon, authenticated;

create function private.count_changed_notifications() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- The counter row exists: the notification's insert made it.
  update private.notification_counters c set unread = greatest(c.unread + d.delta, 0)
    from (select o.recipient_id as user_id,
                 sum((n.read_at is null)::integer - (o.read_at is null)::integer) as delta
            from old_rows o join new_rows n on n.id = o.id
           group by 1) d
   where c.user_id = d.user_id and d.delta <> 0;
  return null;
end
$$;
revoke all on function private.count_changed_notifications() from public, anon, authenticated;

create function private.count_removed_notifications() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update private.notification_counters c set unread = greatest(c.unread - d.n, 0)
    from (select o.recipient_id as user_id, count(*) as n from old_rows o where o.read_at is null group by 1) d
   where c.user_id = d.user_id;
  return null;
end
$$;
revoke all on function private.count_removed_notifications() from public, anon, authenticated;

create trigger notifications_count_inserted after insert on public.notifications
  referencing new table as new_rows
  for each statement execute function private.count_new_notifications();
create trigger notifications_count_updated after update on public.notifications
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.count_changed_notifications();
create trigger notifications_count_deleted after delete on public.notifications
  referencing old table as old_rows
  for each statement execute function private.count_removed_notifications();

create trigger notification_settings_touch_updated_at before update on public.notification_settings
  for each row execute function private.touch_updated_at();

-- ---------------------------------------------------------------------------------------------------------------
-- row level security
-- ---------------------------------------------------------------------------------------------------------------
alter table public.notifications enable row level security;
alter table public.notification_settings enable row level security;
alter table private.notification_counters enable row level security;

-- ---------------------------------------------------------------------------------------------------------------
-- policies
-- ---------------------------------------------------------------------------------------------------------------
create policy "users can read their own notifications"
  on public.notifications for select to authenticated
  using (recipient_id = (select auth.uid()));

create policy "users can read their own notification settings"
  on public.notification_settings for select to authenticated
  using (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------------------------
-- helpers: preferences, the push decision, creating notifications, the realtime event
-- ---------------------------------------------------------------------------------------------------------------
create function private.notification_settings_of(target uuid) returns public.notification_settings
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  s public.notification_settings;
begin
  select * into s from public.notification_settings ns where ns.user_id = target;
  if s.user_id is null then
    s := row(target, true, true, false, null, null, 'UTC', '{}', now())::public.notification_settings;
  end if;
  return s;
end
$$;
comment on function private.notification_settings_of(uuid) is 'A user''s notification settings, or the defaults.';
revoke all on function private.notification_settings_of(uuid) from public, anon, authenticated;

-- Whether `local` (a time of day) falls into quiet hours [start, end), which may wrap past midnight.
create function private.in_quiet_hours(s public.notification_settings, at timestamptz) returns boolean
language plpgsql
stable
set search_path = ''
as $$
declare
  local time;
begin
  if s.quiet_hours_start is null or s.quiet_hours_start = s.quiet_hours_end then
    return false;
  end if;
  local := (at at time zone s.time_zone)::time;
  if s.quiet_hours_start < s.quiet_hours_end then
    return local >= s.quiet_hours_start and local < s.quiet_hours_end;
  end if;
  return local >= s.quiet_hours_start or local < s.quiet_hours_end;
end
$$;
comment on function private.in_quiet_hours(public.notification_settings, timestamptz) is
  'Whether a moment is inside the user''s quiet hours, in their time zone.';
revoke all on function private.in_quiet_hours(public.notification_settings, timestamptz) from public, anon, authenticated;

-- Whether a notification for `recipient` about `chat` may push now: push on, chat not muted, not busy, not quiet hours.
create function private.may_push(recipient uuid, chat uuid, s public.notification_settings) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not s.push_enabled or private.in_quiet_hours(s, now()) then
    return false;
  end if;
  -- Busy is the status the user chose (kept while the devices are offline, too).
  if coalesce((select p.chosen_status from private.user_presence p where p.user_id = recipient),
              (select pr.status from public.profiles pr where pr.id = recipient)) = 'busy' then
    return false;
  end if;
  if chat is not null and exists (select 1 from public.chat_members m
                                   where m.chat_id = chat and m.user_id = recipient and m.muted_until > now()) then
    return false;
  end if;
  return true;
end
$$;
comment on function private.may_push(uuid, uuid, public.notification_settings) is
  'The push decision: push on, chat not muted, status not busy, outside quiet hours.';
revoke all on function private.may_push(uuid, uuid, public.notification_settings) from public, anon, authenticated;

-- Whether a chat's notification level lets a kind through.
create function private.level_allows(level public.notification_level, kind public.notification_kind) returns boolean
language sql
immutable
set search_path = ''
as $$
  select case level when 'none' then false
                    when 'mentions' then kind in ('mention', 'reply', 'added_to_chat', 'system')
                    else true end
$$;
comment on function private.level_allows(public.notification_level, public.notification_kind) is
  'none: nothing; mentions: mentions and replies to me; all: everything.';
revoke all on function private.level_allows(public.notification_level, public.notification_kind) from public, anon, authenticated;

create function private.notification_json(n public.notifications) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return to_jsonb(n);
end
$$;
revoke all on function private.notification_json(public.notifications) from public, anon, authenticated;

-- The one place that puts notification events on user:<id>: every event carries the unread count. (Stored, so
-- get_updates returns it after a gap.)
create function private.emit_notification_event(recipient uuid, event text, data jsonb) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.emit_user_event(recipient, event, data || jsonb_build_object('unread_count',
    coalesce((select c.unread from private.notification_counters c where c.user_id = recipient), 0)));
end
$$;
comment on function private.emit_notification_event(uuid, text, jsonb) is
  'Broadcasts a notification event with the recipient''s unread count on user:<id>.';
revoke all on function private.emit_notification_event(uuid, text, jsonb) from public, anon, authenticated;

-- Makes (or, for reactions, updates) one notification, honouring blocks, per-kind switches and hidden previews, and
-- deciding whether it may push. Returns null when nothing was made.
create function private.create_notification(
  recipient uuid, what public.notification_kind, chat uuid default null, message uuid default null,
  actor uuid default null, preview text default null, data jsonb default '{}'::jsonb
) returns public.notifications
language plpgsql
security definer
set search_path = ''
as $$
declare
  s public.notification_settings;
  n public.notifications;
  shown text;
begin
  if recipient is null or recipient is not distinct from actor
     or not exists (select 1 from public.profiles p where p.id = recipient) then
    return null;
  end if;
  if actor is not null and private.is_blocked_between(recipient, actor) then
    return null;
  end if;
  s := private.notification_settings_of(recipient);
  if what = any (s.disabled_kinds) then
    return null;
  end if;
  shown := case when s.hide_previews then null else left(regexp_replace(preview, '\s+', ' ', 'g'), 140) end;
  if what = 'reaction' then
    insert into public.notifications as x (recipient_id, kind, chat_id, message_id, actor_id, preview, data, silent)
    values (recipient, what, chat, message, actor, shown, coalesce(data, '{}'::jsonb), not private.may_push(recipient, chat, s))
    on conflict (recipient_id, message_id) where kind = 'reaction' do update
      set actor_id = excluded.actor_id, preview = excluded.preview, data = excluded.data, silent = excluded.silent,
          updated_at = clock_timestamp(), read_at = null
    returning * into n;
  else
    insert into public.notifications (recipient_id, kind, chat_id, message_id, actor_id, preview, data, silent)
    values (recipient, what, chat, message, actor, shown, coalesce(data, '{}'::jsonb), not private.may_push(recipient, chat, s))
    returning * into n;
  end if;
  perform private.emit_notification_event(recipient, 'notification.created',
    jsonb_build_object('notification', private.notification_json(n)));
  return n;
end
$$;
comment on function private.create_notification(uuid, public.notification_kind, uuid, uuid, uuid, text, jsonb) is
  'The one writer of notifications: blocks, per-kind switches, hidden previews and the push decision.';
revoke all on function private.create_notification(uuid, public.notification_kind, uuid, uuid, uuid, text, jsonb)
  from public, anon, authenticated;

-- System and moderation notices, for the server (service role, pg_cron, edge functions).
create function private.notify_system(
  recipient uuid, title text, body text default null, chat uuid default null, data jsonb default '{}'::jsonb
) returns public.notifications
language plpgsql
security definer
set search_path = ''
as $$
begin
  if recipient is null or not exists (select 1 from public.profiles p where p.id = recipient) then
    raise exception 'user not found' using errcode = 'PT404', hint = 'Check the recipient id.';
  end if;
  if jsonb_typeof(coalesce(data, '{}'::jsonb)) <> 'object' then
    raise exception 'data must be a JSON object' using errcode = '22023', hint = 'Pass an object or leave it out.';
  end if;
  return private.create_notification(recipient, 'system', chat, null, null, coalesce(body, title),
    coalesce(data, '{}'::jsonb) || jsonb_build_object('title', private.assert_text(title, 'title', 200),
                                                     'category', coalesce(data ->> 'category', 'system')));
end
$$;
comment on function private.notify_system(uuid, text, text, uuid, jsonb) is
  'Sends a system or moderation notice (data.category) to a user''s inbox. Server side only.';
revoke all on function private.notify_system(uuid, text, text, uuid, jsonb) from public, anon, authenticated;
grant execute on function private.notify_system(uuid, text, text, uuid, jsonb) to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- triggers: producers
-- ---------------------------------------------------------------------------------------------------------------
-- A new message notifies, once per recipient and by the strongest reason: mentioned (explicitly, or by @channel /
-- @everyone / @here from an owner or admin where the chat allows it), replied to, a reply in a thread they took part
-- in, or a direct message while they are offline. Only current members, never the author.
create function private.notify_message() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  c public.chats;
  scope text;
  r record;
begin
  if new.kind = 'system' or new.author_id is null then
    return null;
  end if;
  select * into c from public.chats where id = new.chat_id;
  if c.kind <> 'direct' and c.everyone_mentions and new.body is not null
     and private.chat_role_of(c.id, new.author_id) in ('owner', 'admin') then
    if new.body ~* '(^|[^[:alnum:]_])@(channel|everyone)([^[:alnum:]_]|$)' then
      scope := 'channel';
    elsif new.body ~* '(^|[^[:alnum:]_])@here([^[:alnum:]_]|$)' then
      scope := 'here';
    end if;
  end if;

  for r in
    with candidates (user_id, kind, rank, scope) as (
      select u, 'mention'::public.notification_kind, 1, null::text from unnest(new.mentions) u
      union all
      select m.user_id, 'mention'::public.notification_kind, 2, scope from public.chat_members m
       where scope is not null and m.chat_id = c.id
         and (scope = 'channel' or exists (select 1 from public.profiles p where p.id = m.user_id and p.status <> 'offline'))
      union all
      select p.author_id, 'reply'::public.notification_kind, 3, null from public.messages p
       where p.id in (new.reply_to_id, new.thread_root_id)
      union all
      select distinct t.author_id, 'thread_reply'::public.notification_kind, 4, null from public.messages t
       where new.thread_root_id is not null and t.thread_root_id = new.thread_root_id and t.id <> new.id
      union all
      select m.user_id, 'direct_message'::public.notification_kind, 5, null from public.chat_members m
        join public.profiles p on p.id = m.user_id
       where c.kind = 'direct' and m.chat_id = c.id and p.status = 'offline'
    )
    select distinct on (x.user_id) x.user_id, x.kind, x.scope
      from candidates x
      join public.chat_members m on m.chat_id = c.id and m.user_id = x.user_id
     where x.user_id is distinct from new.author_id and private.level_allows(m.notification_level, x.kind)
     order by x.user_id, x.rank
  loop
    perform private.create_notification(r.user_id, r.kind, c.id, new.id, new.author_id, new.body,
      jsonb_strip_nulls(jsonb_build_object('message_seq', new.seq, 'message_kind', new.kind,
        'thread_root_id', new.thread_root_id, 'scope', r.scope)));
  end loop;
  return null;
end
$$;
comment on function private.notify_message() is
  'Notifications of a new message: mentions, @channel/@here, replies, thread replies, direct messages while offline.';
revoke all on function private.notify_message() from public, anon, authenticated;

create trigger messages_notify after insert on public.messages
  for each row execute function private.notify_message();

-- A deleted message takes its notifications with it (the tombstone keeps no content).
create function private.forget_message_notifications() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from public.notifications n where n.message_id = new.id;
  return null;
end
$$;
revoke all on function private.forget_message_notifications() from public, anon, authenticated;

create trigger messages_forget_notifications after update of deleted_at on public.messages
  for each row when (old.deleted_at is null and new.deleted_at is not null)
  execute function private.forget_message_notifications();

-- Reactions to my message: one notification per message, updated with the newest reactor and the count.
create function private.notify_reaction() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  m public.messages;
  level public.notification_level;
begin
  select * into m from public.messages where id = new.message_id;
  if m.author_id is null or m.author_id = new.user_id then
    return null;
  end if;
  select cm.notification_level into level from public.chat_members cm where cm.chat_id = m.chat_id and cm.user_id = m.author_id;
  if level is null or not private.level_allows(level, 'reaction') then
    return null;
  end if;
  perform private.create_notification(m.author_id, 'reaction', m.chat_id, m.id, new.user_id, m.body,
    jsonb_build_object('message_seq', m.seq, 'emoji', new.emoji,
      'reactor_count', (select count(distinct r.user_id) from public.message_reactions r
                         where r.message_id = m.id and r.user_id <> m.author_id)));
  return null;
end
$$;
revoke all on function private.notify_reaction() from public, anon, authenticated;

create trigger message_reactions_notify after insert on public.message_reactions
  for each row execute function private.notify_reaction();

-- A direct invitation to a group or channel.
create function private.notify_invitation() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.create_notification(new.invited_user_id, 'invitation', new.chat_id, null, new.created_by,
    (select c.title from public.chats c where c.id = new.chat_id),
    jsonb_build_object('invitation_id', new.id, 'expires_at', new.expires_at));
  return null;
end
$$;
revoke all on function private.notify_invitation() from public, anon, authenticated;

create trigger chat_invitations_notify after insert on public.chat_invitations
  for each row when (new.invited_user_id is not null)
  execute function private.notify_invitation();

-- Being added to a group or channel by someone else (joining, accepting an invitation or opening a direct chat
-- notifies nobody).
create function private.notify_member_added() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  c public.chats;
begin
  if auth.uid() is not distinct from new.user_id then
    return null;
  end if;
  select * into c from public.chats where id = new.chat_id;
  if c.kind = 'direct' then
    return null;
  end if;
  perform private.create_notification(new.user_id, 'added_to_chat', c.id, null, auth.uid(), c.title,
    jsonb_build_object('role', new.role, 'chat_kind', c.kind));
  return null;
end
$$;
revoke all on function private.notify_member_added() from public, anon, authenticated;

create trigger chat_members_notify_added after insert on public.chat_members
  for each row execute function private.notify_member_added();

-- Moderation: a banned user is told, with the reason (not who banned them).
create function private.notify_ban() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.create_notification(new.user_id, 'system', new.chat_id, null, null, new.reason,
    jsonb_build_object('category', 'moderation', 'action', 'banned',
      'title', 'You were banned from ' || coalesce((select c.title from public.chats c where c.id = new.chat_id), 'a chat')));
  return null;
end
$$;
revoke all on function private.notify_ban() from public, anon, authenticated;

create trigger chat_bans_notify after insert on public.chat_bans
  for each row execute function private.notify_ban();

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs
-- ---------------------------------------------------------------------------------------------------------------
-- Keyset pages, newest first: pass the last row's (updated_at, id) as (before_at, before_id) for the next page.
create function public.list_notifications(
  unread_only boolean default false,
  chat_id uuid default null,
  before_at timestamptz default null,
  before_id uuid default null,
  page_size integer default 50
) returns setof public.notifications
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  me uuid := private.require_user();
  n integer := least(greatest(coalesce(page_size, 50), 1), 200);
begin
  if (before_at is null) <> (before_id is null) then
    raise exception 'give both before_at and before_id, or neither' using errcode = '22023',
      hint = 'Pass the updated_at and id of the last notification of the previous page.';
  end if;
  return query
    select * from public.notifications x
     where x.recipient_id = me
       and (not coalesce(unread_only, false) or x.read_at is null)
       and (list_notifications.chat_id is null or x.chat_id = list_notifications.chat_id)
       and (before_at is null or (x.updated_at, x.id) < (before_at, before_id))
     order by x.updated_at desc, x.id desc
     limit n;
end
$$;
comment on function public.list_notifications(boolean, uuid, timestamptz, uuid, integer) is
  'A page of the caller''s notifications, newest first (default 50, max 200); unread_only and chat_id filter; '
  'before_at/before_id: the previous page''s last updated_at and id.';
revoke all on function public.list_notifications(boolean, uuid, timestamptz, uuid, integer) from public, anon, authenticated;
grant execute on function public.list_notifications(boolean, uuid, timestamptz, uuid, integer) to authenticated, service_role;

create function public.get_unread_notification_count() returns integer
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
begin
  return coalesce((select c.unread from private.notification_counters c where c.user_id = me), 0);
end
$$;
comment on function public.get_unread_notification_count() is 'The caller''s unread notifications (one counter row, O(1)).';
revoke all on function public.get_unread_notification_count() from public, anon, authenticated;
grant execute on function public.get_unread_notification_count() to authenticated, service_role;

create function public.mark_notifications_read(notification_ids uuid[]) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
  ids uuid[];
begin
  if notification_ids is null or cardinality(notification_ids) = 0 or cardinality(notification_ids) > 500
     or array_position(notification_ids, null) is not null then
    raise exception 'invalid notification list' using errcode = '22023', hint = 'Pass 1 to 500 notification ids.';
  end if;
  -- Ids that are not the caller's are ignored, like ids that do not exist.
  with marked as (
    update public.notifications x set read_at = now()
     where x.id = any (notification_ids) and x.recipient_id = me and x.read_at is null
    returning x.id
  )
  select coalesce(array_agg(id), '{}') into ids from marked;
  if cardinality(ids) > 0 then
    perform private.emit_notification_event(me, 'notification.read', jsonb_build_object('ids', to_jsonb(ids), 'chat_id', null, 'all', false));
  end if;
  return public.get_unread_notification_count();
end
$$;
comment on function public.mark_notifications_read(uuid[]) is
  'Marks some of the caller''s notifications read (1-500 ids; others'' ids are ignored). Returns the unread count left.';
revoke all on function public.mark_notifications_read(uuid[]) from public, anon, authenticated;
grant execute on function public.mark_notifications_read(uuid[]) to authenticated, service_role;

create function public.mark_all_notifications_read(chat_id uuid default null) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
  marked integer;
begin
  update public.notifications x set read_at = now()
   where x.recipient_id = me and x.read_at is null
     and (mark_all_notifications_read.chat_id is null or x.chat_id = mark_all_notifications_read.chat_id);
  get diagnostics marked = row_count;
  if marked > 0 then
    perform private.emit_notification_event(me, 'notification.read',
      jsonb_build_object('ids', null, 'chat_id', mark_all_notifications_read.chat_id, 'all', true));
  end if;
  return public.get_unread_notification_count();
end
$$;
comment on function public.mark_all_notifications_read(uuid) is
  'Marks every unread notification of the caller read, or only those of one chat. Returns the unread count left.';
revoke all on function public.mark_all_notifications_read(uuid) from public, anon, authenticated;
grant execute on function public.mark_all_notifications_read(uuid) to authenticated, service_role;

create function public.get_notification_settings() returns public.notification_settings
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return private.notification_settings_of(private.require_user());
end
$$;
comment on function public.get_notification_settings() is 'The caller''s notification settings (the defaults if never set).';
revoke all on function public.get_notification_settings() from public, anon, authenticated;
grant execute on function public.get_notification_settings() to authenticated, service_role;

-- Arguments left null keep their value; clear_quiet_hours => true removes quiet hours.
create function public.update_notification_settings(
  push_enabled boolean default null,
  email_on_mention boolean default null,
  hide_previews boolean default null,
  quiet_hours_start time default null,
  quiet_hours_end time default null,
  time_zone text default null,
  disabled_kinds public.notification_kind[] default null,
  clear_quiet_hours boolean default false
) returns public.notification_settings
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
  s public.notification_settings := private.notification_settings_of(me);
begin
  if update_notification_settings.time_zone is not null
     and not exists (select 1 from pg_catalog.pg_timezone_names z where z.name = update_notification_settings.time_zone) then
    raise exception 'unknown time zone' using errcode = '22023',
      hint = 'Use an IANA time zone name such as Europe/Berlin or America/New_York.';
  end if;
  if (update_notification_settings.quiet_hours_start is null) <> (update_notification_settings.quiet_hours_end is null) then
    raise exception 'give both quiet_hours_start and quiet_hours_end' using errcode = '22023',
      hint = 'Quiet hours are a daily range such as 22:00 to 07:00; clear them with clear_quiet_hours => true.';
  end if;
  if 'system' = any (coalesce(update_notification_settings.disabled_kinds, '{}'))
     or array_position(update_notification_settings.disabled_kinds, null) is not null then
    raise exception 'system notices cannot be switched off' using errcode = '22023',
      hint = 'disabled_kinds may list mention, reply, thread_reply, direct_message, reaction, invitation, added_to_chat.';
  end if;
  insert into public.notification_settings as x (user_id, push_enabled, email_on_mention, hide_previews,
    quiet_hours_start, quiet_hours_end, time_zone, disabled_kinds)
  values (me,
    coalesce(update_notification_settings.push_enabled, s.push_enabled),
    coalesce(update_notification_settings.email_on_mention, s.email_on_mention),
    coalesce(update_notification_settings.hide_previews, s.hide_previews),
    case when clear_quiet_hours then null else coalesce(update_notification_settings.quiet_hours_start, s.quiet_hours_start) end,
    case when clear_quiet_hours then null else coalesce(update_notification_settings.quiet_hours_end, s.quiet_hours_end) end,
    coalesce(update_notification_settings.time_zone, s.time_zone),
    case when update_notification_settings.disabled_kinds is null then s.disabled_kinds
         else array(select distinct k from unnest(update_notification_settings.disabled_kinds) k order by k) end)
  on conflict (user_id) do update
    set push_enabled = excluded.push_enabled, email_on_mention = excluded.email_on_mention,
        hide_previews = excluded.hide_previews, quiet_hours_start = excluded.quiet_hours_start,
        quiet_hours_end = excluded.quiet_hours_end, time_zone = excluded.time_zone,
        disabled_kinds = excluded.disabled_kinds
  returning * into s;
  return s;
end
$$;
comment on function public.update_notification_settings(boolean, boolean, boolean, time, time, text, public.notification_kind[], boolean) is
  'Changes the caller''s notification settings; arguments left null keep their value.';
revoke all on function public.update_notification_settings(boolean, boolean, boolean, time, time, text, public.notification_kind[], boolean)
  from public, anon, authenticated;
grant execute on function public.update_notification_settings(boolean, boolean, boolean, time, time, text, public.notification_kind[], boolean)
  to authenticated, service_role;
