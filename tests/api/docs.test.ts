// The docs are part of the contract: every RPC a client can call is documented with its supabase-js call, and every
// SQLSTATE our migrations raise is in the error catalogue.
import { afterAll, describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { sql } from "./support/db.ts";

afterAll(() => sql.end());

const root = path.resolve(import.meta.dirname, "..", "..");
const read = (p: string) => readFileSync(path.join(root, p), "utf8");

describe("docs", () => {
  it("docs/api.md shows the supabase-js call of every RPC clients may execute", async () => {
    const rows = await sql<{ name: string }[]>`
      select distinct p.proname as name
        from pg_proc p
       where p.pronamespace = 'public'::regnamespace
         and (has_function_privilege('authenticated', p.oid, 'execute') or has_function_privilege('anon', p.oid, 'execute'))
       order by 1`;
    expect(rows.length).toBeGreaterThan(20);
    const api = read("docs/api.md");
    const missing = rows.map((r) => r.name).filter((name) => !api.includes(`rpc('${name}'`) && !api.includes(`rpc("${name}"`));
    expect(missing).toEqual([]);
  });

  it("docs/errors.md lists every SQLSTATE the migrations raise", () => {
    const dir = path.join(root, "supabase", "migrations");
    const codes = new Set<string>();
    for (const file of readdirSync(dir)) {
      for (const m of read(path.join("supabase", "migrations", file)).matchAll(/errcode = '([0-9A-Z]{5})'/g)) codes.add(m[1]!);
    }
    const errors = read("docs/errors.md");
    expect([...codes].filter((c) => !errors.includes(c))).toEqual([]);
  });
});
