// Guests through the real supabase-js (issue 21, item 4): `supabase.auth.signInAnonymously()` against a second stack
// whose Auth has anonymous sign-ins turned on (as an operator would with [auth] enable_anonymous_sign_ins), on the
// suite's database. The access token says is_anonymous as GoTrue's does; the database lets the guest join and read a
// discoverable channel and refuses every write. The project's own config keeps anonymous sign-ins off.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@supabase/supabase-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ws from "ws";
import { startStack, type RunningStack } from "../../stack/server.ts";
import { freePort, ROOT } from "../../scripts/lib/util.ts";
import { inRequest, userClaims } from "../../stack/shared/request-context.ts";
import type { Database } from "../../types/database.ts";
import { anonClient, stack } from "./support/clients.ts";
import { db, signedInUser } from "./support/users.ts";

const realtime = { transport: ws as unknown as typeof WebSocket };
let guestStack: RunningStack;
let dir: string;
let channelId: string;
let groupId: string;

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
}

function guestStackClient() {
  return createClient<Database>(guestStack.url, guestStack.deps.keys.publishableKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime,
  });
}

beforeAll(async () => {
  // supabase/config.toml with anonymous sign-ins on; template paths made absolute (they are relative to the project).
  dir = mkdtempSync(path.join(tmpdir(), "chat-guests-"));
  mkdirSync(path.join(dir, "supabase"));
  const config = readFileSync(path.join(ROOT, "supabase", "config.toml"), "utf8")
    .replace(/^enable_anonymous_sign_ins = false$/m, "enable_anonymous_sign_ins = true")
    .replaceAll('content_path = "./supabase/', `content_path = "${ROOT}/supabase/`);
  expect(config).toMatch(/^enable_anonymous_sign_ins = true$/m);
  writeFileSync(path.join(dir, "supabase", "config.toml"), config);
  const dbUrl = new URL(stack.dbUrl);
  guestStack = await startStack({
    port: await freePort(57321),
    configFile: path.join(dir, "supabase", "config.toml"),
    jwtSecret: stack.jwtSecret,
    db: { host: dbUrl.hostname, port: Number(dbUrl.port), database: dbUrl.pathname.slice(1), password: "postgres" },
    dataDir: path.join(dir, "data"),
  });

  const owner = await signedInUser("guest_owner");
  const as = (q: (tx: Parameters<Parameters<typeof inRequest>[2]>[0]) => Promise<{ id: string }[]>) =>
    inRequest(db(), userClaims(owner.id, owner.email), q).then((rows) => rows[0]!.id);
  channelId = await as((tx) => tx<{ id: string }[]>`select id from public.create_channel('Announcements', discoverable => true)`);
  await inRequest(db(), userClaims(owner.id, owner.email), (tx) => tx`select public.send_message(${channelId}::uuid, 'welcome, guests')`);
  groupId = await as((tx) => tx<{ id: string }[]>`select id from public.create_group_chat('Staff')`);
  await db()`update public.chats set discoverable = true where id = ${groupId}`;
}, 60_000);

afterAll(async () => {
  await guestStack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("guests through supabase-js", () => {
  it("anonymous sign-in is off in the project's config: Auth answers anonymous_provider_disabled", async () => {
    const { data, error } = await anonClient().auth.signInAnonymously();
    expect(data.session).toBeNull();
    expect(error?.code).toBe("anonymous_provider_disabled");
  });

  it("an anonymous user's token says is_anonymous, and they may join and read a discoverable channel", async () => {
    const supabase = guestStackClient();
    const { data, error } = await supabase.auth.signInAnonymously();
    expect(error).toBeNull();
    const claims = claimsOf(data.session!.access_token);
    expect(claims).toMatchObject({ role: "authenticated", is_anonymous: true, aud: "authenticated" });
    expect(data.user?.is_anonymous).toBe(true);

    const joined = await supabase.rpc("join_chat", { chat_id: channelId });
    expect(joined.error).toBeNull();
    const read = await supabase.from("messages").select("body").eq("chat_id", channelId);
    expect(read.error).toBeNull();
    expect(read.data?.map((m) => m.body)).toEqual(["welcome, guests"]);
    const page = await supabase.rpc("get_chat_messages", { chat_id: channelId });
    expect(page.error).toBeNull();
    expect(page.data).toHaveLength(1);
  });

  it("refuses an anonymous user every write: posting, creating chats, joining a group, profile, uploads", async () => {
    const supabase = guestStackClient();
    const { data: session } = await supabase.auth.signInAnonymously();
    const me = session.user!.id;
    await supabase.rpc("join_chat", { chat_id: channelId });

    const post = await supabase.rpc("send_message", { chat_id: channelId, body: "hi" });
    expect(post.error?.code).toBe("42501");
    expect(post.error?.message).toBe("guest accounts can only read channels");
    expect(post.status).toBe(403);
    const created = await supabase.rpc("create_group_chat", { title: "mine" });
    expect(created.error?.code).toBe("42501");
    const group = await supabase.rpc("join_chat", { chat_id: groupId });
    expect(group.error?.message).toBe("guest accounts can only join channels");
    const online = await supabase.rpc("heartbeat", { status: "online" });
    expect(online.error?.code).toBe("42501");

    const renamed = await supabase.from("profiles").update({ display_name: "Support" }).eq("id", me).select();
    expect(renamed.error).toBeNull();
    expect(renamed.data).toEqual([]);
    const upload = await supabase.storage.from("avatars").upload(`${me}/me.png`, new Blob([new Uint8Array([137, 80, 78, 71])], { type: "image/png" }), { contentType: "image/png" });
    expect(upload.error).not.toBeNull();
    expect((upload.error as { statusCode?: string }).statusCode).toBe("403");

    const [row] = await db()<{ n: number }[]>`select count(*)::int as n from public.messages where chat_id = ${channelId}`;
    expect(row!.n).toBe(1);
  });
});
