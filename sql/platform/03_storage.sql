-- Platform stand-in 03: the `storage` schema Supabase Storage owns (tables, guard trigger, path helpers).
-- Owned by supabase_storage_admin; RLS on with no policies; full grants to the API roles, so the project's policies
-- on storage.objects decide every access, as on Supabase.

create schema if not exists storage authorization supabase_storage_admin;
grant usage on schema storage to postgres, anon, authenticated, service_role, dashboard_user;

set role supabase_storage_admin;

do $$ begin
  create type storage.buckettype as enum ('STANDARD', 'ANALYTICS');
exception when duplicate_object then null; end $$;

create table if not exists storage.buckets (
  id text not null primary key,
  name text not null,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  public boolean default false,
  avif_autodetection boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  owner_id text,
  type storage.buckettype not null default 'STANDARD'
);
create unique index if not exists bname on storage.buckets (name);
comment on column storage.buckets.owner is 'Field is deprecated, use owner_id instead';

create table if not exists storage.objects (
  id uuid not null default gen_random_uuid() primary key,
  bucket_id text references storage.buckets (id),
  name text,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  metadata jsonb,
  path_tokens text[] generated always as (string_to_array(name, '/')) stored,
  version text,
  owner_id text,
  user_metadata jsonb
);
create unique index if not exists bucketid_objname on storage.objects (bucket_id, name);
create index if not exists name_prefix_search on storage.objects (name text_pattern_ops);
comment on column storage.objects.owner is 'Field is deprecated, use owner_id instead';

alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;

create or replace function storage.foldername(name text) returns text[]
language plpgsql immutable
as $$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[1 : array_length(_parts, 1) - 1];
end
$$;

create or replace function storage.filename(name text) returns text
language plpgsql immutable
as $$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[array_length(_parts, 1)];
end
$$;

create or replace function storage.extension(name text) returns text
language plpgsql immutable
as $$
declare
  _parts text[];
  _filename text;
begin
  select string_to_array(name, '/') into _parts;
  select _parts[array_length(_parts, 1)] into _filename;
  return reverse(split_part(reverse(_filename), '.', 1));
end
$$;

create or replace function storage.update_updated_at_column() returns trigger
language plpgsql
as $$
begin
  new.updated_at = now();
  return new;
end
$$;

-- Direct SQL deletes are refused; the Storage API sets storage.allow_delete_query for its own deletes, so objects
-- are removed through the API (which also removes the bytes).
create or replace function storage.protect_delete() returns trigger
language plpgsql
as $$
begin
  if coalesce(current_setting('storage.allow_delete_query', true), 'false') <> 'true' then
    raise exception 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
      using errcode = '42501',
            hint = 'This prevents accidental data loss from orphaned objects.';
  end if;
  return null;
end
$$;

-- The listing behind `POST /object/list/{bucket}` (storage-js `list()`): the entries one level below `prefix` whose
-- name starts with prefix || search (case-insensitively): folders (id and metadata null) and files, named relative
-- to the prefix, sorted by name (folders among files) or, for another column, folders first; then offset and limit.
-- Same signature and result as Supabase's storage.search (supabase/storage migrations/tenant/
-- 0063-fix-search-name-relative-to-prefix.sql); written as one set-based query instead of its skip-scan loop.
-- Security invoker: the caller's SELECT policies on storage.objects decide what is listed.
create or replace function storage.search(prefix text, bucketname text, limits integer default 100,
                                          levels integer default 1, offsets integer default 0,
                                          search text default '', sortcolumn text default 'name',
                                          sortorder text default 'asc')
returns table (name text, id uuid, updated_at timestamptz, created_at timestamptz, last_accessed_at timestamptz,
               metadata jsonb)
language plpgsql stable
as $$
declare
  v_prefix text := coalesce(prefix, '');
  v_match text := lower(coalesce(prefix, '') || coalesce(search, ''));
  v_direction text := case when lower(coalesce(sortorder, 'asc')) = 'asc' then 'asc' else 'desc' end;
  v_column text := case lower(coalesce(sortcolumn, 'name'))
                     when 'updated_at' then 'updated_at' when 'created_at' then 'created_at'
                     when 'last_accessed_at' then 'last_accessed_at' else 'name' end;
  v_order text;
begin
  if v_column = 'name' then
    v_order := format('lower(e.name) collate "C" %s', v_direction);
  else
    v_order := format('e.is_folder desc, e.%I %s, lower(e.name) collate "C" %s', v_column, v_direction, v_direction);
  end if;
  return query execute format($q$
    with matched as (
      select o.id, o.updated_at, o.created_at, o.last_accessed_at, o.metadata, substr(o.name, length($1) + 1) as rel
        from storage.objects o
       where o.bucket_id = $2 and left(lower(o.name), length($3)) = $3
    ), entries as (
      select split_part(m.rel, '/', 1) as name, null::uuid as id, null::timestamptz as updated_at,
             null::timestamptz as created_at, null::timestamptz as last_accessed_at, null::jsonb as metadata,
             true as is_folder
        from matched m where strpos(m.rel, '/') > 0 group by split_part(m.rel, '/', 1)
      union all
      select m.rel, m.id, m.updated_at, m.created_at, m.last_accessed_at, m.metadata, false
        from matched m where strpos(m.rel, '/') = 0
    )
    select e.name, e.id, e.updated_at, e.created_at, e.last_accessed_at, e.metadata
      from entries e
     order by %s
     limit $4 offset $5 $q$, v_order)
  using v_prefix, bucketname, v_match, least(coalesce(limits, 100), 1500), coalesce(offsets, 0);
end
$$;

drop trigger if exists update_objects_updated_at on storage.objects;
create trigger update_objects_updated_at before update on storage.objects
  for each row execute function storage.update_updated_at_column();
drop trigger if exists protect_objects_delete on storage.objects;
create trigger protect_objects_delete before delete on storage.objects
  for each statement execute function storage.protect_delete();
drop trigger if exists protect_buckets_delete on storage.buckets;
create trigger protect_buckets_delete before delete on storage.buckets
  for each statement execute function storage.protect_delete();

reset role;

grant all on storage.buckets, storage.objects to anon, authenticated, service_role;
grant all on storage.buckets, storage.objects to postgres, dashboard_user with grant option;
grant execute on all functions in schema storage to postgres, anon, authenticated, service_role;
-- Supabase lets `postgres` create policies on storage.objects (supautils policy grants); the stand-in gets the same
-- effect through membership of the owning role (see docs/operations.md).
grant supabase_storage_admin to postgres;
