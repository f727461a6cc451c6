// The schema cache on this project's real catalogs, and the response and error stages on their own.
import { describe, expect, it } from "vitest";
import { fromPgError, sqlStateStatus } from "../../../stack/rest/error.ts";
import { contentRange, rangeStatus, toCsv } from "../../../stack/rest/response.ts";
import { loadSchemaCache } from "../../../stack/rest/schema-cache.ts";
import { db } from "../support/users.ts";

describe("schema cache (from the catalogs)", () => {
  it("knows the exposed tables, keys, relationships and functions, and nothing of schema private", async () => {
    const cache = await loadSchemaCache(db(), ["public", "graphql_public"]);
    const messages = cache.tables.get("public.messages")!;
    expect(messages.pk).toEqual(["id"]);
    expect(messages.columns.find((c) => c.name === "mentions")).toMatchObject({ type: "uuid[]" });
    expect([...cache.tables.keys()].some((k) => k.startsWith("private."))).toBe(false);
    const rels = cache.relationships.get("public.messages")!;
    const self = rels.filter((r) => r.isSelf).map((r) => `${r.cardinality} ${r.constraint}`).sort();
    expect(self).toContain("M2O messages_reply_to_id_fkey");
    expect(self).toContain("O2M messages_reply_to_id_fkey");
    const chatsToProfiles = cache.relationships.get("public.chats")!.filter((r) => r.foreignTable.name === "profiles");
    expect(chatsToProfiles.map((r) => `${r.cardinality} ${r.constraint}`).sort()).toEqual(
      expect.arrayContaining(["M2M chat_members", "M2M chat_bans", "M2O chats_created_by_fkey"]));
    const send = cache.routines.get("public.send_message")![0]!;
    expect(send.volatility).toBe("volatile");
    expect(send.returns).toMatchObject({ kind: "composite", setOf: false, relation: { schema: "public", name: "messages" } });
    expect(send.args.find((a) => a.name === "chat_id")).toMatchObject({ type: "uuid", hasDefault: false });
    const page = cache.routines.get("public.get_chat_messages")![0]!;
    expect(page.returns).toMatchObject({ kind: "composite", setOf: true });
  });
});

describe("response", () => {
  it("formats Content-Range and picks 200/206/416 as RangeQuery.hs does", () => {
    expect(contentRange(0, 14, undefined)).toBe("0-14/*");
    expect(contentRange(0, -1, 0)).toBe("*/0");
    expect(contentRange(1, 0, 5)).toBe("*/5");
    expect(rangeStatus(0, 10, undefined)).toEqual({ status: 200, range: "0-9/*" });
    expect(rangeStatus(0, 10, 25)).toEqual({ status: 206, range: "0-9/25" });
    expect(rangeStatus(0, 25, 25)).toEqual({ status: 200, range: "0-24/25" });
    expect(rangeStatus(30, 0, 25)).toEqual({ status: 416, range: "*/25" });
  });

  it("writes CSV with a header and quoting", () => {
    expect(toCsv(JSON.stringify([{ a: 1, b: 'x,"y"', c: null, d: { e: 1 } }]))).toBe('a,b,c,d\n1,"x,""y""",,"{""e"":1}"');
    expect(toCsv("[]")).toBe("");
  });
});

describe("errors", () => {
  it("maps SQLSTATEs to HTTP statuses as Error.hs mapSQLtoHTTP does", () => {
    const s = (code: string, message = "", authed = true) => sqlStateStatus(code, message, authed);
    expect(s("42501", "", false)).toBe(401);
    expect(s("42501")).toBe(403);
    expect(s("23505")).toBe(409);
    expect(s("23503")).toBe(409);
    expect(s("25006")).toBe(405);
    expect(s("21000", "UPDATE requires a WHERE clause")).toBe(400);
    expect(s("21000", "more than one row returned by a subquery used as an expression")).toBe(500);
    expect(s("22023", 'role "x" does not exist')).toBe(401);
    expect(s("22023", "too long")).toBe(400);
    expect(s("PT404")).toBe(404);
    expect(s("PT429")).toBe(429);
    expect(s("P0001")).toBe(400);
    expect(s("P0002")).toBe(500);
    expect(s("42P01")).toBe(404);
    expect(s("42883")).toBe(404);
    expect(s("08006")).toBe(503);
    expect(s("57014")).toBe(500);
    expect(s("23514")).toBe(400);
  });

  it("reads raise sqlstate 'PGRST' with JSON message and detail", () => {
    const err = fromPgError({ code: "PGRST", message: JSON.stringify({ code: "123", message: "custom", hint: "h" }), detail: JSON.stringify({ status: 418, headers: { "x-a": "b" } }) }, true);
    expect(err.status).toBe(418);
    expect(err.body).toEqual({ code: "123", message: "custom", details: null, hint: "h" });
    expect(err.headers).toEqual({ "x-a": "b" });
  });
});
