-- Every path a client may set is validated like the profile avatar (issue 21, item 3): a chat's avatar and a custom
-- emoji's image are avatars-bucket paths `<user id>/<file name>` in the folder of the user who sets them (the only
-- folder the Storage policies let them upload to), with a one-line file name. URLs, other users' folders, traversal
-- and formatting characters are refused with 22023 and a hint; a refusal changes nothing.
begin;
create extension if not exists pgtap with schema extensions;
select plan(17);

select tests.create_user(u) from unnest(array['alice', 'bob', 'carol']) u;
select tests.create_group('team', 'alice', members => array['bob', 'carol'], admins => array['carol']);
select tests.authenticate_as('alice');

select is((public.update_chat(tests.id('team'), avatar_path => tests.id('alice') || '/team.png')).avatar_path,
  tests.id('alice') || '/team.png', 'an admin sets the chat avatar to an image in their own folder');
select throws_ok(format('select public.update_chat(%L, avatar_path => %L)', tests.id('team'), tests.id('bob') || '/x.png'),
  '22023', 'avatar path must be in your own folder of the avatars bucket', 'another user''s folder is refused');
select throws_ok(format('select public.update_chat(%L, avatar_path => %L)', tests.id('team'), 'https://evil.example/a.png'),
  '22023', 'invalid avatar path', 'a URL is refused');
select throws_ok(format('select public.update_chat(%L, avatar_path => %L)', tests.id('team'), '//evil.example/a.png'),
  '22023', 'invalid avatar path', 'a protocol-relative URL is refused');
select throws_ok(format('select public.update_chat(%L, avatar_path => %L)', tests.id('team'), tests.id('alice') || '/../x.png'),
  '22023', 'invalid avatar path', 'a path that climbs out of the folder is refused');
select throws_ok(format('select public.update_chat(%L, avatar_path => %L)', tests.id('team'), tests.id('alice') || '/..'),
  '22023', 'invalid avatar path', 'a parent-folder name is refused');
select throws_ok(format('select public.update_chat(%L, avatar_path => %L)', tests.id('team'), tests.id('alice') || '/a\b.png'),
  '22023', 'invalid avatar path', 'a backslash is refused');
select throws_ok(format('select public.update_chat(%L, avatar_path => %L)', tests.id('team'), tests.id('alice') || E'/gnp\u202E.exe'),
  '22023', 'invalid avatar path', 'a file name with a bidi override is refused');
select throws_ok(format('select public.update_chat(%L, avatar_path => %L)', tests.id('team'), tests.id('alice') || E'/a\nb.png'),
  '22023', 'invalid avatar path', 'a file name with a line break is refused');
select throws_ok(format('select public.update_chat(%L, avatar_path => %L)', tests.id('team'), 'team.png'),
  '22023', 'invalid avatar path', 'a bare file name is refused');
select throws_ok(format('select public.update_chat(%L, avatar_path => %L)', tests.id('team'), tests.id('alice') || '/' || repeat('a', 201)),
  '22023', 'invalid avatar path', 'a file name over 200 characters is refused');
select is(tests.error_of(format('select public.update_chat(%L, avatar_path => %L)', tests.id('team'), 'x')) ->> 'hint',
  'Upload the image to the avatars bucket as <your user id>/<file name> and pass that path.', 'the refusal says what to do');
select is((select avatar_path from public.chats where id = tests.id('team')), tests.id('alice') || '/team.png',
  'refusals changed nothing');

select tests.authenticate_as('carol');
select is((public.update_chat(tests.id('team'), avatar_path => tests.id('carol') || '/new.webp')).avatar_path,
  tests.id('carol') || '/new.webp', 'another admin replaces it with an image in their own folder');
select tests.authenticate_as('bob');
select throws_ok(format('select public.update_chat(%L, avatar_path => %L)', tests.id('team'), tests.id('bob') || '/b.png'),
  '42501', null, 'a plain member cannot set the avatar, even from their own folder');

-- Past the RPCs: the column itself only holds avatars-bucket paths.
reset role;
select throws_ok(format('update public.chats set avatar_path = %L where id = %L', 'https://evil.example/a.png', tests.id('team')),
  '23514', null, 'the chats.avatar_path check constraint refuses a URL even for the service role');
select throws_ok(format('insert into public.chat_emoji (chat_id, shortcode, image_path) values (%L, %L, %L)',
  tests.id('team'), ':xx:', 'https://evil.example/x.gif'), '23514', null, 'so does chat_emoji.image_path');

select * from finish();
rollback;
