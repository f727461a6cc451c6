-- Hostile search input: every query gives results, an empty page or a clear 22023 with a hint, never an error from
-- the text-search parser; the syntax the docs promise (phrases, -exclude, or, prefix while typing, accents, CJK,
-- emoji) works.
begin;
create extension if not exists pgtap with schema extensions;
select plan(29);

select tests.create_user('si_alice');
select tests.create_user('si_bob');
select tests.create_group('g', 'si_alice', members => array['si_bob'], title => 'Input');
select tests.send_message('m1', 'si_alice', 'g', 'The quick brown fox jumps over the lazy dog');
select tests.send_message('m2', 'si_bob', 'g', 'A quick café meeting at noon');
select tests.send_message('m3', 'si_alice', 'g', 'Running late, the brown bus is slow');
select tests.send_message('m4', 'si_bob', 'g', '東京タワーで会いましょう 🎉');
select tests.send_message('m5', 'si_alice', 'g', 'it''s O''Reilly''s \\book\\ (2nd) & <b>bold</b>');
select tests.authenticate_as('si_bob');

-- refused with 22023 ---------------------------------------------------------------------------------------------
select throws_ok($$ select * from public.search_messages('') $$, '22023', 'search query is empty', 'an empty query is refused');
select throws_ok($$ select * from public.search_messages(E'  \t\n ') $$, '22023', 'search query is empty', 'only whitespace is refused');
select throws_ok($$ select * from public.search_messages(null) $$, '22023', 'search query is empty', 'null is refused');
select throws_ok(format('select * from public.search_messages(%L)', repeat('a', 257)), '22023', 'search query is too long',
  'a query over 256 characters is refused');
select throws_ok(format('select * from public.search_messages(%L)', repeat('ab ', 40)), '22023', 'search query has too many terms',
  'a query of more than 32 words is refused');
select throws_ok($$ select * from public.search_messages('fox', sort => 'oldest') $$, '22023', 'unknown sort', 'an unknown sort is refused');
select throws_ok($$ select * from public.search_messages('fox', language => 'klingon') $$, '22023', 'unknown search language',
  'an unknown language is refused');
select throws_ok($$ select * from public.search_messages('fox', cursor => 'garbage') $$, '22023', 'invalid search cursor',
  'a malformed cursor is refused');
select throws_ok($$ select * from public.search_messages('fox', cursor => 'n|2020-01-01|' || gen_random_uuid(), sort => 'relevance') $$,
  '22023', 'invalid search cursor', 'a cursor of the other sort is refused');
select throws_ok($$ select * from public.search_messages('fox', file_kind => 'spreadsheet') $$, '22023', 'unknown file kind',
  'an unknown file kind is refused');
select is((tests.error_of($$ select * from public.search_messages('') $$)) ->> 'hint', 'Type at least one character.',
  'refusals carry a hint');

-- operators and punctuation give a page, never a parser error ----------------------------------------------------
select is((select count(*)::int from public.search_messages($q$&|!:*()'\$q$)), 0, 'only tsquery operators give an empty page');
select is_empty($$
  select q from unnest(array[$q$fox & dog$q$, $q$fox | dog$q$, $q$!fox$q$, $q$fox:*$q$, $q$fox:A$q$, $q$(fox$q$, $q$fox)$q$,
                              $q$'fox'$q$, $q$\$q$, $q$\\'$q$, $q$fox <-> dog$q$, $q$fox <2> dog$q$, $q$"$q$, $q$""$q$, $q$-$q$, $q$--fox$q$,
                              $q$-"$q$, $q$or$q$, $q$or or or$q$, $q$fox or$q$, $q$"unclosed phrase$q$, $q$:*:*:*$q$, $q$'''$q$,
                              $q$&amp; &lt;b&gt;$q$, $q$<b>$q$, $q$%_%$q$, $q$*$q$, E'\u200f\u202e', $q$🎉🎉$q$]) q
   where (tests.error_of(format('select * from public.search_messages(%L)', q)) ->> 'code') is distinct from null
$$, 'operators, quotes, backslashes, markup and control characters never raise');
select is((select count(*)::int from public.search_messages('the ')), 2,
  'only stop words search for the words as written (exact lexemes)');
select is((select count(*)::int from public.search_messages('fox:*')), 1, 'characters of the tsquery syntax are plain text');

-- the syntax -----------------------------------------------------------------------------------------------------
select is((select array_agg(message_id order by message_id) from public.search_messages('quick ')),
          (select array_agg(x order by x) from unnest(array[tests.id('m1'), tests.id('m2')]) x), 'a word finds every message with it');
select is((select array_agg(message_id) from public.search_messages('quick -café ')), array[tests.id('m1')], '-word excludes');
select is((select count(*)::int from public.search_messages('"brown fox"')), 1, 'a quoted phrase needs the words in order');
select is((select count(*)::int from public.search_messages('"fox brown"')), 0, 'and not in another order');
select is((select count(*)::int from public.search_messages('noon or lazy ')), 2, 'or makes alternatives');
select is((select count(*)::int from public.search_messages('jum')), 1, 'the last word is a prefix while typing');
select is((select count(*)::int from public.search_messages('jum ')), 0, 'and a whole word after a space');
select is((select count(*)::int from public.search_messages('cafe')), 1, 'accents do not matter');
select is((select count(*)::int from public.search_messages('runs ')), 1, 'English stems match in the default language');
select is((select count(*)::int from public.search_messages('runs ', language => 'simple')), 0, 'simple matches words as written');
select is((select count(*)::int from public.search_messages('タワー')), 1, 'text without word boundaries (CJK) is found inside a run');
select is((select count(*)::int from public.search_messages('🎉')), 1, 'emoji are found');
select is((select count(*)::int from public.search_messages($q$O'Reilly's$q$)), 1, 'quotes inside words are plain text');
select is((select count(*)::int from public.search_messages('bold')), 1, 'words inside markup-like text are found');

select * from finish();
rollback;
