-- Schema-wide hygiene of our policies (schemas public and private, and the ones we add on storage.objects and
-- realtime.messages; extensions such as pg_cron bring their own): names that PostgreSQL did not cut, one policy per
-- operation, no dead ones, one membership idiom.
begin;
create extension if not exists pgtap with schema extensions;
select plan(4);

-- PostgreSQL truncates identifiers to 63 bytes without an error, so a policy whose name reaches 63 bytes was almost
-- certainly written longer and is not called what its migration says.
select is_empty($$
  select format('%s.%s "%s" (%s bytes)', schemaname, tablename, policyname, octet_length(policyname))
    from pg_policies
   where schemaname in ('public', 'private', 'storage', 'realtime') and octet_length(policyname) >= 63
$$, 'every policy name is shorter than 63 bytes (none was truncated)');

-- One policy per operation: `for all` mixes read and write rules in one expression.
select is_empty($$
  select format('%s.%s "%s"', schemaname, tablename, policyname) from pg_policies
   where schemaname in ('public', 'private', 'storage', 'realtime') and cmd = 'ALL'
$$, 'no policy is for all commands');

-- The service role bypasses row level security, so a policy for it never runs; clients are `authenticated`.
select is_empty($$
  select format('%s.%s "%s" to %s', schemaname, tablename, policyname, roles)
    from pg_policies
   where schemaname in ('public', 'private', 'storage', 'realtime') and roles <> '{authenticated}'::name[]
$$, 'every policy is for the authenticated role only');

-- Membership in policies is a probe of the caller's own chat_members row; the array helper only serves the one
-- policy that cannot read chat_members (the chat_members policy itself).
select is_empty($$
  select format('%s.%s "%s"', schemaname, tablename, policyname) from pg_policies
   where (coalesce(qual, '') || coalesce(with_check, '')) ~ 'my_chat_ids|my_admin_chat_ids'
     and not (schemaname = 'public' and tablename = 'chat_members')
$$, 'policies check membership by probing the caller''s chat_members row');

select * from finish();
rollback;
