-- Sending messages: who may send where (anon, outsider, member, admin, owner, banned, removed, blocked), idempotent
-- retries, the gap-free sequence and unread counts, replies, threads, mentions, channels, direct chats after a block,
-- slow mode, the per-user send rate, input validation, history visibility for new members, direct DML on the message
-- tables, what outsiders can read, and forwarding.
begin;
create extension if not exists pgtap with schema extensions;
select plan(97);

-- fixtures ----------------------------------------------------------------------------------------------------------


-- Ground truth past RLS: a chat's newest seq, its number of messages and the caller's sends in the rate window.
create function pg_temp.state(chat uuid) returns jsonb language sql security definer as $$
  select jsonb_build_object(
    'last_message_seq', (select c.last_message_seq from public.chats c where c.id = chat),
    'messages', (select count(*) from public.messages m where m.chat_id = chat),
    'sent', (select coalesce(sum(r.used), 0) from private.rate_counters r where r.user_id = auth.uid() and r.action = 'send'))
$$;
grant execute on function pg_temp.state(uuid) to authenticated;
create temp table saved (name text primary key, value jsonb);
grant select, insert on saved to authenticated;

-- personas: alice owns the groups, bob is a member, carol an admin, dave an outsider, erin gets banned, frank
-- removed, gina joins late, rita sends too fast.
select tests.create_user(u)
  from unnest(array['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'rita']) u;

select tests.create_group('group', 'alice', members => array['bob', 'carol', 'erin', 'frank'], admins => array['carol'],
                          banned => array['erin'], removed => array['frank'], title => 'Team');
select tests.create_group('daves', 'dave', title => 'Dave alone');

-- sending: who may ---------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select tests.remember('m1', m.id) from public.send_message(tests.id('group'), '  hello from bob  ') m;
select is(
  (select jsonb_build_object('seq', seq, 'author', author_id, 'body', body, 'kind', kind) from public.messages where id = tests.id('m1')),
  jsonb_build_object('seq', 1, 'author', tests.id('bob'), 'body', 'hello from bob', 'kind', 'text'),
  'a member sends: seq 1, author is the caller, body trimmed, kind text');
select tests.authenticate_as('alice');
select tests.remember('alice_msg', m.id) from public.send_message(tests.id('group'), 'hi from alice') m;
select is((select seq from public.messages where id = tests.id('alice_msg')), 2::bigint, 'the owner sends');
select tests.authenticate_as('carol');
select lives_ok($$ select public.send_message(tests.id('group'), 'hi from carol') $$, 'an admin sends');

-- unread: the sender's own message is read; everyone else's unread grows
select tests.authenticate_as('bob');
select is((select unread_count from public.list_chats() where chat_id = tests.id('group')), 2::bigint,
  'bob has 2 unread (alice''s and carol''s messages)');
select tests.authenticate_as('alice');
select is((select unread_count from public.list_chats() where chat_id = tests.id('group')), 1::bigint,
  'alice has 1 unread (carol''s message)');
select tests.authenticate_as('carol');
select is((select unread_count from public.list_chats() where chat_id = tests.id('group')), 0::bigint,
  'the sender''s own unread is 0 right after sending');

select tests.authenticate_as('dave');
select throws_ok($$ select public.send_message(tests.id('group'), 'let me in') $$, 'PT404', 'chat not found',
  'an outsider cannot send');
select is(tests.error_of($$ select public.send_message(tests.id('group'), 'x') $$),
          tests.error_of($$ select public.send_message(gen_random_uuid(), 'x') $$),
  'an outsider gets the same error for an existing chat as for a chat that does not exist');
select tests.authenticate_as('erin');
select throws_ok($$ select public.send_message(tests.id('group'), 'I am back') $$, 'PT404', 'chat not found',
  'a banned user cannot send');
select tests.authenticate_as('frank');
select throws_ok($$ select public.send_message(tests.id('group'), 'I am back') $$, 'PT404', 'chat not found',
  'a removed member cannot send');
select tests.clear_authentication();
select throws_ok($$ select public.send_message(tests.id('group'), 'anonymous') $$, '42501',
  'permission denied for function send_message', 'anon cannot call send_message');

-- idempotent retries by client_id --------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select tests.remember('client1', gen_random_uuid());
select tests.remember('once', m.id) from public.send_message(tests.id('group'), 'once', client_id => tests.id('client1')) m;
insert into saved values ('after first send', pg_temp.state(tests.id('group')));
select is((select m.id from public.send_message(tests.id('group'), 'once', client_id => tests.id('client1')) m),
  tests.id('once'), 'a retry with the same client_id returns the stored message');
select is((select m.body from public.send_message(tests.id('group'), 'edited on retry', client_id => tests.id('client1')) m),
  'once', 'a retry returns the stored body, not the retried one');
select is(pg_temp.state(tests.id('group')), (select value from saved where name = 'after first send'),
  'retries write nothing: same newest seq, same message count, no send counted against the rate');
select tests.authenticate_as('alice');
select isnt((select m.id from public.send_message(tests.id('group'), 'mine', client_id => tests.id('client1')) m),
  tests.id('once'), 'the same client_id from another author is a different message');

-- replies ----------------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select tests.remember('other', c.id) from public.create_group_chat('Other', array[tests.id('alice')]) c;
select tests.remember('other_msg', m.id) from public.send_message(tests.id('other'), 'elsewhere') m;
select is((select m.reply_to_id from public.send_message(tests.id('group'), 'a reply', reply_to_id => tests.id('alice_msg')) m),
  tests.id('alice_msg'), 'a member replies to a message of the same chat');
select throws_ok($$ select public.send_message(tests.id('group'), 'x', reply_to_id => tests.id('other_msg')) $$,
  'PT404', 'replied-to message not found in this chat', 'a reply to a message of another chat is refused');
select throws_ok($$ select public.send_message(tests.id('group'), 'x', reply_to_id => gen_random_uuid()) $$,
  'PT404', 'replied-to message not found in this chat', 'a reply to a message that does not exist is refused');

-- threads ----------------------------------------------------------------------------------------------------------
select tests.authenticate_as('carol');
select tests.remember('thread1', m.id) from public.send_message(tests.id('group'), 'in thread', thread_root_id => tests.id('m1')) m;
select tests.authenticate_as('bob');
select lives_ok($$ select public.send_message(tests.id('group'), 'also in thread', thread_root_id => tests.id('m1')) $$,
  'a member posts in a thread');
select is((select jsonb_build_object('reply_count', reply_count, 'has_last_reply_at', last_reply_at is not null)
             from public.messages where id = tests.id('m1')),
  '{"reply_count": 2, "has_last_reply_at": true}'::jsonb, 'each thread reply increments the root''s reply_count');
select is((select thread_root_id from public.messages where id = tests.id('thread1')), tests.id('m1'),
  'a thread reply points at its root');
select throws_ok($$ select public.send_message(tests.id('group'), 'x', thread_root_id => tests.id('thread1')) $$,
  'PT404', 'thread not found in this chat', 'a thread inside a thread is refused');
select throws_ok($$ select public.send_message(tests.id('group'), 'x', thread_root_id => tests.id('other_msg')) $$,
  'PT404', 'thread not found in this chat', 'a thread rooted in another chat is refused');
select is((select reply_count from public.messages where id = tests.id('m1')), 2,
  'refused thread replies leave reply_count alone');

-- mentions -----------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select is(
  (select array(select u from unnest(m.mentions) u order by u)
     from public.send_message(tests.id('group'), 'hey all',
       mentions => array[tests.id('bob'), tests.id('dave'), tests.id('erin'), tests.id('carol'), tests.id('bob'),
                         tests.id('frank')]) m),
  array(select u from unnest(array[tests.id('bob'), tests.id('carol')]) u order by u),
  'mentions keep only members of the chat (outsider, banned and removed users dropped), once each');

-- validation: 22023 and nothing changes -----------------------------------------------------------------------------
select tests.authenticate_as('bob');
insert into saved values ('before bad input', pg_temp.state(tests.id('group')));
select throws_ok($$ select public.send_message(tests.id('group'), '') $$, '22023', 'message is empty',
  'an empty body is refused');
select throws_ok($$ select public.send_message(tests.id('group'), E'  \n\t ') $$, '22023', 'message is empty',
  'a whitespace-only body is refused');
select throws_ok($$ select public.send_message(tests.id('group')) $$, '22023', 'message is empty',
  'a text message without a body is refused');
select throws_ok($$ select public.send_message(tests.id('group'), repeat('a', 4001)) $$, '22023', 'message is too long',
  'a body over 4000 characters is refused');
select throws_ok($$ select public.send_message(tests.id('group'), 'I am the system', kind => 'system') $$, '22023',
  'system messages are written by the server', 'clients cannot send system messages');
select throws_ok($$ select public.send_message(tests.id('group'), 'x', metadata => '[1, 2]') $$, '22023',
  'metadata must be a JSON object', 'metadata must be an object');
select throws_ok($$ select public.send_message(tests.id('group'), 'x',
                     mentions => array(select gen_random_uuid() from generate_series(1, 51))) $$,
  '22023', 'too many mentions', 'more than 50 mentions are refused');
select is(pg_temp.state(tests.id('group')), (select value from saved where name = 'before bad input'),
  'refused sends change nothing: no message, no seq, no send counted');
select lives_ok($$ select public.send_message(tests.id('group'), repeat('b', 4000)) $$,
  'a body of exactly 4000 characters is accepted');
select lives_ok($$ select public.send_message(tests.id('group'), null, kind => 'image', metadata => '{"w": 1}') $$,
  'a non-text message may have no body');

select tests.authenticate_as('alice');
select is(
  array(select seq from public.messages where chat_id = tests.id('group') order by seq),
  array(select generate_series(1::bigint, (select last_message_seq from public.chats where id = tests.id('group')))),
  'after sends, retries and refusals the chat''s seq is exactly 1..N with no gaps');

-- channels: admins post, members read ----------------------------------------------------------------------------
select tests.authenticate_as('alice');
select tests.remember('channel', c.id) from public.create_channel('News') c;
select public.add_chat_members(tests.id('channel'), array[tests.id('bob'), tests.id('carol')]);
select public.set_member_role(tests.id('channel'), tests.id('carol'), 'admin');
select lives_ok($$ select public.send_message(tests.id('channel'), 'announcement') $$, 'the channel owner posts');
select tests.authenticate_as('carol');
select lives_ok($$ select public.send_message(tests.id('channel'), 'admin news') $$, 'a channel admin posts');
select tests.authenticate_as('bob');
select throws_ok($$ select public.send_message(tests.id('channel'), 'me too') $$, '42501',
  'only admins can post in this chat', 'a channel member cannot post');
select is((select count(*)::int from public.messages where chat_id = tests.id('channel')), 2,
  'a channel member reads the channel''s messages');
select tests.authenticate_as('dave');
select throws_ok($$ select public.send_message(tests.id('channel'), 'me too') $$, 'PT404', 'chat not found',
  'an outsider cannot post in a channel');

-- direct chats and blocks --------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select tests.remember('direct', c.id) from public.create_direct_chat(tests.id('bob')) c;
select lives_ok($$ select public.send_message(tests.id('direct'), 'hi bob') $$, 'a direct chat member sends');
select tests.authenticate_as('bob');
insert into public.user_blocks (blocker_id, blocked_id) values (tests.id('bob'), tests.id('alice'));
select throws_ok($$ select public.send_message(tests.id('direct'), 'blocked') $$, '42501', 'cannot message this user',
  'the blocker cannot send in the direct chat');
select tests.authenticate_as('alice');
select throws_ok($$ select public.send_message(tests.id('direct'), 'are you there?') $$, '42501', 'cannot message this user',
  'the blocked user cannot send in the direct chat');
select is((select count(*)::int from public.messages where chat_id = tests.id('direct')), 1,
  'the refused direct sends wrote nothing');
select tests.authenticate_as('bob');
delete from public.user_blocks where blocked_id = tests.id('alice');
select lives_ok($$ select public.send_message(tests.id('direct'), 'unblocked') $$,
  'after the block is lifted the direct chat works again');

-- slow mode ----------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select tests.remember('slow', c.id) from public.create_group_chat('Slow', array[tests.id('bob'), tests.id('carol')]) c;
select public.set_member_role(tests.id('slow'), tests.id('carol'), 'admin');
select public.update_chat(tests.id('slow'), slow_mode_seconds => 30);
select tests.authenticate_as('bob');
select lives_ok($$ select public.send_message(tests.id('slow'), 'first') $$, 'slow mode: a member''s first message goes through');
insert into saved values ('slow before', pg_temp.state(tests.id('slow')));
insert into saved values ('slow error', tests.error_of($$ select public.send_message(tests.id('slow'), 'second') $$));
select is((select value ->> 'code' from saved where name = 'slow error'), 'PT429',
  'slow mode: a member''s second message within the interval is refused with PT429');
select is((select (value ->> 'detail')::jsonb from saved where name = 'slow error'), '{"retry_after_seconds": 30}'::jsonb,
  'slow mode: the detail says when to retry as JSON');
select matches((select value ->> 'hint' from saved where name = 'slow error'), 'retry after 30 seconds',
  'slow mode: the hint says when to retry');
select is(pg_temp.state(tests.id('slow')), (select value from saved where name = 'slow before'),
  'slow mode: the refused send wrote nothing');
select tests.authenticate_as('carol');
select lives_ok($$ select public.send_message(tests.id('slow'), 'a1'), public.send_message(tests.id('slow'), 'a2') $$,
  'slow mode does not apply to admins');
select tests.authenticate_as('alice');
select lives_ok($$ select public.send_message(tests.id('slow'), 'o1'), public.send_message(tests.id('slow'), 'o2') $$,
  'slow mode does not apply to the owner');
reset role;
update public.chat_members set last_posted_at = now() - interval '31 seconds'
 where chat_id = tests.id('slow') and user_id = tests.id('bob');
select tests.authenticate_as('bob');
select lives_ok($$ select public.send_message(tests.id('slow'), 'second, later') $$,
  'slow mode: once the interval has passed the member can send again');

-- the per-user send rate: 30 messages per 10 seconds -----------------------------------------------------------
select tests.authenticate_as('rita');
select tests.remember('solo', c.id) from public.create_group_chat('Solo') c;
select tests.remember('solo2', c.id) from public.create_group_chat('Solo 2') c;
select tests.remember('client30', gen_random_uuid());
do $$
begin
  for i in 1..29 loop
    perform public.send_message(tests.id('solo'), 'message ' || i);
  end loop;
end
$$;
select tests.remember('thirtieth', m.id) from public.send_message(tests.id('solo'), 'message 30', client_id => tests.id('client30')) m;
insert into saved values ('rate error', tests.error_of($$ select public.send_message(tests.id('solo'), 'message 31') $$));
select is((select value ->> 'code' from saved where name = 'rate error'), 'PT429',
  'the 31st send within 10 seconds is refused with PT429');
select is((select (value ->> 'detail')::jsonb from saved where name = 'rate error'), '{"retry_after_seconds": 10}'::jsonb,
  'the rate limit detail says when to retry as JSON');
select matches((select value ->> 'hint' from saved where name = 'rate error'), 'retry after 10 seconds',
  'the rate limit hint says when to retry');
select is(pg_temp.state(tests.id('solo')), '{"last_message_seq": 30, "messages": 30, "sent": 30}'::jsonb,
  'the refused send wrote nothing: 30 messages, seq 30, 30 sends counted');
select throws_ok($$ select public.send_message(tests.id('solo2'), 'another chat') $$, 'PT429', 'sending too fast',
  'the rate is per user: another chat is refused too');
select is((select m.id from public.send_message(tests.id('solo'), 'message 30', client_id => tests.id('client30')) m),
  tests.id('thirtieth'), 'a retry of an already stored message still succeeds while rate limited');
reset role;
update private.rate_counters set window_started_at = now() - interval '11 seconds' where user_id = tests.id('rita') and action = 'send';
select tests.authenticate_as('rita');
select lives_ok($$ select public.send_message(tests.id('solo'), 'next window') $$, 'a new window accepts sends again');
select is((pg_temp.state(tests.id('solo')) ->> 'sent')::int, 1, 'the new window counts from 1');

-- history visibility for new members --------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select tests.remember('late', c.id) from public.create_group_chat('Late', array[tests.id('bob')]) c;
select tests.remember('before1', m.id) from public.send_message(tests.id('late'), 'before one') m;
select public.send_message(tests.id('late'), 'before two');
select public.edit_message(tests.id('before1'), 'before one, edited');
select public.toggle_reaction(tests.id('before1'), '👍');
select public.update_chat(tests.id('late'), history_visible_to_new_members => false);
select public.add_chat_members(tests.id('late'), array[tests.id('gina')]);
select public.add_chat_members(tests.id('group'), array[tests.id('gina')]);
select public.send_message(tests.id('late'), 'after');
select tests.authenticate_as('gina');
select is(array(select body from public.messages where chat_id = tests.id('late') order by seq), array['after'],
  'hidden history: a member added later reads only messages sent after joining');
select is(array(select seq from public.get_chat_messages(tests.id('late'))), array[3::bigint],
  'hidden history: get_chat_messages returns only the later message');
select is((select unread_count from public.list_chats() where chat_id = tests.id('late')), 1::bigint,
  'hidden history: only the later message counts as unread');
select is_empty($$ select previous_body from public.message_edits where chat_id = tests.id('late') $$,
  'hidden history: the edit history of earlier messages is hidden too');
select is_empty($$ select emoji from public.message_reactions where chat_id = tests.id('late') $$,
  'hidden history: reactions on earlier messages are hidden too');
select throws_ok($$ select public.send_message(tests.id('late'), 'x', reply_to_id => tests.id('before1')) $$,
  'PT404', null, 'hidden history: a reply to an earlier message is refused');
select throws_ok($$ select public.forward_message(tests.id('before1'), tests.id('group')) $$,
  'PT404', null, 'hidden history: an earlier message cannot be forwarded');
select is((select count(*)::bigint from public.messages where chat_id = tests.id('group')),
  (select last_message_seq from public.chats where id = tests.id('group')),
  'visible history (the default): a member added later reads all earlier messages');
select tests.authenticate_as('bob');
select is((select count(*)::int from public.messages where chat_id = tests.id('late')), 3,
  'members from before still read the whole history');

-- direct DML is refused: everything goes through the RPCs --------------------------------------------------------
select tests.authenticate_as('bob');
select throws_ok($$ insert into public.messages (chat_id, seq, author_id, body)
                    values (tests.id('group'), 9999, tests.id('bob'), 'sneaky') $$,
  '42501', null, 'a member cannot insert into messages');
select throws_ok($$ update public.messages set body = 'rewritten' where id = tests.id('alice_msg') $$,
  '42501', null, 'a member cannot update messages');
select throws_ok($$ delete from public.messages where id = tests.id('m1') $$,
  '42501', null, 'a member cannot delete from messages');
select throws_ok($$ insert into public.message_edits (message_id, chat_id, previous_body)
                    values (tests.id('m1'), tests.id('group'), 'fake history') $$,
  '42501', null, 'a member cannot insert into message_edits');
select throws_ok($$ update public.message_edits set previous_body = 'x' $$,
  '42501', null, 'a member cannot update message_edits');
select throws_ok($$ delete from public.message_edits $$,
  '42501', null, 'a member cannot delete from message_edits');
select throws_ok($$ insert into public.message_reactions (message_id, user_id, emoji, chat_id)
                    values (tests.id('m1'), tests.id('bob'), '🎉', tests.id('group')) $$,
  '42501', null, 'a member cannot insert into message_reactions');
select throws_ok($$ update public.message_reactions set emoji = '🎉' $$,
  '42501', null, 'a member cannot update message_reactions');
select throws_ok($$ delete from public.message_reactions $$,
  '42501', null, 'a member cannot delete from message_reactions');
select tests.clear_authentication();
select throws_ok($$ select * from public.messages $$, '42501', null, 'anon cannot read messages');

-- what outsiders can read ------------------------------------------------------------------------------------------
select tests.authenticate_as('dave');
select is_empty($$ select id from public.messages where chat_id <> tests.id('daves') $$,
  'an outsider reads no messages of other people''s chats');
select is_empty($$ select id from public.message_edits $$, 'an outsider reads no edit history');
select is_empty($$ select message_id from public.message_reactions $$, 'an outsider reads no reactions');
select throws_ok($$ select id from public.get_chat_messages(tests.id('group')) $$, 'PT404', null,
  'get_chat_messages refuses an outsider as if the chat did not exist');
select tests.authenticate_as('erin');
select is_empty($$ select id from public.messages $$, 'a banned user reads no messages of the chat');
select tests.authenticate_as('frank');
select is_empty($$ select id from public.messages $$, 'a removed member reads no messages of the chat');

-- forwarding ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('carol');
select tests.remember('fwd', c.id) from public.create_group_chat('Fwd', array[tests.id('bob')]) c;
select tests.authenticate_as('bob');
select tests.remember('forwarded', m.id) from public.forward_message(tests.id('alice_msg'), tests.id('fwd')) m;
select is(
  (select jsonb_build_object('chat', chat_id, 'author', author_id, 'body', body, 'from_message', forwarded_from_message_id,
                             'from_chat', forwarded_from_chat_id, 'from_author', forwarded_from_author_id)
     from public.messages where id = tests.id('forwarded')),
  jsonb_build_object('chat', tests.id('fwd'), 'author', tests.id('bob'), 'body', 'hi from alice',
                     'from_message', tests.id('alice_msg'), 'from_chat', tests.id('group'), 'from_author', tests.id('alice')),
  'a forward is a new message by the forwarder that keeps the original message, chat and author');
select tests.authenticate_as('carol');
select is(
  (select jsonb_build_object('from_message', m.forwarded_from_message_id, 'from_chat', m.forwarded_from_chat_id,
                             'from_author', m.forwarded_from_author_id)
     from public.forward_message(tests.id('forwarded'), tests.id('group')) m),
  jsonb_build_object('from_message', tests.id('alice_msg'), 'from_chat', tests.id('group'), 'from_author', tests.id('alice')),
  'forwarding a forward keeps the first origin');
select tests.authenticate_as('bob');
select tests.remember('fwd_client', gen_random_uuid());
select tests.remember('fwd_once', m.id) from public.forward_message(tests.id('m1'), tests.id('fwd'), tests.id('fwd_client')) m;
select is(
  (select jsonb_build_object('id', m.id, 'from_message', m.forwarded_from_message_id)
     from public.forward_message(tests.id('m1'), tests.id('fwd'), tests.id('fwd_client')) m),
  jsonb_build_object('id', tests.id('fwd_once'), 'from_message', tests.id('m1')),
  'a forward retried with the same client_id returns the stored forward');
select throws_ok($$ select public.forward_message(tests.id('m1'), tests.id('daves')) $$, 'PT404', 'chat not found',
  'a member cannot forward into a chat they are not in');
select throws_ok($$ select public.edit_message(tests.id('forwarded'), 'words alice never wrote') $$, '22023',
  'forwarded messages cannot be edited', 'a forward cannot be edited (its origin label vouches for the original words)');
select tests.remember('own_client', gen_random_uuid());
select tests.remember('own_words', m.id) from public.send_message(tests.id('fwd'), 'words alice never wrote', client_id => tests.id('own_client')) m;
select throws_ok($$ select public.forward_message(tests.id('alice_msg'), tests.id('fwd'), tests.id('own_client')) $$, '22023',
  'client_id was already used for another message', 'a forward reusing the client_id of another message is refused');
select is((select forwarded_from_author_id from public.messages where id = tests.id('own_words')), null,
  'the other message is not relabelled as a forward');
select tests.authenticate_as('dave');
select throws_ok($$ select public.forward_message(tests.id('alice_msg'), tests.id('daves')) $$, 'PT404',
  'message not found', 'an outsider cannot forward a message they cannot read');
select is_empty($$ select id from public.messages where chat_id = tests.id('daves') $$,
  'the refused forward wrote nothing');
select tests.clear_authentication();
select throws_ok($$ select public.forward_message(tests.id('m1'), tests.id('group')) $$, '42501', null,
  'anon cannot forward');

select * from finish();
rollback;
