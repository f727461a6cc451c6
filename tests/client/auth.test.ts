// Supabase Auth through the real supabase-js `supabase.auth` against the local stack: sign-up with a confirmation
// mail read from the mail catcher, sign-in, the profile our trigger creates, TOTP MFA, refresh rotation and reuse,
// and the three sign-out scopes.
import { describe, expect, it } from "vitest";
import * as OTPAuth from "otpauth";
import { anonClient, stack } from "./support/clients.ts";
import { db } from "./support/users.ts";
import { latestMail, linkIn, newAddress, otpIn } from "./support/mail.ts";

const PASSWORD = "Correct-horse-42";
const sql = db();

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** Signs up and confirms through the link in the mail; returns the address. */
async function confirmedUser(name: string, data: Record<string, unknown> = {}): Promise<string> {
  const email = newAddress(name);
  const { error } = await anonClient().auth.signUp({ email, password: PASSWORD, options: { data } });
  expect(error).toBeNull();
  const res = await fetch(linkIn(await latestMail(email)), { redirect: "manual" });
  expect(res.status).toBe(303);
  return email;
}

async function signedIn(email: string) {
  const client = anonClient();
  const { data, error } = await client.auth.signInWithPassword({ email, password: PASSWORD });
  expect(error).toBeNull();
  return { client, session: data.session! };
}

describe("auth: sign-up and confirmation", () => {
  it("signs up, mails a confirmation, refuses sign-in until confirmed, and confirms with the link", async () => {
    const email = newAddress("dana");
    const client = anonClient();
    const { data, error } = await client.auth.signUp({
      email,
      password: PASSWORD,
      options: { data: { username: `dana_${Date.now() % 100000}`, display_name: "Dana" }, emailRedirectTo: "http://127.0.0.1:3000/welcome" },
    });
    expect(error).toBeNull();
    expect(data.session).toBeNull();
    expect(data.user?.email).toBe(email);
    expect(data.user?.email_confirmed_at).toBeUndefined();
    expect(data.user?.identities?.[0]?.provider).toBe("email");

    const early = await client.auth.signInWithPassword({ email, password: PASSWORD });
    expect(early.error?.code).toBe("email_not_confirmed");
    expect(early.error?.status).toBe(400);

    const mail = await latestMail(email);
    expect(mail.Subject).toBe("Confirm your supabase-chat account");
    expect(mail.HTML).toContain(email);
    const link = linkIn(mail);
    expect(link.origin + link.pathname).toBe(`${stack.url}/auth/v1/verify`);
    expect(link.searchParams.get("type")).toBe("signup");
    expect(link.searchParams.get("redirect_to")).toBe("http://127.0.0.1:3000/welcome");

    const res = await fetch(link, { redirect: "manual" });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get("location")!);
    expect(location.origin + location.pathname).toBe("http://127.0.0.1:3000/welcome");
    const fragment = new URLSearchParams(location.hash.slice(1));
    expect(fragment.get("type")).toBe("signup");
    expect(fragment.get("token_type")).toBe("bearer");
    expect(claimsOf(fragment.get("access_token")!).sub).toBe(data.user!.id);

    const { data: signIn, error: signInError } = await client.auth.signInWithPassword({ email, password: PASSWORD });
    expect(signInError).toBeNull();
    expect(signIn.user?.email_confirmed_at).toBeTruthy();
    expect(signIn.user?.user_metadata.email_verified).toBe(true);

    // Our trigger on auth.users created the profile from the sign-up metadata.
    const [profile] = await sql`select display_name from public.profiles where id = ${data.user!.id}`;
    expect(profile?.display_name).toBe("Dana");
  });

  it("confirms with the OTP from the mail through verifyOtp", async () => {
    const email = newAddress("otp");
    await anonClient().auth.signUp({ email, password: PASSWORD });
    const code = otpIn(await latestMail(email));
    const client = anonClient();
    const { data, error } = await client.auth.verifyOtp({ email, token: code, type: "email" });
    expect(error).toBeNull();
    expect(data.session?.user.email).toBe(email);
    const again = await anonClient().auth.verifyOtp({ email, token: code, type: "email" });
    expect(again.error?.code).toBe("otp_expired");
    expect(again.error?.status).toBe(403);
  });

  it("writes the rows GoTrue writes: identity, role set after insert, audit entries, one-time token", async () => {
    const email = newAddress("rows");
    const { data } = await anonClient().auth.signUp({ email, password: PASSWORD });
    const id = data.user!.id;
    const [user] = await sql`select role, aud, instance_id, encrypted_password, confirmation_token, raw_app_meta_data from auth.users where id = ${id}`;
    expect(user).toMatchObject({ role: "authenticated", aud: "authenticated", instance_id: "00000000-0000-0000-0000-000000000000" });
    expect(String(user!.encrypted_password)).toMatch(/^\$2[aby]\$10\$/);
    expect(user!.raw_app_meta_data).toEqual({ provider: "email", providers: ["email"] });
    const [identity] = await sql`select provider, provider_id, identity_data from auth.identities where user_id = ${id}`;
    expect(identity).toMatchObject({ provider: "email", provider_id: id });
    expect(identity!.identity_data).toMatchObject({ sub: id, email, email_verified: false });
    const [ott] = await sql`select token_type, token_hash, relates_to from auth.one_time_tokens where user_id = ${id}`;
    expect(ott).toMatchObject({ token_type: "confirmation_token", token_hash: user!.confirmation_token, relates_to: email });
    const actions = await sql`select payload->>'action' as action from auth.audit_log_entries where payload->>'actor_id' = ${id}`;
    // As GoTrue: confirmation_requested now, user_signedup once the address is confirmed.
    expect(actions.map((a) => a.action)).toEqual(["user_confirmation_requested"]);
  });
});

describe("auth: sessions and tokens", () => {
  it("issues access tokens with GoTrue's claims", async () => {
    const email = await confirmedUser("claims");
    const { session } = await signedIn(email);
    const claims = claimsOf(session.access_token);
    expect(Object.keys(claims).sort()).toEqual(
      ["aal", "amr", "app_metadata", "aud", "email", "exp", "iat", "is_anonymous", "iss", "phone", "role", "session_id", "sub", "user_metadata"].sort(),
    );
    expect(claims).toMatchObject({
      iss: `${stack.url}/auth/v1`, aud: "authenticated", role: "authenticated", email, phone: "", aal: "aal1", is_anonymous: false,
      app_metadata: { provider: "email", providers: ["email"] },
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
    expect((claims.amr as Array<{ method: string }>)[0]!.method).toBe("password");
    expect(session.refresh_token).toMatch(/^[A-Za-z0-9]{12}$/);
    const [row] = await sql`select aal from auth.sessions where id = ${claims.session_id as string}`;
    expect(row?.aal).toBe("aal1");
  });

  it("rotates refresh tokens, accepts a reuse within the interval and revokes the family after it", async () => {
    const email = await confirmedUser("rotate");
    const { session } = await signedIn(email);
    const first = session.refresh_token;
    const a = await anonClient().auth.refreshSession({ refresh_token: first });
    expect(a.error).toBeNull();
    const second = a.data.session!.refresh_token;
    expect(second).not.toBe(first);
    const [row] = await sql`select revoked, parent from auth.refresh_tokens where token = ${second}`;
    expect(row).toMatchObject({ revoked: false, parent: first });

    // The parent of the active token gets the active token back (the client lost the answer).
    const lost = await anonClient().auth.refreshSession({ refresh_token: first });
    expect(lost.error).toBeNull();
    expect(lost.data.session!.refresh_token).toBe(second);

    const b = await anonClient().auth.refreshSession({ refresh_token: second });
    const third = b.data.session!.refresh_token;
    // `first` is now two generations old: within the reuse interval it still gets a new token...
    const within = await anonClient().auth.refreshSession({ refresh_token: first });
    expect(within.error).toBeNull();
    expect(within.data.session!.refresh_token).not.toBe(third);

    // ...but once the interval (10 s in config.toml) has passed, reuse revokes every token of the session.
    await sql`update auth.refresh_tokens set updated_at = now() - interval '30 seconds' where token = ${second}`;
    const reused = await anonClient().auth.refreshSession({ refresh_token: second });
    expect(reused.error?.code).toBe("refresh_token_already_used");
    expect(reused.error?.status).toBe(400);
    const live = await sql`select token from auth.refresh_tokens where session_id = (select session_id from auth.refresh_tokens where token = ${third}) and not revoked`;
    expect(live).toHaveLength(0);
    // As in GoTrue, the revocation stamps updated_at, so the revoked tokens only stop working after the interval.
    await sql`update auth.refresh_tokens set updated_at = now() - interval '30 seconds' where token = ${third}`;
    const after = await anonClient().auth.refreshSession({ refresh_token: third });
    expect(after.error?.code).toBe("refresh_token_already_used");

    const unknown = await anonClient().auth.refreshSession({ refresh_token: "nosuchtoken1" });
    expect(unknown.error?.code).toBe("refresh_token_not_found");
  });

  it("signs out with scope local, others and global", async () => {
    const email = await confirmedUser("scopes");
    const one = await signedIn(email);
    const two = await signedIn(email);
    const three = await signedIn(email);
    const sessions = async () => (await sql`select id from auth.sessions where user_id = ${one.session.user.id}`).map((r) => r.id as string);
    const idOf = (s: { access_token: string }) => claimsOf(s.access_token).session_id as string;
    expect(await sessions()).toEqual(expect.arrayContaining([idOf(one.session), idOf(two.session), idOf(three.session)]));

    expect((await three.client.auth.signOut({ scope: "local" })).error).toBeNull();
    expect(await sessions()).not.toContain(idOf(three.session));
    expect(await sessions()).toContain(idOf(two.session));
    // A token whose session is gone is refused by GET /user with session_not_found.
    const gone = await anonClient().auth.getUser(three.session.access_token);
    expect(gone.error?.name).toBe("AuthSessionMissingError");
    const raw = await fetch(`${stack.url}/auth/v1/user`, {
      headers: { apikey: stack.publishableKey, authorization: `Bearer ${three.session.access_token}`, "x-supabase-api-version": "2024-01-01" },
    });
    expect(raw.status).toBe(403);
    expect(await raw.json()).toEqual({ code: "session_not_found", message: "Session from session_id claim in JWT does not exist" });

    const four = await signedIn(email);
    expect((await four.client.auth.signOut({ scope: "others" })).error).toBeNull();
    expect(await sessions()).toEqual([claimsOf(four.session.access_token).session_id]);

    const five = await signedIn(email);
    expect((await five.client.auth.signOut()).error).toBeNull();
    expect(await sessions()).toHaveLength(0);
  });

  it("refuses a bad JWT with 403 bad_jwt and a missing bearer with 401", async () => {
    const res = await fetch(`${stack.url}/auth/v1/user`, {
      headers: { apikey: stack.publishableKey, authorization: "Bearer not.a.jwt", "x-supabase-api-version": "2024-01-01" },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("x-supabase-api-version")).toBe("2024-01-01");
    expect((await res.json()).code).toBe("bad_jwt");
    const old = await fetch(`${stack.url}/auth/v1/user`, { headers: { authorization: "Bearer not.a.jwt" } });
    const body = await old.json();
    expect(body).toMatchObject({ code: 403, error_code: "bad_jwt" });
    expect(typeof body.msg).toBe("string");
    expect(old.headers.get("x-sb-error-code")).toBe("bad_jwt");
  });
});

describe("auth: TOTP MFA", () => {
  it("enrolls, challenges and verifies a TOTP factor; the new token is aal2 with totp in amr", async () => {
    const email = await confirmedUser("mfa");
    const { client } = await signedIn(email);
    const enrolled = await client.auth.mfa.enroll({ factorType: "totp", friendlyName: "phone" });
    expect(enrolled.error).toBeNull();
    const factor = enrolled.data!;
    expect(factor.type).toBe("totp");
    expect(factor.totp.uri).toMatch(/^otpauth:\/\/totp\//);
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(factor.totp.secret) });

    const challenge = await client.auth.mfa.challenge({ factorId: factor.id });
    expect(challenge.error).toBeNull();
    const wrong = await client.auth.mfa.verify({ factorId: factor.id, challengeId: challenge.data!.id, code: "000000" === totp.generate() ? "111111" : "000000" });
    expect(wrong.error?.code).toBe("mfa_verification_failed");

    const verified = await client.auth.mfa.verify({ factorId: factor.id, challengeId: challenge.data!.id, code: totp.generate() });
    expect(verified.error).toBeNull();
    const claims = claimsOf(verified.data!.access_token);
    expect(claims.aal).toBe("aal2");
    expect((claims.amr as Array<{ method: string }>).map((a) => a.method)).toEqual(expect.arrayContaining(["totp", "password"]));
    const aal = await client.auth.mfa.getAuthenticatorAssuranceLevel();
    expect(aal.data).toMatchObject({ currentLevel: "aal2", nextLevel: "aal2" });

    const factors = await client.auth.mfa.listFactors();
    expect(factors.data?.totp.map((f) => f.id)).toEqual([factor.id]);

    // A new password sign-in is aal1 with aal2 as the next level until the factor is verified again.
    const fresh = await signedIn(email);
    const level = await fresh.client.auth.mfa.getAuthenticatorAssuranceLevel();
    expect(level.data).toMatchObject({ currentLevel: "aal1", nextLevel: "aal2" });
    const refused = await fresh.client.auth.updateUser({ password: "Another-pass-77" });
    expect(refused.error?.code).toBe("insufficient_aal");

    const removed = await client.auth.mfa.unenroll({ factorId: factor.id });
    expect(removed.error).toBeNull();
  });
});
