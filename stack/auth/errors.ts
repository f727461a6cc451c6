// GoTrue's error bodies (supabase/auth:internal/api/errors.go HandleResponseError, apierrors/apierrors.go,
// apierrors/errorcode.go). A request with `X-Supabase-Api-Version: 2024-01-01` or later (auth-js always sends it) gets
// `{code: "<error_code>", message}` and the header echoed back; older clients get `{code: <status>, error_code, msg}`.
// Every coded error also carries `x-sb-error-code`.
import { json } from "../shared/http.ts";

export const API_VERSION_HEADER = "x-supabase-api-version";
export const API_VERSION_2024_01_01 = "2024-01-01";

export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra top-level fields (weak_password: {reasons}). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "AuthError";
  }
}

export const badRequest = (code: string, message: string) => new AuthError(400, code, message);
export const unprocessable = (code: string, message: string) => new AuthError(422, code, message);
export const forbidden = (code: string, message: string) => new AuthError(403, code, message);
export const notFound = (code: string, message: string) => new AuthError(404, code, message);
export const tooMany = (code: string, message: string) => new AuthError(429, code, message);

export function weakPassword(message: string, reasons: string[]): AuthError {
  return new AuthError(422, "weak_password", message, { weak_password: { reasons } });
}

/** The dated version the request asked for, or undefined for the initial (pre-2024) behaviour. Like GoTrue, an
 * unparseable value falls back to the initial version, and any date at or after 2024-01-01 means 2024-01-01. */
export function requestedApiVersion(request: Request): string | undefined {
  const value = request.headers.get(API_VERSION_HEADER);
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  return value >= API_VERSION_2024_01_01 ? API_VERSION_2024_01_01 : undefined;
}

export function errorResponse(error: AuthError, request: Request): Response {
  const version = requestedApiVersion(request);
  const headers: Record<string, string> = { "x-sb-error-code": error.code };
  if (version) {
    headers[API_VERSION_HEADER] = version;
    return json({ code: error.code, message: error.message, ...error.extra }, error.status, headers);
  }
  return json({ code: error.status, error_code: error.code, msg: error.message, ...error.extra }, error.status, headers);
}

/** An unexpected failure as GoTrue reports it: 500 unexpected_failure, details only in the log. */
export function internalError(message = "Unexpected failure, please check server logs for more information"): AuthError {
  return new AuthError(500, "unexpected_failure", message);
}
