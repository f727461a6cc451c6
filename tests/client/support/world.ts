// Fixtures for client tests, built through the API itself (RPCs over the gateway), and clients that record every
// HTTP answer so a test can say which calls failed.
import { createClient } from "@supabase/supabase-js";
import type { Database } from "../../../types/database.ts";
import { stack, type Client } from "./clients.ts";
import { signedInUser, type SignedInUser } from "./users.ts";

export interface Recorded {
  method: string;
  url: string;
  status: number;
  body: string;
}

/** A fetch that passes requests on and remembers method, URL, status and (for failures) the body. */
export function recordingFetch(log: Recorded[]): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const response = await fetch(request);
    const body = response.status >= 400 ? await response.clone().text() : "";
    log.push({ method: request.method, url: request.url, status: response.status, body });
    return response;
  };
}

export interface Actor extends SignedInUser {
  /** The user's client whose HTTP answers go to `log`. */
  supabase: Client;
  log: Recorded[];
}

/** A signed-in user whose client records its HTTP answers. */
export async function actor(name: string): Promise<Actor> {
  const user = await signedInUser(name);
  const log: Recorded[] = [];
  const supabase = createClient<Database>(stack.url, stack.publishableKey, {
    accessToken: async () => user.accessToken,
    global: { fetch: recordingFetch(log) },
  });
  return { ...user, supabase, log };
}

type Rpc = Database["public"]["Functions"];

/** Calls an RPC as `user` and returns its data; throws the PostgREST error otherwise. */
export async function call<N extends keyof Rpc & string>(
  user: SignedInUser,
  name: N,
  args: Rpc[N]["Args"],
): Promise<Rpc[N]["Returns"]> {
  // The generic client types every RPC call; the fixture helper only needs name, arguments and data.
  const { data, error } = await (user.client.rpc as (n: string, a: unknown) => PromiseLike<{ data: unknown; error: unknown }>)(name, args);
  if (error) throw new Error(`${name} failed: ${JSON.stringify(error)}`);
  return data as Rpc[N]["Returns"];
}

/** A group owned by `owner` with `members`; returns its id. */
export async function group(owner: SignedInUser, members: SignedInUser[] = [], title = "Team"): Promise<string> {
  const chat = await call(owner, "create_group_chat", { title, member_ids: members.map((m) => m.id) });
  return (chat as { id: string }).id;
}

/** A message from `author` in `chatId`; returns the stored row. */
export async function message(author: SignedInUser, chatId: string, body = "hello"): Promise<{ id: string; seq: number }> {
  return (await call(author, "send_message", { chat_id: chatId, body })) as { id: string; seq: number };
}

/** A signed-out client that keeps its session in memory, as an app's does, recording its HTTP answers. */
export function authActor(): Pick<Actor, "supabase" | "log"> {
  const log: Recorded[] = [];
  const supabase = createClient<Database>(stack.url, stack.publishableKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: recordingFetch(log) },
  });
  return { supabase, log };
}
