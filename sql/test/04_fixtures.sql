-- Test databases only: fixture builders and probes shared by the pgTAP files (after 02_helpers and 03_*).
--
-- Builders act through the public RPCs as the named persona, exactly as that person's request would (so triggers,
-- events, counters and rate limits are the real ones), name what they make (tests.id / tests.token), and leave the
-- session's role and claims as they found them: a test says who it is with tests.authenticate_as.
--   select tests.create_group('team', 'alice', members => array['bob', 'carol'], admins => array['carol']);
--   select tests.create_channel('news', 'alice', members => array['mia']);
--   select tests.create_direct('dm', 'alice', 'bob');
--   select tests.create_block('alice', 'mallory');
--   select tests.send_message('m1', 'bob', 'team', 'hello');
--   select tests.new_file('photo');                          -- an attachment id, named, not uploaded yet
--   select tests.attachment_path('team', 'photo', 'photo.png'); -- <chat_id>/<attachment id>/<file name>
--   select tests.upload_file('photo', 'alice', 'team', 'photo.png', 'image/png', 5000);
--   select tests.create_invite_link('link', 'alice', 'team');
-- Probes read the ground truth past RLS and never change anything:
--   tests.role_of(chat, who), tests.member_counts(chat), tests.direct_chat_of(a, b), tests.attachment(file),
--   tests.object_exists(bucket, name), tests.profile(who), tests.error_of(statement)
-- Realtime bookkeeping (on top of 03_realtime.sql):
--   tests.took()                  -- broadcasts since the previous call, as '<kind>:<fixture name> <event>'
--   tests.last_payload(event)     -- the payload of the newest broadcast of an event
--   tests.last_event_fetched(event) -- that event as get_chat_events returns it to the current user (thin broadcasts)
--   tests.chat_events(chat, ...)  -- get_chat_events as jsonb
--   tests.forget_send_rate()      -- a test that writes a lot in one transaction (now() stands still) resets every rate window

-- session ----------------------------------------------------------------------------------------------------------

-- Runs the rest of a builder as `who`, remembering the caller's role and claims for tests.end_as.
create or replace function tests.begin_as(who text)
returns jsonb
language plpgsql
as $$
declare
  saved jsonb := jsonb_build_object('role', current_setting('role'),
                                    'claims', coalesce(current_setting('request.jwt.claims', true), ''));
begin
  perform tests.authenticate_as(who);
  return saved;
end
$$;

create or replace function tests.end_as(saved jsonb)
returns void
language plpgsql
as $$
begin
  perform set_config('role', 'postgres', true);
  perform set_config('request.jwt.claims', saved ->> 'claims', true);
  perform set_config('role', saved ->> 'role', true);
end
$$;

-- chats ------------------------------------------------------------------------------------------------------------

-- A group owned by `owner` with `members` added at creation (in that order); then `admins` (members) are promoted,
-- `banned` (members) banned and `removed` (members) removed by the owner. Its title is `title`, else `name`.
create or replace function tests.create_group(
  name text, owner text, members text[] default '{}', admins text[] default '{}', banned text[] default '{}',
  removed text[] default '{}', title text default null, description text default null, ban_reason text default null)
returns uuid
language plpgsql
as $$
declare
  saved jsonb;
  chat uuid;
  who text;
begin
  if not (admins || banned || removed) <@ members then
    raise exception 'tests.create_group(%): admins, banned and removed must be members', name;
  end if;
  saved := tests.begin_as(owner);
  select c.id into chat from public.create_group_chat(coalesce(title, name),
    array(select tests.get_user_id(m) from unnest(members) with ordinality u(m, i) order by i), description) c;
  foreach who in array admins loop
    perform public.set_member_role(chat, tests.get_user_id(who), 'admin');
  end loop;
  foreach who in array banned loop
    perform public.ban_chat_member(chat, tests.get_user_id(who), ban_reason);
  end loop;
  foreach who in array removed loop
    perform public.remove_chat_member(chat, tests.get_user_id(who));
  end loop;
  perform tests.end_as(saved);
  return tests.remember(name, chat);
end
$$;

-- A channel owned by `owner`; `members` are added after creation, `admins` (members) promoted.
create or replace function tests.create_channel(
  name text, owner text, members text[] default '{}', admins text[] default '{}', title text default null)
returns uuid
language plpgsql
as $$
declare
  saved jsonb;
  chat uuid;
  who text;
begin
  saved := tests.begin_as(owner);
  select c.id into chat from public.create_channel(coalesce(title, name)) c;
  if cardinality(members) > 0 then
    perform public.add_chat_members(chat, array(select tests.get_user_id(m) from unnest(members) with ordinality u(m, i) order by i));
  end if;
  foreach who in array admins loop
    perform public.set_member_role(chat, tests.get_user_id(who), 'admin');
  end loop;
  perform tests.end_as(saved);
  return tests.remember(name, chat);
end
$$;

-- The direct chat `a` opens with `b`.
create or replace function tests.create_direct(name text, a text, b text)
returns uuid
language plpgsql
as $$
declare
  saved jsonb := tests.begin_as(a);
  chat uuid;
begin
  select c.id into chat from public.create_direct_chat(tests.get_user_id(b)) c;
  perform tests.end_as(saved);
  return tests.remember(name, chat);
end
$$;

-- `blocker` blocks `blocked`: the row a client would insert, written past RLS (its triggers fire as usual).
create or replace function tests.create_block(blocker text, blocked text)
returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.user_blocks (blocker_id, blocked_id) values (tests.get_user_id(blocker), tests.get_user_id(blocked))
$$;

-- messages -----------------------------------------------------------------------------------------------------------

-- `author` sends `body` to the chat named `chat`; `files` are fixture names of uploaded attachments.
create or replace function tests.send_message(
  name text, author text, chat text, body text, kind public.message_kind default 'text', files text[] default null)
returns uuid
language plpgsql
as $$
declare
  saved jsonb := tests.begin_as(author);
  message uuid;
begin
  if files is null then
    select m.id into message from public.send_message(tests.id(chat), body, kind) m;
  else
    select m.id into message from public.send_message(tests.id(chat), body, kind,
      attachment_ids => array(select tests.id(f) from unnest(files) with ordinality u(f, i) order by i)) m;
  end if;
  perform tests.end_as(saved);
  return tests.remember(name, message);
end
$$;

-- files ---------------------------------------------------------------------------------------------------------------

-- A fresh attachment id under a name, for a file a test is about to upload (or to try to).
create or replace function tests.new_file(name text)
returns uuid
language sql
as $$ select tests.remember(name, gen_random_uuid()) $$;

-- The object path of a file in a chat, as clients upload it: <chat_id>/<attachment id>/<file name>.
create or replace function tests.attachment_path(chat text, file text, file_name text)
returns text
language sql
stable
as $$ select tests.id(chat) || '/' || tests.id(file) || '/' || file_name $$;

-- `uploader` uploads a file to the chat's folder of the attachments bucket through the Storage API's statements;
-- returns the object path.
create or replace function tests.upload_file(
  name text, uploader text, chat text, file_name text, mime_type text, size bigint, user_metadata jsonb default null)
returns text
language plpgsql
as $$
declare
  saved jsonb;
  object_name text;
begin
  perform tests.new_file(name);
  object_name := tests.attachment_path(chat, name, file_name);
  saved := tests.begin_as(uploader);
  perform tests.storage_upload('attachments', object_name, mime_type, size, user_metadata);
  perform tests.end_as(saved);
  return object_name;
end
$$;

-- invitations ---------------------------------------------------------------------------------------------------------

-- An invite link with the RPC's defaults; returns its token (tests.token(name)).
create or replace function tests.create_invite_link(name text, creator text, chat text)
returns text
language plpgsql
as $$
declare
  saved jsonb := tests.begin_as(creator);
  link record;
begin
  select i.id, i.token into link from public.create_invite_link(tests.id(chat)) i;
  perform tests.end_as(saved);
  perform tests.remember(name, link.id, link.token);
  return link.token;
end
$$;

-- probes --------------------------------------------------------------------------------------------------------------

create or replace function tests.role_of(chat text, who text)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select m.role::text from public.chat_members m where m.chat_id = tests.id(chat) and m.user_id = tests.get_user_id(who)
$$;

-- member_count as stored and as counted; a correct chat has both equal.
create or replace function tests.member_counts(chat uuid)
returns int[]
language sql
stable
security definer
set search_path = ''
as $$
  select array[(select c.member_count from public.chats c where c.id = chat),
               (select count(*)::int from public.chat_members m where m.chat_id = chat)]
$$;

-- The direct chat between two personas, if any.
create or replace function tests.direct_chat_of(a text, b text)
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select c.id from public.chats c
   where c.direct_key = least(tests.get_user_id(a)::text, tests.get_user_id(b)::text) || ':'
                        || greatest(tests.get_user_id(a)::text, tests.get_user_id(b)::text)
$$;

create or replace function tests.attachment(file text)
returns public.attachments
language sql
stable
security definer
set search_path = ''
as $$ select * from public.attachments a where a.id = tests.id(file) $$;

create or replace function tests.object_exists(bucket text, object_name text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$ select exists (select 1 from storage.objects o where o.bucket_id = bucket and o.name = object_name) $$;

create or replace function tests.profile(who text)
returns public.profiles
language sql
stable
security definer
set search_path = ''
as $$ select * from public.profiles p where p.id = tests.get_user_id(who) $$;

-- Runs a statement as the current role and returns its error (code, message, hint, detail), or null if it succeeds.
-- The statement runs in a subtransaction, so a refused call leaves nothing behind, as in a PostgREST request.
create or replace function tests.error_of(statement text)
returns jsonb
language plpgsql
as $$
declare
  h text;
  d text;
begin
  execute statement;
  return null;
exception when others then
  get stacked diagnostics h = pg_exception_hint, d = pg_exception_detail;
  return jsonb_build_object('code', sqlstate, 'message', sqlerrm, 'hint', nullif(h, ''), 'detail', nullif(d, ''));
end
$$;

-- realtime ------------------------------------------------------------------------------------------------------------

create table if not exists tests.took_mark (only_row boolean primary key default true check (only_row), n bigint not null);
insert into tests.took_mark (n) values (0) on conflict do nothing;
revoke all on tests.took_mark from public, anon, authenticated, service_role;

-- Broadcasts since the previous call, as '<topic with fixture names for ids> <event>', in the order they were written.
create or replace function tests.took()
returns text[]
language plpgsql
security definer
set search_path = ''
as $$
declare
  result text[];
  m bigint := (select t.n from tests.took_mark t);
begin
  select coalesce(array_agg(
           (select coalesce(max(split_part(e.topic, ':', 1) || ':' || f.name), e.topic) from tests.fixtures f
             where f.id::text = split_part(e.topic, ':', 2)) || ' ' || e.event order by e.n), '{}')
    into result from tests.events_since(m) e;
  update tests.took_mark set n = tests.broadcast_mark();
  return result;
end
$$;

create or replace function tests.last_payload(event_name text)
returns jsonb
language sql
security definer
set search_path = ''
as $$ select e.payload from tests.events_since(0) e where e.event = event_name order by e.n desc limit 1 $$;

-- What a client does with a thin chat broadcast: fetch the event with get_chat_events after the previous cursor, as
-- the current user. The data of the newest broadcast of an event, as the member reads it now.
create or replace function tests.last_event_fetched(event_name text)
returns jsonb
language sql
as $$
  select public.get_chat_events((p ->> 'chat_id')::uuid, (p ->> 'cursor')::bigint - 1, 1)::jsonb -> 'events' -> 0 -> 'data'
    from tests.last_payload(event_name) p
$$;

-- get_chat_events answers json; assertions compare jsonb.
create or replace function tests.chat_events(chat uuid, after_cursor bigint default 0, page_size integer default 100)
returns jsonb
language sql
as $$ select public.get_chat_events(chat, after_cursor, page_size)::jsonb $$;

create or replace function tests.forget_send_rate()
returns void
language sql
security definer
set search_path = ''
as $$ delete from private.rate_counters $$;

grant execute on all functions in schema tests to anon, authenticated, service_role, postgres;

-- notifications --------------------------------------------------------------------------------------------------------

-- A user's notifications past RLS, newest first, as '<kind> <chat fixture name or ->' (probe).
create or replace function tests.notifications_of(who text)
returns text[]
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(array_agg(n.kind::text || ' ' || coalesce((select max(f.name) from tests.fixtures f where f.id = n.chat_id), '-')
                            order by n.updated_at desc, n.id desc), '{}')
    from public.notifications n where n.recipient_id = tests.get_user_id(who)
$$;

-- The newest notification of a user (probe).
create or replace function tests.last_notification(who text)
returns public.notifications
language sql
stable
security definer
set search_path = ''
as $$
  select * from public.notifications n where n.recipient_id = tests.get_user_id(who)
   order by n.updated_at desc, n.id desc limit 1
$$;

-- Shows a user offline, as the presence sweep would (past the presence-write guard).
create or replace function tests.set_status(who text, status public.user_status)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform set_config('chat.presence_write', 'on', true);
  update public.profiles set status = set_status.status where id = tests.get_user_id(who);
  perform set_config('chat.presence_write', 'off', true);
  if status <> 'offline' then
    insert into private.user_presence (user_id, chosen_status, last_heartbeat_at)
    values (tests.get_user_id(who), status, now())
    on conflict (user_id) do update set chosen_status = excluded.chosen_status;
  end if;
end
$$;

-- moderation ----------------------------------------------------------------------------------------------------------

-- Makes a user an app moderator, as the service role does through Auth's admin API (app_metadata.app_role).
create or replace function tests.make_moderator(who text, moderator boolean default true)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  update auth.users u
     set raw_app_meta_data = case when moderator then coalesce(u.raw_app_meta_data, '{}'::jsonb) || '{"app_role": "moderator"}'
                                  else coalesce(u.raw_app_meta_data, '{}'::jsonb) - 'app_role' end
   where u.id = tests.get_user_id(who);
end
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role, postgres;
