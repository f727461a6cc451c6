// One websocket: Phoenix.Socket's part of the protocol (heartbeats on `phoenix`, routing by topic, phx_join,
// phx_leave, phx_close, "unmatched topic" replies) around the channels it holds.
import type { WebSocket } from "ws";
import { CodecError, decode, encodeBroadcast, encodeMessage, encodeReply, isUserBroadcast, type Frame, type InboundMessage, type Vsn } from "./codec.ts";
import { Channel, type ChannelHost } from "./channel.ts";
import type { Delivery } from "./hub.ts";

export type ServerParts = Omit<ChannelHost, "push" | "fastlane" | "closed" | "socketToken" | "headers">;

export class Connection {
  private readonly channels = new Map<string, Channel>();
  /** Per topic, the messages are handled one after another (a join completes before the next push is seen). */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly host: ChannelHost;
  private open = true;

  constructor(
    private readonly ws: WebSocket,
    private readonly vsn: Vsn,
    socketToken: string,
    headers: Record<string, string>,
    parts: ServerParts,
    private readonly onClose: (c: Connection) => void,
  ) {
    this.host = {
      ...parts,
      socketToken,
      headers,
      push: (channel, event, payload) =>
        this.send(encodeMessage(vsn, { joinRef: channel.joinRef, ref: null, topic: channel.topic, event, payload })),
      fastlane: (channel, delivery) => this.fastlane(channel, delivery),
      closed: (channel) => this.channelClosed(channel),
    };
    ws.on("message", (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on("close", () => this.teardown());
    ws.on("error", () => this.teardown());
  }

  private send(frame: Frame | undefined): void {
    if (!frame || !this.open || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(frame.data, { binary: frame.binary });
  }

  private reply(msg: InboundMessage, status: "ok" | "error", response: unknown, joinRef = msg.joinRef): void {
    this.send(encodeReply(this.vsn, { joinRef, ref: msg.ref, topic: msg.topic, status, response }));
  }

  private fastlane(channel: Channel, delivery: Delivery): void {
    if (delivery.kind === "broadcast") this.send(encodeBroadcast(this.vsn, channel.topic, delivery.body));
    else if (delivery.kind === "presence_diff") {
      this.send(encodeMessage(this.vsn, { joinRef: null, ref: null, topic: channel.topic, event: "presence_diff", payload: delivery.diff }));
    } else {
      this.send(encodeMessage(this.vsn, { joinRef: null, ref: null, topic: channel.topic, event: "postgres_changes", payload: delivery.payload }));
    }
  }

  private channelClosed(channel: Channel): void {
    if (this.channels.get(channel.topic) === channel) this.channels.delete(channel.topic);
    this.send(encodeMessage(this.vsn, { joinRef: channel.joinRef, ref: channel.joinRef, topic: channel.topic, event: "phx_close", payload: {} }));
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    let msg: InboundMessage;
    try {
      msg = decode(data, isBinary, this.vsn);
    } catch (error) {
      // Phoenix closes a socket that sends a frame its serializer cannot decode.
      if (error instanceof CodecError || error instanceof SyntaxError) this.ws.close(1003, "invalid frame");
      return;
    }
    if (msg.topic === "phoenix") {
      if (msg.event === "heartbeat") this.reply(msg, "ok", {});
      return;
    }
    const previous = this.queues.get(msg.topic) ?? Promise.resolve();
    const next = previous.then(() => this.dispatch(msg)).catch((error) => {
      console.error(`realtime: ${msg.event} on ${msg.topic} failed:`, error);
    });
    this.queues.set(msg.topic, next);
    void next.then(() => {
      if (this.queues.get(msg.topic) === next) this.queues.delete(msg.topic);
    });
  }

  private async dispatch(msg: InboundMessage): Promise<void> {
    if (!this.open) return;
    if (msg.event === "phx_join") {
      const existing = this.channels.get(msg.topic);
      if (existing) {
        // Phoenix: "Duplicate channel join ... Closing existing channel for new join."
        existing.end();
        this.channelClosed(existing);
      }
      if (!msg.topic.startsWith("realtime:")) return this.reply(msg, "error", { reason: "unmatched topic" });
      const channel = new Channel(msg.topic, this.host);
      const payload = isUserBroadcast(msg.payload) ? {} : msg.payload;
      const result = await channel.join(msg.joinRef, payload);
      if (!this.open) return channel.end();
      this.reply(msg, result.status, result.response);
      if (result.status === "ok") {
        this.channels.set(msg.topic, channel);
        channel.afterJoin();
      } else channel.end();
      return;
    }
    const channel = this.channels.get(msg.topic);
    if (!channel) return this.reply(msg, "error", { reason: "unmatched topic" });
    if (msg.event === "phx_leave") {
      channel.end();
      this.channels.delete(msg.topic);
      this.reply(msg, "ok", {});
      this.send(encodeMessage(this.vsn, { joinRef: channel.joinRef, ref: channel.joinRef, topic: channel.topic, event: "phx_close", payload: {} }));
      return;
    }
    const reply = await channel.handle(msg.event, msg.payload);
    if (reply) this.reply(msg, reply.status, reply.response);
  }

  /** Drops the socket without a close handshake (what a network failure looks like to the client). */
  terminate(): void {
    this.ws.terminate();
    this.teardown();
  }

  close(code = 1001, reason = "server shutting down"): void {
    this.ws.close(code, reason);
    this.teardown();
  }

  private teardown(): void {
    if (!this.open) return;
    this.open = false;
    for (const channel of this.channels.values()) channel.end();
    this.channels.clear();
    this.onClose(this);
  }
}
