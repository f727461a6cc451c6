// REST through the gateway with the real supabase-js client against this project's schema: the grammar
// postgrest-js emits, PostgREST's statuses and error bodies, and RLS holding over HTTP.
import { beforeAll, describe, expect, it } from "vitest";
import { anonClient, serviceClient, stack } from "../support/clients.ts";
import { db, signedInUser, type SignedInUser } from "../support/users.ts";
import { signJwt } from "../../../stack/shared/keys.ts";

let alice: SignedInUser;
let bob: SignedInUser;
let carol: SignedInUser; // outsider
let groupId: string;
const messageIds: string[] = [];

async function rest(path: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("apikey", stack.publishableKey);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  return fetch(`${stack.url}/rest/v1${path}`, { ...init, headers });
}

beforeAll(async () => {
  alice = await signedInUser("rest_alice");
  bob = await signedInUser("rest_bob");
  carol = await signedInUser("rest_carol");
  const { data: group, error } = await alice.client.rpc("create_group_chat", { title: "REST team", member_ids: [bob.id] });
  expect(error).toBeNull();
  groupId = (group as { id: string }).id;
  for (const body of ["first", "second @bob", "third"]) {
    const { data, error: sendError } = await alice.client.rpc("send_message", { chat_id: groupId, body, kind: "text" });
    expect(sendError).toBeNull();
    messageIds.push((data as { id: string }).id);
  }
  const { error: replyError } = await bob.client.rpc("send_message", { chat_id: groupId, body: "a reply", kind: "text", reply_to_id: messageIds[0] });
  expect(replyError).toBeNull();
});

describe("REST reads", () => {
  it("reads rows with filters, order and limit", async () => {
    const { data, error, status } = await alice.client
      .from("messages").select("id, seq, body").eq("chat_id", groupId).order("seq", { ascending: false }).limit(2);
    expect(error).toBeNull();
    expect(status).toBe(200);
    expect(data!.map((m) => m.body)).toEqual(["a reply", "third"]);
  });

  it("embeds the author (many-to-one by constraint hint)", async () => {
    const { data, error } = await alice.client
      .from("messages").select("body, author:profiles!messages_author_id_fkey(id, username)").eq("chat_id", groupId).order("seq").limit(1);
    expect(error).toBeNull();
    expect(data![0]!.author).toMatchObject({ id: alice.id });
  });

  it("embeds a self-reference by column, as PostgREST does (the docs' reply embed)", async () => {
    const { data, error } = await alice.client
      .from("messages").select("body, reply_to:reply_to_id(id, body)").eq("chat_id", groupId).order("seq", { ascending: false }).limit(1);
    expect(error).toBeNull();
    expect(data![0]).toMatchObject({ body: "a reply", reply_to: { id: messageIds[0], body: "first" } });
  });

  it("refuses the FK-name hint on a self-reference with PGRST200, as PostgREST does", async () => {
    const { error, status } = await alice.client
      .from("messages").select("*, reply_to:messages!messages_reply_to_id_fkey(id)").eq("chat_id", groupId);
    expect(status).toBe(400);
    expect(error).toMatchObject({ code: "PGRST200" });
  });

  it("an outsider reads no messages of the chat (RLS filters, 200 [])", async () => {
    const { data, error, status } = await carol.client.from("messages").select("*").eq("chat_id", groupId);
    expect(error).toBeNull();
    expect(status).toBe(200);
    expect(data).toEqual([]);
  });

  it("counts exactly with Content-Range", async () => {
    const { count, data, status } = await alice.client.from("messages").select("id", { count: "exact" }).eq("chat_id", groupId).range(0, 1);
    expect(count).toBe(4);
    expect(data).toHaveLength(2);
    expect(status).toBe(206);
  });

  it(".single() answers 406 PGRST116 for several rows", async () => {
    const { error, status } = await alice.client.from("messages").select("id").eq("chat_id", groupId).single();
    expect(status).toBe(406);
    expect(error).toMatchObject({ code: "PGRST116", details: "The result contains 4 rows" });
  });
});

describe("REST auth", () => {
  it("refuses an expired JWT with 401 PGRST303", async () => {
    const token = await signJwt({ role: "authenticated", sub: alice.id, exp: Math.floor(Date.now() / 1000) - 10 }, stack.jwtSecret);
    const res = await rest("/messages?select=id", { token });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: "PGRST303", details: null, hint: null, message: "JWT expired" });
  });

  it("refuses a JWT with a bad signature with 401 PGRST301", async () => {
    const token = await signJwt({ role: "authenticated", sub: alice.id }, "another-secret-another-secret-another-secret");
    const res = await rest("/messages?select=id", { token });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "PGRST301" });
  });
});

describe("REST RPC", () => {
  it("calls a function with named arguments over POST", async () => {
    const { data, error } = await alice.client.rpc("get_chat_messages", { chat_id: groupId });
    expect(error).toBeNull();
    expect((data as unknown[]).length).toBe(4);
  });

  it("an unknown function is 404 PGRST202", async () => {
    const { error, status } = await alice.client.rpc("no_such_function" as never);
    expect(status).toBe(404);
    expect(error).toMatchObject({ code: "PGRST202" });
  });
});

describe("REST root", () => {
  it("serves the OpenAPI description", async () => {
    const res = await rest("/", { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/openapi+json");
    const doc = (await res.json()) as { swagger: string; paths: Record<string, unknown> };
    expect(doc.swagger).toBe("2.0");
    expect(Object.keys(doc.paths)).toContain("/messages");
  });
});

void anonClient; void serviceClient; void db;
