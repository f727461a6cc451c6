-- Acting on messages and reading them: edit (author only, history kept), delete (author or admin, tombstone), pin
-- (admins, at most 50), reactions (toggle, counts, at most 20 different emoji), read state (mark_chat_read), history
-- pages (get_chat_messages) and the chat list (list_chats: filters, search, keyset pages, unread counts, preview).
begin;
create extension if not exists pgtap with schema extensions;
select plan(93);

-- fixtures ----------------------------------------------------------------------------------------------------------


-- Sends n messages '<prefix> 1' .. '<prefix> n' as the authenticated caller.
create function pg_temp.send_many(chat uuid, n integer, prefix text) returns void language plpgsql security definer as $$
begin
  for i in 1..n loop
    if i % 25 = 1 then
      delete from private.rate_counters;
    end if;
    perform public.send_message(chat, prefix || ' ' || i);
  end loop;
end
$$;
grant execute on function pg_temp.send_many(uuid, integer, text) to authenticated;

-- Walks get_chat_messages back from the newest with before_seq and returns every seq seen, in order.
create function pg_temp.walk_history(chat uuid, size integer) returns bigint[] language plpgsql as $$
declare
  seen bigint[] := '{}';
  page bigint[];
begin
  loop
    page := array(select m.seq from public.get_chat_messages(chat, before_seq => seen[cardinality(seen)], page_size => size) m);
    exit when cardinality(page) = 0;
    seen := seen || page;
  end loop;
  return seen;
end
$$;
grant execute on function pg_temp.walk_history(uuid, integer) to authenticated;

-- Walks list_chats (archived or not) with the keyset cursor and returns every chat id seen, in order.
create function pg_temp.walk_chats(size integer) returns uuid[] language plpgsql as $$
declare
  seen uuid[] := '{}';
  cursor_at timestamptz;
  cursor_id uuid;
  n integer;
  r record;
begin
  loop
    n := 0;
    for r in select * from public.list_chats(archived => null, before_activity_at => cursor_at,
                                             before_chat_id => cursor_id, page_size => size) loop
      seen := seen || r.chat_id;
      cursor_at := r.last_activity_at;
      cursor_id := r.chat_id;
      n := n + 1;
    end loop;
    exit when n < size;
  end loop;
  return seen;
end
$$;
grant execute on function pg_temp.walk_chats(integer) to authenticated;

-- personas: alice owns the chats, bob is a member, carol an admin, dave an outsider; zed only has a direct chat with bob.
select tests.create_user(u) from unnest(array['alice', 'bob', 'carol', 'dave']) u;
select tests.create_user('zed', null, '{"display_name": "Zed Zebra"}');

select tests.create_group('group', 'alice', members => array['bob', 'carol'], admins => array['carol'], title => 'Team');
select tests.create_group('daves', 'dave', title => 'Dave alone');

-- edit -------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select tests.remember('e1', m.id) from public.send_message(tests.id('group'), 'v1') m;
select is((select jsonb_build_object('body', m.body, 'edited', m.edited_at is not null)
             from public.edit_message(tests.id('e1'), '  v2 ') m),
  '{"body": "v2", "edited": true}'::jsonb, 'the author edits: new body (trimmed), edited_at set');
select public.edit_message(tests.id('e1'), 'v3');
select public.edit_message(tests.id('e1'), 'v3');
select tests.authenticate_as('bob');
select is(
  array(select jsonb_build_object('previous', previous_body, 'by', edited_by)
          from public.message_edits where message_id = tests.id('e1') order by id),
  array[jsonb_build_object('previous', 'v1', 'by', tests.id('alice')), jsonb_build_object('previous', 'v2', 'by', tests.id('alice'))],
  'every edit keeps the previous body in message_edits, oldest first; members can read it; a no-op edit adds nothing');
select throws_ok($$ select public.edit_message(tests.id('e1'), 'bob was here') $$, '42501',
  'only the author can edit a message', 'a member cannot edit someone else''s message');
select tests.authenticate_as('carol');
select throws_ok($$ select public.edit_message(tests.id('e1'), 'admin was here') $$, '42501',
  'only the author can edit a message', 'an admin cannot edit someone else''s message either');
select tests.authenticate_as('dave');
select throws_ok($$ select public.edit_message(tests.id('e1'), 'dave was here') $$, 'PT404', 'message not found',
  'an outsider cannot edit (and cannot tell the message exists)');
select tests.clear_authentication();
select throws_ok($$ select public.edit_message(tests.id('e1'), 'anon was here') $$, '42501', null, 'anon cannot edit');
select tests.authenticate_as('alice');
select throws_ok($$ select public.edit_message(tests.id('e1'), E' \n ') $$, '22023', 'message is empty',
  'an edit to an empty body is refused');
select throws_ok($$ select public.edit_message(tests.id('e1'), repeat('x', 4001)) $$, '22023', 'message is too long',
  'an edit over 4000 characters is refused');
select is((select body from public.messages where id = tests.id('e1')), 'v3', 'refused edits leave the body alone');
select public.delete_message(tests.id('e1'));
select throws_ok($$ select public.edit_message(tests.id('e1'), 'resurrected') $$, '22023', 'message was deleted',
  'a deleted message cannot be edited');
select tests.authenticate_as('bob');
select is_empty($$ select previous_body from public.message_edits where message_id = tests.id('e1') $$,
  'deleting a message also removes its edit history (the tombstone keeps no content)');

-- delete -----------------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select tests.remember('b1', m.id) from public.send_message(tests.id('group'), 'bob one') m;
select tests.remember('b2', m.id) from public.send_message(tests.id('group'), 'bob two') m;
select tests.remember('b3', m.id) from public.send_message(tests.id('group'), 'bob three') m;
select tests.authenticate_as('alice');
select tests.remember('a1', m.id) from public.send_message(tests.id('group'), 'alice one') m;
select public.toggle_reaction(tests.id('b1'), '👍');
select tests.authenticate_as('carol');
select public.toggle_reaction(tests.id('b1'), '🎉');
select tests.authenticate_as('bob');
select is(
  (select jsonb_build_object('body', m.body, 'deleted', m.deleted_at is not null, 'by', m.deleted_by,
                             'reaction_counts', m.reaction_counts, 'metadata', m.metadata)
     from public.delete_message(tests.id('b1')) m),
  jsonb_build_object('body', null, 'deleted', true, 'by', tests.id('bob'), 'reaction_counts', '{}'::jsonb, 'metadata', '{}'::jsonb),
  'the author deletes: a tombstone with no body, deleted_at and deleted_by set, no reactions');
select is_empty($$ select emoji from public.message_reactions where message_id = tests.id('b1') $$,
  'deleting a message removes its reactions');
select is((select count(*)::int from public.get_chat_messages(tests.id('group')) m where m.id = tests.id('b1')), 1,
  'the tombstone stays in the history');
select is((select m.deleted_by from public.delete_message(tests.id('b1')) m), tests.id('bob'),
  'deleting again returns the same tombstone');
select throws_ok($$ select public.delete_message(tests.id('a1')) $$, '42501',
  'only the author or a chat admin can delete a message', 'a member cannot delete someone else''s message');
select is((select body from public.messages where id = tests.id('a1')), 'alice one', 'the refused delete changed nothing');
select tests.authenticate_as('carol');
select is((select m.deleted_by from public.delete_message(tests.id('b2')) m), tests.id('carol'),
  'an admin deletes a member''s message');
select tests.authenticate_as('alice');
select is((select m.deleted_by from public.delete_message(tests.id('b3')) m), tests.id('alice'),
  'the owner deletes a member''s message');
select tests.authenticate_as('dave');
select throws_ok($$ select public.delete_message(tests.id('a1')) $$, 'PT404', 'message not found',
  'an outsider cannot delete');
select tests.clear_authentication();
select throws_ok($$ select public.delete_message(tests.id('a1')) $$, '42501', null, 'anon cannot delete');

-- deleting a thread reply lowers the root's reply_count
select tests.authenticate_as('carol');
select tests.remember('root', m.id) from public.send_message(tests.id('group'), 'thread root') m;
select tests.remember('t1', m.id) from public.send_message(tests.id('group'), 'reply', thread_root_id => tests.id('root')) m;
select public.delete_message(tests.id('t1'));
select is((select reply_count from public.messages where id = tests.id('root')), 0,
  'deleting a thread reply lowers the root''s reply_count');
select tests.authenticate_as('bob');
select throws_ok($$ select public.forward_message(tests.id('b1'), tests.id('group')) $$, 'PT404', 'message not found',
  'a deleted message cannot be forwarded');

-- pin ----------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('carol');
select is((select jsonb_build_object('pinned', m.pinned_at is not null, 'by', m.pinned_by)
             from public.pin_message(tests.id('a1')) m),
  jsonb_build_object('pinned', true, 'by', tests.id('carol')), 'an admin pins a message');
select tests.authenticate_as('alice');
select is((select m.pinned_at is null from public.pin_message(tests.id('a1'), pinned => false) m), true,
  'the owner unpins it');
select tests.authenticate_as('bob');
select throws_ok($$ select public.pin_message(tests.id('a1')) $$, '42501', 'only chat admins can do this',
  'a member cannot pin');
select is((select pinned_at from public.messages where id = tests.id('a1')), null, 'the refused pin changed nothing');
select tests.authenticate_as('dave');
select throws_ok($$ select public.pin_message(tests.id('a1')) $$, 'PT404', 'message not found', 'an outsider cannot pin');
select tests.authenticate_as('alice');
select throws_ok($$ select public.pin_message(tests.id('b2')) $$, '22023', 'message was deleted',
  'a deleted message cannot be pinned');

-- at most 50 pinned messages per chat
select tests.authenticate_as('alice');
select tests.remember('pins', c.id) from public.create_group_chat('Pins', array[tests.id('bob')]) c;
select pg_temp.send_many(tests.id('pins'), 52, 'pin me');
do $$
begin
  for i in 1..50 loop
    perform public.pin_message((select m.id from public.messages m where m.chat_id = tests.id('pins') and m.seq = i));
  end loop;
end
$$;
select tests.remember('pin51', m.id) from public.messages m where m.chat_id = tests.id('pins') and m.seq = 51;
select tests.remember('pin1', m.id) from public.messages m where m.chat_id = tests.id('pins') and m.seq = 1;
select throws_ok($$ select public.pin_message(tests.id('pin51')) $$, '23514', 'too many pinned messages',
  'the 51st pinned message is refused');
select lives_ok($$ select public.pin_message(tests.id('pin1')) $$, 'pinning an already pinned message at the limit is fine');
select public.pin_message(tests.id('pin1'), pinned => false);
select lives_ok($$ select public.pin_message(tests.id('pin51')) $$, 'after an unpin there is room again');
select is((select count(*)::int from public.messages where chat_id = tests.id('pins') and pinned_at is not null), 50,
  'a chat holds 50 pinned messages');

-- reactions ----------------------------------------------------------------------------------------------------------
select tests.forget_send_rate();
select tests.authenticate_as('alice');
select tests.remember('r1', m.id) from public.send_message(tests.id('group'), 'react to me') m;
select tests.authenticate_as('bob');
select is(public.toggle_reaction(tests.id('r1'), '👍'), '{"added": true, "emoji": "👍", "reaction_counts": {"👍": 1}}'::jsonb,
  'a member adds a reaction and gets the new counts');
select tests.authenticate_as('carol');
select is(public.toggle_reaction(tests.id('r1'), '👍') -> 'reaction_counts', '{"👍": 2}'::jsonb,
  'a second member''s same emoji raises the count');
select tests.authenticate_as('bob');
select is(public.toggle_reaction(tests.id('r1'), '❤️') -> 'reaction_counts', '{"👍": 2, "❤️": 1}'::jsonb,
  'a member may react with several emoji');
select is(public.toggle_reaction(tests.id('r1'), ' 👍 '), '{"added": false, "emoji": "👍", "reaction_counts": {"👍": 1, "❤️": 1}}'::jsonb,
  'toggling the same emoji again removes it (the emoji is trimmed)');
select is(
  (select jsonb_build_object('counts', m.reaction_counts,
                             'rows', (select jsonb_agg(jsonb_build_object('user', r.user_id, 'emoji', r.emoji) order by r.emoji)
                                        from public.message_reactions r where r.message_id = m.id))
     from public.messages m where m.id = tests.id('r1')),
  jsonb_build_object('counts', '{"👍": 1, "❤️": 1}'::jsonb,
                     'rows', (select jsonb_agg(x order by x ->> 'emoji') from (values
                                (jsonb_build_object('user', tests.id('carol'), 'emoji', '👍')),
                                (jsonb_build_object('user', tests.id('bob'), 'emoji', '❤️'))) v(x))),
  'the message''s reaction_counts match the reaction rows');
select is(public.toggle_reaction(tests.id('r1'), '❤️') -> 'reaction_counts', '{"👍": 1}'::jsonb,
  'removing the last reaction of an emoji drops it from the counts');
select throws_ok($$ select public.toggle_reaction(tests.id('r1'), '') $$, '22023', 'invalid emoji', 'an empty emoji is refused');
select throws_ok($$ select public.toggle_reaction(tests.id('r1'), null) $$, '22023', 'invalid emoji', 'a null emoji is refused');
select throws_ok($$ select public.toggle_reaction(tests.id('r1'), 'thumbs up') $$, '22023', 'invalid emoji',
  'an emoji with a space is refused');
select throws_ok($$ select public.toggle_reaction(tests.id('r1'), repeat('x', 33)) $$, '22023', 'invalid emoji',
  'an emoji over 32 characters is refused');
select throws_ok($$ select public.toggle_reaction(tests.id('b2'), '👍') $$, '22023', 'message was deleted',
  'a deleted message gets no reactions');
select tests.authenticate_as('dave');
select throws_ok($$ select public.toggle_reaction(tests.id('r1'), '👍') $$, 'PT404', 'message not found',
  'an outsider cannot react');
select tests.clear_authentication();
select throws_ok($$ select public.toggle_reaction(tests.id('r1'), '👍') $$, '42501', null, 'anon cannot react');

-- at most 20 different emoji per message
select tests.authenticate_as('alice');
select tests.remember('r20', m.id) from public.send_message(tests.id('group'), 'many reactions') m;
do $$
begin
  for i in 0..19 loop
    perform public.toggle_reaction(tests.id('r20'), chr(128512 + i));
  end loop;
end
$$;
select tests.authenticate_as('bob');
select throws_ok(format('select public.toggle_reaction(%L, %L)', tests.id('r20'), chr(128512 + 20)), '23514',
  'too many different reactions', 'a 21st different emoji is refused');
select is(public.toggle_reaction(tests.id('r20'), chr(128512)) -> 'reaction_counts' ->> chr(128512), '2',
  'at the limit, an emoji already used can still be added');
select is((select count(*)::int from jsonb_object_keys((select reaction_counts from public.messages where id = tests.id('r20')))), 20,
  'the message has 20 different emoji');

-- mark_chat_read ----------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select tests.remember('reading', c.id) from public.create_group_chat('Reading', array[tests.id('bob')]) c;
select pg_temp.send_many(tests.id('reading'), 5, 'read me');
select tests.authenticate_as('bob');
select is((select unread_count from public.list_chats() where chat_id = tests.id('reading')), 5::bigint, 'bob has 5 unread');
select is(public.mark_chat_read(tests.id('reading'), 2), 3::bigint, 'reading up to seq 2 leaves 3 unread');
select is(public.mark_chat_read(tests.id('reading'), 1), 3::bigint, 'the read cursor never moves back');
select is((select last_read_seq from public.chat_members where chat_id = tests.id('reading') and user_id = tests.id('bob')),
  2::bigint, 'the read cursor stays at 2');
select is(public.mark_chat_read(tests.id('reading'), 999), 0::bigint, 'a seq beyond the newest reads everything');
select is((select last_read_seq from public.chat_members where chat_id = tests.id('reading') and user_id = tests.id('bob')),
  5::bigint, 'the read cursor is clamped to the newest message');
select tests.authenticate_as('alice');
select public.send_message(tests.id('reading'), 'one more');
select tests.authenticate_as('bob');
select is((select unread_count from public.list_chats() where chat_id = tests.id('reading')), 1::bigint,
  'a new message is unread again');
select is(public.mark_chat_read(tests.id('reading')), 0::bigint, 'without a seq, everything is read');
select is((select unread_count from public.list_chats() where chat_id = tests.id('reading')), 0::bigint,
  'the chat list agrees: 0 unread');
select throws_ok($$ select public.mark_chat_read(tests.id('reading'), -1) $$, '22023', null, 'a negative seq is refused');
select tests.authenticate_as('dave');
select throws_ok($$ select public.mark_chat_read(tests.id('reading')) $$, 'PT404', 'chat not found',
  'an outsider cannot mark a chat read');
select tests.clear_authentication();
select throws_ok($$ select public.mark_chat_read(tests.id('reading')) $$, '42501', null, 'anon cannot mark a chat read');

-- get_chat_messages ---------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select tests.remember('history', c.id) from public.create_group_chat('History', array[tests.id('bob')]) c;
select pg_temp.send_many(tests.id('history'), 250, 'old');
select tests.authenticate_as('bob');
select is(array(select seq from public.get_chat_messages(tests.id('history'))),
  array(select generate_series(250::bigint, 201, -1)), 'the default page is the newest 50, newest first');
select is(array(select seq from public.get_chat_messages(tests.id('history'), before_seq => 201, page_size => 50)),
  array(select generate_series(200::bigint, 151, -1)), 'before_seq pages back without overlap');
select is(array(select seq from public.get_chat_messages(tests.id('history'), after_seq => 10, page_size => 5)),
  array[15::bigint, 14, 13, 12, 11], 'after_seq gives the next messages after the cursor, newest first');
select is(array(select seq from public.get_chat_messages(tests.id('history'), around_seq => 100, page_size => 10)),
  array(select generate_series(105::bigint, 96, -1)), 'around_seq centers a page of page_size on the message');
select is(array(select seq from public.get_chat_messages(tests.id('history'), around_seq => 3, page_size => 11)),
  array(select generate_series(8::bigint, 1, -1)), 'around_seq near the start gives what exists');
select is((select count(*)::int from public.get_chat_messages(tests.id('history'), page_size => 1000)), 200,
  'page_size is capped at 200');
select is((select count(*)::int from public.get_chat_messages(tests.id('history'), around_seq => 125, page_size => 1000)), 200,
  'page_size is capped at 200 around a message too');
select is((select count(*)::int from public.get_chat_messages(tests.id('history'), page_size => 0)), 1,
  'page_size below 1 gives one message');
select is(pg_temp.walk_history(tests.id('history'), 64), array(select generate_series(250::bigint, 1, -1)),
  'walking back with before_seq visits every message exactly once');
select throws_ok($$ select * from public.get_chat_messages(tests.id('history'), before_seq => 10, after_seq => 5) $$,
  '22023', null, 'before_seq and after_seq together are refused');
select throws_ok($$ select * from public.get_chat_messages(tests.id('history'), after_seq => 10, around_seq => 5) $$,
  '22023', null, 'after_seq and around_seq together are refused');
select tests.authenticate_as('dave');
select throws_ok($$ select * from public.get_chat_messages(tests.id('history')) $$, 'PT404', null,
  'get_chat_messages refuses an outsider as if the chat did not exist');
select tests.clear_authentication();
select throws_ok($$ select * from public.get_chat_messages(tests.id('history')) $$, '42501', null,
  'anon cannot call get_chat_messages');

-- list_chats ----------------------------------------------------------------------------------------------------------
-- bob's chats: Team, Pins, Reading, History (groups), Bulletin (channel), a direct chat with zed and one with carol,
-- and Old stuff, which he archives.
select tests.authenticate_as('alice');
select tests.forget_send_rate();
select tests.remember('bulletin', c.id) from public.create_channel('Bulletin') c;
select public.add_chat_members(tests.id('bulletin'), array[tests.id('bob')]);
select public.send_message(tests.id('bulletin'), repeat('long news ', 30));
select tests.remember('old', c.id) from public.create_group_chat('Old stuff', array[tests.id('bob')]) c;
select public.send_message(tests.id('group'), 'latest in team');
select tests.authenticate_as('zed');
select tests.remember('dm_zed', c.id) from public.create_direct_chat(tests.id('bob')) c;
select public.send_message(tests.id('dm_zed'), 'hi bob, zed here');
select tests.authenticate_as('carol');
select tests.remember('dm_carol', c.id) from public.create_direct_chat(tests.id('bob')) c;
select tests.authenticate_as('bob');
select public.set_chat_preferences(tests.id('old'), archived => true);

-- Distinct activity times, with two chats sharing one so that a page boundary of 2 falls inside the tie.
reset role;
update public.chats c set last_activity_at = now() - t.ago
  from (values ('group', interval '1 minute'), ('bulletin', interval '2 minutes'), ('dm_zed', interval '2 minutes'),
               ('reading', interval '3 minutes'), ('history', interval '4 minutes'), ('pins', interval '5 minutes'),
               ('dm_carol', interval '6 minutes'), ('old', interval '7 minutes'), ('daves', interval '2 minutes')) t(name, ago)
 where c.id = tests.id(t.name);

select tests.authenticate_as('bob');
select is(array(select chat_id from public.list_chats()),
  array[tests.id('group')]
    || array(select x from unnest(array[tests.id('bulletin'), tests.id('dm_zed')]) x order by x desc)
    || array[tests.id('reading'), tests.id('history'), tests.id('pins'), tests.id('dm_carol')],
  'the list holds the caller''s unarchived chats, newest activity first, ties by id');
select is(array(select chat_id from public.list_chats(archived => true)), array[tests.id('old')],
  'archived => true lists only archived chats');
select is((select count(*)::int from public.list_chats(archived => null)), 8, 'archived => null lists all chats');
select is(array(select chat_id from public.list_chats(kind => 'direct') order by chat_id),
  array(select x from unnest(array[tests.id('dm_zed'), tests.id('dm_carol')]) x order by x),
  'kind filters to direct chats');
select is(array(select chat_id from public.list_chats(kind => 'channel')), array[tests.id('bulletin')],
  'kind filters to channels');
select is(array(select other_user_id from public.list_chats(kind => 'direct') order by chat_id),
  array(select o from (values (tests.id('dm_zed'), tests.id('zed')), (tests.id('dm_carol'), tests.id('carol'))) v(c, o)
         order by c),
  'direct chats name the other user');
select is(array(select chat_id from public.list_chats(unread_only => true) order by chat_id),
  array(select x from unnest(array[tests.id('group'), tests.id('bulletin'), tests.id('dm_zed'),
                                   tests.id('history'), tests.id('pins')]) x order by x),
  'unread_only lists the chats with unread messages');
select is(array(select chat_id from public.list_chats(search => 'TEA')), array[tests.id('group')],
  'search matches group titles case-insensitively');
select is(array(select chat_id from public.list_chats(search => 'zed')), array[tests.id('dm_zed')],
  'search finds a direct chat by the other user''s username');
select is(array(select chat_id from public.list_chats(search => 'zebra')), array[tests.id('dm_zed')],
  'search finds a direct chat by the other user''s display name');
select is(array(select chat_id from public.list_chats(search => 'carol')), array[tests.id('dm_carol')],
  'search for a username matches only the direct chat with that user');
select is_empty($$ select * from public.list_chats(search => 'nothing like this') $$, 'a search without match is empty');
select is(pg_temp.walk_chats(2), array(select chat_id from public.list_chats(archived => null, page_size => 100)),
  'keyset pages of 2 (before_activity_at, before_chat_id) are disjoint and together give the whole list in order');
select is(
  (select jsonb_build_object('unread', unread_count, 'role', role, 'seq', last_message ->> 'seq',
                             'author', last_message ->> 'author_id', 'body_length', char_length(last_message ->> 'body'),
                             'deleted', last_message -> 'deleted')
     from public.list_chats() where chat_id = tests.id('bulletin')),
  jsonb_build_object('unread', 1, 'role', 'member', 'seq', '1', 'author', tests.id('alice'), 'body_length', 200,
                     'deleted', false),
  'a row carries the unread count, the caller''s role and a preview of the last message cut to 200 characters');
select is((select last_message ->> 'body' from public.list_chats() where chat_id = tests.id('group')), 'latest in team',
  'the preview is the newest message');
select is((select unread_count from public.list_chats() where chat_id = tests.id('history')), 250::bigint,
  'unread counts every message the caller has not read');
select tests.authenticate_as('alice');
select public.delete_message((select m.id from public.messages m where m.chat_id = tests.id('bulletin') and m.seq = 1));
select tests.authenticate_as('bob');
select is((select last_message - 'id' - 'created_at' - 'author_id' from public.list_chats() where chat_id = tests.id('bulletin')),
  '{"seq": 1, "kind": "text", "body": null, "deleted": true}'::jsonb, 'a deleted last message shows as a tombstone preview');
select tests.authenticate_as('dave');
select is(array(select chat_id from public.list_chats(archived => null)), array[tests.id('daves')],
  'an outsider sees only their own chats');
select tests.clear_authentication();
select throws_ok($$ select * from public.list_chats() $$, '42501', null, 'anon cannot list chats');

select * from finish();
rollback;
