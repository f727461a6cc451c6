-- Files in the realtime contract.
-- * Messages as events carry them (message.sent, message.updated, catch-up) now list their files: id, name, type,
--   size, dimensions or duration, thumbnail and scan status. A client draws "scanning…", the thumbnail or the file
--   without another query.
-- * When a sent file's scan verdict, thumbnail or dimensions change, or the file is deleted, the chat gets one
--   message.updated for its message (once per transaction, read at commit like the other message events).
-- * The uploader hears about every scan and thumbnail outcome of their own uploads on user:<id> as
--   attachment.updated, stored for get_updates: that is how they learn a file was refused as infected.

-- ---------------------------------------------------------------------------------------------------------------
-- payloads
-- ---------------------------------------------------------------------------------------------------------------
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

create or replace function private.message_json(m public.messages) returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if m.id is null then
    return null;
  end if;
  return to_jsonb(m) || jsonb_build_object(
    'author', private.profile_json(m.author_id),
    'attachments', case when m.deleted_at is not null then '[]'::jsonb else coalesce(
      (select jsonb_agg(private.attachment_json(a) order by a.created_at, a.id)
         from public.attachments a where a.message_id = m.id), '[]'::jsonb) end);
end
$$;
comment on function private.message_json(public.messages) is
  'A message as events carry it: the row, its author''s profile card and its files (none for a deleted message).';

-- ---------------------------------------------------------------------------------------------------------------
-- events
-- ---------------------------------------------------------------------------------------------------------------
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
    jsonb_build_object('message_id', m.id, 'message_seq', m.seq, 'message', private.message_json(m)), m.id, m.seq);
  return null;
end
$$;
comment on function private.on_attachment_changed() is
  'At commit: one message.updated for a sent message whose files changed (scan, thumbnail, dimensions, deletion).';

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

revoke all on function private.attachment_json(public.attachments), private.on_attachment_status(),
  private.on_attachment_changed() from public, anon, authenticated;
