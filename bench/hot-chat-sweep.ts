// The hot chat's ceiling, by number of clients: every send goes into the bench data set's hot group (1,000 members),
// from pgbench (a C client, so the client's own cost is small), for 1, 2, 4 and 8 clients, five sides each in the
// same request context (role and claims set, one transaction per send, as PostgREST runs a request):
//   naive       the naive Supabase chat (bench/lib/naive.ts): an RLS-checked insert and its realtime.send trigger;
//   serialized  the cheapest gap-free send, one statement (bench/lib/ceilings.ts);
//   contract    the writes the event contract asks of a send and nothing else, one call (bench/lib/ceilings.ts);
//   checked     send_message's checks before the lock, then the contract's writes, one call (bench/lib/ceilings.ts);
//   send        public.send_message.
// While each run lasts, pg_stat_activity is sampled every 5 ms: what the clients' backends were doing (running, waiting
// for the chat row's lock, for the WAL flush, for their client's next statement). That is the measurement behind "The
// hot chat" in docs/performance.md. Needs the data set of `npm run bench` (any preset) in the bench cluster:
//   npx tsx bench/hot-chat-sweep.ts [seconds per run, default 8] [--sides=send,naive] [--clients=4,8] [--ablation]
// --ablation adds the sides checked_1, checked_3, checked_5, checked_9 and checked_15: the checked send with the real
// tables instead of the copies, bit by bit (1 the chat row, 2 the messages, 4 the member row, 8 the event function;
// bench/lib/ceilings.ts), which splits the distance from checked to send by table.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import postgres from "postgres";
import { benchCluster } from "./lib/bench-cluster.ts";
import { createCeilings } from "./lib/ceilings.ts";
import { createNaiveChat } from "./lib/naive.ts";
import { step } from "../scripts/lib/util.ts";
import { LOCAL_DIR } from "../scripts/lib/local-stack.ts";

const args = process.argv.slice(2);
const seconds = Number(args.find((a) => /^\d+$/.test(a)) ?? 8);
// --sides=send,naive and --clients=8: a part of the sweep (the tables below then show only what ran).
const only = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1]?.split(",");
const cluster = await benchCluster();
const admin = postgres(cluster.url("supabase_admin"), { max: 1, onnotice: () => {} });
const sampler = postgres(cluster.url("supabase_admin"), { max: 1, onnotice: () => {} });
try {
  const [meta] = await admin<{ ok: boolean }[]>`select to_regclass('bench.chats') is not null as ok`;
  if (!meta?.ok) throw new Error("no bench data set in the bench cluster: run `npm run bench` first");
  const [hot] = await admin<{ id: string }[]>`select chat_id::text as id from bench.chats where role = 'hot'`;
  step(`hot chat ${hot!.id}; building the naive chat and the serialized tables`);
  await createNaiveChat(admin);
  await createCeilings(admin, [hot!.id]);
  await admin.unsafe(`
    drop table if exists bench_base.hot_senders;
    create table bench_base.hot_senders (i serial primary key, chat_id uuid not null, user_id uuid not null, claims text not null);
    grant select on bench_base.hot_senders to authenticated;`);
  await admin`
    insert into bench_base.hot_senders (chat_id, user_id, claims)
    select m.chat_id, m.user_id,
           json_build_object('sub', m.user_id, 'role', 'authenticated', 'aud', 'authenticated', 'email', u.email, 'aal', 'aal1')::text
      from public.chat_members m join auth.users u on u.id = m.user_id
     where m.chat_id = ${hot!.id}::uuid order by random()`;
  const [counted] = await admin<{ n: number }[]>`select count(*)::int as n from bench_base.hot_senders`;
  const n = counted!.n;
  await admin`analyze bench_base.hot_senders`;

  const head = `\\set i random(1, ${n})
begin;
select set_config('role', 'authenticated', true), set_config('request.jwt.claims', (select claims from bench_base.hot_senders where i = :i), true);
`;
  const scripts: Record<string, string> = {
    naive: `${head}insert into bench_naive.messages (room_id, body) select chat_id, 'bench message ' || :i || ' ' || gen_random_uuid() from bench_base.hot_senders where i = :i;
commit;
`,
    // The serialized insert and the contract's writes of bench/lib/ceilings.ts, as pgbench sends them.
    serialized: `${head}with s as (select * from bench_base.hot_senders where i = :i),
     c as (update bench_base.chat_counters set seq = seq + 1 where chat_id = (select chat_id from s) returning seq)
insert into bench_base.serialized_messages (chat_id, seq, author_id, kind, body, client_id) select s.chat_id, c.seq, s.user_id, 'text', 'bench message ' || :i || ' ' || gen_random_uuid(), gen_random_uuid() from s, c;
commit;
`,
    contract: `${head}select bench_base.contract_send((select chat_id from bench_base.hot_senders where i = :i), 'bench message ' || :i || ' ' || gen_random_uuid());
commit;
`,
    checked: `${head}select bench_base.checked_send((select chat_id from bench_base.hot_senders where i = :i), 'bench message ' || :i || ' ' || gen_random_uuid(), gen_random_uuid());
commit;
`,
    ...(args.includes("--ablation")
      ? Object.fromEntries([1, 3, 5, 9, 15].map((real) => [`checked_${real}`, `${head}select bench_base.checked_send((select chat_id from bench_base.hot_senders where i = :i), 'bench message ' || :i || ' ' || gen_random_uuid(), gen_random_uuid(), ${real});
commit;
`]))
      : {}),
    send: `${head}select id from public.send_message((select chat_id from bench_base.hot_senders where i = :i), 'bench message ' || :i || ' ' || gen_random_uuid(), client_id => gen_random_uuid());
commit;
`,
  };
  const dir = path.join(LOCAL_DIR, "hot-chat-sweep");
  mkdirSync(dir, { recursive: true });
  for (const [k, s] of Object.entries(scripts)) writeFileSync(path.join(dir, `${k}.sql`), s);
  const url = new URL(cluster.url("postgres"));

  type Row = { side: string; clients: number; tps: number; latency: number; states: Record<string, number> };
  const rows: Row[] = [];
  const sides = Object.keys(scripts).filter((k) => !only("sides") || only("sides")!.includes(k));
  const clientCounts = (only("clients") ?? ["1", "2", "4", "8"]).map(Number);
  for (const clients of clientCounts) {
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(k + clients) % sides.length]!;
      // The send rate limit (30 per 10 s per sender) is state, not work: each run starts from an empty window.
      await admin`delete from private.rate_counters`;
      await admin`checkpoint`;
      const states: Record<string, number> = {};
      let samples = 0;
      let sampling = true;
      const loop = (async () => {
        while (sampling) {
          const rs = await sampler<{ s: string }[]>`
            select case when state = 'idle in transaction' then
                          'client, in a transaction, after: ' || case when query ~* '^\\s*begin' then 'begin'
                                                                     when query ~* 'set_config' then 'the claims'
                                                                     when query ~* 'send_message' then 'send_message'
                                                                     when query ~* 'contract_send' then 'the contract''s writes'
                                                                     when query ~* 'checked_send' then 'the checked send'
                                                                     when query ~* '^\\s*with' then 'the serialized insert'
                                                                     else left(query, 12) end
                        when state = 'idle' then 'client (between transactions)'
                        when wait_event is null then 'running'
                        when wait_event_type = 'Lock' then 'lock: ' || wait_event
                        else lower(wait_event_type) || ': ' || wait_event end as s
              from pg_stat_activity where application_name = 'pgbench' and backend_type = 'client backend'`;
          if (rs.length) {
            samples++;
            for (const r of rs) states[r.s] = (states[r.s] ?? 0) + 1;
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      // Asynchronously, so that the sampler above runs while pgbench does.
      const out = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
        const child = spawn(
          "pgbench",
          ["-h", url.hostname, "-p", url.port, "-U", "postgres", "-n", "-c", String(clients), "-j", String(Math.min(clients, 2)),
            "-T", String(seconds), "-f", path.join(dir, `${side}.sql`), "postgres"],
          { env: { ...process.env, PGPASSWORD: "postgres", PGAPPNAME: "pgbench" } },
        );
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", () => resolve({ stdout, stderr }));
      });
      sampling = false;
      await loop;
      const tps = Number(/tps = ([\d.]+)/.exec(out.stdout)?.[1] ?? NaN);
      const latency = Number(/latency average = ([\d.]+)/.exec(out.stdout)?.[1] ?? NaN);
      const failed = /number of failed transactions: (\d+)/.exec(out.stdout)?.[1];
      if (!Number.isFinite(tps) || (failed && failed !== "0")) throw new Error(`pgbench ${side} ${clients}: ${out.stdout}\n${out.stderr}`);
      for (const key of Object.keys(states)) states[key] = states[key]! / samples;
      rows.push({ side, clients, tps, latency, states });
      step(`${side}, ${clients} clients: ${tps.toFixed(0)} sends/s, latency ${latency.toFixed(2)} ms`);
    }
  }

  console.log(`\n| clients | ${sides.map((x) => `${x} sends/s`).join(" | ")} | ${sides.filter((x) => x !== "naive").map((x) => `${x} x naive`).join(" | ")} |`);
  console.log(`|---:|${sides.map(() => "---:").join("|")}|${sides.filter((x) => x !== "naive").map(() => "---:").join("|")}|`);
  for (const clients of clientCounts) {
    const t = (s: string) => rows.find((r) => r.side === s && r.clients === clients)?.tps ?? NaN;
    console.log(`| ${clients} | ${sides.map((x) => t(x).toFixed(0)).join(" | ")} | ${sides.filter((x) => x !== "naive").map((x) => (t(x) / t("naive")).toFixed(2)).join(" | ")} |`);
  }
  console.log("\nwhat the clients' backends were doing at the most clients: mean number of the backends in each state (pg_stat_activity every 5 ms), and in brackets that times one turn (1 / sends per second): the time per send spent in the state, summed over backends\n");
  const top = Math.max(...clientCounts);
  const at = (s: string) => rows.find((r) => r.side === s && r.clients === top)!;
  const keys = [...new Set(rows.filter((r) => r.clients === top).flatMap((r) => Object.keys(r.states)))].sort();
  console.log(`| state | ${sides.join(" | ")} |`);
  console.log(`|---|${sides.map(() => "---:").join("|")}|`);
  for (const key of keys) {
    console.log(`| ${key} | ${sides.map((s) => `${(at(s).states[key] ?? 0).toFixed(2)} (${(((at(s).states[key] ?? 0) * 1000) / at(s).tps).toFixed(3)} ms)`).join(" | ")} |`);
  }
  // Per send: the time the chat's turn takes (1 / throughput).
  console.log(`\none chat's turn at ${top} clients (1 / sends per second):`, sides.map((s) => `${s} ${(1000 / at(s).tps).toFixed(3)} ms`).join(", "));
} finally {
  await sampler.end();
  await admin.end();
  cluster.stop();
}
