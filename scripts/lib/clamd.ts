// ClamAV's clamd on loopback with a test signature database built at run time (no signature download here).
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { connect } from "node:net";
import { spawn } from "node:child_process";
import path from "node:path";
import { freePort, isRoot, portIsFree, run, waitFor } from "./util.ts";
import { serviceDir } from "./service-dir.ts";

/** The EICAR anti-virus test string, assembled at run time so no file in the repository contains it. */
export function eicar(): string {
  return ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-", "TEST-FILE!$H+H*"].join("");
}

/** Writes the test signature database: EICAR as a body signature at offset 0 and as an exact-file hash. */
export function writeTestSignatures(dbDir: string): void {
  mkdirSync(dbDir, { recursive: true });
  const sample = Buffer.from(eicar(), "latin1");
  writeFileSync(path.join(dbDir, "supabase-chat-test.ndb"), `Eicar-Test-Signature:0:0:${sample.toString("hex")}\n`);
  const md5 = createHash("md5").update(sample).digest("hex");
  writeFileSync(path.join(dbDir, "supabase-chat-test.hdb"), `${md5}:${sample.length}:Eicar-Test-Signature-File\n`);
}

export function clamdConfig(opts: { dir: string; port: number; user?: string; streamMaxLength?: string }): string {
  return [
    `Foreground yes`,
    `TCPSocket ${opts.port}`,
    `TCPAddr 127.0.0.1`,
    `DatabaseDirectory ${path.join(opts.dir, "db")}`,
    // clamd writes every INSTREAM to a temporary file before scanning it. Without this line it uses $TMPDIR (else
    // /tmp) as inherited from whoever started it, and when that directory is not writable by the `clamav` user it
    // drops to (a private 0700 TMPDIR of root, as CI runners and busy shared machines hand out), every INSTREAM is
    // closed without a reply while PING still answers (clamd/session.c: cli_gentempfd fails, `return 1`, no reply).
    `TemporaryDirectory ${path.join(opts.dir, "tmp")}`,
    `StreamMaxLength ${opts.streamMaxLength ?? "50M"}`,
    `MaxFileSize 50M`,
    `MaxScanSize 100M`,
    `MaxThreads 4`,
    // Seconds clamd waits for the next chunk of a stream / for the first command after a connect. The client in
    // functions/_shared/clamd.ts writes the command at once and streams without pauses; these only bound a client
    // that stalls, and are generous so a loaded machine that descheduled the client for a while is not cut off.
    `ReadTimeout 60`,
    `CommandReadTimeout 30`,
    `LogTime yes`,
    `LogVerbose no`,
    `Bytecode no`,
    ...(opts.user ? [`User ${opts.user}`] : []),
  ].join("\n") + "\n";
}

/** Sends one clamd command (PING, VERSION) and returns the reply, or null if clamd does not answer. */
export function clamdCommand(port: number, command: string, timeoutMs = 2000): Promise<string | null> {
  return clamdExchange(port, [Buffer.from(`z${command}\0`, "latin1")], timeoutMs);
}

/** Scans `data` with INSTREAM and returns clamd's reply ("stream: OK", "stream: <name> FOUND", "... ERROR"), "" if
 * clamd closed the connection without one, or null if it did not answer within `timeoutMs`. */
export function clamdScan(port: number, data: Buffer, timeoutMs = 5000): Promise<string | null> {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return clamdExchange(port, [Buffer.from("zINSTREAM\0", "latin1"), length, data, Buffer.alloc(4)], timeoutMs);
}

function clamdExchange(port: number, parts: Buffer[], timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let reply = "";
    let settled = false;
    const done = (value: string | null) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.on("error", () => done(reply ? reply.replace(/\0$/, "") : null));
    socket.on("connect", () => socket.write(Buffer.concat(parts)));
    socket.on("data", (chunk) => (reply += chunk.toString("utf8")));
    socket.on("end", () => done(reply.replace(/\0$/, "")));
  });
}

/**
 * The readiness probe: a line that only this clamd instance's signature database knows (a fresh nonce per start).
 * A scan that finds it proves three things a PING does not: the clamd on the port is the one we started (not
 * another suite's that won a race for the port), its signature database is loaded, and INSTREAM works end to end
 * (it can write its temporary file).
 */
function writeProbeSignature(dbDir: string): { sample: Buffer; name: string } {
  const nonce = randomBytes(12).toString("hex");
  const name = `SupabaseChat-Readiness-${nonce}`;
  const sample = Buffer.from(`supabase-chat clamd readiness probe ${nonce}\n`, "latin1");
  writeFileSync(path.join(dbDir, "supabase-chat-probe.ndb"), `${name}:0:*:${sample.toString("hex")}\n`);
  return { sample, name };
}

export interface StartedClamd {
  pid: number;
  port: number;
  /** Where clamd.conf, the signature database and the temporary directory are (see serviceDir). */
  dir: string;
}

/**
 * Starts clamd detached on `port` (or, if another process takes that port first, on the next free one) and
 * returns once it passes the readiness probe.
 */
export async function startClamd(opts: {
  dir: string;
  port: number;
  logFile: string;
  streamMaxLength?: string;
  /** Extra environment for clamd (the test suite passes a TMPDIR clamd's user cannot write). */
  env?: NodeJS.ProcessEnv;
  /** Ports the caller has handed out to other services: never moved onto. */
  avoid?: number[];
}): Promise<StartedClamd> {
  const user = isRoot() ? "clamav" : undefined;
  // As root clamd drops to `clamav`, which must reach its database and temporary directory.
  const dir = user ? serviceDir(opts.dir, user).dir : opts.dir;
  const dbDir = path.join(dir, "db");
  const tmpDir = path.join(dir, "tmp");
  mkdirSync(dbDir, { recursive: true });
  mkdirSync(tmpDir, { recursive: true });
  // Temporary files of a clamd that was killed mid-scan.
  for (const f of readdirSync(tmpDir)) rmSync(path.join(tmpDir, f), { recursive: true, force: true });
  writeTestSignatures(dbDir);
  const probe = writeProbeSignature(dbDir);
  if (user) {
    const uid = Number(run("id", ["-u", user]).stdout.trim());
    const gid = Number(run("id", ["-g", user]).stdout.trim());
    for (const p of [dir, dbDir, tmpDir]) chownSync(p, uid, gid);
    chmodSync(tmpDir, 0o700);
  }
  let port = opts.port;
  for (let attempt = 1; ; attempt++) {
    const conf = path.join(dir, "clamd.conf");
    writeFileSync(conf, clamdConfig({ dir, port, user, streamMaxLength: opts.streamMaxLength }));
    const log = openSync(opts.logFile, "a");
    const child = spawn("/usr/sbin/clamd", ["-c", conf], {
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...process.env, ...opts.env },
    });
    closeSync(log);
    child.unref();
    const pid = child.pid;
    if (!pid) throw new Error("could not start clamd");
    let lastReply: string | null = null;
    let emptyReplies = 0;
    try {
      // Waits for clamd to load its signatures, bind the port and find the probe; that takes a second or two on an
      // idle machine, and far longer on a loaded one: the limit only catches a clamd that never gets there.
      await waitFor(`clamd on 127.0.0.1:${port} to find its readiness probe`, async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new ClamdExited(child.exitCode);
        lastReply = await clamdScan(port, probe.sample, 5000);
        if (lastReply !== null && lastReply.startsWith(`stream: ${probe.name}`)) return true;
        // An answer without our signature comes from another clamd on this port (ours will fail to bind and exit).
        // An empty one is not a clamd still starting (it binds only once its database is loaded) but one that
        // cannot take streams (see TemporaryDirectory above): say so now rather than at the deadline.
        if (lastReply === "" && ++emptyReplies >= 5) throw new Error("clamd answers but closes every INSTREAM without a reply");
        return false;
      }, 120_000);
      return { pid, port, dir };
    } catch (error) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
      if (error instanceof ClamdExited && attempt < 5 && !(await portIsFree(port))) {
        port = await freePort(port + 1, opts.avoid ?? []);
        continue;
      }
      const reply = lastReply === null ? "no answer" : lastReply === "" ? "closed the connection without a reply" : JSON.stringify(lastReply);
      throw new Error(`${error instanceof Error ? error.message : String(error)}; last probe: ${reply}; clamd's log: ${opts.logFile}`);
    }
  }
}

class ClamdExited extends Error {
  constructor(code: number | null) {
    super(`clamd exited${code === null ? "" : ` with ${code}`}`);
  }
}
