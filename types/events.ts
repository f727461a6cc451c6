// The realtime contract: every payload the database broadcasts on `chat:<chat id>`, `user:<user id>` and
// `status:<user id>`, what clients broadcast (typing) and track (presence) on `chat:<chat id>:typing`, and the
// catch-up RPCs' answers. Shared by clients, functions
// and tests; docs/realtime.md describes the same events in prose. Unknown keys are refused (strict objects), so a
// payload that grows without this file growing is caught by the tests.
import { z } from "zod";

const uuid = z.uuid();
const timestamp = z.iso.datetime({ offset: true });
const cursor = z.number().int().nonnegative();

export const chatRole = z.enum(["owner", "admin", "member"]);
export const chatKind = z.enum(["direct", "group", "channel"]);
export const messageKind = z.enum(["text", "image", "file", "voice", "video", "system"]);
export const presenceStatus = z.enum(["online", "away", "busy"]);
export const removalReason = z.enum(["left", "removed", "banned", "deleted"]);

/** The public card of a user, as events carry it. */
export const profileCard = z.strictObject({
  id: uuid,
  username: z.string(),
  display_name: z.string().nullable(),
  avatar_path: z.string().nullable(),
});

/** A file as events carry it (an `attachments` row without the scan's internals). */
export const attachmentCard = z.strictObject({
  id: uuid,
  chat_id: uuid,
  message_id: uuid.nullable(),
  uploader_id: uuid.nullable(),
  object_path: z.string(),
  name: z.string(),
  mime_type: z.string(),
  size_bytes: z.number().int().nonnegative(),
  width: z.number().int().positive().nullable(),
  height: z.number().int().positive().nullable(),
  duration_seconds: z.number().nonnegative().nullable(),
  thumbnail_path: z.string().nullable(),
  thumbnail_status: z.enum(["pending", "ready", "failed", "unsupported"]).nullable(),
  scan_status: z.enum(["pending", "clean", "infected", "error"]),
});
export type AttachmentCard = z.infer<typeof attachmentCard>;

/**
 * A `messages` row plus its author's card and its files (oldest upload first). Deleted messages are tombstones:
 * body null, deleted_at set, no files.
 */
export const message = z.strictObject({
  id: uuid,
  chat_id: uuid,
  seq: cursor,
  author_id: uuid.nullable(),
  author: profileCard.nullable(),
  kind: messageKind,
  body: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  reply_to_id: uuid.nullable(),
  thread_root_id: uuid.nullable(),
  reply_count: z.number().int().nonnegative(),
  last_reply_at: timestamp.nullable(),
  forwarded_from_message_id: uuid.nullable(),
  forwarded_from_chat_id: uuid.nullable(),
  forwarded_from_author_id: uuid.nullable(),
  mentions: z.array(uuid),
  reaction_counts: z.record(z.string(), z.number().int().positive()),
  client_id: uuid.nullable(),
  created_at: timestamp,
  edited_at: timestamp.nullable(),
  deleted_at: timestamp.nullable(),
  deleted_by: uuid.nullable(),
  pinned_at: timestamp.nullable(),
  pinned_by: uuid.nullable(),
  attachments: z.array(attachmentCard),
});
export type Message = z.infer<typeof message>;

/** A chat's settings and counters, as chat.updated and chat.added carry them. */
export const chat = z.strictObject({
  id: uuid,
  kind: chatKind,
  title: z.string().nullable(),
  description: z.string().nullable(),
  avatar_path: z.string().nullable(),
  who_can_post: z.enum(["members", "admins"]),
  slow_mode_seconds: z.number().int().nonnegative(),
  history_visible_to_new_members: z.boolean(),
  discoverable: z.boolean(),
  member_count: z.number().int().nonnegative(),
  last_message_seq: cursor,
  last_event_seq: cursor,
  last_activity_at: timestamp,
  updated_at: timestamp,
});

/**
 * Message events as get_chat_events and get_updates return them: `message` is the message as it is now (a tombstone
 * when deleted), or null when it was deleted for good.
 */
export const messageEventData = z.strictObject({ message_id: uuid, message_seq: cursor, message: message.nullable() });

/** Reaction events as the catch-up RPCs return them: who reacted with what, and the counts as they are now. */
export const reactionEventData = z.strictObject({
  message_id: uuid,
  message_seq: cursor,
  user_id: uuid,
  emoji: z.string().min(1),
  reaction_counts: z.record(z.string(), z.number().int().positive()),
});

/**
 * What a message or reaction broadcast on `chat:<chat id>` carries: the message's id and seq, nothing of its content.
 * Broadcast Replay hands stored broadcasts to anyone who may read the topic without per-row RLS, for 72 h, whatever
 * happened to the message since: content is read with get_chat_events (after the previous cursor) instead.
 */
export const messageRef = z.strictObject({ message_id: uuid, message_seq: cursor });

const memberEventData = {
  "message.read": z.strictObject({ user_id: uuid, last_read_seq: cursor, last_read_at: timestamp.nullable() }),
  "participant.added": z.strictObject({
    user_id: uuid,
    role: chatRole,
    joined_at: timestamp,
    last_read_seq: cursor,
    history_from_seq: cursor,
    profile: profileCard.nullable(),
    member_count: z.number().int().nonnegative(),
  }),
  "participant.removed": z.strictObject({ user_id: uuid, reason: removalReason, member_count: z.number().int().nonnegative() }),
  "participant.updated": z.strictObject({ user_id: uuid, role: chatRole }),
  "chat.updated": z.strictObject({ chat }),
  /** Disappearing messages turned on, changed (seconds) or off (null) by an admin: set_disappearing_messages. */
  "chat.retention_updated": z.strictObject({ message_ttl_seconds: z.number().int().positive().nullable() }),
  /** An admin or moderator froze (read-only for members) or unfroze the chat. */
  "chat.frozen": z.strictObject({ frozen: z.boolean() }),
} as const;

/** Chat events as the catch-up RPCs return them (`data` by event name). */
export const chatEventData = {
  "message.sent": messageEventData,
  "message.updated": messageEventData,
  "message.deleted": messageEventData,
  "reaction.added": reactionEventData,
  "reaction.removed": reactionEventData,
  ...memberEventData,
} as const;
export type ChatEventName = keyof typeof chatEventData;
export const chatEventNames = Object.keys(chatEventData) as ChatEventName[];

/** Chat events as broadcast on `chat:<chat id>` (`data` by event name): thin for messages and reactions. */
export const chatBroadcastData = {
  "message.sent": messageRef,
  "message.updated": messageRef,
  "message.deleted": messageRef,
  "reaction.added": messageRef,
  "reaction.removed": messageRef,
  ...memberEventData,
} as const satisfies Record<ChatEventName, z.ZodType>;
/** Chat events a client can apply from the broadcast alone; the others name a message to fetch. */
export const selfContainedChatEvents: ChatEventName[] = [
  "message.read", "participant.added", "participant.removed", "participant.updated", "chat.updated", "chat.retention_updated",
  "chat.frozen",
];

/** A direct invitation, as the invitation events carry it. */
export const invitationEventData = z.strictObject({
  invitation_id: uuid,
  chat_id: uuid,
  invited_by: uuid.nullable(),
  user_id: uuid,
  status: z.enum(["pending", "accepted", "declined", "revoked"]),
  expires_at: timestamp.nullable(),
  responded_at: timestamp.nullable(),
});

export const notificationKind = z.enum([
  "mention", "reply", "thread_reply", "direct_message", "reaction", "invitation", "added_to_chat", "system",
]);

/** A row of public.notifications, as notification.created carries it and list_notifications returns it. */
export const notification = z.strictObject({
  id: uuid,
  recipient_id: uuid,
  kind: notificationKind,
  chat_id: uuid.nullable(),
  message_id: uuid.nullable(),
  actor_id: uuid.nullable(),
  preview: z.string().max(140).nullable(),
  data: z.record(z.string(), z.unknown()),
  silent: z.boolean(),
  created_at: timestamp,
  updated_at: timestamp,
  read_at: timestamp.nullable(),
});

export const userEventData = {
  "chat.added": z.strictObject({ chat_id: uuid, role: chatRole, chat }),
  "chat.removed": z.strictObject({ chat_id: uuid, reason: removalReason }),
  /** Direct chats only: a new message from the other person (thin; the chat list fetches what it shows). */
  "chat.activity": z.strictObject({
    chat_id: uuid,
    last_message_seq: cursor,
    last_event_seq: cursor,
    last_activity_at: timestamp,
    message_id: uuid,
    author_id: uuid.nullable(),
  }),
  /** To the invitee: someone invited you to a group or channel. */
  "invitation.received": invitationEventData,
  /** To the inviter and the invitee's devices: the invitee accepted or declined. */
  "invitation.answered": invitationEventData,
  /** To the invitee: the invitation was revoked (or closed after expiry). */
  "invitation.revoked": invitationEventData,
  "unread.updated": z.strictObject({
    chat_id: uuid,
    last_read_seq: cursor,
    last_message_seq: cursor,
    unread_count: z.number().int().nonnegative(),
  }),
  "preferences.updated": z.strictObject({
    chat_id: uuid,
    notification_level: z.enum(["all", "mentions", "none"]),
    muted_until: timestamp.nullable(),
    archived: z.boolean(),
    pinned: z.boolean(),
  }),
  "attachment.updated": z.strictObject({
    attachment: attachmentCard,
    scan_error: z.string().nullable(),
    thumbnail_error: z.string().nullable(),
  }),
  /** A report you filed was decided (the row is in `reports`). */
  "report.resolved": z.strictObject({
    report_id: uuid,
    status: z.enum(["dismissed", "actioned"]),
    action: z.enum(["dismiss", "delete_message", "mute", "remove", "ban", "freeze", "suspend"]),
  }),
  /** An admin or moderator muted you in a chat (muted_until), or lifted it (null). */
  "member.muted": z.strictObject({ chat_id: uuid, muted_until: timestamp.nullable() }),
  /** A moderator suspended you app-wide (suspended_until null: until lifted), or lifted it. */
  "account.suspended": z.strictObject({ suspended: z.boolean(), suspended_until: timestamp.nullable() }),
  /**
   * A notification was made for you (a mention, reply, reaction, ...), or a collapsed one (reactions) updated: the one
   * event of each, with what a client renders without another request. `preview` is null when you hide previews (and
   * after the message was deleted, in get_updates); `unread_count` is your inbox's count after it.
   */
  "notification.created": z.strictObject({
    notification_id: uuid,
    kind: notificationKind,
    chat_id: uuid.nullable(),
    chat_title: z.string().nullable(),
    message_id: uuid.nullable(),
    actor: profileCard.nullable(),
    preview: z.string().max(140).nullable(),
    data: z.record(z.string(), z.unknown()),
    silent: z.boolean(),
    created_at: timestamp,
    updated_at: timestamp,
    unread_count: z.number().int().nonnegative(),
  }),
  /** Some (ids), all, or all of one chat's (all + chat_id) notifications were marked read. */
  "notification.read": z.strictObject({
    ids: z.array(uuid).nullable(),
    chat_id: uuid.nullable(),
    all: z.boolean(),
    unread_count: z.number().int().nonnegative(),
  }),
} as const;
export type UserEventName = keyof typeof userEventData;
export const userEventNames = Object.keys(userEventData) as UserEventName[];
/** User events that get_updates returns again (chat.activity is live only: chat events cover it). */
export const storedUserEventNames: UserEventName[] = [
  "chat.added", "chat.removed", "invitation.received", "invitation.answered", "invitation.revoked",
  "unread.updated", "preferences.updated", "attachment.updated", "notification.created", "notification.read",
  "report.resolved", "member.muted", "account.suspended",
];

/** The topics of the contract (private channels; supabase.channel(topic, { config: { private: true } })). */
export const topics = {
  /** Server events of a chat: members read, nobody writes. */
  chat: (chatId: string) => `chat:${chatId}`,
  /** Typing broadcasts and Presence of a chat: members read and write. */
  typing: (chatId: string) => `chat:${chatId}:typing`,
  /** A user's own events: only they read, nobody writes. */
  user: (userId: string) => `user:${userId}`,
  /** A user's status as others see it: they and people who share a chat with them read, nobody writes. */
  status: (userId: string) => `status:${userId}`,
} as const;

/** The broadcast payload on `chat:<chat id>` (the Broadcast event name is the event). */
export function chatBroadcast<E extends ChatEventName>(event: E) {
  return z.strictObject({
    id: uuid,
    chat_id: uuid,
    cursor: cursor.positive(),
    actor_id: uuid.nullable(),
    at: timestamp,
    data: chatBroadcastData[event],
  });
}

/** The broadcast payload on `user:<user id>`. event_id is set for events get_updates returns again. */
export function userBroadcast<E extends UserEventName>(event: E) {
  return z.strictObject({
    id: uuid,
    user_id: uuid,
    event_id: z.number().int().positive().nullable(),
    actor_id: uuid.nullable(),
    at: timestamp,
    data: userEventData[event],
  });
}

/** The broadcast payload of `status.changed` on `status:<user id>`; invisible users are announced as offline. */
export const statusBroadcast = z.strictObject({
  id: uuid,
  user_id: uuid,
  status: z.enum(["online", "away", "busy", "offline"]),
  last_seen_at: timestamp.nullable(),
  at: timestamp,
});

/** One logged chat event, as get_chat_events and get_updates return it. */
export interface LoggedChatEvent {
  cursor: number;
  event: ChatEventName;
  chat_id: string;
  actor_id: string | null;
  at: string;
  data: unknown;
}
export const loggedChatEvent = z.discriminatedUnion(
  "event",
  chatEventNames.map((event) =>
    z.strictObject({
      cursor: cursor.positive(),
      event: z.literal(event),
      chat_id: uuid,
      actor_id: uuid.nullable(),
      at: timestamp,
      data: chatEventData[event],
    }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
) as unknown as z.ZodType<LoggedChatEvent>;

/** One of the user's own events, as get_updates returns it. */
export interface LoggedUserEvent {
  event_id: number;
  event: UserEventName;
  at: string;
  data: unknown;
}
export const loggedUserEvent = z.discriminatedUnion(
  "event",
  storedUserEventNames.map((event) =>
    z.strictObject({ event_id: z.number().int().positive(), event: z.literal(event), at: timestamp, data: userEventData[event] }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
) as unknown as z.ZodType<LoggedUserEvent>;

/** supabase.rpc('get_chat_events', { chat_id, after_cursor, page_size }) */
export const chatEventsPage = z.strictObject({
  chat_id: uuid,
  events: z.array(loggedChatEvent),
  next_cursor: cursor,
  latest_cursor: cursor,
  has_more: z.boolean(),
  reset_required: z.boolean(),
});

/** supabase.rpc('get_updates', { since, page_size }) */
export const updatesPage = z.strictObject({
  cursor: z.string().min(1),
  user_events: z.array(loggedUserEvent),
  events: z.array(loggedChatEvent),
  has_more: z.boolean(),
  reset_required: z.boolean(),
});

/**
 * Client Broadcast on `chat:<chat id>:typing`: typing.start / typing.stop (members; not in large chats). The server
 * cannot check a client broadcast's event or payload: `user_id` is what the sender claims. Show it only for a current
 * member, and only as typing.
 */
export const typingPayload = z.strictObject({
  user_id: uuid,
  thread_root_id: uuid.nullable().optional(),
});

/**
 * What each device tracks with Realtime Presence on `chat:<chat id>:typing` (invisible users cannot track). Like
 * typing, `user_id` is the sender's claim; the status others see comes from `status:<user id>` and `profiles`.
 */
export const presenceState = z.strictObject({
  user_id: uuid,
  device_id: z.string().min(1).max(100),
  status: presenceStatus,
  online_at: timestamp,
});

/** supabase.rpc('heartbeat', { status }) */
export const heartbeatResult = z.strictObject({
  status: z.enum(["online", "away", "busy", "invisible"]),
  shown_status: z.enum(["online", "away", "busy", "offline"]),
  last_seen_at: timestamp.nullable(),
  next_heartbeat_seconds: z.number().int().positive(),
});
