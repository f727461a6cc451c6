// The pure parts of the GDPR functions: the tar.gz writer (read back by the system's tar, an independent reader)
// and the "recent sign-in" rule on the access token's amr claim. The functions themselves run against the stack in
// tests/client/gdpr.test.ts.

import assert from "node:assert/strict";
import { lastAuthenticatedAt } from "../../functions/_shared/gdpr.ts";
import { gzip, TarWriter } from "../../functions/_shared/tar.ts";

const encoder = new TextEncoder();

async function tar(args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command("tar", { args, cwd, stdout: "piped", stderr: "piped" }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("tar: short, long and non-ASCII paths come back byte for byte from the system's tar", async () => {
  const longName = `files/attachments/${crypto.randomUUID()}/${crypto.randomUUID()}/${"very-long-file-name-".repeat(6)}.txt`;
  const entries: Record<string, Uint8Array> = {
    "export.json": encoder.encode(JSON.stringify({ hello: "world" })),
    [longName]: encoder.encode("x".repeat(1000)),
    "files/avatars/Überraschung 🎉.png": Uint8Array.from({ length: 513 }, (_, i) => i % 256),
    "empty.txt": new Uint8Array(0),
  };
  const writer = new TarWriter(1_700_000_000);
  for (const [name, data] of Object.entries(entries)) writer.add(name, data);
  const archive = await gzip(writer.finish());
  const dir = await Deno.makeTempDir({ prefix: "gdpr-tar-" });
  try {
    await Deno.writeFile(`${dir}/a.tar.gz`, archive);
    const listed = (await tar(["-tzf", "a.tar.gz"], dir)).trim().split("\n").sort();
    assert.deepEqual(listed, Object.keys(entries).sort());
    await tar(["-xzf", "a.tar.gz"], dir);
    for (const [name, data] of Object.entries(entries)) {
      assert.deepEqual(new Uint8Array(await Deno.readFile(`${dir}/${name}`)), data, name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tar: paths that could escape the archive are refused", () => {
  const writer = new TarWriter();
  for (const bad of ["/etc/passwd", "../x", "a/../../b", "a//b", ""]) {
    assert.throws(() => writer.add(bad, new Uint8Array(1)), /unsafe entry path/, bad);
  }
});

Deno.test("amr: the newest authentication time counts; no amr means no recent sign-in", () => {
  assert.equal(lastAuthenticatedAt({ amr: [{ method: "password", timestamp: 100 }, { method: "totp", timestamp: 250 }] }), 250);
  assert.equal(lastAuthenticatedAt({ amr: [{ method: "otp", timestamp: 5 }] }), 5);
  assert.equal(lastAuthenticatedAt({}), null);
  assert.equal(lastAuthenticatedAt({ amr: "password" }), null);
  assert.equal(lastAuthenticatedAt({ amr: [{ method: "password" }, null, { timestamp: "1" }] }), null);
});
