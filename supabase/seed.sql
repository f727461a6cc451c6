-- Demo data for local development (`npm start`, `npm run db:reset`, `supabase db reset`). Never run in production.
-- Three confirmed users who can sign in with password `Password123` through Supabase Auth:
--   alice@example.com, bob@example.com, carol@example.com
insert into auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
  confirmation_token, recovery_token, email_change_token_new, email_change
)
select '00000000-0000-0000-0000-000000000000', u.id, 'authenticated', 'authenticated', u.email,
       extensions.crypt('Password123', extensions.gen_salt('bf')), now(),
       '{"provider": "email", "providers": ["email"]}'::jsonb,
       jsonb_build_object('username', u.username, 'display_name', u.display_name),
       now(), now(), '', '', '', ''
  from (values
    ('a11ce000-0000-4000-8000-000000000001'::uuid, 'alice@example.com', 'alice', 'Alice'),
    ('b0b00000-0000-4000-8000-000000000002'::uuid, 'bob@example.com', 'bob', 'Bob'),
    ('ca401000-0000-4000-8000-000000000003'::uuid, 'carol@example.com', 'carol', 'Carol')
  ) as u(id, email, username, display_name)
on conflict (id) do nothing;

insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
select u.id::text, u.id, jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true), 'email',
       now(), now(), now()
  from auth.users u
 where u.email in ('alice@example.com', 'bob@example.com', 'carol@example.com')
on conflict (provider_id, provider) do nothing;

-- A group, a direct chat and a channel with a few messages, created through the same RPCs a client uses.
do $$
declare
  alice uuid := 'a11ce000-0000-4000-8000-000000000001';
  bob uuid := 'b0b00000-0000-4000-8000-000000000002';
  carol uuid := 'ca401000-0000-4000-8000-000000000003';
  team uuid;
  dm uuid;
  news uuid;
begin
  if exists (select 1 from public.chats) then
    return;
  end if;
  perform set_config('request.jwt.claims', json_build_object('sub', alice, 'role', 'authenticated')::text, true);
  team := (public.create_group_chat('Weekend plans', array[bob, carol], 'Where and when')).id;
  dm := (public.create_direct_chat(bob)).id;
  news := (public.create_channel('Announcements', 'News from the team')).id;
  perform public.send_message(team, 'Hike on Saturday?');
  perform public.send_message(dm, 'Are you coming?');
  perform public.send_message(news, 'Welcome to supabase-chat!');
  perform set_config('request.jwt.claims', json_build_object('sub', bob, 'role', 'authenticated')::text, true);
  perform public.send_message(team, 'Yes! 9am at the trailhead.', mentions => array[alice]);
  perform public.send_message(dm, 'On my way');
  perform public.join_chat(news);
  perform set_config('request.jwt.claims', json_build_object('sub', carol, 'role', 'authenticated')::text, true);
  perform public.toggle_reaction((select id from public.messages where chat_id = team and seq = 2), '👍');
  perform set_config('request.jwt.claims', '', true);
end
$$;
