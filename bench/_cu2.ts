import postgres from "postgres";
import { randomUUID } from "node:crypto";
import { inRequest } from "../stack/shared/request-context.ts";
const admin = postgres("postgres://supabase_admin:postgres@127.0.0.1:56432/postgres", { max: 1, onnotice: () => {} });
const sql = postgres("postgres://postgres:postgres@127.0.0.1:56432/postgres", { max: 4, onnotice: () => {} });
const [hot] = await admin`select chat_id::text as id from bench.chats where role = 'hot'`;
const chat = hot!.id as string;
const [owner] = await admin`select user_id::text as id from public.chat_members where chat_id = ${chat}::uuid and role = 'owner'`;
const members = await admin`select user_id::text as id from public.chat_members where chat_id = ${chat}::uuid limit 900`;
const claims = (id: string) => ({ sub: id, role: "authenticated", aud: "authenticated" }) as any;
const res: number[][] = [[], [], []];
for (let round = 0; round < 6; round++) {
  await admin`delete from private.rate_counters`;
  const [c] = await admin`select last_event_seq::text as s from public.chats where id = ${chat}::uuid`;
  const cursor = Number(c!.s);
  for (let i = 0; i < 1000; i += 4) {
    await Promise.all([0, 1, 2, 3].map((k) => inRequest(sql, claims(members[(i + k) % members.length]!.id), (tx) =>
      tx`select id from public.send_message(${chat}::uuid, ${"gap message " + i + " " + randomUUID()}, client_id => ${randomUUID()}::uuid)`)));
  }
  for (let read = 0; read < 3; read++) {
    const t0 = performance.now();
    let after = cursor;
    for (;;) {
      const [page] = (await inRequest(sql, claims(owner!.id), (tx) => tx`select public.get_chat_events(${chat}::uuid, ${after}, 500) as r`, { method: "GET" })) as any;
      after = Number(page.r.next_cursor);
      if (!page.r.has_more) break;
    }
    res[read]!.push(performance.now() - t0);
  }
}
for (const [k, a] of res.entries()) console.log(`read ${k}:`, a.map((x) => x.toFixed(1)).join(" "));
await sql.end(); await admin.end();
