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

create temp table fx (name text primary key, id uuid, token text);
grant all on fx to authenticated;

select tests.authenticate_as('pv_owner');
insert into fx (name, id) select 'group', (public.create_group_chat('Privacy',
  array[tests.get_user_id('pv_admin'), tests.get_user_id('pv_member'), tests.get_user_id('pv_banned')])).id;
select public.set_member_role((select id from fx where name = 'group'), tests.get_user_id('pv_admin'), 'admin');
insert into fx (name, id) select 'owner_msg', (public.send_message((select id from fx where name = 'group'), 'from the owner')).id;
insert into fx (name, token) select 'link', (public.create_invite_link((select id from fx where name = 'group'))).token;
select public.ban_chat_member((select id from fx where name = 'group'), tests.get_user_id('pv_banned'));

select tests.authenticate_as('pv_admin');
insert into fx (name, id) select 'admin_msg', (public.send_message((select id from fx where name = 'group'), 'from an admin')).id;
select tests.authenticate_as('pv_member');
insert into fx (name, id) select 'member_msg', (public.send_message((select id from fx where name = 'group'), 'from a member')).id;
select public.set_chat_preferences((select id from fx where name = 'group'), archived => true, muted_until => now() + interval '1 day');

-- per-member settings ------------------------------------------------------------------------------------------------
select tests.authenticate_as('pv_owner');
select throws_ok($$ select archived_at from public.chat_members $$, '42501', null,
  'co-members cannot read each other''s archive state');
select throws_ok($$ select muted_until, notification_level, pinned_at from public.chat_members $$, '42501', null,
  'co-members cannot read each other''s mute, notification and pin settings');
select is((select count(*)::int from public.chat_members where chat_id = (select id from fx where name = 'group')), 3,
  'co-members still see who is in the chat');
select ok((select last_read_seq >= 0 from public.chat_members where user_id = tests.get_user_id('pv_member')),
  'read positions stay visible for read receipts');
select tests.authenticate_as('pv_member');
select is((select archived from public.list_chats(archived => true)), true, 'a member reads their own settings through list_chats');

-- deleting follows the role ladder --------------------------------------------------------------------------------
select tests.authenticate_as('pv_admin');
select throws_ok(format('select public.delete_message(%L)', (select id from fx where name = 'owner_msg')), '42501', null,
  'an admin cannot delete the owner''s message');
select lives_ok(format('select public.delete_message(%L)', (select id from fx where name = 'member_msg')),
  'an admin deletes a member''s message');
select tests.authenticate_as('pv_owner');
select lives_ok(format('select public.delete_message(%L)', (select id from fx where name = 'admin_msg')),
  'the owner deletes an admin''s message');

-- hidden history stays hidden in the chat list ---------------------------------------------------------------------
select public.update_chat((select id from fx where name = 'group'), history_visible_to_new_members => false);
select public.add_chat_members((select id from fx where name = 'group'), array[tests.get_user_id('pv_late')]);
select tests.authenticate_as('pv_late');
select is((select last_message from public.list_chats()), null,
  'a member who joined with hidden history gets no preview of an earlier message');
select is((select unread_count from public.list_chats()), 0::bigint, 'and no unread count for it');

-- banned users get no invite preview -------------------------------------------------------------------------------
select tests.authenticate_as('pv_banned');
select throws_ok(format('select * from public.get_invite_link_info(%L)', (select token from fx where name = 'link')), '42501', null,
  'a banned user gets no preview of the chat behind a link');

-- reactions ------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('pv_owner');
insert into fx (name, id) select 'react', (public.send_message((select id from fx where name = 'group'), 'react to me')).id;
select is((public.toggle_reaction((select id from fx where name = 'react'), '❤️') ->> 'added')::boolean, true, 'an emoji is a reaction');
select is((public.toggle_reaction((select id from fx where name = 'react'), ':party_parrot:') ->> 'added')::boolean, true,
  'a :short_code: is a reaction');
select is((public.toggle_reaction((select id from fx where name = 'react'), '1️⃣') ->> 'added')::boolean, true, 'a keycap is a reaction');
select throws_ok(format('select public.toggle_reaction(%L, %L)', (select id from fx where name = 'react'), 'lol'), '22023', null,
  'plain words are not reactions');
select throws_ok(format('select public.send_message(%L, %L, metadata => %L)', (select id from fx where name = 'group'), 'big',
  jsonb_build_object('blob', repeat(md5(random()::text), 400))), '22023', 'metadata is too large', 'oversized metadata is a 22023');

-- fixes found while documenting -------------------------------------------------------------------------------------
select tests.authenticate_as('pv_owner');
select throws_ok(format('select public.set_member_role(%L, %L, null)', (select id from fx where name = 'group'),
  tests.get_user_id('pv_member')), '22023', 'role is required', 'a null role is a 22023');
select throws_ok(format($q$insert into public.user_blocks (blocker_id, blocked_id) values (%L, %L)$q$,
  tests.get_user_id('pv_member'), tests.get_user_id('pv_admin')), '42501', 'you can only block users yourself',
  'inserting a block in someone else''s name is refused before anything is looked up');

-- an expired direct invitation does not lock the user out
select tests.create_user('pv_invitee');
insert into fx (name, id) select 'invite', (public.invite_user((select id from fx where name = 'group'), tests.get_user_id('pv_invitee'))).id;
reset role;
update public.chat_invitations set expires_at = now() - interval '1 minute' where id = (select id from fx where name = 'invite');
select tests.authenticate_as('pv_owner');
select isnt((public.invite_user((select id from fx where name = 'group'), tests.get_user_id('pv_invitee'))).id,
  (select id from fx where name = 'invite'), 'inviting again after expiry sends a fresh invitation');

-- both people in a direct chat may pin
select tests.create_user('pv_friend');
insert into fx (name, id) select 'dm', (public.create_direct_chat(tests.get_user_id('pv_friend'))).id;
insert into fx (name, id) select 'dm_msg', (public.send_message((select id from fx where name = 'dm'), 'pin me')).id;
select tests.authenticate_as('pv_friend');
select isnt((public.pin_message((select id from fx where name = 'dm_msg'))).pinned_at, null, 'a member of a direct chat pins');

-- deleting an account keeps counters and ownership right
reset role;
select is((select member_count from public.chats where id = (select id from fx where name = 'group')), 4,
  'the group has four members before the owner deletes their account');
delete from auth.users where id = tests.get_user_id('pv_owner');
select is((select member_count from public.chats where id = (select id from fx where name = 'group')), 3,
  'member_count drops when an account is deleted');
select is((select u.raw_user_meta_data ->> 'test_identifier' from public.chat_members m join auth.users u on u.id = m.user_id
            where m.chat_id = (select id from fx where name = 'group') and m.role = 'owner'), 'pv_admin',
  'the senior admin becomes owner when the owner''s account goes');

select * from finish();
rollback;
