-- Files in the realtime contract: messages carry their files (in get_chat_events: broadcasts are thin), a sent
-- file's scan verdict, thumbnail or deletion updates its message for the chat (once, at commit), and the uploader
-- hears every outcome of their own uploads.
begin;
create extension if not exists pgtap with schema extensions;
select plan(28);

-- fixtures ----------------------------------------------------------------------------------------------------------
select tests.create_user(u) from unnest(array['alice', 'bob']) u;
select tests.new_file(f) from unnest(array['photo', 'doc', 'pic']) f;
select tests.create_group('team', 'alice', members => array['bob'], title => 'Team');
select tests.commit_point();
select tests.took();
select tests.authenticate_as('alice');

-- a file before it is sent ------------------------------------------------------------------------------------------
select tests.storage_upload('attachments', tests.attachment_path('team', 'photo', 'photo.png'), 'image/png', 5000);
select tests.commit_point();
select is(tests.took(), '{}'::text[], 'an upload broadcasts nothing: the scan is pending');

reset role;
select private.set_attachment_scan_result(tests.id('photo'), 'clean', detected_mime_type => 'image/png');
select tests.commit_point();
select is(tests.took(), array['user:alice attachment.updated'],
  'a verdict on an unsent file goes to the uploader only');
select is(tests.last_payload('attachment.updated') -> 'data' -> 'attachment' ->> 'scan_status', 'clean',
  'attachment.updated carries the new scan status');
select is(tests.last_payload('attachment.updated') -> 'data' -> 'attachment' ->> 'thumbnail_status', 'pending',
  '...and that a thumbnail is being made for an image');
select ok((select id from private.user_events where user_id = tests.id('alice') and event = 'attachment.updated'
            order by id desc limit 1) = (tests.last_payload('attachment.updated') ->> 'event_id')::bigint,
  'attachment.updated is stored for get_updates');

-- sending it ----------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select tests.remember('m_photo', (public.send_message(tests.id('team'), 'look', 'image',
  attachment_ids => array[tests.id('photo')])).id);
select tests.commit_point();
select is(tests.took(), array['chat:team message.sent'],
  'sending a message with a file is one message.sent (linking the file adds no event)');
select is(jsonb_array_length(tests.last_event_fetched('message.sent') -> 'message' -> 'attachments'), 1,
  'message.sent lists the message''s file');
select is(tests.last_event_fetched('message.sent') -> 'message' -> 'attachments' -> 0,
  jsonb_build_object('id', tests.id('photo'), 'chat_id', tests.id('team'), 'message_id', tests.id('m_photo'),
    'uploader_id', tests.id('alice'), 'object_path', tests.attachment_path('team', 'photo', 'photo.png'), 'name', 'photo.png',
    'mime_type', 'image/png', 'size_bytes', 5000, 'width', null, 'height', null, 'duration_seconds', null,
    'thumbnail_path', null, 'thumbnail_status', 'pending', 'scan_status', 'clean'),
  '...with what a client needs to draw it');

reset role;
select private.set_attachment_thumbnail(tests.id('photo'), 'ready', tests.attachment_path('team', 'photo', 'photo.png') || '.thumb.jpg', 640, 480);
select tests.commit_point();
select is(tests.took(), array['user:alice attachment.updated', 'chat:team message.updated'],
  'a thumbnail of a sent image: the uploader is told, the chat gets its message updated');
select is(tests.last_event_fetched('message.updated') -> 'message' -> 'attachments' -> 0 ->> 'thumbnail_status', 'ready',
  'message.updated carries the ready thumbnail');
select is((tests.last_event_fetched('message.updated') -> 'message' -> 'attachments' -> 0 ->> 'width')::int, 640,
  '...and the image''s dimensions');
select is(tests.last_payload('message.updated') -> 'data' ->> 'message_id', tests.id('m_photo')::text,
  '...of the right message');

-- a file sent before its verdict --------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select tests.storage_upload('attachments', tests.attachment_path('team', 'doc', 'report.pdf'), 'application/pdf', 20000);
select tests.remember('m_doc', (public.send_message(tests.id('team'), 'the report', 'file',
  attachment_ids => array[tests.id('doc')])).id);
select tests.commit_point();
select is(tests.took(), array['chat:team message.sent'], 'upload and send in one go');
select is(tests.last_event_fetched('message.sent') -> 'message' -> 'attachments' -> 0 ->> 'scan_status', 'pending',
  'the file is shown as being scanned');

reset role;
select private.set_attachment_scan_result(tests.id('doc'), 'infected', signature => 'Eicar-Test-Signature');
select tests.commit_point();
select is(tests.took(), array['user:alice attachment.updated', 'chat:team message.updated'],
  'an infected verdict on a sent file: the uploader is told, the message is updated');
select is(tests.last_event_fetched('message.updated') -> 'message' -> 'attachments' -> 0 ->> 'scan_status', 'infected',
  'members see the file was refused');
select is(tests.last_payload('attachment.updated') -> 'data' -> 'attachment' ->> 'scan_status', 'infected',
  'the uploader learns their file was infected');
select ok(not (tests.last_event_fetched('message.updated') -> 'message' -> 'attachments' -> 0 ? 'scan_signature'),
  'events do not carry scan internals');

-- several changes in one transaction are one update; nothing for a retry that changes nothing ----------------------
select private.set_attachment_thumbnail(tests.id('photo'), 'failed', error => 'test');
select private.set_attachment_thumbnail(tests.id('photo'), 'ready', tests.attachment_path('team', 'photo', 'photo.png') || '.thumb.jpg', 640, 480);
select tests.commit_point();
select is(tests.took(), array['user:alice attachment.updated', 'user:alice attachment.updated', 'chat:team message.updated'],
  'two thumbnail outcomes in one transaction: two notices to the uploader, one message.updated');
update public.attachments set scan_attempts = scan_attempts + 1 where id = tests.id('photo');
select tests.commit_point();
select is(tests.took(), '{}'::text[], 'bookkeeping that changes nothing visible broadcasts nothing');

-- deleting a sent file ------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select is(tests.storage_remove('attachments', tests.attachment_path('team', 'photo', 'photo.png')), 1, 'the uploader deletes the photo');
select tests.commit_point();
select is(tests.took(), array['chat:team message.updated'], 'deleting a sent file updates its message');
select is(tests.last_event_fetched('message.updated') -> 'message' -> 'attachments', '[]'::jsonb,
  '...which no longer lists it');

-- deleting a message with files ---------------------------------------------------------------------------------------
select tests.storage_upload('attachments', tests.attachment_path('team', 'pic', 'pic.png'), 'image/png', 900);
select tests.remember('m_pic', (public.send_message(tests.id('team'), null, 'image',
  attachment_ids => array[tests.id('pic')])).id);
select tests.commit_point();
select tests.took();
select public.delete_message(tests.id('m_pic'));
select tests.commit_point();
select is(tests.took(), array['chat:team message.deleted'], 'deleting a message with a file is one message.deleted');
select is(tests.last_event_fetched('message.deleted') -> 'message' -> 'attachments', '[]'::jsonb,
  'the tombstone lists no files');
reset role;
select private.set_attachment_scan_result(tests.id('pic'), 'clean');
select tests.commit_point();
select is(tests.took(), array['user:alice attachment.updated'],
  'a verdict on a deleted message''s file reaches the uploader only');

-- catch-up shows files as they are now --------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select public.toggle_reaction(tests.id('m_doc'), '👍');
select tests.commit_point();
select is((select e -> 'data' -> 'message' -> 'attachments' -> 0 ->> 'scan_status'
             from jsonb_array_elements(tests.chat_events(tests.id('team')) -> 'events') e
            where e ->> 'event' = 'message.sent' and e -> 'data' ->> 'message_id' = tests.id('m_doc')::text),
  'infected', 'get_chat_events renders a message with its files as they are now');

-- The catch-up page is built in one query (get_chat_events in 20261124100500_create_realtime_events.sql); it must equal event_json of each event.
reset role;
create temp table expected_events as
  select jsonb_agg(private.event_json(e) order by e.seq) as events from private.chat_events e
   where e.chat_id = tests.id('team')
     and e.seq > (select joined_event_seq from public.chat_members
                   where chat_id = tests.id('team') and user_id = tests.id('bob'));
grant select on expected_events to authenticated;
select tests.authenticate_as('bob');
select is(tests.chat_events(tests.id('team'), 0, 500) -> 'events', (select events from expected_events),
  'a catch-up page is exactly the events as event_json renders them (messages, files, reactions, members)');

select * from finish();
rollback;
