// The rest of Supabase Auth through supabase-js against the local stack: refusals with GoTrue's codes, rate limits,
// password recovery, magic link / OTP sign-in, email change with double confirmation, password change with
// reauthentication, PKCE, the admin API (secret key only), settings and the mail catcher's own API.
import { createClient } from "@supabase/supabase-js";
import ws from "ws";
import { describe, expect, it } from "vitest";
import { anonClient, serviceClient, stack } from "./support/clients.ts";
import { db } from "./support/users.ts";
import { latestMail, linkIn, mailsTo, newAddress, otpIn } from "./support/mail.ts";

const PASSWORD = "Correct-horse-42";
const sql = db();

async function confirmedUser(name: string): Promise<{ email: string; id: string }> {
  const email = newAddress(name);
  const { data, error } = await serviceClient().auth.admin.createUser({ email, password: PASSWORD, email_confirm: true });
  expect(error).toBeNull();
  return { email, id: data.user!.id };
}

/** A client whose requests carry X-Forwarded-For, the header the per-IP rate limits are keyed on. */
function clientFrom(ip: string) {
  return createClient(stack.url, stack.publishableKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { headers: { "x-forwarded-for": ip } },
    realtime: { transport: ws as unknown as typeof WebSocket },
  });
}

describe("auth: refusals", () => {
  it("refuses a wrong password with invalid_credentials", async () => {
    const { email } = await confirmedUser("wrong");
    const { data, error } = await anonClient().auth.signInWithPassword({ email, password: "Wrong-password-1" });
    expect(data.session).toBeNull();
    expect(error?.code).toBe("invalid_credentials");
    expect(error?.status).toBe(400);
    expect(error?.message).toBe("Invalid login credentials");
    const unknown = await anonClient().auth.signInWithPassword({ email: newAddress("nobody"), password: PASSWORD });
    expect(unknown.error?.code).toBe("invalid_credentials");
  });

  it("refuses a weak password with weak_password and its reasons", async () => {
    const { error } = await anonClient().auth.signUp({ email: newAddress("weak"), password: "short" });
    expect(error?.code).toBe("weak_password");
    expect(error?.status).toBe(422);
    expect((error as unknown as { reasons: string[] }).reasons).toEqual(["length", "characters"]);
    expect(error?.message).toContain("Password should be at least 10 characters.");
    const letters = await anonClient().auth.signUp({ email: newAddress("weak"), password: "alllowercaseletters" });
    expect((letters.error as unknown as { reasons: string[] }).reasons).toEqual(["characters"]);
  });

  it("answers a sign-up of a confirmed address with a fake user and sends nothing", async () => {
    const { email, id } = await confirmedUser("taken");
    const { data, error } = await anonClient().auth.signUp({ email, password: PASSWORD });
    expect(error).toBeNull();
    expect(data.user?.id).not.toBe(id);
    expect(data.user?.identities).toEqual([]);
    expect(await mailsTo(email)).toHaveLength(0);
  });

  it("limits mails per address with max_frequency (over_email_send_rate_limit)", async () => {
    const email = newAddress("freq");
    await anonClient().auth.signUp({ email, password: PASSWORD });
    const { error } = await anonClient().auth.resend({ type: "signup", email });
    expect(error?.code).toBe("over_email_send_rate_limit");
    expect(error?.status).toBe(429);
    expect(error?.message).toMatch(/^For security purposes, you can only request this after \d+ seconds\.$/);
  });

  it("limits requests per client address: sign_in_sign_ups = 30 for /recover, token_refresh = 150 for /token", async () => {
    const ip = () => `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const client = clientFrom(ip());
    for (let i = 0; i < 30; i++) expect((await client.auth.resetPasswordForEmail(newAddress("flood"))).error).toBeNull();
    const { error } = await client.auth.resetPasswordForEmail(newAddress("flood"));
    expect(error?.code).toBe("over_request_rate_limit");
    expect(error?.status).toBe(429);
    // Another endpoint and another address have their own counters.
    expect((await client.auth.signInWithPassword({ email: newAddress("flood"), password: PASSWORD })).error?.code).toBe("invalid_credentials");
    expect((await clientFrom(ip()).auth.resetPasswordForEmail(newAddress("flood"))).error).toBeNull();

    const signer = clientFrom(ip());
    for (let i = 0; i < 150; i++) {
      const r = await signer.auth.signInWithPassword({ email: newAddress("flood"), password: PASSWORD });
      expect(r.error?.code).toBe("invalid_credentials");
    }
    const limited = await signer.auth.signInWithPassword({ email: newAddress("flood"), password: PASSWORD });
    expect(limited.error?.code).toBe("over_request_rate_limit");
  });
});

describe("auth: recovery, magic link and OTP", () => {
  it("recovers a password with the mailed code and signs in with the new one", async () => {
    const { email } = await confirmedUser("recover");
    const client = anonClient();
    expect((await client.auth.resetPasswordForEmail(email, { redirectTo: "http://127.0.0.1:3000/reset" })).error).toBeNull();
    const mail = await latestMail(email, "Reset your supabase-chat password");
    expect(linkIn(mail).searchParams.get("type")).toBe("recovery");
    const { data, error } = await client.auth.verifyOtp({ email, token: otpIn(mail), type: "recovery" });
    expect(error).toBeNull();
    expect(data.session).not.toBeNull();
    expect((await client.auth.updateUser({ password: "Brand-new-pass-9" })).error).toBeNull();
    expect((await anonClient().auth.signInWithPassword({ email, password: "Brand-new-pass-9" })).error).toBeNull();
    expect((await anonClient().auth.signInWithPassword({ email, password: PASSWORD })).error?.code).toBe("invalid_credentials");
    // Unknown addresses get the same answer and no mail.
    const ghost = newAddress("ghost");
    expect((await client.auth.resetPasswordForEmail(ghost)).error).toBeNull();
    expect(await mailsTo(ghost)).toHaveLength(0);
  });

  it("signs in with a magic link and with the OTP of the same mail kind", async () => {
    const { email } = await confirmedUser("magic");
    expect((await anonClient().auth.signInWithOtp({ email, options: { shouldCreateUser: false } })).error).toBeNull();
    const mail = await latestMail(email, "Your supabase-chat sign-in link");
    const link = linkIn(mail);
    expect(link.searchParams.get("type")).toBe("magiclink");
    const res = await fetch(link, { redirect: "manual" });
    expect(res.status).toBe(303);
    const fragment = new URLSearchParams(new URL(res.headers.get("location")!).hash.slice(1));
    expect(fragment.get("access_token")).toBeTruthy();
    // The link is single-use; the OTP of the same mail is spent with it.
    const again = await fetch(link, { redirect: "manual" });
    const error = new URLSearchParams(new URL(again.headers.get("location")!).hash.slice(1));
    expect(error.get("error_code")).toBe("otp_expired");
    expect(error.get("error")).toBe("access_denied");
  });

  it("signs in with the OTP through verifyOtp(type: email) and creates users only when asked", async () => {
    const stranger = newAddress("stranger");
    const refused = await anonClient().auth.signInWithOtp({ email: stranger, options: { shouldCreateUser: false } });
    expect(refused.error?.code).toBe("otp_disabled");
    expect(refused.error?.status).toBe(422);

    const email = newAddress("otpnew");
    expect((await anonClient().auth.signInWithOtp({ email })).error).toBeNull();
    const mail = await latestMail(email);
    const client = anonClient();
    const { data, error } = await client.auth.verifyOtp({ email, token: otpIn(mail), type: "email" });
    expect(error).toBeNull();
    expect(data.user?.email_confirmed_at).toBeTruthy();
    const [profile] = await sql`select id from public.profiles where id = ${data.user!.id}`;
    expect(profile).toBeTruthy();
  });
});

describe("auth: account changes", () => {
  it("changes the email after both addresses confirm (double_confirm_changes)", async () => {
    const { email, id } = await confirmedUser("change");
    const client = anonClient();
    await client.auth.signInWithPassword({ email, password: PASSWORD });
    const next = newAddress("changed");
    const { data, error } = await client.auth.updateUser({ email: next });
    expect(error).toBeNull();
    expect(data.user?.new_email).toBe(next);
    const toOld = await latestMail(email, "Confirm your new email address");
    const toNew = await latestMail(next, "Confirm your new email address");
    expect(toOld.HTML).toContain(next);

    const first = await fetch(linkIn(toOld), { redirect: "manual" });
    const message = new URLSearchParams(new URL(first.headers.get("location")!).hash.slice(1)).get("message");
    expect(message).toBe("Confirmation link accepted. Please proceed to confirm link sent to the other email");
    const [half] = await sql`select email from auth.users where id = ${id}`;
    expect(half?.email).toBe(email);

    const second = await fetch(linkIn(toNew), { redirect: "manual" });
    expect(new URLSearchParams(new URL(second.headers.get("location")!).hash.slice(1)).get("access_token")).toBeTruthy();
    const [done] = await sql`select email, email_change from auth.users where id = ${id}`;
    expect(done).toEqual({ email: next, email_change: "" });
    expect((await anonClient().auth.signInWithPassword({ email: next, password: PASSWORD })).error).toBeNull();
  });

  it("refuses an email change to an address in use with email_exists", async () => {
    const { email } = await confirmedUser("dup1");
    const other = await confirmedUser("dup2");
    const client = anonClient();
    await client.auth.signInWithPassword({ email, password: PASSWORD });
    const { error } = await client.auth.updateUser({ email: other.email });
    expect(error?.code).toBe("email_exists");
  });

  it("asks for reauthentication to change the password of an old session, and accepts the mailed nonce", async () => {
    const { email } = await confirmedUser("reauth");
    const client = anonClient();
    const { data } = await client.auth.signInWithPassword({ email, password: PASSWORD });
    const sessionId = JSON.parse(Buffer.from(data.session!.access_token.split(".")[1]!, "base64url").toString()).session_id as string;
    // secure_password_change: sessions younger than 24 hours may change the password without a nonce.
    await sql`update auth.sessions set created_at = now() - interval '25 hours' where id = ${sessionId}`;
    const refused = await client.auth.updateUser({ password: "Changed-pass-55" });
    expect(refused.error?.code).toBe("reauthentication_needed");
    expect(refused.error?.status).toBe(400);

    expect((await client.auth.reauthenticate()).error).toBeNull();
    const nonce = otpIn(await latestMail(email, "Confirm reauthentication"));
    const wrong = await client.auth.updateUser({ password: "Changed-pass-55", nonce: "000000" === nonce ? "111111" : "000000" });
    expect(wrong.error?.code).toBe("reauthentication_not_valid");
    const same = await client.auth.updateUser({ password: PASSWORD, nonce });
    expect(same.error?.code).toBe("same_password");
    const ok = await client.auth.updateUser({ password: "Changed-pass-55", nonce });
    expect(ok.error).toBeNull();
    expect((await anonClient().auth.signInWithPassword({ email, password: "Changed-pass-55" })).error).toBeNull();
  });

  it("updates user metadata and keeps app_metadata for admins", async () => {
    const { email } = await confirmedUser("meta");
    const client = anonClient();
    await client.auth.signInWithPassword({ email, password: PASSWORD });
    const { data, error } = await client.auth.updateUser({ data: { theme: "dark" } });
    expect(error).toBeNull();
    expect(data.user?.user_metadata.theme).toBe("dark");
    const refreshed = await client.auth.refreshSession();
    const claims = JSON.parse(Buffer.from(refreshed.data.session!.access_token.split(".")[1]!, "base64url").toString());
    expect(claims.user_metadata.theme).toBe("dark");
  });
});

describe("auth: PKCE", () => {
  it("confirms a PKCE sign-up with ?code= and exchanges it for a session", async () => {
    const client = createClient(stack.url, stack.publishableKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false, flowType: "pkce" },
      realtime: { transport: ws as unknown as typeof WebSocket },
    });
    const email = newAddress("pkce");
    expect((await client.auth.signUp({ email, password: PASSWORD })).error).toBeNull();
    const link = linkIn(await latestMail(email));
    expect(link.searchParams.get("token")).toMatch(/^pkce_/);
    const res = await fetch(link, { redirect: "manual" });
    const code = new URL(res.headers.get("location")!).searchParams.get("code");
    expect(code).toBeTruthy();
    const { data, error } = await client.auth.exchangeCodeForSession(code!);
    expect(error).toBeNull();
    expect(data.user?.email).toBe(email);
    const [flows] = await sql`select count(*)::int as n from auth.flow_state where user_id = ${data.user!.id}`;
    expect(flows?.n).toBe(0);
  });
});

describe("auth: admin API", () => {
  it("creates, lists, reads, updates and deletes users with the secret key", async () => {
    const admin = serviceClient().auth.admin;
    const email = newAddress("admin");
    const created = await admin.createUser({ email, password: PASSWORD, email_confirm: true, user_metadata: { display_name: "Ada" }, app_metadata: { plan: "pro" } });
    expect(created.error).toBeNull();
    const id = created.data.user!.id;
    expect(created.data.user?.app_metadata).toMatchObject({ provider: "email", plan: "pro" });
    const [profile] = await sql`select display_name from public.profiles where id = ${id}`;
    expect(profile?.display_name).toBe("Ada");

    const list = await admin.listUsers({ page: 1, perPage: 1000 });
    expect(list.error).toBeNull();
    expect(list.data.users.map((u) => u.id)).toContain(id);
    expect((await admin.getUserById(id)).data.user?.email).toBe(email);
    const updated = await admin.updateUserById(id, { user_metadata: { display_name: "Ada L." }, ban_duration: "1h" });
    expect(updated.data.user?.user_metadata.display_name).toBe("Ada L.");
    expect(updated.data.user?.banned_until).toBeTruthy();
    expect((await anonClient().auth.signInWithPassword({ email, password: PASSWORD })).error?.code).toBe("user_banned");

    const link = await admin.generateLink({ type: "magiclink", email });
    expect(link.error).toBeNull();
    expect(link.data.properties?.action_link).toContain("/auth/v1/verify?token=");
    expect(link.data.properties?.verification_type).toBe("magiclink");
    await admin.updateUserById(id, { ban_duration: "none" });
    const viaHash = await anonClient().auth.verifyOtp({ token_hash: link.data.properties!.hashed_token, type: "magiclink" });
    expect(viaHash.error).toBeNull();

    expect((await admin.deleteUser(id)).error).toBeNull();
    expect((await admin.getUserById(id)).error?.status).toBe(404);
    const [gone] = await sql`select count(*)::int as n from public.profiles where id = ${id}`;
    expect(gone?.n).toBe(0);
  });

  it("invites a user by mail", async () => {
    const email = newAddress("invitee");
    const { data, error } = await serviceClient().auth.admin.inviteUserByEmail(email, { data: { display_name: "Guest" } });
    expect(error).toBeNull();
    expect(data.user?.invited_at).toBeTruthy();
    const link = linkIn(await latestMail(email));
    expect(link.searchParams.get("type")).toBe("invite");
    const res = await fetch(link, { redirect: "manual" });
    expect(new URLSearchParams(new URL(res.headers.get("location")!).hash.slice(1)).get("type")).toBe("invite");
  });

  it("refuses the admin API with the publishable key (403 not_admin)", async () => {
    const { data, error } = await anonClient().auth.admin.listUsers();
    expect(data.users).toEqual([]);
    expect(error?.code).toBe("not_admin");
    expect(error?.status).toBe(403);
    const create = await anonClient().auth.admin.createUser({ email: newAddress("x"), password: PASSWORD });
    expect(create.error?.code).toBe("not_admin");
  });
});

describe("auth: settings, health and the mail catcher", () => {
  it("serves /settings, /health and an empty JWKS for the HS256 secret", async () => {
    const settings = await (await fetch(`${stack.url}/auth/v1/settings`, { headers: { apikey: stack.publishableKey } })).json();
    expect(settings).toMatchObject({ disable_signup: false, mailer_autoconfirm: false, external: { email: true, anonymous_users: false, github: false } });
    const health = await (await fetch(`${stack.url}/auth/v1/health`, { headers: { apikey: stack.publishableKey } })).json();
    expect(health.name).toBe("GoTrue");
    const jwks = await (await fetch(`${stack.url}/auth/v1/.well-known/jwks.json`)).json();
    expect(jwks).toEqual({ keys: [] });
    const anonymous = await anonClient().auth.signInAnonymously();
    expect(anonymous.error?.code).toBe("anonymous_provider_disabled");
  });

  it("lists, reads and deletes messages through the Mailpit-style API", async () => {
    const email = newAddress("catcher");
    await anonClient().auth.signUp({ email, password: PASSWORD });
    const mail = await latestMail(email);
    const list = await (await fetch(`${stack.mailUrl}/api/v1/messages?limit=5`)).json();
    expect(list).toMatchObject({ start: 0 });
    expect(list.messages.length).toBeLessThanOrEqual(5);
    expect(list.total).toBeGreaterThan(0);
    expect(mail.To[0]!.Address).toBe(email);
    const del = await fetch(`${stack.mailUrl}/api/v1/messages`, { method: "DELETE", body: JSON.stringify({ IDs: [mail.ID] }) });
    expect(del.status).toBe(200);
    expect(await mailsTo(email)).toHaveLength(0);
    expect((await fetch(`${stack.mailUrl}/api/v1/message/${mail.ID}`)).status).toBe(404);
  });
});
