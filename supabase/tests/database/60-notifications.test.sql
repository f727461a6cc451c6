-- Notifications: every producer (mentions, @channel/@here, replies, threads, direct messages while offline, reactions
-- collapsed per message, direct invitations, being added, bans and system notices), every preference (chat level and
-- mute, push, hidden previews, quiet hours, per-kind switches, busy, blocks), the inbox RPCs (keyset pages, unread
-- filter, mark read, O(1) unread count) and who may read or write what.
begin;
create extension if not exists pgtap with schema extensions;
select plan(94);

-- fixtures ----------------------------------------------------------------------------------------------------------
select tests.create_user(u) from unnest(array['alice', 'bob', 'carol', 'dave', 'erin', 'mallory']) u;
select tests.create_block('bob', 'mallory');
select tests.create_group('team', 'alice', members => array['bob', 'carol', 'dave', 'mallory'], admins => array['dave']);

-- Forgets every notification (past RLS) so that a section starts from an empty inbox.
create function pg_temp.reset() returns void language sql security definer as $$
  delete from public.notifications; delete from private.rate_counters;
$$;
grant execute on function pg_temp.reset() to authenticated, service_role;

-- Every notification id of a user, walked with list_notifications' keyset cursor in pages of `size`.
create function pg_temp.walk(size integer, unread boolean default false) returns uuid[] language plpgsql as $$
declare
  seen uuid[] := '{}';
  last public.notifications;
  page public.notifications[];
begin
  loop
    page := array(select n from public.list_notifications(unread_only => unread, before_at => last.updated_at,
                                                          before_id => last.id, page_size => size) n);
    exit when cardinality(page) = 0;
    seen := seen || array(select p.id from unnest(page) p);
    last := page[cardinality(page)];
  end loop;
  return seen;
end
$$;
grant execute on function pg_temp.walk(integer, boolean) to authenticated;

-- being added ---------------------------------------------------------------------------------------------------------
select is(tests.notifications_of('bob'), array['added_to_chat team'], 'a member added to a group is notified');
select is(tests.notifications_of('alice'), '{}'::text[], 'the creator is not notified of their own chat');
select is((tests.last_notification('bob')).actor_id, tests.id('alice'), 'the notification names who added them');
select tests.authenticate_as('bob');
select is(public.get_unread_notification_count(), 1, 'the unread count counts it');

-- mentions --------------------------------------------------------------------------------------------------------------
select pg_temp.reset();
select tests.authenticate_as('alice');
select tests.remember('m1', (public.send_message(tests.id('team'), 'hi @bob, see this', mentions => array[tests.id('bob')])).id);
select is(tests.notifications_of('bob'), array['mention team'], 'a mentioned member gets a mention');
select is(tests.notifications_of('carol'), '{}'::text[], 'a message that does not concern a member notifies nobody');
select is((tests.last_notification('bob')).preview, 'hi @bob, see this', 'the notification has a preview');
select is((tests.last_notification('bob')).message_id, tests.id('m1'), 'and names the message');
select is((tests.last_notification('bob')).data ->> 'message_seq',
  (select seq::text from public.messages where id = tests.id('m1')), 'and its seq');
select is((tests.last_notification('bob')).silent, false, 'it may push');
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'hi @alice', mentions => array[tests.id('alice')]);
select is(tests.notifications_of('alice'), '{}'::text[], 'mentioning oneself notifies nobody');

select tests.authenticate_as('carol');
select public.set_chat_preferences(tests.id('team'), notification_level => 'none');
select tests.authenticate_as('bob');
select public.set_chat_preferences(tests.id('team'), notification_level => 'mentions');
select pg_temp.reset();
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'you two', mentions => array[tests.id('bob'), tests.id('carol')]);
select is(tests.notifications_of('bob'), array['mention team'], 'level mentions keeps mentions');
select is(tests.notifications_of('carol'), '{}'::text[], 'level none makes nothing, not even for a mention');

-- @channel and @here -----------------------------------------------------------------------------------------------------
select pg_temp.reset();
select tests.authenticate_as('bob');
select public.send_message(tests.id('team'), 'hey @channel');
select is((select count(*)::integer from public.notifications), 0, 'a plain member''s @channel notifies nobody');
select tests.authenticate_as('dave');
select public.send_message(tests.id('team'), 'hey @channel, release today');
select is(tests.notifications_of('alice'), array['mention team'], 'an admin''s @channel notifies every member');
select is(tests.notifications_of('bob'), array['mention team'], 'members at level mentions too');
select is(tests.notifications_of('carol'), '{}'::text[], 'but not those at level none');
select is(tests.notifications_of('dave'), '{}'::text[], 'nor the author');
select is((tests.last_notification('bob')).data ->> 'scope', 'channel', 'the notification says it was @channel');
select is(tests.notifications_of('mallory'), array['mention team'], 'a member nobody blocked is notified');

select pg_temp.reset();
select tests.set_status('bob', 'offline');
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), '@here standup');
select is(tests.notifications_of('dave'), array['mention team'], '@here notifies the members who are online');
select is(tests.notifications_of('bob'), '{}'::text[], 'and not those who are offline');
select tests.set_status('bob', 'online');

select pg_temp.reset();
select tests.authenticate_as('alice');
select (public.update_chat(tests.id('team'), everyone_mentions => false)).everyone_mentions;
select public.send_message(tests.id('team'), 'hey @channel');
select is((select count(*)::integer from public.notifications), 0, 'a chat can turn @channel off');
select public.update_chat(tests.id('team'), everyone_mentions => true);
select tests.authenticate_as('bob');
select throws_ok($$ select public.update_chat(tests.id('team'), everyone_mentions => false) $$, '42501', null,
  'a member cannot change whether @channel is allowed');

-- replies and threads -----------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select public.set_chat_preferences(tests.id('team'), notification_level => 'all');
select tests.authenticate_as('carol');
select public.set_chat_preferences(tests.id('team'), notification_level => 'all');
select pg_temp.reset();
select tests.send_message('root', 'alice', 'team', 'a thread starts here');
select tests.authenticate_as('carol');
select public.send_message(tests.id('team'), 'replying', reply_to_id => tests.id('root'));
select is(tests.notifications_of('alice'), array['reply team'], 'a reply to my message notifies me');
select is(tests.notifications_of('bob'), '{}'::text[], 'and nobody else');

select pg_temp.reset();
select tests.authenticate_as('bob');
select public.send_message(tests.id('team'), 'in the thread', thread_root_id => tests.id('root'));
select tests.authenticate_as('carol');
select tests.remember('t2', (public.send_message(tests.id('team'), 'me too', thread_root_id => tests.id('root'))).id);
select is(tests.notifications_of('alice'), array['reply team', 'reply team'], 'each reply in my thread notifies me');
select is(tests.notifications_of('bob'), array['thread_reply team'], 'a reply in a thread I took part in notifies me');
select is((tests.last_notification('bob')).data ->> 'thread_root_id', tests.id('root')::text, 'and names the thread');
select is(tests.notifications_of('dave'), '{}'::text[], 'members outside the thread are not notified');
select tests.authenticate_as('bob');
select public.set_chat_preferences(tests.id('team'), notification_level => 'mentions');
select pg_temp.reset();
select tests.authenticate_as('carol');
select public.send_message(tests.id('team'), 'again', thread_root_id => tests.id('root'));
select is(tests.notifications_of('bob'), '{}'::text[], 'level mentions drops thread replies');
select is(tests.notifications_of('alice'), array['reply team'], 'but replies to my own message stay');
select tests.authenticate_as('bob');
select public.set_chat_preferences(tests.id('team'), notification_level => 'all');

-- direct messages while offline -------------------------------------------------------------------------------------------
select tests.create_direct('dm', 'alice', 'bob');
select pg_temp.reset();
select tests.send_message('d1', 'alice', 'dm', 'are you there?');
select is(tests.notifications_of('bob'), '{}'::text[], 'a direct message to someone online makes no notification');
select tests.set_status('bob', 'offline');
select tests.send_message('d2', 'alice', 'dm', 'ping');
select is(tests.notifications_of('bob'), array['direct_message dm'], 'a direct message while offline does');
select tests.set_status('bob', 'online');

-- reactions, collapsed -------------------------------------------------------------------------------------------------------
select pg_temp.reset();
select tests.authenticate_as('bob');
select public.toggle_reaction(tests.id('root'), '👍');
select is(tests.notifications_of('alice'), array['reaction team'], 'a reaction to my message notifies me');
select tests.authenticate_as('carol');
select public.toggle_reaction(tests.id('root'), '🎉');
select is(tests.notifications_of('alice'), array['reaction team'], 'more reactions collapse into one notification');
select is((tests.last_notification('alice')).data ->> 'reactor_count', '2', 'that counts the people who reacted');
select is((tests.last_notification('alice')).actor_id, tests.id('carol'), 'and names the newest');
select tests.authenticate_as('alice');
select is(public.get_unread_notification_count(), 1, 'a collapsed notification counts once');
select is(public.mark_all_notifications_read(), 0, 'mark all read clears the count');
select tests.authenticate_as('dave');
select public.toggle_reaction(tests.id('root'), '👍');
select tests.authenticate_as('alice');
select is(public.get_unread_notification_count(), 1, 'a new reaction makes the collapsed notification unread again');
select tests.authenticate_as('alice');
select public.toggle_reaction(tests.id('root'), '🔥');
select is((tests.last_notification('alice')).data ->> 'reactor_count', '3', 'my own reaction notifies nobody');

-- direct invitations ----------------------------------------------------------------------------------------------------------
select pg_temp.reset();
select tests.authenticate_as('alice');
select public.invite_user(tests.id('team'), tests.id('erin'));
select is(tests.notifications_of('erin'), array['invitation team'], 'a direct invitation notifies the invited user');
select is((tests.last_notification('erin')).preview, 'team', 'with the chat''s title');

-- blocks -----------------------------------------------------------------------------------------------------------------------
select pg_temp.reset();
select tests.authenticate_as('mallory');
select public.send_message(tests.id('team'), '@bob hello', mentions => array[tests.id('bob')]);
select public.toggle_reaction(tests.id('m1'), '👎');
select public.send_message(tests.id('team'), 'reply', reply_to_id => (select id from public.messages
  where chat_id = tests.id('team') and author_id = tests.id('bob') order by seq desc limit 1));
select is(tests.notifications_of('bob'), '{}'::text[], 'a blocked user never causes a notification');

-- moderation and system notices -----------------------------------------------------------------------------------------------
select pg_temp.reset();
select tests.authenticate_as('alice');
select public.ban_chat_member(tests.id('team'), tests.id('mallory'), 'spam');
select is(tests.notifications_of('mallory'), array['system team'], 'a banned user gets a moderation notice');
select is((tests.last_notification('mallory')).data ->> 'category', 'moderation', 'marked as moderation');
select is((tests.last_notification('mallory')).preview, 'spam', 'with the reason');
select throws_ok($$ select private.notify_system(tests.id('bob'), 'Hello') $$, '42501', null,
  'clients cannot send system notices');
select tests.authenticate_as_service_role();
select is((private.notify_system(tests.id('bob'), 'Maintenance tonight', 'Back at 02:00')).kind, 'system',
  'the service role sends a system notice');
select throws_ok($$ select private.notify_system(gen_random_uuid(), 'Hello') $$, 'PT404', null,
  'a system notice to nobody is refused');

-- preferences ----------------------------------------------------------------------------------------------------------------
select pg_temp.reset();
select tests.authenticate_as('bob');
select is((public.get_notification_settings()).push_enabled, true, 'push is on by default');
select public.update_notification_settings(hide_previews => true);
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'secret plans @bob', mentions => array[tests.id('bob')]);
select is((tests.last_notification('bob')).preview, null, 'hidden previews leave the preview out');
select tests.authenticate_as('bob');
select public.update_notification_settings(hide_previews => false, disabled_kinds => array['mention']::public.notification_kind[]);
select pg_temp.reset();
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'again @bob', mentions => array[tests.id('bob')]);
select is(tests.notifications_of('bob'), '{}'::text[], 'a kind switched off makes no notification');

select tests.authenticate_as('bob');
select public.update_notification_settings(disabled_kinds => '{}', push_enabled => false);
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'push off @bob', mentions => array[tests.id('bob')]);
select is((tests.last_notification('bob')).silent, true, 'push off: in the inbox, silent');

select tests.authenticate_as('bob');
select public.update_notification_settings(push_enabled => true);
select public.set_chat_preferences(tests.id('team'), muted_until => now() + interval '1 hour');
select pg_temp.reset();
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'muted @bob', mentions => array[tests.id('bob')]);
select is(tests.notifications_of('bob'), array['mention team'], 'a muted chat still fills the inbox');
select is((tests.last_notification('bob')).silent, true, 'but never pushes');
select tests.authenticate_as('bob');
select is(public.get_unread_notification_count(), 1, 'and still counts unread');
select public.set_chat_preferences(tests.id('team'), muted_until => now() - interval '1 second');

select tests.set_status('bob', 'busy');
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'busy @bob', mentions => array[tests.id('bob')]);
select is((tests.last_notification('bob')).silent, true, 'status busy suppresses push');
select tests.set_status('bob', 'online');

-- Quiet hours around the current time in Tokyo, then a range that is certainly not now.
select tests.authenticate_as('bob');
select public.update_notification_settings(time_zone => 'Asia/Tokyo',
  quiet_hours_start => ((now() at time zone 'Asia/Tokyo') - interval '1 hour')::time,
  quiet_hours_end => ((now() at time zone 'Asia/Tokyo') + interval '1 hour')::time);
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'quiet @bob', mentions => array[tests.id('bob')]);
select is((tests.last_notification('bob')).silent, true, 'quiet hours in the user''s time zone keep it silent');
select tests.authenticate_as('bob');
select public.update_notification_settings(
  quiet_hours_start => ((now() at time zone 'Asia/Tokyo') + interval '2 hours')::time,
  quiet_hours_end => ((now() at time zone 'Asia/Tokyo') + interval '3 hours')::time);
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'loud @bob', mentions => array[tests.id('bob')]);
select is((tests.last_notification('bob')).silent, false, 'outside quiet hours it pushes');

-- settings: bad input --------------------------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select throws_ok($$ select public.update_notification_settings(time_zone => 'Mars/Olympus') $$, '22023', 'unknown time zone',
  'an unknown time zone is refused');
select throws_ok($$ select public.update_notification_settings(quiet_hours_start => '22:00') $$, '22023', null,
  'quiet hours need both ends');
select throws_ok($$ select public.update_notification_settings(disabled_kinds => array['system']::public.notification_kind[]) $$,
  '22023', null, 'system notices cannot be switched off');
select is((public.update_notification_settings(clear_quiet_hours => true)).quiet_hours_start, null, 'quiet hours can be cleared');

-- the inbox RPCs -----------------------------------------------------------------------------------------------------------
select pg_temp.reset();
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'note ' || i || ' @bob', mentions => array[tests.id('bob')]) from generate_series(1, 7) i;
select public.send_message(tests.id('dm'), 'dm @bob', mentions => array[tests.id('bob')]);
select tests.authenticate_as('bob');
select is(cardinality(pg_temp.walk(3)), 8, 'keyset pages of 3 walk every notification');
select is(pg_temp.walk(3), array(select id from public.list_notifications(page_size => 200)), 'in the same order as one page');
select is(public.get_unread_notification_count(), 8, 'eight unread');
select is(public.mark_notifications_read(array[(select id from public.list_notifications(chat_id => tests.id('team'), unread_only => true, page_size => 1))]), 7,
  'mark read (one) returns the count left');
select is(cardinality(pg_temp.walk(2, true)), 7, 'the unread filter leaves out read ones');
select is(public.mark_all_notifications_read(tests.id('dm')), 6, 'mark all read for one chat');
select is((select count(*)::integer from public.list_notifications(chat_id => tests.id('dm'), unread_only => true)), 0,
  'that chat has no unread notification left');
select is(public.get_unread_notification_count(), (select count(*)::integer from public.notifications where read_at is null),
  'the counter equals the unread rows');
select throws_ok($$ select * from public.list_notifications(before_at => now()) $$, '22023', null,
  'a half cursor is refused');
select throws_ok($$ select public.mark_notifications_read('{}') $$, '22023', null, 'an empty list is refused');

-- a deleted message takes its notifications along
select tests.authenticate_as('alice');
select tests.remember('gone', (public.send_message(tests.id('team'), 'oops @bob', mentions => array[tests.id('bob')])).id);
select public.delete_message(tests.id('gone'));
select is((select count(*)::integer from public.notifications where message_id = tests.id('gone')), 0,
  'deleting a message removes its notifications');
select tests.authenticate_as('bob');
select is(public.get_unread_notification_count(), 6, 'and their unread count');

-- reading the chat reads its message notifications
select pg_temp.reset();
select tests.authenticate_as('alice');
select tests.remember('r1', (public.send_message(tests.id('team'), 'first @bob', mentions => array[tests.id('bob')])).id);
select tests.remember('r2', (public.send_message(tests.id('team'), 'second @bob', mentions => array[tests.id('bob')])).id);
select tests.authenticate_as('carol');
select public.toggle_reaction((select id from public.messages where chat_id = tests.id('team') and author_id = tests.id('bob')
  order by seq desc limit 1), '👀');
select tests.authenticate_as('bob');
select public.mark_chat_read(tests.id('team'), (select seq from public.messages where id = tests.id('r1')));
select is((select array_agg(preview order by created_at) from public.notifications where read_at is null and kind = 'mention'),
  array['second @bob'], 'reading a chat up to a message reads the notifications about it, not later ones');
select public.mark_chat_read(tests.id('team'));
select is((select array_agg(kind::text) from public.notifications where read_at is null), array['reaction'],
  'reading to the end reads every message notification; a reaction to my message stays unread');
select is(public.get_unread_notification_count(), 1, 'and the count follows');
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'after reading @bob', mentions => array[tests.id('bob')]);
select tests.authenticate_as('bob');
select is(public.get_unread_notification_count(), 2, 'the sender''s own cursor moving on a send reads nothing of others');

-- realtime: notification.created with the unread count on the user's topic -------------------------------------------------
select tests.took();
select tests.authenticate_as('alice');
select public.send_message(tests.id('team'), 'live @bob', mentions => array[tests.id('bob')]);
select ok('user:bob notification.created' = any (tests.took()), 'notification.created goes to the recipient''s own topic');
select is(tests.last_payload('notification.created') -> 'data' ->> 'unread_count', '3', 'the event carries the unread count');
select is(tests.last_payload('notification.created') -> 'data' ->> 'kind', 'mention', 'and which notification (thin: no preview)');
select tests.authenticate_as('bob');
select tests.remember('bobs', (select id from public.list_notifications(unread_only => true, page_size => 1)));
select public.mark_notifications_read(array[tests.id('bobs')]);
select is(tests.last_payload('notification.read') -> 'data' ->> 'unread_count', '2', 'marking read broadcasts the new count');
select tests.remember('unread-of-bob', (select id from public.notifications where read_at is null limit 1));

-- who may read and write --------------------------------------------------------------------------------------------------------
select tests.authenticate_as('erin');
select is_empty($$ select 1 from public.notifications where recipient_id = tests.id('bob') $$,
  'nobody reads another user''s notifications');
select is_empty($$ select 1 from public.notification_settings where user_id = tests.id('bob') $$,
  'nor their settings');
select is(public.mark_notifications_read(array[tests.id('unread-of-bob')]), 0,
  'marking another user''s notification read changes nothing of theirs');
select tests.authenticate_as('bob');
select is(public.get_unread_notification_count(), 2, 'another user''s ids are ignored by mark read');
select isnt_empty($$ select 1 from public.notifications $$, 'the recipient reads their own notifications');
select throws_ok($$ update public.notifications set read_at = now() $$, '42501', null, 'nobody writes notifications directly');
select throws_ok($$ insert into public.notifications (recipient_id, kind) values (auth.uid(), 'system') $$, '42501', null,
  'nor inserts them');
select throws_ok($$ update public.notification_settings set push_enabled = false $$, '42501', null,
  'settings change only through the RPC');
select tests.clear_authentication();
select throws_ok($$ select public.get_unread_notification_count() $$, '42501', null, 'anon has no inbox');

select * from finish();
rollback;
