-- Push devices and the delivery outbox: registering Web Push subscriptions, FCM and APNs tokens (idempotent, checked,
-- encrypted at rest, capped per user, removed with their Auth session on request), unregistering, and the outbox rows
-- a notification queues for each deliverable target, honouring the preferences.
begin;
create extension if not exists pgtap with schema extensions;
select plan(69);

-- fixtures ----------------------------------------------------------------------------------------------------------
select tests.create_user(u) from unnest(array['alice', 'bob', 'carol']) u;
select tests.create_group('team', 'alice', members => array['bob', 'carol']);

-- A Web Push subscription as PushSubscription.toJSON() gives it (keys of the right shape).
create function pg_temp.sub(n integer) returns jsonb language sql as $$
  select jsonb_build_object('endpoint', 'https://push.example.test/send/' || n,
                            'keys', jsonb_build_object('p256dh', 'B' || repeat('x', 85) || n % 10, 'auth', repeat('a', 21) || n % 10))
$$;
-- The Auth session of the current access token, as GoTrue stores it at sign-in.
create function pg_temp.open_session() returns void language sql security definer as $$
  insert into auth.sessions (id, user_id, created_at) values ((auth.jwt() ->> 'session_id')::uuid, auth.uid(), now())
$$;
grant execute on function pg_temp.sub(integer), pg_temp.open_session() to authenticated, service_role;
-- The outbox past RLS, as '<channel> <status>' of a user's rows.
create function pg_temp.outbox(who text) returns text[] language sql security definer as $$
  select coalesce(array_agg(o.channel || ' ' || o.status order by o.channel, o.id), '{}')
    from private.notification_outbox o where o.recipient_id = tests.get_user_id(who)
$$;
create function pg_temp.reset() returns void language sql security definer as $$
  delete from public.notifications; delete from private.notification_outbox; delete from private.rate_counters;
$$;
-- Tokens or endpoints found in the clear in the stored secrets (probe).
create function pg_temp.clear_text_tokens() returns integer language sql security definer as $$
  select count(*)::integer from private.push_device_secrets x
   where position('push.example.test' in encode(x.token_encrypted, 'escape')) > 0
      or position('fcm-token' in encode(x.token_encrypted, 'escape')) > 0
$$;
-- Rewrites a stored subscription's endpoint, as an older registration or a service-role write could have left it.
create function pg_temp.store_endpoint(device uuid, endpoint text) returns void language sql security definer as $$
  update private.push_device_secrets x
     set token_encrypted = extensions.pgp_sym_encrypt(
           jsonb_set(extensions.pgp_sym_decrypt(x.token_encrypted, private.push_token_key())::jsonb, '{endpoint}',
                     to_jsonb(endpoint))::text, private.push_token_key())
   where x.device_id = device
$$;
-- How long after now a user's pending email waits (probe).
create function pg_temp.email_wait(who text) returns interval language sql security definer as $$
  select o.next_attempt_at - now() from private.notification_outbox o
   where o.recipient_id = tests.get_user_id(who) and o.channel = 'email'
$$;
grant execute on function pg_temp.email_wait(text) to authenticated, service_role;
-- The token of the unsubscribe link in bob's emails (what the notify function puts there).
create function pg_temp.unsubscribe_token(who text) returns text language sql security definer as $$
  select private.email_unsubscribe_token(tests.get_user_id(who))
$$;
grant execute on function pg_temp.unsubscribe_token(text) to service_role;
-- Time passes: a user's queued deliveries are due now.
create function pg_temp.make_due(who text) returns void language sql security definer as $$
  update private.notification_outbox set next_attempt_at = now() where recipient_id = tests.get_user_id(who)
$$;
grant execute on function pg_temp.make_due(text) to authenticated, service_role;
-- GoTrue's sign-out: the session row goes.
create function pg_temp.sign_out() returns void language sql security definer as $$ delete from auth.sessions $$;
grant execute on function pg_temp.outbox(text), pg_temp.reset(), pg_temp.clear_text_tokens(), pg_temp.sign_out(), pg_temp.store_endpoint(uuid, text)
  to authenticated, service_role;

-- registering --------------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select tests.remember('web', (public.register_push_device('web_push', 'web', subscription => pg_temp.sub(1),
  device_name => 'Firefox on laptop')).id);
select is((select provider::text || ' ' || platform || ' ' || device_name from public.push_devices where id = tests.id('web')),
  'web_push web Firefox on laptop', 'bob registers a Web Push subscription');
select is((public.register_push_device('web_push', 'web', subscription => pg_temp.sub(1))).id, tests.id('web'),
  'registering the same subscription again is idempotent');
select is((select count(*)::integer from public.push_devices), 1, 'one device');
select is((select device_name from public.push_devices where id = tests.id('web')), 'Firefox on laptop',
  'a refresh without a name keeps the name');
select tests.remember('fcm', (public.register_push_device('fcm', 'android', token => 'fcm-token:' || repeat('Ab1_', 10),
  app_id => 'com.example.chat')).id);
select tests.remember('apns', (public.register_push_device('apns', 'ios', token => repeat('0123456789abcdef', 4),
  app_id => 'com.example.chat')).id);
select is((select count(*)::integer from public.push_devices), 3, 'an FCM and an APNs token too');
select is((public.register_push_device('apns', 'ios', token => upper(repeat('0123456789abcdef', 4)), app_id => 'com.example.chat')).id,
  tests.id('apns'), 'APNs tokens compare without case');

-- encrypted at rest
select tests.authenticate_as_service_role();
select is(pg_temp.clear_text_tokens(), 0, 'no token or endpoint is stored in the clear');
select is(private.push_device_target(tests.id('web')) -> 'subscription', pg_temp.sub(1),
  'the worker decrypts the subscription');
select is(private.push_device_target(tests.id('fcm')) ->> 'token', 'fcm-token:' || repeat('Ab1_', 10), 'and the token');

-- bad input
select tests.authenticate_as('bob');
select throws_ok($$ select public.register_push_device('web_push', 'web', subscription => '{"endpoint": "https://x.test/1"}') $$,
  '22023', 'invalid web push subscription', 'a subscription without keys is refused');
select throws_ok($$ select public.register_push_device('web_push', 'web',
  subscription => jsonb_set(pg_temp.sub(2), '{endpoint}', '"http://push.example.test/1"')) $$,
  '22023', 'invalid web push subscription', 'a plain-http endpoint is refused (except on loopback)');
select lives_ok($$ select public.register_push_device('web_push', 'web',
  subscription => jsonb_set(pg_temp.sub(3), '{endpoint}', '"http://127.0.0.1:8080/push/3"')) $$,
  'a loopback endpoint is accepted (local development)');
-- Endpoints that would have the notify function send into its own network (SSRF) are refused: IP literals of any
-- form, names of local networks, other ports, user info, single labels.
select tests.authenticate_as_service_role();
select is((select array_agg(e order by e) from unnest(array[
    'https://10.0.0.5/push', 'https://169.254.169.254/latest/meta-data', 'https://127.0.0.1/push', 'https://[::1]/push',
    'https://[fd00::1]/push', 'https://2130706433/push', 'https://0x7f.1/push', 'https://0177.0.0.1/push',
    'https://localhost/push', 'https://push.localhost/push', 'https://printer.local/push', 'https://db.internal/push',
    'https://nas.home.arpa/push', 'https://router.lan/push', 'https://intranet/push', 'https://push.example.test:8443/push',
    'https://user@push.example.test/push', 'https://push.example.test', 'http://10.0.0.5/push', 'http://push.example.test/x',
    'https://push..example.test/x', 'https://-push.example.test/x']) e
   where private.push_endpoint_allowed(e)), null,
  'no IP literal, local or private name, other port, user info or single label is an allowed endpoint');
select is((select array_agg(e order by e) from unnest(array[
    'https://fcm.googleapis.com/fcm/send/dAbC:APA91b', 'https://updates.push.services.mozilla.com/wpush/v2/gAAAAA',
    'https://web.push.apple.com/QGx', 'https://wns2-par02p.notify.windows.com/w/?token=AwYA', 'https://push.example.test:443/x',
    'https://Push.Example.TEST/x', 'http://127.0.0.1:8080/push/3', 'http://localhost:9/p', 'http://[::1]:9/p']) e
   where not private.push_endpoint_allowed(e)), null,
  'the push services'' endpoints (and loopback http) are allowed');
select tests.authenticate_as('bob');
select throws_ok($$ select public.register_push_device('web_push', 'web',
  subscription => jsonb_set(pg_temp.sub(4), '{endpoint}', '"https://169.254.169.254/latest/meta-data"')) $$,
  '22023', 'invalid web push subscription', 'registering an endpoint on a private address is refused');
-- A subscription stored before the rule (or written by the service role) reaches the delivery worker with the
-- database's verdict: endpoint_allowed false, and the worker sends nothing to it (tests/functions/notify.test.ts).
select tests.remember('web_internal', (public.register_push_device('web_push', 'web', subscription => pg_temp.sub(5))).id);
select tests.authenticate_as_service_role();
select is(private.push_device_target(tests.id('web_internal')) -> 'endpoint_allowed', 'true'::jsonb,
  'the worker is told that a registered endpoint is allowed');
select pg_temp.store_endpoint(tests.id('web_internal'), 'https://169.254.169.254/latest/meta-data');
select is(private.push_device_target(tests.id('web_internal')) -> 'endpoint_allowed', 'false'::jsonb,
  'and that a stored endpoint on a private address is not');
select tests.authenticate_as('bob');
select public.unregister_push_device(tests.id('web_internal'));
select throws_ok($$ select public.register_push_device('fcm', 'android', token => 'short') $$, '22023',
  'invalid FCM registration token', 'a malformed FCM token is refused');
select throws_ok($$ select public.register_push_device('apns', 'ios', token => repeat('ab', 32)) $$, '22023',
  'app id is required', 'APNs needs the bundle id');
select throws_ok($$ select public.register_push_device('fcm', 'toaster', token => repeat('x', 30)) $$, '22023',
  'unknown platform', 'an unknown platform is refused');
select throws_ok($$ select public.register_push_device('fcm', 'android', token => repeat('x', 30), remove_on_sign_out => true) $$,
  '22023', 'no session to tie the device to', 'removal at sign-out needs a real session');

-- moving between accounts
select tests.authenticate_as('carol');
select is((public.register_push_device('fcm', 'android', token => 'fcm-token:' || repeat('Ab1_', 10))).id, tests.id('fcm'),
  'a token registered by another account moves to the new one');
select is((select user_id from public.push_devices where id = tests.id('fcm')), tests.id('carol'), 'carol owns it now');
select tests.authenticate_as('bob');
select is_empty($$ select 1 from public.push_devices where id = tests.id('fcm') $$, 'bob no longer sees it');

-- the cap
select tests.authenticate_as_service_role();
update private.notification_delivery_settings set max_devices = 3;
select tests.authenticate_as('bob');
select public.register_push_device('web_push', 'web', subscription => pg_temp.sub(4));
select is((select count(*)::integer from public.push_devices), 3, 'at most max_devices per user');
select isnt_empty($$ select 1 from public.push_devices where id = tests.id('apns') $$, 'the most recently seen stay');
select is_empty($$ select 1 from public.push_devices where id = tests.id('web') $$, 'the one not seen for longest goes');
select tests.authenticate_as_service_role();
update private.notification_delivery_settings set max_devices = 20;

-- unregistering
select tests.authenticate_as('bob');
select tests.remember('web2', (public.register_push_device('web_push', 'web', subscription => pg_temp.sub(1))).id);
select is(public.unregister_push_device(tests.id('web2')), true, 'unregister by id');
select is(public.unregister_push_device(tests.id('web2')), false, 'again: nothing to remove, no error');
select is(public.unregister_push_device(provider => 'web_push', subscription => pg_temp.sub(4)), true, 'unregister by subscription');
select is(public.unregister_push_device(tests.id('fcm')), false, 'another user''s device is not removed');
select throws_ok($$ select public.unregister_push_device() $$, '22023', null, 'say which device');

-- removed with its session at sign-out
select pg_temp.open_session();
select tests.remember('session-bound', (public.register_push_device('fcm', 'android', token => repeat('S', 40),
  remove_on_sign_out => true)).id);
select is((select session_id::text from public.push_devices where id = tests.id('session-bound')), auth.jwt() ->> 'session_id',
  'the device is tied to the session that registered it');
select pg_temp.sign_out();
select is_empty($$ select 1 from public.push_devices where id = tests.id('session-bound') $$,
  'signing out of that session (GoTrue deletes it) removes the device');
select isnt_empty($$ select 1 from public.push_devices where id = tests.id('apns') $$, 'other devices stay');

-- who may read and write
select tests.authenticate_as('alice');
select is_empty($$ select 1 from public.push_devices where user_id = tests.id('bob') $$, 'nobody sees another user''s devices');
select throws_ok($$ insert into public.push_devices (user_id, provider, platform) values (auth.uid(), 'fcm', 'android') $$,
  '42501', null, 'devices are registered only through the RPC');
select throws_ok($$ select * from private.push_device_secrets $$, '42501', null, 'clients cannot read the tokens');
select throws_ok($$ select private.push_device_target(tests.id('apns')) $$, '42501', null, 'nor decrypt them');
select tests.clear_authentication();
select throws_ok($$ select public.register_push_device('fcm', 'android', token => repeat('x', 30)) $$, '42501', null,
  'anon registers nothing');

-- the outbox ------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select public.register_push_device('web_push', 'web', subscription => pg_temp.sub(1));
select pg_temp.reset();
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'hi @bob', mentions => array[tests.id('bob')]);
select is(pg_temp.outbox('bob'), array['apns pending', 'email pending', 'web_push pending', 'web_push pending'],
  'a mention queues one push per device (two browsers, one iPhone) and an email, in the same transaction');
select is(pg_temp.email_wait('bob'), interval '10 minutes', 'the email waits email_delay');
select public.send_message(tests.id('team'), 'and again @bob', mentions => array[tests.id('bob')]);
select is(pg_temp.outbox('bob'), array['apns pending', 'apns pending', 'email pending', 'web_push pending', 'web_push pending',
  'web_push pending', 'web_push pending'],
  'a burst of mentions in one chat shares one email');
select is(pg_temp.outbox('carol'), '{}'::text[], 'no notification, no delivery');

select pg_temp.reset();
select tests.authenticate_as('carol');
select public.toggle_reaction((select id from public.messages where chat_id = tests.id('team') order by seq desc limit 1), '👍');
select is(pg_temp.outbox('alice'), '{}'::text[], 'a user without devices gets no push');

select pg_temp.reset();
select tests.authenticate_as('bob');
select public.set_chat_preferences(tests.id('team'), muted_until => now() + interval '1 day');
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'muted @bob', mentions => array[tests.id('bob')]);
select is(pg_temp.outbox('bob'), '{}'::text[], 'a muted chat queues neither push nor email');
select tests.authenticate_as('bob');
select public.set_chat_preferences(tests.id('team'), muted_until => now() - interval '1 second');
select public.update_notification_settings(push_enabled => false);
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'push off @bob', mentions => array[tests.id('bob')]);
select is(pg_temp.outbox('bob'), array['email pending'], 'push off: email on mention only');
select pg_temp.reset();
select tests.authenticate_as('bob');
select public.update_notification_settings(push_enabled => true, email_on_mention => false);
select tests.set_status('bob', 'busy');
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'busy @bob', mentions => array[tests.id('bob')]);
select is(pg_temp.outbox('bob'), '{}'::text[], 'busy and email off: nothing to deliver');
select is(tests.notifications_of('bob'), array['mention team'], 'but the inbox has it');
select tests.set_status('bob', 'online');

select pg_temp.reset();
select tests.authenticate_as('alice');
select tests.remember('oops', (public.send_message(tests.id('team'), 'oops @bob', mentions => array[tests.id('bob')])).id);
select is(cardinality(pg_temp.outbox('bob')), 3, 'queued');
select public.delete_message(tests.id('oops'));
select is(pg_temp.outbox('bob'), '{}'::text[], 'a deleted message takes its queued deliveries along');

-- claiming and settling (the notify function's side) --------------------------------------------------------------------
select pg_temp.reset();
select tests.authenticate_as('alice');
select tests.remember('claim-me', (public.send_message(tests.id('team'), 'claim @bob', mentions => array[tests.id('bob')])).id);
select throws_ok($$ select * from private.claim_deliveries() $$, '42501', null, 'clients cannot claim deliveries');
select throws_ok($$ select private.settle_delivery(1, 'sent') $$, '42501', null, 'nor settle them');
select throws_ok($$ select private.unsubscribe_email(auth.uid(), 'x') $$, '42501', null, 'nor call the unsubscribe check');
select tests.authenticate_as_service_role();
create temp table claimed on commit drop as select * from private.claim_deliveries(50, 60);
select is((select array_agg(channel order by channel) from claimed), array['apns', 'web_push', 'web_push'],
  'the worker claims the due pushes (the email is not due yet)');
select is((select count(*)::integer from claimed where payload -> 'target' ? 'subscription' or payload -> 'target' ? 'token'), 3,
  'each with its decrypted target');
select is((select payload -> 'notification' ->> 'preview' from claimed limit 1), 'claim @bob', 'and the notification');
select is((select count(*)::integer from private.claim_deliveries(50, 60)), 0, 'leased rows are not claimed twice');
select is(private.settle_delivery((select delivery_id from claimed where channel = 'apns'), 'retry', 429, 7), 'pending',
  'a 429 goes back to the queue');
select is(pg_temp.outbox('bob'), array['apns pending', 'web_push sending', 'web_push sending'], 'waiting (bob turned mention emails off above)');
select is(private.settle_delivery((select min(delivery_id) from claimed where channel = 'web_push'), 'gone', 410), 'pruned',
  'a 410 prunes the device');
select is(private.settle_delivery((select max(delivery_id) from claimed where channel = 'web_push'), 'sent', 201), 'sent',
  'a 201 is sent');
select is(pg_temp.outbox('bob'), array['apns pending', 'web_push sent'], 'the pruned device took its row along');
select throws_ok($$ select private.settle_delivery((select max(delivery_id) from claimed), 'maybe') $$, '22023', null,
  'an unknown outcome is refused');
select tests.authenticate_as('bob');
select public.mark_all_notifications_read();
select tests.authenticate_as_service_role();
select pg_temp.make_due('bob');
select is((select count(*)::integer from private.claim_deliveries(50, 60)), 0, 'read notifications are not pushed or emailed');
select is(pg_temp.outbox('bob'), array['apns skipped', 'web_push sent'], 'they are skipped');
select is(private.unsubscribe_email(tests.id('bob'), 'forged'), false, 'a forged unsubscribe token does nothing');
select is(private.unsubscribe_email(tests.id('bob'), pg_temp.unsubscribe_token('bob')), true,
  'the real one turns mention emails off');
select is((select email_on_mention from public.notification_settings where user_id = tests.id('bob')), false, 'off');

select * from finish();
rollback;
