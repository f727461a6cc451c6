// Stage 2: the typed request resolved against the schema cache: ReadPlan (a tree of embeds), MutatePlan, CallPlan.
// Checked against PostgREST/postgrest:src/library/PostgREST/Plan.hs (readPlan, findRel, addFilters, addOrders,
// addRanges, mutatePlan, callPlan), Plan/ReadPlan.hs, Plan/MutatePlan.hs, Plan/CallPlan.hs.
import type { ApiRequest, Field, Filter, LogicTree, OrderTerm, SelectItem } from "./api-request.ts";
import {
  RestError, ambiguousRel, ambiguousRpc, columnNotFound, invalidBody, noRelBetween, noRpc, notEmbedded,
  relatedOrderNotToOne, tableNotFound, unacceptableFilter, type AmbiguousChoice,
} from "./error.ts";
import { qualified, type QualifiedName, type Relationship, type Routine, type SchemaCache, type Table } from "./schema-cache.ts";

export type SelectField =
  | { type: "star" }
  | { type: "column"; field: Field; alias?: string; cast?: string };

export interface EmbedPlan {
  /** The JSON key the embed appears under (alias, else the target name). */
  key: string;
  rel: Relationship;
  toOne: boolean;
  inner: boolean;
  spread: boolean;
  plan: ReadPlan;
  /** `embed=is.null` / `embed=not.is.null` on the parent. */
  nullFilter?: "null" | "not_null";
  /** `rel()` / `rel!inner()`: joined (for filtering) but left out of the body. */
  empty: boolean;
}

export interface ReadPlan {
  table: QualifiedName;
  /** The table's definition; undefined for an RPC returning a record type without a table. */
  def?: Table;
  /** SQL alias of this level's relation, unique in the query. */
  alias: string;
  select: SelectField[];
  embeds: EmbedPlan[];
  /** Filters and logic trees, ANDed. */
  where: LogicTree[];
  order: Array<OrderTerm & { embed?: EmbedPlan }>;
  limit?: number;
  offset: number;
}

export interface MutatePlan {
  kind: "insert" | "update" | "delete" | "upsert-put";
  table: Table;
  columns: string[];
  /** Rows as given (insert: an array; update: one object). */
  payload: Array<Record<string, unknown>>;
  /** The payload was a single object (affects singular responses). */
  single: boolean;
  onConflict?: { columns: string[]; resolution: "merge-duplicates" | "ignore-duplicates" };
  missingDefault: boolean;
  where: LogicTree[];
  /** The representation read over the affected rows. */
  read: ReadPlan;
}

export interface CallPlan {
  routine: Routine;
  /** Named arguments (name -> JSON value); undefined for a single unnamed json/jsonb argument. */
  args: Array<{ name: string; type: string; value: unknown; variadic: boolean }>;
  /** A single unnamed json/jsonb/text parameter receiving the whole body. */
  rawBody?: { type: string; value: unknown };
  /** Read over the function's rows (filters, select, order) when it returns rows. */
  read?: ReadPlan;
  readOnly: boolean;
}

export type Plan =
  | { kind: "read"; read: ReadPlan; table: Table }
  | { kind: "mutate"; mutate: MutatePlan }
  | { kind: "call"; call: CallPlan }
  | { kind: "openapi" };

// ---- relationships ---------------------------------------------------------------------------------------------

const single = (rel: Relationship, i: 0 | 1): string | undefined => (rel.columns.length === 1 ? rel.columns[0]![i] : undefined);

/** Finds the relationship an embed names (Plan.hs findRel, including its rules for self-relationships). */
export function findRel(cache: SchemaCache, schema: string, origin: string, target: string, hint: string | undefined): Relationship {
  const all = cache.relationships.get(qualified(schema, origin)) ?? [];
  const matches = all.filter((rel) => {
    const isO2M = rel.cardinality === "O2M";
    const isM2O = rel.cardinality === "M2O";
    const constraintOf = rel.cardinality === "M2M" ? undefined : rel.constraint;
    if (rel.isSelf) {
      if (hint === undefined) {
        return (target === rel.foreignTable.name && isO2M) || (single(rel, 0) === target && isM2O);
      }
      return target === rel.foreignTable.name && isO2M && single(rel, 1) === hint;
    }
    if (hint === undefined) {
      return target === rel.foreignTable.name
        || (constraintOf === target && !rel.foreignIsView)
        || (rel.cardinality !== "M2M" && single(rel, 0) === target && !rel.foreignIsView);
    }
    return target === rel.foreignTable.name && (
      constraintOf === hint
      || (rel.cardinality !== "M2M" && (single(rel, 0) === hint || single(rel, 1) === hint))
      || (rel.cardinality === "M2M" && rel.junction!.table.name === hint)
    );
  });
  if (matches.length === 0) throw noRelBetween(origin, target, hint, schema);
  if (matches.length > 1) throw ambiguousRel(origin, target, matches.map(describeRel));
  return matches[0]!;
}

const CARDINALITY = { M2O: "many-to-one", O2M: "one-to-many", O2O: "one-to-one", M2M: "many-to-many" } as const;

function describeRel(rel: Relationship): AmbiguousChoice {
  const list = (cols: string[]) => `(${cols.join(", ")})`;
  const relationship = rel.cardinality === "M2M"
    ? `${rel.junction!.table.name} using ${rel.junction!.constraint1}${list(rel.junction!.sourceColumns.map((c) => c[1]))} and ${rel.junction!.constraint2}${list(rel.junction!.targetColumns.map((c) => c[1]))}`
    : `${rel.constraint} using ${rel.table.name}${list(rel.columns.map((c) => c[0]))} and ${rel.foreignTable.name}${list(rel.columns.map((c) => c[1]))}`;
  return {
    embedding: `${rel.table.name} with ${rel.foreignTable.name}`,
    cardinality: CARDINALITY[rel.cardinality],
    relationship,
    hint: `${rel.foreignTable.name}!${rel.cardinality === "M2M" ? rel.junction!.table.name : rel.constraint}`,
  };
}

// ---- read plans --------------------------------------------------------------------------------------------------

class Aliases {
  private n = 0;
  next(): string {
    return `pgrst_${this.n++}`;
  }
}

function buildReadTree(cache: SchemaCache, schema: string, table: QualifiedName, def: Table | undefined, items: SelectItem[], aliases: Aliases, root: boolean): ReadPlan {
  const plan: ReadPlan = { table, alias: root ? "pgrst_source" : aliases.next(), select: [], embeds: [], where: [], order: [], offset: 0 };
  if (def) plan.def = def;
  for (const item of items) {
    if (item.type !== "embed") {
      plan.select.push(item);
      continue;
    }
    const rel = findRel(cache, schema, table.name, item.name, item.hint);
    const target = cache.tables.get(qualified(rel.foreignTable.schema, rel.foreignTable.name));
    const toOne = rel.cardinality === "M2O" || rel.cardinality === "O2O";
    const child = buildReadTree(cache, schema, rel.foreignTable, target, item.select.length ? item.select : [], aliases, false);
    plan.embeds.push({ key: item.alias ?? item.name, rel, toOne, inner: item.joinType === "inner", spread: item.spread, plan: child, empty: item.select.length === 0 });
  }
  return plan;
}

function embedAt(plan: ReadPlan, path: string[], what: string): ReadPlan {
  let node = plan;
  for (const name of path) {
    const next = node.embeds.find((e) => e.key === name);
    if (!next) throw notEmbedded(path.join("."));
    node = next.plan;
  }
  void what;
  return node;
}

/** Adds the request's filters, logic trees, orders and ranges to the tree (Plan.hs addFilters/addLogicTrees/...). */
function decorate(plan: ReadPlan, req: ApiRequest, filters: Array<{ path: string[]; filter: Filter }>, maxRows: number | undefined): void {
  for (const { path, filter } of filters) {
    const node = embedAt(plan, path, "filter");
    const embed = filter.field.json.length === 0 ? node.embeds.find((e) => e.key === filter.field.name) : undefined;
    if (embed) {
      if (filter.operation.op !== "is" || (filter.operation.value !== "null" && filter.operation.value !== "not_null")) {
        throw unacceptableFilter(filter.field.name);
      }
      const isNull = (filter.operation.value === "null") !== filter.negated;
      embed.nullFilter = isNull ? "null" : "not_null";
      continue;
    }
    node.where.push({ type: "filter", filter });
  }
  for (const { path, value } of req.logic) embedAt(plan, path, "logic").where.push(value);
  for (const { path, value } of req.orders) {
    const node = embedAt(plan, path, "order");
    for (const term of value) {
      if (term.relation === undefined) {
        node.order.push(term);
        continue;
      }
      const embed = node.embeds.find((e) => e.key === term.relation);
      if (!embed) throw notEmbedded(term.relation);
      if (!embed.toOne) throw relatedOrderNotToOne(node.table.name, term.relation);
      node.order.push({ ...term, embed });
    }
  }
  for (const { path, value } of req.limits) embedAt(plan, path, "limit").limit = value;
  for (const { path, value } of req.offsets) embedAt(plan, path, "offset").offset = value;
  // The Range header applies to the top level; limit/offset parameters win over it.
  if (req.range && !req.limits.some((l) => l.path.length === 0) && !req.offsets.some((o) => o.path.length === 0)) {
    plan.offset = req.range.from;
    if (req.range.to !== undefined) plan.limit = req.range.to - req.range.from + 1;
  }
  if (maxRows !== undefined && (plan.limit === undefined || plan.limit > maxRows)) plan.limit = maxRows;
}

function tableFilters(req: ApiRequest): Array<{ path: string[]; filter: Filter }> {
  return req.params.map((p) => {
    if (!p.filter) throw p.error ?? new RestError(400, "PGRST100", `"failed to parse filter (${p.value})"`);
    return { path: p.path, filter: p.filter };
  });
}

export interface PlanOptions {
  maxRows: number | undefined;
}

function tableOf(cache: SchemaCache, schema: string, name: string): Table {
  const table = cache.tables.get(qualified(schema, name));
  if (!table) throw tableNotFound(schema, name);
  return table;
}

export function readPlan(cache: SchemaCache, req: ApiRequest, opts: PlanOptions): Plan {
  if (req.target.kind !== "table") throw new Error("readPlan needs a table");
  const table = tableOf(cache, req.schema, req.target.name);
  const read = buildReadTree(cache, req.schema, table, table, req.select, new Aliases(), true);
  decorate(read, req, tableFilters(req), opts.maxRows);
  return { kind: "read", read, table };
}

// ---- mutate plans ------------------------------------------------------------------------------------------------

function rowsOf(payload: unknown): { rows: Array<Record<string, unknown>>; single: boolean } {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
  if (isObject(payload)) return { rows: [payload], single: true };
  if (Array.isArray(payload) && payload.every(isObject)) return { rows: payload, single: false };
  throw invalidBody("Empty or invalid json");
}

export function mutatePlan(cache: SchemaCache, req: ApiRequest, opts: PlanOptions): Plan {
  if (req.target.kind !== "table") throw new Error("mutatePlan needs a table");
  const table = tableOf(cache, req.schema, req.target.name);
  const kind = req.method === "POST" ? "insert" : req.method === "PATCH" ? "update" : req.method === "PUT" ? "upsert-put" : "delete";
  let rows: Array<Record<string, unknown>> = [];
  let isSingle = true;
  let columns: string[] = [];
  if (kind !== "delete") {
    if (req.payload === undefined) {
      if (kind === "update") rows = [{}];
      else throw invalidBody("Empty or invalid json");
    } else ({ rows, single: isSingle } = rowsOf(req.payload));
    if (req.columns) columns = req.columns;
    else if (rows.length > 0) {
      columns = Object.keys(rows[0]!);
      // PostgREST takes the first object's keys; every object must have the same ones (Payload.hs).
      const sameKeys = rows.every((r) => { const k = Object.keys(r); return k.length === columns.length && k.every((c) => columns.includes(c)); });
      if (!sameKeys) throw invalidBody("All object keys must match");
    }
    for (const c of columns) if (!table.columns.some((col) => col.name === c)) throw columnNotFound(table.name, c);
  }
  const read = buildReadTree(cache, req.schema, table, table, req.select, new Aliases(), true);
  const filters = tableFilters(req);
  // Filters address the mutated table; embed filters in a representation are not supported on writes.
  const where: LogicTree[] = [];
  for (const f of filters) {
    if (f.path.length > 0) embedAt(read, f.path, "filter").where.push({ type: "filter", filter: f.filter });
    else where.push({ type: "filter", filter: f.filter });
  }
  for (const l of req.logic) {
    if (l.path.length > 0) embedAt(read, l.path, "logic").where.push(l.value);
    else where.push(l.value);
  }
  for (const o of req.orders) if (o.path.length > 0) embedAt(read, o.path, "order").order.push(...o.value);
  for (const l of req.limits) if (l.path.length > 0) embedAt(read, l.path, "limit").limit = l.value;
  void opts;
  const plan: MutatePlan = { kind, table, columns, payload: rows, single: isSingle, missingDefault: req.prefer.missing === "default", where, read };
  if (kind === "insert" && req.prefer.resolution) {
    plan.onConflict = { columns: req.onConflict ?? table.pk, resolution: req.prefer.resolution };
  }
  if (kind === "upsert-put") {
    if (!isSingle) throw invalidBody("Payload must be a single object for PUT");
    const pkFilters = where.filter((w) => w.type === "filter" && w.filter.operation.op === "eq" && !w.filter.negated);
    const pkCols = pkFilters.map((w) => (w.type === "filter" ? w.filter.field.name : ""));
    if (table.pk.length === 0 || where.length !== table.pk.length || !table.pk.every((c) => pkCols.includes(c))) {
      throw new RestError(405, "PGRST105", "Filters must include all and only primary key columns with 'eq' operators");
    }
    for (const w of pkFilters) {
      if (w.type !== "filter" || w.filter.operation.op !== "eq") continue;
      if (String(rows[0]![w.filter.field.name]) !== w.filter.operation.value) {
        throw new RestError(400, "PGRST115", "Payload values do not match URL in primary key column(s)");
      }
    }
    plan.onConflict = { columns: table.pk, resolution: "merge-duplicates" };
  }
  return { kind: "mutate", mutate: plan };
}

// ---- call plans --------------------------------------------------------------------------------------------------

const JSON_TYPES = new Set(["json", "jsonb"]);

export function callPlan(cache: SchemaCache, req: ApiRequest, opts: PlanOptions): Plan {
  if (req.target.kind !== "rpc") throw new Error("callPlan needs a function");
  const name = req.target.name;
  const candidates = cache.routines.get(qualified(req.schema, name)) ?? [];
  const isPost = req.method === "POST";
  if (!isPost && req.method !== "GET" && req.method !== "HEAD") throw new RestError(405, "PGRST101", `Cannot use the ${req.method} method on RPC`);

  let given: Record<string, unknown> = {};
  const argNames = new Set(candidates.flatMap((r) => r.args.map((a) => a.name)));
  if (isPost) {
    const body = req.payload;
    if (body !== undefined && body !== null && typeof body === "object" && !Array.isArray(body)) given = body as Record<string, unknown>;
    else if (body !== undefined && typeof body !== "string") given = {};
  } else {
    for (const p of req.params) if (p.path.length === 0 && argNames.has(p.key)) given[p.key] = p.value;
  }
  const keys = Object.keys(given);
  const matches = candidates.filter((r) => {
    const named = r.args.filter((a) => a.name !== "");
    if (named.length !== r.args.length) return false;
    return keys.every((k) => named.some((a) => a.name === k)) && named.every((a) => a.hasDefault || keys.includes(a.name));
  });
  let routine: Routine | undefined;
  let rawBody: CallPlan["rawBody"];
  if (matches.length > 1) {
    throw ambiguousRpc(matches.map((r) => `${r.schema}.${r.name}(${r.args.map((a) => `${a.name} => ${a.type}`).join(", ")})`));
  }
  if (matches.length === 1) routine = matches[0];
  else if (isPost && req.payload !== undefined) {
    // A single unnamed json/jsonb parameter receives the whole body (or text, for a raw body).
    routine = candidates.find((r) => r.args.length === 1 && r.args[0]!.name === "" &&
      (typeof req.payload === "string" ? r.args[0]!.type === "text" : JSON_TYPES.has(r.args[0]!.type)));
    if (routine) rawBody = { type: routine.args[0]!.type, value: req.payload };
  }
  if (!routine) throw noRpc(req.schema, name, keys.sort(), isPost && req.contentType === "application/json");
  // GET and HEAD run any function, in a READ ONLY transaction: a volatile function that writes fails with 25006
  // (405), as on PostgREST.

  const plan: CallPlan = {
    routine,
    args: rawBody ? [] : routine.args.filter((a) => a.name in given).map((a) => ({ name: a.name, type: a.type, value: given[a.name], variadic: a.variadic })),
    readOnly: routine.volatility !== "volatile" || !isPost,
  };
  if (rawBody) plan.rawBody = rawBody;
  if (routine.returns.kind !== "void") {
    const relation = routine.returns.relation;
    const def = relation ? cache.tables.get(qualified(relation.schema, relation.name)) : undefined;
    const table = relation ?? { schema: req.schema, name };
    const select = routine.returns.kind === "scalar" ? [{ type: "star" } as SelectItem] : req.select;
    const read = buildReadTree(cache, req.schema, table, def, select, new Aliases(), true);
    const filters = req.params.filter((p) => isPost || !argNames.has(p.key) || p.path.length > 0).map((p) => {
      if (!p.filter) throw p.error ?? new RestError(400, "PGRST100", `"failed to parse filter (${p.value})"`);
      return { path: p.path, filter: p.filter };
    });
    decorate(read, req, filters, routine.returns.setOf ? opts.maxRows : undefined);
    plan.read = read;
  }
  return { kind: "call", call: plan };
}

/** The plan for a request. */
export function plan(cache: SchemaCache, req: ApiRequest, opts: PlanOptions): Plan {
  if (req.target.kind === "root") {
    if (req.method !== "GET" && req.method !== "HEAD") throw new RestError(405, "PGRST117", `Unsupported HTTP method: ${req.method}`);
    return { kind: "openapi" };
  }
  if (req.target.kind === "rpc") return callPlan(cache, req, opts);
  if (req.method === "GET" || req.method === "HEAD") return readPlan(cache, req, opts);
  return mutatePlan(cache, req, opts);
}
