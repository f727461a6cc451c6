-- Faster history pages deep in a long chat.
-- get_chat_messages filtered the default branch with `(before_seq is null or m.seq < before_seq)`. PL/pgSQL caches a
-- generic plan after a few calls, and in a generic plan that OR cannot become an index condition: a page one
-- million messages back walked the (chat_id, seq) index from the newest message and filtered a million rows
-- (measured: 148 ms instead of 2 ms for a page 100,000 messages deep). The newest page and a page before a seq are now
-- two statements, each with a plain index range, so the cost of a page no longer depends on its depth.

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs: reading (security invoker: RLS decides what is returned)
-- ---------------------------------------------------------------------------------------------------------------
create or replace function public.get_chat_messages(
  chat_id uuid,
  before_seq bigint default null,
  after_seq bigint default null,
  around_seq bigint default null,
  page_size integer default 50
) returns setof public.messages
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  n integer := least(greatest(coalesce(page_size, 50), 1), 200);
begin
  -- Outsiders get the same answer as for a chat that does not exist.
  perform private.require_member(get_chat_messages.chat_id);
  if (before_seq is not null)::int + (after_seq is not null)::int + (around_seq is not null)::int > 1 then
    raise exception 'give at most one of before_seq, after_seq, around_seq' using errcode = '22023',
      hint = 'before_seq pages back, after_seq pages forward, around_seq centers on a message.';
  end if;
  if around_seq is not null then
    return query
      (select * from public.messages m where m.chat_id = get_chat_messages.chat_id and m.seq <= around_seq
        order by m.seq desc limit n - n / 2)
      union all
      (select * from public.messages m where m.chat_id = get_chat_messages.chat_id and m.seq > around_seq
        order by m.seq asc limit n / 2)
      order by seq desc;
  elsif after_seq is not null then
    return query
      select * from (select * from public.messages m where m.chat_id = get_chat_messages.chat_id and m.seq > after_seq
                      order by m.seq asc limit n) page
       order by page.seq desc;
  elsif before_seq is not null then
    return query
      select * from public.messages m
       where m.chat_id = get_chat_messages.chat_id and m.seq < before_seq
       order by m.seq desc limit n;
  else
    return query
      select * from public.messages m
       where m.chat_id = get_chat_messages.chat_id
       order by m.seq desc limit n;
  end if;
end
$$;
comment on function public.get_chat_messages(uuid, bigint, bigint, bigint, integer) is
  'A page of a chat''s history, newest first: before a seq, after a seq, around a seq, or the newest (default 50, max 200).';
