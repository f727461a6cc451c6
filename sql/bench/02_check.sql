-- Consistency check of the chat data: every invariant the RPCs maintain, as a list of (check, violations).
-- Used after bench data generation and by the reliability suites after concurrent and crashing send loads.
-- Each row counts offending rows; a consistent database returns zero everywhere.

create schema if not exists bench;
revoke all on schema bench from public, anon, authenticated, service_role;

create or replace function bench.check_consistency()
returns table (check_name text, violations bigint)
language sql
stable
as $$
  -- Per-chat sequence: unique (constraint) + count = max = last_message_seq means 1..n without gaps.
  select 'messages.seq is gap-free from 1 to chats.last_message_seq', count(*)
    from public.chats c
    left join (select chat_id, count(*) as n, max(seq) as mx, min(seq) as mn from public.messages group by chat_id) m
      on m.chat_id = c.id
   where coalesce(m.n, 0) <> c.last_message_seq or coalesce(m.mx, 0) <> c.last_message_seq or coalesce(m.mn, 1) <> 1
  union all
  select 'chats.last_message_at is the newest message''s time', count(*)
    from public.chats c join public.messages m on m.chat_id = c.id and m.seq = c.last_message_seq
   where c.last_message_at is distinct from m.created_at
  union all
  select 'chats.member_count equals its chat_members rows', count(*)
    from public.chats c
    left join (select chat_id, count(*) as n from public.chat_members group by chat_id) m on m.chat_id = c.id
   where coalesce(m.n, 0) <> c.member_count
  union all
  select 'read cursors lie between 0 and the chat''s newest seq', count(*)
    from public.chat_members m join public.chats c on c.id = m.chat_id
   where m.last_read_seq < 0 or m.last_read_seq > c.last_message_seq or m.history_from_seq > c.last_message_seq
  union all
  select 'a member has read up to their own newest message', count(*)
    from public.chat_members cm
    join (select chat_id, author_id, max(seq) as seq from public.messages where author_id is not null group by 1, 2) o
      on o.chat_id = cm.chat_id and o.author_id = cm.user_id
   where cm.last_read_seq < o.seq
  union all
  select 'messages.reaction_counts equals message_reactions', count(*)
    from public.messages m
    left join (select message_id, jsonb_object_agg(emoji, n) as counts
                 from (select message_id, emoji, count(*) as n from public.message_reactions group by 1, 2) e
                group by message_id) r on r.message_id = m.id
   where m.reaction_counts <> coalesce(r.counts, '{}'::jsonb)
  union all
  select 'reactions are on live messages of the same chat', count(*)
    from public.message_reactions r
    join public.messages m on m.id = r.message_id
   where r.chat_id <> m.chat_id or m.deleted_at is not null
  union all
  select 'deleted messages keep no content', count(*)
    from public.messages m
   where m.deleted_at is not null and (m.body is not null or m.reaction_counts <> '{}'::jsonb or cardinality(m.mentions) > 0)
  union all
  select 'client ids are unique per chat and author', count(*)
    from (select 1 from public.messages where client_id is not null
           group by chat_id, author_id, client_id having count(*) > 1) d
  union all
  select 'direct chats have two members and a matching key', count(*)
    from public.chats c
   where c.kind = 'direct'
     and (c.member_count > 2
          or c.direct_key is distinct from (select least(min(m.user_id::text), max(m.user_id::text)) || ':' ||
                                                   greatest(min(m.user_id::text), max(m.user_id::text))
                                              from public.chat_members m where m.chat_id = c.id having count(*) = 2)
             and c.member_count = 2)
  union all
  select 'every auth user has a profile', count(*)
    from auth.users u left join public.profiles p on p.id = u.id where p.id is null
  union all
  select 'no orphan rows (messages, members, reactions)', (
    (select count(*) from public.messages m where not exists (select 1 from public.chats c where c.id = m.chat_id))
    + (select count(*) from public.messages m where m.author_id is not null
          and not exists (select 1 from public.profiles p where p.id = m.author_id))
    + (select count(*) from public.chat_members m where not exists (select 1 from public.chats c where c.id = m.chat_id))
    + (select count(*) from public.chat_members m where not exists (select 1 from public.profiles p where p.id = m.user_id))
    + (select count(*) from public.message_reactions r where not exists (select 1 from public.messages m where m.id = r.message_id)))
$$;
comment on function bench.check_consistency() is 'Invariants of the chat data as (check, violations); all zero when consistent.';
