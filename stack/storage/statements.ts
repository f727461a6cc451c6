// The statements the Storage API runs on the database, as text with bind parameters, in one place: the service runs
// them (db.ts) and scripts/storage-sql.ts generates the SQL test helpers' copies from them (sql/test/03_storage.sql),
// so the pgTAP tests and the client tests exercise the same statements. Checked against supabase/storage 4fa61fb:
// src/internal/database/postgres/scope.ts (the per-transaction settings), src/storage/database/pg.ts (createObject,
// upsertObject, updateObject, findObject(s), deleteObjects, searchObjects, waitObjectLock, bucket statements).

/** The settings of one scoped transaction, in storage-api's order. */
export const SCOPE_SQL = `SELECT
          set_config('role', $1, true),
          set_config('request.jwt.claim.role', $2, true),
          set_config('request.jwt', $3, true),
          set_config('request.jwt.claim.sub', $4, true),
          set_config('request.jwt.claims', $5, true),
          set_config('request.headers', $6, true),
          set_config('request.method', $7, true),
          set_config('request.path', $8, true),
          set_config('storage.operation', $9, true),
          set_config('storage.allow_delete_query', 'true', true)`;

export interface Scope {
  role: string;
  jwt: string;
  claims: Record<string, unknown>;
  headers: Record<string, string>;
  method: string;
  path: string;
  operation: string;
}

export function scopeValues(scope: Scope): string[] {
  const sub = typeof scope.claims.sub === "string" ? scope.claims.sub : "";
  return [
    scope.role, scope.role, scope.jwt, sub, JSON.stringify(scope.claims), JSON.stringify(scope.headers),
    scope.method, scope.path, scope.operation,
  ];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-5][0-9a-f]{3}-[089ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
export const isUuid = (value: string | undefined): boolean => value !== undefined && UUID.test(value);

export interface ObjectWrite {
  bucket_id: string;
  name: string;
  owner?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  user_metadata?: Record<string, unknown> | undefined;
  version: string;
}

export interface Statement {
  text: string;
  values: unknown[];
}

type Column = [name: string, value: unknown];

// jsonb values are bound as objects: postgres.js learns each parameter's type from the server and serializes a
// jsonb parameter itself (a JSON string bound here would be stored as a jsonb *string*, and `metadata ? 'size'`
// would be false in every trigger).
const jsonValue = (v: Record<string, unknown> | undefined) => v;

/** Columns as storage-api builds them: `owner` only when the owner is a UUID, undefined values left out. */
function columns(entries: Column[]): Column[] {
  return entries.filter(([, value]) => value !== undefined);
}

function insertParts(cols: Column[]) {
  return {
    names: cols.map(([c]) => c).join(", "),
    placeholders: cols.map((_, i) => `$${i + 1}`).join(", "),
    values: cols.map(([, v]) => v),
  };
}

/** The permission probe of a plain upload (createObject): no RETURNING. */
export function createObjectStatement(o: ObjectWrite): Statement {
  const p = insertParts(columns([
    ["name", o.name],
    ["owner", isUuid(o.owner) ? o.owner : undefined],
    ["owner_id", o.owner],
    ["bucket_id", o.bucket_id],
    ["metadata", jsonValue(o.metadata)],
    ["version", o.version],
    ["user_metadata", jsonValue(o.user_metadata)],
  ]));
  return { text: `INSERT INTO storage.objects (${p.names})\n              VALUES (${p.placeholders})`, values: p.values };
}

/** upsertObject: the probe of an upsert (as the caller) and every final write (as the superuser). */
export function upsertObjectStatement(o: ObjectWrite): Statement {
  const owner = isUuid(o.owner) ? o.owner : undefined;
  const p = insertParts(columns([
    ["name", o.name],
    ["owner", owner],
    ["owner_id", o.owner],
    ["bucket_id", o.bucket_id],
    ["metadata", jsonValue(o.metadata)],
    ["user_metadata", jsonValue(o.user_metadata)],
    ["version", o.version],
  ]));
  const updates = columns([
    ["metadata", jsonValue(o.metadata)],
    ["user_metadata", jsonValue(o.user_metadata)],
    ["version", o.version],
    ["owner", owner],
    ["owner_id", o.owner],
  ]).map(([c]) => `${c} = EXCLUDED.${c}`);
  return {
    text: `INSERT INTO storage.objects (${p.names})
            VALUES (${p.placeholders})
            ON CONFLICT (name, bucket_id)
            ${updates.length ? `DO UPDATE SET ${updates.join(", ")}` : "DO NOTHING"}
            RETURNING *`,
    values: p.values,
  };
}

/** updateObject (move): the new name, bucket, version and owner of an object. */
export function updateObjectStatement(bucketId: string, name: string, data: Partial<ObjectWrite> & { name: string; bucket_id: string }): Statement {
  const cols = columns([
    ["name", data.name],
    ["bucket_id", data.bucket_id],
    ["owner", isUuid(data.owner) ? data.owner : undefined],
    ["owner_id", data.owner],
    ["metadata", jsonValue(data.metadata)],
    ["user_metadata", jsonValue(data.user_metadata)],
    ["version", data.version],
  ]);
  const set = cols.map(([c], i) => `${c} = $${i + 1}`).join(", ");
  return {
    text: `UPDATE storage.objects
            SET ${set}
            WHERE bucket_id = $${cols.length + 1}
              AND name = $${cols.length + 2}
            RETURNING *`,
    values: [...cols.map(([, v]) => v), bucketId, name],
  };
}

/** findObject; `forUpdate` adds the row lock the final write takes. */
export function findObjectStatement(bucketId: string, name: string, cols: string, forUpdate = false): Statement {
  return {
    text: `SELECT ${cols}
            FROM storage.objects
            WHERE name = $1
              AND bucket_id = $2
            LIMIT 1${forUpdate ? "\n            FOR UPDATE" : ""}`,
    values: [name, bucketId],
  };
}

export function findObjectsStatement(bucketId: string, names: string[], cols: string): Statement {
  return {
    text: `SELECT ${cols}
            FROM storage.objects
            WHERE bucket_id = $1
              AND name = ANY($2::text[])`,
    values: [bucketId, names],
  };
}

export function deleteObjectsStatement(bucketId: string, names: string[]): Statement {
  return {
    text: `DELETE FROM storage.objects
            WHERE bucket_id = $1
              AND name = ANY($2::text[])
            RETURNING *`,
    values: [bucketId, names],
  };
}

/** waitObjectLock: a transaction-scoped advisory lock on "bucket/name" (storage-api hashes the key to an int). */
export function objectLockStatement(bucketId: string, name: string): Statement {
  return { text: "SELECT pg_advisory_xact_lock(hashtext($1))", values: [`${bucketId}/${name}`] };
}

export function findBucketStatement(bucketId: string, cols: string, publicOnly = false): Statement {
  return {
    text: `SELECT ${cols}
            FROM storage.buckets
            WHERE id = $1${publicOnly ? " AND public = $2" : ""}
            LIMIT 1`,
    values: publicOnly ? [bucketId, true] : [bucketId],
  };
}

/** searchObjects: storage.search with the level computed from prefix + search, as pg.ts does. */
export function searchStatement(bucketId: string, prefix: string, opts: { limit?: number | undefined; offset?: number | undefined; search?: string | undefined; column?: string | undefined; order?: string | undefined }): Statement {
  const column = opts.column ?? "name";
  const escape = (s: string) => s.replace(/\\/g, "\\\\").replace(/([%_])/g, "\\$1");
  const safePrefix = column !== "name" ? escape(prefix) : prefix;
  const safeSearch = column !== "name" ? escape(opts.search ?? "") : (opts.search ?? "");
  return {
    text: "select * from storage.search($1,$2,$3,$4,$5,$6,$7,$8)",
    values: [
      safePrefix, bucketId, opts.limit || 100, (safePrefix + safeSearch).split("/").length, opts.offset || 0,
      safeSearch, column, opts.order ?? "asc",
    ],
  };
}

/** The metadata of the permission probe: the declared type and request length, never the size. */
export function probeMetadata(mimetype: string | undefined, contentLength: number | undefined): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  if (mimetype !== undefined) m.mimetype = mimetype;
  if (contentLength !== undefined) m.contentLength = contentLength;
  return m;
}
