// The release rule and the bucket settings, outside the test runner:
//   npx tsx scripts/check-migrations.ts [<dir with migrations>]
// Builds a throwaway database under .local/check, applies the migrations one file at a time and prints what breaks
// the release rule (see scripts/lib/migrations.ts). `npm test` runs the same checks as the `migrations` suite.
import path from "node:path";
import { Cluster } from "./lib/cluster.ts";
import { LOCAL_DIR } from "./lib/local-stack.ts";
import { checkBucketConfig, checkReleaseRule } from "./lib/migrations.ts";
import { ensureSystemDeps } from "./lib/system-deps.ts";
import { ROOT, freePort } from "./lib/util.ts";

async function main(): Promise<number> {
  const dir = path.resolve(process.argv[2] ?? path.join(ROOT, "supabase", "migrations"));
  await ensureSystemDeps();
  const cluster = new Cluster({ dir: path.join(LOCAL_DIR, "check", "pg"), port: await freePort(55632), fast: true });
  cluster.init();
  cluster.start();
  try {
    const rule = checkReleaseRule(cluster, dir);
    const buckets = checkBucketConfig(cluster);
    const findings = [...rule.findings, ...buckets.findings];
    for (const f of findings) console.log(`✗ ${f}`);
    console.log(findings.length === 0 ? `release rule and bucket settings hold (${dir})` : `${findings.length} findings`);
    return findings.length === 0 ? 0 : 1;
  } finally {
    cluster.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
