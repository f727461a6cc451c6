// The wire protocol of the local Realtime server, frame by frame with a bare `ws` client (what realtime-js hides):
// connect refusals, heartbeats, join replies, binary user broadcasts (kinds 3 and 4), unmatched topics, phx_leave
// and phx_close, and the codec on its own.
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { decode, encodeBroadcast, jsonUserBroadcast } from "../../stack/realtime/codec.ts";
import { parseParams } from "../../stack/realtime/postgres-changes.ts";
import { stack } from "./support/clients.ts";
import { eventually } from "./support/realtime.ts";

const sockets: WebSocket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.terminate();
});

type Frame = unknown[] | Buffer;

async function open(query: string): Promise<{ ws: WebSocket; frames: Frame[] }> {
  const ws = new WebSocket(`${stack.url.replace("http", "ws")}/realtime/v1/websocket?${query}`);
  sockets.push(ws);
  const frames: Frame[] = [];
  ws.on("message", (data, isBinary) => frames.push(isBinary ? (data as Buffer) : JSON.parse(String(data))));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return { ws, frames };
}

function refusal(query: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${stack.url.replace("http", "ws")}/realtime/v1/websocket?${query}`);
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once("open", () => reject(new Error("connected")));
    ws.once("error", () => {});
  });
}

/** kind 3, as realtime-js encodes a broadcast push. */
function userBroadcastPush(joinRef: string, ref: string, topic: string, event: string, payload: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(payload));
  const parts = [joinRef, ref, topic, event].map((s) => Buffer.from(s));
  return Buffer.concat([Buffer.from([3, ...parts.map((p) => p.length), 0, 1]), ...parts, body]);
}

describe("realtime: wire protocol", () => {
  it("refuses a socket without a valid key with the real HTTP answers", async () => {
    expect(await refusal("vsn=2.0.0")).toEqual({ status: 401, body: JSON.stringify({ error: "API key is missing" }) });
    expect(await refusal("apikey=nope&vsn=2.0.0")).toEqual({
      status: 401, body: JSON.stringify({ error: "The token provided is not a valid JWT" }),
    });
  });

  it("answers heartbeats, joins, unmatched topics and leaves in the 2.0.0 array format", async () => {
    const { ws, frames } = await open(`apikey=${stack.publishableKey}&vsn=2.0.0`);
    ws.send(JSON.stringify([null, "1", "phoenix", "heartbeat", {}]));
    await eventually(() => frames.length === 1, 3000, "heartbeat reply");
    expect(frames[0]).toEqual([null, "1", "phoenix", "phx_reply", { status: "ok", response: {} }]);

    ws.send(JSON.stringify(["2", "2", "realtime:lobby", "phx_join", { config: { broadcast: { self: true } } }]));
    await eventually(() => frames.length === 2, 3000, "join reply");
    expect(frames[1]).toEqual(["2", "2", "realtime:lobby", "phx_reply", { status: "ok", response: { postgres_changes: [] } }]);

    ws.send(JSON.stringify(["9", "3", "realtime:elsewhere", "broadcast", { type: "broadcast", event: "x", payload: {} }]));
    await eventually(() => frames.length === 3, 3000, "unmatched");
    expect(frames[2]).toEqual(["9", "3", "realtime:elsewhere", "phx_reply", { status: "error", response: { reason: "unmatched topic" } }]);

    ws.send(userBroadcastPush("2", "4", "realtime:lobby", "hello", { n: 1 }));
    await eventually(() => frames.length === 4, 3000, "echo");
    const echo = frames[3] as Buffer;
    expect(Buffer.isBuffer(echo)).toBe(true);
    // kind 4: topic, event, no meta, JSON payload
    expect([...echo.subarray(0, 5)]).toEqual([4, "realtime:lobby".length, "hello".length, 0, 1]);
    expect(echo.subarray(5).toString()).toBe(`realtime:lobby` + `hello` + `{"n":1}`);

    ws.send(JSON.stringify(["2", "5", "realtime:lobby", "phx_leave", {}]));
    await eventually(() => frames.length === 6, 3000, "leave reply and close");
    expect(frames[4]).toEqual(["2", "5", "realtime:lobby", "phx_reply", { status: "ok", response: {} }]);
    expect(frames[5]).toEqual(["2", "2", "realtime:lobby", "phx_close", {}]);
  });

  it("refuses a topic without a name and replay on a public channel with the real reasons", async () => {
    const { ws, frames } = await open(`apikey=${stack.publishableKey}`);
    ws.send(JSON.stringify(["1", "1", "realtime:", "phx_join", {}]));
    ws.send(JSON.stringify(["2", "2", "realtime:pub", "phx_join", { config: { broadcast: { replay: { since: 0 } } } }]));
    await eventually(() => frames.length === 2, 3000, "two replies");
    expect(frames).toContainEqual(["1", "1", "realtime:", "phx_reply", {
      status: "error", response: { reason: "TopicNameRequired: You must provide a topic name" },
    }]);
    expect(frames).toContainEqual(["2", "2", "realtime:pub", "phx_reply", {
      status: "error", response: { reason: "UnableToReplayMessages: Replay is not allowed for public channels" },
    }]);
  });

  it("speaks 1.0.0 objects, and a 1.0.0 subscriber gets a 2.0.0 binary broadcast as JSON", async () => {
    const v1 = await open(`apikey=${stack.publishableKey}&vsn=1.0.0`);
    const v2 = await open(`apikey=${stack.publishableKey}&vsn=2.0.0`);
    v1.ws.send(JSON.stringify({ join_ref: "1", ref: "1", topic: "realtime:mixed", event: "phx_join", payload: {} }));
    v2.ws.send(JSON.stringify(["1", "1", "realtime:mixed", "phx_join", {}]));
    await eventually(() => v1.frames.length === 1 && v2.frames.length === 1, 3000, "joined");
    expect(v1.frames[0]).toEqual({
      join_ref: "1", ref: "1", topic: "realtime:mixed", event: "phx_reply", payload: { status: "ok", response: { postgres_changes: [] } },
    });
    v2.ws.send(userBroadcastPush("1", "2", "realtime:mixed", "hi", { from: "v2" }));
    await eventually(() => v1.frames.length === 2, 3000, "broadcast");
    expect(v1.frames[1]).toEqual({
      join_ref: null, ref: null, topic: "realtime:mixed", event: "broadcast",
      payload: { event: "hi", payload: { from: "v2" }, type: "broadcast" },
    });
  });
});

describe("realtime: codec", () => {
  it("decodes a kind 3 push and encodes kind 4 with meta", () => {
    const msg = decode(userBroadcastPush("7", "8", "realtime:t", "ev", { a: 1 }), true, "2.0.0");
    expect(msg).toMatchObject({ joinRef: "7", ref: "8", topic: "realtime:t", event: "broadcast" });
    const frame = encodeBroadcast("2.0.0", "realtime:t", jsonUserBroadcast("ev", '{"a":1}', { id: "x" }));
    expect(frame?.binary).toBe(true);
    const data = frame!.data as Buffer;
    const meta = JSON.stringify({ id: "x" });
    expect([...data.subarray(0, 5)]).toEqual([4, 10, 2, meta.length, 1]);
    expect(data.subarray(5).toString()).toBe(`realtime:tev${meta}{"a":1}`);
  });
});

describe("realtime: postgres_changes params", () => {
  it("parses filters as the real server does, and refuses what it refuses", () => {
    expect(parseParams({ schema: "public", table: "messages", filter: "subject=in.(hidee,ho)" })).toEqual({
      event: "*", schema: "public", table: "messages", filters: [{ column: "subject", op: "in", value: "{hidee,ho}", negate: false }],
    });
    expect(parseParams({ schema: "public", table: "messages", filter: "id=gt.0,id=not.lt.100", event: "INSERT" })).toMatchObject({
      event: "INSERT", filters: [{ column: "id", op: "gt", value: "0", negate: false }, { column: "id", op: "lt", value: "100", negate: true }],
    });
    expect(parseParams({ schema: "public" })).toMatchObject({ table: "*", filters: [] });
    expect(parseParams({ table: "messages" })).toMatchObject({ schema: "public" });
    expect(parseParams({ schema: "public", table: "messages", filter: "subject=foo.hey" })).toBe(
      'Error parsing `filter` params: ["foo", "hey"]',
    );
    expect(parseParams({})).toMatch(/^No subscription params provided/);
  });
});
