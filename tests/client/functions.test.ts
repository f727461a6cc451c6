// Edge functions through the gateway with every kind of key supabase-js may hold: the legacy JWT keys and the new
// opaque ones (`sb_publishable_…`, `sb_secret_…`), which only the gateway understands. A function that checks its
// caller itself (attachments-cleanup: service role only) must see the service role for the secret key and refuse
// the publishable key, as on Supabase, where the gateway swaps the opaque key for the matching JWT.
import { describe, expect, it } from "vitest";
import { anonClient, serviceClient, stack } from "./support/clients.ts";
import { actor } from "./support/world.ts";

async function status(p: Promise<{ error: unknown }>): Promise<number> {
  const { error } = await p;
  if (!error) return 200;
  return (error as { context?: Response }).context?.status ?? 0;
}

describe.runIf(stack.functions)("edge functions through the gateway", () => {
  it("a service-only function accepts the secret key and the legacy service_role key", async () => {
    expect(await status(serviceClient().functions.invoke("attachments-cleanup", { body: {} }))).toBe(200);
    expect(await status(serviceClient(stack.serviceRoleKey).functions.invoke("attachments-cleanup", { body: {} }))).toBe(200);
  });

  it("refuses the publishable key, the legacy anon key and a signed-in user with 403", async () => {
    expect(await status(anonClient().functions.invoke("attachments-cleanup", { body: {} }))).toBe(403);
    expect(await status(anonClient(stack.anonKey).functions.invoke("attachments-cleanup", { body: {} }))).toBe(403);
    const user = await actor("caller");
    expect(await status(user.supabase.functions.invoke("attachments-cleanup", { body: {} }))).toBe(403);
  });

  it("verify_jwt: a request without any key or token is refused by the runtime with 401", async () => {
    const res = await fetch(`${stack.url}/functions/v1/health`);
    expect(res.status).toBe(401);
  });
});
