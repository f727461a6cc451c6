-- The chat list's two passes (private.chat_list_page in the chat_list migration): without unread or search
-- filters the page's chat ids come from indexes alone, then the page's rows are read. The page must be exactly the
-- caller's memberships in activity order (ties by chat id) with every filter and keyset the RPC takes, and the
-- indexes it reads must carry the columns that make the first pass index-only.
begin;
create extension if not exists pgtap with schema extensions;
select plan(14);

-- fixtures ----------------------------------------------------------------------------------------------------------
select tests.create_user(u) from unnest(array['lister', 'pal', 'other', 'stranger']) u;
select tests.create_direct('dm', 'lister', 'pal');
select tests.create_group('g' || g, 'lister', members => array['pal']) from generate_series(1, 5) g;
select tests.create_group('theirs', 'other', members => array['pal']);
select tests.create_channel('news', 'other', members => array['lister']);
select tests.send_message('m_dm', 'pal', 'dm', 'hello');
select tests.send_message('m_g2', 'pal', 'g2', 'in g2');
select tests.send_message('m_news', 'other', 'news', 'news!');
reset role;
-- Activity in a known order (one transaction gives every send the same now()), with a tie between g3 and g4.
update public.chats c set last_activity_at = now() - make_interval(mins => o.n)
  from (values ('dm', 1), ('g2', 2), ('news', 3), ('g3', 4), ('g4', 4), ('g1', 5), ('g5', 6), ('theirs', 0)) o(name, n)
 where c.id = tests.id(o.name);
update public.chat_members set archived_at = now() where chat_id = tests.id('g5') and user_id = tests.id('lister');
update public.chat_members set pinned_at = now(), muted_until = now() + interval '1 hour'
 where chat_id = tests.id('g1') and user_id = tests.id('lister');

-- What a page is, read from the tables: the caller's memberships, newest activity first, then by chat id.
create function pg_temp.expected(who uuid, p_kind public.chat_kind, p_archived boolean, before_at timestamptz,
                                 before_id uuid, page_size integer)
returns table (chat_id uuid, kind public.chat_kind, title text, role public.chat_role, unread_count bigint, muted boolean,
               pinned boolean, archived boolean, other_user_id uuid, last_message_id text)
language sql
as $$
  select c.id, c.kind, c.title, m.role, greatest(c.last_message_seq - greatest(m.last_read_seq, m.history_from_seq), 0),
         coalesce(m.muted_until > now(), false), m.pinned_at is not null, m.archived_at is not null,
         (select o.user_id from public.chat_members o where c.kind = 'direct' and o.chat_id = c.id and o.user_id <> who),
         (select lm.id::text from public.messages lm where lm.chat_id = c.id and lm.seq = c.last_message_seq)
    from public.chat_members m join public.chats c on c.id = m.chat_id
   where m.user_id = who
     and (p_kind is null or c.kind = p_kind)
     and (p_archived is null or (m.archived_at is not null) = p_archived)
     and (before_at is null or (c.last_activity_at, c.id) < (before_at, coalesce(before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)))
   order by c.last_activity_at desc, c.id desc
   limit page_size
$$;
create temp table expected_pages (label text primary key, ids uuid[]);
insert into expected_pages
  select 'default', array(select chat_id from pg_temp.expected(tests.id('lister'), null, false, null, null, 30))
  union all select 'groups', array(select chat_id from pg_temp.expected(tests.id('lister'), 'group', false, null, null, 30))
  union all select 'archived', array(select chat_id from pg_temp.expected(tests.id('lister'), null, true, null, null, 30))
  union all select 'all', array(select chat_id from pg_temp.expected(tests.id('lister'), null, null, null, null, 30));
create temp table expected_rows as select * from pg_temp.expected(tests.id('lister'), null, null, null, null, 30);
grant select on expected_pages, expected_rows to authenticated;

-- pages ---------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('lister');
select is(array(select chat_id from public.list_chats()), (select ids from expected_pages where label = 'default'),
  'the first page: the caller''s chats, newest activity first, archived ones left out');
select is(array(select chat_id from public.list_chats()),
  array[tests.id('dm'), tests.id('g2'), tests.id('news'), greatest(tests.id('g3'), tests.id('g4')),
        least(tests.id('g3'), tests.id('g4')), tests.id('g1')],
  '...in the order of their activity, ties by chat id (newest first)');
select results_eq(
  $$ select chat_id, kind, title, role, unread_count, muted, pinned, archived, other_user_id, last_message ->> 'id'
       from public.list_chats(archived => null) $$,
  $$ select * from expected_rows $$,
  'every column of every row is the chat''s and the caller''s membership''s (unread, mute, pin, archive, the other member, the last message)');
select is(array(select chat_id from public.list_chats(kind => 'group')), (select ids from expected_pages where label = 'groups'),
  'kind => group keeps the groups only');
select is(array(select chat_id from public.list_chats(archived => true)), (select ids from expected_pages where label = 'archived'),
  'archived => true lists only the archived chat');
select is(array(select chat_id from public.list_chats(archived => null)), (select ids from expected_pages where label = 'all'),
  'archived => null lists every chat');

-- keyset paging, through the tie
create function pg_temp.walk(page_size integer) returns uuid[]
language plpgsql
as $$
declare
  ids uuid[] := '{}';
  before_at timestamptz;
  before_id uuid;
  r record;
  n integer;
begin
  loop
    n := 0;
    for r in select * from public.list_chats(before_activity_at => before_at, before_chat_id => before_id, page_size => page_size) loop
      ids := ids || r.chat_id;
      before_at := r.last_activity_at;
      before_id := r.chat_id;
      n := n + 1;
    end loop;
    exit when n < page_size;
  end loop;
  return ids;
end
$$;
select is(pg_temp.walk(2), (select ids from expected_pages where label = 'default'),
  'pages of two, each after the last row of the one before, add up to the first page (across the activity tie)');
select is(pg_temp.walk(1), (select ids from expected_pages where label = 'default'), '...and pages of one');
select is(array(select chat_id from public.list_chats(page_size => 0)), array[tests.id('dm')],
  'page_size is clamped to at least one row');

-- the one-pass query (unread, search) agrees with the two-pass one
select is(array(select chat_id from public.list_chats(unread_only => true)),
  array(select chat_id from public.list_chats() where unread_count > 0),
  'unread_only (the one-pass query) is the first page''s chats with unread messages');

-- only one's own chats ------------------------------------------------------------------------------------------------
select tests.authenticate_as('stranger');
select is_empty($$ select * from public.list_chats(archived => null) $$, 'a user in no chat lists nothing');
select tests.authenticate_as('pal');
select ok(not (tests.id('news') = any (array(select chat_id from public.list_chats(archived => null)))),
  'another user lists their own chats, not the caller''s channel');
select tests.clear_authentication();
select throws_ok($$ select * from public.list_chats() $$, '42501', null, 'anon cannot call list_chats');

-- the indexes of the first pass ----------------------------------------------------------------------------------------
reset role;
select ok(pg_get_indexdef('public.chat_members_user_id_idx'::regclass) ~ '\(user_id, chat_id\) INCLUDE \(archived_at\)',
  'chat_members_user_id_idx carries archived_at: the first pass reads the memberships from the index alone');

select * from finish();
rollback;
