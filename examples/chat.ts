// A live chat in the terminal with supabase-js only, against a running backend (`npm start`). In two terminals:
//   set -a; eval "$(npm run -s status)"; set +a; npx tsx examples/chat.ts alice
//   set -a; eval "$(npm run -s status)"; set +a; npx tsx examples/chat.ts bob
// Each signs in (signing up with the mailed code the first time), joins the discoverable group "Terminal chat"
// (the first one creates it), shows who has the chat open (Presence) and who is typing, and sends each line you
// type. Messages arrive as thin events on `chat:<id>`; their content is fetched with get_chat_events after the last
// applied cursor, exactly as docs/realtime.md describes. End with Ctrl-D.
import { createClient } from "@supabase/supabase-js";
import readline from "node:readline";
import ws from "ws";

const name = process.argv[2] ?? "alice";
const ROOM = process.argv[3] ?? "Terminal chat";
const API_URL = process.env.API_URL ?? "http://127.0.0.1:54321";
const KEY = process.env.PUBLISHABLE_KEY ?? process.env.ANON_KEY;
const MAILPIT_URL = process.env.MAILPIT_URL ?? "http://127.0.0.1:54324";
if (!KEY) throw new Error("set PUBLISHABLE_KEY: set -a; eval \"$(npm run -s status)\"; set +a");
const email = `${name}@example.test`;
const password = "Correct-Horse-9-Battery";

// Node 20 has no global WebSocket; browsers and Node 22 do.
const supabase = createClient(API_URL, KEY, { auth: { persistSession: false }, realtime: { transport: ws as never } });
const log = (line: string) => console.log(`[${name}] ${line}`);

async function mailedCode(): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const list = await (await fetch(`${MAILPIT_URL}/api/v1/search?query=${encodeURIComponent(`to:${email}`)}`)).json();
    if (list.messages?.length) {
      const mail = await (await fetch(`${MAILPIT_URL}/api/v1/message/${list.messages[0].ID}`)).json();
      return /<strong>(\d{6,10})<\/strong>/.exec(mail.HTML)![1]!;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("no confirmation email");
}

async function signIn(): Promise<string> {
  const first = await supabase.auth.signInWithPassword({ email, password });
  if (!first.error) return first.data.user.id;
  if (first.error.code !== "invalid_credentials") throw first.error;
  const up = await supabase.auth.signUp({ email, password, options: { data: { username: name } } });
  if (up.error) throw up.error;
  const verified = await supabase.auth.verifyOtp({ email, token: await mailedCode(), type: "email" });
  if (verified.error) throw verified.error;
  log("signed up and confirmed the address with the mailed code");
  return verified.data.user!.id;
}

const me = await signIn();
log(`signed in as ${email}`);

// The room: a discoverable group, created by whoever comes first.
let { data: found } = await supabase.from("chats").select("id").eq("discoverable", true).eq("title", ROOM).limit(1);
let chatId: string;
if (found?.[0]) {
  chatId = found[0].id;
  const joined = await supabase.rpc("join_chat", { chat_id: chatId });
  if (joined.error && joined.error.code !== "23505") throw joined.error;
} else {
  const created = await supabase.rpc("create_group_chat", { title: ROOM });
  if (created.error) throw created.error;
  chatId = created.data.id;
  const shared = await supabase.rpc("update_chat", { chat_id: chatId, discoverable: true });
  if (shared.error) throw shared.error;
}
log(`in "${ROOM}" (${chatId})`);

// Exact catch-up: apply everything after the last cursor, page by page.
const { data: opened } = await supabase.from("chats").select("last_event_seq").eq("id", chatId).single();
let cursor = Number(opened?.last_event_seq ?? 0);
let fetching: Promise<void> | undefined;
let dirty = false;
const names = new Map<string, string>();
async function catchUp(): Promise<void> {
  for (;;) {
    const { data, error } = await supabase.rpc("get_chat_events", { chat_id: chatId, after_cursor: cursor, page_size: 200 });
    if (error) throw error;
    for (const e of data.events) {
      if (e.event === "message.sent" && e.data.message && e.actor_id !== me) {
        const author = e.data.message.author?.username ?? "someone";
        log(`${author}: ${e.data.message.body}`);
      }
      if (e.event === "participant.added" && e.data.user_id !== me) log(`${e.data.profile?.username ?? "someone"} joined`);
    }
    cursor = data.next_cursor;
    if (!data.has_more) return;
  }
}
function onThinEvent(): void {
  if (fetching) {
    dirty = true;
    return;
  }
  fetching = catchUp().finally(() => {
    fetching = undefined;
    if (dirty) {
      dirty = false;
      onThinEvent();
    }
  });
}

await supabase.realtime.setAuth();
await new Promise<void>((resolve) => {
  supabase
    .channel(`chat:${chatId}`, { config: { private: true } })
    .on("broadcast", { event: "*" }, ({ payload }) => {
      if (Number(payload.cursor) > cursor) onThinEvent();
    })
    .subscribe((status, err) => {
      if (status === "SUBSCRIBED") resolve();
      else if (status !== "CLOSED") log(`chat channel: ${status} ${err?.message ?? ""}`);
    });
});

const typing = supabase.channel(`chat:${chatId}:typing`, { config: { private: true, presence: { key: `${me}:terminal` } } });
let present = "";
typing
  .on("broadcast", { event: "typing.start" }, ({ payload }) => {
    if (payload.user_id !== me) log(`${names.get(payload.user_id) ?? "someone"} is typing…`);
  })
  .on("presence", { event: "sync" }, () => {
    const state = typing.presenceState<{ user_id: string; username: string }>();
    for (const metas of Object.values(state)) for (const m of metas) names.set(m.user_id, m.username);
    const now = [...new Set(Object.values(state).flat().map((m) => m.username))].sort().join(", ");
    if (now !== present) log(`here now: ${(present = now)}`);
  });
await new Promise<void>((resolve) => {
  typing.subscribe(async (status) => {
    if (status === "SUBSCRIBED") {
      await typing.track({ user_id: me, username: name, online_at: new Date().toISOString() });
      resolve();
    }
  });
});
log("connected; type a message and press Enter");

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  const body = line.trim();
  if (!body) continue;
  await typing.send({ type: "broadcast", event: "typing.start", payload: { user_id: me, thread_root_id: null } });
  // A typed line takes a moment; let the others see "typing" first.
  await new Promise((r) => setTimeout(r, 300));
  const sent = await supabase.rpc("send_message", { chat_id: chatId, body, client_id: crypto.randomUUID() });
  await typing.send({ type: "broadcast", event: "typing.stop", payload: { user_id: me } });
  if (sent.error) log(`not sent: ${sent.error.message}`);
  else log(`me: ${body}`);
}
// Stay a moment for the last answers, then leave (the others see the presence leave).
await new Promise((r) => setTimeout(r, 1500));
await supabase.removeAllChannels();
log("left");
process.exit(0);
