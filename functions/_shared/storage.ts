// The one interface through which functions reach Storage object bytes: supabase-js Storage with the service role
// key (createSupabaseObjectStorage), against Supabase's Storage API in production and the local stack's
// (stack/storage, behind the gateway at SUPABASE_URL) on the Docker-free stack. The Storage API does the
// bookkeeping in storage.objects and enforces the bucket settings. See docs/operations.md.

import type { SupabaseClient } from "npm:@supabase/supabase-js@2.109.0";
import type { Database } from "../../types/database.ts";

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
