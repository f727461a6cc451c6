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
--   user:<id> (stored, so get_updates returns them after a reconnect). notification.created is the one event of a
--   mention (or reply, reaction, ...) and carries what a client renders (private.notification_event_data).
-- * Devices: push targets (Web Push subscriptions, FCM and APNs tokens) in public.push_devices; the token itself is
--   in private.push_device_secrets, encrypted with pgcrypto (pgp_sym_encrypt, AES-256) under a key kept in Supabase
--   Vault (`push_token_key`, created here if missing), and found again by an HMAC of it, so registering is
--   idempotent without storing the token in the clear.
-- * Outbox: private.notification_outbox gets, in the transaction of the notification, one row per device of the
--   recipient when the notification may push, and one email row per chat for mentions (batched: a burst of mentions
--   shares one pending row, sent after delivery_settings.email_delay if still unread). The notify edge function
--   drains it.

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

create type public.push_provider as enum ('web_push', 'fcm', 'apns');
comment on type public.push_provider is 'How a device is reached: Web Push (VAPID), Firebase Cloud Messaging, Apple Push.';

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

create table public.push_devices (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  provider public.push_provider not null,
  platform text not null,
  app_id text,
  device_name text,
  session_id uuid references auth.sessions (id) on delete cascade,
  last_seen_at timestamptz not null default clock_timestamp(),
  created_at timestamptz not null default clock_timestamp(),
  updated_at timestamptz not null default now(),
  constraint push_devices_platform check (platform in ('web', 'android', 'ios', 'ipados', 'macos', 'windows', 'linux')),
  constraint push_devices_app_id_length check (char_length(app_id) between 1 and 255),
  constraint push_devices_device_name_length check (char_length(device_name) between 1 and 100),
  constraint push_devices_apns_topic check (provider <> 'apns' or app_id is not null)
);
comment on table public.push_devices is
  'Push targets of a user (the tokens are encrypted in private.push_device_secrets); register_push_device / unregister_push_device.';
comment on column public.push_devices.app_id is 'Bundle id (APNs topic) or application id of the app that registered.';
comment on column public.push_devices.session_id is
  'Set when the client asked for removal at sign-out: the device goes with this Auth session.';

create table private.push_device_secrets (
  device_id uuid primary key references public.push_devices (id) on delete cascade,
  token_hmac bytea not null,
  token_encrypted bytea not null,
  constraint push_device_secrets_token_hmac_key unique (token_hmac)
);
comment on table private.push_device_secrets is
  'A device''s token (FCM/APNs) or Web Push subscription JSON, pgp_sym_encrypt-ed with Vault''s push_token_key; '
  'token_hmac (HMAC-SHA256 under the same key) finds a token again without decrypting.';

create table private.notification_delivery_settings (
  id boolean primary key default true,
  max_devices integer not null default 20,
  email_delay interval not null default interval '10 minutes',
  max_attempts integer not null default 8,
  retry_base interval not null default interval '30 seconds',
  retry_max interval not null default interval '1 hour',
  constraint notification_delivery_settings_single_row check (id),
  constraint notification_delivery_settings_positive check (max_devices > 0 and max_attempts > 0
    and email_delay >= interval '0' and retry_base > interval '0' and retry_max >= retry_base)
);
comment on table private.notification_delivery_settings is
  'One row: devices per user, the email-on-mention delay, retries (attempts, backoff base and cap).';

insert into private.notification_delivery_settings default values;

create table private.notification_outbox (
  id bigint generated always as identity primary key,
  notification_id uuid not null references public.notifications (id) on delete cascade,
  recipient_id uuid not null references auth.users (id) on delete cascade,
  chat_id uuid references public.chats (id) on delete cascade,
  channel text not null,
  device_id uuid references public.push_devices (id) on delete cascade,
  status text not null default 'pending',
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  locked_until timestamptz,
  last_status integer,
  last_error text,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  constraint notification_outbox_channel check (channel in ('web_push', 'fcm', 'apns', 'email')),
  constraint notification_outbox_status check (status in ('pending', 'sending', 'sent', 'skipped', 'dead')),
  constraint notification_outbox_target check ((channel = 'email') = (device_id is null))
);
comment on table private.notification_outbox is
  'Deliveries to send: one per push device, one per (recipient, chat) for email; drained by the notify function.';
comment on column private.notification_outbox.status is
  'pending (due at next_attempt_at), sending (leased until locked_until), sent, skipped (read meanwhile), dead (gave up).';

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
create index push_devices_user_idx on public.push_devices (user_id, last_seen_at desc);
create index push_devices_session_idx on public.push_devices (session_id) where session_id is not null;
-- The worker's queue: due pending rows, and leases that ran out.
create index notification_outbox_due_idx on private.notification_outbox (next_attempt_at) where status = 'pending';
create index notification_outbox_lease_idx on private.notification_outbox (locked_until) where status = 'sending';
-- A burst of mentions in one chat shares one pending email.
create unique index notification_outbox_email_batch_key on private.notification_outbox (recipient_id, chat_id)
  where channel = 'email' and status = 'pending';
create index notification_outbox_notification_idx on private.notification_outbox (notification_id);
create index notification_outbox_device_idx on private.notification_outbox (device_id) where device_id is not null;
create index notification_outbox_chat_idx on private.notification_outbox (chat_id) where chat_id is not null;

-- ---------------------------------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on public.notifications, public.notification_settings from anon, authenticated;
grant select on public.notifications, public.notification_settings to authenticated;
grant all on public.notifications, public.notification_settings to service_role;
revoke all on private.notification_counters from public, anon, authenticated;
revoke all on public.push_devices from anon, authenticated;
grant select on public.push_devices to authenticated;
grant all on public.push_devices to service_role;
revoke all on private.push_device_secrets, private.notification_outbox, private.notification_delivery_settings
  from public, anon, authenticated;
grant select, update on private.notification_delivery_settings to service_role;
grant select on private.notification_outbox to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- triggers: the unread counter (statement level, one counter update per user per statement)
-- ---------------------------------------------------------------------------------------------------------------
create function private.count_new_notifications() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- In user order: two statements that notify the same people (two @channel sends in one channel) lock their
  -- counter rows in the same order, so one waits for the other instead of deadlocking.
  insert into private.notification_counters as c (user_id, unread)
  select n.recipient_id, count(*) from new_rows n where n.read_at is null group by n.recipient_id order by n.recipient_id
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
create trigger push_devices_touch_updated_at before update on public.push_devices
  for each row execute function private.touch_updated_at();

-- ---------------------------------------------------------------------------------------------------------------
-- row level security
-- ---------------------------------------------------------------------------------------------------------------
alter table public.notifications enable row level security;
alter table public.notification_settings enable row level security;
alter table private.notification_counters enable row level security;
alter table public.push_devices enable row level security;
alter table private.push_device_secrets enable row level security;
alter table private.notification_outbox enable row level security;
alter table private.notification_delivery_settings enable row level security;

-- ---------------------------------------------------------------------------------------------------------------
-- policies
-- ---------------------------------------------------------------------------------------------------------------
create policy "users can read their own notifications"
  on public.notifications for select to authenticated
  using (recipient_id = (select auth.uid()));

create policy "users can read their own notification settings"
  on public.notification_settings for select to authenticated
  using (user_id = (select auth.uid()));

create policy "users can read their own push devices"
  on public.push_devices for select to authenticated
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

create function private.is_muted(recipient uuid, chat uuid) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return chat is not null and exists (select 1 from public.chat_members m
                                       where m.chat_id = chat and m.user_id = recipient and m.muted_until > now());
end
$$;
comment on function private.is_muted(uuid, uuid) is 'Whether the user muted the chat (muted_until in the future).';
revoke all on function private.is_muted(uuid, uuid) from public, anon, authenticated;

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
  return not private.is_muted(recipient, chat);
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

-- The outbox rows of new (or updated) notifications, in two statements whatever their number: every push device of
-- each recipient whose notification may push; for a mention, the chat's pending email (one per recipient and chat:
-- a burst shares it) unless email is off or the chat is muted.
create function private.queue_deliveries(ids uuid[]) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into private.notification_outbox (notification_id, recipient_id, chat_id, channel, device_id)
  select n.id, n.recipient_id, n.chat_id, d.provider::text, d.id
    from public.notifications n
    join public.push_devices d on d.user_id = n.recipient_id
   where n.id = any (ids) and not n.silent;
  insert into private.notification_outbox (notification_id, recipient_id, chat_id, channel, next_attempt_at)
  select n.id, n.recipient_id, n.chat_id, 'email',
         now() + (select d.email_delay from private.notification_delivery_settings d where d.id)
    from public.notifications n
    join auth.users u on u.id = n.recipient_id and u.email is not null
    left join public.notification_settings s on s.user_id = n.recipient_id
   where n.id = any (ids) and n.kind = 'mention' and n.chat_id is not null and coalesce(s.email_on_mention, true)
     and not exists (select 1 from public.chat_members m
                      where m.chat_id = n.chat_id and m.user_id = n.recipient_id and m.muted_until > now())
   order by n.recipient_id -- the batch key's entries in one order (see count_new_notifications)
  on conflict (recipient_id, chat_id) where channel = 'email' and status = 'pending' do nothing;
end
$$;
comment on function private.queue_deliveries(uuid[]) is
  'Fills the outbox for notifications: their push devices (unless silent) and the batched email of a mention.';
revoke all on function private.queue_deliveries(uuid[]) from public, anon, authenticated;

-- What notification.created carries: enough to render it without another request (who, where, what, when).
create function private.notification_event_data(n public.notifications) returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return jsonb_build_object('notification_id', n.id, 'kind', n.kind, 'chat_id', n.chat_id,
    'chat_title', (select c.title from public.chats c where c.id = n.chat_id), 'message_id', n.message_id,
    'actor', private.profile_json(n.actor_id), 'preview', n.preview, 'data', n.data, 'silent', n.silent,
    'created_at', n.created_at, 'updated_at', n.updated_at);
end
$$;
comment on function private.notification_event_data(public.notifications) is
  'The data of notification.created: the notification with its chat title and actor card (the unread count is added by emit_notification_event).';
revoke all on function private.notification_event_data(public.notifications) from public, anon, authenticated;

-- notification.created for each of `ids`, in one statement.
create function private.emit_notifications_created(ids uuid[]) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.emit_notification_event(n.recipient_id, 'notification.created', private.notification_event_data(n))
     from public.notifications n where n.id = any (ids)
    order by n.recipient_id;
end
$$;
revoke all on function private.emit_notifications_created(uuid[]) from public, anon, authenticated;

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
  perform private.queue_deliveries(array[n.id]);
  -- The preview goes along: the user topic is its recipient's alone, and it is what their inbox shows them (a
  -- deleted message takes it out of the stored event, see forget_message_notifications; docs/realtime.md).
  perform private.emit_notifications_created(array[n.id]);
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
-- plan_cache_mode: the candidates query's custom plans (the reasons that cannot apply folded away) look cheaper than
-- its generic plan, so without it the query was planned again on every send: 0.3-0.5 ms of a 1-1.5 ms send
-- (bench/send-profile.ts, docs/performance.md).
create function private.notify_message() returns trigger
language plpgsql
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
  c public.chats;
  scope text;
  shown text;
  ids uuid[];
begin
  if new.kind = 'system' or new.author_id is null then
    return null;
  end if;
  -- Most sends notify nobody, and that is decided here with at most two index probes, before the chat row, the
  -- author's role and the candidates query below (0.12-0.23 ms a send, docs/performance.md): with no mentions, no
  -- reply or thread, and no '@' in the body (no @channel / @here), the only candidate left is the other member of a
  -- direct chat who is offline (rank 5 below). Who is notified is exactly what the query would decide: when such a
  -- member exists, the query runs.
  -- (Probes in a fixed order, not one join: under this function's generic plans a join was planned from profiles'
  -- status, 0.07 ms; here the chat row, then the chat's members, then each one's profile by its key.)
  if cardinality(new.mentions) = 0 and new.reply_to_id is null and new.thread_root_id is null
     and strpos(coalesce(new.body, ''), '@') = 0 then
    if (select ch.kind from public.chats ch where ch.id = new.chat_id) <> 'direct' then
      return null;
    end if;
    if not exists (select 1 from public.chat_members m
                    where m.chat_id = new.chat_id and m.user_id <> new.author_id
                      and (select p.status from public.profiles p where p.id = m.user_id) = 'offline') then
      return null;
    end if;
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
  shown := left(regexp_replace(new.body, '\s+', ' ', 'g'), 140);

  -- Set-based: one insert for every recipient (an @channel in a 1,000-member channel is one statement, not 1,000
  -- calls of create_notification), with create_notification's rules written as joins: blocks either way, per-kind
  -- switches, hidden previews, and the push decision of private.may_push (push on, outside quiet hours, not busy,
  -- chat not muted).
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
  ),
  chosen as (
    select distinct on (x.user_id) x.user_id, x.kind, x.scope, m.muted_until
      from candidates x
      join public.chat_members m on m.chat_id = c.id and m.user_id = x.user_id
     where x.user_id is distinct from new.author_id and private.level_allows(m.notification_level, x.kind)
     order by x.user_id, x.rank
  ),
  made as (
    insert into public.notifications (recipient_id, kind, chat_id, message_id, actor_id, preview, data, silent)
    select r.user_id, r.kind, c.id, new.id, new.author_id,
           case when coalesce(s.hide_previews, false) then null else shown end,
           jsonb_strip_nulls(jsonb_build_object('message_seq', new.seq, 'message_kind', new.kind,
             'thread_root_id', new.thread_root_id, 'scope', r.scope)),
           not (coalesce(s.push_enabled, true)
                and not (s.quiet_hours_start is not null and private.in_quiet_hours(s, now()))
                and coalesce(pr.chosen_status, p.status) <> 'busy'
                and not coalesce(r.muted_until > now(), false))
      from chosen r
      join public.profiles p on p.id = r.user_id
      left join public.notification_settings s on s.user_id = r.user_id
      left join private.user_presence pr on pr.user_id = r.user_id
     where not (r.kind = any (coalesce(s.disabled_kinds, '{}')))
       and not exists (select 1 from public.user_blocks b
                        where (b.blocker_id = r.user_id and b.blocked_id = new.author_id)
                           or (b.blocker_id = new.author_id and b.blocked_id = r.user_id))
    returning id
  )
  select array_agg(id) into ids from made;
  if ids is not null then
    perform private.queue_deliveries(ids);
    perform private.emit_notifications_created(ids);
  end if;
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
  -- The stored notification.created events (get_updates) lose their preview too.
  with gone as (delete from public.notifications n where n.message_id = new.id returning n.recipient_id)
  update private.user_events e set payload = e.payload || '{"preview": null}'::jsonb
   where e.user_id in (select g.recipient_id from gone g) and e.event = 'notification.created'
     and e.payload ->> 'message_id' = new.id::text;
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

-- Reading a chat reads its message notifications: when a member's read cursor passes a message, the mentions,
-- replies and direct-message notifications about it are marked read (their pushes and emails are then skipped).
-- Reactions stay: reading the chat does not show who reacted to you.
create function private.read_chat_notifications() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  ids uuid[];
begin
  -- Nothing to mark (the case of almost every send, which moves its author's cursor): one probe of
  -- notifications_chat_unread_idx with the update's own condition, instead of the update and its statement-level
  -- counter trigger (count_changed_notifications), which fire even when no row changes.
  if not exists (select 1 from public.notifications n
                  where n.recipient_id = new.user_id and n.chat_id = new.chat_id and n.read_at is null
                    and n.kind in ('mention', 'reply', 'thread_reply', 'direct_message')
                    and (n.data ->> 'message_seq')::bigint <= new.last_read_seq) then
    return null;
  end if;
  with marked as (
    update public.notifications n set read_at = now()
     where n.recipient_id = new.user_id and n.chat_id = new.chat_id and n.read_at is null
       and n.kind in ('mention', 'reply', 'thread_reply', 'direct_message')
       and (n.data ->> 'message_seq')::bigint <= new.last_read_seq
    returning n.id
  )
  select array_agg(id) into ids from marked;
  if ids is not null then
    perform private.emit_notification_event(new.user_id, 'notification.read',
      jsonb_build_object('ids', to_jsonb(ids), 'chat_id', new.chat_id, 'all', false));
  end if;
  return null;
end
$$;
comment on function private.read_chat_notifications() is
  'Marks the message notifications of a chat read up to the member''s new read cursor.';
revoke all on function private.read_chat_notifications() from public, anon, authenticated;

create trigger chat_members_read_notifications after update of last_read_seq on public.chat_members
  for each row when (new.last_read_seq > old.last_read_seq)
  execute function private.read_chat_notifications();

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
  -- Security invoker (RLS shows only the caller's rows), so the signed-in check is written here: private helpers
  -- are not executable by clients (docs/security.md).
  me uuid := auth.uid();
  n integer := least(greatest(coalesce(page_size, 50), 1), 200);
begin
  if me is null then
    raise exception 'not signed in' using errcode = '42501', hint = 'Sign in first.';
  end if;
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

-- ---------------------------------------------------------------------------------------------------------------
-- devices: the token key, target checks, register and unregister
-- ---------------------------------------------------------------------------------------------------------------
-- The key that encrypts push tokens lives in Vault. A project gets a random one here; rotating it means
-- re-registering devices (docs/operations.md).
select vault.create_secret(encode(extensions.gen_random_bytes(32), 'hex'), 'push_token_key',
                           'pgcrypto key of the push tokens in private.push_device_secrets (notifications migration)')
 where not exists (select 1 from vault.secrets where name = 'push_token_key');

create function private.push_token_key() returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  k text := private.vault_secret('push_token_key');
begin
  if k is null then
    raise exception 'push token key is missing' using errcode = '55000',
      hint = 'Create the Vault secret push_token_key (docs/operations.md).';
  end if;
  return k;
end
$$;
comment on function private.push_token_key() is 'The Vault key that encrypts push tokens.';
revoke all on function private.push_token_key() from public, anon, authenticated;

-- May the notify function POST to this Web Push endpoint? Push services are public https hosts on the default port
-- (fcm.googleapis.com, updates.push.services.mozilla.com, web.push.apple.com, *.notify.windows.com), so anything else
-- a client registers is refused: it would have the function send requests into the network it runs in (SSRF).
-- * https only, with a DNS name: no user info, no port but 443, no IP literal of any form (a host whose last label is
--   numeric, such as 2130706433 or 0x7f.1, is an IPv4 address to URL parsers), at least two labels;
-- * not a name of a local or private network (localhost, .localhost, .local, .internal, .home.arpa, .lan);
-- * plain http only on loopback (127.0.0.1, localhost, [::1]), for a push service of local development and tests.
-- The delivery worker gets this verdict with each Web Push target (private.push_device_target) and sends nothing to
-- an endpoint that fails it. A public name that resolves to a private address is not caught here (nothing resolves
-- names); docs/security.md says what an operator filters at the egress.
create function private.push_endpoint_allowed(endpoint text) returns boolean
language sql
immutable
set search_path = ''
as $$
  select case
    when endpoint ~ '^http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?/\S*$' then true
    when endpoint !~* '^https://([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?(:443)?/\S*$' then false
    else lower(substring(endpoint from '^https://([^/:]+)')) !~ '(^|\.)(localhost|local|internal|home\.arpa|lan)$'
  end
$$;
comment on function private.push_endpoint_allowed(text) is
  'Whether a Web Push endpoint may be registered: a public https host on port 443 (or loopback http for local peers).';
revoke all on function private.push_endpoint_allowed(text) from public, anon, authenticated;
grant execute on function private.push_endpoint_allowed(text) to service_role;

-- A push target checked and in canonical form: `target` identifies it (the endpoint of a Web Push subscription, the
-- token otherwise), `secret` is what is stored encrypted (the subscription JSON, or the token).
create function private.push_target(provider public.push_provider, token text, subscription jsonb,
                                    out target text, out secret text)
language plpgsql
immutable
set search_path = ''
as $$
declare
  endpoint text;
begin
  if provider is null then
    raise exception 'provider is required' using errcode = '22023', hint = 'Use web_push, fcm or apns.';
  end if;
  if provider = 'web_push' then
    endpoint := subscription ->> 'endpoint';
    if token is not null or jsonb_typeof(subscription) is distinct from 'object' or endpoint is null
       or char_length(endpoint) > 2048
       or not private.push_endpoint_allowed(endpoint)
       or coalesce(subscription #>> '{keys,p256dh}', '') !~ '^[A-Za-z0-9_-]{86,88}={0,2}$'
       or coalesce(subscription #>> '{keys,auth}', '') !~ '^[A-Za-z0-9_-]{21,24}={0,2}$' then
      raise exception 'invalid web push subscription' using errcode = '22023',
        hint = 'Pass subscription: PushSubscription.toJSON() (an https endpoint of a public push service and keys p256dh, auth), no token.';
    end if;
    target := endpoint;
    secret := jsonb_build_object('endpoint', endpoint, 'keys', jsonb_build_object(
      'p256dh', subscription #>> '{keys,p256dh}', 'auth', subscription #>> '{keys,auth}'))::text;
  elsif provider = 'fcm' then
    if subscription is not null or coalesce(token, '') !~ '^[A-Za-z0-9_:.-]+$' or char_length(token) not between 20 and 4096 then
      raise exception 'invalid FCM registration token' using errcode = '22023',
        hint = 'Pass token: the registration token from getToken() (letters, digits, : _ - .), no subscription.';
    end if;
    target := token;
    secret := token;
  else
    if subscription is not null or coalesce(token, '') !~ '^[0-9A-Fa-f]{64,200}$' then
      raise exception 'invalid APNs device token' using errcode = '22023',
        hint = 'Pass token: the device token as hex (64 or more hex digits), no subscription.';
    end if;
    target := lower(token);
    secret := lower(token);
  end if;
end
$$;
comment on function private.push_target(public.push_provider, text, jsonb) is
  'Checks a push target and returns its identity and the text to encrypt.';
revoke all on function private.push_target(public.push_provider, text, jsonb) from public, anon, authenticated;

create function private.push_target_hmac(provider public.push_provider, target text) returns bytea
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return extensions.hmac(provider::text || ':' || target, private.push_token_key(), 'sha256');
end
$$;
revoke all on function private.push_target_hmac(public.push_provider, text) from public, anon, authenticated;

-- The decrypted target of a device, for the delivery worker (service role only).
create function private.push_device_target(device uuid) returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  d public.push_devices;
  secret text;
begin
  select * into d from public.push_devices where id = device;
  if d.id is null then
    return null;
  end if;
  select extensions.pgp_sym_decrypt(x.token_encrypted, private.push_token_key()) into secret
    from private.push_device_secrets x where x.device_id = device;
  return jsonb_build_object('device_id', d.id, 'provider', d.provider, 'platform', d.platform, 'app_id', d.app_id)
      -- endpoint_allowed: a subscription stored before private.push_endpoint_allowed, or written by the service role,
      -- can still aim elsewhere; the worker sends nothing to it and settles it as gone.
      || case when d.provider = 'web_push'
              then jsonb_build_object('subscription', secret::jsonb,
                                      'endpoint_allowed', private.push_endpoint_allowed(secret::jsonb ->> 'endpoint'))
              else jsonb_build_object('token', secret) end;
end
$$;
comment on function private.push_device_target(uuid) is 'A device''s decrypted token or subscription (delivery worker only).';
revoke all on function private.push_device_target(uuid) from public, anon, authenticated;
grant execute on function private.push_device_target(uuid) to service_role;

create function public.register_push_device(
  provider public.push_provider,
  platform text,
  token text default null,
  subscription jsonb default null,
  app_id text default null,
  device_name text default null,
  remove_on_sign_out boolean default false
) returns public.push_devices
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
  t record;
  h bytea;
  sess uuid;
  dev public.push_devices;
  clean_app text := private.assert_text(register_push_device.app_id, 'app id', 255);
  clean_name text := private.assert_text(register_push_device.device_name, 'device name', 100);
  cap integer := (select d.max_devices from private.notification_delivery_settings d where d.id);
begin
  if register_push_device.platform is null
     or register_push_device.platform not in ('web', 'android', 'ios', 'ipados', 'macos', 'windows', 'linux') then
    raise exception 'unknown platform' using errcode = '22023',
      hint = 'Use web, android, ios, ipados, macos, windows or linux.';
  end if;
  select * into t from private.push_target(register_push_device.provider, register_push_device.token, register_push_device.subscription);
  if register_push_device.provider = 'apns' and clean_app is null then
    raise exception 'app id is required' using errcode = '22023', hint = 'Pass the app''s bundle id (the APNs topic).';
  end if;
  if coalesce(remove_on_sign_out, false) then
    sess := nullif(auth.jwt() ->> 'session_id', '')::uuid;
    if sess is null or not exists (select 1 from auth.sessions s where s.id = sess and s.user_id = me) then
      raise exception 'no session to tie the device to' using errcode = '22023',
        hint = 'Call with a signed-in user''s access token, or pass remove_on_sign_out => false.';
    end if;
  end if;
  h := private.push_target_hmac(register_push_device.provider, t.target);
  -- One registration of a token at a time: the same device registering twice at once ends as one row.
  perform pg_advisory_xact_lock(hashtextextended(encode(h, 'hex'), 0));
  select d.* into dev from private.push_device_secrets x join public.push_devices d on d.id = x.device_id
   where x.token_hmac = h
   for update of d;
  if dev.id is not null then
    if dev.user_id <> me then
      -- The device changed hands (another account signed in): nothing queued for the previous owner goes to it.
      delete from private.notification_outbox o where o.device_id = dev.id;
    end if;
    update public.push_devices d
       set user_id = me, platform = register_push_device.platform, app_id = clean_app,
           device_name = coalesce(clean_name, case when dev.user_id = me then d.device_name end),
           session_id = sess, last_seen_at = clock_timestamp()
     where d.id = dev.id
    returning * into dev;
    update private.push_device_secrets x
       set token_encrypted = extensions.pgp_sym_encrypt(t.secret, private.push_token_key(), 'cipher-algo=aes256')
     where x.device_id = dev.id;
  else
    insert into public.push_devices (user_id, provider, platform, app_id, device_name, session_id)
    values (me, register_push_device.provider, register_push_device.platform, clean_app, clean_name, sess)
    returning * into dev;
    insert into private.push_device_secrets (device_id, token_hmac, token_encrypted)
    values (dev.id, h, extensions.pgp_sym_encrypt(t.secret, private.push_token_key(), 'cipher-algo=aes256'));
  end if;
  -- At most `max_devices` per user: the ones not seen for longest go.
  delete from public.push_devices d
   where d.id in (select x.id from public.push_devices x where x.user_id = me
                   order by x.last_seen_at desc, x.created_at desc offset cap);
  return dev;
end
$$;
comment on function public.register_push_device(public.push_provider, text, text, jsonb, text, text, boolean) is
  'Registers (or refreshes) a push target of the caller: a Web Push subscription, an FCM or an APNs token. '
  'Idempotent per token; the oldest devices beyond the cap are removed.';
revoke all on function public.register_push_device(public.push_provider, text, text, jsonb, text, text, boolean)
  from public, anon, authenticated;
grant execute on function public.register_push_device(public.push_provider, text, text, jsonb, text, text, boolean)
  to authenticated, service_role;

create function public.unregister_push_device(
  device_id uuid default null,
  provider public.push_provider default null,
  token text default null,
  subscription jsonb default null
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
  t record;
  h bytea;
begin
  if (unregister_push_device.device_id is null) = (unregister_push_device.provider is null) then
    raise exception 'give device_id, or provider with its token or subscription' using errcode = '22023',
      hint = 'Unregister by the id register_push_device returned, or by the same token or subscription.';
  end if;
  if unregister_push_device.device_id is not null then
    delete from public.push_devices d where d.id = unregister_push_device.device_id and d.user_id = me;
    return found;
  end if;
  select * into t from private.push_target(unregister_push_device.provider, unregister_push_device.token,
                                           unregister_push_device.subscription);
  h := private.push_target_hmac(unregister_push_device.provider, t.target);
  delete from public.push_devices d
   using private.push_device_secrets x
   where x.device_id = d.id and x.token_hmac = h and d.user_id = me;
  return found;
end
$$;
comment on function public.unregister_push_device(uuid, public.push_provider, text, jsonb) is
  'Removes one of the caller''s push targets by id or by its token/subscription. Returns whether one was removed.';
revoke all on function public.unregister_push_device(uuid, public.push_provider, text, jsonb) from public, anon, authenticated;
grant execute on function public.unregister_push_device(uuid, public.push_provider, text, jsonb) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- delivery: waking the worker, claiming and settling deliveries (service role: the notify edge function)
-- ---------------------------------------------------------------------------------------------------------------
-- New outbox rows wake the notify function once per transaction (pg_net sends after commit); the pg_cron job
-- notifications-deliver is the backstop and sends the delayed emails.
create function private.wake_notify() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Statement triggers fire for inserts of no rows too (a notification for a user without devices).
  if current_setting('notifications.woken', true) is distinct from 'on' and exists (select 1 from new_rows) then
    perform set_config('notifications.woken', 'on', true);
    perform private.invoke_function('notify', '{}'::jsonb);
  end if;
  return null;
end
$$;
revoke all on function private.wake_notify() from public, anon, authenticated;

create trigger notification_outbox_wake after insert on private.notification_outbox
  referencing new table as new_rows
  for each statement execute function private.wake_notify();

-- The cron backstop: wakes the worker when deliveries are due (or leases ran out).
create function private.sweep_notification_outbox() returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from private.notification_outbox o where o.status = 'pending' and o.next_attempt_at <= now())
     or exists (select 1 from private.notification_outbox o where o.status = 'sending' and o.locked_until <= now()) then
    return private.invoke_function('notify', '{}'::jsonb);
  end if;
  return false;
end
$$;
comment on function private.sweep_notification_outbox() is 'pg_cron: calls the notify function when deliveries are due.';
revoke all on function private.sweep_notification_outbox() from public, anon, authenticated;

-- The token of a user's one-click email unsubscribe link (List-Unsubscribe), an HMAC under the Vault key.
create function private.email_unsubscribe_token(target uuid) returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return translate(encode(extensions.hmac('unsubscribe:' || target::text, private.push_token_key(), 'sha256'), 'base64'),
                   '+/=', '-_');
end
$$;
revoke all on function private.email_unsubscribe_token(uuid) from public, anon, authenticated;

-- One-click unsubscribe (RFC 8058): turns email on mention off. Returns false for a wrong token.
create function private.unsubscribe_email(target uuid, token text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if target is null or token is null or token <> private.email_unsubscribe_token(target)
     or not exists (select 1 from public.profiles p where p.id = target) then
    return false;
  end if;
  insert into public.notification_settings as x (user_id, email_on_mention) values (target, false)
  on conflict (user_id) do update set email_on_mention = false;
  delete from private.notification_outbox o where o.recipient_id = target and o.channel = 'email' and o.status = 'pending';
  return true;
end
$$;
comment on function private.unsubscribe_email(uuid, text) is 'One-click unsubscribe from mention emails (service role only).';
revoke all on function private.unsubscribe_email(uuid, text) from public, anon, authenticated;
grant execute on function private.unsubscribe_email(uuid, text) to service_role;

-- Leases up to max_rows due deliveries to the caller (several workers at once: skip locked) and returns what each
-- needs to be sent. Deliveries whose notification was read meanwhile, and emails whose mentions were all read, are
-- skipped here; a lease that runs out (a worker died) makes its row due again.
create function private.claim_deliveries(max_rows integer default 50, lease_seconds integer default 120)
returns table (delivery_id bigint, channel text, attempt integer, payload jsonb)
language plpgsql
security definer
set search_path = ''
as $$
declare
  o private.notification_outbox;
  n public.notifications;
  body jsonb;
begin
  if max_rows is null or max_rows not between 1 and 500 or lease_seconds is null or lease_seconds not between 10 and 3600 then
    raise exception 'invalid claim' using errcode = '22023', hint = 'max_rows 1 to 500, lease_seconds 10 to 3600.';
  end if;
  for o in
    with due as (
      select x.id from private.notification_outbox x
       where (x.status = 'pending' and x.next_attempt_at <= now()) or (x.status = 'sending' and x.locked_until <= now())
       order by x.next_attempt_at, x.id
       limit max_rows
       for update skip locked
    )
    update private.notification_outbox x
       set status = 'sending', locked_until = now() + make_interval(secs => lease_seconds), attempts = x.attempts + 1
      from due where x.id = due.id
    returning x.*
  loop
    select * into n from public.notifications where id = o.notification_id;
    if o.channel = 'email' then
      select jsonb_build_object(
               'to', u.email,
               'user_id', o.recipient_id,
               'display_name', coalesce(p.display_name, p.username),
               'chat_id', o.chat_id,
               'chat_title', c.title,
               'unsubscribe_token', private.email_unsubscribe_token(o.recipient_id),
               'mentions', coalesce((
                 select jsonb_agg(jsonb_build_object('notification_id', m.id, 'message_id', m.message_id,
                          'message_seq', m.data -> 'message_seq', 'preview', m.preview, 'created_at', m.created_at,
                          'actor', (select coalesce(a.display_name, a.username) from public.profiles a where a.id = m.actor_id))
                          order by m.created_at, m.id)
                   from public.notifications m
                  where m.recipient_id = o.recipient_id and m.chat_id = o.chat_id and m.kind = 'mention'
                    and m.read_at is null and m.created_at >= coalesce(n.created_at, o.created_at)), '[]'::jsonb))
        into body
        from auth.users u
        left join public.profiles p on p.id = u.id
        left join public.chats c on c.id = o.chat_id
       where u.id = o.recipient_id;
      if body is null or body ->> 'to' is null or jsonb_array_length(body -> 'mentions') = 0 then
        update private.notification_outbox x set status = 'skipped', locked_until = null where x.id = o.id;
        continue;
      end if;
    else
      if n.id is null or n.read_at is not null then
        update private.notification_outbox x set status = 'skipped', locked_until = null where x.id = o.id;
        continue;
      end if;
      body := jsonb_build_object(
        'target', private.push_device_target(o.device_id),
        'notification', jsonb_build_object('id', n.id, 'kind', n.kind, 'chat_id', n.chat_id, 'message_id', n.message_id,
          'actor_id', n.actor_id, 'preview', n.preview, 'data', n.data, 'created_at', n.created_at),
        'chat_title', (select c.title from public.chats c where c.id = n.chat_id),
        'actor_name', (select coalesce(a.display_name, a.username) from public.profiles a where a.id = n.actor_id),
        'unread_count', coalesce((select k.unread from private.notification_counters k where k.user_id = n.recipient_id), 0));
    end if;
    delivery_id := o.id;
    channel := o.channel;
    attempt := o.attempts;
    payload := body;
    return next;
  end loop;
end
$$;
comment on function private.claim_deliveries(integer, integer) is
  'Leases due deliveries to one worker (for update skip locked) with what each needs; skips read ones.';
revoke all on function private.claim_deliveries(integer, integer) from public, anon, authenticated;
grant execute on function private.claim_deliveries(integer, integer) to service_role;

-- Records the outcome of one delivery: sent; retry (exponential backoff with jitter, or Retry-After when the service
-- gave one; dead after max_attempts); gone (the service said the target no longer exists: the device is removed,
-- with its queued deliveries); failed (permanent: dead). Returns the row's new status ('pruned' for gone).
create function private.settle_delivery(
  delivery_id bigint, outcome text, http_status integer default null, retry_after_seconds integer default null,
  error text default null
) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  o private.notification_outbox;
  cfg private.notification_delivery_settings;
  wait interval;
  device uuid;
begin
  select * into cfg from private.notification_delivery_settings where id;
  -- A prune deletes the device, and with it (cascade) its other deliveries: lock the device before the delivery,
  -- so two workers pruning one device queue on it instead of each holding a delivery the other's cascade needs
  -- (a deadlock seen with two deliveries to one dead FCM token).
  select x.device_id into device from private.notification_outbox x where x.id = delivery_id;
  if outcome = 'gone' and device is not null then
    perform 1 from public.push_devices d where d.id = device for update;
  end if;
  select * into o from private.notification_outbox x where x.id = delivery_id for update;
  if o.id is null then
    return null;
  end if;
  if outcome not in ('sent', 'retry', 'gone', 'failed') then
    raise exception 'unknown outcome' using errcode = '22023', hint = 'Use sent, retry, gone or failed.';
  end if;
  if outcome = 'sent' then
    update private.notification_outbox x set status = 'sent', sent_at = now(), locked_until = null,
           last_status = http_status, last_error = null
     where x.id = o.id;
    return 'sent';
  elsif outcome = 'gone' and o.device_id is not null then
    delete from public.push_devices d where d.id = o.device_id;
    return 'pruned';
  elsif outcome = 'retry' and o.attempts < cfg.max_attempts then
    wait := case when retry_after_seconds is not null and retry_after_seconds >= 0
                 then least(make_interval(secs => retry_after_seconds), interval '1 day')
                 else least(cfg.retry_max, cfg.retry_base * power(2, greatest(o.attempts - 1, 0)))
                      * (0.5 + random() * 0.5) end;
    update private.notification_outbox x set status = 'pending', next_attempt_at = now() + wait, locked_until = null,
           last_status = http_status, last_error = left(error, 500)
     where x.id = o.id;
    return 'pending';
  end if;
  update private.notification_outbox x set status = 'dead', locked_until = null, last_status = http_status,
         last_error = left(coalesce(error, 'gave up'), 500)
   where x.id = o.id;
  return 'dead';
end
$$;
comment on function private.settle_delivery(bigint, text, integer, integer, text) is
  'Records a delivery''s outcome: sent, retry (backoff with jitter or Retry-After; dead after max_attempts), gone (prune the device), failed.';
revoke all on function private.settle_delivery(bigint, text, integer, integer, text) from public, anon, authenticated;
grant execute on function private.settle_delivery(bigint, text, integer, integer, text) to service_role;

-- Operators: deliveries that gave up, newest first.
create view private.dead_deliveries with (security_invoker = true) as
  select o.id, o.recipient_id, o.channel, o.device_id, o.attempts, o.last_status, o.last_error, o.created_at
    from private.notification_outbox o where o.status = 'dead';
comment on view private.dead_deliveries is 'Deliveries that gave up after max_attempts or a permanent error (operators).';
revoke all on private.dead_deliveries from public, anon, authenticated;
grant select on private.dead_deliveries to service_role;
