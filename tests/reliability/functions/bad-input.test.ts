// Bad input against every edge function in supabase/config.toml, served by scripts/functions-serve.ts as clients
// reach them: property-based requests (fast-check, fixed seed) with wrong methods, missing, malformed, forged,
// expired and unsigned JWTs, malformed and huge bodies, odd paths and content types. Every answer is below 500
// (only 4xx, or a documented 2xx), a 4xx carries a JSON body, and a refused request changes nothing in the database.
// RELIABILITY_SCALE=soak (`npm run soak`) sends many more requests.
//
//   SUPABASE_DB_URL=postgresql://... deno test -A tests/reliability/functions/

import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import fc from "npm:fast-check@4.10.2";
import postgres from "npm:postgres@3.4.9";
import { parse as parseToml } from "npm:smol-toml@1.9.1";
import { signJwt } from "../../../functions/_shared/jwt.ts";
import { closedPort, databaseUrl, jwtSecret, repoRoot, withGateway, type FunctionEntry } from "../../functions/gateway-process.ts";

const SOAK = Deno.env.get("RELIABILITY_SCALE") === "soak";
const RUNS = SOAK ? 1500 : 60;
const SEED = 20261124;

/** The enabled functions of supabase/config.toml, with entrypoints resolved like the gateway does. */
function configuredFunctions(): Record<string, FunctionEntry> {
  const configPath = join(repoRoot, "supabase", "config.toml");
  const config = parseToml(Deno.readTextFileSync(configPath)) as { functions?: Record<string, { enabled?: boolean; verify_jwt?: boolean; entrypoint?: string }> };
  const out: Record<string, FunctionEntry> = {};
  for (const [name, fn] of Object.entries(config.functions ?? {})) {
    if (fn.enabled === false) continue;
    out[name] = {
      entrypoint: resolve(dirname(configPath), fn.entrypoint ?? `./functions/${name}/index.ts`),
      ...(fn.verify_jwt === undefined ? {} : { verifyJwt: fn.verify_jwt }),
    };
  }
  return out;
}

/** Row counts and an md5 of every row of the schemas a function could write to. */
async function fingerprint(sql: postgres.Sql): Promise<string> {
  const tables = await sql<{ name: string }[]>`
    select format('%I.%I', n.nspname, c.relname) as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and n.nspname in ('public', 'private', 'auth', 'storage', 'realtime')
     order by 1`;
  if (tables.length === 0) return "";
  // Sorted: a union all may come back in any order (a parallel append does).
  const rows = await sql.unsafe<{ fp: string }[]>(
    "select fp from (" +
    tables.map((t) => `select '${t.name}:' || count(*) || ':' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '') as fp from ${t.name} x`)
      .join(" union all ") + ") f order by fp collate \"C\"",
  );
  return rows.map((r) => r.fp).join("\n");
}

/** fetch() that always reads the body; `json` is true when the body is parseable JSON. */
async function send(url: string, init: RequestInit): Promise<{ status: number; headers: Headers; text: string; json: boolean }> {
  const response = await fetch(url, init);
  const text = await response.text();
  let json = false;
  try {
    JSON.parse(text);
    json = true;
  } catch {
    json = false;
  }
  return { status: response.status, headers: response.headers, text, json };
}

const b64url = (s: string) => btoa(s).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
const now = () => Math.floor(Date.now() / 1000);

async function authHeaders(): Promise<Record<string, string | null>> {
  const user = { sub: crypto.randomUUID(), role: "authenticated", aud: "authenticated", iat: now(), exp: now() + 3600 };
  return {
    none: null,
    garbage: "Bearer not.a.jwt",
    empty: "Bearer ",
    basic: "Basic dXNlcjpwYXNz",
    wrongSecret: `Bearer ${await signJwt(user, "another-secret-that-is-at-least-32-characters")}`,
    expired: `Bearer ${await signJwt({ ...user, iat: now() - 7200, exp: now() - 3600 }, jwtSecret)}`,
    unsigned: `Bearer ${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(user))}.`,
    anon: `Bearer ${await signJwt({ iss: "supabase-demo", role: "anon", iat: now(), exp: now() + 3600 }, jwtSecret)}`,
    user: `Bearer ${await signJwt(user, jwtSecret)}`,
    service: `Bearer ${await signJwt({ iss: "supabase-demo", role: "service_role", iat: now(), exp: now() + 3600 }, jwtSecret)}`,
  };
}

Deno.test("edge functions answer bad input with 4xx (or a documented 2xx), never 5xx, and write nothing", async () => {
  const functions = configuredFunctions();
  assert.ok(Object.keys(functions).length > 0, "supabase/config.toml lists no functions");
  const dbUrl = databaseUrl();
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const auth = await authHeaders();
  try {
    await withGateway(
      {
        functions,
        env: {
          SUPABASE_DB_URL: dbUrl,
          SUPABASE_URL: "http://127.0.0.1:54321",
          SUPABASE_ANON_KEY: auth.anon!.slice("Bearer ".length),
          SUPABASE_SERVICE_ROLE_KEY: auth.service!.slice("Bearer ".length),
          CLAMD_HOST: "127.0.0.1",
          CLAMD_PORT: String(closedPort()),
        },
      },
      async (gateway) => {
        const huge = "x".repeat(3 * 1024 * 1024);
        const body = fc.oneof(
          fc.constant(undefined),
          fc.constantFrom("{", "not json", "[1,2", "null", "\u0000\u0001binary", '{"a":', "{}".repeat(1000)),
          fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
          fc.constant(huge),
          fc.string({ unit: "binary", maxLength: 200 }),
        );
        const request$ = fc.record({
          fn: fc.constantFrom(...Object.keys(functions)),
          method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"),
          auth: fc.constantFrom(...Object.keys(auth)),
          suffix: fc.constantFrom("", "/", "/x", "/%2e%2e/etc/passwd", "?a=1&a=2", "/deep/er/path?x=%ff"),
          contentType: fc.constantFrom(undefined, "application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"),
          body,
        });
        let before = await fingerprint(sql);
        let count = 0;
        await fc.assert(
          fc.asyncProperty(request$, async (r) => {
            count++;
            const headers: Record<string, string> = {};
            if (auth[r.auth]) headers.Authorization = auth[r.auth]!;
            if (r.contentType) headers["Content-Type"] = r.contentType;
            const sendsBody = r.body !== undefined && r.method !== "GET" && r.method !== "HEAD";
            const res = await send(`${gateway.baseUrl}/${r.fn}${r.suffix}`, {
              method: r.method,
              headers,
              ...(sendsBody ? { body: r.body } : {}),
            });
            const label = `${r.method} /${r.fn}${r.suffix} auth=${r.auth} body=${String(r.body).slice(0, 40)}`;
            assert.ok(res.status < 500, `${label} answered ${res.status}: ${res.text.slice(0, 300)}`);
            if (res.status >= 400) {
              if (r.method !== "HEAD") {
                assert.ok(res.headers.get("content-type")?.includes("application/json") && res.json, `${label}: ${res.status} without a JSON body`);
              }
              const after = await fingerprint(sql);
              assert.equal(after, before, `${label} was refused with ${res.status} but changed the database`);
            } else {
              before = await fingerprint(sql);
            }
          }),
          { seed: SEED, numRuns: RUNS, endOnFailure: true },
        );
        assert.equal(count >= RUNS, true);
      },
    );
  } finally {
    await sql.end();
  }
});
