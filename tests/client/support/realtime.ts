// Realtime helpers for the client suite: supabase-js clients whose realtime-js speaks over `ws` (Node 20 has no
// global WebSocket), a user's token that a test can swap (refresh) or let expire, chat fixtures made in the request
// context (RPCs as the user, exactly as PostgREST would run them), and small waiting helpers.
import { createClient, type RealtimeChannel, type SupabaseClient } from "@supabase/supabase-js";
import WebSocket from "ws";
import type { Database } from "../../../types/database.ts";
import { signJwt } from "../../../stack/shared/keys.ts";
import { inRequest, userClaims } from "../../../stack/shared/request-context.ts";
import { stack } from "./clients.ts";
import { db, signedInUser, type SignedInUser } from "./users.ts";

export interface LiveUser extends SignedInUser {
  /** The token the client's accessToken callback returns now (replace it to "refresh"). */
  token: string;
  live: SupabaseClient<Database>;
  /** A fresh access token for this user, valid for `seconds`. */
  mint(seconds?: number): Promise<string>;
}

export interface LiveOptions {
  /** realtime-js heartbeat interval; it also asks accessToken() for a new token on every heartbeat. */
  heartbeatIntervalMs?: number;
  url?: string;
  vsn?: "1.0.0" | "2.0.0";
  /** Lifetime of the first token (supabase-js hands it to Realtime once, when the client is created). */
  tokenSeconds?: number;
}

export function claimsFor(user: { id: string; email: string }, seconds = 3600) {
  return { ...userClaims(user.id, user.email), iss: `${stack.url}/auth/v1`, exp: Math.floor(Date.now() / 1000) + seconds };
}

/** A client for an existing user (another device of the same person, or a client of another stack). */
export function liveClientFor(user: LiveUser | SignedInUser, getToken: () => string, opts: LiveOptions = {}) {
  return createClient<Database>(opts.url ?? stack.url, stack.publishableKey, {
    accessToken: async () => getToken(),
    realtime: {
      transport: WebSocket as never,
      ...(opts.heartbeatIntervalMs ? { heartbeatIntervalMs: opts.heartbeatIntervalMs } : {}),
      ...(opts.vsn ? { vsn: opts.vsn } : {}),
    },
  });
}

export async function liveUser(name: string, opts: LiveOptions = {}): Promise<LiveUser> {
  const user = await signedInUser(name);
  const mint = (seconds = 3600) => signJwt(claimsFor(user, seconds), stack.jwtSecret);
  const first = opts.tokenSeconds === undefined ? user.accessToken : await mint(opts.tokenSeconds);
  const live = { ...user, token: first, mint } as LiveUser;
  live.live = liveClientFor(live, () => live.token, opts);
  return live;
}

/** Subscribes and resolves with the channel once joined; rejects with the join error. */
export function joined(channel: RealtimeChannel, timeoutMs = 10_000): Promise<RealtimeChannel> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`join of ${channel.topic} timed out`)), timeoutMs);
    channel.subscribe((status, err) => {
      if (status === "SUBSCRIBED") {
        clearTimeout(timer);
        resolve(channel);
      } else if (status === "CHANNEL_ERROR" || status === "TIMED_OUT") {
        clearTimeout(timer);
        reject(err ?? new Error(status));
      }
    });
  });
}

/** Polls until `check` returns a value other than undefined/false. */
export async function eventually<T>(check: () => T | undefined | false, timeoutMs = 5_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` as `user` in PostgREST's request context (what an RPC over /rest/v1 does). */
export function asUser<T>(user: SignedInUser, fn: Parameters<typeof inRequest<T>>[2]): Promise<T> {
  return inRequest<T>(db(), userClaims(user.id, user.email), fn);
}

/** A group owned by `owner` with `members`, through create_group_chat. */
export async function groupChat(owner: SignedInUser, members: SignedInUser[]): Promise<string> {
  const rows = await asUser(owner, (tx) =>
    tx`select (public.create_group_chat('Live', ${members.map((m) => m.id)}::uuid[])).id as id`);
  return (rows as unknown as { id: string }[])[0]!.id;
}

/** send_message as `author`; returns the message id. */
export async function sendMessage(author: SignedInUser, chatId: string, body: string): Promise<string> {
  const rows = await asUser(author, (tx) =>
    tx`select (public.send_message(chat_id => ${chatId}::uuid, body => ${body})).id as id`);
  return (rows as unknown as { id: string }[])[0]!.id;
}

/** Removes every channel and closes the client's socket. */
export async function disconnect(...clients: SupabaseClient<Database>[]): Promise<void> {
  for (const c of clients) {
    // Leaving waits for each channel's reply; a socket that is reconnecting may never send one, so after 10 s the
    // socket is closed instead (the channels go with it).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = await Promise.race([
      c.removeAllChannels().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 10_000))),
    ]);
    clearTimeout(timer);
    if (gaveUp) await c.realtime.disconnect();
  }
}
