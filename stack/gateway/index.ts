// The API gateway at API_URL: one origin for every service, as `supabase start`'s gateway
// (supabase/cli:packages/stack/src/ApiProxy.ts, checked at 1d1e719).
//
// - Routes by prefix and strips it before the service sees the path: /auth/v1, /rest/v1, /storage/v1,
//   /realtime/v1 (REST API; the socket is upgraded by the server, see stack/server.ts) and /functions/v1 (passed on
//   with its prefix to the functions runtime, which routes by it).
// - Rewrites Authorization for the new opaque keys: a request keeps its Authorization unless it is missing or a
//   `Bearer sb_…`; then the `apikey` header decides: the publishable key becomes the anon JWT, the secret key the
//   service_role JWT, anything else (a legacy JWT key) is used as the bearer itself. /auth/v1/verify, /callback and
//   /authorize are browser redirects and are passed on untouched.
// - Answers every OPTIONS with 204 and adds CORS headers to every response; /health answers "OK".
// Differences from the real gateway are listed in docs/local-stack.md.
import type { ProjectKeys } from "../shared/keys.ts";
import { json, rewriteRequest, type Handler } from "../shared/http.ts";

export interface GatewayServices {
  auth?: Handler;
  rest?: Handler;
  storage?: Handler;
  /** The Realtime HTTP API (/realtime/v1/api/...); the websocket is handled by the server's upgrade hook. */
  realtime?: Handler;
  functions?: Handler;
}

export interface GatewayDeps {
  keys: ProjectKeys;
  services: GatewayServices;
}

/** Headers a browser may read from our responses: what supabase-js reads (Content-Range for counts, the Auth API
 * version for error codes) plus what PostgREST and GoTrue expose themselves. */
const EXPOSED_HEADERS = [
  "Content-Range", "Range", "Range-Unit", "Content-Location", "Location", "Preference-Applied",
  "X-Supabase-Api-Version", "X-Total-Count", "Link", "Content-Type", "Content-Length", "ETag", "Last-Modified",
].join(", ");

/** Headers a preflight allows when the browser does not list them (the ones supabase-js sends). */
const ALLOWED_HEADERS = [
  "apikey", "authorization", "x-client-info", "content-type", "prefer", "range", "range-unit", "accept-profile",
  "content-profile", "x-supabase-api-version", "x-upsert", "cache-control", "x-metadata", "x-region",
].join(", ");

function withCors(response: Response): Response {
  const headers = new Headers(response.headers);
  headers.set("access-control-allow-origin", "*");
  headers.set("access-control-expose-headers", EXPOSED_HEADERS);
  // A Response's headers may be immutable (fetch results); build a new one around the same body.
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

function preflight(request: Request): Response {
  const asked = request.headers.get("access-control-request-headers");
  return new Response(null, {
    status: 204,
    headers: {
      "access-control-allow-methods": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
      "access-control-allow-headers": asked && asked.trim() !== "" ? asked : ALLOWED_HEADERS,
      "access-control-max-age": "86400",
    },
  });
}

/** The Authorization header a service receives (see the header comment). */
export function gatewayAuthorization(headers: Headers, keys: ProjectKeys): string | undefined {
  const authorization = headers.get("authorization") ?? undefined;
  if (authorization !== undefined && !/^bearer\s+sb_/i.test(authorization)) return authorization;
  const apikey = headers.get("apikey") ?? "";
  if (apikey === keys.publishableKey) return `Bearer ${keys.anonKey}`;
  if (apikey === keys.secretKey) return `Bearer ${keys.serviceRoleKey}`;
  if (apikey !== "") return /^bearer\s/i.test(apikey) ? apikey : `Bearer ${apikey}`;
  return authorization;
}

/** The request as the service receives it: prefix stripped and Authorization rewritten, in one copy. */
function forwardedRequest(request: Request, route: Route, keys: ProjectKeys): Request {
  if (!route.rewriteAuth && !route.strip) return request;
  const url = new URL(request.url);
  if (route.strip && url.pathname.startsWith(route.strip)) url.pathname = url.pathname.slice(route.strip.length) || "/";
  const headers = new Headers(request.headers);
  if (route.rewriteAuth) {
    const authorization = gatewayAuthorization(headers, keys);
    if (authorization === undefined) headers.delete("authorization");
    else headers.set("authorization", authorization);
  }
  return rewriteRequest(request, url, headers);
}

const NO_ROUTE = () => json({ message: "no Route matched with those values" }, 404);

interface Route {
  prefix: string;
  service: keyof GatewayServices;
  /** Rewrite Authorization from the apikey (false for browser redirects). */
  rewriteAuth: boolean;
  /** The path prefix removed before the service sees the request; the functions runtime routes by the full path. */
  strip?: string;
}

const ROUTES: Route[] = [
  { prefix: "/auth/v1/verify", service: "auth", rewriteAuth: false, strip: "/auth/v1" },
  { prefix: "/auth/v1/callback", service: "auth", rewriteAuth: false, strip: "/auth/v1" },
  { prefix: "/auth/v1/authorize", service: "auth", rewriteAuth: false, strip: "/auth/v1" },
  { prefix: "/auth/v1", service: "auth", rewriteAuth: true, strip: "/auth/v1" },
  { prefix: "/rest/v1", service: "rest", rewriteAuth: true, strip: "/rest/v1" },
  { prefix: "/storage/v1", service: "storage", rewriteAuth: true, strip: "/storage/v1" },
  { prefix: "/realtime/v1/api", service: "realtime", rewriteAuth: true, strip: "/realtime/v1" },
  { prefix: "/functions/v1", service: "functions", rewriteAuth: true },
];

export function createGateway(deps: GatewayDeps): Handler {
  return async (request) => {
    if (request.method === "OPTIONS") return withCors(preflight(request));
    const { pathname } = new URL(request.url);
    if (pathname === "/health") return withCors(new Response("OK", { status: 200 }));
    const route = ROUTES.find((r) => pathname === r.prefix || pathname.startsWith(`${r.prefix}/`));
    const service = route && deps.services[route.service];
    if (!route || !service) return withCors(NO_ROUTE());
    const forwarded = forwardedRequest(request, route, deps.keys);
    try {
      return withCors(await service(forwarded));
    } catch (error) {
      console.error(`gateway: ${route.service} failed on ${request.method} ${pathname}:`, error);
      return withCors(json({ message: "An invalid response was received from the upstream server" }, 502));
    }
  };
}

/** A handler that passes requests on to another HTTP server (the functions runtime) unchanged. */
export function proxyTo(baseUrl: string): Handler {
  const base = new URL(baseUrl);
  return async (request) => {
    const url = new URL(request.url);
    url.protocol = base.protocol;
    url.host = base.host;
    const upstream = await fetch(rewriteRequest(request, url));
    const headers = new Headers(upstream.headers);
    // fetch has already decoded the body; the length and encoding no longer describe it.
    for (const name of ["content-encoding", "content-length", "transfer-encoding"]) headers.delete(name);
    return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
  };
}
