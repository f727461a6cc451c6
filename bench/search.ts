// `npx tsx bench/search.ts --preset quick|large [--regenerate] [--clients 8]`: only the search benchmarks of
// `npm run bench` (bench/lib/search.ts), on the same bench cluster and data set; prints the rows and writes
// bench/results/search-latest.json.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import postgres from "postgres";
import { benchCluster, ensureData } from "./lib/bench-cluster.ts";
import { presetFromArgs } from "./lib/presets.ts";
import { table } from "./lib/report.ts";
import { measureSearch } from "./lib/search.ts";
import type { Measurement } from "./lib/stats.ts";
import { ROOT, step } from "../scripts/lib/util.ts";

const argv = process.argv.slice(2);
const preset = presetFromArgs(argv);
const i = argv.indexOf("--clients");
const nClients = i >= 0 ? Number(argv[i + 1]) : 8;
const cluster = await benchCluster();
const notes: string[] = [];
let admin: postgres.Sql | undefined;
let clients: postgres.Sql[] = [];
try {
  await ensureData(cluster, preset, { regenerate: argv.includes("--regenerate") });
  admin = postgres(cluster.url("supabase_admin"), { max: 1, onnotice: () => {}, idle_timeout: 5 });
  clients = Array.from({ length: nClients }, () => postgres(cluster.url("postgres"), { max: 1, onnotice: () => {}, idle_timeout: 30, prepare: true }));
  const line = (label: string, m: Measurement) =>
    step(`${label}: ${m.ops} ops in ${m.seconds.toFixed(2)} s, p50 ${m.p50.toFixed(2)} ms, p95 ${m.p95.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms${m.errors ? ` errors ${m.errors} ${JSON.stringify(m.errorCodes)}` : ""}`);
  const records = await measureSearch({ admin, clients, reads: preset.work.reads, sends: Math.min(preset.work.sends, 2000), line, notes, indexingOnly: argv.includes("--indexing-only") });
  console.log(`\nsearch benchmarks, preset ${preset.name}, ${nClients} clients, ${new Date().toISOString().slice(0, 16)}Z\n`);
  console.log(table(records));
  for (const n of notes) console.log(`note: ${n}`);
  mkdirSync(path.join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(path.join(ROOT, "bench", "results", `search-${preset.name}.json`), JSON.stringify({ preset: preset.name, clients: nClients, records, notes }, null, 2) + "\n");
} finally {
  await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
  await admin?.end({ timeout: 5 });
  if (!argv.includes("--keep")) {
    step("stopping the bench cluster");
    cluster.stop();
  }
}
