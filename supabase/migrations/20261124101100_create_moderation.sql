-- Moderation: reports, app moderators, suspensions, member mutes, frozen chats and word filters.
-- * Users report a message, a user or a chat (a reason from a fixed list, a note); one open report per reporter and
--   target. Chat admins see and decide reports about their chat; app moderators see and decide all of them.
-- * App moderators are users whose auth `app_metadata.app_role` is 'moderator'. app_metadata is writable only with
--   the service role (Auth's admin API; a user's own PUT /user with app_metadata is refused with not_admin). The
--   check reads auth.users, not the access token: a moderator who is demoted loses the role at once, not when their
--   token expires.
-- * A suspended user can read but not write: every write RPC calls private.assert_can_write() first.
-- * A muted member cannot send, forward, edit or react in that chat until the mute expires; a frozen chat is
--   read-only for its members (admins and owners may still write and unfreeze it); both are checked by
--   private.assert_can_post(), which the send, edit and reaction paths call.
-- * Word filters (per chat, by its admins; app-wide, by moderators) block or mask whole words, case- and
--   accent-insensitively, in message bodies (send and edit) and chat titles and descriptions.
-- Every decision is written to the audit log (20261124100700_create_audit_log.sql) through private.audit().

-- ---------------------------------------------------------------------------------------------------------------
-- extensions
-- ---------------------------------------------------------------------------------------------------------------
create extension if not exists unaccent with schema extensions;

-- ---------------------------------------------------------------------------------------------------------------
-- types
-- ---------------------------------------------------------------------------------------------------------------
create type public.report_target as enum ('message', 'user', 'chat');
comment on type public.report_target is 'What a report is about: a message, a user, or a chat.';

create type public.report_reason as enum (
  'spam', 'harassment', 'hate', 'violence', 'sexual', 'self_harm', 'illegal', 'impersonation', 'other'
);
comment on type public.report_reason is 'Why something was reported (the fixed list clients show).';

create type public.report_status as enum ('open', 'dismissed', 'actioned');

create type public.moderation_action as enum ('dismiss', 'delete_message', 'mute', 'remove', 'ban', 'freeze', 'suspend');
comment on type public.moderation_action is
  'A decision on a report: dismiss, delete the message, mute its author in the chat, remove or ban the author, freeze '
  'the chat, or suspend the user app-wide (moderators only).';

create type public.word_filter_action as enum ('block', 'mask');
comment on type public.word_filter_action is 'block: the text is refused; mask: the word is replaced by asterisks.';

-- ---------------------------------------------------------------------------------------------------------------
-- tables
-- ---------------------------------------------------------------------------------------------------------------
create table public.reports (
  id uuid primary key default gen_random_uuid(),
  reporter_id uuid not null references public.profiles (id) on delete cascade,
  target_kind public.report_target not null,
  chat_id uuid references public.chats (id) on delete cascade,
  message_id uuid references public.messages (id) on delete cascade,
  target_user_id uuid references public.profiles (id) on delete cascade,
  target_id uuid not null generated always as (
    case target_kind when 'message' then message_id when 'chat' then chat_id else target_user_id end) stored,
  reason public.report_reason not null,
  note text,
  status public.report_status not null default 'open',
  action public.moderation_action,
  resolved_by uuid references public.profiles (id) on delete set null,
  resolved_at timestamptz,
  resolution_note text,
  created_at timestamptz not null default now(),
  constraint reports_note_length check (char_length(note) <= 1000),
  constraint reports_resolution_note_length check (char_length(resolution_note) <= 1000),
  constraint reports_target_shape check (
    (target_kind = 'message' and message_id is not null and chat_id is not null)
    or (target_kind = 'chat' and chat_id is not null and message_id is null and target_user_id is null)
    or (target_kind = 'user' and target_user_id is not null and chat_id is null and message_id is null)),
  constraint reports_resolution check ((status = 'open') = (resolved_at is null))
);
comment on table public.reports is
  'Reports of messages, users and chats. The reporter reads their own; chat admins those about their chat; app '
  'moderators all. Written only through report_content and resolve_report.';
comment on column public.reports.target_user_id is 'The reported user, or the author of the reported message.';
comment on column public.reports.target_id is 'The id of what was reported (message, chat or user).';
comment on column public.reports.action is 'The decision, once resolved.';

create table public.user_suspensions (
  user_id uuid primary key references public.profiles (id) on delete cascade,
  suspended_by uuid references public.profiles (id) on delete set null,
  reason text,
  suspended_until timestamptz,
  created_at timestamptz not null default now(),
  constraint user_suspensions_reason_length check (char_length(reason) <= 500)
);
comment on table public.user_suspensions is
  'App-wide suspensions: the user can read but not write until suspended_until (null: until lifted).';

create table public.chat_mutes (
  chat_id uuid not null references public.chats (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  muted_until timestamptz not null,
  muted_by uuid references public.profiles (id) on delete set null,
  reason text,
  created_at timestamptz not null default now(),
  primary key (chat_id, user_id),
  constraint chat_mutes_reason_length check (char_length(reason) <= 500)
);
comment on table public.chat_mutes is
  'Members muted by a moderator or chat admin: they cannot send, edit or react in the chat until muted_until. '
  '(chat_members.muted_until is the member''s own notification mute.)';

create table public.chat_freezes (
  chat_id uuid primary key references public.chats (id) on delete cascade,
  frozen_by uuid references public.profiles (id) on delete set null,
  reason text,
  created_at timestamptz not null default now(),
  constraint chat_freezes_reason_length check (char_length(reason) <= 500)
);
comment on table public.chat_freezes is 'Frozen chats: read-only for members until an admin (or a moderator) unfreezes them.';

create table public.word_filters (
  id uuid primary key default gen_random_uuid(),
  chat_id uuid references public.chats (id) on delete cascade,
  word text not null,
  action public.word_filter_action not null default 'block',
  created_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  constraint word_filters_word_format check (word ~ '^[[:alnum:]_]{1,64}$')
);
comment on table public.word_filters is
  'Words blocked or masked in one chat (chat_id) or app-wide (chat_id null). word is stored lower-case, without accents.';

-- ---------------------------------------------------------------------------------------------------------------
-- indexes
-- ---------------------------------------------------------------------------------------------------------------
create unique index reports_one_open_idx on public.reports (reporter_id, target_kind, target_id) where status = 'open';
create index reports_chat_idx on public.reports (chat_id, created_at desc, id desc) where chat_id is not null;
create index reports_status_idx on public.reports (status, created_at desc, id desc);
create index reports_reporter_idx on public.reports (reporter_id, created_at desc, id desc);
create index reports_target_idx on public.reports (target_kind, target_id) where status = 'open';
create index reports_message_idx on public.reports (message_id) where message_id is not null;
create index reports_target_user_idx on public.reports (target_user_id) where target_user_id is not null;
create index reports_resolved_by_idx on public.reports (resolved_by) where resolved_by is not null;
create index user_suspensions_suspended_by_idx on public.user_suspensions (suspended_by);
create index user_suspensions_created_idx on public.user_suspensions (created_at desc, user_id);
create index chat_mutes_user_idx on public.chat_mutes (user_id);
create index chat_mutes_muted_by_idx on public.chat_mutes (muted_by);
create index chat_freezes_frozen_by_idx on public.chat_freezes (frozen_by);
create unique index word_filters_chat_word_idx on public.word_filters (chat_id, word) where chat_id is not null;
create unique index word_filters_app_word_idx on public.word_filters (word) where chat_id is null;
create index word_filters_created_by_idx on public.word_filters (created_by);
create index word_filters_list_idx on public.word_filters (chat_id, created_at desc, id desc);

-- ---------------------------------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on public.reports, public.user_suspensions, public.chat_mutes, public.chat_freezes, public.word_filters
  from anon, authenticated;
grant select on public.reports, public.user_suspensions, public.chat_mutes, public.chat_freezes, public.word_filters
  to authenticated;
grant all on public.reports, public.user_suspensions, public.chat_mutes, public.chat_freezes, public.word_filters
  to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers
-- ---------------------------------------------------------------------------------------------------------------
create function private.require_moderator() returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
begin
  if not private.is_app_moderator() then
    raise exception 'only app moderators can do this' using errcode = '42501',
      hint = 'Moderators have app_metadata.app_role = moderator, set with the service role.';
  end if;
  return me;
end
$$;
revoke all on function private.require_moderator() from public, anon, authenticated;

-- The one check of every write RPC: the signed-in caller, unless suspended (42501). Returns the caller's id.
create function private.assert_can_write(guest_may boolean default false) returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  -- Guests are refused too (require_user), except on the few writes a guest may make (join_chat of a channel).
  me uuid := case when guest_may then private.require_signed_in() else private.require_user() end;
  s public.user_suspensions;
begin
  select * into s from public.user_suspensions us where us.user_id = me;
  if s.user_id is not null and (s.suspended_until is null or s.suspended_until > now()) then
    raise exception 'your account is suspended' using errcode = '42501',
      hint = case when s.suspended_until is null then 'You can read but not write until a moderator lifts the suspension.'
                  else format('You can read but not write until %s.', to_char(s.suspended_until at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')) end;
  end if;
  return me;
end
$$;
comment on function private.assert_can_write(boolean) is
  'Guard of every write RPC: refuses a suspended caller and, unless guest_may, a guest (42501); returns the caller''s id.';
revoke all on function private.assert_can_write(boolean) from public, anon, authenticated;

-- May the caller write content in this chat? A frozen chat is read-only for plain members; a muted member waits.
create function private.assert_can_post(chat uuid, role public.chat_role default null) returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  until timestamptz;
  r public.chat_role := coalesce(role, private.chat_role_of(chat, auth.uid()));
begin
  if r = 'member' and exists (select 1 from public.chat_freezes f where f.chat_id = chat) then
    raise exception 'this chat is frozen' using errcode = '42501',
      hint = 'The chat is read-only until an admin unfreezes it.';
  end if;
  select mu.muted_until into until from public.chat_mutes mu where mu.chat_id = chat and mu.user_id = auth.uid();
  if until > now() then
    raise exception 'you are muted in this chat' using errcode = '42501',
      hint = format('You can write here again after %s.', to_char(until at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'));
  end if;
end
$$;
comment on function private.assert_can_post(uuid, public.chat_role) is
  'Refuses writes in a frozen chat (plain members) and by a member muted in the chat.';
revoke all on function private.assert_can_post(uuid, public.chat_role) from public, anon, authenticated;

-- The same rule as a yes/no, for typing (private.topic_write_extensions): a muted member, or a plain member of a
-- frozen chat, does not broadcast typing there.
create function private.may_post(chat uuid) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return not exists (select 1 from public.chat_mutes mu
                      where mu.chat_id = chat and mu.user_id = auth.uid() and mu.muted_until > now())
     and not (coalesce(private.chat_role_of(chat, auth.uid()), 'member') = 'member'
              and exists (select 1 from public.chat_freezes f where f.chat_id = chat));
end
$$;
comment on function private.may_post(uuid) is 'Whether the caller may write in the chat: not muted there, and not a plain member of a frozen chat.';
revoke all on function private.may_post(uuid) from public, anon, authenticated;

-- Lower case without accents: how filter words are stored and text is compared.
create function private.fold_word(value text) returns text
language sql
stable
set search_path = ''
as $$ select lower(extensions.unaccent('extensions.unaccent'::regdictionary, value)) $$;
revoke all on function private.fold_word(text) from public, anon, authenticated;

-- Applies the chat's and the app-wide word filters to a text: a blocked word refuses it (22023), a masked word is
-- replaced by asterisks. Whole words only (runs of letters, digits and _), compared case- and accent-insensitively.
-- The common cases cost one or two index probes: no filter at all, then the text folded once and its words looked
-- up together; only a text with a masked word is rebuilt word by word. Measured with 20 app-wide masked words
-- (bench preset quick, 1 client, compare.word_filters_vs_none): looking up every word on its own made a send
-- 1.47x slower at p50 (18.5 vs 12.5 ms); one lookup of the folded words 1.21x (15.5 vs 12.8 ms), p95 1.00x. Per
-- call (2,000 calls in SQL): 0.54 ms with the folding inside the lookup's query (evaluated again per filter row),
-- 0.11 ms with it in a variable.
create function private.filter_words(chat uuid, value text, what text) returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  result text;
  blocked boolean;
  masked boolean;
  words text[];
begin
  if value is null or not exists (
       select 1 from public.word_filters w where w.chat_id is null or w.chat_id = chat) then
    return value;
  end if;
  -- Folded once into a variable: inside the query the expression would be evaluated again for every filter row.
  words := regexp_split_to_array(private.fold_word(value), '[^[:alnum:]_]+');
  select bool_or(w.action = 'block'), bool_or(w.action = 'mask') into blocked, masked
    from public.word_filters w
   where (w.chat_id is null or w.chat_id = chat) and w.word = any (words);
  if blocked then
    raise exception '% contains a blocked word', what using errcode = '22023',
      hint = 'A word filter of this chat or of the app refuses a word in it; rephrase.';
  end if;
  if not coalesce(masked, false) then
    return value;
  end if;
  with tokens as (
    select t.part[1] as token, t.n from regexp_matches(value, '([[:alnum:]_]+|[^[:alnum:]_]+)', 'g') with ordinality t(part, n)
  ), judged as (
    select k.token, k.n,
           (select max(w.action::text) from public.word_filters w
             where (w.chat_id is null or w.chat_id = chat) and w.word = private.fold_word(k.token)) as verdict
      from tokens k
  )
  select bool_or(j.verdict = 'block'),
         string_agg(case when j.verdict = 'mask' then repeat('*', char_length(j.token)) else j.token end, '' order by j.n)
    into blocked, result
    from judged j;
  if blocked then
    raise exception '% contains a blocked word', what using errcode = '22023',
      hint = 'A word filter of this chat or of the app refuses a word in it; rephrase.';
  end if;
  return result;
end
$$;
comment on function private.filter_words(uuid, text, text) is
  'The word filters (chat and app-wide) on a text: raises 22023 for a blocked word, masks masked words.';
revoke all on function private.filter_words(uuid, text, text) from public, anon, authenticated;

-- The report as the caller may see it, locked; PT404 when it does not exist or is not theirs to decide.
create function private.report_for_decision(report uuid) returns public.reports
language plpgsql
security definer
set search_path = ''
as $$
declare
  r public.reports;
begin
  select * into r from public.reports x where x.id = report for update;
  if r.id is not null and not private.is_app_moderator() then
    if r.chat_id is null or coalesce(private.chat_role_of(r.chat_id, auth.uid()), 'member') = 'member' then
      r := null;
    end if;
  end if;
  if r.id is null then
    raise exception 'report not found' using errcode = 'PT404',
      hint = 'Chat admins decide reports about their chat; app moderators decide all reports.';
  end if;
  return r;
end
$$;
revoke all on function private.report_for_decision(uuid) from public, anon, authenticated;

-- Mutes a member (admins: only members they outrank; moderators: anyone). Shared by mute_chat_member and reports.
create function private.mute_member(chat uuid, member uuid, seconds integer, why text) returns public.chat_mutes
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := auth.uid();
  before_row public.chat_mutes;
  mu public.chat_mutes;
begin
  if seconds is null or seconds not between 60 and 2592000 then
    raise exception 'mute duration must be between 60 seconds and 30 days' using errcode = '22023',
      hint = 'Pass duration_seconds between 60 and 2592000.';
  end if;
  if private.is_app_moderator() then
    if private.chat_role_of(chat, member) is null then
      raise exception 'user is not a member of this chat' using errcode = 'PT404', hint = 'Check the user id.';
    end if;
  else
    perform private.assert_outranks(chat, member);
  end if;
  -- The chat row, before the mute row: a send of the member that checked before this mute waits for this lock and
  -- then sees moderation_seq moved and checks again (send_message), so none lands after the commit.
  update public.chats c set moderation_seq = c.moderation_seq + 1 where c.id = chat;
  select * into before_row from public.chat_mutes x where x.chat_id = chat and x.user_id = member;
  insert into public.chat_mutes (chat_id, user_id, muted_until, muted_by, reason)
  values (chat, member, now() + make_interval(secs => seconds), me, private.assert_text(why, 'reason', 500))
  on conflict (chat_id, user_id) do update
    set muted_until = excluded.muted_until, muted_by = excluded.muted_by, reason = excluded.reason, created_at = now()
  returning * into mu;
  perform private.audit('member.muted', chat, me, 'profiles', member,
    jsonb_build_object('reason', mu.reason), to_jsonb(before_row) - 'reason', to_jsonb(mu) - 'reason');
  perform private.emit_user_event(member, 'member.muted', jsonb_build_object('chat_id', chat, 'muted_until', mu.muted_until));
  return mu;
end
$$;
revoke all on function private.mute_member(uuid, uuid, integer, text) from public, anon, authenticated;

-- Freezes a chat (its admins, or a moderator). Shared by freeze_chat and reports.
create function private.freeze(chat uuid, why text) returns public.chat_freezes
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := auth.uid();
  f public.chat_freezes;
begin
  -- The chat row first, as in private.mute_member: a send that checked before the freeze checks again.
  update public.chats c set moderation_seq = c.moderation_seq + 1 where c.id = chat;
  if not found then
    raise exception 'chat not found' using errcode = 'PT404', hint = 'Check the chat id.';
  end if;
  insert into public.chat_freezes (chat_id, frozen_by, reason)
  values (chat, me, private.assert_text(why, 'reason', 500))
  on conflict (chat_id) do nothing
  returning * into f;
  if f.chat_id is null then
    select * into f from public.chat_freezes x where x.chat_id = chat;
    return f;
  end if;
  perform private.audit('chat.frozen', chat, me, 'chats', chat, jsonb_build_object('reason', f.reason),
    jsonb_build_object('frozen', false), jsonb_build_object('frozen', true));
  perform private.emit_chat_event(chat, 'chat.frozen', jsonb_build_object('frozen', true));
  return f;
end
$$;
revoke all on function private.freeze(uuid, text) from public, anon, authenticated;

-- Suspends a user app-wide (moderators). Shared by suspend_user and reports.
create function private.suspend(member uuid, seconds integer, why text) returns public.user_suspensions
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_moderator();
  before_row public.user_suspensions;
  s public.user_suspensions;
begin
  if member is null or not exists (select 1 from public.profiles p where p.id = member) then
    raise exception 'user not found' using errcode = 'PT404', hint = 'Check the user id.';
  end if;
  if member = me then
    raise exception 'you cannot do this to yourself' using errcode = '42501', hint = 'Ask another moderator.';
  end if;
  if exists (select 1 from auth.users u where u.id = member and u.raw_app_meta_data ->> 'app_role' = 'moderator') then
    raise exception 'moderators cannot be suspended' using errcode = '42501',
      hint = 'Remove the moderator role with the service role first.';
  end if;
  if seconds is not null and seconds not between 60 and 31536000 then
    raise exception 'suspension duration must be between 60 seconds and 365 days' using errcode = '22023',
      hint = 'Pass duration_seconds between 60 and 31536000, or leave it out to suspend until lifted.';
  end if;
  select * into before_row from public.user_suspensions x where x.user_id = member;
  insert into public.user_suspensions (user_id, suspended_by, reason, suspended_until)
  values (member, me, private.assert_text(why, 'reason', 500),
          case when seconds is not null then now() + make_interval(secs => seconds) end)
  on conflict (user_id) do update
    set suspended_by = excluded.suspended_by, reason = excluded.reason, suspended_until = excluded.suspended_until,
        created_at = now()
  returning * into s;
  perform private.audit('user.suspended', null, me, 'profiles', member, jsonb_build_object('reason', s.reason),
    to_jsonb(before_row) - 'reason', to_jsonb(s) - 'reason');
  perform private.emit_user_event(member, 'account.suspended',
    jsonb_build_object('suspended', true, 'suspended_until', s.suspended_until));
  return s;
end
$$;
revoke all on function private.suspend(uuid, integer, text) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- row level security
-- ---------------------------------------------------------------------------------------------------------------
alter table public.reports enable row level security;
alter table public.user_suspensions enable row level security;
alter table public.chat_mutes enable row level security;
alter table public.chat_freezes enable row level security;
alter table public.word_filters enable row level security;

-- ---------------------------------------------------------------------------------------------------------------
-- policies
-- ---------------------------------------------------------------------------------------------------------------
create policy "reporters, chat admins and moderators can read reports"
  on public.reports for select to authenticated
  using (reporter_id = (select auth.uid())
         or (select private.is_app_moderator())
         or (chat_id is not null and exists (
               select 1 from public.chat_members m
                where m.chat_id = reports.chat_id and m.user_id = (select auth.uid()) and m.role in ('owner', 'admin'))));

create policy "users and moderators can read suspensions"
  on public.user_suspensions for select to authenticated
  using (user_id = (select auth.uid()) or (select private.is_app_moderator()));

create policy "the muted user, chat admins and moderators can read mutes"
  on public.chat_mutes for select to authenticated
  using (user_id = (select auth.uid())
         or (select private.is_app_moderator())
         or exists (select 1 from public.chat_members m
                     where m.chat_id = chat_mutes.chat_id and m.user_id = (select auth.uid()) and m.role in ('owner', 'admin')));

create policy "members and moderators can read freezes"
  on public.chat_freezes for select to authenticated
  using ((select private.is_app_moderator())
         or exists (select 1 from public.chat_members m where m.chat_id = chat_freezes.chat_id and m.user_id = (select auth.uid())));

create policy "chat admins and moderators can read word filters"
  on public.word_filters for select to authenticated
  using ((select private.is_app_moderator())
         or (chat_id is not null and exists (
               select 1 from public.chat_members m
                where m.chat_id = word_filters.chat_id and m.user_id = (select auth.uid()) and m.role in ('owner', 'admin'))));

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs: reports
-- ---------------------------------------------------------------------------------------------------------------
create function public.report_content(
  target_kind public.report_target,
  target_id uuid,
  reason public.report_reason,
  note text default null
) returns public.reports
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  me uuid := private.assert_can_write();
  msg public.messages;
  c public.chats;
  r public.reports;
  clean_note text := private.assert_text(report_content.note, 'note', 1000);
begin
  if report_content.target_kind is null or report_content.target_id is null then
    raise exception 'target is required' using errcode = '22023', hint = 'Pass target_kind (message, user or chat) and target_id.';
  end if;
  if report_content.reason is null then
    raise exception 'reason is required' using errcode = '22023', hint = 'Pick a reason from public.report_reason.';
  end if;
  perform private.rate_limit('report', me); -- 20 an hour by default (limits and privacy migration)
  if report_content.target_kind = 'message' then
    -- A message the reporter can read: a member, within their visible history, not deleted.
    select m.* into msg from public.messages m
      join public.chat_members cm on cm.chat_id = m.chat_id and cm.user_id = me and m.seq > cm.history_from_seq
     where m.id = report_content.target_id and m.deleted_at is null;
    if msg.id is null then
      raise exception 'message not found' using errcode = 'PT404', hint = 'You can report messages you can read.';
    end if;
    if msg.author_id = me then
      raise exception 'you cannot report yourself' using errcode = '22023', hint = 'Delete the message instead.';
    end if;
    insert into public.reports (reporter_id, target_kind, chat_id, message_id, target_user_id, reason, note)
    values (me, 'message', msg.chat_id, msg.id, msg.author_id, report_content.reason, clean_note)
    on conflict (reporter_id, target_kind, target_id) where status = 'open' do nothing
    returning * into r;
  elsif report_content.target_kind = 'chat' then
    select * into c from public.chats x where x.id = report_content.target_id;
    if c.id is null or not (private.chat_role_of(c.id, me) is not null or (c.discoverable and c.kind <> 'direct')) then
      raise exception 'chat not found' using errcode = 'PT404', hint = 'You can report chats you are in or can discover.';
    end if;
    insert into public.reports (reporter_id, target_kind, chat_id, reason, note)
    values (me, 'chat', c.id, report_content.reason, clean_note)
    on conflict (reporter_id, target_kind, target_id) where status = 'open' do nothing
    returning * into r;
  else
    if report_content.target_id = me then
      raise exception 'you cannot report yourself' using errcode = '22023', hint = 'Report another user.';
    end if;
    if not exists (select 1 from public.profiles p where p.id = report_content.target_id) then
      raise exception 'user not found' using errcode = 'PT404', hint = 'Check the user id.';
    end if;
    insert into public.reports (reporter_id, target_kind, target_user_id, reason, note)
    values (me, 'user', report_content.target_id, report_content.reason, clean_note)
    on conflict (reporter_id, target_kind, target_id) where status = 'open' do nothing
    returning * into r;
  end if;
  if r.id is null then
    raise exception 'you already reported this' using errcode = '23505',
      hint = 'Your earlier report is still open; you are told when it is decided.';
  end if;
  return r;
end
$$;
comment on function public.report_content(public.report_target, uuid, public.report_reason, text) is
  'Reports a message you can read, a user, or a chat you are in or can discover. One open report per target.';
revoke all on function public.report_content(public.report_target, uuid, public.report_reason, text) from public, anon, authenticated;
grant execute on function public.report_content(public.report_target, uuid, public.report_reason, text) to authenticated, service_role;

create function public.resolve_report(
  report_id uuid,
  action public.moderation_action,
  note text default null,
  duration_seconds integer default null
) returns public.reports
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.assert_can_write();
  r public.reports;
  moderator boolean := private.is_app_moderator();
  clean_note text := private.assert_text(resolve_report.note, 'note', 1000);
  decided public.reports;
begin
  if resolve_report.action is null then
    raise exception 'action is required' using errcode = '22023', hint = 'Pick an action from public.moderation_action.';
  end if;
  r := private.report_for_decision(resolve_report.report_id);
  if r.status <> 'open' then
    raise exception 'report is already decided' using errcode = '22023', hint = format('It was %s.', r.status);
  end if;
  if resolve_report.action in ('delete_message', 'mute', 'remove', 'ban') and r.target_kind <> 'message' then
    raise exception 'this action needs a reported message' using errcode = '22023',
      hint = 'Delete, mute, remove and ban act on the author of a reported message.';
  end if;
  if resolve_report.action = 'freeze' and r.chat_id is null then
    raise exception 'this action needs a chat' using errcode = '22023', hint = 'Freeze decides reports of messages and chats.';
  end if;
  if resolve_report.action = 'suspend' and (r.target_user_id is null or not moderator) then
    raise exception 'only app moderators can suspend users' using errcode = '42501',
      hint = 'Suspension decides reports of users and messages, by app moderators.';
  end if;
  if resolve_report.action in ('mute', 'remove', 'ban') and r.target_user_id is null then
    raise exception 'the author is gone' using errcode = '22023', hint = 'Dismiss the report or delete the message.';
  end if;

  case resolve_report.action
    when 'dismiss' then null;
    when 'delete_message' then
      if moderator and private.chat_role_of(r.chat_id, me) is null then
        perform private.moderator_delete_message(r.message_id);
      else
        perform public.delete_message(r.message_id);
      end if;
    when 'mute' then
      perform private.mute_member(r.chat_id, r.target_user_id, resolve_report.duration_seconds, clean_note);
    when 'remove' then
      if moderator then
        if private.role_rank(coalesce(private.chat_role_of(r.chat_id, r.target_user_id), 'member')) > 0 then
          perform private.remove_member(r.chat_id, r.target_user_id);
        end if;
      else
        perform public.remove_chat_member(r.chat_id, r.target_user_id);
      end if;
    when 'ban' then
      if moderator then
        insert into public.chat_bans (chat_id, user_id, banned_by, reason)
        values (r.chat_id, r.target_user_id, me, clean_note)
        on conflict on constraint chat_bans_pkey do nothing;
        perform private.remove_member(r.chat_id, r.target_user_id);
      else
        perform public.ban_chat_member(r.chat_id, r.target_user_id, clean_note);
      end if;
    when 'freeze' then
      if not moderator then
        perform private.require_admin(r.chat_id);
      end if;
      perform private.freeze(r.chat_id, clean_note);
    when 'suspend' then
      perform private.suspend(r.target_user_id, resolve_report.duration_seconds, clean_note);
  end case;

  -- Every open report of the same target is decided with it; each reporter is told.
  for decided in
    update public.reports x
       set status = case when resolve_report.action = 'dismiss' then 'dismissed' else 'actioned' end::public.report_status,
           action = resolve_report.action, resolved_by = me, resolved_at = now(), resolution_note = clean_note
     where x.status = 'open' and x.target_kind = r.target_kind and x.target_id = r.target_id
    returning x.*
  loop
    perform private.audit('report.resolved', decided.chat_id, me, 'reports', decided.id,
      jsonb_build_object('target_kind', decided.target_kind, 'target_id', decided.target_id, 'reason', decided.reason),
      jsonb_build_object('status', 'open'), jsonb_build_object('status', decided.status, 'action', decided.action));
    perform private.notify_system(decided.reporter_id,
      case when decided.status = 'dismissed' then 'Your report was reviewed: no action was taken'
           else 'Your report was reviewed: action was taken' end,
      null, decided.chat_id,
      jsonb_build_object('category', 'moderation', 'report_id', decided.id, 'status', decided.status, 'action', decided.action));
    perform private.emit_user_event(decided.reporter_id, 'report.resolved',
      jsonb_build_object('report_id', decided.id, 'status', decided.status, 'action', decided.action));
  end loop;
  select * into r from public.reports x where x.id = resolve_report.report_id;
  return r;
end
$$;
comment on function public.resolve_report(uuid, public.moderation_action, text, integer) is
  'Decides an open report (chat admins: reports about their chat; moderators: all) with one action; every open report '
  'of the same target is decided with it and each reporter is told. duration_seconds: for mute (required) and suspend.';
revoke all on function public.resolve_report(uuid, public.moderation_action, text, integer) from public, anon, authenticated;
grant execute on function public.resolve_report(uuid, public.moderation_action, text, integer) to authenticated, service_role;

-- A moderator who is not in the chat deletes a reported message: the tombstone delete_message leaves.
create function private.moderator_delete_message(message uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  msg public.messages;
begin
  select * into msg from public.messages m where m.id = message for update;
  if msg.id is null or msg.deleted_at is not null then
    return;
  end if;
  delete from public.message_reactions r where r.message_id = msg.id;
  delete from public.message_edits e where e.message_id = msg.id;
  update public.messages m
     set body = null, metadata = '{}'::jsonb, mentions = '{}', reaction_counts = '{}'::jsonb,
         deleted_at = now(), deleted_by = auth.uid(), pinned_at = null, pinned_by = null
   where m.id = msg.id;
  if msg.thread_root_id is not null then
    update public.messages m set reply_count = greatest(m.reply_count - 1, 0) where m.id = msg.thread_root_id;
  end if;
end
$$;
revoke all on function private.moderator_delete_message(uuid) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs: mutes, freezes, suspensions
-- ---------------------------------------------------------------------------------------------------------------
create function public.mute_chat_member(chat_id uuid, user_id uuid, duration_seconds integer, reason text default null)
returns public.chat_mutes
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.assert_can_write();
  if not private.is_app_moderator() then
    perform private.require_admin(mute_chat_member.chat_id);
  end if;
  return private.mute_member(mute_chat_member.chat_id, mute_chat_member.user_id, mute_chat_member.duration_seconds,
                             mute_chat_member.reason);
end
$$;
comment on function public.mute_chat_member(uuid, uuid, integer, text) is
  'Mutes a member in a chat for 60 s to 30 days (admins: members they outrank; moderators: anyone). Again: extends.';
revoke all on function public.mute_chat_member(uuid, uuid, integer, text) from public, anon, authenticated;
grant execute on function public.mute_chat_member(uuid, uuid, integer, text) to authenticated, service_role;

create function public.unmute_chat_member(chat_id uuid, user_id uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.assert_can_write();
  mu public.chat_mutes;
begin
  if not private.is_app_moderator() then
    perform private.require_admin(unmute_chat_member.chat_id);
  end if;
  delete from public.chat_mutes x where x.chat_id = unmute_chat_member.chat_id and x.user_id = unmute_chat_member.user_id
  returning * into mu;
  if mu.chat_id is null then
    return false;
  end if;
  perform private.audit('member.unmuted', mu.chat_id, me, 'profiles', mu.user_id, '{}'::jsonb,
    to_jsonb(mu) - 'reason', null);
  perform private.emit_user_event(mu.user_id, 'member.muted', jsonb_build_object('chat_id', mu.chat_id, 'muted_until', null));
  return true;
end
$$;
comment on function public.unmute_chat_member(uuid, uuid) is 'Lifts a mute (admins, moderators). Returns whether there was one.';
revoke all on function public.unmute_chat_member(uuid, uuid) from public, anon, authenticated;
grant execute on function public.unmute_chat_member(uuid, uuid) to authenticated, service_role;

create function public.freeze_chat(chat_id uuid, reason text default null) returns public.chat_freezes
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.assert_can_write();
  if not private.is_app_moderator() then
    perform private.require_member(freeze_chat.chat_id);
    if (select c.kind from public.chats c where c.id = freeze_chat.chat_id) = 'direct' then
      raise exception 'direct chats are frozen by moderators' using errcode = '22023', hint = 'Block or report the user instead.';
    end if;
    perform private.require_admin(freeze_chat.chat_id);
  end if;
  return private.freeze(freeze_chat.chat_id, freeze_chat.reason);
end
$$;
comment on function public.freeze_chat(uuid, text) is
  'Makes a chat read-only for its members (admins of a group or channel; moderators: any chat). Idempotent.';
revoke all on function public.freeze_chat(uuid, text) from public, anon, authenticated;
grant execute on function public.freeze_chat(uuid, text) to authenticated, service_role;

create function public.unfreeze_chat(chat_id uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.assert_can_write();
  f public.chat_freezes;
begin
  if not private.is_app_moderator() then
    perform private.require_admin(unfreeze_chat.chat_id);
  end if;
  delete from public.chat_freezes x where x.chat_id = unfreeze_chat.chat_id returning * into f;
  if f.chat_id is null then
    return false;
  end if;
  perform private.audit('chat.unfrozen', f.chat_id, me, 'chats', f.chat_id, '{}'::jsonb,
    jsonb_build_object('frozen', true, 'frozen_by', f.frozen_by), jsonb_build_object('frozen', false));
  perform private.emit_chat_event(f.chat_id, 'chat.frozen', jsonb_build_object('frozen', false));
  return true;
end
$$;
comment on function public.unfreeze_chat(uuid) is 'Makes a frozen chat writable again (its admins, moderators).';
revoke all on function public.unfreeze_chat(uuid) from public, anon, authenticated;
grant execute on function public.unfreeze_chat(uuid) to authenticated, service_role;

create function public.suspend_user(user_id uuid, duration_seconds integer default null, reason text default null)
returns public.user_suspensions
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.assert_can_write();
  return private.suspend(suspend_user.user_id, suspend_user.duration_seconds, suspend_user.reason);
end
$$;
comment on function public.suspend_user(uuid, integer, text) is
  'Suspends a user app-wide (moderators): they can read but not write, for duration_seconds or until lifted.';
revoke all on function public.suspend_user(uuid, integer, text) from public, anon, authenticated;
grant execute on function public.suspend_user(uuid, integer, text) to authenticated, service_role;

create function public.unsuspend_user(user_id uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.assert_can_write();
  s public.user_suspensions;
begin
  perform private.require_moderator();
  delete from public.user_suspensions x where x.user_id = unsuspend_user.user_id returning * into s;
  if s.user_id is null then
    return false;
  end if;
  perform private.audit('user.unsuspended', null, me, 'profiles', s.user_id, '{}'::jsonb, to_jsonb(s) - 'reason', null);
  perform private.emit_user_event(s.user_id, 'account.suspended', jsonb_build_object('suspended', false, 'suspended_until', null));
  return true;
end
$$;
comment on function public.unsuspend_user(uuid) is 'Lifts a suspension (moderators). Returns whether there was one.';
revoke all on function public.unsuspend_user(uuid) from public, anon, authenticated;
grant execute on function public.unsuspend_user(uuid) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs: word filters
-- ---------------------------------------------------------------------------------------------------------------
create function public.add_word_filter(word text, action public.word_filter_action default 'block', chat_id uuid default null)
returns public.word_filters
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  me uuid := private.assert_can_write();
  w text := private.fold_word(btrim(add_word_filter.word));
  f public.word_filters;
begin
  if add_word_filter.chat_id is null then
    perform private.require_moderator();
  elsif not private.is_app_moderator() then
    perform private.require_admin(add_word_filter.chat_id);
  end if;
  if w is null or w !~ '^[[:alnum:]_]{1,64}$' then
    raise exception 'invalid filter word' using errcode = '22023',
      hint = 'One word of letters, digits or _ (at most 64 characters, no spaces).';
  end if;
  if add_word_filter.chat_id is not null and not exists (select 1 from public.chats c where c.id = add_word_filter.chat_id) then
    raise exception 'chat not found' using errcode = 'PT404', hint = 'Check the chat id.';
  end if;
  if add_word_filter.chat_id is null then
    insert into public.word_filters (chat_id, word, action, created_by)
    values (null, w, coalesce(add_word_filter.action, 'block'), me)
    on conflict (word) where chat_id is null do update set action = excluded.action
    returning * into f;
  else
    insert into public.word_filters (chat_id, word, action, created_by)
    values (add_word_filter.chat_id, w, coalesce(add_word_filter.action, 'block'), me)
    on conflict (chat_id, word) where chat_id is not null do update set action = excluded.action
    returning * into f;
  end if;
  perform private.audit('word_filter.added', f.chat_id, me, 'word_filters', f.id, '{}'::jsonb, null, to_jsonb(f));
  return f;
end
$$;
comment on function public.add_word_filter(text, public.word_filter_action, uuid) is
  'Adds (or changes the action of) a filtered word: for one chat (its admins) or app-wide (chat_id null; moderators).';
revoke all on function public.add_word_filter(text, public.word_filter_action, uuid) from public, anon, authenticated;
grant execute on function public.add_word_filter(text, public.word_filter_action, uuid) to authenticated, service_role;

create function public.remove_word_filter(filter_id uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.assert_can_write();
  f public.word_filters;
begin
  select * into f from public.word_filters x where x.id = remove_word_filter.filter_id;
  if f.id is null or not (private.is_app_moderator()
                          or (f.chat_id is not null and private.role_rank(private.chat_role_of(f.chat_id, me)) >= 2)) then
    raise exception 'word filter not found' using errcode = 'PT404',
      hint = 'Chat admins remove their chat''s filters; moderators remove any.';
  end if;
  delete from public.word_filters x where x.id = f.id;
  perform private.audit('word_filter.removed', f.chat_id, me, 'word_filters', f.id, '{}'::jsonb, to_jsonb(f), null);
  return true;
end
$$;
comment on function public.remove_word_filter(uuid) is 'Removes a filtered word (its chat''s admins, moderators).';
revoke all on function public.remove_word_filter(uuid) from public, anon, authenticated;
grant execute on function public.remove_word_filter(uuid) to authenticated, service_role;
