-- The baseline migration's security defaults, and the schema-wide rule that every exposed table has RLS and policies.
begin;
create extension if not exists pgtap with schema extensions;
select plan(11);

select has_schema('private', 'schema private exists');
select ok(not has_schema_privilege('anon', 'private', 'usage'), 'anon cannot use schema private');
select is_empty($$
  select c.relname from pg_class c
   where c.relnamespace = 'private'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'S')
     and (has_table_privilege('authenticated', c.oid, 'select') or has_table_privilege('anon', c.oid, 'select'))
$$, 'no relation in schema private is readable by API roles');
select is_empty($$
  select p.oid::regprocedure::text from pg_proc p
   where p.pronamespace = 'private'::regnamespace and has_function_privilege('anon', p.oid, 'execute')
$$, 'anon cannot execute any private function');
select is(array(
  select p.proname::text from pg_proc p
   where p.pronamespace = 'private'::regnamespace and has_function_privilege('authenticated', p.oid, 'execute')
   order by 1
), array['blocker_ids', 'can_delete_attachment', 'can_read_attachment', 'can_upload_attachment', 'my_chat_ids',
        'require_member', 'require_user', 'topic_read_extensions', 'topic_write_extensions'],
  'authenticated executes only the private helpers that policies and invoker RPCs need');
select ok(position('private' in current_setting('pgrst.db_schemas')) = 0, 'private is not an exposed API schema');

-- A function created by a later migration is not executable by API roles until it is granted.
create function public.baseline_probe() returns int language sql as 'select 1';
select ok(not has_function_privilege('anon', 'public.baseline_probe()', 'execute'), 'anon cannot execute a new function');
select ok(not has_function_privilege('authenticated', 'public.baseline_probe()', 'execute'),
  'authenticated cannot execute a new function');

select is((select extnamespace::regnamespace::text from pg_extension where extname = 'pg_trgm'), 'extensions',
  'pg_trgm lives in schema extensions');
select is_empty($$
  select e.extname from pg_extension e where e.extnamespace = 'public'::regnamespace
$$, 'no extension is installed in public');

-- Every table in an exposed schema has RLS enabled and at least one policy.
select is_empty($$
  select c.oid::regclass::text
    from pg_class c
   where c.relnamespace = 'public'::regnamespace
     and c.relkind in ('r', 'p')
     and c.relname <> 'baseline_probe'
     and (not c.relrowsecurity or not exists (select 1 from pg_policy p where p.polrelid = c.oid))
$$, 'every public table has RLS enabled and at least one policy');

select * from finish();
rollback;
