// supabase-js clients for the client suite, exactly as an app creates them.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { inject } from "vitest";
import ws from "ws";
import type { Database } from "../../../types/database.ts";

export const stack = inject("stack");

export type Client = SupabaseClient<Database>;

// Node 20 has no global WebSocket; supabase-js' Realtime client needs one at construction time.
const realtime = { transport: ws as unknown as typeof WebSocket };

/** A client with the publishable key and no stored session (each test signs in explicitly). */
export function anonClient(key: string = stack.publishableKey): Client {
  return createClient<Database>(stack.url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime,
  });
}

/** A client with the secret key: the service role, for admin calls and fixtures. */
export function serviceClient(key: string = stack.secretKey): Client {
  return createClient<Database>(stack.url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime,
  });
}
