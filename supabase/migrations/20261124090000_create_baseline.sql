-- Baseline: the security defaults every later migration relies on.
-- * Functions are not executable by API roles unless a migration grants it explicitly (PostgreSQL grants EXECUTE
--   to PUBLIC by default and Supabase adds anon/authenticated; both are revoked here).
-- * Schema `private` holds helpers, rate-limit state and internals; it is never exposed through the API (it is not in
--   the API's schemas). `authenticated` has USAGE only so that RLS policies can call the few helpers granted to it;
--   no table in it is granted to API roles.
-- * Extensions live in schema `extensions`, not `public`.

-- ---------------------------------------------------------------------------------------------------------------
-- default privileges
-- ---------------------------------------------------------------------------------------------------------------
alter default privileges for role postgres revoke execute on functions from public;
alter default privileges for role postgres in schema public revoke execute on functions from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- schemas
-- ---------------------------------------------------------------------------------------------------------------
create schema if not exists private;
comment on schema private is 'Internal helpers and state of supabase-chat; never exposed through the Data API.';
revoke all on schema private from public, anon, authenticated;
grant usage on schema private to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- extensions
-- ---------------------------------------------------------------------------------------------------------------
create extension if not exists pg_trgm with schema extensions;
