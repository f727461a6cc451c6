-- Benchmark data generator: a realistic chat dataset built set-based in SQL (bench databases only, never a
-- product database). `call bench.generate('{...}')` fills an empty migrated database; every step commits and
-- prints a progress notice with its timing.
--
-- The shape:
-- * users (through auth.users, so the profile trigger creates profiles exactly as a sign-up does);
-- * direct chats between random pairs, groups of skewed size (3 to ~200 members);
-- * one channel with `channel_members` members (owner + `channel_admins` admins who post, the rest read);
-- * one hot group with `hot_members` members (the group maximum, 1000) where everyone posts;
-- * one deep group holding `deep_messages` messages (history depth benchmarks);
-- * a hub user who is a member of `hub_chats` chats (chat list benchmark);
-- * the remaining messages spread over chats by a Zipf-like law (a few chats hold most messages);
-- * reactions on a fraction of messages, a few soft-deleted tombstones, read cursors mostly caught up.
--
-- Triggers (including foreign-key triggers) are bypassed with session_replication_role = replica where a per-row
-- trigger would make the load quadratic (member_count), so every derived value is computed here instead:
-- per-chat seq gap-free from 1, chats.last_message_seq/last_message_at/member_count, each member's read cursor at
-- least at their own newest message (a send moves it there), reaction_counts equal to message_reactions.
-- bench.check_consistency() (02_check.sql) proves it after generation.

create schema if not exists bench;
revoke all on schema bench from public, anon, authenticated, service_role;

create table if not exists bench.meta (
  key text primary key,
  value jsonb not null
);

-- ord -> id of generated users (ord 1 is the hub user).
create table if not exists bench.users (
  ord integer primary key,
  id uuid not null unique
);

-- Named chats the benchmarks use.
create table if not exists bench.chats (
  role text primary key,
  chat_id uuid not null
);

create or replace function bench.progress(step text, started timestamptz) returns void
language plpgsql
as $$
begin
  raise notice '[bench] % (% s)', step, round(extract(epoch from clock_timestamp() - started)::numeric, 1);
end
$$;

create or replace procedure bench.generate(params jsonb)
language plpgsql
as $$
declare
  n_users integer := (params ->> 'users')::integer;
  n_direct integer := (params ->> 'direct_chats')::integer;
  n_groups integer := (params ->> 'groups')::integer;
  channel_members integer := (params ->> 'channel_members')::integer;
  channel_admins integer := (params ->> 'channel_admins')::integer;
  hot_members integer := (params ->> 'hot_members')::integer;
  deep_members integer := (params ->> 'deep_members')::integer;
  hub_chats integer := (params ->> 'hub_chats')::integer;
  n_messages bigint := (params ->> 'messages')::bigint;
  deep_messages bigint := (params ->> 'deep_messages')::bigint;
  channel_messages bigint := (params ->> 'channel_messages')::bigint;
  hot_messages bigint := (params ->> 'hot_messages')::bigint;
  reaction_rate double precision := coalesce((params ->> 'reaction_rate')::double precision, 0.05);
  deleted_rate double precision := coalesce((params ->> 'deleted_rate')::double precision, 0.005);
  t0 timestamptz := clock_timestamp();
  t timestamptz;
  hub_direct integer;
  hub_groups integer;
  rest bigint;
  total_weight double precision;
  channel_id uuid;
  hot_id uuid;
  deep_id uuid;
begin
  if exists (select 1 from public.messages limit 1) or exists (select 1 from public.profiles limit 1) then
    raise exception 'bench.generate needs an empty database' using errcode = '55000';
  end if;
  if n_users < greatest(channel_members, hot_members, hub_chats) + 2 then
    raise exception 'users must exceed channel_members, hot_members and hub_chats' using errcode = '22023';
  end if;
  perform setseed(coalesce((params ->> 'seed')::double precision, 0.42));
  perform set_config('max_parallel_workers_per_gather', '0', false);
  delete from bench.meta;
  delete from bench.users;
  delete from bench.chats;

  -- users ------------------------------------------------------------------------------------------------------
  t := clock_timestamp();
  insert into bench.users (ord, id) select g, gen_random_uuid() from generate_series(1, n_users) g;
  insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                          raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
  select '00000000-0000-0000-0000-000000000000', u.id, 'authenticated', 'authenticated',
         format('user%s@bench.test', u.ord), '', now() - interval '400 days',
         '{"provider": "email", "providers": ["email"]}',
         jsonb_build_object('username', 'user' || u.ord, 'display_name', 'User ' || u.ord),
         now() - interval '400 days', now() - interval '400 days'
    from bench.users u order by u.ord;
  commit;
  perform bench.progress(format('%s users and profiles', n_users), t);

  set session_replication_role = replica;

  -- chats ------------------------------------------------------------------------------------------------------
  t := clock_timestamp();
  create temporary table gen_chats (
    n integer primary key,
    id uuid not null,
    kind public.chat_kind not null,
    weight double precision not null default 0,
    messages bigint not null default 0,
    created_at timestamptz not null
  ) on commit preserve rows;
  create temporary table gen_members (
    chat_n integer not null,
    user_ord integer not null,
    role public.chat_role not null,
    ord integer,
    primary key (chat_n, user_ord)
  ) on commit preserve rows;

  -- Special chats: 1 = channel, 2 = hot group, 3 = deep group.
  insert into gen_chats (n, id, kind, created_at) values
    (1, gen_random_uuid(), 'channel', now() - interval '365 days'),
    (2, gen_random_uuid(), 'group', now() - interval '365 days'),
    (3, gen_random_uuid(), 'group', now() - interval '365 days');
  -- Channel: owner user 1 (the hub), admins 2..channel_admins+1, members the next ones.
  insert into gen_members (chat_n, user_ord, role)
  select 1, g, case when g = 1 then 'owner' when g <= channel_admins + 1 then 'admin' else 'member' end::public.chat_role
    from generate_series(1, channel_members) g;
  -- Hot group: the hub owns it; users taken from the top of the range so it overlaps the channel only partly.
  insert into gen_members (chat_n, user_ord, role)
  select 2, case when g = 1 then 1 else n_users - g + 2 end, case when g = 1 then 'owner' else 'member' end::public.chat_role
    from generate_series(1, hot_members) g;
  insert into gen_members (chat_n, user_ord, role)
  select 3, case when g = 1 then 1 else 1 + (g * 37) % (n_users - 1) + 1 end,
         case when g = 1 then 'owner' else 'member' end::public.chat_role
    from generate_series(1, deep_members) g
  on conflict do nothing;

  -- The hub's other chats: about 60 % direct, 40 % groups.
  hub_direct := ((hub_chats - 3) * 0.6)::integer;
  hub_groups := hub_chats - 3 - hub_direct;

  -- Direct chats: the hub with users 2..hub_direct+1, the rest random pairs of other users (distinct pairs).
  insert into gen_chats (n, id, kind, created_at)
  select 3 + g, gen_random_uuid(), 'direct', now() - (random() * interval '360 days') from generate_series(1, n_direct) g;
  insert into gen_members (chat_n, user_ord, role)
  select 3 + g, 1, 'member'::public.chat_role from generate_series(1, hub_direct) g
  union all
  select 3 + g, g + 1, 'member'::public.chat_role from generate_series(1, hub_direct) g;
  create temporary table gen_pairs on commit drop as
  select distinct on (least(a, b), greatest(a, b)) a, b
    from (select 2 + floor(random() * (n_users - 1))::integer as a, 2 + floor(random() * (n_users - 1))::integer as b
            from generate_series(1, (n_direct - hub_direct) * 11 / 10 + 10)) p
   where a <> b and a <= n_users and b <= n_users
     and not (least(a, b) = 1);
  insert into gen_members (chat_n, user_ord, role)
  select 3 + hub_direct + rn, x.u, 'member'::public.chat_role
    from (select row_number() over () as rn, a, b from gen_pairs) p
   cross join lateral (values (p.a), (p.b)) x(u)
   where rn <= n_direct - hub_direct;
  -- Direct chats without a pair (if random pairs ran short) are dropped.
  delete from gen_chats c where c.kind = 'direct' and not exists (select 1 from gen_members m where m.chat_n = c.n);

  -- Groups: skewed sizes (most small, a few up to ~200); the hub is in the first hub_groups of them.
  insert into gen_chats (n, id, kind, created_at)
  select 3 + n_direct + g, gen_random_uuid(), 'group', now() - (random() * interval '360 days') from generate_series(1, n_groups) g;
  insert into gen_members (chat_n, user_ord, role)
  select distinct on (chat_n, user_ord) chat_n, user_ord, 'member'::public.chat_role
    from (select 3 + n_direct + g as chat_n, 2 + floor(random() * (n_users - 1))::integer as user_ord
            from generate_series(1, n_groups) g
           cross join lateral generate_series(1, 3 + floor(power(random(), 4) * 200)::integer + (g * 0)) s) x
   where user_ord <= n_users
  on conflict do nothing;
  insert into gen_members (chat_n, user_ord, role)
  select 3 + n_direct + g, 1, 'member'::public.chat_role from generate_series(1, least(hub_groups, n_groups)) g
  on conflict do nothing;
  -- Owner of each group: its lowest user ord (the hub where it is a member of the hub's groups).
  update gen_members m set role = 'owner'
    from (select chat_n, min(user_ord) as owner from gen_members where chat_n > 3 + n_direct group by chat_n) o
   where m.chat_n = o.chat_n and m.user_ord = o.owner;
  -- Posting order within each chat: channel admins first (only they post there).
  update gen_members m set ord = x.ord
    from (select chat_n, user_ord, row_number() over (partition by chat_n order by private.role_rank(role) desc, user_ord)::integer as ord
            from gen_members) x
   where m.chat_n = x.chat_n and m.user_ord = x.user_ord;
  create index on gen_members (chat_n, ord);
  analyze gen_chats;
  analyze gen_members;
  commit;
  perform bench.progress(format('%s chats, %s memberships planned', (select count(*) from gen_chats), (select count(*) from gen_members)), t);

  -- message counts per chat ------------------------------------------------------------------------------------
  t := clock_timestamp();
  update gen_chats set messages = deep_messages where n = 3;
  update gen_chats set messages = channel_messages where n = 1;
  update gen_chats set messages = hot_messages where n = 2;
  rest := greatest(n_messages - deep_messages - channel_messages - hot_messages, 0);
  -- Zipf-like: the chat at random rank r gets weight 1 / r^0.9; a quarter of the chats stay silent.
  update gen_chats c set weight = case when random() < 0.25 then 0 else 1.0 / power(r.rank, 0.9) end
    from (select n, row_number() over (order by random()) as rank from gen_chats where n > 3) r
   where c.n = r.n;
  select sum(weight) into total_weight from gen_chats where n > 3;
  update gen_chats set messages = floor(rest * weight / total_weight) where n > 3;
  -- Rounding leftovers go to the busiest chat so the total is exact.
  update gen_chats set messages = messages + (n_messages - (select sum(messages) from gen_chats))
   where n = (select n from gen_chats where n > 3 order by weight desc limit 1);
  commit;
  perform bench.progress(format('%s messages distributed over chats', (select sum(messages) from gen_chats)), t);

  -- chats and members ------------------------------------------------------------------------------------------
  t := clock_timestamp();
  insert into public.chats (id, kind, title, description, who_can_post, discoverable, direct_key, created_by, member_count,
                            last_message_seq, last_message_at, last_activity_at, created_at, updated_at)
  select c.id, c.kind,
         case c.n when 1 then 'Announcements' when 2 then 'Hot group' when 3 then 'Deep history'
                  else case when c.kind = 'direct' then null else 'Group ' || c.n end end,
         null,
         case when c.kind = 'channel' then 'admins' else 'members' end::public.post_permission,
         c.kind = 'channel',
         case when c.kind = 'direct' then (select least(u1.id::text, u2.id::text) || ':' || greatest(u1.id::text, u2.id::text)
                                            from gen_members m1 join bench.users u1 on u1.ord = m1.user_ord
                                            join gen_members m2 on m2.chat_n = m1.chat_n and m2.user_ord > m1.user_ord
                                            join bench.users u2 on u2.ord = m2.user_ord
                                           where m1.chat_n = c.n) end,
         (select u.id from gen_members m join bench.users u on u.ord = m.user_ord where m.chat_n = c.n order by m.ord limit 1),
         (select count(*) from gen_members m where m.chat_n = c.n),
         c.messages,
         null, c.created_at, c.created_at, c.created_at
    from gen_chats c;
  insert into public.chat_members (chat_id, user_id, role, joined_at, history_from_seq, last_read_seq, notification_level)
  select c.id, u.id, m.role, c.created_at, 0, 0, 'all'
    from gen_members m join gen_chats c on c.n = m.chat_n join bench.users u on u.ord = m.user_ord;
  insert into bench.chats (role, chat_id)
  select case n when 1 then 'channel' when 2 then 'hot' else 'deep' end, id from gen_chats where n <= 3;
  commit;
  perform bench.progress(format('%s chats, %s members inserted', (select count(*) from public.chats),
                             (select count(*) from public.chat_members)), t);

  -- messages ---------------------------------------------------------------------------------------------------
  -- created_at grows with seq inside a chat: spread from the chat's creation to a minute ago, with a bias towards
  -- recent activity. Authors: a random member who may post (channels: owner and admins).
  t := clock_timestamp();
  create temporary table gen_posters on commit preserve rows as
  select c.n, c.id, c.messages, c.created_at,
         case when c.kind = 'channel' then (select count(*) from gen_members m where m.chat_n = c.n and m.role <> 'member')
              else (select count(*) from gen_members m where m.chat_n = c.n) end::integer as posters
    from gen_chats c where c.messages > 0;
  insert into public.messages (chat_id, seq, author_id, kind, body, metadata, mentions, reaction_counts, created_at)
  select p.id, p.seq, u.id, 'text',
         coalesce(nullif(btrim(substr('Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor '
                                      'incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud '
                                      'exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure '
                                      'dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur.',
                                      1 + (p.seq % 97)::integer, 4 + floor(power(random(), 3) * 300)::integer)), ''), 'ok'),
         '{}', '{}', '{}',
         p.created_at + (now() - interval '1 minute' - p.created_at) * sqrt(p.seq::double precision / p.messages)
    from (select p.n, p.id, p.messages, p.created_at, s.seq, 1 + floor(random() * p.posters)::integer as author_ord
            from gen_posters p
           cross join lateral generate_series(1::bigint, p.messages) s(seq)
          offset 0) p
    join gen_members m on m.chat_n = p.n and m.ord = p.author_ord
    join bench.users u on u.ord = m.user_ord;
  commit;
  perform bench.progress(format('%s messages inserted', n_messages), t);

  t := clock_timestamp();
  update public.chats c set last_message_at = m.created_at, last_activity_at = m.created_at
    from public.messages m where m.chat_id = c.id and m.seq = c.last_message_seq and c.last_message_seq > 0;
  commit;
  perform bench.progress('chat activity cursors', t);

  -- tombstones and reactions -----------------------------------------------------------------------------------
  t := clock_timestamp();
  update public.messages m set body = null, deleted_at = m.created_at + interval '1 minute', deleted_by = m.author_id
   where random() < deleted_rate;
  commit;
  perform bench.progress('soft-deleted messages', t);

  t := clock_timestamp();
  insert into public.message_reactions (message_id, user_id, emoji, chat_id, created_at)
  select distinct on (x.message_id, u.id, x.emoji) x.message_id, u.id, x.emoji, x.chat_id, x.created_at
    from (select m.id as message_id, m.chat_id, m.created_at + interval '2 minutes' as created_at, p.n,
                 (array['👍', '❤️', '😂', '🎉', '😮', '🙏'])[1 + floor(power(random(), 2) * 6)::integer] as emoji,
                 1 + floor(random() * mc.member_count)::integer as member_ord
            from public.messages m
            join gen_posters p on p.id = m.chat_id
            join public.chats mc on mc.id = m.chat_id
           cross join lateral generate_series(1, 1 + floor(power(random(), 3) * 5)::integer + (m.seq * 0)::integer) r
           where m.deleted_at is null and random() < reaction_rate
          offset 0) x
    join gen_members gm on gm.chat_n = x.n and gm.ord = x.member_ord
    join bench.users u on u.ord = gm.user_ord;
  update public.messages m set reaction_counts = r.counts
    from (select message_id, jsonb_object_agg(emoji, n) as counts
            from (select message_id, emoji, count(*) as n from public.message_reactions group by 1, 2) e
           group by message_id) r
   where m.id = r.message_id;
  commit;
  perform bench.progress(format('%s reactions', (select count(*) from public.message_reactions)), t);

  -- read state -------------------------------------------------------------------------------------------------
  -- A member has read at least up to their own newest message (a send moves the cursor there); beyond that 65 %
  -- are caught up, 25 % a few messages behind and 10 % far behind.
  t := clock_timestamp();
  create temporary table gen_own on commit drop as
  select chat_id, author_id, max(seq) as seq, max(created_at) as at from public.messages group by 1, 2;
  create index on gen_own (chat_id, author_id);
  analyze gen_own;
  update public.chat_members cm
     set last_read_seq = s.read_seq,
         last_read_at = case when s.read_seq > 0 then coalesce(greatest(s.own_at, s.last_message_at), s.own_at) end,
         last_posted_at = s.own_at
    from (select x.chat_id, x.user_id, x.own_at, x.last_message_at,
                 greatest(x.own_seq, case when x.r < 0.65 then x.last_seq
                                          when x.r < 0.90 then greatest(x.last_seq - 1 - floor(random() * 20)::bigint, 0)
                                          else floor(random() * x.last_seq)::bigint end) as read_seq
            from (select m.chat_id, m.user_id, c.last_message_seq as last_seq, c.last_message_at,
                         coalesce(o.seq, 0) as own_seq, o.at as own_at, random() as r
                    from public.chat_members m
                    join public.chats c on c.id = m.chat_id
                    left join gen_own o on o.chat_id = m.chat_id and o.author_id = m.user_id
                  offset 0) x) s
   where cm.chat_id = s.chat_id and cm.user_id = s.user_id;
  commit;
  perform bench.progress('read cursors', t);

  set session_replication_role = origin;
  drop table if exists gen_posters;
  drop table if exists gen_members;
  drop table if exists gen_chats;

  insert into bench.meta (key, value) values
    ('params', params),
    ('generated_at', to_jsonb(now())),
    ('seconds', to_jsonb(extract(epoch from clock_timestamp() - t0)));
  commit;

  t := clock_timestamp();
  analyze;
  perform bench.progress('analyze', t);
  perform bench.progress('generation done', t0);
end
$$;
