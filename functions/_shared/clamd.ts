// A ClamAV clamd client for INSTREAM over TCP.
//
// Protocol (clamd(8)): send "zINSTREAM\0", then the data as chunks, each prefixed by its length as a 4-byte
// unsigned big-endian integer, then a zero-length chunk. clamd answers one NUL-terminated line:
//   "stream: OK"                               no signature matched
//   "stream: <signature name> FOUND"           infected
//   "INSTREAM size limit exceeded. ERROR"      more than clamd's StreamMaxLength was sent (clamd then closes)
//   "<reason> ERROR"                           any other failure
// Fail closed: anything but "stream: OK" for the whole stream is not clean. A stream longer than `maxBytes` is
// stopped here without a verdict, and so is one that takes longer than `timeoutMs`.

export type ClamdVerdict =
  | { status: "clean"; bytes: number }
  | { status: "infected"; signature: string; bytes: number }
  | { status: "error"; reason: "unreachable" | "timeout" | "too_large" | "protocol"; message: string; retryable: boolean; bytes: number };

export interface ClamdOptions {
  host: string;
  port: number;
  /** Give up (error, retryable) after this long; default 60 s. */
  timeoutMs?: number;
  /** Stop and answer too_large after this many bytes; default 50 MiB (clamd's StreamMaxLength on our stack). */
  maxBytes?: number;
  /** Largest chunk sent to clamd; default 64 KiB. */
  chunkBytes?: number;
  /** Called with every chunk read from the stream (e.g. to sniff the file type from the first bytes). */
  onChunk?: (chunk: Uint8Array) => void;
}

const encoder = new TextEncoder();

export function parseClamdReply(reply: string): { status: "clean" } | { status: "infected"; signature: string } | { status: "error"; message: string; tooLarge: boolean } {
  const line = reply.replace(/\0+$/, "").trim();
  if (line === "stream: OK") return { status: "clean" };
  const found = /^stream: (.+) FOUND$/.exec(line);
  if (found) return { status: "infected", signature: found[1]! };
  // No reply at all: clamd accepted the connection but could not take the stream, most often because it cannot
  // create its temporary file (TemporaryDirectory, else $TMPDIR, not writable by clamd's user). Its log says why.
  const silent = "clamd closed the connection without a reply (it could not take the stream; clamd's log says why)";
  return { status: "error", message: line || silent, tooLarge: /size limit exceeded/i.test(line) };
}

/** Streams `source` to clamd and returns the verdict. Never throws for scanner faults: they are error verdicts. */
export async function scanStream(source: ReadableStream<Uint8Array>, options: ClamdOptions): Promise<ClamdVerdict> {
  const maxBytes = options.maxBytes ?? 50 * 1024 * 1024;
  const chunkBytes = options.chunkBytes ?? 64 * 1024;
  let bytes = 0;
  const reader = source.getReader();
  const release = async () => {
    try {
      await reader.cancel();
    } catch {
      // already closed
    }
  };

  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: options.host, port: options.port });
  } catch (error) {
    await release();
    return { status: "error", reason: "unreachable", message: `clamd is not reachable: ${errorText(error)}`, retryable: true, bytes };
  }

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch {
      // closed
    }
  }, options.timeoutMs ?? 60_000);

  // The reply is read alongside the writes: clamd answers (and closes) early when its size limit is exceeded.
  const replyPromise = (async () => {
    const parts: Uint8Array[] = [];
    const buffer = new Uint8Array(1024);
    try {
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        parts.push(buffer.slice(0, n));
        if (buffer.subarray(0, n).includes(0)) break;
      }
    } catch {
      // connection reset or closed by the timeout: whatever arrived is the reply
    }
    return new TextDecoder().decode(concat(parts));
  })();

  let writeFailed = false;
  let tooLarge = false;
  const writeAll = async (data: Uint8Array) => {
    let offset = 0;
    while (offset < data.length) offset += await conn.write(data.subarray(offset));
  };
  try {
    await writeAll(encoder.encode("zINSTREAM\0"));
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      options.onChunk?.(value);
      if (bytes > maxBytes) {
        tooLarge = true;
        break;
      }
      for (let offset = 0; offset < value.byteLength; offset += chunkBytes) {
        const piece = value.subarray(offset, Math.min(offset + chunkBytes, value.byteLength));
        const header = new Uint8Array(4);
        new DataView(header.buffer).setUint32(0, piece.byteLength, false);
        await writeAll(header);
        await writeAll(piece);
      }
    }
    if (!tooLarge) await writeAll(new Uint8Array(4));
  } catch {
    writeFailed = true;
  }
  await release();

  if (tooLarge) {
    clearTimeout(timer);
    closeQuietly(conn);
    await replyPromise;
    return {
      status: "error",
      reason: "too_large",
      message: `the file is larger than the ${maxBytes} bytes the scanner accepts`,
      retryable: false,
      bytes,
    };
  }
  const reply = await replyPromise;
  clearTimeout(timer);
  closeQuietly(conn);
  if (timedOut) {
    return { status: "error", reason: "timeout", message: "clamd did not answer in time", retryable: true, bytes };
  }
  const parsed = parseClamdReply(reply);
  if (parsed.status === "clean" && !writeFailed) return { status: "clean", bytes };
  if (parsed.status === "infected") return { status: "infected", signature: parsed.signature, bytes };
  if (parsed.status === "error" && parsed.tooLarge) {
    return { status: "error", reason: "too_large", message: `clamd refused the stream: ${parsed.message}`, retryable: false, bytes };
  }
  const message = parsed.status === "error" ? parsed.message : "the stream was cut off";
  return { status: "error", reason: "protocol", message: `clamd: ${message}`, retryable: true, bytes };
}

function closeQuietly(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
