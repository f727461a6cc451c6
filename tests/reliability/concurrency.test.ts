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

describe("concurrent @channel sends into one channel", () => {
  it("admins sending @channel at once all succeed (no deadlock), and every member gets one notification per send", async () => {
    const ADMINS = 4;
    const SENDS = SOAK ? 20 : 5;
    const users = await createUsers(admin, "atch", 150);
    const owner = users[0]!;
    const admins = users.slice(0, ADMINS);
    const own = Array.from({ length: ADMINS }, () => connect());
    clients.push(...own);
    const [chat] = await inRequest(own[0]!, owner.claims, (tx) => tx<{ id: string }[]>`select (public.create_channel('Everyone')).id`);
    for (let i = 1; i < users.length; i += 100) {
      const ids = users.slice(i, i + 100).map((u) => u.id);
      await inRequest(own[0]!, owner.claims, (tx) => tx`select public.add_chat_members(${chat!.id}::uuid, ${ids}::uuid[])`);
    }
    for (const a of admins.slice(1)) {
      await inRequest(own[0]!, owner.claims, (tx) => tx`select public.set_member_role(${chat!.id}::uuid, ${a.id}::uuid, 'admin')`);
    }
    const failures: string[] = [];
    await Promise.all(own.map(async (sql, k) => {
      for (let i = 0; i < SENDS; i++) {
        await inRequest(sql, admins[k]!.claims, (tx) => tx`select public.send_message(${chat!.id}::uuid, ${`@channel ${k}.${i}`})`)
          .catch((error: { code?: string; message: string }) => failures.push(`${error.code}: ${error.message}`));
      }
    }));
    expect(failures).toEqual([]);
    const perMember = await admin<{ user_id: string; n: number }[]>`
      select m.user_id::text, count(n.id)::int as n from public.chat_members m
        left join public.notifications n on n.recipient_id = m.user_id and n.chat_id = m.chat_id and n.data ->> 'scope' = 'channel'
       where m.chat_id = ${chat!.id}::uuid group by 1`;
    const adminIds = new Set(admins.map((a) => a.id));
    for (const r of perMember) expect(r.n, r.user_id).toBe(adminIds.has(r.user_id) ? (ADMINS - 1) * SENDS : ADMINS * SENDS);
    // The unread counters (one upsert per user per statement) agree with the rows.
    const drift = await admin`
      select c.user_id from private.notification_counters c
       where c.user_id = any (${users.map((u) => u.id)}::uuid[])
         and c.unread <> (select count(*) from public.notifications n where n.recipient_id = c.user_id and n.read_at is null)`;
    expect(drift).toEqual([]);
  }, 120_000);
});
