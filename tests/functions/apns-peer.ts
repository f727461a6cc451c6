// An APNs provider endpoint on loopback that checks a request the way Apple documents it ("Sending notification
// requests to APNs", "Establishing a token-based connection", "Generating a remote notification", "Handling
// notification responses"): HTTP/2 only over TLS (a test CA made here with openssl; the client is told to trust it),
// POST /3/device/<hex token>; the provider token's ES256 signature against the key's public half, its header (alg,
// kid) and claims (iss = team, iat not older than an hour, renewed no more than once per 20 minutes); the apns-*
// headers; and the payload (JSON, at most 4 KB, an `aps` dictionary of Apple's keys only). It answers 200 with an
// apns-id, or Apple's status and {"reason"}; per device token it can answer 400 BadDeviceToken, 410 Unregistered,
// 429 TooManyRequests (once, with Retry-After) or 500 InternalServerError.

import http2 from "node:http2";
import { z } from "npm:zod@4.6.7";

const b64uDec = (text: string): Uint8Array<ArrayBuffer> => {
  const s = text.replaceAll("-", "+").replaceAll("_", "/");
  return Uint8Array.from(atob(s + "=".repeat((4 - (s.length % 4)) % 4)), (c) => c.charCodeAt(0));
};
const utf8 = new TextEncoder();

/** A test CA and a server certificate for 127.0.0.1 and localhost, made with the openssl CLI. */
async function testCertificates(): Promise<{ ca: string; cert: string; key: string }> {
  const dir = await Deno.makeTempDir({ prefix: "apns-peer-" });
  const run = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" }).output();
    if (!out.success) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  };
  await Deno.writeTextFile(`${dir}/ext`, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "2", "-subj", "/CN=supabase-chat test CA");
  await run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  await run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "ext");
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  const result = { ca: await read("ca.pem"), cert: await read("server.pem"), key: await read("server.key") };
  await Deno.remove(dir, { recursive: true });
  return result;
}

/** The .p8 file Apple hands out: a P-256 key in PKCS #8 PEM. */
async function signingKey() {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const p8 = `-----BEGIN PRIVATE KEY-----\n${btoa(String.fromCharCode(...pkcs8)).match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`;
  return { p8, publicKey: pair.publicKey };
}

const alert = z.union([z.string(), z.strictObject({
  title: z.string().optional(), subtitle: z.string().optional(), body: z.string().optional(),
  "launch-image": z.string().optional(), "title-loc-key": z.string().optional(), "title-loc-args": z.array(z.string()).optional(),
  "subtitle-loc-key": z.string().optional(), "subtitle-loc-args": z.array(z.string()).optional(),
  "loc-key": z.string().optional(), "loc-args": z.array(z.string()).optional(),
})]);
/** The keys Apple defines for `aps` (unknown keys in `aps` are an error; custom keys go beside it). */
const aps = z.strictObject({
  alert: alert.optional(),
  badge: z.int().nonnegative().optional(),
  sound: z.union([z.string(), z.strictObject({ critical: z.union([z.literal(0), z.literal(1)]).optional(), name: z.string(),
                                               volume: z.number().min(0).max(1).optional() })]).optional(),
  "thread-id": z.string().optional(),
  category: z.string().optional(),
  "content-available": z.literal(1).optional(),
  "mutable-content": z.literal(1).optional(),
  "target-content-id": z.string().optional(),
  "interruption-level": z.enum(["passive", "active", "time-sensitive", "critical"]).optional(),
  "relevance-score": z.number().min(0).max(1).optional(),
  "filter-criteria": z.string().optional(),
});
const payloadSchema = z.looseObject({ aps });

export type ApnsBehaviour = "ok" | "bad-token" | "unregistered" | "busy" | "error";

export interface ApnsReceived {
  token: string;
  /** The protocol negotiated by ALPN: "h2" (the server refuses HTTP/1.1 altogether). */
  alpn: string | undefined;
  headers: Record<string, string>;
  payload: z.infer<typeof payloadSchema>;
  jwt: { kid: string; iss: string; iat: number };
}

export interface ApnsPeerOptions {
  teamId: string;
  keyId: string;
  /** Bundle ids the key may push to (apns-topic). */
  topics: string[];
  /** The peer's clock (ms), to age provider tokens in tests. */
  now?: () => number;
}

export async function startApnsPeer(options: ApnsPeerOptions) {
  const now = options.now ?? Date.now;
  const { ca, cert, key } = await testCertificates();
  const signer = await signingKey();
  const received: ApnsReceived[] = [];
  const rejected: string[] = [];
  const behaviour = new Map<string, ApnsBehaviour>();
  const busySeen = new Set<string>();
  const tokensSeen: Array<{ jwt: string; iat: number }> = [];
  const open = new Set<http2.ServerHttp2Session>();
  let sessions = 0;

  async function providerTokenProblem(authorization: string | undefined): Promise<[number, string] | { kid: string; iss: string; iat: number }> {
    const m = /^bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(authorization ?? "");
    if (!m) return [403, "MissingProviderToken"];
    const [, h, p, s] = m as unknown as [string, string, string, string];
    let header: Record<string, unknown>, claims: Record<string, unknown>;
    try {
      header = JSON.parse(new TextDecoder().decode(b64uDec(h)));
      claims = JSON.parse(new TextDecoder().decode(b64uDec(p)));
    } catch {
      return [403, "InvalidProviderToken"];
    }
    const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, signer.publicKey, b64uDec(s), utf8.encode(`${h}.${p}`));
    if (!ok || header.alg !== "ES256" || header.kid !== options.keyId || claims.iss !== options.teamId
        || typeof claims.iat !== "number") {
      return [403, "InvalidProviderToken"];
    }
    const iat = claims.iat;
    const age = now() / 1000 - iat;
    if (age > 3600) return [403, "ExpiredProviderToken"];
    if (age < -60) return [403, "InvalidProviderToken"];
    const jwt = `${h}.${p}.${s}`;
    const last = tokensSeen.at(-1);
    if (!last || last.jwt !== jwt) {
      if (last && iat - last.iat < 20 * 60) return [429, "TooManyProviderTokenUpdates"];
      tokensSeen.push({ jwt, iat });
    }
    return { kid: String(header.kid), iss: String(claims.iss), iat };
  }

  async function check(headers: http2.IncomingHttpHeaders, body: string, alpn: string | undefined): Promise<[number, string] | ApnsReceived> {
    if (headers[":method"] !== "POST") return [405, "MethodNotAllowed"];
    const path = /^\/3\/device\/([0-9a-f]+)$/.exec(String(headers[":path"]));
    if (!path) return [404, "BadPath"];
    const token = path[1]!;
    const jwt = await providerTokenProblem(headers.authorization);
    if (Array.isArray(jwt)) return jwt;
    const topic = headers["apns-topic"];
    if (!topic) return [400, "MissingTopic"];
    if (!options.topics.includes(String(topic))) return [400, "TopicDisallowed"];
    const pushType = headers["apns-push-type"];
    if (!["alert", "background", "location", "voip", "complication", "fileprovider", "mdm", "liveactivity", "pushtotalk"]
        .includes(String(pushType))) return [400, "InvalidPushType"];
    const priority = headers["apns-priority"];
    if (priority !== undefined && !["10", "5", "1"].includes(String(priority))) return [400, "BadPriority"];
    if (pushType === "background" && priority === "10") return [400, "BadPriority"];
    const expiration = headers["apns-expiration"];
    if (expiration !== undefined && !/^\d+$/.test(String(expiration))) return [400, "BadExpirationDate"];
    const collapse = headers["apns-collapse-id"];
    if (collapse !== undefined && utf8.encode(String(collapse)).length > 64) return [400, "BadCollapseId"];
    const id = headers["apns-id"];
    if (id !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(String(id))) return [400, "BadMessageId"];
    if (utf8.encode(body).length > 4096) return [413, "PayloadTooLarge"];
    if (body.length === 0) return [400, "PayloadEmpty"];
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return [400, "BadPayload"];
    }
    const payload = payloadSchema.safeParse(json);
    if (!payload.success) {
      rejected.push(`${token}: payload ${payload.error.message}`);
      return [400, "BadPayload"];
    }
    if (pushType === "alert" && payload.data.aps.alert === undefined) return [400, "BadPayload"];
    const plain: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) if (!name.startsWith(":")) plain[name] = String(value);
    return { token, alpn, headers: plain, payload: payload.data, jwt };
  }

  const server = http2.createSecureServer({ key, cert, allowHTTP1: false });
  server.on("session", (session) => {
    sessions++;
    open.add(session);
    session.on("close", () => open.delete(session));
  });
  server.on("stream", (stream, headers) => {
    let body = "";
    stream.setEncoding("utf8");
    stream.on("data", (c: string) => (body += c));
    stream.on("end", async () => {
      const apnsId = String(headers["apns-id"] ?? crypto.randomUUID());
      const answer = (status: number, reason?: string, extra: Record<string, string> = {}) => {
        stream.respond({ ":status": status, "apns-id": apnsId, ...(reason ? { "content-type": "application/json" } : {}), ...extra });
        stream.end(reason ? JSON.stringify({ reason, ...(status === 410 ? { timestamp: now() } : {}) }) : undefined);
      };
      const result = await check(headers, body, stream.session?.alpnProtocol);
      if (Array.isArray(result)) {
        rejected.push(`${String(headers[":path"])}: ${result[0]} ${result[1]}`);
        return answer(result[0], result[1]);
      }
      const how = behaviour.get(result.token) ?? "ok";
      if (how === "bad-token") return answer(400, "BadDeviceToken");
      if (how === "unregistered") return answer(410, "Unregistered");
      if (how === "error") return answer(500, "InternalServerError");
      if (how === "busy" && !busySeen.has(result.token)) {
        busySeen.add(result.token);
        return answer(429, "TooManyRequests", { "retry-after": "9" });
      }
      received.push(result);
      answer(200);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}`,
    ca,
    p8: signer.p8,
    received,
    rejected,
    /** Provider tokens seen, in order of first use. */
    tokensSeen,
    /** TLS connections (HTTP/2 sessions) opened to the peer. */
    sessions: () => sessions,
    behave(token: string, how: ApnsBehaviour) {
      behaviour.set(token.toLowerCase(), how);
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const session of open) session.destroy();
    }),
  };
}
export type ApnsPeer = Awaited<ReturnType<typeof startApnsPeer>>;
