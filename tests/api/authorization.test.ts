// Authorization on every path (issue 21, item 2): every function in `public` that `authenticated` may execute, taken
// from the catalog, is called once as a member (it must succeed), then the member's state changes (removed, banned,
// blocked by the other party) or another caller takes over (an outsider, anon), and the same call — same arguments,
// same idempotency key, the first call committed when it has one — is replayed through the PostgREST request
// context. The replay must be refused with the documented SQLSTATE (docs/errors.md) and carry nothing of the chat,
// or, for the caller's own lists, answer without the chat. The registry is tests/api/support/replay.ts; a function
// it does not know fails here.
import { afterAll, describe, expect, it } from "vitest";
import { request, sql, type Tx } from "./support/db.ts";
import { REGISTRY, STATES, buildWorld, enterState, expectationOf, lateMessage, type Entry, type State } from "./support/replay.ts";

afterAll(() => sql.end());

/** Thrown to roll back the valid call of a function without an idempotency key. */
class Rollback extends Error {}

/** The signatures `authenticated` (or `anon`) may execute in `public`, spelled as the registry keys them. */
async function exposedSignatures(): Promise<string[]> {
  return sql.begin(async (tx) => {
    await tx`set local search_path = ''`;
    const rows = await tx<{ signature: string }[]>`
      select format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)) as signature
        from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public'
         and (pg_catalog.has_function_privilege('authenticated', p.oid, 'execute')
              or pg_catalog.has_function_privilege('anon', p.oid, 'execute'))
       order by 1`;
    return rows.map((r) => r.signature);
  });
}

/** Error fields of a refusal as the client receives them (code, message, hint, details). */
function errorBody(err: unknown): { code?: string; text: string } {
  const e = err as { code?: string; message?: string; hint?: string; detail?: string };
  return { code: e.code, text: JSON.stringify([e.message, e.hint, e.detail]) };
}

async function replayCase(signature: string, entry: Entry, state: State): Promise<void> {
  const w = await buildWorld(entry, `${state}_${Math.random().toString(36).slice(2, 8)}`);
  // Valid before the state changed.
  try {
    await request(w.actor.claims, async (tx: Tx) => {
      await entry.call(tx, w, state);
      if (!entry.keep) throw new Rollback();
    });
  } catch (err) {
    if (!(err instanceof Rollback)) throw new Error(`${signature}: the call is not valid for the member: ${(err as Error).message}`);
  }
  const caller = await enterState(entry, w, state);
  const late = await lateMessage(w);
  const expected = expectationOf(signature, entry, state);
  let answer: unknown;
  let refusal: { code?: string; text: string } | undefined;
  try {
    answer = await request(caller, async (tx: Tx) => [...(await entry.call(tx, w, state))]);
  } catch (err) {
    refusal = errorBody(err);
  }
  if ("refuse" in expected) {
    expect(refusal, `${signature} as ${state} answered ${JSON.stringify(answer)}`).toBeDefined();
    expect(refusal?.code, `${signature} as ${state}: ${refusal?.text}`).toBe(expected.refuse);
    expect(refusal?.text).not.toContain(w.secret);
    expect(refusal?.text).not.toContain(late);
  } else if ("hides" in expected) {
    expect(refusal, `${signature} as ${state} was refused: ${refusal?.text}`).toBeUndefined();
    const text = JSON.stringify(answer);
    expect(text, `${signature} as ${state} shows the chat`).not.toContain(w.secret);
    expect(text).not.toContain(late);
    if (!expected.namesChat) expect(text).not.toContain(w.group);
  }
}

describe("the replay registry", () => {
  it("has a call for every function authenticated or anon may execute in public, and no stale entries", async () => {
    const exposed = await exposedSignatures();
    const unknown = exposed.filter((s) => !(s in REGISTRY));
    expect(unknown, "functions without an entry in tests/api/support/replay.ts (add a valid call and the expected refusals)")
      .toEqual([]);
    expect(Object.keys(REGISTRY).filter((s) => !exposed.includes(s)), "entries for functions that are not exposed").toEqual([]);
  });

  it("says for every state either the refusal or why it does not apply", () => {
    for (const [signature, entry] of Object.entries(REGISTRY)) {
      for (const state of STATES) {
        if (state === "anon") continue;
        const e = expectationOf(signature, entry, state);
        expect(e, `${signature} ${state}`).toBeDefined();
        if ("refuse" in e) expect(e.refuse, `${signature} ${state}`).toMatch(/^(42501|PT404|22023|23514)$/);
      }
    }
  });
});

describe("a call replayed after the caller's state changed", () => {
  for (const [signature, entry] of Object.entries(REGISTRY)) {
    const name = signature.replace(/^public\./, "").replace(/\(.*$/, "");
    for (const state of STATES) {
      const expected = expectationOf(signature, entry, state);
      if ("na" in expected) continue;
      const title = `${name} as ${state}: ${"refuse" in expected ? `refused with ${expected.refuse}` : "shows nothing of the chat"}`;
      if ("known" in expected && expected.known) {
        // A known gap fails today; it.fails turns green while it does and red the day it is fixed, so the entry is updated.
        it.fails(`${title} (known gap: ${expected.known})`, () => replayCase(signature, entry, state));
      } else {
        it(title, () => replayCase(signature, entry, state));
      }
    }
  }
});
