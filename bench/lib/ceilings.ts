// The ceilings of a send into one chat, for the one-chat workloads of `npm run bench` and for bench/hot-chat-sweep.ts.
// Both are one statement in the caller's request context (role, claims, one transaction), as a request through
// PostgREST is, and both take a per-chat counter row's lock and hold it to the commit, as send_message holds the chat
// row, so they pay the same turn (the counter update to the end of the commit, the client's COMMIT included):
//   serialized  the cheapest gap-free send: the counter update and a bare insert of the message (no RLS, triggers,
//               foreign keys or other indexes), one statement;
//   contract    the writes the event contract asks of a send (docs/realtime.md) and nothing else: the counter row
//               (seq and cursor), the message into a copy of public.messages with its indexes, the sender's read
//               cursor into a copy of chat_members, the event log row into a copy of private.chat_events, and the
//               broadcast through realtime.send; no checks, no triggers, no notifications, no search queue.
import type postgres from "postgres";

/** (Re)creates the ceiling tables and functions of bench_base for the given chats (their counters and members). */
export async function createCeilings(admin: postgres.Sql, chatIds: string[]): Promise<void> {
  await admin.unsafe(`
    create schema if not exists bench_base;
    drop function if exists bench_base.contract_send(uuid, text);
    drop table if exists bench_base.serialized_messages, bench_base.chat_counters,
      bench_base.contract_messages, bench_base.contract_events, bench_base.contract_members;
    create table bench_base.chat_counters (chat_id uuid primary key, seq bigint not null default 0, cursor bigint not null default 0);
    create table bench_base.serialized_messages (like public.messages including defaults);
    alter table bench_base.serialized_messages add primary key (id), add unique (chat_id, seq);
    create table bench_base.contract_messages (like public.messages including defaults including indexes including constraints);
    create table bench_base.contract_events (like private.chat_events including defaults including indexes including constraints);
    create table bench_base.contract_members (like public.chat_members including defaults including indexes including constraints);
    grant usage on schema bench_base to authenticated;
    grant select, update on bench_base.chat_counters to authenticated;
    grant insert on bench_base.serialized_messages to authenticated;

    create function bench_base.contract_send(chat uuid, body text) returns uuid
    language plpgsql
    security definer
    set search_path = ''
    as $fn$
    declare
      me uuid := auth.uid();
      k bench_base.chat_counters;
      msg bench_base.contract_messages;
    begin
      update bench_base.chat_counters c set seq = c.seq + 1, cursor = c.cursor + 1 where c.chat_id = chat returning * into k;
      insert into bench_base.contract_messages (chat_id, seq, author_id, kind, body, client_id)
      values (chat, k.seq, me, 'text', contract_send.body, gen_random_uuid()) returning * into msg;
      update bench_base.contract_members m set last_read_seq = msg.seq, last_read_at = msg.created_at, last_posted_at = msg.created_at
       where m.chat_id = chat and m.user_id = me;
      insert into bench_base.contract_events (chat_id, seq, event, actor_id, message_id, message_seq)
      values (chat, k.cursor, 'message.sent', me, msg.id, msg.seq);
      perform realtime.send(jsonb_build_object('chat_id', chat, 'cursor', k.cursor, 'actor_id', me, 'at', now(),
                              'data', jsonb_build_object('message_id', msg.id, 'message_seq', msg.seq)),
                            'message.sent', 'chat:' || chat::text, true);
      return msg.id;
    end
    $fn$;
    revoke all on function bench_base.contract_send(uuid, text) from public;
    grant execute on function bench_base.contract_send(uuid, text) to authenticated;`);
  await admin`insert into bench_base.chat_counters (chat_id) select unnest(${chatIds}::uuid[])`;
  await admin`insert into bench_base.contract_members select * from public.chat_members where chat_id = any(${chatIds}::uuid[])`;
  await admin`analyze bench_base.chat_counters, bench_base.contract_members`;
}

/** The serialized insert as one statement (SQL text with $1 chat, $2 author, $3 body). */
export const SERIALIZED_SQL = `
  with c as (update bench_base.chat_counters set seq = seq + 1 where chat_id = $1::uuid returning seq)
  insert into bench_base.serialized_messages (chat_id, seq, author_id, kind, body, client_id)
  select $1::uuid, c.seq, $2::uuid, 'text', $3, gen_random_uuid() from c`;

/** The contract's writes as one call (SQL text with $1 chat, $2 body). */
export const CONTRACT_SQL = `select bench_base.contract_send($1::uuid, $2)`;
