// The Realtime service of the local stack: the websocket at /realtime/v1/websocket (Phoenix channels) and the HTTP
// API at /realtime/v1/api (broadcast, ping). It connects as `supabase_admin`, the user the Supabase CLI and the
// self-hosted docker-compose give Realtime (DB_USER), runs authorization on that connection and streams
// realtime.messages by logical replication. Differences from the real server: docs/local-stack/realtime.md.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import postgres from "postgres";
import { WebSocketServer } from "ws";
import type { StackDeps } from "../shared/deps.ts";
import { bearerToken } from "../shared/keys.ts";
import { json, type Handler } from "../shared/http.ts";
import { Authorization, emptyPolicies, type AuthorizationContext } from "./authorization.ts";
import { startBroadcastStream, type BroadcastStream } from "./broadcast-stream.ts";
import { CodecError, parseVsn } from "./codec.ts";
import { Connection, type ServerParts } from "./connection.ts";
import { Hub, tenantTopic } from "./hub.ts";
import { PostgresChanges } from "./postgres-changes.ts";
import { confirmToken } from "./token.ts";

/** The tenant default max_payload_size_in_kb (supabase/realtime:lib/realtime/api/tenant.ex). */
const MAX_PAYLOAD_BYTES = 3000 * 1024;

export interface RealtimeService {
  /** The HTTP API, behind the gateway's /realtime/v1 prefix (paths start with /api). */
  api: Handler;
  /** Upgrades a /realtime/v1/websocket request; `token` is what the gateway passes as x-api-key. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, token: string | undefined): void;
  /** Number of open sockets. */
  connectionCount(): number;
  /** Drops every socket without a close frame (a network failure, for tests). */
  dropConnections(): void;
  close(): Promise<void>;
}

/** The x-* headers of a request, as Phoenix's x_headers (lower-case names). */
function xHeaders(headers: IncomingMessage["headers"] | Headers): Record<string, string> {
  const out: Record<string, string> = {};
  const entries: Array<[string, string | string[] | undefined]> = [];
  if (headers instanceof Headers) headers.forEach((value, name) => entries.push([name, value]));
  else entries.push(...Object.entries(headers));
  for (const [name, value] of entries) {
    if (!name.toLowerCase().startsWith("x-") || value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : String(value);
  }
  return out;
}

function httpError(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  const reason = { 401: "Unauthorized", 403: "Forbidden", 500: "Internal Server Error" }[status] ?? "Error";
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

const CONNECT_ERRORS: Record<string, [number, string]> = {
  expired_token: [401, "Token has expired"],
  missing_claims: [401, "Fields `role` and `exp` are required in JWT"],
  token_malformed: [401, "The token provided is not a valid JWT"],
  invalid_token: [401, "The token provided is not a valid JWT"],
  signature_error: [401, "Failed to validate JWT signature"],
};

export async function createRealtime(deps: StackDeps): Promise<RealtimeService> {
  const url = deps.db.url("supabase_admin");
  const sql = postgres(url, { max: 6, onnotice: () => {}, idle_timeout: 30, connection: { application_name: "realtime" } });
  const hub = new Hub();
  const authorization = new Authorization(sql);
  let stream: BroadcastStream | undefined;
  let changes: PostgresChanges | undefined;
  try {
    stream = await startBroadcastStream(url, sql, hub, MAX_PAYLOAD_BYTES);
    changes = await PostgresChanges.start(sql);
  } catch (error) {
    await stream?.close();
    await sql.end({ timeout: 1 });
    throw error;
  }
  const parts: ServerParts = { hub, authorization, sql, changes, jwtSecret: deps.keys.jwtSecret, maxPayloadBytes: MAX_PAYLOAD_BYTES };
  const connections = new Set<Connection>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 8 * 1024 * 1024 });

  function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, token: string | undefined): void {
    const query = new URL(request.url ?? "/", "http://realtime.local").searchParams;
    let vsn;
    try {
      vsn = parseVsn(query.get("vsn"));
    } catch (error) {
      if (error instanceof CodecError) return httpError(socket, 500, "Error connecting to Realtime");
      throw error;
    }
    const apiKey = token ?? query.get("apikey") ?? undefined;
    if (apiKey === undefined) return httpError(socket, 401, "API key is missing");
    void confirmToken(apiKey, deps.keys.jwtSecret).then((result) => {
      if (!result.ok) {
        const [status, message] = CONNECT_ERRORS[result.error] ?? [500, "Error connecting to Realtime"];
        return httpError(socket, status, message);
      }
      if (socket.destroyed) return;
      wss.handleUpgrade(request, socket, head, (ws) => {
        const conn = new Connection(ws, vsn, apiKey, xHeaders(request.headers), parts, (c) => connections.delete(c));
        connections.add(conn);
      });
    });
  }

  // POST /api/broadcast {messages: [{topic, event, payload, private}]} (lib/realtime_web/controllers/
  // broadcast_controller.ex, lib/realtime/tenants/batch_broadcast.ex): 202 with an empty body; private messages are
  // sent only when the caller passes the write check for that topic; public ones always.
  async function broadcast(request: Request): Promise<Response> {
    const token = bearerToken(request.headers.get("authorization")) ?? request.headers.get("apikey") ?? undefined;
    const verified = await confirmToken(token, deps.keys.jwtSecret);
    if (!verified.ok) return json({ message: verified.message }, 401);
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      return json({ errors: { messages: ["can't be blank"] } }, 422);
    }
    const messages = (body as { messages?: unknown })?.messages;
    if (!Array.isArray(messages) || messages.length === 0) return json({ errors: { messages: ["can't be blank"] } }, 422);
    const errors: Array<Record<string, string[]>> = [];
    for (const m of messages as Array<Record<string, unknown>>) {
      const e: Record<string, string[]> = {};
      for (const field of ["topic", "event"] as const) if (typeof m?.[field] !== "string" || m[field] === "") e[field] = ["can't be blank"];
      if (m?.payload === undefined || m.payload === null) e.payload = ["can't be blank"];
      else if (typeof m.payload !== "object" || Array.isArray(m.payload)) e.payload = ["is invalid"];
      else if (Buffer.byteLength(JSON.stringify(m.payload)) > MAX_PAYLOAD_BYTES) e.payload = ["Payload size exceeds tenant limit"];
      errors.push(e);
    }
    if (errors.some((e) => Object.keys(e).length > 0)) return json({ errors: { messages: errors } }, 422);
    const claims = verified.claims;
    const allowed = new Map<string, boolean>();
    for (const m of messages as Array<{ topic: string; event: string; payload: unknown; private?: unknown; id?: unknown }>) {
      const isPrivate = m.private === true || m.private === "true";
      if (isPrivate && !allowed.has(m.topic)) {
        const ctx: AuthorizationContext = {
          topic: m.topic, claims, role: String(claims.role), sub: typeof claims.sub === "string" ? claims.sub : null,
          headers: xHeaders(request.headers),
        };
        try {
          const policies = await authorization.writePolicies(emptyPolicies(), ctx, ["broadcast", "presence"]);
          allowed.set(m.topic, policies.broadcast.write === true);
        } catch {
          allowed.set(m.topic, false);
        }
      }
      if (isPrivate && !allowed.get(m.topic)) continue;
      const payload: Record<string, unknown> = { payload: m.payload, event: m.event, type: "broadcast" };
      if (typeof m.id === "string") payload.meta = { id: m.id };
      hub.publish(tenantTopic(m.topic, isPrivate), { kind: "broadcast", body: payload });
    }
    return new Response(null, { status: 202 });
  }

  const api: Handler = async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/api/ping" && request.method === "GET") return json({ message: "Success" });
    if (pathname === "/api/broadcast" && request.method === "POST") return broadcast(request);
    return json({ message: "Not found" }, 404);
  };

  return {
    api,
    handleUpgrade,
    connectionCount: () => connections.size,
    dropConnections() {
      for (const c of [...connections]) c.terminate();
    },
    async close() {
      for (const c of [...connections]) c.close();
      wss.close();
      await changes?.close();
      await stream?.close();
      await sql.end({ timeout: 2 });
    },
  };
}

/** The gateway's socket rule (kong LUA_RT_WS_EXPR): the opaque keys become the legacy JWTs, anything else as is. */
export function socketApiKey(apikey: string | null, keys: StackDeps["keys"]): string | undefined {
  if (apikey === null) return undefined;
  if (apikey === keys.secretKey) return keys.serviceRoleKey;
  if (apikey === keys.publishableKey) return keys.anonKey;
  return apikey;
}
