// The naive Supabase chat: what a Supabase user builds from the docs and tutorials instead of this project, used by
// `npm run bench` as the fair anchor of every send row. A rooms table, its members, and a messages table that clients
// insert into directly with supabase-js (`from('messages').insert(...)`), guarded by an RLS insert policy (the author
// is auth.uid() and a member of the room), with an AFTER INSERT trigger that broadcasts the new row with
// realtime.send to the room's private topic. No sequence, no idempotency, no read state, no event log, no blocks,
// no rate limit: the least a working private chat on Supabase does.
// It lives in its own schema of the bench database, with the same chats and memberships as public.chats /
// public.chat_members, and is measured through the same request context and the same clients as send_message.
import type postgres from "postgres";

export const NAIVE_SCHEMA = "bench_naive";

/** (Re)creates the naive chat with the memberships of the bench data set. */
export async function createNaiveChat(admin: postgres.Sql): Promise<void> {
  await admin.unsafe(`
    drop schema if exists bench_naive cascade;
    create schema bench_naive;
    grant usage on schema bench_naive to authenticated;

    create table bench_naive.rooms (
      id uuid primary key default gen_random_uuid(),
      name text,
      created_at timestamptz not null default now()
    );
    create table bench_naive.room_members (
      room_id uuid not null references bench_naive.rooms (id) on delete cascade,
      user_id uuid not null references auth.users (id) on delete cascade,
      primary key (room_id, user_id)
    );
    create index room_members_user_id_idx on bench_naive.room_members (user_id);
    create table bench_naive.messages (
      id bigint generated always as identity primary key,
      room_id uuid not null references bench_naive.rooms (id) on delete cascade,
      author_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
      body text not null check (char_length(body) <= 4000),
      created_at timestamptz not null default now()
    );
    create index messages_room_id_created_at_idx on bench_naive.messages (room_id, created_at);
    create index messages_author_id_idx on bench_naive.messages (author_id);

    revoke all on bench_naive.rooms, bench_naive.room_members, bench_naive.messages from anon, authenticated;
    grant select on bench_naive.rooms, bench_naive.room_members to authenticated;
    grant select, insert on bench_naive.messages to authenticated;

    alter table bench_naive.rooms enable row level security;
    alter table bench_naive.room_members enable row level security;
    alter table bench_naive.messages enable row level security;

    create policy "members can see their rooms" on bench_naive.rooms for select to authenticated
      using (exists (select 1 from bench_naive.room_members m where m.room_id = rooms.id and m.user_id = (select auth.uid())));
    create policy "users can see their memberships" on bench_naive.room_members for select to authenticated
      using (user_id = (select auth.uid()));
    create policy "members can read messages" on bench_naive.messages for select to authenticated
      using (exists (select 1 from bench_naive.room_members m where m.room_id = messages.room_id and m.user_id = (select auth.uid())));
    create policy "members can send messages as themselves" on bench_naive.messages for insert to authenticated
      with check (author_id = (select auth.uid())
                  and exists (select 1 from bench_naive.room_members m where m.room_id = messages.room_id and m.user_id = (select auth.uid())));

    create function bench_naive.broadcast_message() returns trigger
    language plpgsql
    security definer
    set search_path = ''
    as $fn$
    begin
      perform realtime.send(to_jsonb(new), 'INSERT', 'room:' || new.room_id::text, true);
      return null;
    end
    $fn$;
    create trigger messages_broadcast after insert on bench_naive.messages
      for each row execute function bench_naive.broadcast_message();

    insert into bench_naive.rooms (id, name, created_at) select id, title, created_at from public.chats;
    insert into bench_naive.room_members (room_id, user_id) select chat_id, user_id from public.chat_members;
    analyze bench_naive.rooms, bench_naive.room_members;`);
}

/** One naive send as supabase-js makes it: an insert through PostgREST (return=minimal) in the caller's request. */
export function naiveInsert(tx: postgres.TransactionSql, roomId: string, body: string): Promise<unknown> {
  return tx`insert into bench_naive.messages (room_id, body) values (${roomId}::uuid, ${body})`;
}
