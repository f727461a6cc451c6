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

create trigger storage_trash_attachment_removed after delete on public.attachments
  for each row execute function private.queue_attachment_objects();

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

revoke all on function private.unsent_attachment_lifetime(), private.queue_attachment_objects(),
  private.claim_storage_trash(integer), private.settle_storage_trash(text, text[], text[], text)
  from public, anon, authenticated;
grant execute on function private.claim_storage_trash(integer), private.settle_storage_trash(text, text[], text[], text)
  to service_role;

select cron.schedule('attachments-unsent-cleanup', '17 * * * *',
  $$select private.invoke_function('attachments-cleanup', '{}'::jsonb)$$);
