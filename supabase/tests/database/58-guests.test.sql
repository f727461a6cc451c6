-- Guests (issue 21, item 4): an anonymous user (GoTrue's anonymous sign-in: is_anonymous in the account and the
-- token) or one without a confirmed email or phone may join discoverable channels, read them, keep their own read
-- state and leave; every other RPC, table write, upload and Realtime send refuses them with 42501, and nobody can
-- put them in a group or a direct chat. The account row decides (confirming the email lifts it at once); a token
-- that still says is_anonymous keeps the holder a guest.
begin;
create extension if not exists pgtap with schema extensions;
select plan(41);

select tests.create_user(u) from unnest(array['alice', 'guest', 'newbie', 'bob']) u;
update auth.users set is_anonymous = true, email = null, email_confirmed_at = null where id = tests.id('guest');
update auth.users set email_confirmed_at = null where id = tests.id('newbie');
select tests.create_channel('news', 'alice', title => 'News');
select tests.create_group('team', 'alice', members => array['bob'], title => 'Team');
select tests.create_group('club', 'alice', title => 'Club');
reset role;
update public.chats set discoverable = true where id = tests.id('club');
select tests.send_message('n1', 'alice', 'news', 'channel post');
select tests.create_invite_link('link', 'alice', 'team');

-- what a guest may do --------------------------------------------------------------------------------------------------
select tests.authenticate_as('guest');
select is((auth.jwt() ->> 'is_anonymous')::boolean, true, 'the guest''s token says is_anonymous, as GoTrue''s does');
select is(private.is_guest(), true, 'an anonymous user is a guest');
select is((public.join_chat(tests.id('news'))).role::text, 'member', 'a guest joins a discoverable channel');
select is((select count(*) from public.get_chat_messages(tests.id('news'))), 1::bigint, 'and reads its messages');
select is((select count(*) from public.messages where chat_id = tests.id('news')), 1::bigint, 'through the table too');
select is((select count(*) from public.list_chats()), 1::bigint, 'the channel is in the guest''s chat list');
select lives_ok(format('select public.mark_chat_read(%L)', tests.id('news')), 'a guest keeps their own read state');
select lives_ok(format('select public.get_chat_events(%L)', tests.id('news')), 'and catches up on the channel''s events');
select is(tests.realtime_can_read('chat:' || tests.id('news'), 'broadcast'), true, 'and hears the channel live');

-- what a guest may not do ----------------------------------------------------------------------------------------------
select throws_ok(format('select public.send_message(%L, %L)', tests.id('news'), 'hi'), '42501',
  'guest accounts can only read channels', 'a guest cannot post, even where members may');
select throws_ok(format('select public.toggle_reaction(%L, %L)', tests.id('n1'), '👍'), '42501',
  'guest accounts can only read channels', 'a guest cannot react');
select throws_ok($$ select public.create_group_chat('mine') $$, '42501', 'guest accounts can only read channels',
  'a guest cannot create a group');
select throws_ok($$ select public.create_channel('mine') $$, '42501', 'guest accounts can only read channels',
  'a guest cannot create a channel');
select throws_ok(format('select public.create_direct_chat(%L)', tests.id('alice')), '42501',
  'guest accounts can only read channels', 'a guest cannot start a direct chat');
select throws_ok(format('select public.join_chat(%L)', tests.id('club')), '42501', 'guest accounts can only join channels',
  'a guest cannot join a discoverable group');
select throws_ok(format('select public.accept_invite_link(%L)', tests.token('link')), '42501',
  'guest accounts can only read channels', 'a guest cannot accept an invite link');
select throws_ok($$ select public.heartbeat('online') $$, '42501', 'guest accounts can only read channels',
  'a guest is never shown online');
select throws_ok($$ select public.register_push_device(provider => 'fcm', platform => 'android', token => 'guest-token') $$, '42501',
  'guest accounts can only read channels', 'a guest registers no push device');
select is_empty($$ update public.profiles set display_name = 'Official Support' where id = auth.uid() returning 1 $$,
  'a guest cannot edit their profile');
select throws_ok(format('insert into public.user_blocks (blocked_id) values (%L)', tests.id('alice')), '42501', null,
  'a guest cannot block users');
select throws_ok(format('select tests.storage_upload(%L, %L, %L, 100)', 'avatars', tests.id('guest') || '/me.png', 'image/png'),
  '42501', null, 'a guest cannot upload an avatar');
select is(tests.realtime_can_write('chat:' || tests.id('news') || ':typing', 'broadcast'), false, 'a guest sends no typing events');
select is(tests.realtime_can_write('chat:' || tests.id('news') || ':typing', 'presence'), false, 'and tracks no Presence');
select lives_ok(format('select public.leave_chat(%L)', tests.id('news')), 'a guest can leave the channel');

-- nobody puts a guest anywhere else -------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select throws_ok(format('select public.add_chat_members(%L, array[%L]::uuid[])', tests.id('team'), tests.id('guest')), '42501',
  'guest accounts can only join channels', 'an admin cannot add a guest to a group');
select throws_ok(format('select public.create_direct_chat(%L)', tests.id('guest')), '42501',
  'guest accounts can only join channels', 'nobody can open a direct chat with a guest');
select throws_ok(format('select public.create_group_chat(%L, array[%L]::uuid[])', 'with guest', tests.id('guest')), '42501',
  'guest accounts can only join channels', 'nor create a group with one');
select is((public.add_chat_members(tests.id('news'), array[tests.id('guest')])), 1, 'an admin may add a guest to a channel');
select throws_ok(format('select public.set_member_role(%L, %L, %L)', tests.id('news'), tests.id('guest'), 'admin'), '42501',
  'guest accounts cannot administer chats', 'a guest cannot be made an admin');
select throws_ok(format('select public.transfer_chat_ownership(%L, %L)', tests.id('news'), tests.id('guest')), '42501',
  'guest accounts cannot administer chats', 'nor the owner of a channel');

-- unconfirmed email -----------------------------------------------------------------------------------------------------
select tests.authenticate_as('newbie');
select is(private.is_guest(), true, 'a user without a confirmed email is a guest');
select throws_ok($$ select public.create_group_chat('early') $$, '42501', 'guest accounts can only read channels',
  'and cannot create a group');
select is((public.join_chat(tests.id('news'))).role::text, 'member', 'but may read a discoverable channel');
select throws_ok(format('select public.send_message(%L, %L)', tests.id('news'), 'hi'), '42501',
  'guest accounts can only read channels', 'and cannot post in it');
reset role;
update auth.users set email_confirmed_at = now() where id = tests.id('newbie');
select tests.authenticate_as('newbie');
select is(private.is_guest(), false, 'confirming the email ends guest status at once');
select isnt((public.create_group_chat('confirmed')).id, null, 'and the user can create a group');
reset role;
update auth.users set phone = '15550001', phone_confirmed_at = now(), email_confirmed_at = null where id = tests.id('newbie');
select tests.authenticate_as('newbie');
select is(private.is_guest(), false, 'a confirmed phone counts as confirmed too');

-- a stale anonymous token ----------------------------------------------------------------------------------------------
reset role;
update auth.users set is_anonymous = false, email = 'guest@example.test', email_confirmed_at = now() where id = tests.id('guest');
select tests.authenticate_as('guest');
select set_config('request.jwt.claims', (auth.jwt() || '{"is_anonymous": true}')::text, true);
select is(private.is_guest(), true, 'a token that still says is_anonymous keeps its holder a guest until it is refreshed');
select tests.authenticate_as('guest');
select is(private.is_guest(), false, 'the refreshed token (is_anonymous false) of the converted account is a full user');

-- the service role and anon are not guests -----------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select is(private.is_guest(), false, 'the service role is not a guest');
select tests.clear_authentication();
reset role;
select set_config('request.jwt.claims', '{"role": "anon"}', true);
select is(private.is_guest(), false, 'anon is not a guest (it is refused as not signed in)');

select * from finish();
rollback;
