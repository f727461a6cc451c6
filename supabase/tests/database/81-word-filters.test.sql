-- Word filters: per chat (its admins) and app-wide (moderators), block or mask, whole words, case- and
-- accent-insensitive, on message bodies (send and edit) and on chat titles and descriptions.
-- Personas: olga (owner of Club), adam (admin), mia (member), otto (outsider), mona (app moderator), anon.
begin;
create extension if not exists pgtap with schema extensions;
select plan(27);

select tests.create_user(u) from unnest(array['olga', 'adam', 'mia', 'otto', 'mona']) u;
select tests.make_moderator('mona');
select tests.create_group('Club', 'olga', members => array['adam', 'mia'], admins => array['adam']);
select tests.send_message('m1', 'mia', 'Club', 'a clean message');

-- who may add filters ---------------------------------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok(format('select public.add_word_filter(''darn'', ''block'', %L)', tests.id('Club')), '42501', null,
  'anon cannot add filters');
select tests.authenticate_as('mia');
select throws_ok(format('select public.add_word_filter(''darn'', ''block'', %L)', tests.id('Club')), '42501',
  'only chat admins can do this', 'a member cannot add a chat filter');
select throws_ok($$ select public.add_word_filter('darn') $$, '42501', 'only app moderators can do this',
  'a user cannot add an app-wide filter');
select tests.authenticate_as('otto');
select throws_ok(format('select public.add_word_filter(''darn'', ''block'', %L)', tests.id('Club')), 'PT404', null,
  'an outsider cannot add a chat filter');
select tests.authenticate_as('adam');
select lives_ok(format('select tests.remember(''f_darn'', (public.add_word_filter(''Dárn'', ''block'', %L)).id)', tests.id('Club')),
  'a chat admin adds a blocked word');
select is((select word from public.word_filters where id = tests.id('f_darn')), 'darn', 'the word is stored folded');
select lives_ok(format('select public.add_word_filter(''heck'', ''mask'', %L)', tests.id('Club')), 'a chat admin adds a masked word');
select throws_ok(format('select public.add_word_filter(''two words'', ''block'', %L)', tests.id('Club')), '22023', 'invalid filter word',
  'a filter is one word');
select is((select count(*)::int from public.word_filters), 2, 'a chat admin reads their chat''s filters');
select tests.authenticate_as('mia');
select is((select count(*)::int from public.word_filters), 0, 'members do not read the filter list');

-- bodies ----------------------------------------------------------------------------------------------------------------
select throws_ok($$ select public.send_message(tests.id('Club'), 'oh DARN it') $$, '22023', 'message contains a blocked word',
  'a blocked word is refused, whatever its case');
select throws_ok($$ select public.send_message(tests.id('Club'), 'oh dÄrn!') $$, '22023', 'message contains a blocked word',
  'a blocked word is refused, whatever its accents');
select is((select body from public.send_message(tests.id('Club'), 'darned good')), 'darned good',
  'only whole words are filtered');
select is((select body from public.send_message(tests.id('Club'), 'what the Heck, héck')), 'what the ****, ****',
  'a masked word is replaced by asterisks');
select throws_ok(format('select public.edit_message(%L, ''darn'')', tests.id('m1')), '22023', 'message contains a blocked word',
  'edits are filtered');
select is((select body from public.edit_message(tests.id('m1'), 'heck no')), '**** no', 'edits are masked');
select is((select count(*)::int from public.messages where chat_id = tests.id('Club') and body ilike '%darn %'), 0,
  'a refused message changed nothing');

-- app-wide filters and titles -------------------------------------------------------------------------------------------
select tests.authenticate_as('mona');
select lives_ok($$ select tests.remember('f_app', (public.add_word_filter('scam')).id) $$, 'a moderator adds an app-wide filter');
select lives_ok($$ select public.add_word_filter('jerk', 'mask') $$, 'a moderator adds an app-wide masked word');
select tests.authenticate_as('mia');
select throws_ok($$ select public.create_group_chat('Scam central') $$, '22023', 'title contains a blocked word',
  'app-wide filters apply to new chat titles');
select is((select description from public.create_group_chat('Fine', description => 'no jerks, no jerk')), 'no jerks, no ****',
  'and to descriptions');
select throws_ok($$ select public.send_message(tests.id('Club'), 'SCAM alert') $$, '22023', 'message contains a blocked word',
  'app-wide filters apply in every chat');
select tests.authenticate_as('adam');
select throws_ok(format('select public.update_chat(%L, title => ''Darn club'')', tests.id('Club')), '22023', 'title contains a blocked word',
  'the chat''s filters apply to its title');
select is((select title from public.update_chat(tests.id('Club'), title => 'Heck club')), '**** club', 'and mask it');
select throws_ok(format('select public.remove_word_filter(%L)', tests.id('f_app')), 'PT404', 'word filter not found',
  'a chat admin cannot remove an app-wide filter');
select is(public.remove_word_filter(tests.id('f_darn')), true, 'a chat admin removes their chat''s filter');
select tests.authenticate_as('mia');
select is((select body from public.send_message(tests.id('Club'), 'darn')), 'darn', 'a removed filter no longer applies');

select * from finish();
rollback;
