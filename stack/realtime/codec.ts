// The Phoenix wire format Realtime speaks, apart from any channel logic.
//
// - vsn 1.0.0 (Phoenix.Socket.V1.JSONSerializer): every frame is a JSON object {join_ref, ref, topic, event, payload}.
// - vsn 2.0.0 (RealtimeWeb.Socket.V2Serializer, a superset of Phoenix's V2 serializer): text frames are JSON arrays
//   [join_ref, ref, topic, event, payload]; binary frames start with a kind byte:
//     0 push, 1 reply, 2 broadcast (binary payloads), 3 user broadcast push (client -> server),
//     4 user broadcast (server -> client). realtime-js sends kind 3 for every broadcast whose payload.event is a
//     string and decodes kind 4 into {type: "broadcast", event, payload, meta?}.
// Checked against supabase/realtime:lib/realtime_web/socket/v2_serializer.ex and
// supabase/supabase-js:packages/core/realtime-js/src/lib/serializer.ts.

export type Vsn = "1.0.0" | "2.0.0";

/** A user broadcast as the V2 serializer carries it: the event and the undecoded payload bytes. */
export interface UserBroadcastBody {
  kind: "user_broadcast";
  event: string;
  encoding: "json" | "binary";
  payload: Uint8Array;
  meta?: Record<string, unknown>;
}

export type Payload = Record<string, unknown> | UserBroadcastBody;

/** A decoded client frame. */
export interface InboundMessage {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: Payload;
}

export class CodecError extends Error {}

const KIND_PUSH = 0;
const KIND_USER_BROADCAST_PUSH = 3;
const KIND_USER_BROADCAST = 4;

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

function asRef(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return String(value);
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function isUserBroadcast(payload: Payload): payload is UserBroadcastBody {
  return (payload as UserBroadcastBody).kind === "user_broadcast" && (payload as UserBroadcastBody).payload instanceof Uint8Array;
}

/** The vsn query parameter; Phoenix falls back to its 2.0.0 serializer when it is absent. Unknown versions throw. */
export function parseVsn(value: string | null): Vsn {
  if (value === null || value === "" || value.startsWith("2.")) return "2.0.0";
  if (value.startsWith("1.")) return "1.0.0";
  throw new CodecError(`unsupported serializer version ${value}`);
}

export function decode(data: Buffer | string, isBinary: boolean, vsn: Vsn): InboundMessage {
  if (!isBinary) return decodeText(typeof data === "string" ? data : data.toString("utf8"), vsn);
  if (vsn !== "2.0.0") throw new CodecError("binary frames need vsn 2.0.0");
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  return decodeBinary(bytes);
}

function decodeText(text: string, vsn: Vsn): InboundMessage {
  const value: unknown = JSON.parse(text);
  if (vsn === "1.0.0") {
    const m = asObject(value);
    if (typeof m.topic !== "string" || typeof m.event !== "string") throw new CodecError("expected a V1 message object");
    return { joinRef: asRef(m.join_ref), ref: asRef(m.ref), topic: m.topic, event: m.event, payload: asObject(m.payload) };
  }
  if (!Array.isArray(value) || value.length < 5 || typeof value[2] !== "string" || typeof value[3] !== "string") {
    throw new CodecError("expected V2 array");
  }
  return { joinRef: asRef(value[0]), ref: asRef(value[1]), topic: value[2], event: value[3], payload: asObject(value[4]) };
}

function decodeBinary(bytes: Buffer): InboundMessage {
  const kind = bytes[0];
  if (kind === KIND_USER_BROADCAST_PUSH) {
    if (bytes.length < 7) throw new CodecError("short user broadcast push");
    const [joinRefLen, refLen, topicLen, eventLen, metaLen, encoding] = [1, 2, 3, 4, 5, 6].map((i) => bytes[i]!) as [
      number, number, number, number, number, number,
    ];
    let at = 7;
    const take = (n: number): Buffer => {
      if (at + n > bytes.length) throw new CodecError("truncated binary frame");
      const part = bytes.subarray(at, at + n);
      at += n;
      return part;
    };
    const joinRef = utf8.decode(take(joinRefLen));
    const ref = utf8.decode(take(refLen));
    const topic = utf8.decode(take(topicLen));
    const event = utf8.decode(take(eventLen));
    const metaBytes = take(metaLen);
    const meta = metaLen > 0 ? asObject(JSON.parse(utf8.decode(metaBytes))) : {};
    const payload = new Uint8Array(bytes.subarray(at));
    return {
      joinRef: joinRef === "" ? null : joinRef,
      ref: ref === "" ? null : ref,
      topic,
      event: "broadcast",
      payload: { kind: "user_broadcast", event, encoding: encoding === 0 ? "binary" : "json", payload, meta },
    };
  }
  if (kind === KIND_PUSH) {
    const [joinRefLen, refLen, topicLen, eventLen] = [1, 2, 3, 4].map((i) => bytes[i] ?? 0) as [number, number, number, number];
    let at = 5;
    const take = (n: number) => utf8.decode(bytes.subarray(at, (at += n)));
    const joinRef = take(joinRefLen);
    const ref = take(refLen);
    const topic = take(topicLen);
    const event = take(eventLen);
    // A binary push (e.g. a binary presence payload) has no JSON body; channels see its bytes as a user broadcast
    // only when the event is "broadcast". Realtime's channel treats other binary pushes as unexpected messages.
    return {
      joinRef: joinRef || null, ref: ref || null, topic, event,
      payload: { kind: "user_broadcast", event, encoding: "binary", payload: new Uint8Array(bytes.subarray(at)) },
    };
  }
  throw new CodecError(`unexpected binary frame kind ${kind}`);
}

/** A frame to write: text or binary. */
export type Frame = { binary: false; data: string } | { binary: true; data: Buffer };

function byteLength(value: string, what: string): Buffer {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length > 255) throw new CodecError(`${what} must be at most 255 bytes`);
  return bytes;
}

/** A push or reply with a JSON payload (phx_reply, presence_state, system, postgres_changes, ...). */
export function encodeMessage(
  vsn: Vsn,
  msg: { joinRef: string | null; ref: string | null; topic: string; event: string; payload: unknown },
): Frame {
  if (vsn === "1.0.0") {
    return {
      binary: false,
      data: JSON.stringify({ join_ref: msg.joinRef, ref: msg.ref, topic: msg.topic, event: msg.event, payload: msg.payload }),
    };
  }
  return { binary: false, data: JSON.stringify([msg.joinRef, msg.ref, msg.topic, msg.event, msg.payload]) };
}

export function encodeReply(
  vsn: Vsn,
  reply: { joinRef: string | null; ref: string | null; topic: string; status: "ok" | "error"; response: unknown },
): Frame {
  return encodeMessage(vsn, {
    joinRef: reply.joinRef, ref: reply.ref, topic: reply.topic, event: "phx_reply",
    payload: { status: reply.status, response: reply.response },
  });
}

/**
 * A broadcast to a subscriber. Realtime fastlanes a user broadcast as binary kind 4 to V2 sockets; V1 sockets get
 * it converted to a JSON "broadcast" push (binary payloads cannot be represented there and are skipped).
 * `json` broadcasts (those that arrived as JSON text pushes) are sent as text in both versions.
 */
export function encodeBroadcast(vsn: Vsn, topic: string, body: Payload): Frame | undefined {
  if (!isUserBroadcast(body)) return encodeMessage(vsn, { joinRef: null, ref: null, topic, event: "broadcast", payload: body });
  if (vsn === "1.0.0") {
    if (body.encoding !== "json") return undefined;
    const payload: Record<string, unknown> = {
      event: body.event,
      payload: JSON.parse(utf8.decode(body.payload)),
      type: "broadcast",
    };
    if (body.meta && Object.keys(body.meta).length > 0) payload.meta = body.meta;
    return encodeMessage(vsn, { joinRef: null, ref: null, topic, event: "broadcast", payload });
  }
  const topicBytes = byteLength(topic, "topic");
  const eventBytes = byteLength(body.event, "user_event");
  const metaBytes = body.meta && Object.keys(body.meta).length > 0 ? byteLength(JSON.stringify(body.meta), "metadata") : Buffer.alloc(0);
  const header = Buffer.from([
    KIND_USER_BROADCAST, topicBytes.length, eventBytes.length, metaBytes.length, body.encoding === "json" ? 1 : 0,
  ]);
  return { binary: true, data: Buffer.concat([header, topicBytes, eventBytes, metaBytes, Buffer.from(body.payload)]) };
}

/** A user broadcast body from an event name and a JSON value (REST API, database rows). */
export function jsonUserBroadcast(event: string, payloadJson: string, meta?: Record<string, unknown>): UserBroadcastBody {
  const body: UserBroadcastBody = { kind: "user_broadcast", event, encoding: "json", payload: encoder.encode(payloadJson) };
  if (meta) body.meta = meta;
  return body;
}

/** The size Realtime checks against the tenant's max payload size (the user payload's bytes or JSON). */
export function payloadSize(body: Payload): number {
  return isUserBroadcast(body) ? body.payload.length : Buffer.byteLength(JSON.stringify(body));
}
