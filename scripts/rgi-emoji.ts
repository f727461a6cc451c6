// `npx tsx scripts/rgi-emoji.ts`: writes the migration that loads Unicode's RGI emoji list (scripts/lib/rgi-emoji.ts).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { RGI_MIGRATION, renderRgiMigration, rgiEmoji } from "./lib/rgi-emoji.ts";
import { ROOT } from "./lib/util.ts";

writeFileSync(path.join(ROOT, RGI_MIGRATION), renderRgiMigration());
console.log(`${RGI_MIGRATION}: ${rgiEmoji().length} emoji`);
