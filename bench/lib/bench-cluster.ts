// The benchmark's own PostgreSQL cluster under $SUPABASE_CHAT_LOCAL_DIR/bench, with the settings documented in
// docs/performance.md, and the generated data set in it (regenerated only when the preset changes or on request).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import postgres from "postgres";
import { Cluster, clusterDir } from "../../scripts/lib/cluster.ts";
import { LOCAL_DIR } from "../../scripts/lib/local-stack.ts";
import { ensureSystemDeps } from "../../scripts/lib/system-deps.ts";
import { ROOT, freePort, portIsFree, step } from "../../scripts/lib/util.ts";
import type { Preset } from "./presets.ts";

export const BENCH_DIR = path.join(LOCAL_DIR, "bench");

/** Server settings for the benchmark (see docs/performance.md for why). */
export const BENCH_SETTINGS: Record<string, string> = {
  shared_buffers: "2GB",
  effective_cache_size: "8GB",
  work_mem: "32MB",
  maintenance_work_mem: "1GB",
  max_wal_size: "16GB",
  checkpoint_timeout: "30min",
  random_page_cost: "1.1",
  jit: "off",
  fsync: "on",
  synchronous_commit: "on",
  full_page_writes: "on",
  track_io_timing: "on",
};

export async function benchCluster(): Promise<Cluster> {
  await ensureSystemDeps();
  mkdirSync(BENCH_DIR, { recursive: true });
  const portFile = path.join(BENCH_DIR, "port");
  let port = existsSync(portFile) ? Number(readFileSync(portFile, "utf8")) : await freePort(56432);
  // .local/bench/pg, or outside the checkout when the OS user `postgres` cannot reach it (service-dir.ts).
  const pgDir = clusterDir(path.join(BENCH_DIR, "pg")).dir;
  let cluster = new Cluster({ dir: pgDir, port });
  if (!cluster.running() && !(await portIsFree(port))) {
    port = await freePort(56432);
    cluster = new Cluster({ dir: pgDir, port });
  }
  writeFileSync(portFile, String(port));
  const fresh = !cluster.initialized();
  cluster.init();
  const confFile = path.join(cluster.dataDir, "postgresql.auto.conf");
  cluster.start();
  const wanted = Object.entries(BENCH_SETTINGS);
  const current = cluster.psql({
    sql: `select string_agg(name || '=' || setting || coalesce(unit, ''), ',') from pg_settings where name in (${wanted
      .map(([k]) => `'${k}'`)
      .join(",")})`,
  });
  if (fresh || !existsSync(confFile) || !readFileSync(confFile, "utf8").includes("bench settings")) {
    step("applying benchmark server settings (restart)");
    for (const [k, v] of wanted) cluster.psql({ sql: `alter system set ${k} = '${v}'` });
    cluster.psql({ sql: `alter system set application_name = 'bench settings'` });
    cluster.stop();
    cluster.start();
  } else if (!current) {
    throw new Error("could not read the bench cluster's settings");
  }
  return cluster;
}

export function loadBenchSql(cluster: Cluster): void {
  const dir = path.join(ROOT, "sql", "bench");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) cluster.psql({ file: path.join(dir, file) });
}

/** The preset's data set in the bench database: rebuilt (platform, migrations, generator) unless already there. */
export async function ensureData(cluster: Cluster, preset: Preset, opts: { regenerate?: boolean } = {}): Promise<void> {
  let existing: string | undefined;
  // The schema the data set was built on: a data set is reused only on the same migrations, platform stand-in and
  // generator (migrations are edited in place until released, and `migration up` applies only new files).
  const schema = schemaHash();
  if (!opts.regenerate && cluster.hasDatabase()) {
    const hasMeta = cluster.psql({ sql: "select to_regclass('bench.meta') is not null" }) === "t";
    const built = hasMeta ? cluster.psql({ sql: "select value #>> '{}' from bench.meta where key = 'schema'" }) : "";
    existing = hasMeta && built === schema ? cluster.psql({ sql: "select value::text from bench.meta where key = 'params'" }) : "";
    if (hasMeta && built !== schema) step("the migrations changed since the data set was built: rebuilding it");
  }
  // jsonb keeps keys in its own order (shorter first), so both sides are compared with their keys sorted.
  const canonical = (o: Record<string, unknown>) => JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]));
  if (existing && canonical(JSON.parse(existing) as Record<string, unknown>) === canonical(preset.data as unknown as Record<string, unknown>)) {
    step(`reusing the ${preset.name} data set (pass --regenerate to rebuild it)`);
    cluster.migrate();
    loadBenchSql(cluster);
    return;
  }
  cluster.recreateDatabase();
  cluster.migrate();
  loadBenchSql(cluster);
  step(`generating the ${preset.name} data set`);
  const sql = postgres(cluster.url("supabase_admin"), {
    max: 1,
    onnotice: (n) => process.stdout.write(`  ${n.message}\n`),
    idle_timeout: 5,
  });
  try {
    const started = Date.now();
    await sql.unsafe(`call bench.generate('${JSON.stringify(preset.data).replaceAll("'", "''")}'::jsonb)`);
    step(`data set generated in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await buildSearchIndex(cluster, sql);
    await sql`insert into bench.meta (key, value) values ('schema', to_jsonb(${schema}::text))
              on conflict (key) do update set value = excluded.value`;
    step("checking consistency");
    await assertConsistent(sql);
    const sizes = await sql<{ what: string; n: string }[]>`
      select 'users' as what, count(*)::text as n from public.profiles
      union all select 'chats', count(*)::text from public.chats
      union all select 'memberships', count(*)::text from public.chat_members
      union all select 'messages', count(*)::text from public.messages
      union all select 'reactions', count(*)::text from public.message_reactions
      union all select 'database size', pg_size_pretty(pg_database_size(current_database()))`;
    step(sizes.map((r) => `${r.what} ${r.n}`).join(", "));
  } finally {
    await sql.end();
  }
}

export async function assertConsistent(sql: postgres.Sql): Promise<void> {
  const rows = await sql<{ check_name: string; violations: string }[]>`select * from bench.check_consistency()`;
  const bad = rows.filter((r) => Number(r.violations) !== 0);
  for (const r of rows) process.stdout.write(`  ${Number(r.violations) === 0 ? "ok " : "BAD"} ${r.check_name}: ${r.violations}\n`);
  if (bad.length) throw new Error(`inconsistent data: ${bad.map((r) => `${r.check_name} (${r.violations})`).join("; ")}`);
}

/**
 * The generator loads messages with triggers off, so none is queued for search: build the search index the way a bulk
 * load should (docs/operations.md): without the GIN index, the documents in two sessions (one per core), then the
 * index and the word list.
 */
async function buildSearchIndex(cluster: Cluster, sql: postgres.Sql): Promise<void> {
  const t0 = Date.now();
  const [idx] = await sql<{ def: string }[]>`select pg_get_indexdef('private.message_search_document_idx'::regclass) as def`;
  await sql`drop index private.message_search_document_idx`;
  await sql`truncate private.message_search, private.search_pending`;
  await Promise.all(
    [0, 1].map(async (part) => {
      const one = postgres(cluster.url("supabase_admin"), { max: 1, onnotice: () => {} });
      try {
        // replica: the foreign key to messages is not checked row by row (every row comes from messages).
        await one.unsafe(`set session_replication_role = replica`);
        await one.unsafe(`
          insert into private.message_search (chat_id, seq, message_id, author_id, created_at, document)
          select m.chat_id, m.seq, m.id, m.author_id, m.created_at, private.search_document(m.body)
            from public.messages m
           where m.deleted_at is null and m.body is not null and m.kind = any (private.searchable_kinds())
             and m.seq % 2 = ${part}`);
      } finally {
        await one.end();
      }
    }),
  );
  const docs = Date.now();
  await sql.unsafe(idx!.def);
  const built = Date.now();
  await sql`insert into private.search_words (word)
            select distinct t.lexeme from private.message_search s cross join lateral unnest(s.document) t
             where left(t.lexeme, 1) <> '~'
            on conflict do nothing`;
  await sql`analyze private.message_search`;
  step(
    `search index: documents ${((docs - t0) / 1000).toFixed(1)} s, GIN index ${((built - docs) / 1000).toFixed(1)} s, ` +
      `word list ${((Date.now() - built) / 1000).toFixed(1)} s`,
  );
}

/** A hash of every file the bench database is built from: migrations, the platform stand-in and the generator. */
function schemaHash(): string {
  const h = createHash("sha256");
  for (const dir of ["supabase/migrations", "sql/platform", "sql/bench"]) {
    for (const f of readdirSync(path.join(ROOT, dir)).filter((x) => x.endsWith(".sql")).sort()) {
      h.update(`${dir}/${f}\n`);
      h.update(readFileSync(path.join(ROOT, dir, f)));
    }
  }
  return h.digest("hex").slice(0, 16);
}
