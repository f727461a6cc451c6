// notify: drains the notification outbox (Web Push, FCM, APNs, email on mention). See functions/_shared/notify.ts.

import { createDb } from "../_shared/db.ts";
import { requireEnv } from "../_shared/env.ts";
import { createFcmClient, serviceAccountSchema } from "../_shared/fcm.ts";
import { createApnsClient } from "../_shared/apns.ts";
import { createNotifyHandler } from "../_shared/notify.ts";
import { createSmtpMailer } from "../_shared/smtp.ts";

const env = (name: string) => Deno.env.get(name) || undefined;
const vapidPublicKey = env("VAPID_PUBLIC_KEY");
const vapidPrivateKey = env("VAPID_PRIVATE_KEY");
const smtpHost = env("SMTP_HOST");
const supabaseUrl = env("SUPABASE_URL");
const fcmAccount = env("FCM_SERVICE_ACCOUNT");
const apnsKey = env("APNS_KEY");
const apnsKeyId = env("APNS_KEY_ID");
const apnsTeamId = env("APNS_TEAM_ID");
// APNS_CA_CERT: a PEM CA to trust besides the public roots (a test peer only).
const apnsCa = env("APNS_CA_CERT");

Deno.serve(createNotifyHandler({
  sql: createDb(requireEnv("SUPABASE_DB_URL"), { applicationName: "supabase-chat/notify", max: 3 }),
  auth: { serviceRoleKey: env("SUPABASE_SERVICE_ROLE_KEY"), jwtSecret: env("JWT_SECRET") ?? env("SUPABASE_JWT_SECRET") },
  vapid: vapidPublicKey && vapidPrivateKey
    ? { publicKey: vapidPublicKey, privateKey: vapidPrivateKey, subject: env("VAPID_SUBJECT") ?? "mailto:notifications@example.com" }
    : undefined,
  mailer: smtpHost
    ? createSmtpMailer({ host: smtpHost, port: Number(env("SMTP_PORT") ?? 587), user: env("SMTP_USER"), pass: env("SMTP_PASS") })
    : undefined,
  fcm: fcmAccount ? createFcmClient(serviceAccountSchema.parse(JSON.parse(fcmAccount)), { apiUrl: env("FCM_API_URL") }) : undefined,
  apns: apnsKey && apnsKeyId && apnsTeamId
    ? createApnsClient({ key: apnsKey.replaceAll("\\n", "\n"), keyId: apnsKeyId, teamId: apnsTeamId, baseUrl: env("APNS_URL"),
                         ...(apnsCa ? { caCerts: [apnsCa.replaceAll("\\n", "\n")] } : {}) })
    : undefined,
  mailFrom: env("NOTIFY_MAIL_FROM") ?? env("SMTP_SENDER") ?? "Chat <notifications@example.com>",
  publicUrl: env("NOTIFY_PUBLIC_URL") ?? (supabaseUrl ? `${supabaseUrl}/functions/v1/notify` : undefined),
}));
