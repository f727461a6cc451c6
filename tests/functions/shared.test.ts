// Unit tests for functions/_shared (jwt, http) and the pure parts of scripts/functions-serve.ts (config, .env).

import assert from "node:assert/strict";
import { z } from "npm:zod@4.6.7";
import { corsHeaders } from "../../functions/_shared/cors.ts";
import { errorResponse, json, parseJsonBody, validationErrorResponse } from "../../functions/_shared/http.ts";
import { JwtError, signJwt, verifyJwt } from "../../functions/_shared/jwt.ts";
import { parseDotEnv, parseFunctionsConfig } from "../../scripts/functions-serve.ts";

// The anon key every `supabase start` prints, signed by the CLI's default local JWT secret: an HS256 token this
// code did not produce.
const LOCAL_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
const LOCAL_ANON_KEY = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." +
  "eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9." +
  "CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";

const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function rejectsWith(promise: Promise<unknown>, reason: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof JwtError && error.reason === reason);
}

Deno.test("jwt: the Supabase CLI's local anon key verifies, and signing its claims reproduces it", async () => {
  const claims = await verifyJwt(LOCAL_ANON_KEY, LOCAL_SECRET);
  assert.deepEqual(claims, { iss: "supabase-demo", role: "anon", exp: 1983812996 });
  assert.equal(await signJwt(claims, LOCAL_SECRET), LOCAL_ANON_KEY);
});

Deno.test("jwt: a token signed with another secret or with an edited payload is rejected", async () => {
  const token = await signJwt({ role: "anon" }, LOCAL_SECRET);
  await rejectsWith(verifyJwt(token, "another-secret-another-secret-another"), "bad_signature");
  const [header, , signature] = token.split(".");
  const edited = `${header}.${b64url({ role: "service_role" })}.${signature}`;
  await rejectsWith(verifyJwt(edited, LOCAL_SECRET), "bad_signature");
});

Deno.test("jwt: alg none and other algorithms are rejected before the signature is looked at", async () => {
  const payload = b64url({ role: "service_role" });
  const unsigned = `${b64url({ alg: "none", typ: "JWT" })}.${payload}.`;
  await rejectsWith(verifyJwt(unsigned, LOCAL_SECRET), "unsupported_algorithm");
  await rejectsWith(verifyJwt(`${b64url({ alg: "RS256" })}.${payload}.c2ln`, LOCAL_SECRET), "unsupported_algorithm");
});

Deno.test("jwt: exp and nbf are enforced against the clock", async () => {
  const token = await signJwt({ role: "anon", nbf: 1_000, exp: 2_000 }, LOCAL_SECRET);
  assert.equal((await verifyJwt(token, LOCAL_SECRET, { nowSeconds: 1_500 })).role, "anon");
  await rejectsWith(verifyJwt(token, LOCAL_SECRET, { nowSeconds: 2_000 }), "expired");
  await rejectsWith(verifyJwt(token, LOCAL_SECRET, { nowSeconds: 999 }), "not_yet_valid");
  const textExp = await signWithPayload(b64url({ exp: "2000" }));
  await rejectsWith(verifyJwt(textExp, LOCAL_SECRET, { nowSeconds: 1_500 }), "malformed");
});

Deno.test("jwt: malformed tokens are rejected as malformed", async () => {
  for (const token of ["", "abc", "a.b", "a.b.c.d", "!!!.e30.sig", `${b64url({ alg: "HS256" })}.e30.!!!`]) {
    await rejectsWith(verifyJwt(token, LOCAL_SECRET), "malformed");
  }
  // Correctly signed, but the payload is not JSON ("not json") or not an object ([1]).
  for (const payload of ["bm90IGpzb24", "WzFd"]) {
    await rejectsWith(verifyJwt(await signWithPayload(payload), LOCAL_SECRET), "malformed");
  }
});

async function signWithPayload(payloadSegment: string): Promise<string> {
  const header = b64url({ alg: "HS256", typ: "JWT" });
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(LOCAL_SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${header}.${payloadSegment}`)),
  );
  const signature = btoa(String.fromCharCode(...mac)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${header}.${payloadSegment}.${signature}`;
}

Deno.test("config: enabled functions, entrypoints relative to the supabase dir, verify_jwt defaults to true", () => {
  const functions = parseFunctionsConfig(
    [
      "[api]",
      "port = 54321",
      "[functions.health]",
      "enabled = true",
      "verify_jwt = true",
      'entrypoint = "../functions/health/index.ts"',
      "[functions.notify]",
      "verify_jwt = false",
      'entrypoint = "../functions/notify/index.ts"',
      "[functions.scan]",
      "[functions.off]",
      "enabled = false",
    ].join("\n"),
    "/repo/supabase",
  );
  assert.deepEqual(functions, [
    { name: "health", entrypoint: "/repo/functions/health/index.ts", verifyJwt: true },
    { name: "notify", entrypoint: "/repo/functions/notify/index.ts", verifyJwt: false },
    { name: "scan", entrypoint: "/repo/supabase/functions/scan/index.ts", verifyJwt: true },
  ]);
  assert.deepEqual(parseFunctionsConfig("[db]\nport = 1\n", "/repo/supabase"), []);
});

Deno.test("config: bad function names and wrongly typed keys are refused", () => {
  assert.throws(() => parseFunctionsConfig('[functions."../x"]\n', "/s"), /invalid function name/);
  assert.throws(
    () => parseFunctionsConfig('[functions.x]\nverify_jwt = "no"\n', "/s"),
    /invalid \[functions\] section/,
  );
});

Deno.test(".env: comments, export, quoting and escapes", () => {
  const vars = parseDotEnv([
    "# comment",
    "",
    "PLAIN=value with spaces  # trailing comment",
    "export EXPORTED=1",
    "SINGLE='literal \\n # not a comment'",
    'DOUBLE="line1\\nline2 \\"quoted\\""',
    "EMPTY=",
    "URL=postgresql://u:p@h:5432/db?sslmode=disable#frag",
  ].join("\n"));
  assert.deepEqual(Object.fromEntries(vars), {
    PLAIN: "value with spaces",
    EXPORTED: "1",
    SINGLE: "literal \\n # not a comment",
    DOUBLE: 'line1\nline2 "quoted"',
    EMPTY: "",
    URL: "postgresql://u:p@h:5432/db?sslmode=disable#frag",
  });
  assert.throws(() => parseDotEnv("not a pair"), /line 1 is not KEY=value/);
});

Deno.test("http: JSON and error responses carry CORS headers and the {code, message, hint} shape", async () => {
  const ok = json({ a: 1 }, 201, { "Cache-Control": "no-store" });
  assert.equal(ok.status, 201);
  assert.equal(ok.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(ok.headers.get("cache-control"), "no-store");
  for (const [name, value] of Object.entries(corsHeaders)) assert.equal(ok.headers.get(name), value);
  assert.deepEqual(await ok.json(), { a: 1 });

  const error = errorResponse(409, "CONFLICT", "Already there", "Use another name");
  assert.equal(error.status, 409);
  assert.deepEqual(await error.json(), { code: "CONFLICT", message: "Already there", hint: "Use another name" });
  assert.deepEqual(await errorResponse(400, "X", "y").json(), { code: "X", message: "y" });
});

Deno.test("http: a zod failure becomes 400 INVALID_INPUT naming the field", async () => {
  const schema = z.object({ chat_id: z.uuid(), body: z.string().min(1) });
  const result = schema.safeParse({ chat_id: "nope", body: "" });
  assert.ok(!result.success);
  const response = validationErrorResponse(result.error);
  assert.equal(response.status, 400);
  const body = await response.json() as { code: string; message: string; details: { path: string[] }[] };
  assert.equal(body.code, "INVALID_INPUT");
  assert.match(body.message, /^chat_id: .+; body: .+/);
  assert.deepEqual(body.details.map((issue) => issue.path), [["chat_id"], ["body"]]);
});

Deno.test("http: parseJsonBody returns the data, or 400 for a body that is not JSON or fails the schema", async () => {
  const schema = z.object({ n: z.number().int() });
  const post = (body: string) => new Request("http://localhost/f", { method: "POST", body });

  const good = await parseJsonBody(post('{"n": 3}'), schema);
  assert.ok(good.ok);
  assert.deepEqual(good.data, { n: 3 });

  const notJson = await parseJsonBody(post("{"), schema);
  assert.ok(!notJson.ok);
  assert.equal(notJson.response.status, 400);
  assert.equal((await notJson.response.json()).code, "INVALID_JSON");

  const invalid = await parseJsonBody(post('{"n": 1.5}'), schema);
  assert.ok(!invalid.ok);
  assert.equal((await invalid.response.json()).code, "INVALID_INPUT");
});
