-- The send path (issue 20): a send writes a bounded number of rows whatever the member count, and touches the chat
-- row once (one update allocates the message's seq and its message.sent cursor). Measured with the transaction's own
-- table statistics (pg_stat_xact_user_tables) and the broadcasts written, in a direct chat and groups of 10, 50 and
-- 200 members; a retry writes nothing; refusals found before the chat row is reached leave it alone.
begin;
create extension if not exists pgtap with schema extensions;
select plan(13);

select tests.create_user('owner');
select tests.create_user('u' || g) from generate_series(1, 199) g;
select tests.create_direct('dm', 'u1', 'u2');
select tests.create_group('g10', 'owner', members => array(select 'u' || g from generate_series(1, 9) g));
select tests.create_group('g50', 'owner', members => array(select 'u' || g from generate_series(1, 49) g));
select tests.create_group('g200', 'owner', members => array(select 'u' || g from generate_series(1, 99) g));
select tests.authenticate_as('owner');
select public.add_chat_members(tests.id('g200'), array(select tests.id('u' || g) from generate_series(100, 199) g));
reset role;
select is((select member_count from public.chats where id = tests.id('g200')), 200, 'the large group has 200 members');
select tests.commit_point();
do $$ begin perform tests.took(); end $$;

-- What one statement (a send, as u1) wrote: rows per table from this transaction's statistics, broadcasts by topic.
create function pg_temp.writes(statement text) returns jsonb
language plpgsql
as $$
declare
  before jsonb;
  after jsonb;
  sent text[];
begin
  perform tests.forget_send_rate();
  perform tests.took();
  select jsonb_object_agg(schemaname || '.' || relname, jsonb_build_array(n_tup_ins, n_tup_upd)) into before
    from pg_stat_xact_user_tables where schemaname in ('public', 'private');
  perform tests.authenticate_as('u1');
  execute statement;
  perform tests.commit_point();
  reset role;
  sent := array(select x from unnest(tests.took()) x order by x);
  select jsonb_object_agg(schemaname || '.' || relname, jsonb_build_array(n_tup_ins, n_tup_upd)) into after
    from pg_stat_xact_user_tables where schemaname in ('public', 'private');
  return jsonb_build_object(
    'chats updated', (after #>> '{public.chats,1}')::bigint - coalesce((before #>> '{public.chats,1}')::bigint, 0),
    'members updated', (after #>> '{public.chat_members,1}')::bigint - coalesce((before #>> '{public.chat_members,1}')::bigint, 0),
    'messages inserted', (after #>> '{public.messages,0}')::bigint - coalesce((before #>> '{public.messages,0}')::bigint, 0),
    'chat events logged', (after #>> '{private.chat_events,0}')::bigint - coalesce((before #>> '{private.chat_events,0}')::bigint, 0),
    'user events stored', coalesce((after #>> '{private.user_events,0}')::bigint, 0) - coalesce((before #>> '{private.user_events,0}')::bigint, 0),
    'broadcasts', to_jsonb(sent));
end
$$;

select is(pg_temp.writes($$select public.send_message(tests.id('g10'), 'hello ten', client_id => gen_random_uuid())$$),
  jsonb_build_object('chats updated', 1, 'members updated', 1, 'messages inserted', 1, 'chat events logged', 1,
                     'user events stored', 0, 'broadcasts', jsonb_build_array('chat:g10 message.sent')),
  'a send in a 10-member group: one message, one event, one broadcast, the chat row updated once');
select is(pg_temp.writes($$select public.send_message(tests.id('g50'), 'hello fifty', client_id => gen_random_uuid())$$),
  jsonb_build_object('chats updated', 1, 'members updated', 1, 'messages inserted', 1, 'chat events logged', 1,
                     'user events stored', 0, 'broadcasts', jsonb_build_array('chat:g50 message.sent')),
  'a send in a 50-member group writes the same rows');
select is(pg_temp.writes($$select public.send_message(tests.id('g200'), 'hello two hundred', client_id => gen_random_uuid())$$),
  jsonb_build_object('chats updated', 1, 'members updated', 1, 'messages inserted', 1, 'chat events logged', 1,
                     'user events stored', 0, 'broadcasts', jsonb_build_array('chat:g200 message.sent')),
  'a send in a 200-member group writes the same rows');
select is(pg_temp.writes($$select public.send_message(tests.id('dm'), 'hello you', client_id => gen_random_uuid())$$),
  jsonb_build_object('chats updated', 1, 'members updated', 1, 'messages inserted', 1, 'chat events logged', 1,
                     'user events stored', 0, 'broadcasts', jsonb_build_array('chat:dm message.sent', 'user:u2 chat.activity')),
  'a send in a direct chat adds one chat.activity for the other person, not stored');
select is(pg_temp.writes($$select public.send_message(tests.id('g200'), 'hey @u7 @u8', mentions => array[tests.id('u7'), tests.id('u8')])$$),
  jsonb_build_object('chats updated', 1, 'members updated', 1, 'messages inserted', 1, 'chat events logged', 1,
                     'user events stored', 2, 'broadcasts', jsonb_build_array('chat:g200 message.sent',
                     'user:u7 notification.created', 'user:u8 notification.created')),
  'mentions add one notification.created per mentioned member, whatever the chat''s size');

-- The cursor and the sequence come from that one update, gap-free and in step.
select is((select (last_message_seq, last_event_seq)::text from public.chats where id = tests.id('g200')),
  (select (max(m.seq), max(e.seq))::text from public.messages m, private.chat_events e
    where m.chat_id = tests.id('g200') and e.chat_id = tests.id('g200')),
  'the chat''s last_message_seq and last_event_seq are those of its newest message and event');
select is((select array_agg(e.seq order by e.seq) from private.chat_events e where e.chat_id = tests.id('g200') and e.event = 'message.sent'),
  (select array_agg(x.last_event_seq - 1 + g order by g) from public.chats x, generate_series(0, 1) g where x.id = tests.id('g200')),
  'each send took the next cursor: the two message.sent events are the newest two events of the chat');

-- A retry writes nothing and answers the stored message.
select tests.authenticate_as('u1');
select tests.remember('retried', (public.send_message(tests.id('g50'), 'once', client_id => '00000000-0000-4000-8000-000000000001')).id);
select tests.commit_point();
reset role;
select is(pg_temp.writes($$select public.send_message(tests.id('g50'), 'once', client_id => '00000000-0000-4000-8000-000000000001')$$),
  jsonb_build_object('chats updated', 0, 'members updated', 0, 'messages inserted', 0, 'chat events logged', 0,
                     'user events stored', 0, 'broadcasts', '[]'::jsonb),
  'a retry with a known client_id writes nothing');
select tests.authenticate_as('u1');
select is((public.send_message(tests.id('g50'), 'once', client_id => '00000000-0000-4000-8000-000000000001')).id, tests.id('retried'),
  'and returns the stored message');

-- Refused before the chat row is reached: nothing written, the counters as they were.
select tests.authenticate_as('owner');
select throws_ok($$select public.send_message(tests.id('dm'), 'not mine')$$, 'PT404', 'chat not found',
  'an outsider is refused');
select throws_ok($$select public.send_message(tests.id('g10'), 'reply', reply_to_id => gen_random_uuid())$$, 'PT404',
  'replied-to message not found in this chat', 'a bad reply is refused');
reset role;
select is((select (last_message_seq, last_event_seq)::text from public.chats where id = tests.id('g10')),
  (select (max(m.seq), max(e.seq))::text from public.messages m, private.chat_events e
    where m.chat_id = tests.id('g10') and e.chat_id = tests.id('g10')),
  'and the chat''s sequence and cursor did not move');

select * from finish();
rollback;
