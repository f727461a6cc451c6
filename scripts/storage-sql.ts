// Writes sql/test/03_storage.sql from the local Storage API's statements (stack/storage/sql-helpers.ts).
//   npx tsx scripts/storage-sql.ts
import { writeFileSync } from "node:fs";
import path from "node:path";
import { storageTestHelpersSql } from "../stack/storage/sql-helpers.ts";
import { ROOT } from "./lib/util.ts";

writeFileSync(path.join(ROOT, "sql", "test", "03_storage.sql"), storageTestHelpersSql());
console.log("wrote sql/test/03_storage.sql");
