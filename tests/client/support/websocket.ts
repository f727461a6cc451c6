// Node 20 has no global WebSocket, and supabase-js's Realtime client refuses to be created without one. Give it the
// `ws` package's (the transport supabase-js documents for Node) before any client is built.
import WebSocket from "ws";

if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === "undefined") {
  (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
}
