-- The baseline migration's security defaults, and the schema-wide rule that every exposed table has RLS and policies.
begin;
create extension if not exists pgtap with schema extensions;
select plan(15);

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
-- Least privilege (issue 21, item 6): authenticated executes exactly the private helpers a policy calls (policies
-- run as the caller), plus require_member for get_chat_messages and search_message_hits for search_messages, the
-- security-invoker RPCs. docs/security.md lists them.
select is(array(
  select p.oid::regprocedure::text from pg_proc p
   where p.pronamespace = 'private'::regnamespace and has_function_privilege('authenticated', p.oid, 'execute')
   order by 1
), array['private.blocker_ids()', 'private.can_delete_attachment(text)', 'private.can_read_attachment(text,text)',
        'private.can_upload_attachment(text)', 'private.my_chat_ids()', 'private.require_member(uuid)',
        'private.search_message_hits(text,uuid,uuid,message_kind,boolean,text,boolean,timestamp with time zone,timestamp with time zone,uuid,text,text,text,integer)',
        'private.topic_read_extensions(text)', 'private.topic_write_extensions(text)'],
  'authenticated executes exactly the private helpers that policies and the invoker RPCs need');
select is_empty($$
  select p.oid::regprocedure::text from pg_proc p
   where p.pronamespace = 'private'::regnamespace and has_function_privilege('authenticated', p.oid, 'execute')
     and p.proname not in ('require_member', 'search_message_hits')
     and not exists (select 1 from pg_policies pol
                      where coalesce(pol.qual, '') || ' ' || coalesce(pol.with_check, '') ~ ('private\.' || p.proname || '\('))
$$, 'every private helper granted to authenticated is called by a policy');
select ok((select not p.prosecdef and pg_get_functiondef(p.oid) like '%private.require_member(%'
             from pg_proc p where p.oid = 'public.get_chat_messages(uuid,bigint,bigint,bigint,integer)'::regprocedure),
  'require_member is granted because get_chat_messages runs as the caller (security invoker) and calls it');
select ok((select not p.prosecdef and pg_get_functiondef(p.oid) like '%private.search_message_hits(%'
             from pg_proc p where p.proname = 'search_messages' and p.pronamespace = 'public'::regnamespace),
  'search_message_hits is granted because search_messages runs as the caller (security invoker) and calls it');
select is_empty($$
  select p.oid::regprocedure::text from pg_proc p
   where p.pronamespace = 'public'::regnamespace and has_function_privilege('anon', p.oid, 'execute')
$$, 'anon cannot execute any public function');
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
