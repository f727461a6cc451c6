// Bad input against every RPC a client may call: property-based arguments (fast-check, fixed seed) per parameter
// type, sent the way PostgREST sends them (a JSON body turned into typed arguments by json_to_record, inside the
// request context, as a member, an outsider or anon). A call either succeeds or fails with a documented SQLSTATE
// (docs/errors.md plus the input-parsing codes PostgreSQL raises while converting the JSON); a failed call changes
// nothing (fingerprint of every table before and after); and the data stays consistent after all the calls.
// RPCs are discovered from pg_proc, so functions added by later migrations are covered without editing this file.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import type postgres from "postgres";
import { inRequest, type Claims } from "../../stack/shared/request-context.ts";
import { rgiEmoji } from "../../scripts/lib/rgi-emoji.ts";
import {
  SOAK, connect, createUsers, diffFingerprints, documentedCodes, fingerprint, inconsistencies, installConsistencyCheck, type User,
} from "./support.ts";

const RUNS = SOAK ? 400 : 25;
const SEED = 20261124;

/**
 * Codes PostgreSQL raises while turning the JSON arguments into the parameter types, before any of our code runs;
 * PostgREST answers them with 400 (or 409/416 families) like our own input errors:
 * 22P02 invalid text representation (a bad uuid, integer, boolean, enum label or array literal),
 * 22007 invalid datetime format, 22008 datetime field overflow, 22003 numeric value out of range,
 * 22001 string too long for a length-limited type, 23502 a null where a value is required.
 * 57014 (statement timeout) is in the catalogue but here it would mean a call that runs away: it fails the test,
 * as do internal errors (XX000, P0001 without an errcode, 42703, 42P01, 0A000, 2F*, 40P01, 53*, 54*).
 */
const PARSING_CODES = ["22P02", "22007", "22008", "22003", "22001", "23502"];
const FAULTS = new Set(["57014"]);

interface Param {
  name: string;
  type: string;
  category: string;
  enumLabels: string[] | null;
  elementType: string | null;
  optional: boolean;
}

interface Rpc {
  name: string;
  params: Param[];
}

let admin: postgres.Sql;
let client: postgres.Sql;
let alice: User;
let bob: User;
let carol: User;
const pool = {
  uuids: [] as string[],
  users: [] as string[],
  chats: [] as string[],
  messages: [] as string[],
  invitations: [] as string[],
  tokens: [] as string[],
  seqs: [] as number[],
};

/** Existing ids of the kind a parameter names (chat_id gets chats, message_id messages, ...), else any. */
function existingIdsFor(name: string): string[] {
  if (/invitation/.test(name)) return pool.invitations;
  if (/message|thread_root|reply_to/.test(name)) return pool.messages;
  if (/chat/.test(name)) return pool.chats;
  if (/user|owner|member|mention/.test(name)) return pool.users;
  return pool.uuids;
}
let allowed: Set<string>;
let rpcs: Rpc[] = [];

/**
 * A fresh small world for one RPC's calls (earlier calls may have deleted or left chats): three new users, a group
 * with messages and a reaction, a direct chat, a channel, an invite link and a direct invitation.
 */
async function freshWorld(): Promise<void> {
  [alice, bob, carol] = (await createUsers(admin, "fuzz", 3)) as [User, User, User];
  const as = <T>(u: User, q: (tx: postgres.TransactionSql) => Promise<T>) => inRequest(client, u.claims, q);
  const [group] = await as(alice, (tx) => tx<{ id: string }[]>`select (public.create_group_chat('Fuzz group', ${[bob.id]}::uuid[])).id`);
  const [direct] = await as(alice, (tx) => tx<{ id: string }[]>`select (public.create_direct_chat(${carol.id}::uuid)).id`);
  const [channel] = await as(bob, (tx) => tx<{ id: string }[]>`select (public.create_channel('Fuzz channel')).id`);
  const messages: string[] = [];
  for (let i = 0; i < 5; i++) {
    const [m] = await as(i % 2 ? bob : alice, (tx) => tx<{ id: string }[]>`select (public.send_message(${group!.id}::uuid, ${`hello ${i}`})).id`);
    messages.push(m!.id);
  }
  await as(bob, (tx) => tx`select public.toggle_reaction(${messages[0]!}::uuid, '👍')`);
  const [invite] = await as(alice, (tx) => tx<{ id: string; token: string }[]>`select id, token from public.create_invite_link(${group!.id}::uuid)`);
  const [invitation] = await as(bob, (tx) => tx<{ id: string }[]>`select (public.invite_user(${channel!.id}::uuid, ${alice.id}::uuid)).id`);
  pool.users = [alice.id, bob.id, carol.id];
  pool.chats = [group!.id, direct!.id, channel!.id];
  pool.messages = messages;
  pool.invitations = [invite!.id, invitation!.id];
  pool.uuids = [...pool.users, ...pool.chats, ...pool.messages, ...pool.invitations];
  pool.tokens = [invite!.token];
  pool.seqs = [0, 1, 3, 5, 6];
}

beforeAll(async () => {
  admin = connect();
  client = connect();
  await installConsistencyCheck(admin);
  allowed = new Set([...documentedCodes(), ...PARSING_CODES].filter((c) => !FAULTS.has(c)));

  const rows = await admin<{ name: string; args: Array<{ name: string; type: string; category: string; labels: string[] | null; element: string | null }>; ndefaults: number }[]>`
    select p.proname as name, p.pronargdefaults as ndefaults,
           coalesce((select jsonb_agg(jsonb_build_object(
                      'name', p.proargnames[a.i],
                      'type', format_type(a.t, null),
                      'category', t.typcategory,
                      'labels', (select jsonb_agg(e.enumlabel order by e.enumsortorder) from pg_enum e where e.enumtypid = a.t),
                      'element', case when t.typelem <> 0 and t.typcategory = 'A' then format_type(t.typelem, null) end)
                      order by a.i)
                     from unnest(p.proargtypes::oid[]) with ordinality as a(t, i)
                     join pg_type t on t.oid = a.t), '[]'::jsonb) as args
      from pg_proc p
     where p.pronamespace = 'public'::regnamespace and p.prokind = 'f'
       and has_function_privilege('authenticated', p.oid, 'execute')
       and not exists (select 1 from unnest(coalesce(p.proargmodes, '{}')) m where m not in ('i', 't', 'o'))
     order by 1`;
  rpcs = rows.map((r) => ({
    name: r.name,
    params: r.args.map((a, i) => ({
      name: a.name,
      type: a.type,
      category: a.category,
      enumLabels: a.labels,
      elementType: a.element,
      optional: i >= r.args.length - r.ndefaults,
    })),
  }));
}, 60_000);

afterAll(async () => {
  await client.end({ timeout: 5 });
  await admin.end({ timeout: 5 });
});

const NUL = "\u0000";
const noNul = (s: string) => !s.includes(NUL);

function valueFor(p: { name: string; type: string; category: string; enumLabels: string[] | null; elementType: string | null }): fc.Arbitrary<unknown> {
  const junk = fc.oneof(fc.string({ maxLength: 20 }).filter(noNul), fc.integer(), fc.boolean(), fc.constant({ a: 1 }), fc.constant([1, "x"]));
  const uuid = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...existingIdsFor(p.name)) },
    { weight: 1, arbitrary: fc.constantFrom(...pool.uuids) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.constantFrom("00000000-0000-0000-0000-000000000000", "not-a-uuid", "", "{}") },
  );
  const text = fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength: 60 }) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 60 }).filter(noNul) },
    { weight: 1, arbitrary: fc.constantFrom("", "   ", "\t\n", "%", "_\\%", "'; drop table public.messages; --", ":smile:", "👍", "1️⃣") },
    { weight: 1, arbitrary: fc.constantFrom(...pool.tokens) },
    { weight: 1, arbitrary: fc.constantFrom(4001, 10_000, 200_000).map((n) => "x".repeat(n)) },
  );
  if (p.enumLabels) return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...p.enumLabels) }, { weight: 1, arbitrary: fc.constantFrom("", "bogus", "OWNER", 1) });
  switch (p.type) {
    case "uuid":
      return fc.oneof({ weight: 10, arbitrary: uuid }, { weight: 1, arbitrary: junk });
    case "text":
    case "character varying":
      return fc.oneof({ weight: 6, arbitrary: text }, { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.boolean()) });
    case "integer":
    case "smallint":
    case "bigint":
      return fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(0, 1, -1, 2, 50, 200, 201, 3600, 3601, 2147483647, -2147483648, 2147483648, -2147483649, 9007199254740991, -9007199254740991) },
        { weight: 2, arbitrary: fc.constantFrom(...pool.seqs) },
        { weight: 2, arbitrary: fc.integer() },
        { weight: 1, arbitrary: fc.constantFrom("9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e3", "1.5", 1.5, "") },
        { weight: 1, arbitrary: junk },
      );
    case "boolean":
      return fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom("t", "yes", "no", "maybe", 2, 0, "") });
    case "jsonb":
    case "json":
      return fc.oneof(
        { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
        { weight: 1, arbitrary: fc.constantFrom({ big: "y".repeat(20_000) }, Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i]))) },
      );
    case "timestamp with time zone":
    case "timestamp without time zone":
      return fc.oneof(
        { weight: 3, arbitrary: fc.date({ noInvalidDate: true, min: new Date("1900-01-01"), max: new Date("2200-01-01") }).map((d) => d.toISOString()) },
        { weight: 1, arbitrary: fc.constantFrom("infinity", "-infinity", "now", "yesterday", "294277-01-01T00:00:00Z", "1999-13-45", "not a time", "", 0) },
      );
    default:
      if (p.category === "A" && p.elementType) {
        const element = valueFor({ name: p.name, type: p.elementType, category: "", enumLabels: null, elementType: null });
        return fc.oneof(
          { weight: 4, arbitrary: fc.array(element, { maxLength: 8 }) },
          { weight: 1, arbitrary: fc.array(element, { minLength: 51, maxLength: 130 }) },
          { weight: 1, arbitrary: fc.constantFrom("{}", "not an array", [[1, 2]], [null]) },
        );
      }
      return fc.oneof(fc.jsonValue({ maxDepth: 2 }), junk);
  }
}

/** Arguments as PostgREST receives them: a JSON object; optional parameters may be left out, any may be null. */
function argsFor(rpc: Rpc): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(...rpc.params.map((p) =>
      fc.oneof(
        { weight: 8, arbitrary: valueFor(p).map((v) => ({ present: true, v })) },
        { weight: 1, arbitrary: fc.constant({ present: true, v: null as unknown }) },
        { weight: p.optional ? 2 : 0, arbitrary: fc.constant({ present: false, v: undefined as unknown }) },
      )))
    .map((vals) => Object.fromEntries(rpc.params.flatMap((p, i) => (vals[i]!.present ? [[p.name, vals[i]!.v]] : []))));
}

const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** The statement PostgREST builds for `POST /rpc/<name>` with a JSON object body. */
function callSql(rpc: Rpc, args: Record<string, unknown>): string {
  const given = rpc.params.filter((p) => p.name in args);
  const record = given.length ? `json_to_record($1::json) as pgrst_body(${given.map((p) => `${ident(p.name)} ${p.type}`).join(", ")})` : `(select $1::json) as pgrst_body(j)`;
  const named = given.map((p) => `${ident(p.name)} := pgrst_body.${ident(p.name)}`).join(", ");
  return `select count(*) from ${record}, lateral public.${ident(rpc.name)}(${named}) pgrst_call`;
}

describe("bad input against every RPC", () => {
  it("the fingerprint sees any write (so the 'nothing written' check can fail)", async () => {
    await freshWorld();
    const before = await fingerprint(admin);
    await admin`update public.profiles set bio = 'changed by the fingerprint self-test' where id = ${carol.id}::uuid`;
    const after = await fingerprint(admin);
    await admin`update public.profiles set bio = null where id = ${carol.id}::uuid`;
    expect(diffFingerprints(before, after)).toEqual(["public.profiles"]);
  });

  it("discovers the RPCs clients may call", () => {
    expect(rpcs.length).toBeGreaterThan(20);
    expect(rpcs.map((r) => r.name)).toContain("send_message");
  });

  it("every RPC answers bad input with a documented error and writes nothing when it fails", async () => {
    let current: Record<string, string> = {};
    const stats = { calls: 0, failed: 0, codes: {} as Record<string, number> };
    for (const [index, rpc] of rpcs.entries()) {
      await freshWorld();
      const callers: Array<{ who: string; claims: Claims }> = [
        { who: "member", claims: alice.claims },
        { who: "member", claims: alice.claims },
        { who: "member", claims: bob.claims },
        { who: "outsider", claims: carol.claims },
        { who: "anon", claims: { role: "anon", iss: "supabase-demo" } },
      ];
      current = await fingerprint(admin);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...callers), argsFor(rpc), async (caller, args) => {
          stats.calls++;
          let code: string | undefined;
          let message = "";
          try {
            await inRequest(client, caller.claims, (tx) => tx.unsafe(callSql(rpc, args), [args as never]), { path: `/rpc/${rpc.name}` });
          } catch (err) {
            const e = err as { code?: string; message?: string };
            code = e.code ?? "no SQLSTATE";
            message = e.message ?? String(err);
          }
          if (code === undefined) {
            current = await fingerprint(admin);
            return;
          }
          stats.failed++;
          stats.codes[code] = (stats.codes[code] ?? 0) + 1;
          if (!allowed.has(code)) throw new Error(`${rpc.name} as ${caller.who}: undocumented error ${code} ${message}`);
          if (process.env.FUZZ_DEBUG) console.log(rpc.name, code, message.slice(0, 100));
          const now = await fingerprint(admin);
          const changed = diffFingerprints(current, now);
          if (changed.length) {
            current = now;
            throw new Error(`${rpc.name} as ${caller.who} failed with ${code} but changed ${changed.join(", ")}`);
          }
        }),
        { seed: SEED + index, numRuns: RUNS, endOnFailure: false },
      );
    }
    console.log(`bad input: ${stats.calls} calls to ${rpcs.length} RPCs, ${stats.failed} refused: ${JSON.stringify(stats.codes)}`);
    expect(stats.failed).toBeGreaterThan(stats.calls / 4);
    expect(await inconsistencies(admin)).toEqual([]);
  }, SOAK ? 3_600_000 : 180_000);
});

// Content that lies (issue 21, item 3): a title or display name with a control character, a line break or a
// bidirectional formatting character anywhere in it is refused with 22023, the documented message and a hint, and
// nothing is written; the same names without that character are accepted (right-to-left letters and emoji included).
describe("names and titles are one line of text", () => {
  const FORBIDDEN = [
    "\t", "\n", "\r", "\u000b", "\u000c", "\u0007", "\u001b", "\u007f", "\u0085", "\u009b", "\u2028", "\u2029",
    "\u200e", "\u200f", "\u061c", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
  ];
  const FORBIDDEN_RE = /[\p{Cc}\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/u;
  const part = fc.oneof(
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 6 }),
    fc.constantFrom("שלום", "مرحبا", "Ada", "👨‍👩‍👧", "Zoë", "東京"),
  ).filter((s) => !FORBIDDEN_RE.test(s) && s.trim() !== "");
  const bad = fc.tuple(part, fc.constantFrom(...FORBIDDEN), part).map(([a, c, b]) => ({ name: a + c + b, clean: a + b }));
  const HINT = "Use one line of text: no line breaks, tabs, control characters or bidirectional formatting characters.";

  it("refuses them in every title and display name with 22023 and a hint, writing nothing, and keeps the clean name", async () => {
    await freshWorld();
    const writes: Array<{ what: string; field: string; run: (tx: postgres.TransactionSql, name: string) => Promise<unknown> }> = [
      { what: "create_group_chat", field: "title", run: (tx, n) => tx`select public.create_group_chat(${n})` },
      { what: "create_channel", field: "title", run: (tx, n) => tx`select public.create_channel(${n})` },
      { what: "update_chat", field: "title", run: (tx, n) => tx`select public.update_chat(${pool.chats[0]!}::uuid, title => ${n})` },
      { what: "profiles.display_name", field: "display name",
        run: (tx, n) => tx`update public.profiles set display_name = ${n} where id = ${alice.id}::uuid` },
    ];
    for (const [index, w] of writes.entries()) {
      await fc.assert(
        fc.asyncProperty(bad, async ({ name, clean }) => {
          const before = await fingerprint(admin);
          let error: { code?: string; message?: string; hint?: string } | undefined;
          try {
            await inRequest(client, alice.claims, (tx) => w.run(tx, name));
          } catch (err) {
            error = err as typeof error;
          }
          expect(error?.code, `${w.what} ${JSON.stringify(name)}`).toBe("22023");
          expect(error?.message).toBe(`${w.field} has control or formatting characters`);
          expect(error?.hint).toBe(HINT);
          expect(diffFingerprints(before, await fingerprint(admin))).toEqual([]);
          // Without the character the same name is accepted (rolled back: the world stays as it was).
          const ok = await inRequest(client, alice.claims, async (tx) => {
            await w.run(tx, clean);
            throw Object.assign(new Error("rollback"), { code: "ROLLBACK_OK" });
          }).catch((err: { code?: string; message?: string }) => err);
          expect(ok.code, `${w.what} ${JSON.stringify(clean)}: ${ok.message}`).toBe("ROLLBACK_OK");
        }),
        { seed: SEED + 1000 + index, numRuns: RUNS },
      );
    }
  }, SOAK ? 3_600_000 : 120_000);
});

// The other content rules (issue 21, item 3), each against an oracle written from the rule, not from the SQL:
// a reaction is accepted exactly when it is one emoji of Unicode's RGI list (the list the migration was generated
// from); a body exactly when its bidi formatting is balanced; an image path exactly when it is <caller id>/<one-line
// file name>. A refusal is 22023 with the documented message and writes nothing.
describe("reactions, bodies and image paths follow their content rules", () => {
  const RGI = rgiEmoji().map((e) => e.emoji);
  const RGI_SET = new Set(RGI);
  /** btrim's default: spaces only. */
  const spaceTrim = (s: string): string => s.replace(/^ +| +$/g, "");
  const INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u2066", "\u00ad", "\u180e"];

  /** Runs `write` as `who`; returns the error, or undefined after rolling the write back. */
  async function attempt(who: User, write: (tx: postgres.TransactionSql) => Promise<unknown>) {
    const before = await fingerprint(admin);
    const err = await inRequest(client, who.claims, async (tx) => {
      await write(tx);
      throw Object.assign(new Error("rollback"), { code: "ROLLBACK_OK" });
    }).catch((e: { code?: string; message?: string; hint?: string }) => e);
    expect(diffFingerprints(before, await fingerprint(admin))).toEqual([]);
    return err.code === "ROLLBACK_OK" ? undefined : err;
  }

  it("accepts a reaction exactly when it is one RGI emoji", async () => {
    await freshWorld();
    const emoji = fc.constantFrom(...RGI);
    const reaction = fc.oneof(
      { weight: 3, arbitrary: emoji.map((e) => ({ text: e, ok: true })) },
      { weight: 2, arbitrary: fc.tuple(emoji, emoji).map(([a, b]) => ({ text: a + b, ok: false })) },
      { weight: 2, arbitrary: fc.tuple(emoji, fc.constantFrom(...INVISIBLE)).map(([e, c]) => ({ text: e + c, ok: false })) },
      { weight: 1, arbitrary: fc.constantFrom(...INVISIBLE).map((c) => ({ text: c, ok: false })) },
      { weight: 1, arbitrary: fc.constantFrom("привет", "да", "ок", "שלום", "lol", "+1", "🏽", "🇿🇿", "1", "#").map((t) => ({ text: t, ok: false })) },
      { weight: 2, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 3 }).filter(noNul)
          .map((t) => ({ text: t, ok: RGI_SET.has(spaceTrim(t)) || (Array.from(spaceTrim(t)).length === 1 && RGI_SET.has(spaceTrim(t) + "\ufe0f")) })) },
    );
    await fc.assert(
      fc.asyncProperty(reaction, async ({ text, ok }) => {
        const err = await attempt(bob, (tx) => tx`select public.toggle_reaction(${pool.messages[1]!}::uuid, ${text})`);
        if (ok) expect(err, JSON.stringify(text)).toBeUndefined();
        else {
          expect(err?.code, JSON.stringify(text)).toBe("22023");
          expect(err?.message).toBe("invalid emoji");
        }
      }),
      { seed: SEED + 2000, numRuns: RUNS * 2 },
    );
  }, SOAK ? 3_600_000 : 120_000);

  /** The bidi rule of docs/security.md: every opener closed by its own terminator, innermost first, per paragraph. */
  function balanced(text: string): boolean {
    const open: string[] = [];
    for (const ch of text) {
      if ("\u202a\u202b\u202d\u202e".includes(ch)) open.push("e");
      else if ("\u2066\u2067\u2068".includes(ch)) open.push("i");
      else if (ch === "\u202c" || ch === "\u2069") {
        if (open.pop() !== (ch === "\u202c" ? "e" : "i")) return false;
      } else if ("\n\r\u001c\u001d\u001e\u0085\u2029".includes(ch) && open.length) return false;
    }
    return open.length === 0;
  }

  it("accepts a message body exactly when its bidi formatting is balanced", async () => {
    await freshWorld();
    const piece = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom("مرحبا", "שלום", "hello", "42", " ", "👋🏽", "عربي and English", "\u200f", "\u200e") },
      { weight: 3, arbitrary: fc.constantFrom("\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069") },
      { weight: 1, arbitrary: fc.constantFrom("\n", "\u2029") },
    );
    const body = fc.array(piece, { minLength: 1, maxLength: 12 }).map((p) => `x ${p.join("")} y`);
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const err = await attempt(alice, (tx) => tx`select public.send_message(${pool.chats[0]!}::uuid, ${text})`);
        if (balanced(text)) expect(err, JSON.stringify(text)).toBeUndefined();
        else {
          expect(err?.code, JSON.stringify(text)).toBe("22023");
          expect(err?.message).toBe("message has unbalanced bidirectional formatting");
        }
      }),
      { seed: SEED + 3000, numRuns: RUNS * 2 },
    );
  }, SOAK ? 3_600_000 : 120_000);

  it("accepts a chat avatar path exactly when it is <caller id>/<one-line file name>", async () => {
    await freshWorld();
    const name = fc.oneof(
      fc.constantFrom("a.png", "team photo.webp", "תמונה.png", "😀.gif", "x".repeat(200)),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }).filter(noNul),
    );
    const path = fc.oneof(
      name.map((n) => `${alice.id}/${n}`),
      name.map((n) => `${bob.id}/${n}`),
      name.map((n) => `https://cdn.example.test/${n}`),
      fc.constantFrom(`${alice.id}/../x.png`, `${alice.id}/..`, `${alice.id}/a/b.png`, `/${alice.id}/a.png`, `${alice.id}/a\\b.png`,
                      `${alice.id}/a\u202egnp.exe`, `${alice.id}/a\nb.png`, `${alice.id}/${"x".repeat(201)}`, "avatar.png"),
    );
    const FORBIDDEN = /[\u0001-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
    const valid = (p: string): boolean => {
      const t = spaceTrim(p);
      const [folder, file, ...rest] = t.split("/");
      return rest.length === 0 && folder === alice.id && file !== undefined && Array.from(file).length >= 1
        && Array.from(file).length <= 200 && !file.includes("\\") && file !== "." && file !== ".." && !FORBIDDEN.test(t);
    };
    await fc.assert(
      fc.asyncProperty(path, async (p) => {
        const err = await attempt(alice, (tx) => tx`select public.update_chat(${pool.chats[0]!}::uuid, avatar_path => ${p})`);
        if (spaceTrim(p) === "") expect(err).toBeUndefined();
        else if (valid(p)) expect(err, JSON.stringify(p)).toBeUndefined();
        else {
          expect(err?.code, JSON.stringify(p)).toBe("22023");
          expect(err?.message).toMatch(/^(invalid avatar path|avatar path must be in your own folder of the avatars bucket)$/);
        }
      }),
      { seed: SEED + 4000, numRuns: RUNS * 2 },
    );
  }, SOAK ? 3_600_000 : 120_000);
});
