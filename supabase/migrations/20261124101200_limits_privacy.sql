-- Rate limits and quotas on every write path, and privacy settings.
-- * One table of limits (private.rate_limits: action, max_count per window_seconds) that an operator edits in the SQL
--   editor or Studio (docs/operations.md), one counter row per user and action (private.rate_counters), and one
--   helper, private.rate_limit('<action>', actor, amount), that every write path calls: one primary-key read of the
--   limit and one upsert of the counter, no scans. Over the limit it raises PT429 with {"retry_after_seconds": n} in
--   the detail, as sending always did (the send rate is now the 'send' row of the table).
-- * Adding people who share no chat with the adder ("strangers") has its own daily cap, counted per person added, so
--   a burst of groups full of strangers is refused however it is split into calls.
-- * Privacy settings (public.privacy_settings, changed with update_privacy_settings): who may message me directly,
--   who may add me to groups (anyone else's add becomes an invitation) and who sees my online status and last seen.
--   Each choice is everyone, contacts (people I share a chat with) or nobody, enforced in the RPCs, the profile reads
--   (the profiles_shown_presence trigger, get_presence) and the status:<id> topic.
-- * The block gaps: in a direct chat a block stops edits, reactions, pins and typing both ways; a user blocked by an
--   owner or admin of a chat cannot join it on their own (link, discovery, invitation). The checks are helpers here,
--   called from the functions they guard in the chats, invitations, messages and realtime migrations.

-- ---------------------------------------------------------------------------------------------------------------
-- types
-- ---------------------------------------------------------------------------------------------------------------
create type public.privacy_audience as enum ('everyone', 'contacts', 'nobody');
comment on type public.privacy_audience is
  'Who a privacy setting lets in: everyone, contacts (users who share a chat with me) or nobody.';

-- ---------------------------------------------------------------------------------------------------------------
-- tables
-- ---------------------------------------------------------------------------------------------------------------
create table private.rate_limits (
  action text primary key,
  max_count bigint not null,
  window_seconds integer not null,
  unit text not null,
  refusal text not null,
  description text not null,
  constraint rate_limits_action_format check (action ~ '^[a-z_]{1,40}$'),
  constraint rate_limits_max_count check (max_count >= 0),
  constraint rate_limits_window check (window_seconds between 1 and 2678400)
);
comment on table private.rate_limits is
  'Rate limits and quotas per user: at most max_count (of unit) per window_seconds for each action. Operators may '
  'change max_count and window_seconds at any time (docs/operations.md); a change applies to the next call.';
comment on column private.rate_limits.refusal is 'The error message of the PT429 refusal.';

create table private.rate_counters (
  user_id uuid not null references auth.users (id) on delete cascade,
  action text not null references private.rate_limits (action) on delete cascade on update cascade,
  window_started_at timestamptz not null,
  used bigint not null,
  primary key (user_id, action)
);
comment on table private.rate_counters is 'Per user and action: what was used in the current fixed window.';

create table public.privacy_settings (
  user_id uuid primary key references public.profiles (id) on delete cascade,
  who_can_message public.privacy_audience not null default 'everyone',
  who_can_add public.privacy_audience not null default 'everyone',
  who_can_see_presence public.privacy_audience not null default 'everyone',
  updated_at timestamptz not null default now()
);
comment on table public.privacy_settings is
  'A user''s privacy choices (a missing row means everyone for all three); changed with update_privacy_settings.';
comment on column public.privacy_settings.who_can_message is
  'Who may open a direct chat with me (contacts: users who share a chat with me); nobody also stops messages in '
  'existing direct chats.';
comment on column public.privacy_settings.who_can_add is
  'Who may add me to a group or channel; an add by anyone else becomes an invitation I can accept or decline.';
comment on column public.privacy_settings.who_can_see_presence is
  'Who sees my online status and last seen (profiles.status and last_seen_at, the status:<id> topic); others see '
  'offline and no last seen.';

-- ---------------------------------------------------------------------------------------------------------------
-- defaults: the limits (operators change them with update, docs/operations.md)
-- ---------------------------------------------------------------------------------------------------------------
insert into private.rate_limits (action, max_count, window_seconds, unit, refusal, description) values
  ('send', 30, 10, 'messages', 'sending too fast', 'send_message and forward_message, across all chats'),
  ('edit', 20, 60, 'edits', 'editing too fast', 'edit_message'),
  ('reaction', 30, 10, 'reactions', 'reacting too fast', 'toggle_reaction (adding and removing)'),
  ('chat_create', 30, 3600, 'chats', 'creating chats too fast',
   'create_group_chat, create_channel and create_direct_chat when it opens a new chat'),
  ('member_add', 1000, 3600, 'members', 'adding members too fast',
   'every user added to a group or channel by someone else (create_group_chat, add_chat_members)'),
  ('invite', 100, 3600, 'invitations', 'inviting too fast',
   'invite_user, and adds that become invitations because of the invited user''s privacy settings'),
  ('stranger_add', 200, 86400, 'strangers', 'too many strangers added today',
   'adds and invitations of users who share no chat with the adder'),
  ('invite_link', 20, 3600, 'invite links', 'creating invite links too fast', 'create_invite_link'),
  ('report', 20, 3600, 'reports', 'reporting too fast', 'reports of messages, users and chats'),
  ('upload', 200, 86400, 'uploads', 'upload quota reached', 'files written to the attachments bucket'),
  ('upload_bytes', 1073741824, 86400, 'bytes', 'upload quota reached', 'bytes written to the attachments bucket');

-- ---------------------------------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on private.rate_limits, private.rate_counters from public, anon, authenticated;
revoke all on public.privacy_settings from anon, authenticated;
grant select on public.privacy_settings to authenticated;
grant all on public.privacy_settings to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- triggers
-- ---------------------------------------------------------------------------------------------------------------
create trigger privacy_settings_touch_updated_at before update on public.privacy_settings
  for each row execute function private.touch_updated_at();

-- profiles.status and last_seen_at are what everyone reads: for a user whose who_can_see_presence is contacts or
-- nobody they always say offline and nothing (after the presence writers: BEFORE triggers run in name order, and
-- profiles_route_status_choice comes first). The people the choice lets in read the real presence with get_presence.
create function private.mask_presence() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from public.privacy_settings ps where ps.user_id = new.id and ps.who_can_see_presence <> 'everyone') then
    new.status := 'offline';
    new.last_seen_at := null;
  end if;
  return new;
end
$$;
revoke all on function private.mask_presence() from public, anon, authenticated;

create trigger profiles_shown_presence before update of status, last_seen_at on public.profiles
  for each row execute function private.mask_presence();

-- ---------------------------------------------------------------------------------------------------------------
-- row level security
-- ---------------------------------------------------------------------------------------------------------------
alter table private.rate_limits enable row level security;
alter table private.rate_counters enable row level security;
alter table public.privacy_settings enable row level security;

-- ---------------------------------------------------------------------------------------------------------------
-- policies
-- ---------------------------------------------------------------------------------------------------------------
create policy "users can read their own privacy settings"
  on public.privacy_settings for select to authenticated
  using (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------------------------
-- helpers: rate limits
-- ---------------------------------------------------------------------------------------------------------------
-- Counts `amount` of an action against the user's window (default: the caller); over the limit it raises PT429 and,
-- the transaction being rolled back, nothing is counted. Service-role calls (no user) are not limited.
-- Call it as one line on a write path: `perform private.rate_limit('report');`.
create function private.rate_limit(action text, actor uuid default null, amount bigint default 1) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  who uuid := coalesce(actor, auth.uid());
  l private.rate_limits;
  c private.rate_counters;
  wait integer;
begin
  if who is null or coalesce(amount, 0) <= 0 then
    return;
  end if;
  select * into l from private.rate_limits r where r.action = rate_limit.action;
  if l.action is null then
    raise exception 'unknown rate-limited action "%"', rate_limit.action using errcode = '42704',
      hint = 'Add a row to private.rate_limits.';
  end if;
  insert into private.rate_counters as rc (user_id, action, window_started_at, used)
  values (who, l.action, now(), amount)
  on conflict on constraint rate_counters_pkey do update
    set used = case when rc.window_started_at <= now() - make_interval(secs => l.window_seconds)
                    then excluded.used else rc.used + excluded.used end,
        window_started_at = case when rc.window_started_at <= now() - make_interval(secs => l.window_seconds)
                                 then now() else rc.window_started_at end
  returning * into c;
  if c.used > l.max_count then
    wait := greatest(1, ceil(extract(epoch from c.window_started_at + make_interval(secs => l.window_seconds) - now())))::integer;
    raise exception '%', l.refusal
      using errcode = 'PT429',
            detail = json_build_object('retry_after_seconds', wait)::text,
            hint = format('At most %s %s per %s seconds; retry after %s seconds.', l.max_count, l.unit, l.window_seconds, wait);
  end if;
end
$$;
comment on function private.rate_limit(text, uuid, bigint) is
  'Counts amount of an action (a row of private.rate_limits) for a user (default the caller); PT429 over the limit.';
revoke all on function private.rate_limit(text, uuid, bigint) from public, anon, authenticated;

-- Seconds to wait before `amount` more of an action would pass (null: it would pass now); counts nothing. For checks
-- in a transaction that is rolled back anyway (the Storage upload probe).
create function private.rate_limit_wait(action text, actor uuid, amount bigint default 1) returns integer
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  l private.rate_limits;
  c private.rate_counters;
  used bigint := 0;
begin
  select * into l from private.rate_limits r where r.action = rate_limit_wait.action;
  if l.action is null or actor is null then
    return null;
  end if;
  select * into c from private.rate_counters rc where rc.user_id = actor and rc.action = l.action;
  if c.user_id is not null and c.window_started_at > now() - make_interval(secs => l.window_seconds) then
    used := c.used;
  end if;
  if used + greatest(coalesce(amount, 0), 0) <= l.max_count then
    return null;
  end if;
  if c.user_id is null or c.window_started_at <= now() - make_interval(secs => l.window_seconds) then
    -- More than a whole window allows: no wait helps.
    return l.window_seconds;
  end if;
  return greatest(1, ceil(extract(epoch from c.window_started_at + make_interval(secs => l.window_seconds) - now())))::integer;
end
$$;
comment on function private.rate_limit_wait(text, uuid, bigint) is
  'Seconds until amount more of an action would pass for a user; null if it passes now. Counts nothing.';
revoke all on function private.rate_limit_wait(text, uuid, bigint) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers: privacy
-- ---------------------------------------------------------------------------------------------------------------
-- Do two users share a chat (any kind)? An index range of a's memberships (chat_members_user_id_idx) and a
-- primary-key probe of b's membership per chat; it stops at the first shared chat. Called on adds and invitations and
-- by the privacy checks, never on the send path.
create function private.shares_chat(a uuid, b uuid) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if a is null or b is null then
    return false;
  end if;
  return exists (select 1 from public.chat_members mine
                   join public.chat_members theirs on theirs.chat_id = mine.chat_id and theirs.user_id = b
                  where mine.user_id = a);
end
$$;
comment on function private.shares_chat(uuid, uuid) is 'True if the two users are members of a common chat.';
revoke all on function private.shares_chat(uuid, uuid) from public, anon, authenticated;

create function private.privacy_settings_of(target uuid) returns public.privacy_settings
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  s public.privacy_settings;
begin
  select * into s from public.privacy_settings ps where ps.user_id = target;
  if s.user_id is null then
    s := row(target, 'everyone', 'everyone', 'everyone', null)::public.privacy_settings;
  end if;
  return s;
end
$$;
comment on function private.privacy_settings_of(uuid) is 'A user''s privacy settings, or the defaults (everyone).';
revoke all on function private.privacy_settings_of(uuid) from public, anon, authenticated;

-- Does an audience choice of `owner` let `viewer` in? The owner always sees their own.
create function private.audience_allows(audience public.privacy_audience, owner uuid, viewer uuid) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if owner = viewer or audience = 'everyone' then
    return true;
  end if;
  if audience = 'nobody' or viewer is null then
    return false;
  end if;
  return private.shares_chat(owner, viewer);
end
$$;
comment on function private.audience_allows(public.privacy_audience, uuid, uuid) is
  'True if a privacy choice of owner (everyone, contacts, nobody) admits viewer.';
revoke all on function private.audience_allows(public.privacy_audience, uuid, uuid) from public, anon, authenticated;

-- May `viewer` see the online status and last seen of `target`? Used by the profile columns' masking and the
-- status:<id> topic. Users with no settings row (the default, everyone) cost one primary-key probe.
create function private.presence_visible(target uuid, viewer uuid) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  audience public.privacy_audience;
begin
  if target = viewer then
    return true;
  end if;
  select ps.who_can_see_presence into audience from public.privacy_settings ps where ps.user_id = target;
  return private.audience_allows(coalesce(audience, 'everyone'), target, viewer);
end
$$;
comment on function private.presence_visible(uuid, uuid) is
  'True if viewer may see target''s online status and last seen (target''s who_can_see_presence).';
revoke all on function private.presence_visible(uuid, uuid) from public, anon, authenticated;

-- The presence a user really has, from their chosen status and last heartbeat (presence migration): offline when
-- invisible or quiet for longer than presence_timeout; no last seen while invisible.
create function private.real_presence(target uuid, out status public.user_status, out last_seen_at timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  p private.user_presence;
begin
  select * into p from private.user_presence up where up.user_id = target;
  status := case when p.user_id is null or p.chosen_status = 'invisible' or p.last_heartbeat_at is null
                      or p.last_heartbeat_at < now() - private.realtime_setting('presence_timeout')::interval
                 then 'offline'::public.user_status else p.chosen_status end;
  last_seen_at := case when p.chosen_status = 'invisible' then null else p.last_heartbeat_at end;
end
$$;
comment on function private.real_presence(uuid) is 'A user''s real shown status and last seen, whatever their privacy.';
revoke all on function private.real_presence(uuid) from public, anon, authenticated;

-- Refuses the caller opening or writing in a direct chat with `other` when other's who_can_message does not let
-- them in. `opening`: a new direct chat (contacts need a shared chat); writing in an existing one only `nobody`
-- refuses (the direct chat itself is a shared chat).
create function private.assert_may_message(other uuid, opening boolean) returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  audience public.privacy_audience;
begin
  select ps.who_can_message into audience from public.privacy_settings ps where ps.user_id = other;
  if audience is null or audience = 'everyone' or other = auth.uid() then
    return;
  end if;
  if audience = 'nobody' or (opening and not private.shares_chat(other, auth.uid())) then
    raise exception 'this user does not accept direct messages from you' using errcode = '42501',
      hint = 'Their privacy settings allow direct messages only from people they share a chat with, or from nobody.';
  end if;
end
$$;
comment on function private.assert_may_message(uuid, boolean) is
  'Refuses (42501) a direct message the other user''s who_can_message does not allow.';
revoke all on function private.assert_may_message(uuid, boolean) from public, anon, authenticated;

-- In a direct chat, a block between the caller and the other member refuses every write (edit, react, pin, typing).
create function private.assert_not_blocked_in_direct(chat uuid) returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  other uuid;
begin
  if (select c.kind from public.chats c where c.id = chat) <> 'direct' then
    return;
  end if;
  select m.user_id into other from public.chat_members m where m.chat_id = chat and m.user_id <> auth.uid();
  if other is not null and private.is_blocked_between(auth.uid(), other) then
    raise exception 'cannot act in this chat' using errcode = '42501',
      hint = 'One of you has blocked the other.';
  end if;
end
$$;
comment on function private.assert_not_blocked_in_direct(uuid) is
  'Refuses (42501) a write in a direct chat when either member blocked the other.';
revoke all on function private.assert_not_blocked_in_direct(uuid) from public, anon, authenticated;

-- Has an owner or admin of the chat blocked the user? Joining a chat on one's own (a link, discovery) is refused then:
-- a blocked user cannot walk into the groups their blocker runs.
create function private.blocked_by_chat_admin(chat uuid, member uuid) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (select 1 from public.user_blocks b
                   join public.chat_members m on m.chat_id = chat and m.user_id = b.blocker_id and m.role in ('owner', 'admin')
                  where b.blocked_id = member);
end
$$;
comment on function private.blocked_by_chat_admin(uuid, uuid) is 'True if an owner or admin of the chat blocked the user.';
revoke all on function private.blocked_by_chat_admin(uuid, uuid) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs: privacy settings
-- ---------------------------------------------------------------------------------------------------------------
create function public.get_privacy_settings() returns public.privacy_settings
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return private.privacy_settings_of(private.require_user());
end
$$;
comment on function public.get_privacy_settings() is 'The caller''s privacy settings (defaults until changed: everyone).';
revoke all on function public.get_privacy_settings() from public, anon, authenticated;
grant execute on function public.get_privacy_settings() to authenticated, service_role;

create function public.update_privacy_settings(
  who_can_message public.privacy_audience default null,
  who_can_add public.privacy_audience default null,
  who_can_see_presence public.privacy_audience default null
) returns public.privacy_settings
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
  before public.privacy_settings := private.privacy_settings_of(me);
  s public.privacy_settings := before;
begin
  insert into public.privacy_settings as ps (user_id, who_can_message, who_can_add, who_can_see_presence)
  values (me, coalesce(update_privacy_settings.who_can_message, s.who_can_message),
          coalesce(update_privacy_settings.who_can_add, s.who_can_add),
          coalesce(update_privacy_settings.who_can_see_presence, s.who_can_see_presence))
  on conflict (user_id) do update
    set who_can_message = excluded.who_can_message, who_can_add = excluded.who_can_add,
        who_can_see_presence = excluded.who_can_see_presence
  returning * into s;
  -- What everyone reads in profiles follows the new choice at once (private.mask_presence); the change of
  -- profiles.status is announced on status:<id> as usual.
  if s.who_can_see_presence is distinct from before.who_can_see_presence then
    perform set_config('chat.presence_write', 'on', true);
    update public.profiles p set status = r.status, last_seen_at = r.last_seen_at
      from private.real_presence(me) r
     where p.id = me;
    perform set_config('chat.presence_write', 'off', true);
  end if;
  return s;
end
$$;
comment on function public.update_privacy_settings(public.privacy_audience, public.privacy_audience, public.privacy_audience) is
  'Changes the caller''s privacy settings; arguments left null keep their value. Returns the settings.';
revoke all on function public.update_privacy_settings(public.privacy_audience, public.privacy_audience, public.privacy_audience) from public, anon, authenticated;
grant execute on function public.update_privacy_settings(public.privacy_audience, public.privacy_audience, public.privacy_audience) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs: presence under privacy
-- ---------------------------------------------------------------------------------------------------------------
-- The online status and last seen of up to 200 users as the caller may see them: the real presence where the user's
-- who_can_see_presence lets the caller in, else offline and no last seen. Users who blocked the caller are left out
-- (as from profiles).
create function public.get_presence(user_ids uuid[])
returns table (user_id uuid, status public.user_status, last_seen_at timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
begin
  if user_ids is null or cardinality(user_ids) > 200 then
    raise exception 'give between 0 and 200 user ids' using errcode = '22023', hint = 'Ask for at most 200 users per call.';
  end if;
  return query
    select p.id,
           case when not private.presence_visible(p.id, me) then 'offline'::public.user_status
                when ps.who_can_see_presence is null or ps.who_can_see_presence = 'everyone' then p.status
                else r.status end,
           case when not private.presence_visible(p.id, me) then null::timestamptz
                when ps.who_can_see_presence is null or ps.who_can_see_presence = 'everyone' then p.last_seen_at
                else r.last_seen_at end
      from public.profiles p
      left join public.privacy_settings ps on ps.user_id = p.id
      left join lateral private.real_presence(p.id) r on true
     where p.id = any (user_ids)
       and not exists (select 1 from public.user_blocks b where b.blocker_id = p.id and b.blocked_id = me)
     order by p.id;
end
$$;
comment on function public.get_presence(uuid[]) is
  'Status and last seen of up to 200 users as their who_can_see_presence lets the caller see them.';
revoke all on function public.get_presence(uuid[]) from public, anon, authenticated;
grant execute on function public.get_presence(uuid[]) to authenticated, service_role;
