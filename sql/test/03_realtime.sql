-- Test databases only: helpers for realtime tests.
--   select tests.commit_point();                 -- fire what a COMMIT fires (deferred event triggers) and start a
--                                                    new "transaction" for event bookkeeping, without committing
--   select * from tests.events_since(mark);      -- broadcasts written to realtime.messages after a mark
--   select tests.realtime_can_read('chat:<id>', 'broadcast');  -- Realtime's read check, as the current user
--   select tests.realtime_can_write('chat:<id>', 'presence');  -- Realtime's write check, as the current user

-- Deferred triggers fire at COMMIT. pgTAP tests run in one transaction that is rolled back, so they call this where
-- a request would have committed. It also forgets which messages this transaction already broadcast.
create or replace function tests.commit_point() returns void
language plpgsql
as $$
begin
  set constraints all immediate;
  set constraints all deferred;
  perform set_config('chat_events.sent', '', true);
  perform set_config('chat_events.changed', '', true);
end
$$;

-- A mark for tests.events_since: realtime rows are ordered by insertion within the transaction via a sequence.
create sequence if not exists tests.broadcast_order;
create table if not exists tests.broadcast_log (n bigint primary key default nextval('tests.broadcast_order'), id uuid, topic text, event text, extension text, payload jsonb);

create or replace function tests.log_broadcast() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into tests.broadcast_log (id, topic, event, extension, payload) values (new.id, new.topic, new.event, new.extension, new.payload);
  return null;
end
$$;

-- Each realtime.messages partition gets the logging trigger (row triggers on a partitioned table are inherited).
drop trigger if exists tests_log_broadcast on realtime.messages;
create trigger tests_log_broadcast after insert on realtime.messages for each row execute function tests.log_broadcast();

create or replace function tests.broadcast_mark() returns bigint
language sql
security definer
set search_path = ''
as $$
  select coalesce(max(n), 0) from tests.broadcast_log
$$;

create or replace function tests.events_since(mark bigint)
returns table (n bigint, topic text, event text, payload jsonb)
language sql
security definer
set search_path = ''
as $$
  select l.n, l.topic, l.event, l.payload from tests.broadcast_log l
   where l.n > mark and l.extension = 'broadcast' order by l.n
$$;

-- Realtime's read check (lib/realtime/tenants/authorization.ex): probe rows for the topic are inserted with RLS out
-- of the way, then, as the user, with realtime.topic set, a select of those ids tells whether the user may read.
create or replace function tests.realtime_can_read(topic text, extension text) returns boolean
language plpgsql
as $$
declare
  probe uuid := gen_random_uuid();
  seen boolean;
begin
  perform tests.insert_probe(probe, topic, extension);
  perform set_config('realtime.topic', topic, true);
  select exists (select 1 from realtime.messages m where m.id = probe) into seen;
  return seen;
end
$$;

create or replace function tests.insert_probe(probe uuid, topic text, extension text) returns void
language sql
security definer
set search_path = ''
as $$
  insert into realtime.messages (id, topic, extension, private) values (probe, topic, extension, true)
$$;

-- Realtime's write check: as the user, insert a message for the topic in a savepoint; insufficient_privilege means
-- the user may not send (the row is rolled back either way).
create or replace function tests.realtime_can_write(topic text, extension text, event text default null) returns boolean
language plpgsql
as $$
begin
  perform set_config('realtime.topic', topic, true);
  begin
    insert into realtime.messages (topic, extension, event, private) values (topic, extension, event, true);
    raise exception using errcode = 'P0004', message = 'allowed';
  exception
    when insufficient_privilege then
      return false;
    when assert_failure then
      return true;
  end;
end
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role;
grant select, insert on tests.broadcast_log to anon, authenticated, service_role;
grant usage on sequence tests.broadcast_order to anon, authenticated, service_role;
