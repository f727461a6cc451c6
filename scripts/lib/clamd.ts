// ClamAV's clamd on loopback with a test signature database built at run time (no signature download here).
import { chownSync, closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { connect } from "node:net";
import { spawn } from "node:child_process";
import path from "node:path";
import { isRoot, run, waitFor } from "./util.ts";

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
    `StreamMaxLength ${opts.streamMaxLength ?? "50M"}`,
    `MaxFileSize 50M`,
    `MaxScanSize 100M`,
    `MaxThreads 4`,
    `ReadTimeout 30`,
    `CommandReadTimeout 10`,
    `LogTime yes`,
    `LogVerbose no`,
    `Bytecode no`,
    ...(opts.user ? [`User ${opts.user}`] : []),
  ].join("\n") + "\n";
}

/** Sends one clamd command (PING, VERSION) and returns the reply, or null if clamd does not answer. */
export function clamdCommand(port: number, command: string, timeoutMs = 2000): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let reply = "";
    const done = (value: string | null) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => done(null));
    socket.on("error", () => done(null));
    socket.on("connect", () => socket.write(`z${command}\0`));
    socket.on("data", (chunk) => (reply += chunk.toString("utf8")));
    socket.on("end", () => done(reply.replace(/\0$/, "")));
  });
}

/** Starts clamd detached; returns its pid once it answers PING. */
export async function startClamd(opts: { dir: string; port: number; logFile: string; streamMaxLength?: string }): Promise<number> {
  const user = isRoot() ? "clamav" : undefined;
  mkdirSync(opts.dir, { recursive: true });
  writeTestSignatures(path.join(opts.dir, "db"));
  const conf = path.join(opts.dir, "clamd.conf");
  writeFileSync(conf, clamdConfig({ ...opts, user }));
  if (user) {
    const uid = Number(run("id", ["-u", user]).stdout.trim());
    const gid = Number(run("id", ["-g", user]).stdout.trim());
    for (const p of [opts.dir, path.join(opts.dir, "db")]) chownSync(p, uid, gid);
  }
  const log = openSync(opts.logFile, "a");
  const child = spawn("/usr/sbin/clamd", ["-c", conf], { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.unref();
  const pid = child.pid;
  if (!pid) throw new Error("could not start clamd");
  await waitFor(`clamd on 127.0.0.1:${opts.port} (log: ${opts.logFile})`, async () => {
    if (child.exitCode !== null) throw new Error(`clamd exited with ${child.exitCode}; see ${opts.logFile}`);
    return (await clamdCommand(opts.port, "PING", 1000)) === "PONG";
  }, 60_000);
  return pid;
}
