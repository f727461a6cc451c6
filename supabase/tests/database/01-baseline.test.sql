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
-- security-invoker RPCs. Each is listed with the policies that
-- need it (docs/security.md shows the same list): a grant nobody needs, or a listed policy that stops calling its
-- helper, fails here.
create temporary table needed_helpers (helper text, policy text) on commit drop;
insert into needed_helpers values
  ('private.blocker_ids()', 'public.profiles: users can read profiles of users who did not block them'),
  ('private.can_delete_attachment(text)', 'storage.objects: who may delete the message can delete its attachments'),
  ('private.can_read_attachment(text,text)', 'storage.objects: uploaders and, once clean, message readers can read files'),
  ('private.can_upload_attachment(text)', 'storage.objects: members who may post can upload attachments to their chat'),
  ('private.is_guest()', 'public.profiles: guests cannot edit their profile'),
  ('private.is_guest()', 'public.user_blocks: guests cannot block users'),
  ('private.is_guest()', 'storage.objects: guests cannot replace files'),
  ('private.is_guest()', 'storage.objects: guests cannot upload files'),
  ('private.is_app_moderator()', 'public.audit_log: chat admins and moderators can read the audit log'),
  ('private.is_app_moderator()', 'public.chat_freezes: members and moderators can read freezes'),
  ('private.is_app_moderator()', 'public.chat_mutes: the muted user, chat admins and moderators can read mutes'),
  ('private.is_app_moderator()', 'public.reports: reporters, chat admins and moderators can read reports'),
  ('private.is_app_moderator()', 'public.user_suspensions: users and moderators can read suspensions'),
  ('private.is_app_moderator()', 'public.word_filters: chat admins and moderators can read word filters'),
  ('private.is_suspended()', 'public.profiles: users can update their own profile'),
  ('private.is_suspended()', 'storage.objects: users can replace avatars in their own folder'),
  ('private.is_suspended()', 'storage.objects: users can upload an avatar to their own folder'),
  ('private.my_chat_ids()', 'public.chat_members: members can read the members of their chats'),
  ('private.require_member(uuid)', 'public.get_chat_messages (security invoker RPC)'),
  ('private.search_message_hits(text,uuid,uuid,message_kind,boolean,text,boolean,timestamp with time zone,timestamp with time zone,uuid,text,text,text,integer)',
   'public.search_messages (security invoker RPC)'),
  ('private.topic_read_extensions(text)', 'realtime.messages: members and users may read their realtime topics'),
  ('private.topic_write_extensions(text)', 'realtime.messages: members may broadcast and track on their typing topics');
select is(array(
  select p.oid::regprocedure::text from pg_proc p
   where p.pronamespace = 'private'::regnamespace
     and (has_function_privilege('authenticated', p.oid, 'execute') or has_function_privilege('anon', p.oid, 'execute'))
   order by 1
), array(select distinct helper from needed_helpers order by 1),
  'authenticated executes exactly the listed private helpers, and anon none');
select is_empty($$
  select n.helper, n.policy from needed_helpers n
   where n.policy not like '%(security invoker RPC)'
     and not exists (select 1 from pg_policies pol
                      where pol.schemaname || '.' || pol.tablename || ': ' || pol.policyname = n.policy
                        and coalesce(pol.qual, '') || ' ' || coalesce(pol.with_check, '')
                            ~ (replace(regexp_replace(n.helper, '\(.*$', ''), '.', '\.') || '\('))
$$, 'every listed policy exists and calls its helper');
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
