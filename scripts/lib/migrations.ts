// The release rule for supabase/migrations, checked on a real database.
//
// supabase/migrations/RELEASED is empty until the first release; then it names the last released migration (its
// 14-digit version). Until a migration is released, an object is changed where it is defined: the unreleased
// migrations create every function, policy, trigger, view and column once, and never come back to one (no
// `create or replace` of a function created earlier, no `alter policy`, no `alter table ... add column` on a table
// from an earlier unreleased file, no drop and re-create, no enum value added later). A released migration is never
// edited; a change to a released object is a new migration that says what it replaces ("replaces <name>").
//
// How: the migrations are applied one file at a time, each in one transaction as the Supabase CLI does, to a fresh
// database with an event trigger that logs every DDL command the server executes (pg_event_trigger_ddl_commands():
// command tag, object type, the server's own identity of the object, such as `private.f(uuid)` or
// `"name" on public.t`), with the columns of a table and the labels of an enum as they are after each command. A
// second definition of the same identity, a drop (sql_drop: pg_event_trigger_dropped_objects()) of an object an
// earlier unreleased file created, or a column or enum label that appears after the file that created the object, is
// a finding. Policy names longer than 63 bytes (which PostgreSQL truncates silently) are found in the files' text.
// The server parses the SQL, so comments, dollar quoting and formatting cannot hide anything.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import type { Cluster } from "./cluster.ts";
import { PG_BIN, ROOT, run } from "./util.ts";

export const MIGRATION_NAME = /^(\d{14})_[a-z][a-z0-9]*(?:_[a-z0-9]+)+\.sql$/;

export interface CheckResult {
  /** Checks made (each rule on each migration counts once), for the test summary. */
  checks: number;
  findings: string[];
}

export interface DdlRow {
  n: number;
  migration: string;
  tag: string;
  object_type: string;
  identity: string;
  detail: string | null;
}

/** Object types whose second definition is a finding (the rule's scope). */
const DEFINITIONS: Record<string, string> = {
  function: "function",
  procedure: "function",
  policy: "policy",
  trigger: "trigger",
  view: "view",
  "materialized view": "view",
};

const EVENT_TRIGGER_SQL = `
create schema migration_check;
create table migration_check.ddl_log (
  n bigserial primary key,
  migration text not null,
  tag text not null,
  object_type text not null,
  identity text not null,
  detail text
);
create function migration_check.log_ddl() returns event_trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  r record;
  d text;
begin
  for r in select * from pg_event_trigger_ddl_commands() loop
    continue when r.in_extension or r.object_identity is null or r.schema_name = 'migration_check';
    d := null;
    if r.object_type = 'table' then
      select string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || case when a.attnotnull then ' not null' else '' end
                        || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), ''), E'\\n' order by a.attnum)
        into d
        from pg_attribute a left join pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
       where a.attrelid = r.objid and a.attnum > 0 and not a.attisdropped;
    elsif r.object_type = 'type' then
      select string_agg(e.enumlabel, E'\\n' order by e.enumsortorder) into d from pg_enum e where e.enumtypid = r.objid;
    end if;
    insert into migration_check.ddl_log (migration, tag, object_type, identity, detail)
    values (coalesce(current_setting('migration_check.file', true), '?'), r.command_tag, r.object_type, r.object_identity, d);
  end loop;
end
$$;
create event trigger migration_check_ddl on ddl_command_end execute function migration_check.log_ddl();
create function migration_check.log_drop() returns event_trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into migration_check.ddl_log (migration, tag, object_type, identity)
  select coalesce(current_setting('migration_check.file', true), '?'), 'DROP', d.object_type, d.object_identity
    from pg_event_trigger_dropped_objects() d
   where d.original and d.object_identity is not null and d.schema_name is distinct from 'migration_check';
end
$$;
create event trigger migration_check_drop on sql_drop execute function migration_check.log_drop();
`;

/** Reads RELEASED: the empty string (nothing released) or a 14-digit version of an existing migration. */
export function releasedVersion(dir: string, files: string[]): { version: string; findings: string[] } {
  const file = path.join(dir, "RELEASED");
  if (!existsSync(file)) return { version: "", findings: [`${path.relative(ROOT, file)} is missing (empty until the first release)`] };
  const version = readFileSync(file, "utf8").trim();
  if (version === "") return { version, findings: [] };
  if (!/^\d{14}$/.test(version)) return { version: "", findings: [`RELEASED must be empty or one 14-digit migration version, not ${JSON.stringify(version)}`] };
  if (!files.some((f) => f.startsWith(`${version}_`))) return { version, findings: [`RELEASED names ${version}, which is not a migration in ${dir}`] };
  return { version, findings: [] };
}

/** The migration files in apply order, and findings about names that the CLI would skip or misorder. */
export function migrationFiles(dir: string): { files: string[]; findings: string[] } {
  const all = readdirSync(dir).filter((f) => f !== "RELEASED").sort();
  const findings = all
    .filter((f) => !MIGRATION_NAME.test(f))
    .map((f) => `${f}: not a migration name (YYYYMMDDHHMMSS_verb_noun.sql, lowercase)`);
  const files = all.filter((f) => MIGRATION_NAME.test(f));
  const versions = files.map((f) => f.slice(0, 14));
  for (const v of new Set(versions)) {
    if (versions.filter((x) => x === v).length > 1) findings.push(`version ${v} is used by more than one migration`);
  }
  return { files, findings };
}

function psql(cluster: Cluster, args: string[], env: NodeJS.ProcessEnv = {}, user = "supabase_admin"): string {
  return run(`${PG_BIN}/psql`, ["-X", "-v", "ON_ERROR_STOP=1", "-q", "-t", "-A", "-d", cluster.url(user), ...args], {
    env: { PGOPTIONS: "-c client_min_messages=warning", ...env },
  }).stdout;
}

/**
 * Recreates the cluster's database (platform stand-in first), applies the migrations one file at a time under the
 * DDL-logging event trigger and returns the log: every DDL command, in order, with its migration.
 */
export function applyWithDdlLog(cluster: Cluster, dir: string, files: string[]): DdlRow[] {
  cluster.recreateDatabase();
  psql(cluster, ["-c", EVENT_TRIGGER_SQL]);
  for (const file of files) {
    // As `supabase migration up`: the file in one transaction, as the postgres role.
    psql(cluster, ["-1", "-f", path.join(dir, file)], { PGOPTIONS: `-c client_min_messages=warning -c migration_check.file=${file}` }, "postgres");
  }
  const rows = JSON.parse(
    psql(cluster, ["-c", "select coalesce(json_agg(l order by l.n), '[]') from migration_check.ddl_log l"]) || "[]",
  ) as DdlRow[];
  psql(cluster, ["-c", "drop event trigger migration_check_ddl; drop event trigger migration_check_drop; drop schema migration_check cascade"]);
  return rows;
}

/**
 * Checks the release rule for the migrations in `dir` (default supabase/migrations). Recreates the cluster's
 * database (platform stand-in first, as the test runner does), so run it where nothing else uses that database.
 */
export function checkReleaseRule(cluster: Cluster, dir = path.join(ROOT, "supabase", "migrations")): CheckResult {
  const { files, findings } = migrationFiles(dir);
  const released = releasedVersion(dir, files);
  findings.push(...released.findings);
  let checks = 2;
  const rows = applyWithDdlLog(cluster, dir, files);
  // PostgreSQL cuts identifiers at 63 bytes without an error: a longer policy name is not the name in the catalog.
  for (const file of files) {
    const text = readFileSync(path.join(dir, file), "utf8");
    for (const m of text.matchAll(/\b(?:create|alter|drop)\s+policy\s+(?:if\s+exists\s+)?"((?:[^"]|"")+)"/gi)) {
      const name = (m[1] ?? "").replace(/""/g, '"');
      if (Buffer.byteLength(name) > 63) findings.push(`${file}: policy name "${name}" is ${Buffer.byteLength(name)} bytes; at most 63 (PostgreSQL truncates it)`);
    }
  }
  checks += 1;
  const isReleased = (file: string) => released.version !== "" && file.slice(0, 14) <= released.version;
  const sources = new Map(files.map((f) => [f, readFileSync(path.join(dir, f), "utf8")]));
  // identity -> where it was first defined, and its last seen detail (columns, enum labels)
  const defined = new Map<string, { file: string; tag: string }>();
  const shapes = new Map<string, { file: string; detail: string }>();
  const createdTables = new Map<string, string>();
  for (const file of files) checks += 1;
  for (const row of rows) {
    const unreleased = !isReleased(row.migration);
    // Dropping, or creating again, an object that an earlier unreleased file created is changing it elsewhere.
    if (row.tag === "DROP" || (row.tag === "CREATE TABLE" && row.object_type === "table")) {
      const kindOf = row.object_type === "table" ? "table" : DEFINITIONS[row.object_type];
      const key = `${kindOf} ${row.identity}`;
      const first = kindOf ? (kindOf === "table" ? createdTables.get(row.identity) : defined.get(key)?.file) : undefined;
      if (kindOf === "table" && row.tag === "CREATE TABLE" && !first) createdTables.set(row.identity, row.migration);
      if (first && unreleased && !isReleased(first) && row.migration !== first) {
        findings.push(`${row.migration}: ${row.tag === "DROP" ? "drops" : "creates again"} ${kindOf} ${row.identity}, ` +
          `defined in ${first}; change it where it is defined (release rule)`);
      }
      if (row.tag === "DROP") {
        defined.delete(key);
        shapes.delete(`${row.object_type} ${row.identity}`);
        continue;
      }
    }
    // Definitions only: COMMENT, GRANT and REVOKE describe an object without defining it again.
    const kind = /^(CREATE|ALTER) /.test(row.tag) ? DEFINITIONS[row.object_type] : undefined;
    if (kind) {
      const key = `${kind} ${row.identity}`;
      const first = defined.get(key);
      if (!first) {
        defined.set(key, { file: row.migration, tag: row.tag });
      } else if (unreleased) {
        if (isReleased(first.file)) {
          const name = row.identity.replace(/\(.*$/, "").replace(/^"([^"]+)".*$/, "$1").replace(/ on .*$/, "").split(".").pop() ?? row.identity;
          if (!new RegExp(`replaces[^\\n]*${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "i").test(sources.get(row.migration) ?? "")) {
            findings.push(`${row.migration}: ${row.tag.toLowerCase()} ${row.identity} changes a released object (${first.file}) without a comment "replaces ${name}"`);
          }
        } else {
          const where = first.file === row.migration ? "earlier in the same file" : `in ${first.file}`;
          findings.push(`${row.migration}: ${row.tag.toLowerCase()} ${row.identity}, already defined ${where}; change it where it is defined (release rule)`);
        }
      }
      continue;
    }
    if ((row.object_type === "table" || row.object_type === "type") && row.detail !== null && /^(CREATE|ALTER) /.test(row.tag)) {
      const key = `${row.object_type} ${row.identity}`;
      const seen = shapes.get(key);
      if (!seen) {
        shapes.set(key, { file: row.migration, detail: row.detail });
        continue;
      }
      if (seen.detail === row.detail) continue;
      // The file that created the object may still build it up; a later unreleased file may not.
      if (row.migration !== seen.file && unreleased && !isReleased(seen.file)) {
        const before = seen.detail.split("\n");
        const after = row.detail.split("\n");
        const what = row.object_type === "table" ? "column" : "enum value";
        const changes = [
          ...after.filter((c) => !before.includes(c)).map((c) => `+ ${what} ${c}`),
          ...before.filter((c) => !after.includes(c)).map((c) => `- ${what} ${c}`),
        ];
        findings.push(
          `${row.migration}: ${row.tag.toLowerCase()} ${row.identity}, created in ${seen.file}; define its ${what}s in ` +
            `that create statement (release rule)\n    ${changes.join("\n    ")}`,
        );
      }
      shapes.set(key, { file: seen.file, detail: row.detail });
    }
  }
  return { checks, findings };
}

/** `[storage.buckets.*]` in supabase/config.toml must equal the storage.buckets rows the migrations create. */
export function checkBucketConfig(cluster: Cluster, configPath = path.join(ROOT, "supabase", "config.toml")): CheckResult {
  const config = parseToml(readFileSync(configPath, "utf8")) as {
    storage?: { buckets?: Record<string, { public?: boolean; file_size_limit?: string | number; allowed_mime_types?: string[] }> };
  };
  const wanted = Object.entries(config.storage?.buckets ?? {})
    .map(([id, b]) => ({
      id,
      public: b.public ?? false,
      file_size_limit: b.file_size_limit === undefined ? null : parseSize(b.file_size_limit),
      allowed_mime_types: b.allowed_mime_types ?? null,
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
  const actual = (JSON.parse(
    psql(cluster, ["-c", `select coalesce(json_agg(json_build_object('id', id, 'public', public, 'file_size_limit', file_size_limit,
      'allowed_mime_types', allowed_mime_types) order by id collate "C"), '[]') from storage.buckets`]) || "[]",
  ) as typeof wanted).sort((a, b) => a.id.localeCompare(b.id));
  const findings: string[] = [];
  const ids = new Set([...wanted.map((b) => b.id), ...actual.map((b) => b.id)]);
  for (const id of [...ids].sort()) {
    const w = wanted.find((b) => b.id === id);
    const a = actual.find((b) => b.id === id);
    if (!w) findings.push(`bucket ${id} is created by a migration but missing from [storage.buckets.${id}] in supabase/config.toml`);
    else if (!a) findings.push(`[storage.buckets.${id}] in supabase/config.toml has no storage.buckets row from the migrations`);
    else if (JSON.stringify(w) !== JSON.stringify(a)) {
      findings.push(`bucket ${id}: supabase/config.toml says ${JSON.stringify(w)}, storage.buckets has ${JSON.stringify(a)}`);
    }
  }
  return { checks: Math.max(ids.size, 1), findings };
}

/** The size strings of config.toml ("50MiB", "2MiB", a byte count); the Supabase CLI reads KB/MB/GB as binary units too. */
export function parseSize(value: string | number): number {
  if (typeof value === "number") return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?\s*$/i.exec(value);
  if (!m) throw new Error(`cannot read the size ${JSON.stringify(value)}`);
  const units: Record<string, number> = { B: 1, KB: 1024, KIB: 1024, MB: 1024 ** 2, MIB: 1024 ** 2, GB: 1024 ** 3, GIB: 1024 ** 3 };
  return Math.round(Number(m[1]) * (units[(m[2] ?? "B").toUpperCase()] ?? 1));
}
