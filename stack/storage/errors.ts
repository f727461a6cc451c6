// Storage API errors: the codes, statuses and JSON body of supabase/storage (checked at 4fa61fb):
// src/internal/errors/codes.ts (ERRORS), src/internal/errors/storage-error.ts (render, userStatusCode),
// src/http/error-handler.ts (the HTTP status), src/storage/database/errors.ts (SQLSTATE -> error).
//
// The body is {statusCode: "<status>", code, error, message}; the HTTP status is 400 for every error whose status
// is not 500, unless the error sets its own (DatabaseTimeout 544, InvalidRange 416, the bucket routes' role check
// 403). storage-js reads `statusCode` from the body and the HTTP status as `status`.
import { json } from "../shared/http.ts";

export class StorageApiError extends Error {
  constructor(
    readonly code: string,
    /** The status the body reports (`statusCode`). */
    readonly httpStatusCode: number,
    message: string,
    /** The legacy `error` field; defaults to the code. */
    readonly error?: string,
    /** The HTTP status of the response, when it is not the Storage API's default (400, or 500 for 500). */
    readonly userStatusCode: number = httpStatusCode === 500 ? 500 : 400,
  ) {
    super(message);
  }

  withStatusCode(status: number): StorageApiError {
    return new StorageApiError(this.code, this.httpStatusCode, this.message, this.error, status);
  }

  toResponse(): Response {
    return json(
      { statusCode: String(this.httpStatusCode), code: this.code, error: this.error ?? this.code, message: this.message },
      this.userStatusCode,
    );
  }
}

const e = (code: string, status: number, message: string, error?: string) => new StorageApiError(code, status, message, error);

export const ERRORS = {
  noSuchBucket: () => e("NoSuchBucket", 404, "Bucket not found", "Bucket not found"),
  noSuchKey: () => e("NoSuchKey", 404, "Object not found", "not_found"),
  accessDenied: (message?: string) => e("AccessDenied", 403, message || "Access denied", "Unauthorized"),
  invalidJwt: (message?: string) => e("InvalidJWT", 400, message || "Invalid JWT"),
  invalidRequest: (message?: string) => e("InvalidRequest", 400, message || "Invalid Request"),
  noContentProvided: (message?: string) => e("InvalidRequest", 400, message || "No content provided"),
  invalidKey: (key: string) => e("InvalidKey", 400, `Invalid key: ${key}`),
  invalidBucketName: () => e("InvalidBucketName", 400, "Bucket name invalid", "Invalid Input"),
  invalidMimeType: (mime: string) => e("InvalidMimeType", 415, `mime type ${mime} is not supported`, "invalid_mime_type"),
  entityTooLarge: (entity = "object") =>
    e("EntityTooLarge", 413, `The ${entity} exceeded the maximum allowed size`, "Payload too large"),
  invalidRange: () => new StorageApiError("InvalidRange", 416, "invalid range provided", "invalid_range", 416),
  invalidSignature: (message?: string) => e("InvalidSignature", 400, message || "Invalid signature"),
  expiredSignature: () => e("ExpiredToken", 400, "The provided token has expired."),
  missingParameter: (name: string) => e("MissingParameter", 400, `Missing Required Parameter ${name}`),
  bucketAlreadyExists: () => e("BucketAlreadyExists", 409, "The resource already exists", "Duplicate"),
  keyAlreadyExists: () => e("KeyAlreadyExists", 409, "The resource already exists", "Duplicate"),
  bucketNotEmpty: () => e("ResourceNotEmpty", 409, "The bucket you tried to delete is not empty"),
  invalidFileSizeLimit: () =>
    e("InvalidRequest", 400, "Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B"),
  internal: (message?: string) => e("InternalError", 500, message || "Internal server error"),
};

interface PgErrorLike {
  code?: string;
  message?: string;
  detail?: string;
}

function isPgError(error: unknown): error is PgErrorLike & Error {
  return error instanceof Error && typeof (error as PgErrorLike).code === "string" && /^[0-9A-Z]{5}$/.test((error as PgErrorLike).code!);
}

/** A database error as the Storage API reports it (src/storage/database/errors.ts `DBError.fromDBError`). */
export function fromDatabaseError(error: PgErrorLike): StorageApiError {
  const message = error.message ?? "";
  switch (error.code) {
    case "42501":
      return ERRORS.accessDenied(message.includes("row-level security") ? "new row violates row-level security policy" : message);
    case "23505":
      return e("ResourceAlreadyExists", 409, "The resource already exists", "Duplicate");
    case "23503":
      return error.detail?.includes("is still referenced from table")
        ? e("ResourceReferenced", 409, "The resource could not be updated or removed due to a foreign key constraint")
        : e("InvalidRequest", 404, "The related resource does not exist");
    case "55P03":
      return e("ResourceLocked", 423, "The resource is locked");
    case "57014":
      return new StorageApiError("DatabaseTimeout", 544, "The connection to the database timed out", undefined, 544);
    case "25006":
      return e("DatabaseReadOnly", 503, "The database is currently in read-only mode. Please try again later.");
    case "25P02":
      return e("DatabaseTransactionAborted", 500, "The database transaction has been aborted. Roll back the transaction before retrying.");
    case "42P17":
      return e("DatabaseInvalidObjectDefinition", 503, "The database schema is invalid or incompatible.");
    case "22P02":
      return e("InvalidParameter", 400, message || "Invalid value format or type conversion failed");
    case "42703":
    case "42P01":
      return e("DatabaseSchemaMismatch", 503, "The database schema is out of sync. Please run migrations or contact support.");
    default:
      return e("DatabaseError", 500, `database error, code: ${error.code}`);
  }
}

/** Any thrown value as a Storage API error (database errors mapped, anything else an InternalError). */
export function toStorageError(error: unknown): StorageApiError {
  if (error instanceof StorageApiError) return error;
  if (isPgError(error)) return fromDatabaseError(error);
  return ERRORS.internal(error instanceof Error ? error.message : undefined);
}
