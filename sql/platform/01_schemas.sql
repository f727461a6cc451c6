-- Platform stand-in 01: schemas and the default privileges that decide security on Supabase.
-- In schema public every new table, sequence and function is granted to anon, authenticated and service_role, so
-- row-level security is the only barrier between a client and the data.

alter schema public owner to postgres;
grant usage on schema public to postgres, anon, authenticated, service_role;

alter default privileges for role postgres in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on functions to postgres, anon, authenticated, service_role;

create schema if not exists extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
alter default privileges in schema extensions grant all on tables to postgres with grant option;
alter default privileges in schema extensions grant all on functions to postgres with grant option;
alter default privileges in schema extensions grant all on sequences to postgres with grant option;

create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists pg_stat_statements with schema extensions;
-- pg_cron lives in its own `cron` schema; Supabase enables it from the dashboard as superuser. Migrations may
-- `create extension if not exists pg_cron`, which is then a no-op.
create extension if not exists pg_cron with schema pg_catalog;
grant usage on schema cron to postgres with grant option;
grant all on all tables in schema cron to postgres with grant option;
grant all on all sequences in schema cron to postgres with grant option;
grant all on all functions in schema cron to postgres with grant option;

-- PostgREST's exposed schemas; `supabase db advisors` reads this to decide which schemas are client-facing.
alter role authenticator set pgrst.db_schemas = 'public, graphql_public';
alter database postgres set pgrst.db_schemas = 'public, graphql_public';

create schema if not exists graphql_public;
grant usage on schema graphql_public to postgres, anon, authenticated, service_role;

-- `supabase db lint` runs plpgsql_check; on Supabase `postgres` may enable it (supautils privileged extension).
create extension if not exists plpgsql_check with schema extensions;
