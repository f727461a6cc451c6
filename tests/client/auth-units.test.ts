// Unit checks of the local Auth's and mail catcher's pure parts: redirect allow-list globs (GoTrue's
// utilities.IsRedirectURLValid with conf.URIAllowListMap), password character sets (the CLI's password_requirements),
// template rendering, and the mail catcher's search grammar.
import { describe, expect, it } from "vitest";
import { isRedirectAllowed } from "../../stack/auth/api.ts";
import { render } from "../../stack/auth/mailer.ts";
import { requiredCharacters, type AuthSettings } from "../../stack/auth/settings.ts";
import { matches, type StoredMessage } from "../../stack/mail/index.ts";

const settings = (additional: string[]) => ({ siteUrl: "http://127.0.0.1:3000", additionalRedirectUrls: additional }) as AuthSettings;

describe("redirect allow-list", () => {
  it("accepts the site URL's host on any path and any localhost port, and loopback literals", () => {
    const s = settings([]);
    expect(isRedirectAllowed(s, "http://127.0.0.1:3000/welcome")).toBe(true);
    expect(isRedirectAllowed(s, "http://127.0.0.1:5173/x")).toBe(true);
    expect(isRedirectAllowed(s, "https://evil.example/x")).toBe(false);
    expect(isRedirectAllowed(s, "")).toBe(false);
    expect(isRedirectAllowed(s, "http://2130706433/")).toBe(false);
  });

  it("matches globs with . and / as separators and ignores the fragment", () => {
    const s = settings(["https://*.example.com/**", "https://app.example.org/callback"]);
    expect(isRedirectAllowed(s, "https://a.example.com/any/path")).toBe(true);
    expect(isRedirectAllowed(s, "https://a.b.example.com/x")).toBe(false);
    expect(isRedirectAllowed(s, "https://app.example.org/callback#frag")).toBe(true);
    expect(isRedirectAllowed(s, "https://app.example.org/callback/more")).toBe(false);
  });
});

describe("password requirements", () => {
  it("maps the CLI's names to GoTrue's character sets", () => {
    expect(requiredCharacters("")).toEqual([]);
    expect(requiredCharacters("letters_digits")).toHaveLength(2);
    expect(requiredCharacters("lower_upper_letters_digits")).toEqual(["abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"]);
    expect(requiredCharacters("lower_upper_letters_digits_symbols")).toHaveLength(4);
    expect(() => requiredCharacters("strong")).toThrow();
  });
});

describe("mail templates", () => {
  it("substitutes GoTrue's variables, HTML-escaped, including .Data keys", () => {
    expect(render(`<a href="{{ .ConfirmationURL }}">{{.Email}}</a> {{ .Data.name }} {{ .Missing }}`, {
      ConfirmationURL: "http://x/verify?a=1&b=2", Email: "a@b.c", Data: { name: "<Ann>" },
    })).toBe(`<a href="http://x/verify?a=1&amp;b=2">a@b.c</a> &lt;Ann&gt; `);
  });
});

describe("mail catcher search", () => {
  const message = {
    ID: "1", Subject: "Confirm your account", Text: "hello there", HTML: "", Read: false,
    From: { Name: "Admin", Address: "admin@email.com" }, To: [{ Name: "", Address: "ann@example.test" }], Cc: [], Bcc: [],
  } as unknown as StoredMessage;

  it("supports to:, from:, subject:, is:, negation and free words", () => {
    expect(matches(message, "to:ann@example.test")).toBe(true);
    expect(matches(message, "to:bob@example.test")).toBe(false);
    expect(matches(message, `from:admin subject:"confirm your"`)).toBe(true);
    expect(matches(message, "is:unread hello")).toBe(true);
    expect(matches(message, "-subject:confirm")).toBe(false);
  });
});
