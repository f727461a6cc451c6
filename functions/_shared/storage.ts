// The one interface through which functions reach Storage object bytes.
//
// - Production: supabase-js Storage with the service role key (createSupabaseObjectStorage). The Storage API does
//   the bookkeeping in storage.objects and enforces the bucket settings.
// - Docker-free stack: there is no Storage API server. createLocalObjectStorage keeps the bytes in
//   STORAGE_DIR/<bucket>/<name> and does the storage.objects bookkeeping itself, with the statements and request
//   settings the Storage API uses (role service_role, its claims, storage.allow_delete_query for removals).
// See docs/operations.md.

import { dirname, join, normalize } from "node:path";
import type { SupabaseClient } from "npm:@supabase/supabase-js@2.109.0";
import type { Database } from "../../types/database.ts";
import type { Sql, TransactionSql } from "./db.ts";

export interface ObjectStorage {
  /** The object's bytes as a stream, or null when it does not exist. */
  open(bucket: string, name: string): Promise<ReadableStream<Uint8Array> | null>;
  /** Writes (or replaces) an object. */
  upload(bucket: string, name: string, bytes: Uint8Array, contentType: string): Promise<void>;
  /** Removes objects (missing ones are ignored). */
  remove(bucket: string, names: string[]): Promise<void>;
}

/** Storage through supabase-js (the Storage API), as used on Supabase. */
export function createSupabaseObjectStorage(client: SupabaseClient<Database>): ObjectStorage {
  return {
    async open(bucket, name) {
      const { data, error } = await client.storage.from(bucket).download(name);
      if (error) {
        const status = (error as { status?: number; statusCode?: string | number }).status ??
          Number((error as { statusCode?: string | number }).statusCode);
        if (status === 404 || /not found/i.test(error.message)) return null;
        throw new Error(`storage download of ${bucket}/${name} failed: ${error.message}`);
      }
      return data.stream();
    },
    async upload(bucket, name, bytes, contentType) {
      const { error } = await client.storage.from(bucket).upload(name, bytes, { contentType, upsert: true });
      if (error) throw new Error(`storage upload of ${bucket}/${name} failed: ${error.message}`);
    },
    async remove(bucket, names) {
      const { error } = await client.storage.from(bucket).remove(names);
      if (error) throw new Error(`storage remove in ${bucket} failed: ${error.message}`);
    },
  };
}

/** The Docker-free stack's storage: files under `dir`, rows in storage.objects through `sql`. */
export function createLocalObjectStorage(dir: string, sql: Sql): ObjectStorage {
  const root = normalize(dir);
  const pathOf = (bucket: string, name: string): string => {
    const full = normalize(join(root, bucket, name));
    if (!full.startsWith(root + "/") || bucket.includes("/") || name.split("/").includes("..")) {
      throw new Error(`invalid object path ${bucket}/${name}`);
    }
    return full;
  };
  const asStorageApi = async <T>(operation: string, fn: (tx: TransactionSql) => Promise<T>): Promise<T> =>
    await sql.begin(async (tx) => {
      await tx`select set_config('role', 'service_role', true),
                      set_config('request.jwt.claims', ${JSON.stringify({ role: "service_role" })}, true),
                      set_config('request.jwt.claim.role', 'service_role', true),
                      set_config('storage.operation', ${operation}, true),
                      set_config('storage.allow_delete_query', 'true', true)`;
      return await fn(tx);
    }) as T;

  return {
    async open(bucket, name) {
      try {
        const file = await Deno.open(pathOf(bucket, name), { read: true });
        return file.readable;
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return null;
        throw error;
      }
    },
    async upload(bucket, name, bytes, contentType) {
      const path = pathOf(bucket, name);
      await Deno.mkdir(dirname(path), { recursive: true });
      await Deno.writeFile(path, bytes);
      const metadata = {
        size: bytes.byteLength,
        mimetype: contentType,
        cacheControl: "max-age=3600",
        lastModified: new Date().toISOString(),
        contentLength: bytes.byteLength,
        httpStatusCode: 200,
      };
      await asStorageApi("storage.object.upload", (tx) => tx`
        insert into storage.objects (bucket_id, name, metadata, version)
        values (${bucket}, ${name}, ${tx.json(metadata)}, ${crypto.randomUUID()})
        on conflict (bucket_id, name) do update set metadata = excluded.metadata, version = excluded.version`);
    },
    async remove(bucket, names) {
      if (names.length === 0) return;
      await asStorageApi("storage.object.delete", (tx) => tx`
        delete from storage.objects where bucket_id = ${bucket} and name in ${tx(names)}`);
      for (const name of names) {
        try {
          await Deno.remove(pathOf(bucket, name));
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        }
      }
    },
  };
}
