// CORS for browser clients calling functions with supabase-js (functions.invoke) or fetch.
//
// The allowed request headers are the ones supabase-js sends: authorization, apikey, x-client-info and content-type
// always; x-region when a region is chosen; x-retry-count, traceparent, tracestate and baggage from its retry and
// tracing support. A header missing here makes the browser's preflight fail before the function runs.

export const corsHeaders: Readonly<Record<string, string>> = Object.freeze({
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers":
    "authorization, x-client-info, apikey, content-type, x-region, x-retry-count, traceparent, tracestate, baggage",
  "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
  "Access-Control-Max-Age": "86400",
});

/** The answer to an OPTIONS preflight request: 204 with the CORS headers. */
export function preflightResponse(): Response {
  return new Response(null, { status: 204, headers: corsHeaders });
}
