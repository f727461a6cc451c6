// Reading an upload body as storage-api does (src/storage/uploader.ts fileUploadFromRequest, validateMimeType,
// parseUserMetadata, getStandardMaxFileSizeLimit):
// - multipart/form-data: the first file part whatever its name (supabase-js names it ""), type from the field
//   `contentType` or the part, `cacheControl` field -> "max-age=<n>" (else "no-cache"), user metadata from the
//   `metadata` (or `userMetadata`) field as JSON text; a file over the limit is cut off and refused after the
//   permission probe (EntityTooLarge);
// - anything else: raw bytes, type from Content-Type (else application/octet-stream), Cache-Control as sent (else
//   "no-cache"), user metadata in `x-metadata` as base64 JSON; a declared Content-Length over the limit is refused
//   before the probe.
// The bucket's allowed_mime_types are checked before the probe in both cases (InvalidMimeType, 415).
import { ERRORS } from "./errors.ts";

export interface UploadBody {
  bytes: Uint8Array;
  mimeType: string;
  cacheControl: string;
  userMetadata: Record<string, unknown> | undefined;
  /** The request's Content-Length, which the probe's metadata reports as contentLength. */
  declaredLength: number | undefined;
  /** The file was longer than the limit (multipart): refused once the probe has passed. */
  truncated: boolean;
}

const MAX_USER_METADATA = 1024 * 1024;

export function validateMimeType(mimeType: string, allowed: string[]): void {
  const requested = mimeType.split("/");
  if (requested.length < 2) throw ERRORS.invalidMimeType(mimeType);
  const [type, sub] = requested;
  for (const entry of allowed) {
    const [allowedType, allowedSub] = entry.split("/");
    if (allowedType === type && (allowedSub === "*" || allowedSub === sub)) return;
  }
  throw ERRORS.invalidMimeType(mimeType);
}

function parseBase64Json(value: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(value, "base64").toString("utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export const isEmptyFolder = (name: string) => name.endsWith(".emptyFolderPlaceholder");

export async function readUpload(
  request: Request,
  opts: { objectName: string; maxFileSize: number; allowedMimeTypes: string[] | null },
): Promise<UploadBody> {
  const contentType = request.headers.get("content-type") ?? undefined;
  const lengthHeader = Number(request.headers.get("content-length") ?? Number.NaN);
  const declaredLength = Number.isFinite(lengthHeader) && lengthHeader >= 0 ? lengthHeader : undefined;
  const checkMime = (mime: string) => {
    if (opts.allowedMimeTypes && opts.allowedMimeTypes.length > 0 && !isEmptyFolder(opts.objectName)) {
      validateMimeType(mime, opts.allowedMimeTypes);
    }
  };

  if (contentType?.startsWith("multipart/form-data")) {
    let form: FormData;
    try {
      form = await request.formData();
    } catch (error) {
      throw ERRORS.noContentProvided(error instanceof Error ? error.message : undefined);
    }
    let file: File | undefined;
    form.forEach((value) => {
      if (file === undefined && typeof value !== "string") file = value;
    });
    if (!file) throw ERRORS.noContentProvided();
    const field = (name: string) => {
      const v = form.get(name);
      return typeof v === "string" ? v : undefined;
    };
    const cacheTime = field("cacheControl");
    const mimeType = field("contentType") || file.type;
    checkMime(mimeType);
    const custom = field("metadata") ?? field("userMetadata");
    let userMetadata: Record<string, unknown> | undefined;
    if (custom !== undefined) {
      if (Buffer.byteLength(custom, "utf8") > MAX_USER_METADATA) throw ERRORS.entityTooLarge("user_metadata");
      try {
        userMetadata = JSON.parse(custom) as Record<string, unknown>;
      } catch {
        userMetadata = undefined;
      }
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    return {
      bytes: bytes.length > opts.maxFileSize ? bytes.subarray(0, opts.maxFileSize) : bytes,
      mimeType,
      cacheControl: cacheTime ? `max-age=${cacheTime}` : "no-cache",
      userMetadata,
      declaredLength,
      truncated: bytes.length > opts.maxFileSize,
    };
  }

  const mimeType = contentType || "application/octet-stream";
  const cacheControl = request.headers.get("cache-control") ?? "no-cache";
  checkMime(mimeType);
  const xMetadata = request.headers.get("x-metadata");
  const userMetadata = xMetadata !== null ? parseBase64Json(xMetadata) : undefined;
  if (declaredLength !== undefined && declaredLength > opts.maxFileSize) throw ERRORS.entityTooLarge();
  if (request.body === null) throw ERRORS.noContentProvided();
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.length > opts.maxFileSize) throw ERRORS.entityTooLarge();
  return { bytes, mimeType, cacheControl, userMetadata, declaredLength, truncated: false };
}
