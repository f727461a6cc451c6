-- Moderation: reports (who may file, see and decide them), decisions (dismiss, delete, mute, remove, ban, freeze,
-- suspend), the reporter told of the outcome, app moderators from auth app_metadata, suspension on every write RPC.
-- Personas: olga (owner of Club), adam (admin), mia and max (members), otto (outsider), mona (app moderator, in no
-- chat), rita (member, reporter), sam (member, to be suspended), anon.
begin;
create extension if not exists pgtap with schema extensions;
select plan(75);

select tests.create_user(u) from unnest(array['olga', 'adam', 'mia', 'max', 'otto', 'mona', 'rita', 'sam']) u;
select tests.make_moderator('mona');
select tests.create_group('Club', 'olga', members => array['adam', 'mia', 'max', 'rita', 'sam'], admins => array['adam']);
select tests.create_group('Other', 'otto', members => array['max']);
select tests.send_message('spam1', 'mia', 'Club', 'buy cheap pills');
select tests.send_message('spam2', 'max', 'Club', 'more spam');
select tests.send_message('ok1', 'olga', 'Club', 'welcome');
select tests.send_message('other1', 'otto', 'Other', 'elsewhere');

create function pg_temp.report_row(id uuid) returns public.reports
language sql stable security definer set search_path = ''
as $$ select * from public.reports r where r.id = $1 $$;
create function pg_temp.message_row(id uuid) returns public.messages
language sql stable security definer set search_path = ''
as $$ select * from public.messages m where m.id = $1 $$;
create function pg_temp.user_events_of(who uuid, event_name text) returns setof jsonb
language sql stable security definer set search_path = ''
as $$ select e.payload from private.user_events e where e.user_id = $1 and e.event = $2 $$;
grant execute on function pg_temp.report_row(uuid), pg_temp.message_row(uuid), pg_temp.user_events_of(uuid, text)
  to anon, authenticated, service_role;

-- filing reports --------------------------------------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok($$ select public.report_content('message', tests.id('spam1'), 'spam') $$, '42501', null,
  'anon cannot report');

select tests.authenticate_as('rita');
select lives_ok($$ select tests.remember('r_spam1', (public.report_content('message', tests.id('spam1'), 'spam', 'ads again')).id) $$,
  'a member reports a message of their chat');
select is((select row(target_kind, chat_id, target_user_id, reason, status)::text from pg_temp.report_row(tests.id('r_spam1'))),
  row('message'::public.report_target, tests.id('Club'), tests.get_user_id('mia'), 'spam'::public.report_reason,
      'open'::public.report_status)::text,
  'the report names the chat and the message''s author');
select throws_ok($$ select public.report_content('message', tests.id('spam1'), 'harassment') $$, '23505', 'you already reported this',
  'one open report per reporter and target');
select throws_ok($$ select public.report_content('message', tests.id('other1'), 'spam') $$, 'PT404', 'message not found',
  'a message of another chat cannot be reported');
select throws_ok($$ select public.report_content('message', tests.id('spam1'), null) $$, '22023', 'reason is required',
  'a reason is required');
select throws_ok($$ select public.report_content('user', tests.get_user_id('rita'), 'spam') $$, '22023', 'you cannot report yourself',
  'nobody reports themselves');
select throws_ok($$ select public.report_content('chat', tests.id('Other'), 'spam') $$, 'PT404', 'chat not found',
  'a chat one is not in (and cannot discover) cannot be reported');
select throws_ok($$ select public.report_content('message', tests.id('spam1'), 'spam', repeat('x', 1001)) $$, '22023', 'note is too long',
  'a note has at most 1000 characters');
select lives_ok($$ select tests.remember('r_user', (public.report_content('user', tests.get_user_id('max'), 'harassment')).id) $$,
  'a user can be reported');
select lives_ok($$ select tests.remember('r_chat', (public.report_content('chat', tests.id('Club'), 'other', 'the whole chat')).id) $$,
  'a chat can be reported');
select tests.authenticate_as('olga');
select lives_ok($$ select tests.remember('r_spam1_olga', (public.report_content('message', tests.id('spam1'), 'spam')).id) $$,
  'another reporter can report the same message');
select tests.authenticate_as('adam');
select lives_ok($$ select tests.remember('r_spam2', (public.report_content('message', tests.id('spam2'), 'spam')).id) $$,
  'an admin can report too');

-- who sees reports ------------------------------------------------------------------------------------------------------
select tests.authenticate_as('rita');
select is((select count(*)::int from public.reports), 3, 'a reporter reads their own reports');
select tests.authenticate_as('mia');
select is((select count(*)::int from public.reports), 0, 'a member (the reported author) reads no reports');
select tests.authenticate_as('otto');
select is((select count(*)::int from public.reports), 0, 'an outsider reads no reports');
select tests.authenticate_as('adam');
select is((select count(*)::int from public.reports where chat_id = tests.id('Club')), 4,
  'a chat admin reads the reports about their chat');
select is((select count(*)::int from public.reports where target_kind = 'user'), 0,
  'a chat admin does not read reports of users');
select tests.authenticate_as('mona');
select is((select count(*)::int from public.reports
            where reporter_id in (tests.get_user_id('rita'), tests.get_user_id('olga'), tests.get_user_id('adam'))), 5,
  'an app moderator reads every report (those of other chats and of users included)');
select tests.authenticate_as('otto');
select throws_ok($$ update public.reports set status = 'dismissed' $$, '42501', null, 'nobody updates reports directly');

-- deciding: who may -----------------------------------------------------------------------------------------------------
select tests.authenticate_as('mia');
select throws_ok(format('select public.resolve_report(%L, ''dismiss'')', tests.id('r_spam1')), 'PT404', 'report not found',
  'a member cannot decide a report');
select tests.authenticate_as('otto');
select throws_ok(format('select public.resolve_report(%L, ''dismiss'')', tests.id('r_spam1')), 'PT404', 'report not found',
  'an outsider cannot decide a report');
select tests.authenticate_as('adam');
select throws_ok(format('select public.resolve_report(%L, ''dismiss'')', tests.id('r_user')), 'PT404', 'report not found',
  'a chat admin cannot decide a report of a user');
select throws_ok(format('select public.resolve_report(%L, ''suspend'')', tests.id('r_spam1')), '42501', 'only app moderators can suspend users',
  'a chat admin cannot suspend');
select throws_ok(format('select public.resolve_report(%L, ''mute'')', tests.id('r_spam1')), '22023',
  'mute duration must be between 60 seconds and 30 days', 'a mute needs a duration');
select throws_ok(format('select public.resolve_report(%L, ''ban'')', tests.id('r_chat')), '22023', 'this action needs a reported message',
  'a ban decides a message report');

-- mute: the decision and its effect -------------------------------------------------------------------------------------
select lives_ok(format('select public.resolve_report(%L, ''mute'', ''cool down'', 3600)', tests.id('r_spam1')),
  'a chat admin mutes the author of a reported message');
select is((select row(status, action, resolved_by)::text from pg_temp.report_row(tests.id('r_spam1'))),
  row('actioned'::public.report_status, 'mute'::public.moderation_action, tests.get_user_id('adam'))::text,
  'the report is decided');
select is((select status::text from pg_temp.report_row(tests.id('r_spam1_olga'))), 'actioned',
  'every open report of the same message is decided with it');
select is((select row(kind, data ->> 'category', data ->> 'status')::text from tests.last_notification('rita')),
  row('system', 'moderation', 'actioned')::text, 'the reporter gets a moderation notice of the outcome');
select is((select data ->> 'report_id' from tests.last_notification('olga')), tests.id('r_spam1_olga')::text,
  'the second reporter is told too');
select ok(exists (select 1 from pg_temp.user_events_of(tests.get_user_id('rita'), 'report.resolved') e
                    where e ->> 'report_id' = tests.id('r_spam1')::text),
  'the reporter gets report.resolved on their user topic');
select throws_ok(format('select public.resolve_report(%L, ''dismiss'')', tests.id('r_spam1')), '22023', 'report is already decided',
  'a decided report stays decided');
select tests.authenticate_as('mia');
select throws_ok($$ select public.send_message(tests.id('Club'), 'still here') $$, '42501', 'you are muted in this chat',
  'a muted member cannot send');
select throws_ok(format('select public.toggle_reaction(%L, ''👍'')', tests.id('ok1')), '42501', 'you are muted in this chat',
  'a muted member cannot react');
select throws_ok(format('select public.edit_message(%L, ''edited'')', tests.id('spam1')), '42501', 'you are muted in this chat',
  'a muted member cannot edit');
select is(tests.realtime_can_write('chat:' || tests.id('Club') || ':typing', 'broadcast'), false, 'a muted member cannot type');
select is(tests.realtime_can_write('chat:' || tests.id('Club') || ':typing', 'presence'), true, 'but still shows presence');
select is((select count(*)::int from public.get_chat_messages(tests.id('Club'))), 3, 'a muted member still reads the chat');
select is((select count(*)::int from public.chat_mutes where user_id = tests.get_user_id('mia')), 1, 'the muted member sees their mute');
select tests.authenticate_as('max');
select is((select count(*)::int from public.chat_mutes), 0, 'other members do not see mutes');
select tests.authenticate_as('adam');
select throws_ok(format('select public.mute_chat_member(%L, %L, 600)', tests.id('Club'), tests.get_user_id('olga')), '42501', null,
  'an admin cannot mute the owner');
select is(public.unmute_chat_member(tests.id('Club'), tests.get_user_id('mia')), true, 'an admin lifts the mute');
select tests.authenticate_as('mia');
select lives_ok($$ select public.send_message(tests.id('Club'), 'back again') $$, 'an unmuted member sends again');
select tests.authenticate_as('max');
select throws_ok(format('select public.mute_chat_member(%L, %L, 600)', tests.id('Club'), tests.get_user_id('mia')), '42501', null,
  'a member cannot mute');

-- delete and dismiss -----------------------------------------------------------------------------------------------------
select tests.authenticate_as('adam');
select lives_ok(format('select public.resolve_report(%L, ''delete_message'')', tests.id('r_spam2')),
  'a chat admin deletes a reported message');
select ok((select deleted_at is not null and body is null from pg_temp.message_row(tests.id('spam2'))),
  'the reported message is a tombstone');
select lives_ok(format('select public.resolve_report(%L, ''dismiss'', ''fine'')', tests.id('r_chat')), 'a chat admin dismisses a report');
select is((select row(kind, data ->> 'status')::text from tests.last_notification('rita')), row('system', 'dismissed')::text,
  'the reporter is told it was dismissed');

-- freeze ---------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('mia');
select throws_ok(format('select public.freeze_chat(%L)', tests.id('Club')), '42501', null, 'a member cannot freeze the chat');
select tests.authenticate_as('adam');
select lives_ok(format('select public.freeze_chat(%L, ''calm down'')', tests.id('Club')), 'an admin freezes the chat');
select tests.authenticate_as('mia');
select throws_ok($$ select public.send_message(tests.id('Club'), 'frozen?') $$, '42501', 'this chat is frozen',
  'members cannot send in a frozen chat');
select throws_ok(format('select public.toggle_reaction(%L, ''👍'')', tests.id('ok1')), '42501', 'this chat is frozen',
  'members cannot react in a frozen chat');
select throws_ok(format('select public.unfreeze_chat(%L)', tests.id('Club')), '42501', null, 'a member cannot unfreeze');
select is((select count(*)::int from public.chat_freezes where chat_id = tests.id('Club')), 1, 'members see that the chat is frozen');
select tests.authenticate_as('adam');
select lives_ok($$ select public.send_message(tests.id('Club'), 'admins may still post') $$, 'admins still post in a frozen chat');
select is(public.unfreeze_chat(tests.id('Club')), true, 'an admin unfreezes the chat');
select tests.authenticate_as('mia');
select lives_ok($$ select public.send_message(tests.id('Club'), 'thawed') $$, 'members send again after unfreezing');

-- app moderators --------------------------------------------------------------------------------------------------------
select tests.authenticate_as('max');
select throws_ok($$ update auth.users set raw_app_meta_data = '{"app_role": "moderator"}' where id = auth.uid() $$, '42501', null,
  'a user cannot make themselves a moderator');
select throws_ok(format('select public.suspend_user(%L)', tests.get_user_id('sam')), '42501', 'only app moderators can do this',
  'a user who is not a moderator cannot suspend');
select tests.authenticate_as('rita');
select lives_ok($$ select tests.remember('r_sam', (public.report_content('user', tests.get_user_id('sam'), 'spam')).id) $$,
  'a user report for the moderators');
select tests.authenticate_as('mona');
select throws_ok(format('select public.suspend_user(%L)', tests.get_user_id('mona')), '42501', 'you cannot do this to yourself',
  'a moderator cannot suspend themselves');
select lives_ok(format('select public.resolve_report(%L, ''suspend'', ''spam wave'', 86400)', tests.id('r_sam')),
  'a moderator (in no chat) suspends the reported user');
select throws_ok(format('select public.resolve_report(%L, ''ban'')', tests.id('r_user')), '22023', 'this action needs a reported message',
  'a user report is decided with dismiss or suspend');

-- suspension: read yes, write no ----------------------------------------------------------------------------------------
select tests.authenticate_as('sam');
select is((select count(*)::int from public.user_suspensions where user_id = auth.uid()), 1, 'the suspended user sees the suspension');
select throws_ok($$ select public.send_message(tests.id('Club'), 'hello') $$, '42501', 'your account is suspended',
  'a suspended user cannot send');
select throws_ok($$ select public.create_group_chat('new') $$, '42501', 'your account is suspended',
  'a suspended user cannot create chats');
select throws_ok(format('select public.report_content(''message'', %L, ''spam'')', tests.id('ok1')), '42501', 'your account is suspended',
  'a suspended user cannot file reports');
select ok((select count(*) from public.get_chat_messages(tests.id('Club'))) > 0, 'a suspended user still reads their chats');
select lives_ok($$ select public.mark_chat_read(tests.id('Club')) $$, 'a suspended user still marks chats read (their own state)');
select throws_ok($$ update public.profiles set bio = 'new bio' where id = auth.uid() $$, '42501', null,
  'a suspended user cannot change their profile');
select is(tests.realtime_can_write('chat:' || tests.id('Club') || ':typing', 'broadcast'), false,
  'a suspended user cannot type in a chat');
select tests.authenticate_as('mona');
select is(public.unsuspend_user(tests.get_user_id('sam')), true, 'a moderator lifts the suspension');
select tests.authenticate_as('sam');
select lives_ok($$ select public.send_message(tests.id('Club'), 'hello again') $$, 'a user whose suspension was lifted writes again');
select tests.make_moderator('mona', false);
select tests.authenticate_as('mona');
select throws_ok(format('select public.suspend_user(%L)', tests.get_user_id('sam')), '42501', 'only app moderators can do this',
  'a demoted moderator loses the role at once (read from auth.users, not the token)');

select * from finish();
rollback;
