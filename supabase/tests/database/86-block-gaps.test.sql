-- Blocks (issue 18, item 3): in the direct chat between a blocker and the blocked user neither can edit, react, pin or
-- type any more; the blocked user cannot walk into the blocker's groups through a link or discovery. Everyone else
-- keeps their rights.
begin;
create extension if not exists pgtap with schema extensions;
select plan(22);

select tests.create_user(u) from unnest(array['bg_blocker', 'bg_blocked', 'bg_third']) u;
select tests.create_direct('dm', 'bg_blocker', 'bg_blocked');
select tests.send_message('from_blocked', 'bg_blocked', 'dm', 'hello');
select tests.send_message('from_blocker', 'bg_blocker', 'dm', 'hi');
select tests.create_group('run', 'bg_blocker', title => 'Run by the blocker');
select tests.create_invite_link('link', 'bg_blocker', 'run');
select tests.create_channel('news', 'bg_blocker', title => 'Blocker news');
select tests.create_group('other', 'bg_third', members => array['bg_blocker'], title => 'Someone else''s');
select tests.create_invite_link('other_link', 'bg_third', 'other');
select tests.create_channel('third_news', 'bg_third', title => 'Third news');

-- before the block everything works
select tests.authenticate_as('bg_blocked');
select ok(tests.realtime_can_write('chat:' || tests.id('dm') || ':typing', 'broadcast'), 'before a block both may type');

reset role;
select tests.create_block('bg_blocker', 'bg_blocked');

-- the blocked user in the direct chat -----------------------------------------------------------------------------
select tests.authenticate_as('bg_blocked');
select throws_ok($$ select public.edit_message(tests.id('from_blocked'), 'edited after the block') $$, '42501',
  'cannot act in this chat', 'the blocked user cannot edit their message in the direct chat');
select throws_ok($$ select public.toggle_reaction(tests.id('from_blocker'), '👍') $$, '42501', 'cannot act in this chat',
  'nor react');
select throws_ok($$ select public.pin_message(tests.id('from_blocker')) $$, '42501', 'cannot act in this chat', 'nor pin');
select ok(not tests.realtime_can_write('chat:' || tests.id('dm') || ':typing', 'broadcast'), 'nor type');
select ok(not tests.realtime_can_write('chat:' || tests.id('dm') || ':typing', 'presence'), 'nor track presence there');
select is((select body from public.messages where id = tests.id('from_blocked')), 'hello', 'the refused edit changed nothing');
select is((select reaction_counts from public.messages where id = tests.id('from_blocker')), '{}'::jsonb,
  'the refused reaction added nothing');

-- the blocker too: a block closes the conversation both ways ----------------------------------------------------------
select tests.authenticate_as('bg_blocker');
select throws_ok($$ select public.edit_message(tests.id('from_blocker'), 'edited') $$, '42501', 'cannot act in this chat',
  'the blocker cannot edit in the direct chat either');
select throws_ok($$ select public.toggle_reaction(tests.id('from_blocked'), '👍') $$, '42501', 'cannot act in this chat',
  'nor react');
select throws_ok($$ select public.pin_message(tests.id('from_blocked')) $$, '42501', 'cannot act in this chat', 'nor pin');
select ok(not tests.realtime_can_write('chat:' || tests.id('dm') || ':typing', 'broadcast'), 'nor type');
select ok(tests.realtime_can_read('chat:' || tests.id('dm'), 'broadcast'), 'both still read their history');

-- links and discovery ------------------------------------------------------------------------------------------------
select tests.authenticate_as('bg_blocked');
select throws_ok(format('select public.accept_invite_link(%L)', tests.token('link')), '42501', 'cannot join this chat',
  'the blocked user cannot join the blocker''s group through a link');
select is(tests.role_of('run', 'bg_blocked'), null, 'and is not a member');
reset role;
select is((select use_count from public.chat_invitations where id = tests.id('link')), 0, 'the link lost no use');
select tests.authenticate_as('bg_blocked');
select throws_ok($$ select public.join_chat(tests.id('news')) $$, '42501', 'cannot join this chat',
  'nor join the blocker''s discoverable channel');
select lives_ok(format('select public.accept_invite_link(%L)', tests.token('other_link')),
  'a group someone else runs stays open, even with the blocker in it');
select lives_ok($$ select public.join_chat(tests.id('third_news')) $$, 'and so do others'' channels');
select tests.authenticate_as('bg_third');
select lives_ok($$ select public.join_chat(tests.id('news')) $$, 'users the blocker did not block join as before');

-- after an unblock everything works again ------------------------------------------------------------------------
reset role;
delete from public.user_blocks where blocker_id = tests.get_user_id('bg_blocker');
select tests.authenticate_as('bg_blocked');
select lives_ok($$ select public.edit_message(tests.id('from_blocked'), 'edited after the unblock') $$, 'an unblock restores edits');
select lives_ok($$ select public.join_chat(tests.id('news')) $$, 'and joining');

select * from finish();
rollback;
