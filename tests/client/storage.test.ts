// Storage through the real supabase-js client against the local Storage API (stack/storage): uploads run the
// permission probe as the caller and the final write as the service role, so our policies and triggers on
// storage.objects decide exactly as on Supabase.
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { stack } from "./support/clients.ts";
import { groupChat } from "./support/chats.ts";
import { db, signedInUser, type SignedInUser } from "./support/users.ts";

const png = (bytes = 64) => new Blob([new Uint8Array(bytes).fill(7)], { type: "image/png" });

let alice: SignedInUser;
let mia: SignedInUser;
let otto: SignedInUser;
let chat: string;

beforeAll(async () => {
  [alice, mia, otto] = await Promise.all([signedInUser("alice"), signedInUser("mia"), signedInUser("otto")]);
  chat = await groupChat(alice, [mia]);
});

describe("avatars", () => {
  it("its owner uploads an avatar to their own folder", async () => {
    const { data, error } = await alice.client.storage.from("avatars").upload(`${alice.id}/me.png`, png());
    expect(error).toBeNull();
    expect(data).toMatchObject({ path: `${alice.id}/me.png`, fullPath: `avatars/${alice.id}/me.png` });
    const [row] = await db()`select owner_id, metadata from storage.objects where bucket_id = 'avatars' and name = ${`${alice.id}/me.png`}`;
    expect(row!.owner_id).toBe(alice.id);
    expect(row!.metadata).toMatchObject({ size: 64, mimetype: "image/png", cacheControl: "max-age=3600", contentLength: 64, httpStatusCode: 200 });
  });

  it("another user cannot upload into someone's folder (403)", async () => {
    const { error } = await otto.client.storage.from("avatars").upload(`${alice.id}/evil.png`, png());
    expect(error).toMatchObject({ statusCode: "403", status: 400, message: "new row violates row-level security policy" });
  });
});
