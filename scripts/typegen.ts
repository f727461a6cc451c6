// `npm run types`: regenerates types/database.ts from a freshly built database with `supabase gen types`.
import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { Cluster, clusterDir } from "./lib/cluster.ts";
import { LOCAL_DIR } from "./lib/local-stack.ts";
import { BIN, ROOT, freePort, run, step } from "./lib/util.ts";

const cluster = new Cluster({ dir: clusterDir(path.join(LOCAL_DIR, "typegen", "pg")).dir, port: await freePort(55532), fast: true });
try {
  cluster.init();
  cluster.start();
  cluster.recreateDatabase();
  cluster.migrate();
  step("generating types/database.ts");
  const { stdout } = run(path.join(BIN, "supabase"), ["gen", "types", "typescript", `--remote=${cluster.cliUrl()}`]);
  mkdirSync(path.join(ROOT, "types"), { recursive: true });
  writeFileSync(path.join(ROOT, "types", "database.ts"), stdout);
} finally {
  cluster.stop();
}
