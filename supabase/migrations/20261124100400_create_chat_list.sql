-- The chat list: the caller's chats, newest activity first, with unread counts and a last-message preview.

-- ---------------------------------------------------------------------------------------------------------------
-- helpers
-- ---------------------------------------------------------------------------------------------------------------
-- The query of list_chats, in PL/pgSQL.
-- * As a LANGUAGE sql function that cannot be inlined (security definer), list_chats was planned on every call:
--   1.06 ms of planning next to 2.46 ms of execution for a user in 1,000 chats (bench preset large). In PL/pgSQL the
--   plan is kept for the session (PostgREST's connections are long-lived): 2.80 ms -> 2.41 ms per call. list_chats
--   keeps its signature and calls it (PL/pgSQL cannot take list_chats' own signature: some parameters share their
--   names with output columns).
-- * The other member of a direct chat is looked up in the select list, after the sort and limit, and the search
--   looks it up itself; joining every membership of the caller to it before sorting cost 3.0 ms instead of 2.2 ms a
--   page for a user in 1,000 chats (bench preset quick, one client).
-- * Two passes when the page is not filtered by unread state or a search (opening the app, scrolling the list): the
--   first picks the page's chat ids from the caller's memberships (chat_members_user_id_idx includes archived_at:
--   an index-only scan once autovacuum has set the visibility map) and their chats' activity (the chat rows by
--   primary key: no index covers last_activity_at, so that a send's update of the chat row stays HOT, chats
--   migration), and sorts only (activity, id) pairs; the second reads the page's 30 rows and renders them. For the hub user of bench preset quick (1,000
--   chats): 4,235 -> about 1,800 buffers, 2.0 -> 1.1 ms (min of 90 calls, psql; docs/performance.md). The unread and search filters need the rows, so they keep the
--   one-pass query. The user id is a parameter (not an initplan of auth.uid()), so the planner sees who asks, as
--   it does for the bench's bare twin of this query (bench/run.ts), which is this text.
create function private.chat_list_page(
  p_kind public.chat_kind,
  p_archived boolean,
  p_unread_only boolean,
  p_search text,
  p_before_activity_at timestamptz,
  p_before_chat_id uuid,
  p_page_size integer
) returns table (
  chat_id uuid,
  kind public.chat_kind,
  title text,
  avatar_path text,
  role public.chat_role,
  member_count integer,
  last_activity_at timestamptz,
  last_message_seq bigint,
  last_read_seq bigint,
  unread_count bigint,
  muted boolean,
  pinned boolean,
  archived boolean,
  other_user_id uuid,
  last_message jsonb
)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
declare
  me uuid := auth.uid();
  n integer := least(greatest(coalesce(p_page_size, 30), 1), 100);
begin
  if not coalesce(p_unread_only, false) and nullif(btrim(p_search), '') is null then
    return query
      select c.id, c.kind, c.title, c.avatar_path, m.role, c.member_count, c.last_activity_at, c.last_message_seq,
             m.last_read_seq, greatest(c.last_message_seq - greatest(m.last_read_seq, m.history_from_seq), 0),
             coalesce(m.muted_until > now(), false), m.pinned_at is not null, m.archived_at is not null,
             (select om.user_id from public.chat_members om
               where c.kind = 'direct' and om.chat_id = c.id and om.user_id <> m.user_id limit 1),
             (select jsonb_build_object('id', lm.id, 'seq', lm.seq, 'author_id', lm.author_id, 'kind', lm.kind,
                                        'body', left(lm.body, 200), 'created_at', lm.created_at,
                                        'deleted', lm.deleted_at is not null)
                from public.messages lm
               where lm.chat_id = c.id and lm.seq = c.last_message_seq and lm.seq > m.history_from_seq)
        from (select pm.chat_id, pc.last_activity_at
                from public.chat_members pm
                join public.chats pc on pc.id = pm.chat_id
               where pm.user_id = me
                 and (p_kind is null or pc.kind = p_kind)
                 and (p_archived is null or (pm.archived_at is not null) = p_archived)
                 and (p_before_activity_at is null
                      or (pc.last_activity_at, pc.id) < (p_before_activity_at, coalesce(p_before_chat_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)))
               order by pc.last_activity_at desc, pc.id desc
               limit n) t
        join public.chat_members m on m.chat_id = t.chat_id and m.user_id = me
        join public.chats c on c.id = t.chat_id
       order by t.last_activity_at desc, t.chat_id desc;
    return;
  end if;
  return query
    select c.id, c.kind, c.title, c.avatar_path, m.role, c.member_count, c.last_activity_at, c.last_message_seq,
           m.last_read_seq, greatest(c.last_message_seq - greatest(m.last_read_seq, m.history_from_seq), 0),
           coalesce(m.muted_until > now(), false), m.pinned_at is not null, m.archived_at is not null,
           (select om.user_id from public.chat_members om
             where c.kind = 'direct' and om.chat_id = c.id and om.user_id <> m.user_id limit 1),
           (select jsonb_build_object('id', lm.id, 'seq', lm.seq, 'author_id', lm.author_id, 'kind', lm.kind,
                                      'body', left(lm.body, 200), 'created_at', lm.created_at,
                                      'deleted', lm.deleted_at is not null)
              from public.messages lm
             where lm.chat_id = c.id and lm.seq = c.last_message_seq and lm.seq > m.history_from_seq)
      from public.chat_members m
      join public.chats c on c.id = m.chat_id
     where m.user_id = me
       and (p_kind is null or c.kind = p_kind)
       and (p_archived is null or (m.archived_at is not null) = p_archived)
       and (not coalesce(p_unread_only, false) or c.last_message_seq > greatest(m.last_read_seq, m.history_from_seq))
       and (nullif(btrim(p_search), '') is null or c.title ilike private.like_pattern(p_search)
            or (c.kind = 'direct' and exists (
                  select 1 from public.chat_members om join public.profiles p on p.id = om.user_id
                   where om.chat_id = c.id and om.user_id <> m.user_id
                     and not private.is_blocked_between(p.id, m.user_id)
                     and (p.username ilike private.like_pattern(p_search) or p.display_name ilike private.like_pattern(p_search)))))
       and (p_before_activity_at is null
            or (c.last_activity_at, c.id) < (p_before_activity_at, coalesce(p_before_chat_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)))
     order by c.last_activity_at desc, c.id desc
     limit n;
end
$$;
comment on function private.chat_list_page(public.chat_kind, boolean, boolean, text, timestamptz, uuid, integer) is
  'The query of public.list_chats, in PL/pgSQL so that its plan is kept.';
revoke all on function private.chat_list_page(public.chat_kind, boolean, boolean, text, timestamptz, uuid, integer) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs
-- ---------------------------------------------------------------------------------------------------------------
create function public.list_chats(
  kind public.chat_kind default null,
  archived boolean default false,
  unread_only boolean default false,
  search text default null,
  before_activity_at timestamptz default null,
  before_chat_id uuid default null,
  page_size integer default 30
) returns table (
  chat_id uuid,
  kind public.chat_kind,
  title text,
  avatar_path text,
  role public.chat_role,
  member_count integer,
  last_activity_at timestamptz,
  last_message_seq bigint,
  last_read_seq bigint,
  unread_count bigint,
  muted boolean,
  pinned boolean,
  archived boolean,
  other_user_id uuid,
  last_message jsonb
)
language sql
stable
security definer
set search_path = ''
as $$
  select * from private.chat_list_page(list_chats.kind, list_chats.archived, list_chats.unread_only, list_chats.search,
                                       list_chats.before_activity_at, list_chats.before_chat_id, list_chats.page_size)
$$;
comment on function public.list_chats(public.chat_kind, boolean, boolean, text, timestamptz, uuid, integer) is
  'The caller''s chats (their own membership rows only), newest activity first, with unread count and last-message preview. Keyset: pass the last '
  'row''s last_activity_at and chat_id as before_activity_at and before_chat_id.';
revoke all on function public.list_chats(public.chat_kind, boolean, boolean, text, timestamptz, uuid, integer) from public, anon, authenticated;
grant execute on function public.list_chats(public.chat_kind, boolean, boolean, text, timestamptz, uuid, integer) to authenticated, service_role;
