// The health function, served by scripts/functions-serve.ts exactly as clients reach it:
// http://127.0.0.1:<port>/functions/v1/health with the gateway's JWT check in front, on a real PostgreSQL 15.
//
//   SUPABASE_DB_URL=postgresql://... deno test -A tests/functions/

import assert from "node:assert/strict";
import type { HealthBody } from "../../functions/_shared/health.ts";
import {
  anonJwt,
  closedPort,
  databaseUrl,
  functionPath,
  request,
  type RunningGateway,
  withGateway,
} from "./gateway-process.ts";

const health = { entrypoint: functionPath("functions", "health", "index.ts"), verifyJwt: true };

function withHealth(dbUrl: string, body: (gateway: RunningGateway) => Promise<void>) {
  return withGateway({ functions: { health }, env: { SUPABASE_DB_URL: dbUrl } }, body);
}

Deno.test("health function with a reachable database", async (t) => {
  const dbUrl = databaseUrl();
  await withHealth(dbUrl, async (gateway) => {
    const url = `${gateway.baseUrl}/health`;

    await t.step("GET with a valid anon JWT answers 200 with the PostgreSQL version", async () => {
      const before = Date.now();
      const res = await request(url, { headers: { Authorization: `Bearer ${await anonJwt()}` } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const body = res.body as HealthBody;
      assert.equal(body.status, "ok");
      assert.match(body.database.version, /^PostgreSQL 15\./);
      assert.ok(body.database.server_version_num >= 150000 && body.database.server_version_num < 160000);
      const time = Date.parse(body.time);
      assert.ok(time >= before - 1000 && time <= Date.now() + 1000, `time ${body.time} is not now`);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
    });

    await t.step("a request without Authorization is refused with 401", async () => {
      const res = await request(url);
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, { code: 401, message: "Missing authorization header" });
    });

    await t.step("a JWT signed with another secret is refused with 401", async () => {
      const forged = await anonJwt({}, "not-the-project-secret-not-the-project-secret");
      const res = await request(url, { headers: { Authorization: `Bearer ${forged}` } });
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, { code: 401, message: "Invalid JWT" });
    });

    await t.step("an expired JWT is refused with 401", async () => {
      const now = Math.floor(Date.now() / 1000);
      const expired = await anonJwt({ iat: now - 7200, exp: now - 60 });
      const res = await request(url, { headers: { Authorization: `Bearer ${expired}` } });
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, { code: 401, message: "Invalid JWT" });
    });

    await t.step("an Authorization header that is not a Bearer token is refused with 401", async () => {
      const res = await request(url, { headers: { Authorization: `Basic ${btoa("anon:secret")}` } });
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, { code: 401, message: "Invalid JWT" });
    });

    await t.step("an OPTIONS preflight without a token answers 204 with CORS headers", async () => {
      const res = await request(url, {
        method: "OPTIONS",
        headers: {
          Origin: "http://localhost:3000",
          "Access-Control-Request-Method": "GET",
          "Access-Control-Request-Headers": "authorization, x-client-info, apikey, content-type",
        },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      const allowed = (res.headers.get("access-control-allow-headers") ?? "").split(",").map((h) => h.trim());
      for (const header of ["authorization", "x-client-info", "apikey", "content-type"]) {
        assert.ok(allowed.includes(header), `CORS does not allow ${header}: ${allowed.join(", ")}`);
      }
    });

    await t.step("POST answers 405 with an Allow header", async () => {
      const res = await request(url, { method: "POST", headers: { Authorization: `Bearer ${await anonJwt()}` } });
      assert.equal(res.status, 405);
      assert.equal((res.body as { code: string }).code, "METHOD_NOT_ALLOWED");
      assert.equal(res.headers.get("allow"), "GET, OPTIONS");
    });

    await t.step("an unknown function answers 404 JSON", async () => {
      const res = await request(`${gateway.baseUrl}/no-such-function`, {
        headers: { Authorization: `Bearer ${await anonJwt()}` },
      });
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, { code: "NOT_FOUND", message: "Function not found" });
    });
  });
});

Deno.test("health function answers 503 when the database is unreachable", async () => {
  const unreachable = `postgresql://postgres@127.0.0.1:${closedPort()}/postgres`;
  await withHealth(unreachable, async (gateway) => {
    const headers = { Authorization: `Bearer ${await anonJwt()}` };
    // Twice: the failed connection must not take the function (or the gateway) down with it.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const res = await request(`${gateway.baseUrl}/health`, { headers });
      assert.equal(res.status, 503, `attempt ${attempt}: ${JSON.stringify(res.body)}`);
      assert.equal((res.body as { code: string }).code, "DB_UNAVAILABLE");
    }
  });
});
