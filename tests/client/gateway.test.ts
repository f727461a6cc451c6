// The gateway in front of every service (stack/gateway): routes, CORS and the apikey rewrite, over real HTTP.
import { describe, expect, it } from "vitest";
import { gatewayAuthorization } from "../../stack/gateway/index.ts";
import { stack } from "./support/clients.ts";

const keys = () => ({ ...stack, jwtSecret: stack.jwtSecret });

describe("gateway", () => {
  it("answers /health with OK", async () => {
    const res = await fetch(`${stack.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("OK");
  });

  it("answers a preflight with 204 and allows the headers the browser asks for", async () => {
    const res = await fetch(`${stack.url}/rest/v1/messages`, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:3000", "access-control-request-method": "POST", "access-control-request-headers": "apikey, prefer, range" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")).toBe("apikey, prefer, range");
  });

  it("exposes Content-Range so supabase-js can read counts in a browser", async () => {
    const res = await fetch(`${stack.url}/health`);
    expect(res.headers.get("access-control-expose-headers")).toContain("Content-Range");
  });

  it("answers an unknown route with 404 JSON", async () => {
    const res = await fetch(`${stack.url}/nowhere/v1/x`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ message: "no Route matched with those values" });
  });

  it("swaps the publishable and secret keys for the legacy JWTs and keeps a user's bearer", () => {
    const k = keys();
    const h = (init: Record<string, string>) => new Headers(init);
    expect(gatewayAuthorization(h({ apikey: k.publishableKey }), k)).toBe(`Bearer ${k.anonKey}`);
    expect(gatewayAuthorization(h({ apikey: k.secretKey, authorization: `Bearer ${k.secretKey}` }), k)).toBe(`Bearer ${k.serviceRoleKey}`);
    expect(gatewayAuthorization(h({ apikey: k.publishableKey, authorization: "Bearer user.jwt.token" }), k)).toBe("Bearer user.jwt.token");
    expect(gatewayAuthorization(h({ apikey: k.anonKey }), k)).toBe(`Bearer ${k.anonKey}`);
    expect(gatewayAuthorization(h({}), k)).toBeUndefined();
  });
});
