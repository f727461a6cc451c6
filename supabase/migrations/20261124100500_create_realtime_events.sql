-- Realtime: every chat event is broadcast from the database on private channels, logged with a per-chat cursor, and
-- can be fetched again after a gap.
-- * Topics (docs/realtime.md): the server's events go only to topics no client can write: `chat:<chat id>` (members
--   read), `user:<user id>` (that user reads) and `status:<user id>` (people who share a chat with the user read).
--   Clients broadcast typing and track Presence on `chat:<chat id>:typing` (members read and write). The Realtime
--   server checks a private channel with probe rows that carry only topic and extension (never the event name), so
--   the policies decide by topic and extension alone.
-- * Stored broadcasts are thin: Broadcast Replay hands up to 25 stored rows of the last 72 h to anyone who may read
--   the topic without per-row RLS, so no stored row carries message content (body, files, reactions): message and
--   reaction events name the message and the cursor, and clients read the content with get_chat_events under the
--   member's history rules. Edited and deleted content is therefore never in realtime.messages.
-- * Cursor: chats.last_event_seq is bumped under the chat row's lock for every chat event, so a chat's cursors are
--   gap-free and commit in order. private.chat_events keeps them (for event_retention) for get_chat_events.
-- * Events for messages and reactions are built at commit (deferred triggers, in the messages migration), from the
--   rows as they are then: a forward or a send with attachments broadcasts one complete message.sent, and a deleted
--   message drops its reaction events. The catch-up RPCs return the current state of each message, so deleted
--   content never comes back.
-- * A global point for get_updates is a transaction snapshot (pg_current_snapshot): events are returned when their
--   transaction was not visible at the previous point and is visible now, which is exact under concurrency.
-- * Large chats (more than realtime_settings.large_chat_members) get no typing broadcasts and no read receipts.
-- * A send writes a bounded number of chat-event rows in realtime.messages whatever the member count (message.sent,
--   plus chat.activity to the other person of a direct chat); notifications add one notification.created per
--   recipient (the notifications migration).
-- * postgres_changes: only chats and messages are published (INSERT/UPDATE are checked against the subscriber's RLS;
--   a DELETE reaches every subscriber without RLS and carries only the row's id).
-- Retention is a pg_cron job (scheduled jobs migration).

-- ---------------------------------------------------------------------------------------------------------------
-- tables
-- ---------------------------------------------------------------------------------------------------------------
create table private.realtime_settings (
  id boolean primary key default true,
  large_chat_members integer not null default 1000,
  event_retention interval not null default interval '30 days',
  heartbeat_interval interval not null default interval '30 seconds',
  presence_timeout interval not null default interval '2 minutes',
  constraint realtime_settings_single_row check (id),
  constraint realtime_settings_positive check (large_chat_members > 0
    and event_retention > interval '1 hour' and heartbeat_interval > interval '0' and presence_timeout > heartbeat_interval)
);
comment on table private.realtime_settings is
  'One row of realtime tuning: large-chat threshold, event retention, presence timing.';

insert into private.realtime_settings default values;

create table private.chat_events (
  chat_id uuid not null references public.chats (id) on delete cascade,
  seq bigint not null,
  event text not null,
  actor_id uuid,
  message_id uuid,
  message_seq bigint,
  payload jsonb not null default '{}'::jsonb,
  tx xid8 not null default pg_current_xact_id(),
  created_at timestamptz not null default now(),
  primary key (chat_id, seq)
);
comment on table private.chat_events is
  'Log of chat events by cursor. Message events keep only ids: their payload is rebuilt from the current rows.';

create table private.user_events (
  id bigint generated always as identity primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  event text not null,
  payload jsonb not null,
  tx xid8 not null default pg_current_xact_id(),
  created_at timestamptz not null default now()
);
comment on table private.user_events is 'Log of a user''s own events (chat added/removed, unread, preferences) for get_updates.';

create table private.event_retention (
  id boolean primary key default true,
  pruned_max_tx xid8,
  pruned_at timestamptz,
  constraint event_retention_single_row check (id)
);
comment on table private.event_retention is 'Newest transaction whose events were pruned: older sync points must reset.';

insert into private.event_retention default values;

-- ---------------------------------------------------------------------------------------------------------------
-- indexes
-- ---------------------------------------------------------------------------------------------------------------
create index chat_events_chat_tx_idx on private.chat_events (chat_id, tx);
create index chat_events_created_at_idx on private.chat_events (created_at);
create index user_events_user_tx_idx on private.user_events (user_id, tx);
create index user_events_created_at_idx on private.user_events (created_at);

-- ---------------------------------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on private.realtime_settings, private.chat_events, private.user_events, private.event_retention
  from public, anon, authenticated;

grant select, update on private.realtime_settings to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers: emitting events and payloads
-- ---------------------------------------------------------------------------------------------------------------
-- PL/pgSQL so that its plan is kept (baseline): 0.037 ms per call as LANGUAGE sql.
create function private.realtime_setting(name text) returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (select to_jsonb(s) ->> name from private.realtime_settings s where s.id);
end
$$;
comment on function private.realtime_setting(text) is 'One value of private.realtime_settings, as text.';
revoke all on function private.realtime_setting(text) from public, anon, authenticated;

-- Appends an event to a chat's log and broadcasts it on chat:<id>. Returns the cursor, or null when the chat is
-- gone (events of a chat being deleted are dropped; members learn from chat.removed on their own topic).
-- The broadcast of a message or reaction event is thin ({message_id, message_seq}): realtime.messages rows are
-- replayed without RLS to whoever may read the topic, including members whose history starts after the message,
-- and they stay for 72 h whatever happens to the message. The log keeps what get_chat_events needs.
create function private.emit_chat_event(
  chat uuid, event text, data jsonb, message uuid default null, message_seq bigint default null
) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  cursor_value bigint;
begin
  update public.chats c set last_event_seq = c.last_event_seq + 1 where c.id = chat returning c.last_event_seq into cursor_value;
  if cursor_value is null then
    return null;
  end if;
  perform private.log_chat_event(chat, cursor_value, event, data, message, message_seq);
  return cursor_value;
end
$$;
comment on function private.emit_chat_event(uuid, text, jsonb, uuid, bigint) is
  'Logs a chat event under the next cursor and broadcasts it to chat:<id> (private).';
revoke all on function private.emit_chat_event(uuid, text, jsonb, uuid, bigint) from public, anon, authenticated;

-- The log entry and the broadcast of an event whose cursor the caller took under the chat row's lock: emit_chat_event,
-- and send_message, which takes the message's seq and its message.sent cursor in one update of the chat row.
create function private.log_chat_event(
  chat uuid, cursor_value bigint, event text, data jsonb, message uuid default null, message_seq bigint default null
) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into private.chat_events (chat_id, seq, event, actor_id, message_id, message_seq, payload)
  values (chat, cursor_value, event, auth.uid(), message, message_seq,
          case when message is null or event like 'reaction.%' then data else '{}'::jsonb end);
  perform realtime.send(
    jsonb_build_object('chat_id', chat, 'cursor', cursor_value, 'actor_id', auth.uid(), 'at', now(),
      'data', case when message is null then data
                   else jsonb_build_object('message_id', message, 'message_seq', message_seq) end),
    event, 'chat:' || chat::text, true);
end
$$;
comment on function private.log_chat_event(uuid, bigint, text, jsonb, uuid, bigint) is
  'Logs a chat event under a cursor the caller allocated (holding the chat row) and broadcasts it to chat:<id>.';
revoke all on function private.log_chat_event(uuid, bigint, text, jsonb, uuid, bigint) from public, anon, authenticated;

-- Broadcasts an event on user:<id>; stored ones are returned again by get_updates.
create function private.emit_user_event(target uuid, event text, data jsonb, store boolean default true) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  event_id bigint;
begin
  -- A user being deleted gets nothing.
  if not exists (select 1 from auth.users u where u.id = target) then
    return;
  end if;
  if store then
    insert into private.user_events (user_id, event, payload) values (target, event, data) returning id into event_id;
  end if;
  perform realtime.send(
    jsonb_build_object('user_id', target, 'event_id', event_id, 'actor_id', auth.uid(), 'at', now(), 'data', data),
    event, 'user:' || target::text, true);
end
$$;
comment on function private.emit_user_event(uuid, text, jsonb, boolean) is 'Broadcasts an event to user:<id> (private).';
revoke all on function private.emit_user_event(uuid, text, jsonb, boolean) from public, anon, authenticated;

-- PL/pgSQL so that its plan is kept (baseline): 0.042 ms per call as LANGUAGE sql.
create function private.profile_json(profile uuid) returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (select jsonb_build_object('id', p.id, 'username', p.username, 'display_name', p.display_name,
                                    'avatar_path', p.avatar_path)
            from public.profiles p where p.id = profile);
end
$$;
revoke all on function private.profile_json(uuid) from public, anon, authenticated;

create function private.message_json(m public.messages) returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if m.id is null then
    return null;
  end if;
  return to_jsonb(m) || jsonb_build_object(
    'author', private.profile_json(m.author_id),
    'attachments', case when m.deleted_at is not null then '[]'::jsonb else coalesce(
      (select jsonb_agg(private.attachment_json(a) order by a.created_at, a.id)
         from public.attachments a where a.message_id = m.id), '[]'::jsonb) end);
end
$$;
comment on function private.message_json(public.messages) is
  'A message as events carry it: the row, its author''s profile card and its files (none for a deleted message).';
revoke all on function private.message_json(public.messages) from public, anon, authenticated;

create function private.chat_json(c public.chats) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return jsonb_build_object('id', c.id, 'kind', c.kind, 'title', c.title, 'description', c.description,
    'avatar_path', c.avatar_path, 'who_can_post', c.who_can_post, 'slow_mode_seconds', c.slow_mode_seconds,
    'history_visible_to_new_members', c.history_visible_to_new_members, 'discoverable', c.discoverable,
    'member_count', c.member_count, 'last_message_seq', c.last_message_seq, 'last_event_seq', c.last_event_seq,
    'last_activity_at', c.last_activity_at, 'updated_at', c.updated_at);
end
$$;
revoke all on function private.chat_json(public.chats) from public, anon, authenticated;

create function private.is_large_chat(member_count integer) returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  return member_count > private.realtime_setting('large_chat_members')::integer;
end
$$;
revoke all on function private.is_large_chat(integer) from public, anon, authenticated;

-- Marks an id as handled in this transaction (so one commit broadcasts one event per message). The ids of a kind are
-- a list in the setting chat_events.<kind>; the WHEN clause of messages_emit_sent (messages migration) reads
-- chat_events.sent the same way, so the two change together.
create function private.mark_handled(kind text, id uuid) returns boolean
language plpgsql
set search_path = ''
as $$
declare
  key text := 'chat_events.' || kind;
  seen text := coalesce(current_setting(key, true), '');
begin
  if position(id::text in seen) > 0 then
    return false;
  end if;
  perform set_config(key, seen || id::text || ',', true);
  return true;
end
$$;
revoke all on function private.mark_handled(text, uuid) from public, anon, authenticated;

create function private.was_handled(kind text, id uuid) returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  return position(id::text in coalesce(current_setting('chat_events.' || kind, true), '')) > 0;
end
$$;
revoke all on function private.was_handled(text, uuid) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers: topic authorization (the realtime.messages policies call them)
-- ---------------------------------------------------------------------------------------------------------------
-- The Realtime server authorizes a private channel with probe rows in realtime.messages that carry the topic and the
-- extension only (lib/realtime/tenants/authorization.ex; lib/realtime/api/message.ex): a read probe per extension
-- at join and after each token change (select under RLS), a write probe on the first broadcast or presence track
-- (insert in a savepoint), both cached per channel. The event name and the payload are never seen, so what a
-- member may send is decided by topic and extension alone, and server events live on topics nobody may write.

-- `chat:<id>`, `chat:<id>:typing`, `user:<id>`, `status:<id>` (lowercase ids, as the API returns them); anything
-- else has no kind.
create function private.parse_topic(topic text, out kind text, out id uuid)
language plpgsql
immutable
set search_path = ''
as $$
begin
  if topic ~ '^(chat|user|status):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    kind := split_part(topic, ':', 1);
    id := split_part(topic, ':', 2)::uuid;
  elsif topic ~ '^chat:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:typing$' then
    kind := 'typing';
    id := split_part(topic, ':', 2)::uuid;
  end if;
end
$$;
comment on function private.parse_topic(text) is 'The kind (chat, typing, user, status) and id of a Realtime topic of ours.';
revoke all on function private.parse_topic(text) from public, anon, authenticated;

-- Read (broadcast and presence are probed separately):
-- * chat:<id>         members: broadcast (server events; nobody tracks presence there)
-- * chat:<id>:typing  members: broadcast (typing) and presence
-- * user:<id>         that user: broadcast
-- * status:<id>       that user, and users who share a chat with them, are not blocked by them and whom their
--                     who_can_see_presence lets in (limits and privacy migration)
create function private.topic_read_extensions(topic text) returns text[]
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := auth.uid();
  t record;
begin
  select p.kind, p.id into t from private.parse_topic(topic) p;
  if me is null or t.kind is null then
    return '{}'::text[];
  end if;
  if t.kind in ('chat', 'typing') then
    if not exists (select 1 from public.chat_members m where m.chat_id = t.id and m.user_id = me) then
      return '{}'::text[];
    end if;
    return case when t.kind = 'chat' then array['broadcast'] else array['broadcast', 'presence'] end;
  end if;
  if t.id = me then
    return array['broadcast'];
  end if;
  if t.kind = 'status'
     and exists (select 1 from public.chat_members mine join public.chat_members theirs on theirs.chat_id = mine.chat_id
                  where mine.user_id = me and theirs.user_id = t.id)
     and not exists (select 1 from public.user_blocks b where b.blocker_id = t.id and b.blocked_id = me)
     and private.presence_visible(t.id, me) then
    return array['broadcast'];
  end if;
  return '{}'::text[];
end
$$;
comment on function private.topic_read_extensions(text) is
  'Realtime read: the extensions (broadcast, presence) the caller may receive on a topic.';
revoke all on function private.topic_read_extensions(text) from public, anon, authenticated;
grant execute on function private.topic_read_extensions(text) to authenticated;

-- Write: only on chat:<id>:typing, only members, not in a direct chat with a block between the two; broadcast
-- (typing) not in large chats; presence not while the member chose to be invisible (checked when the channel first
-- tracks and again after a token change: Realtime caches the answer per channel, so a client that turns invisible
-- untracks itself; see docs/realtime.md).
create function private.topic_write_extensions(topic text) returns text[]
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := auth.uid();
  t record;
  members integer;
  kind public.chat_kind;
begin
  select p.kind, p.id into t from private.parse_topic(topic) p;
  -- Guests only read: no typing and no Presence from them; suspended users neither (moderation migration).
  if me is null or t.kind is distinct from 'typing' or private.is_guest() or private.is_suspended() then
    return '{}'::text[];
  end if;
  select c.member_count, c.kind into members, kind
    from public.chat_members m join public.chats c on c.id = m.chat_id
   where m.chat_id = t.id and m.user_id = me;
  if members is null then
    return '{}'::text[];
  end if;
  -- A block between the two people of a direct chat stops typing there.
  if kind = 'direct' and exists (select 1 from public.chat_members o where o.chat_id = t.id and o.user_id <> me
                                   and private.is_blocked_between(me, o.user_id)) then
    return '{}'::text[];
  end if;
  -- No typing from a muted member or in a frozen chat (moderation migration); presence stays.
  return case when private.is_large_chat(members) or not private.may_post(t.id) then '{}'::text[] else array['broadcast'] end
      || case when exists (select 1 from private.user_presence p where p.user_id = me and p.chosen_status = 'invisible')
              then '{}'::text[] else array['presence'] end;
end
$$;
comment on function private.topic_write_extensions(text) is
  'Realtime write: the extensions (broadcast, presence) the caller may send on a topic (typing topics only).';
revoke all on function private.topic_write_extensions(text) from public, anon, authenticated;
grant execute on function private.topic_write_extensions(text) to authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers: retention
-- ---------------------------------------------------------------------------------------------------------------
create function private.prune_events() returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  keep interval := private.realtime_setting('event_retention')::interval;
  newest_chat xid8;
  newest_user xid8;
begin
  with gone as (delete from private.chat_events e where e.created_at < now() - keep returning e.tx)
  select max(tx) into newest_chat from gone;
  with gone as (delete from private.user_events e where e.created_at < now() - keep returning e.tx)
  select max(tx) into newest_user from gone;
  if coalesce(newest_chat, newest_user) is not null then
    update private.event_retention r
       set pruned_max_tx = greatest(r.pruned_max_tx, newest_chat, newest_user), pruned_at = now()
     where r.id;
  end if;
end
$$;
comment on function private.prune_events() is 'Drops events older than realtime_settings.event_retention (daily cron job).';
revoke all on function private.prune_events() from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- row level security
-- ---------------------------------------------------------------------------------------------------------------
alter table private.realtime_settings enable row level security;
alter table private.chat_events enable row level security;
alter table private.user_events enable row level security;
alter table private.event_retention enable row level security;

-- ---------------------------------------------------------------------------------------------------------------
-- policies: realtime.messages (how the Realtime server authorizes private channels)
-- ---------------------------------------------------------------------------------------------------------------
create policy "members and users may read their realtime topics"
  on realtime.messages for select to authenticated
  using (topic = (select realtime.topic())
         and extension = any ((select private.topic_read_extensions(realtime.topic()))::text[]));

create policy "members may broadcast and track on their typing topics"
  on realtime.messages for insert to authenticated
  with check (topic = (select realtime.topic())
              and extension = any ((select private.topic_write_extensions(realtime.topic()))::text[]));

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs: catch-up
-- ---------------------------------------------------------------------------------------------------------------
-- One logged event as clients get it. Message and reaction events carry the message's current state (a tombstone
-- when deleted, null when gone); events of messages hidden from the member are left out by the callers.
create function private.event_json(e private.chat_events) returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  m public.messages;
  data jsonb := e.payload;
begin
  if e.message_id is not null then
    select * into m from public.messages where id = e.message_id;
    if e.event like 'reaction.%' then
      data := e.payload || jsonb_build_object('reaction_counts', coalesce(m.reaction_counts, '{}'::jsonb));
    else
      data := jsonb_build_object('message_id', e.message_id, 'message_seq', e.message_seq, 'message', private.message_json(m));
    end if;
  end if;
  return jsonb_build_object('cursor', e.seq, 'event', e.event, 'chat_id', e.chat_id, 'actor_id', e.actor_id,
                            'at', e.created_at, 'data', data);
end
$$;
revoke all on function private.event_json(private.chat_events) from public, anon, authenticated;

-- The catch-up page is one query: the events joined to their messages and authors, the payload built inline.
-- * Rendering each event through private.event_json (a PL/pgSQL call per event that looked its message up again and
--   called message_json and profile_json) was the cost of a page.
-- * The answer is built as json text instead of jsonb: it is sent to the client as text either way, and building
--   jsonb only to print it again cost more than half of a page (500 message events: 19 ms as jsonb, 8 ms as json).
-- * A message event is one to_json of nested rows (event, data, message, author card) instead of json_build_object
--   calls whose text is copied into each other, and jsonb payloads (reactions, member events) are embedded as they
--   are instead of being cast to json (which parses them again). The events are joined to their messages and
--   authors by primary key, one index probe each, whatever the statistics say: a version that read the page's
--   messages, authors and files once each through CTEs was 18 % faster on fresh statistics, but with chat_events
--   estimated at one row (stale statistics) its plan scanned the page once per message: 4 s for a page.
-- The content is the same as event_json's (keys in column order rather than sorted);
-- supabase/tests/database/51-attachment-events.test.sql and 99-catch-up-page.test.sql compare the two. Bench preset
-- quick, catch-up of 1,000 events in pages of 500: 75 ms -> 26.5 ms p95 (json), and see docs/performance.md.
create function public.get_chat_events(chat_id uuid, after_cursor bigint default 0, page_size integer default 100)
returns json
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_signed_in();  -- guests read the channels they joined
  member public.chat_members;
  latest bigint;
  start bigint;
  n integer := least(greatest(coalesce(page_size, 100), 1), 500);
  page json;
  last_cursor bigint;
begin
  if after_cursor is null or after_cursor < 0 then
    raise exception 'after_cursor must be a cursor you received (0 or more)' using errcode = '22023',
      hint = 'Pass 0 to start, or the cursor of the last event you applied.';
  end if;
  select * into member from public.chat_members m where m.chat_id = get_chat_events.chat_id and m.user_id = me;
  if member.user_id is null then
    raise exception 'chat not found' using errcode = 'PT404', hint = 'The chat does not exist or you are not a member of it.';
  end if;
  select c.last_event_seq into latest from public.chats c where c.id = get_chat_events.chat_id;
  start := greatest(after_cursor, member.joined_event_seq);
  -- A cursor from the future (another database, a restore) or older than the retained log cannot be continued.
  if after_cursor > latest
     or (start < latest and not exists (select 1 from private.chat_events e
                                         where e.chat_id = get_chat_events.chat_id and e.seq = start + 1)) then
    return json_build_object('chat_id', get_chat_events.chat_id, 'events', '[]'::json, 'next_cursor', latest,
                              'latest_cursor', latest, 'has_more', false, 'reset_required', true);
  end if;

  -- The payloads of private.event_json and private.message_json, built in one pass as json text.
  select coalesce(json_agg(
           case
             when e.message_id is null then
               json_build_object('cursor', e.seq, 'event', e.event, 'chat_id', e.chat_id, 'actor_id', e.actor_id,
                                 'at', e.created_at, 'data', e.payload)
             when e.event like 'reaction.%' then
               json_build_object('cursor', e.seq, 'event', e.event, 'chat_id', e.chat_id, 'actor_id', e.actor_id,
                                 'at', e.created_at,
                                 'data', e.payload || jsonb_build_object('reaction_counts', coalesce(m.reaction_counts, '{}'::jsonb)))
             else
               (select to_json(ev) from (
                  select e.seq as cursor, e.event, e.chat_id, e.actor_id, e.created_at as at,
                         (select d from (
                            select e.message_id, e.message_seq,
                                   (select msg from (
                                      select m.*,
                                             (select au from (select p.id, p.username, p.display_name, p.avatar_path) au
                                               where p.id is not null) as author,
                                             case when m.deleted_at is not null then '[]'::json else coalesce(
                                               (select json_agg(private.attachment_json(a) order by a.created_at, a.id)
                                                  from public.attachments a where a.message_id = m.id), '[]'::json) end as attachments
                                       where m.id is not null) msg) as message) d) as data) ev)
           end
           order by e.seq)
           filter (where e.message_seq is null or e.message_seq > member.history_from_seq), '[]'::json),
         max(e.seq)
    into page, last_cursor
    from (select * from private.chat_events ce
           where ce.chat_id = get_chat_events.chat_id and ce.seq > start
           order by ce.seq limit n) e
    left join public.messages m on m.id = e.message_id
    left join public.profiles p on p.id = m.author_id;

  return json_build_object('chat_id', get_chat_events.chat_id, 'events', page,
                            'next_cursor', coalesce(last_cursor, start), 'latest_cursor', latest,
                            'has_more', coalesce(last_cursor, start) < latest, 'reset_required', false);
end
$$;
comment on function public.get_chat_events(uuid, bigint, integer) is
  'Everything that happened in a chat after a cursor, oldest first (at most 500 per page). reset_required: the '
  'cursor is older than the retained log (or unknown); reload the chat and continue from latest_cursor.';
revoke all on function public.get_chat_events(uuid, bigint, integer) from public, anon, authenticated;
grant execute on function public.get_chat_events(uuid, bigint, integer) to authenticated, service_role;

-- A sync cursor is `<since>` (a point: a pg_snapshot in text form) or, while paging, `<since>|<upto>|u|<user event id>`
-- (own events after that id) or `<since>|<upto>|c|<chat id>|<cursor>` (chat events after that chat and cursor).
create function private.parse_sync_cursor(token text, out since pg_snapshot, out upto pg_snapshot,
  out phase text, out after_user_event bigint, out after_chat uuid, out after_seq bigint)
language plpgsql
stable
set search_path = ''
as $$
declare
  parts text[] := string_to_array(token, '|');
  now_snapshot pg_snapshot := pg_current_snapshot();
begin
  begin
    if char_length(token) > 100000 then
      raise exception using errcode = '22P02';
    end if;
    since := parts[1]::pg_snapshot;
    if cardinality(parts) > 1 then
      upto := parts[2]::pg_snapshot;
      phase := parts[3];
      if phase = 'u' and cardinality(parts) = 4 then
        after_user_event := parts[4]::bigint;
      elsif phase = 'c' and cardinality(parts) = 5 then
        after_chat := parts[4]::uuid;
        after_seq := parts[5]::bigint;
      else
        raise exception using errcode = '22P02';
      end if;
    end if;
  exception when others then
    raise exception 'invalid sync cursor' using errcode = '22023',
      hint = 'Pass the cursor string returned by get_updates, unchanged, or null to start.';
  end;
  upto := coalesce(upto, now_snapshot);
  if pg_snapshot_xmax(upto) > pg_snapshot_xmax(now_snapshot) or pg_snapshot_xmax(since) > pg_snapshot_xmax(upto)
     or pg_snapshot_xmin(since) > pg_snapshot_xmin(upto) then
    raise exception 'invalid sync cursor' using errcode = '22023',
      hint = 'The cursor is not from this database. Reload and start again with null.';
  end if;
end
$$;
revoke all on function private.parse_sync_cursor(text) from public, anon, authenticated;

create function public.get_updates(since text default null, page_size integer default 500) returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_signed_in();  -- guests read the channels they joined
  n integer := least(greatest(coalesce(page_size, 500), 1), 1000);
  from_snapshot pg_snapshot;
  to_snapshot pg_snapshot;
  phase text;
  after_user_event bigint;
  after_chat uuid;
  after_seq bigint;
  low xid8;
  pruned xid8;
  user_page jsonb := '[]'::jsonb;
  chat_page jsonb := '[]'::jsonb;
  taken integer := 0;
  last_user_event bigint;
  last_chat uuid;
  last_seq bigint;
begin
  if since is null then
    return jsonb_build_object('cursor', pg_current_snapshot()::text, 'user_events', '[]'::jsonb, 'events', '[]'::jsonb,
                              'has_more', false, 'reset_required', false);
  end if;
  select c.since, c.upto, c.phase, c.after_user_event, c.after_chat, c.after_seq
    into from_snapshot, to_snapshot, phase, after_user_event, after_chat, after_seq
    from private.parse_sync_cursor(since) c;
  low := pg_snapshot_xmin(from_snapshot);
  select r.pruned_max_tx into pruned from private.event_retention r where r.id;
  if pruned is not null and pruned >= low then
    return jsonb_build_object('cursor', pg_current_snapshot()::text, 'user_events', '[]'::jsonb, 'events', '[]'::jsonb,
                              'has_more', false, 'reset_required', true);
  end if;

  -- Phase 1: the user's own events (chats added and removed, read state, preferences).
  if phase is null or phase = 'u' then
    select coalesce(jsonb_agg(jsonb_build_object('event_id', u.id, 'event', u.event, 'at', u.created_at, 'data', u.payload)
                              order by u.id), '[]'::jsonb),
           max(u.id), count(*)
      into user_page, last_user_event, taken
      from (select ue.id, ue.event, ue.created_at, ue.payload from private.user_events ue
             where ue.user_id = me and ue.tx >= low
               and not pg_visible_in_snapshot(ue.tx, from_snapshot) and pg_visible_in_snapshot(ue.tx, to_snapshot)
               and (after_user_event is null or ue.id > after_user_event)
             order by ue.id limit n) u;
    if taken >= n then
      return jsonb_build_object('cursor', concat_ws('|', from_snapshot::text, to_snapshot::text, 'u', last_user_event),
                                'user_events', user_page, 'events', '[]'::jsonb, 'has_more', true, 'reset_required', false);
    end if;
  end if;

  -- Phase 2: events of the chats the user is in now, from their join on, by chat and cursor.
  select coalesce(jsonb_agg(private.event_json(t.ev) order by (t.ev).chat_id, (t.ev).seq), '[]'::jsonb),
         count(*)
    into chat_page, taken
    from (select e.ev
            from public.chat_members m
            cross join lateral (
              select ce as ev from private.chat_events ce
               where ce.chat_id = m.chat_id and ce.seq > m.joined_event_seq and ce.tx >= low
                 and not pg_visible_in_snapshot(ce.tx, from_snapshot) and pg_visible_in_snapshot(ce.tx, to_snapshot)
                 and (ce.message_seq is null or ce.message_seq > m.history_from_seq)
                 and (after_chat is null or (ce.chat_id, ce.seq) > (after_chat, after_seq))
            ) e
           where m.user_id = me
             and (after_chat is null or m.chat_id >= after_chat)
           order by (e.ev).chat_id, (e.ev).seq
           limit n - jsonb_array_length(user_page)) t;
  if jsonb_array_length(user_page) + taken >= n then
    select (x ->> 'chat_id')::uuid, (x ->> 'cursor')::bigint into last_chat, last_seq
      from jsonb_array_elements(chat_page) with ordinality as a (x, i) order by a.i desc limit 1;
    return jsonb_build_object('cursor', concat_ws('|', from_snapshot::text, to_snapshot::text, 'c', last_chat, last_seq),
                              'user_events', user_page, 'events', chat_page, 'has_more', true, 'reset_required', false);
  end if;
  return jsonb_build_object('cursor', to_snapshot::text, 'user_events', user_page, 'events', chat_page,
                            'has_more', false, 'reset_required', false);
end
$$;
comment on function public.get_updates(text, integer) is
  'Everything since a sync point across all of the caller''s chats: their own events, then chat events by chat and '
  'cursor. Start with null; keep calling with the returned cursor while has_more; store the last cursor.';
revoke all on function public.get_updates(text, integer) from public, anon, authenticated;
grant execute on function public.get_updates(text, integer) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- realtime publication
-- ---------------------------------------------------------------------------------------------------------------
-- Only tables whose changes are safe for postgres_changes on the real server: INSERT and UPDATE are checked against
-- each subscriber's RLS, but a DELETE goes to every subscriber whose filter matches, without RLS, with the old row
-- cut to its primary key. chats and messages have a random id as their key and default replica identity (a filter
-- on another column cannot match a DELETE), so a DELETE tells a subscriber only that some id is gone.
-- chat_members and message_reactions are not published: their keys are user ids (who left, who reacted).
alter publication supabase_realtime add table public.chats, public.messages;
