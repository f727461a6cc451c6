// docs/security.md is generated from real calls (tests/api/support/matrix.ts); this suite regenerates it, fails when
// the committed file is stale, and pins the expectations the matrix must never drift away from.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "./support/db.ts";
import {
  OPERATIONS,
  PERSONAS,
  RPC_OPERATIONS,
  STORAGE_OPERATIONS,
  TABLE_OPERATIONS,
  buildFixture,
  formatOutcome,
  renderSecurityDoc,
  runMatrix,
  type Matrix,
  type Operation,
  type Outcome,
  type Persona,
} from "./support/matrix.ts";

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../docs/security.md");
const CHAT_TABLES = [
  "chats", "chat_members", "chat_bans", "messages", "message_edits", "message_reactions", "chat_invitations", "attachments", "audit_log",
  "chat_retention",
  "reports", "chat_mutes", "chat_freezes", "word_filters", "user_suspensions",
];
const API_PERSONAS = PERSONAS.filter((p) => p !== "service_role");
const NON_MEMBERS = ["anonymous", "outsider", "removed", "banned", "blocked"] as const satisfies readonly Persona[];

let matrix: Matrix;

beforeAll(async () => {
  matrix = await runMatrix(await buildFixture());
}, 120_000);
afterAll(() => sql.end());

function op(id: string): Operation {
  const found = OPERATIONS.find((o) => o.id === id);
  if (!found) throw new Error(`no operation ${id}`);
  return found;
}

function outcome(id: string, persona: Persona): Outcome {
  const row = matrix.get(id);
  if (!row) throw new Error(`no outcome for ${id}`);
  return row[persona];
}

/** The doc's cell, e.g. `42501`, `0 rows`, `✓ 2 rows`, `✓`. */
function cell(id: string, persona: Persona): string {
  return formatOutcome(op(id), outcome(id, persona));
}

/** `id as persona: cell` for every pair that fails `ok`; expected to be empty. */
function violations(ops: Operation[], personas: readonly Persona[], ok: (o: Outcome, op: Operation, p: Persona) => boolean): string[] {
  const bad: string[] = [];
  for (const o of ops) for (const p of personas) if (!ok(outcome(o.id, p), o, p)) bad.push(`${o.id} as ${p}: ${cell(o.id, p)}`);
  return bad;
}

const refusedWith = (o: Outcome, ...codes: string[]): boolean => !o.allowed && codes.includes(o.code);
const noRows = (o: Outcome): boolean => o.allowed && o.rows === 0;

describe("docs/security.md", () => {
  it("is what the current schema does (regenerate with `npm run docs:security` when this fails)", () => {
    const committed = existsSync(DOC) ? readFileSync(DOC, "utf8") : "";
    expect(
      renderSecurityDoc(matrix),
      "docs/security.md is stale: run `KEEP_TEST_DB=1 npm test -- api`, then " +
        "`DB_URL=postgresql://postgres:postgres@127.0.0.1:$(cat .local/test/port)/postgres npm run docs:security`, " +
        "review the diff and commit it",
    ).toBe(committed);
  });

  it("covers every exposed table with all four operations and every RPC clients may execute", async () => {
    expect(new Set(OPERATIONS.map((o) => o.id)).size).toBe(OPERATIONS.length);
    const tables = await sql<{ name: string }[]>`
      select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm') order by 1`;
    for (const { name } of tables) {
      const kinds = new Set(TABLE_OPERATIONS.filter((o) => o.target === name).map((o) => o.kind));
      expect([...kinds].sort(), `operations on table ${name} in tests/api/support/matrix.ts`).toEqual(["delete", "insert", "select", "update"]);
    }
    const rpcs = await sql<{ name: string }[]>`
      select distinct p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public' and (has_function_privilege('authenticated', p.oid, 'execute')
                                       or has_function_privilege('anon', p.oid, 'execute')) order by 1`;
    expect([...new Set(RPC_OPERATIONS.map((o) => o.target))].sort(), "RPCs in tests/api/support/matrix.ts")
      .toEqual(rpcs.map((r) => r.name));
  });
});

describe("the security matrix", () => {
  it("refuses anon everything", () => {
    expect(violations(OPERATIONS, ["anon"], (o) => refusedWith(o, "42501") || noRows(o))).toEqual([]);
  });

  it("gives guests, outsiders, removed, banned and blocked users no rows from any chat table (the outsider sees only their own invitation)", () => {
    const selects = TABLE_OPERATIONS.filter((o) => o.kind === "select" && CHAT_TABLES.includes(o.target));
    expect(selects.length).toBe(CHAT_TABLES.length);
    expect(violations(selects, NON_MEMBERS, (o, s, p) => (s.target === "chat_invitations" && p === "outsider" ? true : noRows(o))))
      .toEqual([]);
    expect(cell("chat_invitations.select", "outsider")).toBe("✓ 1 row");
    expect(cell("chat_invitations.select", "member")).toBe("0 rows");
  });

  it("refuses guests, outsiders, removed, banned and blocked users every RPC that needs membership of the chat", () => {
    const chatRpcs = RPC_OPERATIONS.filter((o) => o.needsMembership);
    expect(violations(chatRpcs, NON_MEMBERS, (o, r) => refusedWith(o, "PT404", "42501") || (r.countsRows && noRows(o))))
      .toEqual([]);
    expect(cell("rpc.join_chat", "outsider")).toBe("PT404");
    expect(cell("rpc.accept_invite_link", "banned")).toBe("42501");
    expect(cell("rpc.respond_to_invitation", "outsider")).toBe("✓");
    expect(cell("rpc.accept_invite_link", "removed")).toBe("✓");
    expect(violations([op("rpc.respond_to_invitation")], ["member", "admin", "owner", "removed", "banned", "blocked"], (o) =>
      refusedWith(o, "PT404"))).toEqual([]);
  });

  it("lets members read and post but not administer the chat", () => {
    for (const id of ["chats.select", "messages.select", "rpc.send_message", "rpc.toggle_reaction", "rpc.edit_message"]) {
      expect(outcome(id, "member").allowed, id).toBe(true);
    }
    const adminOnly = [
      "rpc.update_chat", "rpc.add_chat_members", "rpc.pin_message", "rpc.ban_chat_member", "rpc.unban_chat_member",
      "rpc.set_member_role", "rpc.set_member_role.demote_admin", "rpc.remove_chat_member", "rpc.create_invite_link",
      "rpc.invite_user", "rpc.revoke_invitation", "rpc.delete_message.owner", "rpc.transfer_chat_ownership", "rpc.delete_chat",
      "rpc.set_disappearing_messages",
    ];
    expect(violations(adminOnly.map(op), ["member"], (o) => refusedWith(o, "42501"))).toEqual([]);
    expect(cell("chat_bans.select", "member")).toBe("0 rows");
  });

  it("lets admins manage members but never act on the owner or on other admins", () => {
    for (const id of ["rpc.update_chat", "rpc.add_chat_members", "rpc.remove_chat_member", "rpc.ban_chat_member", "rpc.pin_message"]) {
      expect(outcome(id, "admin").allowed, id).toBe(true);
    }
    const onOwner = [
      "rpc.set_member_role.demote_owner", "rpc.remove_chat_member.owner", "rpc.ban_chat_member.owner",
      "rpc.transfer_chat_ownership", "rpc.delete_chat", "rpc.set_member_role", "rpc.set_member_role.demote_admin",
    ];
    expect(violations(onOwner.map(op), ["admin"], (o) => refusedWith(o, "42501"))).toEqual([]);
  });

  it("lets only the owner delete the chat", () => {
    expect(cell("rpc.delete_chat", "owner")).toBe("✓");
    expect(violations([op("rpc.delete_chat")], PERSONAS.filter((p) => p !== "owner"), (o) => !o.allowed)).toEqual([]);
  });

  it("keeps a blocked user from opening a direct chat with the blocker or seeing their profile and blocks", () => {
    expect(cell("rpc.create_direct_chat", "blocked")).toBe("42501");
    expect(cell("rpc.create_direct_chat", "outsider")).toBe("✓");
    expect(cell("profiles.select", "blocked")).toBe("✓ 11 rows");
    expect(cell("profiles.select", "outsider")).toBe("✓ 12 rows");
    expect(violations([op("user_blocks.select")], ["anonymous", "outsider", "member", "admin", "removed", "banned", "blocked"], noRows))
      .toEqual([]);
    expect(cell("user_blocks.select", "owner")).toBe("✓ 1 row");
  });

  it("refuses direct writes on every table to every API persona, except a user's own blocks and own profile", () => {
    const writes = TABLE_OPERATIONS.filter((o) => o.kind !== "select");
    const own = (o: Operation, p: Persona): boolean =>
      (o.id === "user_blocks.insert" && p !== "anon" && p !== "anonymous") ||
      (o.id === "user_blocks.delete" && p === "owner") ||
      (o.id === "profiles.update" && p === "owner") ||
      (o.id === "profiles.update.own" && p !== "anon" && p !== "suspended");
    expect(violations(writes, API_PERSONAS, (o, w, p) =>
      own(w, p) ? o.allowed : refusedWith(o, "42501") || (w.kind !== "insert" && noRows(o)))).toEqual([]);
    expect(cell("user_blocks.delete", "owner")).toBe("✓ 1 row");
    expect(cell("profiles.update", "owner")).toBe("✓ 1 row");
    expect(cell("profiles.update.created_at", "owner")).toBe("42501");
    expect(cell("user_blocks.insert.as_other", "outsider")).toBe("42501");
    expect(cell("user_blocks.insert", "anonymous")).toBe("42501");
  });

  it("lets members download a file only once it is clean and sent, and only the uploader before", () => {
    for (const p of ["member", "admin", "owner", "service_role"] as const) expect(cell("storage.attachments.download_clean", p)).toBe("✓ 1 row");
    for (const p of ["anon", ...NON_MEMBERS] as const) expect(cell("storage.attachments.download_clean", p)).toBe("0 rows");
    expect(cell("storage.attachments.download_pending", "member")).toBe("✓ 1 row");
    expect(violations([op("storage.attachments.download_pending")], ["anon", "admin", "owner", ...NON_MEMBERS], noRows)).toEqual([]);
    expect(cell("attachments.select", "member")).toBe("✓ 3 rows");
    expect(cell("attachments.select", "admin")).toBe("✓ 1 row");
  });

  it("lets members who may post upload files, and the uploader and admins remove them", () => {
    for (const p of ["member", "admin", "owner"] as const) expect(outcome("storage.attachments.upload", p).allowed).toBe(true);
    expect(violations([op("storage.attachments.upload")], ["anon", ...NON_MEMBERS], (o) => refusedWith(o, "42501"))).toEqual([]);
    for (const p of ["member", "admin", "owner"] as const) expect(cell("storage.attachments.remove", p)).toBe("✓ 1 row");
    expect(violations([op("storage.attachments.remove")], ["anon", ...NON_MEMBERS], noRows)).toEqual([]);
    expect(cell("storage.avatars.upload_member_folder", "member")).toBe("✓");
    expect(violations([op("storage.avatars.upload_member_folder")], ["anon", "admin", "owner", ...NON_MEMBERS],
      (o) => refusedWith(o, "42501"))).toEqual([]);
  });

  it("shows the message TTL to members and export jobs to their owner only", () => {
    for (const p of ["member", "admin", "owner"] as const) expect(cell("chat_retention.select", p)).toBe("✓ 1 row");
    expect(cell("data_exports.select", "member")).toBe("✓ 1 row");
    expect(violations([op("data_exports.select")], ["owner", "admin", "outsider", "banned", "blocked"], noRows)).toEqual([]);
    expect(outcome("rpc.set_disappearing_messages", "admin").allowed).toBe(true);
  });

  it("lets a guest read and nothing else: every write, RPC and upload outside the discoverable-channel reads is refused", () => {
    const guestReads = new Set(["rpc.list_chats", "rpc.get_updates", "rpc.list_notifications", "rpc.search_messages",
      "rpc.search_messages.all_chats"]);
    expect(violations(RPC_OPERATIONS.filter((o) => !guestReads.has(o.id)), ["anonymous"], (o) => refusedWith(o, "42501", "PT404")))
      .toEqual([]);
    expect(violations(STORAGE_OPERATIONS.filter((o) => o.id.includes("upload")), ["anonymous"], (o) => refusedWith(o, "42501")))
      .toEqual([]);
    for (const id of ["rpc.send_message", "rpc.create_group_chat", "rpc.create_channel", "rpc.create_direct_chat", "rpc.heartbeat",
                      "rpc.accept_invite_link", "rpc.register_push_device"]) {
      expect(cell(id, "anonymous"), id).toBe("42501");
    }
    expect(cell("profiles.update", "anonymous")).toBe("0 rows");
  });

  it("shows the audit log of a chat to its admins and to moderators only, and lets nobody change it", () => {
    expect(cell("audit_log.select", "owner")).toBe("✓ 6 rows");
    expect(cell("audit_log.select", "admin")).toBe("✓ 6 rows");
    expect(cell("audit_log.select", "moderator")).toBe("✓ 6 rows");
    expect(violations([op("audit_log.select")], ["member", "suspended", "muted", ...NON_MEMBERS], noRows)).toEqual([]);
    const changes = TABLE_OPERATIONS.filter((o) => o.target === "audit_log" && o.kind !== "select");
    expect(violations(changes, PERSONAS, (o) => refusedWith(o, "42501"))).toEqual([]);
  });

  it("shows reports to their reporter, the chat's admins and moderators; suspensions, mutes and filters likewise", () => {
    expect(cell("reports.select", "moderator")).toBe("✓ 2 rows");
    expect(cell("reports.select", "owner")).toBe("✓ 1 row");
    expect(cell("reports.select", "admin")).toBe("✓ 1 row");
    expect(violations([op("reports.select")], ["member", "suspended", "muted", ...NON_MEMBERS], noRows)).toEqual([]);
    expect(cell("user_suspensions.select", "suspended")).toBe("✓ 1 row");
    expect(cell("user_suspensions.select", "moderator")).toBe("✓ 1 row");
    expect(violations([op("user_suspensions.select")], ["member", "admin", "owner", "muted", ...NON_MEMBERS], noRows)).toEqual([]);
    expect(cell("chat_mutes.select", "muted")).toBe("✓ 1 row");
    expect(cell("chat_mutes.select", "member")).toBe("0 rows");
    expect(cell("chat_freezes.select", "member")).toBe("✓ 1 row");
    expect(cell("word_filters.select", "moderator")).toBe("✓ 2 rows");
    expect(cell("word_filters.select", "admin")).toBe("✓ 1 row");
    expect(cell("word_filters.select", "member")).toBe("0 rows");
  });

  it("lets only moderators suspend, and admins or moderators decide reports, mute and freeze", () => {
    expect(cell("rpc.suspend_user", "moderator")).toBe("✓");
    expect(cell("rpc.resolve_report.suspend", "moderator")).toBe("✓");
    expect(violations([op("rpc.suspend_user"), op("rpc.unsuspend_user"), op("rpc.add_word_filter.app")],
      PERSONAS.filter((p) => p !== "moderator"), (o) => refusedWith(o, "42501"))).toEqual([]);
    for (const id of ["rpc.resolve_report", "rpc.mute_chat_member", "rpc.freeze_chat", "rpc.unfreeze_chat", "rpc.add_word_filter"]) {
      for (const p of ["admin", "owner", "moderator"] as const) expect(outcome(id, p).allowed, `${id} as ${p}`).toBe(true);
      expect(refusedWith(outcome(id, "member"), "42501", "PT404"), `${id} as member`).toBe(true);
    }
  });

  it("keeps a suspended user from every write but not from reading", () => {
    for (const id of ["rpc.send_message", "rpc.toggle_reaction", "rpc.create_group_chat", "rpc.create_direct_chat",
                      "rpc.report_content", "rpc.report_content.user", "rpc.forward_message"]) {
      expect(cell(id, "suspended"), id).toBe("42501");
      expect(outcome(id, "member").allowed, `${id} as member`).toBe(true);
    }
    expect(cell("profiles.update.own", "suspended")).toBe("42501");
    expect(cell("profiles.update.own", "member")).toBe("✓ 1 row");
    expect(cell("storage.attachments.upload", "suspended")).toBe("42501");
    for (const id of ["messages.select", "chats.select", "rpc.get_chat_messages", "rpc.list_chats", "rpc.mark_chat_read"]) {
      expect(outcome(id, "suspended").allowed, id).toBe(true);
    }
  });

  it("keeps a muted member and the members of a frozen chat from writing in it; admins still post", () => {
    for (const id of ["rpc.send_message", "rpc.toggle_reaction", "rpc.forward_message"]) expect(cell(id, "muted"), id).toBe("42501");
    expect(outcome("messages.select", "muted").allowed).toBe(true);
    for (const id of ["rpc.send_message.frozen", "rpc.toggle_reaction.frozen"]) {
      expect(cell(id, "member"), id).toBe("42501");
      expect(cell(id, "admin"), id).toBe("✓");
    }
  });

  it("lets the service role do every table operation (except writing the audit log: private.audit() appends) and execute every RPC", () => {
    const appendOnly = (t: Operation): boolean => t.target === "audit_log" && t.kind !== "select";
    expect(violations(TABLE_OPERATIONS, ["service_role"], (o, t) =>
      appendOnly(t) ? refusedWith(o, "42501") : o.allowed && (t.kind === "insert" || o.rows > 0))).toEqual([]);
    // Without a user the RPCs refuse to act (not signed in), but never for lack of EXECUTE.
    expect(violations(RPC_OPERATIONS, ["service_role"], (o) => o.allowed || !/permission denied for function/.test(o.message)))
      .toEqual([]);
  });
});
