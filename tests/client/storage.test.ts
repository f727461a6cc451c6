// Storage through the real supabase-js client against the local Storage API (stack/storage). Uploads run the
// permission probe as the caller (rolled back) and the final write as the service role, as Supabase's Storage API
// does, so our policies and triggers on storage.objects decide exactly as in production.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceClient, stack } from "./support/clients.ts";
import { groupChat } from "./support/chats.ts";
import { db, signedInUser, type SignedInUser } from "./support/users.ts";

const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);
const png = (n = 64, fill = 7) => new Blob([bytes(n, fill)], { type: "image/png" });
const text = (s: string) => new Blob([s], { type: "text/plain" });

let alice: SignedInUser;
let mia: SignedInUser;
let otto: SignedInUser;
let chat: string;
const attachmentPath = (name: string, id: string = randomUUID()) => `${chat}/${id}/${name}`;

async function objectRow(bucket: string, name: string) {
  const [row] = await db()<{ owner_id: string; metadata: Record<string, unknown>; user_metadata: Record<string, unknown> | null }[]>`
    select owner_id, metadata, user_metadata from storage.objects where bucket_id = ${bucket} and name = ${name}`;
  return row;
}

beforeAll(async () => {
  [alice, mia, otto] = await Promise.all([signedInUser("alice"), signedInUser("mia"), signedInUser("otto")]);
  chat = await groupChat(alice, [mia]);
});

describe("avatars", () => {
  it("its owner uploads an avatar to their own folder; the final row carries Storage's full metadata", async () => {
    const { data, error } = await alice.client.storage.from("avatars").upload(`${alice.id}/me.png`, png());
    expect(error).toBeNull();
    expect(data).toMatchObject({ path: `${alice.id}/me.png`, fullPath: `avatars/${alice.id}/me.png` });
    const row = await objectRow("avatars", `${alice.id}/me.png`);
    expect(row!.owner_id).toBe(alice.id);
    expect(row!.metadata).toMatchObject({ size: 64, mimetype: "image/png", cacheControl: "max-age=3600", contentLength: 64, httpStatusCode: 200 });
    expect(Object.keys(row!.metadata).sort()).toEqual(["cacheControl", "contentLength", "eTag", "httpStatusCode", "lastModified", "mimetype", "size"]);
  });

  it("another user cannot upload into someone's folder (403, Storage's RLS message)", async () => {
    const { error } = await otto.client.storage.from("avatars").upload(`${alice.id}/evil.png`, png());
    expect(error).toMatchObject({ statusCode: "403", status: 400, message: "new row violates row-level security policy" });
    expect(await objectRow("avatars", `${alice.id}/evil.png`)).toBeUndefined();
  });

  it("an avatar over the bucket's 2 MiB limit is refused by Storage itself (413)", async () => {
    const { error } = await alice.client.storage.from("avatars").upload(`${alice.id}/big.png`, bytes(2 * 1024 * 1024 + 1), { contentType: "image/png" });
    expect(error).toMatchObject({ statusCode: "413", message: "The object exceeded the maximum allowed size" });
    const multipart = await alice.client.storage.from("avatars").upload(`${alice.id}/big2.png`, png(2 * 1024 * 1024 + 1));
    expect(multipart.error).toMatchObject({ statusCode: "413" });
  });

  it("an avatar that is not an allowed image type is refused (415)", async () => {
    const { error } = await alice.client.storage.from("avatars").upload(`${alice.id}/cv.pdf`, new Blob(["%PDF"], { type: "application/pdf" }));
    expect(error).toMatchObject({ statusCode: "415", message: "mime type application/pdf is not supported" });
  });

  it("our trigger's refusals reach the client as 403 with our message", async () => {
    const { error } = await alice.client.storage.from("avatars").upload(`${alice.id}/a/b.png`, png());
    expect(error).toMatchObject({ statusCode: "403", message: "invalid avatar path" });
  });

  it("an object name cannot climb out of its bucket's directory", async () => {
    const res = await fetch(`${stack.url}/storage/v1/object/avatars/${alice.id}/..%2F..%2F..%2Fescape.png`, {
      method: "POST",
      headers: { apikey: stack.publishableKey, authorization: `Bearer ${alice.accessToken}`, "content-type": "image/png" },
      body: new Uint8Array([1, 2, 3]),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ statusCode: "400", code: "InvalidKey" });
  });

  it("uploading over an existing avatar needs upsert: 409 without, replaced with", async () => {
    const path = `${alice.id}/up.png`;
    expect((await alice.client.storage.from("avatars").upload(path, png(10, 1))).error).toBeNull();
    const again = await alice.client.storage.from("avatars").upload(path, png(10, 2));
    expect(again.error).toMatchObject({ statusCode: "409", message: "The resource already exists" });
    expect((await alice.client.storage.from("avatars").upload(path, png(20, 3), { upsert: true })).error).toBeNull();
    const { data } = await alice.client.storage.from("avatars").download(path);
    expect(new Uint8Array(await data!.arrayBuffer())).toEqual(bytes(20, 3));
    expect((await objectRow("avatars", path))!.metadata.size).toBe(20);
  });

  it("anyone downloads an avatar from its public URL, whole or by Range, and ?download= names the file", async () => {
    const path = `${alice.id}/public.png`;
    await alice.client.storage.from("avatars").upload(path, new Blob([new TextEncoder().encode("0123456789")], { type: "image/png" }));
    const { data } = alice.client.storage.from("avatars").getPublicUrl(path, { download: "mine.png" });
    const res = await fetch(data.publicUrl);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("0123456789");
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("content-disposition")).toBe("attachment; filename=mine.png; filename*=UTF-8''mine.png");
    const ranged = await fetch(alice.client.storage.from("avatars").getPublicUrl(path).data.publicUrl, { headers: { range: "bytes=2-5" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe("bytes 2-5/10");
    expect(await ranged.text()).toBe("2345");
  });
});

describe("attachments", () => {
  it("a member uploads to their chat; the attachment row is registered with the real size", async () => {
    const id = randomUUID();
    const path = attachmentPath("notes.txt", id);
    const { error } = await mia.client.storage.from("attachments").upload(path, text("hello world"), { metadata: { note: "x" } });
    expect(error).toBeNull();
    const [a] = await db()`select uploader_id, size_bytes, mime_type, scan_status from public.attachments where id = ${id}`;
    expect(a).toMatchObject({ uploader_id: mia.id, size_bytes: "11", mime_type: "text/plain", scan_status: "pending" });
    expect((await objectRow("attachments", path))!.user_metadata).toEqual({ note: "x" });
  });

  it("an outsider cannot upload into a chat they are not in (403)", async () => {
    const { error } = await otto.client.storage.from("attachments").upload(attachmentPath("x.txt"), text("nope"));
    expect(error).toMatchObject({ statusCode: "403", message: "new row violates row-level security policy" });
  });

  it("an executable name is refused at the probe with our message (403)", async () => {
    const { error } = await mia.client.storage.from("attachments").upload(attachmentPath("setup.exe"), new Blob(["MZ"], { type: "application/pdf" }));
    expect(error).toMatchObject({ statusCode: "403", message: "executable files are not allowed" });
  });

  it("a type outside the bucket's list is refused by Storage (415)", async () => {
    const { error } = await mia.client.storage.from("attachments").upload(attachmentPath("a.bin"), new Blob(["x"], { type: "application/x-msdownload" }));
    expect(error).toMatchObject({ statusCode: "415" });
  });

  it("an image over its 20 MiB per-type limit is refused at the final write with our message (403), and nothing is left", async () => {
    const id = randomUUID();
    const path = attachmentPath("huge.png", id);
    const { error } = await mia.client.storage.from("attachments").upload(path, bytes(20 * 1024 * 1024 + 1), { contentType: "image/png" });
    expect(error).toMatchObject({ statusCode: "403", message: "file is too large" });
    expect(await objectRow("attachments", path)).toBeUndefined();
    expect(await db()`select 1 from public.attachments where id = ${id}`).toHaveLength(0);
  });

  it("the uploader downloads their file (authenticated); another member cannot before it is clean and sent", async () => {
    const path = attachmentPath("mine.txt");
    await mia.client.storage.from("attachments").upload(path, text("secret"));
    const own = await mia.client.storage.from("attachments").download(path);
    expect(await own.data!.text()).toBe("secret");
    const other = await alice.client.storage.from("attachments").download(path);
    expect(other.error).toMatchObject({ statusCode: "404" });
    const res = await fetch(`${stack.url}/storage/v1/object/authenticated/attachments/${path}`, {
      headers: { apikey: stack.publishableKey, authorization: `Bearer ${mia.accessToken}`, range: "bytes=-3" },
    });
    expect(res.status).toBe(206);
    expect(await res.text()).toBe("ret");
  });
});

describe("the permission probe", () => {
  const marker = randomUUID();
  beforeAll(async () => {
    // Sequences are not transactional: they record the probe even though its transaction is rolled back.
    await db().unsafe(`
      create sequence if not exists public.probe_as_caller_${marker.replace(/-/g, "")};
      create sequence if not exists public.final_as_service_${marker.replace(/-/g, "")};
      create function public.record_storage_write_${marker.replace(/-/g, "")}() returns trigger language plpgsql as $$
      begin
        if current_setting('role') = 'authenticated' and not (new.metadata ? 'size') and new.metadata ? 'mimetype'
           and current_setting('request.jwt.claims')::jsonb ->> 'sub' = split_part(new.name, '/', 1) then
          perform nextval('public.probe_as_caller_${marker.replace(/-/g, "")}');
        elsif current_setting('role') = 'service_role' and new.metadata ? 'size' then
          perform nextval('public.final_as_service_${marker.replace(/-/g, "")}');
        end if;
        return new;
      end $$;
      create trigger record_${marker.replace(/-/g, "")} before insert or update on storage.objects
        for each row when (new.name like '%/probe-${marker}.png')
        execute function public.record_storage_write_${marker.replace(/-/g, "")}();`);
  });
  afterAll(async () => {
    const m = marker.replace(/-/g, "");
    await db().unsafe(`drop trigger record_${m} on storage.objects; drop function public.record_storage_write_${m}();
      drop sequence public.probe_as_caller_${m}; drop sequence public.final_as_service_${m};`);
  });

  it("runs as the caller with {mimetype, contentLength} and no size, is rolled back, then the service role writes once", async () => {
    const m = marker.replace(/-/g, "");
    const path = `${alice.id}/probe-${marker}.png`;
    expect((await alice.client.storage.from("avatars").upload(path, png())).error).toBeNull();
    const [counts] = await db().unsafe(`select (select last_value from public.probe_as_caller_${m}) as probe,
      (select is_called from public.probe_as_caller_${m}) as probed,
      (select last_value from public.final_as_service_${m}) as final`);
    expect(counts).toMatchObject({ probe: "1", probed: true, final: "1" });
    const rows = await db()`select metadata from storage.objects where bucket_id = 'avatars' and name = ${path}`;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.metadata.size).toBe(64);
  });
});

describe("listing, moving, copying, removing", () => {
  it("lists the files below a prefix, with limit, offset, sortBy and search", async () => {
    const s = alice.client.storage.from("avatars");
    for (const n of ["l-b.png", "l-a.png", "l-c.png"]) await s.upload(`${alice.id}/${n}`, png(5));
    const { data, error } = await s.list(alice.id, { search: "l-" });
    expect(error).toBeNull();
    expect(data!.map((f) => f.name)).toEqual(["l-a.png", "l-b.png", "l-c.png"]);
    expect(data![0]).toMatchObject({ id: expect.any(String), metadata: { size: 5, mimetype: "image/png" } });
    const page = await s.list(alice.id, { search: "l-", limit: 1, offset: 1, sortBy: { column: "name", order: "desc" } });
    expect(page.data!.map((f) => f.name)).toEqual(["l-b.png"]);
  });

  it("lists folders (id and metadata null), and only what the caller may read", async () => {
    const id = randomUUID();
    await mia.client.storage.from("attachments").upload(attachmentPath("listed.txt", id), text("l"));
    const mine = await mia.client.storage.from("attachments").list(chat);
    expect(mine.data!.find((f) => f.name === id)).toMatchObject({ id: null, metadata: null });
    expect((await mia.client.storage.from("attachments").list(`${chat}/${id}`)).data!.map((f) => f.name)).toEqual(["listed.txt"]);
    const others = await otto.client.storage.from("attachments").list(chat);
    expect(others).toMatchObject({ data: [], error: null });
  });

  it("moves and copies an avatar within the owner's folder", async () => {
    const s = alice.client.storage.from("avatars");
    await s.upload(`${alice.id}/old.png`, png(8, 4));
    const moved = await s.move(`${alice.id}/old.png`, `${alice.id}/new.png`);
    expect(moved).toMatchObject({ data: { message: "Successfully moved" }, error: null });
    expect(await objectRow("avatars", `${alice.id}/old.png`)).toBeUndefined();
    expect(new Uint8Array(await (await s.download(`${alice.id}/new.png`)).data!.arrayBuffer())).toEqual(bytes(8, 4));
    const copied = await s.copy(`${alice.id}/new.png`, `${alice.id}/copy.png`);
    expect(copied).toMatchObject({ data: { path: `avatars/${alice.id}/copy.png` }, error: null });
    expect((await objectRow("avatars", `${alice.id}/copy.png`))!.metadata).toMatchObject({ size: 8, mimetype: "image/png" });
    const intoOthers = await s.copy(`${alice.id}/new.png`, `${otto.id}/stolen.png`);
    expect(intoOthers.error).toMatchObject({ statusCode: "403" });
  });

  it("remove deletes what RLS lets the caller delete and silently skips the rest", async () => {
    const path = `${alice.id}/gone.png`;
    await alice.client.storage.from("avatars").upload(path, png());
    const byOtto = await otto.client.storage.from("avatars").remove([path]);
    expect(byOtto).toMatchObject({ data: [], error: null });
    expect(await objectRow("avatars", path)).toBeDefined();
    const byAlice = await alice.client.storage.from("avatars").remove([path]);
    expect(byAlice.data!.map((o) => o.name)).toEqual([path]);
    expect(await objectRow("avatars", path)).toBeUndefined();
    expect((await alice.client.storage.from("avatars").download(path)).error).toMatchObject({ statusCode: "404" });
  });
});

describe("signed URLs", () => {
  it("createSignedUrl gives a URL anyone can download from until it expires; a tampered token is refused", async () => {
    const path = attachmentPath("signed.txt");
    await mia.client.storage.from("attachments").upload(path, text("signed bytes"));
    const { data, error } = await mia.client.storage.from("attachments").createSignedUrl(path, 60);
    expect(error).toBeNull();
    const res = await fetch(data!.signedUrl);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("signed bytes");
    expect(res.headers.get("expires")).toBeTruthy();
    const bad = await fetch(data!.signedUrl.replace(/token=[^&]+/, "token=x.y.z"));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ statusCode: "400", code: "InvalidJWT" });
    const outsider = await otto.client.storage.from("attachments").createSignedUrl(path, 60);
    expect(outsider.error).toMatchObject({ statusCode: "404" });
  });

  it("createSignedUploadUrl checks the caller's right at signing; the token then uploads once", async () => {
    const id = randomUUID();
    const path = attachmentPath("via-token.txt", id);
    const signed = await mia.client.storage.from("attachments").createSignedUploadUrl(path);
    expect(signed.error).toBeNull();
    const up = await serviceClient().storage.from("attachments").uploadToSignedUrl(path, signed.data!.token, text("by token"));
    expect(up).toMatchObject({ data: { path, fullPath: `attachments/${path}` }, error: null });
    const [a] = await db()`select uploader_id, size_bytes from public.attachments where id = ${id}`;
    expect(a).toMatchObject({ uploader_id: mia.id, size_bytes: "8" });
    const refused = await otto.client.storage.from("attachments").createSignedUploadUrl(attachmentPath("x.txt"));
    expect(refused.error).toMatchObject({ statusCode: "403" });
  });
});

describe("buckets (service key)", () => {
  it("creates, reads, lists, updates, empties and deletes a bucket", async () => {
    const admin = serviceClient().storage;
    const id = `tmp-${randomUUID().slice(0, 8)}`;
    expect(await admin.createBucket(id, { public: false, fileSizeLimit: "1MB", allowedMimeTypes: ["text/*"] })).toMatchObject({ data: { name: id }, error: null });
    expect((await admin.createBucket(id)).error).toMatchObject({ statusCode: "409" });
    expect((await admin.getBucket(id)).data).toMatchObject({ id, public: false, file_size_limit: 1000000, allowed_mime_types: ["text/*"] });
    expect((await admin.listBuckets()).data!.map((b) => b.id)).toContain(id);
    expect(await admin.updateBucket(id, { public: true })).toMatchObject({ data: { message: "Successfully updated" } });
    await admin.from(id).upload("a.txt", text("a"));
    expect((await admin.deleteBucket(id)).error).toMatchObject({ statusCode: "409" });
    expect((await admin.emptyBucket(id)).error).toBeNull();
    expect(await admin.deleteBucket(id)).toMatchObject({ data: { message: "Successfully deleted" } });
    expect((await admin.getBucket(id)).error).toMatchObject({ statusCode: "404" });
  });

  it("a signed-in user cannot create buckets (storage.buckets has no policies)", async () => {
    const { error } = await alice.client.storage.createBucket(`mine-${randomUUID().slice(0, 8)}`);
    expect(error).toMatchObject({ statusCode: "403", message: "new row violates row-level security policy" });
  });
});
