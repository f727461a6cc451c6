// `npm run docs:security`: writes docs/security.md from real calls — every table operation and RPC, tried by every
// persona through the PostgREST request context on a migrated database (see tests/api/support/matrix.ts).
// Needs DB_URL: a database the migrations were applied to; a fixture is added to it (use a test database).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUTPUT = path.join(ROOT, "docs", "security.md");

if (!process.env.DB_URL && !process.env.SUPABASE_DB_URL) {
  console.error(`DB_URL is not set. The matrix runs against a migrated test database, for example:

  KEEP_TEST_DB=1 npm test -- api      # builds and migrates the test database and leaves it running
  DB_URL=postgresql://postgres:postgres@127.0.0.1:$(cat .local/test/port)/postgres npm run docs:security

(then stop that cluster with \`pg_ctl stop -D .local/test/pg/data\`, run as the postgres OS user when you are root).`);
  process.exit(2);
}

// Imported only now: the database module connects on import and refuses to load without DB_URL.
const { sql } = await import("../tests/api/support/db.ts");
const { OPERATIONS, PERSONAS, buildFixture, renderSecurityDoc, runMatrix } = await import("../tests/api/support/matrix.ts");

try {
  const started = Date.now();
  const fixture = await buildFixture();
  const matrix = await runMatrix(fixture);
  writeFileSync(OUTPUT, renderSecurityDoc(matrix));
  console.log(
    `wrote ${path.relative(process.cwd(), OUTPUT)}: ${OPERATIONS.length} operations × ${PERSONAS.length} personas ` +
      `in ${((Date.now() - started) / 1000).toFixed(1)}s`,
  );
} finally {
  await sql.end();
}
