-- People and chat search: ranked (exact username > prefix > similarity; title > description), blocks hold in both
-- directions, only my chats and discoverable ones, keyset pages; suggestions and recent searches are per user.
begin;
create extension if not exists pgtap with schema extensions;
select plan(23);

select tests.create_user('sp_me');
select tests.create_user('marta');
select tests.create_user('martin');
select tests.create_user('smartie');
select tests.create_user('martblocker');
select tests.create_user('martblocked');
select tests.create_user('sp_other');
update public.profiles set display_name = 'Marta Kowalska' where id = tests.get_user_id('smartie');

select tests.authenticate_as('martblocker');
select tests.create_block('martblocker', 'sp_me');
select tests.authenticate_as('sp_me');
select tests.create_block('sp_me', 'martblocked');

-- people -----------------------------------------------------------------------------------------------------------
select tests.authenticate_as('sp_me');
select is((select username from public.search_people('marta') limit 1), 'marta', 'the exact username ranks first');
select is((select array_agg(username) from (select username from public.search_people('mart') limit 2) s), array['marta', 'martin'],
  'username prefixes rank next');
select ok(exists (select 1 from public.search_people('marta') where username = 'smartie'),
  'similar display names are found too');
select is(array(select username from public.search_people('mart', page_size => 2)),
  array(select username from public.search_people('mart', page_size => 50) limit 2),
  'a page that username prefixes fill (read through the prefix index) is the top of the full ranking');
select ok(not exists (select 1 from public.search_people('mart') where username = 'martblocker'), 'a user who blocked me is not found');
select ok(not exists (select 1 from public.search_people('mart') where username = 'martblocked'), 'a user I blocked is not found');
select ok(not exists (select 1 from public.search_people('sp_me') where username = 'sp_me'), 'I am not in my own results');
select is((select count(*)::int from public.search_people('%')), 0, 'LIKE wildcards are literal');
select is((select count(*)::int from (
            select user_id from public.search_people('mart', page_size => 1)
            union
            select user_id from public.search_people('mart', page_size => 50,
                     cursor => (select cursor from public.search_people('mart', page_size => 1)))) s),
          (select count(*)::int from public.search_people('mart', page_size => 50)), 'two pages hold every person once');
select throws_ok($$ select * from public.search_people('') $$, '22023', 'search query is empty', 'an empty query is refused');
select throws_ok(format('select * from public.search_people(%L)', repeat('x', 65)), '22023', 'search query is too long',
  'a long query is refused');
select throws_ok($$ select * from public.search_people('mart', cursor => 'x|y') $$, '22023', 'invalid search cursor', 'a bad cursor is refused');

-- chats ------------------------------------------------------------------------------------------------------------
select tests.create_group('mine', 'sp_me', title => 'Gardening club');
select tests.create_group('secret', 'sp_other', title => 'Gardening secrets');
select tests.create_channel('open', 'sp_other', title => 'Garden news');
select tests.create_group('described', 'sp_other', title => 'Weekend', description => 'all about the garden');
select tests.authenticate_as_service_role();
update public.chats set discoverable = true where id = tests.id('described');
select tests.authenticate_as('sp_me');
select ok(exists (select 1 from public.search_chats('gardening') where chat_id = tests.id('mine') and is_member),
  'my chats are found');
select ok(exists (select 1 from public.search_chats('garden') where chat_id = tests.id('open') and not is_member),
  'discoverable chats are found');
select ok(not exists (select 1 from public.search_chats('gardening') where chat_id = tests.id('secret')),
  'chats I am not in and cannot discover are not');
select is((select chat_id from public.search_chats('garden') order by score asc limit 1), tests.id('described'),
  'a match in the description ranks below title matches');
select tests.clear_authentication();
select throws_ok($$ select * from public.search_chats('garden') $$, '42501', null, 'anon cannot search chats');
select throws_ok($$ select * from public.search_people('mart') $$, '42501', null, 'anon cannot search people');

-- suggestions and recent searches ----------------------------------------------------------------------------------
select tests.authenticate_as('sp_me');
select public.save_recent_search('garden tools');
select public.save_recent_search('martin birthday');
select is((select array_agg(kind || ':' || label) from public.search_suggestions('gard') where kind <> 'person'),
  array['query:garden tools', 'chat:Garden news', 'chat:Gardening club', 'chat:Weekend'],
  'suggestions: my recent searches first, then chats');
select ok(exists (select 1 from public.search_suggestions('mart') where kind = 'person' and label = 'marta'), 'and people');
select tests.authenticate_as('sp_other');
select is((select count(*)::int from public.recent_searches), 0, 'nobody else reads my recent searches');
select is((select count(*)::int from public.search_suggestions('gard') where kind = 'query'), 0, 'nor gets them as suggestions');
select tests.authenticate_as('sp_me');
select is(public.clear_recent_searches(), 2, 'clearing removes all of my recent searches');

select * from finish();
rollback;
