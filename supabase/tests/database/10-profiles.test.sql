-- Profiles and blocks: the profile created on sign-up, username rules, who may read and edit which profile
-- columns, and user_blocks (only the blocker sees and removes their blocks; the blocked user loses sight of the
-- blocker's profile).
begin;
create extension if not exists pgtap with schema extensions;
select plan(65);

-- personas --------------------------------------------------------------------------------------------------------
select tests.create_user('alice', null, '{"username": "alice", "display_name": "Alice Example"}');
select tests.create_user('bob');                                           -- username from the email: bob
select tests.create_user('alice_again', 'second@example.test', '{"username": "Alice"}');
select tests.create_user('shorty', 'x@example.test');                      -- local part too short
select tests.create_user('punct', 'punct@example.test', '{"username": "c@r0l!! x"}');
select tests.create_user('mallory');                                       -- the blocked persona
select tests.create_user('carol');

-- sign-up -----------------------------------------------------------------------------------------------------------
select results_eq(
  $$ select username, display_name from public.profiles where id = tests.get_user_id('alice') $$,
  $$ values ('alice'::text, 'Alice Example'::text) $$,
  'sign-up creates a profile with the username and display name from the user metadata');
select is((select username from public.profiles where id = tests.get_user_id('bob')), 'bob',
  'without a wish, the username is derived from the email');
select matches((select username from public.profiles where id = tests.get_user_id('alice_again')), '^Alice_[0-9a-f]{5}$',
  'a wish that is taken case-insensitively ("Alice" vs "alice") gets a unique derived username');
select is((select username from public.profiles where id = tests.get_user_id('shorty')), 'userx',
  'a derived username shorter than 3 characters is padded');
select is((select username from public.profiles where id = tests.get_user_id('punct')), 'cr0lx',
  'characters outside [A-Za-z0-9_] are dropped from the wish');
-- Behind the trigger's friendly check (which a concurrent rename could slip past), the unique index has the last word.
alter table public.profiles disable trigger profiles_check_update;
select throws_ok($$ update public.profiles set username = 'BOB' where id = tests.get_user_id('carol') $$,
  '23505', 'duplicate key value violates unique constraint "profiles_username_lower_key"',
  'the unique index refuses a username differing only in case');
alter table public.profiles enable trigger profiles_check_update;

-- A 24-character wish that keeps colliding must still yield a valid username (at most 32 characters). The random
-- suffixes are made predictable with setseed and taken in advance by other users.
select tests.create_user('long1', null, '{"username": "abcdefghijklmnopqrstuvwx"}');
select tests.create_user('long2');
select tests.create_user('long3');
select tests.create_user('long4');
select setseed(0.25);
update public.profiles set username = 'abcdefghijklmnopqrstuvwx_' || substr(md5(random()::text), 1, 5)
 where id = tests.get_user_id('long2');
update public.profiles set username = 'abcdefghijklmnopqrstuvwx_' || substr(md5(random()::text), 1, 6)
 where id = tests.get_user_id('long3');
update public.profiles set username = 'abcdefghijklmnopqrstuvwx_' || substr(md5(random()::text), 1, 7)
 where id = tests.get_user_id('long4');
select setseed(0.25);
select lives_ok($$ select tests.create_user('long5', null, '{"username": "abcdefghijklmnopqrstuvwx"}') $$,
  'sign-up succeeds after repeated username collisions');
select cmp_ok((select char_length(username) from public.profiles where id = tests.get_user_id('long5')), '<=', 32,
  'a derived username is at most 32 characters');

-- anon --------------------------------------------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok($$ select * from public.profiles $$, '42501', null, 'anon cannot read profiles');
select throws_ok($$ update public.profiles set bio = 'x' $$, '42501', null, 'anon cannot update profiles');
select throws_ok($$ insert into public.profiles (id, username) values (gen_random_uuid(), 'anon_user') $$, '42501', null,
  'anon cannot insert profiles');
select throws_ok($$ delete from public.profiles $$, '42501', null, 'anon cannot delete profiles');
select throws_ok($$ select * from public.user_blocks $$, '42501', null, 'anon cannot read blocks');
select throws_ok($$ delete from public.user_blocks $$, '42501', null, 'anon cannot delete blocks');
select throws_ok(
  format($$ insert into public.user_blocks (blocker_id, blocked_id) values (%L, %L) $$,
         tests.get_user_id('alice'), tests.get_user_id('bob')),
  '42501', null, 'anon cannot insert blocks');

-- reading and editing profiles --------------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select ok((select count(*) from public.profiles) >= 7, 'a signed-in user reads other users'' profiles');
select results_eq(
  $$ update public.profiles set display_name = 'Bobby', bio = 'hi', status = 'busy', status_text = 'at lunch',
       avatar_path = id::text || '/me.png'
      where id = auth.uid() returning display_name, bio, status::text, status_text $$,
  $$ values ('Bobby'::text, 'hi'::text, 'busy'::text, 'at lunch'::text) $$,
  'a user updates the editable columns of their own profile');
select is_empty(
  $$ update public.profiles set display_name = 'hacked' where id = tests.get_user_id('alice') returning 1 $$,
  'a user cannot update someone else''s profile');
select is_empty($$ update public.profiles set bio = 'hacked' where id <> auth.uid() returning 1 $$,
  'a blanket update touches no other profile');
select throws_ok($$ update public.profiles set id = gen_random_uuid() where id = auth.uid() $$,
  '42501', null, 'id cannot be changed (column privilege)');
select throws_ok($$ update public.profiles set created_at = now() - interval '1 year' where id = auth.uid() $$,
  '42501', null, 'created_at cannot be changed (column privilege)');
select throws_ok($$ update public.profiles set last_seen_at = now() where id = auth.uid() $$,
  '42501', null, 'last_seen_at cannot be changed directly (column privilege)');
select throws_ok($$ update public.profiles set updated_at = now() where id = auth.uid() $$,
  '42501', null, 'updated_at cannot be changed directly (column privilege)');
select throws_ok(
  format($$ insert into public.profiles (id, username) values (%L, 'sneaky') $$, tests.get_user_id('carol')),
  '42501', null, 'a user cannot insert profiles');
select throws_ok($$ delete from public.profiles where id = auth.uid() $$, '42501', null,
  'a user cannot delete profiles (not even their own)');
select throws_ok(
  format($$ update public.profiles set avatar_path = %L where id = auth.uid() $$, tests.get_user_id('alice') || '/a.png'),
  '22023', null, 'the avatar must be in the user''s own folder');

-- usernames
select throws_ok($$ update public.profiles set username = 'ab' where id = auth.uid() $$, '22023', null,
  'a username shorter than 3 characters is refused');
select throws_ok($$ update public.profiles set username = repeat('b', 33) where id = auth.uid() $$, '22023', null,
  'a username longer than 32 characters is refused');
select throws_ok($$ update public.profiles set username = 'bob smith' where id = auth.uid() $$, '22023', null,
  'a username with a space is refused');
select throws_ok($$ update public.profiles set username = 'böb' where id = auth.uid() $$, '22023', null,
  'a username with non-ASCII letters is refused');
select throws_ok($$ update public.profiles set username = 'alice' where id = auth.uid() $$, '23505', null,
  'a taken username is refused');
select throws_ok($$ update public.profiles set username = 'ALICE' where id = auth.uid() $$, '23505', null,
  'a taken username is refused regardless of case');
select is((select username from public.profiles where id = auth.uid()), 'bob', 'refused renames change nothing');
select lives_ok($$ update public.profiles set username = 'Bob' where id = auth.uid() $$,
  'a user may change the case of their own username');
select lives_ok($$ update public.profiles set username = 'bob_the_2nd' where id = auth.uid() $$,
  'a user may pick a free, valid username');
reset role;
select results_eq(
  $$ select username, display_name, bio from public.profiles where id in (tests.get_user_id('alice'), tests.get_user_id('bob'))
      order by username $$,
  $$ values ('alice'::text, 'Alice Example'::text, null::text), ('bob_the_2nd', 'Bobby', 'hi') $$,
  'only the allowed changes of bob''s own profile were stored');

-- blocks ------------------------------------------------------------------------------------------------------------
select tests.authenticate_as('alice');
select lives_ok(
  $$ insert into public.user_blocks (blocker_id, blocked_id) values (auth.uid(), tests.get_user_id('mallory')) $$,
  'a user blocks another user');
select results_eq($$ select blocked_id from public.user_blocks $$, $$ values (tests.get_user_id('mallory')) $$,
  'the blocker sees their block');
select ok(exists (select 1 from public.profiles where id = tests.get_user_id('mallory')),
  'the blocker still sees the blocked user''s profile');
select throws_ok($$ insert into public.user_blocks (blocker_id, blocked_id) values (auth.uid(), auth.uid()) $$,
  '22023', 'you cannot block yourself', 'a user cannot block themselves');
select lives_ok($$ insert into public.user_blocks (blocker_id, blocked_id) values (auth.uid(), tests.get_user_id('mallory')) $$,
  'blocking the same user again is a no-op');
select is((select count(*)::int from public.user_blocks), 1, 'a repeated block leaves one row');
select throws_ok($$ insert into public.user_blocks (blocker_id, blocked_id) values (auth.uid(), gen_random_uuid()) $$,
  'PT404', 'user not found', 'blocking an unknown user is refused');
select throws_ok($$ update public.user_blocks set created_at = now() $$, '42501', null, 'blocks cannot be updated');

select tests.authenticate_as('mallory');
select is_empty($$ select 1 from public.profiles where id = tests.get_user_id('alice') $$,
  'the blocked user cannot see the blocker''s profile');
select ok(exists (select 1 from public.profiles where id = tests.get_user_id('bob')),
  'the blocked user still sees other profiles');
select is_empty($$ select 1 from public.user_blocks $$, 'the blocked user cannot see the block');
select throws_ok(
  $$ insert into public.user_blocks (blocker_id, blocked_id) values (tests.get_user_id('alice'), tests.get_user_id('bob')) $$,
  '42501', null, 'a user cannot insert a block on behalf of someone else');
select is_empty($$ delete from public.user_blocks where blocker_id = tests.get_user_id('alice') returning 1 $$,
  'the blocked user cannot remove the block');
select lives_ok(
  $$ insert into public.user_blocks (blocker_id, blocked_id) values (auth.uid(), tests.get_user_id('alice')) $$,
  'the blocked user may block the blocker back');
select results_eq($$ select blocker_id, blocked_id from public.user_blocks $$,
  $$ values (tests.get_user_id('mallory'), tests.get_user_id('alice')) $$,
  'each user sees only the blocks they made');

select tests.authenticate_as('bob');
select is_empty($$ select 1 from public.user_blocks $$, 'a third user sees no one else''s blocks');
select is_empty($$ delete from public.user_blocks returning 1 $$, 'a third user cannot remove others'' blocks');
select ok(exists (select 1 from public.profiles where id = tests.get_user_id('alice'))
          and exists (select 1 from public.profiles where id = tests.get_user_id('mallory')),
  'a third user sees both profiles');

select tests.authenticate_as('alice');
select is_empty($$ select 1 from public.profiles where id = tests.get_user_id('mallory') $$,
  'once blocked back, the former blocker no longer sees the other profile either');
reset role;
select is((select count(*)::int from public.user_blocks), 2, 'refused block changes changed nothing');

-- unblock
select tests.authenticate_as('alice');
select results_eq(
  $$ delete from public.user_blocks where blocked_id = tests.get_user_id('mallory') returning blocked_id $$,
  $$ values (tests.get_user_id('mallory')) $$,
  'the blocker unblocks');
select is_empty($$ select 1 from public.user_blocks $$, 'the block is gone for the blocker');
select tests.authenticate_as('mallory');
select ok(exists (select 1 from public.profiles where id = tests.get_user_id('alice')),
  'once unblocked, the former blocker''s profile is visible again (the other user''s own block does not hide it)');
select tests.authenticate_as('alice');
select is_empty($$ select 1 from public.profiles where id = tests.get_user_id('mallory') $$,
  'the remaining block still hides its blocker');
select tests.authenticate_as('mallory');
select results_eq($$ delete from public.user_blocks where blocked_id = tests.get_user_id('alice') returning 1 $$,
  $$ values (1) $$, 'the other user unblocks too');
select tests.authenticate_as('alice');
select ok(exists (select 1 from public.profiles where id = tests.get_user_id('mallory')),
  'with no blocks left, both profiles are visible again');

-- service role -------------------------------------------------------------------------------------------------------
reset role;
insert into public.user_blocks (blocker_id, blocked_id) values (tests.get_user_id('carol'), tests.get_user_id('bob'));
select count(*) as all_profiles from public.profiles \gset
select tests.authenticate_as('bob');
select cmp_ok((select count(*) from public.profiles), '<', :all_profiles::bigint,
  'bob does not see the profiles of users who blocked him');
select tests.authenticate_as_service_role();
select is((select count(*) from public.profiles), :all_profiles::bigint,
  'the service role reads every profile');
select lives_ok($$ update public.profiles set last_seen_at = now() where id = tests.get_user_id('alice') $$,
  'the service role may set last_seen_at');
reset role;

select * from finish();
rollback;
