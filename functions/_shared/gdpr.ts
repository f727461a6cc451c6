// GDPR self-service: the data export (gdpr-export) and account deletion (delete-account). Both are called by the
// signed-in user with their access token (supabase.functions.invoke) and act for that user only.
//
// gdpr-export, POST {}: makes a public.data_exports job (or returns the unfinished one), answers 202 with it and
// builds the archive in the background (EdgeRuntime.waitUntil on Supabase): export.json (private.export_user_data)
// and every Storage object the user owns under files/<bucket>/<name>, as a tar.gz in the private `exports` bucket
// at <user id>/<export id>.tar.gz. The job row carries phase and progress while it runs and, when ready, a signed
// URL valid for retention_settings.signed_url_lifetime. The client polls the row (RLS: owner only).
//
// delete-account, POST {}: only after a recent sign-in: the newest `amr` timestamp of the access token (the time
// the user last proved who they are with a password, OTP, magic link, OAuth or MFA; a refresh keeps it) must be
// within retention_settings.reauthentication_window, else 401 REAUTHENTICATION_NEEDED. Then: private.erase_user,
// every Storage object of the user removed through the Storage API, the auth user deleted through the Auth admin
// API, private.finish_erasure (Auth's audit rows about the user, the audit entry with counts only).
// Both answer 401 for a missing or invalid token, 403 for a token that is not a user's, 404 for an unknown user.

import type { SupabaseClient } from "npm:@supabase/supabase-js@2.109.0";
import { z } from "npm:zod@4.6.7";
import type { Database } from "../../types/database.ts";
import { preflightResponse } from "./cors.ts";
import type { Sql } from "./db.ts";
import { errorResponse, json, methodNotAllowed, validationErrorResponse } from "./http.ts";
import { verifyJwt, type JwtClaims } from "./jwt.ts";
import { createSupabaseObjectStorage, type ObjectStorage } from "./storage.ts";
import { gzip, TarWriter } from "./tar.ts";

export interface GdprDeps {
  sql: Sql;
  /** The service-role supabase-js client: Storage (objects, signed URLs) and the Auth admin API. */
  admin: SupabaseClient<Database>;
  /** The project's JWT secret, to verify the caller's access token. */
  jwtSecret: string | undefined;
  /** Runs work after the response (EdgeRuntime.waitUntil on Supabase); default: let the promise run. */
  waitUntil?: (work: Promise<unknown>) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The one row a query that always answers one row returned. */
function first<T>(rows: readonly T[]): T {
  const row = rows[0];
  if (row === undefined) throw new Error("query returned no row");
  return row;
}

/** The body both functions accept: nothing, or an empty JSON object. */
const emptyRequest = z.strictObject({});

type Caller = { ok: true; userId: string; claims: JwtClaims } | { ok: false; response: Response };

/** The signed-in user behind the request's bearer token. */
async function requireUser(request: Request, jwtSecret: string | undefined): Promise<Caller> {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "");
  if (!match) return { ok: false, response: errorResponse(401, "UNAUTHORIZED", "Missing bearer token", "Call with the user's access token") };
  if (!jwtSecret) return { ok: false, response: errorResponse(401, "UNAUTHORIZED", "Invalid JWT") };
  let claims: JwtClaims;
  try {
    claims = await verifyJwt(match[1]!, jwtSecret);
  } catch {
    return { ok: false, response: errorResponse(401, "UNAUTHORIZED", "Invalid JWT") };
  }
  if (claims.role !== "authenticated" || typeof claims.sub !== "string" || !UUID.test(claims.sub)) {
    return { ok: false, response: errorResponse(403, "FORBIDDEN", "Only a signed-in user may call this function", "Sign in first") };
  }
  return { ok: true, userId: claims.sub.toLowerCase(), claims };
}

/** Accepts an empty body or `{}`. */
async function readEmptyBody(request: Request): Promise<Response | null> {
  const text = await request.text();
  if (text.trim() === "") return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return errorResponse(400, "INVALID_JSON", "Request body must be JSON");
  }
  const parsed = emptyRequest.safeParse(value);
  return parsed.success ? null : validationErrorResponse(parsed.error);
}

/** Common front: CORS, method, caller, body, and the user's existence. */
async function front(request: Request, deps: GdprDeps): Promise<{ userId: string; claims: JwtClaims } | Response> {
  if (request.method === "OPTIONS") return preflightResponse();
  if (request.method !== "POST") return methodNotAllowed(request.method, ["POST", "OPTIONS"]);
  const caller = await requireUser(request, deps.jwtSecret);
  if (!caller.ok) return caller.response;
  const bad = await readEmptyBody(request);
  if (bad) return bad;
  const [user] = await deps.sql`select 1 from auth.users where id = ${caller.userId}`;
  if (!user) return errorResponse(404, "USER_NOT_FOUND", "No such user", "The account may have been deleted");
  return { userId: caller.userId, claims: caller.claims };
}

// ---------------------------------------------------------------------------------------------------------------
// export

interface ExportRow {
  id: string;
  user_id: string;
  status: string;
  progress: number;
  phase: string | null;
  created_at: Date;
}

const EXPORT_BUCKET = "exports";

function publicJob(row: ExportRow): Record<string, unknown> {
  return { id: row.id, status: row.status, progress: row.progress, phase: row.phase, created_at: row.created_at };
}

export function createExportHandler(deps: GdprDeps): (request: Request) => Promise<Response> {
  const storage = createSupabaseObjectStorage(deps.admin);
  const waitUntil = deps.waitUntil ?? ((work: Promise<unknown>) => void work);
  return async (request) => {
    const who = await front(request, deps);
    if (who instanceof Response) return who;
    // A job that stopped reporting for ten minutes (the function was stopped mid-way) no longer blocks a new one.
    await deps.sql`
      update public.data_exports set status = 'failed', error = 'interrupted', finished_at = now()
       where user_id = ${who.userId} and status in ('pending', 'running') and coalesce(started_at, created_at) < now() - interval '10 minutes'`;
    const [created] = await deps.sql<ExportRow[]>`
      insert into public.data_exports (user_id, status, phase) values (${who.userId}, 'pending', 'queued')
      on conflict (user_id) where status in ('pending', 'running') do nothing
      returning id, user_id, status, progress, phase, created_at`;
    if (!created) {
      const [active] = await deps.sql<ExportRow[]>`
        select id, user_id, status, progress, phase, created_at from public.data_exports
         where user_id = ${who.userId} and status in ('pending', 'running')`;
      if (active) return json(publicJob(active), 200);
      return errorResponse(409, "EXPORT_CONFLICT", "Another export was just started", "Poll data_exports for it");
    }
    waitUntil(runExport(deps, storage, created));
    return json(publicJob(created), 202);
  };
}

/** Builds the archive for a job, reporting phase and progress on the row; a failure is recorded on the row. */
export async function runExport(deps: GdprDeps, storage: ObjectStorage, job: ExportRow): Promise<void> {
  const { sql } = deps;
  const report = (progress: number, phase: string) =>
    sql`update public.data_exports set progress = ${progress}, phase = ${phase} where id = ${job.id}`;
  try {
    await sql`update public.data_exports set status = 'running', started_at = now(), progress = 5, phase = 'collecting'
               where id = ${job.id}`;
    const { doc } = first(await sql<{ doc: { files: { bucket: string; name: string }[]; messages: unknown[] } }[]>`
      select private.export_user_data(${job.user_id}) as doc`);
    await report(20, "files");

    const tar = new TarWriter();
    const encoder = new TextEncoder();
    tar.add("export.json", encoder.encode(JSON.stringify(doc, null, 2)));
    tar.add("README.txt", encoder.encode(
      "Your data from supabase-chat.\n\nexport.json: your account, profile, settings, memberships, the messages you wrote,\n" +
        "reactions, notifications, devices (without their push tokens), audit entries about you and the list of your\n" +
        "files. files/<bucket>/<path>: the files you uploaded, as stored.\n",
    ));
    const files = doc.files ?? [];
    const missing: string[] = [];
    let done = 0;
    // A few downloads at a time: the files are independent, and a Storage request waits mostly on I/O.
    const queue = [...files];
    const workers = Array.from({ length: Math.min(4, queue.length) }, async () => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        const stream = await storage.open(file.bucket, file.name);
        if (!stream) {
          missing.push(`${file.bucket}/${file.name}`);
        } else {
          tar.add(`files/${file.bucket}/${file.name}`, new Uint8Array(await new Response(stream).arrayBuffer()));
        }
        done++;
        if (done % 5 === 0 || done === files.length) await report(20 + Math.floor((70 * done) / files.length), "files");
      }
    });
    await Promise.all(workers);
    if (missing.length > 0) tar.add("missing-files.json", encoder.encode(JSON.stringify(missing, null, 2)));

    await report(92, "packing");
    const archive = await gzip(tar.finish());
    const objectPath = `${job.user_id}/${job.id}.tar.gz`;
    await storage.upload(EXPORT_BUCKET, objectPath, archive, "application/gzip");
    const { seconds } = first(await sql<{ seconds: number }[]>`
      select extract(epoch from private.retention_setting('signed_url_lifetime')::interval)::int as seconds`);
    const signed = await deps.admin.storage.from(EXPORT_BUCKET).createSignedUrl(objectPath, seconds, {
      download: `supabase-chat-export-${job.id}.tar.gz`,
    });
    if (signed.error) throw new Error(`signing the archive failed: ${signed.error.message}`);

    const fileCount = files.length - missing.length;
    const finished = await sql.begin(async (tx) => {
      const rows = await tx`
        update public.data_exports
           set status = 'ready', progress = 100, phase = 'ready', object_path = ${objectPath}, size_bytes = ${archive.length},
               file_count = ${fileCount}, message_count = ${doc.messages.length}, download_url = ${signed.data.signedUrl},
               download_expires_at = now() + make_interval(secs => ${seconds}), finished_at = now(),
               expires_at = now() + private.retention_setting('export_lifetime')::interval
         where id = ${job.id}
        returning id`;
      if (rows.length === 0) return false;
      await tx`select private.audit('account.exported', null, ${job.user_id}::uuid, 'data_exports', ${job.id}::uuid,
                 ${tx.json({ messages: doc.messages.length, files: fileCount, bytes: archive.length })})`;
      return true;
    });
    // The job is gone: the account was deleted while the archive was being built. Its archive goes too.
    if (!finished) await storage.remove(EXPORT_BUCKET, [objectPath]);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`gdpr-export: export ${job.id} failed: ${message}`);
    await sql`update public.data_exports set status = 'failed', phase = 'failed', error = ${message.slice(0, 500)},
               finished_at = now() where id = ${job.id}`.catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------------------------
// account deletion

/** The time (seconds) the user last proved who they are: the newest `amr` entry of the access token. */
export function lastAuthenticatedAt(claims: JwtClaims): number | null {
  const amr = claims.amr;
  if (!Array.isArray(amr)) return null;
  const times = amr
    .map((entry) => (entry && typeof entry === "object" ? (entry as { timestamp?: unknown }).timestamp : undefined))
    .filter((t): t is number => typeof t === "number" && Number.isFinite(t));
  return times.length === 0 ? null : Math.max(...times);
}

export function createDeleteAccountHandler(deps: GdprDeps): (request: Request) => Promise<Response> {
  return async (request) => {
    const who = await front(request, deps);
    if (who instanceof Response) return who;
    const { window_seconds: windowSeconds } = first(await deps.sql<{ window_seconds: number }[]>`
      select extract(epoch from private.retention_setting('reauthentication_window')::interval)::int as window_seconds`);
    const at = lastAuthenticatedAt(who.claims);
    if (at === null || Date.now() / 1000 - at > windowSeconds) {
      return errorResponse(401, "REAUTHENTICATION_NEEDED", "Deleting the account needs a recent sign-in",
        `Sign in again (password, one-time code or link) and delete within ${Math.round(windowSeconds / 60)} minutes`);
    }

    const { email } = first(await deps.sql<{ email: string | null }[]>`select email from auth.users where id = ${who.userId}`);
    // Every object the user owns, thumbnails of their files and their export archives (written by the service).
    const objects = await deps.sql<{ bucket_id: string; name: string }[]>`
      select o.bucket_id, o.name from storage.objects o
       where o.owner_id = ${who.userId}
          or (o.bucket_id in ('exports', 'avatars') and o.name like ${who.userId + "/%"})
          or exists (select 1 from public.attachments a where a.uploader_id::text = ${who.userId}
                       and o.bucket_id = a.bucket_id and o.name in (a.object_path, a.thumbnail_path))`;
    const { counts } = first(await deps.sql<{ counts: Record<string, number> }[]>`
      select private.erase_user(${who.userId}) as counts`);

    const byBucket = new Map<string, string[]>();
    for (const o of objects) byBucket.set(o.bucket_id, [...(byBucket.get(o.bucket_id) ?? []), o.name]);
    for (const [bucket, names] of byBucket) {
      for (let i = 0; i < names.length; i += 500) {
        const chunk = names.slice(i, i + 500);
        const { error } = await deps.admin.storage.from(bucket).remove(chunk);
        if (error) {
          console.error(`delete-account: removing ${chunk.length} objects from ${bucket} failed: ${error.message}`);
          return errorResponse(503, "STORAGE_UNAVAILABLE", "The files could not be removed", "Try again; nothing is lost by retrying");
        }
        await deps.sql`select private.settle_storage_trash(${bucket}, ${chunk}::text[], '{}'::text[])`;
      }
    }

    const removed = await deps.admin.auth.admin.deleteUser(who.userId);
    if (removed.error) {
      console.error(`delete-account: the Auth admin API refused: ${removed.error.message}`);
      return errorResponse(503, "AUTH_UNAVAILABLE", "The account could not be removed", "Try again");
    }
    await deps.sql`select private.finish_erasure(${who.userId}, ${email ?? ""}, ${deps.sql.json({ ...counts, files_removed: objects.length })})`;
    return json({ deleted: true, ...counts, files_removed: objects.length });
  };
}
