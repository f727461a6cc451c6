// Auth mails over real SMTP, rendered from the configured templates with GoTrue's template variables
// (supabase/auth:internal/mailer/templatemailer/template.go, templatemailer.go): .ConfirmationURL .Token .TokenHash
// .SiteURL .Email .NewEmail .Data .RedirectTo. ConfirmationURL is the external URL + /verify?token=<TokenHash>&
// type=<type>&redirect_to=<redirect>. Templates are rendered by substitution of `{{ .Name }}` / `{{ .Data.key }}`
// with HTML escaping (Go's html/template escapes them too); Go template actions (if/range) are not evaluated.
import nodemailer, { type Transporter } from "nodemailer";
import type { AuthSettings, MailKind } from "./settings.ts";

export interface MailValues {
  to: string;
  kind: MailKind;
  /** The /verify type the link carries (signup, invite, recovery, magiclink, email_change). */
  verifyType?: string;
  token: string;
  tokenHash?: string;
  email: string;
  newEmail?: string;
  redirectTo: string;
  data: Record<string, unknown>;
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&#34;").replace(/'/g, "&#39;");

export function render(template: string, vars: Record<string, unknown>): string {
  return template.replace(/\{\{\s*\.([A-Za-z_][\w.]*)\s*\}\}/g, (_all, name: string) => {
    let value: unknown = vars;
    for (const part of name.split(".")) value = value && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
    if (value === undefined || value === null) return "";
    return escapeHtml(typeof value === "string" ? value : JSON.stringify(value));
  });
}

export class Mailer {
  private readonly transport: Transporter;
  private readonly from: string;

  constructor(private readonly settings: AuthSettings, smtp: { host: string; port: number }) {
    const configured = settings.email.smtp;
    this.transport = nodemailer.createTransport({
      host: configured?.host ?? smtp.host,
      port: configured?.port ?? smtp.port,
      secure: false,
      ignoreTLS: configured === undefined,
      ...(configured?.user ? { auth: { user: configured.user, pass: configured.pass ?? "" } } : {}),
    });
    const address = configured?.adminEmail ?? settings.localSender.adminEmail;
    const name = configured?.senderName ?? settings.localSender.senderName;
    this.from = name ? `"${name}" <${address}>` : address;
  }

  confirmationUrl(values: MailValues): string {
    const url = new URL(`${this.settings.externalUrl}/verify`);
    url.searchParams.set("token", values.tokenHash ?? "");
    url.searchParams.set("type", values.verifyType ?? "");
    url.searchParams.set("redirect_to", values.redirectTo);
    return url.toString();
  }

  async send(values: MailValues): Promise<void> {
    const template = this.settings.email.templates[values.kind];
    const vars = {
      ConfirmationURL: this.confirmationUrl(values),
      Token: values.token,
      TokenHash: values.tokenHash ?? "",
      SiteURL: this.settings.siteUrl,
      Email: values.email,
      NewEmail: values.newEmail ?? "",
      Data: values.data,
      RedirectTo: values.redirectTo,
    };
    await this.transport.sendMail({
      from: this.from,
      to: values.to,
      subject: render(template.subject, vars),
      html: render(template.body, vars),
    });
  }

  close(): void {
    this.transport.close();
  }
}
