-- Content that lies (issue 21, item 3): chat titles and display names are one line of text. Control characters,
-- line breaks and the bidirectional formatting characters that reorder what is shown are refused with 22023 and a
-- hint; right-to-left letters and emoji sequences are fine; sign-up neutralises such characters instead of failing.
begin;
create extension if not exists pgtap with schema extensions;
select plan(19);

select tests.create_user(u) from unnest(array['alice', 'bob']) u;
select tests.create_group('team', 'alice', members => array['bob'], title => 'Team');
select tests.authenticate_as('alice');

-- chat titles ---------------------------------------------------------------------------------------------------------
select throws_ok($$ select public.create_group_chat(E'Pay\u202Egnp.exe') $$, '22023',
  'title has control or formatting characters', 'a group title with a right-to-left override (U+202E) is refused');
select throws_ok($$ select public.create_group_chat(E'two\nlines') $$, '22023',
  'title has control or formatting characters', 'a group title with a line break is refused');
select throws_ok($$ select public.create_group_chat(E'tab\there') $$, '22023',
  'title has control or formatting characters', 'a group title with a tab is refused');
select throws_ok($$ select public.create_group_chat(E'isolate \u2067x\u2069') $$, '22023',
  'title has control or formatting characters', 'a title with a bidi isolate is refused');
select throws_ok($$ select public.create_group_chat(E'sep\u2028arator') $$, '22023',
  'title has control or formatting characters', 'a title with a line separator (U+2028) is refused');
select throws_ok($$ select public.create_channel(E'mark\u200F') $$, '22023',
  'title has control or formatting characters', 'a channel title with a right-to-left mark is refused');
select throws_ok($$ select public.update_chat(tests.id('team'), title => E'new\r\ntitle') $$, '22023',
  'title has control or formatting characters', 'update_chat refuses a title with a line break');
select is(tests.error_of($$ select public.update_chat(tests.id('team'), title => E'x\u202Dy') $$) ->> 'hint',
  'Use one line of text: no line breaks, tabs, control characters or bidirectional formatting characters.',
  'the refusal says what to do');
select is((public.create_group_chat('שלום עולם')).title, 'שלום עולם', 'a right-to-left title is kept as written');
select is((public.create_channel('أخبار 📰')).title, 'أخبار 📰', 'an Arabic title with an emoji is kept');
select is((public.update_chat(tests.id('team'), title => '👨‍👩‍👧 family')).title, '👨‍👩‍👧 family',
  'an emoji sequence with zero-width joiners is fine');

-- display names -------------------------------------------------------------------------------------------------------
select throws_ok($$ update public.profiles set display_name = E'admin\u202E' where id = tests.id('alice') $$, '22023',
  'display name has control or formatting characters', 'a display name with a bidi override is refused');
select throws_ok($$ update public.profiles set display_name = E'Alice\nSupport team' where id = tests.id('alice') $$, '22023',
  'display name has control or formatting characters', 'a display name with a line break is refused');
select lives_ok($$ update public.profiles set display_name = 'דנה כהן' where id = tests.id('alice') $$,
  'a right-to-left display name is accepted');
select throws_ok($$ update public.profiles set display_name = repeat('a', 65) where id = tests.id('alice') $$, '23514', null,
  'the length limit is still the check constraint');
select lives_ok($$ update public.profiles set bio = E'two\nlines' where id = tests.id('alice') $$,
  'a bio may span lines (only names are one line)');

-- sign-up ---------------------------------------------------------------------------------------------------------------
reset role;
select tests.create_user('carol', metadata => jsonb_build_object('display_name', E'Carol\u202E\nX'));
select is((tests.profile('carol')).display_name, 'Carol  X', 'sign-up replaces such characters in the provider''s name');

-- File names: a bidi override could make an image's name read as a program's ('Pay<U+202E>exe.png' shows as
-- 'Paygnp.exe'); plain right-to-left names stay allowed.
select throws_ok($$ select private.assert_file_name(E'Pay\u202Eexe.png') $$, '22023', 'invalid file name',
  'a file name with a bidi override is refused');
select lives_ok($$ select private.assert_file_name('تقرير.pdf') $$, 'a right-to-left file name is accepted');

select * from finish();
rollback;
