-- Presence and status. Live presence per device travels as Realtime Presence on chat:<id>; the persisted side is
-- profiles.status and profiles.last_seen_at, kept by a cheap, throttled heartbeat.
-- * profiles.status is what others see: the status the user chose, or `offline` when they chose invisible or their
--   devices stopped sending heartbeats (a cron sweep). The choice itself is private (private.user_presence).
-- * Invisible users are indistinguishable from offline ones: status offline, last_seen_at frozen.
-- The trigger that routes a chosen status and the sweep index are with profiles (profiles migration).

-- ---------------------------------------------------------------------------------------------------------------
-- tables
-- ---------------------------------------------------------------------------------------------------------------
create table private.user_presence (
  user_id uuid primary key references auth.users (id) on delete cascade,
  chosen_status public.user_status not null default 'online',
  last_heartbeat_at timestamptz,
  constraint user_presence_chosen check (chosen_status <> 'offline')
);
comment on table private.user_presence is 'The status each user chose (invisible included) and their last heartbeat.';

-- ---------------------------------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on private.user_presence from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- row level security
-- ---------------------------------------------------------------------------------------------------------------
alter table private.user_presence enable row level security;

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs
-- ---------------------------------------------------------------------------------------------------------------
create function public.heartbeat(status public.user_status default null) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
  every interval := private.realtime_setting('heartbeat_interval')::interval;
  presence private.user_presence;
  profile public.profiles;
  chosen public.user_status;
  shown public.user_status;
begin
  select * into presence from private.user_presence p where p.user_id = me;
  chosen := coalesce(heartbeat.status, presence.chosen_status, 'online');
  if chosen = 'offline' then
    chosen := 'invisible';
  end if;
  shown := case when chosen = 'invisible' then 'offline'::public.user_status else chosen end;
  -- A user who hides their presence from everyone (who_can_see_presence not everyone) is shown offline in profiles
  -- (private.mask_presence, limits and privacy migration): nothing to write there, the heartbeat above is the truth.
  if not private.presence_visible(me, null) then
    shown := 'offline';
  end if;

  -- Within the interval and without a change this is a read: many devices cost one write per interval.
  if presence.user_id is null or presence.chosen_status <> chosen or presence.last_heartbeat_at is null
     or presence.last_heartbeat_at <= now() - every then
    insert into private.user_presence as p (user_id, chosen_status, last_heartbeat_at)
    values (me, chosen, now())
    on conflict (user_id) do update set chosen_status = excluded.chosen_status, last_heartbeat_at = excluded.last_heartbeat_at;
  end if;

  select * into profile from public.profiles p where p.id = me;
  if profile.status is distinct from shown
     or (shown <> 'offline' and (profile.last_seen_at is null or profile.last_seen_at <= now() - every)) then
    perform set_config('chat.presence_write', 'on', true);
    update public.profiles p
       set status = shown, last_seen_at = case when shown = 'offline' then p.last_seen_at else now() end
     where p.id = me
    returning * into profile;
    perform set_config('chat.presence_write', 'off', true);
  end if;

  return jsonb_build_object('status', chosen, 'shown_status', profile.status, 'last_seen_at', profile.last_seen_at,
                            'next_heartbeat_seconds', extract(epoch from every)::integer);
end
$$;
comment on function public.heartbeat(public.user_status) is
  'Keeps the caller shown as online (call every next_heartbeat_seconds while the app is open); optionally sets the '
  'chosen status. Writes at most once per interval. Returns {status, shown_status, last_seen_at, next_heartbeat_seconds}.';
revoke all on function public.heartbeat(public.user_status) from public, anon, authenticated;
grant execute on function public.heartbeat(public.user_status) to authenticated, service_role;

-- Users whose devices went quiet are shown offline (cron, every minute).
create function private.sweep_presence() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  swept integer;
begin
  perform set_config('chat.presence_write', 'on', true);
  update public.profiles p set status = 'offline'
   where p.status <> 'offline'
     and coalesce(p.last_seen_at, p.created_at) < now() - private.realtime_setting('presence_timeout')::interval;
  get diagnostics swept = row_count;
  perform set_config('chat.presence_write', 'off', true);
  return swept;
end
$$;
comment on function private.sweep_presence() is 'Shows users without a recent heartbeat as offline; returns how many.';
revoke all on function private.sweep_presence() from public, anon, authenticated;
