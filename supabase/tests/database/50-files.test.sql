-- Files: the avatars and attachments buckets and every policy on storage.objects (anon, outsider, member, uploader,
-- admin; read, write, delete), upload validation (name, type, size), the attachment row and its scan queue,
-- fail-closed reads until the verdict is clean, sending attachments with a message, infected files (audit), retries
-- and the sweep, thumbnails. Uploads run as the Storage API runs them (sql/test/03_storage.sql).
begin;
create extension if not exists pgtap with schema extensions;
select plan(98);

-- One Storage API remove call: a single delete of several objects, as the caller.
create function pg_temp.remove_objects(bucket text, names text[]) returns integer language plpgsql as $$
declare
  n integer;
begin
  delete from storage.objects o where o.bucket_id = bucket and o.name = any (names);
  get diagnostics n = row_count;
  return n;
end
$$;
grant execute on function pg_temp.remove_objects(text, text[]) to authenticated;

-- The edge functions' address and key, as an operator stores them in Vault.
select vault.create_secret('http://127.0.0.1:54321/functions/v1/', 'functions_url');
select vault.create_secret('test-service-role-key', 'service_role_key');

-- personas: alice owns the group, adam is its admin, mia and bob are members, otto is an outsider; alice's channel
-- has mia as a plain member (members do not post there).
select tests.create_user(u) from unnest(array['alice', 'adam', 'mia', 'bob', 'otto']) u;
select tests.new_file(f)
  from unnest(array['photo', 'exe', 'badtype', 'huge', 'video', 'dup', 'inchannel', 'outsider', 'anon', 'doc', 'err', 'bad', 'pic2', 'voice', 'novault']) f;
select tests.create_group('group', 'alice', members => array['adam', 'mia', 'bob'], admins => array['adam'], title => 'Files');
select tests.create_channel('channel', 'alice', members => array['mia'], title => 'News');
select tests.create_group('ottos', 'otto', title => 'Otto alone');

-- buckets -----------------------------------------------------------------------------------------------------------
select results_eq(
  $$ select id, public, file_size_limit from storage.buckets where id in ('avatars', 'attachments') order by id $$,
  $$ values ('attachments'::text, false, 52428800::bigint), ('avatars', true, 2097152) $$,
  'avatars is public with a 2 MiB limit; attachments is private with a 50 MiB limit');
select ok((select allowed_mime_types @> array['image/png', 'video/mp4', 'audio/ogg', 'application/pdf',
                                             'application/vnd.openxmlformats-officedocument.wordprocessingml.document']
             and not allowed_mime_types && array['application/x-msdownload', 'application/x-executable', 'application/octet-stream']
             from storage.buckets where id = 'attachments'),
  'attachments allows images, video, audio, PDF and office documents, not executables');
select is((select allowed_mime_types from storage.buckets where id = 'avatars'),
  array['image/jpeg', 'image/png', 'image/webp', 'image/gif'], 'avatars allows images only');
select is(
  (select array_agg(distinct p.cmd order by p.cmd) from pg_policies p where p.schemaname = 'storage' and p.tablename = 'objects'),
  array['DELETE', 'INSERT', 'SELECT', 'UPDATE'], 'storage.objects has policies for select, insert, update and delete');
select is_empty($$ select policyname from pg_policies where schemaname = 'storage' and tablename = 'objects'
                    and (cmd = 'ALL' or roles <> '{authenticated}') $$,
  'every storage policy is for one operation and the authenticated role only');

-- avatars -----------------------------------------------------------------------------------------------------------
select tests.authenticate_as('mia');
select lives_ok(format($$ select tests.storage_upload('avatars', %L, 'image/png', 50000) $$, tests.id('mia') || '/me.png'),
  'a user uploads an avatar to their own folder');
select throws_ok(format($$ select tests.storage_upload('avatars', %L, 'image/png', 50000) $$, tests.id('alice') || '/me.png'),
  '42501', null, 'a user cannot upload into another user''s avatar folder');
select throws_ok(format($$ select tests.storage_upload('avatars', %L, 'application/pdf', 50000) $$, tests.id('mia') || '/cv.pdf'),
  '42501', 'avatars must be images', 'an avatar that is not an image is refused');
select throws_ok(format($$ select tests.storage_upload('avatars', %L, 'image/png', 3145728) $$, tests.id('mia') || '/big.png'),
  '42501', 'avatar is too large', 'an avatar over 2 MiB is refused');
select throws_ok(format($$ select tests.storage_upload('avatars', %L, 'image/png', 500) $$, tests.id('mia') || '/a/b.png'),
  '42501', 'invalid avatar path', 'an avatar in a subfolder is refused');
select lives_ok(format($$ select tests.storage_upload('avatars', %L, 'image/png', 60000, upsert => true) $$, tests.id('mia') || '/me.png'),
  'a user replaces (upserts) their own avatar');
select tests.authenticate_as('otto');
select ok(tests.storage_visible('avatars', tests.id('mia') || '/me.png'), 'any signed-in user can read avatars');
select throws_ok(format($$ select tests.storage_upload('avatars', %L, 'image/png', 1, upsert => true) $$, tests.id('mia') || '/me.png'),
  '42501', null, 'a user cannot replace another user''s avatar');
select is(tests.storage_remove('avatars', tests.id('mia') || '/me.png'), 0, 'a user cannot delete another user''s avatar');
select tests.clear_authentication();
select throws_ok(format($$ select tests.storage_upload('avatars', %L, 'image/png', 500) $$, tests.id('mia') || '/anon.png'),
  '42501', null, 'anon cannot upload avatars');
select ok(not tests.storage_visible('avatars', tests.id('mia') || '/me.png'),
  'anon lists no avatars through the API (public URLs serve them without a policy)');
select tests.authenticate_as('mia');
select is(tests.storage_remove('avatars', tests.id('mia') || '/me.png'), 1, 'a user deletes their own avatar');

-- attachments: uploading ----------------------------------------------------------------------------------------------
select tests.authenticate_as('mia');
select lives_ok($$ select tests.storage_upload('attachments', tests.attachment_path('group', 'photo', 'holiday photo.png'), 'image/png', 123456) $$,
  'a member uploads an image to their chat');
select tests.authenticate_as('bob');
select is((select row(a.chat_id, a.uploader_id, a.message_id, a.name, a.mime_type, a.size_bytes, a.scan_status, a.scan_attempts)::text
             from tests.attachment('photo') a),
  row(tests.id('group'), tests.id('mia'), null::uuid, 'holiday photo.png', 'image/png', 123456::bigint,
      'pending'::public.attachment_scan_status, 1)::text,
  'the upload registers an attachment row: chat, uploader, name, type, size, scan pending (first attempt)');
reset role;
select results_eq(
  $$ select q.method, q.url, q.headers ->> 'Authorization', convert_from(q.body, 'UTF8')::jsonb
       from net.http_request_queue q order by q.id desc limit 1 $$,
  $$ values ('POST'::text, 'http://127.0.0.1:54321/functions/v1/scan'::text, 'Bearer test-service-role-key'::text,
             jsonb_build_object('attachment_id', tests.id('photo'))) $$,
  'the upload queues a scan: POST to the scan function with the service role key and the attachment id');

select tests.authenticate_as('mia');
select tests.storage_upload('attachments', tests.attachment_path('group', 'voice', 'voice note.ogg'), 'audio/ogg', 9000,
                            '{"duration_seconds": "12.5"}');
select is((tests.attachment('voice')).duration_seconds, 12.5, 'a voice note keeps the duration the client declared');
reset role;
delete from vault.secrets where name = 'functions_url';
create temp table queued_before as select count(*) as n from net.http_request_queue;
select tests.authenticate_as('mia');
select lives_ok($$ select tests.storage_upload('attachments', tests.attachment_path('group', 'novault', 'a.txt'), 'text/plain', 10) $$,
  'an upload succeeds when the scan cannot be requested (settings missing)');
reset role;
select is((select row(scan_status, scan_attempts)::text from tests.attachment('novault')),
  row('pending'::public.attachment_scan_status, 1)::text, '...and stays pending for the sweep to request again');
select is((select count(*) from net.http_request_queue), (select n from queued_before), 'no request was sent');
select vault.create_secret('http://127.0.0.1:54321/functions/v1/', 'functions_url');
select tests.authenticate_as('mia');
select throws_ok($$ select tests.storage_upload('attachments', tests.attachment_path('group', 'exe', 'setup.exe'), 'application/pdf', 1000) $$,
  '42501', 'executable files are not allowed', 'an executable is refused by its name');
select throws_ok($$ select tests.storage_upload('attachments', tests.attachment_path('group', 'badtype', 'tool.bin2'), 'application/x-msdownload', 1000) $$,
  '42501', 'file type not allowed', 'a type outside the allowed list is refused');
select throws_ok($$ select tests.storage_upload('attachments', tests.attachment_path('group', 'huge', 'big.png'), 'image/png', 30000000) $$,
  '42501', 'file is too large', 'an image over its 20 MiB limit is refused');
select lives_ok($$ select tests.storage_upload('attachments', tests.attachment_path('group', 'video', 'clip.mp4'), 'video/mp4', 45000000) $$,
  'a 45 MB video is within the video limit');
select throws_ok(format($$ select tests.storage_upload('attachments', %L, 'image/png', 1000) $$, tests.id('group') || '/loose.png'),
  '42501', null, 'an upload outside <chat_id>/<uuid>/<name> is refused');
select throws_ok(format($$ select tests.storage_upload('attachments', %L, 'image/png', 1000) $$,
                        tests.id('group') || '/' || tests.id('photo') || '/other.png'),
  '42501', null, 'an attachment id cannot be uploaded twice (attachments are never overwritten)');
select throws_ok($$ select tests.storage_upload('attachments', tests.attachment_path('ottos', 'dup', 'x.png'), 'image/png', 1000) $$,
  '42501', null, 'a user cannot upload to a chat they are not a member of');
select throws_ok($$ select tests.storage_upload('attachments', tests.attachment_path('channel', 'inchannel', 'x.png'), 'image/png', 1000) $$,
  '42501', null, 'a member who may not post in a channel cannot upload to it');
select is_empty(format($$ update storage.objects set metadata = metadata || '{"size": 1}'::jsonb
                           where bucket_id = 'attachments' and name = %L returning 1 $$, tests.attachment_path('group', 'photo', 'holiday photo.png')),
  'even the uploader cannot overwrite an attachment');
select tests.authenticate_as('otto');
select throws_ok($$ select tests.storage_upload('attachments', tests.attachment_path('group', 'outsider', 'x.png'), 'image/png', 1000) $$,
  '42501', null, 'an outsider cannot upload to the chat');
select throws_ok($$ select tests.storage_upload('attachments', tests.attachment_path('group', 'outsider', 'x.png'), 'image/png', 999999999) $$,
  '42501', null, 'an outsider''s over-size upload is refused as forbidden (validation tells outsiders nothing)');
select tests.clear_authentication();
select throws_ok($$ select tests.storage_upload('attachments', tests.attachment_path('group', 'anon', 'x.png'), 'image/png', 1000) $$,
  '42501', null, 'anon cannot upload attachments');
select tests.authenticate_as_service_role();
select throws_ok($$ select tests.storage_upload('attachments', tests.attachment_path('group', 'bad', 'x.exe'), 'image/png', 1000) $$,
  '42501', 'executable files are not allowed', 'validation holds for the service role too');

-- attachments: reading fails closed -----------------------------------------------------------------------------------
select tests.authenticate_as('mia');
select ok(tests.storage_visible('attachments', tests.attachment_path('group', 'photo', 'holiday photo.png')),
  'the uploader can read their file while it is being scanned');
select is((select count(*)::int from public.attachments where chat_id = tests.id('group')), 4,
  'the uploader sees their attachment rows');
select tests.authenticate_as('adam');
select ok(not tests.storage_visible('attachments', tests.attachment_path('group', 'photo', 'holiday photo.png')),
  'an admin cannot read a pending file that was not sent');
select is((select count(*)::int from public.attachments where chat_id = tests.id('group')), 0,
  'other members see no rows of unsent attachments');

select tests.authenticate_as('mia');
select tests.remember('m1', m.id)
  from public.send_message(tests.id('group'), 'look', 'image', attachment_ids => array[tests.id('photo')]) m;
select is((tests.attachment('photo')).message_id, tests.id('m1'), 'sending links the attachment to the message');
select is((select count(*)::int from public.messages m, lateral (select a.id from public.attachments a where a.message_id = m.id) a
            where m.id = tests.id('m1')), 1, 'the message''s attachments can be embedded');
select tests.authenticate_as('bob');
select is((select scan_status::text from public.attachments where message_id = tests.id('m1')), 'pending',
  'members see a sent attachment''s row and its pending status');
select ok(not tests.storage_visible('attachments', tests.attachment_path('group', 'photo', 'holiday photo.png')),
  'members cannot read a sent file until it is scanned clean');
select tests.authenticate_as('otto');
select is((select count(*)::int from public.attachments where chat_id = tests.id('group')), 0, 'outsiders see no attachment rows');

-- the verdict: clean ----------------------------------------------------------------------------------------------------
select tests.authenticate_as('mia');
select throws_ok($$ select private.set_attachment_scan_result(tests.id('photo'), 'clean') $$, '42501', null,
  'users cannot record scan verdicts');
select tests.authenticate_as_service_role();
select is((select scan_status::text || '/' || thumbnail_status::text
             from private.set_attachment_scan_result(tests.id('photo'), 'clean', detected_mime_type => 'image/png')),
  'clean/pending', 'the service role records a clean verdict; an image then waits for its thumbnail');
reset role;
select is((select q.url from net.http_request_queue q order by q.id desc limit 1),
  'http://127.0.0.1:54321/functions/v1/thumbnail', 'a clean image queues the thumbnail function');
select tests.authenticate_as('bob');
select ok(tests.storage_visible('attachments', tests.attachment_path('group', 'photo', 'holiday photo.png')),
  'a member reads the clean file of a message they can see');
select tests.authenticate_as('adam');
select ok(tests.storage_visible('attachments', tests.attachment_path('group', 'photo', 'holiday photo.png')), 'an admin reads it too');
select tests.authenticate_as('otto');
select ok(not tests.storage_visible('attachments', tests.attachment_path('group', 'photo', 'holiday photo.png')),
  'an outsider cannot read a clean file');
select tests.clear_authentication();
select ok(not tests.storage_visible('attachments', tests.attachment_path('group', 'photo', 'holiday photo.png')), 'anon cannot read it');

-- thumbnails ----------------------------------------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select throws_ok($$ select private.set_attachment_thumbnail(tests.id('photo'), 'ready') $$, '22023',
  'a ready thumbnail needs its path and the image''s dimensions', 'a ready thumbnail needs a path and dimensions');
select lives_ok(format($$ select tests.storage_upload('attachments', %L, 'image/jpeg', 4000) $$,
                       tests.id('group') || '/' || tests.id('photo') || '/thumbnail/320.jpg'),
  'the service role writes the thumbnail next to the file');
select is((select row(thumbnail_status, thumbnail_path, width, height)::text
             from private.set_attachment_thumbnail(tests.id('photo'), 'ready',
                    tests.id('group') || '/' || tests.id('photo') || '/thumbnail/320.jpg', 1024, 768)),
  row('ready'::public.attachment_thumbnail_status, tests.id('group') || '/' || tests.id('photo') || '/thumbnail/320.jpg',
      1024, 768)::text, 'the thumbnail and the image''s dimensions are recorded');
select tests.authenticate_as('bob');
select ok(tests.storage_visible('attachments', tests.id('group') || '/' || tests.id('photo') || '/thumbnail/320.jpg'),
  'members read the thumbnail of a clean file');
select tests.authenticate_as('otto');
select ok(not tests.storage_visible('attachments', tests.id('group') || '/' || tests.id('photo') || '/thumbnail/320.jpg'),
  'outsiders cannot read the thumbnail');
select throws_ok(format($$ select tests.storage_upload('attachments', %L, 'image/jpeg', 10) $$,
                        tests.id('group') || '/' || tests.id('photo') || '/thumbnail/fake.jpg'),
  '42501', null, 'users cannot write thumbnails');

-- sending attachments: only your own, unsent, from the same chat, not refused ------------------------------------------
select tests.authenticate_as('adam');
select throws_ok($$ select public.send_message(tests.id('group'), 'mine now', 'image', attachment_ids => array[tests.id('video')]) $$,
  'PT404', 'attachment not found', 'a member cannot send another member''s upload');
select tests.authenticate_as('mia');
select throws_ok($$ select public.send_message(tests.id('group'), 'again', 'image', attachment_ids => array[tests.id('photo')]) $$,
  'PT404', 'attachment not found', 'an attachment cannot be sent twice');
select throws_ok($$ select public.send_message(tests.id('channel'), 'x', 'file', attachment_ids => array[tests.id('video')]) $$,
  '42501', 'only admins can post in this chat', 'posting rights are checked before attachments');
select tests.authenticate_as('alice');
select tests.new_file('alicefile');
select tests.storage_upload('attachments', tests.attachment_path('channel', 'alicefile', 'news.pdf'), 'application/pdf', 2000);
select throws_ok($$ select public.send_message(tests.id('group'), 'x', 'file', attachment_ids => array[tests.id('alicefile')]) $$,
  'PT404', 'attachment not found', 'an attachment uploaded to another chat cannot be sent here');
select throws_ok($$ select public.send_message(tests.id('group'), 'x', 'file',
                     attachment_ids => array[tests.id('alicefile'), tests.id('alicefile')]) $$,
  '22023', 'invalid attachment list', 'duplicate attachment ids are refused');
select tests.authenticate_as('mia');
select tests.storage_upload('attachments', tests.attachment_path('group', 'err', 'notes.txt'), 'text/plain', 20);
reset role;
select private.set_attachment_scan_result(tests.id('err'), 'error', error => 'declared text/plain but the bytes are application/x-executable');
select tests.authenticate_as('mia');
select throws_ok($$ select public.send_message(tests.id('group'), 'x', 'file', attachment_ids => array[tests.id('err')]) $$,
  '22023', 'attachment failed the virus scan', 'a file the scan refused cannot be sent');
select is((select count(*)::int from public.messages where chat_id = tests.id('group')), 1, 'refused sends left no message');
select throws_ok($$ select public.send_message(tests.id('group'), null, 'text') $$, '22023', 'message is empty',
  'a text message without body or attachments is still refused');

-- the verdict: infected -------------------------------------------------------------------------------------------------
select tests.authenticate_as('mia');
select tests.storage_upload('attachments', tests.attachment_path('group', 'doc', 'report.pdf'), 'application/pdf', 68);
select public.send_message(tests.id('group'), 'report', 'file', attachment_ids => array[tests.id('doc')]);
select tests.authenticate_as_service_role();
select is((select scan_status::text || ':' || scan_signature from private.set_attachment_scan_result(tests.id('doc'), 'infected', 'Eicar-Test-Signature')),
  'infected:Eicar-Test-Signature', 'an infected verdict is recorded with its signature');
select throws_ok($$ select private.set_attachment_scan_result(tests.id('doc'), 'clean') $$, '22023',
  'attachment already has a final verdict', 'an infected file can never become clean');
select tests.authenticate_as('mia');
select ok(not tests.storage_visible('attachments', tests.attachment_path('group', 'doc', 'report.pdf')),
  'an infected file is unreadable even for its uploader');
select is((select scan_status::text from public.attachments where id = tests.id('doc')), 'infected',
  'the uploader is told: their attachment row shows infected');
select is((select count(*)::int from public.audit_log), 0, 'members cannot read the audit log');
select tests.authenticate_as('alice');
select is((select row(action, actor_id, target_table, target_id, details ->> 'signature')::text
             from public.audit_log where chat_id = tests.id('group') and action = 'attachment.infected'),
  row('attachment.infected', tests.id('mia'), 'attachments', tests.id('doc'), 'Eicar-Test-Signature')::text,
  'the infected upload is audited, and the chat''s owner reads it');
select tests.authenticate_as('adam');
select is((select count(*)::int from public.audit_log where chat_id = tests.id('group') and action = 'attachment.infected'), 1,
  'chat admins read the audit log of their chat');
select tests.authenticate_as('otto');
select is((select count(*)::int from public.audit_log), 0, 'outsiders read no audit rows');
select throws_ok($$ insert into public.audit_log (action) values ('fake.event') $$, '42501', null, 'users cannot write audit rows');
select tests.clear_authentication();
select throws_ok($$ select count(*) from public.audit_log $$, '42501', null, 'anon cannot read the audit log');

-- retries and the sweep ---------------------------------------------------------------------------------------------
reset role;
select is((select row(scan_status, scan_attempts, next_scan_at > now())::text
             from private.set_attachment_scan_result(tests.id('video'), 'error', error => 'clamd unreachable', retryable => true)),
  row('error'::public.attachment_scan_status, 1, true)::text, 'a transient error is retried later (backoff)');
update public.attachments set next_scan_at = now() - interval '1 second' where id = tests.id('video');
select ok(private.sweep_attachment_scans() >= 1, 'the sweep re-queues a due retry');
select is((select row(scan_status, scan_attempts)::text from tests.attachment('video')),
  row('pending'::public.attachment_scan_status, 2)::text, 'a retried scan is pending again, attempt 2');
update public.attachments set scan_requested_at = now() - interval '10 minutes' where id = tests.id('video');
select ok(private.sweep_attachment_scans() >= 1, 'the sweep re-queues a scan that never reported back');
select is((tests.attachment('video')).scan_attempts, 3, 'attempt 3');
update public.attachments set scan_attempts = 5, scan_requested_at = now() - interval '10 minutes' where id = tests.id('video');
select private.sweep_attachment_scans();
select is((select row(scan_status, scan_error, next_scan_at)::text from tests.attachment('video')),
  row('error'::public.attachment_scan_status, 'no verdict after 5 scan attempts', null::timestamptz)::text,
  'after the last attempt the error is final, never clean');
select is((select row(scan_status, next_scan_at)::text
             from private.set_attachment_scan_result(tests.id('err'), 'error', error => 'type mismatch', retryable => false)),
  row('error'::public.attachment_scan_status, null::timestamptz)::text, 'a permanent error is not retried');
select is((select schedule from cron.job where jobname = 'attachments-scan-sweep'), '* * * * *', 'the sweep runs every minute');

-- deleting ----------------------------------------------------------------------------------------------------------
select tests.authenticate_as('otto');
select is(tests.storage_remove('attachments', tests.attachment_path('group', 'video', 'clip.mp4')), 0, 'an outsider cannot delete a file');
select tests.clear_authentication();
select is(tests.storage_remove('attachments', tests.attachment_path('group', 'video', 'clip.mp4')), 0, 'anon cannot delete a file');
select tests.authenticate_as('bob');
select is(tests.storage_remove('attachments', tests.attachment_path('group', 'video', 'clip.mp4')), 0,
  'a member cannot delete another member''s file');
select tests.authenticate_as('mia');
select is(tests.storage_remove('attachments', tests.attachment_path('group', 'video', 'clip.mp4')), 1, 'the uploader deletes their file');
select ok(tests.attachment('video') is null, 'deleting the object deletes its attachment row');
select tests.authenticate_as('adam');
select is(tests.storage_remove('attachments', tests.attachment_path('group', 'photo', 'holiday photo.png')), 1,
  'a chat admin deletes a member''s file');
select is(tests.storage_remove('attachments', tests.id('group') || '/' || tests.id('photo') || '/thumbnail/320.jpg'), 0,
  'once the file is gone its thumbnail is unreachable (remove both in one call)');
select ok(not tests.object_exists('attachments', tests.attachment_path('group', 'photo', 'holiday photo.png'))
          and tests.attachment('photo') is null, 'the object and its row are gone');
select tests.authenticate_as('mia');
select tests.storage_upload('attachments', tests.attachment_path('group', 'pic2', 'cat.jpg'), 'image/jpeg', 5000);
select tests.authenticate_as_service_role();
select tests.storage_upload('attachments', tests.id('group') || '/' || tests.id('pic2') || '/thumbnail/320.jpg', 'image/jpeg', 900);
select tests.authenticate_as('mia');
select tests.storage_context('storage.object.delete');
select is(pg_temp.remove_objects('attachments', array[tests.attachment_path('group', 'pic2', 'cat.jpg'),
                                                     tests.id('group') || '/' || tests.id('pic2') || '/thumbnail/320.jpg']),
  2, 'the uploader removes a file and its thumbnail in one call');
select tests.storage_context_end();
reset role;
select throws_ok($$ delete from storage.objects where bucket_id = 'attachments' $$, '42501', null,
  'objects are removed through the Storage API, never by plain SQL');

-- direct writes on attachments ------------------------------------------------------------------------------------------
select tests.authenticate_as('mia');
select throws_ok($$ insert into public.attachments (id, chat_id, object_path, name, mime_type, size_bytes)
                    values (gen_random_uuid(), tests.id('group'), 'x', 'x', 'image/png', 1) $$,
  '42501', null, 'users cannot insert attachment rows (uploads register them)');
select throws_ok($$ update public.attachments set scan_status = 'clean' where id = tests.id('err') $$,
  '42501', null, 'users cannot mark their own upload clean');
select throws_ok($$ delete from public.attachments where id = tests.id('err') $$,
  '42501', null, 'users delete files through Storage, not the table');

select * from finish();
rollback;
