// The local mail catcher, like Mailpit in `supabase start` (supabase/cli:apps/cli-go/internal/start/start.go "Start
// Mailpit"): a real SMTP server that accepts every message for every address, and an HTTP API with the basic calls of
// Mailpit's API v1 (axllent/mailpit server/apiv1, checked against its published swagger for v1.22):
//
//   GET    /api/v1/messages?start=&limit=    newest first: {total, unread, count, messages_count, start, tags, messages}
//   GET    /api/v1/message/{ID}              one message with Text and HTML; ID "latest" is the newest
//   GET    /api/v1/search?query=             the same list filtered: to:addr from:addr subject:"words" is:unread, words
//   DELETE /api/v1/messages                  body {"IDs": [...]} deletes those, no body deletes all
//   DELETE /api/v1/search?query=             deletes what the query matches
//   GET    /api/v1/mailbox/{name}            convenience: the messages to <name> or <name>@... (Inbucket-style)
//   GET    /readyz, /livez                   200
//
// Messages live in memory only (a stopped stack forgets them, as a restarted Mailpit container does without a volume).
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { SMTPServer } from "smtp-server";
import { simpleParser, type AddressObject, type ParsedMail } from "mailparser";
import { getRequestListener } from "@hono/node-server";
import { json, type Handler } from "../shared/http.ts";

export interface MailAddress {
  Name: string;
  Address: string;
}

export interface StoredMessage {
  ID: string;
  MessageID: string;
  Read: boolean;
  From: MailAddress;
  To: MailAddress[];
  Cc: MailAddress[];
  Bcc: MailAddress[];
  ReplyTo: MailAddress[];
  Subject: string;
  Created: string;
  Date: string;
  Tags: string[];
  Size: number;
  Text: string;
  HTML: string;
  Attachments: Array<{ PartID: string; FileName: string; ContentType: string; Size: number }>;
}

export interface MailCatcherOptions {
  /** SMTP port; 0 picks a free one. */
  smtpPort?: number;
  /** HTTP API port; 0 picks a free one. */
  httpPort?: number;
  host?: string;
  /** Oldest messages are dropped beyond this many (Mailpit's default max is 500). */
  maxMessages?: number;
}

export interface MailCatcher {
  smtpPort: number;
  httpPort: number;
  /** The HTTP API's base URL (MAILPIT_URL). */
  url: string;
  handler: Handler;
  messages(): StoredMessage[];
  close(): Promise<void>;
}

function addresses(value: AddressObject | AddressObject[] | undefined): MailAddress[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((a) => a.value).map((a) => ({ Name: a.name ?? "", Address: (a.address ?? "").toLowerCase() }));
}

function summary(m: StoredMessage) {
  const { Text, HTML, Date: _date, ...rest } = m;
  void HTML;
  void _date;
  return { ...rest, Snippet: Text.replace(/\s+/g, " ").trim().slice(0, 250) };
}

/** Mailpit's search grammar, the parts a test or a developer uses: to:, from:, subject:, is:read|unread, free words
 * (matched against subject and text), each term may be quoted; all terms must match. */
export function matches(m: StoredMessage, query: string): boolean {
  const terms = query.match(/(-?[a-z]+:)?("[^"]*"|\S+)/gi) ?? [];
  return terms.every((raw) => {
    const negate = raw.startsWith("-");
    const term = negate ? raw.slice(1) : raw;
    const colon = /^[a-z]+:/i.exec(term);
    const key = colon ? colon[0].slice(0, -1).toLowerCase() : "";
    const value = (colon ? term.slice(colon[0].length) : term).replace(/^"|"$/g, "").toLowerCase();
    const has = (list: MailAddress[]) => list.some((a) => a.Address.includes(value) || a.Name.toLowerCase().includes(value));
    let hit: boolean;
    switch (key) {
      case "to": hit = has(m.To) || has(m.Cc) || has(m.Bcc); break;
      case "from": hit = has([m.From]); break;
      case "subject": hit = m.Subject.toLowerCase().includes(value); break;
      case "is": hit = value === "read" ? m.Read : value === "unread" ? !m.Read : false; break;
      default: hit = `${m.Subject}\n${m.Text}\n${m.HTML}`.toLowerCase().includes(value);
    }
    return negate ? !hit : hit;
  });
}

function toStored(parsed: ParsedMail, size: number, envelopeTo: string[]): StoredMessage {
  const to = addresses(parsed.to);
  const cc = addresses(parsed.cc);
  // Addresses only in the envelope (Bcc) still belong to the message's mailboxes.
  const listed = new Set([...to, ...cc].map((a) => a.Address));
  const bcc = envelopeTo.filter((a) => !listed.has(a.toLowerCase())).map((a) => ({ Name: "", Address: a.toLowerCase() }));
  const now = new Date().toISOString();
  return {
    ID: randomUUID(),
    MessageID: (parsed.messageId ?? "").replace(/^<|>$/g, ""),
    Read: false,
    From: addresses(parsed.from)[0] ?? { Name: "", Address: "" },
    To: to,
    Cc: cc,
    Bcc: bcc,
    ReplyTo: addresses(parsed.replyTo),
    Subject: parsed.subject ?? "",
    Created: now,
    Date: (parsed.date ?? new Date()).toISOString(),
    Tags: [],
    Size: size,
    Text: parsed.text ?? "",
    HTML: typeof parsed.html === "string" ? parsed.html : "",
    Attachments: parsed.attachments.map((a, i) => ({
      PartID: String(i + 1),
      FileName: a.filename ?? "",
      ContentType: a.contentType,
      Size: a.size,
    })),
  };
}

export async function startMailCatcher(opts: MailCatcherOptions = {}): Promise<MailCatcher> {
  const host = opts.host ?? "127.0.0.1";
  const max = opts.maxMessages ?? 500;
  const store: StoredMessage[] = []; // newest first

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    banner: "supabase-chat local mail catcher",
    onAuth(_auth, _session, callback) {
      callback(null, { user: "local" });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((parsed) => {
            store.unshift(toStored(parsed, raw.length, session.envelope.rcptTo.map((r) => r.address)));
            store.length = Math.min(store.length, max);
            callback();
          })
          .catch((error: Error) => callback(error));
      });
    },
  });

  const list = (items: StoredMessage[], url: URL) => {
    const start = Math.max(0, Number(url.searchParams.get("start") ?? 0) || 0);
    const limit = Math.max(1, Number(url.searchParams.get("limit") ?? 50) || 50);
    const page = items.slice(start, start + limit);
    return json({
      total: store.length,
      unread: store.filter((m) => !m.Read).length,
      count: page.length,
      messages_count: items.length,
      messages_unread: items.filter((m) => !m.Read).length,
      start,
      tags: [],
      messages: page.map(summary),
    });
  };
  const remove = (ids: Set<string>) => {
    for (let i = store.length - 1; i >= 0; i--) if (ids.has(store[i]!.ID)) store.splice(i, 1);
  };

  const handler: Handler = async (request) => {
    const url = new URL(request.url);
    const path = url.pathname.replace(/\/+$/, "");
    const method = request.method;
    if (path === "/readyz" || path === "/livez") return new Response("ok");
    if (path === "/api/v1/messages" && method === "GET") return list(store, url);
    if (path === "/api/v1/messages" && method === "DELETE") {
      const text = await request.text();
      const ids = text.trim() === "" ? [] : ((JSON.parse(text) as { IDs?: string[] }).IDs ?? []);
      if (ids.length === 0) store.length = 0;
      else remove(new Set(ids));
      return new Response("ok", { headers: { "content-type": "text/plain" } });
    }
    if (path === "/api/v1/search") {
      const query = url.searchParams.get("query") ?? "";
      const found = store.filter((m) => matches(m, query));
      if (method === "DELETE") {
        remove(new Set(found.map((m) => m.ID)));
        return new Response("ok", { headers: { "content-type": "text/plain" } });
      }
      return list(found, url);
    }
    const mailbox = /^\/api\/v1\/mailbox\/([^/]+)$/.exec(path);
    if (mailbox && method === "GET") {
      const name = decodeURIComponent(mailbox[1]!).toLowerCase();
      const mine = (a: MailAddress) => a.Address === name || a.Address.split("@")[0] === name;
      return list(store.filter((m) => [...m.To, ...m.Cc, ...m.Bcc].some(mine)), url);
    }
    const one = /^\/api\/v1\/message\/([^/]+)$/.exec(path);
    if (one && method === "GET") {
      const id = decodeURIComponent(one[1]!);
      const message = id === "latest" ? store[0] : store.find((m) => m.ID === id);
      if (!message) return new Response("message not found", { status: 404 });
      message.Read = true;
      return json({ ...message, ReturnPath: message.From.Address, ListUnsubscribe: {}, Inline: [] });
    }
    return new Response("not found", { status: 404 });
  };

  await new Promise<void>((resolve, reject) => {
    smtp.once("error", reject);
    smtp.listen(opts.smtpPort ?? 0, host, () => resolve());
  });
  smtp.on("error", (error) => console.error("mail: smtp error", error));
  const http: HttpServer = createServer(getRequestListener(handler));
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(opts.httpPort ?? 0, host, () => resolve());
  });
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  const httpPort = (http.address() as AddressInfo).port;
  return {
    smtpPort,
    httpPort,
    url: `http://${host}:${httpPort}`,
    handler,
    messages: () => [...store],
    async close() {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    },
  };
}
