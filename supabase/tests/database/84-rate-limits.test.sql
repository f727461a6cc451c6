-- Rate limits and quotas (issue 18, item 2): edits, reactions, chat creation, member adds with the daily cap on
-- strangers (and the batch of groups full of strangers), invitations, invite links, uploads (files and bytes), the
-- report one-liner; the limit hit with PT429 and retry_after_seconds, nothing written by a refused call, the reset
-- after the window, an operator's change of a limit, and the tables closed to clients.
begin;
create extension if not exists pgtap with schema extensions;
select plan(53);

create temp table saved (name text primary key, value jsonb);
grant select, insert on saved to authenticated;

-- Ground truth past RLS: what a user used of an action in the current window.
create function pg_temp.used(who text, what text) returns bigint language sql security definer as $$
  select coalesce((select c.used from private.rate_counters c where c.user_id = tests.get_user_id(who) and c.action = what), 0)
$$;
-- Moves a user's window of an action back past its length, as time would.
create function pg_temp.age_window(who text, what text) returns void language sql security definer as $$
  update private.rate_counters c
     set window_started_at = now() - make_interval(secs => (select l.window_seconds + 1 from private.rate_limits l where l.action = what))
   where c.user_id = tests.get_user_id(who) and c.action = what
$$;
grant execute on function pg_temp.used(text, text), pg_temp.age_window(text, text) to authenticated;

select tests.create_user(u) from unnest(array['rl_owner', 'rl_friend', 'rl_react', 'rl_maker', 'rl_adder', 'rl_batch',
                                              'rl_inviter', 'rl_linker', 'rl_uploader', 'rl_reporter']) u;
select tests.create_group('team', 'rl_owner', members => array['rl_friend', 'rl_react', 'rl_inviter', 'rl_linker', 'rl_uploader'],
                          admins => array['rl_inviter', 'rl_linker'], title => 'Team');
select tests.send_message('owned', 'rl_owner', 'team', 'version 0');
select tests.forget_send_rate();

-- the limits table -----------------------------------------------------------------------------------------------
select is((select count(*)::int from private.rate_limits
            where action in ('send', 'edit', 'reaction', 'chat_create', 'member_add', 'invite', 'stranger_add',
                             'invite_link', 'report', 'upload', 'upload_bytes')), 11,
  'one table holds the limits of every write path');
select tests.authenticate_as('rl_owner');
select throws_ok($$ select * from private.rate_limits $$, '42501', null, 'clients cannot read the limits table');
select throws_ok($$ select * from private.rate_counters $$, '42501', null, 'clients cannot read the counters');
select throws_ok($$ update private.rate_limits set max_count = 1000000 $$, '42501', null, 'clients cannot raise a limit');
select throws_ok($$ delete from private.rate_counters $$, '42501', null, 'clients cannot reset their counters');
select throws_ok($$ select private.rate_limit('send') $$, '42501', null, 'clients cannot call the helper');

-- edits: 20 per minute --------------------------------------------------------------------------------------------
do $$ begin for i in 1..20 loop perform public.edit_message(tests.id('owned'), 'version ' || i); end loop; end $$;
insert into saved values ('edit', tests.error_of($$ select public.edit_message(tests.id('owned'), 'version 21') $$));
select is((select value ->> 'code' from saved where name = 'edit'), 'PT429', 'the 21st edit within a minute is refused');
select is((select value ->> 'message' from saved where name = 'edit'), 'editing too fast', 'the refusal names the action');
select is((select (value ->> 'detail')::jsonb from saved where name = 'edit'), '{"retry_after_seconds": 60}'::jsonb,
  'the detail says when to retry, as JSON');
select matches((select value ->> 'hint' from saved where name = 'edit'), 'At most 20 edits per 60 seconds; retry after 60 seconds',
  'the hint gives the limit and the wait');
select is((select body from public.messages where id = tests.id('owned')), 'version 20', 'the refused edit changed nothing');
select is(pg_temp.used('rl_owner', 'edit'), 20::bigint, 'the refused edit was not counted');
select pg_temp.age_window('rl_owner', 'edit');
select lives_ok($$ select public.edit_message(tests.id('owned'), 'next window') $$, 'after the window edits pass again');
select is(pg_temp.used('rl_owner', 'edit'), 1::bigint, 'the new window counts from one');

-- reactions: 30 toggles per 10 seconds, and an operator's change --------------------------------------------------
select tests.authenticate_as('rl_react');
do $$ begin for i in 1..30 loop perform public.toggle_reaction(tests.id('owned'), '👍'); end loop; end $$;
select throws_ok($$ select public.toggle_reaction(tests.id('owned'), '👍') $$, 'PT429', 'reacting too fast',
  'the 31st reaction toggle within 10 seconds is refused');
select is((select count(*)::int from public.message_reactions where message_id = tests.id('owned')), 0,
  '30 toggles left no reaction and the refused one added none');
reset role;
update private.rate_limits set max_count = 5 where action = 'reaction';
select pg_temp.age_window('rl_react', 'reaction');
select tests.authenticate_as('rl_react');
do $$ begin for i in 1..5 loop perform public.toggle_reaction(tests.id('owned'), '🎉'); end loop; end $$;
select throws_ok($$ select public.toggle_reaction(tests.id('owned'), '🎉') $$, 'PT429', 'reacting too fast',
  'an operator''s lower limit applies to the next call');
reset role;
update private.rate_limits set max_count = 50 where action = 'reaction';
select tests.authenticate_as('rl_react');
select lives_ok($$ select public.toggle_reaction(tests.id('owned'), '🎉') $$, 'and a raised limit lets the caller go on');

-- chat creation: 30 per hour, groups, channels and new direct chats together -----------------------------------------
select tests.authenticate_as('rl_maker');
do $$ begin
  for i in 1..15 loop perform public.create_group_chat('Group ' || i); end loop;
  for i in 1..14 loop perform public.create_channel('Channel ' || i); end loop;
end $$;
select lives_ok($$ select public.create_direct_chat(tests.get_user_id('rl_friend')) $$, 'a new direct chat is the 30th chat');
select lives_ok($$ select public.create_direct_chat(tests.get_user_id('rl_friend')) $$,
  'opening the same direct chat again creates nothing and is not counted');
select throws_ok($$ select public.create_group_chat('Group 31') $$, 'PT429', 'creating chats too fast',
  'the 31st group within an hour is refused');
select throws_ok($$ select public.create_channel('Channel 31') $$, 'PT429', 'creating chats too fast',
  'a channel counts against the same limit');
select is((select count(*)::int from public.chats where created_by = tests.get_user_id('rl_maker')), 30,
  'the refused creations made no chat');

-- member adds: the daily cap on strangers, and the batch case ------------------------------------------------------
reset role;
select tests.create_user('rl_s' || i) from generate_series(1, 300) i;
select tests.authenticate_as('rl_batch');
-- 25 groups of the same 100 strangers in one request: 2,500 adds, refused by the member_add limit (1,000 per hour).
insert into saved values ('same strangers', tests.error_of($$
  do $b$ begin
    for g in 1..25 loop
      perform public.create_group_chat('Spam ' || g, array(select tests.get_user_id('rl_s' || i) from generate_series(1, 100) i));
    end loop;
  end $b$ $$));
select is((select value ->> 'code' || ' ' || (value ->> 'message') from saved where name = 'same strangers'),
  'PT429 adding members too fast', '25 groups of 100 strangers in one request are refused');
select is((select count(*)::int from public.chats where created_by = tests.get_user_id('rl_batch')), 0,
  'and nothing of the batch stays');
-- 3 groups of 100 different strangers: the 201st stranger of the day is refused (stranger_add, 200 per day).
insert into saved values ('many strangers', tests.error_of($$
  do $b$ begin
    for g in 0..2 loop
      perform public.create_group_chat('Spam ' || g,
        array(select tests.get_user_id('rl_s' || i) from generate_series(g * 100 + 1, g * 100 + 100) i));
    end loop;
  end $b$ $$));
select is((select value ->> 'message' from saved where name = 'many strangers'), 'too many strangers added today',
  'the 201st stranger added in a day is refused');
select matches((select value ->> 'hint' from saved where name = 'many strangers'), 'At most 200 strangers per 86400 seconds',
  'the stranger cap is daily');

select tests.authenticate_as('rl_adder');
reset role;
update private.rate_limits set max_count = 2 where action = 'stranger_add';
select tests.authenticate_as('rl_adder');
select tests.remember('adders', c.id) from public.create_group_chat('Adders', array[tests.get_user_id('rl_s1'), tests.get_user_id('rl_s2')]) c;
select is(pg_temp.used('rl_adder', 'stranger_add'), 2::bigint, 'two strangers added at creation count two');
select throws_ok($$ select public.add_chat_members(tests.id('adders'), array[tests.get_user_id('rl_s3')]) $$,
  'PT429', 'too many strangers added today', 'a third stranger is refused under an operator''s cap of two');
select is((select count(*)::int from public.chat_members where chat_id = tests.id('adders')), 3,
  'the refused add added nobody');
select tests.remember('adders2', c.id) from public.create_group_chat('Adders 2') c;
select is(public.add_chat_members(tests.id('adders2'), array[tests.get_user_id('rl_s1'), tests.get_user_id('rl_s2')]), 2,
  'people who already share a chat with the adder are not strangers');
select is(pg_temp.used('rl_adder', 'stranger_add'), 2::bigint, 'and do not count against the cap');
select is(pg_temp.used('rl_adder', 'member_add'), 4::bigint, 'every add by someone else counts as a member add');
select pg_temp.age_window('rl_adder', 'stranger_add');
select is(public.add_chat_members(tests.id('adders'), array[tests.get_user_id('rl_s3')]), 1,
  'the next day strangers can be added again');
reset role;
update private.rate_limits set max_count = 200 where action = 'stranger_add';

-- invitations: counted, strangers too ----------------------------------------------------------------------------
update private.rate_limits set max_count = 2 where action = 'invite';
select tests.authenticate_as('rl_inviter');
select lives_ok($$ select public.invite_user(tests.id('team'), tests.get_user_id('rl_s10')) $$, 'a first invitation passes');
select lives_ok($$ select public.invite_user(tests.id('team'), tests.get_user_id('rl_s10')) $$,
  'repeating a pending invitation returns it and is not counted');
select lives_ok($$ select public.invite_user(tests.id('team'), tests.get_user_id('rl_s11')) $$, 'a second invitation passes');
select throws_ok($$ select public.invite_user(tests.id('team'), tests.get_user_id('rl_s12')) $$, 'PT429', 'inviting too fast',
  'the third invitation over an operator''s limit of two is refused');
select is(pg_temp.used('rl_inviter', 'stranger_add'), 2::bigint, 'invitations of strangers count against the stranger cap');
reset role;
update private.rate_limits set max_count = 100 where action = 'invite';

-- invite links: 20 per hour ----------------------------------------------------------------------------------------
select tests.authenticate_as('rl_linker');
do $$ begin for i in 1..20 loop perform public.create_invite_link(tests.id('team')); end loop; end $$;
select throws_ok($$ select public.create_invite_link(tests.id('team')) $$, 'PT429', 'creating invite links too fast',
  'the 21st invite link within an hour is refused');
select is((select count(*)::int from public.chat_invitations where created_by = tests.get_user_id('rl_linker') and token is not null),
  20, 'the refused link was not made');

-- uploads: files and bytes per day -------------------------------------------------------------------------------
reset role;
update private.rate_limits set max_count = 2 where action = 'upload';
update private.rate_limits set max_count = 10000 where action = 'upload_bytes';
select tests.upload_file('f1', 'rl_uploader', 'team', 'one.png', 'image/png', 4000);
select is(pg_temp.used('rl_uploader', 'upload'), 1::bigint, 'the final write of an upload counts one file');
select is(pg_temp.used('rl_uploader', 'upload_bytes'), 4000::bigint, 'and its stored size');
insert into saved values ('bytes', tests.error_of($$ select tests.upload_file('f2', 'rl_uploader', 'team', 'two.png', 'image/png', 7000) $$));
select is((select value ->> 'code' from saved where name = 'bytes'), '42501',
  'an upload past the daily bytes is refused at the permission probe (the code Storage passes on)');
select matches((select value ->> 'message' from saved where name = 'bytes'), '^upload quota reached; retry after [0-9]+ seconds$',
  'the message, the part Storage shows, says when to retry');
select tests.upload_file('f3', 'rl_uploader', 'team', 'three.png', 'image/png', 5000);
select throws_ok($$ select tests.upload_file('f4', 'rl_uploader', 'team', 'four.png', 'image/png', 10) $$, '42501', null,
  'the third file of the day is refused under an operator''s limit of two');
select is((select count(*)::int from public.attachments where uploader_id = tests.get_user_id('rl_uploader')), 2,
  'the refused files were not stored');
select pg_temp.age_window('rl_uploader', 'upload');
select pg_temp.age_window('rl_uploader', 'upload_bytes');
select lives_ok($$ select tests.upload_file('f5', 'rl_uploader', 'team', 'five.png', 'image/png', 9000) $$,
  'the next day uploads pass again');
update private.rate_limits set max_count = 200 where action = 'upload';
update private.rate_limits set max_count = 1073741824 where action = 'upload_bytes';

-- the one-liner for other write paths (reports) ----------------------------------------------------------------------
select tests.authenticate_as('rl_reporter');
reset role;  -- keeps the reporter's claims: what a security definer RPC sees
do $$ begin for i in 1..20 loop perform private.rate_limit('report'); end loop; end $$;
select throws_ok($$ select private.rate_limit('report') $$, 'PT429', 'reporting too fast',
  'private.rate_limit(''report'') refuses the 21st report of the caller within an hour');
select throws_ok($$ select private.rate_limit('no_such_action') $$, '42704', null, 'an unknown action is a programming error');
select tests.authenticate_as('rl_reporter');
select throws_ok(format($$ select public.report_content('user', %L, 'spam') $$, tests.get_user_id('rl_owner')), 'PT429',
  'reporting too fast', 'report_content counts against the report limit: the 21st report within an hour is refused');
reset role;
select is((select count(*)::int from public.reports r where r.reporter_id = tests.get_user_id('rl_reporter')), 0,
  'the refused report wrote nothing');
select tests.authenticate_as_service_role();
reset role;
select lives_ok($$ select private.rate_limit('report') $$, 'calls without a user (service role, jobs) are not limited');

select * from finish();
rollback;
