-- Members: adding (admins only; blocks and bans respected), the role ladder owner > admin > member, removing,
-- banning and unbanning, who sees members and bans, and member_count staying exact through all of it.
-- Personas: olga (owner), adam and ada (admins), mia and max (members), otto (outsider), bea (to be banned),
-- blake (blocked by adam), carl (blocked adam), nina and ned (to be added), anon.
begin;
create extension if not exists pgtap with schema extensions;
select plan(94);

-- Fixtures and probes: sql/test (chats are named by their title). This file's own probes read across RLS as the
-- table owner and never change anything.
create function pg_temp.roles(title text) returns table (who text, role text)
language sql stable security definer set search_path = ''
as $$
  select u.raw_user_meta_data ->> 'test_identifier', m.role::text
    from public.chat_members m join auth.users u on u.id = m.user_id
   where m.chat_id = tests.id($1)
   order by 1
$$;
create function pg_temp.is_banned(title text, who text) returns boolean
language sql stable security definer set search_path = ''
as $$
  select exists (select 1 from public.chat_bans b where b.chat_id = tests.id($1) and b.user_id = tests.get_user_id($2))
$$;
grant execute on function pg_temp.roles(text), pg_temp.is_banned(text, text) to anon, authenticated, service_role;

select tests.create_user(u) from unnest(array['olga', 'adam', 'ada', 'mia', 'max', 'otto', 'bea', 'blake', 'carl',
                                              'nina', 'ned']) u;
select tests.create_block('adam', 'blake');
select tests.create_block('carl', 'adam');
select tests.create_group('Club', 'olga', members => array['adam', 'ada', 'mia', 'max'], admins => array['adam', 'ada']);
select tests.create_direct('olga_otto', 'olga', 'otto');

-- anon ------------------------------------------------------------------------------------------------------------------
select tests.clear_authentication();
select is_empty($$
  select p.oid::regprocedure from pg_proc p
   where p.pronamespace = 'public'::regnamespace
     and p.proname in ('add_chat_members', 'set_member_role', 'remove_chat_member', 'ban_chat_member', 'unban_chat_member')
     and has_function_privilege('anon', p.oid, 'execute')
$$, 'anon cannot execute any member RPC');
select throws_ok($$ select public.add_chat_members(tests.id('Club'), array[tests.get_user_id('otto')]) $$,
  '42501', null, 'anon cannot add members');
select throws_ok($$ select public.set_member_role(tests.id('Club'), tests.get_user_id('mia'), 'admin') $$,
  '42501', null, 'anon cannot change roles');
select throws_ok($$ select public.remove_chat_member(tests.id('Club'), tests.get_user_id('mia')) $$,
  '42501', null, 'anon cannot remove members');
select throws_ok($$ select public.ban_chat_member(tests.id('Club'), tests.get_user_id('mia')) $$,
  '42501', null, 'anon cannot ban');
select throws_ok($$ select public.unban_chat_member(tests.id('Club'), tests.get_user_id('mia')) $$,
  '42501', null, 'anon cannot unban');

-- who sees members ------------------------------------------------------------------------------------------------------
select tests.authenticate_as('mia');
select results_eq($$ select user_id from public.chat_members where chat_id = tests.id('Club') order by user_id $$,
  $$ select tests.get_user_id(u) from unnest(array['olga', 'adam', 'ada', 'mia', 'max']) u order by 1 $$,
  'a member sees all members of the chat');
select is_empty($$ select 1 from public.chat_members where chat_id = tests.id('olga_otto') $$,
  'a member of one chat does not see the members of another');
select tests.authenticate_as('otto');
select is_empty($$ select 1 from public.chat_members where chat_id = tests.id('Club') $$,
  'an outsider sees no members');

-- add_chat_members --------------------------------------------------------------------------------------------------------
select tests.authenticate_as('adam');
select is(public.add_chat_members(tests.id('Club'), array[tests.get_user_id('nina'), tests.get_user_id('ned')]), 2,
  'an admin adds members and learns how many were new');
select results_eq($$ select tests.role_of('Club', u) from unnest(array['nina', 'ned']) u $$,
  $$ values ('member'::text), ('member') $$, 'added users are plain members');
select is(tests.member_counts(tests.id('Club')), array[7, 7], 'adding updates the member count');
select is(public.add_chat_members(tests.id('Club'), array[tests.get_user_id('nina'), tests.get_user_id('nina')]), 0,
  'adding existing members adds nobody');
select is(tests.member_counts(tests.id('Club')), array[7, 7], 'and leaves the count alone');
select throws_ok($$ select public.add_chat_members(tests.id('Club'), array[tests.get_user_id('otto'), gen_random_uuid()]) $$,
  'PT404', null, 'an unknown user is refused');
select is(tests.role_of('Club', 'otto'), null, 'a refused call adds no one, not even the valid users in it');
select throws_ok($$ select public.add_chat_members(tests.id('Club'), array[tests.get_user_id('blake')]) $$,
  '42501', null, 'an admin cannot add a user they blocked');
select throws_ok($$ select public.add_chat_members(tests.id('Club'), array[tests.get_user_id('carl')]) $$,
  '42501', null, 'an admin cannot add a user who blocked them');
select throws_ok(
  $$ select public.add_chat_members(tests.id('Club'), array(select gen_random_uuid() from generate_series(1, 101))) $$,
  '22023', null, 'more than 100 users at once are refused');
select tests.authenticate_as('mia');
select throws_ok($$ select public.add_chat_members(tests.id('Club'), array[tests.get_user_id('otto')]) $$,
  '42501', null, 'a member cannot add members');
select tests.authenticate_as('otto');
select throws_ok($$ select public.add_chat_members(tests.id('Club'), array[auth.uid()]) $$,
  'PT404', null, 'an outsider cannot add themselves');
select throws_ok($$ select public.add_chat_members(tests.id('olga_otto'), array[tests.get_user_id('mia')]) $$,
  '22023', null, 'a member of a direct chat cannot add a third user');
select tests.authenticate_as('mia');
select throws_ok($$ select public.add_chat_members(tests.id('olga_otto'), array[auth.uid()]) $$,
  'PT404', null, 'an outsider cannot add to a direct chat (and cannot tell it exists)');
select is(tests.member_counts(tests.id('olga_otto')), array[2, 2], 'the direct chat still has two members');
select is(tests.member_counts(tests.id('Club')), array[7, 7], 'refused adds changed no count');
select tests.authenticate_as('olga');
select is(public.add_chat_members(tests.id('Club'), array[tests.get_user_id('blake')]), 1,
  'blocks are personal: another admin may add the user');
select tests.authenticate_as('blake');
select lives_ok($$ select public.leave_chat(tests.id('Club')) $$, 'a member leaves');
select is(tests.member_counts(tests.id('Club')), array[7, 7], 'leaving updates the member count');

-- the role ladder -----------------------------------------------------------------------------------------------------------
select tests.authenticate_as('olga');
select is(public.set_member_role(tests.id('Club'), tests.get_user_id('mia'), 'admin')::text, 'admin',
  'the owner makes a member an admin');
select is(public.set_member_role(tests.id('Club'), tests.get_user_id('mia'), 'member')::text, 'member',
  'the owner makes an admin a member again');
select throws_ok($$ select public.set_member_role(tests.id('Club'), tests.get_user_id('mia'), 'owner') $$,
  '22023', null, 'the owner cannot grant ownership (it is transferred)');
select throws_ok($$ select public.set_member_role(tests.id('Club'), auth.uid(), 'admin') $$,
  '42501', null, 'the owner cannot change their own role');
select throws_ok($$ select public.set_member_role(tests.id('Club'), tests.get_user_id('otto'), 'admin') $$,
  'PT404', null, 'the role of a non-member cannot be set');
select tests.authenticate_as('adam');
select throws_ok($$ select public.set_member_role(tests.id('Club'), tests.get_user_id('mia'), 'admin') $$,
  '42501', null, 'an admin cannot make admins');
select throws_ok($$ select public.set_member_role(tests.id('Club'), tests.get_user_id('mia'), 'owner') $$,
  '22023', null, 'an admin cannot grant ownership');
select throws_ok($$ select public.set_member_role(tests.id('Club'), tests.get_user_id('ada'), 'member') $$,
  '42501', null, 'an admin cannot demote another admin');
select throws_ok($$ select public.set_member_role(tests.id('Club'), tests.get_user_id('olga'), 'member') $$,
  '42501', null, 'an admin cannot demote the owner');
select throws_ok($$ select public.set_member_role(tests.id('Club'), auth.uid(), 'member') $$,
  '42501', null, 'an admin cannot change their own role');
select tests.authenticate_as('mia');
select throws_ok($$ select public.set_member_role(tests.id('Club'), auth.uid(), 'admin') $$,
  '42501', null, 'a member cannot promote themselves');
select throws_ok($$ select public.set_member_role(tests.id('Club'), tests.get_user_id('max'), 'admin') $$,
  '42501', null, 'a member cannot change others'' roles');
select tests.authenticate_as('otto');
select throws_ok($$ select public.set_member_role(tests.id('Club'), tests.get_user_id('mia'), 'admin') $$,
  'PT404', null, 'an outsider cannot change roles');
select tests.authenticate_as('olga');
select throws_ok($$ select public.set_member_role(tests.id('olga_otto'), tests.get_user_id('otto'), 'admin') $$,
  '42501', null, 'nobody has roles to give in a direct chat');
select results_eq($$ select * from pg_temp.roles('Club') $$,
  $$ values ('ada'::text, 'admin'::text), ('adam', 'admin'), ('max', 'member'), ('mia', 'member'),
            ('ned', 'member'), ('nina', 'member'), ('olga', 'owner') $$,
  'refused role changes changed nothing');

-- remove_chat_member ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('adam');
select lives_ok($$ select public.remove_chat_member(tests.id('Club'), tests.get_user_id('max')) $$,
  'an admin removes a member');
select is(tests.member_counts(tests.id('Club')), array[6, 6], 'removing updates the member count');
select throws_ok($$ select public.remove_chat_member(tests.id('Club'), tests.get_user_id('ada')) $$,
  '42501', null, 'an admin cannot remove another admin');
select throws_ok($$ select public.remove_chat_member(tests.id('Club'), tests.get_user_id('olga')) $$,
  '42501', null, 'an admin cannot remove the owner');
select throws_ok($$ select public.remove_chat_member(tests.id('Club'), auth.uid()) $$,
  '42501', null, 'an admin cannot remove themselves (they leave)');
select throws_ok($$ select public.remove_chat_member(tests.id('Club'), tests.get_user_id('max')) $$,
  'PT404', null, 'a non-member cannot be removed');
select tests.authenticate_as('max');
select is_empty($$ select 1 from public.chats where id = tests.id('Club') $$, 'a removed user no longer sees the chat');
select is_empty($$ select 1 from public.chat_members where chat_id = tests.id('Club') $$,
  'nor its members');
select throws_ok($$ select public.remove_chat_member(tests.id('Club'), tests.get_user_id('nina')) $$,
  'PT404', null, 'a removed user cannot remove anyone');
select tests.authenticate_as('mia');
select throws_ok($$ select public.remove_chat_member(tests.id('Club'), tests.get_user_id('nina')) $$,
  '42501', null, 'a member cannot remove members');
select results_eq($$ select * from pg_temp.roles('Club') $$,
  $$ values ('ada'::text, 'admin'::text), ('adam', 'admin'), ('mia', 'member'), ('ned', 'member'), ('nina', 'member'),
            ('olga', 'owner') $$,
  'refused removals removed nobody');
select tests.authenticate_as('olga');
select lives_ok($$ select public.remove_chat_member(tests.id('Club'), tests.get_user_id('ada')) $$,
  'the owner removes an admin');
select is(public.add_chat_members(tests.id('Club'), array[tests.get_user_id('ada'), tests.get_user_id('max')]), 2,
  'removed users (not banned) can be added again');
select public.set_member_role(tests.id('Club'), tests.get_user_id('ada'), 'admin');

-- ban_chat_member --------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('adam');
select lives_ok($$ select public.ban_chat_member(tests.id('Club'), tests.get_user_id('mia'), 'spam') $$,
  'an admin bans a member');
select is(tests.role_of('Club', 'mia'), null, 'a ban removes the member');
select is(tests.member_counts(tests.id('Club')), array[6, 6], 'banning updates the member count');
select results_eq($$ select user_id, banned_by, reason from public.chat_bans where chat_id = tests.id('Club') $$,
  $$ values (tests.get_user_id('mia'), tests.get_user_id('adam'), 'spam'::text) $$,
  'an admin reads the bans of the chat');
select lives_ok($$ select public.ban_chat_member(tests.id('Club'), tests.get_user_id('mia'), 'again') $$,
  'banning twice is harmless');
select lives_ok($$ select public.ban_chat_member(tests.id('Club'), tests.get_user_id('bea')) $$,
  'an admin bans a user who is not a member yet');
select throws_ok($$ select public.add_chat_members(tests.id('Club'), array[tests.get_user_id('mia')]) $$,
  '42501', null, 'a banned user cannot be added');
select throws_ok($$ select public.ban_chat_member(tests.id('Club'), tests.get_user_id('ada')) $$,
  '42501', null, 'an admin cannot ban another admin');
select throws_ok($$ select public.ban_chat_member(tests.id('Club'), tests.get_user_id('olga')) $$,
  '42501', null, 'an admin cannot ban the owner');
select throws_ok($$ select public.ban_chat_member(tests.id('Club'), auth.uid()) $$,
  '42501', null, 'an admin cannot ban themselves');
select throws_ok($$ select public.ban_chat_member(tests.id('Club'), tests.get_user_id('nina'), repeat('r', 501)) $$,
  '22023', null, 'a ban reason over 500 characters is refused');
select throws_ok($$ select public.ban_chat_member(tests.id('Club'), gen_random_uuid()) $$,
  'PT404', null, 'an unknown user cannot be banned');
select tests.authenticate_as('nina');
select throws_ok($$ select public.ban_chat_member(tests.id('Club'), tests.get_user_id('ned')) $$,
  '42501', null, 'a member cannot ban');
select throws_ok($$ select public.ban_chat_member(tests.id('Club'), tests.get_user_id('otto')) $$,
  '42501', null, 'a member cannot ban outsiders either');
select tests.authenticate_as('otto');
select throws_ok($$ select public.ban_chat_member(tests.id('Club'), tests.get_user_id('ned')) $$,
  'PT404', null, 'an outsider cannot ban');
select throws_ok($$ select public.ban_chat_member(tests.id('olga_otto'), tests.get_user_id('olga')) $$,
  '42501', null, 'nobody bans in a direct chat');
select results_eq($$ select * from pg_temp.roles('Club') $$,
  $$ values ('ada'::text, 'admin'::text), ('adam', 'admin'), ('max', 'member'), ('ned', 'member'), ('nina', 'member'),
            ('olga', 'owner') $$,
  'refused bans removed nobody');

-- the banned user
select tests.authenticate_as('olga');
select public.update_chat(tests.id('Club'), discoverable => true);
select tests.authenticate_as('mia');
select ok(exists (select 1 from public.chats where id = tests.id('Club')),
  'a banned user sees a discoverable chat like any outsider');
select is_empty($$ select 1 from public.chat_members where chat_id = tests.id('Club') $$,
  'but not its members');
select is_empty($$ select 1 from public.chat_bans $$, 'a banned user cannot read the ban');
select throws_ok($$ select public.join_chat(tests.id('Club')) $$, '42501', null, 'a banned user cannot join');
select tests.authenticate_as('bea');
select throws_ok($$ select public.join_chat(tests.id('Club')) $$, '42501', null,
  'a user banned before ever joining cannot join');

-- who sees bans
select tests.authenticate_as('olga');
select is((select count(*)::int from public.chat_bans where chat_id = tests.id('Club')), 2, 'the owner reads the bans');
select tests.authenticate_as('nina');
select is_empty($$ select 1 from public.chat_bans $$, 'a member cannot read the bans');
select tests.authenticate_as('otto');
select is_empty($$ select 1 from public.chat_bans $$, 'an outsider cannot read the bans');

-- unban_chat_member ----------------------------------------------------------------------------------------------------------
select tests.authenticate_as('nina');
select throws_ok($$ select public.unban_chat_member(tests.id('Club'), tests.get_user_id('mia')) $$,
  '42501', null, 'a member cannot unban');
select tests.authenticate_as('otto');
select throws_ok($$ select public.unban_chat_member(tests.id('Club'), tests.get_user_id('mia')) $$,
  'PT404', null, 'an outsider cannot unban');
select tests.authenticate_as('mia');
select throws_ok($$ select public.unban_chat_member(tests.id('Club'), auth.uid()) $$,
  'PT404', null, 'a banned user cannot unban themselves');
select ok(pg_temp.is_banned('Club', 'mia'), 'refused unbans lifted nothing');
select tests.authenticate_as('adam');
select lives_ok($$ select public.unban_chat_member(tests.id('Club'), tests.get_user_id('mia')) $$,
  'an admin unbans');
select ok(not pg_temp.is_banned('Club', 'mia'), 'the ban is gone');
select tests.authenticate_as('mia');
select lives_ok($$ select public.join_chat(tests.id('Club')) $$, 'an unbanned user may join again');
select tests.authenticate_as('olga');
select lives_ok($$ select public.unban_chat_member(tests.id('Club'), tests.get_user_id('bea')) $$,
  'the owner unbans');
select tests.authenticate_as('adam');
select is(public.add_chat_members(tests.id('Club'), array[tests.get_user_id('bea')]), 1,
  'an unbanned user may be added again');
select tests.authenticate_as('olga');
select lives_ok($$ select public.ban_chat_member(tests.id('Club'), tests.get_user_id('ada')) $$,
  'the owner bans an admin');
select is(tests.role_of('Club', 'ada'), null, 'the banned admin is out');

-- member_count -----------------------------------------------------------------------------------------------------------
select is(tests.member_counts(tests.id('Club')), array[7, 7], 'after adds, leaves, removals and bans the count is exact');
reset role;
select is_empty($$
  select c.id from public.chats c
   where c.member_count <> (select count(*) from public.chat_members m where m.chat_id = c.id)
$$, 'every chat''s member_count matches its members');

select * from finish();
rollback;
