-- Message search returns exactly what the API lets the caller read: members now, inside their visible history, never
-- deleted messages, never a kind that is not searchable, never messages across a block; edits and deletes reach the
-- index in the same transaction; every result opens with get_chat_messages(around_seq) and its snippet is HTML-safe.
begin;
create extension if not exists pgtap with schema extensions;
select plan(43);

select tests.create_user('sv_owner');
select tests.create_user('sv_member');
select tests.create_user('sv_late');
select tests.create_user('sv_leaver');
select tests.create_user('sv_banned');
select tests.create_user('sv_removed');
select tests.create_user('sv_outsider');
select tests.create_user('sv_blocker');

select tests.create_group('g', 'sv_owner', members => array['sv_member', 'sv_leaver', 'sv_banned', 'sv_removed', 'sv_blocker'],
                          title => 'Search group');
select tests.send_message('old', 'sv_owner', 'g', 'the zebracorn report is ready');
select tests.send_message('html', 'sv_member', 'g', 'zebracorn <script>alert(1)</script> & "quotes"');
select tests.send_message('blocker_msg', 'sv_blocker', 'g', 'zebracorn from the blocker');
select tests.send_message('gone', 'sv_member', 'g', 'zebracorn to be deleted');
select tests.send_message('edit_me', 'sv_member', 'g', 'quagga before the edit');

-- These first messages are searched through the index; the later ones from the queue (the search-index job does not
-- run inside this transaction), until the last section moves them too.
select cmp_ok(private.index_pending_messages(), '>=', 5, 'the indexer moves queued messages into the index');
select is((select count(*)::int from private.search_pending p where p.chat_id = tests.id('g')), 0, 'and empties the queue');

-- members ------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('sv_member');
select is((select count(*)::int from public.search_messages('zebracorn')), 4, 'a member finds the matching messages of their chat');
select is((select count(*)::int from public.search_messages('zebracorn', chat_id => tests.id('g'))), 4,
  'and the same inside the chat');
select ok((select bool_and(exists (select 1 from public.get_chat_messages(r.chat_id, around_seq => r.seq) m where m.id = r.message_id))
             from public.search_messages('zebracorn') r),
  'every result opens in context with get_chat_messages(around_seq)');
select is((select snippet from public.search_messages('zebracorn script ') where message_id = tests.id('html')),
  '<mark>zebracorn</mark> &lt;<mark>script</mark>&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;',
  'the snippet escapes the body first, then marks the matches');
select is((select author ->> 'username' from public.search_messages('report')), 'sv_owner', 'results carry the author');
select is((select chat_title from public.search_messages('report')), 'Search group', 'and the chat');

-- deleted and edited in the same transaction ---------------------------------------------------------------------
select public.delete_message(tests.id('gone'));
select is((select count(*)::int from public.search_messages('deleted')), 0, 'a deleted message leaves search at once');
select public.edit_message(tests.id('edit_me'), 'okapi after the edit');
select is((select count(*)::int from public.search_messages('quagga')), 0, 'an edit drops the old words');
select is((select count(*)::int from public.search_messages('okapi')), 1, 'and finds the new ones');
select tests.clear_authentication();
reset role;
select is((select count(*)::int from private.message_search where message_id = tests.id('gone')), 0,
  'the deleted message left the index in its transaction');
select ok((select document @@ 'okapi'::tsquery and not document @@ 'quagga'::tsquery
             from private.message_search where message_id = tests.id('edit_me')),
  'the edited message was re-indexed in its transaction');

-- blocks ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('sv_blocker');
select tests.create_block('sv_blocker', 'sv_member');
select tests.authenticate_as('sv_member');
select ok(exists (select 1 from public.get_chat_messages(tests.id('g')) m where m.id = tests.id('blocker_msg')),
  'the history still has the blocker''s message (blocks do not hide group history)');
select is((select count(*)::int from public.search_messages('blocker')), 0,
  'search leaves out messages of a user who blocked the caller');
select tests.authenticate_as('sv_blocker');
select is((select count(*)::int from public.search_messages('zebracorn') where author_id = tests.get_user_id('sv_member')), 0,
  'and messages of a user the caller blocked');
select is((select count(*)::int from public.search_messages('zebracorn')), 2, 'other messages stay findable for the blocker');

-- outsiders and anon ---------------------------------------------------------------------------------------------
select tests.authenticate_as('sv_outsider');
select is((select count(*)::int from public.search_messages('zebracorn')), 0, 'an outsider finds nothing across chats');
select throws_ok(format('select * from public.search_messages(%L, chat_id => %L)', 'zebracorn', tests.id('g')), 'PT404', 'chat not found',
  'an outsider searching one chat gets the same answer as for a chat that does not exist');
select tests.clear_authentication();
select throws_ok($$ select * from public.search_messages('zebracorn') $$, '42501', null, 'anon cannot search');

-- left, removed and banned ---------------------------------------------------------------------------------------
select tests.authenticate_as('sv_leaver');
select is((select count(*)::int from public.search_messages('zebracorn')), 3, 'a member finds messages before leaving');
select public.leave_chat(tests.id('g'));
select is((select count(*)::int from public.search_messages('zebracorn')), 0, 'a member who left finds nothing');
select throws_ok(format('select * from public.search_messages(%L, chat_id => %L)', 'zebracorn', tests.id('g')), 'PT404', null,
  'nor inside the chat they left');
select tests.authenticate_as('sv_owner');
select public.ban_chat_member(tests.id('g'), tests.get_user_id('sv_banned'));
select public.remove_chat_member(tests.id('g'), tests.get_user_id('sv_removed'));
select tests.authenticate_as('sv_banned');
select is((select count(*)::int from public.search_messages('zebracorn')), 0, 'a banned user finds nothing');
select tests.authenticate_as('sv_removed');
select is((select count(*)::int from public.search_messages('zebracorn')), 0, 'a removed member finds nothing');

-- hidden history -------------------------------------------------------------------------------------------------
select tests.authenticate_as('sv_owner');
select public.update_chat(tests.id('g'), history_visible_to_new_members => false);
select public.add_chat_members(tests.id('g'), array[tests.get_user_id('sv_late')]);
select tests.send_message('after_join', 'sv_owner', 'g', 'zebracorn after the late join');
select tests.authenticate_as('sv_late');
select is((select array_agg(message_id) from public.search_messages('zebracorn')), array[tests.id('after_join')],
  'a member who joined with hidden history finds only messages after their join');
select is((select count(*)::int from public.search_messages('report', chat_id => tests.id('g'))), 0,
  'not the earlier ones, inside the chat either');

-- kinds that are not searchable ----------------------------------------------------------------------------------
select tests.authenticate_as_service_role();
insert into public.messages (chat_id, seq, author_id, kind, body)
select tests.id('g'), c.last_message_seq + 1, null, 'system', 'zebracorn system notice' from public.chats c where c.id = tests.id('g');
update public.chats set last_message_seq = last_message_seq + 1 where id = tests.id('g');
select tests.authenticate_as('sv_owner');
select ok(exists (select 1 from public.get_chat_messages(tests.id('g')) m where m.kind = 'system'), 'the history shows the system message');
select is((select count(*)::int from public.search_messages('notice')), 0, 'system messages are not searchable');
select tests.clear_authentication();
reset role;
select ok(not 'system' = any (private.searchable_kinds())
          and not exists (select 1 from private.search_pending p join public.messages m on m.chat_id = p.chat_id and m.seq = p.seq
                           where m.kind = 'system')
          and (select pg_get_triggerdef(t.oid) from pg_trigger t where t.tgname = 'messages_queue_search')
              like format('%%WHEN (((new.body IS NOT NULL) AND (new.deleted_at IS NULL) AND (new.kind = ANY (ARRAY[%s]))))%%',
                          (select string_agg(format('%L::message_kind', k), ', ') from unnest(private.searchable_kinds()) k)),
  'and not queued for the index (the queue trigger''s WHEN clause lists exactly the searchable kinds)');

-- filters, sort and pages ----------------------------------------------------------------------------------------
select tests.send_message('mention', 'sv_member', 'g', 'zebracorn for you');
update public.messages set mentions = array[tests.get_user_id('sv_owner')] where id = tests.id('mention');
select tests.authenticate_as('sv_owner');
select is((select array_agg(message_id) from public.search_messages('zebracorn', mentions_me => true)), array[tests.id('mention')],
  'mentions_me keeps messages that mention the caller');
select is((select count(*)::int from public.search_messages('zebracorn', author_id => tests.get_user_id('sv_owner'))), 2,
  'author_id keeps that author''s messages');
select is((select count(*)::int from public.search_messages('zebracorn', kind => 'image')), 0, 'kind keeps that kind');
select is((select count(*)::int from public.search_messages('zebracorn', has_files => true)), 0, 'has_files keeps messages with files');
select is((select count(*)::int from public.search_messages('zebracorn', after => now() + interval '1 minute')), 0,
  'after keeps newer messages');
select is((select array_agg(message_id order by created_at desc, message_id desc) from public.search_messages('zebracorn', sort => 'newest')),
          (select array_agg(message_id) from public.search_messages('zebracorn', sort => 'newest')),
  'sort newest orders by time, newest first');
select is((select array_agg(message_id) from (
            select p2.message_id from public.search_messages('zebracorn', page_size => 2) p1
             cross join lateral (select * from public.search_messages('zebracorn', page_size => 2) x limit 1 offset 1) last
             cross join lateral public.search_messages('zebracorn', cursor => last.cursor, page_size => 10) p2
             limit 1) s) is not null, true, 'a cursor opens the next page');
select is((select count(*)::int from (
             select message_id from public.search_messages('zebracorn', page_size => 2)
             union
             select r.message_id from public.search_messages('zebracorn', page_size => 50,
                      cursor => (select cursor from public.search_messages('zebracorn', page_size => 2) offset 1 limit 1)) r) s),
          (select count(*)::int from public.search_messages('zebracorn', page_size => 50)),
  'two pages hold every result once');
select is((select count(*)::int from public.search_messages('zebracorn', thread_root_id => tests.id('old'))), 1,
  'thread_root_id keeps the thread (here: its root only)');

-- queued and indexed answer alike ------------------------------------------------------------------------------
select array_agg(h::text order by h.ordinality) as queued from public.search_messages('zebracorn') with ordinality h \gset
select array_agg(h::text order by h.ordinality) as queued_prefix from public.search_messages('zebr') with ordinality h \gset
select tests.clear_authentication();
reset role;
select cmp_ok(private.index_pending_messages(), '>=', 2, 'the later messages move into the index too');
select tests.authenticate_as('sv_owner');
select is((select array_agg(h::text order by h.ordinality) from public.search_messages('zebracorn') with ordinality h), :'queued'::text[],
  'the index answers exactly as the queue did: the same results, ranks, snippets and cursors');
select is((select array_agg(h::text order by h.ordinality) from public.search_messages('zebr') with ordinality h), :'queued_prefix'::text[],
  'and the same for a prefix being typed');
select tests.clear_authentication();
reset role;
delete from public.messages where id = tests.id('mention');
select is((select count(*)::int from private.message_search where message_id = tests.id('mention')), 0,
  'a message removed outright leaves the index (the foreign key cascades)');

select * from finish();
rollback;
