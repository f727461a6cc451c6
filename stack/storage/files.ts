// The bytes: one file per object under <dataDir>/storage/<bucket>/<name>, like storage-api's file backend
// (src/storage/backend/file.ts, which also keeps cache-control and content type beside the file; here they live in
// storage.objects.metadata only). Uploads go to a temporary file first and replace the object's file only after the
// final database write committed, so a refused upsert leaves the previous bytes in place.
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { ERRORS } from "./errors.ts";

export interface StoredFile {
  size: number;
  eTag: string;
  lastModified: Date;
}

export class FileStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.resolve(dataDir, "storage");
  }

  /** The file of bucket/name; refuses anything that would leave the bucket's directory. */
  pathOf(bucket: string, name: string): string {
    const segments = [bucket, ...name.split("/")];
    if (segments.some((s) => s === "" || s === "." || s === ".." || s.includes("\\") || s.includes("\0"))) {
      throw ERRORS.invalidKey(name);
    }
    const bucketDir = path.resolve(this.root, bucket);
    const file = path.resolve(bucketDir, ...name.split("/"));
    if (!file.startsWith(bucketDir + path.sep)) throw ERRORS.invalidKey(name);
    return file;
  }

  /** Writes bytes to a temporary file; `commit` moves it into place, `discard` removes it. */
  async stage(bytes: Uint8Array): Promise<{ info: StoredFile; commit(bucket: string, name: string): Promise<void>; discard(): Promise<void> }> {
    const tmpDir = path.join(this.root, ".tmp");
    await mkdir(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, randomUUID());
    await writeFile(tmp, bytes);
    const st = await stat(tmp);
    const info: StoredFile = {
      size: st.size,
      eTag: `"${createHash("md5").update(bytes).digest("hex")}"`,
      lastModified: st.mtime,
    };
    return {
      info,
      commit: async (bucket, name) => {
        const file = this.pathOf(bucket, name);
        await mkdir(path.dirname(file), { recursive: true });
        await rename(tmp, file);
      },
      discard: () => rm(tmp, { force: true }),
    };
  }

  async exists(bucket: string, name: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(bucket, name))).isFile();
    } catch {
      return false;
    }
  }

  async size(bucket: string, name: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(bucket, name))).size;
    } catch {
      return undefined;
    }
  }

  /** A byte stream of the file, whole or [start, end] inclusive. */
  read(bucket: string, name: string, range?: { start: number; end: number }): ReadableStream<Uint8Array> {
    const stream = createReadStream(this.pathOf(bucket, name), range ? { start: range.start, end: range.end } : {});
    return Readable.toWeb(stream) as ReadableStream<Uint8Array>;
  }

  async copy(fromBucket: string, from: string, toBucket: string, to: string): Promise<StoredFile> {
    const target = this.pathOf(toBucket, to);
    await mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${randomUUID()}.tmp`;
    await copyFile(this.pathOf(fromBucket, from), tmp);
    await rename(tmp, target);
    const st = await stat(target);
    const { readFile } = await import("node:fs/promises");
    const bytes = await readFile(target);
    return { size: st.size, eTag: `"${createHash("md5").update(bytes).digest("hex")}"`, lastModified: st.mtime };
  }

  async remove(bucket: string, name: string): Promise<void> {
    await rm(this.pathOf(bucket, name), { force: true });
  }

  async removeBucket(bucket: string): Promise<void> {
    const dir = path.resolve(this.root, bucket);
    if (!dir.startsWith(this.root + path.sep)) return;
    await rm(dir, { recursive: true, force: true });
  }
}
