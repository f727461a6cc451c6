-- Platform stand-in 00: the roles a Supabase database has before any project migration.
-- Applied by the Docker-free stack as the bootstrap superuser `supabase_admin`. Never applied to a real Supabase
-- database (Supabase creates all of this itself).

do $$
declare
  r record;
begin
  for r in
    select * from (values
      ('postgres',                 'nosuperuser createdb createrole login replication bypassrls'),
      ('anon',                     'nologin noinherit'),
      ('authenticated',            'nologin noinherit'),
      ('service_role',             'nologin noinherit bypassrls'),
      ('authenticator',            'login noinherit'),
      ('supabase_auth_admin',      'login noinherit createrole'),
      ('supabase_storage_admin',   'login noinherit createrole'),
      ('supabase_realtime_admin',  'nologin noinherit'),
      ('supabase_replication_admin','login replication'),
      ('supabase_read_only_user',  'login bypassrls'),
      ('dashboard_user',           'nologin createdb createrole replication'),
      ('pgbouncer',                'login')
    ) as t(name, attrs)
  loop
    if not exists (select 1 from pg_roles where rolname = r.name) then
      execute format('create role %I %s', r.name, r.attrs);
    else
      execute format('alter role %I %s', r.name, r.attrs);
    end if;
  end loop;
end
$$;

-- anon/authenticated/service_role inherit since supabase/postgres 20230529180330.
alter role anon inherit;
alter role authenticated inherit;
alter role service_role inherit;

-- Local-only passwords (Supabase's local stack uses `postgres` for these too).
alter role postgres password 'postgres';
alter role authenticator password 'postgres';
alter role supabase_auth_admin password 'postgres';
alter role supabase_storage_admin password 'postgres';

-- PostgREST applies these per-role settings at the start of every request.
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres;
grant authenticated to supabase_storage_admin;
grant anon to supabase_storage_admin;
grant service_role to supabase_storage_admin;

-- The database belongs to the platform; `postgres` may create schemas in it (the CLI creates supabase_migrations).
grant create, connect, temporary on database postgres to postgres;
grant connect on database postgres to anon, authenticated, service_role, authenticator;

-- Supabase puts `extensions` on the search path of the roles that run SQL and on PostgREST's.
alter role postgres set search_path = "$user", public, extensions;
alter role supabase_admin set search_path = "$user", public, extensions;
