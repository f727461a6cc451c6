// The scan, thumbnail and attachments-cleanup functions with real dependencies: the migrated PostgreSQL 15 (SUPABASE_DB_URL), a real
// clamd with the test signature database (CLAMD_HOST/CLAMD_PORT, started by `npm test`), and the local stack's
// Storage API (SUPABASE_URL, started by `npm test`), reached with supabase-js exactly as in production. Uploads are
// made by the signed-in uploader through supabase-js, so the Storage API's probe and final write register the
// attachment exactly as on Supabase.

import assert from "node:assert/strict";
import jpeg from "npm:jpeg-js@0.4.4";
import { encode as encodePng } from "npm:fast-png@8.0.0";
import { createDb, type Sql } from "../../functions/_shared/db.ts";
import { signJwt } from "../../functions/_shared/jwt.ts";
import { parseClamdReply } from "../../functions/_shared/clamd.ts";
import { createScanHandler, type ScanResult } from "../../functions/_shared/scan.ts";
import { checkDeclaredType, sniffType } from "../../functions/_shared/sniff.ts";
import { createClient } from "npm:@supabase/supabase-js@2.109.0";
import { createSupabaseObjectStorage, type ObjectStorage } from "../../functions/_shared/storage.ts";
import { createThumbnailHandler, type ThumbnailResult } from "../../functions/_shared/thumbnail.ts";
import { createCleanupHandler, type CleanupResult } from "../../functions/_shared/cleanup.ts";
import { anonJwt, closedPort, databaseUrl, functionPath, jwtSecret, request, withGateway } from "./gateway-process.ts";

const clamdHost = Deno.env.get("CLAMD_HOST") ?? "127.0.0.1";
const clamdPort = Number(Deno.env.get("CLAMD_PORT") ?? "0");
const clamdStreamMax = Number(Deno.env.get("CLAMD_STREAM_MAX_BYTES") ?? String(2 * 1024 * 1024));

/** EICAR's test string, assembled at run time so that no file in the repository contains it. */
function eicar(): Uint8Array {
  return new TextEncoder().encode(["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-", "TEST-FILE!$H+H*"].join(""));
}

/** The local stack's gateway (Storage API under /storage/v1) and its keys, from `npm test`. */
function storageEnv(): { url: string; anonKey: string; serviceRoleKey: string } {
  const url = Deno.env.get("SUPABASE_URL");
  const anonKey = Deno.env.get("SUPABASE_ANON_KEY");
  const serviceRoleKey = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY");
  if (!url || !anonKey || !serviceRoleKey) {
    throw new Error("SUPABASE_URL / SUPABASE_ANON_KEY / SUPABASE_SERVICE_ROLE_KEY are not set: run the functions suite through `npm test`");
  }
  return { url, anonKey, serviceRoleKey };
}

const clientOptions = { auth: { persistSession: false, autoRefreshToken: false } };

interface World {
  sql: Sql;
  storage: ObjectStorage;
  serviceToken: string;
  userId: string;
  chatId: string;
  close(): Promise<void>;
}

async function world(): Promise<World> {
  if (!clamdPort) throw new Error("CLAMD_PORT is not set: run the functions suite through `npm test`");
  const sql = createDb(databaseUrl(), { applicationName: "supabase-chat/tests", max: 3 });
  // Where pg_net should reach the functions, as an operator stores it in Vault (requests are only recorded here).
  await sql`select vault.create_secret('http://127.0.0.1:54321/functions/v1', 'functions_url')
             where not exists (select 1 from vault.secrets where name = 'functions_url')`;
  await sql`select vault.create_secret('local-service-role-key', 'service_role_key')
             where not exists (select 1 from vault.secrets where name = 'service_role_key')`;
  const userId = crypto.randomUUID();
  await sql`
    insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                            raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
    values ('00000000-0000-0000-0000-000000000000', ${userId}, 'authenticated', 'authenticated',
            ${`files-${userId.slice(0, 8)}@example.test`}, '', now(), '{"provider":"email"}', '{}', now(), now())`;
  const [chat] = await sql<{ id: string }[]>`
    insert into public.chats (kind, title, created_by) values ('group', 'Files', ${userId}) returning id`;
  await sql`insert into public.chat_members (chat_id, user_id, role) values (${chat!.id}, ${userId}, 'owner')`;
  const now = Math.floor(Date.now() / 1000);
  return {
    sql,
    storage: createSupabaseObjectStorage(createClient(storageEnv().url, storageEnv().serviceRoleKey, clientOptions)),
    serviceToken: await signJwt({ iss: "supabase-demo", role: "service_role", iat: now, exp: now + 3600 }, jwtSecret),
    userId,
    chatId: chat!.id,
    async close() {
      await sql`delete from public.chats where id = ${chat!.id}`;
      await sql`delete from auth.users where id = ${userId}`;
      await sql.end();
    },
  };
}

/** Uploads as the Storage API does for the signed-in uploader; returns the attachment id and object path. */
async function upload(w: World, name: string, mime: string, bytes: Uint8Array): Promise<{ id: string; path: string }> {
  const id = crypto.randomUUID();
  const path = `${w.chatId}/${id}/${name}`;
  const now = Math.floor(Date.now() / 1000);
  const token = await signJwt(
    { sub: w.userId, role: "authenticated", aud: "authenticated", aal: "aal1", iat: now, exp: now + 3600 },
    jwtSecret,
  );
  const { url, anonKey } = storageEnv();
  const client = createClient(url, anonKey, { ...clientOptions, accessToken: async () => token });
  const { error } = await client.storage.from("attachments").upload(path, bytes, { contentType: mime });
  if (error) throw new Error(`upload of ${path} failed: ${error.message}`);
  return { id, path };
}

function post(token: string | null, body: unknown): Request {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  return new Request("http://localhost/scan", { method: "POST", headers, body: JSON.stringify(body) });
}

async function scan(w: World, id: string, opts: { port?: number; maxStreamBytes?: number } = {}): Promise<ScanResult> {
  const handler = createScanHandler({
    sql: w.sql,
    storage: w.storage,
    auth: { jwtSecret },
    // Waits for clamd's verdict on files of at most a few MB: well under a second idle, seconds on a loaded machine.
    // The limit only turns a clamd that never answers into a failed step; clamd itself is known ready (npm test
    // starts it and waits until it has scanned its readiness probe, see scripts/lib/clamd.ts).
    clamd: { host: clamdHost, port: opts.port ?? clamdPort, timeoutMs: 60_000 },
    maxStreamBytes: opts.maxStreamBytes,
  });
  const res = await handler(post(w.serviceToken, { attachment_id: id }));
  assert.equal(res.status, 200, await res.clone().text());
  return await res.json() as ScanResult;
}

const exists = async (path: string) => {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
};

Deno.test("scan", async (t) => {
  const w = await world();
  try {
    await t.step("a text file is scanned clean and its type recorded", async () => {
      const { id } = await upload(w, "notes.txt", "text/plain", new TextEncoder().encode("meeting notes\n".repeat(100)));
      const [before] = await w.sql`select scan_status, scan_attempts from public.attachments where id = ${id}`;
      assert.deepEqual({ ...before }, { scan_status: "pending", scan_attempts: 1 });
      const [queued] = await w.sql`select url, convert_from(body, 'UTF8')::jsonb ->> 'attachment_id' as id
                                     from net.http_request_queue order by id desc limit 1`;
      assert.deepEqual({ ...queued }, { url: "http://127.0.0.1:54321/functions/v1/scan", id });
      const result = await scan(w, id);
      assert.equal(result.scan_status, "clean");
      assert.equal(result.detected_mime_type, "text/plain");
    });

    await t.step("the EICAR test file is caught: infected, object removed, uploader's row says so, audited", async () => {
      const { id, path } = await upload(w, "readme.txt", "text/plain", eicar());
      const result = await scan(w, id);
      assert.equal(result.scan_status, "infected");
      assert.match(result.scan_signature ?? "", /^Eicar-Test-Signature/);
      assert.equal(await w.storage.open("attachments", path).then((b) => b?.cancel().then(() => true) ?? false), false, "the bytes are gone");
      const objects = await w.sql`select 1 from storage.objects where bucket_id = 'attachments' and name = ${path}`;
      assert.equal(objects.length, 0, "the storage.objects row is gone");
      const [row] = await w.sql`select scan_status, uploader_id from public.attachments where id = ${id}`;
      assert.deepEqual({ ...row }, { scan_status: "infected", uploader_id: w.userId });
      const audit = await w.sql`select action, actor_id from public.audit_log where target_id = ${id}`;
      assert.deepEqual(audit.map((r) => ({ ...r })), [{ action: "attachment.infected", actor_id: w.userId }]);
      const again = await scan(w, id);
      assert.equal(again.scan_status, "infected", "a second request changes nothing");
    });

    await t.step("EICAR inside a larger stream of several chunks is caught too", async () => {
      const padding = new TextEncoder().encode("x".repeat(200_000));
      const bytes = new Uint8Array(padding.length + eicar().length);
      bytes.set(eicar(), 0);
      bytes.set(padding, eicar().length);
      const { id } = await upload(w, "long.txt", "text/plain", bytes);
      assert.equal((await scan(w, id)).scan_status, "infected");
    });

    await t.step("clamd down: error (retryable, with backoff), never clean", async () => {
      const { id } = await upload(w, "later.txt", "text/plain", new TextEncoder().encode("hello"));
      const result = await scan(w, id, { port: closedPort() });
      assert.equal(result.scan_status, "error");
      assert.match(result.scan_error ?? "", /clamd is not reachable/);
      const [row] = await w.sql`select next_scan_at > now() as retry_later from public.attachments where id = ${id}`;
      assert.equal(row!.retry_later, true);
      assert.equal((await scan(w, id)).scan_status, "clean", "the retry with clamd up succeeds");
    });

    await t.step("over the function's stream limit: error, not retried, never clean", async () => {
      const { id } = await upload(w, "big.txt", "text/plain", new TextEncoder().encode("y".repeat(8192)));
      const result = await scan(w, id, { maxStreamBytes: 4096 });
      assert.equal(result.scan_status, "error");
      assert.match(result.scan_error ?? "", /larger than the 4096 bytes/);
      const [row] = await w.sql`select next_scan_at from public.attachments where id = ${id}`;
      assert.equal(row!.next_scan_at, null);
    });

    await t.step("over clamd's StreamMaxLength: clamd's refusal is an error, never clean", async () => {
      const { id } = await upload(w, "huge.txt", "text/plain", new TextEncoder().encode("z".repeat(clamdStreamMax + 512 * 1024)));
      const result = await scan(w, id, { maxStreamBytes: 50 * 1024 * 1024 });
      assert.equal(result.scan_status, "error");
      assert.match(result.scan_error ?? "", /size limit exceeded/i);
    });

    await t.step("bytes that contradict the declared type are refused: a program posing as a PNG", async () => {
      const program = new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, ...new Array(200).fill(0)]);
      const { id } = await upload(w, "cat.png", "image/png", program);
      const result = await scan(w, id);
      assert.equal(result.scan_status, "error");
      assert.equal(result.detected_mime_type, "application/x-executable");
      assert.match(result.scan_error ?? "", /type mismatch: the file is a program/);
    });

    await t.step("only the service role may call it; bad input and unknown ids are 400 and 404", async () => {
      const handler = createScanHandler({ sql: w.sql, storage: w.storage, auth: { jwtSecret }, clamd: { host: clamdHost, port: clamdPort } });
      const now = Math.floor(Date.now() / 1000);
      const userToken = await signJwt({ sub: w.userId, role: "authenticated", exp: now + 600 }, jwtSecret);
      const id = crypto.randomUUID();
      const status = async (req: Request) => {
        const res = await handler(req);
        await res.body?.cancel();
        return res.status;
      };
      assert.equal(await status(post(null, { attachment_id: id })), 401);
      assert.equal(await status(post(await signJwt({ role: "service_role" }, "another-secret-another-secret-xx"), { attachment_id: id })), 401);
      assert.equal(await status(post(userToken, { attachment_id: id })), 403);
      assert.equal(await status(post(w.serviceToken, { attachment_id: "nope" })), 400);
      assert.equal(await status(post(w.serviceToken, { attachment_id: id })), 404);
      assert.equal(await status(new Request("http://localhost/scan", { method: "OPTIONS" })), 204);
    });
  } finally {
    await w.close();
  }
});

Deno.test("clamd replies and type sniffing", () => {
  assert.deepEqual(parseClamdReply("stream: OK\0"), { status: "clean" });
  assert.deepEqual(parseClamdReply("stream: Eicar-Test-Signature FOUND\0"), { status: "infected", signature: "Eicar-Test-Signature" });
  assert.deepEqual(parseClamdReply("INSTREAM size limit exceeded. ERROR\0"), {
    status: "error", message: "INSTREAM size limit exceeded. ERROR", tooLarge: true,
  });
  assert.equal(parseClamdReply("").status, "error");
  const png = encodePng({ width: 2, height: 2, data: new Uint8Array(16), channels: 4, depth: 8 });
  assert.equal(sniffType(png), "image/png");
  assert.equal(sniffType(new TextEncoder().encode("%PDF-1.7\n")), "application/pdf");
  assert.equal(sniffType(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1])), "application/x-executable");
  assert.equal(sniffType(new TextEncoder().encode("#!/bin/sh\nrm -rf /\n")), "application/x-executable");
  assert.ok(checkDeclaredType("image/png", png).ok);
  assert.ok(!checkDeclaredType("application/pdf", png).ok);
  assert.ok(checkDeclaredType("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    new Uint8Array([0x50, 0x4b, 0x03, 0x04, 20, 0])).ok);
  assert.ok(checkDeclaredType("text/csv", new TextEncoder().encode("a,b\n1,2\n")).ok);
});

/** A real image: a colour gradient with a diagonal stripe. */
function gradient(width: number, height: number, alpha = false): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = Math.round((x / width) * 255);
      data[i + 1] = Math.round((y / height) * 255);
      data[i + 2] = Math.abs(x - y) < 8 ? 255 : 40;
      data[i + 3] = alpha ? Math.round((x / width) * 255) : 255;
    }
  }
  return data;
}

Deno.test("thumbnail", async (t) => {
  const w = await world();
  const handler = createThumbnailHandler({ sql: w.sql, storage: w.storage, auth: { jwtSecret } });
  const thumbnail = async (id: string, expected = 200): Promise<ThumbnailResult> => {
    const res = await handler(new Request("http://localhost/thumbnail", {
      method: "POST",
      headers: { authorization: `Bearer ${w.serviceToken}`, "content-type": "application/json" },
      body: JSON.stringify({ attachment_id: id }),
    }));
    assert.equal(res.status, expected, await res.clone().text());
    return await res.json() as ThumbnailResult;
  };
  const cleanImage = async (name: string, mime: string, bytes: Uint8Array) => {
    const up = await upload(w, name, mime, bytes);
    const result = await scan(w, up.id);
    assert.equal(result.scan_status, "clean", JSON.stringify(result));
    return up;
  };
  const readThumbnail = async (path: string) =>
    jpeg.decode(new Uint8Array(await new Response(await w.storage.open("attachments", path)).arrayBuffer()), { useTArray: true });
  try {
    await t.step("a PNG (with transparency) gets a JPEG thumbnail of at most 320 px; its size is recorded", async () => {
      const png = encodePng({ width: 800, height: 600, data: gradient(800, 600, true), channels: 4, depth: 8 });
      const { id } = await cleanImage("landscape.png", "image/png", png);
      const [row] = await w.sql`select thumbnail_status from public.attachments where id = ${id}`;
      assert.equal(row!.thumbnail_status, "pending", "a clean image waits for its thumbnail");
      const result = await thumbnail(id);
      assert.equal(result.thumbnail_status, "ready");
      assert.equal(result.thumbnail_path, `${w.chatId}/${id}/thumbnail/320.jpg`);
      assert.deepEqual([result.width, result.height], [800, 600]);
      const thumb = await readThumbnail(result.thumbnail_path!);
      assert.deepEqual([thumb.width, thumb.height], [320, 240]);
      const [object] = await w.sql`select metadata ->> 'mimetype' as mime from storage.objects where name = ${result.thumbnail_path}`;
      assert.equal(object!.mime, "image/jpeg");
    });

    await t.step("a tall JPEG is scaled by its height; the colours survive", async () => {
      const data = gradient(300, 1000);
      const bytes = new Uint8Array(jpeg.encode({ width: 300, height: 1000, data }, 90).data);
      const { id } = await cleanImage("portrait.jpg", "image/jpeg", bytes);
      const result = await thumbnail(id);
      assert.deepEqual([result.width, result.height], [300, 1000]);
      const thumb = await readThumbnail(result.thumbnail_path!);
      assert.deepEqual([thumb.width, thumb.height], [96, 320]);
      const last = (thumb.width * thumb.height - 1) * 4;
      assert.ok(thumb.data[last]! > 200 && thumb.data[last + 1]! > 200, "bottom right stays red+green");
    });

    await t.step("a small image is not enlarged", async () => {
      const png = encodePng({ width: 100, height: 50, data: gradient(100, 50), channels: 4, depth: 8 });
      const { id } = await cleanImage("small.png", "image/png", png);
      const thumb = await readThumbnail((await thumbnail(id)).thumbnail_path!);
      assert.deepEqual([thumb.width, thumb.height], [100, 50]);
    });

    await t.step("a broken image records failed with the reason, and the function keeps working", async () => {
      const good = encodePng({ width: 64, height: 64, data: gradient(64, 64), channels: 4, depth: 8 });
      const broken = good.slice(0, 60);
      const { id } = await cleanImage("broken.png", "image/png", broken);
      const result = await thumbnail(id);
      assert.equal(result.thumbnail_status, "failed");
      assert.match(result.thumbnail_error ?? "", /PNG could not be decoded/);
      assert.equal(result.thumbnail_path, null);
    });

    await t.step("a GIF is recorded as unsupported; a file that is not clean gets 409", async () => {
      const gif = new TextEncoder().encode("GIF89a\u0001\u0000\u0001\u0000\u0000\u0000\u0000;");
      const { id } = await cleanImage("anim.gif", "image/gif", gif);
      assert.equal((await thumbnail(id)).thumbnail_status, "unsupported");
      const pending = await upload(w, "waiting.png", "image/png",
        encodePng({ width: 4, height: 4, data: gradient(4, 4), channels: 4, depth: 8 }));
      const res = await thumbnail(pending.id, 409);
      assert.equal((res as unknown as { code: string }).code, "NOT_CLEAN");
    });
  } finally {
    await w.close();
  }
});

Deno.test("scan and thumbnail served by the functions gateway, as the database calls them", async () => {
  const w = await world();
  try {
    const png = encodePng({ width: 640, height: 480, data: gradient(640, 480), channels: 4, depth: 8 });
    const { id } = await upload(w, "served.png", "image/png", png);
    await withGateway({
      functions: {
        scan: { entrypoint: functionPath("functions", "scan", "index.ts"), verifyJwt: true },
        thumbnail: { entrypoint: functionPath("functions", "thumbnail", "index.ts"), verifyJwt: true },
      },
      env: {
        SUPABASE_DB_URL: databaseUrl(),
        SUPABASE_URL: storageEnv().url,
        SUPABASE_SERVICE_ROLE_KEY: storageEnv().serviceRoleKey,
        CLAMD_HOST: clamdHost,
        CLAMD_PORT: String(clamdPort),
      },
    }, async (gateway) => {
      const call = async (name: string, token: string | null) =>
        await request(`${gateway.baseUrl}/${name}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ attachment_id: id }),
        });
      assert.equal((await call("scan", null)).status, 401, "the gateway refuses a call without a token");
      const anon = await call("scan", await anonJwt());
      assert.equal(anon.status, 403, "the function refuses the anon key");
      assert.equal((anon.body as { code: string }).code, "FORBIDDEN");
      const scanned = await call("scan", w.serviceToken);
      assert.equal(scanned.status, 200, JSON.stringify(scanned.body));
      assert.equal((scanned.body as ScanResult).scan_status, "clean");
      const thumb = await call("thumbnail", w.serviceToken);
      assert.equal(thumb.status, 200, JSON.stringify(thumb.body));
      assert.equal((thumb.body as ThumbnailResult).thumbnail_status, "ready");
    });
    const [row] = await w.sql`select scan_status, thumbnail_status, width, height from public.attachments where id = ${id}`;
    assert.deepEqual({ ...row }, { scan_status: "clean", thumbnail_status: "ready", width: 640, height: 480 });
  } finally {
    await w.close();
  }
});

Deno.test("attachments-cleanup", async (t) => {
  const w = await world();
  try {
    const png = encodePng({ width: 4, height: 4, data: gradient(4, 4), channels: 4, depth: 8 });
    const old = await upload(w, "old.png", "image/png", png);
    const thumbPath = `${w.chatId}/${old.id}/thumbnail/old.jpg`;
    await w.storage.upload("attachments", thumbPath, new Uint8Array([0xff, 0xd8, 0xff]), "image/jpeg");
    const fresh = await upload(w, "fresh.png", "image/png", png);
    const sent = await upload(w, "sent.png", "image/png", png);
    const [message] = await w.sql<{ id: string }[]>`
      insert into public.messages (chat_id, seq, author_id, kind, body)
      values (${w.chatId}, 1, ${w.userId}, 'image', 'sent') returning id`;
    await w.sql`update public.attachments set message_id = ${message!.id} where id = ${sent.id}`;
    await w.sql`update public.attachments set thumbnail_path = ${thumbPath} where id = ${old.id}`;
    await w.sql`update public.attachments set created_at = now() - interval '25 hours' where id in (${old.id}, ${sent.id})`;
    // The earlier tests' chats were deleted, which queued their files; their storage directories are gone already.
    await w.sql`delete from private.storage_trash where name not like ${w.chatId + "/%"}`;

    const exists = async (name: string) => {
      const [row] = await w.sql<{ n: number }[]>`
        select count(*)::int as n from storage.objects where bucket_id = 'attachments' and name = ${name}`;
      const body = await w.storage.open("attachments", name);
      await body?.cancel();
      const onDisk = body !== null;
      return { row: row!.n === 1, onDisk };
    };
    const rowOf = async (id: string) =>
      (await w.sql<{ id: string }[]>`select id from public.attachments where id = ${id}`).length === 1;
    const call = (handler: (r: Request) => Promise<Response>, token: string | null, body: unknown = {}) =>
      handler(new Request("http://localhost/attachments-cleanup", {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      }));
    const auth = { serviceRoleKey: undefined, jwtSecret };

    await t.step("refuses callers without the service role and bad input, and changes nothing", async () => {
      const handler = createCleanupHandler({ sql: w.sql, storage: w.storage, auth });
      assert.equal((await call(handler, null)).status, 401);
      assert.equal((await call(handler, await anonJwt())).status, 403);
      assert.equal((await call(handler, w.serviceToken, { max_objects: 0 })).status, 400);
      assert.equal((await call(handler, w.serviceToken, { extra: true })).status, 400);
      assert.equal((await handler(new Request("http://localhost/attachments-cleanup"))).status, 405);
      assert.ok(await rowOf(old.id), "the expired upload is still there");
    });

    await t.step("a Storage failure keeps the objects queued and counts the attempt", async () => {
      const failing: ObjectStorage = { ...w.storage, remove: () => Promise.reject(new Error("storage is down")) };
      const res = await call(createCleanupHandler({ sql: w.sql, storage: failing, auth }), w.serviceToken);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json() as CleanupResult, { removed: 0, failed: 2 });
      assert.equal(await rowOf(old.id), false, "the expired upload is claimed: a send can no longer use it");
      const queue = await w.sql<{ name: string; attempts: number; last_error: string }[]>`
        select name, attempts, last_error from private.storage_trash
         where name in (${old.path}, ${thumbPath}) order by name`;
      assert.deepEqual(queue.map((q) => ({ ...q })), [
        { name: old.path, attempts: 1, last_error: "storage is down" },
        { name: thumbPath, attempts: 1, last_error: "storage is down" },
      ]);
      assert.deepEqual(await exists(old.path), { row: true, onDisk: true });
    });

    await t.step("removes the expired upload and its thumbnail, and nothing else", async () => {
      const res = await call(createCleanupHandler({ sql: w.sql, storage: w.storage, auth }), w.serviceToken);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json() as CleanupResult, { removed: 2, failed: 0 });
      assert.deepEqual(await exists(old.path), { row: false, onDisk: false });
      assert.deepEqual(await exists(thumbPath), { row: false, onDisk: false });
      assert.equal((await w.sql`select 1 from private.storage_trash where name in (${old.path}, ${thumbPath})`).length, 0);
      assert.ok(await rowOf(fresh.id), "a recent unsent upload stays");
      assert.deepEqual(await exists(fresh.path), { row: true, onDisk: true });
      assert.ok(await rowOf(sent.id), "an old file that was sent stays");
      assert.deepEqual(await exists(sent.path), { row: true, onDisk: true });
      const again = await call(createCleanupHandler({ sql: w.sql, storage: w.storage, auth }), w.serviceToken);
      assert.deepEqual(await again.json() as CleanupResult, { removed: 0, failed: 0 });
    });
  } finally {
    await w.close();
  }
});
