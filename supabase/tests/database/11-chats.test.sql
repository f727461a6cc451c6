-- Chats: creating direct chats, groups and channels, who sees which chat, joining, settings, preferences, leaving,
-- deleting and handing over ownership; clients cannot write chats, chat_members or chat_bans directly.
-- Personas: olga (owner), adam (admin), mia (member), otto (outsider), bea (banned), blake (blocked by olga), anon.
begin;
create extension if not exists pgtap with schema extensions;
select plan(125);

-- Test-only lookups (they read across RLS as the table owner; they never change anything).
-- A title that matches no chat is a mistake in the test: it raises (P0001) rather than passing null along, which
-- would make the RPCs answer 'not found' for the wrong reason.
create function pg_temp.chat(title text) returns uuid
language plpgsql stable security definer set search_path = ''
as $$
declare
  found uuid;
begin
  select c.id into found from public.chats c where c.title = $1;
  if found is null then
    raise exception 'test fixture: no chat titled %', $1;
  end if;
  return found;
end
$$;
create function pg_temp.dm(a text, b text) returns uuid
language sql stable security definer set search_path = ''
as $$
  select c.id from public.chats c
   where c.direct_key = least(tests.get_user_id(a)::text, tests.get_user_id(b)::text) || ':'
                        || greatest(tests.get_user_id(a)::text, tests.get_user_id(b)::text)
$$;
create function pg_temp.role_of(title text, who text) returns text
language sql stable security definer set search_path = ''
as $$
  select m.role::text from public.chat_members m where m.chat_id = pg_temp.chat($1) and m.user_id = tests.get_user_id($2)
$$;
-- member_count as stored and as counted; a correct chat has both equal.
create function pg_temp.counts(id uuid) returns int[]
language sql stable security definer set search_path = ''
as $$
  select array[(select c.member_count from public.chats c where c.id = $1),
               (select count(*)::int from public.chat_members m where m.chat_id = $1)]
$$;
grant execute on function pg_temp.chat(text), pg_temp.dm(text, text), pg_temp.role_of(text, text), pg_temp.counts(uuid)
  to anon, authenticated, service_role;

select tests.create_user('olga');
select tests.create_user('adam');
select tests.create_user('mia');
select tests.create_user('otto');
select tests.create_user('bea');
select tests.create_user('blake');
insert into public.user_blocks (blocker_id, blocked_id) values (tests.get_user_id('olga'), tests.get_user_id('blake'));

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
select is((public.create_direct_chat(tests.get_user_id('otto'))).id, pg_temp.dm('olga', 'otto'),
  'opening it again returns the same chat');
select results_eq(
  $$ select user_id, role::text from public.chat_members where chat_id = pg_temp.dm('olga', 'otto') order by user_id $$,
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
select is((public.create_direct_chat(tests.get_user_id('olga'))).id, pg_temp.dm('olga', 'otto'),
  'the other user opening it gets the same chat');
select is(pg_temp.counts(pg_temp.dm('olga', 'otto')), array[2, 2], 'repeated opening adds nobody');
select tests.authenticate_as('blake');
select throws_ok($$ select public.create_direct_chat(tests.get_user_id('olga')) $$, '42501', null,
  'the blocked user cannot open a direct chat with the blocker');
select is(pg_temp.dm('olga', 'blake'), null, 'refused direct chats were not created');
select tests.authenticate_as('mia');
select is_empty($$ select 1 from public.chats where id = pg_temp.dm('olga', 'otto') $$,
  'an outsider cannot see a direct chat');
select is_empty($$ select 1 from public.chat_members where chat_id = pg_temp.dm('olga', 'otto') $$,
  'an outsider cannot see the members of a direct chat');
select throws_ok($$ select public.join_chat(pg_temp.dm('olga', 'otto')) $$, 'PT404', null,
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
  $$ select pg_temp.role_of('Team', u) from unnest(array['olga', 'adam', 'mia', 'bea']) u $$,
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
select public.set_member_role(pg_temp.chat('Team'), tests.get_user_id('adam'), 'admin');
select public.ban_chat_member(pg_temp.chat('Team'), tests.get_user_id('bea'), 'spam');

-- channels ------------------------------------------------------------------------------------------------------------
select results_eq(
  $$ select kind::text, member_count, who_can_post::text, discoverable from public.create_channel('News', 'daily news') $$,
  $$ values ('channel'::text, 1, 'admins'::text, true) $$,
  'a channel is created discoverable, with only admins posting');
select is(pg_temp.role_of('News', 'olga'), 'owner', 'the creator owns the channel');
select is((public.create_channel('Secret', null, false)).discoverable, false, 'a channel can be created private');
select throws_ok($$ select public.create_channel('') $$, '22023', null, 'a channel needs a title');

-- visibility ------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('mia');
select results_eq($$ select title from public.chats where kind <> 'direct' order by title $$,
  $$ values ('News'::text), ('Team') $$,
  'a member sees their chats and discoverable ones, not private chats of others');
select is((select count(*)::int from public.chat_members where chat_id = pg_temp.chat('Team')), 3,
  'a member sees the members of their chat');
select tests.authenticate_as('otto');
select results_eq($$ select title from public.chats where kind <> 'direct' $$, $$ values ('News'::text) $$,
  'an outsider sees only discoverable chats');
select is_empty($$ select 1 from public.chat_members where chat_id in (pg_temp.chat('Team'), pg_temp.chat('News')) $$,
  'an outsider sees no members, not even of discoverable chats');
select tests.authenticate_as('bea');
select is_empty($$ select 1 from public.chats where id = pg_temp.chat('Team') $$, 'a banned user cannot see the chat');
select is_empty($$ select 1 from public.chat_members where chat_id = pg_temp.chat('Team') $$,
  'a banned user cannot see its members');

-- join_chat ---------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('otto');
select results_eq($$ select user_id, role::text from public.join_chat(pg_temp.chat('News')) $$,
  $$ values (tests.get_user_id('otto'), 'member'::text) $$,
  'a user joins a discoverable channel as a member');
select lives_ok($$ select public.join_chat(pg_temp.chat('News')) $$, 'joining again is harmless');
select is(pg_temp.counts(pg_temp.chat('News')), array[2, 2], 'joining twice counts once');
select is((select count(*)::int from public.chat_members where chat_id = pg_temp.chat('News')), 2,
  'after joining, the user sees the members');
select throws_ok($$ select public.join_chat(pg_temp.chat('Secret')) $$, 'PT404', null,
  'a private channel cannot be joined');
select throws_ok($$ select public.join_chat(pg_temp.chat('Team')) $$, 'PT404', null,
  'a private group cannot be joined');
select throws_ok($$ select public.join_chat(gen_random_uuid()) $$, 'PT404', null,
  'an unknown chat cannot be joined (same error as a private one)');
select is(pg_temp.role_of('Team', 'otto'), null, 'refused joins add nobody');
select tests.clear_authentication();
select throws_ok($$ select public.join_chat(pg_temp.chat('News')) $$, '42501', null, 'anon cannot join');

-- update_chat -------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('olga');
select is((public.update_chat(pg_temp.chat('Team'), title => 'Team 2')).title, 'Team 2', 'the owner renames the chat');
select tests.authenticate_as('adam');
select results_eq(
  $$ select title, description from public.update_chat(pg_temp.chat('Team 2'), title => 'Team', description => 'our team') $$,
  $$ values ('Team'::text, 'our team'::text) $$,
  'an admin updates title and description');
select tests.authenticate_as('mia');
select throws_ok($$ select public.update_chat(pg_temp.chat('Team'), title => 'Mine') $$, '42501', null,
  'a member cannot update the chat');
select tests.authenticate_as('otto');
select throws_ok($$ select public.update_chat(pg_temp.chat('Team'), title => 'Mine') $$, 'PT404', null,
  'an outsider cannot update the chat (and cannot tell it exists)');
select throws_ok($$ select public.update_chat(pg_temp.chat('News'), title => 'Mine') $$, '42501', null,
  'a plain member of a channel cannot update it');
select tests.authenticate_as('bea');
select throws_ok($$ select public.update_chat(pg_temp.chat('Team'), title => 'Mine') $$, 'PT404', null,
  'a banned user cannot update the chat');
select tests.clear_authentication();
select throws_ok($$ select public.update_chat(pg_temp.chat('Team'), title => 'Mine') $$, '42501', null,
  'anon cannot update a chat');
reset role;
select results_eq($$ select title, description from public.chats where id = pg_temp.chat('Team') $$,
  $$ values ('Team'::text, 'our team'::text) $$, 'refused updates changed nothing');

select tests.authenticate_as('olga');
select throws_ok($$ select public.update_chat(pg_temp.chat('Team'), slow_mode_seconds => 3601) $$, '22023', null,
  'slow mode above 3600 seconds is refused');
select throws_ok($$ select public.update_chat(pg_temp.chat('Team'), slow_mode_seconds => -1) $$, '22023', null,
  'negative slow mode is refused');
select throws_ok($$ select public.update_chat(pg_temp.chat('Team'), title => repeat('t', 129)) $$, '22023', null,
  'a title over 128 characters is refused');
select throws_ok($$ select public.update_chat(pg_temp.chat('Team'), description => repeat('d', 1001)) $$, '22023', null,
  'a description over 1000 characters is refused');
select results_eq(
  $$ select slow_mode_seconds, who_can_post::text, history_visible_to_new_members, discoverable
       from public.update_chat(pg_temp.chat('Team'), slow_mode_seconds => 3600, who_can_post => 'admins',
                               history_visible_to_new_members => false) $$,
  $$ values (3600, 'admins'::text, false, false) $$,
  'the owner sets slow mode, posting permission and history visibility');
select results_eq(
  $$ select title, description, slow_mode_seconds, who_can_post::text from public.update_chat(pg_temp.chat('Team')) $$,
  $$ values ('Team'::text, 'our team'::text, 3600, 'admins'::text) $$,
  'arguments left null keep their values');
select is((public.update_chat(pg_temp.chat('Team'), description => '')).description, null,
  'an empty description clears it');
select throws_ok($$ select public.update_chat(pg_temp.dm('olga', 'otto'), title => 'Us') $$, '22023', null,
  'a direct chat has no settings to update');

-- a group made discoverable can be found and joined
select public.create_group_chat('Lobby');
select is((public.update_chat(pg_temp.chat('Lobby'), discoverable => true)).discoverable, true,
  'the owner makes a group discoverable');
select tests.authenticate_as('otto');
select ok(exists (select 1 from public.chats where id = pg_temp.chat('Lobby')), 'an outsider now sees the group');
select lives_ok($$ select public.join_chat(pg_temp.chat('Lobby')) $$, 'and joins it');
select is(pg_temp.role_of('Lobby', 'otto'), 'member', 'as a member');

-- set_chat_preferences -----------------------------------------------------------------------------------------------------
select tests.authenticate_as('mia');
select results_eq(
  $$ select user_id, archived_at is not null, pinned_at is not null, muted_until > now(), notification_level::text
       from public.set_chat_preferences(pg_temp.chat('Team'), archived => true, pinned => true,
                                        muted_until => now() + interval '1 day', notification_level => 'mentions') $$,
  $$ values (tests.get_user_id('mia'), true, true, true, 'mentions'::text) $$,
  'a member archives, pins, mutes and sets the notification level of a chat');
select results_eq(
  $$ select archived_at is null, pinned_at is not null, muted_until is null, notification_level::text
       from public.set_chat_preferences(pg_temp.chat('Team'), archived => false, muted_until => now() - interval '1 minute') $$,
  $$ values (true, true, true, 'mentions'::text) $$,
  'unarchiving and a past mute time clear them; other preferences are kept');
reset role;
select is_empty($$
  select 1 from public.chat_members
   where chat_id = pg_temp.chat('Team') and user_id <> tests.get_user_id('mia')
     and (archived_at is not null or pinned_at is not null or muted_until is not null or notification_level <> 'all')
$$, 'preferences change only the caller''s own membership');
select tests.authenticate_as('otto');
select throws_ok($$ select public.set_chat_preferences(pg_temp.chat('Team'), archived => true) $$, 'PT404', null,
  'an outsider cannot set preferences of a chat');
select tests.clear_authentication();
select throws_ok($$ select public.set_chat_preferences(pg_temp.chat('Team'), archived => true) $$, '42501', null,
  'anon cannot set preferences');

-- transfer_chat_ownership ----------------------------------------------------------------------------------------------------
select tests.authenticate_as('olga');
select public.create_group_chat('Handover', array[tests.get_user_id('adam'), tests.get_user_id('mia')]);
select public.set_member_role(pg_temp.chat('Handover'), tests.get_user_id('adam'), 'admin');
select tests.authenticate_as('adam');
select throws_ok($$ select public.transfer_chat_ownership(pg_temp.chat('Handover'), auth.uid()) $$, '42501', null,
  'an admin cannot take ownership');
select tests.authenticate_as('mia');
select throws_ok($$ select public.transfer_chat_ownership(pg_temp.chat('Handover'), auth.uid()) $$, '42501', null,
  'a member cannot take ownership');
select tests.authenticate_as('otto');
select throws_ok($$ select public.transfer_chat_ownership(pg_temp.chat('Handover'), auth.uid()) $$, 'PT404', null,
  'an outsider cannot take ownership');
select tests.authenticate_as('olga');
select throws_ok($$ select public.transfer_chat_ownership(pg_temp.chat('Handover'), tests.get_user_id('otto')) $$,
  '22023', null, 'ownership cannot go to a non-member');
select results_eq($$ select pg_temp.role_of('Handover', u) from unnest(array['olga', 'adam', 'mia']) u $$,
  $$ values ('owner'::text), ('admin'), ('member') $$, 'refused transfers changed no role');
select lives_ok($$ select public.transfer_chat_ownership(pg_temp.chat('Handover'), auth.uid()) $$,
  'transferring to oneself is a no-op');
select lives_ok($$ select public.transfer_chat_ownership(pg_temp.chat('Handover'), tests.get_user_id('mia')) $$,
  'the owner transfers ownership to a member');
select results_eq($$ select pg_temp.role_of('Handover', u) from unnest(array['olga', 'adam', 'mia']) u $$,
  $$ values ('admin'::text), ('admin'), ('owner') $$, 'the new owner owns the chat; the old owner is an admin');
select throws_ok($$ select public.transfer_chat_ownership(pg_temp.chat('Handover'), auth.uid()) $$, '42501', null,
  'the former owner cannot take it back');
select tests.clear_authentication();
select throws_ok($$ select public.transfer_chat_ownership(pg_temp.chat('Handover'), tests.get_user_id('otto')) $$,
  '42501', null, 'anon cannot transfer ownership');

-- leave_chat -------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('olga');
select public.create_group_chat('Crew', array[tests.get_user_id('adam'), tests.get_user_id('mia'), tests.get_user_id('otto')]);
select public.set_member_role(pg_temp.chat('Crew'), tests.get_user_id('otto'), 'admin');
select tests.authenticate_as('mia');
select lives_ok($$ select public.leave_chat(pg_temp.chat('Crew')) $$, 'a member leaves a chat');
select is_empty($$ select 1 from public.chats where id = pg_temp.chat('Crew') $$, 'after leaving, the chat is not visible');
select throws_ok($$ select public.leave_chat(pg_temp.chat('Crew')) $$, 'PT404', null, 'leaving twice is refused');
select is(pg_temp.counts(pg_temp.chat('Crew')), array[3, 3], 'leaving updates the member count');
select tests.authenticate_as('bea');
select throws_ok($$ select public.leave_chat(pg_temp.chat('Crew')) $$, 'PT404', null, 'an outsider cannot leave a chat');
select tests.authenticate_as('olga');
select lives_ok($$ select public.leave_chat(pg_temp.chat('Crew')) $$, 'the owner leaves');
select results_eq($$ select pg_temp.role_of('Crew', u) from unnest(array['olga', 'adam', 'otto']) u $$,
  $$ values (null::text), ('member'), ('owner') $$,
  'ownership passes to the admin, not to the member');
select is(pg_temp.counts(pg_temp.chat('Crew')), array[2, 2], 'the owner leaving updates the member count');
select lives_ok($$ select public.leave_chat(pg_temp.chat('Secret')) $$, 'the last member leaves');
reset role;
select is((select count(*)::int from public.chats where title = 'Secret'), 0, 'a chat left empty is deleted');
select tests.authenticate_as('otto');
select lives_ok($$ select public.leave_chat(pg_temp.dm('olga', 'otto')) $$, 'a user leaves a direct chat');
select is(pg_temp.counts(pg_temp.dm('olga', 'otto')), array[1, 1], 'the other user stays in it');
select tests.authenticate_as('olga');
select is((public.create_direct_chat(tests.get_user_id('otto'))).member_count, 2,
  'opening the direct chat again brings the other user back');
select tests.clear_authentication();
select throws_ok($$ select public.leave_chat(pg_temp.chat('Crew')) $$, '42501', null, 'anon cannot leave a chat');

-- direct DML is refused ------------------------------------------------------------------------------------------------------
select tests.authenticate_as('olga');
select throws_ok($$ insert into public.chats (kind, title) values ('group', 'Direct insert') $$, '42501', null,
  'even a chat owner cannot insert chats directly');
select throws_ok($$ update public.chats set title = 'Hacked' where id = pg_temp.chat('Team') $$, '42501', null,
  'the owner cannot update a chat directly');
select throws_ok($$ update public.chats set member_count = 0 where id = pg_temp.chat('Team') $$, '42501', null,
  'the owner cannot change the counters');
select throws_ok($$ delete from public.chats where id = pg_temp.chat('Team') $$, '42501', null,
  'the owner cannot delete a chat directly');
select throws_ok(
  $$ insert into public.chat_members (chat_id, user_id) values (pg_temp.chat('Team'), tests.get_user_id('otto')) $$,
  '42501', null, 'the owner cannot insert members directly');
select throws_ok($$ delete from public.chat_members where chat_id = pg_temp.chat('Team') and user_id <> auth.uid() $$,
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
  $$ insert into public.chat_members (chat_id, user_id, role) values (pg_temp.chat('Team'), auth.uid(), 'owner') $$,
  '42501', null, 'an outsider cannot insert themselves into a chat');
select tests.authenticate_as('adam');
select throws_ok(
  $$ insert into public.chat_bans (chat_id, user_id) values (pg_temp.chat('Team'), tests.get_user_id('mia')) $$,
  '42501', null, 'an admin cannot insert bans directly');
select throws_ok($$ update public.chat_bans set reason = 'x' $$, '42501', null, 'an admin cannot update bans directly');
select throws_ok($$ delete from public.chat_bans $$, '42501', null, 'an admin cannot delete bans directly');
select tests.authenticate_as('bea');
select throws_ok($$ delete from public.chat_bans where user_id = auth.uid() $$, '42501', null,
  'a banned user cannot delete their ban');
reset role;
select results_eq(
  $$ select title, member_count, (select count(*)::int from public.chat_bans b where b.chat_id = c.id)
       from public.chats c where c.id = pg_temp.chat('Team') $$,
  $$ values ('Team'::text, 3, 1) $$,
  'refused direct writes changed nothing');

-- delete_chat ---------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('mia');
select throws_ok($$ select public.delete_chat(pg_temp.chat('Team')) $$, '42501', null, 'a member cannot delete the chat');
select tests.authenticate_as('adam');
select throws_ok($$ select public.delete_chat(pg_temp.chat('Team')) $$, '42501', null, 'an admin cannot delete the chat');
select tests.authenticate_as('otto');
select throws_ok($$ select public.delete_chat(pg_temp.chat('Team')) $$, 'PT404', null, 'an outsider cannot delete the chat');
select throws_ok($$ select public.delete_chat(pg_temp.dm('olga', 'otto')) $$, '42501', null,
  'nobody owns a direct chat, so nobody deletes it');
select tests.clear_authentication();
select throws_ok($$ select public.delete_chat(pg_temp.chat('Team')) $$, '42501', null, 'anon cannot delete a chat');
select isnt(pg_temp.chat('Team'), null, 'refused deletes deleted nothing');
select tests.authenticate_as('olga');
select lives_ok($$ select public.delete_chat(pg_temp.chat('Team')) $$, 'the owner deletes the chat');
reset role;
select results_eq(
  $$ select (select count(*)::int from public.chats where title = 'Team'),
            (select count(*)::int from public.chat_members m where not exists (select 1 from public.chats c where c.id = m.chat_id)),
            (select count(*)::int from public.chat_bans b where not exists (select 1 from public.chats c where c.id = b.chat_id)) $$,
  $$ values (0, 0, 0) $$,
  'deleting a chat removes it with its members and bans');

select * from finish();
rollback;
