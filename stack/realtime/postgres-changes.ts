// postgres_changes: the changes of tables in the `supabase_realtime` publication, read from a wal2json slot and
// checked per subscriber the way realtime.apply_rls does it (supabase/realtime migrations
// 20260709120000_fix_apply_rls_filter_role_leak.ex, 20230328144023_create_list_changes_function.ex and their
// successors; lib/extensions/postgres_cdc_rls/subscriptions.ex and replication_poller.ex; checked at 833cf36):
// - the slot is read with pg_logical_slot_get_changes (wal2json format-version 2, include-pk, include-timestamp,
//   include-type-oids, actions and add-tables from the publication) every 100 ms;
// - values are cast to their column types and turned into JSON with to_jsonb (realtime.cast);
// - filters (eq, neq, lt, lte, gt, gte, in, optionally `not.`) compare typed values in SQL; a NULL result fails;
// - INSERT/UPDATE on a table with RLS: per subscriber, `exists(select 1 from <table> where <pk> = <value>)` as the
//   subscriber's role with its request.jwt.claims; DELETE goes to every subscriber whose filter matches the old row,
//   with NO RLS check, and on RLS tables old_record holds only the primary key columns;
// - columns, record and old_record are limited to the columns the subscriber's role may SELECT.
// The subscriptions live in memory here, not in realtime.subscription (see docs/local-stack/realtime.md).
import type postgres from "postgres";
import type { Channel } from "./channel.ts";

export const PUBLICATION = "supabase_realtime";
const POLL_MS = 100;
const MAX_CHANGES = 1000;

export interface ChangeSubscription {
  id: string;
  channel: Channel;
  params: Record<string, unknown>;
  /** The id the client matches incoming changes on (the join reply's postgres_changes[].id). */
  hashId: number;
  claims: Record<string, unknown>;
  parsed?: ParsedParams;
}

type Op = "eq" | "neq" | "lt" | "lte" | "gt" | "gte" | "in";
const OPS: Record<Op, string> = { eq: "=", neq: "!=", lt: "<", lte: "<=", gt: ">", gte: ">=", in: "= any" };

interface Filter {
  column: string;
  op: Op;
  value: string;
  negate: boolean;
}

interface ParsedParams {
  event: "*" | "INSERT" | "UPDATE" | "DELETE";
  schema: string;
  table: string;
  filters: Filter[];
}

/** Splits on commas outside parentheses: `a=eq.1,b=in.(x,y)`. */
function splitFilters(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

export function parseParams(params: Record<string, unknown>): ParsedParams | string {
  const rawEvent = typeof params.event === "string" ? params.event.toUpperCase() : "*";
  const event = (["*", "INSERT", "UPDATE", "DELETE"].includes(rawEvent) ? rawEvent : "*") as ParsedParams["event"];
  const schema = typeof params.schema === "string" ? params.schema : undefined;
  const table = typeof params.table === "string" ? params.table : undefined;
  if (schema === undefined && table === undefined) {
    return `No subscription params provided. Please provide at least a \`schema\` or \`table\` to subscribe to: ${JSON.stringify(params)}`;
  }
  const filters: Filter[] = [];
  const filterText = typeof params.filter === "string" ? params.filter.trim() : "";
  if (filterText !== "") {
    for (const part of splitFilters(filterText)) {
      const eq = part.indexOf("=");
      const column = part.slice(0, eq);
      let rest = eq > 0 ? part.slice(eq + 1) : "";
      let negate = false;
      if (rest.startsWith("not.")) {
        negate = true;
        rest = rest.slice(4);
      }
      const dot = rest.indexOf(".");
      const op = rest.slice(0, dot) as Op;
      let value = rest.slice(dot + 1);
      if (eq <= 0 || dot <= 0 || !(op in OPS)) {
        // Elixir's inspect of the split list: ["foo", "hey"]
        const shown = (eq <= 0 ? [part] : rest.split(".")).map((x) => JSON.stringify(x)).join(", ");
        return `Error parsing \`filter\` params: [${shown}]`;
      }
      if (op === "in") value = `{${value.replace(/^\(/, "").replace(/\)$/, "")}}`;
      filters.push({ column, op, value, negate });
    }
  }
  return { event, schema: schema ?? "public", table: table ?? "*", filters };
}

interface ColumnInfo {
  name: string;
  typname: string;
  typeSql: string;
  isPkey: boolean;
}

interface TableInfo {
  oid: number;
  schema: string;
  table: string;
  rls: boolean;
  columns: ColumnInfo[];
}

interface Wal2JsonColumn {
  name: string;
  type: string;
  typeoid?: number;
  value: unknown;
}

interface Wal2JsonChange {
  action: "I" | "U" | "D" | "T" | "B" | "C" | "M";
  schema: string;
  table: string;
  timestamp?: string;
  columns?: Wal2JsonColumn[];
  identity?: Wal2JsonColumn[];
  pk?: { name: string }[];
}

const ACTIONS: Record<string, "INSERT" | "UPDATE" | "DELETE"> = { I: "INSERT", U: "UPDATE", D: "DELETE" };

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** wal2json's value as the text realtime.cast receives ((x->'value') #>> '{}'). */
function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === "string" ? value : JSON.stringify(value);
}

export class PostgresChanges {
  private readonly subscriptions = new Set<ChangeSubscription>();
  private readonly tables = new Map<string, TableInfo>();
  private readonly privileges = new Map<string, boolean>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly sql: postgres.Sql,
    private slotConn: postgres.ReservedSql,
    private slot: string,
  ) {}

  private static async createSlot(sql: postgres.Sql): Promise<[postgres.ReservedSql, string]> {
    const conn = await sql.reserve();
    const slot = `supabase_realtime_replication_slot_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    await conn`select * from pg_create_logical_replication_slot(${slot}, 'wal2json', true)`;
    return [conn, slot];
  }

  /** Creates the wal2json slot (temporary, on a reserved connection) and starts polling it. */
  static async start(sql: postgres.Sql): Promise<PostgresChanges> {
    const [conn, slot] = await PostgresChanges.createSlot(sql);
    const changes = new PostgresChanges(sql, conn, slot);
    changes.schedule();
    return changes;
  }

  /** A lost slot connection loses its temporary slot: start over with a new one (changes in between are lost,
   * as when the real server's poller restarts). */
  private async recover(error: unknown): Promise<void> {
    console.error("realtime: postgres_changes poll failed:", (error as Error).message);
    try {
      await this.slotConn`select 1 from pg_replication_slots where slot_name = ${this.slot}`.then((rows) => {
        if (rows.length === 0) throw new Error("slot gone");
      });
    } catch {
      if (this.closed) return;
      try {
        this.slotConn.release();
      } catch {
        // the connection is gone already
      }
      [this.slotConn, this.slot] = await PostgresChanges.createSlot(this.sql);
    }
  }

  subscribe(subs: ChangeSubscription[]): { ok: true } | { ok: false; message: string } {
    for (const s of subs) {
      const parsed = parseParams(s.params);
      if (typeof parsed === "string") return { ok: false, message: parsed };
      s.parsed = parsed;
    }
    for (const s of subs) this.subscriptions.add(s);
    return { ok: true };
  }

  unsubscribe(subs: ChangeSubscription[]): void {
    for (const s of subs) this.subscriptions.delete(s);
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll()
        .catch((error) => this.recover(error))
        .catch((error) => console.error("realtime: postgres_changes slot could not be recreated:", (error as Error).message))
        .finally(() => this.schedule());
    }, POLL_MS);
    this.timer.unref?.();
  }

  private async poll(): Promise<void> {
    const [pub] = await this.slotConn<{ actions: string | null; tables: string | null }[]>`
      select concat_ws(',',
               case when bool_or(pp.pubinsert) then 'insert' end,
               case when bool_or(pp.pubupdate) then 'update' end,
               case when bool_or(pp.pubdelete) then 'delete' end) as actions,
             string_agg(format('%s.%s', replace(quote_ident(ppt.schemaname), '.', '\\.'),
                                        replace(quote_ident(ppt.tablename), '.', '\\.')), ',')
               filter (where ppt.tablename is not null) as tables
        from pg_publication pp
        left join pg_publication_tables ppt on ppt.pubname = pp.pubname
       where pp.pubname = ${PUBLICATION}
       group by pp.pubname`;
    const tables = pub?.tables ?? "";
    const rows = await this.slotConn<{ data: string }[]>`
      select data from pg_logical_slot_get_changes(${this.slot}, null, ${MAX_CHANGES},
        'include-pk', 'true', 'include-transaction', 'false', 'include-timestamp', 'true',
        'include-type-oids', 'true', 'format-version', '2', 'actions', ${pub?.actions || "insert,update,delete"},
        'add-tables', ${tables === "" ? "realtime.__none__" : tables})`;
    if (tables === "" || this.subscriptions.size === 0) return;
    for (const row of rows) {
      const change = JSON.parse(row.data) as Wal2JsonChange;
      const action = ACTIONS[change.action];
      if (!action) continue;
      await this.dispatch(change, action);
    }
  }

  private async tableInfo(schema: string, table: string): Promise<TableInfo | undefined> {
    const key = `${schema}.${table}`;
    const cached = this.tables.get(key);
    if (cached) return cached;
    const rows = await this.sql<{ oid: number; rls: boolean; name: string; typname: string; type_sql: string; is_pkey: boolean }[]>`
      select c.oid::int as oid, c.relrowsecurity as rls, a.attname as name, t.typname,
             format_type(a.atttypid, null) as type_sql,
             exists (select 1 from pg_constraint k where k.conrelid = c.oid and k.contype = 'p' and a.attnum = any(k.conkey)) as is_pkey
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        join pg_type t on t.oid = a.atttypid
       where n.nspname = ${schema} and c.relname = ${table}
       order by a.attnum`;
    if (rows.length === 0) return undefined;
    const info: TableInfo = {
      oid: rows[0]!.oid, schema, table, rls: rows[0]!.rls,
      columns: rows.map((r) => ({ name: r.name, typname: r.typname, typeSql: r.type_sql, isPkey: r.is_pkey })),
    };
    this.tables.set(key, info);
    return info;
  }

  private async canSelect(role: string, info: TableInfo, column: string): Promise<boolean> {
    const key = `${role}\u0000${info.oid}\u0000${column}`;
    const cached = this.privileges.get(key);
    if (cached !== undefined) return cached;
    const [row] = await this.sql<{ ok: boolean }[]>`
      select pg_catalog.has_column_privilege(${role}::regrole, ${info.oid}::oid, ${column}, 'SELECT') as ok`;
    const ok = row?.ok ?? false;
    this.privileges.set(key, ok);
    return ok;
  }

  private async dispatch(change: Wal2JsonChange, action: "INSERT" | "UPDATE" | "DELETE"): Promise<void> {
    const subs = [...this.subscriptions].filter((s) => {
      const p = s.parsed!;
      return p.schema === change.schema && (p.table === "*" || p.table === change.table) && (p.event === "*" || p.event === action);
    });
    if (subs.length === 0) return;
    const info = await this.tableInfo(change.schema, change.table);
    if (!info) return;
    const texts = (cols: Wal2JsonColumn[] | undefined) =>
      Object.fromEntries((cols ?? []).map((c) => [c.name, asText(c.value)]));
    const newValues = texts(change.columns);
    const oldValues = texts(change.identity);
    const types = new Map(info.columns.map((c) => [c.name, c.typeSql]));
    const present = (values: Record<string, string | null>) => info.columns.filter((c) => c.name in values);

    // realtime.cast for every value: to_jsonb(value::type), in one statement per change.
    const castSql = (values: Record<string, string | null>, param: string) => {
      const cols = present(values);
      if (cols.length === 0) return `'{}'::jsonb`;
      return `jsonb_build_object(${cols
        .map((c) => `'${c.name.replace(/'/g, "''")}', to_jsonb((${param}::text::jsonb ->> '${c.name.replace(/'/g, "''")}')::${c.typeSql})`)
        .join(", ")})`;
    };
    // Filters, evaluated in SQL on typed values, one boolean per subscription (NULL = no match).
    const filterParams: unknown[] = [JSON.stringify(newValues), JSON.stringify(oldValues)];
    const filterExprs = subs.map((s) => {
      const f = s.parsed!.filters;
      if (f.length === 0) return "true";
      const one = (values: string) =>
        f.map((flt) => {
          const type = types.get(flt.column);
          if (!type) return "false";
          filterParams.push(flt.value);
          const rhs = flt.op === "in" ? `($${filterParams.length}::text)::${type}[]` : `($${filterParams.length}::text)::${type}`;
          const expr = flt.op === "in"
            ? `((${values}::text::jsonb ->> '${flt.column.replace(/'/g, "''")}')::${type} = any(${rhs}))`
            : `((${values}::text::jsonb ->> '${flt.column.replace(/'/g, "''")}')::${type} ${OPS[flt.op]} ${rhs})`;
          return `coalesce(${flt.negate ? `not ${expr}` : expr}, false)`;
        }).join(" and ");
      return action === "DELETE" ? `((${one("$1")}) or (${one("$2")}))` : `(${one("$1")})`;
    });
    const [evaluated] = await this.sql.unsafe<{ record: Record<string, unknown>; old_record: Record<string, unknown>; visible: boolean[] }[]>(
      `select ${castSql(newValues, "$1")} as record, ${castSql(oldValues, "$2")} as old_record,
              array[${filterExprs.join(", ")}]::boolean[] as visible, $1::text is null and $2::text is null as unused`,
      filterParams as never,
    );
    if (!evaluated) return;

    const byChannel = new Map<Channel, { ids: number[]; role: string }>();
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i]!;
      if (!evaluated.visible[i]) continue;
      const role = String(s.claims.role ?? "anon");
      if (info.rls && action !== "DELETE" && !(await this.rlsAllows(info, role, s.claims, newValues))) continue;
      const entry = byChannel.get(s.channel) ?? { ids: [], role };
      entry.ids.push(s.hashId);
      byChannel.set(s.channel, entry);
    }
    for (const [channel, { ids, role }] of byChannel) {
      const selectable = [];
      for (const c of info.columns) if (await this.canSelect(role, info, c.name)) selectable.push(c);
      const names = new Set(selectable.map((c) => c.name));
      const pick = (rec: Record<string, unknown>, pkOnly: boolean) =>
        Object.fromEntries(Object.entries(rec).filter(([k]) => names.has(k) && (!pkOnly || info.columns.find((c) => c.name === k)?.isPkey)));
      const data: Record<string, unknown> = {
        schema: change.schema,
        table: change.table,
        commit_timestamp: change.timestamp ? new Date(change.timestamp).toISOString() : null,
        type: action,
        columns: selectable.map((c) => ({ name: c.name, type: c.typname })),
        errors: null,
      };
      if (action !== "DELETE") data.record = pick(evaluated.record, false);
      if (action === "UPDATE") data.old_record = pick(evaluated.old_record, false);
      if (action === "DELETE") data.old_record = pick(evaluated.old_record, info.rls);
      channel.deliver({ kind: "postgres_changes", payload: { ids, data } });
    }
  }

  /** The walrus_rls_stmt: does the row exist for this role and these claims? */
  private async rlsAllows(info: TableInfo, role: string, claims: Record<string, unknown>, values: Record<string, string | null>): Promise<boolean> {
    const pks = info.columns.filter((c) => c.isPkey);
    if (pks.length === 0) return false;
    return this.sql.begin(async (tx) => {
      await tx`select set_config('role', ${role}, true), set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
      const where = pks.map((c, i) => `${quoteIdent(c.name)} = ($${i + 1}::text)::${c.typeSql}`).join(" and ");
      const [row] = await tx.unsafe<{ exists: boolean }[]>(
        `select exists(select 1 from ${quoteIdent(info.schema)}.${quoteIdent(info.table)} where ${where}) as exists`,
        pks.map((c) => values[c.name] ?? null) as never,
      );
      await tx.unsafe("rollback and chain");
      return row?.exists === true;
    }) as Promise<boolean>;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    this.slotConn.release();
  }
}
