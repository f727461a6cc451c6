// A model of a client that keeps one chat's screen up to date from realtime events: it applies the broadcasts it
// happens to receive, notices gaps by the per-chat cursor, and fills them with get_chat_events. Tests compare what it
// ends up with to the server's state.
import type { LoggedChatEvent } from "../../../types/events.ts";

export interface MessageView {
  seq: number;
  author_id: string | null;
  kind: string;
  body: string | null;
  deleted: boolean;
  edited: boolean;
  pinned: boolean;
  reply_count: number;
  thread_root_id: string | null;
  forwarded_from_message_id: string | null;
  reaction_counts: Record<string, number>;
}

export interface MemberView {
  role: string;
  last_read_seq: number;
}

export interface ChatView {
  title: string | null;
  description: string | null;
  members: Record<string, MemberView>;
  messages: Record<string, MessageView>;
}

export function emptyView(): ChatView {
  return { title: null, description: null, members: {}, messages: {} };
}

type Json = Record<string, unknown>;

function messageView(m: Json): MessageView {
  return {
    seq: m.seq as number,
    author_id: (m.author_id as string | null) ?? null,
    kind: m.kind as string,
    body: (m.body as string | null) ?? null,
    deleted: m.deleted_at != null,
    edited: m.edited_at != null,
    pinned: m.pinned_at != null,
    reply_count: m.reply_count as number,
    thread_root_id: (m.thread_root_id as string | null) ?? null,
    forwarded_from_message_id: (m.forwarded_from_message_id as string | null) ?? null,
    reaction_counts: { ...(m.reaction_counts as Record<string, number>) },
  };
}

/** What applying one event needs: "ok", or "fetch" when it is a thin broadcast (it names a message, no content). */
export type Applied = "ok" | "fetch";

/** Applies one chat event (live broadcast or from get_chat_events) to the view. */
export function applyEvent(view: ChatView, event: string, data: Json): Applied {
  switch (event) {
    case "message.sent":
    case "message.updated":
    case "message.deleted": {
      if (!("message" in data)) return "fetch";
      const id = data.message_id as string;
      const m = data.message as Json | null;
      if (m === null) {
        delete view.messages[id];
        return "ok";
      }
      view.messages[id] = messageView(m);
      // The author has read up to their own message (the server moves their read cursor on send).
      const author = m.author_id as string | null;
      if (event === "message.sent" && author && view.members[author]) {
        view.members[author].last_read_seq = Math.max(view.members[author].last_read_seq, m.seq as number);
      }
      return "ok";
    }
    case "reaction.added":
    case "reaction.removed": {
      if (!("reaction_counts" in data)) return "fetch";
      const target = view.messages[data.message_id as string];
      if (target) target.reaction_counts = { ...(data.reaction_counts as Record<string, number>) };
      return "ok";
    }
    case "message.read": {
      const member = view.members[data.user_id as string];
      if (member) member.last_read_seq = data.last_read_seq as number;
      return "ok";
    }
    case "participant.added":
      view.members[data.user_id as string] = { role: data.role as string, last_read_seq: data.last_read_seq as number };
      return "ok";
    case "participant.updated": {
      const member = view.members[data.user_id as string];
      if (member) member.role = data.role as string;
      return "ok";
    }
    case "participant.removed":
      delete view.members[data.user_id as string];
      return "ok";
    case "chat.updated": {
      const c = data.chat as Json;
      view.title = (c.title as string | null) ?? null;
      view.description = (c.description as string | null) ?? null;
      return "ok";
    }
    case "chat.retention_updated":
      // Disappearing messages: the view keeps no setting; expired messages arrive as message.deleted.
      return "ok";
    default:
      throw new Error(`unknown chat event ${event}`);
  }
}

export interface CatchUpPage {
  events: LoggedChatEvent[];
  next_cursor: number;
  has_more: boolean;
  reset_required: boolean;
}

/** A client following one chat: live events with gap detection plus get_chat_events. */
export class ChatClient {
  view = emptyView();
  cursor = 0;
  catchUps = 0;
  applied = 0;

  constructor(private readonly fetchPage: (after: number) => Promise<CatchUpPage>) {}

  /** A live broadcast arrived. */
  async receive(event: string, payload: { cursor: number; data: Json }): Promise<void> {
    if (payload.cursor <= this.cursor) return; // already applied (duplicate or covered by a catch-up)
    if (payload.cursor > this.cursor + 1) {
      await this.catchUp(); // a gap: something was missed
      if (payload.cursor <= this.cursor) return;
    }
    if (applyEvent(this.view, event, payload.data) === "fetch") {
      await this.catchUp();
      return;
    }
    this.cursor = payload.cursor;
    this.applied += 1;
  }

  /** Fetches and applies everything after the cursor (also what a client does after reconnecting). */
  async catchUp(): Promise<void> {
    this.catchUps += 1;
    for (;;) {
      const page = await this.fetchPage(this.cursor);
      if (page.reset_required) throw new Error(`reset required at cursor ${this.cursor}`);
      for (const e of page.events) {
        if (applyEvent(this.view, e.event, e.data as Json) === "fetch") {
          throw new Error(`catch-up returned a thin event at cursor ${e.cursor}`);
        }
      }
      this.cursor = page.next_cursor;
      if (!page.has_more) return;
    }
  }
}
