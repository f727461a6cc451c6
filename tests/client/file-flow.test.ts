// The whole file flow through the stack as an app sees it: upload with supabase-js -> the database queues the scan
// (pg_net) -> the stack's pg_net worker calls the `scan` function -> clamd's verdict -> the `thumbnail` function ->
// send the message -> another member downloads through a signed URL -> the uploader deletes the file.
import { describe, expect, it } from "vitest";
import { eicar } from "../../scripts/lib/clamd.ts";
import { stack } from "./support/clients.ts";
import { db } from "./support/users.ts";
import { actor, call, group } from "./support/world.ts";

/** A 2x2 PNG (red, green, blue, white), decodable by the thumbnail function. */
const PNG = Uint8Array.from(
  atob("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEklEQVR4nGP4z8DAAMIM/4EAAB/uBfsL2WiLAAAAAElFTkSuQmCC"),
  (c) => c.charCodeAt(0),
);

interface AttachmentState {
  scan_status: string;
  thumbnail_status: string | null;
  thumbnail_path: string | null;
}

/**
 * Waits until the attachment row satisfies `done`: the scan and thumbnail run asynchronously (pg_net worker polling
 * every 100 ms, then clamd and the thumbnail function), so this polls the row for at most 20 s.
 */
async function until(id: string, done: (a: AttachmentState) => boolean): Promise<AttachmentState> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const [row] = await db()<AttachmentState[]>`
      select scan_status::text, thumbnail_status::text, thumbnail_path from public.attachments where id = ${id}`;
    if (row && done(row)) return row;
    if (Date.now() > deadline) throw new Error(`attachment ${id} stayed ${JSON.stringify(row)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.runIf(stack.functions)("file flow through the stack", () => {
  it("upload -> scan clean -> thumbnail -> send -> a member downloads a signed URL -> the uploader deletes it", async () => {
    const [alice, bob] = await Promise.all([actor("alice"), actor("bob")]);
    const chatId = await group(alice, [bob]);
    const id = crypto.randomUUID();
    const path = `${chatId}/${id}/photo.png`;
    const up = await alice.supabase.storage.from("attachments").upload(path, new Blob([PNG], { type: "image/png" }), { contentType: "image/png" });
    expect(up.error).toBeNull();

    const done = await until(id, (a) => a.scan_status === "clean" && a.thumbnail_status === "ready");
    expect(done.thumbnail_path).toMatch(new RegExp(`^${chatId}/${id}/thumbnail/`));

    const sent = await call(alice, "send_message", { chat_id: chatId, kind: "image", body: "look", attachment_ids: [id] });
    const { data: history, error } = await bob.supabase
      .from("messages")
      .select("id, body, author:profiles!messages_author_id_fkey(username), attachments(id, object_path, thumbnail_path, scan_status)")
      .eq("chat_id", chatId)
      .order("seq", { ascending: false });
    expect(error).toBeNull();
    expect(history?.[0]).toMatchObject({ id: (sent as { id: string }).id, body: "look", attachments: [{ id, object_path: path, scan_status: "clean" }] });

    const signed = await bob.supabase.storage.from("attachments").createSignedUrl(path, 60);
    expect(signed.error).toBeNull();
    const download = await fetch(signed.data!.signedUrl);
    expect(download.status).toBe(200);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(PNG);
    const thumb = await bob.supabase.storage.from("attachments").download(done.thumbnail_path!);
    expect(thumb.error).toBeNull();
    expect((await thumb.data!.arrayBuffer()).byteLength).toBeGreaterThan(0);

    const removed = await alice.supabase.storage.from("attachments").remove([path, done.thumbnail_path!]);
    expect(removed.error).toBeNull();
    expect(removed.data?.map((o) => o.name).sort()).toEqual([path, done.thumbnail_path!].sort());
    expect(await db()`select 1 from public.attachments where id = ${id}`).toHaveLength(0);
    const gone = await bob.supabase.storage.from("attachments").download(path);
    expect(gone.error).not.toBeNull();
  });

  it("an infected upload is found by clamd, removed from Storage and never readable by other members", async () => {
    const [alice, bob] = await Promise.all([actor("alice"), actor("bob")]);
    const chatId = await group(alice, [bob]);
    const id = crypto.randomUUID();
    const path = `${chatId}/${id}/notes.txt`;
    const up = await alice.supabase.storage.from("attachments").upload(path, new Blob([eicar()], { type: "text/plain" }), { contentType: "text/plain" });
    expect(up.error).toBeNull();
    await until(id, (a) => a.scan_status === "infected");
    const [object] = await db()`select 1 from storage.objects where bucket_id = 'attachments' and name = ${path}`;
    expect(object).toBeUndefined();
    expect((await bob.supabase.storage.from("attachments").download(path)).error).not.toBeNull();
    const sent = await alice.supabase.rpc("send_message", { chat_id: chatId, kind: "file", body: "x", attachment_ids: [id] });
    expect(sent.error?.code).toBe("22023");
  });
});
