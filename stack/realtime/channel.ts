// One joined Realtime channel: what RealtimeWeb.RealtimeChannel does between phx_join and its end
// (supabase/realtime:lib/realtime_web/channels/realtime_channel.ex, broadcast_handler.ex, presence_handler.ex and
// message_dispatcher.ex, checked at 833cf36). The wire format is the codec's; the statements are Authorization's.
import { randomUUID } from "node:crypto";
import type postgres from "postgres";
import { isUserBroadcast, payloadSize, type Payload } from "./codec.ts";
import {
  Authorization, AuthorizationError, emptyPolicies, extensionsToCheck, type AuthorizationContext, type Policies,
} from "./authorization.ts";
import { tenantTopic, type Delivery, type Hub, type Subscriber } from "./hub.ts";
import { confirmToken } from "./token.ts";
import type { ChangeSubscription, PostgresChanges } from "./postgres-changes.ts";

/** What a channel needs from its socket connection and the server. */
export interface ChannelHost {
  hub: Hub;
  authorization: Authorization;
  sql: postgres.Sql;
  changes: PostgresChanges | undefined;
  jwtSecret: string;
  /** The token the socket connected with (the tenant token of the real server). */
  socketToken: string;
  headers: Record<string, string>;
  maxPayloadBytes: number;
  /** Pushes a message on this channel's topic (with its join_ref). */
  push(channel: Channel, event: string, payload: unknown): void;
  /** Sends a broadcast frame to this socket (fastlane: no join_ref). */
  fastlane(channel: Channel, delivery: Delivery): void;
  /** The channel ended by the server: the socket sends phx_close and forgets it. */
  closed(channel: Channel): void;
}

export type JoinResult = { status: "ok"; response: unknown } | { status: "error"; response: { reason: string } };

const CONFIRM_TOKEN_INTERVAL_MS = 5 * 60 * 1000;
/** CLIENT_PRESENCE_MAX_CALLS / CLIENT_PRESENCE_WINDOW_MS defaults (supabase/realtime:config/runtime.exs). */
const CLIENT_PRESENCE_MAX_CALLS = 5;
const CLIENT_PRESENCE_WINDOW_MS = 30_000;
const REPLAY_HARD_LIMIT = 25;

function obj(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Ecto's FlexibleBoolean: booleans and their string forms. */
function flag(value: unknown): boolean {
  return value === true || value === "true";
}

/** :erlang.phash2 stand-in: a stable 27-bit hash of the subscription params (the id the client matches on). */
export function paramsId(params: Record<string, unknown>): number {
  const text = JSON.stringify(Object.keys(params).sort().map((k) => [k, params[k]]));
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h & 0x7ffffff;
}

interface ReplayedMessage {
  id: string;
  event: string;
  payload: unknown;
}

export class Channel implements Subscriber {
  readonly name: string;
  joinRef: string | null = null;
  private isPrivate = false;
  private presenceEnabled = false;
  private presenceKey = "";
  private selfBroadcast = false;
  private ackBroadcast = false;
  private accessToken = "";
  private claims: Record<string, unknown> = {};
  private policies: Policies | null = null;
  private authContext: AuthorizationContext | null = null;
  private confirmTimer: NodeJS.Timeout | undefined;
  private replayedIds = new Set<string>();
  private replay: ReplayedMessage[] = [];
  private changeSubscriptions: ChangeSubscription[] = [];
  private presenceTracked: Record<string, unknown> | null = null;
  private presenceWindow = { counter: 0, resetAt: 0 };
  private joined = false;
  private ended = false;

  constructor(
    readonly topic: string,
    private readonly host: ChannelHost,
  ) {
    this.name = topic.startsWith("realtime:") ? topic.slice("realtime:".length) : topic;
  }

  private get tenantTopic(): string {
    return tenantTopic(this.name, this.isPrivate);
  }

  private error(code: string, message: string): JoinResult {
    return { status: "error", response: { reason: `${code}: ${message}` } };
  }

  async join(joinRef: string | null, params: Record<string, unknown>): Promise<JoinResult> {
    this.joinRef = joinRef;
    if (this.name === "") return this.error("TopicNameRequired", "You must provide a topic name");
    const config = obj(params.config);
    const broadcast = obj(config.broadcast);
    const presence = obj(config.presence);
    this.isPrivate = flag(config.private);
    this.presenceEnabled = flag(presence.enabled);
    this.presenceKey = typeof presence.key === "string" && presence.key !== "" ? presence.key
      : presence.key !== undefined && presence.key !== null && presence.key !== "" ? String(presence.key) : randomUUID();
    this.selfBroadcast = flag(broadcast.self);
    this.ackBroadcast = flag(broadcast.ack);

    const given = typeof params.access_token === "string" ? params.access_token
      : typeof params.user_token === "string" ? params.user_token : undefined;
    this.accessToken = given === undefined || given.startsWith("sb_") ? this.host.socketToken : given;

    const token = await this.confirm();
    if (!token.ok) {
      switch (token.error) {
        case "expired_token":
        case "missing_claims":
          return this.error("InvalidJWTToken", token.message);
        case "signature_error":
          return this.error("JwtSignatureError", token.message);
        default:
          return this.error("MalformedJWT", token.message);
      }
    }
    this.setAuthorizationContext();

    if (this.isPrivate) {
      try {
        const allowed = await this.assignReadPolicies();
        if (!allowed) return this.error("Unauthorized", `You do not have permissions to read from this Channel topic: ${this.name}`);
      } catch (error) {
        return this.authorizationJoinError(error);
      }
    }

    const replay = broadcast.replay;
    if (replay !== undefined && replay !== null) {
      if (this.policies && this.policies.broadcast.read === false) {
        return this.error("Unauthorized", `You do not have permissions to read from this Channel topic: ${this.name}`);
      }
      if (!this.isPrivate) return this.error("UnableToReplayMessages", "Replay is not allowed for public channels");
      const r = obj(replay);
      const since = r.since;
      const limit = r.limit ?? REPLAY_HARD_LIMIT;
      if (!Number.isInteger(since) || !Number.isInteger(limit)) {
        return this.error("UnableToReplayMessages", "Replay params are not valid");
      }
      try {
        this.replay = await this.replayMessages(since as number, limit as number);
      } catch {
        return this.error("UnableToReplayMessages", "Realtime was unable to replay messages");
      }
      this.replayedIds = new Set(this.replay.map((m) => m.id));
    }

    // postgres_changes: only with the config API (the legacy topic form `realtime:schema:table` is not supported).
    const changeParams = Array.isArray(config.postgres_changes) ? (config.postgres_changes as unknown[]).filter((p) => p !== null) : [];
    const response: Record<string, unknown> = {
      postgres_changes: changeParams.map((p) => ({ ...obj(p), id: paramsId(obj(p)) })),
    };

    this.host.hub.subscribe(this.tenantTopic, this);
    this.joined = true;
    if (changeParams.length > 0 && this.host.changes) {
      this.changeSubscriptions = changeParams.map((p) => ({
        id: randomUUID(),
        channel: this,
        params: obj(p),
        hashId: paramsId(obj(p)),
        claims: this.claims,
      }));
    }
    return { status: "ok", response };
  }

  /** What happens after the join reply has been sent: replay, postgres_changes subscription, presence_state. */
  afterJoin(): void {
    for (const m of this.replay) {
      this.host.push(this, "broadcast", { payload: m.payload, event: m.event, type: "broadcast", meta: { replayed: true, id: m.id } });
    }
    this.replay = [];
    if (this.changeSubscriptions.length > 0 && this.host.changes) {
      const result = this.host.changes.subscribe(this.changeSubscriptions);
      if (result.ok) {
        this.pushSystem("postgres_changes", "ok", "Subscribed to PostgreSQL");
      } else {
        this.pushSystem("postgres_changes", "error", result.message);
      }
    }
    if (this.presenceEnabled && (!this.isPrivate || this.policies?.presence.read === true)) {
      this.host.push(this, "presence_state", this.host.hub.presenceState(this.tenantTopic));
    }
  }

  private authorizationJoinError(error: unknown): JoinResult {
    if (error instanceof AuthorizationError) {
      if (error.kind === "missing_partition") return this.error("MissingPartition", error.message);
      if (error.kind === "rls_policy_error") {
        return this.error("Unauthorized", `You do not have permissions to read from this Channel topic: ${this.name}`);
      }
    }
    return { status: "error", response: { reason: "Realtime was unable to connect to the project database" } };
  }

  private async confirm() {
    const result = await confirmToken(this.accessToken, this.host.jwtSecret);
    if (result.ok) {
      this.claims = result.claims;
      if (this.confirmTimer) clearTimeout(this.confirmTimer);
      const interval = Math.min(CONFIRM_TOKEN_INTERVAL_MS, result.expiresInSeconds * 1000);
      this.confirmTimer = setTimeout(() => void this.onConfirmToken(), interval);
      this.confirmTimer.unref?.();
    }
    return result;
  }

  private async onConfirmToken(): Promise<void> {
    if (this.ended) return;
    const result = await this.confirm();
    if (!result.ok) return this.shutdown(result.message);
    for (const s of this.changeSubscriptions) s.claims = this.claims;
  }

  private setAuthorizationContext(): void {
    this.authContext = {
      topic: this.name,
      claims: this.claims,
      role: String(this.claims.role),
      sub: typeof this.claims.sub === "string" ? this.claims.sub : null,
      headers: this.host.headers,
    };
  }

  /** Read check; true when broadcast or presence read is allowed. */
  private async assignReadPolicies(): Promise<boolean> {
    const policies = await this.host.authorization.readPolicies(
      this.policies ?? emptyPolicies(), this.authContext!, extensionsToCheck(this.presenceEnabled),
    );
    this.policies = policies;
    return policies.broadcast.read === true || policies.presence.read === true;
  }

  private async replayMessages(since: number, limit: number): Promise<ReplayedMessage[]> {
    const bounded = Math.max(Math.min(limit, REPLAY_HARD_LIMIT), 1);
    const sinceNaive = new Date(since).toISOString().replace("Z", "");
    const nowNaive = new Date(Date.now() + 60_000).toISOString().replace("Z", "");
    // supabase/realtime:lib/realtime/messages.ex: no RLS per row, newest first, then sent oldest first.
    const rows = await this.host.sql.unsafe<{ id: string; event: string | null; payload: unknown }[]>(
      `SELECT m0."id", m0."event", m0."payload" FROM "realtime"."messages" AS m0
        WHERE ((((m0."topic" = $1) AND (m0."private" = TRUE)) AND (m0."extension" = 'broadcast')) AND (m0."inserted_at" >= $2))
          AND (m0."inserted_at" < $3)
        ORDER BY m0."inserted_at" DESC LIMIT $4`,
      [this.name, sinceNaive, nowNaive, bounded],
    );
    return rows.reverse().map((r) => ({ id: r.id, event: r.event ?? "", payload: r.payload }));
  }

  private pushSystem(extension: "system" | "postgres_changes", status: "ok" | "error", message: string): void {
    this.host.push(this, "system", { extension, status, message, channel: this.name });
  }

  /** shutdown_response: a system error, then the channel stops (the socket sends phx_close). */
  shutdown(message: string): void {
    if (this.ended) return;
    this.pushSystem("system", "error", message);
    this.end();
    this.host.closed(this);
  }

  /** Stops everything this channel holds (leave, shutdown, socket closed). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.confirmTimer) clearTimeout(this.confirmTimer);
    if (this.joined) {
      this.host.hub.unsubscribe(this.tenantTopic, this);
      this.host.hub.untrack(this.tenantTopic, this);
      this.host.changes?.unsubscribe(this.changeSubscriptions);
    }
  }

  // ---- deliveries from the hub (MessageDispatcher) ----

  deliver(delivery: Delivery): void {
    if (this.ended) return;
    if (delivery.kind === "broadcast") {
      if (!this.selfBroadcast && delivery.from === this) return;
      if (this.policies && this.policies.broadcast.read === false) return;
      if (delivery.messageId !== undefined && this.replayedIds.has(delivery.messageId)) return;
      this.host.fastlane(this, delivery);
      return;
    }
    if (delivery.kind === "postgres_changes") {
      this.host.fastlane(this, delivery);
      return;
    }
    if (this.isPrivate && this.policies?.presence.read !== true) return;
    this.host.fastlane(this, delivery);
  }

  // ---- client events ----

  /** Handles an event after join; returns the reply to send, or undefined for none. */
  async handle(event: string, payload: Payload): Promise<{ status: "ok" | "error"; response: unknown } | undefined> {
    if (this.ended) return undefined;
    switch (event) {
      case "broadcast":
        return this.onBroadcast(payload);
      case "presence": {
        if (isUserBroadcast(payload)) return undefined;
        // limit_client_presence_event: at most 5 presence messages per 30 s window, else the channel is shut down.
        if (typeof payload.event === "string") {
          const now = Date.now();
          if (now > this.presenceWindow.resetAt) this.presenceWindow = { counter: 1, resetAt: now + CLIENT_PRESENCE_WINDOW_MS };
          else if (this.presenceWindow.counter >= CLIENT_PRESENCE_MAX_CALLS) {
            this.shutdown("Client presence rate limit exceeded");
            return undefined;
          } else this.presenceWindow.counter++;
        }
        return this.onPresence(payload);
      }
      case "access_token":
        if (!isUserBroadcast(payload)) await this.onAccessToken(payload.access_token);
        return undefined;
      default:
        // "Unexpected message from client of type ..." is only logged.
        return undefined;
    }
  }

  private async onBroadcast(payload: Payload) {
    if (this.isPrivate) {
      if (!this.policies || this.policies.broadcast.write === null) {
        try {
          this.policies = await this.host.authorization.writePolicies(
            this.policies ?? emptyPolicies(), this.authContext!, extensionsToCheck(true),
          );
        } catch {
          return undefined;
        }
      }
      // A denied broadcast is dropped silently, even with ack.
      if (this.policies.broadcast.write !== true) return undefined;
    }
    if (payloadSize(payload) > this.host.maxPayloadBytes) {
      return this.ackBroadcast ? { status: "error" as const, response: { reason: "payload_size_exceeded" } } : undefined;
    }
    this.host.hub.publish(this.tenantTopic, { kind: "broadcast", body: payload, from: this });
    return this.ackBroadcast ? { status: "ok" as const, response: {} } : undefined;
  }

  private async onPresence(payload: Record<string, unknown>) {
    const event = typeof payload.event === "string" ? payload.event.toLowerCase() : undefined;
    if (event === undefined) return { status: "ok" as const, response: {} };
    if (event === "untrack") {
      this.host.hub.untrack(this.tenantTopic, this);
      this.presenceTracked = null;
      return { status: "ok" as const, response: {} };
    }
    if (event !== "track") return { status: "error" as const, response: {} };
    if (this.isPrivate && (!this.policies || this.policies.presence.write === null)) {
      try {
        let policies = this.policies ?? emptyPolicies();
        if (policies.presence.read === null) {
          policies = await this.host.authorization.readPolicies(policies, this.authContext!, extensionsToCheck(true));
        }
        this.policies = await this.host.authorization.writePolicies(policies, this.authContext!, extensionsToCheck(true));
      } catch {
        return { status: "error" as const, response: {} };
      }
    }
    if (this.isPrivate && this.policies?.presence.write !== true) return { status: "error" as const, response: {} };
    const body = payload.payload === undefined ? {} : payload.payload;
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      return { status: "error" as const, response: { reason: "Presence track payload must be a map" } };
    }
    if (this.presenceTracked && JSON.stringify(this.presenceTracked) === JSON.stringify(body)) {
      return { status: "ok" as const, response: {} };
    }
    this.presenceEnabled = true;
    this.presenceTracked = body as Record<string, unknown>;
    this.host.hub.track(this.tenantTopic, this, this.presenceKey, body as Record<string, unknown>);
    return { status: "ok" as const, response: {} };
  }

  private async onAccessToken(token: unknown): Promise<void> {
    if (typeof token !== "string" || token.startsWith("sb_") || token === this.accessToken) return;
    const previous = this.policies;
    this.accessToken = token;
    this.policies = null;
    const result = await this.confirm();
    if (!result.ok) {
      if (result.error === "signature_error") return this.shutdown(":signature_error");
      if (result.error === "invalid_token") return this.shutdown(":invalid_token");
      return this.shutdown(result.message);
    }
    this.setAuthorizationContext();
    if (this.isPrivate) {
      try {
        const allowed = await this.assignReadPolicies();
        if (!allowed) return this.shutdown(`You do not have permissions to read from this Channel topic: ${this.name}`);
      } catch (error) {
        if (error instanceof AuthorizationError && error.kind === "rls_policy_error") {
          return this.shutdown(`You do not have permissions to read from this Channel topic: ${this.name}`);
        }
        return this.shutdown("Realtime was unable to connect to the project database");
      }
      const now = this.policies!;
      if (previous && ((previous.broadcast.read === true && now.broadcast.read === false) ||
        (previous.presence.read === true && now.presence.read === false))) {
        return this.shutdown(`You no longer have permission to read from this Channel topic: ${this.name}`);
      }
    }
    for (const s of this.changeSubscriptions) s.claims = this.claims;
  }
}
