// Notifications through the real supabase-js against the local stack: bob registers a Web Push subscription, alice
// mentions him, and the whole path runs as in production: the send's transaction queues the delivery and wakes the
// notify function through pg_net, the function encrypts and sends the push to a loopback Web Push service (which
// checks VAPID and decrypts it), notification.created reaches bob's private user topic live, and the mention email
// (batched per chat) arrives in the stack's mail catcher.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stack } from "./support/clients.ts";
import { latestMail, mailsTo } from "./support/mail.ts";
import { startPushService, type PushService } from "./support/push-service.ts";
import { eventually, joined, liveUser, disconnect, type LiveUser } from "./support/realtime.ts";
import { db } from "./support/users.ts";
import { spawn } from "node:child_process";
import path from "node:path";
import { ROOT } from "../../scripts/lib/util.ts";

const vapidPublicKey = process.env.VAPID_PUBLIC_KEY;

describe.skipIf(!stack.functions || !vapidPublicKey)("notifications end to end", () => {
  let push: PushService;
  let alice: LiveUser;
  let bob: LiveUser;

  beforeAll(async () => {
    push = await startPushService(vapidPublicKey!);
    [alice, bob] = await Promise.all([liveUser("alice"), liveUser("bob")]);
  });
  afterAll(async () => {
    // Bounded, so that a lock held by a delivery still running names itself instead of timing the hook out.
    await db().begin(async (tx) => {
      await tx`set local lock_timeout = '15s'`;
      await tx`update private.notification_delivery_settings set email_delay = interval '10 minutes'`;
    });
    await disconnect(alice.live, bob.live);
    await push.close();
  });

  it("a subscription aimed at a private network is refused with 22023 and a hint, and nothing is registered", async () => {
    const subscription = (await push.subscribe(`/push/${bob.id}`)) as { endpoint: string };
    for (const endpoint of ["https://169.254.169.254/latest/meta-data", "https://10.0.0.5/push", "https://db.internal/push"]) {
      const { data, error } = await bob.live.rpc("register_push_device", {
        provider: "web_push", platform: "web", subscription: { ...subscription, endpoint },
      });
      expect(data).toBeNull();
      expect(error?.code).toBe("22023");
      expect(error?.message).toBe("invalid web push subscription");
      expect(error?.hint).toMatch(/public push service/);
    }
    const { data: devices, error } = await bob.live.from("push_devices").select("id");
    expect(error).toBeNull();
    expect(devices).toEqual([]);
  });

  it("a mention reaches bob's browser (Web Push, decrypted), his user topic and his inbox", async () => {
    const { data: device, error } = await bob.live.rpc("register_push_device", {
      provider: "web_push", platform: "web", subscription: await push.subscribe(`/push/${bob.id}`),
    });
    expect(error).toBeNull();
    expect(device?.provider).toBe("web_push");

    const live: Array<{ notification_id: string; kind: string; unread_count: number; preview: string | null;
                        chat_title: string | null; actor: { id: string } | null }> = [];
    await bob.live.realtime.setAuth(bob.token);
    await joined(bob.live.channel(`user:${bob.id}`, { config: { private: true } })
      .on("broadcast", { event: "notification.created" }, (m) => live.push((m.payload as { data: (typeof live)[number] }).data)));

    const { data: chat } = await alice.live.rpc("create_group_chat", { title: "Launch", member_ids: [bob.id] });
    const { error: sendError } = await alice.live.rpc("send_message", {
      chat_id: chat!.id, body: "@bob the launch is at 5", mentions: [bob.id],
    });
    expect(sendError).toBeNull();

    const pushed = await eventually(() => push.received.find((r) => r.payload.kind === "mention"), 20_000, "the push");
    expect(push.rejected).toEqual([]);
    expect(pushed.payload).toMatchObject({ kind: "mention", chat_id: chat!.id, body: "@bob the launch is at 5" });
    expect(pushed.payload.title).toMatch(/ in Launch$/);
    expect(pushed.topic).toBe(chat!.id.replaceAll("-", ""));
    expect(pushed.urgency).toBe("high");

    const event = await eventually(() => live.find((e) => e.kind === "mention"), 5_000, "notification.created");
    expect(event.unread_count).toBe(2); // added to the chat, then the mention
    // Everything bob's app shows, without another request (the one event of a mention).
    expect(event).toMatchObject({ preview: "@bob the launch is at 5", chat_title: "Launch", actor: { id: alice.id } });

    const { data: inbox } = await bob.live.rpc("list_notifications", { unread_only: true });
    expect(inbox?.map((n) => n.kind)).toEqual(["mention", "added_to_chat"]);
    expect(inbox?.[0]?.id).toBe(event.notification_id);
    const { data: left } = await bob.live.rpc("mark_all_notifications_read", {});
    expect(left).toBe(0);
  });

  it("the Done-when demo (examples/notifications.ts) prints the decrypted push and the batched email", async () => {
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(path.join(ROOT, "node_modules", ".bin", "tsx"), ["examples/notifications.ts"], {
        cwd: ROOT,
        env: { ...process.env, API_URL: stack.url, PUBLISHABLE_KEY: stack.publishableKey, SECRET_KEY: stack.secretKey,
               MAILPIT_URL: stack.mailUrl, DB_URL: stack.dbUrl, VAPID_PUBLIC_KEY: vapidPublicKey!, EMAIL_DELAY: "2" },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("exit", (code) => resolve({ code, stdout, stderr }));
    });
    expect(out.code, out.stderr + out.stdout).toBe(0);
    expect(out.stdout).toMatch(/push service: decrypted payload for \/push\/[0-9a-f-]{36} \(Topic [0-9a-f]{32}, Urgency high, TTL 86400\)/);
    const payload = JSON.parse(/decrypted payload[^\n]*\n(\{[\s\S]*?\n\})/.exec(out.stdout)![1]!) as Record<string, unknown>;
    expect(payload).toMatchObject({ kind: "mention", title: "alice in Launch", body: "@bob the launch is at 5", unread_count: 2 });
    expect(out.stdout).toMatch(/mail catcher: "alice mentioned you in Launch" from Chat <notifications@example\.test>/);
    expect(out.stdout).toContain("|   alice: @bob the launch is at 5");
    const [row] = await db()`select extract(epoch from email_delay)::int as s from private.notification_delivery_settings`;
    expect(row!.s).toBe(600); // the demo put the delay back
  }, 90_000);

  it("a burst of mentions gives one email in the mail catcher, with List-Unsubscribe", async () => {
    // A short delay so that the burst is over before the email is due (each send also wakes the worker).
    await db()`update private.notification_delivery_settings set email_delay = interval '4 seconds'`;
    const { data: chat } = await alice.live.rpc("create_group_chat", { title: "Standup", member_ids: [bob.id] });
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      const { error } = await alice.live.rpc("send_message", { chat_id: chat!.id, body: `@bob point ${i}`, mentions: [bob.id] });
      expect(error).toBeNull();
    }
    expect(Date.now() - started).toBeLessThan(4000);
    await new Promise((r) => setTimeout(r, 4500 - (Date.now() - started)));
    // The pg_cron backstop runs once a minute; the test asks the worker itself, as pg_net does.
    const res = await fetch(`${stack.url}/functions/v1/notify`, {
      method: "POST", headers: { authorization: `Bearer ${stack.serviceRoleKey}`, "content-type": "application/json" }, body: "{}",
    });
    expect(res.status).toBe(200);
    const mail = await latestMail(bob.email, "mentions in Standup", 20_000);
    expect(mail.Subject).toBe("5 new mentions in Standup");
    expect(mail.Text).toContain(": @bob point 4");
    expect((await mailsTo(bob.email)).filter((m) => m.Subject.includes("Standup"))).toHaveLength(1);
  });
});
