-- Unsent uploads expire: private.claim_storage_trash deletes the rows of attachments unsent for longer than their
-- lifetime and queues their objects (and thumbnails) for the attachments-cleanup function; settle_storage_trash
-- records what Storage removed. Sent, recent and infected files are never claimed; clients cannot call either.
begin;
create extension if not exists pgtap with schema extensions;
select plan(16);

create temp table ids (name text primary key, id uuid not null);
grant select, insert on ids to authenticated, anon, service_role;
create function pg_temp.id(text) returns uuid language sql stable as $$ select i.id from pg_temp.ids i where i.name = $1 $$;
grant execute on function pg_temp.id(text) to authenticated, anon, service_role;
create function pg_temp.path(file text) returns text language sql stable as $$
  select pg_temp.id('team') || '/' || pg_temp.id(file) || '/' || file || '.png' $$;
grant execute on function pg_temp.path(text) to authenticated, anon, service_role;
create function pg_temp.has_row(file text) returns boolean language sql security definer as $$
  select exists (select 1 from public.attachments a where a.id = pg_temp.id(file)) $$;
grant execute on function pg_temp.has_row(text) to authenticated, anon, service_role;

insert into ids values ('alice', tests.create_user('alice')), ('bob', tests.create_user('bob'));
insert into ids select f, gen_random_uuid() from unnest(array['expired', 'recent', 'sent', 'infected', 'raced']) f;
select tests.authenticate_as('alice');
insert into ids select 'team', (public.create_group_chat('Team', array[pg_temp.id('bob')])).id;
select tests.storage_upload('attachments', pg_temp.path(f), 'image/png', 100)
  from unnest(array['expired', 'recent', 'sent', 'infected', 'raced']) f;
select public.send_message(pg_temp.id('team'), 'photo', 'image', attachment_ids => array[pg_temp.id('sent')]);
reset role;
select private.set_attachment_scan_result(pg_temp.id('infected'), 'infected', signature => 'Test-Signature');
update public.attachments set thumbnail_path = pg_temp.path('expired') || '.thumb.jpg' where id = pg_temp.id('expired');
update public.attachments set created_at = now() - interval '25 hours'
 where id in (pg_temp.id('expired'), pg_temp.id('sent'), pg_temp.id('infected'), pg_temp.id('raced'));

-- who may call ------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select throws_ok($$ select * from private.claim_storage_trash() $$, '42501', null, 'a signed-in user cannot claim');
select throws_ok($$ select private.settle_storage_trash('attachments', '{}', '{}') $$, '42501', null,
  'a signed-in user cannot settle');
select tests.clear_authentication();
select throws_ok($$ select * from private.claim_storage_trash() $$, '42501', null, 'anon cannot claim');
reset role;

-- a send that comes after the claim -------------------------------------------------------------------------------
select tests.authenticate_as_service_role();
create temp table claimed as select * from private.claim_storage_trash(100);
grant select on claimed to authenticated;
select results_eq($$ select name from claimed order by name $$,
  $$ select unnest(array[pg_temp.path('expired'), pg_temp.path('expired') || '.thumb.jpg', pg_temp.path('raced')]) order by 1 $$,
  'the service role claims the expired unsent uploads: their objects and thumbnails are queued');
select ok(not pg_temp.has_row('expired') and not pg_temp.has_row('raced'), 'their attachment rows are gone');
select ok(pg_temp.has_row('recent'), 'a recent unsent upload is not claimed');
select ok(pg_temp.has_row('sent'), 'an old file in a message is not claimed');
select ok(pg_temp.has_row('infected'), 'an infected file keeps its row (its object is already gone)');
select tests.authenticate_as('alice');
select throws_ok($$ select public.send_message(pg_temp.id('team'), 'late', 'image', attachment_ids => array[pg_temp.id('raced')]) $$,
  'PT404', 'attachment not found', 'sending a claimed upload is refused: it expired');

-- the queue ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as_service_role();
select is((select count(*)::int from private.claim_storage_trash(100)), 3,
  'a second claim returns the queue again (nothing removed yet), without duplicates');
select private.settle_storage_trash('attachments', array[pg_temp.path('expired')],
                                    array[pg_temp.path('raced')], 'storage is down');
select set_eq($$ select name, attempts, last_error from private.storage_trash where name like pg_temp.id('team') || '/%' $$,
  $$ values (pg_temp.path('expired') || '.thumb.jpg', 0, null::text), (pg_temp.path('raced'), 1, 'storage is down') $$,
  'settling forgets removed objects and counts a failed attempt');
select is((select name from private.claim_storage_trash(1)), pg_temp.path('expired') || '.thumb.jpg',
  'objects that failed less often come first');
select private.settle_storage_trash('attachments',
  array[pg_temp.path('expired') || '.thumb.jpg', pg_temp.path('raced')], '{}');
select is((select count(*)::int from private.storage_trash where name like pg_temp.id('team') || '/%'), 0,
  'the queue is empty once everything is removed');
reset role;

select tests.authenticate_as('alice');
select is((select count(*)::int from public.attachments where chat_id = pg_temp.id('team')), 3,
  'the uploader still sees the recent, sent and infected files');
reset role;

-- the schedule ------------------------------------------------------------------------------------------------------
select is((select schedule from cron.job where jobname = 'attachments-unsent-cleanup'), '17 * * * *',
  'the cleanup runs hourly');
select ok((select command from cron.job where jobname = 'attachments-unsent-cleanup') like '%attachments-cleanup%',
  '...by calling the attachments-cleanup function');

select * from finish();
rollback;
