-- Platform stand-in 04: the `realtime` schema the Realtime server owns: the partitioned messages table that carries
-- Broadcast from the database and backs Realtime Authorization, topic(), send(), broadcast_changes(), and the
-- `supabase_realtime` publication for postgres_changes.

create schema if not exists realtime;
grant usage on schema realtime to postgres, anon, authenticated, service_role;

create table if not exists realtime.messages (
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp not null default now(),
  inserted_at timestamp not null default now(),
  id uuid not null default gen_random_uuid(),
  primary key (id, inserted_at)
) partition by range (inserted_at);
alter table realtime.messages owner to supabase_realtime_admin;
alter table realtime.messages enable row level security;
create index if not exists messages_inserted_at_topic_index on realtime.messages (inserted_at desc, topic)
  where extension = 'broadcast' and private is true;

grant select, insert, update on realtime.messages to postgres, anon, authenticated, service_role;
grant all on realtime.messages to supabase_realtime_admin;
-- Supabase lets `postgres` create policies on realtime.messages; the stand-in uses membership of the owner.
grant supabase_realtime_admin to postgres;

-- The Realtime server keeps daily partitions from yesterday to three days ahead. The stand-in does the same from
-- the stack's start script and a pg_cron job (inserts fail without a partition, exactly as on the real server).
create or replace function realtime.ensure_partitions(days_ahead integer default 3) returns void
language plpgsql
set search_path = ''
as $$
declare
  d date;
  part text;
begin
  for d in select generate_series(current_date - 1, current_date + days_ahead, interval '1 day')::date loop
    part := 'messages_' || to_char(d, 'YYYY_MM_DD');
    if to_regclass('realtime.' || part) is null then
      execute format(
        'create table realtime.%I partition of realtime.messages for values from (%L) to (%L)',
        part, d::timestamp, (d + 1)::timestamp);
      execute format('alter table realtime.%I owner to supabase_realtime_admin', part);
    end if;
  end loop;
end
$$;
revoke all on function realtime.ensure_partitions(integer) from public;
select realtime.ensure_partitions();
select cron.schedule('realtime-partitions', '7 * * * *', 'select realtime.ensure_partitions()')
where not exists (select 1 from cron.job where jobname = 'realtime-partitions');

create or replace function realtime.topic() returns text
language sql stable
as $$
  select nullif(current_setting('realtime.topic', true), '')::text
$$;

-- Broadcast from the database. Never throws: a failed broadcast becomes a WARNING so the caller's own writes (the
-- source of truth) still commit.
create or replace function realtime.send(payload jsonb, event text, topic text, private boolean default true)
returns void
language plpgsql
as $$
declare
  new_id uuid := gen_random_uuid();
  body jsonb;
begin
  begin
    body := case when payload ? 'id' then payload else jsonb_set(payload, '{id}', to_jsonb(new_id)) end;
    perform set_config('realtime.topic', topic, true);
    insert into realtime.messages (id, payload, event, topic, private, extension)
    values (new_id, body, event, topic, private, 'broadcast');
  exception when others then
    raise warning 'ErrorSendingBroadcastMessage: %', sqlerrm;
  end;
end
$$;

create or replace function realtime.broadcast_changes(
  topic_name text, event_name text, operation text, table_name text, table_schema text,
  new record, old record, level text default 'ROW'
) returns void
language plpgsql
as $$
begin
  if level = 'STATEMENT' then
    raise exception 'function can only be triggered for each row, not for each statement';
  end if;
  if operation not in ('INSERT', 'UPDATE', 'DELETE') then
    raise exception 'Unexpected operation type: %', operation;
  end if;
  perform realtime.send(
    jsonb_build_object('old_record', old, 'record', new, 'operation', operation,
                       'table', table_name, 'schema', table_schema),
    event_name, topic_name);
end
$$;

alter function realtime.topic() owner to supabase_realtime_admin;
alter function realtime.send(jsonb, text, text, boolean) owner to supabase_realtime_admin;
alter function realtime.broadcast_changes(text, text, text, text, text, record, record, text)
  owner to supabase_realtime_admin;
alter function realtime.ensure_partitions(integer) owner to supabase_realtime_admin;
grant execute on function realtime.ensure_partitions(integer) to postgres;

do $$ begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end $$;
alter publication supabase_realtime owner to postgres;
