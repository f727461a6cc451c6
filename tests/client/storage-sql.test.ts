// The SQL test helpers run the local Storage API's own statements: sql/test/03_storage.sql is generated from
// stack/storage/statements.ts and must not drift from it.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { storageTestHelpersSql } from "../../stack/storage/sql-helpers.ts";
import { ROOT } from "../../scripts/lib/util.ts";

describe("SQL storage helpers", () => {
  it("sql/test/03_storage.sql is what scripts/storage-sql.ts generates from the Storage statements", () => {
    const committed = readFileSync(path.join(ROOT, "sql", "test", "03_storage.sql"), "utf8");
    expect(committed, "run `npx tsx scripts/storage-sql.ts`").toBe(storageTestHelpersSql());
  });
});
