-- Presence that tells nothing (issue 21, item 5): while a user is invisible, nothing another user can read about
-- them changes — not the profile row (status, last_seen_at, updated_at, any column), not the status topic, not
-- Realtime Presence — whatever heartbeats, status choices or sweeps happen. Choosing invisible looks like going
-- offline: updated_at dates profile edits only, and last_seen_at keeps the last moment the user was shown online.
begin;
create extension if not exists pgtap with schema extensions;
select plan(12);

select tests.create_user(u) from unnest(array['alice', 'bob']) u;
select tests.create_group('team', 'alice', members => array['bob'], title => 'Team');

-- Alice was online ten minutes ago (the clock stands still inside a transaction: the past is written directly).
select tests.authenticate_as('alice');
select public.heartbeat('online');
reset role;
update public.profiles set last_seen_at = now() - interval '10 minutes', updated_at = now() - interval '1 day'
 where id = tests.id('alice');
update private.user_presence set last_heartbeat_at = now() - interval '10 minutes' where user_id = tests.id('alice');

-- What bob reads about alice, every column of the row.
create temporary table seen (label text primary key, row jsonb, updated_at timestamptz) on commit drop;
grant all on seen to authenticated;

select tests.authenticate_as('alice');
select public.heartbeat('invisible');
select tests.authenticate_as('bob');
insert into seen select 'invisible', to_jsonb(p), p.updated_at from public.profiles p where p.id = tests.id('alice');
select is((select row ->> 'status' from seen where label = 'invisible'), 'offline', 'bob reads offline');
select is((select updated_at from seen where label = 'invisible'), now() - interval '1 day',
  'choosing invisible does not stamp updated_at (it dates profile edits only)');
select is((select (row ->> 'last_seen_at')::timestamptz from seen where label = 'invisible'), now() - interval '10 minutes',
  'last_seen_at keeps the last moment alice was shown online');

select tests.took();
-- Alice goes on using the app, invisible: heartbeats after the interval, a repeated choice, the sweep.
reset role;
update private.user_presence set last_heartbeat_at = now() - interval '5 minutes' where user_id = tests.id('alice');
select tests.authenticate_as('alice');
select public.heartbeat();
select public.heartbeat('invisible');
update public.profiles set status = 'invisible' where id = auth.uid();
update public.profiles set status = 'offline' where id = auth.uid();
reset role;
update private.user_presence set last_heartbeat_at = now() - interval '5 minutes' where user_id = tests.id('alice');
select tests.authenticate_as('alice');
select public.heartbeat();
reset role;
select private.sweep_presence();
select tests.authenticate_as('bob');
insert into seen select 'later', to_jsonb(p), p.updated_at from public.profiles p where p.id = tests.id('alice');

select is((select row from seen where label = 'later'), (select row from seen where label = 'invisible'),
  'bob reads exactly the same row after heartbeats, repeated choices and a sweep');
select is(tests.took(), '{}'::text[], 'and no status event was broadcast while alice was invisible');
reset role;
select is((select count(*)::integer from private.user_presence where user_id = tests.id('alice') and chosen_status = 'invisible'), 1,
  'alice''s own choice is still invisible');

-- Realtime Presence on the chat's client topic: an invisible user cannot announce themselves.
select tests.authenticate_as('alice');
select is(tests.realtime_can_write('chat:' || tests.id('team') || ':typing', 'presence'), false,
  'an invisible user may not track Realtime Presence');
select is(tests.realtime_can_write('chat:' || tests.id('team') || ':typing', 'broadcast'), true,
  'typing broadcasts stay allowed (they are sent only while typing)');

-- Editing the profile is an edit: it is dated like anyone's.
update public.profiles set bio = 'new bio' where id = auth.uid();
select is((tests.profile('alice')).updated_at, now(), 'an edit of the profile stamps updated_at');
select is((tests.profile('alice')).last_seen_at, now() - interval '10 minutes', 'but still not last_seen_at');

-- Coming back is visible, as it should be.
select is(public.heartbeat('online') ->> 'shown_status', 'online', 'choosing online again shows alice online');
select tests.authenticate_as('bob');
select is((select last_seen_at from public.profiles where id = tests.id('alice')), now(), 'and bob sees her last_seen_at move again');

select * from finish();
rollback;
