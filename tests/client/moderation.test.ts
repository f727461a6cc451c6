// Moderation through the real supabase-js client and the local stack: app moderators come from Auth's app_metadata
// (only the service role sets it; it reaches the access token on the next refresh, and the database reads it at
// once), a suspended user reads but cannot write (HTTP 403, 42501), a muted member and the members of a frozen chat
// cannot post, a word filter masks and blocks, and the reporter is told the outcome in their inbox.
import { createClient } from "@supabase/supabase-js";
import { describe, expect, it } from "vitest";
import type { Database } from "../../types/database.ts";
import { serviceClient, stack } from "./support/clients.ts";
import { newAddress } from "./support/mail.ts";
import { actor, call, group, message, type Actor } from "./support/world.ts";

const PASSWORD = "Correct-Horse-9-Battery";

/** A confirmed account signed in with its password through Auth (a real session with a refresh token). */
async function signedIn(name: string) {
  const email = newAddress(name);
  const { data: created, error } = await serviceClient().auth.admin.createUser({ email, password: PASSWORD, email_confirm: true });
  if (error) throw error;
  const supabase = createClient<Database>(stack.url, stack.publishableKey, { auth: { persistSession: false, autoRefreshToken: false } });
  const { data, error: signInError } = await supabase.auth.signInWithPassword({ email, password: PASSWORD });
  if (signInError) throw signInError;
  return { id: created.user.id, supabase, accessToken: data.session.access_token };
}

function claimsOf(token: string): { app_metadata?: Record<string, unknown> } {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
}

async function lastStatus(a: Actor): Promise<number> {
  return a.log.at(-1)!.status;
}

describe("app moderators", () => {
  it("a user cannot give themselves app_metadata; the service role can, and the role reaches the token on refresh", async () => {
    const user = await signedIn("wannabe");
    const res = await fetch(`${stack.url}/auth/v1/user`, {
      method: "PUT",
      headers: { apikey: stack.publishableKey, authorization: `Bearer ${user.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify({ app_metadata: { app_role: "moderator" } }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error_code?: string }).error_code).toBe("not_admin");
    const { error: refused } = await user.supabase.rpc("suspend_user", { user_id: user.id });
    expect(refused?.code).toBe("42501");

    const { error } = await serviceClient().auth.admin.updateUserById(user.id, { app_metadata: { app_role: "moderator" } });
    expect(error).toBeNull();
    const { data: refreshed } = await user.supabase.auth.refreshSession();
    expect(claimsOf(refreshed.session!.access_token).app_metadata?.app_role).toBe("moderator");
    const { error: filterError } = await user.supabase.rpc("add_word_filter", { word: "clientword" });
    expect(filterError).toBeNull();
  });
});

describe("suspension, mutes, frozen chats and word filters over HTTP", () => {
  it("a suspended user reads (200) but every write is refused with 403 42501, until the suspension is lifted", async () => {
    const [owner, member] = await Promise.all([actor("owner"), actor("member")]);
    const moderator = await actor("moderator");
    const { error } = await serviceClient().auth.admin.updateUserById(moderator.id, { app_metadata: { app_role: "moderator" } });
    if (error) throw error;
    const chatId = await group(owner, [member]);
    await message(owner, chatId, "before");
    await call(moderator, "suspend_user", { user_id: member.id, duration_seconds: 3600, reason: "spam" });

    const read = await member.supabase.from("messages").select("body").eq("chat_id", chatId);
    expect(read.data?.map((m) => m.body)).toEqual(["before"]);
    const send = await member.supabase.rpc("send_message", { chat_id: chatId, body: "hello" });
    expect({ status: await lastStatus(member), code: send.error?.code, message: send.error?.message })
      .toEqual({ status: 403, code: "42501", message: "your account is suspended" });
    const profile = await member.supabase.from("profiles").update({ bio: "new" }).eq("id", member.id);
    expect(profile.error?.code).toBe("42501");

    await call(moderator, "unsuspend_user", { user_id: member.id });
    expect((await member.supabase.rpc("send_message", { chat_id: chatId, body: "back" })).error).toBeNull();
  });

  it("a muted member and the members of a frozen chat cannot post; the admin still can", async () => {
    const [owner, member, other] = await Promise.all([actor("owner"), actor("member"), actor("other")]);
    const chatId = await group(owner, [member, other]);
    await call(owner, "mute_chat_member", { chat_id: chatId, user_id: member.id, duration_seconds: 600 });
    const muted = await member.supabase.rpc("send_message", { chat_id: chatId, body: "hi" });
    expect([muted.error?.code, muted.error?.message]).toEqual(["42501", "you are muted in this chat"]);
    expect((await other.supabase.rpc("send_message", { chat_id: chatId, body: "hi" })).error).toBeNull();

    await call(owner, "freeze_chat", { chat_id: chatId });
    const frozen = await other.supabase.rpc("send_message", { chat_id: chatId, body: "hi" });
    expect([frozen.error?.code, frozen.error?.message]).toEqual(["42501", "this chat is frozen"]);
    expect((await owner.supabase.rpc("send_message", { chat_id: chatId, body: "admins post" })).error).toBeNull();
    await call(owner, "unfreeze_chat", { chat_id: chatId });
    expect((await other.supabase.rpc("send_message", { chat_id: chatId, body: "thawed" })).error).toBeNull();
  });

  it("a word filter masks and blocks whole words, whatever the case and accents", async () => {
    const [owner, member] = await Promise.all([actor("owner"), actor("member")]);
    const chatId = await group(owner, [member]);
    await call(owner, "add_word_filter", { word: "heck", action: "mask", chat_id: chatId });
    await call(owner, "add_word_filter", { word: "darn", action: "block", chat_id: chatId });
    const masked = await member.supabase.rpc("send_message", { chat_id: chatId, body: "HÉCK yes, heckle" });
    expect(masked.data?.body).toBe("**** yes, heckle");
    const blocked = await member.supabase.rpc("send_message", { chat_id: chatId, body: "oh Dárn" });
    expect([await lastStatus(member), blocked.error?.code]).toEqual([400, "22023"]);
  });
});

describe("reports", () => {
  it("the reporter is told the outcome in their inbox", async () => {
    const [owner, author, reporter] = await Promise.all([actor("owner"), actor("author"), actor("reporter")]);
    const chatId = await group(owner, [author, reporter]);
    const m = await message(author, chatId, "spam spam");
    const { data: report, error } = await reporter.supabase.rpc("report_content", { target_kind: "message", target_id: m.id, reason: "spam" });
    expect(error).toBeNull();
    const again = await reporter.supabase.rpc("report_content", { target_kind: "message", target_id: m.id, reason: "spam" });
    expect([await lastStatus(reporter), again.error?.code]).toEqual([409, "23505"]);
    const asAuthor = await author.supabase.rpc("resolve_report", { report_id: report!.id, action: "dismiss" });
    expect([await lastStatus(author), asAuthor.error?.code]).toEqual([404, "PT404"]);

    await call(owner, "resolve_report", { report_id: report!.id, action: "delete_message" });
    const { data: inbox } = await reporter.supabase.rpc("list_notifications");
    const notice = inbox?.find((n) => n.kind === "system");
    expect(notice?.data).toMatchObject({ category: "moderation", report_id: report!.id, status: "actioned", action: "delete_message" });
    const { data: tomb } = await owner.supabase.from("messages").select("body, deleted_at").eq("id", m.id).single();
    expect(tomb).toMatchObject({ body: null });
    const { data: audit } = await owner.supabase.from("audit_log").select("action").eq("chat_id", chatId);
    expect(audit?.map((a) => a.action)).toEqual(expect.arrayContaining(["message.deleted", "report.resolved"]));
  });
});
