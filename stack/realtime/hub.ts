// Fan-out inside one Realtime server: the PubSub topics channels subscribe to, and Presence per topic.
//
// A tenant topic is the channel name plus its kind: a public and a private channel of the same name never see each
// other's messages (supabase/realtime:lib/realtime/tenants.ex tenant_topic/3). Delivery decisions that depend on the
// subscriber (self, read policies, replayed ids) are the subscriber's (RealtimeChannel.MessageDispatcher).
import { randomBytes } from "node:crypto";
import type { Payload } from "./codec.ts";

export function tenantTopic(name: string, isPrivate: boolean): string {
  return `${isPrivate ? "private" : "public"}:${name}`;
}

export type PresenceMeta = Record<string, unknown> & { phx_ref: string; phx_ref_prev?: string };
export type PresenceMap = Record<string, { metas: PresenceMeta[] }>;
export interface PresenceDiff {
  joins: PresenceMap;
  leaves: PresenceMap;
}

export type Delivery =
  | { kind: "broadcast"; body: Payload; from?: Subscriber; messageId?: string }
  | { kind: "presence_diff"; diff: PresenceDiff }
  | { kind: "postgres_changes"; payload: unknown };

export interface Subscriber {
  deliver(delivery: Delivery): void;
}

interface Tracked {
  subscriber: Subscriber;
  key: string;
  meta: PresenceMeta;
}

/** Phoenix.Tracker refs are short random strings, unique per track. */
function phxRef(): string {
  return randomBytes(9).toString("base64").replace(/[+/=]/g, "A");
}

export class Hub {
  private readonly topics = new Map<string, Set<Subscriber>>();
  private readonly presences = new Map<string, Tracked[]>();

  subscribe(topic: string, subscriber: Subscriber): void {
    let set = this.topics.get(topic);
    if (!set) this.topics.set(topic, (set = new Set()));
    set.add(subscriber);
  }

  unsubscribe(topic: string, subscriber: Subscriber): void {
    const set = this.topics.get(topic);
    if (!set) return;
    set.delete(subscriber);
    if (set.size === 0) this.topics.delete(topic);
  }

  subscribers(topic: string): Subscriber[] {
    return [...(this.topics.get(topic) ?? [])];
  }

  publish(topic: string, delivery: Delivery): void {
    for (const subscriber of this.subscribers(topic)) subscriber.deliver(delivery);
  }

  /** presence_state: every tracked entry grouped by key (Phoenix.Presence.group). */
  presenceState(topic: string): PresenceMap {
    const state: PresenceMap = {};
    for (const t of this.presences.get(topic) ?? []) (state[t.key] ??= { metas: [] }).metas.push(t.meta);
    return state;
  }

  /** Tracks or updates `subscriber` under `key`; a changed payload is a leave of the old meta plus a join of the new. */
  track(topic: string, subscriber: Subscriber, key: string, payload: Record<string, unknown>): void {
    const list = this.presences.get(topic) ?? [];
    this.presences.set(topic, list);
    const existing = list.find((t) => t.subscriber === subscriber && t.key === key);
    const meta: PresenceMeta = { ...payload, phx_ref: phxRef() };
    const diff: PresenceDiff = { joins: { [key]: { metas: [meta] } }, leaves: {} };
    if (existing) {
      meta.phx_ref_prev = existing.meta.phx_ref;
      diff.leaves[key] = { metas: [existing.meta] };
      existing.meta = meta;
    } else {
      list.push({ subscriber, key, meta });
    }
    this.publish(topic, { kind: "presence_diff", diff });
  }

  untrack(topic: string, subscriber: Subscriber): void {
    const list = this.presences.get(topic);
    if (!list) return;
    const gone = list.filter((t) => t.subscriber === subscriber);
    if (gone.length === 0) return;
    const rest = list.filter((t) => t.subscriber !== subscriber);
    if (rest.length === 0) this.presences.delete(topic);
    else this.presences.set(topic, rest);
    const leaves: PresenceMap = {};
    for (const t of gone) (leaves[t.key] ??= { metas: [] }).metas.push(t.meta);
    this.publish(topic, { kind: "presence_diff", diff: { joins: {}, leaves } });
  }
}
