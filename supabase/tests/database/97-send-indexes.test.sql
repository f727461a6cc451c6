-- What a send writes into indexes (issue 20): the update of the chat row is HOT (no index of public.chats covers a
-- counter the send moves, so the chat's other senders do not wait for index entries), so is the update of the
-- sender's member row even on a page the chat's members filled (fillfactor 80), and a message writes one entry
-- for both the retry lookup and the author lookups (messages_idempotency_key on (author_id, chat_id, client_id)).
-- The queries those indexes served keep an index: the chat list's order, a retry, the author's messages.
begin;
create extension if not exists pgtap with schema extensions;
select plan(11);

select tests.create_user(u) from unnest(array['alice', 'bob', 'carol']) u;
select tests.create_group('team', 'alice', members => array['bob', 'carol']);
select tests.create_group('club', 'alice', members => array['bob']);
select tests.create_direct('dm', 'alice', 'bob');

-- the chat row -----------------------------------------------------------------------------------------------------------
select is(
  (select array_agg(i.indexrelid::regclass::text order by 1) from pg_index i
    where i.indrelid = 'public.chats'::regclass
      and (exists (select 1 from pg_attribute a
                    where a.attrelid = i.indrelid and a.attnum = any (i.indkey)
                      and a.attname in ('last_message_seq', 'last_event_seq', 'last_message_at', 'last_activity_at', 'updated_at'))
           or pg_get_expr(i.indexprs, i.indrelid) ~ '(last_message_seq|last_event_seq|last_message_at|last_activity_at|updated_at)'
           or pg_get_expr(i.indpred, i.indrelid) ~ '(last_message_seq|last_event_seq|last_message_at|last_activity_at|updated_at)')),
  null,
  'no index of public.chats covers a column that a send updates');

create table pg_temp.counts (n bigint[]);
create function pg_temp.chat_updates() returns bigint[] language sql as $$
  select array[n_tup_upd, n_tup_hot_upd] from pg_stat_xact_user_tables where relid = 'public.chats'::regclass
$$;
-- (A transaction's now() does not move: the activity is set back first, so that the send really changes it.)
update public.chats set last_activity_at = now() - interval '1 minute', last_message_at = now() - interval '1 minute'
 where id = tests.id('team');
insert into pg_temp.counts select pg_temp.chat_updates();
select tests.send_message('m1', 'bob', 'team', 'hot or not');
select is(
  (select array[u[1] - b[1], u[2] - b[2]] from pg_temp.chat_updates() u, (select n from pg_temp.counts) x(b)),
  array[1, 1]::bigint[],
  'a send updates the chat row once, as a HOT update');

-- the sender's member row: its page keeps room for the new version -------------------------------------------------------
select is(
  (select array_agg(c.relname || ' ' || array_to_string(c.reloptions, ',') order by c.relname) from pg_class c
    where c.oid in ('public.chats'::regclass, 'public.chat_members'::regclass)),
  array['chat_members fillfactor=80', 'chats fillfactor=80'],
  'chats and chat_members leave a fifth of each page free');
-- 100 members: their rows fill a whole page. The sender is one on the first of those pages, which the inserts left
-- as full as the fillfactor lets them (packed full, an update of any row on it would have to move to another page).
select tests.create_user('crowd' || i) from generate_series(1, 100) i;
select tests.create_group('crowd', 'alice', members => (select array_agg('crowd' || i order by i) from generate_series(1, 100) i));
create table pg_temp.crowd_sender as
  select 'crowd' || i as name from generate_series(1, 100) i
    join public.chat_members m on m.chat_id = tests.id('crowd') and m.user_id = tests.id('crowd' || i)
   order by (m.ctid::text::point)[0], (m.ctid::text::point)[1] limit 1;
create function pg_temp.member_updates() returns bigint[] language sql as $$
  select array[n_tup_upd, n_tup_hot_upd] from pg_stat_xact_user_tables where relid = 'public.chat_members'::regclass
$$;
delete from pg_temp.counts;
insert into pg_temp.counts select pg_temp.member_updates();
select tests.send_message('crowded', (select name from pg_temp.crowd_sender), 'crowd', 'room on the page');
select is(
  (select array[u[1] - b[1], u[2] - b[2]] from pg_temp.member_updates() u, (select n from pg_temp.counts) x(b)),
  array[1, 1]::bigint[],
  'a send updates its sender''s member row once, as a HOT update, on a page the members filled');

-- the chat list sorts by activity without that index ----------------------------------------------------------------------
select tests.send_message('m2', 'bob', 'club', 'later');
update public.chats set last_activity_at = now() - interval '1 hour' where id = tests.id('team');
update public.chats set last_activity_at = now() - interval '2 hours' where id = tests.id('dm');
select tests.authenticate_as('bob');
select is((select array_agg(l.chat_id order by l.ordinality) from public.list_chats() with ordinality l),
  array[tests.id('club'), tests.id('team'), tests.id('dm')],
  'list_chats still orders chats by their newest activity');
reset role;

-- messages: one index for retries and authors ----------------------------------------------------------------------------
select is((select indexdef from pg_indexes where schemaname = 'public' and indexname = 'messages_idempotency_key'),
  'CREATE UNIQUE INDEX messages_idempotency_key ON public.messages USING btree (author_id, chat_id, client_id)',
  'messages_idempotency_key leads with the author');
select is((select count(*)::integer from pg_index i where i.indrelid = 'public.messages'::regclass
            and (select a.attname from pg_attribute a where a.attrelid = i.indrelid and a.attnum = i.indkey[0]) = 'author_id'),
  1, 'and it is the only index of messages that does');

create function pg_temp.plan_of(q text) returns text language plpgsql as $$
declare
  p text := '';
  line text;
begin
  set local enable_seqscan = off; -- a few test rows: any index, or none, would do; which one is the question
  for line in execute 'explain (costs off) ' || q loop
    p := p || line || E'\n';
  end loop;
  reset enable_seqscan;
  return p;
end
$$;
select matches(pg_temp.plan_of(format($$select * from public.messages m where m.chat_id = %L and m.author_id = %L and m.client_id = %L$$,
                                       tests.id('team'), tests.id('bob'), gen_random_uuid())),
  'messages_idempotency_key', 'a retry''s lookup reads messages_idempotency_key');
select matches(pg_temp.plan_of(format($$select * from public.messages m where m.author_id = %L$$, tests.id('bob'))),
  'messages_idempotency_key', 'a user''s messages (GDPR export, erasure, the author foreign key) read it too');

select tests.authenticate_as('bob');
select is((public.send_message(tests.id('team'), 'same id', client_id => '00000000-0000-4000-8000-0000000000aa')).id,
          (public.send_message(tests.id('team'), 'same id', client_id => '00000000-0000-4000-8000-0000000000aa')).id,
  'a retry with the same client_id still returns the stored message');
select public.send_message(tests.id('team'), 'no id');
select public.send_message(tests.id('team'), 'no id');
reset role;
select is((select count(*)::integer from public.messages where chat_id = tests.id('team') and body = 'no id'), 2,
  'and sends without a client_id never conflict');

select * from finish();
rollback;
