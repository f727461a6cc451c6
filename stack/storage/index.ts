// The Docker-free Storage API (`/storage/v1`), compatible with supabase/storage (checked at 4fa61fb) where
// supabase-js's storage-js and this project's policies and triggers meet it: the same routes, the same statements
// on storage.objects as the same roles (the caller for permission checks, the service role for final writes), the
// same JSON and errors. Files live on disk (files.ts). What is not implemented and every known difference:
// docs/local-stack/storage.md.
//
//   services.storage = createStorage(deps)
import { randomUUID } from "node:crypto";
import { parseSize, section } from "../shared/config.ts";
import type { StackDeps } from "../shared/deps.ts";
import { json, type Handler } from "../shared/http.ts";
import { bearerToken, signJwt, verifyAccessToken, type JwtClaims } from "../shared/keys.ts";
import { StorageDb, type Row, type Tx } from "./db.ts";
import { ERRORS, StorageApiError, toStorageError } from "./errors.ts";
import { FileStore, type StoredFile } from "./files.ts";
import {
  createObjectStatement, deleteObjectsStatement, findBucketStatement, findObjectStatement, findObjectsStatement,
  objectLockStatement, probeMetadata, searchStatement, updateObjectStatement, upsertObjectStatement,
  type ObjectWrite, type Scope,
} from "./statements.ts";
import { isEmptyFolder, readUpload } from "./upload.ts";

export type StorageHandler = Handler & { close(): Promise<void> };

/** storage-api's UPLOAD_SIGNED_URL_EXPIRATION_TIME default (src/config.ts), in seconds. */
const SIGNED_UPLOAD_EXPIRY = 7200;
const DEFAULT_FILE_SIZE_LIMIT = 50 * 1024 * 1024;
// src/storage/limits.ts isValidKey / isValidBucketName.
const VALID_KEY = /^[A-Za-z0-9_/!.*'() &$=@;:+,?-]*$/;
const VALID_BUCKET = /^[A-Za-z0-9_!.*'() &$=@;:+,?-]*$/;

interface Caller {
  jwt: string;
  claims: JwtClaims;
  /** A valid JWT was presented (routes that allow anonymous access run as anon otherwise). */
  authenticated: boolean;
  owner: string | undefined;
}

/** A bucket row as JSON: file_size_limit is a bigint, which the driver returns as text. */
function bucketJson(row: Record<string, unknown>): Record<string, unknown> {
  return { ...row, file_size_limit: row.file_size_limit === null || row.file_size_limit === undefined ? null : Number(row.file_size_limit) };
}

function mustBeValidKey(key: string | undefined): asserts key is string {
  if (!key || !VALID_KEY.test(key)) throw ERRORS.invalidKey(key ?? "");
}

function mustBeValidBucketName(name: unknown): asserts name is string {
  if (typeof name !== "string" || name.length === 0 || name.length > 100 || !VALID_BUCKET.test(name) || name.trim() !== name) {
    throw ERRORS.invalidBucketName();
  }
}

/** file_size_limit of a bucket request: a number of bytes or "20MB"-style text (src/storage/limits.ts parseFileSizeToBytes). */
function bucketSizeLimit(value: unknown): number | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value === "number") return value;
  const match = typeof value === "string" ? /^([0-9]+(?:\.[0-9]+)?)(gb|mb|kb|b)$/i.exec(value) : null;
  if (!match) throw ERRORS.invalidFileSizeLimit();
  const n = Number(Number.parseFloat(match[1]!).toPrecision(3));
  return n * ({ gb: 1e9, mb: 1e6, kb: 1e3, b: 1 } as Record<string, number>)[match[2]!.toLowerCase()]!;
}

async function jsonBody(request: Request): Promise<Record<string, unknown>> {
  try {
    const body = (await request.json()) as unknown;
    return body !== null && typeof body === "object" ? (body as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** "<bucket>/<name...>" of a route path, decoded. */
function splitObjectPath(rest: string): { bucket: string; name: string } {
  const decoded = rest.split("/").map((s) => decodeURIComponent(s));
  const [bucket = "", ...name] = decoded;
  return { bucket, name: name.join("/") };
}

export function createStorage(deps: StackDeps): StorageHandler {
  const db = new StorageDb(deps.db.url("supabase_storage_admin"));
  const files = new FileStore(deps.dataDir);
  const globalLimit = parseSize(section(deps.config, "storage").file_size_limit) ?? DEFAULT_FILE_SIZE_LIMIT;
  let serviceClaims: JwtClaims | undefined;

  async function callerOf(request: Request, allowAnonymous: boolean): Promise<Caller> {
    const jwt = bearerToken(request.headers.get("authorization")) ?? "";
    try {
      const claims = await verifyAccessToken(jwt, deps.keys);
      return { jwt, claims, authenticated: true, owner: typeof claims.sub === "string" ? claims.sub : undefined };
    } catch (error) {
      if (allowAnonymous) return { jwt, claims: { role: "anon" }, authenticated: false, owner: undefined };
      // src/http/plugins/jwt.ts: an invalid or missing JWT is AccessDenied with the verifier's message.
      throw ERRORS.accessDenied(error instanceof Error ? error.message : "Invalid JWT");
    }
  }

  const headersOf = (request: Request) => {
    const out: Record<string, string> = {};
    request.headers.forEach((value, key) => (out[key.toLowerCase()] = value));
    return out;
  };

  function scopeFor(caller: Caller, request: Request, operation: string): Scope {
    const role = typeof caller.claims.role === "string" ? caller.claims.role : "anon";
    return {
      role, jwt: caller.jwt, claims: caller.claims, headers: headersOf(request), method: request.method,
      path: new URL(request.url).pathname, operation,
    };
  }

  /** storage-api's asSuperUser(): the same request scope with the service-role key's JWT and claims. */
  async function superScope(request: Request, operation: string): Promise<Scope> {
    serviceClaims ??= await verifyAccessToken(deps.keys.serviceRoleKey, deps.keys);
    return scopeFor({ jwt: deps.keys.serviceRoleKey, claims: serviceClaims, authenticated: true, owner: undefined }, request, operation);
  }

  async function findBucket(scope: Scope, id: string, cols: string, opts: { publicOnly?: boolean; mayBeMissing?: boolean } = {}) {
    const [bucket] = await db.run(scope, findBucketStatement(id, cols, opts.publicOnly));
    if (!bucket && !opts.mayBeMissing) throw ERRORS.noSuchBucket();
    return bucket;
  }

  async function findObject(scope: Scope, bucket: string, name: string, cols: string, tx?: Tx): Promise<Row> {
    mustBeValidKey(name);
    const statement = findObjectStatement(bucket, name, cols);
    const [row] = tx ? await tx.run(statement) : await db.run(scope, statement);
    if (!row) throw ERRORS.noSuchKey();
    return row;
  }

  // ------------------------------------------------------------------------------------------------------------
  // upload (src/storage/object.ts uploadFromRequest, src/storage/uploader.ts upload/canUpload/completeUpload)
  // ------------------------------------------------------------------------------------------------------------
  async function canUpload(scope: Scope, o: ObjectWrite, upsert: boolean): Promise<void> {
    try {
      await db.testPermission(scope, (tx) => tx.run(upsert ? upsertObjectStatement(o) : createObjectStatement(o)));
    } catch (error) {
      const mapped = toStorageError(error);
      // pg.ts createObject: a duplicate key is KeyAlreadyExists.
      if (!upsert && mapped.code === "ResourceAlreadyExists") throw ERRORS.keyAlreadyExists();
      throw mapped;
    }
  }

  /** The final write as the superuser: lock, read the current row for update, upsert with the full metadata. */
  async function completeUpload(request: Request, o: ObjectWrite, operation: string): Promise<Row> {
    const scope = await superScope(request, operation);
    return db.transaction(scope, async (tx) => {
      await tx.run(objectLockStatement(o.bucket_id, o.name));
      await tx.run(findObjectStatement(o.bucket_id, o.name, "id, version, metadata", true));
      const [row] = await tx.run(upsertObjectStatement(o));
      return row!;
    });
  }

  function fullMetadata(stored: StoredFile, mimetype: string, cacheControl: string): Record<string, unknown> {
    // src/storage/backend/adapter.ts ObjectMetadata, as the file backend's headObject fills it.
    return {
      eTag: stored.eTag, size: stored.size, mimetype, cacheControl, lastModified: stored.lastModified.toISOString(),
      contentLength: stored.size, httpStatusCode: 200,
    };
  }

  async function upload(request: Request, opts: { bucket: string; name: string; owner: string | undefined; upsert: boolean; probeScope: Scope; operation: string }) {
    const superuser = await superScope(request, opts.operation);
    const bucket = await findBucket(superuser, opts.bucket, "id, file_size_limit, allowed_mime_types");
    const bucketLimit = typeof bucket!.file_size_limit === "number" || typeof bucket!.file_size_limit === "string"
      ? Number(bucket!.file_size_limit) : undefined;
    const maxFileSize = isEmptyFolder(opts.name) ? 0 : Math.min(globalLimit, bucketLimit ?? globalLimit);
    const body = await readUpload(request, {
      objectName: opts.name, maxFileSize, allowedMimeTypes: (bucket!.allowed_mime_types as string[] | null) ?? null,
    });
    mustBeValidKey(opts.name);
    files.pathOf(opts.bucket, opts.name);
    await canUpload(opts.probeScope, {
      bucket_id: opts.bucket, name: opts.name, version: "1", owner: opts.owner,
      metadata: probeMetadata(body.mimeType, body.declaredLength), user_metadata: body.userMetadata,
    }, opts.upsert);
    const staged = await files.stage(body.bytes);
    if (body.truncated) {
      await staged.discard();
      throw ERRORS.entityTooLarge();
    }
    let row: Row;
    try {
      row = await completeUpload(request, {
        bucket_id: opts.bucket, name: opts.name, owner: opts.owner, version: randomUUID(),
        metadata: fullMetadata(staged.info, body.mimeType, body.cacheControl), user_metadata: { ...body.userMetadata },
      }, opts.operation);
    } catch (error) {
      await staged.discard();
      throw error;
    }
    await staged.commit(opts.bucket, opts.name);
    return row;
  }

  // ------------------------------------------------------------------------------------------------------------
  // download (src/storage/renderer/renderer.ts, asset.ts; src/storage/range.ts)
  // ------------------------------------------------------------------------------------------------------------
  async function render(request: Request, bucket: string, name: string, metadata: Row | null, opts: { download?: string | null; expires?: string } = {}): Promise<Response> {
    const size = await files.size(bucket, name);
    if (size === undefined) {
      return json({ error: "Not found", message: "The resource was not found", statusCode: "404", code: "NoSuchKey" }, 400, { "cache-control": "no-store" });
    }
    const md = (metadata ?? {}) as Record<string, unknown>;
    const eTag = typeof md.eTag === "string" ? md.eTag : undefined;
    const headers = new Headers({ "accept-ranges": "bytes", "x-robots-tag": "none" });
    headers.set("content-type", typeof md.mimetype === "string" ? md.mimetype : "application/octet-stream");
    if (eTag) headers.set("etag", eTag);
    if (typeof md.lastModified === "string") headers.set("last-modified", new Date(md.lastModified).toUTCString());
    const ifNoneMatch = request.headers.get("if-none-match");
    if (eTag && ifNoneMatch === eTag) return new Response(null, { status: 304, headers });
    let status = 200;
    let range: { start: number; end: number } | undefined;
    const rangeHeader = request.headers.get("range");
    if (rangeHeader) {
      range = parseRange(rangeHeader, size);
      status = 206;
      headers.set("content-range", `bytes ${range.start}-${range.end}/${size}`);
      headers.set("content-length", String(range.end - range.start + 1));
    } else {
      headers.set("content-length", String(size));
    }
    if (opts.expires) headers.set("expires", opts.expires);
    else if (typeof md.cacheControl === "string" && md.cacheControl !== "") headers.set("cache-control", md.cacheControl);
    if (opts.download !== undefined && opts.download !== null) {
      if (opts.download === "") headers.set("content-disposition", "attachment;");
      else {
        const encoded = encodeURIComponent(opts.download);
        headers.set("content-disposition", `attachment; filename=${encoded}; filename*=UTF-8''${encoded}`);
      }
    }
    const body = request.method === "HEAD" ? null : files.read(bucket, name, range);
    return new Response(body, { status, headers });
  }

  function parseRange(header: string, size: number): { start: number; end: number } {
    const match = /^bytes=(\d*)-(\d*)$/.exec(header);
    if (!match || size <= 0 || (!match[1] && !match[2])) throw ERRORS.invalidRange();
    if (!match[1]) {
      const suffix = Number(match[2]);
      if (!Number.isSafeInteger(suffix) || suffix <= 0) throw ERRORS.invalidRange();
      return { start: Math.max(size - suffix, 0), end: size - 1 };
    }
    const start = Number(match[1]);
    const end = match[2] ? Number(match[2]) : size - 1;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start > end || start >= size) throw ERRORS.invalidRange();
    return { start, end: Math.min(end, size - 1) };
  }

  /** getObject.ts: a public bucket's objects are read as the superuser, a private bucket's as the caller. */
  async function download(request: Request, rest: string, caller: Caller): Promise<Response> {
    const { bucket, name } = splitObjectPath(rest);
    const op = "storage.object.get_authenticated";
    const b = await findBucket(await superScope(request, op), bucket, "id,public", { mayBeMissing: true });
    if (!caller.authenticated && !b?.public) throw ERRORS.noSuchBucket();
    if (!b) throw ERRORS.noSuchBucket();
    const scope = b.public ? await superScope(request, op) : scopeFor(caller, request, op);
    const obj = await findObject(scope, bucket, name, "id, version, metadata");
    return render(request, bucket, name, obj.metadata as Row, { download: new URL(request.url).searchParams.get("download") });
  }

  async function info(request: Request, rest: string, caller: Caller, publicRoute: boolean): Promise<Response> {
    const { bucket, name } = splitObjectPath(rest);
    const op = publicRoute ? "storage.object.info_public" : "object.get_authenticated_info";
    const b = await findBucket(await superScope(request, op), bucket, "id,public", { mayBeMissing: true });
    if (!caller.authenticated && !b?.public) throw ERRORS.noSuchBucket();
    if (!b) throw ERRORS.noSuchBucket();
    const scope = b.public || publicRoute ? await superScope(request, op) : scopeFor(caller, request, op);
    const obj = await findObject(scope, bucket, name, "id,name,version,bucket_id,metadata,user_metadata,updated_at,created_at");
    const md = (obj.metadata ?? {}) as Record<string, unknown>;
    const headers: Record<string, string> = {};
    if (typeof md.eTag === "string") headers.etag = md.eTag;
    if (typeof md.cacheControl === "string") headers["cache-control"] = md.cacheControl;
    if (request.method === "HEAD") {
      // HEAD /object/{bucket}/{path} answers with the object's headers (storage-js exists()).
      if (typeof md.mimetype === "string") headers["content-type"] = md.mimetype;
      if (typeof md.size === "number") headers["content-length"] = String(md.size);
      return new Response(null, { status: 200, headers });
    }
    return json({
      id: obj.id, name: obj.name, version: obj.version, bucket_id: obj.bucket_id, size: md.size ?? null,
      content_type: md.mimetype ?? null, cache_control: md.cacheControl ?? null, etag: md.eTag ?? null,
      metadata: obj.user_metadata, last_modified: obj.updated_at, created_at: obj.created_at,
    }, 200, headers);
  }

  // ------------------------------------------------------------------------------------------------------------
  // signed URLs (src/storage/object.ts signObjectUrl, signObjectUrls, signUploadObjectUrl, verifyObjectSignature)
  // The URL signing key is the project JWT secret (storage-api's urlSigningKey when no separate key is set).
  // ------------------------------------------------------------------------------------------------------------
  const signToken = (payload: Record<string, unknown>, expiresIn: number) => {
    const iat = Math.floor(Date.now() / 1000);
    return signJwt({ ...payload, iat, exp: iat + Math.floor(expiresIn) }, deps.keys.jwtSecret);
  };

  async function verifyToken(token: string | null, bucket: string, name: string, scope: "download" | "upload") {
    let payload: JwtClaims;
    try {
      payload = await verifyAccessToken(token ?? "", deps.keys);
    } catch (error) {
      const message = error instanceof Error ? error.message : undefined;
      if (message && /expired/i.test(message)) throw ERRORS.invalidJwt(message);
      throw ERRORS.invalidJwt(message);
    }
    const isUpload = typeof payload.upsert === "boolean" || payload.scope === "upload";
    const ok = scope === "upload" ? payload.scope === "upload" || (payload.scope === undefined && isUpload) : payload.scope === "download" || (payload.scope === undefined && !isUpload);
    if (!ok) throw ERRORS.invalidSignature(`Token is not scoped for ${scope}`);
    if (payload.url !== `${bucket}/${name}`) throw ERRORS.invalidSignature();
    if (typeof payload.exp === "number" && payload.exp * 1000 < Date.now()) throw ERRORS.expiredSignature();
    return payload;
  }

  // ------------------------------------------------------------------------------------------------------------
  // routes
  // ------------------------------------------------------------------------------------------------------------
  async function route(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const p = url.pathname.replace(/\/+$/, "") || "/";
    const m = request.method;

    if (p === "/status" && (m === "GET" || m === "HEAD")) return new Response(null, { status: 200 });
    if (p === "/health" && m === "GET") return json({ healthy: true });

    // -------- buckets (src/http/routes/bucket/*): as the caller; storage.buckets' RLS decides (service role) ----
    if (p === "/bucket" || p.startsWith("/bucket/")) {
      const caller = await callerOf(request, false);
      const parts = p.split("/").slice(2).map(decodeURIComponent);
      const [id, action] = parts;
      const op = (name: string) => scopeFor(caller, request, `storage.bucket.${name}`);
      const cols = "id, name, owner, public, created_at, updated_at, file_size_limit, allowed_mime_types";
      if (id === undefined && m === "GET") {
        const rows = await db.run(op("list"), { text: `SELECT ${cols}, type FROM storage.buckets`, values: [] });
        return json(rows.map(bucketJson));
      }
      if (id === undefined && m === "POST") {
        const body = await jsonBody(request);
        const name = body.name;
        mustBeValidBucketName(name);
        const bucketId = typeof body.id === "string" && body.id !== "" ? body.id : name;
        const limit = bucketSizeLimit(body.file_size_limit);
        const mimes = Array.isArray(body.allowed_mime_types) ? (body.allowed_mime_types as unknown[]).filter((x) => x) : body.allowed_mime_types;
        const values: Array<[string, unknown]> = [
          ["id", bucketId], ["name", name], ["owner", caller.owner && /^[0-9a-f-]{36}$/i.test(caller.owner) ? caller.owner : undefined],
          ["owner_id", caller.owner], ["public", body.public === true], ["allowed_mime_types", mimes ?? undefined],
          ["file_size_limit", limit ?? undefined], ["type", "STANDARD"],
        ];
        const cols2 = values.filter(([, v]) => v !== undefined);
        try {
          await db.run(op("create"), {
            text: `INSERT INTO storage.buckets (${cols2.map(([c]) => c).join(", ")}) VALUES (${cols2.map((_, i) => `$${i + 1}`).join(", ")})`,
            values: cols2.map(([, v]) => v),
          });
        } catch (error) {
          const mapped = toStorageError(error);
          throw mapped.code === "ResourceAlreadyExists" ? ERRORS.bucketAlreadyExists() : mapped;
        }
        return json({ name });
      }
      if (id !== undefined && action === undefined && m === "GET") {
        return json(bucketJson((await findBucket(op("get"), id, `${cols}, type`))!));
      }
      if (id !== undefined && action === undefined && m === "PUT") {
        const body = await jsonBody(request);
        const fields: Array<[string, unknown]> = [
          ["public", body.public], ["file_size_limit", bucketSizeLimit(body.file_size_limit)],
          ["allowed_mime_types", body.allowed_mime_types],
        ];
        const set = fields.filter(([, v]) => v !== undefined);
        if (set.length > 0) {
          const rows = await db.run(op("update"), {
            text: `UPDATE storage.buckets SET ${set.map(([c], i) => `${c} = $${i + 1}`).join(", ")} WHERE id = $${set.length + 1} RETURNING id`,
            values: [...set.map(([, v]) => v), id],
          });
          if (rows.length === 0) throw ERRORS.noSuchBucket();
        }
        return json({ message: "Successfully updated" });
      }
      if (id !== undefined && action === undefined && m === "DELETE") {
        await db.transaction(await superScope(request, "storage.bucket.delete"), async (tx) => {
          const [b] = await tx.run(findBucketStatement(id, "id"));
          if (!b) throw ERRORS.noSuchBucket();
          const any = await tx.run({ text: "SELECT 1 FROM storage.objects WHERE bucket_id = $1 LIMIT $2", values: [id, 1] });
          if (any.length > 0) throw ERRORS.bucketNotEmpty();
        });
        const deleted = await db.run(op("delete"), { text: "DELETE FROM storage.buckets WHERE id = ANY($1::text[]) RETURNING id", values: [[id]] });
        if (deleted.length === 0) throw ERRORS.noSuchBucket();
        await files.removeBucket(id);
        return json({ message: "Successfully deleted" });
      }
      if (id !== undefined && action === "empty" && m === "POST") {
        if (caller.claims.role !== "service_role") throw ERRORS.accessDenied("Access denied: Invalid role").withStatusCode(403);
        await findBucket(op("empty"), id, "id");
        // storage-api queues the deletion; here it happens before the answer.
        const removed = await db.run(op("empty"), { text: "DELETE FROM storage.objects WHERE bucket_id = $1 RETURNING name", values: [id] });
        for (const r of removed) await files.remove(id, String(r.name));
        return json({ message: "Empty bucket has been queued. Completion may take up to an hour." });
      }
      throw ERRORS.invalidRequest(`Route ${m}:${p} not found`);
    }

    if (!p.startsWith("/object/")) throw ERRORS.invalidRequest(`Route ${m}:${p} not found`);
    const rest = p.slice("/object/".length);

    // -------- public download: no JWT needed --------------------------------------------------------------------
    if (rest.startsWith("public/") && (m === "GET" || m === "HEAD")) {
      const { bucket, name } = splitObjectPath(rest.slice("public/".length));
      const scope = await superScope(request, "storage.object.get_public");
      await findBucket(scope, bucket, "id,public", { publicOnly: true });
      const obj = await findObject(scope, bucket, name, "id,version,metadata");
      return render(request, bucket, name, obj.metadata as Row, { download: url.searchParams.get("download") });
    }
    if (rest.startsWith("info/public/") && m === "GET") {
      return info(request, rest.slice("info/public/".length), await callerOf(request, true), true);
    }

    // -------- signed download / signed upload: the token is the credential --------------------------------------
    if (rest.startsWith("sign/") && m === "GET") {
      const { bucket, name } = splitObjectPath(rest.slice("sign/".length));
      const payload = await verifyToken(url.searchParams.get("token"), bucket, name, "download");
      const obj = await findObject(await superScope(request, "storage.object.get_signed"), bucket, name, "id,version,metadata");
      return render(request, bucket, name, obj.metadata as Row, {
        download: url.searchParams.get("download"), expires: new Date(Number(payload.exp) * 1000).toUTCString(),
      });
    }
    if (rest.startsWith("upload/sign/") && m === "PUT") {
      const { bucket, name } = splitObjectPath(rest.slice("upload/sign/".length));
      const payload = await verifyToken(url.searchParams.get("token"), bucket, name, "upload");
      const owner = typeof payload.owner === "string" ? payload.owner : undefined;
      const operation = "storage.object.upload_signed";
      await upload(request, {
        bucket, name, owner, upsert: payload.upsert === true, probeScope: await superScope(request, operation), operation,
      });
      return json({ Key: `${bucket}/${name}` });
    }

    const caller = await callerOf(request, false);

    if (rest.startsWith("upload/sign/") && m === "POST") {
      const { bucket, name } = splitObjectPath(rest.slice("upload/sign/".length));
      mustBeValidKey(name);
      const xMetadata = request.headers.get("x-metadata");
      let userMetadata: Record<string, unknown> | undefined;
      if (xMetadata) {
        try { userMetadata = JSON.parse(Buffer.from(xMetadata, "base64").toString("utf8")) as Record<string, unknown>; } catch { userMetadata = undefined; }
      }
      const length = request.headers.get("content-length");
      const upsert = request.headers.get("x-upsert") === "true";
      await canUpload(scopeFor(caller, request, "storage.object.sign_upload_url"), {
        bucket_id: bucket, name, version: "1", owner: caller.owner, user_metadata: userMetadata,
        metadata: probeMetadata(request.headers.get("content-type") ?? undefined, length ? Number(length) : undefined),
      }, upsert);
      const token = await signToken({ owner: caller.owner, url: `${bucket}/${name}`, upsert, scope: "upload" }, SIGNED_UPLOAD_EXPIRY);
      return json({ url: `/object/upload/sign/${bucket}/${name}?token=${token}`, token });
    }

    if (rest.startsWith("sign/") && m === "POST") {
      const target = rest.slice("sign/".length);
      const body = await jsonBody(request);
      const expiresIn = Number(body.expiresIn);
      if (!Number.isFinite(expiresIn) || expiresIn < 1) throw ERRORS.invalidRequest("body/expiresIn must be >= 1");
      if (!target.includes("/")) {
        const bucket = decodeURIComponent(target);
        const paths = Array.isArray(body.paths) ? (body.paths as unknown[]).map(String) : [];
        const found = await db.run(scopeFor(caller, request, "storage.object.sign_many"), findObjectsStatement(bucket, paths, "name"));
        const names = new Set(found.map((r) => String(r.name)));
        return json(await Promise.all(paths.map(async (path) => {
          if (!names.has(path)) return { error: "Either the object does not exist or you do not have access to it", path, signedURL: null };
          const token = await signToken({ url: `${bucket}/${path}`, scope: "download" }, expiresIn);
          return { error: null, path, signedURL: `/object/sign/${bucket}/${path}?token=${token}` };
        })));
      }
      const { bucket, name } = splitObjectPath(target);
      await findObject(scopeFor(caller, request, "storage.object.sign"), bucket, name, "id");
      const token = await signToken({ url: `${bucket}/${name}`, scope: "download" }, expiresIn);
      return json({ signedURL: `/object/sign/${bucket}/${name}?token=${token}` });
    }

    if (rest.startsWith("list/") && m === "POST") {
      const bucket = decodeURIComponent(rest.slice("list/".length));
      const body = await jsonBody(request);
      let prefix = typeof body.prefix === "string" ? body.prefix : "";
      if (prefix.length > 0 && !prefix.endsWith("/")) prefix = `${prefix}/`;
      const sortBy = (body.sortBy ?? {}) as { column?: string; order?: string };
      const rows = await db.run(scopeFor(caller, request, "storage.object.list"), searchStatement(bucket, prefix, {
        limit: typeof body.limit === "number" ? body.limit : undefined,
        offset: typeof body.offset === "number" ? body.offset : undefined,
        search: typeof body.search === "string" ? body.search : undefined,
        column: sortBy.column, order: sortBy.order,
      }));
      return json(rows);
    }

    if (rest === "move" && m === "POST") {
      const body = await jsonBody(request);
      const bucketId = String(body.bucketId ?? "");
      const sourceKey = String(body.sourceKey ?? "");
      const destinationKey = String(body.destinationKey ?? "");
      const destBucket = typeof body.destinationBucket === "string" && body.destinationBucket ? body.destinationBucket : bucketId;
      mustBeValidKey(destinationKey);
      files.pathOf(destBucket, destinationKey);
      const newVersion = randomUUID();
      const op = "storage.object.move";
      await db.testPermission(scopeFor(caller, request, op), async (tx) => {
        await findObject(scopeFor(caller, request, op), bucketId, sourceKey, "id", tx);
        const updated = await tx.run(updateObjectStatement(bucketId, sourceKey, { name: destinationKey, version: newVersion, bucket_id: destBucket, owner: caller.owner }));
        if (updated.length === 0) throw ERRORS.noSuchKey();
      });
      const superuser = await superScope(request, op);
      const source = await findObject(superuser, bucketId, sourceKey, "id, version,user_metadata");
      if (bucketId === destBucket && sourceKey === destinationKey) return json({ message: "Successfully moved", Id: source.id, Key: sourceKey });
      const stored = await files.copy(bucketId, sourceKey, destBucket, destinationKey);
      const moved = await db.transaction(superuser, async (tx) => {
        await tx.run(objectLockStatement(bucketId, destinationKey));
        const current = await findObject(superuser, bucketId, sourceKey, "id,version,metadata,user_metadata", tx);
        const md = (current.metadata ?? {}) as Record<string, unknown>;
        await tx.run(updateObjectStatement(bucketId, sourceKey, {
          name: destinationKey, bucket_id: destBucket, version: newVersion, owner: caller.owner,
          metadata: fullMetadata(stored, String(md.mimetype ?? "application/octet-stream"), String(md.cacheControl ?? "no-cache")),
          user_metadata: (source.user_metadata ?? undefined) as Record<string, unknown> | undefined,
        }));
        return current;
      }).catch(async (error: unknown) => {
        await files.remove(destBucket, destinationKey);
        throw error;
      });
      await files.remove(bucketId, sourceKey);
      return json({ message: "Successfully moved", Id: moved.id, Key: destinationKey });
    }

    if (rest === "copy" && m === "POST") {
      const body = await jsonBody(request);
      const bucketId = String(body.bucketId ?? "");
      const sourceKey = String(body.sourceKey ?? "");
      const destinationKey = String(body.destinationKey ?? "");
      const destBucket = typeof body.destinationBucket === "string" && body.destinationBucket ? body.destinationBucket : bucketId;
      const upsert = request.headers.get("x-upsert") === "true";
      mustBeValidKey(destinationKey);
      files.pathOf(destBucket, destinationKey);
      const op = "storage.object.copy";
      const origin = await findObject(scopeFor(caller, request, op), bucketId, sourceKey, "bucket_id,metadata,user_metadata,version");
      const copyMetadata = body.copyMetadata !== false;
      const destMetadata = { ...((origin.metadata ?? {}) as Record<string, unknown>) };
      const given = (body.metadata ?? {}) as Record<string, unknown>;
      if (!copyMetadata) {
        if (given.cacheControl !== undefined) destMetadata.cacheControl = given.cacheControl;
        if (given.mimetype !== undefined) destMetadata.mimetype = given.mimetype;
      }
      const xMetadata = request.headers.get("x-metadata");
      let headerUserMetadata: Record<string, unknown> | undefined;
      if (xMetadata) {
        try { headerUserMetadata = JSON.parse(Buffer.from(xMetadata, "base64").toString("utf8")) as Record<string, unknown>; } catch { headerUserMetadata = undefined; }
      }
      const destUserMetadata = copyMetadata ? ((origin.user_metadata ?? undefined) as Record<string, unknown> | undefined) : headerUserMetadata;
      await canUpload(scopeFor(caller, request, op), {
        bucket_id: destBucket, name: destinationKey, owner: caller.owner, version: "1", user_metadata: destUserMetadata, metadata: destMetadata,
      }, upsert);
      const stored = await files.copy(bucketId, sourceKey, destBucket, destinationKey);
      try {
        const row = await db.transaction(await superScope(request, op), async (tx) => {
          await tx.run(objectLockStatement(destBucket, destinationKey));
          await tx.run(findObjectStatement(destBucket, destinationKey, "id,name,metadata,version,bucket_id", true));
          const [r] = await tx.run(upsertObjectStatement({
            bucket_id: destBucket, name: destinationKey, owner: caller.owner, version: randomUUID(),
            metadata: { ...destMetadata, lastModified: stored.lastModified.toISOString(), eTag: stored.eTag },
            user_metadata: destUserMetadata,
          }));
          return r!;
        });
        return json({ Id: row.id, Key: `${destBucket}/${destinationKey}`, ...row });
      } catch (error) {
        await files.remove(destBucket, destinationKey);
        throw error;
      }
    }

    if (rest.startsWith("info/") && m === "GET") {
      const target = rest.slice("info/".length).replace(/^authenticated\//, "");
      return info(request, target, caller, false);
    }
    if (rest.startsWith("authenticated/") && m === "GET") return download(request, rest.slice("authenticated/".length), caller);

    const { bucket, name } = splitObjectPath(rest);
    if (m === "DELETE" && name === "") {
      const body = await jsonBody(request);
      const prefixes = Array.isArray(body.prefixes) ? (body.prefixes as unknown[]).map(String) : [];
      if (prefixes.length === 0) throw ERRORS.invalidRequest("body/prefixes must NOT have fewer than 1 items");
      const removed: Row[] = [];
      for (let i = 0; i < prefixes.length; i += 500) {
        const batch = prefixes.slice(i, i + 500);
        const rows = await db.run(scopeFor(caller, request, "storage.object.delete_many"), deleteObjectsStatement(bucket, batch));
        for (const row of rows) await files.remove(bucket, String(row.name));
        removed.push(...rows);
      }
      return json(removed);
    }
    if (m === "DELETE") {
      const op = "storage.object.delete";
      mustBeValidKey(name);
      await findObject(await superScope(request, op), bucket, name, "id,version,metadata");
      const rows = await db.run(scopeFor(caller, request, op), deleteObjectsStatement(bucket, [name]));
      if (rows.length === 0) throw ERRORS.accessDenied("Access denied");
      await files.remove(bucket, name);
      return json({ message: "Successfully deleted" });
    }
    if (m === "GET") return download(request, rest, caller);
    if (m === "HEAD") return info(request, rest, caller, false);
    if (m === "POST" || m === "PUT") {
      const upsert = m === "PUT" || request.headers.get("x-upsert") === "true";
      const operation = m === "PUT" ? "storage.object.upload_update" : "storage.object.upload";
      const row = await upload(request, {
        bucket, name, owner: caller.owner, upsert, probeScope: scopeFor(caller, request, operation), operation,
      });
      return json({ Id: row.id, Key: `${bucket}/${name}` });
    }
    throw ERRORS.invalidRequest(`Route ${m}:${p} not found`);
  }

  const handler = (async (request: Request) => {
    try {
      return await route(request);
    } catch (error) {
      const mapped = toStorageError(error);
      if (!(error instanceof StorageApiError) && mapped.httpStatusCode === 500) console.error("storage:", error);
      // A refusal before the body was read (a declared length over the limit): read the rest, so the client's
      // kept-alive connection stays usable (storage-api closes the connection instead).
      if (request.body && !request.bodyUsed) await request.arrayBuffer().catch(() => undefined);
      return mapped.toResponse();
    }
  }) as StorageHandler;
  handler.close = () => db.close();
  return handler;
}
