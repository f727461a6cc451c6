// POST /scan {"attachment_id"}: scans an uploaded attachment with ClamAV and records the verdict.
//
// Called by the database (pg_net, with the service role key) when an attachment is uploaded, and again by the
// retry sweep. Streams the object from Storage to clamd (INSTREAM), sniffs the real type from the first bytes and
// compares it with the declared type, then records the verdict through private.set_attachment_scan_result:
// - clean: only when clamd answered "stream: OK" for the whole object and the bytes match the declared type;
// - infected: the row is marked first (unreadable at once), then the object is removed from Storage; the database
//   audits the event;
// - error: clamd unreachable or too slow (retried with backoff), the object over the scanner's size limit, or
//   content that contradicts its declared type (final). Never clean.
// Answers 200 {attachment_id, scan_status, ...} with the recorded state, 401/403 for a caller without the service
// role, 400 for bad input, 404 for an unknown attachment.

import { z } from "npm:zod@4.6.7";
import { scanStream, type ClamdVerdict } from "./clamd.ts";
import { preflightResponse } from "./cors.ts";
import type { Sql } from "./db.ts";
import { errorResponse, json, methodNotAllowed, parseJsonBody } from "./http.ts";
import { requireServiceRole, type ServiceAuth } from "./service-auth.ts";
import { checkDeclaredType, SNIFF_BYTES } from "./sniff.ts";
import type { ObjectStorage } from "./storage.ts";

export const scanRequestSchema = z.object({ attachment_id: z.uuid() });

export interface ScanDeps {
  sql: Sql;
  storage: ObjectStorage;
  auth: ServiceAuth;
  clamd: { host: string; port: number; timeoutMs?: number };
  /** Largest object streamed to clamd; bigger ones are refused (error). Default 50 MiB. */
  maxStreamBytes?: number;
}

export interface ScanResult {
  attachment_id: string;
  scan_status: "pending" | "clean" | "infected" | "error";
  scan_signature: string | null;
  scan_error: string | null;
  detected_mime_type: string | null;
  skipped?: true;
}

interface AttachmentRow {
  id: string;
  bucket_id: string;
  object_path: string;
  mime_type: string;
  scan_status: ScanResult["scan_status"];
  scan_signature: string | null;
  scan_error: string | null;
  detected_mime_type: string | null;
}

export function createScanHandler(deps: ScanDeps): (request: Request) => Promise<Response> {
  const record = async (id: string, status: "clean" | "infected" | "error", fields: {
    signature?: string; error?: string; detected?: string | null; retryable?: boolean;
  }): Promise<ScanResult> => {
    const [row] = await deps.sql<AttachmentRow[]>`
      select * from private.set_attachment_scan_result(
        ${id}::uuid, ${status}::public.attachment_scan_status, ${fields.signature ?? null}, ${fields.error ?? null},
        ${fields.detected ?? null}, ${fields.retryable ?? false})`;
    return toResult(row!);
  };

  return async (request) => {
    if (request.method === "OPTIONS") return preflightResponse();
    if (request.method !== "POST") return methodNotAllowed(request.method, ["POST", "OPTIONS"]);
    const denied = await requireServiceRole(request, deps.auth);
    if (denied) return denied;
    const parsed = await parseJsonBody(request, scanRequestSchema);
    if (!parsed.ok) return parsed.response;
    const id = parsed.data.attachment_id;

    const [attachment] = await deps.sql<AttachmentRow[]>`
      select id, bucket_id, object_path, mime_type, scan_status, scan_signature, scan_error, detected_mime_type
        from public.attachments where id = ${id}`;
    if (!attachment) return errorResponse(404, "NOT_FOUND", "Attachment not found", "It may have been deleted");
    if (attachment.scan_status === "clean" || attachment.scan_status === "infected") {
      return json({ ...toResult(attachment), skipped: true });
    }

    const stream = await deps.storage.open(attachment.bucket_id, attachment.object_path);
    if (stream === null) {
      return json(await record(id, "error", { error: "the object is missing from storage", retryable: false }));
    }

    const head = new Uint8Array(SNIFF_BYTES);
    let headLength = 0;
    const verdict: ClamdVerdict = await scanStream(stream, {
      host: deps.clamd.host,
      port: deps.clamd.port,
      timeoutMs: deps.clamd.timeoutMs,
      maxBytes: deps.maxStreamBytes,
      onChunk: (chunk) => {
        if (headLength < SNIFF_BYTES) {
          const take = chunk.subarray(0, SNIFF_BYTES - headLength);
          head.set(take, headLength);
          headLength += take.byteLength;
        }
      },
    });

    if (verdict.status === "infected") {
      const result = await record(id, "infected", { signature: verdict.signature });
      await deps.storage.remove(attachment.bucket_id, [attachment.object_path]);
      console.warn(`scan: attachment ${id} is infected (${verdict.signature}); object removed`);
      return json(result);
    }
    if (verdict.status === "error") {
      console.error(`scan: attachment ${id}: ${verdict.message}`);
      return json(await record(id, "error", { error: verdict.message, retryable: verdict.retryable }));
    }
    const type = checkDeclaredType(attachment.mime_type, head.subarray(0, headLength));
    if (!type.ok) {
      return json(await record(id, "error", { error: `type mismatch: ${type.reason}`, detected: type.detected }));
    }
    return json(await record(id, "clean", { detected: type.detected }));
  };
}

function toResult(row: AttachmentRow): ScanResult {
  return {
    attachment_id: row.id,
    scan_status: row.scan_status,
    scan_signature: row.scan_signature,
    scan_error: row.scan_error,
    detected_mime_type: row.detected_mime_type,
  };
}
