// The schema cache: tables, views, columns, keys, relationships and functions of the exposed schemas, read from the
// catalogs once at start and again on `NOTIFY pgrst, 'reload schema'`.
// Checked against PostgREST/postgrest:src/library/PostgREST/SchemaCache.hs (allTables, allColumns, allM2OandO2ORels,
// addM2MRels, allFunctions), SchemaCache/Relationship.hs and SchemaCache/Routine.hs.
import type postgres from "postgres";

export interface Column {
  name: string;
  /** format_type(): "uuid", "text[]", "timestamp with time zone", "public.message_kind". */
  type: string;
  /** pg_type.typname ("_text" for text[]), used for OpenAPI formats. */
  udt: string;
  nullable: boolean;
  /** The default expression (pg_get_expr), used for Prefer: missing=default. */
  default?: string;
  generated: boolean;
  description?: string;
  enum?: string[];
}

export interface Table {
  schema: string;
  name: string;
  isView: boolean;
  description?: string;
  columns: Column[];
  pk: string[];
  /** Primary key and unique constraints' columns. */
  uniques: string[][];
  insertable: boolean;
  updatable: boolean;
  deletable: boolean;
}

export interface QualifiedName {
  schema: string;
  name: string;
}

export interface Junction {
  table: QualifiedName;
  constraint1: string;
  constraint2: string;
  /** (junction column, source column) */
  sourceColumns: Array<[string, string]>;
  /** (junction column, target column) */
  targetColumns: Array<[string, string]>;
}

export interface Relationship {
  cardinality: "M2O" | "O2M" | "O2O" | "M2M";
  table: QualifiedName;
  foreignTable: QualifiedName;
  /** The FK constraint (for M2M: the junction table's name). */
  constraint: string;
  /** (column of table, column of foreignTable); empty for M2M. */
  columns: Array<[string, string]>;
  junction?: Junction;
  isSelf: boolean;
  foreignIsView: boolean;
}

export interface RoutineArg {
  name: string;
  type: string;
  hasDefault: boolean;
  variadic: boolean;
}

export interface Routine {
  schema: string;
  name: string;
  description?: string;
  args: RoutineArg[];
  returns: {
    kind: "void" | "scalar" | "composite";
    type: string;
    setOf: boolean;
    /** For functions returning a table's row type: that table (filters and embeds work on it). */
    relation?: QualifiedName;
  };
  volatility: "volatile" | "stable" | "immutable";
}

export interface SchemaCache {
  schemas: string[];
  tables: Map<string, Table>;
  /** Keyed by "schema.table" of the relationship's origin. */
  relationships: Map<string, Relationship[]>;
  /** Keyed by "schema.name": every overload. */
  routines: Map<string, Routine[]>;
  /** pg_timezone_names, for Prefer: timezone= (PostgREST accepts only these). */
  timezones: Set<string>;
}

export const qualified = (schema: string, name: string) => `${schema}.${name}`;

interface TableRow {
  oid: number;
  schema: string;
  name: string;
  kind: string;
  description: string | null;
  insertable: boolean;
  updatable: boolean;
  deletable: boolean;
}
interface ColumnRow {
  relid: number;
  name: string;
  type: string;
  udt: string;
  nullable: boolean;
  default: string | null;
  generated: boolean;
  description: string | null;
  enum: string[] | null;
}
interface ConstraintRow {
  relid: number;
  frelid: number | null;
  name: string;
  kind: string;
  cols: string[];
  fcols: string[] | null;
}
interface RoutineRow {
  schema: string;
  name: string;
  description: string | null;
  volatility: string;
  setof: boolean;
  rettype: string;
  rettyptype: string;
  retrelschema: string | null;
  retrelname: string | null;
  argnames: string[] | null;
  argmodes: string[] | null;
  argtypes: string[];
  alltypes: string[] | null;
  ndefaults: number;
  nargs: number;
  variadic: boolean;
}

/** Reads the schema cache for `schemas`. */
export async function loadSchemaCache(sql: postgres.Sql, schemas: string[]): Promise<SchemaCache> {
  const tables = await sql<TableRow[]>`
    select c.oid::int as oid, n.nspname as schema, c.relname as name, c.relkind as kind,
           obj_description(c.oid, 'pg_class') as description,
           (c.relkind in ('r', 'p') or (pg_relation_is_updatable(c.oid::regclass, true) & 8) = 8) as insertable,
           (c.relkind in ('r', 'p') or (pg_relation_is_updatable(c.oid::regclass, true) & 4) = 4) as updatable,
           (c.relkind in ('r', 'p') or (pg_relation_is_updatable(c.oid::regclass, true) & 16) = 16) as deletable
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = any(${schemas}) and c.relkind in ('r', 'v', 'm', 'f', 'p')
     order by n.nspname, c.relname`;
  const oids = tables.map((t) => t.oid);
  const columns = await sql<ColumnRow[]>`
    select a.attrelid::int as relid, a.attname as name, format_type(a.atttypid, a.atttypmod) as type, t.typname as udt,
           not a.attnotnull as nullable, pg_get_expr(d.adbin, d.adrelid) as default, a.attgenerated <> '' as generated,
           col_description(a.attrelid, a.attnum) as description,
           (select array_agg(e.enumlabel order by e.enumsortorder) from pg_enum e where e.enumtypid = a.atttypid) as enum
      from pg_attribute a
      join pg_type t on t.oid = a.atttypid
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where a.attrelid = any(${oids}::oid[]) and a.attnum > 0 and not a.attisdropped
     order by a.attrelid, a.attnum`;
  const constraints = await sql<ConstraintRow[]>`
    select c.conrelid::int as relid, nullif(c.confrelid, 0)::int as frelid, c.conname as name, c.contype as kind,
           (select array_agg(a.attname order by k.i) from unnest(c.conkey) with ordinality k(n, i)
              join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n) as cols,
           (select array_agg(a.attname order by k.i) from unnest(c.confkey) with ordinality k(n, i)
              join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n) as fcols
      from pg_constraint c
     where c.conrelid = any(${oids}::oid[]) and c.contype in ('p', 'u', 'f')
     order by c.conname`;
  const routines = await sql<RoutineRow[]>`
    select n.nspname as schema, p.proname as name, obj_description(p.oid, 'pg_proc') as description,
           p.provolatile as volatility, p.proretset as setof, format_type(p.prorettype, null) as rettype,
           t.typtype as rettyptype, rn.nspname as retrelschema, rc.relname as retrelname,
           p.proargnames as argnames, p.proargmodes::text[] as argmodes,
           array(select format_type(x, null) from unnest(p.proargtypes) with ordinality u(x, i) order by i) as argtypes,
           case when p.proallargtypes is null then null
                else array(select format_type(x, null) from unnest(p.proallargtypes) with ordinality u(x, i) order by i) end as alltypes,
           p.pronargdefaults as ndefaults, p.pronargs as nargs, p.provariadic <> 0 as variadic
      from pg_proc p
      join pg_namespace n on n.oid = p.pronamespace
      join pg_type t on t.oid = p.prorettype
      left join pg_class rc on rc.oid = t.typrelid and rc.relkind in ('r', 'v', 'm', 'f', 'p')
      left join pg_namespace rn on rn.oid = rc.relnamespace
     where n.nspname = any(${schemas}) and p.prokind = 'f'
     order by n.nspname, p.proname`;
  // Views: which base-table columns each view selects (its rewrite rule's dependencies). A view column with the
  // name of a base column it depends on is taken to be that column, so the base table's foreign keys carry over
  // (a simplification of PostgREST's view column tracking, see docs/local-stack/rest.md).
  const viewOids = tables.filter((r) => r.kind === "v" || r.kind === "m").map((r) => r.oid);
  const viewColumns = viewOids.length === 0 ? [] : await sql<ViewColumnRow[]>`
    select distinct r.ev_class::int as view, d.refobjid::int as "table", a.attname as col
      from pg_rewrite r
      join pg_depend d on d.objid = r.oid and d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass and d.refobjsubid > 0
      join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
      join pg_attribute va on va.attrelid = r.ev_class and va.attname = a.attname and not va.attisdropped
     where r.ev_class = any(${viewOids}::oid[]) and d.refobjid <> r.ev_class`;
  const cache = buildSchemaCache(schemas, tables, columns, constraints, routines, viewColumns);
  const zones = await sql<{ name: string }[]>`select name from pg_timezone_names`;
  cache.timezones = new Set(zones.map((z) => z.name));
  return cache;
}

interface ViewColumnRow {
  view: number;
  table: number;
  col: string;
}

function buildSchemaCache(schemas: string[], tableRows: TableRow[], columnRows: ColumnRow[], constraintRows: ConstraintRow[], routineRows: RoutineRow[], viewColumns: ViewColumnRow[] = []): SchemaCache {
  const byOid = new Map<number, Table>();
  const tables = new Map<string, Table>();
  for (const r of tableRows) {
    const t: Table = {
      schema: r.schema, name: r.name, isView: r.kind === "v" || r.kind === "m", columns: [], pk: [], uniques: [],
      insertable: r.insertable, updatable: r.updatable, deletable: r.deletable,
    };
    if (r.description) t.description = r.description;
    byOid.set(r.oid, t);
    tables.set(qualified(r.schema, r.name), t);
  }
  for (const r of columnRows) {
    const col: Column = { name: r.name, type: r.type, udt: r.udt, nullable: r.nullable, generated: r.generated };
    if (r.default !== null) col.default = r.default;
    if (r.description) col.description = r.description;
    if (r.enum) col.enum = r.enum;
    byOid.get(r.relid)?.columns.push(col);
  }
  const fks: Array<{ table: Table; foreign: Table; name: string; cols: string[]; fcols: string[] }> = [];
  for (const r of constraintRows) {
    const t = byOid.get(r.relid);
    if (!t) continue;
    if (r.kind === "p") { t.pk = r.cols; t.uniques.push(r.cols); }
    else if (r.kind === "u") t.uniques.push(r.cols);
    else if (r.kind === "f" && r.frelid !== null) {
      const f = byOid.get(r.frelid);
      if (f && r.fcols) fks.push({ table: t, foreign: f, name: r.name, cols: r.cols, fcols: r.fcols });
    }
  }
  // Foreign keys seen through views: every view exposing all of a key's columns (on either side) gets a copy.
  const exposed = new Map<Table, Array<{ view: Table; cols: Set<string> }>>();
  const byView = new Map<string, { view: Table; base: Table; cols: Set<string> }>();
  for (const vc of viewColumns) {
    const view = byOid.get(vc.view);
    const base = byOid.get(vc.table);
    if (!view || !base) continue;
    const key = `${vc.view}:${vc.table}`;
    const entry = byView.get(key) ?? { view, base, cols: new Set<string>() };
    entry.cols.add(vc.col);
    byView.set(key, entry);
  }
  for (const { view, base, cols } of byView.values()) exposed.set(base, [...(exposed.get(base) ?? []), { view, cols }]);
  for (const fk of [...fks]) {
    const sides = (t: Table, cols: string[]) => [t, ...(exposed.get(t) ?? []).filter((e) => cols.every((c) => e.cols.has(c))).map((e) => e.view)];
    for (const table of sides(fk.table, fk.cols)) {
      for (const foreign of sides(fk.foreign, fk.fcols)) {
        if (table === fk.table && foreign === fk.foreign) continue;
        fks.push({ ...fk, table, foreign });
      }
    }
  }
  const relationships = new Map<string, Relationship[]>();
  const add = (rel: Relationship) => {
    const key = qualified(rel.table.schema, rel.table.name);
    const list = relationships.get(key) ?? [];
    list.push(rel);
    relationships.set(key, list);
  };
  const qn = (t: Table): QualifiedName => ({ schema: t.schema, name: t.name });
  const isUnique = (t: Table, cols: string[]) => t.uniques.some((u) => u.length === cols.length && u.every((c) => cols.includes(c)));
  for (const fk of fks) {
    const isSelf = fk.table === fk.foreign;
    const pairs = fk.cols.map((c, i) => [c, fk.fcols[i]!] as [string, string]);
    const oneToOne = isUnique(fk.table, fk.cols);
    add({ cardinality: oneToOne ? "O2O" : "M2O", table: qn(fk.table), foreignTable: qn(fk.foreign), constraint: fk.name, columns: pairs, isSelf, foreignIsView: fk.foreign.isView });
    add({ cardinality: oneToOne ? "O2O" : "O2M", table: qn(fk.foreign), foreignTable: qn(fk.table), constraint: fk.name, columns: pairs.map(([a, b]) => [b, a]), isSelf, foreignIsView: fk.table.isView });
  }
  // Many-to-many: a junction table whose two foreign keys' columns are all part of its primary key or of one
  // unique constraint (SchemaCache.hs addM2MRels).
  for (const j of new Set(fks.map((f) => f.table))) {
    const own = fks.filter((f) => f.table === j);
    for (const a of own) {
      for (const b of own) {
        if (a === b || a.foreign === j || b.foreign === j) continue;
        const covered = j.uniques.some((u) => [...a.cols, ...b.cols].every((c) => u.includes(c)));
        if (!covered) continue;
        add({
          cardinality: "M2M", table: qn(a.foreign), foreignTable: qn(b.foreign), constraint: j.name, columns: [],
          junction: {
            table: qn(j), constraint1: a.name, constraint2: b.name,
            sourceColumns: a.cols.map((c, i) => [c, a.fcols[i]!]), targetColumns: b.cols.map((c, i) => [c, b.fcols[i]!]),
          },
          isSelf: false, foreignIsView: b.foreign.isView,
        });
      }
    }
  }
  const routines = new Map<string, Routine[]>();
  for (const r of routineRows) {
    const modes = r.argmodes ?? r.argtypes.map(() => "i");
    const types = r.alltypes ?? r.argtypes;
    const names = r.argnames ?? [];
    const inputs: Array<{ name: string; type: string; variadic: boolean }> = [];
    modes.forEach((mode, i) => {
      if (mode === "i" || mode === "b" || mode === "v") inputs.push({ name: names[i] ?? "", type: types[i]!, variadic: mode === "v" });
    });
    const firstDefault = r.nargs - r.ndefaults;
    const args = inputs.map((a, i) => ({ ...a, hasDefault: i >= firstDefault }));
    const outputs = modes.filter((m) => m === "o" || m === "b" || m === "t").length;
    const composite = r.rettyptype === "c" || (r.rettype === "record" && outputs > 0) || r.rettype === "record";
    const routine: Routine = {
      schema: r.schema, name: r.name, args,
      returns: {
        kind: r.rettype === "void" ? "void" : composite ? "composite" : "scalar",
        type: r.rettype,
        setOf: r.setof,
      },
      volatility: r.volatility === "i" ? "immutable" : r.volatility === "s" ? "stable" : "volatile",
    };
    if (r.retrelschema && r.retrelname) routine.returns.relation = { schema: r.retrelschema, name: r.retrelname };
    if (r.description) routine.description = r.description;
    const key = qualified(r.schema, r.name);
    routines.set(key, [...(routines.get(key) ?? []), routine]);
  }
  return { schemas, tables, relationships, routines, timezones: new Set() };
}

/** A schema cache built from plain data, for planner tests. */
export function schemaCacheFrom(schemas: string[], tables: Table[], fks: Array<{ table: string; foreign: string; name: string; cols: string[]; fcols: string[] }>, routines: Routine[] = []): SchemaCache {
  let oid = 1;
  const oidOf = new Map<string, number>();
  const tableRows: TableRow[] = tables.map((t) => {
    oidOf.set(qualified(t.schema, t.name), oid);
    return { oid: oid++, schema: t.schema, name: t.name, kind: t.isView ? "v" : "r", description: t.description ?? null, insertable: true, updatable: true, deletable: true };
  });
  const columnRows: ColumnRow[] = tables.flatMap((t) => t.columns.map((c) => ({
    relid: oidOf.get(qualified(t.schema, t.name))!, name: c.name, type: c.type, udt: c.udt, nullable: c.nullable,
    default: c.default ?? null, generated: c.generated, description: c.description ?? null, enum: c.enum ?? null,
  })));
  const constraintRows: ConstraintRow[] = [
    ...tables.flatMap((t) => [
      ...(t.pk.length ? [{ relid: oidOf.get(qualified(t.schema, t.name))!, frelid: null, name: `${t.name}_pkey`, kind: "p", cols: t.pk, fcols: null }] : []),
      ...t.uniques.filter((u) => u !== t.pk).map((u, i) => ({ relid: oidOf.get(qualified(t.schema, t.name))!, frelid: null, name: `${t.name}_key${i}`, kind: "u", cols: u, fcols: null })),
    ]),
    ...fks.map((f) => ({ relid: oidOf.get(f.table)!, frelid: oidOf.get(f.foreign)!, name: f.name, kind: "f", cols: f.cols, fcols: f.fcols })),
  ];
  const cache = buildSchemaCache(schemas, tableRows, columnRows, constraintRows, []);
  for (const r of routines) {
    const key = qualified(r.schema, r.name);
    cache.routines.set(key, [...(cache.routines.get(key) ?? []), r]);
  }
  return cache;
}
