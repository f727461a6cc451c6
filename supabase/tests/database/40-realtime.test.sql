-- Realtime: which events each operation broadcasts to which topics, what they carry, the per-chat cursor, the
-- catch-up RPC, and Realtime Authorization on realtime.messages (checked the way the Realtime server checks it).
begin;
create extension if not exists pgtap with schema extensions;
select plan(90);

-- fixtures (sql/test/04_fixtures.sql): tests.took() lists the broadcasts since its previous call by fixture name --
select tests.create_user(u) from unnest(array['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) u;

-- chat creation -----------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select tests.remember('team', (public.create_group_chat('Team', array[tests.id('bob'), tests.id('carol')])).id);
select tests.commit_point();
select is(tests.took(), array[
  'chat:team participant.added', 'user:alice chat.added',
  'chat:team participant.added', 'user:bob chat.added', 'user:bob notification.created',
  'chat:team participant.added', 'user:carol chat.added', 'user:carol notification.created'],
  'creating a group announces each member on the chat topic and to each member''s own topic (and notifies those added)');
select is((select last_event_seq from public.chats where id = tests.id('team')), 3::bigint, 'three events, cursor 3');
select is(tests.last_payload('chat.added') -> 'data' -> 'chat' ->> 'title', 'Team', 'chat.added carries the chat');
select is(tests.last_payload('participant.added') -> 'data' -> 'profile' ->> 'username', 'carol',
  'participant.added carries the new member''s profile card');

select tests.remember('direct', (public.create_direct_chat(tests.id('bob'))).id);
select tests.commit_point();
select is(tests.took(), array[
  'chat:direct participant.added', 'user:alice chat.added', 'chat:direct participant.added', 'user:bob chat.added'],
  'a direct chat announces both people');

-- messages ----------------------------------------------------------------------------------------------------------
select tests.remember('m1', (public.send_message(tests.id('team'), 'hello team')).id);
select tests.commit_point();
select is(tests.took(), array['chat:team message.sent', 'user:bob chat.activity', 'user:carol chat.activity'],
  'a send broadcasts message.sent once, and chat-list activity to the other members of a small chat');
select is(tests.last_payload('message.sent') -> 'data' -> 'message' ->> 'body', 'hello team', 'message.sent carries the message');
select is(tests.last_payload('message.sent') -> 'data' -> 'message' -> 'author' ->> 'username', 'alice',
  'message.sent carries the author''s profile card');
select is((tests.last_payload('message.sent') ->> 'cursor')::bigint, 4::bigint, 'message.sent has the next cursor');
select is(tests.last_payload('chat.activity') -> 'data' -> 'last_message' ->> 'body', 'hello team',
  'chat.activity carries the preview for the chat list');

select public.edit_message(tests.id('m1'), 'hello, team');
select tests.commit_point();
select is(tests.took(), array['chat:team message.updated'], 'an edit broadcasts message.updated');
select is(tests.last_payload('message.updated') -> 'data' -> 'message' ->> 'body', 'hello, team', 'with the new body');

select public.pin_message(tests.id('m1'));
select tests.commit_point();
select is(tests.took(), array['chat:team message.updated'], 'a pin broadcasts message.updated');

select tests.remember('reply', (public.send_message(tests.id('team'), 'in thread', thread_root_id => tests.id('m1'))).id);
select tests.commit_point();
select is(tests.took(), array['chat:team message.updated', 'chat:team message.sent', 'user:bob chat.activity', 'user:carol chat.activity'],
  'a thread reply updates the root''s reply count, then sends');

-- A forward is inserted and then labelled with its origin in one transaction: one complete message.sent.
select tests.remember('fwd', (public.forward_message(tests.id('m1'), tests.id('direct'))).id);
select tests.commit_point();
select is(tests.took(), array['chat:direct message.sent', 'user:bob chat.activity'], 'a forward broadcasts one message.sent');
select is(tests.last_payload('message.sent') -> 'data' -> 'message' ->> 'forwarded_from_message_id', tests.id('m1')::text,
  'and it carries the origin');

-- reactions ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select public.toggle_reaction(tests.id('m1'), '👍');
select tests.commit_point();
select is(tests.took(), array['user:alice notification.created', 'chat:team reaction.added'],
  'a reaction broadcasts reaction.added (and notifies the author at once, the chat event follows at commit)');
select is(tests.last_payload('reaction.added') -> 'data' -> 'reaction_counts', '{"👍": 1}'::jsonb, 'with the new counts');
select is(tests.last_payload('reaction.added') -> 'data' ->> 'user_id', tests.id('bob')::text, 'and who reacted');
select public.toggle_reaction(tests.id('m1'), '👍');
select tests.commit_point();
select is(tests.took(), array['chat:team reaction.removed'], 'taking it back broadcasts reaction.removed');
select is(tests.last_payload('reaction.removed') -> 'data' -> 'reaction_counts', '{}'::jsonb, 'with the counts after removal');

-- read state --------------------------------------------------------------------------------------------------------
select public.mark_chat_read(tests.id('team'));
select tests.commit_point();
select is(tests.took(), array['chat:team message.read', 'user:bob unread.updated'],
  'reading broadcasts a read receipt to the chat and the unread count to the reader''s devices');
select is(tests.last_payload('unread.updated') -> 'data' ->> 'unread_count', '0', 'unread.updated carries the count');
select public.mark_chat_read(tests.id('team'));
select tests.commit_point();
select is(tests.took(), '{}'::text[], 'reading again without news broadcasts nothing');

select public.set_chat_preferences(tests.id('team'), notification_level => 'mentions');
select tests.commit_point();
select is(tests.took(), array['user:bob preferences.updated'], 'preferences go to the user''s own topic only');

-- deleting a message with reactions: one tombstone, no reaction events ------------------------------------------------
select public.toggle_reaction(tests.id('reply'), '🎉');
select tests.commit_point();
select tests.took();
select tests.authenticate_as('alice');
select public.delete_message(tests.id('reply'));
select tests.commit_point();
select is(tests.took(), array['chat:team message.deleted', 'chat:team message.updated'],
  'deleting a reply broadcasts one message.deleted (its reactions go silently) and the root''s new reply count');
select is(tests.last_payload('message.deleted') -> 'data' -> 'message' ->> 'body', null, 'the tombstone has no body');
select isnt(tests.last_payload('message.deleted') -> 'data' -> 'message' ->> 'deleted_at', null, 'and says when it was deleted');

-- members and chat settings -----------------------------------------------------------------------------------------
select public.set_member_role(tests.id('team'), tests.id('bob'), 'admin');
select is(tests.took(), array['chat:team participant.updated'], 'a role change broadcasts participant.updated');
select public.update_chat(tests.id('team'), title => 'Team A');
select is(tests.took(), array['chat:team chat.updated'], 'a settings change broadcasts chat.updated');
select is(tests.last_payload('chat.updated') -> 'data' -> 'chat' ->> 'title', 'Team A', 'with the chat as it is now');
select public.add_chat_members(tests.id('team'), array[tests.id('dave'), tests.id('erin')]);
select is(tests.took(), array['chat:team participant.added', 'user:dave chat.added', 'user:dave notification.created',
  'chat:team participant.added', 'user:erin chat.added', 'user:erin notification.created'],
  'adding members announces each of them (and notifies them)');
select public.remove_chat_member(tests.id('team'), tests.id('dave'));
select is(tests.took(), array['chat:team participant.removed', 'user:dave chat.removed'],
  'removing a member tells the chat and the removed user');
select is(tests.last_payload('chat.removed') -> 'data' ->> 'reason', 'removed', 'reason: removed');
select public.ban_chat_member(tests.id('team'), tests.id('erin'));
select is(tests.took(), array['user:erin notification.created', 'chat:team participant.removed', 'user:erin chat.removed'],
  'a ban notifies and removes the member');
select is(tests.last_payload('chat.removed') -> 'data' ->> 'reason', 'banned', 'reason: banned');
select tests.authenticate_as('carol');
select public.leave_chat(tests.id('team'));
select is(tests.took(), array['chat:team participant.removed', 'user:carol chat.removed'], 'leaving tells the chat and the user''s devices');
select is(tests.last_payload('chat.removed') -> 'data' ->> 'reason', 'left', 'reason: left');
select tests.authenticate_as('alice');

-- The cursor is gap-free: every event of the chat topic has the next cursor.
select is((select array_agg((e.payload ->> 'cursor')::bigint order by e.n) from tests.events_since(0) e
            where e.topic = 'chat:' || tests.id('team')),
          (select array_agg(g::bigint) from generate_series(1, (select last_event_seq from public.chats where id = tests.id('team'))) g),
  'chat events carry cursors 1, 2, 3, ... without gaps');

-- Deleting a chat: members learn it on their own topic; nothing more is logged for the chat.
select public.delete_chat(tests.id('team'));
select tests.commit_point();
select is(tests.took(), array['user:alice chat.removed', 'user:bob chat.removed', 'chat:direct message.updated'],
  'deleting a chat tells each member; the forward of one of its messages loses its origin link');
select is(tests.last_payload('chat.removed') -> 'data' ->> 'reason', 'deleted', 'reason: deleted');

-- ownership transfer and joining a discoverable channel
select tests.remember('news', (public.create_channel('News')).id);
select tests.commit_point();
select tests.took();
select tests.authenticate_as('frank');
select public.join_chat(tests.id('news'));
select is(tests.took(), array['chat:news participant.added', 'user:frank chat.added'], 'joining a channel announces the new member');
select tests.authenticate_as('alice');
select public.transfer_chat_ownership(tests.id('news'), tests.id('frank'));
select is(tests.took(), array['chat:news participant.updated', 'chat:news participant.updated'],
  'an ownership transfer updates both roles');

-- large chats: no read receipts, no chat-list fan-out, no typing ------------------------------------------------------
select tests.remember('big', (public.create_group_chat('Big', array[tests.id('bob'), tests.id('carol')])).id);
select tests.commit_point();
select tests.took();
reset role;
update private.realtime_settings set large_chat_members = 2, activity_fanout_max = 2;
select tests.authenticate_as('alice');
select tests.forget_send_rate();
select public.send_message(tests.id('big'), 'to many');
select tests.commit_point();
select is(tests.took(), array['chat:big message.sent'], 'above the fan-out limit a send broadcasts only to the chat topic');
select tests.authenticate_as('bob');
select public.mark_chat_read(tests.id('big'));
select tests.commit_point();
select is(tests.took(), array['user:bob unread.updated'], 'in a large chat reading updates only the reader''s own devices');
select is(tests.realtime_can_write('chat:' || tests.id('big'), 'broadcast'), false, 'members cannot broadcast typing in a large chat');
select is(tests.realtime_can_write('chat:' || tests.id('big'), 'presence'), true, 'but they can track presence');
select is(tests.realtime_can_read('chat:' || tests.id('big'), 'broadcast'), true, 'and receive the chat''s events');
reset role;
update private.realtime_settings set large_chat_members = 1000, activity_fanout_max = 50;

-- Hidden history: edits of older messages reach a newcomer's topic without their content ---------------------------
select tests.authenticate_as('alice');
select tests.remember('club', (public.create_group_chat('Club', array[tests.id('bob')])).id);
select public.update_chat(tests.id('club'), history_visible_to_new_members => false);
select tests.forget_send_rate();
select tests.remember('old', (public.send_message(tests.id('club'), 'before frank')).id);
select public.add_chat_members(tests.id('club'), array[tests.id('frank')]);
select tests.commit_point();
select tests.took();
select public.edit_message(tests.id('old'), 'before frank, edited');
select tests.commit_point();
select is(tests.took(), array['chat:club message.updated'], 'an edit of an old message is still announced');
select is(tests.last_payload('message.updated') -> 'data', jsonb_build_object('message_id', tests.id('old'),
  'message_seq', 1, 'message', null, 'partial', true),
  'but without its content while a member cannot see it');
select tests.authenticate_as('bob');
select is((select count(*)::integer from jsonb_array_elements(tests.chat_events(tests.id('club')) -> 'events') e
            where e -> 'data' -> 'message' ->> 'body' = 'before frank, edited'), 2,
  'members who can see it get the content from get_chat_events (message.sent and message.updated, current state)');
select tests.authenticate_as('frank');
select is((select array_agg(e ->> 'event' order by (e ->> 'cursor')::bigint)
             from jsonb_array_elements(tests.chat_events(tests.id('club')) -> 'events') e),
  array['participant.added'], 'the newcomer''s catch-up starts at their join and leaves out hidden messages');

-- catch-up ------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select tests.forget_send_rate();
select tests.remember('c1', (public.send_message(tests.id('club'), 'one')).id);
select tests.commit_point();
select public.toggle_reaction(tests.id('c1'), '🔥');
select tests.commit_point();
select public.edit_message(tests.id('c1'), 'one!');
select tests.commit_point();
select tests.authenticate_as('bob');
select is((select array_agg(e ->> 'event' order by (e ->> 'cursor')::bigint)
             from jsonb_array_elements(tests.chat_events(tests.id('club'), (select last_event_seq - 3 from public.chats where id = tests.id('club'))) -> 'events') e),
  array['message.sent', 'reaction.added', 'message.updated'], 'get_chat_events returns the events after a cursor in order');
select is((select e -> 'data' -> 'message' ->> 'body'
             from jsonb_array_elements(tests.chat_events(tests.id('club'), (select last_event_seq - 3 from public.chats where id = tests.id('club'))) -> 'events') e
            where e ->> 'event' = 'message.sent'), 'one!', 'message events carry the message as it is now');
select is((select (e -> 'data' -> 'reaction_counts')
             from jsonb_array_elements(tests.chat_events(tests.id('club'), (select last_event_seq - 3 from public.chats where id = tests.id('club'))) -> 'events') e
            where e ->> 'event' = 'reaction.added'), '{"🔥": 1}'::jsonb, 'reaction events carry the current counts');

select is((select jsonb_array_length(r -> 'events') || ',' || (r ->> 'has_more') || ',' || (r ->> 'next_cursor')
             from tests.chat_events(tests.id('club'), 0, 2) r),
  '2,true,' || ((select joined_event_seq from public.chat_members where chat_id = tests.id('club') and user_id = tests.id('bob')) + 2),
  'pages are bounded and say where to continue');
select is((tests.chat_events(tests.id('club'), 0, 500) ->> 'has_more'), 'false', 'the last page says so');
select is((tests.chat_events(tests.id('club'), 0, 500) ->> 'next_cursor')::bigint,
  (select last_event_seq from public.chats where id = tests.id('club')), 'and ends at the newest cursor');
select is((tests.chat_events(tests.id('club'), 1000000) ->> 'reset_required'), 'true',
  'a cursor from the future requires a reset');
select throws_ok($$ select public.get_chat_events(tests.id('club'), -1) $$, '22023', null, 'a negative cursor is refused');

-- Retention: events older than the retention are pruned; a cursor before them must reset, later ones continue.
reset role;
update private.chat_events set created_at = now() - interval '40 days'
 where chat_id = tests.id('club') and seq <= (select last_event_seq - 2 from public.chats where id = tests.id('club'));
select private.prune_events();
select tests.authenticate_as('bob');
select is((tests.chat_events(tests.id('club'), 0) ->> 'reset_required'), 'true',
  'a cursor older than the retained log requires a reset');
select is((tests.chat_events(tests.id('club'), (select last_event_seq - 2 from public.chats where id = tests.id('club'))) ->> 'reset_required'),
  'false', 'a cursor at the retained log''s start continues');
select is(jsonb_array_length(tests.chat_events(tests.id('club'), (select last_event_seq - 2 from public.chats where id = tests.id('club'))) -> 'events'),
  2, 'with the retained events');

-- Outsiders, removed and banned members, anon.
select tests.authenticate_as('dave');
select throws_ok($$ select public.get_chat_events(tests.id('club')) $$, 'PT404', null, 'an outsider gets not found');
select tests.authenticate_as('erin');
select throws_ok($$ select public.get_chat_events(tests.id('big')) $$, 'PT404', null, 'so does anyone who is not a member');
select tests.clear_authentication();
select throws_ok($$ select public.get_chat_events(tests.id('club')) $$, '42501', null, 'anon cannot call get_chat_events');
select throws_ok($$ select public.get_updates(null) $$, '42501', null, 'nor get_updates');
select tests.authenticate_as('bob');
select ok(public.get_updates(null) ->> 'cursor' ~ '^\d+:\d+:', 'get_updates(null) returns a starting point');
select throws_ok($$ select public.get_updates('garbage') $$, '22023', null, 'a malformed sync cursor is refused');
select throws_ok($$ select public.get_updates('1:1:|2:2:|x') $$, '22023', null, 'so is a malformed page cursor');
select throws_ok($$ select public.get_updates('999999999:999999999:') $$, '22023', null, 'and one from the future');

-- Realtime Authorization ----------------------------------------------------------------------------------------------
-- Probe rows first, then as the user with realtime.topic set: select (read) and insert in a savepoint (write).
select tests.authenticate_as('alice');
select tests.remember('room', (public.create_group_chat('Room', array[tests.id('bob'), tests.id('carol'), tests.id('dave')])).id);
select public.remove_chat_member(tests.id('room'), tests.id('carol'));
select public.ban_chat_member(tests.id('room'), tests.id('dave'));

select tests.authenticate_as('bob');
select is(tests.realtime_can_read('chat:' || tests.id('room'), 'broadcast'), true, 'a member receives the chat''s broadcasts');
select is(tests.realtime_can_read('chat:' || tests.id('room'), 'presence'), true, 'and its presence');
select is(tests.realtime_can_write('chat:' || tests.id('room'), 'broadcast'), true, 'a member may broadcast (typing) on it');
select is(tests.realtime_can_write('chat:' || tests.id('room'), 'broadcast', 'typing.start'), true, 'typing.start in particular');
select is(tests.realtime_can_write('chat:' || tests.id('room'), 'broadcast', 'message.sent'), false,
  'but not broadcasts named like server events');
select is(tests.realtime_can_write('chat:' || tests.id('room'), 'presence'), true, 'a member may track presence on it');
select is(tests.realtime_can_read('user:' || tests.id('bob'), 'broadcast'), true, 'a user receives their own topic');
select is(tests.realtime_can_read('user:' || tests.id('alice'), 'broadcast'), false, 'but not another user''s');
select is(tests.realtime_can_write('user:' || tests.id('bob'), 'broadcast'), false, 'nobody broadcasts on a user topic');

select tests.authenticate_as('carol');
select is(tests.realtime_can_read('chat:' || tests.id('room'), 'broadcast') or tests.realtime_can_read('chat:' || tests.id('room'), 'presence'),
  false, 'a removed member receives neither broadcasts nor presence');
select is(tests.realtime_can_write('chat:' || tests.id('room'), 'broadcast') or tests.realtime_can_write('chat:' || tests.id('room'), 'presence'),
  false, 'and sends neither');
select tests.authenticate_as('dave');
select is(tests.realtime_can_read('chat:' || tests.id('room'), 'broadcast') or tests.realtime_can_read('chat:' || tests.id('room'), 'presence'),
  false, 'a banned member receives neither');
select is(tests.realtime_can_write('chat:' || tests.id('room'), 'broadcast') or tests.realtime_can_write('chat:' || tests.id('room'), 'presence'),
  false, 'and sends neither');
select tests.authenticate_as('frank');
select is(tests.realtime_can_read('chat:' || tests.id('room'), 'broadcast') or tests.realtime_can_read('chat:' || tests.id('room'), 'presence'),
  false, 'an outsider receives neither');
select is(tests.realtime_can_write('chat:' || tests.id('room'), 'broadcast') or tests.realtime_can_write('chat:' || tests.id('room'), 'presence'),
  false, 'and sends neither');
select is(tests.realtime_can_read('chat:' || upper(tests.id('room')::text), 'broadcast') or tests.realtime_can_read('chat:nonsense', 'broadcast'),
  false, 'odd topics are refused');
select tests.clear_authentication();
select is(tests.realtime_can_read('chat:' || tests.id('room'), 'broadcast') or tests.realtime_can_write('chat:' || tests.id('room'), 'broadcast'),
  false, 'anon can neither receive nor send on a chat topic');

-- postgres_changes ------------------------------------------------------------------------------------------------------
reset role;
select set_eq($$ select tablename::text from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'public' $$,
  array['chats', 'chat_members', 'messages', 'message_reactions'], 'the chat tables are in the supabase_realtime publication');
select is((select array_agg(relname::text || '=' || relreplident::text order by relname) from pg_class
            where relnamespace = 'public'::regnamespace and relname in ('chat_members', 'message_reactions')),
  array['chat_members=f', 'message_reactions=f'], 'tables whose deletes must name their chat have full replica identity');

select * from finish();
rollback;
