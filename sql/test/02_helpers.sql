-- Test databases only: persona helpers for pgTAP, installed by the test harness, never by a migration.
--   select tests.create_user('alice');            -- an auth.users row (profile trigger fires as on sign-up)
--   select tests.authenticate_as('alice');        -- role authenticated + claims like a Supabase access token
--   select tests.authenticate_as_service_role();  -- role service_role (bypasses RLS)
--   select tests.clear_authentication();          -- role anon, anon key claims
--   select tests.get_user_id('alice');
--   select tests.id('alice');                     -- any named fixture: a persona, or what tests.remember named
--   select tests.remember('team', <uuid>);        -- name an id (and optionally a token) for tests.id / tests.token
-- Everything is transaction-local: tests run inside begin ... rollback.

create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role, postgres;

-- Named fixtures: every persona, chat, message, file or invite link a test refers to by name. Rows live only as long
-- as the test's transaction. Only the security-definer helpers below read or write the table, so the names work
-- from every role, also inside the $$ strings of throws_ok.
create table if not exists tests.fixtures (name text primary key, id uuid, token text);
revoke all on tests.fixtures from public, anon, authenticated, service_role;

create or replace function tests.remember(name text, id uuid, token text default null)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into tests.fixtures (name, id, token) values (remember.name, remember.id, remember.token);
  return remember.id;
exception when unique_violation then
  raise exception 'test fixture % is already named', remember.name using errcode = '23505';
end
$$;

-- A name that matches nothing is a mistake in the test: it raises (P0001) rather than passing null along, which would
-- make an RPC answer 'not found' for the wrong reason. Chats created under test can be named by their title.
create or replace function tests.id(name text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  found uuid;
begin
  select f.id into found from tests.fixtures f where f.name = id.name;
  if found is null then
    select c.id into found from public.chats c where c.title = id.name;
  end if;
  if found is null then
    raise exception 'test fixture: nothing is named %', id.name;
  end if;
  return found;
end
$$;

create or replace function tests.token(name text)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  found text;
begin
  select f.token into found from tests.fixtures f where f.name = token.name;
  if found is null then
    raise exception 'test fixture: no token is named %', token.name;
  end if;
  return found;
end
$$;

create or replace function tests.create_user(identifier text, email text default null, metadata jsonb default '{}'::jsonb)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  new_id uuid := gen_random_uuid();
  addr text := coalesce(email, identifier || '@example.test');
begin
  if exists (select 1 from auth.users u where u.raw_user_meta_data ->> 'test_identifier' = identifier) then
    raise exception 'test user % already exists', identifier using errcode = '23505';
  end if;
  insert into auth.users (
    instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
    raw_app_meta_data, raw_user_meta_data, created_at, updated_at
  ) values (
    '00000000-0000-0000-0000-000000000000', new_id, 'authenticated', 'authenticated', addr, '', now(),
    jsonb_build_object('provider', 'email', 'providers', jsonb_build_array('email')),
    coalesce(metadata, '{}'::jsonb) || jsonb_build_object('test_identifier', identifier),
    now(), now()
  );
  insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
  values (new_id::text, new_id, jsonb_build_object('sub', new_id::text, 'email', addr), 'email', now(), now());
  perform tests.remember(identifier, new_id);
  return new_id;
end
$$;

create or replace function tests.get_user_id(identifier text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  found uuid;
begin
  select u.id into found from auth.users u where u.raw_user_meta_data ->> 'test_identifier' = identifier;
  if found is null then
    raise exception 'test user % does not exist (tests.create_user first)', identifier using errcode = 'P0002';
  end if;
  return found;
end
$$;

create or replace function tests.authenticate_as(identifier text)
returns void
language plpgsql
as $$
declare
  u record;
  claims jsonb;
begin
  perform set_config('role', 'postgres', true);
  select id, email, raw_app_meta_data, raw_user_meta_data, is_anonymous into u
    from auth.users where id = tests.get_user_id(identifier);
  claims := jsonb_build_object(
    'iss', 'http://127.0.0.1:54321/auth/v1',
    'sub', u.id,
    'aud', 'authenticated',
    'exp', extract(epoch from now() + interval '1 hour')::bigint,
    'iat', extract(epoch from now())::bigint,
    'email', u.email,
    'phone', '',
    'app_metadata', coalesce(u.raw_app_meta_data, '{}'::jsonb),
    'user_metadata', coalesce(u.raw_user_meta_data, '{}'::jsonb) - 'test_identifier',
    'role', 'authenticated',
    'aal', 'aal1',
    'amr', jsonb_build_array(jsonb_build_object('method', 'password', 'timestamp', extract(epoch from now())::bigint)),
    'session_id', gen_random_uuid(),
    'is_anonymous', coalesce(u.is_anonymous, false)
  );
  perform set_config('request.jwt.claims', claims::text, true);
  perform set_config('role', 'authenticated', true);
end
$$;

create or replace function tests.authenticate_as_service_role()
returns void
language plpgsql
as $$
begin
  perform set_config('role', 'postgres', true);
  perform set_config('request.jwt.claims',
    jsonb_build_object('iss', 'supabase-demo', 'role', 'service_role',
                       'exp', extract(epoch from now() + interval '1 hour')::bigint)::text, true);
  perform set_config('role', 'service_role', true);
end
$$;

create or replace function tests.clear_authentication()
returns void
language plpgsql
as $$
begin
  perform set_config('role', 'postgres', true);
  perform set_config('request.jwt.claims',
    jsonb_build_object('iss', 'supabase-demo', 'role', 'anon',
                       'exp', extract(epoch from now() + interval '1 hour')::bigint)::text, true);
  perform set_config('role', 'anon', true);
end
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role, postgres;
