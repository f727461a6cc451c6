// A first conversation with supabase-js only, against a running backend (`npm start`):
//   eval "$(npm run -s status)" && npx tsx examples/quickstart.ts
// Signs a user up, confirms the address with the code from the confirmation email (read from the local mail
// catcher), signs in, creates a group with a second user, uploads an image, sends it, and reads the history back
// with the author and the files embedded.
import { createClient } from "@supabase/supabase-js";
import ws from "ws";

const API_URL = process.env.API_URL ?? "http://127.0.0.1:54321";
const KEY = process.env.PUBLISHABLE_KEY ?? process.env.ANON_KEY;
const MAILPIT_URL = process.env.MAILPIT_URL ?? "http://127.0.0.1:54324";
if (!KEY) throw new Error("set PUBLISHABLE_KEY (eval \"$(npm run -s status)\")");

// Node 20 has no global WebSocket; browsers and Node 22 do.
const client = () => createClient(API_URL, KEY, { auth: { persistSession: false }, realtime: { transport: ws as never } });
const password = "Correct-Horse-9-Battery";

async function confirmationCode(email: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const list = await (await fetch(`${MAILPIT_URL}/api/v1/search?query=${encodeURIComponent(`to:${email}`)}`)).json();
    if (list.messages?.length) {
      const mail = await (await fetch(`${MAILPIT_URL}/api/v1/message/${list.messages[0].ID}`)).json();
      return /(\d{6})/.exec(mail.Text ?? mail.HTML)![1]!;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no confirmation email for ${email}`);
}

async function newUser(name: string) {
  const supabase = client();
  const email = `${name}.${Date.now()}@example.test`;
  const signUp = await supabase.auth.signUp({ email, password, options: { data: { username: `${name}${Date.now() % 100000}` } } });
  if (signUp.error) throw signUp.error;
  console.log(`${name}: signed up ${email}; session before confirming: ${signUp.data.session}`);
  const code = await confirmationCode(email);
  console.log(`${name}: confirmation email read from the mail catcher, code ${code}`);
  const verified = await supabase.auth.verifyOtp({ email, token: code, type: "email" });
  if (verified.error) throw verified.error;
  await supabase.auth.signOut({ scope: "local" });
  const signIn = await supabase.auth.signInWithPassword({ email, password });
  if (signIn.error) throw signIn.error;
  console.log(`${name}: signed in as ${signIn.data.user.id}`);
  return { supabase, id: signIn.data.user.id };
}

const alice = await newUser("alice");
const bob = await newUser("bob");

const { data: chat, error: chatError } = await alice.supabase.rpc("create_group_chat", { title: "Quickstart", member_ids: [bob.id] });
if (chatError) throw chatError;
console.log(`alice: created group ${chat.id} with bob`);

// A 2x2 PNG.
const png = Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEklEQVR4nGP4z8DAAMIM/4EAAB/uBfsL2WiLAAAAAElFTkSuQmCC"), (c) => c.charCodeAt(0));
const attachmentId = crypto.randomUUID();
const upload = await alice.supabase.storage.from("attachments").upload(`${chat.id}/${attachmentId}/photo.png`, new Blob([png], { type: "image/png" }), { contentType: "image/png" });
if (upload.error) throw upload.error;
console.log(`alice: uploaded ${upload.data.path}`);

const sent = await alice.supabase.rpc("send_message", {
  chat_id: chat.id, kind: "image", body: "hello from the quickstart", attachment_ids: [attachmentId], client_id: crypto.randomUUID(),
});
if (sent.error) throw sent.error;
console.log(`alice: sent message #${sent.data.seq}`);

// Bob sees the file once the virus scan says clean (the database calls the scan function through pg_net).
for (let i = 0; i < 100; i++) {
  const { data } = await bob.supabase
    .from("messages")
    .select("seq, body, author:profiles!messages_author_id_fkey(username), attachments(name, mime_type, size_bytes, scan_status, thumbnail_status)")
    .eq("chat_id", chat.id)
    .order("seq", { ascending: false })
    .limit(10);
  const files = data?.[0]?.attachments ?? [];
  const first = files[0];
  if (first && first.scan_status === "clean" && first.thumbnail_status !== "pending") {
    console.log("bob: history:", JSON.stringify(data, null, 2));
    break;
  }
  await new Promise((r) => setTimeout(r, 200));
}
await Promise.all([alice.supabase.removeAllChannels(), bob.supabase.removeAllChannels()]);
process.exit(0);
