// Reading Auth mails from the stack's mail catcher through its Mailpit-compatible HTTP API, as a developer's tools do.
import { expect } from "vitest";
import { stack } from "./clients.ts";

export interface Mail {
  ID: string;
  Subject: string;
  To: Array<{ Address: string }>;
  HTML: string;
  Text: string;
}

/** The newest mail to `address` (optionally with a subject containing `subject`), waiting briefly for delivery. */
export async function latestMail(address: string, subject?: string, timeoutMs = 5000): Promise<Mail> {
  const deadline = Date.now() + timeoutMs;
  const query = `to:${address}` + (subject ? ` subject:"${subject}"` : "");
  for (;;) {
    const res = await fetch(`${stack.mailUrl}/api/v1/search?query=${encodeURIComponent(query)}`);
    expect(res.status).toBe(200);
    const list = (await res.json()) as { messages: Array<{ ID: string }> };
    if (list.messages.length > 0) {
      const one = await fetch(`${stack.mailUrl}/api/v1/message/${list.messages[0]!.ID}`);
      return (await one.json()) as Mail;
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${address} matching ${query}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every mail to `address`, newest first. */
export async function mailsTo(address: string): Promise<Array<{ ID: string; Subject: string }>> {
  const res = await fetch(`${stack.mailUrl}/api/v1/search?query=${encodeURIComponent(`to:${address}`)}`);
  return ((await res.json()) as { messages: Array<{ ID: string; Subject: string }> }).messages;
}

/** The confirmation link in a mail's HTML (GoTrue's templates are HTML; `&` is escaped as `&amp;`). */
export function linkIn(mail: Mail): URL {
  const match = /href="([^"]+\/verify\?[^"]+)"/.exec(mail.HTML);
  if (!match) throw new Error(`no /verify link in: ${mail.HTML}`);
  return new URL(match[1]!.replace(/&amp;/g, "&"));
}

/** The OTP in a mail (the templates print {{ .Token }} in <strong> or after "code:"). */
export function otpIn(mail: Mail): string {
  const match = /(?:<strong>|code: )(\d{6,10})/.exec(mail.HTML);
  if (!match) throw new Error(`no code in: ${mail.HTML}`);
  return match[1]!;
}

/** A unique address for one test. */
export function newAddress(name: string): string {
  return `${name}.${Math.random().toString(36).slice(2, 10)}@example.test`;
}
