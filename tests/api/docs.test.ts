// The docs are part of the contract: every RPC a client can call is documented with its supabase-js call, every
// SQLSTATE our migrations raise is in the error catalogue, and every file the docs point at is in the repository.
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { sql } from "./support/db.ts";

afterAll(() => sql.end());

const root = path.resolve(import.meta.dirname, "..", "..");
const read = (p: string) => readFileSync(path.join(root, p), "utf8");
const gitIgnored = (p: string) => spawnSync("git", ["check-ignore", "-q", "--no-index", p], { cwd: root }).status === 0;

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

  it("docs/ and the README point only at files in the repository", () => {
    const pages = ["README.md", ...readdirSync(path.join(root, "docs"), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
    const topLevel = new Set(readdirSync(root).filter((f) => f !== ".local" && f !== "node_modules"));
    const problems: string[] = [];
    for (const page of pages) {
      const text = read(page);
      const dir = path.dirname(path.join(root, page));
      // A path on the machine the docs were written on means nothing to a reader of the repository.
      for (const m of text.matchAll(/(?:\/work\/|\/root\/|\/home\/|\.\.\/shared\/|file:\/\/)[^\s`)]*/g)) problems.push(`${page}: ${m[0]}`);
      // Relative links must resolve.
      for (const m of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target)) continue;
        if (!existsSync(path.resolve(dir, target))) problems.push(`${page}: link ${target}`);
      }
      // Repository paths in code spans (`functions/_shared/http.ts`); a git-ignored path is output a command writes
      // (`bench/results/latest.json`), and patterns (`functions/<name>/index.ts`) do not match.
      for (const m of text.matchAll(/`([\w.-]+(?:\/[\w.@-]+)+\/?)`/g)) {
        const p = m[1]!;
        if (!topLevel.has(p.split("/")[0]!)) continue;
        if (!existsSync(path.join(root, p)) && !gitIgnored(p)) problems.push(`${page}: ${p}`);
      }
      // pgTAP files named on their own (`23-history-depth.test.sql`).
      for (const m of text.matchAll(/`(\d\d-[\w-]+\.test\.sql)`/g)) {
        if (!existsSync(path.join(root, "supabase", "tests", "database", m[1]!))) problems.push(`${page}: ${m[1]}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe("pgTAP files", () => {
  it("every supabase/tests/database file is NN-topic.test.sql with a number of its own", () => {
    const files = readdirSync(path.join(root, "supabase", "tests", "database")).filter((f) => f.endsWith(".sql"));
    expect(files.filter((f) => !/^\d\d-[a-z0-9-]+\.test\.sql$/.test(f))).toEqual([]);
    const numbers = files.map((f) => f.slice(0, 2));
    expect(numbers.filter((n, i) => numbers.indexOf(n) !== i)).toEqual([]);
  });
});
