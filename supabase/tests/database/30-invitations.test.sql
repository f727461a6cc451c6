-- Invitations: invite links (expiry, use limit, revoke, bans) and direct invitations (accept, decline), across
-- owner, admin, member, outsider, banned, blocked and anon.
begin;
create extension if not exists pgtap with schema extensions;
select plan(37);

select tests.create_user('inv_owner');
select tests.create_user('inv_admin');
select tests.create_user('inv_member');
select tests.create_user('inv_outsider');
select tests.create_user('inv_banned');
select tests.create_user('inv_blocker');
select tests.create_user('inv_guest');

create temp table fx (name text primary key, id uuid, token text);
grant all on fx to anon, authenticated, service_role;

select tests.authenticate_as('inv_owner');
insert into fx (name, id) select 'group', (public.create_group_chat('Invites',
  array[tests.get_user_id('inv_admin'), tests.get_user_id('inv_member'), tests.get_user_id('inv_banned')])).id;
insert into fx (name, id) select 'direct', (public.create_direct_chat(tests.get_user_id('inv_member'))).id;
select public.set_member_role((select id from fx where name = 'group'), tests.get_user_id('inv_admin'), 'admin');
select public.ban_chat_member((select id from fx where name = 'group'), tests.get_user_id('inv_banned'), 'spam');

-- invite links -----------------------------------------------------------------------------------------------------
select tests.authenticate_as('inv_admin');
insert into fx (name, id, token)
select 'link', i.id, i.token from public.create_invite_link((select id from fx where name = 'group'), 3600, 2) i;
select ok((select length(token) >= 20 from fx where name = 'link'), 'an admin creates an invite link with a random token');

select tests.authenticate_as('inv_member');
select throws_ok($$ select public.create_invite_link((select id from fx where name = 'group')) $$, '42501', null,
  'a member cannot create invite links');
select throws_ok($$ select public.create_invite_link((select id from fx where name = 'direct')) $$, '22023', null,
  'direct chats take no invite links');
select is_empty($$ select 1 from public.chat_invitations where token is not null $$,
  'a member cannot read the chat''s invite links');

select tests.authenticate_as('inv_outsider');
select throws_ok($$ select public.create_invite_link((select id from fx where name = 'group')) $$, 'PT404', null,
  'an outsider cannot create invite links and cannot tell the chat exists');
select throws_ok($$ select public.create_invite_link((select id from fx where name = 'group'), 10) $$, 'PT404', null,
  'outsider refusal comes before input validation');
select is((select title from public.get_invite_link_info((select token from fx where name = 'link'))), 'Invites',
  'anyone signed in with the token can preview the chat');
select is_empty($$ select 1 from public.chat_invitations $$, 'an outsider reads no invitations');
select is((select role::text from public.accept_invite_link((select token from fx where name = 'link'))), 'member',
  'an outsider joins through the link as a member');
select is((select role::text from public.accept_invite_link((select token from fx where name = 'link'))), 'member',
  'accepting again is a no-op');
reset role;
select is((select use_count from public.chat_invitations where id = (select id from fx where name = 'link')), 1,
  'a repeated accept by a member does not use up the link');

select tests.authenticate_as('inv_banned');
select throws_ok($$ select public.accept_invite_link((select token from fx where name = 'link')) $$, '42501', null,
  'a banned user cannot join through a link');

select tests.authenticate_as('inv_guest');
select lives_ok($$ select public.accept_invite_link((select token from fx where name = 'link')) $$,
  'a second user uses the link');
select tests.authenticate_as('inv_blocker');
select throws_ok($$ select public.accept_invite_link((select token from fx where name = 'link')) $$, 'PT404', null,
  'a link past its use limit is refused');
select throws_ok($$ select public.get_invite_link_info((select token from fx where name = 'link')) $$, 'PT404', null,
  'a used-up link shows no preview');
select throws_ok($$ select public.accept_invite_link('not-a-token') $$, 'PT404', null, 'an unknown token is refused');

select tests.clear_authentication();
select throws_ok($$ select public.accept_invite_link((select token from fx where name = 'link')) $$, '42501', null,
  'anon cannot accept links');
select throws_ok($$ select * from public.chat_invitations $$, '42501', null, 'anon cannot read invitations');

-- expiry and revocation
select tests.authenticate_as('inv_owner');
insert into fx (name, id, token)
select 'expiring', i.id, i.token from public.create_invite_link((select id from fx where name = 'group'), 60) i;
reset role;
update public.chat_invitations set expires_at = now() - interval '1 second' where id = (select id from fx where name = 'expiring');
select tests.authenticate_as('inv_blocker');
select throws_ok($$ select public.accept_invite_link((select token from fx where name = 'expiring')) $$, 'PT404', null,
  'an expired link is refused');

select tests.authenticate_as('inv_owner');
insert into fx (name, id, token)
select 'revoked', i.id, i.token from public.create_invite_link((select id from fx where name = 'group'), null) i;
select throws_ok($$ select public.create_invite_link((select id from fx where name = 'group'), 5) $$, '22023', null,
  'an expiry under a minute is refused');
select throws_ok($$ select public.create_invite_link((select id from fx where name = 'group'), 3600, 0) $$, '22023', null,
  'max_uses of zero is refused');
select tests.authenticate_as('inv_member');
select throws_ok($$ select public.revoke_invitation((select id from fx where name = 'revoked')) $$, '42501', null,
  'a member cannot revoke a link');
select tests.authenticate_as('inv_admin');
select is((select status::text from public.revoke_invitation((select id from fx where name = 'revoked'))), 'revoked',
  'an admin revokes a link');
select tests.authenticate_as('inv_blocker');
select throws_ok($$ select public.accept_invite_link((select token from fx where name = 'revoked')) $$, 'PT404', null,
  'a revoked link is refused');

-- direct invitations -------------------------------------------------------------------------------------------------
select tests.authenticate_as('inv_blocker');
insert into public.user_blocks (blocker_id, blocked_id) values (auth.uid(), tests.get_user_id('inv_admin'));
select tests.authenticate_as('inv_admin');
select throws_ok($$ select public.invite_user((select id from fx where name = 'group'), tests.get_user_id('inv_blocker')) $$,
  '42501', null, 'an admin cannot invite a user who blocked them');
select throws_ok($$ select public.invite_user((select id from fx where name = 'group'), tests.get_user_id('inv_banned')) $$,
  '42501', null, 'a banned user cannot be invited');
select throws_ok($$ select public.invite_user((select id from fx where name = 'group'), tests.get_user_id('inv_member')) $$,
  '23505', null, 'a member cannot be invited again');

select tests.authenticate_as('inv_owner');
insert into fx (name, id)
select 'direct_invite', (public.invite_user((select id from fx where name = 'group'), tests.get_user_id('inv_blocker'))).id;
select is((public.invite_user((select id from fx where name = 'group'), tests.get_user_id('inv_blocker'))).id,
  (select id from fx where name = 'direct_invite'), 'inviting the same user again returns the pending invitation');

select tests.authenticate_as('inv_member');
select throws_ok($$ select public.invite_user((select id from fx where name = 'group'), tests.get_user_id('inv_outsider')) $$,
  '42501', null, 'a member cannot invite');
select throws_ok($$ select public.respond_to_invitation((select id from fx where name = 'direct_invite'), true) $$,
  'PT404', null, 'only the invited user can respond');

select tests.authenticate_as('inv_blocker');
select is((select count(*)::int from public.chat_invitations), 1, 'the invited user reads their own invitation');
select is((select status::text from public.respond_to_invitation((select id from fx where name = 'direct_invite'), true)),
  'accepted', 'the invited user accepts');
select ok(exists (select 1 from public.chat_members where chat_id = (select id from fx where name = 'group') and user_id = auth.uid()),
  'accepting makes them a member');
select throws_ok($$ select public.respond_to_invitation((select id from fx where name = 'direct_invite'), false) $$,
  '22023', null, 'an answered invitation cannot be answered again');

select tests.authenticate_as('inv_owner');
select is((select count(*)::int from public.chat_invitations where chat_id = (select id from fx where name = 'group')), 4,
  'the owner reads all invitations of the chat');
select throws_ok($$ insert into public.chat_invitations (chat_id, token) values ((select id from fx where name = 'group'), 'x') $$,
  '42501', null, 'invitations cannot be inserted directly');
select throws_ok($$ update public.chat_invitations set max_uses = 100 $$, '42501', null,
  'invitations cannot be updated directly');

select * from finish();
rollback;
