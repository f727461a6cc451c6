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

-- fixtures (sql/test): a group with an admin, a member and a member banned for spam; the owner's direct chat.
select tests.create_group('group', 'inv_owner', members => array['inv_admin', 'inv_member', 'inv_banned'],
                          admins => array['inv_admin'], banned => array['inv_banned'], ban_reason => 'spam',
                          title => 'Invites');
select tests.create_direct('direct', 'inv_owner', 'inv_member');

-- invite links -----------------------------------------------------------------------------------------------------
select tests.authenticate_as('inv_admin');
select tests.remember('link', i.id, i.token) from public.create_invite_link(tests.id('group'), 3600, 2) i;
select ok(length(tests.token('link')) >= 20, 'an admin creates an invite link with a random token');

select tests.authenticate_as('inv_member');
select throws_ok($$ select public.create_invite_link(tests.id('group')) $$, '42501', null,
  'a member cannot create invite links');
select throws_ok($$ select public.create_invite_link(tests.id('direct')) $$, '22023', null,
  'direct chats take no invite links');
select is_empty($$ select 1 from public.chat_invitations where token is not null $$,
  'a member cannot read the chat''s invite links');

select tests.authenticate_as('inv_outsider');
select throws_ok($$ select public.create_invite_link(tests.id('group')) $$, 'PT404', null,
  'an outsider cannot create invite links and cannot tell the chat exists');
select throws_ok($$ select public.create_invite_link(tests.id('group'), 10) $$, 'PT404', null,
  'outsider refusal comes before input validation');
select is((select title from public.get_invite_link_info(tests.token('link'))), 'Invites',
  'anyone signed in with the token can preview the chat');
select is_empty($$ select 1 from public.chat_invitations $$, 'an outsider reads no invitations');
select is((select role::text from public.accept_invite_link(tests.token('link'))), 'member',
  'an outsider joins through the link as a member');
select is((select role::text from public.accept_invite_link(tests.token('link'))), 'member',
  'accepting again is a no-op');
reset role;
select is((select use_count from public.chat_invitations where id = tests.id('link')), 1,
  'a repeated accept by a member does not use up the link');

select tests.authenticate_as('inv_banned');
select throws_ok($$ select public.accept_invite_link(tests.token('link')) $$, '42501', null,
  'a banned user cannot join through a link');

select tests.authenticate_as('inv_guest');
select lives_ok($$ select public.accept_invite_link(tests.token('link')) $$,
  'a second user uses the link');
select tests.authenticate_as('inv_blocker');
select throws_ok($$ select public.accept_invite_link(tests.token('link')) $$, 'PT404', null,
  'a link past its use limit is refused');
select throws_ok($$ select public.get_invite_link_info(tests.token('link')) $$, 'PT404', null,
  'a used-up link shows no preview');
select throws_ok($$ select public.accept_invite_link('not-a-token') $$, 'PT404', null, 'an unknown token is refused');

select tests.clear_authentication();
select throws_ok($$ select public.accept_invite_link(tests.token('link')) $$, '42501', null,
  'anon cannot accept links');
select throws_ok($$ select * from public.chat_invitations $$, '42501', null, 'anon cannot read invitations');

-- expiry and revocation
select tests.authenticate_as('inv_owner');
select tests.remember('expiring', i.id, i.token) from public.create_invite_link(tests.id('group'), 60) i;
reset role;
update public.chat_invitations set expires_at = now() - interval '1 second' where id = tests.id('expiring');
select tests.authenticate_as('inv_blocker');
select throws_ok($$ select public.accept_invite_link(tests.token('expiring')) $$, 'PT404', null,
  'an expired link is refused');

select tests.authenticate_as('inv_owner');
select tests.remember('revoked', i.id, i.token) from public.create_invite_link(tests.id('group'), null) i;
select throws_ok($$ select public.create_invite_link(tests.id('group'), 5) $$, '22023', null,
  'an expiry under a minute is refused');
select throws_ok($$ select public.create_invite_link(tests.id('group'), 3600, 0) $$, '22023', null,
  'max_uses of zero is refused');
select tests.authenticate_as('inv_member');
select throws_ok($$ select public.revoke_invitation(tests.id('revoked')) $$, '42501', null,
  'a member cannot revoke a link');
select tests.authenticate_as('inv_admin');
select is((select status::text from public.revoke_invitation(tests.id('revoked'))), 'revoked',
  'an admin revokes a link');
select tests.authenticate_as('inv_blocker');
select throws_ok($$ select public.accept_invite_link(tests.token('revoked')) $$, 'PT404', null,
  'a revoked link is refused');

-- direct invitations -------------------------------------------------------------------------------------------------
select tests.authenticate_as('inv_blocker');
insert into public.user_blocks (blocker_id, blocked_id) values (auth.uid(), tests.get_user_id('inv_admin'));
select tests.authenticate_as('inv_admin');
select throws_ok($$ select public.invite_user(tests.id('group'), tests.get_user_id('inv_blocker')) $$,
  '42501', null, 'an admin cannot invite a user who blocked them');
select throws_ok($$ select public.invite_user(tests.id('group'), tests.get_user_id('inv_banned')) $$,
  '42501', null, 'a banned user cannot be invited');
select throws_ok($$ select public.invite_user(tests.id('group'), tests.get_user_id('inv_member')) $$,
  '23505', null, 'a member cannot be invited again');

select tests.authenticate_as('inv_owner');
select tests.remember('direct_invite', (public.invite_user(tests.id('group'), tests.get_user_id('inv_blocker'))).id);
select is((public.invite_user(tests.id('group'), tests.get_user_id('inv_blocker'))).id,
  tests.id('direct_invite'), 'inviting the same user again returns the pending invitation');

select tests.authenticate_as('inv_member');
select throws_ok($$ select public.invite_user(tests.id('group'), tests.get_user_id('inv_outsider')) $$,
  '42501', null, 'a member cannot invite');
select throws_ok($$ select public.respond_to_invitation(tests.id('direct_invite'), true) $$,
  'PT404', null, 'only the invited user can respond');

select tests.authenticate_as('inv_blocker');
select is((select count(*)::int from public.chat_invitations), 1, 'the invited user reads their own invitation');
select is((select status::text from public.respond_to_invitation(tests.id('direct_invite'), true)),
  'accepted', 'the invited user accepts');
select ok(exists (select 1 from public.chat_members where chat_id = tests.id('group') and user_id = auth.uid()),
  'accepting makes them a member');
select throws_ok($$ select public.respond_to_invitation(tests.id('direct_invite'), false) $$,
  '22023', null, 'an answered invitation cannot be answered again');

select tests.authenticate_as('inv_owner');
select is((select count(*)::int from public.chat_invitations where chat_id = tests.id('group')), 4,
  'the owner reads all invitations of the chat');
select throws_ok($$ insert into public.chat_invitations (chat_id, token) values (tests.id('group'), 'x') $$,
  '42501', null, 'invitations cannot be inserted directly');
select throws_ok($$ update public.chat_invitations set max_uses = 100 $$, '42501', null,
  'invitations cannot be updated directly');

select * from finish();
rollback;
