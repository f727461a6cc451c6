// Stage 1: HTTP -> a typed request (PostgREST's ApiRequest: QueryParams, Preferences, Payload).
// Checked against PostgREST/postgrest:src/library/PostgREST/ApiRequest.hs, ApiRequest/QueryParams.hs,
// ApiRequest/Preferences.hs, ApiRequest/Payload.hs and docs/references/api/tables_views.rst.
// Nothing here knows the schema: names stay names until the plan resolves them.
import { RestError, invalidBody, invalidPreferences, invalidRange, mediaTypeError, queryParamError, unacceptableSchema } from "./error.ts";

// ---- query grammar -----------------------------------------------------------------------------------------------

/** One step of a JSON path: `->key`, `->>key`, `->0`. */
export interface JsonStep {
  arrow: "->" | "->>";
  key: string | number;
}

/** A column, optionally followed by a JSON path (`data->a->>b`). */
export interface Field {
  name: string;
  json: JsonStep[];
}

export type SelectItem =
  | { type: "star" }
  | { type: "column"; field: Field; alias?: string; cast?: string }
  | {
      type: "embed";
      /** Target: a table or view name, an FK constraint name or an FK column. */
      name: string;
      alias?: string;
      /** `!hint`: constraint, column or junction table. */
      hint?: string;
      joinType?: "inner" | "left";
      spread: boolean;
      select: SelectItem[];
    };

export const OPERATORS = {
  eq: "=", neq: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=", like: "like", ilike: "ilike", match: "~", imatch: "~*",
  cs: "@>", cd: "<@", ov: "&&", sl: "<<", sr: ">>", nxr: "&<", nxl: "&>", adj: "-|-", isdistinct: "is distinct from",
} as const;
export type SimpleOperator = keyof typeof OPERATORS;
export const FTS_OPERATORS = { fts: "to_tsquery", plfts: "plainto_tsquery", phfts: "phraseto_tsquery", wfts: "websearch_to_tsquery" } as const;
export type FtsOperator = keyof typeof FTS_OPERATORS;
/** Operators that take (any)/(all) modifiers (tables_views.rst "Operator Modifiers"). */
const QUANTIFIABLE = new Set(["eq", "like", "ilike", "gt", "gte", "lt", "lte", "match", "imatch"]);
export const IS_VALUES = ["null", "not_null", "true", "false", "unknown"] as const;
export type IsValue = (typeof IS_VALUES)[number];

export type Operation =
  | { op: SimpleOperator; value: string; quantifier?: "any" | "all"; values?: string[] }
  | { op: "in"; values: string[] }
  | { op: "is"; value: IsValue }
  | { op: FtsOperator; config?: string; value: string };

/** `field=[not.]op.value` */
export interface Filter {
  field: Field;
  negated: boolean;
  operation: Operation;
}

export type LogicTree =
  | { type: "filter"; filter: Filter }
  | { type: "logic"; op: "and" | "or"; negated: boolean; children: LogicTree[] };

export interface OrderTerm {
  field: Field;
  /** `order=rel(col).desc`: order by a column of a to-one embed. */
  relation?: string;
  direction?: "asc" | "desc";
  nulls?: "first" | "last";
}

/** A query parameter addressed to the top level ([]) or to an embed (["author"], ["chat", "members"]). */
export interface Scoped<T> {
  path: string[];
  value: T;
}

export interface Preferences {
  return?: "minimal" | "headers-only" | "representation";
  count?: "exact" | "planned" | "estimated";
  resolution?: "merge-duplicates" | "ignore-duplicates";
  missing?: "default" | "null";
  handling?: "strict" | "lenient";
  tx?: "commit" | "rollback";
  maxAffected?: number;
  timezone?: string;
  /** The preferences as given, for Preference-Applied. */
  raw: Record<string, string>;
  invalid: string[];
}

export type Accept = "json" | "object" | "csv" | "openapi";

export type Target =
  | { kind: "root" }
  | { kind: "table"; name: string }
  | { kind: "rpc"; name: string };

/** A non-reserved query parameter: a filter on a table, an argument or a filter on an RPC (the plan decides). */
export interface ParamEntry {
  key: string;
  value: string;
  path: string[];
  /** Set when the parameter parses as a filter. */
  filter?: Filter;
  /** Why it does not (raised only if the plan needs it as a filter). */
  error?: RestError;
}

export interface ApiRequest {
  method: "GET" | "HEAD" | "POST" | "PATCH" | "PUT" | "DELETE";
  target: Target;
  /** request.path as received. */
  path: string;
  schema: string;
  /** Whether the schema came from Accept-Profile/Content-Profile (echoed back as Content-Profile). */
  schemaNegotiated: boolean;
  select: SelectItem[];
  params: ParamEntry[];
  logic: Array<Scoped<LogicTree>>;
  orders: Array<Scoped<OrderTerm[]>>;
  limits: Array<Scoped<number>>;
  offsets: Array<Scoped<number>>;
  /** Range header (top level only). */
  range?: { from: number; to?: number };
  onConflict?: string[];
  columns?: string[];
  prefer: Preferences;
  accept: Accept;
  /** Parsed JSON body (undefined when there is none). */
  payload?: unknown;
  contentType: string;
  headers: Record<string, string>;
}

// ---- tokenizing helpers -------------------------------------------------------------------------------------------

class Cursor {
  pos = 0;
  constructor(readonly text: string, readonly param: string) {}
  peek(n = 0): string {
    return this.text[this.pos + n] ?? "";
  }
  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }
  eat(s: string): boolean {
    if (!this.startsWith(s)) return false;
    this.pos += s.length;
    return true;
  }
  done(): boolean {
    return this.pos >= this.text.length;
  }
  fail(expected: string): never {
    const at = this.pos;
    // PostgREST's Parsec errors: message `"failed to parse select parameter (…)" (line 1, column N)`.
    throw queryParamError(`"failed to parse ${this.param} parameter (${this.text})" (line 1, column ${at + 1})`,
      `unexpected ${at >= this.text.length ? "end of input" : JSON.stringify(this.text[at])} expecting ${expected}`);
  }
}

const NAME_CHAR = /[\p{L}\p{N}_$@#\- ]/u;

/** A name: `"quoted"` (with `""` or `\"` inside) or a run of name characters that is not the start of `->`. */
function readName(c: Cursor, what = "field name"): string {
  if (c.eat('"')) {
    let out = "";
    while (!c.done()) {
      const ch = c.peek();
      if (ch === "\\" && c.peek(1) === '"') { out += '"'; c.pos += 2; continue; }
      if (ch === '"') { c.pos++; return out; }
      out += ch;
      c.pos++;
    }
    c.fail('closing "');
  }
  let out = "";
  while (!c.done() && NAME_CHAR.test(c.peek()) && !c.startsWith("->")) {
    out += c.peek();
    c.pos++;
  }
  out = out.trim();
  if (out === "") c.fail(what);
  return out;
}

function readField(c: Cursor): Field {
  const name = readName(c);
  const json: JsonStep[] = [];
  while (c.startsWith("->")) {
    const arrow = c.eat("->>") ? "->>" : (c.eat("->"), "->");
    let key: string | number;
    if (c.peek() === '"') key = readName(c, "json key");
    else {
      const raw = readName(c, "json key");
      key = /^-?\d+$/.test(raw) ? Number(raw) : raw;
    }
    json.push({ arrow, key });
  }
  return { name, json };
}

/** Removes whitespace outside double quotes, as postgrest-js does before sending select and on_conflict. */
function stripSpaces(text: string): string {
  let quoted = false;
  let out = "";
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && /\s/.test(ch)) continue;
    out += ch;
  }
  return out;
}

// ---- select -------------------------------------------------------------------------------------------------------

export function parseSelect(text: string): SelectItem[] {
  const c = new Cursor(stripSpaces(text), "select");
  if (c.done()) return [{ type: "star" }];
  const items = readSelectList(c);
  if (!c.done()) c.fail('","');
  return items;
}

function readSelectList(c: Cursor): SelectItem[] {
  const items: SelectItem[] = [readSelectItem(c)];
  while (c.eat(",")) items.push(readSelectItem(c));
  return items;
}

const CAST = /^[A-Za-z_][A-Za-z0-9_ ]*(\[\])?$/;
const AGGREGATES = new Set(["count", "sum", "avg", "min", "max"]);

function readSelectItem(c: Cursor): SelectItem {
  if (c.eat("*")) return { type: "star" };
  const spread = c.eat("...");
  let first = readField(c);
  let alias: string | undefined;
  if (first.json.length === 0 && c.peek() === ":" && c.peek(1) !== ":") {
    c.pos++;
    alias = first.name;
    first = readField(c);
  }
  // Aggregates (`count()`, `amount.sum()`) are off on Supabase (db-aggregates-enabled = false): PGRST123.
  if ((c.peek() === "(" && AGGREGATES.has(first.name) && c.peek(1) === ")") || (c.peek() === "." && /^\.(count|sum|avg|min|max)\(\)/.test(c.text.slice(c.pos)))) {
    throw new RestError(400, "PGRST123", "Use of aggregate functions is not allowed");
  }
  if (c.peek() === "!" || c.peek() === "(") {
    if (first.json.length > 0) c.fail('","');
    let hint: string | undefined;
    let joinType: "inner" | "left" | undefined;
    while (c.eat("!")) {
      const word = readName(c, "embed hint");
      if (word === "inner" || word === "left") joinType = word;
      else hint = word;
    }
    if (!c.eat("(")) c.fail('"("');
    const select = c.peek() === ")" ? [] : readSelectList(c);
    if (!c.eat(")")) c.fail('")"');
    const embed: SelectItem = { type: "embed", name: first.name, spread, select };
    if (alias !== undefined) embed.alias = alias;
    if (hint !== undefined) embed.hint = hint;
    if (joinType !== undefined) embed.joinType = joinType;
    return embed;
  }
  if (spread) c.fail('"("');
  const item: SelectItem = { type: "column", field: first };
  if (alias !== undefined) item.alias = alias;
  if (c.eat("::")) {
    let cast = "";
    while (!c.done() && /[A-Za-z0-9_\[\] ]/.test(c.peek())) cast += c.text[c.pos++];
    if (!CAST.test(cast)) c.fail("cast type");
    item.cast = cast;
  }
  return item;
}

// ---- filters ------------------------------------------------------------------------------------------------------

/** `{a,"b c"}` or `(a,"b,c")`: the elements of a list literal (quotes removed, `\` escapes honoured). */
export function parseList(text: string, open: string, close: string, param: string): string[] {
  if (!text.startsWith(open) || !text.endsWith(close)) {
    throw queryParamError(`"failed to parse filter (${text})" (line 1, column 1)`, `unexpected ${JSON.stringify(text[0] ?? "")} expecting "${open}"`);
  }
  const inner = text.slice(1, -1);
  const out: string[] = [];
  if (inner === "") return out;
  let cur = "";
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i]!;
    if (quoted) {
      if (ch === "\\" && i + 1 < inner.length) { cur += inner[++i]; continue; }
      if (ch === '"') { quoted = false; continue; }
      cur += ch;
      continue;
    }
    if (ch === '"') { quoted = true; wasQuoted = true; continue; }
    if (ch === ",") { out.push(wasQuoted ? cur : cur.trim()); cur = ""; wasQuoted = false; continue; }
    cur += ch;
  }
  if (quoted) throw queryParamError(`"failed to parse ${param} (${text})"`, 'unexpected end of input expecting closing "');
  out.push(wasQuoted ? cur : cur.trim());
  return out;
}

/** The part after `field=`: `[not.]op[(modifier)].value`. */
export function parseOperation(text: string, param = "filter"): { negated: boolean; operation: Operation } {
  let rest = text;
  let negated = false;
  if (rest.startsWith("not.")) {
    negated = true;
    rest = rest.slice(4);
  }
  const m = /^([a-z]+)(?:\(([^)]*)\))?\./.exec(rest);
  const fail = (): never => {
    throw queryParamError(`"failed to parse filter (${text})" (line 1, column ${negated ? 5 : 1})`,
      `unexpected ${JSON.stringify(rest.slice(0, 1) || "end of input")} expecting an operator such as eq, in or is`);
  };
  if (!m) return fail();
  const op = m[1]!;
  const modifier = m[2];
  const value = rest.slice(m[0].length);
  if (op === "in") {
    if (modifier !== undefined) fail();
    return { negated, operation: { op: "in", values: parseList(value, "(", ")", param) } };
  }
  if (op === "is") {
    if (!(IS_VALUES as readonly string[]).includes(value.toLowerCase())) {
      throw queryParamError(`"failed to parse filter (${text})" (line 1, column ${text.length - value.length + 1})`,
        'unexpected input expecting null, not_null, true, false or unknown');
    }
    return { negated, operation: { op: "is", value: value.toLowerCase() as IsValue } };
  }
  if (op in FTS_OPERATORS) {
    const operation: Operation = { op: op as FtsOperator, value };
    if (modifier !== undefined) operation.config = modifier;
    return { negated, operation };
  }
  if (op in OPERATORS) {
    if (modifier === "any" || modifier === "all") {
      if (!QUANTIFIABLE.has(op)) fail();
      return { negated, operation: { op: op as SimpleOperator, value, quantifier: modifier, values: parseList(value, "{", "}", param) } };
    }
    if (modifier !== undefined) fail();
    return { negated, operation: { op: op as SimpleOperator, value } };
  }
  return fail();
}

function parseFieldText(text: string, param: string): Field {
  const c = new Cursor(text, param);
  const field = readField(c);
  if (!c.done()) c.fail("end of field");
  return field;
}

// ---- logic trees: or=(a.eq.1,and(b.gt.2,c.not.is.null)) ---------------------------------------------------------

/** Splits on commas that are outside quotes, parentheses and braces. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === "\\" && i + 1 < text.length) { cur += ch + text[++i]; continue; }
      if (ch === '"') quoted = false;
      cur += ch;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === "(" || ch === "{") depth++;
    else if (ch === ")" || ch === "}") depth--;
    else if (ch === "," && depth === 0) { parts.push(cur); cur = ""; continue; }
    cur += ch;
  }
  parts.push(cur);
  return parts;
}

export function parseLogic(op: "and" | "or", negated: boolean, text: string, param: string): LogicTree {
  const clean = stripOuterSpaces(text);
  if (!clean.startsWith("(") || !clean.endsWith(")")) {
    throw queryParamError(`"failed to parse logic tree (${text})" (line 1, column 1)`, 'unexpected input expecting "("');
  }
  const children = splitTopLevel(clean.slice(1, -1)).map((part) => parseLogicChild(part.trim(), param));
  return { type: "logic", op, negated, children };
}

function stripOuterSpaces(s: string): string {
  return s.trim();
}

function parseLogicChild(text: string, param: string): LogicTree {
  const m = /^(not\.)?(and|or)\(/.exec(text);
  if (m) return parseLogic(m[2] as "and" | "or", m[1] !== undefined, text.slice(m[0].length - 1), param);
  // field.op.value: the field ends at the first "." that is not inside quotes (JSON paths use -> and ->>).
  const c = new Cursor(text, param);
  const field = readField(c);
  if (!c.eat(".")) c.fail('"."');
  const { negated, operation } = parseOperation(text.slice(c.pos), param);
  return { type: "filter", filter: { field, negated, operation } };
}

// ---- order --------------------------------------------------------------------------------------------------------

export function parseOrder(text: string): OrderTerm[] {
  return splitTopLevel(text).map((term) => {
    const c = new Cursor(term.trim(), "order");
    let field = readField(c);
    const out: OrderTerm = { field };
    if (c.eat("(")) {
      // rel(col): a column of a to-one embed.
      out.relation = field.name;
      field = readField(c);
      if (!c.eat(")")) c.fail('")"');
      out.field = field;
    }
    while (c.eat(".")) {
      const word = readName(c, "asc, desc, nullsfirst or nullslast");
      if (word === "asc" || word === "desc") out.direction = word;
      else if (word === "nullsfirst") out.nulls = "first";
      else if (word === "nullslast") out.nulls = "last";
      else c.fail("asc, desc, nullsfirst or nullslast");
    }
    if (!c.done()) c.fail('"," or "."');
    return out;
  });
}

// ---- Prefer -------------------------------------------------------------------------------------------------------

export function parsePrefer(headers: string[]): Preferences {
  const prefer: Preferences = { raw: {}, invalid: [] };
  for (const header of headers) {
    for (const part of header.split(",")) {
      const item = part.trim();
      if (item === "") continue;
      const [key, ...rest] = item.split("=");
      const k = key!.trim();
      const v = rest.join("=").trim();
      const ok = (allowed: string[]) => allowed.includes(v);
      let accepted = true;
      switch (k) {
        case "return": accepted = ok(["minimal", "headers-only", "representation"]); if (accepted) prefer.return = v as Preferences["return"]; break;
        case "count": accepted = ok(["exact", "planned", "estimated"]); if (accepted) prefer.count = v as Preferences["count"]; break;
        case "resolution": accepted = ok(["merge-duplicates", "ignore-duplicates"]); if (accepted) prefer.resolution = v as Preferences["resolution"]; break;
        case "missing": accepted = ok(["default", "null"]); if (accepted) prefer.missing = v as Preferences["missing"]; break;
        case "handling": accepted = ok(["strict", "lenient"]); if (accepted) prefer.handling = v as Preferences["handling"]; break;
        case "tx": accepted = ok(["commit", "rollback"]); if (accepted) prefer.tx = v as Preferences["tx"]; break;
        case "max-affected": accepted = /^\d+$/.test(v); if (accepted) prefer.maxAffected = Number(v); break;
        case "timezone": accepted = v !== ""; if (accepted) prefer.timezone = v; break;
        default: accepted = false;
      }
      if (accepted) prefer.raw[k] = v;
      else prefer.invalid.push(item);
    }
  }
  return prefer;
}

// ---- Accept -------------------------------------------------------------------------------------------------------

function negotiate(accept: string | null, target: Target): Accept {
  if (!accept || accept.trim() === "") return target.kind === "root" ? "openapi" : "json";
  const types = accept.split(",").map((t) => t.split(";")[0]!.trim().toLowerCase()).filter((t) => t !== "");
  for (const t of types) {
    if (t === "application/vnd.pgrst.object+json" || t === "application/vnd.pgrst.object") return target.kind === "root" ? "openapi" : "object";
    if (t === "application/json" || t === "application/vnd.pgrst.array+json" || t === "*/*" || t === "application/*") return target.kind === "root" ? "openapi" : "json";
    if (t === "application/openapi+json" && target.kind === "root") return "openapi";
    if (t === "text/csv" && target.kind !== "root") return "csv";
  }
  throw mediaTypeError(types);
}

// ---- the request --------------------------------------------------------------------------------------------------

const RESERVED = new Set(["select", "order", "limit", "offset", "on_conflict", "columns", "or", "and", "not.or", "not.and"]);

function toInt(value: string, what: string): number {
  if (!/^\d+$/.test(value)) throw queryParamError(`"failed to parse ${what} parameter (${value})"`, "unexpected input expecting a non-negative integer");
  return Number(value);
}

function parseTarget(pathname: string): Target {
  const parts = pathname.split("/").filter((p) => p !== "").map((p) => decodeURIComponent(p));
  if (parts.length === 0) return { kind: "root" };
  if (parts.length === 1) return { kind: "table", name: parts[0]! };
  if (parts.length === 2 && parts[0] === "rpc") return { kind: "rpc", name: parts[1]! };
  throw new RestError(404, "PGRST125", "Invalid path specified in request URL");
}

export interface ApiRequestOptions {
  /** [api] schemas: the first is the default. */
  schemas: string[];
}

/** Reads an HTTP request into an ApiRequest; throws RestError for anything PostgREST refuses before planning. */
export async function parseApiRequest(request: Request, opts: ApiRequestOptions): Promise<ApiRequest> {
  const url = new URL(request.url);
  const method = request.method.toUpperCase();
  if (!["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"].includes(method)) {
    throw new RestError(405, "PGRST117", `Unsupported HTTP method: ${method}`);
  }
  const target = parseTarget(url.pathname);
  const headers: Record<string, string> = {};
  request.headers.forEach((v, k) => (headers[k.toLowerCase()] = v));

  const profileHeader = method === "GET" || method === "HEAD" ? headers["accept-profile"] : headers["content-profile"];
  const schema = profileHeader ?? opts.schemas[0] ?? "public";
  if (!opts.schemas.includes(schema)) throw unacceptableSchema(schema, opts.schemas);

  const prefer = parsePrefer(request.headers.get("prefer") ? [request.headers.get("prefer")!] : []);
  if (prefer.handling === "strict" && prefer.invalid.length > 0) throw invalidPreferences(prefer.invalid);

  const req: ApiRequest = {
    method: method as ApiRequest["method"],
    target,
    path: url.pathname,
    schema,
    schemaNegotiated: profileHeader !== undefined,
    select: [{ type: "star" }],
    params: [],
    logic: [],
    orders: [],
    limits: [],
    offsets: [],
    prefer,
    accept: negotiate(request.headers.get("accept"), target),
    contentType: (headers["content-type"] ?? "application/json").split(";")[0]!.trim().toLowerCase(),
    headers,
  };

  for (const [key, value] of url.searchParams) {
    const segments = key.split(".");
    const last = segments[segments.length - 1]!;
    if (key === "select") { req.select = parseSelect(value); continue; }
    if (key === "on_conflict") { req.onConflict = stripSpaces(value).split(",").filter((s) => s !== ""); continue; }
    if (key === "columns") { req.columns = parseList(`(${stripSpaces(value)})`, "(", ")", "columns"); continue; }
    if (last === "or" || last === "and") {
      const negated = segments[segments.length - 2] === "not";
      const path = segments.slice(0, segments.length - (negated ? 2 : 1));
      req.logic.push({ path, value: parseLogic(last, negated, value, key) });
      continue;
    }
    if (last === "order") { req.orders.push({ path: segments.slice(0, -1), value: parseOrder(value) }); continue; }
    if (last === "limit") { req.limits.push({ path: segments.slice(0, -1), value: toInt(value, "limit") }); continue; }
    if (last === "offset") { req.offsets.push({ path: segments.slice(0, -1), value: toInt(value, "offset") }); continue; }
    if (RESERVED.has(key)) continue;
    // field (possibly with a JSON path) or embed.path.field
    const entry: ParamEntry = { key, value, path: [] };
    try {
      const dot = key.lastIndexOf(".", key.includes("->") ? key.indexOf("->") : key.length);
      const path = dot >= 0 ? key.slice(0, dot).split(".") : [];
      const fieldText = dot >= 0 ? key.slice(dot + 1) : key;
      entry.path = path;
      const { negated, operation } = parseOperation(value);
      entry.filter = { field: parseFieldText(fieldText, key), negated, operation };
    } catch (error) {
      if (!(error instanceof RestError)) throw error;
      entry.error = error;
    }
    req.params.push(entry);
  }

  const range = request.headers.get("range");
  if (range && (method === "GET" || method === "HEAD")) {
    const m = /^(?:items=)?\s*(\d+)-(\d*)\s*$/.exec(range);
    if (m) {
      const from = Number(m[1]);
      const to = m[2] === "" ? undefined : Number(m[2]);
      if (to !== undefined && to < from) throw invalidRange("The lower boundary must be lower than or equal to the upper boundary in the Range header.");
      req.range = to === undefined ? { from } : { from, to };
    }
  }

  if (method === "POST" || method === "PATCH" || method === "PUT") {
    const text = await request.text();
    if (text.trim() !== "") {
      if (req.contentType === "application/json" || req.contentType.endsWith("+json") || req.contentType === "") {
        try {
          req.payload = JSON.parse(text);
        } catch (error) {
          throw invalidBody(`Empty or invalid json`);
        }
      } else if (req.contentType === "application/x-www-form-urlencoded") {
        req.payload = Object.fromEntries(new URLSearchParams(text));
      } else if (target.kind === "rpc") {
        req.payload = text;
      } else {
        throw new RestError(415, "PGRST107", `None of these media types are available: ${req.contentType}`);
      }
    }
  }
  return req;
}
