-- GDPR and retention (issue 18, items 5 and 6): the export job rows and the export document, disappearing messages
-- (who may set them, what expiry erases, the events), the app-wide retention ceiling, and the erasure of a user's
-- content before Auth deletes the account (tombstones, ownership, stored payloads).
begin;
create extension if not exists pgtap with schema extensions;
select plan(51);

select tests.create_user('alice', 'alice.gdpr@example.test');
select tests.create_user('bob');
select tests.create_user('carol');
select tests.create_user('mallory');
select tests.create_group('team', 'alice', members => array['bob', 'carol'], admins => array['bob']);
select tests.send_message('a1', 'alice', 'team', 'alice secret one');
select tests.send_message('b1', 'bob', 'team', 'bob says hi');
select tests.commit_point();

-- data_exports: the owner reads their jobs, nobody else ---------------------------------------------------------------
insert into public.data_exports (user_id, status, progress) values (tests.id('alice'), 'running', 40);

select tests.authenticate_as('alice');
select is((select count(*)::int from public.data_exports), 1, 'a user reads their own export job');
select is((select progress from public.data_exports), 40, 'and its progress');
select throws_ok($$ update public.data_exports set progress = 100 $$, '42501', null, 'the owner cannot change the job');
select throws_ok($$ insert into public.data_exports (user_id) values (auth.uid()) $$, '42501', null,
  'nor create one through the API (the gdpr-export function does)');
select tests.authenticate_as('bob');
select is((select count(*)::int from public.data_exports), 0, 'another user sees no export job of someone else');
select tests.clear_authentication();
select throws_ok($$ select * from public.data_exports $$, '42501', null, 'anon cannot read export jobs');
select tests.authenticate_as_service_role();
select throws_ok($$ insert into public.data_exports (user_id, status) values (tests.id('alice'), 'pending') $$, '23505', null,
  'one unfinished export per user');
select tests.clear_authentication();
reset role;

-- private functions are the service's only -------------------------------------------------------------------------
select tests.authenticate_as('alice');
select throws_ok($$ select private.erase_user(auth.uid()) $$, '42501', null, 'a user cannot call erase_user');
select throws_ok($$ select private.export_user_data(auth.uid()) $$, '42501', null, 'nor export_user_data');
select throws_ok($$ select private.expire_messages() $$, '42501', null, 'nor expire_messages');
select throws_ok($$ select private.finish_erasure(auth.uid(), '', '{}') $$, '42501', null, 'nor finish_erasure');
select tests.clear_authentication();
reset role;

-- the export document ------------------------------------------------------------------------------------------------
select is((private.export_user_data(tests.id('alice')) -> 'messages' -> 0 ->> 'body'), 'alice secret one',
  'the export holds the messages the user wrote');
select is(jsonb_array_length(private.export_user_data(tests.id('alice')) -> 'messages'), 1, 'and only theirs');
select is((private.export_user_data(tests.id('alice')) -> 'account' ->> 'email'), 'alice.gdpr@example.test', 'the account email');
select is(jsonb_array_length(private.export_user_data(tests.id('alice')) -> 'memberships'), 1, 'the memberships');
select is((private.export_user_data(tests.id('alice')) -> 'data_exports' -> 0) ? 'download_url', false,
  'no download URL (a credential) in the document');
select throws_ok(format('select private.export_user_data(%L)', gen_random_uuid()), 'PT404', 'user not found',
  'an unknown user has nothing to export');

-- disappearing messages: who may set them ------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select is((select message_ttl from public.set_disappearing_messages(tests.id('team'), 3600)), interval '1 hour',
  'the owner sets a message TTL');
select tests.authenticate_as('bob');
select is((select message_ttl from public.set_disappearing_messages(tests.id('team'), 7200)), interval '2 hours',
  'an admin changes it');
select tests.authenticate_as('carol');
select throws_ok(format('select public.set_disappearing_messages(%L, 60)', tests.id('team')), '42501', null,
  'a member cannot set it');
select is((select message_ttl from public.chat_retention), interval '2 hours', 'members read the TTL of their chat');
select tests.authenticate_as('mallory');
select throws_ok(format('select public.set_disappearing_messages(%L, 60)', tests.id('team')), 'PT404', null,
  'an outsider learns nothing');
select is_empty($$ select 1 from public.chat_retention $$, 'an outsider cannot read the TTL');
select throws_ok($$ update public.chat_retention set message_ttl = interval '1 minute' $$, '42501', null,
  'nobody changes it through the table');
select tests.authenticate_as('alice');
select throws_ok(format('select public.set_disappearing_messages(%L, 59)', tests.id('team')), '22023',
  'ttl_seconds must be between 60 and 31536000', 'a TTL under a minute is refused');
select throws_ok(format('select public.set_disappearing_messages(%L, 31536001)', tests.id('team')), '22023',
  'ttl_seconds must be between 60 and 31536000', 'a TTL over a year is refused');
select is((select message_ttl from public.chat_retention), interval '2 hours', 'a refused TTL changes nothing');
select tests.clear_authentication();
select throws_ok(format('select public.set_disappearing_messages(%L, 60)', tests.id('team')), '42501', null,
  'anon cannot set it');
select tests.authenticate_as('alice');
select tests.commit_point();
select is((tests.last_payload('chat.retention_updated') -> 'data' ->> 'message_ttl_seconds')::int, 7200,
  'members hear chat.retention_updated with the TTL');
select is((tests.chat_events(tests.id('team')) -> 'events' -> -1 ->> 'event'), 'chat.retention_updated',
  'and get it again from get_chat_events');
select tests.clear_authentication();
reset role;

-- expiry ------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('carol');
select public.toggle_reaction(tests.id('b1'), '👍');
select tests.upload_file('old_file', 'carol', 'team', 'old.pdf', 'application/pdf', 1000);
select tests.send_message('c_old', 'carol', 'team', 'carol old words', 'file', files => array['old_file']);
select tests.send_message('c_new', 'carol', 'team', 'carol new words');
select tests.commit_point();
select tests.clear_authentication();
reset role;
update public.messages set created_at = now() - interval '3 hours' where id in (tests.id('b1'), tests.id('c_old'));
select tests.took();

select is(private.expire_messages(), 2, 'expire_messages erases the messages older than the chat TTL');
select is((select body from public.messages where id = tests.id('c_old')), null, 'an expired message keeps no body');
select isnt((select deleted_at from public.messages where id = tests.id('c_old')), null, 'it stays as a tombstone');
select is((select body from public.messages where id = tests.id('c_new')), 'carol new words', 'newer messages stay');
select is((select count(*)::int from public.message_reactions where message_id = tests.id('b1')), 0, 'reactions go too');
select is((select count(*)::int from public.attachments where id = tests.id('old_file')), 0, 'the file row goes');
select ok(exists (select 1 from private.storage_trash where name = tests.attachment_path('team', 'old_file', 'old.pdf')),
  'the file object is queued for removal from Storage');
select is(tests.stored_broadcasts_containing(tests.id('c_old')::text), 0, 'no stored broadcast names the expired message');
select tests.commit_point();
select ok(tests.took() @> array['chat:team message.deleted'], 'members hear message.deleted for expired messages');
select is(private.expire_messages(), 0, 'a second run finds nothing more');

-- the app-wide ceiling applies to chats without a TTL
select tests.create_group('club', 'bob', members => array['carol']);
select tests.send_message('club_old', 'bob', 'club', 'club old');
select tests.commit_point();
update public.messages set created_at = now() - interval '2 days' where id = tests.id('club_old');
select is(private.expire_messages(), 0, 'without an app-wide retention a chat without TTL keeps its messages');
update private.retention_settings set message_retention = interval '1 day';
select is(private.expire_messages(), 1, 'the app-wide retention expires older messages in every chat');
update private.retention_settings set message_retention = null;

-- expired export archives
insert into public.data_exports (user_id, status, object_path, expires_at, download_url)
values (tests.id('bob'), 'ready', tests.id('bob') || '/x.tar.gz', now() - interval '1 minute', 'http://signed');
select private.expire_messages();
select is((select status from public.data_exports where user_id = tests.id('bob') and object_path is not null), 'expired',
  'an export past its lifetime is marked expired');
select ok(exists (select 1 from private.storage_trash where bucket_id = 'exports' and name = tests.id('bob') || '/x.tar.gz'),
  'and its archive is queued for removal');

-- erasure ------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select public.toggle_reaction(tests.id('a1'), '🎉');
select tests.authenticate_as('alice');
select public.toggle_reaction(tests.id('c_new'), '👍');
select tests.authenticate_as('carol');
select public.forward_message(tests.id('a1'), tests.id('club'));
select tests.clear_authentication();
reset role;
select tests.commit_point();

select is((private.erase_user(tests.id('alice')) ->> 'messages_erased')::int, 2,
  'erase_user erases the user''s messages and the copies others forwarded');
select is((select count(*)::int from public.messages where (author_id = tests.id('alice') or forwarded_from_author_id = tests.id('alice'))
            and (body is not null or deleted_at is null)), 0, 'none of them keeps a body');
select is((select reaction_counts from public.messages where id = tests.id('c_new')), '{}'::jsonb,
  'the user''s reactions go and the counts follow');
select is(tests.role_of('team', 'bob'), 'owner', 'ownership passes to the admin');
select is((select count(*)::int from public.chat_members where user_id = tests.id('alice')), 0, 'the memberships end');
select is((select display_name from public.profiles where id = tests.id('alice')), null, 'the profile is emptied');
select is(tests.stored_broadcasts_containing(tests.id('alice')::text), 0, 'no stored broadcast names the user');

select * from finish();
rollback;
