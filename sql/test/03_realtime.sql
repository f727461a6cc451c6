-- Test databases only: helpers for realtime tests.
--   select tests.commit_point();                 -- fire what a COMMIT fires (deferred event triggers) and start a
--                                                    new "transaction" for event bookkeeping, without committing
--   select * from tests.events_since(mark);      -- broadcasts written to realtime.messages after a mark
--   select tests.realtime_join('chat:<id>:typing');            -- Realtime's join check: the extensions the current
--                                                                  user may read (broadcast, presence), [] = refused
--   select tests.realtime_can_read('chat:<id>', 'broadcast');  -- Realtime's read check of one extension
--   select tests.realtime_can_write('chat:<id>:typing', 'presence');  -- Realtime's write check
--   select * from tests.realtime_replay('chat:<id>');          -- what Broadcast Replay hands a joining client
--   select tests.stored_broadcasts_containing('secret');       -- stored broadcasts (any topic) containing a text
-- The checks run the Realtime server's own statements (lib/realtime/tenants/authorization.ex, messages.ex; see
-- ../shared/reference/supabase-services.md section 5): probe rows carry topic and extension only, never an event.

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

-- Probe rows are inserted by Realtime's own database user, with RLS out of the way: the columns Realtime's Message
-- changeset fills for a probe (lib/realtime/api/message.ex), no event, no payload, `private` left at its default.
create or replace function tests.insert_probe(probe uuid, topic text, extension text) returns void
language sql
security definer
set search_path = ''
as $$
  insert into realtime.messages (id, topic, extension, inserted_at, updated_at) values (probe, topic, extension, now(), now())
$$;

-- The settings Realtime applies before each check, all transaction-local (authorization.ex): the role and claims of
-- the channel's token (here: the current test user's), the topic, and the upgrade request's x-* headers (none).
create or replace function tests.realtime_apply_settings(topic text, claims text, claim_role text) returns void
language plpgsql
as $$
begin
  perform set_config('role', claim_role, true), set_config('realtime.topic', topic, true),
          set_config('request.jwt.claims', claims, true),
          set_config('request.jwt.claim.sub', coalesce(claims::jsonb ->> 'sub', ''), true),
          set_config('request.jwt.claim.role', claim_role, true), set_config('request.headers', '{}', true);
end
$$;

-- Realtime's read check at join (and after each access_token): one probe row per extension (broadcast, plus presence
-- when the channel enables it), the settings, then `SELECT id FROM realtime.messages WHERE id IN (...)` under RLS,
-- all rolled back (ROLLBACK AND CHAIN; here a subtransaction). Returns the extensions whose probe came back.
create or replace function tests.realtime_read_probe(topic text, extensions text[]) returns text[]
language plpgsql
as $$
declare
  claims text := coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}');
  claim_role text := coalesce(claims::jsonb ->> 'role', current_setting('role'));
  probes uuid[] := array(select gen_random_uuid() from unnest(extensions));
  seen uuid[];
begin
  begin
    perform tests.insert_probe(probes[i], topic, extensions[i]) from generate_subscripts(extensions, 1) i;
    perform tests.realtime_apply_settings(topic, claims, claim_role);
    execute format('select array_agg(id) from realtime.messages where id in (%s)',
                   (select string_agg(quote_literal(p) || '::uuid', ', ') from unnest(probes) p))
      into seen;
    raise exception using errcode = 'P0004';
  exception when assert_failure then
    null;
  end;
  return array(select extensions[i] from generate_subscripts(extensions, 1) i where probes[i] = any (coalesce(seen, '{}')));
end
$$;

-- A join with presence enabled (the default of realtime-js when presence is configured): the readable extensions;
-- the server refuses the join ("Unauthorized: You do not have permissions to read from this Channel topic") when
-- the array is empty.
create or replace function tests.realtime_join(topic text, presence boolean default true) returns text[]
language sql
as $$
  select tests.realtime_read_probe(topic, case when presence then array['broadcast', 'presence'] else array['broadcast'] end)
$$;

create or replace function tests.realtime_can_read(topic text, extension text) returns boolean
language sql
as $$ select extension = any (tests.realtime_read_probe(topic, array[extension])) $$;

-- Realtime's write check, on the first broadcast or presence track of a channel (and again after a token change):
-- the settings, then for the extension an INSERT of topic and extension in a savepoint, no RETURNING;
-- insufficient_privilege = denied, any other error aborts. Rolled back either way.
create or replace function tests.realtime_can_write(topic text, extension text) returns boolean
language plpgsql
as $$
declare
  claims text := coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}');
  claim_role text := coalesce(claims::jsonb ->> 'role', current_setting('role'));
  allowed boolean;
begin
  begin
    perform tests.realtime_apply_settings(topic, claims, claim_role);
    begin
      insert into realtime.messages (id, topic, extension, inserted_at, updated_at)
      values (gen_random_uuid(), topic, extension, now(), now());
      allowed := true;
    exception when insufficient_privilege then
      allowed := false;
    end;
    raise exception using errcode = 'P0004';
  exception when assert_failure then
    null;
  end;
  return allowed;
end
$$;

-- Broadcast Replay as the server runs it on its own connection, without RLS per row (lib/realtime/messages.ex):
-- after a successful broadcast read check, the newest min(max(limit, 1), 25) private broadcasts of the topic since
-- `since` (at most 72 h back: older partitions are dropped), sent oldest first.
create or replace function tests.replay_query(topic text, since timestamp, replay_limit integer)
returns table (event text, payload jsonb)
language sql
security definer
set search_path = ''
as $$
  select r.event, r.payload from (
    select m.event, m.payload, m.inserted_at, m.id from realtime.messages m
     where m.topic = replay_query.topic and m.private is true and m.extension = 'broadcast'
       and m.inserted_at >= since and m.inserted_at < now()::timestamp + interval '1 minute'
     order by m.inserted_at desc limit least(greatest(replay_limit, 1), 25)) r
  order by r.inserted_at
$$;

create or replace function tests.realtime_replay(topic text, since timestamp default now()::timestamp - interval '72 hours',
                                                 replay_limit integer default 25)
returns table (event text, payload jsonb)
language plpgsql
as $$
begin
  if not tests.realtime_can_read(topic, 'broadcast') then
    raise exception 'Unauthorized: You do not have permissions to read from this Channel topic: %', topic
      using errcode = '42501';
  end if;
  return query select * from tests.replay_query(topic, since, replay_limit);
end
$$;

-- How many stored broadcasts, on any topic, contain a text (past RLS): content that must never be stored.
create or replace function tests.stored_broadcasts_containing(needle text) returns integer
language sql
security definer
set search_path = ''
as $$
  select count(*)::integer from realtime.messages m
   where m.extension = 'broadcast' and position(needle in coalesce(m.payload::text, '')) > 0
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role;
grant select, insert on tests.broadcast_log to anon, authenticated, service_role;
grant usage on sequence tests.broadcast_order to anon, authenticated, service_role;
