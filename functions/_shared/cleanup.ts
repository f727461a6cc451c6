// POST /attachments-cleanup {"max_objects"?}: removes from Storage the files nobody can use any more.
//
// Called hourly by the database (pg_cron job attachments-unsent-cleanup, through pg_net with the service role key).
// private.claim_storage_trash deletes the rows of uploads unsent for longer than their lifetime (24 hours) and of
// files in deleted messages, and returns the queue of objects left behind by deleted attachments rows (files and
// thumbnails; a trigger queues them however the row went). This function removes the queued objects through
// Storage, bucket by bucket, and reports each outcome with private.settle_storage_trash: removed objects leave the
// queue, the others are tried again at the next run.
// Answers 200 {removed, failed}, 401/403 for a caller without the service role, 400 for bad input.

import { z } from "npm:zod@4.6.7";
import { preflightResponse } from "./cors.ts";
import type { Sql } from "./db.ts";
import { json, methodNotAllowed, parseJsonBody } from "./http.ts";
import { requireServiceRole, type ServiceAuth } from "./service-auth.ts";
import type { ObjectStorage } from "./storage.ts";

export const cleanupRequestSchema = z.strictObject({ max_objects: z.int().min(1).max(1000).optional() });

export interface CleanupDeps {
  sql: Sql;
  storage: ObjectStorage;
  auth: ServiceAuth;
}

export interface CleanupResult {
  removed: number;
  failed: number;
}

export function createCleanupHandler(deps: CleanupDeps): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method === "OPTIONS") return preflightResponse();
    if (request.method !== "POST") return methodNotAllowed(request.method, ["POST", "OPTIONS"]);
    const denied = await requireServiceRole(request, deps.auth);
    if (denied) return denied;
    const parsed = await parseJsonBody(request, cleanupRequestSchema);
    if (!parsed.ok) return parsed.response;

    const queued = await deps.sql<{ bucket_id: string; name: string }[]>`
      select bucket_id, name from private.claim_storage_trash(${parsed.data.max_objects ?? 200})`;
    const byBucket = new Map<string, string[]>();
    for (const row of queued) byBucket.set(row.bucket_id, [...(byBucket.get(row.bucket_id) ?? []), row.name]);

    const result: CleanupResult = { removed: 0, failed: 0 };
    for (const [bucket, names] of byBucket) {
      try {
        await deps.storage.remove(bucket, names);
        await deps.sql`select private.settle_storage_trash(${bucket}, ${names}::text[], '{}'::text[])`;
        result.removed += names.length;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        console.error(`attachments-cleanup: removing ${names.length} objects from ${bucket} failed: ${message}`);
        await deps.sql`select private.settle_storage_trash(${bucket}, '{}'::text[], ${names}::text[], ${message})`;
        result.failed += names.length;
      }
    }
    return json(result);
  };
}
