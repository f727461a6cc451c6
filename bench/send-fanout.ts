// A focused measurement of what a send costs by member count: send_message in 2-member direct chats and in
// 50-member groups, with PostgREST's role and claims, under pgbench, on a fresh database of this checkout's
// migrations; also the realtime.messages rows and the WAL each send writes (exact, whatever the machine's load). Quoted in docs/performance.md ("Send cost and the
// realtime contract"). Run it on another checkout to compare: `npx tsx bench/send-fanout.ts [checkout] [seconds]`.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Cluster, clusterDir } from "../scripts/lib/cluster.ts";
import { LOCAL_DIR } from "../scripts/lib/local-stack.ts";
import { freePort } from "../scripts/lib/util.ts";

const checkout = path.resolve(process.argv[2] ?? ".");
const seconds = Number(process.argv[3] ?? 15);
const dir = path.join(LOCAL_DIR, "send-fanout");
mkdirSync(dir, { recursive: true });

// The other checkout's own Cluster, so its migrations (and its platform stand-in) are the ones applied.
const lib = (await import(path.join(checkout, "scripts/lib/cluster.ts"))) as { Cluster: typeof Cluster };
const cluster = new lib.Cluster({ dir: clusterDir(path.join(dir, "pg")).dir, port: await freePort(57432) });
cluster.init();
cluster.start();
try {
  cluster.recreateDatabase();
  cluster.migrate();
  // 1,000 direct chats and 40 groups of 50, made through the RPCs; one row per possible sender.
  cluster.psql({
    sql: `
create table public.bench_senders (i serial primary key, chat_id uuid, author uuid, claims text, members int);
do $$
declare u uuid; a uuid; b uuid; c uuid; ids uuid[]; k int; g int;
begin
  for k in 1..1000 loop
    insert into auth.users (id, email, email_confirmed_at, raw_user_meta_data) values (gen_random_uuid(), 'd' || k || 'a@bench.test', now(), '{}') returning id into a;
    insert into auth.users (id, email, email_confirmed_at, raw_user_meta_data) values (gen_random_uuid(), 'd' || k || 'b@bench.test', now(), '{}') returning id into b;
    perform set_config('request.jwt.claims', json_build_object('sub', a, 'role', 'authenticated')::text, true);
    select (public.create_direct_chat(b)).id into c;
    insert into public.bench_senders (chat_id, author, claims, members)
    select c, x, json_build_object('sub', x, 'role', 'authenticated', 'aal', 'aal1')::text, 2 from unnest(array[a, b]) x;
  end loop;
  for g in 1..40 loop
    ids := '{}';
    for k in 1..50 loop
      insert into auth.users (id, email, email_confirmed_at, raw_user_meta_data) values (gen_random_uuid(), 'g' || g || 'm' || k || '@bench.test', now(), '{}') returning id into u;
      ids := ids || u;
    end loop;
    perform set_config('request.jwt.claims', json_build_object('sub', ids[1], 'role', 'authenticated')::text, true);
    select (public.create_group_chat('G' || g, ids[2:50])).id into c;
    insert into public.bench_senders (chat_id, author, claims, members)
    select c, x, json_build_object('sub', x, 'role', 'authenticated', 'aal', 'aal1')::text, 50 from unnest(ids) x;
  end loop;
end $$;
delete from realtime.messages;`,
  });
  const ranges = new Map(
    cluster.psql({ sql: "select members, min(i), max(i) from public.bench_senders group by 1 order by 1" })
      .trim().split("\n").map((l) => { const [m, lo, hi] = l.split("|"); return [m!, [lo!, hi!]] as const; }),
  );
  const lines: string[] = [];
  for (const members of ["2", "50"]) {
    const [lo, hi] = ranges.get(members)!;
    const script = path.join(dir, `send-${members}.sql`);
    writeFileSync(script, `\\set i random(${lo}, ${hi})
begin;
select set_config('role', 'authenticated', true), set_config('request.jwt.claims', claims, true)
  from public.bench_senders where i = :i \\gset
select public.send_message((select chat_id from public.bench_senders where i = :i), 'hello there, a message of ordinary length');
commit;
`);
    const before = Number(cluster.psql({ sql: "select count(*) from public.messages" }).trim());
    const lsn = cluster.psql({ sql: "select pg_current_wal_insert_lsn()" }).trim();
    const out = execFileSync("pgbench", ["-n", "-c", "2", "-j", "2", "-T", String(seconds), "-f", script, cluster.url()], { encoding: "utf8" });
    const sends = Number(cluster.psql({ sql: "select count(*) from public.messages" }).trim()) - before;
    const rows = Number(cluster.psql({ sql: "select count(*) from realtime.messages" }).trim());
    // WAL written per send: a cost that does not depend on what else the machine is doing.
    const wal = Number(cluster.psql({ sql: `select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '${lsn}')` }).trim());
    cluster.psql({ sql: "delete from realtime.messages; delete from private.rate_counters;" });
    const tps = /tps = ([\d.]+)/.exec(out)?.[1];
    const latency = /latency average = ([\d.]+) ms/.exec(out)?.[1];
    lines.push(`${members} members: ${Number(tps).toFixed(0)} sends/s, ${latency} ms average, ` +
      `${(rows / sends).toFixed(2)} realtime.messages rows and ${(wal / sends / 1024).toFixed(1)} KiB of WAL per send`);
    console.log(lines.at(-1));
  }
} finally {
  cluster.stop();
}
