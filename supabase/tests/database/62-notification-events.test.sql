-- One event per notification: a mention (and an @channel to every member) tells each recipient once, with
-- notification.created on their own topic carrying what a client renders (kind, chat, message, actor, the preview as
-- the recipient's settings allow, created_at, unread count); the catch-up (get_updates) returns the same event; a
-- deleted message takes the preview out of it; nobody but the recipient may read it. The @channel fan-out is one
-- set-based statement and applies every rule create_notification applies.
begin;
create extension if not exists pgtap with schema extensions;
select plan(20);

-- fixtures ----------------------------------------------------------------------------------------------------------
select tests.create_user(u) from unnest(array['alice', 'bob', 'carol', 'dave', 'erin', 'mallory', 'olga']) u;
select tests.create_channel('news', 'alice', members => array['bob', 'carol', 'dave', 'erin', 'mallory']);
select tests.create_block('mallory', 'alice');

-- A Web Push device for a member (PushSubscription.toJSON() shape).
create function pg_temp.device(who text) returns void language plpgsql as $$
begin
  perform tests.authenticate_as(who);
  perform public.register_push_device('web_push', 'web', subscription => jsonb_build_object(
    'endpoint', 'https://push.example.test/send/' || who,
    'keys', jsonb_build_object('p256dh', 'B' || repeat('x', 86), 'auth', repeat('a', 22))));
end
$$;
select pg_temp.device(u) from unnest(array['bob', 'carol', 'dave', 'erin']) u;
select tests.authenticate_as('carol');
select public.update_notification_settings(hide_previews => true);
select tests.authenticate_as('dave');
select public.set_chat_preferences(tests.id('news'), muted_until => now() + interval '1 day');
select tests.authenticate_as('erin');
select public.update_notification_settings(disabled_kinds => array['mention']::public.notification_kind[]);

select tests.commit_point();
select tests.took();

-- a mention: one event -------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select tests.remember('hi', (public.send_message(tests.id('news'), 'hi @bob, the plan is ready', mentions => array[tests.id('bob')])).id);
select tests.commit_point();
select is(tests.took(), array['user:bob notification.created', 'chat:news message.sent'],
  'a mention tells the mentioned member once, by notification.created (no separate mention event)');
select is(tests.last_payload('notification.created') -> 'data' ->> 'preview', 'hi @bob, the plan is ready', 'with the preview');
select is(tests.last_payload('notification.created') -> 'data' -> 'actor' ->> 'username',
  (tests.profile('alice')).username, 'and the actor''s card, so nothing needs fetching to show it');
select is(tests.last_payload('notification.created') -> 'data' ->> 'chat_title', 'news', 'and the chat''s title');

-- @channel: one notification and one event per member, every rule applied --------------------------------------------
select tests.commit_point();
select public.send_message(tests.id('news'), '@channel launch moved to 5pm');
select tests.commit_point();
select is(array(select unnest(tests.took()) order by 1),
  array['chat:news message.sent', 'user:bob notification.created', 'user:carol notification.created', 'user:dave notification.created'],
  '@channel tells every member once; erin switched mentions off and mallory blocked alice');
reset role;
select is((select array_agg(p.username || ' ' || coalesce(n.preview, '-') || ' ' || n.silent order by p.username)
             from public.notifications n join public.profiles p on p.id = n.recipient_id
            where n.data ->> 'scope' = 'channel'),
  array[(tests.profile('bob')).username || ' @channel launch moved to 5pm false',
        (tests.profile('carol')).username || ' - false',
        (tests.profile('dave')).username || ' @channel launch moved to 5pm true'],
  'carol hides previews, dave muted the chat (in the inbox, silent)');
select is((select array_agg(p.username order by p.username) from private.notification_outbox o
             join public.profiles p on p.id = o.recipient_id
             join public.notifications n on n.id = o.notification_id
            where o.channel = 'web_push' and n.data ->> 'scope' = 'channel'),
  array[(tests.profile('bob')).username, (tests.profile('carol')).username],
  'the pushes go to the devices of those it may push to (not the muted dave)');
select is((select count(*)::integer from private.notification_outbox o
            where o.channel = 'email' and o.chat_id = tests.id('news') and o.status = 'pending'), 2,
  'bob and carol each have one pending mention email for the chat (the burst shares it)');
select is((select e.payload ->> 'preview' from private.user_events e
            where e.user_id = tests.id('carol') and e.event = 'notification.created' order by e.id desc limit 1), null,
  'carol''s event has no preview either');
select is((select count(*)::integer from private.user_events e where e.user_id = tests.id('bob') and e.event = 'mention'), 0,
  'no mention event is stored any more');

-- catch-up: get_updates returns private.user_events rows (tests/api/realtime.test.ts runs it across commits) ---------
select is((select array_agg(e.event order by e.id) from private.user_events e
            where e.user_id = tests.id('bob') and e.payload ->> 'chat_id' = tests.id('news')::text
              and e.event like 'notification.%' and e.payload ->> 'kind' = 'mention'),
  array['notification.created', 'notification.created'], 'bob''s stored events: the two notifications');
select is((select e.payload - array['created_at', 'updated_at'] from private.user_events e
            where e.user_id = tests.id('bob') and e.payload ->> 'message_id' = tests.id('hi')::text),
  (select (m.payload -> 'data') - array['created_at', 'updated_at'] from realtime.messages m
    where m.topic = 'user:' || tests.id('bob') and m.event = 'notification.created'
      and m.payload -> 'data' ->> 'message_id' = tests.id('hi')::text),
  'the stored event is what the live one carried');
select is((select (e.payload ->> 'unread_count')::integer from private.user_events e
            where e.user_id = tests.id('bob') and e.event = 'notification.created' order by e.id desc limit 1),
  (select c.unread from private.notification_counters c where c.user_id = tests.id('bob')),
  'with the unread count after it');

-- nobody else reads it -------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select is(tests.realtime_can_read('user:' || tests.id('bob'), 'broadcast'), true, 'bob reads his own topic');
select tests.authenticate_as('olga');
select is(tests.realtime_can_read('user:' || tests.id('bob'), 'broadcast'), false, 'an outsider cannot read bob''s topic');
select tests.authenticate_as('alice');
select is(tests.realtime_can_read('user:' || tests.id('bob'), 'broadcast'), false, 'nor can the chat''s owner');
select tests.clear_authentication();
select is(tests.realtime_can_read('user:' || tests.id('bob'), 'broadcast'), false, 'nor anon');

-- a deleted message takes the preview out of the catch-up ---------------------------------------------------------------
select tests.authenticate_as('alice');
select public.delete_message(tests.id('hi'));
select tests.commit_point();
reset role;
select is((select e.payload ->> 'preview' from private.user_events e
            where e.user_id = tests.id('bob') and e.payload ->> 'message_id' = tests.id('hi')::text), null,
  'the deleted message''s preview is gone from bob''s stored event');
select tests.authenticate_as('bob');
select is((select count(*)::integer from public.list_notifications() n where n.message_id = tests.id('hi')), 0,
  'and its notification from his inbox');
select is(public.get_unread_notification_count(), 2, 'the unread count follows (being added, and the @channel)');

select * from finish();
rollback;
