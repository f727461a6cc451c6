// `npm run bench:generate -- --preset quick|large [--regenerate]`: builds the benchmark data set in the bench cluster
// ($SUPABASE_CHAT_LOCAL_DIR/bench) and checks its consistency; `npm run bench` does the same before measuring.
import { benchCluster, ensureData } from "./lib/bench-cluster.ts";
import { presetFromArgs } from "./lib/presets.ts";
import { step } from "../scripts/lib/util.ts";

async function main(): Promise<void> {
  const preset = presetFromArgs(process.argv.slice(2));
  const cluster = await benchCluster();
  try {
    await ensureData(cluster, preset, { regenerate: process.argv.includes("--regenerate") });
  } finally {
    if (!process.argv.includes("--keep")) {
      step("stopping the bench cluster");
      cluster.stop();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});
