// A light Realtime subscriber for the delivery benchmark: one WebSocket speaking the Phoenix 2.0.0 protocol exactly
// as realtime-js does (JSON arrays [join_ref, ref, topic, event, payload] for text frames, binary kind 4 for user
// broadcasts from the server, heartbeats on "phoenix"), without realtime-js' per-channel machinery, so one process
// can hold a thousand subscribers. Written from the protocol (realtime-js src/lib/serializer.ts, Realtime's
// lib/realtime_web/socket/v2_serializer.ex), not from our server's codec, so the benchmark does not test the server
// against itself.
import WebSocket from "ws";

/** A user broadcast as it arrived: event name, JSON payload (as sent), meta, and the arrival time. */
export interface Arrival {
  topic: string;
  event: string;
  payload: unknown;
  at: number;
}

const KIND_USER_BROADCAST = 4;
const utf8 = new TextDecoder();

/** Decodes a binary kind 4 frame: kind, topic/event/meta lengths, encoding (1 = JSON), then the parts. */
export function decodeUserBroadcast(frame: Buffer): { topic: string; event: string; meta: string; payload: Buffer; json: boolean } | null {
  if (frame[0] !== KIND_USER_BROADCAST || frame.length < 5) return null;
  const [topicLen, eventLen, metaLen, encoding] = [frame[1]!, frame[2]!, frame[3]!, frame[4]!];
  let at = 5;
  const take = (n: number) => frame.subarray(at, (at += n));
  const topic = utf8.decode(take(topicLen));
  const event = utf8.decode(take(eventLen));
  const meta = utf8.decode(take(metaLen));
  return { topic, event, meta, payload: frame.subarray(at), json: encoding === 1 };
}

export class PhoenixSocket {
  private ref = 0;
  private readonly replies = new Map<string, (payload: { status: string; response: unknown }) => void>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  onBroadcast: (a: Arrival) => void = () => {};

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data: Buffer, isBinary) => {
      const at = performance.now();
      if (isBinary) {
        const b = decodeUserBroadcast(data);
        if (b && b.json) this.onBroadcast({ topic: b.topic, event: b.event, payload: JSON.parse(utf8.decode(b.payload)), at });
        return;
      }
      const [, ref, topic, event, payload] = JSON.parse(String(data)) as [string | null, string | null, string, string, Record<string, unknown>];
      if (event === "phx_reply" && ref !== null) {
        this.replies.get(ref)?.(payload as { status: string; response: unknown });
        this.replies.delete(ref);
      } else if (event === "broadcast") {
        // A JSON broadcast push (a client broadcast relayed as text): { type, event, payload }.
        this.onBroadcast({ topic, event: String(payload.event), payload: payload.payload, at });
      }
    });
    this.heartbeat = setInterval(() => this.push(null, "phoenix", "heartbeat", {}), 25_000);
    this.heartbeat.unref();
  }

  /** Opens a socket at `<url>/realtime/v1/websocket?apikey=…&vsn=2.0.0`. */
  static open(url: string, apikey: string): Promise<PhoenixSocket> {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/realtime/v1/websocket?apikey=${encodeURIComponent(apikey)}&vsn=2.0.0`);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new PhoenixSocket(ws)));
      ws.once("error", reject);
    });
  }

  private push(joinRef: string | null, topic: string, event: string, payload: unknown): string {
    const ref = String(++this.ref);
    this.ws.send(JSON.stringify([joinRef, ref, topic, event, payload]));
    return ref;
  }

  /** phx_join of a private channel with the user's access token, as realtime-js sends it; resolves with the reply. */
  join(topic: string, accessToken: string, timeoutMs = 15_000): Promise<void> {
    const joinRef = String(this.ref + 1);
    const payload = {
      config: { broadcast: { ack: false, self: false }, presence: { key: "", enabled: false }, postgres_changes: [], private: true },
      access_token: accessToken,
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`join ${topic} timed out`)), timeoutMs);
      const ref = this.push(joinRef, `realtime:${topic}`, "phx_join", payload);
      if (ref !== joinRef) throw new Error("join ref mismatch");
      this.replies.set(ref, (reply) => {
        clearTimeout(timer);
        if (reply.status === "ok") resolve();
        else reject(new Error(`join ${topic}: ${JSON.stringify(reply.response)}`));
      });
    });
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.ws.terminate();
  }
}
