// A chat screen kept up to date over a real socket, by exactly the procedure docs/realtime.md prescribes
// ("Reconnect and catch-up (exact)"): setAuth, subscribe chat:<id> (private), catch up with get_chat_events from the
// stored cursor on every SUBSCRIBED, apply live events by the cursor rule (duplicates ignored, a gap or a thin event
// triggers a catch-up), and on CHANNEL_ERROR / TIMED_OUT / CLOSED resubscribe with backoff. Every broadcast is parsed
// with types/events.ts (so a fat or forged-looking payload fails the test), every catch-up page too.
import type { RealtimeChannel, SupabaseClient } from "@supabase/supabase-js";
import type { Database } from "../../../types/database.ts";
import {
  chatBroadcast, chatEventsPage, selfContainedChatEvents, topics, type ChatEventName,
} from "../../../types/events.ts";
import { applyEvent, emptyView, type ChatView } from "../../api/support/chat-client.ts";

type Json = Record<string, unknown>;

export interface LiveChatStats {
  /** Live broadcasts received (including duplicates). */
  received: number;
  /** Live broadcasts applied from the broadcast itself (self-contained, next cursor). */
  appliedLive: number;
  duplicates: number;
  catchUps: number;
  subscribes: number;
  resubscribes: number;
}

export class LiveChat {
  view: ChatView = emptyView();
  cursor = 0;
  stats: LiveChatStats = { received: 0, appliedLive: 0, duplicates: 0, catchUps: 0, subscribes: 0, resubscribes: 0 };
  /** Errors thrown while applying (a broadcast that does not parse, a catch-up that fails); a test asserts none. */
  errors: unknown[] = [];
  /** Every live broadcast as received, in arrival order. */
  log: Array<{ event: string; payload: Json }> = [];
  private channel: RealtimeChannel | undefined;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private attempt = 0;
  private generation = 0;
  private resubscribeTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * `supabase` is the client whose Realtime socket follows the chat; `api` (default: the same client) is the one that
   * calls get_chat_events, so a test can stop the Realtime service while the REST API stays up, as in production.
   */
  constructor(
    readonly supabase: SupabaseClient<Database>,
    readonly chatId: string,
    readonly pageSize = 200,
    readonly api: SupabaseClient<Database> = supabase,
  ) {}

  get state(): string {
    return this.channel?.state ?? "none";
  }

  /** Step 1: the token for Realtime, then subscribe (catch-up follows SUBSCRIBED). */
  async start(): Promise<void> {
    await this.supabase.realtime.setAuth();
    this.subscribe();
  }

  /** Everything queued so far (live events and catch-ups) has been applied. */
  settled(): Promise<void> {
    return this.queue;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.resubscribeTimer);
    if (this.channel) await this.supabase.removeChannel(this.channel);
    await this.queue;
  }

  private run(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((err: unknown) => {
      this.errors.push(err);
    });
  }

  private subscribe(): void {
    const generation = ++this.generation;
    const channel = this.supabase.channel(topics.chat(this.chatId), { config: { private: true } });
    this.channel = channel;
    channel.on("broadcast", { event: "*" }, ({ event, payload }) => {
      if (generation !== this.generation) return;
      this.log.push({ event, payload: payload as Json });
      this.run(() => this.receive(event, payload as Json));
    });
    channel.subscribe((status) => {
      if (generation !== this.generation || this.stopped) return;
      if (status === "SUBSCRIBED") {
        this.attempt = 0;
        this.stats.subscribes += 1;
        this.run(() => this.catchUp()); // step 2
      } else if (status === "CHANNEL_ERROR" || status === "TIMED_OUT" || status === "CLOSED") {
        this.resubscribe(channel); // step 4
      }
    });
  }

  /** Step 4: leave the failed channel and join again after a bounded backoff. */
  private resubscribe(failed: RealtimeChannel): void {
    if (this.resubscribeTimer) return;
    this.generation += 1; // events from the failed channel are no longer applied
    this.stats.resubscribes += 1;
    const delay = Math.min(100 * 2 ** this.attempt++, 2000);
    this.resubscribeTimer = setTimeout(() => {
      this.resubscribeTimer = undefined;
      if (this.stopped) return;
      void this.supabase.removeChannel(failed).finally(() => {
        if (!this.stopped) this.subscribe();
      });
    }, delay);
  }

  /** The cursor rule for a live broadcast. */
  private async receive(event: string, payload: Json): Promise<void> {
    this.stats.received += 1;
    const parsed = chatBroadcast(event as ChatEventName).parse(payload);
    if (parsed.chat_id !== this.chatId) throw new Error(`broadcast for another chat on chat:${this.chatId}`);
    if (parsed.cursor <= this.cursor) {
      this.stats.duplicates += 1;
      return;
    }
    if (parsed.cursor === this.cursor + 1 && selfContainedChatEvents.includes(event as ChatEventName)) {
      if (applyEvent(this.view, event, parsed.data as Json) !== "ok") throw new Error(`${event} did not apply`);
      this.cursor = parsed.cursor;
      this.stats.appliedLive += 1;
      return;
    }
    // A thin event (names a message: fetch it) or a gap: catch up from the cursor.
    await this.catchUp();
  }

  /** Step 2: get_chat_events from the stored cursor until has_more is false. */
  async catchUp(): Promise<void> {
    this.stats.catchUps += 1;
    for (let guard = 0; guard < 1000; guard++) {
      const { data, error } = await this.api.rpc("get_chat_events", {
        chat_id: this.chatId, after_cursor: this.cursor, page_size: this.pageSize,
      });
      if (error) throw new Error(`get_chat_events: ${JSON.stringify(error)}`);
      const page = chatEventsPage.parse(data);
      if (page.reset_required) throw new Error(`reset required at cursor ${this.cursor}`);
      for (const e of page.events) {
        if (applyEvent(this.view, e.event, e.data as Json) !== "ok") throw new Error(`catch-up returned a thin ${e.event}`);
      }
      this.cursor = page.next_cursor;
      if (!page.has_more) return;
    }
    throw new Error("catch-up did not end");
  }
}

export interface MessageState {
  seq: number;
  body: string | null;
  edited: boolean;
  deleted: boolean;
  reaction_counts: Record<string, number>;
}

/** The messages part of a view, in the shape the server comparison uses. */
export function messagesOf(view: ChatView): Record<string, MessageState> {
  const out: Record<string, MessageState> = {};
  for (const [id, m] of Object.entries(view.messages)) {
    out[id] = { seq: m.seq, body: m.body, edited: m.edited, deleted: m.deleted, reaction_counts: m.reaction_counts };
  }
  return out;
}

/** The same, read through the API (PostgREST's messages table under the member's RLS). */
export async function serverMessages(supabase: SupabaseClient<Database>, chatId: string): Promise<Record<string, MessageState>> {
  const { data, error } = await supabase
    .from("messages")
    .select("id, seq, body, edited_at, deleted_at, reaction_counts")
    .eq("chat_id", chatId)
    .order("seq");
  if (error) throw new Error(`messages: ${JSON.stringify(error)}`);
  const out: Record<string, MessageState> = {};
  for (const m of data ?? []) {
    out[m.id] = {
      seq: m.seq,
      body: m.body,
      edited: m.edited_at !== null,
      deleted: m.deleted_at !== null,
      reaction_counts: { ...(m.reaction_counts as Record<string, number>) },
    };
  }
  return out;
}

/** Read cursors of the members, through the API. */
export async function serverReads(supabase: SupabaseClient<Database>, chatId: string): Promise<Record<string, number>> {
  const { data, error } = await supabase.from("chat_members").select("user_id, last_read_seq").eq("chat_id", chatId);
  if (error) throw new Error(`chat_members: ${JSON.stringify(error)}`);
  return Object.fromEntries((data ?? []).map((m) => [m.user_id, Number(m.last_read_seq)]));
}
