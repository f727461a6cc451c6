// Every client test file: Node 20 has no global WebSocket (Node 22 and browsers do), and realtime-js refuses to
// start without one. Giving it `ws` here lets code run exactly as an app writes it, e.g. docs/api.md's
// `createClient(url, key)` without a transport option.
import ws from "ws";

if (typeof globalThis.WebSocket === "undefined") {
  (globalThis as { WebSocket?: unknown }).WebSocket = ws;
}
