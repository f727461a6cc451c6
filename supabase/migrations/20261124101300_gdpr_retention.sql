-- GDPR and retention: self-service data export, account erasure, disappearing messages and an app-wide retention.
-- * Export: the gdpr-export edge function makes a public.data_exports job row (its owner polls it under RLS), collects
--   everything about the user with private.export_user_data, packs it with the user's files into a tar.gz in the
--   private `exports` bucket and stores a signed URL on the row. Archives expire after
--   retention_settings.export_lifetime (the retention job removes them).
-- * Erasure: the delete-account edge function checks a recent sign-in (the access token's amr), then calls
--   private.erase_user (tombstones, ownership passed on, payloads purged), removes the user's Storage objects, deletes
--   the auth user through the Auth admin API, and private.finish_erasure removes what Auth leaves behind and writes an
--   audit entry without personal data. docs/privacy.md says what is kept and for how long.
-- * Retention: a chat's admins set a message TTL (disappearing messages); private.retention_settings.message_retention
--   is an app-wide ceiling. private.expire_messages (pg_cron, scheduled jobs migration) turns expired messages into
--   tombstones in batches, queues their files for removal and drops their stored broadcasts; clients get
--   message.deleted for each, as for any deletion.

-- ---------------------------------------------------------------------------------------------------------------
-- tables
-- ---------------------------------------------------------------------------------------------------------------
create table private.retention_settings (
  id boolean primary key default true,
  message_retention interval,
  batch_size integer not null default 500,
  export_lifetime interval not null default interval '7 days',
  signed_url_lifetime interval not null default interval '24 hours',
  reauthentication_window interval not null default interval '10 minutes',
  constraint retention_settings_single_row check (id),
  constraint retention_settings_ranges check (
    (message_retention is null or message_retention >= interval '1 minute')
    and batch_size between 1 and 10000
    and export_lifetime >= interval '1 hour' and signed_url_lifetime between interval '1 minute' and export_lifetime
    and reauthentication_window between interval '1 minute' and interval '1 day')
);
comment on table private.retention_settings is
  'One row: app-wide message retention (null keeps messages), expiry batch size, export lifetime, reauthentication window.';

insert into private.retention_settings default values;

create table public.chat_retention (
  chat_id uuid primary key references public.chats (id) on delete cascade,
  message_ttl interval not null,
  set_by uuid references public.profiles (id) on delete set null,
  updated_at timestamptz not null default now(),
  constraint chat_retention_ttl_range check (message_ttl between interval '1 minute' and interval '365 days')
);
comment on table public.chat_retention is
  'Disappearing messages: messages of the chat older than message_ttl become tombstones. Set with set_disappearing_messages.';

create table public.data_exports (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  status text not null default 'pending',
  progress integer not null default 0,
  phase text,
  object_path text,
  size_bytes bigint,
  file_count integer,
  message_count integer,
  download_url text,
  download_expires_at timestamptz,
  error text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  expires_at timestamptz,
  constraint data_exports_status check (status in ('pending', 'running', 'ready', 'failed', 'expired')),
  constraint data_exports_progress check (progress between 0 and 100)
);
comment on table public.data_exports is
  'Data export jobs (gdpr-export function). The owner polls status/progress and downloads through download_url.';
comment on column public.data_exports.download_url is 'Signed URL of the archive (tar.gz) in the private exports bucket, valid until download_expires_at.';

-- ---------------------------------------------------------------------------------------------------------------
-- indexes
-- ---------------------------------------------------------------------------------------------------------------
create index chat_retention_set_by_idx on public.chat_retention (set_by);
create index data_exports_user_idx on public.data_exports (user_id, created_at desc, id desc);
create unique index data_exports_one_active_key on public.data_exports (user_id) where status in ('pending', 'running');
create index data_exports_expiry_idx on public.data_exports (expires_at) where status = 'ready';

-- ---------------------------------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on private.retention_settings from public, anon, authenticated;
grant select, update on private.retention_settings to service_role;
revoke all on public.chat_retention, public.data_exports from anon, authenticated;
grant select on public.chat_retention, public.data_exports to authenticated;
grant all on public.chat_retention, public.data_exports to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- storage: the private bucket of export archives (written and signed by the service role only; no policies)
-- ---------------------------------------------------------------------------------------------------------------
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values ('exports', 'exports', false, 2147483648, array['application/gzip'])
on conflict (id) do nothing;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers
-- ---------------------------------------------------------------------------------------------------------------
create function private.retention_setting(name text) returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (select to_jsonb(s) ->> name from private.retention_settings s where s.id);
end
$$;
comment on function private.retention_setting(text) is 'One value of private.retention_settings, as text.';
revoke all on function private.retention_setting(text) from public, anon, authenticated;
grant execute on function private.retention_setting(text) to service_role;

-- Turns messages into tombstones as delete_message does (no body, metadata, mentions, reactions, edit history,
-- pin), deletes their attachments rows (the attachments migration queues the objects for attachments-cleanup) and
-- drops the stored broadcasts that name them. The deferred triggers of the messages migration emit message.deleted
-- for each. Returns how many messages changed.
create function private.tombstone_messages(ids uuid[]) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  changed integer;
begin
  if coalesce(cardinality(ids), 0) = 0 then
    return 0;
  end if;
  delete from public.message_reactions r where r.message_id = any (ids);
  delete from public.message_edits e where e.message_id = any (ids);
  delete from public.attachments a where a.message_id = any (ids);
  with gone as (
    update public.messages m
       set body = null, metadata = '{}'::jsonb, mentions = '{}', reaction_counts = '{}'::jsonb,
           deleted_at = coalesce(m.deleted_at, now()), pinned_at = null, pinned_by = null
     where m.id = any (ids)
       and (m.deleted_at is null or m.body is not null or m.metadata <> '{}'::jsonb)
    returning m.thread_root_id, (m.deleted_at = now()) as newly
  ), roots as (
    select g.thread_root_id, count(*) as n from gone g where g.thread_root_id is not null and g.newly group by 1
  ), counted as (
    update public.messages m set reply_count = greatest(m.reply_count - r.n, 0)
      from roots r where m.id = r.thread_root_id
    returning 1
  )
  select count(*) into changed from gone;
  -- Broadcast Replay hands out rows of the last 72 h: older partitions are dropped by Realtime and not searched.
  delete from realtime.messages rm
   where rm.inserted_at > now() - interval '72 hours'
     and rm.topic = any (select distinct 'chat:' || m.chat_id::text from public.messages m where m.id = any (ids))
     and rm.payload -> 'data' ->> 'message_id' = any (select i::text from unnest(ids) i);
  return changed;
end
$$;
comment on function private.tombstone_messages(uuid[]) is
  'Erases the content of messages (tombstones), their files and stored broadcasts; message.deleted follows.';
revoke all on function private.tombstone_messages(uuid[]) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- retention: disappearing messages and the app-wide ceiling (pg_cron, scheduled jobs migration)
-- ---------------------------------------------------------------------------------------------------------------
-- One batch: the oldest expired live messages (up to retention_settings.batch_size, or max_rows), chat by chat,
-- become tombstones; expired export archives are queued for removal. Returns the number of messages expired. When
-- files were queued, attachments-cleanup is woken to remove them now rather than at its hourly run.
create function private.expire_messages(max_rows integer default null) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  budget integer := coalesce(max_rows, private.retention_setting('batch_size')::integer);
  app_ttl interval := private.retention_setting('message_retention')::interval;
  c record;
  ids uuid[];
  total integer := 0;
begin
  -- Without an app-wide retention only the chats with a TTL are visited.
  for c in
    select r.chat_id as id, r.message_ttl as ttl from public.chat_retention r where app_ttl is null
    union all
    select ch.id, least(r.message_ttl, app_ttl) from public.chats ch left join public.chat_retention r on r.chat_id = ch.id
     where app_ttl is not null
  loop
    exit when budget <= 0;
    ids := array(select m.id from public.messages m
                  where m.chat_id = c.id and m.deleted_at is null and m.created_at < now() - c.ttl
                  order by m.created_at limit budget for update skip locked);
    if cardinality(ids) > 0 then
      total := total + private.tombstone_messages(ids);
      budget := budget - cardinality(ids);
    end if;
  end loop;

  -- Export archives past their lifetime: the row says expired, the object goes to the removal queue.
  with old as (
    update public.data_exports e set status = 'expired', download_url = null
     where e.status = 'ready' and e.expires_at < now()
    returning e.object_path
  )
  insert into private.storage_trash (bucket_id, name)
  select 'exports', o.object_path from old o where o.object_path is not null
  on conflict do nothing;

  if exists (select 1 from private.storage_trash t where t.queued_at = now()) then
    perform private.invoke_function('attachments-cleanup', '{}'::jsonb);
  end if;
  return total;
end
$$;
comment on function private.expire_messages(integer) is
  'Retention job: turns expired messages into tombstones in batches and queues expired export archives for removal.';
revoke all on function private.expire_messages(integer) from public, anon, authenticated;
grant execute on function private.expire_messages(integer) to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- export (gdpr-export edge function, service role)
-- ---------------------------------------------------------------------------------------------------------------
-- Everything the database holds about a user, as one JSON document. Device tokens are left out (they stay
-- encrypted in private.push_device_secrets); messages are the ones the user wrote, with the chat they are in.
create function private.export_user_data(target uuid) returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  u auth.users;
begin
  select * into u from auth.users where id = target;
  if u.id is null then
    raise exception 'user not found' using errcode = 'PT404', hint = 'The account may have been deleted.';
  end if;
  return jsonb_build_object(
    'format', 'supabase-chat-export/1',
    'generated_at', now(),
    'account', jsonb_build_object('id', u.id, 'email', u.email, 'phone', u.phone, 'created_at', u.created_at,
      'email_confirmed_at', u.email_confirmed_at, 'last_sign_in_at', u.last_sign_in_at,
      'user_metadata', u.raw_user_meta_data, 'app_metadata', u.raw_app_meta_data),
    'profile', (select to_jsonb(p) from public.profiles p where p.id = target),
    'notification_settings', (select to_jsonb(s) from public.notification_settings s where s.user_id = target),
    'blocks', coalesce((select jsonb_agg(to_jsonb(b) order by b.created_at) from public.user_blocks b where b.blocker_id = target), '[]'),
    'memberships', coalesce((select jsonb_agg(to_jsonb(m) || jsonb_build_object('chat_kind', c.kind, 'chat_title', c.title)
                                              order by m.joined_at)
                               from public.chat_members m join public.chats c on c.id = m.chat_id where m.user_id = target), '[]'),
    'chat_bans', coalesce((select jsonb_agg(to_jsonb(b)) from public.chat_bans b where b.user_id = target), '[]'),
    'invitations', coalesce((select jsonb_agg(to_jsonb(i) - 'token' order by i.created_at) from public.chat_invitations i
                              where i.invited_user_id = target or i.created_by = target), '[]'),
    'messages', coalesce((select jsonb_agg(jsonb_build_object('id', m.id, 'chat_id', m.chat_id, 'seq', m.seq, 'kind', m.kind,
                                             'body', m.body, 'metadata', m.metadata, 'reply_to_id', m.reply_to_id,
                                             'thread_root_id', m.thread_root_id, 'forwarded_from_message_id', m.forwarded_from_message_id,
                                             'mentions', m.mentions, 'created_at', m.created_at, 'edited_at', m.edited_at,
                                             'deleted_at', m.deleted_at) order by m.created_at, m.id)
                            from public.messages m where m.author_id = target), '[]'),
    'message_edits', coalesce((select jsonb_agg(to_jsonb(e) order by e.id) from public.message_edits e where e.edited_by = target), '[]'),
    'reactions', coalesce((select jsonb_agg(to_jsonb(r) order by r.created_at) from public.message_reactions r where r.user_id = target), '[]'),
    'notifications', coalesce((select jsonb_agg(to_jsonb(n) order by n.created_at) from public.notifications n where n.recipient_id = target), '[]'),
    'push_devices', coalesce((select jsonb_agg(to_jsonb(d) order by d.created_at) from public.push_devices d where d.user_id = target), '[]'),
    'attachments', coalesce((select jsonb_agg(to_jsonb(a) order by a.created_at) from public.attachments a where a.uploader_id = target), '[]'),
    'chat_retention_set', coalesce((select jsonb_agg(to_jsonb(r)) from public.chat_retention r where r.set_by = target), '[]'),
    'audit_log', coalesce((select jsonb_agg(to_jsonb(l) order by l.id) from public.audit_log l
                            where l.actor_id = target or l.target_id = target), '[]'),
    'data_exports', coalesce((select jsonb_agg(to_jsonb(e) - 'download_url' order by e.created_at) from public.data_exports e
                               where e.user_id = target), '[]'),
    'files', coalesce((select jsonb_agg(jsonb_build_object('bucket', o.bucket_id, 'name', o.name,
                                          'size', (o.metadata ->> 'size')::bigint, 'mimetype', o.metadata ->> 'mimetype',
                                          'created_at', o.created_at) order by o.bucket_id, o.name)
                         from storage.objects o where o.owner_id = target::text and o.bucket_id <> 'exports'), '[]')
  );
end
$$;
comment on function private.export_user_data(uuid) is 'gdpr-export: everything about a user as JSON (no device tokens).';
revoke all on function private.export_user_data(uuid) from public, anon, authenticated;
grant execute on function private.export_user_data(uuid) to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- erasure (delete-account edge function, service role)
-- ---------------------------------------------------------------------------------------------------------------
-- Removes a user's content and personal data from our tables before Auth deletes the account:
-- * the messages they wrote (and copies others forwarded) become tombstones, with their files and edit history;
-- * their reactions go (the counts of the messages are recomputed) and so do notifications they caused;
-- * memberships end: ownership passes to the highest-ranked, longest-standing member (chats migration), a group
--   left empty is deleted; direct chats stay with the other person;
-- * stored payloads naming them are purged: their stored broadcasts (realtime.messages), the user events that carry
--   their card (notification.created of others) and their profile card in the chat event log (participant.added
--   keeps the ids only);
-- * the profile is emptied at once; the row itself goes with the auth user.
-- Returns the counts, which the audit entry keeps (no personal data).
create function private.erase_user(target uuid) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  ids uuid[];
  messages_erased integer;
  reactions_removed integer;
  chats_left integer;
  touched uuid[];
begin
  if not exists (select 1 from auth.users u where u.id = target) then
    raise exception 'user not found' using errcode = 'PT404', hint = 'The account may have been deleted already.';
  end if;

  ids := array(select m.id from public.messages m
                where m.author_id = target or m.forwarded_from_author_id = target
                for update);
  messages_erased := private.tombstone_messages(ids);
  delete from public.message_edits e where e.edited_by = target;
  delete from public.attachments a where a.uploader_id = target;

  with gone as (delete from public.message_reactions r where r.user_id = target returning r.message_id)
  select array_agg(distinct g.message_id), count(*) into touched, reactions_removed from gone g;
  update public.messages m
     set reaction_counts = coalesce((select jsonb_object_agg(x.emoji, x.n)
                                       from (select r.emoji, count(*) as n from public.message_reactions r
                                              where r.message_id = m.id group by r.emoji) x), '{}'::jsonb)
   where m.id = any (coalesce(touched, '{}'));

  delete from public.notifications n where n.actor_id = target or n.recipient_id = target;
  delete from public.data_exports e where e.user_id = target;

  with gone as (delete from public.chat_members cm where cm.user_id = target returning 1)
  select count(*) into chats_left from gone;

  update private.chat_events e set payload = jsonb_set(e.payload, '{profile}', 'null'::jsonb)
   where e.payload ->> 'user_id' = target::text and e.payload ? 'profile';
  delete from realtime.messages rm where rm.payload::text like '%' || target::text || '%';
  -- their own event log, and the events of others that carry their card (notification.created names its actor)
  delete from private.user_events e
   where e.user_id = target or e.payload::text like '%' || target::text || '%';

  update public.profiles p
     set display_name = null, bio = null, status_text = null, avatar_path = null,
         username = 'deleted_' || substr(replace(target::text, '-', ''), 1, 24)
   where p.id = target;

  return jsonb_build_object('messages_erased', messages_erased, 'reactions_removed', reactions_removed,
                            'memberships_ended', chats_left);
end
$$;
comment on function private.erase_user(uuid) is
  'delete-account: tombstones the user''s messages, ends memberships, purges stored payloads, empties the profile.';
revoke all on function private.erase_user(uuid) from public, anon, authenticated;
grant execute on function private.erase_user(uuid) to service_role;

-- After Auth deleted the account: Auth's own audit rows about the user (they hold the email) are removed, stored
-- broadcasts that still name the user go, and the erasure is logged with counts only.
create function private.finish_erasure(target uuid, email text, counts jsonb) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from auth.users u where u.id = target) then
    raise exception 'the account still exists' using errcode = '55000',
      hint = 'Delete the auth user through the Auth admin API first.';
  end if;
  delete from auth.audit_log_entries a
   where a.payload::text like '%' || target::text || '%'
      or (nullif(email, '') is not null and a.payload::text ilike '%' || email || '%');
  delete from realtime.messages rm where rm.payload::text like '%' || target::text || '%';
  return private.audit('account.erased', details => coalesce(counts, '{}'::jsonb));
end
$$;
comment on function private.finish_erasure(uuid, text, jsonb) is
  'delete-account: removes Auth''s audit rows about a deleted user and logs the erasure without personal data.';
revoke all on function private.finish_erasure(uuid, text, jsonb) from public, anon, authenticated;
grant execute on function private.finish_erasure(uuid, text, jsonb) to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- row level security
-- ---------------------------------------------------------------------------------------------------------------
alter table private.retention_settings enable row level security;
alter table public.chat_retention enable row level security;
alter table public.data_exports enable row level security;

-- ---------------------------------------------------------------------------------------------------------------
-- policies
-- ---------------------------------------------------------------------------------------------------------------
create policy "members can read the message ttl of their chats"
  on public.chat_retention for select to authenticated
  using (exists (select 1 from public.chat_members m
                  where m.chat_id = chat_retention.chat_id and m.user_id = (select auth.uid())));

create policy "users can read their own data exports"
  on public.data_exports for select to authenticated
  using (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs
-- ---------------------------------------------------------------------------------------------------------------
create function public.set_disappearing_messages(chat_id uuid, ttl_seconds integer) returns public.chat_retention
language plpgsql
security definer
set search_path = ''
as $$
declare
  r public.chat_retention;
begin
  perform private.assert_can_write(); -- suspended users read but do not write (moderation migration)
  perform private.require_admin(set_disappearing_messages.chat_id);
  if ttl_seconds is not null and ttl_seconds not between 60 and 31536000 then
    raise exception 'ttl_seconds must be between 60 and 31536000' using errcode = '22023',
      hint = 'Pass a number of seconds from one minute to 365 days, or null to keep messages.';
  end if;
  if ttl_seconds is null then
    delete from public.chat_retention cr where cr.chat_id = set_disappearing_messages.chat_id returning * into r;
    r.chat_id := set_disappearing_messages.chat_id;
    r.message_ttl := null;
  else
    insert into public.chat_retention as cr (chat_id, message_ttl, set_by)
    values (set_disappearing_messages.chat_id, make_interval(secs => ttl_seconds), auth.uid())
    on conflict on constraint chat_retention_pkey do update
      set message_ttl = excluded.message_ttl, set_by = excluded.set_by, updated_at = now()
    returning * into r;
  end if;
  perform private.emit_chat_event(set_disappearing_messages.chat_id, 'chat.retention_updated',
    jsonb_build_object('message_ttl_seconds', ttl_seconds));
  return r;
end
$$;
comment on function public.set_disappearing_messages(uuid, integer) is
  'Admins: messages of the chat older than ttl_seconds disappear (tombstones); null turns it off.';
revoke all on function public.set_disappearing_messages(uuid, integer) from public, anon, authenticated;
grant execute on function public.set_disappearing_messages(uuid, integer) to authenticated, service_role;
