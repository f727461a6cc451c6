-- The platform stand-in behaves like a Supabase database where our code depends on it: roles, the permissive
-- default privileges (RLS is the only barrier), auth helpers reading the request's JWT claims, storage path helpers,
-- realtime broadcast, pg_net's queue.
begin;
create extension if not exists pgtap with schema extensions;
select plan(27);

-- roles ---------------------------------------------------------------------------------------------------------
select ok((select rolbypassrls from pg_roles where rolname = 'service_role'), 'service_role bypasses RLS');
select ok(not (select rolbypassrls from pg_roles where rolname = 'authenticated'), 'authenticated does not bypass RLS');
select ok(not (select rolcanlogin from pg_roles where rolname = 'anon'), 'anon cannot log in');
select ok(not (select rolsuper from pg_roles where rolname = 'postgres'), 'postgres is not a superuser, as on Supabase');
select ok(pg_has_role('authenticator', 'authenticated', 'member'), 'authenticator can switch to authenticated');

-- default privileges: a fresh public table is open to the API roles until RLS is enabled ------------------------
create table public.platform_probe (id int primary key, secret text);
insert into public.platform_probe values (1, 'visible until RLS is on');
select tests.clear_authentication();
select is((select count(*)::int from public.platform_probe), 1, 'anon reads a new public table without RLS');
select tests.authenticate_as_service_role();
select tests.create_user('platform_alice');
select tests.authenticate_as('platform_alice');
select lives_ok($$ insert into public.platform_probe values (2, 'written by authenticated') $$,
  'authenticated writes a new public table without RLS');
reset role;
alter table public.platform_probe enable row level security;
select tests.clear_authentication();
select is_empty('select * from public.platform_probe', 'anon reads nothing once RLS is enabled without policies');
select tests.authenticate_as('platform_alice');
select throws_ok($$ insert into public.platform_probe values (3, 'x') $$, '42501', null,
  'authenticated cannot insert once RLS is enabled without policies');
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.platform_probe), 2, 'service_role bypasses RLS');
reset role;

-- auth helpers read request.jwt.claims ----------------------------------------------------------------------------
select tests.authenticate_as('platform_alice');
select is(auth.uid(), tests.get_user_id('platform_alice'), 'auth.uid() is the sub claim');
select is(auth.role(), 'authenticated', 'auth.role() is the role claim');
select is(auth.email(), 'platform_alice@example.test', 'auth.email() is the email claim');
select is(auth.jwt() ->> 'aal', 'aal1', 'claims carry aal like a Supabase access token');
select ok(auth.jwt() ? 'session_id' and auth.jwt() ? 'exp', 'claims carry session_id and exp');
select is(current_user::text, 'authenticated', 'authenticate_as switches the role like PostgREST');
select throws_ok($$ select * from auth.users $$, '42501', null, 'authenticated cannot read auth.users');
select tests.clear_authentication();
select is(auth.uid(), null, 'anon has no auth.uid()');
reset role;

-- storage -----------------------------------------------------------------------------------------------------------
select is(storage.foldername('chat/abc/file.png'), array['chat', 'abc'], 'storage.foldername');
select is(storage.filename('chat/abc/file.png'), 'file.png', 'storage.filename');
select is(storage.extension('chat/abc/file.tar.gz'), 'gz', 'storage.extension');
insert into storage.buckets (id, name) values ('probe', 'probe');
insert into storage.objects (bucket_id, name) values ('probe', 'a/b.txt');
select throws_ok($$ delete from storage.objects where bucket_id = 'probe' $$, '42501', null,
  'direct deletes from storage.objects are refused as by the Storage API guard');

-- realtime ----------------------------------------------------------------------------------------------------------
select realtime.send('{"hello": "world"}', 'probe.event', 'probe:1', true);
select is((select payload ->> 'hello' from realtime.messages where topic = 'probe:1'), 'world',
  'realtime.send stores a broadcast row');
select ok((select payload ? 'id' from realtime.messages where topic = 'probe:1'), 'realtime.send adds an id to the payload');
select is(realtime.topic(), 'probe:1', 'realtime.send sets realtime.topic for the transaction');
select ok(exists (select 1 from pg_publication where pubname = 'supabase_realtime'), 'supabase_realtime publication exists');

-- net -------------------------------------------------------------------------------------------------------------
select ok(net.http_post('http://127.0.0.1:9/hook', '{"a": 1}'::jsonb) > 0, 'net.http_post queues a request');

select * from finish();
rollback;
