// Stage 1 on its own: query strings and headers as postgrest-js sends them -> the typed request.
import { describe, expect, it } from "vitest";
import { parseApiRequest, parseList, parseLogic, parseOperation, parseOrder, parsePrefer, parseSelect } from "../../../stack/rest/api-request.ts";
import { RestError } from "../../../stack/rest/error.ts";

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof RestError ? `${e.status} ${e.body.code}` : String(e);
  }
  return "no error";
};

describe("select", () => {
  it("parses columns, aliases, casts and JSON paths", () => {
    expect(parseSelect("id,title:body,seq::text,metadata->a->>b,metadata->0")).toEqual([
      { type: "column", field: { name: "id", json: [] } },
      { type: "column", field: { name: "body", json: [] }, alias: "title" },
      { type: "column", field: { name: "seq", json: [] }, cast: "text" },
      { type: "column", field: { name: "metadata", json: [{ arrow: "->", key: "a" }, { arrow: "->>", key: "b" }] } },
      { type: "column", field: { name: "metadata", json: [{ arrow: "->", key: 0 }] } },
    ]);
  });

  it("parses embeds with alias, hint, join type, nesting and spread", () => {
    expect(parseSelect("*,author:profiles!messages_author_id_fkey!inner(username),chat:chats(id,members:chat_members(user_id)),...reply_to_id(body)")).toEqual([
      { type: "star" },
      { type: "embed", name: "profiles", alias: "author", hint: "messages_author_id_fkey", joinType: "inner", spread: false,
        select: [{ type: "column", field: { name: "username", json: [] } }] },
      { type: "embed", name: "chats", alias: "chat", spread: false, select: [
        { type: "column", field: { name: "id", json: [] } },
        { type: "embed", name: "chat_members", alias: "members", spread: false, select: [{ type: "column", field: { name: "user_id", json: [] } }] },
      ] },
      { type: "embed", name: "reply_to_id", spread: true, select: [{ type: "column", field: { name: "body", json: [] } }] },
    ]);
  });

  it("ignores whitespace outside quotes and keeps quoted names", () => {
    expect(parseSelect(' id , "odd name" ')).toEqual([
      { type: "column", field: { name: "id", json: [] } },
      { type: "column", field: { name: "odd name", json: [] } },
    ]);
  });

  it("refuses aggregates with 400 PGRST123, as Supabase runs PostgREST with aggregates disabled", () => {
    expect(code(() => parseSelect("count()"))).toBe("400 PGRST123");
    expect(code(() => parseSelect("seq.sum()"))).toBe("400 PGRST123");
  });

  it("refuses a malformed select with 400 PGRST100", () => {
    expect(code(() => parseSelect("id,author(username"))).toBe("400 PGRST100");
    expect(code(() => parseSelect("id::text;drop"))).toBe("400 PGRST100");
  });
});

describe("filters", () => {
  it("parses simple operators and negation", () => {
    expect(parseOperation("eq.5")).toEqual({ negated: false, operation: { op: "eq", value: "5" } });
    expect(parseOperation("not.like.*abc*")).toEqual({ negated: true, operation: { op: "like", value: "*abc*" } });
    expect(parseOperation("isdistinct.x")).toEqual({ negated: false, operation: { op: "isdistinct", value: "x" } });
  });

  it("parses in lists with quoted values", () => {
    expect(parseOperation('in.(1,"a,b","say \\"hi\\"",  c )')).toEqual({ negated: false, operation: { op: "in", values: ["1", "a,b", 'say "hi"', "c"] } });
    expect(parseList("()", "(", ")", "in")).toEqual([]);
  });

  it("parses is, any/all modifiers and full-text search with a config", () => {
    expect(parseOperation("is.NULL").operation).toEqual({ op: "is", value: "null" });
    expect(parseOperation("not.is.not_null")).toEqual({ negated: true, operation: { op: "is", value: "not_null" } });
    expect(parseOperation("like(any).{a*,*b}").operation).toEqual({ op: "like", value: "{a*,*b}", quantifier: "any", values: ["a*", "*b"] });
    expect(parseOperation("gt(all).{1,2}").operation).toMatchObject({ quantifier: "all", values: ["1", "2"] });
    expect(parseOperation("fts(english).cat & dog").operation).toEqual({ op: "fts", config: "english", value: "cat & dog" });
    expect(parseOperation("wfts.hello world").operation).toEqual({ op: "wfts", value: "hello world" });
  });

  it("refuses unknown operators, bad is values and modifiers on operators without them", () => {
    expect(code(() => parseOperation("equals.5"))).toBe("400 PGRST100");
    expect(code(() => parseOperation("is.maybe"))).toBe("400 PGRST100");
    expect(code(() => parseOperation("cs(any).{1}"))).toBe("400 PGRST100");
  });
});

describe("logic trees", () => {
  it("parses nested and/or/not trees with quoted values and lists", () => {
    const tree = parseLogic("or", false, '(seq.gt.5,and(body.ilike.*hi*,not.or(kind.eq.text,kind.in.("a,b",c))),metadata->>x.eq."a,b")', "or");
    expect(tree).toEqual({
      type: "logic", op: "or", negated: false, children: [
        { type: "filter", filter: { field: { name: "seq", json: [] }, negated: false, operation: { op: "gt", value: "5" } } },
        { type: "logic", op: "and", negated: false, children: [
          { type: "filter", filter: { field: { name: "body", json: [] }, negated: false, operation: { op: "ilike", value: "*hi*" } } },
          { type: "logic", op: "or", negated: true, children: [
            { type: "filter", filter: { field: { name: "kind", json: [] }, negated: false, operation: { op: "eq", value: "text" } } },
            { type: "filter", filter: { field: { name: "kind", json: [] }, negated: false, operation: { op: "in", values: ["a,b", "c"] } } },
          ] },
        ] },
        { type: "filter", filter: { field: { name: "metadata", json: [{ arrow: "->>", key: "x" }] }, negated: false, operation: { op: "eq", value: '"a,b"' } } },
      ],
    });
  });

  it("parses negated filters inside trees", () => {
    expect(parseLogic("and", true, "(a.not.is.null)", "not.and")).toEqual({
      type: "logic", op: "and", negated: true,
      children: [{ type: "filter", filter: { field: { name: "a", json: [] }, negated: true, operation: { op: "is", value: "null" } } }],
    });
  });
});

describe("order and Prefer", () => {
  it("parses order terms with direction, nulls placement and related orders", () => {
    expect(parseOrder("seq.desc.nullslast,created_at,author(username).asc.nullsfirst")).toEqual([
      { field: { name: "seq", json: [] }, direction: "desc", nulls: "last" },
      { field: { name: "created_at", json: [] } },
      { field: { name: "username", json: [] }, relation: "author", direction: "asc", nulls: "first" },
    ]);
  });

  it("parses Prefer and keeps what it does not know for handling=strict", () => {
    const p = parsePrefer(["return=representation,count=exact, resolution=merge-duplicates,missing=default,max-affected=3,params=single-object"]);
    expect(p).toMatchObject({ return: "representation", count: "exact", resolution: "merge-duplicates", missing: "default", maxAffected: 3 });
    expect(p.invalid).toEqual(["params=single-object"]);
  });
});

describe("the request", () => {
  const opts = { schemas: ["public", "graphql_public"] };
  const req = (path: string, init?: RequestInit) => parseApiRequest(new Request(`http://rest${path}`, init), opts);

  it("sorts parameters into select, filters on embeds, logic, order, limits and ranges", async () => {
    const r = await req("/messages?select=id,author(id)&chat_id=eq.1&author.username=like.a*&author.or=(a.eq.1)&order=seq.desc&author.limit=2&limit=10&offset=5&on_conflict=a,b&columns=%22a%22,%22b%22");
    expect(r.target).toEqual({ kind: "table", name: "messages" });
    expect(r.params.map((p) => [p.path, p.key, p.filter?.operation.op])).toEqual([[[], "chat_id", "eq"], [["author"], "author.username", "like"]]);
    expect(r.logic[0]!.path).toEqual(["author"]);
    expect(r.limits).toEqual([{ path: ["author"], value: 2 }, { path: [], value: 10 }]);
    expect(r.offsets).toEqual([{ path: [], value: 5 }]);
    expect(r.onConflict).toEqual(["a", "b"]);
    expect(r.columns).toEqual(["a", "b"]);
  });

  it("reads rpc targets, the Range header and the singular Accept", async () => {
    const r = await req("/rpc/get_chat_messages?chat_id=abc", { headers: { range: "0-9", accept: "application/vnd.pgrst.object+json" } });
    expect(r.target).toEqual({ kind: "rpc", name: "get_chat_messages" });
    expect(r.range).toEqual({ from: 0, to: 9 });
    expect(r.accept).toBe("object");
    expect(r.params[0]).toMatchObject({ key: "chat_id", value: "abc" });
    expect(r.params[0]!.filter).toBeUndefined();
  });

  it("refuses a schema that is not exposed with 406 PGRST106", async () => {
    await expect(req("/messages", { headers: { "accept-profile": "private" } })).rejects.toMatchObject({ status: 406, body: { code: "PGRST106", message: "Invalid schema: private" } });
  });

  it("refuses an unknown media type with 406 PGRST107 and bad JSON with 400 PGRST102", async () => {
    await expect(req("/messages", { headers: { accept: "application/xml" } })).rejects.toMatchObject({ status: 406, body: { code: "PGRST107" } });
    await expect(req("/messages", { method: "POST", body: "{bad", headers: { "content-type": "application/json" } })).rejects.toMatchObject({ status: 400, body: { code: "PGRST102" } });
  });

  it("refuses invalid preferences with handling=strict (400 PGRST122)", async () => {
    await expect(req("/messages", { headers: { prefer: "handling=strict, nonsense=1" } })).rejects.toMatchObject({ status: 400, body: { code: "PGRST122" } });
  });
});
