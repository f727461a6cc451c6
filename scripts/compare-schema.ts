// Builds one database from each of two migration sets and compares what they define.
//   npx tsx scripts/compare-schema.ts <old> [<new>]
// Each side is a git ref (its supabase/ folder is taken from that commit) or a directory holding supabase/; <new>
// defaults to the working tree. Both databases are built the way the test runner builds one (the platform stand-in
// of the working tree, then `supabase migration up` of that side's migrations) in a throwaway cluster under
// .local/compare, one after the other. Compared, normalised for order:
//   * `pg_dump --schema-only` of the whole database, one block per object, blocks sorted;
//   * a catalog listing: table, column, function, schema and default ACLs (aclitems sorted), RLS flags, policies
//     (qual and with_check), function definitions (pg_get_functiondef), triggers, indexes, constraints, comments,
//     extensions, publication tables, cron jobs, storage.buckets rows and the rows migrations put in our tables
//     (timestamps left out).
// Exit code 0: identical; 1: differences (printed as a unified diff; both sides are kept under .local/compare).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Cluster } from "./lib/cluster.ts";
import { ensureSystemDeps } from "./lib/system-deps.ts";
import { LOCAL_DIR } from "./lib/local-stack.ts";
import { BIN, PG_BIN, ROOT, freePort, run, step } from "./lib/util.ts";

const OUT_DIR = path.join(LOCAL_DIR, "compare");

/** A directory with a supabase/ folder for a side: the directory itself, or a git ref exported to a temp dir. */
function projectDir(side: string): string {
  if (existsSync(path.join(side, "supabase", "migrations"))) return path.resolve(side);
  const dir = mkdtempSync(path.join(OUT_DIR, "ref-"));
  const archive = execFileSync("git", ["archive", "--format=tar", side, "supabase"], { cwd: ROOT, maxBuffer: 1 << 30 });
  execFileSync("tar", ["-x", "-C", dir], { input: archive });
  return dir;
}

// Each query returns one text column; rows are sorted before comparing, so creation order does not matter.
const CATALOG: Record<string, string> = {
  "schemas": `
    select n.nspname || ' acl=' || coalesce(array(select a::text from unnest(n.nspacl) a order by 1)::text, 'default')
         || ' owner=' || pg_get_userbyid(n.nspowner)
      from pg_namespace n where n.nspname !~ '^pg_' and n.nspname <> 'information_schema'`,
  "relations": `
    select n.nspname || '.' || c.relname || ' kind=' || c.relkind::text || ' owner=' || pg_get_userbyid(c.relowner)
         || ' rls=' || c.relrowsecurity || ' force=' || c.relforcerowsecurity || ' replident=' || c.relreplident::text
         || ' acl=' || coalesce(array(select a::text from unnest(c.relacl) a order by 1)::text, 'default')
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname !~ '^pg_' and n.nspname <> 'information_schema'`,
  "column acls": `
    select n.nspname || '.' || c.relname || '.' || a.attname || ' acl='
         || array(select x::text from unnest(a.attacl) x order by 1)::text
      from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
     where a.attacl is not null and n.nspname !~ '^pg_' and n.nspname <> 'information_schema'`,
  "columns": `
    select n.nspname || '.' || c.relname || ' #' || a.attnum || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
         || case when a.attnotnull then ' not null' else '' end
         || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
      from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where a.attnum > 0 and not a.attisdropped and c.relkind in ('r', 'v', 'm', 'p', 'f')
       and n.nspname !~ '^pg_' and n.nspname <> 'information_schema'`,
  "default acls": `
    select pg_get_userbyid(d.defaclrole) || ' in ' || coalesce(d.defaclnamespace::regnamespace::text, '(all)')
         || ' on ' || d.defaclobjtype::text || ' acl=' || array(select a::text from unnest(d.defaclacl) a order by 1)::text
      from pg_default_acl d`,
  "functions": `
    select pg_get_functiondef(p.oid) || E'\\n  owner=' || pg_get_userbyid(p.proowner)
         || ' acl=' || coalesce(array(select a::text from unnest(p.proacl) a order by 1)::text, 'default')
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname !~ '^pg_' and n.nspname <> 'information_schema' and p.prokind in ('f', 'p')
       and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')`,
  "function acls": `
    set search_path = '';
    select p.oid::regprocedure::text || ' acl=' || coalesce(array(select a::text from unnest(p.proacl) a order by 1)::text, 'default')
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname in ('public', 'private')`,
  "policies": `
    select schemaname || '.' || tablename || ' "' || policyname || '" ' || permissive || ' ' || cmd
         || ' to ' || roles::text || E'\\n  using: ' || coalesce(qual, '-') || E'\\n  check: ' || coalesce(with_check, '-')
      from pg_policies`,
  "triggers": `
    select pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
      from pg_trigger t where not t.tgisinternal`,
  "indexes": `select indexdef from pg_indexes where schemaname !~ '^pg_'`,
  "constraints": `
    select conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
      from pg_constraint where connamespace::regnamespace::text !~ '^pg_'`,
  "comments": `
    select pg_describe_object(d.classoid, d.objoid, d.objsubid) || ': ' || d.description
      from pg_description d
     where not exists (select 1 from pg_depend x where x.classid = d.classoid and x.objid = d.objoid and x.deptype in ('e', 'p', 'i'))
       and (d.classoid <> 'pg_proc'::regclass or d.objoid >= 16384)`,
  "types": `
    select t.typnamespace::regnamespace || '.' || t.typname || ' ' || t.typtype::text || ' '
         || coalesce((select string_agg(e.enumlabel, ',' order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid), '')
         || ' acl=' || coalesce(array(select a::text from unnest(t.typacl) a order by 1)::text, 'default')
      from pg_type t where t.typnamespace::regnamespace::text !~ '^pg_' and t.typnamespace::regnamespace::text <> 'information_schema'
       and t.typtype in ('e', 'd', 'c') and (t.typtype <> 'c' or exists (select 1 from pg_class c where c.oid = t.typrelid and c.relkind = 'c'))`,
  "extensions": `select extname || ' ' || extversion || ' in ' || extnamespace::regnamespace from pg_extension`,
  "publication tables": `select pubname || ' ' || schemaname || '.' || tablename from pg_publication_tables`,
  "publications": `select pubname || ' all=' || puballtables || ' ins=' || pubinsert || ' upd=' || pubupdate || ' del=' || pubdelete from pg_publication`,
  "cron jobs": `select jobname || ' ' || schedule || ' ' || command || ' db=' || database || ' user=' || username || ' active=' || active from cron.job`,
  "buckets": `
    select id || ' name=' || name || ' public=' || public || ' limit=' || coalesce(file_size_limit::text, 'null')
         || ' mime=' || coalesce(allowed_mime_types::text, 'null') || ' owner=' || coalesce(owner::text, 'null')
      from storage.buckets`,
  "event triggers": `select evtname || ' ' || evtevent || ' ' || evtfoid::regproc from pg_event_trigger`,
};

/** The rows migrations leave in our own tables, without columns that hold the time of the build. */
const ROWS_SQL = `
  select c.oid::regclass::text
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname in ('public', 'private') and c.relkind in ('r', 'p')`;

function psql(cluster: Cluster, sql: string): string[] {
  const out = run(`${PG_BIN}/psql`, ["-X", "-v", "ON_ERROR_STOP=1", "-q", "-t", "-A", "-R", "\u001e", "-d", cluster.url("supabase_admin"), "-c", sql]).stdout;
  return out.split("\u001e").map((s) => s.replace(/\n$/, "")).filter((s) => s.length > 0);
}

function catalog(cluster: Cluster): string {
  const parts: string[] = [];
  for (const [name, sql] of Object.entries(CATALOG)) {
    parts.push(`### ${name}`, ...psql(cluster, sql).sort(), "");
  }
  parts.push("### rows");
  for (const table of psql(cluster, ROWS_SQL).sort()) {
    const cols = psql(cluster, `
      select string_agg(quote_ident(attname), ',' order by attnum) from pg_attribute
       where attrelid = '${table}'::regclass and attnum > 0 and not attisdropped
         and atttypid not in ('timestamptz'::regtype, 'timestamp'::regtype, 'xid8'::regtype)`)[0];
    const rows = psql(cluster, `select row(${cols})::text from ${table}`).sort();
    parts.push(`${table}: ${rows.length} rows`, ...rows.map((r) => `  ${r}`));
  }
  return parts.join("\n") + "\n";
}

/** pg_dump --schema-only split into its per-object blocks, sorted. */
function dump(cluster: Cluster): string {
  const text = run(`${PG_BIN}/pg_dump`, ["--schema-only", "--no-sync", "-d", cluster.url("supabase_admin")]).stdout;
  const blocks = text
    .replace(/^\\(un)?restrict .*$/gm, "") // a random key per dump (pg_dump 15.14+)
    .split(/\n(?=--\n-- (?:Name|Data for Name): )/)
    .map((b) => b.replace(/\n+$/, ""))
    .filter((b) => !/^--\n-- PostgreSQL database dump/.test(b));
  return blocks.sort().join("\n\n") + "\n";
}

function build(cluster: Cluster, dir: string, label: string): void {
  step(`building the ${label} database from ${dir}/supabase/migrations`);
  cluster.recreateDatabase();
  const { stderr } = run(path.join(BIN, "supabase"), ["migration", "up", "--workdir", dir, `--remote=${cluster.cliUrl()}`, "--yes"], {
    env: { SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
  });
  const warnings = stderr.split("\n").filter((l) => /warn|skip/i.test(l));
  if (warnings.length) process.stdout.write(warnings.join("\n") + "\n");
}

async function main(): Promise<number> {
  const [oldSide, newSide = ROOT] = process.argv.slice(2);
  if (!oldSide) {
    console.error("usage: tsx scripts/compare-schema.ts <old ref or dir> [<new ref or dir>]");
    return 2;
  }
  await ensureSystemDeps();
  mkdirSync(OUT_DIR, { recursive: true });
  const cluster = new Cluster({ dir: path.join(OUT_DIR, "pg"), port: await freePort(55532), fast: true });
  cluster.init();
  cluster.start();
  const dirs: string[] = [];
  try {
    for (const [label, side] of [["old", oldSide], ["new", newSide]] as const) {
      const dir = projectDir(side);
      if (dir.startsWith(OUT_DIR)) dirs.push(dir);
      build(cluster, dir, label);
      writeFileSync(path.join(OUT_DIR, `${label}.dump.sql`), dump(cluster));
      writeFileSync(path.join(OUT_DIR, `${label}.catalog.txt`), catalog(cluster));
    }
  } finally {
    cluster.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  let same = true;
  for (const kind of ["dump.sql", "catalog.txt"]) {
    const a = path.join(OUT_DIR, `old.${kind}`);
    const b = path.join(OUT_DIR, `new.${kind}`);
    const diff = spawnSync("diff", ["-u", a, b], { encoding: "utf8", maxBuffer: 1 << 28 });
    if (diff.status !== 0) {
      same = false;
      process.stdout.write(diff.stdout);
    }
  }
  console.log(same ? "schemas are identical" : `schemas differ (both sides in ${path.relative(ROOT, OUT_DIR)})`);
  return same ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
