// Stage 3: plans -> SQL text with bind parameters. Every value is a parameter; every identifier goes through ident().
// The statement shape follows PostgREST/postgrest:src/library/PostgREST/Query/QueryBuilder.hs and
// Query/SqlFragment.hs: a `pgrst_source` read (or CTE around the mutation / function call), then one row with the
// total count, the page count and the body built by json_agg.
import { FTS_OPERATORS, OPERATORS, type Field, type Filter, type LogicTree } from "./api-request.ts";
import type { CallPlan, EmbedPlan, MutatePlan, ReadPlan } from "./plan.ts";
import type { Table } from "./schema-cache.ts";

/** The one identifier quoting helper: "name" with embedded quotes doubled. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualifiedIdent(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}

/** A type name from the catalogs or a validated cast (letters, digits, _, spaces, []) : never user data as is. */
function typeName(type: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_ ."]*(\[\])*$/.test(type)) throw new Error(`unexpected type name ${type}`);
  return type;
}

/** Collects bind parameters and hands out their placeholders. */
export class Params {
  readonly values: Array<string | null> = [];
  add(value: string | null): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** A PostgreSQL array literal of text elements: {"a","b \"c\""}. */
export function arrayLiteral(values: string[]): string {
  return `{${values.map((v) => `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",")}}`;
}

function fieldExpr(alias: string, field: Field, p: Params): string {
  let expr = `${ident(alias)}.${ident(field.name)}`;
  for (const step of field.json) {
    expr += typeof step.key === "number" ? `${step.arrow}${p.add(String(step.key))}::integer` : `${step.arrow}${p.add(step.key)}::text`;
  }
  return expr;
}

function outputName(field: Field): string {
  if (field.json.length === 0) return field.name;
  return String(field.json[field.json.length - 1]!.key);
}

function columnType(def: Table | undefined, name: string): string | undefined {
  return def?.columns.find((c) => c.name === name)?.type;
}

function filterSql(alias: string, def: Table | undefined, filter: Filter, p: Params): string {
  const expr = fieldExpr(alias, filter.field, p);
  const op = filter.operation;
  let sql: string;
  switch (op.op) {
    case "in":
      sql = `${expr} = any(${p.add(arrayLiteral(op.values))})`;
      break;
    case "is":
      sql = `${expr} is ${{ null: "null", not_null: "not null", true: "true", false: "false", unknown: "unknown" }[op.value]}`;
      break;
    case "fts": case "plfts": case "phfts": case "wfts": {
      const fn = FTS_OPERATORS[op.op];
      const config = op.config !== undefined ? `${p.add(op.config)}::regconfig, ` : "";
      const isVector = filter.field.json.length === 0 && columnType(def, filter.field.name) === "tsvector";
      const vector = isVector ? expr : `to_tsvector(${config}${expr})`;
      sql = `${vector} @@ ${fn}(${config}${p.add(op.value)})`;
      break;
    }
    default: {
      const sqlOp = OPERATORS[op.op];
      const isLike = op.op === "like" || op.op === "ilike";
      const fix = (v: string) => (isLike ? v.replace(/\*/g, "%") : v);
      if (op.quantifier) sql = `${expr} ${sqlOp} ${op.quantifier}(${p.add(arrayLiteral((op.values ?? []).map(fix)))})`;
      else sql = `${expr} ${sqlOp} ${p.add(fix(op.value))}`;
    }
  }
  return filter.negated ? `not (${sql})` : sql;
}

export function logicSql(alias: string, def: Table | undefined, tree: LogicTree, p: Params): string {
  if (tree.type === "filter") return filterSql(alias, def, tree.filter, p);
  const parts = tree.children.map((c) => logicSql(alias, def, c, p));
  const joined = parts.length === 0 ? "true" : `(${parts.join(tree.op === "and" ? " and " : " or ")})`;
  return tree.negated ? `not ${joined}` : joined;
}

/** The lateral join's alias for an embed (the child's table alias is used inside it). */
const embedAlias = (e: EmbedPlan) => `${e.plan.alias}_e`;

/** Output column names of a level (for spreads and mutation representations). */
function outputColumns(plan: ReadPlan): string[] {
  const names: string[] = [];
  for (const s of plan.select) {
    if (s.type === "star") names.push(...(plan.def?.columns.map((c) => c.name) ?? []));
    else names.push(s.alias ?? outputName(s.field));
  }
  for (const e of plan.embeds) {
    if (e.spread) names.push(...outputColumns(e.plan));
    else if (!e.empty) names.push(e.key);
  }
  return names;
}

interface Level {
  select: string[];
  joins: string[];
  where: string[];
}

/** Select list, joins and conditions of one level; `starColumns` replaces `*` (mutations read their CTE). */
function level(plan: ReadPlan, p: Params, starColumns?: string[], withSelect = true): Level {
  const a = plan.alias;
  const select: string[] = [];
  for (const s of withSelect ? plan.select : []) {
    if (s.type === "star") {
      if (starColumns) select.push(...starColumns.map((c) => `${ident(a)}.${ident(c)}`));
      else select.push(`${ident(a)}.*`);
      continue;
    }
    let expr = fieldExpr(a, s.field, p);
    if (s.cast) expr = `cast(${expr} as ${typeName(s.cast)})`;
    select.push(`${expr} as ${ident(s.alias ?? outputName(s.field))}`);
  }
  const joins: string[] = [];
  const where: string[] = plan.where.map((w) => logicSql(a, plan.def, w, p));
  for (const e of plan.embeds) {
    const ea = embedAlias(e);
    const child = childQuery(plan, e, p);
    if (e.toOne) {
      joins.push(`${e.inner ? "inner" : "left"} join lateral (${child}) as ${ident(ea)} on true`);
      if (e.spread) for (const c of outputColumns(e.plan)) select.push(`${ident(ea)}.${ident(c)} as ${ident(c)}`);
      else if (!e.empty) select.push(`row_to_json(${ident(ea)}.*)::jsonb as ${ident(e.key)}`);
      if (e.nullFilter) where.push(`row_to_json(${ident(ea)}.*) is ${e.nullFilter === "null" ? "null" : "not null"}`);
    } else if (e.spread) {
      // To-many spread (PostgREST 13): each column becomes a correlated array (SqlFragment.hs pgFmtSpreadJoinSelectItem).
      const rows = `${e.plan.alias}_rows`;
      const cols = outputColumns(e.plan);
      const aggs = cols.map((c) => `coalesce(json_agg(${ident(rows)}.${ident(c)}), '[]')::jsonb as ${ident(c)}`);
      joins.push(`${e.inner ? "inner" : "left"} join lateral (select json_agg(${ident(rows)})::jsonb as body${aggs.length ? `, ${aggs.join(", ")}` : ""} from (${child}) as ${ident(rows)}) as ${ident(ea)} on ${e.inner ? `${ident(ea)}.body is not null` : "true"}`);
      for (const c of cols) select.push(`${ident(ea)}.${ident(c)} as ${ident(c)}`);
      if (e.nullFilter) where.push(`${ident(ea)}.body is ${e.nullFilter === "null" ? "null" : "not null"}`);
    } else {
      const rows = `${e.plan.alias}_rows`;
      joins.push(`${e.inner ? "inner" : "left"} join lateral (select json_agg(${ident(rows)})::jsonb as body from (${child}) as ${ident(rows)}) as ${ident(ea)} on ${e.inner ? `${ident(ea)}.body is not null` : "true"}`);
      if (!e.empty) select.push(`coalesce(${ident(ea)}.body, '[]'::jsonb) as ${ident(e.key)}`);
      if (e.nullFilter) where.push(`${ident(ea)}.body is ${e.nullFilter === "null" ? "null" : "not null"}`);
    }
  }
  if (select.length === 0) select.push("null as pgrst_empty"); // select= with only embeds spread away
  return { select, joins, where };
}

function orderSql(plan: ReadPlan, p: Params): string {
  if (plan.order.length === 0) return "";
  const terms = plan.order.map((o) => {
    const expr = o.embed ? fieldExpr(embedAlias(o.embed), o.field, p) : fieldExpr(plan.alias, o.field, p);
    return `${expr}${o.direction ? ` ${o.direction}` : ""}${o.nulls ? ` nulls ${o.nulls}` : ""}`;
  });
  return ` order by ${terms.join(", ")}`;
}

function rangeSql(plan: ReadPlan, p: Params): string {
  let sql = "";
  if (plan.limit !== undefined) sql += ` limit ${p.add(String(plan.limit))}::bigint`;
  if (plan.offset > 0) sql += ` offset ${p.add(String(plan.offset))}::bigint`;
  return sql;
}

function childQuery(parent: ReadPlan, e: EmbedPlan, p: Params): string {
  const c = e.plan;
  const lv = level(c, p);
  const from = qualifiedIdent(c.table.schema, c.table.name);
  const conds: string[] = [];
  let junctionJoin = "";
  if (e.rel.cardinality === "M2M") {
    const j = e.rel.junction!;
    const ja = `${c.alias}_j`;
    junctionJoin = ` join ${qualifiedIdent(j.table.schema, j.table.name)} as ${ident(ja)} on ${j.targetColumns.map(([jc, tc]) => `${ident(ja)}.${ident(jc)} = ${ident(c.alias)}.${ident(tc)}`).join(" and ")}`;
    conds.push(...j.sourceColumns.map(([jc, sc]) => `${ident(ja)}.${ident(jc)} = ${ident(parent.alias)}.${ident(sc)}`));
  } else {
    conds.push(...e.rel.columns.map(([col, fcol]) => `${ident(c.alias)}.${ident(fcol)} = ${ident(parent.alias)}.${ident(col)}`));
  }
  const where = [...conds, ...lv.where];
  return `select ${lv.select.join(", ")} from ${from} as ${ident(c.alias)}${junctionJoin}${lv.joins.map((j) => ` ${j}`).join("")} where ${where.join(" and ")}${orderSql(c, p)}${rangeSql(c, p)}`;
}

export interface BuiltQuery {
  sql: string;
  params: Array<string | null>;
}

export interface ReadQueryOptions {
  /** Also compute the exact count of all matching rows. */
  count: boolean;
  /** Body as one object (the first row) instead of an array. */
  single: boolean;
}

/** The FROM ... WHERE part of a level, reused for the page and the count (same placeholders, same parameters). */
function sourceQuery(plan: ReadPlan, source: string, p: Params, starColumns?: string[], withSelect = true): { page: string; countFrom: string } {
  const lv = level(plan, p, starColumns, withSelect);
  const fromWhere = `from ${source} as ${ident(plan.alias)}${lv.joins.map((j) => ` ${j}`).join("")}${lv.where.length ? ` where ${lv.where.join(" and ")}` : ""}`;
  return { page: `select ${lv.select.join(", ")} ${fromWhere}${orderSql(plan, p)}${rangeSql(plan, p)}`, countFrom: fromWhere };
}

function wrap(page: string, total: string, single: boolean, ctes = ""): string {
  const body = single ? `coalesce((json_agg(_postgrest_t)->0)::text, 'null')` : `coalesce(json_agg(_postgrest_t), '[]')::text`;
  return `${ctes}select ${total} as total_result_set, pg_catalog.count(_postgrest_t)::bigint as page_total, ${body} as body from (${page}) as _postgrest_t`;
}

/** GET/HEAD on a table or view. */
export function readQuery(plan: ReadPlan, opts: ReadQueryOptions): BuiltQuery & { count: BuiltQuery } {
  const p = new Params();
  const { page, countFrom } = sourceQuery(plan, qualifiedIdent(plan.table.schema, plan.table.name), p);
  const total = opts.count ? `(select pg_catalog.count(*) ${countFrom})::bigint` : "null::bigint";
  return { sql: wrap(page, total, opts.single), params: p.values, count: countQuery(plan, qualifiedIdent(plan.table.schema, plan.table.name)) };
}

/** `select 1 from ... where ...` alone, with only its own parameters (EXPLAIN for count=planned needs every
 * parameter referenced). */
function countQuery(plan: ReadPlan, source: string): BuiltQuery {
  const p = new Params();
  const prefix = "";
  const { countFrom } = sourceQuery({ ...plan, order: [], limit: undefined, offset: 0 } as ReadPlan, source, p, undefined, false);
  return { sql: `${prefix}select 1 ${countFrom}`, params: p.values };
}

/** The columns a mutation must return for its representation: what the select names plus what embeds join on. */
function returning(plan: MutatePlan, representation: boolean, extra: string[]): string {
  const a = ident(plan.table.name);
  const col = (c: string) => `${a}.${ident(c)}`;
  if (!representation) return extra.length ? extra.map(col).join(", ") : "1";
  const read = plan.read;
  if (read.select.some((s) => s.type === "star")) return [`${a}.*`, ...extra.map(col)].join(", ");
  const cols = new Set<string>(extra);
  for (const s of read.select) if (s.type === "column") cols.add(s.field.name);
  for (const e of read.embeds) {
    if (e.rel.cardinality === "M2M") for (const [, sc] of e.rel.junction!.sourceColumns) cols.add(sc);
    else for (const [col] of e.rel.columns) cols.add(col);
  }
  return cols.size ? [...cols].map(col).join(", ") : "1";
}

export interface MutateQueryOptions {
  representation: boolean;
  count: boolean;
  single: boolean;
  /** Return the primary key (for Location). */
  withPk: boolean;
}

/** POST/PATCH/PUT/DELETE on a table. */
export function mutateQuery(plan: MutatePlan, opts: MutateQueryOptions): BuiltQuery {
  const p = new Params();
  const t = plan.table;
  const target = qualifiedIdent(t.schema, t.name);
  const alias = ident(t.name);
  const where = plan.where.map((w) => logicSql(t.name, t, w, p));
  const pk = opts.withPk ? t.pk : [];
  const isUpsert = plan.onConflict?.resolution === "merge-duplicates";
  let mutation: string;
  if (plan.kind === "insert" || plan.kind === "upsert-put") {
    const cols = plan.columns;
    const body = p.add(JSON.stringify(plan.payload));
    const values = cols.map((c) => {
      const col = t.columns.find((x) => x.name === c)!;
      if (!plan.missingDefault) return `pgrst_r.${ident(c)}`;
      return `case when pgrst_e ? ${p.add(c)} then pgrst_r.${ident(c)} else ${col.default ?? "null"} end`;
    });
    mutation = cols.length === 0
      ? `insert into ${target} as ${alias} select from jsonb_array_elements(${body}::jsonb)`
      : `insert into ${target} as ${alias} (${cols.map(ident).join(", ")}) select ${values.join(", ")} from jsonb_array_elements(${body}::jsonb) as pgrst_e, lateral jsonb_populate_record(null::${target}, pgrst_e) as pgrst_r`;
    if (plan.onConflict) {
      const target = `(${plan.onConflict.columns.map(ident).join(", ")})`;
      const updates = cols.map((c) => `${ident(c)} = excluded.${ident(c)}`);
      mutation += plan.onConflict.resolution === "ignore-duplicates" || updates.length === 0
        ? ` on conflict ${target} do nothing`
        : ` on conflict ${target} do update set ${updates.join(", ")}`;
      if (plan.kind === "upsert-put" && where.length) mutation += ""; // PUT's filters were checked against the payload
    }
  } else if (plan.kind === "update") {
    const cols = plan.columns;
    const body = p.add(JSON.stringify(plan.payload[0] ?? {}));
    mutation = cols.length === 0
      ? `select ${alias}.* from ${target} as ${alias} where false`
      : `update ${target} as ${alias} set ${cols.map((c) => `${ident(c)} = pgrst_r.${ident(c)}`).join(", ")} from jsonb_populate_record(null::${target}, ${body}::jsonb) as pgrst_r${where.length ? ` where ${where.join(" and ")}` : ""}`;
  } else {
    mutation = `delete from ${target} as ${alias}${where.length ? ` where ${where.join(" and ")}` : ""}`;
  }
  const extra = [...pk];
  const inserted = isUpsert || plan.kind === "upsert-put";
  const ret = returning(plan, opts.representation, extra);
  const returningList = `${ret}${inserted ? `, (${alias}.xmax = 0) as pgrst_inserted` : ""}`;
  if (!(plan.kind === "update" && plan.columns.length === 0)) mutation += ` returning ${returningList}`;
  else mutation = `select ${returningList} from ${target} as ${alias} where false`;

  const read: ReadPlan = { ...plan.read, alias: "pgrst_mutation_row" };
  const star = t.columns.map((c) => c.name);
  const { page } = sourceQuery(read, "pgrst_mutation", p, star);
  const page2 = opts.representation ? page : "select 1 from pgrst_mutation";
  const pkSelect = pk.length ? `, (select row_to_json(x)::text from (select ${pk.map((c) => ident(c)).join(", ")} from pgrst_mutation limit 1) x) as location` : ", null::text as location";
  const insertedSelect = inserted ? ", (select count(*) from pgrst_mutation where pgrst_inserted)::bigint as inserted" : ", null::bigint as inserted";
  const sql = `with pgrst_mutation as (${mutation}) select *${pkSelect}${insertedSelect} from (${wrap(page2, "null::bigint", opts.single)}) as pgrst_result`;
  return { sql, params: p.values };
}

/** The function call with its arguments, generated into `p` (run again for the separate count statement). */
function callSql(plan: CallPlan, isPost: boolean, p: Params): { ctes: string; call: string } {
  const r = plan.routine;
  const fn = qualifiedIdent(r.schema, r.name);
  let ctes = "";
  let args: string;
  if (plan.rawBody) {
    const value = typeof plan.rawBody.value === "string" && plan.rawBody.type === "text" ? plan.rawBody.value : JSON.stringify(plan.rawBody.value);
    args = `${p.add(value)}::${typeName(plan.rawBody.type)}`;
  } else if (isPost && plan.args.length > 0) {
    // Named arguments from the JSON body, typed by the function's own parameter types (as PostgREST's
    // json_to_record over the body does).
    const record = Object.fromEntries(plan.args.map((a) => [a.name, a.value]));
    ctes = `with pgrst_args as (select * from jsonb_to_record(${p.add(JSON.stringify(record))}::jsonb) as x(${plan.args.map((a) => `${ident(a.name)} ${typeName(a.type)}`).join(", ")})) `;
    args = plan.args.map((a) => `${a.variadic ? "variadic " : ""}${ident(a.name)} := (select ${ident(a.name)} from pgrst_args)`).join(", ");
  } else {
    args = plan.args.map((a) => `${a.variadic ? "variadic " : ""}${ident(a.name)} := ${p.add(a.value === null || a.value === undefined ? null : String(a.value))}::${typeName(a.type)}`).join(", ");
  }
  return { ctes, call: `${fn}(${args})` };
}

/** POST/GET/HEAD on /rpc/fn. */
export function callQuery(plan: CallPlan, opts: ReadQueryOptions & { isPost: boolean }): BuiltQuery & { count?: BuiltQuery } {
  const p = new Params();
  const r = plan.routine;
  const { ctes, call } = callSql(plan, opts.isPost, p);
  if (r.returns.kind === "void" || !plan.read) {
    return { sql: `${ctes}select null::bigint as total_result_set, 1::bigint as page_total, coalesce(to_jsonb(${call})::text, 'null') as body`, params: p.values };
  }
  if (r.returns.kind === "scalar") {
    const read = plan.read;
    if (!r.returns.setOf) {
      return { sql: `${ctes}select null::bigint as total_result_set, 1::bigint as page_total, coalesce(to_jsonb(${call})::text, 'null') as body`, params: p.values };
    }
    const page = `select pgrst_scalar from ${call} as pgrst_scalar${read.where.length ? ` where ${read.where.map((w) => logicSql("pgrst_scalar", undefined, w, p)).join(" and ")}` : ""}${rangeSql(read, p)}`;
    const total = opts.count ? `(select pg_catalog.count(*) from ${call} as pgrst_scalar)::bigint` : "null::bigint";
    return { sql: `${ctes}select ${total} as total_result_set, pg_catalog.count(*)::bigint as page_total, coalesce(json_agg(_postgrest_t.pgrst_scalar), '[]')::text as body from (${page}) as _postgrest_t`, params: p.values };
  }
  const read: ReadPlan = { ...plan.read, alias: r.name };
  const { page, countFrom } = sourceQuery(read, call, p);
  const total = opts.count ? `(select pg_catalog.count(*) ${countFrom})::bigint` : "null::bigint";
  const single = opts.single || !r.returns.setOf;
  const count = (() => {
    const p2 = new Params();
    const c = callSql(plan, opts.isPost, p2);
    const { countFrom: from2 } = sourceQuery({ ...read, order: [], limit: undefined, offset: 0 } as ReadPlan, c.call, p2, undefined, false);
    return { sql: `${c.ctes}select 1 ${from2}`, params: p2.values };
  })();
  return { sql: wrap(page, total, single, ctes), params: p.values, count };
}
