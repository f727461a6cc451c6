// Typed supabase-js calls for files: Storage uploads and downloads, sending attachments, reading their status and
// the audit log. Compiled by `tsc` against types/database.ts.
import { createClient } from "@supabase/supabase-js";
import type { Database, Tables } from "../../types/database.ts";

const supabase = createClient<Database>("http://127.0.0.1:54321", "anon-key");

type Attachment = Tables<"attachments">;

export async function uploadAvatar(me: string, file: Blob) {
  const path = `${me}/avatar.png`;
  await supabase.storage.from("avatars").upload(path, file, { contentType: "image/png", upsert: true });
  await supabase.from("profiles").update({ avatar_path: path }).eq("id", me);
  return supabase.storage.from("avatars").getPublicUrl(path).data.publicUrl;
}

export async function sendFile(chatId: string, file: File) {
  const attachmentId = crypto.randomUUID();
  const path = `${chatId}/${attachmentId}/${file.name}`;
  const upload = await supabase.storage.from("attachments").upload(path, file, { contentType: file.type });
  if (upload.error) return { data: null, error: upload.error };
  return supabase.rpc("send_message", {
    chat_id: chatId, kind: "file", body: file.name, attachment_ids: [attachmentId], client_id: crypto.randomUUID(),
  });
}

export async function messagesWithFiles(chatId: string) {
  const { data } = await supabase.from("messages")
    .select("id, seq, body, attachments(id, name, mime_type, size_bytes, width, height, thumbnail_path, thumbnail_status, scan_status, object_path)")
    .eq("chat_id", chatId).order("seq", { ascending: false }).limit(50);
  const first = data?.[0]?.attachments[0];
  const status: Database["public"]["Enums"]["attachment_scan_status"] | undefined = first?.scan_status;
  return { data, status };
}

export async function myUpload(id: string): Promise<Attachment | null> {
  const { data } = await supabase.from("attachments").select("*").eq("id", id).maybeSingle();
  return data;
}

export async function downloadUrl(a: Pick<Attachment, "object_path" | "thumbnail_path">) {
  const file = await supabase.storage.from("attachments").createSignedUrl(a.object_path, 60);
  const thumb = a.thumbnail_path ? await supabase.storage.from("attachments").createSignedUrl(a.thumbnail_path, 3600) : null;
  return { file: file.data?.signedUrl, thumbnail: thumb?.data?.signedUrl };
}

export async function removeFile(a: Pick<Attachment, "object_path" | "thumbnail_path">) {
  return supabase.storage.from("attachments").remove([a.object_path, ...(a.thumbnail_path ? [a.thumbnail_path] : [])]);
}

export async function chatAudit(chatId: string) {
  return supabase.from("audit_log").select("action, actor_id, target_id, details, created_at")
    .eq("chat_id", chatId).order("created_at", { ascending: false });
}
