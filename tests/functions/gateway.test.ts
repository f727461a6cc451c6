// scripts/functions-serve.ts as a gateway: routing and path rewriting, verify_jwt = false, the functions/.env file,
// failing handlers and modules, the export-default shape, request logs, and refusing to start without JWT_SECRET.
// Uses the fixture functions in tests/functions/fixtures/ (no database needed).

import assert from "node:assert/strict";
import { join } from "node:path";
import { anonJwt, functionPath, repoRoot, request, withGateway } from "./gateway-process.ts";

const fixture = (name: string) => functionPath("tests", "functions", "fixtures", name, "index.ts");

Deno.test("functions gateway", async (t) => {
  const { stdout, stderr } = await withGateway(
    {
      functions: {
        echo: { entrypoint: fixture("echo"), verifyJwt: false },
        "echo-default": { entrypoint: fixture("echo") },
        boom: { entrypoint: fixture("boom"), verifyJwt: false },
        broken: { entrypoint: fixture("broken"), verifyJwt: false },
        "fetch-export": { entrypoint: fixture("fetch-export"), verifyJwt: false },
        disabled: { entrypoint: fixture("echo"), verifyJwt: false, enabled: false },
      },
      env: { ECHO_PRESET: "from the environment" },
      dotEnv: [
        "# local secrets",
        "ECHO_GREETING=\"hello from .env\"",
        "ECHO_PRESET=from the file",
        "SUPABASE_ECHO_RESERVED=should be skipped",
      ].join("\n"),
    },
    async (gateway) => {
      await t.step("a verify_jwt = false function is reachable without a token and sees /<name>/...", async () => {
        const res = await request(`${gateway.baseUrl}/echo/a/b?x=1`, { method: "POST", body: '{"hello":1}' });
        assert.equal(res.status, 200);
        const body = res.body as { method: string; path: string; search: string; body: string };
        assert.equal(body.method, "POST");
        assert.equal(body.path, "/echo/a/b");
        assert.equal(body.search, "?x=1");
        assert.equal(body.body, '{"hello":1}');
      });

      await t.step("functions/.env fills in variables, never overrides the environment or SUPABASE_*", async () => {
        const res = await request(`${gateway.baseUrl}/echo`);
        assert.deepEqual((res.body as { env: unknown }).env, {
          ECHO_GREETING: "hello from .env",
          ECHO_PRESET: "from the environment",
          SUPABASE_ECHO_RESERVED: null,
        });
      });

      await t.step("verify_jwt defaults to true when config.toml omits it", async () => {
        assert.equal((await request(`${gateway.baseUrl}/echo-default`)).status, 401);
        const res = await request(`${gateway.baseUrl}/echo-default`, {
          headers: { Authorization: `Bearer ${await anonJwt()}` },
        });
        assert.equal(res.status, 200);
        assert.equal((res.body as { path: string }).path, "/echo-default");
      });

      await t.step("a handler that throws answers 500 INTERNAL and the gateway keeps serving", async () => {
        const res = await request(`${gateway.baseUrl}/boom`);
        assert.equal(res.status, 500);
        assert.equal((res.body as { code: string }).code, "INTERNAL");
        assert.equal((await request(`${gateway.baseUrl}/echo`)).status, 200);
      });

      await t.step("a function whose module fails to load answers 503 BOOT_ERROR", async () => {
        const res = await request(`${gateway.baseUrl}/broken`);
        assert.equal(res.status, 503);
        assert.equal((res.body as { code: string }).code, "BOOT_ERROR");
      });

      await t.step("a module exporting default { fetch } is served", async () => {
        const res = await request(`${gateway.baseUrl}/fetch-export/x`);
        assert.deepEqual(res.body, { path: "/fetch-export/x", via: "default export" });
      });

      await t.step("unknown and disabled functions and paths outside /functions/v1 answer 404 JSON", async () => {
        for (const name of ["nope", "disabled"]) {
          const res = await request(`${gateway.baseUrl}/${name}`);
          assert.equal(res.status, 404);
          assert.deepEqual(res.body, { code: "NOT_FOUND", message: "Function not found" });
        }
        for (const path of ["/", "/rest/v1/messages", "/functions/v1/", "/functions/v2/echo"]) {
          const res = await request(new URL(path, gateway.baseUrl).href);
          assert.equal(res.status, 404, path);
          assert.equal((res.body as { code: string }).code, "NOT_FOUND", path);
        }
      });
    },
  );

  await t.step("the ready line lists the enabled functions", () => {
    assert.match(stdout, /functions ready on .* \(boom, broken, echo, echo-default, fetch-export\)\n/);
  });

  await t.step("every request is logged as one line with method, path, status and duration", () => {
    assert.match(stdout, /^\S+ POST \/functions\/v1\/echo\/a\/b 200 \d+ms$/m);
    assert.match(stdout, /^\S+ GET \/functions\/v1\/boom 500 \d+ms$/m);
    assert.match(stdout, /^\S+ GET \/functions\/v1\/nope 404 \d+ms$/m);
    assert.doesNotMatch(stdout, /x=1/, "query strings (which may carry tokens) are not logged");
  });

  await t.step("failures are logged with the function's name and the cause", () => {
    assert.match(stderr, /boom threw: Error: boom: this fixture always fails/);
    assert.match(stderr, /broken failed to start: Error: broken: this fixture fails at import time/);
  });
});

Deno.test("functions-serve refuses to start when verify_jwt is on and JWT_SECRET is missing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "functions-serve-test-" });
  try {
    const config = join(dir, "config.toml");
    await Deno.writeTextFile(config, `[functions.echo]\nentrypoint = ${JSON.stringify(fixture("echo"))}\n`);
    const env = { ...Deno.env.toObject(), SUPABASE_CONFIG: config, PORT: "0", NO_COLOR: "1" };
    delete (env as Record<string, string | undefined>).JWT_SECRET;
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/functions-serve.ts"],
      cwd: repoRoot,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(result.code, 1);
    assert.match(new TextDecoder().decode(result.stderr), /JWT_SECRET is not set but verify_jwt is on for: echo/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
