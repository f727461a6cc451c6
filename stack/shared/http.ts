// Small helpers for the services' Web-standard handlers: (Request) => Promise<Response>.

export type Handler = (request: Request) => Promise<Response>;

/** A JSON response. */
export function json(body: unknown, status = 200, headers?: HeadersInit): Response {
  const merged = new Headers(headers);
  if (!merged.has("content-type")) merged.set("content-type", "application/json; charset=utf-8");
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: merged });
}

/**
 * A copy of `request` at another URL and/or with other headers. The body is passed on as a stream (Node needs
 * `duplex: "half"` for that).
 */
export function rewriteRequest(request: Request, url: URL | string, headers: Headers = new Headers(request.headers)): Request {
  const hasBody = request.body !== null && request.method !== "GET" && request.method !== "HEAD";
  return new Request(url, {
    method: request.method,
    headers,
    body: hasBody ? request.body : undefined,
    redirect: "manual",
    signal: request.signal,
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
}
