// Where the time of one send goes: send_message in 2-member direct chats and in 50-member groups on a fresh database of
// a checkout's migrations, one client at a time (pgbench, PostgREST's role and claims, one transaction per send), with
// pg_stat_statements (track = all: the statements inside functions and triggers too), track_functions = all and
// auto_explain (nested statements, one send's plans in the server log). Prints, per send: every statement with its
// calls, rows and share of the time, the functions' own time, and the rows written per table. Quoted in
// docs/performance.md ("Where the time of a send goes"). Before/after: `npx tsx bench/send-profile.ts [checkout] [sends]`.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Cluster, clusterDir } from "../scripts/lib/cluster.ts";
import { LOCAL_DIR } from "../scripts/lib/local-stack.ts";
import { freePort } from "../scripts/lib/util.ts";

const checkout = path.resolve(process.argv[2] ?? ".");
const sends = Number(process.argv[3] ?? 2000);
const dir = path.join(LOCAL_DIR, "send-profile");
mkdirSync(dir, { recursive: true });

const lib = (await import(path.join(checkout, "scripts/lib/cluster.ts"))) as { Cluster: typeof Cluster };
const cluster = new lib.Cluster({ dir: clusterDir(path.join(dir, "pg")).dir, port: await freePort(57532) });
cluster.init();
cluster.start();
const q = (sql: string) => cluster.psql({ sql }).trim();
try {
  // auto_explain's settings exist once the library is loaded.
  q("alter system set shared_preload_libraries = pg_stat_statements, pg_cron, auto_explain");
  cluster.stop();
  cluster.start();
  for (const s of [
    "pg_stat_statements.track = 'all'",
    "pg_stat_statements.track_utility = on",
    "track_functions = 'all'",
    "auto_explain.log_nested_statements = on",
    "auto_explain.log_analyze = on",
    "auto_explain.log_timing = off",
    "auto_explain.log_min_duration = -1",
  ]) q(`alter system set ${s}`);
  cluster.stop();
  cluster.start();
  cluster.recreateDatabase();
  cluster.migrate();
  q(`
create table public.bench_senders (i serial primary key, chat_id uuid, author uuid, claims text, members int);
do $$
declare u uuid; a uuid; b uuid; c uuid; ids uuid[]; k int; g int;
begin
  for k in 1..400 loop
    insert into auth.users (id, email, email_confirmed_at, raw_user_meta_data) values (gen_random_uuid(), 'd' || k || 'a@bench.test', now(), '{}') returning id into a;
    insert into auth.users (id, email, email_confirmed_at, raw_user_meta_data) values (gen_random_uuid(), 'd' || k || 'b@bench.test', now(), '{}') returning id into b;
    perform set_config('request.jwt.claims', json_build_object('sub', a, 'role', 'authenticated')::text, true);
    select (public.create_direct_chat(b)).id into c;
    insert into public.bench_senders (chat_id, author, claims, members)
    select c, x, json_build_object('sub', x, 'role', 'authenticated', 'aal', 'aal1')::text, 2 from unnest(array[a, b]) x;
  end loop;
  for g in 1..16 loop
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
delete from realtime.messages;`);
  q("vacuum analyze");
  const ranges = new Map(
    q("select members, min(i), max(i) from public.bench_senders group by 1 order by 1")
      .split("\n").map((l) => { const [m, lo, hi] = l.split("|"); return [m!, [lo!, hi!]] as const; }),
  );
  for (const members of ["2", "50"]) {
    const [lo, hi] = ranges.get(members)!;
    const script = path.join(dir, `send-${members}.sql`);
    // Each sender sends a few times at most (the rate limit), with a client_id as apps send.
    writeFileSync(script, `\\set i random(${lo}, ${hi})
begin;
select set_config('role', 'authenticated', true), set_config('request.jwt.claims', claims, true)
  from public.bench_senders where i = :i \\gset
select id from public.send_message((select chat_id from public.bench_senders where i = :i), 'hello there, a message of ordinary length', client_id => gen_random_uuid());
commit;
`);
    const run = (n: number) =>
      execFileSync("pgbench", ["-n", "-r", "-c", "1", "-j", "1", "-t", String(n), "-f", script, cluster.url()], { encoding: "utf8" });
    run(200); // warm-up: pages in memory
    // Statistics of the tables as the sends left them (analyzed empty, messages would be planned as a table of a few
    // pages: the measured sessions then plan with these, as a server with traffic does).
    q("analyze");
    q("delete from private.rate_counters");
    q("select pg_stat_statements_reset(); select pg_stat_reset();");
    const out = run(sends);
    const tps = /tps = ([\d.]+)/.exec(out)?.[1];
    const latency = /latency average = ([\d.]+) ms/.exec(out)?.[1];
    // pg_stat_* of the backend are flushed at its exit; pgbench has exited.
    await new Promise((r) => setTimeout(r, 1500));
    console.log(`\n## ${members} members: ${sends} sends, one client, ${latency} ms average (${Number(tps).toFixed(0)} sends/s)\n`);
    console.log("statements (pg_stat_statements, track = all; time is inclusive, nested statements also count on their own)\n");
    console.log("| statement | calls/send | rows/send | ms/send | share of a send |\n|---|---:|---:|---:|---:|");
    const total = Number(q(`select sum(total_exec_time) from pg_stat_statements where toplevel and query ~* 'send_message'`));
    const rows = q(`
      select regexp_replace(left(regexp_replace(query, '\\s+', ' ', 'g'), 110), '\\|', '/', 'g'),
             round(calls::numeric / ${sends}, 2), round(rows::numeric / ${sends}, 2),
             round((total_exec_time / ${sends})::numeric, 4), round((100 * total_exec_time / ${total})::numeric, 1)
        from pg_stat_statements
       where calls >= ${sends / 2} and query !~* '^(begin|select set_config\\(.role)'
       order by total_exec_time desc limit 40`);
    for (const l of rows.split("\n").filter(Boolean)) {
      const [text, calls, r, ms, share] = l.split("|");
      console.log(`| \`${text}\` | ${calls} | ${r} | ${ms} | ${share} % |`);
    }
    // The hot chat's critical section: what runs while the chat row is locked, from send_message's update of it to
    // the end of the commit (the deferred triggers and the WAL flush). Senders of one chat take turns through it.
    // (Before issue 20, send_message locked the chat row with its first statement: then the whole call is inside.)
    const lockedFirst = q(`select count(*) from pg_stat_statements where query ~* 'from public.chats where id = send_message.chat_id for update'`) !== "0";
    const critical = lockedFirst
      ? Number(q(`select round((sum(total_exec_time) / ${sends})::numeric, 4) from pg_stat_statements where toplevel and query ~* 'send_message'`))
      : Number(q(`
      select round((sum(total_exec_time) / ${sends})::numeric, 4) from pg_stat_statements
       where calls >= ${sends / 2} and toplevel is false
         and (query ~* '^update public.chats ch set last_message_seq' or query ~* '^insert into public.messages'
              or query ~* '^select private.announce_message' or query ~* '^update public.chat_members m set last_read_seq')`));
    // COMMIT as the client sees it (pgbench -r: deferred triggers, WAL flush, lock release); pg_stat_statements times
    // only the statement, not the commit that follows it.
    const commit = Number(/^\s+([\d.]+)\s+\d+\s+commit;/m.exec(out)?.[1] ?? NaN);
    console.log(`\nunder the chat row's lock: ${critical} ms of statements + ${commit} ms of COMMIT = ${(critical + commit).toFixed(3)} ms per send ` +
      `(one chat's sends/s ceiling at that speed: ${(1000 / (critical + commit)).toFixed(0)})`);
    console.log("\nfunctions (pg_stat_user_functions: own time without the functions they call)\n");
    console.log("| function | calls/send | self ms/send | total ms/send |\n|---|---:|---:|---:|");
    const fns = q(`
      select schemaname || '.' || funcname, round(calls::numeric / ${sends}, 2),
             round((self_time / ${sends})::numeric, 4), round((total_time / ${sends})::numeric, 4)
        from pg_stat_user_functions where calls > 0 order by self_time desc limit 25`);
    for (const l of fns.split("\n").filter(Boolean)) {
      const [f, calls, self, tot] = l.split("|");
      console.log(`| \`${f}\` | ${calls} | ${self} | ${tot} |`);
    }
    console.log("\nrows written per send (pg_stat_user_tables)\n");
    console.log("| table | inserted | updated (HOT) | deleted |\n|---|---:|---:|---:|");
    const written = q(`
      select schemaname || '.' || relname, round(n_tup_ins::numeric / ${sends}, 2),
             round(n_tup_upd::numeric / ${sends}, 2) || ' (' || round(n_tup_hot_upd::numeric / ${sends}, 2) || ')',
             round(n_tup_del::numeric / ${sends}, 2)
        from pg_stat_all_tables where n_tup_ins + n_tup_upd + n_tup_del > 0 and schemaname not in ('pg_catalog', 'pg_toast')
       order by 1`);
    for (const l of written.split("\n").filter(Boolean)) {
      const [t, i, u, d] = l.split("|");
      console.log(`| \`${t}\` | ${i} | ${u} | ${d} |`);
    }
    q("delete from private.rate_counters");
  }
  // auto_explain: one send in a 50-member group with every nested statement's plan in the server log; printed here as
  // the list of its statements (the plans themselves stay in the log).
  q("alter system set auto_explain.log_min_duration = 0");
  q("select pg_reload_conf()");
  const before = readFileSync(cluster.logFile, "utf8").length;
  execFileSync("pgbench", ["-n", "-c", "1", "-j", "1", "-t", "1", "-f", path.join(dir, "send-50.sql"), cluster.url()], { encoding: "utf8" });
  q("alter system set auto_explain.log_min_duration = -1");
  q("select pg_reload_conf()");
  const plans = readFileSync(cluster.logFile, "utf8").slice(before).split(/\n(?=\S.*LOG:  duration:)/).filter((p) => p.includes("Query Text:"));
  console.log(`\none send in a 50-member group (auto_explain, nested statements): ${plans.length} plans, in ${cluster.logFile}\n`);
  for (const p of plans) {
    const text = /Query Text: ([^\n]*)/.exec(p)?.[1]?.trim().replace(/\s+/g, " ").slice(0, 110) ?? "";
    const ms = /duration: ([\d.]+) ms/.exec(p)?.[1];
    console.log(`- ${ms} ms  ${text}`);
  }
} finally {
  cluster.stop();
}
