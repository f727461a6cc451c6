-- Chats: creating direct chats, groups and channels, who sees which chat, joining, settings, preferences, leaving,
-- deleting and handing over ownership; clients cannot write chats, chat_members or chat_bans directly.
-- Personas: olga (owner), adam (admin), mia (member), otto (outsider), bea (banned), blake (blocked by olga), anon.
begin;
create extension if not exists pgtap with schema extensions;
select plan(125);

-- Chats are named by their title (tests.id), probes come from sql/test/04_fixtures.sql.
select tests.create_user('olga');
select tests.create_user('adam');
select tests.create_user('mia');
select tests.create_user('otto');
select tests.create_user('bea');
select tests.create_user('blake');
select tests.create_block('olga', 'blake');

-- anon ----------------------------------------------------------------------------------------------------------------
select tests.clear_authentication();
select is_empty($$
  select p.oid::regprocedure from pg_proc p
   where p.pronamespace = 'public'::regnamespace
     and p.proname in ('create_direct_chat', 'create_group_chat', 'create_channel', 'join_chat', 'update_chat',
                       'leave_chat', 'delete_chat', 'transfer_chat_ownership', 'set_chat_preferences')
     and has_function_privilege('anon', p.oid, 'execute')
$$, 'anon cannot execute any chat RPC');
select throws_ok($$ select public.create_direct_chat(tests.get_user_id('olga')) $$, '42501', null,
  'anon cannot open a direct chat');
select throws_ok($$ select public.create_group_chat('Anon group') $$, '42501', null, 'anon cannot create a group');
select throws_ok($$ select public.create_channel('Anon channel') $$, '42501', null, 'anon cannot create a channel');
select throws_ok($$ select * from public.chats $$, '42501', null, 'anon cannot read chats');
select throws_ok($$ select * from public.chat_members $$, '42501', null, 'anon cannot read chat members');
select throws_ok($$ select * from public.chat_bans $$, '42501', null, 'anon cannot read chat bans');
select throws_ok($$ insert into public.chats (kind, title) values ('group', 'Anon insert') $$, '42501', null,
  'anon cannot insert chats');
select throws_ok($$ update public.chat_members set role = 'owner' $$, '42501', null, 'anon cannot update chat members');
select throws_ok($$ delete from public.chat_bans $$, '42501', null, 'anon cannot delete chat bans');

-- direct chats ----------------------------------------------------------------------------------------------------------
select tests.authenticate_as('olga');
select results_eq(
  $$ select kind::text, title, member_count from public.create_direct_chat(tests.get_user_id('otto')) $$,
  $$ values ('direct'::text, null::text, 2) $$,
  'a user opens a direct chat with another user');
select is((public.create_direct_chat(tests.get_user_id('otto'))).id, tests.direct_chat_of('olga', 'otto'),
  'opening it again returns the same chat');
select results_eq(
  $$ select user_id, role::text from public.chat_members where chat_id = tests.direct_chat_of('olga', 'otto') order by user_id $$,
  $$ select id, 'member'::text from unnest(array[tests.get_user_id('olga'), tests.get_user_id('otto')]) id order by id $$,
  'both users are plain members of a direct chat');
select throws_ok($$ select public.create_direct_chat(auth.uid()) $$, '22023', null,
  'a direct chat with oneself is refused');
select throws_ok($$ select public.create_direct_chat(null) $$, '22023', null, 'a direct chat needs a user');
select throws_ok($$ select public.create_direct_chat(gen_random_uuid()) $$, 'PT404', null,
  'a direct chat with an unknown user is refused');
select throws_ok($$ select public.create_direct_chat(tests.get_user_id('blake')) $$, '42501', null,
  'the blocker cannot open a direct chat with the user they blocked');
select tests.authenticate_as('otto');
select is((public.create_direct_chat(tests.get_user_id('olga'))).id, tests.direct_chat_of('olga', 'otto'),
  'the other user opening it gets the same chat');
select is(tests.member_counts(tests.direct_chat_of('olga', 'otto')), array[2, 2], 'repeated opening adds nobody');
select tests.authenticate_as('blake');
select throws_ok($$ select public.create_direct_chat(tests.get_user_id('olga')) $$, '42501', null,
  'the blocked user cannot open a direct chat with the blocker');
select is(tests.direct_chat_of('olga', 'blake'), null, 'refused direct chats were not created');
select tests.authenticate_as('mia');
select is_empty($$ select 1 from public.chats where id = tests.direct_chat_of('olga', 'otto') $$,
  'an outsider cannot see a direct chat');
select is_empty($$ select 1 from public.chat_members where chat_id = tests.direct_chat_of('olga', 'otto') $$,
  'an outsider cannot see the members of a direct chat');
select throws_ok($$ select public.join_chat(tests.direct_chat_of('olga', 'otto')) $$, 'PT404', null,
  'an outsider cannot join a direct chat');

-- groups ------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('olga');
select results_eq(
  $$ select kind::text, title, description, member_count, who_can_post::text, discoverable, created_by
       from public.create_group_chat('Team',
              array[tests.get_user_id('adam'), tests.get_user_id('mia'), tests.get_user_id('bea'),
                    tests.get_user_id('adam'), auth.uid()],
              'the team') $$,
  $$ values ('group'::text, 'Team'::text, 'the team'::text, 4, 'members'::text, false, tests.get_user_id('olga')) $$,
  'a user creates a group with members (duplicates and the creator in the list are ignored)');
select results_eq(
  $$ select tests.role_of('Team', u) from unnest(array['olga', 'adam', 'mia', 'bea']) u $$,
  $$ values ('owner'::text), ('member'), ('member'), ('member') $$,
  'the creator owns the group, the others are members');
select throws_ok($$ select public.create_group_chat(null) $$, '22023', null, 'a group needs a title');
select throws_ok($$ select public.create_group_chat('   ') $$, '22023', null, 'a blank title is refused');
select throws_ok($$ select public.create_group_chat(repeat('t', 129)) $$, '22023', null, 'a title over 128 characters is refused');
select throws_ok($$ select public.create_group_chat('Long', '{}', repeat('d', 1001)) $$, '22023', null,
  'a description over 1000 characters is refused');
select throws_ok($$ select public.create_group_chat('Ghosts', array[gen_random_uuid()]) $$, 'PT404', null,
  'a group with an unknown member is refused');
select throws_ok($$ select public.create_group_chat('With blake', array[tests.get_user_id('blake')]) $$, '42501', null,
  'a group with a user the creator blocked is refused');
select tests.authenticate_as('blake');
select throws_ok($$ select public.create_group_chat('With olga', array[tests.get_user_id('olga')]) $$, '42501', null,
  'a group with a user who blocked the creator is refused');
reset role;
select is((select count(*)::int from public.chats where kind = 'group'), 1, 'refused group creations left no chat behind');

-- setup for the rest: adam is an admin of Team, bea is banned from it
select tests.authenticate_as('olga');
select public.set_member_role(tests.id('Team'), tests.get_user_id('adam'), 'admin');
select public.ban_chat_member(tests.id('Team'), tests.get_user_id('bea'), 'spam');

-- channels ------------------------------------------------------------------------------------------------------------
select results_eq(
  $$ select kind::text, member_count, who_can_post::text, discoverable from public.create_channel('News', 'daily news') $$,
  $$ values ('channel'::text, 1, 'admins'::text, true) $$,
  'a channel is created discoverable, with only admins posting');
select is(tests.role_of('News', 'olga'), 'owner', 'the creator owns the channel');
select is((public.create_channel('Secret', null, false)).discoverable, false, 'a channel can be created private');
select throws_ok($$ select public.create_channel('') $$, '22023', null, 'a channel needs a title');

-- visibility ------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('mia');
select results_eq($$ select title from public.chats where kind <> 'direct' order by title $$,
  $$ values ('News'::text), ('Team') $$,
  'a member sees their chats and discoverable ones, not private chats of others');
select is((select count(*)::int from public.chat_members where chat_id = tests.id('Team')), 3,
  'a member sees the members of their chat');
select tests.authenticate_as('otto');
select results_eq($$ select title from public.chats where kind <> 'direct' $$, $$ values ('News'::text) $$,
  'an outsider sees only discoverable chats');
select is_empty($$ select 1 from public.chat_members where chat_id in (tests.id('Team'), tests.id('News')) $$,
  'an outsider sees no members, not even of discoverable chats');
select tests.authenticate_as('bea');
select is_empty($$ select 1 from public.chats where id = tests.id('Team') $$, 'a banned user cannot see the chat');
select is_empty($$ select 1 from public.chat_members where chat_id = tests.id('Team') $$,
  'a banned user cannot see its members');

-- join_chat ---------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('otto');
select results_eq($$ select user_id, role::text from public.join_chat(tests.id('News')) $$,
  $$ values (tests.get_user_id('otto'), 'member'::text) $$,
  'a user joins a discoverable channel as a member');
select lives_ok($$ select public.join_chat(tests.id('News')) $$, 'joining again is harmless');
select is(tests.member_counts(tests.id('News')), array[2, 2], 'joining twice counts once');
select is((select count(*)::int from public.chat_members where chat_id = tests.id('News')), 2,
  'after joining, the user sees the members');
select throws_ok($$ select public.join_chat(tests.id('Secret')) $$, 'PT404', null,
  'a private channel cannot be joined');
select throws_ok($$ select public.join_chat(tests.id('Team')) $$, 'PT404', null,
  'a private group cannot be joined');
select throws_ok($$ select public.join_chat(gen_random_uuid()) $$, 'PT404', null,
  'an unknown chat cannot be joined (same error as a private one)');
select is(tests.role_of('Team', 'otto'), null, 'refused joins add nobody');
select tests.clear_authentication();
select throws_ok($$ select public.join_chat(tests.id('News')) $$, '42501', null, 'anon cannot join');

-- update_chat -------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('olga');
select is((public.update_chat(tests.id('Team'), title => 'Team 2')).title, 'Team 2', 'the owner renames the chat');
select tests.authenticate_as('adam');
select results_eq(
  $$ select title, description from public.update_chat(tests.id('Team 2'), title => 'Team', description => 'our team') $$,
  $$ values ('Team'::text, 'our team'::text) $$,
  'an admin updates title and description');
select tests.authenticate_as('mia');
select throws_ok($$ select public.update_chat(tests.id('Team'), title => 'Mine') $$, '42501', null,
  'a member cannot update the chat');
select tests.authenticate_as('otto');
select throws_ok($$ select public.update_chat(tests.id('Team'), title => 'Mine') $$, 'PT404', null,
  'an outsider cannot update the chat (and cannot tell it exists)');
select throws_ok($$ select public.update_chat(tests.id('News'), title => 'Mine') $$, '42501', null,
  'a plain member of a channel cannot update it');
select tests.authenticate_as('bea');
select throws_ok($$ select public.update_chat(tests.id('Team'), title => 'Mine') $$, 'PT404', null,
  'a banned user cannot update the chat');
select tests.clear_authentication();
select throws_ok($$ select public.update_chat(tests.id('Team'), title => 'Mine') $$, '42501', null,
  'anon cannot update a chat');
reset role;
select results_eq($$ select title, description from public.chats where id = tests.id('Team') $$,
  $$ values ('Team'::text, 'our team'::text) $$, 'refused updates changed nothing');

select tests.authenticate_as('olga');
select throws_ok($$ select public.update_chat(tests.id('Team'), slow_mode_seconds => 3601) $$, '22023', null,
  'slow mode above 3600 seconds is refused');
select throws_ok($$ select public.update_chat(tests.id('Team'), slow_mode_seconds => -1) $$, '22023', null,
  'negative slow mode is refused');
select throws_ok($$ select public.update_chat(tests.id('Team'), title => repeat('t', 129)) $$, '22023', null,
  'a title over 128 characters is refused');
select throws_ok($$ select public.update_chat(tests.id('Team'), description => repeat('d', 1001)) $$, '22023', null,
  'a description over 1000 characters is refused');
select results_eq(
  $$ select slow_mode_seconds, who_can_post::text, history_visible_to_new_members, discoverable
       from public.update_chat(tests.id('Team'), slow_mode_seconds => 3600, who_can_post => 'admins',
                               history_visible_to_new_members => false) $$,
  $$ values (3600, 'admins'::text, false, false) $$,
  'the owner sets slow mode, posting permission and history visibility');
select results_eq(
  $$ select title, description, slow_mode_seconds, who_can_post::text from public.update_chat(tests.id('Team')) $$,
  $$ values ('Team'::text, 'our team'::text, 3600, 'admins'::text) $$,
  'arguments left null keep their values');
select is((public.update_chat(tests.id('Team'), description => '')).description, null,
  'an empty description clears it');
select throws_ok($$ select public.update_chat(tests.direct_chat_of('olga', 'otto'), title => 'Us') $$, '22023', null,
  'a direct chat has no settings to update');

-- a group made discoverable can be found and joined
select public.create_group_chat('Lobby');
select is((public.update_chat(tests.id('Lobby'), discoverable => true)).discoverable, true,
  'the owner makes a group discoverable');
select tests.authenticate_as('otto');
select ok(exists (select 1 from public.chats where id = tests.id('Lobby')), 'an outsider now sees the group');
select lives_ok($$ select public.join_chat(tests.id('Lobby')) $$, 'and joins it');
select is(tests.role_of('Lobby', 'otto'), 'member', 'as a member');

-- set_chat_preferences -----------------------------------------------------------------------------------------------------
select tests.authenticate_as('mia');
select results_eq(
  $$ select user_id, archived_at is not null, pinned_at is not null, muted_until > now(), notification_level::text
       from public.set_chat_preferences(tests.id('Team'), archived => true, pinned => true,
                                        muted_until => now() + interval '1 day', notification_level => 'mentions') $$,
  $$ values (tests.get_user_id('mia'), true, true, true, 'mentions'::text) $$,
  'a member archives, pins, mutes and sets the notification level of a chat');
select results_eq(
  $$ select archived_at is null, pinned_at is not null, muted_until is null, notification_level::text
       from public.set_chat_preferences(tests.id('Team'), archived => false, muted_until => now() - interval '1 minute') $$,
  $$ values (true, true, true, 'mentions'::text) $$,
  'unarchiving and a past mute time clear them; other preferences are kept');
reset role;
select is_empty($$
  select 1 from public.chat_members
   where chat_id = tests.id('Team') and user_id <> tests.get_user_id('mia')
     and (archived_at is not null or pinned_at is not null or muted_until is not null or notification_level <> 'all')
$$, 'preferences change only the caller''s own membership');
select tests.authenticate_as('otto');
select throws_ok($$ select public.set_chat_preferences(tests.id('Team'), archived => true) $$, 'PT404', null,
  'an outsider cannot set preferences of a chat');
select tests.clear_authentication();
select throws_ok($$ select public.set_chat_preferences(tests.id('Team'), archived => true) $$, '42501', null,
  'anon cannot set preferences');

-- transfer_chat_ownership ----------------------------------------------------------------------------------------------------
select tests.authenticate_as('olga');
select public.create_group_chat('Handover', array[tests.get_user_id('adam'), tests.get_user_id('mia')]);
select public.set_member_role(tests.id('Handover'), tests.get_user_id('adam'), 'admin');
select tests.authenticate_as('adam');
select throws_ok($$ select public.transfer_chat_ownership(tests.id('Handover'), auth.uid()) $$, '42501', null,
  'an admin cannot take ownership');
select tests.authenticate_as('mia');
select throws_ok($$ select public.transfer_chat_ownership(tests.id('Handover'), auth.uid()) $$, '42501', null,
  'a member cannot take ownership');
select tests.authenticate_as('otto');
select throws_ok($$ select public.transfer_chat_ownership(tests.id('Handover'), auth.uid()) $$, 'PT404', null,
  'an outsider cannot take ownership');
select tests.authenticate_as('olga');
select throws_ok($$ select public.transfer_chat_ownership(tests.id('Handover'), tests.get_user_id('otto')) $$,
  '22023', null, 'ownership cannot go to a non-member');
select results_eq($$ select tests.role_of('Handover', u) from unnest(array['olga', 'adam', 'mia']) u $$,
  $$ values ('owner'::text), ('admin'), ('member') $$, 'refused transfers changed no role');
select lives_ok($$ select public.transfer_chat_ownership(tests.id('Handover'), auth.uid()) $$,
  'transferring to oneself is a no-op');
select lives_ok($$ select public.transfer_chat_ownership(tests.id('Handover'), tests.get_user_id('mia')) $$,
  'the owner transfers ownership to a member');
select results_eq($$ select tests.role_of('Handover', u) from unnest(array['olga', 'adam', 'mia']) u $$,
  $$ values ('admin'::text), ('admin'), ('owner') $$, 'the new owner owns the chat; the old owner is an admin');
select throws_ok($$ select public.transfer_chat_ownership(tests.id('Handover'), auth.uid()) $$, '42501', null,
  'the former owner cannot take it back');
select tests.clear_authentication();
select throws_ok($$ select public.transfer_chat_ownership(tests.id('Handover'), tests.get_user_id('otto')) $$,
  '42501', null, 'anon cannot transfer ownership');

-- leave_chat -------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('olga');
select public.create_group_chat('Crew', array[tests.get_user_id('adam'), tests.get_user_id('mia'), tests.get_user_id('otto')]);
select public.set_member_role(tests.id('Crew'), tests.get_user_id('otto'), 'admin');
select tests.authenticate_as('mia');
select lives_ok($$ select public.leave_chat(tests.id('Crew')) $$, 'a member leaves a chat');
select is_empty($$ select 1 from public.chats where id = tests.id('Crew') $$, 'after leaving, the chat is not visible');
select throws_ok($$ select public.leave_chat(tests.id('Crew')) $$, 'PT404', null, 'leaving twice is refused');
select is(tests.member_counts(tests.id('Crew')), array[3, 3], 'leaving updates the member count');
select tests.authenticate_as('bea');
select throws_ok($$ select public.leave_chat(tests.id('Crew')) $$, 'PT404', null, 'an outsider cannot leave a chat');
select tests.authenticate_as('olga');
select lives_ok($$ select public.leave_chat(tests.id('Crew')) $$, 'the owner leaves');
select results_eq($$ select tests.role_of('Crew', u) from unnest(array['olga', 'adam', 'otto']) u $$,
  $$ values (null::text), ('member'), ('owner') $$,
  'ownership passes to the admin, not to the member');
select is(tests.member_counts(tests.id('Crew')), array[2, 2], 'the owner leaving updates the member count');
select lives_ok($$ select public.leave_chat(tests.id('Secret')) $$, 'the last member leaves');
reset role;
select is((select count(*)::int from public.chats where title = 'Secret'), 0, 'a chat left empty is deleted');
select tests.authenticate_as('otto');
select lives_ok($$ select public.leave_chat(tests.direct_chat_of('olga', 'otto')) $$, 'a user leaves a direct chat');
select is(tests.member_counts(tests.direct_chat_of('olga', 'otto')), array[1, 1], 'the other user stays in it');
select tests.authenticate_as('olga');
select is((public.create_direct_chat(tests.get_user_id('otto'))).member_count, 2,
  'opening the direct chat again brings the other user back');
select tests.clear_authentication();
select throws_ok($$ select public.leave_chat(tests.id('Crew')) $$, '42501', null, 'anon cannot leave a chat');

-- direct DML is refused ------------------------------------------------------------------------------------------------------
select tests.authenticate_as('olga');
select throws_ok($$ insert into public.chats (kind, title) values ('group', 'Direct insert') $$, '42501', null,
  'even a chat owner cannot insert chats directly');
select throws_ok($$ update public.chats set title = 'Hacked' where id = tests.id('Team') $$, '42501', null,
  'the owner cannot update a chat directly');
select throws_ok($$ update public.chats set member_count = 0 where id = tests.id('Team') $$, '42501', null,
  'the owner cannot change the counters');
select throws_ok($$ delete from public.chats where id = tests.id('Team') $$, '42501', null,
  'the owner cannot delete a chat directly');
select throws_ok(
  $$ insert into public.chat_members (chat_id, user_id) values (tests.id('Team'), tests.get_user_id('otto')) $$,
  '42501', null, 'the owner cannot insert members directly');
select throws_ok($$ delete from public.chat_members where chat_id = tests.id('Team') and user_id <> auth.uid() $$,
  '42501', null, 'the owner cannot delete members directly');
select tests.authenticate_as('mia');
select throws_ok($$ update public.chat_members set role = 'owner' where user_id = auth.uid() $$, '42501', null,
  'a member cannot change their own role directly');
select throws_ok($$ update public.chat_members set last_read_seq = 100, pinned_at = now() where user_id = auth.uid() $$,
  '42501', null, 'a member cannot update their own membership row directly');
select throws_ok($$ delete from public.chat_members where user_id = auth.uid() $$, '42501', null,
  'a member cannot delete their membership directly');
select tests.authenticate_as('otto');
select throws_ok(
  $$ insert into public.chat_members (chat_id, user_id, role) values (tests.id('Team'), auth.uid(), 'owner') $$,
  '42501', null, 'an outsider cannot insert themselves into a chat');
select tests.authenticate_as('adam');
select throws_ok(
  $$ insert into public.chat_bans (chat_id, user_id) values (tests.id('Team'), tests.get_user_id('mia')) $$,
  '42501', null, 'an admin cannot insert bans directly');
select throws_ok($$ update public.chat_bans set reason = 'x' $$, '42501', null, 'an admin cannot update bans directly');
select throws_ok($$ delete from public.chat_bans $$, '42501', null, 'an admin cannot delete bans directly');
select tests.authenticate_as('bea');
select throws_ok($$ delete from public.chat_bans where user_id = auth.uid() $$, '42501', null,
  'a banned user cannot delete their ban');
reset role;
select results_eq(
  $$ select title, member_count, (select count(*)::int from public.chat_bans b where b.chat_id = c.id)
       from public.chats c where c.id = tests.id('Team') $$,
  $$ values ('Team'::text, 3, 1) $$,
  'refused direct writes changed nothing');

-- delete_chat ---------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('mia');
select throws_ok($$ select public.delete_chat(tests.id('Team')) $$, '42501', null, 'a member cannot delete the chat');
select tests.authenticate_as('adam');
select throws_ok($$ select public.delete_chat(tests.id('Team')) $$, '42501', null, 'an admin cannot delete the chat');
select tests.authenticate_as('otto');
select throws_ok($$ select public.delete_chat(tests.id('Team')) $$, 'PT404', null, 'an outsider cannot delete the chat');
select throws_ok($$ select public.delete_chat(tests.direct_chat_of('olga', 'otto')) $$, '42501', null,
  'nobody owns a direct chat, so nobody deletes it');
select tests.clear_authentication();
select throws_ok($$ select public.delete_chat(tests.id('Team')) $$, '42501', null, 'anon cannot delete a chat');
select isnt(tests.id('Team'), null, 'refused deletes deleted nothing');
select tests.authenticate_as('olga');
select lives_ok($$ select public.delete_chat(tests.id('Team')) $$, 'the owner deletes the chat');
reset role;
select results_eq(
  $$ select (select count(*)::int from public.chats where title = 'Team'),
            (select count(*)::int from public.chat_members m where not exists (select 1 from public.chats c where c.id = m.chat_id)),
            (select count(*)::int from public.chat_bans b where not exists (select 1 from public.chats c where c.id = b.chat_id)) $$,
  $$ values (0, 0, 0) $$,
  'deleting a chat removes it with its members and bans');

select * from finish();
rollback;
