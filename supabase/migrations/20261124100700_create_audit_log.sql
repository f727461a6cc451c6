-- Audit log: every administrative and moderation action and security event, with actor, target, before/after and time.
-- * Rows are written only by private.audit() (server code, the RPCs and the triggers below); nobody writes them
--   through the API.
-- * Append-only: no role updates, deletes or truncates a row. UPDATE, DELETE and TRUNCATE are granted to no API role
--   (the service role included), and a trigger refuses them for everyone else, the table's owner included. For the
--   same reason the log has no foreign keys (a cascade would delete or rewrite history): chat_id, actor_id and
--   target_id keep the ids of rows that may be gone.
-- * Admins and owners of a chat read the rows about their chat (they moderate it); app moderators read every row;
--   the service role reads all (Studio, server jobs).
-- * What is audited here by triggers, whatever path did it: role changes, removals, bans and unbans, chat settings
--   changes, chat deletions, messages deleted by someone other than their author. The moderation RPCs
--   (20261124101100_create_moderation.sql) audit report decisions, suspensions, mutes, freezes and word-filter changes;
--   GDPR exports and erasures call private.audit() too.

-- ---------------------------------------------------------------------------------------------------------------
-- tables
-- ---------------------------------------------------------------------------------------------------------------
create table public.audit_log (
  id bigint generated always as identity primary key,
  action text not null,
  actor_id uuid,
  chat_id uuid,
  target_table text,
  target_id uuid,
  details jsonb not null default '{}'::jsonb,
  before jsonb,
  after jsonb,
  created_at timestamptz not null default now(),
  constraint audit_log_action_format check (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
  constraint audit_log_details_object check (jsonb_typeof(details) = 'object')
);
comment on table public.audit_log is
  'Append-only log of administrative, moderation and security events. Written by the server only; chat admins read '
  'the rows about their chat, app moderators all.';
comment on column public.audit_log.action is 'Dotted event name, e.g. member.banned, report.resolved, attachment.infected.';
comment on column public.audit_log.actor_id is 'The user who acted (null: the server), kept after the user is gone.';
comment on column public.audit_log.target_id is 'Id of the row in target_table the event is about.';
comment on column public.audit_log.before is 'The changed fields before the action (null when something was created).';
comment on column public.audit_log.after is 'The changed fields after the action (null when something was removed).';

-- ---------------------------------------------------------------------------------------------------------------
-- indexes
-- ---------------------------------------------------------------------------------------------------------------
create index audit_log_chat_idx on public.audit_log (chat_id, created_at desc) where chat_id is not null;
create index audit_log_actor_idx on public.audit_log (actor_id) where actor_id is not null;
create index audit_log_target_idx on public.audit_log (target_table, target_id);
create index audit_log_created_idx on public.audit_log (created_at desc, id desc);

-- ---------------------------------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on public.audit_log from anon, authenticated, service_role;
grant select on public.audit_log to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers
-- ---------------------------------------------------------------------------------------------------------------
-- Is the caller an app moderator? Read from auth.users (the source of the token's app_metadata), so a demotion
-- counts at once. Granted to authenticated: policies call it (here and in the moderation migration).
create function private.is_app_moderator() returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return coalesce((select u.raw_app_meta_data ->> 'app_role' = 'moderator' from auth.users u where u.id = auth.uid()), false);
end
$$;
comment on function private.is_app_moderator() is
  'Whether the caller''s auth app_metadata.app_role is moderator (set only with the service role).';
revoke all on function private.is_app_moderator() from public, anon, authenticated;
grant execute on function private.is_app_moderator() to authenticated, service_role;

-- The one writer of the log. before/after hold the changed fields (jsonb objects), details anything else.
create function private.audit(
  action text,
  chat_id uuid default null,
  actor_id uuid default null,
  target_table text default null,
  target_id uuid default null,
  details jsonb default '{}'::jsonb,
  before jsonb default null,
  after jsonb default null
) returns bigint
language sql
security definer
set search_path = ''
as $$
  insert into public.audit_log (action, chat_id, actor_id, target_table, target_id, details, before, after)
  values (audit.action, audit.chat_id, audit.actor_id, audit.target_table, audit.target_id,
          coalesce(audit.details, '{}'::jsonb), audit.before, audit.after)
  returning id
$$;
comment on function private.audit(text, uuid, uuid, text, uuid, jsonb, jsonb, jsonb) is
  'Appends a row to public.audit_log (action, chat, actor, target, details, before, after); server-side only.';
revoke all on function private.audit(text, uuid, uuid, text, uuid, jsonb, jsonb, jsonb) from public, anon, authenticated;
grant execute on function private.audit(text, uuid, uuid, text, uuid, jsonb, jsonb, jsonb) to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- triggers: append-only
-- ---------------------------------------------------------------------------------------------------------------
create function private.refuse_audit_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'the audit log is append-only' using errcode = '42501',
    hint = 'Audit entries are never changed or deleted.';
end
$$;
revoke all on function private.refuse_audit_change() from public, anon, authenticated;

create trigger audit_log_refuse_update_delete before update or delete on public.audit_log
  for each row execute function private.refuse_audit_change();

create trigger audit_log_refuse_truncate before truncate on public.audit_log
  for each statement execute function private.refuse_audit_change();

-- ---------------------------------------------------------------------------------------------------------------
-- triggers: administrative actions on chats, members and messages
-- ---------------------------------------------------------------------------------------------------------------
-- The actor is the signed-in caller (auth.uid()); changes the server makes on its own (null) are audited as such.
create function private.audit_member_role() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.audit('member.role_changed', new.chat_id, auth.uid(), 'profiles', new.user_id, '{}'::jsonb,
    jsonb_build_object('role', old.role), jsonb_build_object('role', new.role));
  return null;
end
$$;
revoke all on function private.audit_member_role() from public, anon, authenticated;

create trigger chat_members_audit_role after update of role on public.chat_members
  for each row when (old.role is distinct from new.role)
  execute function private.audit_member_role();

-- A member taken out by someone else (leaving is not an administrative act; a ban is audited as member.banned; a
-- chat's deletion as chat.deleted).
create function private.audit_member_removed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if auth.uid() is distinct from old.user_id
     and exists (select 1 from public.chats c where c.id = old.chat_id)
     and not exists (select 1 from public.chat_bans b where b.chat_id = old.chat_id and b.user_id = old.user_id) then
    perform private.audit('member.removed', old.chat_id, auth.uid(), 'profiles', old.user_id, '{}'::jsonb,
      jsonb_build_object('role', old.role), null);
  end if;
  return null;
end
$$;
revoke all on function private.audit_member_removed() from public, anon, authenticated;

create trigger chat_members_audit_removed after delete on public.chat_members
  for each row execute function private.audit_member_removed();

create function private.audit_ban() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform private.audit('member.banned', new.chat_id, auth.uid(), 'profiles', new.user_id,
      jsonb_build_object('reason', new.reason), null, jsonb_build_object('banned', true));
  elsif exists (select 1 from public.chats c where c.id = old.chat_id) then
    perform private.audit('member.unbanned', old.chat_id, auth.uid(), 'profiles', old.user_id, '{}'::jsonb,
      jsonb_build_object('banned', true, 'banned_by', old.banned_by), null);
  end if;
  return null;
end
$$;
revoke all on function private.audit_ban() from public, anon, authenticated;

create trigger chat_bans_audit after insert or delete on public.chat_bans
  for each row execute function private.audit_ban();

-- Settings: only the fields that changed, before and after.
create function private.audit_chat_settings() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  old_fields jsonb := jsonb_build_object('title', old.title, 'description', old.description, 'avatar_path', old.avatar_path,
    'who_can_post', old.who_can_post, 'slow_mode_seconds', old.slow_mode_seconds,
    'history_visible_to_new_members', old.history_visible_to_new_members, 'discoverable', old.discoverable,
    'everyone_mentions', old.everyone_mentions);
  new_fields jsonb := jsonb_build_object('title', new.title, 'description', new.description, 'avatar_path', new.avatar_path,
    'who_can_post', new.who_can_post, 'slow_mode_seconds', new.slow_mode_seconds,
    'history_visible_to_new_members', new.history_visible_to_new_members, 'discoverable', new.discoverable,
    'everyone_mentions', new.everyone_mentions);
  changed text[];
begin
  select coalesce(array_agg(k), '{}') into changed from jsonb_object_keys(new_fields) k
   where old_fields -> k is distinct from new_fields -> k;
  perform private.audit('chat.settings_changed', new.id, auth.uid(), 'chats', new.id, '{}'::jsonb,
    (select jsonb_object_agg(k, old_fields -> k) from unnest(changed) k),
    (select jsonb_object_agg(k, new_fields -> k) from unnest(changed) k));
  return null;
end
$$;
revoke all on function private.audit_chat_settings() from public, anon, authenticated;

create trigger chats_audit_settings after update on public.chats
  for each row
  when ((old.title, old.description, old.avatar_path, old.who_can_post, old.slow_mode_seconds,
         old.history_visible_to_new_members, old.discoverable, old.everyone_mentions)
        is distinct from (new.title, new.description, new.avatar_path, new.who_can_post, new.slow_mode_seconds,
         new.history_visible_to_new_members, new.discoverable, new.everyone_mentions))
  execute function private.audit_chat_settings();

create function private.audit_chat_deleted() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.kind <> 'direct' then
    perform private.audit('chat.deleted', old.id, auth.uid(), 'chats', old.id, '{}'::jsonb,
      jsonb_build_object('kind', old.kind, 'title', old.title, 'member_count', old.member_count), null);
  end if;
  return null;
end
$$;
revoke all on function private.audit_chat_deleted() from public, anon, authenticated;

create trigger chats_audit_deleted after delete on public.chats
  for each row execute function private.audit_chat_deleted();

-- A message deleted by someone other than its author (an admin, a moderator). The body is not kept.
create function private.audit_message_deleted() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.audit('message.deleted', new.chat_id, new.deleted_by, 'messages', new.id,
    jsonb_build_object('seq', new.seq, 'author_id', new.author_id), jsonb_build_object('deleted', false),
    jsonb_build_object('deleted', true));
  return null;
end
$$;
revoke all on function private.audit_message_deleted() from public, anon, authenticated;

create trigger messages_audit_deleted after update of deleted_at on public.messages
  for each row when (old.deleted_at is null and new.deleted_at is not null and new.deleted_by is distinct from new.author_id)
  execute function private.audit_message_deleted();

-- ---------------------------------------------------------------------------------------------------------------
-- row level security
-- ---------------------------------------------------------------------------------------------------------------
alter table public.audit_log enable row level security;

-- ---------------------------------------------------------------------------------------------------------------
-- policies
-- ---------------------------------------------------------------------------------------------------------------
create policy "chat admins and moderators can read the audit log"
  on public.audit_log for select to authenticated
  using ((select private.is_app_moderator())
         or exists (select 1 from public.chat_members m
                     where m.chat_id = audit_log.chat_id and m.user_id = (select auth.uid()) and m.role in ('owner', 'admin')));
