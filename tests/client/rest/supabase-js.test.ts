// REST through the gateway with the real supabase-js client against this project's schema: the grammar
// postgrest-js emits, PostgREST's statuses and error bodies, and RLS holding over HTTP.
import { beforeAll, describe, expect, it } from "vitest";
import { anonClient, serviceClient, stack } from "../support/clients.ts";
import { db, signedInUser, type SignedInUser } from "../support/users.ts";
import { signJwt } from "../../../stack/shared/keys.ts";
import { readFileSync } from "node:fs";
import path from "node:path";

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
    const mentions = body.includes("@bob") ? [bob.id] : [];
    const { data, error: sendError } = await alice.client.rpc("send_message", { chat_id: groupId, body, kind: "text", mentions });
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

  it("the secret key reads as service_role (RLS bypassed), the publishable key as anon", async () => {
    const { count, error } = await serviceClient().from("messages").select("id", { count: "exact", head: true }).eq("chat_id", groupId);
    expect(error).toBeNull();
    expect(count).toBe(4);
    const anon = await anonClient().from("profiles").select("id").limit(1);
    expect(anon.status).toBe(401);
    expect(anon.error).toMatchObject({ code: "42501", message: "permission denied for table profiles" });
  });

  it("inserts and returns the row as one object with .select().single()", async () => {
    const dora = await signedInUser("rest_dora");
    const { data, error, status } = await dora.client.from("user_blocks").insert({ blocked_id: alice.id }).select("blocker_id, blocked_id").single();
    expect(error).toBeNull();
    expect(status).toBe(201);
    expect(data).toEqual({ blocker_id: dora.id, blocked_id: alice.id });
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

  it("answers a JWT role that does not exist with 401 (22023), and a malformed token with PGRST301", async () => {
    const token = await signJwt({ role: "nobody_here", sub: alice.id }, stack.jwtSecret);
    const res = await rest("/messages?select=id", { token });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "22023", message: 'role "nobody_here" does not exist' });
    const bad = await rest("/messages?select=id", { token: "not-a-jwt" });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toContain("invalid_token");
    expect(await bad.json()).toEqual({ code: "PGRST301", details: null, hint: null, message: "Expected 3 parts in JWT; got 1" });
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

describe("REST grammar through postgrest-js", () => {
  it("filters with every comparison operator, not., in with quoting, is and isdistinct", async () => {
    const c = alice.client;
    const seqs = async (q: PromiseLike<{ data: Array<{ seq: number }> | null; error: unknown }>) => {
      const { data, error } = await q;
      expect(error).toBeNull();
      return data!.map((r) => r.seq);
    };
    const base = () => c.from("messages").select("seq").eq("chat_id", groupId).order("seq");
    expect(await seqs(base().gt("seq", 1).lte("seq", 3))).toEqual([2, 3]);
    expect(await seqs(base().gte("seq", 3).lt("seq", 4))).toEqual([3]);
    expect(await seqs(base().neq("body", "first"))).toEqual([2, 3, 4]);
    expect(await seqs(base().in("body", ["first", "a reply", "not, there"]))).toEqual([1, 4]);
    expect(await seqs(base().not("body", "in", '("first","third")'))).toEqual([2, 4]);
    expect(await seqs(base().is("reply_to_id", null).is("deleted_at", null))).toEqual([1, 2, 3]);
    expect(await seqs(base().not("reply_to_id", "is", null))).toEqual([4]);
    expect(await seqs(base().isDistinct("reply_to_id", messageIds[0]!))).toEqual([1, 2, 3]);
    expect(await seqs(base().like("body", "*ir*"))).toEqual([1, 3]);
    expect(await seqs(base().ilike("body", "A %"))).toEqual([4]);
    expect(await seqs(base().likeAnyOf("body", ["fi%", "th%"]))).toEqual([1, 3]);
    expect(await seqs(base().ilikeAllOf("body", ["%E%", "%o%"]))).toEqual([2]);
    expect(await seqs(base().match({ body: "third" }))).toEqual([3]);
    expect(await seqs(base().filter("body", "match", "^s"))).toEqual([2]);
    expect(await seqs(base().filter("body", "imatch", "^A"))).toEqual([4]);
  });

  it("filters arrays and jsonb with cs, cd and ov", async () => {
    const c = alice.client;
    const { data: mentioned, error } = await c.from("messages").select("seq").eq("chat_id", groupId).contains("mentions", [bob.id]);
    expect(error).toBeNull();
    expect(mentioned!.map((r) => r.seq)).toEqual([2]);
    const { data: overlap } = await c.from("messages").select("seq").eq("chat_id", groupId).overlaps("mentions", [bob.id, carol.id]);
    expect(overlap!.map((r) => r.seq)).toEqual([2]);
    const { data: within } = await c.from("messages").select("seq").eq("chat_id", groupId).containedBy("mentions", [bob.id]).order("seq");
    expect(within!.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    const { data: meta, error: metaError } = await c.from("messages").select("seq").eq("chat_id", groupId).contains("metadata", {});
    expect(metaError).toBeNull();
    expect(meta).toHaveLength(4);
  });

  it("searches text with fts/plfts/phfts/wfts and a config", async () => {
    const c = alice.client;
    const search = async (type: "plain" | "phrase" | "websearch" | undefined, query: string) => {
      const { data, error } = await c.from("messages").select("seq").eq("chat_id", groupId)
        .textSearch("body", query, type ? { type, config: "english" } : { config: "english" });
      expect(error).toBeNull();
      return data!.map((r) => r.seq);
    };
    expect(await search(undefined, "'third'")).toEqual([3]);
    expect(await search("plain", "reply")).toEqual([4]);
    expect(await search("phrase", "a reply")).toEqual([4]);
    expect(await search("websearch", "first or third")).toEqual(expect.arrayContaining([1, 3]));
  });

  it("combines or/and/not trees, also on an embed", async () => {
    const c = alice.client;
    const { data, error } = await c.from("messages").select("seq").eq("chat_id", groupId)
      .or("seq.eq.1,and(seq.gt.2,body.not.eq.third)").order("seq");
    expect(error).toBeNull();
    expect(data!.map((r) => r.seq)).toEqual([1, 4]);
    const { data: embedded, error: embedError } = await c.from("messages")
      .select("seq, author:profiles!messages_author_id_fkey!inner(id)").eq("chat_id", groupId)
      .or(`id.eq.${bob.id},id.eq.${carol.id}`, { referencedTable: "author" });
    expect(embedError).toBeNull();
    expect(embedded!.map((r) => r.seq)).toEqual([4]);
  });

  it("selects aliases, casts and JSON paths", async () => {
    const { data, error } = await alice.client.from("messages")
      .select("text:body, seq_text:seq::text, meta:metadata, missing:metadata->>nothing").eq("chat_id", groupId).order("seq").limit(1).single();
    expect(error).toBeNull();
    expect(data).toEqual({ text: "first", seq_text: "1", meta: {}, missing: null });
  });

  it("embeds one-to-many with order and limit on the embed, many-to-many through chat_members, and spreads", async () => {
    const c = alice.client;
    const { data: chat, error } = await c.from("chats")
      .select("id, messages!messages_chat_id_fkey(seq), members:chat_members(user_id, role)").eq("id", groupId)
      .order("seq", { referencedTable: "messages", ascending: false }).limit(2, { referencedTable: "messages" }).single();
    expect(error).toBeNull();
    expect(chat!.messages).toEqual([{ seq: 4 }, { seq: 3 }]);
    expect(chat!.members).toHaveLength(2);
    const { data: m2m, error: m2mError } = await c.from("chats").select("id, profiles!chat_members(username)").eq("id", groupId).single();
    expect(m2mError).toBeNull();
    expect((m2m as unknown as { profiles: unknown[] }).profiles).toHaveLength(2);
    const { data: spread, error: spreadError } = await c.from("messages")
      .select("seq, ...chats!messages_chat_id_fkey(chat_title:title)").eq("chat_id", groupId).order("seq").limit(1).single();
    expect(spreadError).toBeNull();
    expect(spread).toEqual({ seq: 1, chat_title: "REST team" });
    const { data: arrays, error: arraysError } = await c.from("chats")
      .select("id, ...messages!messages_chat_id_fkey(seqs:seq, bodies:body)").eq("id", groupId)
      .order("seq", { referencedTable: "messages", ascending: false }).single();
    expect(arraysError).toBeNull();
    expect(arrays).toEqual({ id: groupId, seqs: [4, 3, 2, 1], bodies: ["a reply", "third", "second @bob", "first"] });
  });

  it("answers an ambiguous embed with 300 PGRST201 and its hints", async () => {
    const { error, status } = await alice.client.from("messages").select("*, profiles(*)").eq("chat_id", groupId);
    expect(status).toBe(300);
    expect(error).toMatchObject({ code: "PGRST201" });
    expect(error!.hint).toContain("'profiles!messages_author_id_fkey'");
  });

  it("filters parents on an embed with !inner and on embed nullness", async () => {
    const c = alice.client;
    const { data, error } = await c.from("chats").select("id, chat_members!inner(user_id)").eq("chat_members.user_id", bob.id).eq("id", groupId);
    expect(error).toBeNull();
    expect(data).toHaveLength(1);
    expect(data![0]!.chat_members).toEqual([{ user_id: bob.id }]);
    const { data: replies } = await c.from("messages").select("seq, reply_to_id(id)").eq("chat_id", groupId).not("reply_to_id", "is", null);
    expect(replies!.map((r) => r.seq)).toEqual([4]);
  });

  it("joins an empty embed for filtering without returning it, and orders by a to-one embed's column", async () => {
    const res = await rest(`/chats?select=id,chat_members!inner()&chat_members.user_id=eq.${bob.id}&id=eq.${groupId}`, { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([{ id: groupId }]);
    const ordered = await rest(`/messages?select=seq,author:profiles!messages_author_id_fkey(id)&chat_id=eq.${groupId}&order=author(id).desc,seq.asc`, { token: alice.accessToken });
    expect(ordered.status).toBe(200);
    const rows = (await ordered.json()) as Array<{ seq: number; author: { id: string } }>;
    const expected = [...rows].sort((x, y) => (x.author.id < y.author.id ? 1 : x.author.id > y.author.id ? -1 : x.seq - y.seq));
    expect(rows).toEqual(expected);
  });

  it("orders with nulls placement and pages with range", async () => {
    const c = alice.client;
    const { data, error } = await c.from("messages").select("seq, reply_to_id").eq("chat_id", groupId)
      .order("reply_to_id", { ascending: true, nullsFirst: false }).order("seq", { ascending: false });
    expect(error).toBeNull();
    expect(data!.map((r) => r.seq)).toEqual([4, 3, 2, 1]);
    const { data: page } = await c.from("messages").select("seq").eq("chat_id", groupId).order("seq").range(1, 2);
    expect(page!.map((r) => r.seq)).toEqual([2, 3]);
  });

  it("counts planned and estimated, and HEAD returns only the count", async () => {
    const c = alice.client;
    const { count: planned, error } = await c.from("messages").select("*", { count: "planned", head: true }).eq("chat_id", groupId);
    expect(error).toBeNull();
    expect(typeof planned).toBe("number");
    const { count: estimated } = await c.from("messages").select("*", { count: "estimated", head: true }).eq("chat_id", groupId);
    expect(estimated).toBe(4);
    const { count, data, status } = await c.from("messages").select("*", { count: "exact", head: true }).eq("chat_id", groupId);
    expect(count).toBe(4);
    expect(data).toBeNull();
    expect(status).toBe(200);
  });

  it("answers an offset beyond the rows with 416 PGRST103 when counting", async () => {
    const res = await rest(`/messages?select=id&chat_id=eq.${groupId}&offset=10`, { token: alice.accessToken, headers: { prefer: "count=exact" } });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe("*/4");
    expect(await res.json()).toMatchObject({ code: "PGRST103", details: "An offset of 10 was requested, but there are only 4 rows." });
  });

  it("maybeSingle() gives null for no row and .csv() gives CSV", async () => {
    const { data, error } = await alice.client.from("messages").select("id").eq("chat_id", groupId).eq("seq", 99).maybeSingle();
    expect(error).toBeNull();
    expect(data).toBeNull();
    const { data: csv, error: csvError } = await alice.client.from("messages").select("seq,body").eq("chat_id", groupId).order("seq").limit(2).csv();
    expect(csvError).toBeNull();
    expect(csv).toBe("seq,body\n1,first\n2,second @bob");
  });

  it("reports an unknown column as PostgreSQL does (400 42703) and an unknown table as 404 PGRST205", async () => {
    const { error, status } = await alice.client.from("messages").select("nope");
    expect(status).toBe(400);
    expect(error).toMatchObject({ code: "42703" });
    const r = await alice.client.from("nothing" as never).select("*");
    expect(r.status).toBe(404);
    expect(r.error).toMatchObject({ code: "PGRST205" });
  });
});

describe("REST writes", () => {
  let dave: SignedInUser;
  let eve2Id: string;
  beforeAll(async () => {
    dave = await signedInUser("rest_dave");
    eve2Id = (await signedInUser("rest_eve2")).id;
  });

  it("inserts with return=minimal (201, no body) and with representation", async () => {
    const { data, error, status } = await carol.client.from("user_blocks").insert({ blocked_id: dave.id });
    expect(error).toBeNull();
    expect(status).toBe(201);
    expect(data).toBeNull();
    // Blocking twice is idempotent here (the insert trigger skips the duplicate): still 201.
    const { error: dup, status: dupStatus } = await carol.client.from("user_blocks").insert({ blocked_id: dave.id });
    expect(dup).toBeNull();
    expect(dupStatus).toBe(201);
    const { data: deleted, error: delError, status: delStatus } = await carol.client.from("user_blocks").delete().eq("blocked_id", dave.id).select();
    expect(delError).toBeNull();
    expect(delStatus).toBe(200);
    expect(deleted).toEqual([expect.objectContaining({ blocker_id: carol.id, blocked_id: dave.id })]);
    const { data: rows, error: insError, status: insStatus } = await carol.client.from("user_blocks").insert([{ blocked_id: dave.id }]).select("blocked_id, blocked:profiles!user_blocks_blocked_id_fkey(id)");
    expect(insError).toBeNull();
    expect(insStatus).toBe(201);
    expect(rows).toEqual([{ blocked_id: dave.id, blocked: { id: dave.id } }]);
  });

  it("upserts: ignore-duplicates needs INSERT only, merge-duplicates also UPDATE (403 without it)", async () => {
    const { error, status } = await carol.client.from("user_blocks").upsert({ blocker_id: carol.id, blocked_id: dave.id }, { onConflict: "blocker_id,blocked_id", ignoreDuplicates: true });
    expect(error).toBeNull();
    expect(status).toBe(201);
    const { error: mergeError, status: mergeStatus } = await carol.client.from("user_blocks").upsert({ blocker_id: carol.id, blocked_id: dave.id }).select("blocked_id");
    expect(mergeStatus).toBe(403);
    expect(mergeError).toMatchObject({ code: "42501", message: "permission denied for table user_blocks" });
  });

  it("a unique violation is 409 23505", async () => {
    const [row] = await db()`select username from public.profiles where id = ${alice.id}`;
    const { error, status } = await carol.client.from("profiles").update({ username: row!.username as string }).eq("id", carol.id);
    expect(status).toBe(409);
    expect(error).toMatchObject({ code: "23505" });
  });

  it("updates: 204 minimal, 200 with representation, and RLS hides other users' rows", async () => {
    const { error, status } = await carol.client.from("profiles").update({ display_name: "Carol C" }).eq("id", carol.id);
    expect(error).toBeNull();
    expect(status).toBe(204);
    const { data, status: repStatus } = await carol.client.from("profiles").update({ bio: "hi" }).eq("id", carol.id).select("display_name, bio");
    expect(repStatus).toBe(200);
    expect(data).toEqual([{ display_name: "Carol C", bio: "hi" }]);
    const { data: others, error: otherError } = await carol.client.from("profiles").update({ bio: "hacked" }).eq("id", alice.id).select("id");
    expect(otherError).toBeNull();
    expect(others).toEqual([]);
    const [row] = await db()`select bio from public.profiles where id = ${alice.id}`;
    expect(row!.bio).not.toBe("hacked");
  });

  it("refuses UPDATE and DELETE without filters with 400 21000, as pg-safeupdate does on Supabase", async () => {
    const { error, status } = await carol.client.from("profiles").update({ bio: "everyone" }).neq("id", "00000000-0000-0000-0000-000000000000").select("id").limit(0);
    expect(error).toBeNull();
    expect(status).toBe(200);
    const res = await rest("/profiles", { method: "PATCH", token: carol.accessToken, body: JSON.stringify({ bio: "x" }), headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: "21000", details: null, hint: null, message: "UPDATE requires a WHERE clause" });
    const del = await rest("/user_blocks", { method: "DELETE", token: carol.accessToken });
    expect(del.status).toBe(400);
  });

  it("refuses writes the grants do not allow: 403 for a signed-in user, 401 for anon", async () => {
    const { error, status } = await alice.client.from("messages").insert({ chat_id: groupId, body: "direct" } as never);
    expect(status).toBe(403);
    expect(error).toMatchObject({ code: "42501" });
    const anon = anonClient();
    const r = await anon.from("messages").select("id");
    expect(r.status).toBe(401);
    expect(r.error).toMatchObject({ code: "42501" });
  });

  it("answers headers-only with a Location of the new row and echoes Preference-Applied", async () => {
    const eve = await signedInUser("rest_eve");
    const res = await rest("/user_blocks", {
      method: "POST", token: eve.accessToken, body: JSON.stringify({ blocked_id: dave.id }),
      headers: { "content-type": "application/json", prefer: "return=headers-only, count=exact" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/user_blocks?blocker_id=eq.${eve.id}&blocked_id=eq.${dave.id}`);
    expect(res.headers.get("preference-applied")).toBe("return=headers-only, count=exact");
    expect(res.headers.get("content-range")).toBe("*/1");
    expect(await res.text()).toBe("");
  });

  it("inserts in bulk with columns= and missing=default (postgrest-js upsert defaultToNull: false)", async () => {
    const frank = await signedInUser("rest_frank");
    const { data, error, status } = await frank.client.from("user_blocks")
      .upsert([{ blocked_id: dave.id }, { blocked_id: eve2Id }], { ignoreDuplicates: true, defaultToNull: false, onConflict: "blocker_id,blocked_id" })
      .select("blocker_id, blocked_id");
    expect(error).toBeNull();
    expect(status).toBe(201);
    expect(data).toEqual([{ blocker_id: frank.id, blocked_id: dave.id }, { blocker_id: frank.id, blocked_id: eve2Id }]);
  });

  it("enforces max-affected with handling=strict and rolls back (400 PGRST124)", async () => {
    const res = await rest(`/user_blocks?blocker_id=eq.${carol.id}`, { method: "DELETE", token: carol.accessToken, headers: { prefer: "handling=strict, max-affected=0" } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "PGRST124" });
    const rows = await db()`select 1 from public.user_blocks where blocker_id = ${carol.id}`;
    expect(rows.length).toBe(1);
  });

  it("a singular write is 406 PGRST116 unless it affects exactly one row, and is then rolled back", async () => {
    const { error, status } = await carol.client.from("profiles").update({ bio: "one" }).in("id", [carol.id, dave.id]).select("id").single();
    // Only Carol's own row is hers to update: exactly one row, so this succeeds.
    expect(error).toBeNull();
    expect(status).toBe(200);
    const sql = db();
    await sql`insert into public.user_blocks (blocker_id, blocked_id) values (${carol.id}, ${alice.id})`;
    const r = await carol.client.from("user_blocks").delete().eq("blocker_id", carol.id).select().single();
    expect(r.status).toBe(406);
    expect(r.error).toMatchObject({ code: "PGRST116", details: "The result contains 2 rows" });
    const rows = await sql`select 1 from public.user_blocks where blocker_id = ${carol.id}`;
    expect(rows.length).toBe(2);
    await sql`delete from public.user_blocks where blocker_id = ${carol.id} and blocked_id = ${alice.id}`;
  });
});

describe("REST RPC grammar", () => {
  it("calls a set-returning function over GET with filters, order and count", async () => {
    const { data, error, count } = await alice.client.rpc("get_chat_messages", { chat_id: groupId }, { get: true, count: "exact" })
      .gt("seq", 1).order("seq", { ascending: false }).select("seq, body");
    expect(error).toBeNull();
    expect(data).toEqual([{ seq: 4, body: "a reply" }, { seq: 3, body: "third" }, { seq: 2, body: "second @bob" }]);
    expect(count).toBe(3);
  });

  it("calls with HEAD for a count only", async () => {
    const { data, error, count } = await alice.client.rpc("get_chat_messages", { chat_id: groupId }, { head: true, count: "exact" });
    expect(error).toBeNull();
    expect(data).toBeNull();
    expect(count).toBe(4);
  });

  it("returns a single composite as an object and void as 204", async () => {
    const { data, error, status } = await alice.client.rpc("heartbeat");
    expect(error).toBeNull();
    expect(status).toBe(200);
    expect(data).toMatchObject({ next_heartbeat_seconds: expect.any(Number) });
  });

  it("maps raised SQLSTATEs to PostgREST's statuses (PT404 -> 404)", async () => {
    const { error, status } = await carol.client.rpc("get_chat_messages", { chat_id: groupId });
    expect(status).toBe(404);
    expect(error).toMatchObject({ code: "PT404" });
  });

  it("an anonymous call of a function granted to authenticated only is 401 42501", async () => {
    const { error, status } = await anonClient().rpc("heartbeat");
    expect(status).toBe(401);
    expect(error).toMatchObject({ code: "42501" });
  });

  it("unknown arguments are 404 PGRST202 with PostgREST's message", async () => {
    const { error } = await alice.client.rpc("get_chat_messages", { nope: 1 } as never);
    expect(error).toMatchObject({ code: "PGRST202", message: "Could not find the function public.get_chat_messages(nope) in the schema cache" });
  });
});

describe("REST request context", () => {
  const probe = async (volatility: "stable" | "volatile") => {
    const sql = db();
    await sql.unsafe(`create or replace function public.rest_ctx_probe_${volatility}() returns jsonb language sql ${volatility} as $$
      select jsonb_build_object('user', current_user, 'uid', auth.uid(), 'role_claim', auth.jwt() ->> 'role',
        'method', current_setting('request.method'), 'path', current_setting('request.path'),
        'apikey', current_setting('request.headers')::jsonb ->> 'apikey', 'read_only', current_setting('transaction_read_only'),
        'timeout', current_setting('statement_timeout'), 'search_path', current_setting('search_path'))
    $$`);
    await sql.unsafe(`grant execute on function public.rest_ctx_probe_${volatility}() to anon, authenticated`);
  };

  beforeAll(async () => {
    await probe("stable");
    await probe("volatile");
    await db()`notify pgrst, 'reload schema'`;
    await new Promise((r) => setTimeout(r, 300));
  });

  it("runs as the JWT's role with its claims, method, path, headers and role settings", async () => {
    const { data, error } = await alice.client.rpc("rest_ctx_probe_volatile" as never);
    expect(error).toBeNull();
    expect(data).toEqual({
      user: "authenticated", uid: alice.id, role_claim: "authenticated", method: "POST", path: "/rpc/rest_ctx_probe_volatile",
      apikey: stack.publishableKey, read_only: "off", timeout: "8s", search_path: '"public", "public", "extensions"',
    });
  });

  it("applies Prefer: timezone= for known zones only", async () => {
    const res = await rest("/rpc/rest_ctx_probe_stable", { method: "POST", token: alice.accessToken, body: "{}", headers: { "content-type": "application/json", prefer: "timezone=Asia/Tokyo" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("preference-applied")).toBe("timezone=Asia/Tokyo");
    const bad = await rest("/rpc/rest_ctx_probe_stable", { method: "POST", token: alice.accessToken, body: "{}", headers: { "content-type": "application/json", prefer: "timezone=Mars/Olympus" } });
    expect(bad.status).toBe(200);
    expect(bad.headers.get("preference-applied")).toBeNull();
  });

  it("runs STABLE functions and GET read only, and anon with anon's settings", async () => {
    const { data } = await alice.client.rpc("rest_ctx_probe_stable" as never);
    expect(data).toMatchObject({ read_only: "on", method: "POST" });
    const { data: viaGet } = await anonClient().rpc("rest_ctx_probe_volatile" as never, undefined as never, { get: true });
    expect(viaGet).toMatchObject({ user: "anon", uid: null, role_claim: "anon", read_only: "on", method: "GET", timeout: "3s" });
  });
});

describe("REST schema cache", () => {
  it("carries foreign keys over to views that expose their columns", async () => {
    const sql = db();
    await sql`create view public.rest_view_messages with (security_invoker = true) as select id, chat_id, author_id, body, seq from public.messages`;
    try {
      await sql`grant select on public.rest_view_messages to authenticated`;
      await sql`notify pgrst, 'reload schema'`;
      let result: { data: unknown; error: unknown; status: number } = { data: null, error: null, status: 0 };
      for (let i = 0; i < 50; i++) {
        result = await alice.client.from("rest_view_messages" as never).select("body, author:profiles!messages_author_id_fkey(id)").eq("chat_id", groupId).order("seq").limit(1);
        if (result.status === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(result.error).toBeNull();
      expect(result.data).toEqual([{ body: "first", author: { id: alice.id } }]);
      const { data, error } = await alice.client.from("chats").select("id, rest_view_messages(seq)").eq("id", groupId).single();
      expect(error).toBeNull();
      expect((data as unknown as { rest_view_messages: unknown[] }).rest_view_messages).toHaveLength(4);
      const outsider = await carol.client.from("rest_view_messages" as never).select("id").eq("chat_id", groupId);
      expect(outsider.data).toEqual([]);
    } finally {
      await sql`drop view public.rest_view_messages`;
      await sql`notify pgrst, 'reload schema'`;
    }
  });

  it("reloads on NOTIFY pgrst, 'reload schema'", async () => {
    const sql = db();
    await sql`create table public.rest_reload_probe (id int primary key)`;
    try {
      await sql`grant select on public.rest_reload_probe to authenticated`;
      await sql`notify pgrst, 'reload schema'`;
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await alice.client.from("rest_reload_probe" as never).select("*")).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
    } finally {
      await sql`drop table public.rest_reload_probe`;
      await sql`notify pgrst, 'reload schema'`;
    }
  });
});

describe("REST and docs/api.md", () => {
  // Every `.from("t").select("…")` in the API docs must resolve on a PostgREST-compatible server: a wrong embed hint
  // (like the self-reference hint the docs once had) fails here with PGRST200/PGRST201.
  const api = readFileSync(path.resolve(import.meta.dirname, "..", "..", "..", "docs", "api.md"), "utf8");
  const selects = [...api.matchAll(/\.from\("(\w+)"\)\s*\.select\("([^"]*)"/g)].map((m) => [m[1]!, m[2]!] as const);

  it("finds the documented selects", () => {
    expect(selects.length).toBeGreaterThan(10);
  });

  it.each(selects)("from(%s).select(%s) resolves", async (table, select) => {
    const { error } = await alice.client.from(table as never).select(select).limit(1);
    expect(error).toBeNull();
  });
});

describe("REST root", () => {
  it("follows privileges: anon sees no table it may not read", async () => {
    const res = await rest("/");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).not.toContain("/messages");
  });

  it("serves the OpenAPI description", async () => {
    const res = await rest("/", { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/openapi+json");
    const doc = (await res.json()) as { swagger: string; paths: Record<string, unknown> };
    expect(doc.swagger).toBe("2.0");
    expect(Object.keys(doc.paths)).toContain("/messages");
  });
});

