// Crash: a send load through the request context on a throwaway cluster with full durability (fsync and
// synchronous_commit on), the postmaster killed with SIGKILL mid-load, then restarted. Every message whose send was
// acknowledged (the commit returned) is present exactly once, the per-chat sequence is gap-free, and retrying the
// sends whose outcome the clients never learned (same client_id) creates no duplicate.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { Cluster, clusterDir } from "../../scripts/lib/cluster.ts";
import { LOCAL_DIR } from "../../scripts/lib/local-stack.ts";
import { freePort, pidAlive, sleep } from "../../scripts/lib/util.ts";
import { inRequest } from "../../stack/shared/request-context.ts";
import { SOAK, createUsers, inconsistencies, installConsistencyCheck, type User } from "./support.ts";

const CLIENTS = SOAK ? 8 : 4;
const ACKS_BEFORE_KILL = SOAK ? 3_000 : 150;
const PER_USER = 20;

let cluster: Cluster;
let dir: string;
const open: postgres.Sql[] = [];
const connect = (user = "postgres") => {
  const sql = postgres(cluster.url(user), { max: 1, onnotice: () => {}, idle_timeout: 5, connect_timeout: 10 });
  open.push(sql);
  return sql;
};

beforeAll(async () => {
  // .local/reliability-crash, or outside the checkout when the OS user `postgres` cannot reach it (service-dir.ts).
  dir = clusterDir(path.join(LOCAL_DIR, "reliability-crash")).dir;
  rmSync(dir, { recursive: true, force: true });
  cluster = new Cluster({ dir, port: await freePort(57432) });
  cluster.init();
  cluster.start();
  cluster.recreateDatabase();
  cluster.migrate();
}, 180_000);

afterAll(async () => {
  await Promise.all(open.map((s) => s.end({ timeout: 1 }).catch(() => undefined)));
  if (cluster) {
    try {
      cluster.stop("immediate");
    } catch {
      // already down
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

type Row = { id: string; seq: string; client_id: string };

describe("a database crash during a send load", () => {
  it("keeps every acknowledged message exactly once with a gap-free sequence", async () => {
    const admin = connect("supabase_admin");
    const settings = await admin<{ name: string; setting: string }[]>`
      select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'full_page_writes') order by name`;
    expect(settings.map((s) => `${s.name}=${s.setting}`)).toEqual(["fsync=on", "full_page_writes=on", "synchronous_commit=on"]);
    await installConsistencyCheck(admin);

    const users = await createUsers(admin, "crash", Math.ceil(ACKS_BEFORE_KILL / PER_USER) * 2 + CLIENTS + 1);
    const owner = users[0]!;
    const senders = users.slice(1);
    const setup = connect();
    const [chat] = await inRequest(setup, owner.claims, (tx) => tx<{ id: string }[]>`select (public.create_group_chat('Crash')).id`);
    for (let i = 0; i < senders.length; i += 100) {
      const ids = senders.slice(i, i + 100).map((u) => u.id);
      await inRequest(setup, owner.claims, (tx) => tx`select public.add_chat_members(${chat!.id}::uuid, ${ids}::uuid[])`);
    }

    // Only the load's own connections are open when the server dies.
    await Promise.all(open.splice(0).map((s) => s.end({ timeout: 5 })));

    // The same request context as inRequest, sent as one simple-protocol batch (begin; settings; call; commit): when
    // the server dies mid-request the client has nothing left to write (postgres.js's begin() would queue a
    // rollback on the dead socket). The send is acknowledged when the batch, commit included, returns.
    const lit = (v: string) => `'${v.replaceAll("'", "''")}'`;
    const send = async (sql: postgres.Sql, user: User, clientId: string): Promise<Row> => {
      const batch = [
        "begin",
        `select set_config('search_path', 'public, extensions', true), set_config('role', 'authenticated', true),
                set_config('request.jwt.claims', ${lit(JSON.stringify(user.claims))}, true),
                set_config('request.method', 'POST', true), set_config('request.path', '/rpc/send_message', true),
                set_config('request.headers', '{}', true), set_config('request.cookies', '{}', true)`,
        `select id, seq::text as seq, client_id from public.send_message(chat_id => ${lit(chat!.id)}::uuid,
                body => ${lit(`crash test ${clientId}`)}, client_id => ${lit(clientId)}::uuid)`,
        "commit",
      ].join(";\n");
      const results = (await sql.unsafe(batch)) as unknown as Row[][];
      const row = results[2]?.[0];
      if (!row) throw new Error("send_message returned no row");
      return row;
    };

    const acked: Array<Row & { user: User }> = [];
    const unknown: Array<{ user: User; clientId: string }> = [];
    const postmaster = cluster.pid();
    expect(postmaster).toBeDefined();
    let killed = false;
    let n = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        // Not in `open`: the crash closes these connections, ending them again would write to a dead socket.
        const sql = postgres(cluster.url(), { max: 1, onnotice: () => {}, idle_timeout: 5, connect_timeout: 10 });
        for (;;) {
          const user = senders[Math.floor(n++ / PER_USER) % senders.length]!;
          const clientId = randomUUID();
          try {
            const row = await send(sql, user, clientId);
            acked.push({ ...row, user });
            if (!killed && acked.length >= ACKS_BEFORE_KILL) {
              killed = true;
              process.kill(postmaster!, "SIGKILL");
            }
          } catch {
            // The connection died with the server: this send may or may not have committed.
            unknown.push({ user, clientId });
            expect(killed, `client ${c} failed before the crash`).toBe(true);
            return;
          }
        }
      }),
    );
    expect(acked.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);

    // Restart once every backend of the old server is gone.
    for (let i = 0; i < 100 && pidAlive(postmaster); i++) await sleep(100);
    for (let attempt = 0; ; attempt++) {
      try {
        cluster.start();
        break;
      } catch (err) {
        if (attempt >= 20) throw err;
        await sleep(500);
      }
    }

    const after = connect("supabase_admin");
    const stored = await after<Row[]>`
      select m.id, m.seq::text as seq, m.client_id from public.messages m where m.chat_id = ${chat!.id}::uuid order by m.seq`;
    const byId = new Map(stored.map((r) => [r.id, r]));
    const missing = acked.filter((a) => byId.get(a.id)?.seq !== a.seq);
    expect(missing, "acknowledged messages lost or moved by the crash").toEqual([]);
    expect(new Set(stored.map((r) => r.client_id)).size).toBe(stored.length);
    expect(stored.map((r) => Number(r.seq))).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
    // Anything stored beyond the acknowledged sends is one of the sends in flight at the crash.
    const inFlight = new Set(unknown.map((u) => u.clientId));
    const ackedIds = new Set(acked.map((a) => a.id));
    expect(stored.filter((r) => !ackedIds.has(r.id) && !inFlight.has(r.client_id))).toEqual([]);

    // The clients retry what they never heard back about: no duplicates, still gap-free.
    const retry = connect();
    for (const u of unknown) await send(retry, u.user, u.clientId);
    const final = await after<Row[]>`
      select m.id, m.seq::text as seq, m.client_id from public.messages m where m.chat_id = ${chat!.id}::uuid order by m.seq`;
    expect(final).toHaveLength(acked.length + unknown.length);
    expect(new Set(final.map((r) => r.client_id)).size).toBe(final.length);
    expect(final.map((r) => Number(r.seq))).toEqual(Array.from({ length: final.length }, (_, i) => i + 1));
    expect(await inconsistencies(after)).toEqual([]);
  });
});
