// Typed supabase-js calls for every documented operation, compiled by `tsc` against the generated types.
// If a column, RPC argument or return shape changes, this file stops compiling: the client contract broke.
import { createClient } from "@supabase/supabase-js";
import type { Database, Tables } from "../../types/database.ts";

const supabase = createClient<Database>("http://127.0.0.1:54321", "anon-key");

type Message = Tables<"messages">;
type Profile = Tables<"profiles">;

// --- auth ---------------------------------------------------------------------------------------------------------
export async function signUp(email: string, password: string, username: string) {
  return supabase.auth.signUp({ email, password, options: { data: { username, display_name: username } } });
}
export async function signIn(email: string, password: string) {
  return supabase.auth.signInWithPassword({ email, password });
}
export async function resetPassword(email: string) {
  return supabase.auth.resetPasswordForEmail(email, { redirectTo: "http://127.0.0.1:3000/reset" });
}
export async function enrollTotp() {
  return supabase.auth.mfa.enroll({ factorType: "totp" });
}

// --- profiles and blocks ------------------------------------------------------------------------------------------
export async function myProfile(userId: string): Promise<Profile | null> {
  const { data } = await supabase.from("profiles").select("*").eq("id", userId).maybeSingle();
  return data;
}
export async function updateProfile(userId: string) {
  return supabase.from("profiles").update({ display_name: "Alice", status: "busy", status_text: "in a meeting" }).eq("id", userId);
}
export async function searchUsers(term: string) {
  return supabase.from("profiles").select("id, username, display_name, avatar_path").ilike("username", `%${term}%`).limit(20);
}
export async function block(me: string, other: string) {
  return supabase.from("user_blocks").insert({ blocker_id: me, blocked_id: other });
}
export async function unblock(me: string, other: string) {
  return supabase.from("user_blocks").delete().eq("blocker_id", me).eq("blocked_id", other);
}

// --- chats --------------------------------------------------------------------------------------------------------
export async function chats(): Promise<number> {
  const direct = await supabase.rpc("create_direct_chat", { user_id: "u" });
  const group = await supabase.rpc("create_group_chat", { title: "Team", member_ids: ["u1", "u2"], description: "x" });
  const channel = await supabase.rpc("create_channel", { title: "News", discoverable: true });
  await supabase.rpc("join_chat", { chat_id: "c" });
  await supabase.rpc("update_chat", { chat_id: "c", title: "New", slow_mode_seconds: 30, who_can_post: "admins" });
  await supabase.rpc("set_chat_preferences", { chat_id: "c", archived: true, pinned: false, notification_level: "mentions" });
  await supabase.rpc("transfer_chat_ownership", { chat_id: "c", new_owner_id: "u" });
  await supabase.rpc("leave_chat", { chat_id: "c" });
  await supabase.rpc("delete_chat", { chat_id: "c" });
  const { data: list } = await supabase.rpc("list_chats", { kind: "group", unread_only: true, search: "te", page_size: 30 });
  const first = list?.[0];
  const unread: number = first?.unread_count ?? 0;
  await supabase.rpc("list_chats", { before_activity_at: first?.last_activity_at, before_chat_id: first?.chat_id });
  const { data: detail } = await supabase.from("chats").select("*, chat_members(user_id, role)").eq("id", "c").single();
  return unread + (direct.data?.member_count ?? 0) + (group.data?.member_count ?? 0) + (channel.data?.member_count ?? 0) +
    (detail?.chat_members.length ?? 0);
}

// --- participants and invitations ---------------------------------------------------------------------------------
export async function participants() {
  const { data } = await supabase
    .from("chat_members")
    .select("user_id, role, joined_at, last_read_seq, profile:profiles(username, display_name, avatar_path)")
    .eq("chat_id", "c")
    .order("joined_at")
    .range(0, 49);
  const added: number | null = (await supabase.rpc("add_chat_members", { chat_id: "c", user_ids: ["u"] })).data;
  await supabase.rpc("set_member_role", { chat_id: "c", user_id: "u", role: "admin" });
  await supabase.rpc("remove_chat_member", { chat_id: "c", user_id: "u" });
  await supabase.rpc("ban_chat_member", { chat_id: "c", user_id: "u", reason: "spam" });
  await supabase.rpc("unban_chat_member", { chat_id: "c", user_id: "u" });
  const { data: bans } = await supabase.from("chat_bans").select("user_id, reason, created_at").eq("chat_id", "c");
  const link = await supabase.rpc("create_invite_link", { chat_id: "c", expires_in_seconds: 3600, max_uses: 10 });
  const token: string | null = link.data?.token ?? null;
  await supabase.rpc("get_invite_link_info", { token: token ?? "" });
  await supabase.rpc("accept_invite_link", { token: token ?? "" });
  const invite = await supabase.rpc("invite_user", { chat_id: "c", user_id: "u" });
  await supabase.rpc("respond_to_invitation", { invitation_id: invite.data?.id ?? "", accept: true });
  await supabase.rpc("revoke_invitation", { invitation_id: invite.data?.id ?? "" });
  const { data: mine } = await supabase.from("chat_invitations").select("id, chat_id, status, expires_at").eq("status", "pending");
  return { data, added, bans, mine };
}

// --- messages -----------------------------------------------------------------------------------------------------
export async function messages(): Promise<Message[]> {
  const sent = await supabase.rpc("send_message", {
    chat_id: "c", body: "hi", kind: "text", mentions: ["u"], client_id: crypto.randomUUID(),
  });
  const seq: number = sent.data?.seq ?? 0;
  await supabase.rpc("send_message", { chat_id: "c", body: "re", reply_to_id: sent.data?.id });
  await supabase.rpc("send_message", { chat_id: "c", body: "in thread", thread_root_id: sent.data?.id });
  await supabase.rpc("forward_message", { message_id: "m", to_chat_id: "c2" });
  await supabase.rpc("edit_message", { message_id: "m", body: "fixed" });
  await supabase.rpc("delete_message", { message_id: "m" });
  await supabase.rpc("pin_message", { message_id: "m", pinned: true });
  const reaction = await supabase.rpc("toggle_reaction", { message_id: "m", emoji: "👍" });
  const left: number | null = (await supabase.rpc("mark_chat_read", { chat_id: "c", up_to_seq: seq })).data;
  const { data: around } = await supabase.rpc("get_chat_messages", { chat_id: "c", around_seq: seq, page_size: 50 });
  const { data: page } = await supabase
    .from("messages")
    .select("*, author:profiles!messages_author_id_fkey(username, display_name, avatar_path)")
    .eq("chat_id", "c")
    .lt("seq", seq)
    .order("seq", { ascending: false })
    .limit(50);
  const { data: edits } = await supabase.from("message_edits").select("previous_body, edited_at").eq("message_id", "m").order("id");
  const { data: reactors } = await supabase.from("message_reactions").select("user_id, emoji").eq("message_id", "m");
  const { data: pinned } = await supabase.from("messages").select("id, body, pinned_at").eq("chat_id", "c").not("pinned_at", "is", null);
  const { data: thread } = await supabase.from("messages").select("*").eq("thread_root_id", "m").order("seq");
  void [reaction, left, page?.[0]?.author?.username, edits, reactors, pinned];
  return [...(around ?? []), ...(thread ?? [])];
}

// --- read receipts for a small chat: who has read message `seq` --------------------------------------------------
export async function readers(seq: number) {
  return supabase.from("chat_members").select("user_id, last_read_seq, last_read_at").eq("chat_id", "c").gte("last_read_seq", seq);
}
