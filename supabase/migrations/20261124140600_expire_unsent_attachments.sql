-- Unsent uploads expire. A file uploaded to a chat but never sent (the user closed the app, picked another photo)
-- used to stay in Storage for ever. Now an hourly job hands the files unsent for longer than
-- private.unsent_attachment_lifetime() (24 hours) to the `attachments-cleanup` edge function, which removes them
-- through the Storage API.
-- * Claiming is one transaction: the attachment rows are deleted (so a send racing with the cleanup gets "attachment
--   not found" instead of a message whose file is about to vanish) and their objects, thumbnails included, are
--   queued in private.storage_trash.
-- * The function removes the queued objects through Storage and forgets each one it removed; what Storage could not
--   remove stays queued and is tried again at the next run (attempts are counted).
-- * Files in a message are never touched; infected files are already gone from Storage (their rows stay as the record).

create function private.unsent_attachment_lifetime() returns interval
language sql
immutable
set search_path = ''
as $$ select interval '24 hours' $$;
comment on function private.unsent_attachment_lifetime() is 'How long an uploaded file may stay unsent before it is removed.';

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
create index storage_trash_queued_idx on private.storage_trash (attempts, queued_at);
alter table private.storage_trash enable row level security;
revoke all on private.storage_trash from public, anon, authenticated;
grant select, insert, update, delete on private.storage_trash to service_role;

-- Claims up to max_rows expired unsent attachments: deletes their rows, queues their objects for removal, and
-- returns the whole queue (oldest first, at most max_rows objects) for the cleanup function.
create function private.claim_storage_trash(max_rows integer default 200)
returns table (bucket_id text, name text, attempts integer)
language plpgsql
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  n integer := least(greatest(coalesce(max_rows, 200), 1), 1000);
begin
  with expired as (
    select a.id from public.attachments a
     where a.message_id is null and a.scan_status <> 'infected'
       and a.created_at < now() - private.unsent_attachment_lifetime()
     order by a.created_at
     limit n
       for update skip locked
  ), gone as (
    delete from public.attachments a using expired e where a.id = e.id
    returning a.bucket_id, a.object_path, a.thumbnail_path
  )
  insert into private.storage_trash (bucket_id, name)
  select g.bucket_id, o.name from gone g, unnest(array[g.object_path, g.thumbnail_path]) o(name)
   where o.name is not null
  on conflict do nothing;

  return query
    select t.bucket_id, t.name, t.attempts from private.storage_trash t order by t.attempts, t.queued_at limit n;
end
$$;
comment on function private.claim_storage_trash(integer) is
  'attachments-cleanup: expires unsent attachments (rows deleted, objects queued) and returns the removal queue.';

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

revoke all on function private.unsent_attachment_lifetime(), private.claim_storage_trash(integer),
  private.settle_storage_trash(text, text[], text[], text) from public, anon, authenticated;
grant execute on function private.claim_storage_trash(integer), private.settle_storage_trash(text, text[], text[], text)
  to service_role;

select cron.schedule('attachments-unsent-cleanup', '17 * * * *',
  $$select private.invoke_function('attachments-cleanup', '{}'::jsonb)$$);
