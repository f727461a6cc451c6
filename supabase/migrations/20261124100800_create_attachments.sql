-- Files: the `avatars` and `attachments` Storage buckets, attachment metadata, upload validation, the scan and
-- thumbnail pipeline, Storage access control, the files' realtime events and the expiry of files nobody can use.
-- * A client uploads with the Storage API to `attachments/<chat_id>/<attachment_id>/<file name>`. Triggers on
--   storage.objects validate the upload (name, declared type, size) with clear errors and create the
--   `attachments` row (scan_status pending); that row is the registration. The Storage API enforces the buckets'
--   file_size_limit and allowed_mime_types itself before it touches the database; the triggers enforce the same
--   and the finer per-type limits again, so the rules hold whatever path a row takes into storage.objects.
-- * A new attachment is queued for the `scan` edge function (pg_net). Until the verdict is `clean` only the uploader
--   can read the object (policies on storage.objects below). Every scan-status change goes through
--   private.set_attachment_scan_result, the single place for side effects of a verdict (audit, thumbnail, events).
-- * A pg_cron sweep re-queues scans that never reported and retries transient errors with backoff (scheduled jobs
--   migration).
-- The edge functions find their own URL and the service role key in Vault (see docs/operations.md).

-- ---------------------------------------------------------------------------------------------------------------
-- extensions
-- ---------------------------------------------------------------------------------------------------------------
-- pg_net sends the scan and thumbnail requests. Supabase ships it (enabled with Database Webhooks); enable it here
-- when the server has it. The Docker-free stand-in provides the `net` functions without the extension.
do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'pg_net') then
    create extension if not exists pg_net;
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- types
-- ---------------------------------------------------------------------------------------------------------------
create type public.attachment_scan_status as enum ('pending', 'clean', 'infected', 'error');
comment on type public.attachment_scan_status is
  'pending: not scanned yet; clean: readable by the chat; infected: removed; error: could not be scanned (never readable by others).';

create type public.attachment_thumbnail_status as enum ('pending', 'ready', 'failed', 'unsupported');
comment on type public.attachment_thumbnail_status is
  'Images only (null otherwise): pending until made, ready, failed (broken image), unsupported (format not thumbnailed).';

-- ---------------------------------------------------------------------------------------------------------------
-- buckets (rows in storage.buckets, as `db push` creates them on a hosted project; also in supabase/config.toml)
-- ---------------------------------------------------------------------------------------------------------------
-- The one source of each bucket's accepted types and size limit: the upload checks below read these rows
-- (private.bucket_max_size). supabase/config.toml repeats them for `supabase start`; the migrations test suite fails
-- when the two differ.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values
  ('avatars', 'avatars', true, 2097152, array['image/jpeg', 'image/png', 'image/webp', 'image/gif']),
  ('attachments', 'attachments', false, 52428800, array[
    'image/jpeg', 'image/png', 'image/gif', 'image/webp',
    'video/mp4', 'video/quicktime', 'video/webm',
    'audio/mpeg', 'audio/mp4', 'audio/aac', 'audio/ogg', 'audio/webm', 'audio/wav', 'audio/flac',
    'application/pdf',
    'application/msword', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'application/vnd.ms-excel', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'application/vnd.ms-powerpoint', 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    'application/vnd.oasis.opendocument.text', 'application/vnd.oasis.opendocument.spreadsheet',
    'application/vnd.oasis.opendocument.presentation',
    'text/plain', 'text/csv'
  ])
on conflict (id) do update
  set public = excluded.public,
      file_size_limit = excluded.file_size_limit,
      allowed_mime_types = excluded.allowed_mime_types;

-- ---------------------------------------------------------------------------------------------------------------
-- tables
-- ---------------------------------------------------------------------------------------------------------------
create table public.attachments (
  id uuid primary key,
  chat_id uuid not null references public.chats (id) on delete cascade,
  uploader_id uuid references public.profiles (id) on delete set null,
  message_id uuid references public.messages (id) on delete set null,
  bucket_id text not null default 'attachments',
  object_path text not null,
  name text not null,
  mime_type text not null,
  size_bytes bigint not null,
  width integer,
  height integer,
  duration_seconds numeric(10, 3),
  thumbnail_path text,
  thumbnail_status public.attachment_thumbnail_status,
  thumbnail_error text,
  scan_status public.attachment_scan_status not null default 'pending',
  scan_signature text,
  scan_error text,
  detected_mime_type text,
  scan_attempts integer not null default 0,
  scan_requested_at timestamptz,
  next_scan_at timestamptz,
  scanned_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint attachments_bucket check (bucket_id = 'attachments'),
  constraint attachments_object_path_key unique (bucket_id, object_path),
  constraint attachments_object_path_format check (object_path = chat_id || '/' || id || '/' || name),
  constraint attachments_name_length check (char_length(name) between 1 and 255),
  constraint attachments_size_positive check (size_bytes >= 0),
  constraint attachments_dimensions check ((width is null or width > 0) and (height is null or height > 0)),
  constraint attachments_duration check (duration_seconds is null or duration_seconds >= 0)
);
comment on table public.attachments is
  'Files uploaded to the attachments bucket: one row per object, created when the object is uploaded.';
comment on column public.attachments.id is 'The <attachment_id> segment of the object path <chat_id>/<attachment_id>/<name>.';
comment on column public.attachments.message_id is 'The message the file was sent with (send_message attachment_ids); null until sent.';
comment on column public.attachments.mime_type is 'The type the client declared at upload; checked against the bytes during the scan.';
comment on column public.attachments.detected_mime_type is 'The type found in the file''s first bytes by the scan.';
comment on column public.attachments.scan_signature is 'Infected files: the name of the signature that matched.';
comment on column public.attachments.scan_error is 'Why the scan did not give a verdict (error) or why the file was refused.';
comment on column public.attachments.duration_seconds is 'Audio and video: the duration the client declared at upload (user metadata).';
comment on column public.attachments.thumbnail_path is 'Path of the JPEG thumbnail in the attachments bucket (images).';

-- Files that nobody can use any more leave Storage.
-- * Unsent uploads expire: a file uploaded to a chat but not sent within private.unsent_attachment_lifetime()
--   (24 hours) is claimed by the hourly job; so are the files of deleted messages.
-- * Whenever an attachments row goes (claimed, the chat deleted, the object removed by a client), the objects it
--   leaves behind in Storage (the file, its thumbnail) are queued in private.storage_trash.
-- * The attachments-cleanup edge function (pg_cron job attachments-unsent-cleanup, hourly) claims and removes the
--   queued objects through the Storage API, and reports each outcome: what Storage could not remove stays queued
--   (attempts counted) and is tried again at the next run.
-- Claiming deletes the rows in one transaction, so a send racing with the cleanup gets "attachment not found"
-- instead of a message whose file is about to vanish. Infected files are already gone from Storage; their rows stay
-- as the record.
create table private.storage_trash (
  bucket_id text not null,
  name text not null,
  queued_at timestamptz not null default now(),
  attempts integer not null default 0,
  last_error text,
  primary key (bucket_id, name)
);
comment on table private.storage_trash is
  'Storage objects to remove through the Storage API (attachments-cleanup edge function); a row leaves once removed.';

-- ---------------------------------------------------------------------------------------------------------------
-- indexes
-- ---------------------------------------------------------------------------------------------------------------
create index attachments_chat_idx on public.attachments (chat_id, created_at desc);
create index attachments_uploader_idx on public.attachments (uploader_id, created_at desc);
create index attachments_message_idx on public.attachments (message_id) where message_id is not null;

create index attachments_scan_queue_idx on public.attachments (scan_status, next_scan_at)
  where scan_status in ('pending', 'error');

create index attachments_thumbnail_queue_idx on public.attachments (updated_at) where thumbnail_status = 'pending';
create index storage_trash_queued_idx on private.storage_trash (attempts, queued_at);

-- ---------------------------------------------------------------------------------------------------------------
-- grants
-- ---------------------------------------------------------------------------------------------------------------
revoke all on public.attachments from anon, authenticated;
grant select on public.attachments to authenticated;
grant all on public.attachments to service_role;

-- Files that nobody can use any more leave Storage.
-- * Unsent uploads expire: a file uploaded to a chat but not sent within private.unsent_attachment_lifetime()
--   (24 hours) is claimed by the hourly job; so are the files of deleted messages.
-- * Whenever an attachments row goes (claimed, the chat deleted, the object removed by a client), the objects it
--   leaves behind in Storage (the file, its thumbnail) are queued in private.storage_trash.
-- * The attachments-cleanup edge function (pg_cron job attachments-unsent-cleanup, hourly) claims and removes the
--   queued objects through the Storage API, and reports each outcome: what Storage could not remove stays queued
--   (attempts counted) and is tried again at the next run.
-- Claiming deletes the rows in one transaction, so a send racing with the cleanup gets "attachment not found"
-- instead of a message whose file is about to vanish. Infected files are already gone from Storage; their rows stay
-- as the record.
revoke all on private.storage_trash from public, anon, authenticated;

-- Files that nobody can use any more leave Storage.
-- * Unsent uploads expire: a file uploaded to a chat but not sent within private.unsent_attachment_lifetime()
--   (24 hours) is claimed by the hourly job; so are the files of deleted messages.
-- * Whenever an attachments row goes (claimed, the chat deleted, the object removed by a client), the objects it
--   leaves behind in Storage (the file, its thumbnail) are queued in private.storage_trash.
-- * The attachments-cleanup edge function (pg_cron job attachments-unsent-cleanup, hourly) claims and removes the
--   queued objects through the Storage API, and reports each outcome: what Storage could not remove stays queued
--   (attempts counted) and is tried again at the next run.
-- Claiming deletes the rows in one transaction, so a send racing with the cleanup gets "attachment not found"
-- instead of a message whose file is about to vanish. Infected files are already gone from Storage; their rows stay
-- as the record.
grant select, insert, update, delete on private.storage_trash to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers: limits and validation
-- ---------------------------------------------------------------------------------------------------------------
-- The bucket rows are the one source of the accepted types and of a bucket's size limit: the Storage API enforces
-- them before it touches the database, these checks read the same rows, and supabase/config.toml repeats them for
-- `supabase start` (the migrations test suite checks that config.toml equals the rows).
-- The largest size a bucket accepts for a file of this type, or null when the bucket does not accept the type.
create function private.bucket_max_size(bucket text, mime_type text) returns bigint
language plpgsql
stable
set search_path = ''
as $$
begin
  return (select b.file_size_limit from storage.buckets b
           where b.id = bucket and mime_type = any (b.allowed_mime_types));
end
$$;
comment on function private.bucket_max_size(text, text) is
  'storage.buckets.file_size_limit of a bucket for a type in its allowed_mime_types; null = type not accepted.';
revoke all on function private.bucket_max_size(text, text) from public, anon, authenticated;

-- Attachments: the types of the bucket, with a finer limit per kind of file below the bucket's: images and audio
-- 20 MiB, video 50 MiB (the bucket's limit), documents and text 25 MiB.
create function private.attachment_max_size(mime_type text) returns bigint
language plpgsql
stable
set search_path = ''
as $$
declare
  bucket_limit bigint := private.bucket_max_size('attachments', mime_type);
begin
  if bucket_limit is null then
    return null;
  end if;
  return least(bucket_limit, case split_part(mime_type, '/', 1)
                               when 'image' then 20971520
                               when 'audio' then 20971520
                               when 'video' then 52428800
                               else 26214400 end);
end
$$;
comment on function private.attachment_max_size(text) is
  'Attachment size limits: images 20 MiB, video 50 MiB, audio 20 MiB, PDF/office/text 25 MiB, never above the bucket''s; '
  'null = type not allowed (types: storage.buckets.allowed_mime_types of attachments).';
revoke all on function private.attachment_max_size(text) from public, anon, authenticated;

-- The parts of an attachments object path <chat_id>/<attachment_id>/<file name>, or nulls if it has another shape.
create function private.attachment_path(object_name text, out chat_id uuid, out attachment_id uuid, out file_name text)
language plpgsql
immutable
set search_path = ''
as $$
declare
  parts text[] := string_to_array(object_name, '/');
  uuid_re constant text := '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
begin
  if cardinality(parts) = 3 and parts[1] ~ uuid_re and parts[2] ~ uuid_re and parts[3] <> '' then
    chat_id := parts[1]::uuid;
    attachment_id := parts[2]::uuid;
    file_name := parts[3];
  end if;
end
$$;
revoke all on function private.attachment_path(text) from public, anon, authenticated;

-- A file name clients may use: 1-255 characters, no control characters or backslashes, not only dots, and not an
-- executable or script by its extension.
create function private.assert_file_name(file_name text) returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  -- Bidi formatting characters too: 'Pay<U+202E>exe.png' would show as 'Paygnp.exe' (private.name_forbidden_pattern).
  if file_name is null or char_length(file_name) not between 1 and 255 or file_name ~ '[[:cntrl:]\\]'
     or file_name ~ private.name_forbidden_pattern()
     or file_name ~ '^\.+$' then
    raise exception 'invalid file name' using errcode = '22023',
      hint = 'Use 1-255 characters without control or bidirectional formatting characters, slashes or backslashes.';
  end if;
  if lower(file_name) ~ '\.(exe|dll|com|bat|cmd|msi|msp|scr|pif|cpl|ps1|psm1|vbs|vbe|js|jse|mjs|wsf|wsh|hta|jar|apk|app|dmg|pkg|deb|rpm|sh|bash|run|bin|elf|so|dylib|lnk|reg|iso|img)$' then
    raise exception 'executable files are not allowed' using errcode = '22023',
      hint = 'Programs and scripts cannot be sent. Send images, video, audio, PDF, office documents or text.';
  end if;
end
$$;
revoke all on function private.assert_file_name(text) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers: access (security definer: policies on storage.objects call them; they read across RLS)
-- ---------------------------------------------------------------------------------------------------------------
-- May the caller upload this object? A member with posting rights in the chat, to a fresh attachment id.
create function private.can_upload_attachment(object_name text) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1
      from private.attachment_path(object_name) p
      join public.chat_members m on m.chat_id = p.chat_id and m.user_id = auth.uid()
      join public.chats c on c.id = p.chat_id
     where (c.who_can_post = 'members' or m.role in ('owner', 'admin'))
       and not exists (select 1 from public.attachments a where a.id = p.attachment_id)
       and not private.is_suspended()
  )
$$;
comment on function private.can_upload_attachment(text) is
  'Storage policy helper: a member who may post in the chat uploads to a new <chat_id>/<attachment_id>/<name>.';
revoke all on function private.can_upload_attachment(text) from public, anon, authenticated;
grant execute on function private.can_upload_attachment(text) to authenticated;

-- May the caller read this object (the file or its thumbnail)? The uploader, always (until it is found infected);
-- other members only once it is clean and sent in a message they can see. An object whose attachment row does not
-- exist yet (the Storage API's own insert, before the row is registered at the end of the statement) is readable
-- by its owner only.
create function private.can_read_attachment(object_name text, object_owner text) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select (object_owner = auth.uid()::text
          and not exists (select 1 from public.attachments a
                           where a.chat_id::text = split_part(object_name, '/', 1)
                             and a.id::text = split_part(object_name, '/', 2)))
  or exists (
    select 1
      from public.attachments a
     where a.chat_id::text = split_part(object_name, '/', 1)
       and a.id::text = split_part(object_name, '/', 2)
       and a.scan_status <> 'infected'
       and (a.uploader_id = auth.uid()
            or (a.scan_status = 'clean'
                and exists (
                  select 1 from public.messages msg
                    join public.chat_members m on m.chat_id = msg.chat_id and m.user_id = auth.uid()
                   where msg.id = a.message_id and msg.deleted_at is null and msg.seq > m.history_from_seq)))
  )
$$;
comment on function private.can_read_attachment(text, text) is
  'Storage policy helper: the uploader, or a member who can see the message once the file is clean.';
revoke all on function private.can_read_attachment(text, text) from public, anon, authenticated;
grant execute on function private.can_read_attachment(text, text) to authenticated;

-- May the caller delete this object (the file or its thumbnail)? A sent file has its message's delete right, decided
-- by the same helper as delete_message (the author, or a role above the author's; never a former member); a file
-- not sent yet, only its uploader while still a member of the chat.
create function private.can_delete_attachment(object_name text) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1
      from public.attachments a
     where a.chat_id::text = split_part(object_name, '/', 1)
       and a.id::text = split_part(object_name, '/', 2)
       and case
             when a.message_id is null then
               a.uploader_id = auth.uid()
               and exists (select 1 from public.chat_members m where m.chat_id = a.chat_id and m.user_id = auth.uid())
             else exists (select 1 from public.messages msg
                           where msg.id = a.message_id and private.can_delete_message(msg.chat_id, msg.seq, msg.author_id))
           end
  )
$$;
comment on function private.can_delete_attachment(text) is
  'Storage policy helper: a sent file has its message''s delete right (private.can_delete_message); an unsent one, '
  'its uploader while a member.';
revoke all on function private.can_delete_attachment(text) from public, anon, authenticated;
grant execute on function private.can_delete_attachment(text) to authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers: calling the edge functions (Vault secrets; see docs/operations.md)
-- ---------------------------------------------------------------------------------------------------------------
create function private.vault_secret(secret_name text) returns text
language sql
stable
security definer
set search_path = ''
as $$
  select s.decrypted_secret from vault.decrypted_secrets s where s.name = secret_name order by s.created_at desc limit 1
$$;
comment on function private.vault_secret(text) is
  'A Vault secret by name: functions_url (https://<ref>.supabase.co/functions/v1) and service_role_key.';
revoke all on function private.vault_secret(text) from public, anon, authenticated;

-- Queues a POST to an edge function with the service role key. Returns false, with a warning, when it cannot
-- (Vault lacks the settings, pg_net is not enabled, or pg_net fails): an upload never fails because of it, the file
-- stays pending (unreadable by others) and the sweep asks again.
create function private.invoke_function(function_name text, body jsonb) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  base_url text := private.vault_secret('functions_url');
  service_key text := private.vault_secret('service_role_key');
begin
  if base_url is null or service_key is null then
    raise warning 'cannot call edge function %: Vault secrets functions_url and service_role_key are not set', function_name;
    return false;
  end if;
  if to_regprocedure('net.http_post(text, jsonb, jsonb, jsonb, integer)') is null then
    raise warning 'cannot call edge function %: pg_net is not enabled', function_name;
    return false;
  end if;
  begin
    perform net.http_post(
      url => rtrim(base_url, '/') || '/' || function_name,
      body => body,
      headers => jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || service_key),
      timeout_milliseconds => 60000
    );
  exception when others then
    raise warning 'cannot call edge function %: % (%)', function_name, sqlerrm, sqlstate;
    return false;
  end;
  return true;
end
$$;
revoke all on function private.invoke_function(text, jsonb) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers: scanning and thumbnails, the only writers of scan_status and thumbnail_status
-- ---------------------------------------------------------------------------------------------------------------
create function private.scan_max_attempts() returns integer
language sql
immutable
set search_path = ''
as $$ select 5 $$;
comment on function private.scan_max_attempts() is 'Scans requested per attachment before an error is final.';
revoke all on function private.scan_max_attempts() from public, anon, authenticated;

-- Records a scan status change and its consequences. Every change of scan_status goes through here:
-- * pending: a (re)queued scan; the attempt is counted.
-- * clean: readable by the chat; images get a thumbnail.
-- * infected: unreadable by everyone from this moment (the scan function then removes the object); the event is
--   audited with the uploader as actor, and the uploader sees the status on their attachment row.
-- * error: not readable by others; retried with backoff while `retryable` and attempts remain.
create function private.set_attachment_scan_result(
  attachment_id uuid,
  new_status public.attachment_scan_status,
  signature text default null,
  error text default null,
  detected_mime_type text default null,
  retryable boolean default false
) returns public.attachments
language plpgsql
security definer
set search_path = ''
as $$
declare
  a public.attachments;
  thumbnailable boolean;
begin
  select * into a from public.attachments where id = attachment_id for update;
  if a.id is null then
    raise exception 'attachment not found' using errcode = 'PT404', hint = 'Check the attachment id.';
  end if;
  if a.scan_status in ('clean', 'infected') and new_status <> a.scan_status then
    raise exception 'attachment already has a final verdict' using errcode = '22023',
      hint = format('It is %s.', a.scan_status);
  end if;

  if new_status = 'pending' then
    update public.attachments t
       set scan_status = 'pending', scan_attempts = t.scan_attempts + 1, scan_requested_at = now(), next_scan_at = null
     where t.id = a.id
    returning * into a;
    return a;
  end if;

  thumbnailable := new_status = 'clean' and a.mime_type like 'image/%';
  update public.attachments t
     set scan_status = new_status,
         scan_signature = case when new_status = 'infected' then left(set_attachment_scan_result.signature, 200) end,
         scan_error = case when new_status = 'error' then left(coalesce(set_attachment_scan_result.error, 'scan failed'), 500) end,
         detected_mime_type = coalesce(left(set_attachment_scan_result.detected_mime_type, 255), t.detected_mime_type),
         scanned_at = now(),
         next_scan_at = case
           when new_status = 'error' and retryable and t.scan_attempts < private.scan_max_attempts()
             then now() + make_interval(mins => least(power(2, t.scan_attempts)::integer, 60))
         end,
         thumbnail_status = case when thumbnailable then 'pending'::public.attachment_thumbnail_status end
   where t.id = a.id
  returning * into a;

  if new_status = 'infected' then
    perform private.audit('attachment.infected', a.chat_id, a.uploader_id, 'attachments', a.id,
      jsonb_build_object('name', a.name, 'mime_type', a.mime_type, 'size_bytes', a.size_bytes,
                         'signature', a.scan_signature, 'object_path', a.object_path));
  elsif thumbnailable then
    perform private.invoke_function('thumbnail', jsonb_build_object('attachment_id', a.id));
  end if;
  return a;
end
$$;
comment on function private.set_attachment_scan_result(uuid, public.attachment_scan_status, text, text, text, boolean) is
  'The single writer of attachments.scan_status (queueing, verdicts, their audit and thumbnail side effects).';
revoke all on function private.set_attachment_scan_result(uuid, public.attachment_scan_status, text, text, text, boolean) from public, anon, authenticated;
grant execute on function private.set_attachment_scan_result(uuid, public.attachment_scan_status, text, text, text, boolean) to service_role;

-- Asks the scan function to scan an attachment (counts an attempt).
create function private.queue_attachment_scan(attachment_id uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.set_attachment_scan_result(attachment_id, 'pending');
  return private.invoke_function('scan', jsonb_build_object('attachment_id', attachment_id));
end
$$;
revoke all on function private.queue_attachment_scan(uuid) from public, anon, authenticated;
grant execute on function private.queue_attachment_scan(uuid) to service_role;

-- Records a thumbnail result: ready with its path and the image's dimensions, or failed/unsupported with a reason.
create function private.set_attachment_thumbnail(
  attachment_id uuid,
  new_status public.attachment_thumbnail_status,
  thumbnail_path text default null,
  width integer default null,
  height integer default null,
  error text default null
) returns public.attachments
language plpgsql
security definer
set search_path = ''
as $$
declare
  a public.attachments;
begin
  if new_status = 'ready' and (thumbnail_path is null or width is null or height is null) then
    raise exception 'a ready thumbnail needs its path and the image''s dimensions' using errcode = '22023',
      hint = 'Pass thumbnail_path, width and height.';
  end if;
  update public.attachments t
     set thumbnail_status = new_status,
         thumbnail_path = case when new_status = 'ready' then set_attachment_thumbnail.thumbnail_path end,
         width = coalesce(set_attachment_thumbnail.width, t.width),
         height = coalesce(set_attachment_thumbnail.height, t.height),
         thumbnail_error = case when new_status in ('failed', 'unsupported') then left(set_attachment_thumbnail.error, 500) end
   where t.id = attachment_id
  returning * into a;
  if a.id is null then
    raise exception 'attachment not found' using errcode = 'PT404', hint = 'Check the attachment id.';
  end if;
  return a;
end
$$;
revoke all on function private.set_attachment_thumbnail(uuid, public.attachment_thumbnail_status, text, integer, integer, text) from public, anon, authenticated;
grant execute on function private.set_attachment_thumbnail(uuid, public.attachment_thumbnail_status, text, integer, integer, text) to service_role;

-- Re-queues scans that never reported back (pending for 5 minutes) and retryable errors whose backoff has passed;
-- gives up (final error) after scan_max_attempts. Thumbnails pending for 5 minutes are asked for again.
-- Runs every minute from pg_cron; returns how many scans it queued.
create function private.sweep_attachment_scans() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  a record;
  queued integer := 0;
begin
  for a in
    select t.id, t.scan_status, t.scan_attempts from public.attachments t
     where (t.scan_status = 'pending' and coalesce(t.scan_requested_at, t.created_at) < now() - interval '5 minutes')
        or (t.scan_status = 'error' and t.next_scan_at <= now())
     order by t.created_at
     limit 100
     for update skip locked
  loop
    if a.scan_attempts >= private.scan_max_attempts() then
      perform private.set_attachment_scan_result(a.id, 'error',
        error => format('no verdict after %s scan attempts', a.scan_attempts));
    elsif private.queue_attachment_scan(a.id) then
      queued := queued + 1;
    end if;
  end loop;
  for a in
    select t.id from public.attachments t
     where t.thumbnail_status = 'pending' and t.updated_at < now() - interval '5 minutes'
     order by t.updated_at
     limit 100
     for update skip locked
  loop
    if private.invoke_function('thumbnail', jsonb_build_object('attachment_id', a.id)) then
      update public.attachments t set updated_at = now() where t.id = a.id;
    end if;
  end loop;
  return queued;
end
$$;
revoke all on function private.sweep_attachment_scans() from public, anon, authenticated;
grant execute on function private.sweep_attachment_scans() to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers: payloads
-- ---------------------------------------------------------------------------------------------------------------
-- Messages as events carry them (message.sent, message.updated, catch-up) list their files: id, name, type, size,
-- dimensions or duration, thumbnail and scan status. A client draws "scanning…", the thumbnail or the file without
-- another query.
create function private.attachment_json(a public.attachments) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return jsonb_build_object('id', a.id, 'chat_id', a.chat_id, 'message_id', a.message_id, 'uploader_id', a.uploader_id,
    'object_path', a.object_path, 'name', a.name, 'mime_type', a.mime_type, 'size_bytes', a.size_bytes,
    'width', a.width, 'height', a.height, 'duration_seconds', a.duration_seconds,
    'thumbnail_path', a.thumbnail_path, 'thumbnail_status', a.thumbnail_status, 'scan_status', a.scan_status);
end
$$;
comment on function private.attachment_json(public.attachments) is
  'A file as events carry it: what a client needs to draw it (no scan internals).';
revoke all on function private.attachment_json(public.attachments) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------------------
-- helpers: expiry of files nobody can use
-- ---------------------------------------------------------------------------------------------------------------
create function private.unsent_attachment_lifetime() returns interval
language sql
immutable
set search_path = ''
as $$ select interval '24 hours' $$;
comment on function private.unsent_attachment_lifetime() is 'How long an uploaded file may stay unsent before it is removed.';
revoke all on function private.unsent_attachment_lifetime() from public, anon, authenticated;

-- Claims up to max_rows attachments nobody can use any more (unsent for longer than their lifetime, or in a deleted
-- message) by deleting their rows (the trigger above queues their objects), then returns the removal queue, fewest
-- failed attempts and oldest first, at most max_rows objects.
create function private.claim_storage_trash(max_rows integer default 200)
returns table (bucket_id text, name text, attempts integer)
language plpgsql
security definer
set search_path = ''
as $$
declare
  n integer := least(greatest(coalesce(max_rows, 200), 1), 1000);
begin
  delete from public.attachments a
   where a.id in (
     select x.id from public.attachments x
      where x.scan_status <> 'infected'
        and ((x.message_id is null and x.created_at < now() - private.unsent_attachment_lifetime())
             or exists (select 1 from public.messages m where m.id = x.message_id and m.deleted_at is not null))
      order by x.created_at
      limit n
        for update skip locked);

  return query
    select t.bucket_id, t.name, t.attempts from private.storage_trash t order by t.attempts, t.queued_at limit n;
end
$$;
comment on function private.claim_storage_trash(integer) is
  'attachments-cleanup: claims unusable attachments (rows deleted, objects queued) and returns the removal queue.';
revoke all on function private.claim_storage_trash(integer) from public, anon, authenticated;
grant execute on function private.claim_storage_trash(integer) to service_role;

-- Records the outcome of a removal attempt: removed objects leave the queue, the others count an attempt.
create function private.settle_storage_trash(bucket text, removed text[], failed text[], error text default null)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from private.storage_trash t where t.bucket_id = bucket and t.name = any (coalesce(removed, '{}'));
  update private.storage_trash t set attempts = t.attempts + 1, last_error = left(error, 500)
   where t.bucket_id = bucket and t.name = any (coalesce(failed, '{}'));
end
$$;
comment on function private.settle_storage_trash(text, text[], text[], text) is
  'attachments-cleanup: forgets removed objects and counts a failed attempt for the others.';
revoke all on function private.settle_storage_trash(text, text[], text[], text) from public, anon, authenticated;
grant execute on function private.settle_storage_trash(text, text[], text[], text) to service_role;

-- ---------------------------------------------------------------------------------------------------------------
-- triggers: uploads (storage.objects) and updated_at
-- ---------------------------------------------------------------------------------------------------------------
-- Checks an object about to be written to the avatars or attachments bucket. The Storage API writes every upload
-- twice (supabase/storage src/storage/uploader.ts): first a permission probe as the caller, rolled back, whose
-- metadata is {mimetype, contentLength} without `size`; then, once the bytes are stored, the final upsert as the
-- service role with the full metadata {eTag, size, mimetype, cacheControl, ...}. So: path and name are checked on
-- every write; type and size on the write that carries a `size` (the final write, and a copy's probe, which carries
-- the source's metadata). Refusals are raised as 42501 with our message, because the Storage API answers 42501 with
-- 403 and the database's message, and any other SQLSTATE with 500 "database error, code: ..." (its hint is never
-- shown). Uploads the caller may not make at all are left to row level security, so an outsider learns nothing.
-- Types and limits come from the storage.buckets rows (private.bucket_max_size, private.attachment_max_size).
-- Uploads per user and day, in files and bytes (private.rate_limits 'upload' and 'upload_bytes'). The Storage API
-- runs the caller's permission probe in a transaction it rolls back, so the probe only checks (with the declared
-- contentLength) and refuses with 42501, the one code whose message the Storage API passes on; the final write, as
-- the storage admin with the stored size, counts (a new object or an overwrite; a move counts nothing).
create function private.check_upload_quota(o storage.objects, is_api_user boolean, op text) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  uploader uuid;
  bytes bigint;
  wait integer;
begin
  if is_api_user then
    bytes := case when o.metadata ->> 'contentLength' ~ '^[0-9]{1,15}$' then (o.metadata ->> 'contentLength')::bigint else 0 end;
    wait := greatest(private.rate_limit_wait('upload', auth.uid(), 1), private.rate_limit_wait('upload_bytes', auth.uid(), bytes));
    if wait is not null then
      raise exception 'upload quota reached; retry after % seconds', wait using errcode = '42501',
        hint = format('Uploads per day are limited in number and bytes; retry after %s seconds.', wait);
    end if;
  elsif op = 'INSERT' and coalesce(o.metadata ? 'size', false) and o.owner_id ~ '^[0-9a-f-]{36}$' then
    uploader := o.owner_id::uuid;
    perform private.rate_limit('upload', uploader, 1);
    perform private.rate_limit('upload_bytes', uploader, greatest((o.metadata ->> 'size')::bigint, 0));
  end if;
end
$$;
comment on function private.check_upload_quota(storage.objects, boolean, text) is
  'The daily upload quota: checked at the Storage permission probe, counted at the final write.';
revoke all on function private.check_upload_quota(storage.objects, boolean, text) from public, anon, authenticated;

create function private.validate_storage_object() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  p record;
  mime text := nullif(new.metadata ->> 'mimetype', '');
  -- Only the final write (and a copy) carries the stored size; the permission probe does not.
  has_size boolean := coalesce(new.metadata ? 'size', false);
  size bigint;
  max_size bigint;
  -- The request's role (security definer changes current_user, not the role the request set).
  is_api_user boolean := current_setting('role', true) in ('anon', 'authenticated');
  refusal text;
  refusal_hint text;
begin
  if tg_op = 'UPDATE' and new.name = old.name and new.metadata is not distinct from old.metadata then
    return new;
  end if;
  if has_size then
    size := (new.metadata ->> 'size')::bigint;
  end if;

  begin
    if new.bucket_id = 'avatars' then
      if is_api_user and (storage.foldername(new.name))[1] is distinct from auth.uid()::text then
        return new;
      end if;
      if cardinality(string_to_array(new.name, '/')) <> 2 then
        raise exception 'invalid avatar path' using errcode = '22023', hint = 'Upload avatars to <your user id>/<file name>.';
      end if;
      perform private.assert_file_name(storage.filename(new.name));
      if has_size then
        max_size := private.bucket_max_size('avatars', mime);
        if max_size is null then
          raise exception 'avatars must be images' using errcode = '22023', hint = 'Upload a JPEG, PNG, WebP or GIF image.';
        end if;
        if size > max_size then
          raise exception 'avatar is too large' using errcode = '22023', hint = format('At most %s MiB.', max_size / 1048576);
        end if;
      end if;
      return new;
    end if;

    if new.bucket_id = 'attachments' then
      p := private.attachment_path(new.name);
      -- Thumbnails are written by the server below <chat_id>/<attachment_id>/thumbnail/.
      if not is_api_user and p.chat_id is null
         and new.name ~ '^[0-9a-f-]{36}/[0-9a-f-]{36}/thumbnail/[^/]+\.(jpg|webp)$' then
        return new;
      end if;
      if is_api_user and (p.chat_id is null or not private.can_upload_attachment(new.name)) then
        return new;
      end if;
      if p.chat_id is null then
        raise exception 'invalid attachment path' using errcode = '22023',
          hint = 'Upload to <chat_id>/<new uuid>/<file name>.';
      end if;
      perform private.assert_file_name(p.file_name);
      perform private.check_upload_quota(new, is_api_user, tg_op);
      if has_size then
        max_size := private.attachment_max_size(mime);
        if max_size is null then
          raise exception 'file type not allowed' using errcode = '22023',
            hint = 'Send images (JPEG, PNG, GIF, WebP), video (MP4, MOV, WebM), audio, PDF, office documents or text.';
        end if;
        if size > max_size then
          raise exception 'file is too large' using errcode = '22023',
            hint = format('At most %s MiB for %s.', max_size / 1048576, mime);
        end if;
      end if;
      return new;
    end if;
  exception when sqlstate '22023' then
    -- One place turns every refusal above (and assert_file_name's) into what the Storage API passes on.
    get stacked diagnostics refusal = message_text, refusal_hint = pg_exception_hint;
    raise exception '%', refusal using errcode = '42501', hint = refusal_hint;
  end;
  return new;
end
$$;
revoke all on function private.validate_storage_object() from public, anon, authenticated;

create trigger attachments_touch_updated_at before update on public.attachments
  for each row execute function private.touch_updated_at();

-- An uploaded attachment object (with its metadata) registers the attachment and queues its scan.
create function private.register_attachment_object() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  p record := private.attachment_path(new.name);
  declared text;
  duration numeric;
begin
  if p.chat_id is null or new.metadata is null
     or exists (select 1 from public.attachments a where a.id = p.attachment_id) then
    return null;
  end if;
  -- Audio and video: the client may declare the duration in the upload's metadata (supabase-js `metadata` option,
  -- storage.objects.user_metadata); it is shown as given, never trusted for access decisions.
  declared := new.user_metadata ->> 'duration_seconds';
  if coalesce(new.metadata ->> 'mimetype', '') ~ '^(audio|video)/' and declared ~ '^[0-9]{1,5}(\.[0-9]{1,3})?$'
     and declared::numeric <= 86400 then
    duration := declared::numeric;
  end if;
  insert into public.attachments (id, chat_id, uploader_id, object_path, name, mime_type, size_bytes, duration_seconds)
  values (p.attachment_id, p.chat_id,
          coalesce(auth.uid(), case when new.owner_id ~ '^[0-9a-f-]{36}$' then new.owner_id::uuid end),
          new.name, p.file_name, coalesce(new.metadata ->> 'mimetype', 'application/octet-stream'),
          coalesce((new.metadata ->> 'size')::bigint, 0), duration);
  perform private.queue_attachment_scan(p.attachment_id);
  return null;
end
$$;
revoke all on function private.register_attachment_object() from public, anon, authenticated;

-- Deleting the object (Storage API remove) deletes its attachment row.
create function private.unregister_attachment_object() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  p record := private.attachment_path(old.name);
begin
  if p.chat_id is not null then
    delete from public.attachments a where a.id = p.attachment_id and a.object_path = old.name
       and a.scan_status <> 'infected';
  end if;
  return null;
end
$$;
revoke all on function private.unregister_attachment_object() from public, anon, authenticated;

create trigger chat_files_validate_object before insert or update on storage.objects
  for each row when (new.bucket_id in ('avatars', 'attachments'))
  execute function private.validate_storage_object();

create trigger chat_files_register_attachment after insert or update of metadata on storage.objects
  for each row when (new.bucket_id = 'attachments')
  execute function private.register_attachment_object();

create trigger chat_files_unregister_attachment after delete on storage.objects
  for each row when (old.bucket_id = 'attachments')
  execute function private.unregister_attachment_object();

-- ---------------------------------------------------------------------------------------------------------------
-- triggers: realtime events of files
-- ---------------------------------------------------------------------------------------------------------------
-- Files in the realtime contract.
-- * The uploader hears about every scan and thumbnail outcome of their own uploads on user:<id> as
--   attachment.updated, stored for get_updates: that is how they learn a file was refused as infected.
-- * When a sent file's scan verdict, thumbnail or dimensions change, or the file is deleted, the chat gets one
--   message.updated for its message (once per transaction, read at commit like the other message events).
-- The uploader's own notice of a scan or thumbnail outcome.
create function private.on_attachment_status() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.uploader_id is not null then
    perform private.emit_user_event(new.uploader_id, 'attachment.updated',
      jsonb_build_object('attachment', private.attachment_json(new),
                         'scan_error', case when new.scan_status = 'error' then new.scan_error end,
                         'thumbnail_error', new.thumbnail_error));
  end if;
  return null;
end
$$;
comment on function private.on_attachment_status() is
  'Tells the uploader (user:<id>, attachment.updated) when a scan verdict or a thumbnail outcome is recorded.';
revoke all on function private.on_attachment_status() from public, anon, authenticated;

create trigger chat_events_attachment_status after update on public.attachments
  for each row
  when (new.scan_status is distinct from old.scan_status or new.thumbnail_status is distinct from old.thumbnail_status)
  execute function private.on_attachment_status();

-- A sent file changed: its message is updated for the chat. Linking files to a new message (send_message) is part
-- of message.sent and is skipped here; a deleted message's files do not matter (its tombstone has none).
create function private.on_attachment_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  m public.messages;
begin
  if private.was_handled('sent', old.message_id) then
    return null;
  end if;
  select * into m from public.messages where id = old.message_id;
  if m.id is null or m.deleted_at is not null or not private.mark_handled('changed', m.id) then
    return null;
  end if;
  perform private.emit_chat_event(m.chat_id, 'message.updated',
    jsonb_build_object('message_id', m.id, 'message_seq', m.seq), m.id, m.seq);
  return null;
end
$$;
comment on function private.on_attachment_changed() is
  'At commit: one message.updated for a sent message whose files changed (scan, thumbnail, dimensions, deletion).';
revoke all on function private.on_attachment_changed() from public, anon, authenticated;

create constraint trigger chat_events_attachment_changed after update on public.attachments
  deferrable initially deferred
  for each row
  when (old.message_id is not null and new.message_id is not distinct from old.message_id
        and (new.scan_status is distinct from old.scan_status
             or new.thumbnail_status is distinct from old.thumbnail_status
             or new.thumbnail_path is distinct from old.thumbnail_path
             or new.width is distinct from old.width or new.height is distinct from old.height))
  execute function private.on_attachment_changed();

create constraint trigger chat_events_attachment_removed after delete on public.attachments
  deferrable initially deferred
  for each row
  when (old.message_id is not null)
  execute function private.on_attachment_changed();

-- ---------------------------------------------------------------------------------------------------------------
-- triggers: expiry
-- ---------------------------------------------------------------------------------------------------------------
-- Queues what a deleted attachments row leaves in Storage: the file (unless it is being removed right now, which is
-- how a client deletes one) and the thumbnail.
create function private.queue_attachment_objects() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into private.storage_trash (bucket_id, name)
  select old.bucket_id, o.name from unnest(array[old.object_path, old.thumbnail_path]) o(name)
   where o.name is not null
     and exists (select 1 from storage.objects so where so.bucket_id = old.bucket_id and so.name = o.name)
  on conflict do nothing;
  return null;
end
$$;
comment on function private.queue_attachment_objects() is
  'After an attachments row is deleted: its remaining objects (file, thumbnail) go to private.storage_trash.';
revoke all on function private.queue_attachment_objects() from public, anon, authenticated;

create trigger storage_trash_attachment_removed after delete on public.attachments
  for each row execute function private.queue_attachment_objects();

-- ---------------------------------------------------------------------------------------------------------------
-- row level security
-- ---------------------------------------------------------------------------------------------------------------
alter table public.attachments enable row level security;
alter table private.storage_trash enable row level security;

-- ---------------------------------------------------------------------------------------------------------------
-- policies: attachments
-- ---------------------------------------------------------------------------------------------------------------
-- The uploader sees their files in every state (pending, clean, infected, error); other members see a file once it
-- is sent in a message they can read (messages' own policy applies in the subquery), whatever its scan status,
-- so clients can show "scanning" — the bytes stay unreadable until clean (storage policies).
create policy "uploaders and readers of the message can read attachments"
  on public.attachments for select to authenticated
  using (uploader_id = (select auth.uid())
         or (message_id is not null
             and exists (select 1 from public.messages m where m.id = attachments.message_id and m.deleted_at is null)));

-- ---------------------------------------------------------------------------------------------------------------
-- policies: storage.objects, avatars bucket
-- ---------------------------------------------------------------------------------------------------------------
-- Storage access control: policies on storage.objects for the `avatars` and `attachments` buckets, one per operation
-- and role. The Storage API runs every request as the caller's role with the caller's JWT claims, so these policies
-- decide what a client can upload, download, list, overwrite and remove.
-- * avatars (public bucket: public URLs are served without a policy): a signed-in user writes only their own folder
--   `<user id>/`; signed-in users may list and download avatars through the API.
-- * attachments (private): members who may post upload to `<chat_id>/<new uuid>/<file name>`; the uploader reads
--   the file at once, other members once it is clean and sent in a message they can read; whoever may delete the
--   message deletes its files (an unsent file: its uploader, while a member). Nobody overwrites an attachment (no update policy): a changed file is a new upload.
-- Name, type and size are validated by the trigger on storage.objects (above), which raises errors a client can
-- show; these policies decide only who.
-- Guests (private.is_guest) upload nothing to either bucket.
create policy "guests cannot upload files"
  on storage.objects as restrictive for insert to authenticated
  with check (bucket_id not in ('avatars', 'attachments') or not (select private.is_guest()));

create policy "guests cannot replace files"
  on storage.objects as restrictive for update to authenticated
  using (bucket_id not in ('avatars', 'attachments') or not (select private.is_guest()));

create policy "signed-in users can read avatars"
  on storage.objects for select to authenticated
  using (bucket_id = 'avatars');

create policy "users can upload an avatar to their own folder"
  on storage.objects for insert to authenticated
  with check (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text
              and not (select private.is_suspended()));

create policy "users can replace avatars in their own folder"
  on storage.objects for update to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text)
  with check (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text
              and not (select private.is_suspended()));

create policy "users can delete avatars in their own folder"
  on storage.objects for delete to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text);

-- ---------------------------------------------------------------------------------------------------------------
-- policies: storage.objects, attachments bucket
-- ---------------------------------------------------------------------------------------------------------------
create policy "members who may post can upload attachments to their chat"
  on storage.objects for insert to authenticated
  with check (bucket_id = 'attachments' and private.can_upload_attachment(name));

create policy "uploaders and, once clean, message readers can read files"
  on storage.objects for select to authenticated
  using (bucket_id = 'attachments' and private.can_read_attachment(name, owner_id));

create policy "who may delete the message can delete its attachments"
  on storage.objects for delete to authenticated
  using (bucket_id = 'attachments' and private.can_delete_attachment(name));
