-- Search and discovery: full-text message search, ranked people and chat search, as-you-type suggestions and each
-- user's recent queries.
-- * Messages are searched through private.message_search: one row per searchable message with its stored document
--   (tsvector) and a GIN index over (chat_id, document). A send does not build the document: it queues the message
--   in private.search_pending (one narrow row, trigger messages_queue_search), and private.index_pending_messages
--   (pg_cron job search-index, every minute) moves queued messages into message_search in batches. A queued message
--   is searchable at once: search reads the caller's queued messages too and builds their documents on the fly. An
--   edit re-indexes in its own transaction, and a delete (tombstone, or the row itself) leaves the index in the same
--   transaction (trigger messages_update_search, and the foreign key's cascade). Kinds are listed positively
--   (private.searchable_kinds): a kind added later, such as end-to-end encrypted messages, is never indexed unless it
--   is added there on purpose.
-- * Visibility is the API's own: search_messages is security invoker, so the messages policy
--   "members can read messages of their chats" (member now, seq after history_from_seq) filters every row exactly as
--   it filters get_chat_messages; on top of it search leaves out deleted messages, kinds that are not searchable and
--   messages by users on either side of a block with the caller.
-- * A user's text never reaches the text-search parser: private.search_query reads the web-search syntax itself
--   (quoted phrases, -exclude, or) and builds the tsquery from normalized lexemes, so any input gives a query, an
--   empty page, or a clear 22023 (empty or too long), never a tsquery syntax error.
-- * Documents: words accent-insensitive and in lower case ('simple' + unaccent, with positions, for exact words and
--   phrases), their English stems (marked with a leading '~', so stemmed and exact lexemes never mix), and for text
--   without word boundaries (CJK) its character bigrams, and every emoji as a lexeme of its own.

-- ---------------------------------------------------------------------------------------------------------------
-- extensions and text search configurations
-- ---------------------------------------------------------------------------------------------------------------
create extension if not exists unaccent with schema extensions;
create extension if not exists btree_gin with schema extensions;

-- Words as written, without accents: good for names and mixed-language chats.
create text search configuration private.search_simple (copy = pg_catalog.simple);
alter text search configuration private.search_simple
  alter mapping for asciiword, asciihword, hword_asciipart, word, hword, hword_part with extensions.unaccent, pg_catalog.simple;
comment on text search configuration private.search_simple is 'Search: words in lower case, accents removed, no stemming.';

-- English stems, without accents (stop words give no lexeme).
create text search configuration private.search_english (copy = pg_catalog.english);
alter text search configuration private.search_english
  alter mapping for asciiword, asciihword, hword_asciipart, word, hword, hword_part with extensions.unaccent, pg_catalog.english_stem;
comment on text search configuration private.search_english is 'Search: English stems, accents removed.';

-- ---------------------------------------------------------------------------------------------------------------
-- types
-- ---------------------------------------------------------------------------------------------------------------
create type public.message_search_result as (
  message_id uuid,
  chat_id uuid,
  chat_kind public.chat_kind,
  chat_title text,
  seq bigint,
  author_id uuid,
  author jsonb,
  kind public.message_kind,
  created_at timestamptz,
  edited_at timestamptz,
  thread_root_id uuid,
  snippet text,
  rank real,
  cursor text
);
comment on type public.message_search_result is
  'A search_messages result: open it in context with get_chat_messages(chat_id, around_seq => seq).';

-- A match before its page is built: the message's key, time and document.
create type private.search_hit as (
  chat_id uuid,
  seq bigint,
  message_id uuid,
  created_at timestamptz,
  document tsvector
);
comment on type private.search_hit is 'A search match: the message key, time and document (search_message_hits).';

create type public.people_search_result as (
  user_id uuid,
  username text,
  display_name text,
  avatar_path text,
  score real,
  cursor text
);
comment on type public.people_search_result is 'A search_people result, best first.';

create type public.chat_search_result as (
  chat_id uuid,
  kind public.chat_kind,
  title text,
  description text,
  avatar_path text,
  member_count integer,
  is_member boolean,
  score real,
  cursor text
);
comment on type public.chat_search_result is 'A search_chats result, best first.';

create type public.search_suggestion as (
  kind text,
  id uuid,
  label text,
  detail text,
  avatar_path text
);
comment on type public.search_suggestion is
  'An as-you-type suggestion: kind query (a recent search: label), person (id, label = username) or chat (id, label = title).';

-- ---------------------------------------------------------------------------------------------------------------
-- tables
-- ---------------------------------------------------------------------------------------------------------------
create table public.recent_searches (
  user_id uuid not null default auth.uid() references public.profiles (id) on delete cascade,
  query text not null,
  searched_at timestamptz not null default now(),
  primary key (user_id, query),
  constraint recent_searches_query_length check (char_length(query) between 1 and 256)
);
comment on table public.recent_searches is
  'Each user''s recent searches (newest 20 kept), for suggestions; written by save_recent_search, cleared by clear_recent_searches.';

-- Every word (as indexed, without stems) that has been in a searchable message: the prefix of a word being typed
-- is expanded to the words it starts, so each chat's index scan looks up a few exact words instead of every
-- posting list under the prefix. Words only, never which message or chat they came from.
create table private.search_words (
  word text collate "C" primary key
);
comment on table private.search_words is 'Indexed words, for expanding the prefix of a word being typed.';

-- The search index: the stored document of every indexed message, and what search filters on before it reads the
-- message (author, time). The document is stored so that ranking and phrase checks never parse a body again.
create table private.message_search (
  chat_id uuid not null,
  seq bigint not null,
  message_id uuid not null,
  author_id uuid,
  created_at timestamptz not null,
  document tsvector not null,
  primary key (chat_id, seq),
  constraint message_search_message_fkey foreign key (chat_id, seq)
    references public.messages (chat_id, seq) on delete cascade
);
comment on table private.message_search is
  'Search documents of indexed messages (written by private.index_pending_messages and the edit trigger).';

-- Searchable messages not yet in private.message_search: written by every send (one row: the message's key), moved
-- into the index by private.index_pending_messages. Holds no text.
create table private.search_pending (
  chat_id uuid not null,
  seq bigint not null,
  primary key (chat_id, seq)
);
comment on table private.search_pending is 'Searchable messages waiting for private.index_pending_messages.';

-- ---------------------------------------------------------------------------------------------------------------
-- helpers (the index below needs them)
-- ---------------------------------------------------------------------------------------------------------------
-- The kinds whose body is indexed and searched (a caption for files). `system` is the server's; any kind not listed
-- (end-to-end encrypted messages) is never indexed.
create function private.searchable_kinds() returns public.message_kind[]
language sql
immutable
set search_path = ''
as $$ select '{text,image,file,voice,video}'::public.message_kind[] $$;
comment on function private.searchable_kinds() is 'Message kinds whose body is indexed for search.';
revoke all on function private.searchable_kinds() from public, anon, authenticated;
grant execute on function private.searchable_kinds() to service_role;

-- Characters of scripts written without spaces between words (kana, CJK ideographs, Hangul syllables).
create function private.search_cjk_pattern() returns text
language sql
immutable
set search_path = ''
as $$ select '[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]'::text $$;
revoke all on function private.search_cjk_pattern() from public, anon, authenticated;
grant execute on function private.search_cjk_pattern() to service_role;

-- Emoji and pictographs (the text-search parser drops them).
create function private.search_emoji_pattern() returns text
language sql
immutable
set search_path = ''
as $$ select '[\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]'::text $$;
revoke all on function private.search_emoji_pattern() from public, anon, authenticated;
grant execute on function private.search_emoji_pattern() to service_role;

-- The extra lexemes of a text: bigrams (or the single character) of each run of CJK characters, and each emoji.
create function private.search_extra_lexemes(body text) returns text[]
language plpgsql
immutable
set search_path = ''
as $$
declare
  run text;
  result text[] := '{}'::text[];
begin
  if body is null then
    return result;
  end if;
  for run in select r[1] from regexp_matches(body, private.search_cjk_pattern() || '+', 'g') r loop
    if char_length(run) = 1 then
      result := result || run;
    else
      result := result || array(select substr(run, i, 2) from generate_series(1, char_length(run) - 1) i);
    end if;
  end loop;
  result := result || array(select r[1] from regexp_matches(body, private.search_emoji_pattern(), 'g') r);
  return result;
end
$$;
revoke all on function private.search_extra_lexemes(text) from public, anon, authenticated;
grant execute on function private.search_extra_lexemes(text) to service_role;

-- The search document of a message body: exact words with positions, '~'-marked English stems, CJK bigrams, emoji.
create function private.search_document(body text) returns tsvector
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
  plain text;
begin
  if body is null then
    return null;
  end if;
  -- A chat message is plain text: '<', '>' and '&' are not markup (the parser would drop "<b>" or "&amp;" as tags
  -- and entities), so they are read as spaces.
  plain := translate(body, '<>&', '   ');
  return to_tsvector('private.search_simple'::regconfig, plain)
      || array_to_tsvector(array(select '~' || t.lexeme from unnest(to_tsvector('private.search_english'::regconfig, plain)) t))
      -- Only text outside ASCII can hold CJK or emoji; most messages skip the two regular expressions.
      || case when plain ~ '[^\x01-\x7f]' then array_to_tsvector(private.search_extra_lexemes(plain)) else ''::tsvector end;
end
$$;
comment on function private.search_document(text) is
  'The indexed form of a message body: words (unaccented, lower case), ~English stems, CJK bigrams and emoji.';
revoke all on function private.search_document(text) from public, anon, authenticated;
-- The index on public.messages evaluates it for whoever writes a message row (the service role may).
grant execute on function private.search_document(text) to service_role;

-- AFTER INSERT on messages, for searchable messages only (the trigger's WHEN clause): queues the message for the
-- indexer. This row is all a send writes for search.
create function private.queue_message_search() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into private.search_pending (chat_id, seq) values (new.chat_id, new.seq);
  return null;
end
$$;
comment on function private.queue_message_search() is 'AFTER INSERT on messages: queues a searchable message for indexing.';
revoke all on function private.queue_message_search() from public, anon, authenticated;

-- The words of a document for private.search_words: its lexemes without the '~' stems.
create function private.remember_words(documents tsvector[]) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into private.search_words (word)
  select distinct t.lexeme from unnest(documents) d cross join lateral unnest(d) t
   where left(t.lexeme, 1) <> '~'
  on conflict do nothing;
end
$$;
revoke all on function private.remember_words(tsvector[]) from public, anon, authenticated;

-- AFTER UPDATE of body, deleted_at or kind on messages: a message that stopped being searchable (deleted, no body)
-- leaves the index and the queue in this transaction; an edited one gets its new document in this transaction (a
-- queued one is read from its body anyway).
create function private.update_message_search() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  doc tsvector;
begin
  if new.deleted_at is not null or new.body is null or not (new.kind = any (private.searchable_kinds())) then
    delete from private.message_search s where s.chat_id = new.chat_id and s.seq = new.seq;
    delete from private.search_pending p where p.chat_id = new.chat_id and p.seq = new.seq;
    return null;
  end if;
  -- A queued message has no document yet (search reads its body), so only an indexed one is parsed here.
  update private.message_search s set document = private.search_document(new.body)
   where s.chat_id = new.chat_id and s.seq = new.seq
  returning s.document into doc;
  if found then
    perform private.remember_words(array[doc]);
  else
    insert into private.search_pending (chat_id, seq) values (new.chat_id, new.seq) on conflict do nothing;
  end if;
  return null;
end
$$;
comment on function private.update_message_search() is
  'AFTER UPDATE on messages: re-indexes an edited message, removes a deleted one from the index and the queue.';
revoke all on function private.update_message_search() from public, anon, authenticated;

-- Moves up to max_rows queued messages into private.message_search in one transaction and returns how many left
-- the queue. The messages are locked (for share, skipping rows an edit or delete holds: they stay queued for the
-- next run) before their queue rows are deleted, the order every writer of a message takes too, so an edit waits for
-- the batch (and then updates its document) or the batch waits for the edit (and reads the new body).
create function private.index_pending_messages(max_rows integer default 2000) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  docs tsvector[];
  moved integer;
begin
  with batch as (
    select p.chat_id, p.seq from private.search_pending p order by p.chat_id, p.seq limit max_rows
  ), locked as (
    select m.chat_id, m.seq, m.id, m.author_id, m.created_at, m.body, m.kind, m.deleted_at
      from batch b join public.messages m on m.chat_id = b.chat_id and m.seq = b.seq
     for share of m skip locked
  ), gone as (
    -- The locked messages' queue rows, and those of messages that no longer exist.
    delete from private.search_pending p using batch b
     where p.chat_id = b.chat_id and p.seq = b.seq
       and (exists (select 1 from locked l where l.chat_id = b.chat_id and l.seq = b.seq)
            or not exists (select 1 from public.messages m where m.chat_id = b.chat_id and m.seq = b.seq))
    returning p.chat_id, p.seq
  ), added as (
    insert into private.message_search (chat_id, seq, message_id, author_id, created_at, document)
    select l.chat_id, l.seq, l.id, l.author_id, l.created_at, private.search_document(l.body)
      from locked l join gone g on g.chat_id = l.chat_id and g.seq = l.seq
     where l.deleted_at is null and l.body is not null and l.kind = any (private.searchable_kinds())
    on conflict (chat_id, seq) do update set document = excluded.document
    returning document
  )
  select (select count(*) from gone)::integer, (select array_agg(a.document) from added a) into moved, docs;
  if docs is not null then
    perform private.remember_words(docs);
  end if;
  return moved;
end
$$;
comment on function private.index_pending_messages(integer) is
  'Indexes up to max_rows queued messages (pg_cron job search-index); returns how many left the queue.';
revoke all on function private.index_pending_messages(integer) from public, anon, authenticated;
grant execute on function private.index_pending_messages(integer) to service_role;

-- The job: batches until the queue is empty or 50 s have passed (the next run starts a minute after this one).
create procedure private.drain_search_pending()
language plpgsql
security definer
set search_path = ''
as $$
declare
  started timestamptz := clock_timestamp();
begin
  loop
    exit when private.index_pending_messages(2000) = 0 or clock_timestamp() - started > interval '50 seconds';
    commit;
  end loop;
end
$$;
comment on procedure private.drain_search_pending() is 'pg_cron job search-index: empties private.search_pending in batches.';
revoke all on procedure private.drain_search_pending() from public, anon, authenticated;

-- Rebuilds the search index and the word list from every searchable message (after a bulk load that bypassed
-- triggers, or to change the document's definition). Returns the number of indexed messages. Faster with the GIN
-- index dropped first and created afterwards (docs/operations.md).
create function private.rebuild_search_index() returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  n bigint;
begin
  delete from private.search_pending;
  delete from private.message_search;
  insert into private.message_search (chat_id, seq, message_id, author_id, created_at, document)
  select m.chat_id, m.seq, m.id, m.author_id, m.created_at, private.search_document(m.body)
    from public.messages m
   where m.deleted_at is null and m.body is not null and m.kind = any (private.searchable_kinds());
  get diagnostics n = row_count;
  insert into private.search_words (word)
  select distinct t.lexeme from private.message_search s cross join lateral unnest(s.document) t
   where left(t.lexeme, 1) <> '~'
  on conflict do nothing;
  return n;
end
$$;
comment on function private.rebuild_search_index() is
  'Rebuilds private.message_search and private.search_words from the messages; returns the indexed messages.';
revoke all on function private.rebuild_search_index() from public, anon, authenticated;
grant execute on function private.rebuild_search_index() to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- indexes
-- ---------------------------------------------------------------------------------------------------------------
-- fastupdate is off: a pending list (GIN's insert buffer) is read in full by every search until vacuum merges it,
-- which made searches 40 times slower on a freshly written table (bench, preset quick: 1.6 s instead of 41 ms).
create index message_search_document_idx on private.message_search
  using gin (chat_id, document) with (fastupdate = off);
-- The newest matches of a common word: each chat's messages after a point in time (search_message_hits).
create index message_search_recent_idx on private.message_search (chat_id, created_at);

create index recent_searches_user_idx on public.recent_searches (user_id, searched_at desc);
-- Username prefix matches one length at a time (search_people).
create index profiles_username_length_idx on public.profiles (char_length(username), lower(username) text_pattern_ops);
create index chats_search_idx on public.chats using gin (title extensions.gin_trgm_ops, description extensions.gin_trgm_ops)
  where kind <> 'direct';

-- ---------------------------------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on public.recent_searches from anon, authenticated;
grant select on public.recent_searches to authenticated;
grant all on public.recent_searches to service_role;

revoke all on private.search_words from public, anon, authenticated;
revoke all on private.message_search from public, anon, authenticated;
revoke all on private.search_pending from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- triggers
-- ---------------------------------------------------------------------------------------------------------------
-- The WHEN clauses spell out private.searchable_kinds() (70-search-visibility checks they agree), so a send of a
-- kind that is never searched does not even call the function.
create trigger messages_queue_search after insert on public.messages
  for each row when (new.body is not null and new.deleted_at is null and new.kind in ('text', 'image', 'file', 'voice', 'video'))
  execute function private.queue_message_search();
create trigger messages_update_search after update of body, deleted_at, kind on public.messages
  for each row when (old.body is distinct from new.body or old.deleted_at is distinct from new.deleted_at
                     or old.kind is distinct from new.kind)
  execute function private.update_message_search();

-- ---------------------------------------------------------------------------------------------------------------
-- row level security and policies
-- ---------------------------------------------------------------------------------------------------------------
alter table public.recent_searches enable row level security;
alter table private.search_words enable row level security;
alter table private.message_search enable row level security;
alter table private.search_pending enable row level security;

create policy "users can read their own recent searches"
  on public.recent_searches for select to authenticated
  using (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------------------------------
-- query parsing
-- ---------------------------------------------------------------------------------------------------------------
-- One lexeme as a tsquery, quoted by hand so no character of it is read as an operator.
create function private.lexeme_query(lexeme text, prefix boolean default false) returns tsquery
language sql
immutable
set search_path = ''
as $$
  select ('''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || ''''
          || case when prefix then ':*' else '' end)::tsquery
$$;
revoke all on function private.lexeme_query(text, boolean) from public, anon, authenticated;

-- A word, or the words a prefix starts (from private.search_words, up to 64, shortest first) as alternatives; a prefix
-- that starts no known word, or too many, stays a tsquery prefix (correct, only slower: every chat's index scan then
-- reads every posting list under it).
create function private.word_query(word text, prefix boolean, expand boolean default true) returns tsquery
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  result tsquery;
  words text[];
begin
  if not prefix then
    return private.lexeme_query(word_query.word);
  end if;
  if not expand then
    return private.lexeme_query(word_query.word, true);
  end if;
  select array_agg(w.word) into words
    from (select sw.word from private.search_words sw
           where sw.word >= word_query.word and sw.word < word_query.word || chr(1114111)
             and starts_with(sw.word, word_query.word)
           order by char_length(sw.word), sw.word limit 65) w;
  if words is null or cardinality(words) > 64 then
    return private.lexeme_query(word_query.word, true);
  end if;
  result := private.lexeme_query(word_query.word);
  for i in 1 .. cardinality(words) loop
    if words[i] <> word_query.word then
      result := result || private.lexeme_query(words[i]);
    end if;
  end loop;
  return result;
end
$$;
revoke all on function private.word_query(text, boolean, boolean) from public, anon, authenticated;

-- The query of one word (or of a quoted phrase when phrase is true): its exact lexemes (in a phrase: in order), or in
-- English mode also its stems; CJK bigrams and emoji as in the document. Null when the word has no lexeme.
create function private.term_query(term text, language text, phrase boolean, prefix boolean, expand boolean default true)
returns tsquery
language plpgsql
stable
set search_path = ''
as $$
declare
  exact tsquery;
  stems tsquery;
  extra tsquery;
  r record;
  last_pos integer;
  n integer;
  i integer := 0;
begin
  term := translate(term, '<>&', '   ');
  select count(*) into n from unnest(to_tsvector('private.search_simple'::regconfig, term));
  -- Exact words, in position order (a phrase keeps the distances between them).
  for r in select t.lexeme, p.pos
             from unnest(to_tsvector('private.search_simple'::regconfig, term)) t
             cross join lateral unnest(t.positions) p(pos)
            order by p.pos loop
    i := i + 1;
    if exact is null then
      exact := private.word_query(r.lexeme, prefix and i = n, expand);
    elsif phrase then
      exact := tsquery_phrase(exact, private.word_query(r.lexeme, prefix and i = n, expand), greatest(r.pos - last_pos, 1));
    else
      exact := exact && private.word_query(r.lexeme, prefix and i = n, expand);
    end if;
    last_pos := r.pos;
  end loop;
  -- Stems that are the word itself add nothing but a second posting list to read.
  if language = 'english' and not phrase then
    for r in select t.lexeme from unnest(to_tsvector('private.search_english'::regconfig, term)) t
              where t.lexeme <> all (tsvector_to_array(to_tsvector('private.search_simple'::regconfig, term))) loop
      stems := case when stems is null then private.lexeme_query('~' || r.lexeme) else stems && private.lexeme_query('~' || r.lexeme) end;
    end loop;
  end if;
  for r in select x from unnest(private.search_extra_lexemes(term)) x loop
    extra := case when extra is null then private.lexeme_query(r.x) else extra && private.lexeme_query(r.x) end;
  end loop;
  if stems is not null and exact is not null and not prefix then
    exact := exact || stems;
  end if;
  if extra is not null then
    -- A CJK run is one long word for the parser: its bigrams find it inside longer runs.
    exact := case when exact is null then extra else exact || extra end;
  end if;
  return exact;
end
$$;
revoke all on function private.term_query(text, text, boolean, boolean, boolean) from public, anon, authenticated;

-- The checked query text: trimmed, 1 to 256 characters, at most 32 terms; else 22023.
create function private.assert_search_text(query text) returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  q text := btrim(regexp_replace(coalesce(query, ''), '[\s\u0000-\u001f]+', ' ', 'g'));
begin
  if q = '' then
    raise exception 'search query is empty' using errcode = '22023', hint = 'Type at least one character.';
  end if;
  if char_length(q) > 256 then
    raise exception 'search query is too long' using errcode = '22023', hint = 'At most 256 characters.';
  end if;
  if array_length(regexp_split_to_array(q, ' '), 1) > 32 then
    raise exception 'search query has too many terms' using errcode = '22023', hint = 'At most 32 words.';
  end if;
  return q;
end
$$;
revoke all on function private.assert_search_text(text) from public, anon, authenticated;

-- Web-search syntax to a tsquery: words are ANDed, `or` between words makes alternatives, "quoted text" is a phrase,
-- -word or -"phrase" excludes; the last word is a prefix while the user is typing (no space after it). Null when
-- nothing searchable is left (only punctuation, or only excluded terms). expand: the prefix becomes the indexed words
-- it starts (for the GIN index); without it, a tsquery prefix (for documents built on the fly: queued messages,
-- whose words may not be in private.search_words yet).
create function private.search_query(query text, language text default 'english', prefix_last boolean default true,
                                      expand boolean default true)
returns tsquery
language plpgsql
stable
set search_path = ''
as $$
declare
  q text := private.assert_search_text(query);
  typing boolean := prefix_last and query !~ '\s$';
  tokens text[];
  tok text;
  negate boolean;
  phrase boolean;
  term tsquery;
  grp tsquery;
  excluded tsquery;
  result tsquery;
begin
  if language is null or language not in ('english', 'simple') then
    raise exception 'unknown search language' using errcode = '22023', hint = 'Use english or simple.';
  end if;
  -- Tokens: an optional '-', then a quoted phrase (closed or not) or a run of non-space characters.
  select array_agg(m[1]) into tokens from regexp_matches(q, '(-?"[^"]*"?|[^\s"]+)', 'g') m;
  for i in 1 .. coalesce(array_length(tokens, 1), 0) loop
    tok := tokens[i];
    if lower(tok) = 'or' then
      if grp is not null then
        result := case when result is null then grp else result || grp end;
      end if;
      grp := null;
      continue;
    end if;
    negate := tok ~ '^-.';
    if negate then
      tok := substr(tok, 2);
    end if;
    phrase := tok ~ '^"';
    if phrase then
      tok := btrim(tok, '"');
    end if;
    term := private.term_query(tok, language, phrase, typing and i = array_length(tokens, 1) and not phrase and not negate, expand);
    if term is null then
      continue;
    end if;
    if negate then
      excluded := case when excluded is null then term else excluded || term end;
    else
      grp := case when grp is null then term else grp && term end;
    end if;
  end loop;
  if grp is not null then
    result := case when result is null then grp else result || grp end;
  end if;
  if result is null then
    return null;
  end if;
  if excluded is not null then
    result := result && !! excluded;
  end if;
  return result;
end
$$;
comment on function private.search_query(text, text, boolean, boolean) is
  'Reads web-search syntax (words, "phrases", -exclude, or; prefix on the last word) into a tsquery without the parser.';
revoke all on function private.search_query(text, text, boolean, boolean) from public, anon, authenticated;

-- An HTML-safe snippet: the body is escaped first, then the matched words are wrapped in <mark>. A short body
-- (up to 280 characters) is shown whole; a longer one as up to two fragments around the matches.
create function private.search_snippet(body text, q tsquery) returns text
language plpgsql
stable
set search_path = ''
as $$
begin
  return ts_headline('private.search_simple'::regconfig,
    replace(replace(replace(replace(replace(body, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;'),
    q, case when char_length(body) <= 280 then 'StartSel=<mark>, StopSel=</mark>, HighlightAll=true'
            else 'StartSel=<mark>, StopSel=</mark>, MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "' end);
end
$$;
comment on function private.search_snippet(text, tsquery) is 'HTML-escaped body excerpt with matches in <mark>...</mark>.';
revoke all on function private.search_snippet(text, tsquery) from public, anon, authenticated;

-- Page size: default 20, clamped to 1..50.
create function private.search_page_size(page_size integer) returns integer
language sql
immutable
set search_path = ''
as $$ select least(greatest(coalesce(page_size, 20), 1), 50) $$;
revoke all on function private.search_page_size(integer) from public, anon, authenticated;

-- Users on either side of a block with the caller (the caller's own blocks and the blocks of the caller).
create function private.block_partner_ids() returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (select coalesce(array_agg(distinct x), '{}') from (
            select b.blocker_id as x from public.user_blocks b where b.blocked_id = auth.uid()
            union all
            select b.blocked_id from public.user_blocks b where b.blocker_id = auth.uid()) s);
end
$$;
comment on function private.block_partner_ids() is 'Ids of users the caller blocked or who blocked the caller.';
revoke all on function private.block_partner_ids() from public, anon, authenticated;


-- ---------------------------------------------------------------------------------------------------------------
-- RPCs: messages
-- ---------------------------------------------------------------------------------------------------------------
-- The share of indexed messages a query matches, as the planner estimates it from the statistics of
-- private.message_search.document (the most common lexemes and their frequencies): about half a millisecond.
-- Volatile only because EXPLAIN may not run in a stable function; it reads nothing but statistics.
create function private.search_match_fraction(q tsquery) returns double precision
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  plan json;
  total real;
begin
  select c.reltuples into total from pg_catalog.pg_class c where c.oid = 'private.message_search'::regclass;
  if total is null or total <= 0 then
    return 0;
  end if;
  execute 'explain (format json) select 1 from private.message_search s where s.document @@ $1' into plan using q;
  return least((plan -> 0 -> 'Plan' ->> 'Plan Rows')::double precision / total, 1);
end
$$;
comment on function private.search_match_fraction(tsquery) is
  'The planner''s estimate of the share of indexed messages that match a query.';
revoke all on function private.search_match_fraction(tsquery) from public, anon, authenticated;

-- The filters of search_messages that need the message row: kind, mentions, thread, files.
create function private.search_message_filter(
  chat_id uuid, seq bigint, me uuid, kind public.message_kind, mentions_me boolean, thread_root_id uuid,
  has_files boolean, file_kind text
) returns boolean
language sql
stable
set search_path = ''
as $$
  select exists (
    select 1 from public.messages m
     where m.chat_id = search_message_filter.chat_id and m.seq = search_message_filter.seq
       and (search_message_filter.kind is null or m.kind = search_message_filter.kind)
       and (search_message_filter.mentions_me is not true or search_message_filter.me = any (m.mentions))
       and (search_message_filter.thread_root_id is null or m.thread_root_id = search_message_filter.thread_root_id
            or m.id = search_message_filter.thread_root_id)
       and (search_message_filter.has_files is null or search_message_filter.has_files = exists (
              select 1 from public.attachments a where a.message_id = m.id))
       and (search_message_filter.file_kind is null or exists (
              select 1 from public.attachments a where a.message_id = m.id
                 and case search_message_filter.file_kind
                       when 'image' then a.mime_type like 'image/%'
                       when 'video' then a.mime_type like 'video/%'
                       when 'audio' then a.mime_type like 'audio/%'
                       when 'document' then a.mime_type in ('application/pdf', 'text/plain', 'text/csv', 'text/markdown')
                                            or a.mime_type like 'application/vnd.%'
                       else a.mime_type !~ '^(image|video|audio)/' end)))
$$;
revoke all on function private.search_message_filter(uuid, bigint, uuid, public.message_kind, boolean, uuid, boolean, text)
  from public, anon, authenticated;

-- Relevance ranks the newest 200 matches by ts_rank of their stored documents; newest sorts every match by
-- (created_at, id). Matches come from the index (private.message_search) and from the caller's queued messages
-- (private.search_pending, documents built here), never both for one message (the indexer moves a message from one
-- to the other in one transaction). Two ways to find the newest matches in the index, the same answer:
-- * index: the GIN index over the caller's chats returns every match, which are then sorted. Its cost grows with the
--   number of matches: right for rare words.
-- * recent: each chat's messages after a point in time, newest first (message_search_recent_idx), the document
--   checked on each, until the chat has given a page; the point moves back (1 hour, then 8 times further each round,
--   each round reading only the slice of time older than the last) until the window holds a page: every match
--   outside the window is older than every match inside, and no chat holds more than a page of the page, so it is
--   exact. Its cost grows with the messages read before a page is found:
--   right for common words, phrases of common words and short prefixes.
-- The planner's estimate of the query's share of messages (private.search_match_fraction) times the caller's visible
-- messages picks one; the setting chat.search_strategy (index, recent) forces one, for tests and diagnosis.
-- Filters on the index's own columns (history, blocks, author, time, cursor) run before a message is read; the filters
-- that need the message row (kind, mentions, thread, files) read it for each match, and only when one is given.
create function private.search_message_hits(
  query text,
  chat_id uuid default null,
  author_id uuid default null,
  kind public.message_kind default null,
  has_files boolean default null,
  file_kind text default null,
  mentions_me boolean default null,
  after timestamptz default null,
  before timestamptz default null,
  thread_root_id uuid default null,
  sort text default 'relevance',
  language text default 'english',
  cursor text default null,
  page_size integer default 20
) returns setof public.message_search_result
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
  q tsquery;
  q_fly tsquery;
  n integer := private.search_page_size(page_size);
  pool integer;
  chats uuid[];
  floors bigint[];
  limited uuid[];
  limited_floors bigint[];
  visible bigint;
  oldest timestamptz;
  hidden uuid[] := private.block_partner_ids();
  by_message boolean;
  strategy text := coalesce(nullif(current_setting('chat.search_strategy', true), ''), 'auto');
  queued private.search_hit[];
  hits private.search_hit[];
  upto timestamptz;
  since timestamptz;
  newer timestamptz;
  span interval := interval '1 hour';
  c_rank real;
  c_at timestamptz;
  c_id uuid;
  parts text[];
begin
  q := private.search_query(search_message_hits.query, coalesce(search_message_hits.language, 'english'));
  if sort is null or sort not in ('relevance', 'newest') then
    raise exception 'unknown sort' using errcode = '22023', hint = 'Use relevance or newest.';
  end if;
  if file_kind is not null and file_kind not in ('image', 'video', 'audio', 'document', 'other') then
    raise exception 'unknown file kind' using errcode = '22023', hint = 'Use image, video, audio, document or other.';
  end if;
  if search_message_hits.cursor is not null then
    parts := string_to_array(search_message_hits.cursor, '|');
    begin
      if array_length(parts, 1) <> 3 or parts[1] not in ('r', 'n') or (parts[1] = 'r') <> (sort = 'relevance') then
        raise exception using errcode = '22023';
      end if;
      c_id := parts[3]::uuid;
      if parts[1] = 'r' then c_rank := parts[2]::real; else c_at := parts[2]::timestamptz; end if;
    exception when others then
      raise exception 'invalid search cursor' using errcode = '22023',
        hint = 'Pass the cursor of the last result of the previous page, with the same sort.';
    end;
  end if;
  if search_message_hits.chat_id is not null then
    perform private.require_member(search_message_hits.chat_id);
  end if;
  -- The caller's chats and the first seq of each one's visible history (the messages policy's rule); search_messages
  -- checks every row of the page against that policy again.
  select coalesce(array_agg(m.chat_id), '{}'), coalesce(array_agg(m.history_from_seq), '{}'),
         coalesce(sum(greatest(c.last_message_seq - m.history_from_seq, 0)), 0), min(c.created_at)
    into chats, floors, visible, oldest
    from public.chat_members m join public.chats c on c.id = m.chat_id
   where m.user_id = me and (search_message_hits.chat_id is null or m.chat_id = search_message_hits.chat_id);
  if q is null or cardinality(chats) = 0 then
    return;
  end if;
  select coalesce(array_agg(f.chat_id), '{}'), coalesce(array_agg(f.floor), '{}') into limited, limited_floors
    from unnest(chats, floors) f(chat_id, floor) where f.floor > 0;
  q_fly := private.search_query(search_message_hits.query, coalesce(search_message_hits.language, 'english'), true, false);
  by_message := search_message_hits.kind is not null or search_message_hits.mentions_me is true
                or search_message_hits.thread_root_id is not null or search_message_hits.has_files is not null
                or search_message_hits.file_kind is not null;
  pool := case when sort = 'newest' then n else 200 end;
  upto := case when sort = 'newest' and c_at is not null then c_at end;

  -- The caller's queued messages that match (the newest minute or so of their chats).
  queued := array(
    select (m.chat_id, m.seq, m.id, m.created_at, d.document)::private.search_hit
      from unnest(chats, floors) f(chat_id, floor)
      join private.search_pending p on p.chat_id = f.chat_id and p.seq > f.floor
      join public.messages m on m.chat_id = p.chat_id and m.seq = p.seq
      cross join lateral (select private.search_document(m.body) as document) d
     where m.deleted_at is null and m.body is not null and m.kind = any (private.searchable_kinds())
       and (m.author_id is null or m.author_id <> all (hidden))
       and (search_message_hits.author_id is null or m.author_id = search_message_hits.author_id)
       and (search_message_hits.after is null or m.created_at >= search_message_hits.after)
       and (search_message_hits.before is null or m.created_at < search_message_hits.before)
       and (upto is null or (m.created_at, m.id) < (c_at, c_id))
       and d.document @@ q_fly
       and (not by_message or private.search_message_filter(m.chat_id, m.seq, me, search_message_hits.kind,
              search_message_hits.mentions_me, search_message_hits.thread_root_id, search_message_hits.has_files,
              search_message_hits.file_kind)));

  if strategy not in ('index', 'recent') then
    strategy := case when visible * private.search_match_fraction(q) > 300 then 'recent' else 'index' end;
  end if;
  if strategy = 'recent' then
    hits := '{}'::private.search_hit[];
    loop
      -- The next slice of time, older than the ones read so far: [since, newer).
      newer := since;
      since := coalesce(upto, now()) - span;
      hits := hits || array(
        select h from (
          select (s.chat_id, s.seq, s.message_id, s.created_at, s.document)::private.search_hit as h
            from unnest(chats, floors) f(chat_id, floor)
            -- Each chat's newest matches in the slice, newest first, at most a page of them: a chat with a burst
            -- of recent messages is read only until it has given a page.
            cross join lateral (
              select s.* from private.message_search s
               where s.chat_id = f.chat_id and s.created_at >= since and s.seq > f.floor
                 and (newer is null or s.created_at < newer)
                 and (upto is null or s.created_at <= upto)
                 -- The function form of @@ is no index condition: this path walks the btree, never the GIN index.
                 and ts_match_vq(s.document, q)
                 and (s.author_id is null or s.author_id <> all (hidden))
                 and (search_message_hits.author_id is null or s.author_id = search_message_hits.author_id)
                 and (search_message_hits.after is null or s.created_at >= search_message_hits.after)
                 and (search_message_hits.before is null or s.created_at < search_message_hits.before)
                 and (upto is null or (s.created_at, s.message_id) < (c_at, c_id))
                 and (not by_message or private.search_message_filter(s.chat_id, s.seq, me, search_message_hits.kind,
                        search_message_hits.mentions_me, search_message_hits.thread_root_id, search_message_hits.has_files,
                        search_message_hits.file_kind))
               order by s.created_at desc, s.message_id desc
               limit pool) s
          union all
          select x from unnest(queued) x where x.created_at >= since and (newer is null or x.created_at < newer)) w
         order by (w.h).created_at desc, (w.h).message_id desc
         limit pool - cardinality(hits));
      exit when cardinality(hits) >= pool or since <= oldest
             or (search_message_hits.after is not null and since <= search_message_hits.after);
      span := span * 8;
    end loop;
  else
    hits := array(
      select h from (
        select (s.chat_id, s.seq, s.message_id, s.created_at, s.document)::private.search_hit as h
          from private.message_search s
          left join unnest(limited, limited_floors) f(chat_id, floor) on f.chat_id = s.chat_id
         -- The array drives the GIN scan: one index scan per chat, each intersecting the chat's entry with the
         -- query's. (Joined to the chats instead, the planner may repeat the whole array scan for every chat.) The
         -- few chats whose history starts later for the caller are joined for their first visible seq.
         where s.chat_id = any (chats) and s.document @@ q
           and (f.chat_id is null or s.seq > f.floor)
           and (s.author_id is null or s.author_id <> all (hidden))
           and (search_message_hits.author_id is null or s.author_id = search_message_hits.author_id)
           and (search_message_hits.after is null or s.created_at >= search_message_hits.after)
           and (search_message_hits.before is null or s.created_at < search_message_hits.before)
           and (upto is null or (s.created_at, s.message_id) < (c_at, c_id))
           and (not by_message or private.search_message_filter(s.chat_id, s.seq, me, search_message_hits.kind,
                  search_message_hits.mentions_me, search_message_hits.thread_root_id, search_message_hits.has_files,
                  search_message_hits.file_kind))
        union all
        select x from unnest(queued) x) w
       order by (w.h).created_at desc, (w.h).message_id desc
       limit pool);
  end if;

  return query
  with ranked as (
    select h.chat_id, h.seq, h.message_id, h.created_at,
           case when sort = 'newest' then null else ts_rank(h.document, q_fly) end as r
      from unnest(hits) h
  ), page as (
    select * from ranked r
     where sort = 'newest' or c_rank is null or (r.r, r.message_id) < (c_rank, c_id)
     order by case when sort = 'newest' then null else r.r end desc nulls last, r.created_at desc, r.message_id desc
     limit n
  )
  select m.id, m.chat_id, c.kind, c.title, m.seq, m.author_id,
         (select jsonb_build_object('id', pr.id, 'username', pr.username, 'display_name', pr.display_name,
                                    'avatar_path', pr.avatar_path)
            from public.profiles pr where pr.id = m.author_id),
         m.kind, m.created_at, m.edited_at, m.thread_root_id,
         private.search_snippet(m.body, q_fly), p.r,
         case when sort = 'newest' then 'n|' || p.created_at::text || '|' || p.message_id::text
              else 'r|' || p.r::text || '|' || p.message_id::text end
    from page p
    join public.messages m on m.chat_id = p.chat_id and m.seq = p.seq
    join public.chats c on c.id = p.chat_id
   -- Never a deleted message, whatever the index holds.
   where m.deleted_at is null and m.body is not null
   order by case when sort = 'newest' then null else p.r end desc nulls last, p.created_at desc, p.message_id desc;
end
$$;
comment on function private.search_message_hits(text, uuid, uuid, public.message_kind, boolean, text, boolean, timestamptz,
  timestamptz, uuid, text, text, text, integer) is
  'The page of search_messages before its row-level check: matches in the caller''s chats and visible history.';
revoke all on function private.search_message_hits(text, uuid, uuid, public.message_kind, boolean, text, boolean, timestamptz,
  timestamptz, uuid, text, text, text, integer) from public, anon, authenticated;
-- Granted because public.search_messages runs as the caller (docs/security.md).
grant execute on function private.search_message_hits(text, uuid, uuid, public.message_kind, boolean, text, boolean, timestamptz,
  timestamptz, uuid, text, text, text, integer) to authenticated, service_role;

-- The RPC runs as the caller and keeps only the rows of the page that the caller can select from public.messages: the
-- policy "members can read messages of their chats", the rule get_chat_messages answers with, is the last check on
-- every result and every snippet, whatever the helper found.
create function public.search_messages(
  query text,
  chat_id uuid default null,
  author_id uuid default null,
  kind public.message_kind default null,
  has_files boolean default null,
  file_kind text default null,
  mentions_me boolean default null,
  after timestamptz default null,
  before timestamptz default null,
  thread_root_id uuid default null,
  sort text default 'relevance',
  language text default 'english',
  cursor text default null,
  page_size integer default 20
) returns setof public.message_search_result
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  hits public.message_search_result[];
begin
  -- The helper runs first and whole: its checks (signed in, not a guest, a member of chat_id, the query) raise
  -- whatever plan the row check below gets (joined directly, an empty messages side could skip the helper and turn
  -- a refusal into an empty page).
  hits := array(
    select (h.message_id, h.chat_id, h.chat_kind, h.chat_title, h.seq, h.author_id, h.author, h.kind, h.created_at,
            h.edited_at, h.thread_root_id, h.snippet, h.rank, h.cursor)::public.message_search_result
      from private.search_message_hits(search_messages.query, search_messages.chat_id, search_messages.author_id,
             search_messages.kind, search_messages.has_files, search_messages.file_kind, search_messages.mentions_me,
             search_messages.after, search_messages.before, search_messages.thread_root_id, search_messages.sort,
             search_messages.language, search_messages.cursor, search_messages.page_size) with ordinality h
     order by h.ordinality);
  -- Every row of the page passes the messages policy as the caller (the rule of get_chat_messages).
  return query
  select h.message_id, h.chat_id, h.chat_kind, h.chat_title, h.seq, h.author_id, h.author, h.kind, h.created_at,
         h.edited_at, h.thread_root_id, h.snippet, h.rank, h.cursor
    from unnest(hits) with ordinality h
   where exists (select 1 from public.messages m where m.id = h.message_id)
   order by h.ordinality;
end
$$;
comment on function public.search_messages(text, uuid, uuid, public.message_kind, boolean, text, boolean, timestamptz,
  timestamptz, uuid, text, text, text, integer) is
  'Full-text search over the messages you can read (one chat or all your chats), with filters, sort and keyset pages.';
revoke all on function public.search_messages(text, uuid, uuid, public.message_kind, boolean, text, boolean, timestamptz,
  timestamptz, uuid, text, text, text, integer) from public, anon, authenticated;
grant execute on function public.search_messages(text, uuid, uuid, public.message_kind, boolean, text, boolean, timestamptz,
  timestamptz, uuid, text, text, text, integer) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs: people and chats
-- ---------------------------------------------------------------------------------------------------------------
-- The ranking of a name against a query: exact username 4; a username that starts with the query 2 + 1/length (the
-- shorter, the closer to what was typed: 2.03 to 2.5); a display name that starts with it 1 + similarity; else the
-- trigram similarity (0..1) of the username or the display name, the better one. Every username prefix match scores
-- above 2 and every other match at most 2.
create function private.name_score(username text, display_name text, q text) returns real
language sql
immutable
set search_path = ''
as $$
  select (case when lower(username) = lower(q) then 4
               when lower(username) like replace(replace(replace(lower(q), '\', '\\'), '%', '\%'), '_', '\_') || '%'
                 then 2 + 1.0 / char_length(username)
               when lower(coalesce(display_name, '')) like replace(replace(replace(lower(q), '\', '\\'), '%', '\%'), '_', '\_') || '%'
                 then 1 + greatest(extensions.similarity(username, q), extensions.similarity(coalesce(display_name, ''), q))
               else greatest(extensions.similarity(username, q), extensions.similarity(coalesce(display_name, ''), q)) end)::real
$$;
revoke all on function private.name_score(text, text, text) from public, anon, authenticated;

-- A (score, id) keyset cursor "score|id", or 22023.
create function private.score_cursor(cursor text, out score real, out id uuid)
language plpgsql
immutable
set search_path = ''
as $$
declare
  parts text[] := string_to_array(cursor, '|');
begin
  if cursor is null then
    return;
  end if;
  begin
    if array_length(parts, 1) <> 2 then
      raise exception using errcode = '22023';
    end if;
    score := parts[1]::real;
    id := parts[2]::uuid;
  exception when others then
    raise exception 'invalid search cursor' using errcode = '22023',
      hint = 'Pass the cursor of the last result of the previous page.';
  end;
end
$$;
revoke all on function private.score_cursor(text) from public, anon, authenticated;

-- The query text of people and chat search: trimmed, 1..64 characters, one line.
create function private.assert_name_query(query text) returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  q text := btrim(regexp_replace(coalesce(query, ''), '[\s\u0000-\u001f]+', ' ', 'g'));
begin
  if q = '' then
    raise exception 'search query is empty' using errcode = '22023', hint = 'Type at least one character.';
  end if;
  if char_length(q) > 64 then
    raise exception 'search query is too long' using errcode = '22023', hint = 'At most 64 characters.';
  end if;
  return q;
end
$$;
revoke all on function private.assert_name_query(text) from public, anon, authenticated;

-- People by username and display name, ranked. Security invoker: the profiles policy leaves out users who blocked
-- the caller; users the caller blocked are left out too, and so is the caller.
-- Two steps, one ranking. Username prefix matches (the exact username included) score above 2, every other match at
-- most 2 (name_score), and among prefix matches a shorter username ranks higher. So the prefix matches are read one
-- username length at a time, shortest first, through profiles_username_length_idx, until they fill the page: a short
-- prefix that starts thousands of usernames reads only the shortest of them (bench, large: `user1` starts 11,111 of
-- 100,000 usernames; its page of 8 reads 111). Only when they do not fill the page does it come from every match, as
-- ranked by name_score (trigram similarity on usernames and display names).
create function public.search_people(query text, cursor text default null, page_size integer default 20)
returns setof public.people_search_result
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
  q text := private.assert_name_query(search_people.query);
  pattern text := private.like_pattern(q);
  -- name_score's username prefix test, to the letter.
  prefix text := replace(replace(replace(lower(q), '\', '\\'), '%', '\%'), '_', '\_') || '%';
  c record := private.score_cursor(search_people.cursor);
  n integer := private.search_page_size(page_size);
  hidden uuid[] := private.block_partner_ids();
  top public.people_search_result[] := '{}'::public.people_search_result[];
begin
  -- Usernames are 3 to 32 characters (profiles_username_format).
  for len in greatest(char_length(q), 3) .. 32 loop
    exit when cardinality(top) >= n;
    top := top || array(
      select (x.id, x.username, x.display_name, x.avatar_path, x.score, x.score::text || '|' || x.id::text)::public.people_search_result
        from (select p.id, p.username, p.display_name, p.avatar_path, private.name_score(p.username, p.display_name, q) as score
                from public.profiles p
               where char_length(p.username) = len and lower(p.username) like prefix
                 and p.id <> me and p.id <> all (hidden)) x
       where c.score is null or (x.score, x.id) < (c.score, c.id)
       order by x.score desc, x.id desc
       limit n - cardinality(top));
  end loop;
  if cardinality(top) = n and top[n].score > 2 then
    return query select t.user_id, t.username, t.display_name, t.avatar_path, t.score, t.cursor
                   from unnest(top) with ordinality t order by t.ordinality;
    return;
  end if;
  return query
  select x.id, x.username, x.display_name, x.avatar_path, x.score,
         x.score::text || '|' || x.id::text
    from (select p.id, p.username, p.display_name, p.avatar_path, private.name_score(p.username, p.display_name, q) as score
            from public.profiles p
           where (p.username ilike pattern or p.display_name ilike pattern
                  or p.username operator(extensions.%) q or p.display_name operator(extensions.%) q)
             and p.id <> me and p.id <> all (hidden)) x
   where c.score is null or (x.score, x.id) < (c.score, c.id)
   order by x.score desc, x.id desc
   limit n;
end
$$;
comment on function public.search_people(text, text, integer) is
  'People by username and display name: exact username, then prefix, then similarity; keyset pages by cursor.';
revoke all on function public.search_people(text, text, integer) from public, anon, authenticated;
grant execute on function public.search_people(text, text, integer) to authenticated, service_role;

-- Groups and channels by title (and description, weighted lower): my chats and discoverable ones, the rows the
-- chats policy shows the caller. Direct chats are found through search_people and list_chats(search).
create function public.search_chats(query text, cursor text default null, page_size integer default 20)
returns setof public.chat_search_result
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
  q text := private.assert_name_query(search_chats.query);
  pattern text := private.like_pattern(q);
  c record := private.score_cursor(search_chats.cursor);
  n integer := private.search_page_size(page_size);
begin
  return query
  select x.id, x.kind, x.title, x.description, x.avatar_path, x.member_count, x.is_member, x.score,
         x.score::text || '|' || x.id::text
    from (select ch.id, ch.kind, ch.title, ch.description, ch.avatar_path, ch.member_count,
                 exists (select 1 from public.chat_members m where m.chat_id = ch.id and m.user_id = me) as is_member,
                 ((case when lower(ch.title) = lower(q) then 3
                        when lower(ch.title) like replace(pattern, '%', '') || '%' then 2 else 0 end)
                  + greatest(extensions.similarity(ch.title, q), 0.5 * extensions.similarity(coalesce(ch.description, ''), q))
                  + case when ch.description ilike pattern then 0.25 else 0 end)::real as score
            from public.chats ch
           where ch.kind <> 'direct'
             -- The chats policy's rule: my chats, and discoverable groups and channels.
             and (ch.discoverable or exists (select 1 from public.chat_members m where m.chat_id = ch.id and m.user_id = me))
             and (ch.title ilike pattern or ch.description ilike pattern
                  or ch.title operator(extensions.%) q or ch.description operator(extensions.%) q)) x
   where c.score is null or (x.score, x.id) < (c.score, c.id)
   order by x.score desc, x.id desc
   limit n;
end
$$;
comment on function public.search_chats(text, text, integer) is
  'Groups and channels you are in or can discover, by title and description, ranked; keyset pages by cursor.';
revoke all on function public.search_chats(text, text, integer) from public, anon, authenticated;
grant execute on function public.search_chats(text, text, integer) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- RPCs: suggestions and recent searches
-- ---------------------------------------------------------------------------------------------------------------
-- As-you-type: up to 3 recent searches that start with the text, then the best people and chats (up to page_size
-- of each).
create function public.search_suggestions(query text, page_size integer default 8)
returns setof public.search_suggestion
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  q text := private.assert_name_query(search_suggestions.query);
  n integer := least(greatest(coalesce(search_suggestions.page_size, 8), 1), 20);
  prefix text := replace(replace(replace(lower(q), '\', '\\'), '%', '\%'), '_', '\_') || '%';
begin
  perform private.require_user();
  return query
  (select 'query'::text, null::uuid, r.query, null::text, null::text
     from public.recent_searches r
    where r.user_id = (select auth.uid()) and lower(r.query) like prefix
    order by r.searched_at desc
    limit least(3, n))
  union all
  (select 'person'::text, p.user_id, p.username, p.display_name, p.avatar_path
     from public.search_people(q, null, n) p)
  union all
  (select 'chat'::text, c.chat_id, c.title, c.kind::text, c.avatar_path
     from public.search_chats(q, null, n) c);
end
$$;
comment on function public.search_suggestions(text, integer) is
  'As-you-type suggestions: your recent searches starting with the text, then people, then chats.';
revoke all on function public.search_suggestions(text, integer) from public, anon, authenticated;
grant execute on function public.search_suggestions(text, integer) to authenticated, service_role;

-- Adds a query to the caller's recent searches (or moves it to the top); the newest 20 are kept.
create function public.save_recent_search(query text) returns public.recent_searches
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
  q text := private.assert_search_text(save_recent_search.query);
  saved public.recent_searches;
begin
  insert into public.recent_searches (user_id, query) values (me, q)
  on conflict on constraint recent_searches_pkey do update set searched_at = now()
  returning * into saved;
  delete from public.recent_searches r
   where r.user_id = me
     and r.query not in (select r2.query from public.recent_searches r2 where r2.user_id = me
                          order by r2.searched_at desc limit 20);
  return saved;
end
$$;
comment on function public.save_recent_search(text) is 'Remembers a search (newest 20 kept per user).';
revoke all on function public.save_recent_search(text) from public, anon, authenticated;
grant execute on function public.save_recent_search(text) to authenticated, service_role;

-- Forgets one recent search, or all of them (query null). Returns how many were removed.
create function public.clear_recent_searches(query text default null) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := private.require_user();
  removed integer;
begin
  delete from public.recent_searches r
   where r.user_id = me and (clear_recent_searches.query is null or r.query = btrim(clear_recent_searches.query));
  get diagnostics removed = row_count;
  return removed;
end
$$;
comment on function public.clear_recent_searches(text) is 'Removes one of your recent searches, or all of them.';
revoke all on function public.clear_recent_searches(text) from public, anon, authenticated;
grant execute on function public.clear_recent_searches(text) to authenticated, service_role;
