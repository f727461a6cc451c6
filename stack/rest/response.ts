// Stage 4: statement results -> HTTP: status, Content-Range, Location, Preference-Applied, body.
// Checked against PostgREST/postgrest:src/library/PostgREST/Response.hs (actionResponse), RangeQuery.hs
// (rangeStatusHeader, contentRangeH) and MediaType.hs (content types).
import type { Accept, ApiRequest, Preferences } from "./api-request.ts";
import { RestError, singularityError } from "./error.ts";

/** One row of the wrapped statement (query.ts wrap()). */
export interface StatementResult {
  total: number | undefined;
  pageTotal: number;
  body: string;
  /** Mutations: the first affected row's primary key as JSON, for Location. */
  location?: string | null;
  /** Upserts: how many rows were inserted (not updated). */
  inserted?: number | null;
}

const CONTENT_TYPES: Record<Accept, string> = {
  json: "application/json; charset=utf-8",
  object: "application/vnd.pgrst.object+json; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  openapi: "application/openapi+json; charset=utf-8",
};

/** Content-Range: `lower-upper/total`, `*` when the page is empty or the total unknown (RangeQuery.hs contentRangeH). */
export function contentRange(lower: number, upper: number, total: number | undefined): string {
  const totalText = total === undefined ? "*" : String(total);
  const inRange = total !== 0 && lower <= upper;
  return `${inRange ? `${lower}-${upper}` : "*"}/${totalText}`;
}

/** Status and Content-Range of a read (RangeQuery.hs rangeStatusHeader). */
export function rangeStatus(offset: number, pageTotal: number, total: number | undefined): { status: number; range: string } {
  const upper = offset + pageTotal - 1;
  const range = contentRange(offset, upper, total);
  if (total === undefined) return { status: 200, range };
  if (offset > total) return { status: 416, range };
  if (1 + upper - offset < total) return { status: 206, range };
  return { status: 200, range };
}

/** Preference-Applied: the honoured preferences in PostgREST's order (ApiRequest/Preferences.hs prefAppliedHeader);
 * max-affected only with handling=strict. */
const APPLIED_ORDER = ["resolution", "missing", "return", "count", "tx", "handling", "timezone", "max-affected"];
export function preferenceApplied(prefer: Preferences, honoured: string[]): string | undefined {
  const parts = APPLIED_ORDER
    .filter((k) => honoured.includes(k) && prefer.raw[k] !== undefined)
    .filter((k) => k !== "max-affected" || prefer.handling === "strict")
    .map((k) => `${k}=${prefer.raw[k]}`);
  return parts.length ? parts.join(", ") : undefined;
}

/** A JSON array body as CSV (header from the first row's keys, PostgREST's text/csv output). */
export function toCsv(jsonArray: string): string {
  const rows = JSON.parse(jsonArray) as Array<Record<string, unknown>>;
  if (rows.length === 0) return "";
  const keys = Object.keys(rows[0]!);
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return "";
    const s = typeof v === "object" ? JSON.stringify(v) : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [keys.join(","), ...rows.map((r) => keys.map((k) => cell(r[k])).join(","))].join("\n");
}

function headersFor(req: ApiRequest, accept: Accept, extra: Record<string, string | undefined>): Headers {
  const h = new Headers();
  h.set("content-type", CONTENT_TYPES[accept]);
  if (req.schemaNegotiated) h.set("content-profile", req.schema);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) h.set(k, v);
  return h;
}

function bodyFor(req: ApiRequest, result: StatementResult): string {
  if (req.accept === "csv") return toCsv(result.body);
  return result.body;
}

/** Enforces `Accept: application/vnd.pgrst.object+json` (406 PGRST116 unless exactly one row). */
export function checkSingular(req: ApiRequest, pageTotal: number): void {
  if (req.accept === "object" && pageTotal !== 1) throw singularityError(pageTotal);
}

export function readResponse(req: ApiRequest, offset: number, result: StatementResult): Response {
  const { status, range } = rangeStatus(offset, result.pageTotal, result.total);
  if (status === 416) {
    const err = new RestError(416, "PGRST103", "Requested range not satisfiable",
      `An offset of ${offset} was requested, but there are only ${result.total ?? 0} rows.`);
    return errorResponse(err, { "content-range": range });
  }
  checkSingular(req, result.pageTotal);
  const headers = headersFor(req, req.accept, {
    "content-range": range,
    "preference-applied": preferenceApplied(req.prefer, ["count", "handling", "timezone"]),
  });
  return new Response(req.method === "HEAD" ? null : bodyFor(req, result), { status, headers });
}

export function callResponse(req: ApiRequest, offset: number, result: StatementResult, returnsVoid: boolean): Response {
  const { status, range } = rangeStatus(offset, result.pageTotal, result.total);
  const applied = preferenceApplied(req.prefer, ["count", "handling", "timezone", "max-affected"]);
  if (returnsVoid) return new Response(null, { status: 204, headers: headersFor(req, req.accept, { "content-range": range, "preference-applied": applied }) });
  if (status === 416) {
    return errorResponse(new RestError(416, "PGRST103", "Requested range not satisfiable",
      `An offset of ${offset} was requested, but there are only ${result.total ?? 0} rows.`), { "content-range": range });
  }
  const headers = headersFor(req, req.accept, { "content-range": range, "preference-applied": applied });
  return new Response(req.method === "HEAD" ? null : bodyFor(req, result), { status, headers });
}

export function mutateResponse(req: ApiRequest, kind: "insert" | "update" | "delete" | "upsert-put", table: string, result: StatementResult): Response {
  const prefer = req.prefer;
  const representation = prefer.return === "representation";
  const count = prefer.count !== undefined ? result.pageTotal : undefined;
  const applied = preferenceApplied(prefer, ["return", "count", "resolution", "missing", "handling", "max-affected", "timezone"]);
  const extra: Record<string, string | undefined> = { "preference-applied": applied };
  let status: number;
  if (kind === "insert") {
    status = prefer.resolution === "merge-duplicates" && (result.inserted ?? 1) <= 0 ? 200 : 201;
    extra["content-range"] = contentRange(1, 0, count);
    if (prefer.return === "headers-only" && result.location) {
      const pk = JSON.parse(result.location) as Record<string, unknown>;
      const query = Object.entries(pk).map(([k, v]) => `${encodeURIComponent(k)}=eq.${encodeURIComponent(String(v))}`).join("&");
      extra.location = `/${table}?${query}`;
    }
  } else if (kind === "update") {
    status = representation ? 200 : 204;
    extra["content-range"] = contentRange(0, result.pageTotal - 1, count);
  } else if (kind === "delete") {
    status = representation ? 200 : 204;
    extra["content-range"] = contentRange(1, 0, count);
  } else {
    status = representation ? ((result.inserted ?? 0) > 0 ? 201 : 200) : 204;
  }
  const headers = headersFor(req, req.accept, extra);
  if (!representation) {
    headers.delete("content-type");
    return new Response(null, { status: status === 201 || status === 200 ? status : 204, headers });
  }
  return new Response(bodyFor(req, result), { status, headers });
}

export function errorResponse(err: RestError, extra: Record<string, string> = {}): Response {
  const headers = new Headers({ "content-type": "application/json; charset=utf-8", ...err.headers, ...extra });
  return new Response(JSON.stringify(err.body), { status: err.status, headers });
}
