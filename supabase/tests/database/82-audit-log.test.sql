-- Audit log: every administrative and moderation action is written with actor, target, before/after and time;
-- chat admins read their chat's entries, moderators all; nobody (anon, authenticated, service_role, the table's
-- owner) updates, deletes or truncates an entry.
-- Personas: olga (owner of Club), adam (admin), mia and max (members), bea (banned), otto (outsider), mona (app
-- moderator), anon.
begin;
create extension if not exists pgtap with schema extensions;
select plan(29);

select tests.create_user(u) from unnest(array['olga', 'adam', 'mia', 'max', 'bea', 'otto', 'mona']) u;
select tests.make_moderator('mona');
select tests.create_group('Club', 'olga', members => array['adam', 'mia', 'max', 'bea'], admins => array['adam']);
select tests.create_group('Gone', 'otto', members => array['max']);
select tests.send_message('m1', 'mia', 'Club', 'rude words');

create function pg_temp.entries(chat uuid, act text) returns setof public.audit_log
language sql stable security definer set search_path = ''
as $$ select * from public.audit_log a where a.chat_id = $1 and a.action = $2 order by a.id $$;
create function pg_temp.entry_count() returns integer
language sql stable security definer set search_path = ''
as $$ select count(*)::int from public.audit_log $$;
grant execute on function pg_temp.entries(uuid, text), pg_temp.entry_count() to anon, authenticated, service_role;

-- what is written ---------------------------------------------------------------------------------------------------------
select is((select row(actor_id, target_table, target_id, before, after)::text from pg_temp.entries(tests.id('Club'), 'member.role_changed')),
  row(tests.get_user_id('olga'), 'profiles', tests.get_user_id('adam'), '{"role": "member"}'::jsonb, '{"role": "admin"}'::jsonb)::text,
  'a role change: actor, target, before and after');
select tests.authenticate_as('adam');
select public.ban_chat_member(tests.id('Club'), tests.get_user_id('bea'), 'spam');
select public.remove_chat_member(tests.id('Club'), tests.get_user_id('max'));
select public.delete_message(tests.id('m1'));
select public.update_chat(tests.id('Club'), title => 'Club 2', slow_mode_seconds => 10);
select public.unban_chat_member(tests.id('Club'), tests.get_user_id('bea'));
select public.freeze_chat(tests.id('Club'));
select public.unfreeze_chat(tests.id('Club'));
select public.mute_chat_member(tests.id('Club'), tests.get_user_id('mia'), 600, 'cool down');
select public.add_word_filter('darn', 'block', tests.id('Club'));
select is((select row(actor_id, target_id, details ->> 'reason')::text from pg_temp.entries(tests.id('Club'), 'member.banned')),
  row(tests.get_user_id('adam'), tests.get_user_id('bea'), 'spam')::text, 'a ban, with its reason');
select is((select count(*)::int from pg_temp.entries(tests.id('Club'), 'member.removed') where target_id = tests.get_user_id('bea')), 0,
  'the ban''s removal is not audited twice');
select is((select row(actor_id, target_id)::text from pg_temp.entries(tests.id('Club'), 'member.removed')),
  row(tests.get_user_id('adam'), tests.get_user_id('max'))::text, 'a removal');
select is((select row(actor_id, target_id, details ->> 'author_id')::text from pg_temp.entries(tests.id('Club'), 'message.deleted')),
  row(tests.get_user_id('adam'), tests.id('m1'), tests.get_user_id('mia')::text)::text, 'a deletion by an admin, without the body');
select is((select row(before, after)::text from pg_temp.entries(tests.id('Club'), 'chat.settings_changed')),
  row('{"title": "Club", "slow_mode_seconds": 0}'::jsonb, '{"title": "Club 2", "slow_mode_seconds": 10}'::jsonb)::text,
  'a settings change: the changed fields before and after');
select is((select count(*)::int from pg_temp.entries(tests.id('Club'), 'member.unbanned')), 1, 'an unban');
select is((select count(*)::int from pg_temp.entries(tests.id('Club'), 'chat.frozen')), 1, 'a freeze');
select is((select count(*)::int from pg_temp.entries(tests.id('Club'), 'chat.unfrozen')), 1, 'an unfreeze');
select is((select count(*)::int from pg_temp.entries(tests.id('Club'), 'member.muted')), 1, 'a mute');
select is((select count(*)::int from pg_temp.entries(tests.id('Club'), 'word_filter.added')), 1, 'a word-filter change');
select tests.authenticate_as('olga');
select public.transfer_chat_ownership(tests.id('Club'), tests.get_user_id('adam'));
select is((select count(*)::int from pg_temp.entries(tests.id('Club'), 'member.role_changed')), 3,
  'an ownership transfer is two role changes');
select tests.authenticate_as('mona');
select public.suspend_user(tests.get_user_id('max'), 3600, 'spam');
select is((select row(action, actor_id, target_id, chat_id)::text from public.audit_log
             where action = 'user.suspended' and target_id = tests.get_user_id('max')),
  row('user.suspended', tests.get_user_id('mona'), tests.get_user_id('max'), null::uuid)::text, 'a suspension (app-wide, no chat)');
select tests.authenticate_as('otto');
select public.delete_chat(tests.id('Gone'));
select is((select count(*)::int from pg_temp.entries(tests.id('Gone'), 'chat.deleted')), 1,
  'a chat deletion is audited, and the entry outlives the chat');

-- who reads --------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('adam');
select ok((select count(*) from public.audit_log where chat_id = tests.id('Club')) >= 10, 'a chat admin reads their chat''s entries');
select is((select count(*)::int from public.audit_log where chat_id is distinct from tests.id('Club')), 0,
  'and nothing else');
select tests.authenticate_as('mia');
select is((select count(*)::int from public.audit_log), 0, 'a member reads no entries');
select tests.authenticate_as('otto');
select is((select count(*)::int from public.audit_log), 0, 'an outsider reads no entries (not even of a chat they deleted)');
select tests.authenticate_as('mona');
select is((select count(*)::int from public.audit_log), pg_temp.entry_count(), 'a moderator reads every entry');

-- append-only, for every role ------------------------------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok($$ delete from public.audit_log $$, '42501', null, 'anon cannot delete entries');
select tests.authenticate_as('adam');
select throws_ok($$ update public.audit_log set details = '{}' $$, '42501', null, 'a chat admin cannot update entries');
select throws_ok($$ delete from public.audit_log $$, '42501', null, 'a chat admin cannot delete entries');
select tests.authenticate_as('mona');
select throws_ok($$ delete from public.audit_log $$, '42501', null, 'a moderator cannot delete entries');
select tests.authenticate_as_service_role();
select throws_ok($$ update public.audit_log set details = '{}' $$, '42501', null, 'the service role cannot update entries');
select throws_ok($$ delete from public.audit_log $$, '42501', null, 'the service role cannot delete entries');
select throws_ok($$ truncate public.audit_log $$, '42501', null, 'the service role cannot truncate the log');
select tests.clear_authentication();
reset role;
select throws_ok($$ update public.audit_log set details = '{}' $$, '42501', 'the audit log is append-only',
  'the table owner cannot update entries (trigger)');
select throws_ok($$ delete from public.audit_log $$, '42501', 'the audit log is append-only',
  'the table owner cannot delete entries (trigger)');
select throws_ok($$ truncate public.audit_log $$, '42501', 'the audit log is append-only',
  'the table owner cannot truncate the log (trigger)');

select * from finish();
rollback;
