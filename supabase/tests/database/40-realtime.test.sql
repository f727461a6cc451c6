-- Realtime: which events each operation broadcasts to which topics, what they carry (thin: no message content is
-- ever stored in realtime.messages), the per-chat cursor, the catch-up RPCs, and what the real Realtime server does
-- with our topics: its join and write probes (topic and extension, never an event name), Broadcast Replay without
-- per-row RLS, and postgres_changes DELETEs without RLS (sql/test/03_realtime.sql runs the server's statements).
begin;
create extension if not exists pgtap with schema extensions;
select plan(136);

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
select is(tests.took(), array['chat:team message.sent'],
  'a send in a group writes one row: message.sent on the chat topic, none per member');
select is(tests.last_payload('message.sent') -> 'data', jsonb_build_object('message_id', tests.id('m1'), 'message_seq', 1),
  'message.sent is thin: the message''s id and seq');
select is((tests.last_payload('message.sent') ->> 'cursor')::bigint, 4::bigint, 'message.sent has the next cursor');
select is(tests.stored_broadcasts_containing('hello team'), 0, 'no stored broadcast carries the body');
select tests.authenticate_as('bob');
select is((select e -> 'data' -> 'message' ->> 'body' from jsonb_array_elements(tests.chat_events(tests.id('team'), 3) -> 'events') e),
  'hello team', 'members read the content with get_chat_events after the previous cursor');
select is((select e -> 'data' -> 'message' -> 'author' ->> 'username' from jsonb_array_elements(tests.chat_events(tests.id('team'), 3) -> 'events') e),
  'alice', 'with the author''s profile card');
select tests.authenticate_as('alice');

select tests.remember('dm1', (public.send_message(tests.id('direct'), 'psst, bob')).id);
select tests.commit_point();
select is(tests.took(), array['chat:direct message.sent', 'user:bob chat.activity'],
  'a send in a direct chat also tells the other person''s own topic (for a chat list that does not follow the chat)');
select is((tests.last_payload('chat.activity') -> 'data') - 'last_activity_at'::text,
  jsonb_build_object('chat_id', tests.id('direct'), 'last_message_seq', 1, 'last_event_seq', 3,
                     'message_id', tests.id('dm1'), 'author_id', tests.id('alice')),
  'chat.activity is thin too: ids and cursors, no preview');
select is(tests.stored_broadcasts_containing('psst'), 0, 'no stored broadcast carries a direct message''s body');

select tests.forget_send_rate();
select tests.remember('hey', (public.send_message(tests.id('team'), 'hey @bob @carol', mentions => array[tests.id('bob'), tests.id('carol'), tests.id('alice')])).id);
select tests.commit_point();
select is(array(select unnest(tests.took()) order by 1), array['chat:team message.sent', 'user:bob notification.created', 'user:carol notification.created'],
  'a mention tells each mentioned member once, with notification.created on their own topic (not the author)');
select is((tests.last_payload('notification.created') -> 'data') - array['notification_id', 'created_at', 'updated_at', 'unread_count', 'actor'],
  jsonb_build_object('kind', 'mention', 'chat_id', tests.id('team'), 'chat_title', 'Team', 'message_id', tests.id('hey'),
    'preview', 'hey @bob @carol', 'silent', false,
    'data', jsonb_build_object('message_seq', 2, 'message_kind', 'text')),
  'notification.created carries what the recipient renders: who, where, the preview (theirs alone to read)');
select is(tests.last_payload('notification.created') -> 'data' -> 'actor' ->> 'id', tests.id('alice')::text, 'with the actor''s profile card');
select isnt(tests.last_payload('notification.created') ->> 'event_id', null, 'it is stored for get_updates');
select is((tests.last_payload('notification.created') -> 'data' ->> 'unread_count')::integer > 0, true, 'with the unread count');

select public.edit_message(tests.id('m1'), 'hello, team');
select tests.commit_point();
select is(tests.took(), array['chat:team message.updated'], 'an edit broadcasts message.updated');
select is(tests.last_payload('message.updated') -> 'data', jsonb_build_object('message_id', tests.id('m1'), 'message_seq', 1),
  'thin: neither the old nor the new body is stored');
select is(tests.stored_broadcasts_containing('hello, team'), 0, 'the new body is not in realtime.messages either');

select public.pin_message(tests.id('m1'));
select tests.commit_point();
select is(tests.took(), array['chat:team message.updated'], 'a pin broadcasts message.updated');

select tests.remember('reply', (public.send_message(tests.id('team'), 'in thread', thread_root_id => tests.id('m1'))).id);
select tests.commit_point();
select is(tests.took(), array['chat:team message.sent', 'chat:team message.updated'],
  'a thread reply is sent (its event at the send''s own cursor), and the root''s new reply count follows at commit');

-- A forward is inserted and then labelled with its origin in one transaction: one complete message.sent.
select tests.remember('fwd', (public.forward_message(tests.id('m1'), tests.id('direct'))).id);
select tests.commit_point();
select is(tests.took(), array['chat:direct message.sent', 'user:bob chat.activity'], 'a forward broadcasts one message.sent');
select tests.authenticate_as('bob');
select is((select e -> 'data' -> 'message' ->> 'forwarded_from_message_id'
             from jsonb_array_elements(tests.chat_events(tests.id('direct')) -> 'events') e where e -> 'data' ->> 'message_id' = tests.id('fwd')::text),
  tests.id('m1')::text, 'and get_chat_events returns it complete with its origin');

-- reactions ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select public.toggle_reaction(tests.id('m1'), '👍');
select tests.commit_point();
select is(tests.took(), array['user:alice notification.created', 'chat:team reaction.added'],
  'a reaction broadcasts reaction.added (and notifies the author at once, the chat event follows at commit)');
select is(tests.last_payload('reaction.added') -> 'data', jsonb_build_object('message_id', tests.id('m1'), 'message_seq', 1),
  'thin: which message, not who or what');
select is((select (e -> 'data') - 'message_id'::text - 'message_seq'::text from jsonb_array_elements(tests.chat_events(tests.id('team'),
             (select last_event_seq - 1 from public.chats where id = tests.id('team'))) -> 'events') e),
  jsonb_build_object('user_id', tests.id('bob'), 'emoji', '👍', 'reaction_counts', '{"👍": 1}'::jsonb),
  'get_chat_events says who reacted with what, and the counts');
select public.toggle_reaction(tests.id('m1'), '👍');
select tests.commit_point();
select is(tests.took(), array['chat:team reaction.removed'], 'taking it back broadcasts reaction.removed');
select is((select e -> 'data' -> 'reaction_counts' from jsonb_array_elements(tests.chat_events(tests.id('team'),
             (select last_event_seq - 1 from public.chats where id = tests.id('team'))) -> 'events') e),
  '{}'::jsonb, 'with the counts after removal in catch-up');

-- read state --------------------------------------------------------------------------------------------------------
select public.mark_chat_read(tests.id('team'));
select tests.commit_point();
select is(tests.took(), array['chat:team message.read', 'user:bob unread.updated', 'user:bob notification.read'],
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
reset role;
select is((select count(*)::integer from realtime.messages m
            where m.extension = 'broadcast' and position('in thread' in m.payload::text) > 0
              and m.topic <> 'user:' || tests.id('alice')), 0,
  'the deleted body is in no stored broadcast but the preview of its author''s own reaction notification (docs/realtime.md)');
select is((select count(*)::integer from private.user_events e
            where e.user_id = tests.id('alice') and position('in thread' in e.payload::text) > 0), 0,
  'and the delete took that preview out of alice''s catch-up');
select tests.authenticate_as('alice');
select is((select e -> 'data' -> 'message' ->> 'body' from jsonb_array_elements(tests.chat_events(tests.id('team')) -> 'events') e
            where e ->> 'event' = 'message.sent' and e -> 'data' ->> 'message_id' = tests.id('reply')::text), null,
  'catch-up returns the tombstone without a body');
select isnt((select e -> 'data' -> 'message' ->> 'deleted_at' from jsonb_array_elements(tests.chat_events(tests.id('team')) -> 'events') e
            where e ->> 'event' = 'message.deleted'), null, 'and says when it was deleted');

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

-- large chats: no read receipts, no typing ----------------------------------------------------------------------------
select tests.remember('big', (public.create_group_chat('Big', array[tests.id('bob'), tests.id('carol')])).id);
select tests.commit_point();
select tests.took();
reset role;
update private.realtime_settings set large_chat_members = 2;
select tests.authenticate_as('alice');
select tests.forget_send_rate();
select public.send_message(tests.id('big'), 'to many');
select tests.commit_point();
select is(tests.took(), array['chat:big message.sent'], 'a send in a large chat writes the same one row');
select tests.authenticate_as('bob');
select public.mark_chat_read(tests.id('big'));
select tests.commit_point();
select is(tests.took(), array['user:bob unread.updated'], 'in a large chat reading updates only the reader''s own devices');
select is(tests.realtime_can_write('chat:' || tests.id('big') || ':typing', 'broadcast'), false, 'members cannot broadcast typing in a large chat');
select is(tests.realtime_can_write('chat:' || tests.id('big') || ':typing', 'presence'), true, 'but they can track presence');
select is(tests.realtime_can_read('chat:' || tests.id('big'), 'broadcast'), true, 'and receive the chat''s events');
reset role;
update private.realtime_settings set large_chat_members = 1000;

-- Hidden history and Broadcast Replay: a newcomer who may not read older messages replays the chat topic ----------
-- The real server hands up to 25 stored broadcasts of the last 72 h to anyone who passes the read check, without
-- RLS per row. Nothing stored may tell the newcomer more than the API does: message events are ids and cursors.
select tests.authenticate_as('alice');
select tests.remember('club', (public.create_group_chat('Club', array[tests.id('bob')])).id);
select public.update_chat(tests.id('club'), history_visible_to_new_members => false);
select tests.forget_send_rate();
select tests.remember('old', (public.send_message(tests.id('club'), 'before frank: the secret plan')).id);
select public.toggle_reaction(tests.id('old'), '🤫');
select public.add_chat_members(tests.id('club'), array[tests.id('frank')]);
select tests.commit_point();
select tests.took();
select public.edit_message(tests.id('old'), 'before frank: the secret plan, edited');
select tests.commit_point();
select is(tests.took(), array['chat:club message.updated'], 'an edit of an old message is still announced');
select is(tests.last_payload('message.updated') -> 'data', jsonb_build_object('message_id', tests.id('old'), 'message_seq', 1),
  'without its content');
select tests.authenticate_as('frank');
select is(tests.realtime_join('chat:' || tests.id('club')), array['broadcast'], 'the newcomer may join the chat topic');
select is((select count(*)::integer from tests.realtime_replay('chat:' || tests.id('club'))),
  (select count(*)::integer from tests.events_since(0) where topic = 'chat:' || tests.id('club')),
  'and Broadcast Replay hands them every stored event of the topic (fewer than 25 here)');
select is((select count(*)::integer from tests.realtime_replay('chat:' || tests.id('club')) r
            where r.payload::text like '%secret%' or r.payload::text like '%🤫%'), 0,
  'none of them carries the hidden message''s body or its reactions');
select is_empty($$ select 1 from tests.realtime_replay('chat:' || tests.id('club')) r
                    where r.payload -> 'data' ? 'message' or r.payload -> 'data' ? 'emoji' or r.payload -> 'data' ? 'body' $$,
  'no replayed event has a message, an emoji or a body');
select is((select count(*)::integer from public.messages where chat_id = tests.id('club')), 0,
  'through the API the newcomer sees no message either');
select is((select array_agg(e ->> 'event' order by (e ->> 'cursor')::bigint)
             from jsonb_array_elements(tests.chat_events(tests.id('club')) -> 'events') e),
  array['participant.added'], 'the newcomer''s catch-up starts at their join and leaves out hidden messages');
select is(tests.stored_broadcasts_containing('secret plan'), 0, 'the body, before and after the edit, was never stored anywhere');
select tests.authenticate_as('bob');
select is((select count(*)::integer from jsonb_array_elements(tests.chat_events(tests.id('club')) -> 'events') e
            where e -> 'data' -> 'message' ->> 'body' = 'before frank: the secret plan, edited'), 2,
  'members who can see it get the content from get_chat_events (message.sent and message.updated, current state)');
select is((select count(*)::integer from tests.realtime_replay('chat:' || tests.id('club'), replay_limit => 1000)), 
  least(25, (select count(*)::integer from tests.events_since(0) where topic = 'chat:' || tests.id('club'))),
  'replay never hands out more than 25 events');
select tests.authenticate_as('erin');
select throws_ok($$ select * from tests.realtime_replay('chat:' || tests.id('club')) $$, '42501', null,
  'an outsider cannot replay the topic (the join is refused)');

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

-- Realtime Authorization, as the real server checks it ---------------------------------------------------------------
-- Join: probe rows (topic, extension) then a select under RLS; write: an insert of topic and extension in a savepoint.
-- Neither ever carries the event name, so the policies decide by topic and extension only.
select tests.authenticate_as('alice');
select tests.remember('room', (public.create_group_chat('Room', array[tests.id('bob'), tests.id('carol'), tests.id('dave')])).id);
select public.remove_chat_member(tests.id('room'), tests.id('carol'));
select public.ban_chat_member(tests.id('room'), tests.id('dave'));
select tests.commit_point();
select tests.took();

select tests.authenticate_as('bob');
select is(tests.realtime_join('chat:' || tests.id('room')), array['broadcast'],
  'a member joins the chat topic for its broadcasts (no presence there)');
select is(tests.realtime_can_write('chat:' || tests.id('room'), 'broadcast'), false,
  'nobody may broadcast on a chat topic: a member cannot forge message.sent or any other server event');
select is(tests.realtime_can_write('chat:' || tests.id('room'), 'presence'), false,
  'nor track presence there');
select is(tests.realtime_join('chat:' || tests.id('room') || ':typing'), array['broadcast', 'presence'],
  'a member joins the typing topic for typing and presence');
select is(tests.realtime_can_write('chat:' || tests.id('room') || ':typing', 'broadcast'), true, 'and may broadcast typing there');
select is(tests.realtime_can_write('chat:' || tests.id('room') || ':typing', 'presence'), true, 'and track presence there');
select is(tests.realtime_join('user:' || tests.id('bob')), array['broadcast'], 'a user joins their own topic');
select is(tests.realtime_can_write('user:' || tests.id('bob'), 'broadcast') or tests.realtime_can_write('user:' || tests.id('bob'), 'presence'),
  false, 'but cannot write it (nobody forges their notifications)');
select is(tests.realtime_join('user:' || tests.id('alice')), '{}'::text[], 'another user''s topic refuses the join');
select is(tests.realtime_join('status:' || tests.id('alice')), array['broadcast'], 'a user follows the status of someone they share a chat with');
select is(tests.realtime_join('status:' || tests.id('bob')), array['broadcast'], 'and their own');
select is(tests.realtime_can_write('status:' || tests.id('bob'), 'broadcast') or tests.realtime_can_write('status:' || tests.id('alice'), 'broadcast'),
  false, 'nobody writes a status topic');
select is(tests.realtime_join('status:' || tests.id('erin')), '{}'::text[], 'but not of someone they share no chat with');
select tests.authenticate_as('alice');
select is(tests.realtime_join('status:' || tests.id('bob')), array['broadcast'], 'members of a shared chat follow each other''s status');
select tests.authenticate_as('bob');
select tests.create_block('bob', 'alice');
select tests.authenticate_as('alice');
select is(tests.realtime_join('status:' || tests.id('bob')), '{}'::text[], 'unless that user blocked them (as with profiles)');
select is(tests.realtime_can_write('status:' || tests.id('alice'), 'presence') or tests.realtime_can_write('user:' || tests.id('alice'), 'presence'),
  false, 'nobody tracks presence on a user or status topic');
select tests.authenticate_as('bob');

-- Invisible members do not track presence (checked when the channel first tracks, and after a token refresh).
select public.heartbeat('invisible');
select is(tests.realtime_can_write('chat:' || tests.id('room') || ':typing', 'presence'), false, 'an invisible member cannot track presence');
select is(tests.realtime_can_read('chat:' || tests.id('room') || ':typing', 'presence'), true, 'but still sees who is there');
select public.heartbeat('online');
select is(tests.realtime_can_write('chat:' || tests.id('room') || ':typing', 'presence'), true, 'back online, they can again');

select tests.authenticate_as('carol');
select is(tests.realtime_join('chat:' || tests.id('room')) || tests.realtime_join('chat:' || tests.id('room') || ':typing'), '{}'::text[],
  'a removed member is refused on the chat and typing topics');
select is(tests.realtime_can_write('chat:' || tests.id('room') || ':typing', 'broadcast') or tests.realtime_can_write('chat:' || tests.id('room') || ':typing', 'presence'),
  false, 'and sends nothing');
select tests.authenticate_as('dave');
select is(tests.realtime_join('chat:' || tests.id('room')) || tests.realtime_join('chat:' || tests.id('room') || ':typing'), '{}'::text[],
  'a banned member is refused');
select is(tests.realtime_can_write('chat:' || tests.id('room') || ':typing', 'broadcast') or tests.realtime_can_write('chat:' || tests.id('room') || ':typing', 'presence'),
  false, 'and sends nothing');
select tests.authenticate_as('frank');
select is(tests.realtime_join('chat:' || tests.id('room')) || tests.realtime_join('chat:' || tests.id('room') || ':typing'), '{}'::text[],
  'an outsider is refused');
select is(tests.realtime_can_write('chat:' || tests.id('room') || ':typing', 'broadcast') or tests.realtime_can_write('chat:' || tests.id('room'), 'broadcast'),
  false, 'and sends nothing');
select is(tests.realtime_join('chat:' || upper(tests.id('room')::text)) || tests.realtime_join('chat:nonsense')
            || tests.realtime_join('chat:' || tests.id('room') || ':typing:x') || tests.realtime_join('user:' || tests.id('room') || ':typing'),
  '{}'::text[], 'odd topics are refused');
select tests.clear_authentication();
select is(tests.realtime_join('chat:' || tests.id('room')) || tests.realtime_join('user:' || tests.id('bob')), '{}'::text[],
  'anon joins nothing');
select is(tests.realtime_can_write('chat:' || tests.id('room') || ':typing', 'broadcast'), false, 'and sends nothing');

-- Status: one broadcast per change of what others see, on status:<id>; invisible is announced as offline ------------
select tests.took();
select tests.authenticate_as('bob');
select public.heartbeat('away');
select is(tests.took(), array['status:bob status.changed'], 'a status change is one row on the user''s status topic');
select is(tests.last_payload('status.changed') ->> 'status', 'away', 'with the status others see');
select public.heartbeat('invisible');
select is(tests.took(), array['status:bob status.changed'], 'going invisible is announced');
select is(tests.last_payload('status.changed') ->> 'status', 'offline', 'as offline: invisible users never show online');
select public.heartbeat();
select is(tests.took(), '{}'::text[], 'an invisible user''s heartbeats announce nothing');
select is(tests.stored_broadcasts_containing('invisible'), 0, 'and the word invisible is never stored');
reset role;
update private.user_presence set chosen_status = 'online' where user_id = tests.id('bob');
update public.profiles set status = 'online' where id = tests.id('bob');
update public.profiles set last_seen_at = now() - interval '10 minutes' where id = tests.id('bob');
select tests.took();
select private.sweep_presence();
select is(tests.took(), array['status:bob status.changed'], 'the presence sweep announces each user it shows offline');

-- Invitations: received, answered, revoked, on user topics -----------------------------------------------------------
select tests.authenticate_as('alice');
select tests.remember('inv1', (public.invite_user(tests.id('room'), tests.id('frank'))).id);
select is(tests.took(), array['user:frank invitation.received', 'user:frank notification.created'], 'an invitation reaches the invitee''s own topic');
select is(tests.last_payload('invitation.received') -> 'data' ->> 'invitation_id', tests.id('inv1')::text, 'naming the invitation');
select isnt(tests.last_payload('invitation.received') ->> 'event_id', null, 'stored for get_updates');
select tests.remember('inv2', (public.invite_user(tests.id('room'), tests.id('erin'))).id);
select tests.took();
select tests.authenticate_as('frank');
select public.respond_to_invitation(tests.id('inv1'), true);
select is(tests.took(), array['chat:room participant.added', 'user:frank chat.added', 'user:frank invitation.answered', 'user:alice invitation.answered'],
  'accepting joins the chat and tells the invitee''s devices and the inviter');
select is(tests.last_payload('invitation.answered') -> 'data' ->> 'status', 'accepted', 'with the answer');
select tests.authenticate_as('erin');
select public.respond_to_invitation(tests.id('inv2'), false);
select is(tests.took(), array['user:erin invitation.answered', 'user:alice invitation.answered'], 'declining tells both, and nobody else');
select tests.authenticate_as('alice');
select tests.remember('inv3', (public.invite_user(tests.id('room'), tests.id('erin'))).id);
select tests.took();
select public.revoke_invitation(tests.id('inv3'));
select is(tests.took(), array['user:erin invitation.revoked'], 'a revoked invitation disappears from the invitee''s list');

-- postgres_changes ------------------------------------------------------------------------------------------------------
-- On the real server INSERT and UPDATE are checked against each subscriber's RLS, but a DELETE goes to every
-- subscriber whose filter matches the old row, without RLS, with the old row cut to the primary key.
reset role;
select set_eq($$ select tablename::text from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'public' $$,
  array['chats', 'messages'], 'only chats and messages are in the supabase_realtime publication');
select is_empty($$ select 1 from pg_publication_tables where pubname = 'supabase_realtime'
                    and tablename in ('chat_members', 'message_reactions', 'chat_invitations', 'profiles', 'user_blocks') $$,
  'tables whose keys are user ids are not published (a DELETE would tell anyone who left or unreacted)');
select is((select array_agg(c.relname::text || '=' || c.relreplident::text || ':' ||
                            (select string_agg(a.attname, ',') from pg_index i join pg_attribute a
                              on a.attrelid = i.indrelid and a.attnum = any (i.indkey) where i.indrelid = c.oid and i.indisprimary)
                            order by c.relname)
             from pg_class c join pg_publication_tables t on t.schemaname = 'public' and t.tablename = c.relname
            where t.pubname = 'supabase_realtime' and c.relnamespace = 'public'::regnamespace),
  array['chats=d:id', 'messages=d:id'],
  'a published table''s DELETE carries only its random id (default replica identity, key id): no chat, no user');

select * from finish();
rollback;
