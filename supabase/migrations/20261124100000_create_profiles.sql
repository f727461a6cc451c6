-- Profiles and blocking.
-- * `profiles` is 1:1 with auth.users, created by a trigger on sign-up. Owners edit their own profile (selected
--   columns only); everyone signed in can read profiles, except the profiles of users who blocked them.
-- * `user_blocks`: a user blocks another; the blocked user can no longer see the blocker's profile, open a direct
--   chat with them or message them directly (enforced in the chat migrations through private.is_blocked_between).
-- * The presence side of profiles (the status others see, the sweep index, the status.changed broadcast on
--   status:<id>) is here with the table; the heartbeat and the sweep are in the presence migration.

-- ---------------------------------------------------------------------------------------------------------------
-- types
-- ---------------------------------------------------------------------------------------------------------------
-- Users choose online, away, busy or invisible; `offline` is what others see for invisible users and for users whose
-- devices stopped sending heartbeats (presence migration).
create type public.user_status as enum ('online', 'away', 'busy', 'invisible', 'offline');
comment on type public.user_status is
  'Presence. Users choose online, away, busy or invisible; profiles.status shows offline for invisible and inactive users.';

-- ---------------------------------------------------------------------------------------------------------------
-- tables
-- ---------------------------------------------------------------------------------------------------------------
create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  username text not null,
  display_name text,
  avatar_path text,
  bio text,
  status public.user_status not null default 'online',
  status_text text,
  last_seen_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint profiles_username_format check (username ~ '^[A-Za-z0-9_]{3,32}$'),
  constraint profiles_display_name_length check (char_length(display_name) between 1 and 64),
  constraint profiles_bio_length check (char_length(bio) <= 500),
  constraint profiles_status_text_length check (char_length(status_text) <= 100),
  constraint profiles_avatar_path_format check (avatar_path ~ '^[0-9a-f-]{36}/[^/]{1,200}$')
);
comment on table public.profiles is 'Public profile of each user (1:1 with auth.users, created on sign-up).';
comment on column public.profiles.username is 'Unique case-insensitively; 3-32 letters, digits or underscores.';
comment on column public.profiles.avatar_path is 'Path in the avatars bucket: <user id>/<file name>.';
comment on column public.profiles.last_seen_at is 'Updated by the presence heartbeat.';

create table public.user_blocks (
  blocker_id uuid not null default auth.uid() references public.profiles (id) on delete cascade,
  blocked_id uuid not null references public.profiles (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (blocker_id, blocked_id),
  constraint user_blocks_not_self check (blocker_id <> blocked_id)
);
comment on table public.user_blocks is 'Users a user has blocked. Only the blocker sees these rows.';

-- ---------------------------------------------------------------------------------------------------------------
-- indexes
-- ---------------------------------------------------------------------------------------------------------------
create unique index profiles_username_lower_key on public.profiles (lower(username));
create index profiles_username_trgm_idx on public.profiles using gin (username extensions.gin_trgm_ops, display_name extensions.gin_trgm_ops);
create index user_blocks_blocked_id_idx on public.user_blocks (blocked_id);

-- Serves private.sweep_presence (presence migration): profiles not shown offline yet, by their last sign of life.
create index profiles_presence_sweep_idx on public.profiles ((coalesce(last_seen_at, created_at))) where status <> 'offline';

-- ---------------------------------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on public.profiles, public.user_blocks from anon, authenticated;
grant select on public.profiles to authenticated;
grant update (username, display_name, avatar_path, bio, status, status_text) on public.profiles to authenticated;
grant select, insert, delete on public.user_blocks to authenticated;
grant all on public.profiles, public.user_blocks to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers
-- ---------------------------------------------------------------------------------------------------------------
-- Users who blocked the current user (read across RLS: the blocked user cannot see those rows themselves).
create function private.blocker_ids() returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (select coalesce(array_agg(b.blocker_id), '{}') from public.user_blocks b where b.blocked_id = auth.uid());
end
$$;
comment on function private.blocker_ids() is 'Ids of the users who blocked the caller.';
revoke all on function private.blocker_ids() from public, anon, authenticated;
grant execute on function private.blocker_ids() to authenticated;

-- PL/pgSQL so that its plan is kept (baseline): 0.062 ms per call as LANGUAGE sql.
create function private.is_blocked_between(a uuid, b uuid) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (
    select 1 from public.user_blocks ub
     where (ub.blocker_id = a and ub.blocked_id = b) or (ub.blocker_id = b and ub.blocked_id = a));
end
$$;
comment on function private.is_blocked_between(uuid, uuid) is 'True if either user blocked the other.';
revoke all on function private.is_blocked_between(uuid, uuid) from public, anon, authenticated;

-- A free username derived from a wish (user metadata) or the email's local part.
create function private.derive_username(wish text, email text) returns text
language plpgsql
set search_path = ''
as $$
declare
  base text;
  candidate text;
  n integer := 0;
begin
  base := coalesce(nullif(wish, ''), split_part(coalesce(email, ''), '@', 1));
  base := left(regexp_replace(base, '[^A-Za-z0-9_]', '', 'g'), 24);
  if char_length(base) < 3 then
    base := 'user' || base;
  end if;
  candidate := base;
  while exists (select 1 from public.profiles p where lower(p.username) = lower(candidate)) loop
    n := n + 1;
    -- base (<= 24) + '_' + at most 7 hex characters stays within the 32-character limit.
    candidate := base || '_' || substr(md5(random()::text), 1, 4 + least(n, 3));
  end loop;
  return candidate;
end
$$;
revoke all on function private.derive_username(text, text) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- triggers
-- ---------------------------------------------------------------------------------------------------------------
create function private.handle_new_user() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  wish text := new.raw_user_meta_data ->> 'username';
begin
  insert into public.profiles (id, username, display_name, avatar_path)
  values (
    new.id,
    private.derive_username(wish, new.email),
    -- Sign-up must not fail on a provider's name: characters a name may not contain become spaces.
    nullif(btrim(left(regexp_replace(coalesce(new.raw_user_meta_data ->> 'display_name', new.raw_user_meta_data ->> 'full_name', ''),
                                     private.name_forbidden_pattern(), ' ', 'g'), 64)), ''),
    null
  );
  return new;
end
$$;
comment on function private.handle_new_user() is 'Creates the profile of a new auth user.';
revoke all on function private.handle_new_user() from public, anon, authenticated;

-- Security definer: it calls private helpers (not granted to clients) and checks usernames across every profile.
create function private.check_profile_update() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.username is distinct from old.username and (new.username is null or new.username !~ '^[A-Za-z0-9_]{3,32}$') then
    raise exception 'invalid username'
      using errcode = '22023', hint = 'Use 3 to 32 letters, digits or underscores.';
  end if;
  if new.username is distinct from old.username and exists (
    select 1 from public.profiles p where lower(p.username) = lower(new.username) and p.id <> new.id
  ) then
    raise exception 'username is taken' using errcode = '23505', hint = 'Choose another username.';
  end if;
  -- One line, no bidi formatting; the length stays the check constraint's (23514).
  if new.display_name is distinct from old.display_name then
    perform private.assert_name(new.display_name, 'display name', 2147483647);
  end if;
  if new.bio is distinct from old.bio then
    perform private.assert_body(new.bio, 'bio');
  end if;
  if new.avatar_path is distinct from old.avatar_path and new.avatar_path is not null
     and split_part(new.avatar_path, '/', 1) <> new.id::text then
    raise exception 'avatar must be in your own folder of the avatars bucket'
      using errcode = '22023', hint = 'Upload to avatars/<your user id>/<file name>.';
  end if;
  return new;
end
$$;
revoke all on function private.check_profile_update() from public, anon, authenticated;

-- Clear errors for blocks: blocking yourself or an unknown user is refused with a catalogued error; blocking a user
-- again is a no-op (the existing block stays), so clients can retry safely.
create function private.check_block_insert() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Checked before anything else, so nobody can probe whether two other users blocked each other.
  if current_setting('role', true) in ('authenticated', 'anon') and new.blocker_id is distinct from auth.uid() then
    raise exception 'you can only block users yourself' using errcode = '42501',
      hint = 'Insert with blocker_id set to your own user id (or leave it out).';
  end if;
  if new.blocked_id = new.blocker_id then
    raise exception 'you cannot block yourself' using errcode = '22023', hint = 'Pass another user''s id.';
  end if;
  if not exists (select 1 from public.profiles p where p.id = new.blocked_id) then
    raise exception 'user not found' using errcode = 'PT404', hint = 'Check the user id.';
  end if;
  if exists (select 1 from public.user_blocks b where b.blocker_id = new.blocker_id and b.blocked_id = new.blocked_id) then
    return null;
  end if;
  return new;
end
$$;
revoke all on function private.check_block_insert() from public, anon, authenticated;

create trigger user_blocks_check_insert before insert on public.user_blocks
  for each row execute function private.check_block_insert();

create trigger on_auth_user_created after insert on auth.users
  for each row execute function private.handle_new_user();

create trigger profiles_check_update before update on public.profiles
  for each row execute function private.check_profile_update();

-- updated_at dates an edit of the profile, never presence: status and last_seen_at changes (heartbeats, the sweep,
-- choosing invisible) leave it alone, so an invisible user cannot be told from an offline one by it.
create trigger profiles_touch_updated_at before update on public.profiles
  for each row when ((old.username, old.display_name, old.avatar_path, old.bio, old.status_text)
                     is distinct from (new.username, new.display_name, new.avatar_path, new.bio, new.status_text))
  execute function private.touch_updated_at();

-- A user changing profiles.status chooses a status: remember the choice, show offline for invisible.
create function private.route_status_choice() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if current_setting('chat.presence_write', true) = 'on' then
    return new;
  end if;
  insert into private.user_presence as p (user_id, chosen_status)
  values (new.id, case when new.status = 'offline' then 'invisible'::public.user_status else new.status end)
  on conflict (user_id) do update set chosen_status = excluded.chosen_status;
  if new.status in ('invisible', 'offline') then
    new.status := 'offline';
    new.last_seen_at := old.last_seen_at;
  else
    new.last_seen_at := now();
  end if;
  return new;
end
$$;
revoke all on function private.route_status_choice() from public, anon, authenticated;

create trigger profiles_route_status_choice before update of status on public.profiles
  for each row when (old.status is distinct from new.status)
  execute function private.route_status_choice();

-- The status others see changed (a choice, a first heartbeat, the presence sweep): one broadcast on status:<id>,
-- which the user and the people who share a chat with them may read (private.topic_read_extensions in the realtime
-- migration). One row per change, whatever the number of chats or watchers: a client follows the status topics of
-- the people it shows. profiles.status is never `invisible` (route_status_choice), so invisible users are announced
-- as offline, like anyone who closes the app.
create function private.on_status_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform realtime.send(jsonb_build_object('user_id', new.id, 'status', new.status, 'last_seen_at', new.last_seen_at,
                                           'at', now()),
                        'status.changed', 'status:' || new.id::text, true);
  return null;
end
$$;
revoke all on function private.on_status_changed() from public, anon, authenticated;

create trigger profiles_emit_status_changed after update of status on public.profiles
  for each row when (old.status is distinct from new.status)
  execute function private.on_status_changed();

-- ---------------------------------------------------------------------------------------------------------------
-- row level security
-- ---------------------------------------------------------------------------------------------------------------
alter table public.profiles enable row level security;
alter table public.user_blocks enable row level security;

-- ---------------------------------------------------------------------------------------------------------------
-- policies
-- ---------------------------------------------------------------------------------------------------------------
create policy "users can read profiles of users who did not block them"
  on public.profiles for select to authenticated
  using (id <> all (coalesce((select private.blocker_ids()), '{}'::uuid[])));

create policy "users can update their own profile"
  on public.profiles for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()) and not (select private.is_suspended()));

-- Guests (private.is_guest, docs/security.md) keep the profile they were given and block nobody: restrictive policies,
-- so they hold whatever the permissive policies allow.
create policy "guests cannot edit their profile"
  on public.profiles as restrictive for update to authenticated
  using (not (select private.is_guest()));

create policy "guests cannot block users"
  on public.user_blocks as restrictive for insert to authenticated
  with check (not (select private.is_guest()));

create policy "users can read their own blocks"
  on public.user_blocks for select to authenticated
  using (blocker_id = (select auth.uid()));

create policy "users can block other users"
  on public.user_blocks for insert to authenticated
  with check (blocker_id = (select auth.uid()));

create policy "users can unblock users they blocked"
  on public.user_blocks for delete to authenticated
  using (blocker_id = (select auth.uid()));
