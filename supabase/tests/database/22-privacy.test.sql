-- Findings of the security matrix, pinned: per-member settings stay private, deleting respects the role ladder,
-- hidden history stays hidden everywhere (chat list preview included), banned users get no invite preview,
-- reactions are emoji or :short_codes:.
begin;
create extension if not exists pgtap with schema extensions;
select plan(23);

select tests.create_user('pv_owner');
select tests.create_user('pv_admin');
select tests.create_user('pv_member');
select tests.create_user('pv_late');
select tests.create_user('pv_banned');

-- fixtures (sql/test): a group with an admin, a member and a banned member, a message from each of them, a link.
select tests.create_group('group', 'pv_owner', members => array['pv_admin', 'pv_member', 'pv_banned'],
                          admins => array['pv_admin'], title => 'Privacy');
select tests.send_message('owner_msg', 'pv_owner', 'group', 'from the owner');
select tests.create_invite_link('link', 'pv_owner', 'group');
select tests.authenticate_as('pv_owner');
select public.ban_chat_member(tests.id('group'), tests.get_user_id('pv_banned'));
select tests.send_message('admin_msg', 'pv_admin', 'group', 'from an admin');
select tests.send_message('member_msg', 'pv_member', 'group', 'from a member');
select tests.authenticate_as('pv_member');
select public.set_chat_preferences(tests.id('group'), archived => true, muted_until => now() + interval '1 day');

-- per-member settings ------------------------------------------------------------------------------------------------
select tests.authenticate_as('pv_owner');
select throws_ok($$ select archived_at from public.chat_members $$, '42501', null,
  'co-members cannot read each other''s archive state');
select throws_ok($$ select muted_until, notification_level, pinned_at from public.chat_members $$, '42501', null,
  'co-members cannot read each other''s mute, notification and pin settings');
select is((select count(*)::int from public.chat_members where chat_id = tests.id('group')), 3,
  'co-members still see who is in the chat');
select ok((select last_read_seq >= 0 from public.chat_members where user_id = tests.get_user_id('pv_member')),
  'read positions stay visible for read receipts');
select tests.authenticate_as('pv_member');
select is((select archived from public.list_chats(archived => true)), true, 'a member reads their own settings through list_chats');

-- deleting follows the role ladder --------------------------------------------------------------------------------
select tests.authenticate_as('pv_admin');
select throws_ok(format('select public.delete_message(%L)', tests.id('owner_msg')), '42501', null,
  'an admin cannot delete the owner''s message');
select lives_ok(format('select public.delete_message(%L)', tests.id('member_msg')),
  'an admin deletes a member''s message');
select tests.authenticate_as('pv_owner');
select lives_ok(format('select public.delete_message(%L)', tests.id('admin_msg')),
  'the owner deletes an admin''s message');

-- hidden history stays hidden in the chat list ---------------------------------------------------------------------
select public.update_chat(tests.id('group'), history_visible_to_new_members => false);
select public.add_chat_members(tests.id('group'), array[tests.get_user_id('pv_late')]);
select tests.authenticate_as('pv_late');
select is((select last_message from public.list_chats()), null,
  'a member who joined with hidden history gets no preview of an earlier message');
select is((select unread_count from public.list_chats()), 0::bigint, 'and no unread count for it');

-- banned users get no invite preview -------------------------------------------------------------------------------
select tests.authenticate_as('pv_banned');
select throws_ok(format('select * from public.get_invite_link_info(%L)', tests.token('link')), '42501', null,
  'a banned user gets no preview of the chat behind a link');

-- reactions ------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('pv_owner');
select tests.remember('react', (public.send_message(tests.id('group'), 'react to me')).id);
select is((public.toggle_reaction(tests.id('react'), '❤️') ->> 'added')::boolean, true, 'an emoji is a reaction');
select public.add_chat_emoji(tests.id('group'), ':party_parrot:', tests.id('pv_owner') || '/parrot.gif');
select is((public.toggle_reaction(tests.id('react'), ':party_parrot:') ->> 'added')::boolean, true,
  'a :short_code: the chat defines is a reaction');
select is((public.toggle_reaction(tests.id('react'), '1️⃣') ->> 'added')::boolean, true, 'a keycap is a reaction');
select throws_ok(format('select public.toggle_reaction(%L, %L)', tests.id('react'), 'lol'), '22023', null,
  'plain words are not reactions');
select throws_ok(format('select public.send_message(%L, %L, metadata => %L)', tests.id('group'), 'big',
  jsonb_build_object('blob', repeat(md5(random()::text), 400))), '22023', 'metadata is too large', 'oversized metadata is a 22023');

-- fixes found while documenting -------------------------------------------------------------------------------------
select tests.authenticate_as('pv_owner');
select throws_ok(format('select public.set_member_role(%L, %L, null)', tests.id('group'),
  tests.get_user_id('pv_member')), '22023', 'role is required', 'a null role is a 22023');
select throws_ok(format($q$insert into public.user_blocks (blocker_id, blocked_id) values (%L, %L)$q$,
  tests.get_user_id('pv_member'), tests.get_user_id('pv_admin')), '42501', 'you can only block users yourself',
  'inserting a block in someone else''s name is refused before anything is looked up');

-- an expired direct invitation does not lock the user out
select tests.create_user('pv_invitee');
select tests.remember('invite', (public.invite_user(tests.id('group'), tests.get_user_id('pv_invitee'))).id);
reset role;
update public.chat_invitations set expires_at = now() - interval '1 minute' where id = tests.id('invite');
select tests.authenticate_as('pv_owner');
select isnt((public.invite_user(tests.id('group'), tests.get_user_id('pv_invitee'))).id,
  tests.id('invite'), 'inviting again after expiry sends a fresh invitation');

-- both people in a direct chat may pin
select tests.create_user('pv_friend');
select tests.remember('dm', (public.create_direct_chat(tests.get_user_id('pv_friend'))).id);
select tests.remember('dm_msg', (public.send_message(tests.id('dm'), 'pin me')).id);
select tests.authenticate_as('pv_friend');
select isnt((public.pin_message(tests.id('dm_msg'))).pinned_at, null, 'a member of a direct chat pins');

-- deleting an account keeps counters and ownership right
reset role;
select is((select member_count from public.chats where id = tests.id('group')), 4,
  'the group has four members before the owner deletes their account');
delete from auth.users where id = tests.get_user_id('pv_owner');
select is((select member_count from public.chats where id = tests.id('group')), 3,
  'member_count drops when an account is deleted');
select is((select u.raw_user_meta_data ->> 'test_identifier' from public.chat_members m join auth.users u on u.id = m.user_id
            where m.chat_id = tests.id('group') and m.role = 'owner'), 'pv_admin',
  'the senior admin becomes owner when the owner''s account goes');

select * from finish();
rollback;
