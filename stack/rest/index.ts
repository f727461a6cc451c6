// REST, PostgREST-compatible: `createRest(deps)` serves what the gateway mounts at /rest/v1 (prefix stripped).
// The pipeline is PostgREST's (src/library/PostgREST/App.hs): authenticate the JWT -> ApiRequest (api-request.ts) ->
// Plan against the SchemaCache (plan.ts, schema-cache.ts) -> Query (query.ts) run inside the request context
// (stack/shared/request-context.ts) as `authenticator` switching role -> Response (response.ts); errors as
// PostgREST's JSON (error.ts). Differences from PostgREST: docs/local-stack/rest.md.
import postgres from "postgres";
import type { StackDeps } from "../shared/deps.ts";
import type { Handler } from "../shared/http.ts";
import { JwtError, bearerToken, verifyAccessToken } from "../shared/keys.ts";
import { forgetRoleSettings, parseCookies, withRequestContext, type RequestContext } from "../shared/request-context.ts";
import { parseApiRequest, type ApiRequest } from "./api-request.ts";
import { RestError, connectionError, fromPgError, invalidPreferences, jwtClaimsError, jwtDecodeError, maxAffectedViolation, type PgErrorLike } from "./error.ts";
import { openApi } from "./openapi.ts";
import { plan as makePlan, type CallPlan, type MutatePlan, type Plan, type ReadPlan } from "./plan.ts";
import { callQuery, mutateQuery, readQuery } from "./query.ts";
import { callResponse, checkSingular, errorResponse, mutateResponse, readResponse, type StatementResult } from "./response.ts";
import { loadSchemaCache, type SchemaCache } from "./schema-cache.ts";

export type RestService = Handler & {
  close(): Promise<void>;
  /** Rereads the schema cache (what `NOTIFY pgrst, 'reload schema'` triggers). */
  reload(): Promise<void>;
};

const ANON_ROLE = "anon";

interface Auth {
  role: string;
  claims: Record<string, unknown>;
}

/** The JWT of the request (PostgREST/postgrest:src/library/PostgREST/Auth.hs, Auth/Jwt.hs; messages in Error.hs). */
async function authenticate(request: Request, deps: StackDeps): Promise<Auth> {
  const header = request.headers.get("authorization");
  if (header === null) return { role: ANON_ROLE, claims: {} };
  if (!/^bearer(\s|$)/i.test(header.trim())) return { role: ANON_ROLE, claims: {} };
  const token = bearerToken(header);
  if (token === undefined) throw jwtDecodeError("Empty JWT is sent in Authorization header");
  const parts = token.split(".").length;
  if (parts !== 3) throw jwtDecodeError(`Expected 3 parts in JWT; got ${parts}`);
  try {
    const claims = await verifyAccessToken(token, deps.keys);
    const role = typeof claims.role === "string" && claims.role !== "" ? claims.role : ANON_ROLE;
    return { role, claims: claims as Record<string, unknown> };
  } catch (error) {
    if (!(error instanceof JwtError)) throw error;
    switch (error.reason) {
      case "expired": throw jwtClaimsError("JWT expired");
      case "not_yet_valid": throw jwtClaimsError("JWT not yet valid");
      case "unsupported_algorithm": throw jwtDecodeError("Wrong or unsupported encoding algorithm");
      case "bad_signature": throw jwtDecodeError("JWT cryptographic operation failed");
      default:
        if (/exp is not a number/.test(error.message)) throw jwtClaimsError("The JWT 'exp' claim must be a number");
        if (/nbf is not a number/.test(error.message)) throw jwtClaimsError("The JWT 'nbf' claim must be a number");
        throw jwtDecodeError("JWT couldn't be decoded");
    }
  }
}

function isPgError(e: unknown): e is PgErrorLike & { name?: string } {
  return typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string" && (e as { name?: string }).name === "PostgresError";
}

interface Row {
  total_result_set: string | null;
  page_total: string;
  body: string;
  location?: string | null;
  inserted?: string | null;
}

function toResult(row: Row | undefined): StatementResult {
  if (!row) return { total: undefined, pageTotal: 0, body: "[]" };
  const result: StatementResult = {
    total: row.total_result_set === null ? undefined : Number(row.total_result_set),
    pageTotal: Number(row.page_total),
    body: row.body,
  };
  if (row.location !== undefined) result.location = row.location;
  if (row.inserted !== undefined) result.inserted = row.inserted === null ? null : Number(row.inserted);
  return result;
}

/** count=planned: the planner's row estimate for the filtered relation (PostgREST runs EXPLAIN as well). */
async function plannedCount(tx: postgres.TransactionSql, countSql: string, params: Array<string | null>): Promise<number> {
  const rows = await tx.unsafe(`explain (format json) ${countSql}`, params as postgres.ParameterOrJSON<never>[]);
  const plan = (rows[0] as Record<string, unknown>)["QUERY PLAN"];
  const parsed = (typeof plan === "string" ? JSON.parse(plan) : plan) as Array<{ Plan: { "Plan Rows": number } }>;
  return Math.round(parsed[0]?.Plan["Plan Rows"] ?? 0);
}

export function createRest(deps: StackDeps): RestService {
  // Requests: every bind parameter is text sent as is and typed by the server, like PostgREST's unknown-typed
  // parameters. postgres.js would otherwise re-serialize by the described type (JSON.stringify a jsonb string,
  // turn "true" into 'f' for a boolean, reparse dates), so its serializers are replaced and array types not fetched.
  const raw = (x: unknown) => String(x);
  const sql = postgres(deps.db.url("authenticator"), {
    max: 10,
    idle_timeout: 10,
    onnotice: () => {},
    fetch_types: false,
    types: {
      pgrstBool: { to: 16, from: [16], serialize: raw, parse: (x: string) => x === "t" },
      pgrstJson: { to: 114, from: [114, 3802], serialize: raw, parse: (x: string) => x },
      pgrstDate: { to: 1184, from: [1082, 1114, 1184], serialize: raw, parse: (x: string) => x },
      pgrstBytea: { to: 17, from: [17], serialize: raw, parse: (x: string) => x },
    },
    connection: { application_name: "postgrest (local stack)" },
  });
  // The schema cache and LISTEN pgrst on their own connection, with postgres.js's ordinary types (arrays parsed).
  const meta = postgres(deps.db.url("authenticator"), { max: 1, idle_timeout: 10, onnotice: () => {}, connection: { application_name: "postgrest (local stack) schema cache" } });
  const { schemas, extraSearchPath, maxRows } = deps.config.api;
  let cache: Promise<SchemaCache> | undefined;
  const schemaCache = () => (cache ??= loadSchemaCache(meta, schemas).catch((e) => { cache = undefined; throw e; }));
  const reload = async () => {
    forgetRoleSettings(sql);
    cache = loadSchemaCache(meta, schemas);
    await cache;
  };
  // NOTIFY pgrst, 'reload schema' (an empty payload too) reloads the schema cache (docs/references/schema_cache.rst).
  const listening = meta
    .listen("pgrst", (payload) => {
      if (payload === "" || payload === "reload schema") void reload().catch((e) => console.error("rest: schema cache reload failed:", e));
    })
    .catch((e) => console.error("rest: LISTEN pgrst failed:", e));

  const handler = async (request: Request): Promise<Response> => {
    let role = ANON_ROLE;
    try {
      const auth = await authenticate(request, deps);
      role = auth.role;
      const req = await parseApiRequest(request, { schemas });
      const sc = await schemaCache();
      // Prefer: timezone= only with a name Postgres knows (PostgREST checks pg_timezone_names); else it is not
      // applied, and refused with handling=strict.
      if (req.prefer.timezone !== undefined && !sc.timezones.has(req.prefer.timezone)) {
        if (req.prefer.handling === "strict") throw invalidPreferences([`timezone=${req.prefer.timezone}`]);
        delete req.prefer.timezone;
        delete req.prefer.raw.timezone;
      }
      const plan = makePlan(sc, req, { maxRows });
      const ctx: RequestContext = {
        role: auth.role,
        claims: auth.claims,
        method: req.method,
        path: req.path,
        headers: req.headers,
        cookies: parseCookies(request.headers.get("cookie")),
        readOnly: req.method === "GET" || req.method === "HEAD" || (plan.kind === "call" && plan.call.readOnly),
        searchPath: [req.schema, ...extraSearchPath],
      };
      if (req.prefer.timezone) ctx.timezone = req.prefer.timezone;
      return await withRequestContext(sql, ctx, (tx) => execute(tx, sc, req, plan));
    } catch (error) {
      if (error instanceof RestError) return errorResponse(error);
      if (isPgError(error)) return errorResponse(fromPgError(error, role !== ANON_ROLE));
      const code = (error as { code?: string }).code;
      if (code === "ECONNREFUSED" || code === "CONNECTION_CLOSED" || code === "CONNECT_TIMEOUT" || code === "CONNECTION_ENDED") {
        return errorResponse(connectionError(String((error as Error).message)));
      }
      console.error("rest: unexpected error:", error);
      return errorResponse(new RestError(500, "PGRSTX00", "Internal server error", String((error as Error)?.message ?? error)));
    }
  };

  async function execute(tx: postgres.TransactionSql, sc: SchemaCache, req: ApiRequest, plan: Plan): Promise<Response> {
    const run = async (q: { sql: string; params: Array<string | null> }) =>
      toResult((await tx.unsafe(q.sql, q.params as postgres.ParameterOrJSON<never>[]))[0] as Row | undefined);
    const count = req.prefer.count;

    if (plan.kind === "openapi") {
      const tables = await tx.unsafe<{ name: string }[]>(
        `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = $1 and c.relkind in ('r','v','m','f','p')
            and (has_table_privilege(c.oid, 'select') or has_table_privilege(c.oid, 'insert') or has_table_privilege(c.oid, 'update') or has_table_privilege(c.oid, 'delete'))`,
        [req.schema]);
      const routines = await tx.unsafe<{ name: string }[]>(
        `select p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = $1 and has_function_privilege(p.oid, 'execute')`, [req.schema]);
      const doc = openApi(sc, {
        schema: req.schema, apiUrl: deps.apiUrl,
        visibleTables: new Set(tables.map((t) => t.name)), visibleRoutines: new Set(routines.map((r) => r.name)),
      });
      return new Response(req.method === "HEAD" ? null : JSON.stringify(doc), { status: 200, headers: { "content-type": "application/openapi+json; charset=utf-8" } });
    }

    if (plan.kind === "read") {
      const q = readQuery(plan.read, { count: count === "exact", single: req.accept === "object" });
      const result = await run(q);
      if (count === "planned" || count === "estimated") result.total = await estimate(tx, q.count.sql, q.count.params, count, result, plan.read);
      return readResponse(req, plan.read.offset, result);
    }

    if (plan.kind === "call") {
      const call: CallPlan = plan.call;
      const q = callQuery(call, { count: count === "exact", single: req.accept === "object", isPost: req.method === "POST" });
      const result = await run(q);
      if ((count === "planned" || count === "estimated") && q.count && call.read) result.total = await estimate(tx, q.count.sql, q.count.params, count, result, call.read);
      if (call.routine.returns.setOf || req.accept === "object") checkSingular(req, result.pageTotal);
      maxAffected(req, result.pageTotal);
      return callResponse(req, call.read?.offset ?? 0, result, call.routine.returns.kind === "void");
    }

    const m: MutatePlan = plan.mutate;
    if ((m.kind === "update" || m.kind === "delete") && m.where.length === 0) {
      // pg-safeupdate, preloaded for PostgREST on Supabase (supabase/postgres
      // migrations/db/migrations/20260403172611_safeupdate-data-api-enable.sql).
      throw new RestError(400, "21000", `${m.kind === "update" ? "UPDATE" : "DELETE"} requires a WHERE clause`);
    }
    const representation = req.prefer.return === "representation";
    const q = mutateQuery(m, { representation, count: count !== undefined, single: req.accept === "object", withPk: req.prefer.return === "headers-only" && m.kind === "insert" });
    const result = await run(q);
    // A singular or max-affected violation rolls the transaction back (throwing here does).
    if (req.accept === "object") checkSingular(req, result.pageTotal);
    maxAffected(req, result.pageTotal);
    return mutateResponse(req, m.kind, m.table.name, result);
  }

  function maxAffected(req: ApiRequest, n: number): void {
    if (req.prefer.handling === "strict" && req.prefer.maxAffected !== undefined && n > req.prefer.maxAffected) throw maxAffectedViolation(n);
  }

  async function estimate(tx: postgres.TransactionSql, countSql: string, params: Array<string | null>, mode: "planned" | "estimated", result: StatementResult, read: ReadPlan): Promise<number> {
    const planned = await plannedCount(tx, countSql, params);
    if (mode === "planned") return planned;
    // estimated: the exact count while it is small (below max-rows), the planner's estimate beyond.
    if (maxRows === undefined || planned <= maxRows) {
      const rows = await tx.unsafe(`select pg_catalog.count(*) as n from (${countSql}) as pgrst_count`, params as postgres.ParameterOrJSON<never>[]);
      return Number((rows[0] as unknown as { n: string }).n);
    }
    void read;
    return Math.max(planned, result.pageTotal);
  }

  const service = handler as RestService;
  service.reload = reload;
  service.close = async () => {
    await listening;
    await sql.end({ timeout: 5 });
    await meta.end({ timeout: 5 });
  };
  return service;
}
