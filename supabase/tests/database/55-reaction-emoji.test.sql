-- Reactions are one emoji (issue 21, item 3): exactly one entry of Unicode's RGI list (private.rgi_emoji, generated
-- from emoji-test.txt) or a custom emoji the chat defines (public.chat_emoji). Words, invisible or bidi characters,
-- two emoji, and unknown short codes are refused with 22023 and a hint; owners and admins manage custom emoji,
-- members read and use them, outsiders and lower roles are refused.
begin;
create extension if not exists pgtap with schema extensions;
select plan(42);

select tests.create_user(u) from unnest(array['alice', 'bob', 'carol', 'mallory']) u;
select tests.create_group('team', 'alice', members => array['bob', 'carol'], admins => array['carol']);
select tests.create_group('other', 'mallory', title => 'Other');
select tests.send_message('m1', 'bob', 'team', 'hello');

-- the list ----------------------------------------------------------------------------------------------------------
select cmp_ok((select count(*) from private.rgi_emoji), '>', 3900::bigint, 'the RGI list is loaded (Emoji 17.0: 3944)');
select ok(not exists (select 1 from private.rgi_emoji where emoji ~ '^[\U0001F3FB-\U0001F3FF]$'),
  'a lone skin-tone modifier is a component, not an emoji of its own');

select tests.authenticate_as('bob');

-- refused -----------------------------------------------------------------------------------------------------------
select throws_ok($$ select public.toggle_reaction(tests.id('m1'), 'привет') $$, '22023', 'invalid emoji',
  'a Cyrillic word is not a reaction');
select throws_ok($$ select public.toggle_reaction(tests.id('m1'), 'ок') $$, '22023', 'invalid emoji',
  'a short Cyrillic word is not a reaction');
select throws_ok($$ select public.toggle_reaction(tests.id('m1'), E'\u202E') $$, '22023', 'invalid emoji',
  'a right-to-left override (U+202E) is not a reaction');
select throws_ok($$ select public.toggle_reaction(tests.id('m1'), E'\u200B') $$, '22023', 'invalid emoji',
  'a zero-width space (U+200B) is not a reaction');
select throws_ok($$ select public.toggle_reaction(tests.id('m1'), E'👍\u200B') $$, '22023', 'invalid emoji',
  'an emoji followed by a zero-width space is refused');
select throws_ok($$ select public.toggle_reaction(tests.id('m1'), E'\u202E👍') $$, '22023', 'invalid emoji',
  'an emoji behind a bidi override is refused');
select throws_ok($$ select public.toggle_reaction(tests.id('m1'), '👍👍') $$, '22023', 'invalid emoji',
  'two emoji are refused');
select throws_ok($$ select public.toggle_reaction(tests.id('m1'), '🎉🔥') $$, '22023', 'invalid emoji',
  'two different emoji are refused');
select throws_ok($$ select public.toggle_reaction(tests.id('m1'), '🏽') $$, '22023', 'invalid emoji',
  'a lone skin-tone modifier is refused');
select throws_ok($$ select public.toggle_reaction(tests.id('m1'), '1') $$, '22023', 'invalid emoji',
  'a digit without the keycap is refused');
select throws_ok($$ select public.toggle_reaction(tests.id('m1'), '🇿🇿') $$, '22023', 'invalid emoji',
  'regional indicators that name no country are refused');
select throws_ok($$ select public.toggle_reaction(tests.id('m1'), '') $$, '22023', 'invalid emoji', 'an empty reaction is refused');
select throws_ok($$ select public.toggle_reaction(tests.id('m1'), null) $$, '22023', 'invalid emoji', 'a null reaction is refused');
select is(tests.error_of($$ select public.toggle_reaction(tests.id('m1'), 'lol') $$) ->> 'hint',
  'React with exactly one emoji of Unicode''s RGI list (skin tones, ZWJ sequences, keycaps and flags included) or a :short_code: of the chat''s custom emoji.',
  'the refusal says what a reaction may be');
select throws_ok($$ select public.toggle_reaction(tests.id('m1'), ':party_parrot:') $$, '22023', 'unknown custom emoji',
  'a short code the chat does not define is refused');
select is((select reaction_counts from public.messages where id = tests.id('m1')), '{}'::jsonb, 'refusals changed nothing');

-- accepted ----------------------------------------------------------------------------------------------------------
select is(public.toggle_reaction(tests.id('m1'), '👍') ->> 'added', 'true', 'a plain emoji is a reaction');
select is(public.toggle_reaction(tests.id('m1'), '👍🏽') ->> 'emoji', '👍🏽', 'an emoji with a skin-tone modifier is one emoji');
select is(public.toggle_reaction(tests.id('m1'), '👨‍👩‍👧‍👦') ->> 'emoji', '👨‍👩‍👧‍👦', 'a ZWJ family sequence is one emoji');
select is(public.toggle_reaction(tests.id('m1'), '1️⃣') ->> 'emoji', '1️⃣', 'a keycap sequence is one emoji');
select is(public.toggle_reaction(tests.id('m1'), '#️⃣') ->> 'emoji', '#️⃣', 'the # keycap is one emoji');
select is(public.toggle_reaction(tests.id('m1'), '🇺🇦') ->> 'emoji', '🇺🇦', 'a flag (two regional indicators) is one emoji');
select is(public.toggle_reaction(tests.id('m1'), '🏴󠁧󠁢󠁳󠁣󠁴󠁿') ->> 'emoji', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', 'a subdivision flag (tag sequence) is one emoji');
select is(public.toggle_reaction(tests.id('m1'), E'\u2764') ->> 'emoji', E'\u2764\uFE0F',
  'a heart sent without its presentation selector is stored fully qualified');
select is(public.toggle_reaction(tests.id('m1'), ' 🎉 ') ->> 'emoji', '🎉', 'surrounding spaces are trimmed');

-- custom emoji: who manages them ------------------------------------------------------------------------------------
select throws_ok($$ select public.add_chat_emoji(tests.id('team'), ':party_parrot:', tests.id('bob') || '/parrot.gif') $$,
  '42501', 'only chat admins can do this', 'a plain member cannot add a custom emoji');
select tests.authenticate_as('mallory');
select throws_ok($$ select public.add_chat_emoji(tests.id('team'), ':party_parrot:', tests.id('mallory') || '/parrot.gif') $$,
  'PT404', 'chat not found', 'an outsider cannot add a custom emoji');
select tests.clear_authentication();
select throws_ok($$ select public.add_chat_emoji(tests.id('team'), ':party_parrot:', 'x/parrot.gif') $$,
  '42501', null, 'anon cannot add a custom emoji');

select tests.authenticate_as('carol');
select throws_ok($$ select public.add_chat_emoji(tests.id('team'), ':party_parrot:', tests.id('alice') || '/parrot.gif') $$,
  '22023', 'emoji image must be in your own folder of the avatars bucket', 'the image must be in the admin''s own folder');
select throws_ok($$ select public.add_chat_emoji(tests.id('team'), ':party_parrot:', 'https://evil.example/p.gif') $$,
  '22023', 'invalid emoji image', 'a URL is not an image path');
select throws_ok($$ select public.add_chat_emoji(tests.id('team'), ':party_parrot:', tests.id('carol') || E'/p\u202Egif.exe') $$,
  '22023', 'invalid emoji image', 'an image name with a bidi override is refused');
select throws_ok($$ select public.add_chat_emoji(tests.id('team'), 'party parrot', tests.id('carol') || '/p.gif') $$,
  '22023', 'invalid short code', 'a short code needs its colons and no spaces');
select is((public.add_chat_emoji(tests.id('team'), ':Party_Parrot:', tests.id('carol') || '/parrot.gif')).shortcode,
  ':party_parrot:', 'an admin adds a custom emoji (short codes are lowercase)');
select throws_ok($$ select public.add_chat_emoji(tests.id('team'), ':party_parrot:', tests.id('carol') || '/p2.gif') $$,
  '23505', 'the chat already has this emoji', 'a short code is defined once per chat');

-- custom emoji: who reads and uses them -----------------------------------------------------------------------------
select tests.authenticate_as('bob');
select is((select count(*) from public.chat_emoji where chat_id = tests.id('team')), 1::bigint, 'members read the chat''s custom emoji');
select is(public.toggle_reaction(tests.id('m1'), ':party_parrot:') ->> 'emoji', ':party_parrot:', 'members react with it');
select tests.authenticate_as('mallory');
select is_empty($$ select 1 from public.chat_emoji where chat_id = tests.id('team') $$, 'outsiders do not see a chat''s custom emoji');
select tests.send_message('o1', 'mallory', 'other', 'elsewhere');
select tests.authenticate_as('mallory');
select throws_ok($$ select public.toggle_reaction(tests.id('o1'), ':party_parrot:') $$, '22023', 'unknown custom emoji',
  'another chat''s custom emoji is not defined here');
select tests.authenticate_as('bob');
select throws_ok($$ select public.remove_chat_emoji(tests.id('team'), ':party_parrot:') $$, '42501', null,
  'a plain member cannot remove a custom emoji');
select tests.authenticate_as('alice');
select is(public.remove_chat_emoji(tests.id('team'), ':party_parrot:'), true, 'the owner removes it');

select * from finish();
rollback;
