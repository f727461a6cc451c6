// The ceilings of a send into one chat, for the one-chat workloads of `npm run bench` and for bench/hot-chat-sweep.ts.
// Both are one statement in the caller's request context (role, claims, one transaction), as a request through
// PostgREST is, and both take a per-chat counter row's lock and hold it to the commit, as send_message holds the chat
// row, so they pay the same turn (the counter update to the end of the commit, the client's COMMIT included):
//   serialized  the cheapest gap-free send: the counter update and a bare insert of the message (no RLS, triggers,
//               foreign keys or other indexes), one statement;
//   contract    the writes the event contract asks of a send (docs/realtime.md) and nothing else: the counter row
//               (seq and cursor), the message into a copy of public.messages with its indexes, the sender's read
//               cursor into a copy of chat_members, the event log row into a copy of private.chat_events, and the
//               broadcast through realtime.send; no checks, no triggers, no notifications, no search queue;
//   checked     send_message's checks before the chat row's lock, through the same functions (signed in and allowed
//               to write, the body's checks, member and posting rights, word filters, the idempotency probe under its
//               advisory lock, the send rate), then the contract's writes: what a send that authorizes as
//               send_message does costs the chat's turn when its checks share the machine's cores with it. Its rate
//               is counted under its own action (bench_checked_send, no limit), so that the sides do not use up each
//               other's send windows.
// checked_send's `real_tables` selects, bit by bit, the real tables instead of the copies (bench/hot-chat-sweep.ts --ablation):
// 1 the chat row (public.chats, its triggers), 2 public.messages (needs 1: the real seq; its triggers, keys and
// indexes), 4 the sender's public.chat_members row, 8 private.log_chat_event (needs 1: the real cursor). 15 is
// send_message's writes without its other under-the-lock work.
import type postgres from "postgres";

/** (Re)creates the ceiling tables and functions of bench_base for the given chats (their counters and members). */
export async function createCeilings(admin: postgres.Sql, chatIds: string[]): Promise<void> {
  await admin.unsafe(`
    create schema if not exists bench_base;
    drop function if exists bench_base.contract_send(uuid, text);
    drop function if exists bench_base.checked_send(uuid, text, uuid, integer);
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
    grant execute on function bench_base.contract_send(uuid, text) to authenticated;

    insert into private.rate_limits (action, max_count, window_seconds, unit, refusal, description)
    values ('bench_checked_send', 1000000000, 10, 'messages', 'sending too fast', 'the checked ceiling of npm run bench')
    on conflict (action) do nothing;

    create function bench_base.checked_send(chat uuid, body text, client_id uuid, real_tables integer default 0) returns uuid
    language plpgsql
    security definer
    set search_path = ''
    as $fn$
    declare
      me uuid := private.assert_can_write();
      c public.chats;
      member public.chat_members;
      clean_body text := nullif(regexp_replace(checked_send.body, '^\s+|\s+$', '', 'g'), '');
      k bench_base.chat_counters;
      new_id uuid := gen_random_uuid();
      new_seq bigint;
      new_cursor bigint;
      sent_at timestamptz;
    begin
      if real_tables & 10 <> 0 and real_tables & 1 = 0 then
        raise exception 'the real messages and event log need the real chat row (bit 1)';
      end if;
      perform private.assert_body(clean_body, 'message');
      select * into c from public.chats where id = chat;
      member := private.authorize_send(c);
      clean_body := private.filter_words(c.id, clean_body, 'message');
      perform pg_advisory_xact_lock(hashtextextended(c.id::text || me::text || checked_send.client_id::text, 20));
      perform 1 from public.messages m where m.chat_id = chat and m.author_id = me and m.client_id = checked_send.client_id;
      perform private.rate_limit('bench_checked_send', me);
      if real_tables & 2 <> 0 then
        perform private.mark_handled('sent', new_id);
      end if;

      if real_tables & 1 <> 0 then
        update public.chats ch
           set last_message_seq = ch.last_message_seq + 1, last_event_seq = ch.last_event_seq + 1,
               last_message_at = now(), last_activity_at = now()
         where ch.id = chat
        returning ch.last_message_seq, ch.last_event_seq into new_seq, new_cursor;
      else
        update bench_base.chat_counters cc set seq = cc.seq + 1, cursor = cc.cursor + 1 where cc.chat_id = chat
        returning cc.seq, cc.cursor into new_seq, new_cursor;
      end if;
      if real_tables & 2 <> 0 then
        insert into public.messages (id, chat_id, seq, author_id, kind, body, metadata, reply_to_id, thread_root_id, mentions, client_id)
        values (new_id, chat, new_seq, me, 'text', clean_body, '{}'::jsonb, null, null, '{}', checked_send.client_id)
        returning created_at into sent_at;
      else
        insert into bench_base.contract_messages (id, chat_id, seq, author_id, kind, body, client_id)
        values (new_id, chat, new_seq, me, 'text', clean_body, checked_send.client_id)
        returning created_at into sent_at;
      end if;
      if real_tables & 4 <> 0 then
        update public.chat_members m set last_read_seq = new_seq, last_read_at = sent_at, last_posted_at = sent_at
         where m.chat_id = chat and m.user_id = me;
      else
        update bench_base.contract_members m set last_read_seq = new_seq, last_read_at = sent_at, last_posted_at = sent_at
         where m.chat_id = chat and m.user_id = me;
      end if;
      if real_tables & 8 <> 0 then
        perform private.log_chat_event(chat, new_cursor, 'message.sent',
          jsonb_build_object('message_id', new_id, 'message_seq', new_seq), new_id, new_seq);
      else
        insert into bench_base.contract_events (chat_id, seq, event, actor_id, message_id, message_seq)
        values (chat, new_cursor, 'message.sent', me, new_id, new_seq);
        perform realtime.send(jsonb_build_object('chat_id', chat, 'cursor', new_cursor, 'actor_id', me, 'at', now(),
                                'data', jsonb_build_object('message_id', new_id, 'message_seq', new_seq)),
                              'message.sent', 'chat:' || chat::text, true);
      end if;
      return new_id;
    end
    $fn$;
    revoke all on function bench_base.checked_send(uuid, text, uuid, integer) from public;
    grant execute on function bench_base.checked_send(uuid, text, uuid, integer) to authenticated;`);
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

/** send_message's checks and the contract's writes as one call (SQL text with $1 chat, $2 body, $3 client id). */
export const CHECKED_SQL = `select bench_base.checked_send($1::uuid, $2, $3::uuid)`;
