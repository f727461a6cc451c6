-- The cheap paths of a send (issue 20, docs/performance.md "Where the time of a send goes"): a message that can
-- notify nobody skips notify_message's candidates query, and a sender with nothing unread in the chat skips the
-- update of their notifications, so neither fires the statement-level unread counter triggers. Who is notified and
-- what is marked read stay as before: the same sends through the full paths are checked next to them. And the
-- chat.activity of a direct message carries the chat row as the send's one update left it.
-- Statements are counted by a statement-level trigger this test adds to public.notifications (it fires, as the
-- unread counter triggers do, for every insert or update statement, even one that writes no row).
begin;
create extension if not exists pgtap with schema extensions;
select plan(19);

create table pg_temp.statements (op text);
create function pg_temp.count_statement() returns trigger language plpgsql as $$
begin
  insert into pg_temp.statements values (tg_op);
  return null;
end
$$;
create trigger zz_test_statements after insert or update on public.notifications
  for each statement execute function pg_temp.count_statement();

select tests.create_user(u) from unnest(array['alice', 'bob', 'carol', 'dave']) u;
select tests.create_group('team', 'alice', members => array['bob', 'carol', 'dave'], admins => array['dave']);
select tests.create_direct('dm', 'alice', 'bob');
select tests.authenticate_as('bob');
select public.set_chat_preferences(tests.id('team'), notification_level => 'all');
reset role;

-- Insert or update statements on public.notifications so far.
create function pg_temp.calls(op text) returns bigint language sql as $$
  select count(*) from pg_temp.statements s where s.op = calls.op
$$;
-- What a send did to the notifications table: [rows inserted, rows updated, insert statements, update statements]
-- (each statement also fires the unread counter trigger, private.count_new_notifications / count_changed_notifications).
create function pg_temp.notification_work(sender text, chat text, body text, mentions text[] default '{}')
returns bigint[] language plpgsql as $$
declare
  before bigint[];
  after bigint[];
begin
  delete from private.rate_counters;
  select array[coalesce(sum(n_tup_ins), 0), coalesce(sum(n_tup_upd), 0)]::bigint[] into before
    from pg_stat_xact_user_tables where schemaname = 'public' and relname = 'notifications';
  before := before || array[pg_temp.calls('INSERT'), pg_temp.calls('UPDATE')];
  perform tests.authenticate_as(sender);
  perform public.send_message(tests.id(chat), body, mentions => array(select tests.id(x) from unnest(mentions) x));
  reset role;
  select array[coalesce(sum(n_tup_ins), 0), coalesce(sum(n_tup_upd), 0)]::bigint[] into after
    from pg_stat_xact_user_tables where schemaname = 'public' and relname = 'notifications';
  after := after || array[pg_temp.calls('INSERT'), pg_temp.calls('UPDATE')];
  return array(select after[i] - before[i] from generate_series(1, 4) i);
end
$$;

-- notify_message: nobody to notify, decided before the candidates query ------------------------------------------------
select is(pg_temp.notification_work('alice', 'team', 'plain words, nobody named'), array[0, 0, 0, 0]::bigint[],
  'a plain group message writes no notification and fires no counter trigger');
select is(pg_temp.notification_work('alice', 'dm', 'you are online'), array[0, 0, 0, 0]::bigint[],
  'a direct message to someone online neither');
select is(tests.notifications_of('bob'), array['added_to_chat team'], 'bob has only the notification of being added');

-- The full path still decides whenever a candidate can exist.
select tests.set_status('bob', 'offline');
select is(pg_temp.notification_work('alice', 'dm', 'you are away')::text, array[1, 0, 1, 0]::bigint[]::text,
  'a direct message to someone offline notifies them, through the counter trigger');
select is((tests.last_notification('bob')).kind::text, 'direct_message', 'as a direct_message notification');
select tests.set_status('bob', 'online');
select is(pg_temp.notification_work('alice', 'team', 'write to me at alice@example.com')::text, array[0, 0, 1, 0]::bigint[]::text,
  'an @ that is no @channel or @here takes the full path (its insert statement runs) and notifies nobody');
select is(pg_temp.notification_work('dave', 'team', 'heads up @channel')::text, array[3, 0, 1, 0]::bigint[]::text,
  'an @channel of an admin notifies the three other members');
select is(pg_temp.notification_work('alice', 'team', 'look', array['carol'])::text, array[1, 1, 1, 1]::bigint[]::text,
  'a mention notifies the one mentioned, and the send marks the sender''s own @channel notification read');

-- read_chat_notifications: nothing unread, nothing updated --------------------------------------------------------------
select is(pg_temp.notification_work('alice', 'dm', 'nothing unread here')::text, array[0, 0, 0, 0]::bigint[]::text,
  'a sender with nothing unread in the chat updates no notification and fires no counter trigger');
select is(pg_temp.notification_work('bob', 'dm', 'back again')::text, array[0, 1, 0, 1]::bigint[]::text,
  'a sender with an unread direct_message in the chat marks it read by sending');
select is(pg_temp.notification_work('carol', 'team', 'thanks')::text, array[0, 2, 0, 1]::bigint[]::text,
  'a sender with unread notifications in the chat (the @channel and the mention) marks them read by sending');
select is((select count(*) from public.notifications
            where recipient_id = tests.id('carol') and chat_id = tests.id('team') and read_at is null
              and kind in ('mention', 'reply', 'thread_reply', 'direct_message')), 0::bigint,
  'none of them is unread any more');
select is(pg_temp.notification_work('bob', 'team', 'me too')::text, array[0, 1, 0, 1]::bigint[]::text,
  'and bob''s @channel notification is read when he sends');

-- chat.activity carries the chat row as the send's update left it --------------------------------------------------------
select tests.commit_point();
do $$ begin perform tests.took(); end $$;
select tests.send_message('last', 'alice', 'dm', 'one more');
select is((tests.last_payload('chat.activity') -> 'data') - 'message_id' - 'author_id',
  (select jsonb_build_object('chat_id', c.id, 'last_message_seq', c.last_message_seq, 'last_activity_at', c.last_activity_at,
                             'last_event_seq', c.last_event_seq)
     from public.chats c where c.id = tests.id('dm')),
  'chat.activity of a direct message carries the chat''s counters after the send');
select is((tests.last_payload('chat.activity') #>> '{data,message_id}')::uuid, tests.id('last'), 'and the new message');

-- the deferred messages_emit_sent trigger: not queued for a send_message insert, still there for any other insert ----------
-- For the rest of this (rolled back) test, the trigger's function only notes that it ran.
create table pg_temp.emit_sent_runs (message_id uuid);
create or replace function private.on_message_sent() returns trigger
language plpgsql
security definer
set search_path = ''
as $f$
begin
  insert into pg_temp.emit_sent_runs values (new.id);
  return null;
end
$f$;
select tests.send_message('queued', 'bob', 'team', 'no deferred event for me');
set constraints all immediate;
set constraints all deferred;
select is((select count(*) from pg_temp.emit_sent_runs), 0::bigint,
  'a send_message insert queues no deferred messages_emit_sent event (nothing of it runs at commit)');
select is((select count(*) from private.chat_events e where e.message_id = tests.id('queued') and e.event = 'message.sent'),
  1::bigint, 'and its message.sent is logged once, by send_message');
-- An insert outside send_message (a service-role import) still queues it.
update public.chats set last_message_seq = last_message_seq + 1 where id = tests.id('team');
insert into public.messages (id, chat_id, seq, author_id, body)
select tests.remember('imported', gen_random_uuid()), c.id, c.last_message_seq, tests.id('alice'), 'imported'
  from public.chats c where c.id = tests.id('team');
select is((select count(*) from pg_temp.emit_sent_runs), 0::bigint, 'deferred: it has not run at the insert');
set constraints all immediate;
set constraints all deferred;
select is((select array_agg(message_id) from pg_temp.emit_sent_runs), array[tests.id('imported')],
  'an insert outside send_message runs the deferred trigger, once');

select * from finish();
rollback;
