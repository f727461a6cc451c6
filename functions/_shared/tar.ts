// A small POSIX tar (ustar + pax) writer for the data export archive, and gzip through the Web CompressionStream.
//
// Every entry is a regular file. A path that does not fit ustar's 100-byte name field, or is not plain ASCII, is
// carried by a pax extended header (typeflag 'x', record "path=...") before the entry, as POSIX.1-2001 specifies,
// so any tar reads the archive with the full UTF-8 names. No imports: Deno and Node both provide what this uses.

const encoder = new TextEncoder();
const BLOCK = 512;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as ustar numeric fields are written.
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function header(name: Uint8Array, size: number, type: "0" | "x", mtime: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const put = (text: string, offset: number) => h.set(encoder.encode(text), offset);
  h.set(name.subarray(0, 100), 0);
  put(octal(0o644, 8), 100);
  put(octal(0, 8), 108);
  put(octal(0, 8), 116);
  put(octal(size, 12), 124);
  put(octal(mtime, 12), 136);
  put("        ", 148);
  put(type, 156);
  put("ustar\0", 257);
  put("00", 263);
  let sum = 0;
  for (const byte of h) sum += byte;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return h;
}

function padding(size: number): Uint8Array {
  const rest = size % BLOCK;
  return new Uint8Array(rest === 0 ? 0 : BLOCK - rest);
}

/** One pax record: "<length> path=<value>\n", where the length counts the whole record including itself. */
function paxRecord(key: string, value: string): Uint8Array {
  const body = ` ${key}=${value}\n`;
  const bodyLength = encoder.encode(body).length;
  let length = bodyLength + String(bodyLength).length;
  if (String(length).length !== String(bodyLength).length) length = bodyLength + String(length).length;
  return encoder.encode(`${length}${body}`);
}

/** Collects entries and returns the archive bytes. */
export class TarWriter {
  #chunks: Uint8Array[] = [];
  #length = 0;
  readonly #mtime: number;

  constructor(mtimeSeconds = Math.floor(Date.now() / 1000)) {
    this.#mtime = mtimeSeconds;
  }

  #push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  /** Adds a regular file at `path` (forward slashes, no leading slash). */
  add(path: string, data: Uint8Array): void {
    if (path === "" || path.startsWith("/") || path.split("/").some((part) => part === ".." || part === "")) {
      throw new Error(`tar: unsafe entry path ${JSON.stringify(path)}`);
    }
    const name = encoder.encode(path);
    const plain = name.length <= 100 && /^[\x20-\x7e]*$/.test(path);
    if (!plain) {
      const record = paxRecord("path", path);
      this.#push(header(encoder.encode("PaxHeader/entry"), record.length, "x", this.#mtime));
      this.#push(record);
      this.#push(padding(record.length));
    }
    this.#push(header(plain ? name : encoder.encode(`entry-${this.#chunks.length}`), data.length, "0", this.#mtime));
    this.#push(data);
    this.#push(padding(data.length));
  }

  /** The archive: the entries and the two zero blocks that end it. */
  finish(): Uint8Array {
    this.#push(new Uint8Array(BLOCK * 2));
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

/** gzip of `bytes` with the Web CompressionStream. */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
