-- Privacy settings (issue 18, item 3): who may message me directly, who may add me to groups (others' adds become
-- invitations), who sees my online status and last seen (profiles, get_presence, the status:<id> topic); the
-- settings are the owner's alone.
begin;
create extension if not exists pgtap with schema extensions;
select plan(43);

select tests.create_user(u) from unnest(array['pv_quiet', 'pv_friend', 'pv_stranger', 'pv_admin', 'pv_other']) u;
-- pv_friend shares a group with pv_quiet; pv_stranger shares nothing with anyone.
select tests.create_group('friends', 'pv_friend', members => array['pv_quiet'], title => 'Friends');
select tests.create_group('club', 'pv_admin', members => array['pv_friend'], title => 'Club');

-- the settings themselves ------------------------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok($$ select public.get_privacy_settings() $$, '42501', null, 'anon has no privacy settings');
select throws_ok($$ select public.update_privacy_settings(who_can_message => 'nobody') $$, '42501', null,
  'anon cannot change privacy settings');
select tests.authenticate_as('pv_quiet');
select is((select (s.who_can_message, s.who_can_add, s.who_can_see_presence)::text from public.get_privacy_settings() s),
  '(everyone,everyone,everyone)', 'the defaults let everyone in');
select is((select s.who_can_add::text from public.update_privacy_settings(who_can_add => 'contacts') s), 'contacts',
  'a user changes one setting');
select is((select (s.who_can_message, s.who_can_add)::text from public.update_privacy_settings(who_can_message => 'contacts') s),
  '(contacts,contacts)', 'arguments left null keep their value');
select is((select count(*)::int from public.privacy_settings), 1, 'the owner reads their own row');
select throws_ok($$ update public.privacy_settings set who_can_message = 'everyone' $$, '42501', null,
  'the table is changed only through the RPC');
select throws_ok($$ insert into public.privacy_settings (user_id) values (tests.get_user_id('pv_friend')) $$, '42501', null,
  'nobody writes settings rows directly');
select throws_ok($$ select public.update_privacy_settings(who_can_message => 'friends'::public.privacy_audience) $$, '22P02', null,
  'an unknown audience is refused');
select tests.authenticate_as('pv_friend');
select is((select count(*)::int from public.privacy_settings), 0, 'another user cannot read someone''s settings');
select is((select (s.who_can_message)::text from public.get_privacy_settings() s), 'everyone',
  'and gets their own settings from the RPC');

-- who may message me directly ----------------------------------------------------------------------------------------
select tests.authenticate_as('pv_stranger');
select throws_ok($$ select public.create_direct_chat(tests.get_user_id('pv_quiet')) $$, '42501',
  'this user does not accept direct messages from you', 'contacts: a stranger cannot open a direct chat');
select is((select count(*)::int from public.chats c where c.kind = 'direct' and c.created_by = tests.get_user_id('pv_stranger')), 0,
  'and no chat was made');
select tests.authenticate_as('pv_friend');
select lives_ok($$ select tests.remember('dm', c.id) from public.create_direct_chat(tests.get_user_id('pv_quiet')) c $$,
  'contacts: someone who shares a chat opens one');
select lives_ok($$ select public.send_message(tests.id('dm'), 'hello') $$, 'and messages');
select tests.authenticate_as('pv_quiet');
select public.update_privacy_settings(who_can_message => 'nobody');
select tests.authenticate_as('pv_friend');
select throws_ok($$ select public.send_message(tests.id('dm'), 'still there?') $$, '42501',
  'this user does not accept direct messages from you', 'nobody: messages in an existing direct chat are refused');
select throws_ok($$ select public.forward_message((select id from public.messages where chat_id = tests.id('dm') limit 1), tests.id('dm')) $$,
  '42501', null, 'and so are forwards into it');
select tests.authenticate_as('pv_quiet');
select lives_ok($$ select public.send_message(tests.id('dm'), 'I can still write') $$,
  'the user who chose nobody can still write in their direct chats');
select lives_ok($$ select public.send_message(tests.id('friends'), 'groups are not direct messages') $$,
  'group messages are not direct messages');

-- who may add me to groups ------------------------------------------------------------------------------------------
select tests.authenticate_as('pv_admin');
select is(public.add_chat_members(tests.id('club'), array[tests.get_user_id('pv_quiet')]), 0,
  'contacts: a stranger''s add adds nobody');
select is(tests.role_of('club', 'pv_quiet'), null, 'the user is not a member');
select is((select status::text from public.chat_invitations where chat_id = tests.id('club') and invited_user_id = tests.get_user_id('pv_quiet')),
  'pending', 'the add became a pending invitation');
select tests.authenticate_as('pv_quiet');
select is((select count(*)::int from public.chat_invitations where invited_user_id = tests.get_user_id('pv_quiet') and status = 'pending'), 1,
  'the user sees the invitation');
select lives_ok($$ select public.respond_to_invitation((select id from public.chat_invitations where chat_id = tests.id('club')
                                                                and invited_user_id = tests.get_user_id('pv_quiet')), true) $$,
  'and may accept it');
select is(tests.role_of('club', 'pv_quiet'), 'member', 'accepting joins');
select tests.authenticate_as('pv_friend');
select tests.remember('fg', c.id) from public.create_group_chat('Friend group', array[tests.get_user_id('pv_quiet')]) c;
select is(tests.role_of('fg', 'pv_quiet'), 'member', 'contacts: someone who shares a chat adds the user directly');
select tests.authenticate_as('pv_quiet');
select public.update_privacy_settings(who_can_add => 'nobody');
select tests.authenticate_as('pv_friend');
select tests.remember('fg2', c.id) from public.create_group_chat('Friend group 2', array[tests.get_user_id('pv_quiet')]) c;
select is(tests.role_of('fg2', 'pv_quiet'), null, 'nobody: even a contact''s add at creation adds nobody');
select is((select count(*)::int from public.chat_invitations where chat_id = tests.id('fg2') and status = 'pending'), 1,
  'and becomes an invitation');

-- who sees my online status and last seen -----------------------------------------------------------------------
select tests.authenticate_as('pv_other');
select public.heartbeat('online');
select tests.authenticate_as('pv_quiet');
select public.heartbeat('busy');
select tests.authenticate_as('pv_stranger');
select is((select status::text from public.profiles where id = tests.get_user_id('pv_quiet')), 'busy',
  'everyone: anyone reads the status in profiles');
select tests.authenticate_as('pv_quiet');
select public.update_privacy_settings(who_can_see_presence => 'contacts');
select tests.authenticate_as('pv_stranger');
select is((select (status, last_seen_at)::text from public.profiles where id = tests.get_user_id('pv_quiet')), '(offline,)',
  'contacts: profiles show offline and no last seen to everyone');
select is((select (status, last_seen_at)::text from public.get_presence(array[tests.get_user_id('pv_quiet')])), '(offline,)',
  'and get_presence tells a stranger the same');
select ok(not tests.realtime_can_read('status:' || tests.get_user_id('pv_quiet'), 'broadcast'),
  'a stranger cannot follow the status topic');
reset role;
create temp table profile_version as select ctid::text as v from public.profiles where id = tests.get_user_id('pv_quiet');
select tests.authenticate_as('pv_quiet');
select is(public.heartbeat() ->> 'shown_status', 'offline', 'the heartbeat says what others see: offline');
reset role;
select is((select ctid::text from public.profiles where id = tests.get_user_id('pv_quiet')), (select v from profile_version),
  'and writes nothing to the hidden profile (the same row version)');
select tests.authenticate_as('pv_friend');
select is((select status::text from public.get_presence(array[tests.get_user_id('pv_quiet')])), 'busy',
  'contacts: someone who shares a chat reads the real status with get_presence');
select isnt((select last_seen_at from public.get_presence(array[tests.get_user_id('pv_quiet')])), null, 'and the last seen');
select ok(tests.realtime_can_read('status:' || tests.get_user_id('pv_quiet'), 'broadcast'), 'and may follow the status topic');
select is((select count(*)::int from public.get_presence(array[tests.get_user_id('pv_quiet'), tests.get_user_id('pv_other')])
            where status = 'online'), 1, 'users with the default stay visible to everyone');
select tests.authenticate_as('pv_quiet');
select public.update_privacy_settings(who_can_see_presence => 'nobody');
select is((select status::text from public.get_presence(array[tests.get_user_id('pv_quiet')])), 'busy',
  'the user always sees their own status');
select tests.authenticate_as('pv_friend');
select is((select status::text from public.get_presence(array[tests.get_user_id('pv_quiet')])), 'offline',
  'nobody: contacts see offline too');
select ok(not tests.realtime_can_read('status:' || tests.get_user_id('pv_quiet'), 'broadcast'), 'nobody: no one follows the status topic');
select tests.authenticate_as('pv_quiet');
select public.update_privacy_settings(who_can_see_presence => 'everyone');
select tests.authenticate_as('pv_stranger');
select is((select status::text from public.profiles where id = tests.get_user_id('pv_quiet')), 'busy',
  'back to everyone: profiles show the real status at once');
select throws_ok($$ select public.get_presence(array(select gen_random_uuid() from generate_series(1, 201))) $$, '22023', null,
  'at most 200 users per call');

select * from finish();
rollback;
