-- Bodies keep right-to-left text (issue 21, item 3): Arabic and Hebrew mixed with left-to-right words, digits,
-- emoji and the bidi marks are stored as written; an embedding, override or isolate must be closed by its own
-- terminator in the same paragraph (private.bidi_unbalanced). Unbalanced text is refused with 22023 and a hint in
-- messages (send and edit), chat descriptions and bios, and the refusal changes nothing.
begin;
create extension if not exists pgtap with schema extensions;
select plan(27);

select tests.create_user(u) from unnest(array['alice', 'bob']) u;
select tests.create_group('team', 'alice', members => array['bob'], title => 'Team');
select tests.authenticate_as('bob');

-- kept as written -----------------------------------------------------------------------------------------------------
select is((public.send_message(tests.id('team'), 'مرحبا Bob, see PR #42 اليوم')).body, 'مرحبا Bob, see PR #42 اليوم',
  'Arabic mixed with English and digits is kept');
select is((public.send_message(tests.id('team'), E'שלום world\nשורה שנייה 2')).body, E'שלום world\nשורה שנייה 2',
  'Hebrew mixed with English over two lines is kept');
select is((public.send_message(tests.id('team'), E'price: \u2067١٢٣ ريال\u2069 ok')).body, E'price: \u2067١٢٣ ريال\u2069 ok',
  'a closed right-to-left isolate is kept');
select is((public.send_message(tests.id('team'), E'\u202Bעברית \u202Aabc\u202C\u202C')).body, E'\u202Bעברית \u202Aabc\u202C\u202C',
  'nested embeddings closed innermost first are kept');
select is((public.send_message(tests.id('team'), E'\u2068name\u2069: \u202Eright\u202C')).body, E'\u2068name\u2069: \u202Eright\u202C',
  'a first-strong isolate and a closed override are kept');
select is((public.send_message(tests.id('team'), E'C++\u200F in عربي \u200E')).body, E'C++\u200F in عربي \u200E',
  'bidi marks (RLM, LRM) need no terminator');
select is((public.send_message(tests.id('team'), 'أهلا 👋🏽 friends')).body, 'أهلا 👋🏽 friends', 'right-to-left text with emoji is kept');

-- refused -------------------------------------------------------------------------------------------------------------
select throws_ok($$ select public.send_message(tests.id('team'), E'invoice \u202Efdp.exe') $$, '22023',
  'message has unbalanced bidirectional formatting', 'an override that is never closed is refused');
select throws_ok($$ select public.send_message(tests.id('team'), E'\u2067עברית') $$, '22023',
  'message has unbalanced bidirectional formatting', 'an isolate that is never closed is refused');
select throws_ok($$ select public.send_message(tests.id('team'), E'\u202Babc\ndef\u202C') $$, '22023',
  'message has unbalanced bidirectional formatting', 'an embedding may not run past the end of its paragraph');
select throws_ok($$ select public.send_message(tests.id('team'), E'\u2066a\u2029b\u2069') $$, '22023',
  'message has unbalanced bidirectional formatting', 'nor past a paragraph separator (U+2029)');
select throws_ok($$ select public.send_message(tests.id('team'), E'quote ends here\u202C') $$, '22023',
  'message has unbalanced bidirectional formatting', 'a stray PDF is refused');
select throws_ok($$ select public.send_message(tests.id('team'), E'name\u2069 said') $$, '22023',
  'message has unbalanced bidirectional formatting', 'a stray PDI is refused');
select throws_ok($$ select public.send_message(tests.id('team'), E'\u2067a\u202Cb\u2069') $$, '22023',
  'message has unbalanced bidirectional formatting', 'a PDF cannot close an isolate');
select throws_ok($$ select public.send_message(tests.id('team'), E'\u202Ba\u2069') $$, '22023',
  'message has unbalanced bidirectional formatting', 'a PDI cannot close an embedding');
select throws_ok($$ select public.send_message(tests.id('team'), E'\u2067a\u202Eb\u2069\u202C') $$, '22023',
  'message has unbalanced bidirectional formatting', 'terminators must close the innermost opener first');
select is(tests.error_of($$ select public.send_message(tests.id('team'), E'\u202E') $$) ->> 'hint',
  'Close each embedding, override or isolate (U+202A-U+202E, U+2066-U+2068) with its own terminator (U+202C, U+2069) in the same paragraph, or leave them out; right-to-left text needs none of them.',
  'the refusal says how to fix it');
select is((select count(*) from public.messages where chat_id = tests.id('team')), 7::bigint, 'refused sends stored nothing');

-- edits -----------------------------------------------------------------------------------------------------------------
select tests.remember('m', (public.send_message(tests.id('team'), 'مرحبا')).id);
select throws_ok($$ select public.edit_message(tests.id('m'), E'مرحبا \u202E') $$, '22023',
  'message has unbalanced bidirectional formatting', 'an edit is held to the same rule');
select is((select body from public.messages where id = tests.id('m')), 'مرحبا', 'and the refused edit changed nothing');
select is((public.edit_message(tests.id('m'), 'مرحبا بالجميع, hello all')).body, 'مرحبا بالجميع, hello all',
  'a right-to-left edit is accepted');

-- descriptions and bios -----------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select throws_ok($$ select public.update_chat(tests.id('team'), description => E'rules \u202Eneve\u202D') $$, '22023',
  'description has unbalanced bidirectional formatting', 'a chat description is held to the same rule');
select throws_ok($$ select public.create_group_chat('G', description => E'\u2066open') $$, '22023',
  'description has unbalanced bidirectional formatting', 'so is the description of a new group');
select is((public.update_chat(tests.id('team'), description => E'קבוצה של Team\nשורה 2')).description, E'קבוצה של Team\nשורה 2',
  'a right-to-left description is kept');
select throws_ok($$ update public.profiles set bio = E'hi \u202Eecila' where id = auth.uid() $$, '22023',
  'bio has unbalanced bidirectional formatting', 'a bio is held to the same rule');
select lives_ok($$ update public.profiles set bio = E'مطورة \u2067Supabase\u2069\nسطر' where id = auth.uid() $$,
  'a right-to-left bio with a closed isolate is accepted');
reset role;
select is(private.bidi_unbalanced(repeat('نص عربي with English ', 150)), false, 'long text without formatting characters is balanced');

select * from finish();
rollback;
