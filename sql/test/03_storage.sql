-- Test databases only: Storage API requests in SQL, as storage-api runs them. After tests.authenticate_as(...)
-- (role and request.jwt.claims set), these add the settings storage-api sets per request and run its statement on
-- storage.objects as the caller, so the policies and triggers on storage.objects decide exactly as on Supabase.
--   select tests.storage_upload('attachments', '<chat>/<uuid>/photo.png', 'image/png', 1234);
--   select tests.storage_upload('attachments', '<chat>/<uuid>/voice.ogg', 'audio/ogg', 900, '{"duration_seconds": "4.2"}');
--   select tests.storage_remove('attachments', '<chat>/<uuid>/photo.png');   -- number of objects removed
--   select tests.storage_visible('attachments', '<chat>/<uuid>/photo.png');  -- can the caller download it?

create or replace function tests.storage_context(operation text)
returns void
language plpgsql
as $$
declare
  claims jsonb := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
begin
  perform set_config('request.jwt.claim.sub', coalesce(claims ->> 'sub', ''), true);
  perform set_config('request.jwt.claim.role', coalesce(claims ->> 'role', ''), true);
  perform set_config('storage.operation', operation, true);
  perform set_config('storage.allow_delete_query', 'true', true);
end
$$;

-- storage-api's settings end with its request; so do ours (the legacy claim settings would otherwise outlive the
-- next tests.authenticate_as, which sets request.jwt.claims only).
create or replace function tests.storage_context_end()
returns void
language plpgsql
as $$
begin
  perform set_config('request.jwt.claim.sub', '', true);
  perform set_config('request.jwt.claim.role', '', true);
  perform set_config('storage.operation', '', true);
  perform set_config('storage.allow_delete_query', 'false', true);
end
$$;

drop function if exists tests.storage_upload(text, text, text, bigint);
create or replace function tests.storage_upload(bucket text, object_name text, mime_type text, size bigint,
                                                user_metadata jsonb default null)
returns uuid
language plpgsql
as $$
declare
  new_id uuid;
begin
  perform tests.storage_context('storage.object.upload');
  insert into storage.objects (bucket_id, name, owner, owner_id, metadata, user_metadata, version)
  values (bucket, object_name, auth.uid(), auth.uid()::text,
          jsonb_build_object('size', size, 'mimetype', mime_type, 'eTag', '"' || md5(object_name) || '"',
                             'cacheControl', 'max-age=3600', 'lastModified', now(), 'contentLength', size,
                             'httpStatusCode', 200),
          user_metadata, gen_random_uuid()::text)
  returning id into new_id;
  perform tests.storage_context_end();
  return new_id;
end
$$;

create or replace function tests.storage_remove(bucket text, object_name text)
returns integer
language plpgsql
as $$
declare
  n integer;
begin
  perform tests.storage_context('storage.object.delete');
  delete from storage.objects o where o.bucket_id = bucket and o.name = object_name;
  get diagnostics n = row_count;
  perform tests.storage_context_end();
  return n;
end
$$;

create or replace function tests.storage_visible(bucket text, object_name text)
returns boolean
language plpgsql
as $$
declare
  found boolean;
begin
  perform tests.storage_context('storage.object.get_authenticated');
  found := exists (select 1 from storage.objects o where o.bucket_id = bucket and o.name = object_name);
  perform tests.storage_context_end();
  return found;
end
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role, postgres;
