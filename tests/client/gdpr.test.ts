// GDPR through the real supabase-js against the local stack (issue 18, item 5 and its Done-when):
// * delete-account refuses a session whose last sign-in is older than the reauthentication window, then, after a
//   fresh sign-in, erases the account: a scan of every table of every schema (found in the catalog, so tables other
//   migrations add are covered without editing this file) finds none of the user's email, names, file names or
//   message texts, their Storage objects are gone, the conversations keep tombstones and the group a new owner;
// * the export of a user with 10,000 messages and 20 files finishes within a minute, the client polls its progress,
//   only the owner sees the job, and the archive (unpacked by the system's tar) matches the database.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { anonClient, serviceClient, stack, type Client } from "./support/clients.ts";
import { db } from "./support/users.ts";
import { actor, call, group, message } from "./support/world.ts";

const PASSWORD = "Correct-Horse-9-Battery";

/** Schemas no user data lives in: the catalog and the extensions' own code. */
const SYSTEM_SCHEMAS = ["pg_catalog", "information_schema", "pg_toast", "extensions", "graphql", "graphql_public", "pgsodium", "vault"];

/**
 * Every row of every table (partitioned tables once, through the parent) whose text form contains one of the
 * needles, case-insensitively, as "<schema>.<table>: <needle>". Tables come from pg_class, so a table another
 * migration adds is scanned too.
 */
async function rowsContaining(needles: string[]): Promise<string[]> {
  const sql = db();
  const tables = await sql<{ name: string }[]>`
    select format('%I.%I', n.nspname, c.relname) as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and not c.relispartition
       and n.nspname <> all (${SYSTEM_SCHEMAS}) and n.nspname not like 'pg\\_%'
     order by 1`;
  expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining([
    "public.messages", "public.profiles", "private.chat_events", "private.user_events", "realtime.messages",
    "storage.objects", "auth.users", "auth.audit_log_entries",
  ]));
  const found: string[] = [];
  for (const { name } of tables) {
    const hits = await sql.unsafe<{ needle: string }[]>(
      `select distinct n.needle from ${name} x, unnest($1::text[]) n(needle)
        where position(lower(n.needle) in lower(x::text)) > 0`,
      [needles],
    );
    for (const h of hits) found.push(`${name}: ${h.needle}`);
  }
  return found;
}

async function invokeStatus(client: Client, name: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const { data, error } = await client.functions.invoke(name, { body: {} });
  if (!error) return { status: 200, body: data as Record<string, unknown> };
  const response = (error as { context?: Response }).context;
  return { status: response?.status ?? 0, body: response ? ((await response.json()) as Record<string, unknown>) : {} };
}

describe.runIf(stack.functions)("account deletion", () => {
  it("needs a recent sign-in, then leaves no trace of the user's data in any table, payload or bucket", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const email = `erin.${tag}@example.test`;
    const fullName = `Erin Vanishing ${tag}`;
    const admin = serviceClient();
    const created = await admin.auth.admin.createUser({
      email, password: PASSWORD, email_confirm: true, user_metadata: { full_name: fullName },
    });
    expect(created.error).toBeNull();
    const erinId = created.data.user!.id;
    const erin = anonClient();
    expect((await erin.auth.signInWithPassword({ email, password: PASSWORD })).error).toBeNull();
    const erinAsUser = { id: erinId, email, accessToken: "", client: erin };

    const [bob, carol] = await Promise.all([actor("bob"), actor("carol")]);
    const displayName = `Erin Display ${tag}`;
    const bio = `erin bio ${tag}`;
    expect((await erin.from("profiles").update({ display_name: displayName, bio }).eq("id", erinId)).error).toBeNull();
    const { data: profile } = await erin.from("profiles").select("username").eq("id", erinId).single();
    const username = profile!.username;

    // Erin owns a group with bob (admin) and carol, talks in it and in a direct chat, edits, reacts, mentions bob,
    // sends a file and has an avatar; carol forwards one of her messages into another chat; she exports her data.
    const texts = [`erin first words ${tag}`, `erin second words ${tag}`, `erin edited words ${tag}`, `erin direct words ${tag}`] as const;
    const chatId = await group(erinAsUser, [bob, carol], `Team ${tag}`);
    await call(erinAsUser, "set_member_role", { chat_id: chatId, user_id: bob.id, role: "admin" });
    const first = await message(erinAsUser, chatId, texts[0]);
    await call(erinAsUser, "send_message", { chat_id: chatId, body: `${texts[1]} @${(await bob.client.from("profiles").select("username").eq("id", bob.id).single()).data!.username}`, mentions: [bob.id] });
    const edited = await message(erinAsUser, chatId, `erin draft ${tag}`);
    await call(erinAsUser, "edit_message", { message_id: edited.id, body: texts[2] });
    const bobs = await message(bob, chatId, `bob reply ${tag}`);
    await call(erinAsUser, "toggle_reaction", { message_id: bobs.id, emoji: "👍" });
    const direct = (await call(erinAsUser, "create_direct_chat", { user_id: carol.id })) as { id: string };
    await message(erinAsUser, direct.id, texts[3]);
    const other = await group(carol, [bob], `Other ${tag}`);
    await call(carol, "forward_message", { message_id: first.id, to_chat_id: other });

    const fileName = `erin-holiday-${tag}.txt`;
    const filePath = `${chatId}/${crypto.randomUUID()}/${fileName}`;
    expect((await erin.storage.from("attachments").upload(filePath, new Blob([`erin file ${tag}`], { type: "text/plain" }), { contentType: "text/plain" })).error).toBeNull();
    const avatarPath = `${erinId}/avatar.png`;
    const png = Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/eL9GtQAAAABJRU5ErkJggg=="), (c) => c.charCodeAt(0));
    expect((await erin.storage.from("avatars").upload(avatarPath, new Blob([png], { type: "image/png" }), { contentType: "image/png" })).error).toBeNull();
    const exported = await invokeStatus(erin, "gdpr-export");
    expect(exported.status).toBe(200);
    await waitForExport(erin, String(exported.body.id));

    const needles = [email, fullName, displayName, bio, username, fileName, ...texts];
    // The scan sees the data while the account exists: it is able to fail.
    const before = await rowsContaining(needles);
    for (const n of [email, displayName, username, ...texts]) expect(before.some((f) => f.endsWith(`: ${n}`))).toBe(true);

    // A session whose last sign-in is older than the window (a refresh keeps the original amr time) is refused.
    await db()`update auth.mfa_amr_claims set updated_at = now() - interval '1 hour'
                where session_id in (select id from auth.sessions where user_id = ${erinId})`;
    expect((await erin.auth.refreshSession()).error).toBeNull();
    const stale = await invokeStatus(erin, "delete-account");
    expect(stale).toMatchObject({ status: 401, body: { code: "REAUTHENTICATION_NEEDED" } });
    const [still] = await db()<{ n: number }[]>`select count(*)::int as n from public.messages where author_id = ${erinId} and body is not null`;
    expect(still!.n).toBe(4);
    // Another user's token deletes only that user: bob cannot delete erin (the function acts for the caller only).

    // After signing in again, the account goes.
    expect((await erin.auth.signInWithPassword({ email, password: PASSWORD })).error).toBeNull();
    const deleted = await invokeStatus(erin, "delete-account");
    expect(deleted).toMatchObject({ status: 200, body: { deleted: true } });

    expect(await rowsContaining(needles)).toEqual([]);
    expect(deleted.body).toMatchObject({ messages_erased: 5, memberships_ended: 2 });
    const objects = await db()`select bucket_id, name from storage.objects
                                where owner_id = ${erinId} or name like ${erinId + "/%"} or name = ${filePath}`;
    expect(objects).toEqual([]);
    for (const [bucket, name] of [["attachments", filePath], ["avatars", avatarPath]] as const) {
      const { error } = await admin.storage.from(bucket).download(name);
      expect(error, `${bucket}/${name} is still downloadable`).not.toBeNull();
    }
    expect((await admin.auth.admin.getUserById(erinId)).error).not.toBeNull();

    // Conversations stay coherent: tombstones in place, bob owns the group, the audit entry has no personal data.
    const { data: history } = await bob.client.from("messages").select("seq, body, deleted_at, author_id").eq("chat_id", chatId).order("seq");
    expect(history!.filter((m) => m.author_id === null && m.deleted_at !== null && m.body === null)).toHaveLength(3);
    expect(history!.find((m) => m.seq === bobs.seq)).toMatchObject({ body: `bob reply ${tag}`, deleted_at: null });
    const { data: members } = await bob.client.from("chat_members").select("user_id, role").eq("chat_id", chatId);
    expect(members).toEqual(expect.arrayContaining([{ user_id: bob.id, role: "owner" }]));
    expect(members).toHaveLength(2);
    const [audit] = await db()<{ actor_id: string | null; target_id: string | null; details: Record<string, number> }[]>`
      select actor_id, target_id, details from public.audit_log where action = 'account.erased' order by id desc limit 1`;
    expect(audit).toMatchObject({ actor_id: null, target_id: null, details: { messages_erased: 5 } });
  });

  it("refuses a token that is not a user's, and an unknown user", async () => {
    expect((await invokeStatus(serviceClient(), "delete-account")).status).toBe(403);
    expect((await invokeStatus(anonClient(), "delete-account")).status).toBe(403);
    const ghost = await actor("ghost");
    await db()`delete from auth.users where id = ${ghost.id}`;
    expect(await invokeStatus(ghost.supabase, "delete-account")).toMatchObject({ status: 404, body: { code: "USER_NOT_FOUND" } });
  });
});

interface ExportJob {
  id: string;
  status: string;
  progress: number;
  phase: string | null;
  download_url: string | null;
  object_path: string | null;
  file_count: number | null;
  message_count: number | null;
}

/** Polls the job row as its owner until it is ready (or failed), every 200 ms, for at most 90 s. */
async function waitForExport(client: Client, id: string, seen: number[] = []): Promise<ExportJob> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const { data, error } = await client.from("data_exports").select("*").eq("id", id).single();
    expect(error).toBeNull();
    const job = data as unknown as ExportJob;
    seen.push(job.progress);
    if (job.status === "ready" || job.status === "failed") return job;
    if (Date.now() > deadline) throw new Error(`export ${id} stayed ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.runIf(stack.functions)("data export", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("exports 10,000 messages and 20 files within a minute; the archive parses and matches the database", async () => {
    const [owner, bob] = await Promise.all([actor("exporter"), actor("bob")]);
    const chatId = await group(owner, [], "Archive");
    const tag = crypto.randomUUID().slice(0, 8);
    // The seed: 10,000 messages written in one statement (the chat's only member is the owner: no notifications).
    await db().begin(async (tx) => {
      await tx`insert into public.messages (chat_id, seq, author_id, body, created_at)
               select ${chatId}, g, ${owner.id}, 'seeded ' || g || ' ' || ${tag}, now() - (10001 - g) * interval '1 second'
                 from generate_series(1, 10000) g`;
      await tx`update public.chats set last_message_seq = 10000 where id = ${chatId}`;
    });
    const files = new Map<string, string>();
    for (let i = 0; i < 20; i++) {
      const name = `${chatId}/${crypto.randomUUID()}/note-${i}.txt`;
      const content = `file ${i} of ${tag}\n`.repeat(50 * (i + 1));
      const { error } = await owner.supabase.storage.from("attachments").upload(name, new Blob([content], { type: "text/plain" }), { contentType: "text/plain" });
      expect(error).toBeNull();
      files.set(name, content);
    }

    const started = performance.now();
    const first = await invokeStatus(owner.supabase, "gdpr-export");
    expect(first.status).toBe(200);
    const again = await invokeStatus(owner.supabase, "gdpr-export");
    if (again.body.status !== "ready") expect(again.body.id).toBe(first.body.id); // one export at a time
    const progress: number[] = [];
    const job = await waitForExport(owner.supabase, String(first.body.id), progress);
    const seconds = (performance.now() - started) / 1000;
    console.log(`gdpr-export: 10,000 messages and 20 files exported in ${seconds.toFixed(2)} s (progress seen: ${[...new Set(progress)].join(", ")})`);
    expect(job).toMatchObject({ status: "ready", progress: 100, file_count: 20, message_count: 10000 });
    expect(seconds).toBeLessThan(60);

    // Only the owner sees the job; the archive is reachable only through the signed URL.
    const { data: hidden } = await bob.supabase.from("data_exports").select("id").eq("id", job.id);
    expect(hidden).toEqual([]);
    expect((await bob.supabase.storage.from("exports").download(job.object_path!)).error).not.toBeNull();
    expect((await owner.supabase.storage.from("exports").download(job.object_path!)).error).not.toBeNull();

    const download = await fetch(job.download_url!);
    expect(download.status).toBe(200);
    const dir = mkdtempSync(path.join(tmpdir(), "gdpr-export-"));
    dirs.push(dir);
    writeFileSync(path.join(dir, "archive.tar.gz"), new Uint8Array(await download.arrayBuffer()));
    execFileSync("tar", ["-xzf", "archive.tar.gz"], { cwd: dir });

    const doc = JSON.parse(readFileSync(path.join(dir, "export.json"), "utf8")) as {
      account: { id: string; email: string };
      profile: { username: string };
      memberships: { chat_id: string; role: string }[];
      messages: { id: string; seq: number; body: string }[];
      files: { bucket: string; name: string }[];
    };
    expect(doc.account).toMatchObject({ id: owner.id, email: owner.email });
    const dbMessages = await db()<{ id: string; seq: number; body: string }[]>`
      select id, seq::int, body from public.messages where author_id = ${owner.id} order by created_at, id`;
    expect(doc.messages).toHaveLength(10000);
    expect(doc.messages.map((m) => [m.id, Number(m.seq), m.body])).toEqual(dbMessages.map((m) => [m.id, m.seq, m.body]));
    expect(doc.memberships).toEqual([expect.objectContaining({ chat_id: chatId, role: "owner" })]);
    const [dbProfile] = await db()<{ username: string }[]>`select username from public.profiles where id = ${owner.id}`;
    expect(doc.profile.username).toBe(dbProfile!.username);
    expect(doc.files.map((f) => f.name).sort()).toEqual([...files.keys()].sort());
    for (const [name, content] of files) {
      expect(readFileSync(path.join(dir, "files", "attachments", name), "utf8")).toBe(content);
    }
    expect(readdirSync(path.join(dir, "files"))).toEqual(["attachments"]);
  }, 120_000);

  it("refuses callers that are not a signed-in user", async () => {
    expect((await invokeStatus(serviceClient(), "gdpr-export")).status).toBe(403);
    expect((await invokeStatus(anonClient(), "gdpr-export")).status).toBe(403);
  });
});

describe.runIf(stack.functions)("disappearing messages", () => {
  it("an admin sets a TTL; expired messages become tombstones for members and their files leave Storage", async () => {
    const [alice, bob, carol] = await Promise.all([actor("alice"), actor("bob"), actor("carol")]);
    const chatId = await group(alice, [bob, carol]);
    const { error: refused } = await carol.supabase.rpc("set_disappearing_messages", { chat_id: chatId, ttl_seconds: 3600 });
    expect(refused?.code).toBe("42501");
    const { data: setting, error } = await alice.supabase.rpc("set_disappearing_messages", { chat_id: chatId, ttl_seconds: 3600 });
    expect(error).toBeNull();
    expect(setting).toMatchObject({ chat_id: chatId, message_ttl: "01:00:00" });
    const { data: seen } = await bob.supabase.from("chat_retention").select("message_ttl").eq("chat_id", chatId).single();
    expect(seen).toEqual({ message_ttl: "01:00:00" });

    const fileId = crypto.randomUUID();
    const filePath = `${chatId}/${fileId}/old-notes.txt`;
    expect((await bob.supabase.storage.from("attachments").upload(filePath, new Blob(["old notes"], { type: "text/plain" }), { contentType: "text/plain" })).error).toBeNull();
    const old = await call(bob, "send_message", { chat_id: chatId, kind: "file", body: "old words", attachment_ids: [fileId] }) as { id: string; seq: number };
    const fresh = await message(bob, chatId, "fresh words");
    await db()`update public.messages set created_at = now() - interval '2 hours' where id = ${old.id}`;

    // What pg_cron runs every minute.
    const [expired] = await db()<{ n: number }[]>`select private.expire_messages() as n`;
    expect(expired?.n).toBe(1);

    const { data: history } = await carol.supabase.from("messages").select("id, body, deleted_at, attachments(id)").eq("chat_id", chatId).order("seq");
    expect(history!.find((m) => m.id === old.id)).toMatchObject({ body: null, attachments: [] });
    expect(history!.find((m) => m.id === old.id)!.deleted_at).not.toBeNull();
    expect(history!.find((m) => m.id === fresh.id)).toMatchObject({ body: "fresh words", deleted_at: null });
    const { data: events } = await carol.supabase.rpc("get_chat_events", { chat_id: chatId, after_cursor: 0 });
    const names = (events as { events: { event: string; data: { message_id?: string } }[] }).events
      .filter((e) => e.data.message_id === old.id).map((e) => e.event);
    expect(names.at(-1)).toBe("message.deleted");

    // The job woke attachments-cleanup through pg_net: the file leaves Storage.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const rows = await db()`select 1 from storage.objects where bucket_id = 'attachments' and name = ${filePath}`;
      if (rows.length === 0) break;
      if (Date.now() > deadline) throw new Error(`${filePath} is still in Storage`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await bob.supabase.storage.from("attachments").download(filePath)).error).not.toBeNull();
  });
});
