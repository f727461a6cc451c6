// A Web Push service on loopback for the client suite, checking requests as a real one does: the VAPID JWT's ES256
// signature, audience and expiry (RFC 8292), and the aes128gcm payload, decrypted with the subscription's private key
// (ECDH, HKDF, AES-GCM; RFC 8291/8188) through WebCrypto. It answers 201 and keeps what it decrypted.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

const { subtle } = globalThis.crypto;
const utf8 = new TextEncoder();

export const b64u = {
  enc: (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url"),
  dec: (text: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(text, "base64url")),
};

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.concat(parts));
}

export interface BrowserSubscription {
  json: { endpoint: string; keys: { p256dh: string; auth: string } };
  keys: CryptoKeyPair;
  publicRaw: Uint8Array<ArrayBuffer>;
  auth: Uint8Array<ArrayBuffer>;
}

export async function decryptAes128gcm(body: Uint8Array<ArrayBuffer>, sub: BrowserSubscription): Promise<string> {
  const salt = body.slice(0, 16);
  const idlen = body[20]!;
  const senderPublic = body.slice(21, 21 + idlen);
  const ciphertext = body.slice(21 + idlen);
  const sender = await subtle.importKey("raw", senderPublic, { name: "ECDH", namedCurve: "P-256" }, false, []);
  const shared = await subtle.deriveBits({ name: "ECDH", public: sender }, sub.keys.privateKey, 256);
  const hkdf = (ikm: BufferSource) => subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const info = concat(utf8.encode("WebPush: info\0"), sub.publicRaw, senderPublic);
  const ikm = await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: sub.auth, info }, await hkdf(shared), 256);
  const prk = await hkdf(ikm);
  const cek = await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info: utf8.encode("Content-Encoding: aes128gcm\0") }, prk, 128);
  const nonce = await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info: utf8.encode("Content-Encoding: nonce\0") }, prk, 96);
  const key = await subtle.importKey("raw", cek, "AES-GCM", false, ["decrypt"]);
  const plain = new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: nonce }, key, ciphertext));
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (plain[end] !== 2) throw new Error("no padding delimiter");
  return new TextDecoder().decode(plain.slice(0, end));
}

export async function vapidProblem(authorization: string | undefined, origin: string, expectedKey: string): Promise<string | null> {
  const m = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+),\s*k=([\w-]+)$/.exec(authorization ?? "");
  if (!m) return "no vapid authorization";
  const [jwt, k] = [m[1]!, m[2]!];
  if (k !== expectedKey) return "unknown application server key";
  const [h, p, s] = jwt.split(".") as [string, string, string];
  if (JSON.parse(Buffer.from(h, "base64url").toString()).alg !== "ES256") return "alg";
  const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as { aud?: string; exp?: number; sub?: string };
  const key = await subtle.importKey("raw", b64u.dec(k), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  if (!(await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, b64u.dec(s), utf8.encode(`${h}.${p}`)))) return "bad signature";
  if (claims.aud !== origin) return `aud ${claims.aud}`;
  const now = Date.now() / 1000;
  if (!(claims.exp! > now && claims.exp! <= now + 24 * 3600)) return "exp";
  if (!/^(mailto:|https:)/.test(claims.sub ?? "")) return "sub";
  return null;
}

export interface PushService {
  origin: string;
  received: Array<{ path: string; payload: Record<string, unknown>; topic?: string; urgency?: string; ttl?: string }>;
  rejected: string[];
  subscribe(path: string): Promise<BrowserSubscription["json"]>;
  close(): Promise<void>;
}

export async function startPushService(vapidPublicKey: string, options: { quiet?: boolean } = {}): Promise<PushService> {
  const subs = new Map<string, BrowserSubscription>();
  const received: PushService["received"] = [];
  const rejected: string[] = [];
  let origin = "";
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const path = req.url ?? "/";
      const problem = await vapidProblem(req.headers.authorization, origin, vapidPublicKey);
      const sub = subs.get(path);
      if (problem || !sub || req.headers["content-encoding"] !== "aes128gcm") {
        rejected.push(`${path}: ${problem ?? (sub ? "encoding" : "unknown subscription")}`);
        res.writeHead(problem ? 403 : 404).end();
        return;
      }
      try {
        const payload = JSON.parse(await decryptAes128gcm(new Uint8Array(Buffer.concat(chunks)), sub)) as Record<string, unknown>;
        received.push({ path, payload, topic: req.headers.topic as string | undefined, urgency: req.headers.urgency as string | undefined,
                        ttl: req.headers.ttl as string | undefined });
        if (!options.quiet) console.log(`push service: ${path} got ${JSON.stringify(payload)}`);
        res.writeHead(201).end();
      } catch (error) {
        rejected.push(`${path}: ${String(error)}`);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    received,
    rejected,
    async subscribe(path) {
      const keys = (await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
      const publicRaw = new Uint8Array(await subtle.exportKey("raw", keys.publicKey));
      const auth = globalThis.crypto.getRandomValues(new Uint8Array(16));
      const json = { endpoint: origin + path, keys: { p256dh: b64u.enc(publicRaw), auth: b64u.enc(auth) } };
      subs.set(path, { json, keys, publicRaw, auth });
      return json;
    },
    // The notify worker may keep a connection open (keep-alive, or a request still in flight when the test ends):
    // close drops them all instead of waiting for them.
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
