// Where the time of a catch-up goes: the hot chat's newest 1,000 events read by the hub user through
// get_chat_events in pages of 500, in the request context as the bench reads them (bench/run.ts, section 6), one
// client, on the bench cluster's data set (`npm run bench` first). Each round reads the same events four ways, so that
// one read splits into its parts:
//   json    as a client reads them: the page as json, parsed by the driver (JSON.parse), as supabase-js does;
//   text    the same page as text: no parse, so json - text is the client's parse;
//   length  only the page's length: no transfer, so text - length is the bytes on the wire;
//   empty   the same requests with a page size of 1 at the newest cursor: the request context and the function's
//           checks, whatever the page holds;
//   stored  the same two pages' JSON, stored beforehand in a table and read back as json in the same requests: the
//           same bytes to the same client with next to no database work, the least any read of them costs.
// Then, with pg_stat_statements (track = all) for the length reads, the statements inside get_chat_events: the page
// query is where the database spends the read. Quoted in docs/performance.md ("Why catch-up misses").
//   npx tsx bench/catchup-profile.ts [rounds, default 100]
import postgres from "postgres";
import { benchCluster } from "./lib/bench-cluster.ts";
import { step } from "../scripts/lib/util.ts";
import { inRequest, userClaims } from "../stack/shared/request-context.ts";

const rounds = Number(process.argv[2] ?? 100);
const cluster = await benchCluster();
const admin = postgres(cluster.url("supabase_admin"), { max: 1, onnotice: () => {} });
const client = postgres(cluster.url("postgres"), { max: 1, onnotice: () => {} });
const quantile = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))]!;
try {
  const [hot] = await admin<{ chat: string; latest: string; hub: string; email: string }[]>`
    select c.id::text as chat, c.last_event_seq::text as latest, u.id::text as hub, u.email
      from bench.chats b join public.chats c on c.id = b.chat_id,
           auth.users u
     where b.role = 'hot' and u.id = (select id from bench.users where ord = 1)`;
  if (!hot) throw new Error("no bench data set in the bench cluster: run `npm run bench` first");
  const latest = Number(hot.latest);
  if (latest < 1000) throw new Error(`the hot chat has ${latest} events; run \`npm run bench\` first`);
  const from = latest - 1000;
  const claims = userClaims(hot.hub, hot.email);
  const [mix] = await admin<{ messages: number; reactions: number }[]>`
    select count(*) filter (where message_id is not null and event not like 'reaction.%')::int as messages,
           count(*) filter (where event like 'reaction.%')::int as reactions
      from private.chat_events where chat_id = ${hot.chat}::uuid and seq > ${from}`;
  step(`hot chat ${hot.chat}: events ${from + 1}..${latest} (${mix!.messages} message events, ${mix!.reactions} reactions), ${rounds} rounds`);

  type Way = "json" | "text" | "length" | "empty" | "stored";
  await admin.unsafe(`
    create schema if not exists bench_base;
    drop table if exists bench_base.catchup_pages;
    create table bench_base.catchup_pages (after bigint primary key, page json not null);
    grant usage on schema bench_base to authenticated;
    grant select on bench_base.catchup_pages to authenticated;`);
  const page = (tx: postgres.TransactionSql, way: Way, after: number) => {
    if (way === "json") return tx<{ r: { next_cursor: number; has_more: boolean } }[]>`
      select public.get_chat_events(${hot.chat}::uuid, ${after}, 500) as r`;
    if (way === "text") return tx<{ r: string }[]>`select public.get_chat_events(${hot.chat}::uuid, ${after}, 500)::text as r`;
    if (way === "length") return tx<{ r: number }[]>`select length(public.get_chat_events(${hot.chat}::uuid, ${after}, 500)::text) as r`;
    if (way === "stored") return tx<{ r: unknown }[]>`select page as r from bench_base.catchup_pages where after = ${after}`;
    return tx<{ r: unknown }[]>`select public.get_chat_events(${hot.chat}::uuid, ${latest - 1}, 1) as r`;
  };
  // Two pages: after the gap's start, then after its middle (the cursors of a 1,000-event gap read 500 at a time).
  const read = async (way: Way) => {
    const t0 = performance.now();
    let bytes = 0;
    for (const after of [from, from + 500]) {
      const [row] = await inRequest(client, claims, (tx) => page(tx, way, after), { method: "GET" });
      if (way === "text") bytes += (row!.r as string).length;
    }
    return { ms: performance.now() - t0, bytes };
  };
  for (const after of [from, from + 500]) {
    const [row] = await inRequest(client, claims, (tx) => page(tx, "text", after), { method: "GET" });
    await admin`insert into bench_base.catchup_pages (after, page) values (${after}, ${row!.r as string}::json)`;
  }
  const ways: Way[] = ["json", "text", "length", "empty", "stored"];
  const times: Record<Way | "parse", number[]> = { json: [], text: [], length: [], empty: [], stored: [], parse: [] };
  let size = 0;
  for (let i = 0; i < 5; i++) for (const way of ways) await read(way);
  for (let i = 0; i < rounds; i++) {
    for (const way of ways) {
      const r = await read(way);
      times[way].push(r.ms);
      if (way === "text") size = r.bytes;
    }
  }
  // The parse alone, of the same two pages' text.
  const texts = await Promise.all([from, from + 500].map(async (after) =>
    (await inRequest(client, claims, (tx) => page(tx, "text", after), { method: "GET" }))[0]!.r as string));
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    for (const t of texts) JSON.parse(t);
    times.parse.push(performance.now() - t0);
  }

  // Inside the database: the statements of get_chat_events during the length reads.
  await admin`alter system set pg_stat_statements.track = 'all'`;
  await admin`select pg_reload_conf()`;
  await client.end();
  const traced = postgres(cluster.url("postgres"), { max: 1, onnotice: () => {} });
  let statements: { query: string; calls: number; mean: number }[] = [];
  try {
    for (let i = 0; i < 5; i++) await inRequest(traced, claims, (tx) => page(tx, "length", from), { method: "GET" });
    await admin`select extensions.pg_stat_statements_reset()`;
    for (let i = 0; i < rounds; i++) {
      for (const after of [from, from + 500]) await inRequest(traced, claims, (tx) => page(tx, "length", after), { method: "GET" });
    }
    statements = await admin<{ query: string; calls: number; mean: number }[]>`
      select regexp_replace(left(query, 110), '\\s+', ' ', 'g') as query, calls::int, mean_exec_time as mean
        from extensions.pg_stat_statements
       where calls >= ${rounds} and query !~* '^\\s*(begin|commit|start|select set_config|select pg_stat)'
       order by total_exec_time desc limit 8`;
  } finally {
    await traced.end();
    await admin`alter system reset pg_stat_statements.track`;
    await admin`select pg_reload_conf()`;
  }

  const row = (label: string, a: number[]) =>
    console.log(`| ${label} | ${quantile(a, 0.5).toFixed(2)} | ${quantile(a, 0.95).toFixed(2)} |`);
  console.log(`\nthe newest 1,000 events of the hot chat, two pages of 500 (${(size / 1024).toFixed(0)} KB of JSON), ${rounds} reads each way, one client\n`);
  console.log("| read | p50 ms | p95 ms |\n|---|---:|---:|");
  row("as a client reads them (json, parsed)", times.json);
  row("as text (no parse)", times.text);
  row("only the length (no transfer)", times.length);
  row("two requests of one event (the request and the function's checks)", times.empty);
  row("the same two pages stored in a table, read back as json (parsed)", times.stored);
  row("JSON.parse of the two pages alone", times.parse);
  console.log("\nstatements inside get_chat_events (pg_stat_statements, track = all), per page of 500\n");
  console.log("| statement | calls | mean ms |\n|---|---:|---:|");
  for (const s of statements) console.log(`| \`${s.query.replace(/\|/g, "\\|")}\` | ${s.calls} | ${s.mean.toFixed(3)} |`);
} finally {
  await admin`drop table if exists bench_base.catchup_pages`;
  await admin.end();
  cluster.stop();
}
