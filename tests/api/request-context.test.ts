import { afterAll, describe, expect, it } from "vitest";
import { ANON, SERVICE_ROLE, createUser, request, sql, sqlstate } from "./support/db.ts";

afterAll(() => sql.end());

describe("the PostgREST request context", () => {
  it("exposes the access token's claims to auth.uid() and auth.jwt()", async () => {
    const alice = await createUser("ctx_alice");
    const row = await request(alice.claims, async (tx) => {
      const [r] = await tx`select auth.uid() as uid, auth.jwt() ->> 'role' as role, current_user as "user",
                                  auth.jwt() ->> 'aal' as aal`;
      return r;
    }, { method: "GET" });
    expect(row).toEqual({ uid: alice.id, role: "authenticated", user: "authenticated", aal: "aal1" });
  });

  it("applies the role's own settings, such as anon's 3 second statement timeout", async () => {
    const timeout = await request(ANON, async (tx) => (await tx`show statement_timeout`)[0]?.statement_timeout, {
      method: "GET",
    });
    expect(timeout).toBe("3s");
  });

  it("runs GET requests read only", async () => {
    const code = await sqlstate(
      request(SERVICE_ROLE, (tx) => tx`select net.http_post('http://127.0.0.1:9/x')`, { method: "GET" }),
    );
    expect(code).toBe("25006");
  });

  it("rolls back everything a failing request wrote", async () => {
    const before = Number((await sql`select count(*) as n from net.http_request_queue`)[0]?.n);
    const code = await sqlstate(
      request(SERVICE_ROLE, async (tx) => {
        await tx`select net.http_post('http://127.0.0.1:9/x')`;
        await tx`select 1 / 0`;
      }),
    );
    const after = Number((await sql`select count(*) as n from net.http_request_queue`)[0]?.n);
    expect(code).toBe("22012");
    expect(after).toBe(before);
  });

  it("keeps schema private out of reach of API roles", async () => {
    const alice = await createUser("ctx_private");
    expect(await sqlstate(request(ANON, (tx) => tx`select * from private.rate_counters`))).toBe("42501");
    expect(await sqlstate(request(alice.claims, (tx) => tx`select * from private.rate_counters`))).toBe("42501");
    expect(await sqlstate(request(alice.claims, (tx) => tx`select private.derive_username('x', 'y@z')`))).toBe("42501");
  });

  it("refuses auth.users to authenticated users", async () => {
    const alice = await createUser("ctx_auth");
    expect(await sqlstate(request(alice.claims, (tx) => tx`select id from auth.users`))).toBe("42501");
  });
});
