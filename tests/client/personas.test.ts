// The persona matrix's key refusals over HTTP, with the status codes a supabase-js app really receives
// (docs/errors.md): anon 401, a signed-in user without the right 403, "not found or not yours" 404 (PT404), RLS
// filtering 200 with no rows, Storage refusals as statusCode "403". docs/security.md has the full matrix in SQL.
import { beforeAll, describe, expect, it } from "vitest";
import { anonClient, stack } from "./support/clients.ts";
import { actor, call, group, message, type Actor } from "./support/world.ts";

interface Answer {
  status: number;
  code?: string | undefined;
  rows?: number;
}

/** The HTTP status and error code of the last request `a` made, plus the row count of `data` when it is an array. */
function answer(a: Actor, result: { data: unknown; error: { code?: string } | null }): Answer {
  const last = a.log.at(-1)!;
  return {
    status: last.status,
    code: result.error?.code,
    ...(Array.isArray(result.data) ? { rows: result.data.length } : {}),
  };
}

let owner: Actor, admin: Actor, member: Actor, outsider: Actor, banned: Actor, blocker: Actor, blocked: Actor;
let chatId: string;
let messageId: string;

beforeAll(async () => {
  [owner, admin, member, outsider, banned, blocker, blocked] = await Promise.all([
    actor("owner"), actor("admin"), actor("member"), actor("outsider"), actor("banned"), actor("blocker"), actor("blocked"),
  ]);
  chatId = await group(owner, [admin, member, banned]);
  await call(owner, "set_member_role", { chat_id: chatId, user_id: admin.id, role: "admin" });
  await call(owner, "ban_chat_member", { chat_id: chatId, user_id: banned.id });
  messageId = (await message(member, chatId, "members only")).id;
  const { error } = await blocker.supabase.from("user_blocks").insert({ blocker_id: blocker.id, blocked_id: blocked.id });
  if (error) throw error;
});

describe("personas over HTTP", () => {
  it("reading a chat's messages: members get rows; outsiders and banned users get 200 with none; anon 401", async () => {
    const read = async (a: Actor) => answer(a, await a.supabase.from("messages").select("id").eq("chat_id", chatId));
    for (const a of [owner, admin, member]) expect(await read(a)).toEqual({ status: 200, rows: 1 });
    for (const a of [outsider, banned]) expect(await read(a)).toEqual({ status: 200, rows: 0 });
    const anon = anonClient();
    const { error } = await anon.from("messages").select("id").eq("chat_id", chatId);
    expect(error?.code).toBe("42501");
  });

  it("sending: a member 200; an outsider and a banned user 404 PT404 (no such chat for them); anon 401", async () => {
    const send = async (a: Actor) => answer(a, await a.supabase.rpc("send_message", { chat_id: chatId, body: "hi" }));
    expect(await send(member)).toMatchObject({ status: 200 });
    expect(await send(outsider)).toEqual({ status: 404, code: "PT404" });
    expect(await send(banned)).toEqual({ status: 404, code: "PT404" });
    // supabase-js with only the publishable key, as a signed-out app sends it.
    const res = await fetch(`${stack.url}/rest/v1/rpc/send_message`, {
      method: "POST",
      headers: { apikey: stack.publishableKey, "content-type": "application/json" },
      body: JSON.stringify({ chat_id: chatId, body: "hi" }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe("42501");
  });

  it("changing chat settings: owner and admin 200; a member 403 42501; an outsider 404", async () => {
    const rename = async (a: Actor, title: string) => answer(a, await a.supabase.rpc("update_chat", { chat_id: chatId, title }));
    expect(await rename(owner, "by owner")).toMatchObject({ status: 200 });
    expect(await rename(admin, "by admin")).toMatchObject({ status: 200 });
    expect(await rename(member, "by member")).toEqual({ status: 403, code: "42501" });
    expect(await rename(outsider, "by outsider")).toEqual({ status: 404, code: "PT404" });
  });

  it("removing members: an admin removes a member; a member cannot remove an admin (403); nobody removes the owner", async () => {
    const extra = await actor("extra");
    await call(owner, "add_chat_members", { chat_id: chatId, user_ids: [extra.id] });
    const remove = async (a: Actor, who: Actor) => answer(a, await a.supabase.rpc("remove_chat_member", { chat_id: chatId, user_id: who.id }));
    expect(await remove(member, admin)).toEqual({ status: 403, code: "42501" });
    expect(await remove(admin, owner)).toEqual({ status: 403, code: "42501" });
    expect(await remove(admin, extra)).toMatchObject({ status: 204 });
  });

  it("editing: only the author; another member 403, an outsider 404", async () => {
    const edit = async (a: Actor) => answer(a, await a.supabase.rpc("edit_message", { message_id: messageId, body: "changed" }));
    expect(await edit(owner)).toEqual({ status: 403, code: "42501" });
    expect(await edit(outsider)).toEqual({ status: 404, code: "PT404" });
    expect(await edit(member)).toMatchObject({ status: 200 });
  });

  it("a block: neither side may open a direct chat with the other (403)", async () => {
    const open = async (a: Actor, other: Actor) => answer(a, await a.supabase.rpc("create_direct_chat", { user_id: other.id }));
    expect(await open(blocked, blocker)).toEqual({ status: 403, code: "42501" });
    expect(await open(blocker, blocked)).toEqual({ status: 403, code: "42501" });
  });

  it("direct table writes are refused: 403 for a signed-in user (no grant), even the chat's owner", async () => {
    const { error } = await owner.supabase.from("messages").update({ body: "rewritten" }).eq("id", messageId);
    expect(error?.code).toBe("42501");
    expect(owner.log.at(-1)!.status).toBe(403);
  });

  it("uploads to a chat's files: a member may; an outsider and a banned user get statusCode 403", async () => {
    const upload = async (a: Actor) =>
      a.supabase.storage.from("attachments").upload(`${chatId}/${crypto.randomUUID()}/note.txt`, new Blob(["x"], { type: "text/plain" }), { contentType: "text/plain" });
    expect((await upload(member)).error).toBeNull();
    for (const a of [outsider, banned]) {
      const { error } = await upload(a);
      expect((error as { statusCode?: string } | null)?.statusCode).toBe("403");
    }
  });
});
