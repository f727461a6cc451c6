// Concurrency: N clients x M messages into one chat, each client on its own connection through the request context.
// Every acknowledged message is stored exactly once, the chat's sequence is gap-free, and idempotent retries (the
// same client_id again, also racing from two connections) never create a duplicate.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import type postgres from "postgres";
import { inRequest } from "../../stack/shared/request-context.ts";
import { SOAK, connect, createUsers, inconsistencies, installConsistencyCheck, type User } from "./support.ts";

const CLIENTS = SOAK ? 16 : 6;
const PER_CLIENT = SOAK ? 200 : 20;
/** Below the send rate limit (30 per 10 s per user): each client rotates over enough users. */
const PER_USER = 20;

let admin: postgres.Sql;
const clients: postgres.Sql[] = [];

beforeAll(async () => {
  admin = connect();
  await installConsistencyCheck(admin);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
  await admin.end({ timeout: 5 });
});

interface Ack {
  id: string;
  seq: number;
  clientId: string;
  author: string;
}

type MessageRow = { id: string; seq: string; client_id: string; author_id: string };

describe("concurrent sends into one chat", () => {
  it(`${CLIENTS} clients x ${PER_CLIENT} messages: every acknowledged message exactly once, gap-free, retries idempotent`, async () => {
    const usersPerClient = Math.ceil(PER_CLIENT / PER_USER);
    const users = await createUsers(admin, "conc", CLIENTS * usersPerClient + 1);
    const owner = users[0]!;
    const senders = users.slice(1);
    for (let i = 0; i < CLIENTS; i++) clients.push(connect());
    const [chat] = await inRequest(clients[0]!, owner.claims, (tx) => tx<{ id: string }[]>`select (public.create_group_chat('Concurrency')).id`);
    for (let i = 0; i < senders.length; i += 100) {
      const ids = senders.slice(i, i + 100).map((u) => u.id);
      await inRequest(clients[0]!, owner.claims, (tx) => tx`select public.add_chat_members(${chat!.id}::uuid, ${ids}::uuid[])`);
    }

    const send = (sql: postgres.Sql, user: User, clientId: string, body: string) =>
      inRequest(sql, user.claims, (tx) =>
        tx<MessageRow[]>`select id, seq::text, client_id, author_id from public.send_message(chat_id => ${chat!.id}::uuid, body => ${body}, client_id => ${clientId}::uuid)`,
      ).then(([row]) => ({ id: row!.id, seq: Number(row!.seq), clientId: row!.client_id, author: row!.author_id }));

    const acks: Ack[] = [];
    const retries: Array<{ first: Ack; again: Ack }> = [];
    await Promise.all(
      clients.map(async (sql, c) => {
        const mine = senders.slice(c * usersPerClient, (c + 1) * usersPerClient);
        for (let k = 0; k < PER_CLIENT; k++) {
          const user = mine[k % mine.length]!;
          const clientId = randomUUID();
          const ack = await send(sql, user, clientId, `client ${c} message ${k}`);
          acks.push(ack);
          // Every fifth message: the client did not see the answer and sends the same message again.
          if (k % 5 === 0) retries.push({ first: ack, again: await send(sql, user, clientId, `client ${c} message ${k}`) });
        }
      }),
    );

    // A retry racing with the original on two connections: both answers name the same stored message.
    const racer = senders[0]!;
    const racing = await Promise.all(
      Array.from({ length: 5 }, () => randomUUID()).flatMap((clientId) => [
        send(clients[0]!, racer, clientId, "raced"),
        send(clients[1]!, racer, clientId, "raced"),
      ]),
    );
    for (let i = 0; i < racing.length; i += 2) expect(racing[i]!.id).toBe(racing[i + 1]!.id);
    const distinctRaced = [...new Map(racing.map((r) => [r.id, r])).values()];
    acks.push(...distinctRaced);

    expect(acks).toHaveLength(CLIENTS * PER_CLIENT + 5);
    for (const { first, again } of retries) expect(again).toEqual(first);

    const stored = await admin<MessageRow[]>`
      select m.id, m.seq::text as seq, m.client_id, m.author_id from public.messages m where m.chat_id = ${chat!.id}::uuid order by m.seq`;
    // Exactly once: one row per acknowledged message, no extra rows, same seq as acknowledged.
    expect(stored).toHaveLength(acks.length);
    const byId = new Map(stored.map((r) => [r.id, r]));
    for (const a of acks) {
      const row = byId.get(a.id);
      expect(row, `acknowledged message ${a.id} is stored`).toBeDefined();
      expect(Number(row!.seq)).toBe(a.seq);
      expect(row!.client_id).toBe(a.clientId);
    }
    // Gap-free: 1..n.
    expect(stored.map((r) => Number(r.seq))).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
    const [c] = await admin<{ last: string }[]>`select last_message_seq::text as last from public.chats where id = ${chat!.id}::uuid`;
    expect(Number(c!.last)).toBe(stored.length);
    expect(await inconsistencies(admin)).toEqual([]);
  });
});
