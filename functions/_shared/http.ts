// JSON responses and the error shape every function answers with: {"code", "message", "hint"?, "details"?}
// (the same keys PostgREST uses, so a client handles function and database errors alike). Codes are stable,
// upper-case strings listed in docs/errors.md. All responses carry the CORS headers so a browser can read them.

import type { z } from "npm:zod@4.6.7";
import { corsHeaders } from "./cors.ts";

export interface ErrorBody {
  code: string;
  message: string;
  hint?: string;
  details?: unknown;
}

/** A JSON response with CORS headers. */
export function json(body: unknown, status = 200, headers?: HeadersInit): Response {
  const merged = new Headers(corsHeaders);
  merged.set("Content-Type", "application/json; charset=utf-8");
  for (const [name, value] of new Headers(headers)) merged.set(name, value);
  return new Response(JSON.stringify(body), { status, headers: merged });
}

/** An error response: `{"code", "message", "hint"?}` with the given status. */
export function errorResponse(status: number, code: string, message: string, hint?: string): Response {
  const body: ErrorBody = hint === undefined ? { code, message } : { code, message, hint };
  return json(body, status);
}

/** 405 with an Allow header listing what the function accepts. */
export function methodNotAllowed(method: string, allowed: readonly string[]): Response {
  return json(
    { code: "METHOD_NOT_ALLOWED", message: `Method ${method} is not allowed`, hint: `Use ${allowed.join(" or ")}` },
    405,
    { Allow: allowed.join(", ") },
  );
}

/** 400 for input that failed a zod schema: a readable message plus the issues as `details`. */
export function validationErrorResponse(error: z.ZodError): Response {
  const body: ErrorBody = {
    code: "INVALID_INPUT",
    message: error.issues
      .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
      .join("; "),
    details: error.issues.map((issue) => ({ path: issue.path.map(String), code: issue.code, message: issue.message })),
  };
  return json(body, 400);
}

export type ParsedBody<T> = { ok: true; data: T } | { ok: false; response: Response };

/**
 * Reads a JSON request body and validates it with `schema`. Anything but a valid body gives a ready 400 response:
 * INVALID_JSON for a body that is not JSON, INVALID_INPUT (via validationErrorResponse) for one the schema rejects.
 */
export async function parseJsonBody<S extends z.ZodType>(
  request: Request,
  schema: S,
): Promise<ParsedBody<z.output<S>>> {
  let value: unknown;
  try {
    value = await request.json();
  } catch {
    return { ok: false, response: errorResponse(400, "INVALID_JSON", "Request body must be JSON") };
  }
  const result = schema.safeParse(value);
  if (!result.success) return { ok: false, response: validationErrorResponse(result.error) };
  return { ok: true, data: result.data };
}
