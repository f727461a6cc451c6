// PostgREST's error body {code, details, hint, message} and its status rules: PGRST codes for request, schema cache
// and JWT errors, the SQLSTATE -> HTTP table for database errors.
// Checked against PostgREST/postgrest:src/library/PostgREST/Error.hs (ErrorBody/ErrorHeaders instances, mapSQLtoHTTP).

export interface ErrorBody {
  code: string;
  details: string | null;
  hint: string | null;
  message: string;
}

/** An error the pipeline answers with; every stage throws these. */
export class RestError extends Error {
  readonly status: number;
  readonly body: ErrorBody;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, details: string | null = null, hint: string | null = null, headers: Record<string, string> = {}) {
    super(message);
    this.name = "RestError";
    this.status = status;
    this.body = { code, details, hint, message };
    this.headers = headers;
  }
}

// ---- PGRST1xx: the request -------------------------------------------------------------------------------------

export const queryParamError = (message: string, details: string) => new RestError(400, "PGRST100", message, details);
export const invalidRpcMethod = (method: string) => new RestError(405, "PGRST101", `Cannot use the ${method} method on RPC`);
export const invalidBody = (message: string) => new RestError(400, "PGRST102", message);
export const invalidRange = (details: string) => new RestError(416, "PGRST103", "Requested range not satisfiable", details);
export const unacceptableSchema = (schema: string, exposed: string[]) =>
  new RestError(406, "PGRST106", `Invalid schema: ${schema}`, null, `Only the following schemas are exposed: ${exposed.join(", ")}`);
export const mediaTypeError = (types: string[]) => new RestError(406, "PGRST107", `None of these media types are available: ${types.join(", ")}`);
export const notEmbedded = (resource: string) =>
  new RestError(400, "PGRST108", `'${resource}' is not an embedded resource in this request`, null,
    `Verify that '${resource}' is included in the 'select' query parameter.`);
export const singularityError = (n: number) =>
  new RestError(406, "PGRST116", "Cannot coerce the result to a single JSON object", `The result contains ${n} rows`);
export const unsupportedMethod = (method: string) => new RestError(405, "PGRST117", `Unsupported HTTP method: ${method}`);
export const relatedOrderNotToOne = (origin: string, target: string) =>
  new RestError(400, "PGRST118", `A related order on '${target}' is not possible`, `'${origin}' and '${target}' do not form a many-to-one or one-to-one relationship`);
export const unacceptableFilter = (target: string) =>
  new RestError(400, "PGRST120", `Bad operator on the '${target}' embedded resource`, "Only is null or not is null filters are allowed on embedded resources");
export const invalidPreferences = (prefs: string[]) =>
  new RestError(400, "PGRST122", "Invalid preferences given with handling=strict", `Invalid preferences: ${prefs.join(", ")}`);
export const maxAffectedViolation = (n: number) =>
  new RestError(400, "PGRST124", "Query result exceeds max-affected preference constraint", `The query affects ${n} rows`);
export const invalidResourcePath = () => new RestError(404, "PGRST125", "Invalid path specified in request URL");
export const notImplemented = (details: string) => new RestError(400, "PGRST127", "Feature not implemented", details);

// ---- PGRST2xx: the schema cache --------------------------------------------------------------------------------

export const noRelBetween = (parent: string, child: string, hint: string | undefined, schema: string) =>
  new RestError(400, "PGRST200", `Could not find a relationship between '${parent}' and '${child}' in the schema cache`,
    `Searched for a foreign key relationship between '${parent}' and '${child}'${hint ? `' using the hint '${hint}` : ""}' in the schema '${schema}', but no matches were found.`);

export interface AmbiguousChoice {
  embedding: string;
  cardinality: string;
  relationship: string;
  hint: string;
}

export function ambiguousRel(parent: string, child: string, choices: AmbiguousChoice[]): RestError {
  const err = new RestError(300, "PGRST201", `Could not embed because more than one relationship was found for '${parent}' and '${child}'`, null,
    `Try changing '${child}' to one of the following: ${choices.map((c) => `'${c.hint}'`).join(", ")}. Find the desired relationship in the 'details' key.`);
  // details is a JSON array here, not a string (Error.hs compressedRel).
  (err.body as unknown as { details: unknown }).details = choices.map(({ embedding, cardinality, relationship }) => ({ cardinality, embedding, relationship }));
  return err;
}

export function noRpc(schema: string, name: string, args: string[], jsonBody: boolean): RestError {
  const func = `${schema}.${name}`;
  const prms = args.join(", ");
  const message = `Could not find the function ${func}${args.length === 0 ? " without parameters" : `(${prms})`} in the schema cache`;
  const withParams = args.length === 0 ? " without parameters" : ` with parameter${args.length > 1 ? "s" : ""} ${prms}`;
  const details = `Searched for the function ${func}${withParams}${jsonBody ? " or with a single unnamed json/jsonb parameter" : ""}, but no matches were found in the schema cache.`;
  return new RestError(404, "PGRST202", message, details);
}

export const ambiguousRpc = (signatures: string[]) =>
  new RestError(300, "PGRST203", `Could not choose the best candidate function between: ${signatures.join(", ")}`, null,
    "Try renaming the parameters or the function itself in the database so function overloading can be resolved");
export const columnNotFound = (rel: string, col: string) =>
  new RestError(400, "PGRST204", `Could not find the '${col}' column of '${rel}' in the schema cache`);
export const tableNotFound = (schema: string, rel: string) =>
  new RestError(404, "PGRST205", `Could not find the table '${schema}.${rel}' in the schema cache`);

// ---- PGRST3xx: the JWT ------------------------------------------------------------------------------------------

function jwtError(code: string, message: string): RestError {
  return new RestError(401, code, message, null, null, {
    "www-authenticate": `Bearer error="invalid_token", error_description=${JSON.stringify(message)}`,
  });
}
/** PGRST301: the token cannot be decoded or verified. */
export const jwtDecodeError = (message: string) => jwtError("PGRST301", message);
/** PGRST303: the token's claims are refused (expired, not yet valid, ...). */
export const jwtClaimsError = (message: string) => jwtError("PGRST303", message);

// ---- database errors ---------------------------------------------------------------------------------------------

export interface PgErrorLike {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
}

/** The HTTP status PostgREST answers a database error with (Error.hs mapSQLtoHTTP). `authed`: the role is not anon. */
export function sqlStateStatus(code: string, message: string, authed: boolean): number {
  const exact: Record<string, number> = {
    "23503": 409, "23505": 409, "25006": 405, "53400": 500, "57P01": 503, P0001: 400, "42P01": 404, "42P17": 500,
  };
  if (code === "21000") return message.endsWith("requires a WHERE clause") ? 400 : 500;
  if (code === "22023") return message.startsWith("role") && message.endsWith("does not exist") ? 401 : 400;
  if (code === "42883") return message.startsWith("function xmlagg(") ? 406 : 404;
  if (code === "42501") return authed ? 403 : 401;
  if (exact[code] !== undefined) return exact[code]!;
  if (code.startsWith("PT")) {
    const n = Number(code.slice(2));
    return Number.isInteger(n) && n >= 100 && n <= 599 ? n : 500;
  }
  const prefixes: Array<[string, number]> = [
    ["08", 503], ["09", 500], ["0L", 403], ["0P", 403], ["25", 500], ["28", 403], ["2D", 500], ["38", 500], ["39", 500],
    ["3B", 500], ["40", 500], ["53", 503], ["54", 500], ["55", 500], ["57", 500], ["58", 500], ["F0", 500], ["HV", 500],
    ["P0", 500], ["XX", 500],
  ];
  for (const [prefix, status] of prefixes) if (code.startsWith(prefix)) return status;
  return 400;
}

/** A database error as PostgREST answers it, including `raise sqlstate 'PGRST'` with JSON message and detail. */
export function fromPgError(error: PgErrorLike, authed: boolean): RestError {
  const code = error.code ?? "XX000";
  const message = error.message ?? "";
  if (code === "PGRST") {
    try {
      const m = JSON.parse(message) as { code: string; message: string; details?: string; hint?: string };
      const d = JSON.parse(error.detail ?? "") as { status: number; headers?: Record<string, string> };
      return new RestError(d.status, m.code, m.message, m.details ?? null, m.hint ?? null, d.headers ?? {});
    } catch {
      return new RestError(500, "PGRST121", "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error");
    }
  }
  const status = sqlStateStatus(code, message, authed);
  return new RestError(status, code, message, error.detail ?? null, error.hint ?? null, status === 401 ? { "www-authenticate": "Bearer" } : {});
}

/** A lost or refused connection (PostgREST answers 503 PGRST001/PGRST000 style). */
export const connectionError = (message: string) => new RestError(503, "PGRST001", "Database client error. Retrying the connection.", message);
