// Stages 2 and 3 on a fixed schema cache: embedding resolution as PostgREST's findRel does it, and the SQL they
// produce (values only ever as bind parameters).
import { describe, expect, it } from "vitest";
import { parseApiRequest } from "../../../stack/rest/api-request.ts";
import { RestError } from "../../../stack/rest/error.ts";
import { findRel, plan, type Plan } from "../../../stack/rest/plan.ts";
import { ident, mutateQuery, readQuery } from "../../../stack/rest/query.ts";
import { schemaCacheFrom, type Column, type Table } from "../../../stack/rest/schema-cache.ts";

const col = (name: string, type = "uuid", extra: Partial<Column> = {}): Column => ({ name, type, udt: type, nullable: true, generated: false, ...extra });
const table = (name: string, columns: Column[], pk: string[]): Table => ({
  schema: "public", name, isView: false, columns, pk, uniques: [], insertable: true, updatable: true, deletable: true,
});

const cache = schemaCacheFrom(["public"], [
  table("profiles", [col("id"), col("username", "text")], ["id"]),
  table("chats", [col("id"), col("title", "text"), col("created_by")], ["id"]),
  table("chat_members", [col("chat_id"), col("user_id"), col("role", "text")], ["chat_id", "user_id"]),
  table("messages", [col("id"), col("chat_id"), col("author_id"), col("pinned_by"), col("reply_to_id"), col("thread_root_id"), col("body", "text"), col("fts", "tsvector"), col("seq", "bigint")], ["id"]),
], [
  { table: "public.chats", foreign: "public.profiles", name: "chats_created_by_fkey", cols: ["created_by"], fcols: ["id"] },
  { table: "public.chat_members", foreign: "public.chats", name: "chat_members_chat_id_fkey", cols: ["chat_id"], fcols: ["id"] },
  { table: "public.chat_members", foreign: "public.profiles", name: "chat_members_user_id_fkey", cols: ["user_id"], fcols: ["id"] },
  { table: "public.messages", foreign: "public.chats", name: "messages_chat_id_fkey", cols: ["chat_id"], fcols: ["id"] },
  { table: "public.messages", foreign: "public.profiles", name: "messages_author_id_fkey", cols: ["author_id"], fcols: ["id"] },
  { table: "public.messages", foreign: "public.profiles", name: "messages_pinned_by_fkey", cols: ["pinned_by"], fcols: ["id"] },
  { table: "public.messages", foreign: "public.messages", name: "messages_reply_to_id_fkey", cols: ["reply_to_id"], fcols: ["id"] },
  { table: "public.messages", foreign: "public.messages", name: "messages_thread_root_id_fkey", cols: ["thread_root_id"], fcols: ["id"] },
]);

const rel = (origin: string, target: string, hint?: string) => findRel(cache, "public", origin, target, hint);
const failure = (fn: () => unknown) => {
  try {
    fn();
    return "no error";
  } catch (e) {
    if (!(e instanceof RestError)) throw e;
    return `${e.status} ${e.body.code}`;
  }
};
const planOf = async (path: string, init?: RequestInit): Promise<Plan> =>
  plan(cache, await parseApiRequest(new Request(`http://rest${path}`, init), { schemas: ["public"] }), { maxRows: 1000 });

describe("embedding resolution (Plan.hs findRel)", () => {
  it("finds many-to-one by table with a constraint or column hint, and by FK column alone", () => {
    expect(rel("messages", "profiles", "messages_author_id_fkey")).toMatchObject({ cardinality: "M2O", constraint: "messages_author_id_fkey" });
    expect(rel("messages", "profiles", "pinned_by")).toMatchObject({ constraint: "messages_pinned_by_fkey" });
    expect(rel("messages", "author_id")).toMatchObject({ cardinality: "M2O", foreignTable: { name: "profiles" } });
    expect(rel("messages", "messages_chat_id_fkey")).toMatchObject({ cardinality: "M2O", foreignTable: { name: "chats" } });
  });

  it("is ambiguous (300 PGRST201) when two foreign keys lead to the table, and lists the hints", () => {
    try {
      rel("messages", "profiles");
      expect.unreachable();
    } catch (e) {
      const err = e as RestError;
      expect(err.status).toBe(300);
      expect(err.body.code).toBe("PGRST201");
      expect(err.body.hint).toBe("Try changing 'profiles' to one of the following: 'profiles!messages_author_id_fkey', 'profiles!messages_pinned_by_fkey'. Find the desired relationship in the 'details' key.");
      expect(err.body.details).toContainEqual({ cardinality: "many-to-one", embedding: "messages with profiles", relationship: "messages_author_id_fkey using messages(author_id) and profiles(id)" });
    }
  });

  it("resolves self-references by column: the parent by FK column, the children by table!column", () => {
    expect(rel("messages", "reply_to_id")).toMatchObject({ cardinality: "M2O", constraint: "messages_reply_to_id_fkey" });
    expect(rel("messages", "messages", "reply_to_id")).toMatchObject({ cardinality: "O2M", constraint: "messages_reply_to_id_fkey" });
    expect(failure(() => rel("messages", "messages", "messages_reply_to_id_fkey"))).toBe("400 PGRST200");
    expect(failure(() => rel("messages", "messages"))).toBe("300 PGRST201");
  });

  it("finds one-to-many and many-to-many through a junction (chat_members)", () => {
    expect(rel("chats", "messages")).toMatchObject({ cardinality: "O2M" });
    expect(rel("chats", "profiles", "chat_members")).toMatchObject({ cardinality: "M2M", junction: { table: { name: "chat_members" } } });
    expect(rel("chats", "profiles", "chats_created_by_fkey")).toMatchObject({ cardinality: "M2O" });
    expect(failure(() => rel("chats", "profiles"))).toBe("300 PGRST201");
  });

  it("answers an unknown relationship with 400 PGRST200", () => {
    expect(failure(() => rel("profiles", "nothing"))).toBe("400 PGRST200");
  });
});

describe("read plans", () => {
  it("attaches filters, orders and limits to embeds; refuses them on embeds not selected (PGRST108)", async () => {
    const p = await planOf("/messages?select=id,author:profiles!messages_author_id_fkey(username)&author.username=eq.a&author.order=username&author.limit=1");
    if (p.kind !== "read") throw new Error("read plan expected");
    const author = p.read.embeds[0]!;
    expect(author).toMatchObject({ key: "author", toOne: true });
    expect(author.plan.where).toHaveLength(1);
    expect(author.plan.limit).toBe(1);
    await expect(planOf("/messages?select=id&chat.id=eq.1")).rejects.toMatchObject({ body: { code: "PGRST108" } });
  });

  it("allows only is.null / not.is.null on an embed from its parent (PGRST120)", async () => {
    const p = await planOf("/messages?select=id,reply_to_id(id)&reply_to_id=not.is.null");
    if (p.kind !== "read") throw new Error("read plan expected");
    expect(p.read.embeds[0]!.nullFilter).toBe("not_null");
    await expect(planOf("/messages?select=id,reply_to_id(id)&reply_to_id=eq.1")).rejects.toMatchObject({ status: 400, body: { code: "PGRST120" } });
  });

  it("caps the page at max_rows and refuses unknown tables with 404 PGRST205", async () => {
    const p = await planOf("/messages?limit=5000");
    expect(p.kind === "read" && p.read.limit).toBe(1000);
    await expect(planOf("/nothing")).rejects.toMatchObject({ status: 404, body: { code: "PGRST205", message: "Could not find the table 'public.nothing' in the schema cache" } });
  });
});

describe("call plans", () => {
  const fnCache = schemaCacheFrom(["public"], [], [], [
    { schema: "public", name: "echo", args: [{ name: "", type: "jsonb", hasDefault: false, variadic: false }], returns: { kind: "scalar", type: "jsonb", setOf: false }, volatility: "volatile" },
    { schema: "public", name: "add", args: [{ name: "a", type: "integer", hasDefault: false, variadic: false }, { name: "b", type: "integer", hasDefault: true, variadic: false }], returns: { kind: "scalar", type: "integer", setOf: false }, volatility: "immutable" },
    { schema: "public", name: "add", args: [{ name: "x", type: "text", hasDefault: false, variadic: false }], returns: { kind: "scalar", type: "text", setOf: false }, volatility: "stable" },
  ]);
  const callOf = async (path: string, init?: RequestInit) => plan(fnCache, await parseApiRequest(new Request(`http://rest${path}`, init), { schemas: ["public"] }), { maxRows: 1000 });
  const json = (body: unknown): RequestInit => ({ method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

  it("passes the whole body to a single unnamed json/jsonb parameter", async () => {
    const p = await callOf("/rpc/echo", json({ any: ["thing"] }));
    expect(p.kind === "call" && p.call.rawBody).toEqual({ type: "jsonb", value: { any: ["thing"] } });
  });

  it("chooses the overload by argument names, defaults may be left out; read only unless volatile", async () => {
    const p = await callOf("/rpc/add", json({ a: 1 }));
    expect(p.kind === "call" && p.call.args.map((a) => a.name)).toEqual(["a"]);
    expect(p.kind === "call" && p.call.readOnly).toBe(true);
    const g = await callOf("/rpc/add?x=hi");
    expect(g.kind === "call" && g.call.routine.args[0]!.name).toBe("x");
    await expect(callOf("/rpc/add", json({ z: 1 }))).rejects.toMatchObject({ status: 404, body: { code: "PGRST202" } });
    await expect(callOf("/rpc/add", { method: "PATCH" })).rejects.toMatchObject({ status: 405, body: { code: "PGRST101" } });
  });
});

describe("queries", () => {
  it("sends every value as a bind parameter, identifiers quoted", async () => {
    const evil = "x'); drop table messages; --";
    const p = await planOf(`/messages?select=id,body,author:profiles!messages_author_id_fkey(username)&body=eq.${encodeURIComponent(evil)}&or=(seq.gt.1,fts.wfts(english).${encodeURIComponent(evil)})&author.username=in.(a,"b,c")&order=seq.desc.nullslast&limit=3`);
    if (p.kind !== "read") throw new Error("read plan expected");
    const q = readQuery(p.read, { count: true, single: false });
    expect(q.sql).not.toContain(evil);
    expect(q.sql).not.toContain("english");
    expect(q.params).toContain(evil);
    expect(q.params).toContain('{"a","b,c"}');
    expect(q.params).toContain("english");
    expect(q.sql).toContain('"fts" @@ websearch_to_tsquery(');
    expect(q.sql).toContain("nulls last");
  });

  it("quotes identifiers with embedded quotes", () => {
    expect(ident('we"ird')).toBe('"we""ird"');
  });

  it("inserts through jsonb_populate_record and upserts on the primary key", async () => {
    const p = await planOf("/chat_members?columns=%22chat_id%22,%22user_id%22", {
      method: "POST", body: JSON.stringify([{ chat_id: "c", user_id: "u" }]), headers: { "content-type": "application/json", prefer: "resolution=merge-duplicates" },
    });
    if (p.kind !== "mutate") throw new Error("mutate plan expected");
    const q = mutateQuery(p.mutate, { representation: false, count: false, single: false, withPk: false });
    expect(q.sql).toContain('on conflict ("chat_id", "user_id") do update set "chat_id" = excluded."chat_id"');
    expect(q.sql).toContain("returning 1");
    expect(q.params[0]).toBe(JSON.stringify([{ chat_id: "c", user_id: "u" }]));
  });

  it("refuses payload keys that are not columns (400 PGRST204) and differing keys (400 PGRST102)", async () => {
    const post = (body: unknown) => planOf("/profiles", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    await expect(post({ nope: 1 })).rejects.toMatchObject({ status: 400, body: { code: "PGRST204" } });
    await expect(post([{ id: 1 }, { username: "x" }])).rejects.toMatchObject({ status: 400, body: { code: "PGRST102", message: "All object keys must match" } });
  });
});
