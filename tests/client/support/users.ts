// Signed-in users for client tests of REST and Storage before they go through Auth: an auth.users row written as
// Supabase Auth writes a confirmed sign-up, and an access token with GoTrue's claims signed with the project secret.
// Tests of Auth itself sign up through supabase.auth instead.
import postgres from "postgres";
import { createClient } from "@supabase/supabase-js";
import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import { afterAll } from "vitest";
import type { Database } from "../../../types/database.ts";
import { signJwt } from "../../../stack/shared/keys.ts";
import { userClaims } from "../../../stack/shared/request-context.ts";
import { stack, type Client } from "./clients.ts";

let pool: postgres.Sql | undefined;

/** A superuser connection to the suite's database, for fixtures and for checking what a request wrote. */
export function db(): postgres.Sql {
  if (!pool) {
    pool = postgres(stack.dbUrl, { max: 2, onnotice: () => {}, idle_timeout: 5 });
    afterAll(async () => {
      await pool?.end();
      pool = undefined;
    });
  }
  return pool;
}

export interface SignedInUser {
  id: string;
  email: string;
  accessToken: string;
  client: Client;
}

/** Creates a confirmed user and a supabase-js client that sends their access token. */
export async function signedInUser(name: string, metadata: Record<string, unknown> = {}): Promise<SignedInUser> {
  const id = randomUUID();
  const email = `${name}.${id.slice(0, 8)}@example.test`;
  const sql = db();
  await sql`
    insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                            raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
    values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', 'authenticated', ${email}, '', now(),
            ${sql.json({ provider: "email", providers: ["email"] })}, ${sql.json(metadata as postgres.JSONValue)}, now(), now())`;
  const claims = { ...userClaims(id, email), user_metadata: metadata, iss: `${stack.url}/auth/v1` };
  const accessToken = await signJwt(claims, stack.jwtSecret);
  const client = createClient<Database>(stack.url, stack.publishableKey, {
    accessToken: async () => accessToken,
    // Node 20 has no global WebSocket; realtime-js needs one as soon as the client is created.
    realtime: { transport: WebSocket as never },
  });
  return { id, email, accessToken, client };
}
