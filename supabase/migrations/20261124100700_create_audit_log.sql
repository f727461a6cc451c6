-- Audit log: security-relevant events (an infected upload, and later moderation actions) with who, what and where.
-- * Rows are written only by private.audit() from server-side code; nobody writes them through the API.
-- * Admins and owners of a chat read the rows about their chat (they moderate it); rows without a chat are read by
--   the service role only (Studio, server jobs).

-- ---------------------------------------------------------------------------------------------------------------
-- tables
-- ---------------------------------------------------------------------------------------------------------------
create table public.audit_log (
  id bigint generated always as identity primary key,
  action text not null,
  actor_id uuid references public.profiles (id) on delete set null,
  chat_id uuid references public.chats (id) on delete cascade,
  target_table text,
  target_id uuid,
  details jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint audit_log_action_format check (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
  constraint audit_log_details_object check (jsonb_typeof(details) = 'object')
);
comment on table public.audit_log is
  'Security events (e.g. attachment.infected). Written by the server only; chat admins read the rows about their chat.';
comment on column public.audit_log.action is 'Dotted event name, e.g. attachment.infected.';
comment on column public.audit_log.actor_id is 'The user whose action caused the event (e.g. the uploader), if any.';
comment on column public.audit_log.target_id is 'Id of the row in target_table the event is about.';

-- ---------------------------------------------------------------------------------------------------------------
-- indexes
-- ---------------------------------------------------------------------------------------------------------------
create index audit_log_chat_idx on public.audit_log (chat_id, created_at desc) where chat_id is not null;
create index audit_log_actor_idx on public.audit_log (actor_id) where actor_id is not null;
create index audit_log_target_idx on public.audit_log (target_table, target_id);

-- ---------------------------------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on public.audit_log from anon, authenticated;
grant select on public.audit_log to authenticated;
grant all on public.audit_log to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers
-- ---------------------------------------------------------------------------------------------------------------
create function private.audit(
  action text,
  chat_id uuid default null,
  actor_id uuid default null,
  target_table text default null,
  target_id uuid default null,
  details jsonb default '{}'::jsonb
) returns bigint
language sql
security definer
set search_path = ''
as $$
  insert into public.audit_log (action, chat_id, actor_id, target_table, target_id, details)
  values (audit.action, audit.chat_id, audit.actor_id, audit.target_table, audit.target_id, coalesce(audit.details, '{}'::jsonb))
  returning id
$$;
comment on function private.audit(text, uuid, uuid, text, uuid, jsonb) is 'Appends a row to public.audit_log; server-side only.';
revoke all on function private.audit(text, uuid, uuid, text, uuid, jsonb) from public, anon, authenticated;
grant execute on function private.audit(text, uuid, uuid, text, uuid, jsonb) to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- row level security
-- ---------------------------------------------------------------------------------------------------------------
alter table public.audit_log enable row level security;

-- ---------------------------------------------------------------------------------------------------------------
-- policies
-- ---------------------------------------------------------------------------------------------------------------
create policy "chat admins can read the audit log of their chats"
  on public.audit_log for select to authenticated
  using (exists (select 1 from public.chat_members m
                  where m.chat_id = audit_log.chat_id and m.user_id = (select auth.uid()) and m.role in ('owner', 'admin')));
