-- Files nobody can use any more leave Storage. private.claim_storage_trash deletes the rows of attachments unsent for
-- longer than their lifetime or in a deleted message; whenever an attachments row goes (claimed, chat deleted, file
-- removed by a client) its remaining objects are queued in private.storage_trash for the attachments-cleanup
-- function, which reports removals with settle_storage_trash. Sent, recent and infected files are never claimed;
-- clients can call neither function.
begin;
create extension if not exists pgtap with schema extensions;
select plan(19);

create function pg_temp.thumb(file text) returns text language sql stable as $$
  select tests.id('team') || '/' || tests.id(file) || '/thumbnail/' || file || '.jpg' $$;
grant execute on function pg_temp.thumb(text) to authenticated, anon, service_role;
create function pg_temp.has_row(file text) returns boolean language sql security definer as $$
  select exists (select 1 from public.attachments a where a.id = tests.id(file)) $$;
grant execute on function pg_temp.has_row(text) to authenticated, anon, service_role;
create function pg_temp.trash() returns setof text language sql security definer as $$
  select t.name from private.storage_trash t where t.bucket_id = 'attachments' $$;
grant execute on function pg_temp.trash() to authenticated, anon, service_role;
-- A thumbnail as the thumbnail function stores it (service role, below <chat>/<attachment>/thumbnail/).
create function pg_temp.store_thumbnail(file text) returns void language sql as $$
  insert into storage.objects (bucket_id, name, metadata, version)
  values ('attachments', pg_temp.thumb(file), '{"size": 10, "mimetype": "image/jpeg"}', gen_random_uuid()::text);
  update public.attachments set thumbnail_path = pg_temp.thumb(file) where id = tests.id(file);
$$;

select tests.create_user(u) from unnest(array['alice', 'bob']) u;
select tests.new_file(f)
  from unnest(array['expired', 'recent', 'sent', 'infected', 'raced', 'deleted', 'removed', 'elsewhere']) f;
select tests.create_group('team', 'alice', members => array['bob'], title => 'Team');
select tests.create_group('other', 'alice', members => array['bob'], title => 'Other');
select tests.authenticate_as('alice');
select tests.storage_upload('attachments', tests.attachment_path('team', f, f || '.png'), 'image/png', 100)
  from unnest(array['expired', 'recent', 'sent', 'infected', 'raced', 'deleted', 'removed']) f;
select tests.storage_upload('attachments', tests.attachment_path('other', 'elsewhere', 'elsewhere.png'), 'image/png', 100);
select tests.send_message('m_sent', 'alice', 'team', 'photo', 'image', files => array['sent']);
select tests.send_message('m_deleted', 'alice', 'team', 'oops', 'image', files => array['deleted']);
select public.delete_message(tests.id('m_deleted'));
reset role;
select private.set_attachment_scan_result(tests.id('infected'), 'infected', signature => 'Test-Signature');
select pg_temp.store_thumbnail('expired');
select pg_temp.store_thumbnail('removed');
update public.attachments set created_at = now() - interval '25 hours'
 where id in (tests.id('expired'), tests.id('sent'), tests.id('infected'), tests.id('raced'));

-- rows that go by other ways leave their objects queued ----------------------------------------------------------
select is(array(select pg_temp.trash()), '{}'::text[], 'nothing is queued yet');
select tests.authenticate_as('alice');
select is(tests.storage_remove('attachments', tests.attachment_path('team', 'removed', 'removed.png')), 1, 'the uploader removes a file (not its thumbnail)');
select is(array(select pg_temp.trash()), array[pg_temp.thumb('removed')], '...its thumbnail is queued');
select public.delete_chat(tests.id('other'));
select ok(tests.attachment_path('other', 'elsewhere', 'elsewhere.png') in (select pg_temp.trash()), 'deleting a chat queues its files');

-- who may call ------------------------------------------------------------------------------------------------------
select throws_ok($$ select * from private.claim_storage_trash() $$, '42501', null, 'a signed-in user cannot claim');
select throws_ok($$ select private.settle_storage_trash('attachments', '{}', '{}') $$, '42501', null,
  'a signed-in user cannot settle');
select tests.clear_authentication();
select throws_ok($$ select * from private.claim_storage_trash() $$, '42501', null, 'anon cannot claim');
reset role;

-- claiming ------------------------------------------------------------------------------------------------------------
select tests.authenticate_as_service_role();
create temp table claimed as select * from private.claim_storage_trash(100);
select set_eq($$ select name from claimed $$,
  array[tests.attachment_path('team', 'expired', 'expired.png'), pg_temp.thumb('expired'), tests.attachment_path('team', 'raced', 'raced.png'), tests.attachment_path('team', 'deleted', 'deleted.png'),
        pg_temp.thumb('removed'), tests.attachment_path('other', 'elsewhere', 'elsewhere.png')],
  'the service role claims expired uploads (with thumbnails) and files of deleted messages, and gets the whole queue');
select ok(not pg_temp.has_row('expired') and not pg_temp.has_row('raced') and not pg_temp.has_row('deleted'),
  'the claimed attachment rows are gone');
select ok(pg_temp.has_row('recent'), 'a recent unsent upload is not claimed');
select ok(pg_temp.has_row('sent'), 'an old file in a message is not claimed');
select ok(pg_temp.has_row('infected'), 'an infected file keeps its row (its object is already gone)');
select tests.authenticate_as('alice');
select throws_ok($$ select public.send_message(tests.id('team'), 'late', 'image', attachment_ids => array[tests.id('raced')]) $$,
  'PT404', 'attachment not found', 'sending a claimed upload is refused: it expired');

-- the queue ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select is((select count(*)::int from private.claim_storage_trash(100)), 6,
  'a second claim returns the same queue (nothing removed yet), without duplicates');
select private.settle_storage_trash('attachments',
  array[tests.attachment_path('team', 'expired', 'expired.png'), pg_temp.thumb('expired'), tests.attachment_path('team', 'deleted', 'deleted.png'), pg_temp.thumb('removed'),
        tests.attachment_path('other', 'elsewhere', 'elsewhere.png')],
  array[tests.attachment_path('team', 'raced', 'raced.png')], 'storage is down');
select results_eq($$ select name, attempts, last_error from private.storage_trash $$,
  $$ values (tests.attachment_path('team', 'raced', 'raced.png'), 1, 'storage is down') $$,
  'settling forgets removed objects and counts a failed attempt for the others');
select private.settle_storage_trash('attachments', array[tests.attachment_path('team', 'raced', 'raced.png')], '{}');
select is((select count(*)::int from private.storage_trash), 0, 'the queue is empty once everything is removed');
reset role;

select tests.authenticate_as('alice');
select set_eq($$ select id from public.attachments where chat_id = tests.id('team') $$,
  array[tests.id('recent'), tests.id('sent'), tests.id('infected')],
  'the uploader still has the recent, sent and infected files');
reset role;

-- the schedule ------------------------------------------------------------------------------------------------------
select is((select schedule from cron.job where jobname = 'attachments-unsent-cleanup'), '17 * * * *',
  'the cleanup runs hourly');
select ok((select command from cron.job where jobname = 'attachments-unsent-cleanup') like '%attachments-cleanup%',
  '...by calling the attachments-cleanup function');

select * from finish();
rollback;
