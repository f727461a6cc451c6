-- Presence and status: the heartbeat keeps last_seen_at fresh at most once per interval, the chosen status is private,
-- invisible users are shown offline with a frozen last_seen_at, and quiet users are swept to offline.
begin;
create extension if not exists pgtap with schema extensions;
select plan(21);

select tests.create_user('alice');
select tests.create_user('bob');


select tests.authenticate_as('alice');
select is(public.heartbeat() ->> 'shown_status', 'online', 'a heartbeat shows the user online');
select isnt((tests.profile('alice')).last_seen_at, null, 'and stamps last_seen_at');
select is(public.heartbeat('busy') ->> 'status', 'busy', 'a heartbeat can set the chosen status');
select is((tests.profile('alice')).status::text, 'busy', 'others see it');

-- Throttle: within the interval a heartbeat writes nothing.
reset role;
update public.profiles set last_seen_at = now() - interval '10 seconds' where id = tests.get_user_id('alice');
update private.user_presence set last_heartbeat_at = now() - interval '10 seconds' where user_id = tests.get_user_id('alice');
select tests.authenticate_as('alice');
select public.heartbeat();
select is((tests.profile('alice')).last_seen_at, now() - interval '10 seconds', 'a heartbeat within the interval writes nothing');
reset role;
update public.profiles set last_seen_at = now() - interval '40 seconds' where id = tests.get_user_id('alice');
select tests.authenticate_as('alice');
select public.heartbeat();
select is((tests.profile('alice')).last_seen_at, now(), 'after the interval it refreshes last_seen_at');

-- Invisible.
select is(public.heartbeat('invisible') ->> 'shown_status', 'offline', 'an invisible user is shown offline');
select is((tests.profile('alice')).status::text, 'offline', 'profiles.status says offline');
reset role;
update public.profiles set last_seen_at = now() - interval '5 minutes' where id = tests.get_user_id('alice');
select tests.authenticate_as('alice');
select is(public.heartbeat() ->> 'status', 'invisible', 'the user''s own heartbeat keeps their choice');
select is((tests.profile('alice')).last_seen_at, now() - interval '5 minutes', 'while invisible last_seen_at does not move');
select tests.authenticate_as('bob');
select is((select status::text from public.profiles where id = tests.get_user_id('alice')), 'offline',
  'another user reads offline, not invisible');
select is((select count(*)::integer from public.profiles where status::text = 'invisible'), 0, 'nobody is ever shown invisible');

-- Choosing a status through the profile row works the same way.
select tests.authenticate_as('alice');
update public.profiles set status = 'away' where id = auth.uid();
select is((tests.profile('alice')).status::text, 'away', 'updating profiles.status chooses a status');
select is((tests.profile('alice')).last_seen_at, now(), 'and counts as being seen');
update public.profiles set status = 'invisible' where id = auth.uid();
select is((tests.profile('alice')).status::text, 'offline', 'choosing invisible through the row is shown as offline');
select is(public.heartbeat() ->> 'status', 'invisible', 'and remembered as the choice');

-- Others cannot touch anyone's presence.
select tests.authenticate_as('bob');
select is_empty($$ update public.profiles set status = 'busy' where id = tests.get_user_id('alice') returning 1 $$,
  'nobody changes another user''s status');
select tests.clear_authentication();
select throws_ok($$ select public.heartbeat() $$, '42501', null, 'anon cannot send heartbeats');

-- The sweep shows quiet users offline and leaves active ones alone.
reset role;
update public.profiles set status = 'online', last_seen_at = now() - interval '10 minutes' where id = tests.get_user_id('bob');
select tests.authenticate_as('bob');
select public.heartbeat('online');
reset role;
update public.profiles set last_seen_at = now() - interval '10 minutes' where id = tests.get_user_id('bob');
select is(private.sweep_presence(), 1, 'the sweep finds the quiet user');
select is((tests.profile('bob')).status::text, 'offline', 'and shows them offline');
select tests.authenticate_as('bob');
select is(public.heartbeat() ->> 'shown_status', 'online', 'their next heartbeat brings back the chosen status');

select * from finish();
rollback;
