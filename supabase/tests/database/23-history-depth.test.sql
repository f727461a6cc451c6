-- History pages cost the same at any depth: get_chat_messages(before_seq => ...) reads one page through the
-- (chat_id, seq) index even when PL/pgSQL runs it with a cached generic plan (regression: the page used to walk
-- every newer message). Also checks the pages themselves: newest, before, after, around.
begin;
create extension if not exists pgtap with schema extensions;
select plan(8);

select tests.create_user('hist_owner');
select tests.create_user('hist_member');
select tests.create_group('history', 'hist_owner', members => array['hist_member'], title => 'Long history');

-- 3,000 messages written directly (the send path and its rate limit are tested elsewhere).
reset role;
insert into public.messages (chat_id, seq, author_id, body)
select tests.id('history'), g, tests.get_user_id('hist_owner'), 'message ' || g from generate_series(1, 3000) g;
update public.chats set last_message_seq = 3000 where id = tests.id('history');

-- A cached generic plan is what PL/pgSQL uses after a few calls; force it from the first call.
set local plan_cache_mode = force_generic_plan;
create temp table fetched (label text primary key, n bigint);
insert into fetched select 'before', idx_tup_fetch from pg_stat_xact_user_tables where relid = 'public.messages'::regclass;

select tests.authenticate_as('hist_member');
select results_eq(
  $$ select seq from public.get_chat_messages(tests.id('history'), before_seq => 101, page_size => 50) $$,
  $$ select g::bigint from generate_series(100, 51, -1) g $$,
  'a page before a seq holds the 50 messages before it, newest first'
);
select results_eq(
  $$ select seq from public.get_chat_messages(tests.id('history'), before_seq => 101, page_size => 50) $$,
  $$ select g::bigint from generate_series(100, 51, -1) g $$,
  'the same page again, now from the cached plan'
);
reset role;
insert into fetched select 'after', idx_tup_fetch from pg_stat_xact_user_tables where relid = 'public.messages'::regclass;
select cmp_ok(
  (select n from fetched where label = 'after') - (select n from fetched where label = 'before'),
  '<=', 200::bigint,
  'two pages 2,900 messages deep fetch about one page of rows each, not every newer message'
);

select tests.authenticate_as('hist_member');
select results_eq(
  $$ select seq from public.get_chat_messages(tests.id('history'), page_size => 3) $$,
  $$ values (3000::bigint), (2999::bigint), (2998::bigint) $$,
  'without a cursor the page is the newest messages'
);
select results_eq(
  $$ select seq from public.get_chat_messages(tests.id('history'), after_seq => 10, page_size => 3) $$,
  $$ values (13::bigint), (12::bigint), (11::bigint) $$,
  'after_seq pages forward, still newest first'
);
select results_eq(
  $$ select seq from public.get_chat_messages(tests.id('history'), around_seq => 500, page_size => 4) $$,
  $$ values (502::bigint), (501::bigint), (500::bigint), (499::bigint) $$,
  'around_seq centers on the message'
);
select is_empty(
  $$ select seq from public.get_chat_messages(tests.id('history'), before_seq => 1) $$,
  'nothing before the first message'
);
select throws_ok(
  $$ select * from public.get_chat_messages(tests.id('history'), before_seq => 5, after_seq => 1) $$,
  '22023', 'give at most one of before_seq, after_seq, around_seq',
  'before_seq and after_seq together are refused'
);

select * from finish();
rollback;
