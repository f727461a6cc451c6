// The notify function's worker loop (functions/_shared/notify.ts drainOutbox) on Deno, for bench/lib/notifications.ts:
// WORKERS drain the outbox at once, each with its own connection pool as separate function instances would, until
// nothing is due. Prints {"sent", "claimed", "seconds"} as the last line.
//   SUPABASE_DB_URL=... VAPID_PUBLIC_KEY=... VAPID_PRIVATE_KEY=... WORKERS=2 MAX_DELIVERIES=5000 deno run -A bench/deno/notify-drain.ts
import { createDb } from "../../functions/_shared/db.ts";
import { requireEnv } from "../../functions/_shared/env.ts";
import { drainOutbox, type NotifyResult } from "../../functions/_shared/notify.ts";

const workers = Number(Deno.env.get("WORKERS") ?? 1);
const max = Number(Deno.env.get("MAX_DELIVERIES") ?? 5000);
const pools = Array.from({ length: workers }, (_, i) =>
  createDb(requireEnv("SUPABASE_DB_URL"), { applicationName: `supabase-chat/bench-notify-${i}`, max: 3 }));
const vapid = { publicKey: requireEnv("VAPID_PUBLIC_KEY"), privateKey: requireEnv("VAPID_PRIVATE_KEY"), subject: "mailto:bench@example.test" };
try {
  // Connections and plans first, outside the clock.
  await Promise.all(pools.map((sql) => sql`select 1`));
  const started = performance.now();
  const results: NotifyResult[] = await Promise.all(pools.map((sql) => drainOutbox({ sql, auth: {}, vapid }, max)));
  const seconds = (performance.now() - started) / 1000;
  const sum = (k: keyof NotifyResult) => results.reduce((a, r) => a + r[k], 0);
  console.log(JSON.stringify({ sent: sum("sent"), claimed: sum("claimed"), retried: sum("retried"), dead: sum("dead"), seconds }));
} finally {
  await Promise.all(pools.map((sql) => sql.end()));
}
