// `npm test`: every suite on a freshly built database in a throwaway test cluster (.local/test), then a summary.
//   npm test                 all suites
//   npm test -- pgtap api    only the named suites
import { chmodSync, mkdirSync, readFileSync, existsSync, writeFileSync } from "node:fs";
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { Cluster, clusterDir } from "./lib/cluster.ts";
import { ensureSystemDeps } from "./lib/system-deps.ts";
import { LOCAL_DIR, DEFAULT_JWT_SECRET } from "./lib/local-stack.ts";
import { startClamd } from "./lib/clamd.ts";
import { generateVapidKeys, startFunctionsRuntime } from "./lib/functions-runtime.ts";
import { projectKeys } from "../stack/shared/keys.ts";
import { checkBucketConfig, checkReleaseRule } from "./lib/migrations.ts";
import { BIN, ROOT, freePort, pidAlive, portIsFree, step } from "./lib/util.ts";
import { startStack } from "../stack/server.ts";

interface SuiteResult {
  passed: number;
  failed: number;
  note?: string;
}

interface Suite {
  name: string;
  /** Build a fresh database (platform + migrations), optionally with the pgTAP helpers. */
  database: "none" | "migrated" | "with-test-helpers";
  run(ctx: Context): Promise<SuiteResult>;
}

interface Context {
  cluster: Cluster;
  env: NodeJS.ProcessEnv;
}

const TEST_DIR = path.join(LOCAL_DIR, "test");

/** Runs a command, streaming its output to the terminal, and returns exit code and the captured output. */
function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const onData = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
      output += chunk.toString("utf8");
      stream.write(chunk);
    };
    child.stdout.on("data", onData(process.stdout));
    child.stderr.on("data", onData(process.stderr));
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

function stripAnsi(s: string): string {
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}

const supabase = path.join(BIN, "supabase");

const suites: Suite[] = [
  {
    name: "typecheck",
    database: "none",
    async run() {
      const { code, output } = await exec(path.join(BIN, "tsc"), ["--noEmit", "-p", "tsconfig.json"]);
      const errors = (stripAnsi(output).match(/error TS\d+/g) ?? []).length;
      return code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: Math.max(1, errors), note: `${errors} type errors` };
    },
  },
  {
    // The release rule (supabase/migrations/RELEASED; scripts/lib/migrations.ts) on the migrations applied one file at
    // a time, and [storage.buckets.*] in supabase/config.toml against the storage.buckets rows they create.
    name: "migrations",
    database: "none",
    async run({ cluster }) {
      const rule = checkReleaseRule(cluster);
      const buckets = checkBucketConfig(cluster);
      const findings = [...rule.findings, ...buckets.findings];
      for (const f of findings) console.log(`\u2717 ${f}`);
      return {
        passed: Math.max(0, rule.checks + buckets.checks - findings.length),
        failed: findings.length,
        ...(findings.length ? { note: `${findings.length} findings; see above` } : {}),
      };
    },
  },
  {
    name: "pgtap",
    database: "with-test-helpers",
    async run({ cluster }) {
      const url = new URL(cluster.url());
      const { code, output } = await exec("pg_prove", ["--ext", ".sql", "-r", "supabase/tests/database"], {
        PGHOST: url.hostname, PGPORT: url.port, PGUSER: "postgres", PGPASSWORD: "postgres", PGDATABASE: "postgres",
      });
      const text = stripAnsi(output);
      const tests = Number(/Files=\d+, Tests=(\d+)/.exec(text)?.[1] ?? 0);
      const failedLines = [...text.matchAll(/Failed (\d+)\/(\d+) subtests/g)].reduce((n, m) => n + Number(m[1]), 0);
      const badPlans = (text.match(/Parse errors:|Bad plan|Wstat: \d+/g) ?? []).length;
      const failed = failedLines + (code !== 0 && failedLines === 0 ? Math.max(1, badPlans) : 0);
      return { passed: Math.max(0, tests - failedLines), failed };
    },
  },
  {
    name: "api",
    database: "migrated",
    async run({ env }) {
      const report = path.join(TEST_DIR, "vitest.json");
      const { code } = await exec(path.join(BIN, "vitest"), [
        "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`,
      ], env);
      if (!existsSync(report)) return { passed: 0, failed: 1, note: "vitest wrote no report" };
      const r = JSON.parse(readFileSync(report, "utf8")) as { numPassedTests: number; numFailedTests: number; numTotalTests: number };
      const failed = r.numFailedTests + (code !== 0 && r.numFailedTests === 0 ? 1 : 0);
      return { passed: r.numPassedTests, failed };
    },
  },
  {
    name: "functions",
    database: "migrated",
    async run({ cluster, env }) {
      const check = await exec(path.join(BIN, "deno"), ["check", "functions/", "scripts/functions-serve.ts", "tests/functions/", "tests/reliability/functions/", "bench/deno/"], env);
      if (check.code !== 0) return { passed: 0, failed: 1, note: "deno check failed" };
      // A real clamd with the test signature database; its StreamMaxLength is small so the tests reach it.
      // startClamd returns once clamd has scanned its readiness probe, on this port or the next free one.
      // As root clamd runs as `clamav`; it is handed a TMPDIR that user cannot write (as a CI runner's private
      // TMPDIR would be), so these tests fail if the stack ever again lets clamd's stream files follow $TMPDIR.
      const privateTmp = path.join(TEST_DIR, "private-tmp");
      mkdirSync(privateTmp, { recursive: true });
      chmodSync(privateTmp, 0o700);
      const clamd = await startClamd({
        dir: path.join(TEST_DIR, "clamav"),
        port: await freePort(55330),
        logFile: path.join(TEST_DIR, "clamd.log"),
        streamMaxLength: "2M",
        env: { TMPDIR: privateTmp },
      });
      const clamdPort = clamd.port;
      const clamdPid = clamd.pid;
      // The local stack's gateway with its Storage API: the functions reach object bytes over HTTP, as in production.
      const dbUrl = new URL(cluster.url());
      const stack = await startStack({
        port: await freePort(56421),
        jwtSecret: DEFAULT_JWT_SECRET,
        db: { host: dbUrl.hostname, port: Number(dbUrl.port), database: dbUrl.pathname.slice(1), password: "postgres" },
        dataDir: path.join(TEST_DIR, "stack-functions"),
      });
      let result: { code: number; output: string };
      try {
        result = await exec(path.join(BIN, "deno"), ["test", "-A", "tests/functions/"], {
          ...env,
          CLAMD_HOST: "127.0.0.1",
          CLAMD_PORT: String(clamdPort),
          CLAMD_STREAM_MAX_BYTES: String(2 * 1024 * 1024),
          SUPABASE_URL: stack.url,
          SUPABASE_ANON_KEY: stack.deps.keys.anonKey,
          SUPABASE_SERVICE_ROLE_KEY: stack.deps.keys.serviceRoleKey,
        });
      } finally {
        await stack.close();
        await stopProcess(clamdPid);
      }
      const { code, output } = result;
      const m = /(ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed/.exec(stripAnsi(output));
      const passed = m ? Number(m[2]) : 0;
      const failed = m ? Number(m[4]) : 1;
      return { passed, failed: failed + (code !== 0 && failed === 0 ? 1 : 0) };
    },
  },
  {
    // The real @supabase/supabase-js against the local stack (stack/), started by the suite's global setup.
    name: "client",
    database: "migrated",
    async run({ cluster, env }) {
      const report = path.join(TEST_DIR, "vitest-client.json");
      const url = new URL(cluster.url());
      // The whole stack as `npm start` runs it: the gateway and its services (started by the suite's global setup on
      // `stackPort`), the edge functions behind it, a real clamd for the scans, and the Vault secrets the database
      // uses to call the functions through pg_net.
      const keys = await projectKeys(DEFAULT_JWT_SECRET);
      const stackPort = await freePort(56321);
      const functionsPort = await freePort(56331, [stackPort]);
      const clamd = await startClamd({
        dir: path.join(TEST_DIR, "clamav-client"),
        port: await freePort(56330, [stackPort, functionsPort]),
        logFile: path.join(TEST_DIR, "clamd-client.log"),
      });
      const clamdPort = clamd.port;
      const clamdPid = clamd.pid;
      // The notify function sends mention emails to the stack's mail catcher and Web Push with a fresh VAPID pair.
      const mailSmtpPort = await freePort(56340, [stackPort, functionsPort, clamdPort]);
      const vapid = generateVapidKeys();
      let functions: ChildProcess | undefined;
      let result: { code: number; output: string };
      try {
        functions = await startFunctionsRuntime({
          port: functionsPort,
          apiUrl: `http://127.0.0.1:${stackPort}`,
          anonKey: keys.anonKey,
          serviceRoleKey: keys.serviceRoleKey,
          jwtSecret: keys.jwtSecret,
          dbUrl: cluster.url(),
          clamdPort,
          logFile: path.join(TEST_DIR, "functions-client.log"),
          vapid,
          smtpPort: mailSmtpPort,
        });
        cluster.setVaultSecret("functions_url", `http://127.0.0.1:${stackPort}/functions/v1`);
        cluster.setVaultSecret("service_role_key", keys.serviceRoleKey);
        result = await exec(path.join(BIN, "vitest"), [
          "run", "--config", "vitest.client.config.ts", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`,
        ], {
          ...env,
          DB_PORT: url.port,
          STACK_DATA_DIR: path.join(TEST_DIR, "stack"),
          STACK_PORT: String(stackPort),
          MAIL_SMTP_PORT: String(mailSmtpPort),
          VAPID_PUBLIC_KEY: vapid.publicKey,
          FUNCTIONS_URL: `http://127.0.0.1:${functionsPort}`,
        });
      } finally {
        functions?.kill("SIGTERM");
        await stopProcess(clamdPid);
      }
      const { code } = result;
      if (!existsSync(report)) return { passed: 0, failed: 1, note: "vitest wrote no report" };
      const r = JSON.parse(readFileSync(report, "utf8")) as { numPassedTests: number; numFailedTests: number };
      return { passed: r.numPassedTests, failed: r.numFailedTests + (code !== 0 && r.numFailedTests === 0 ? 1 : 0) };
    },
  },
  {
    // Concurrency, crash and bad-input suites (tests/reliability); RELIABILITY_SCALE=soak (`npm run soak`) makes them long.
    name: "reliability",
    database: "migrated",
    async run({ env }) {
      const report = path.join(TEST_DIR, "vitest-reliability.json");
      const vitest = await exec(path.join(BIN, "vitest"), [
        "run", "--config", "vitest.reliability.config.ts", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`,
      ], env);
      let passed = 0;
      let failed = 0;
      if (!existsSync(report)) {
        failed += 1;
      } else {
        const r = JSON.parse(readFileSync(report, "utf8")) as { numPassedTests: number; numFailedTests: number };
        passed += r.numPassedTests;
        failed += r.numFailedTests + (vitest.code !== 0 && r.numFailedTests === 0 ? 1 : 0);
      }
      const { code, output } = await exec(path.join(BIN, "deno"), ["test", "-A", "tests/reliability/functions/"], env);
      const m = /(ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed/.exec(stripAnsi(output));
      passed += m ? Number(m[2]) : 0;
      const denoFailed = m ? Number(m[4]) : 1;
      failed += denoFailed + (code !== 0 && denoFailed === 0 ? 1 : 0);
      return { passed, failed };
    },
  },
  {
    name: "types",
    database: "migrated",
    async run({ cluster }) {
      const { code, output } = await execQuiet(supabase, ["gen", "types", "typescript", `--remote=${cluster.cliUrl()}`]);
      if (code !== 0) return { passed: 0, failed: 1, note: output.slice(0, 500) };
      const committed = path.join(ROOT, "types", "database.ts");
      const current = existsSync(committed) ? readFileSync(committed, "utf8") : "";
      if (current !== output) {
        writeFileSync(path.join(TEST_DIR, "database.generated.ts"), output);
        return {
          passed: 0,
          failed: 1,
          note: `types/database.ts differs from the schema; run \`npm run types\` (generated copy: ${path.relative(ROOT, path.join(TEST_DIR, "database.generated.ts"))})`,
        };
      }
      return { passed: 1, failed: 0 };
    },
  },
  {
    name: "advisors",
    database: "migrated",
    async run({ cluster }) {
      const { code, output, log } = await execQuiet(supabase, [
        "db", "advisors", `--remote=${cluster.cliUrl()}`, "--type", "all", "--level", "warn", "--fail-on", "warn",
      ]);
      process.stdout.write(output + log);
      const clean = /No issues found/.test(log + output);
      const found = (output.match(/"level": "(WARN|ERROR)"/g) ?? []).length;
      return code === 0 && clean ? { passed: 1, failed: 0 } : { passed: 0, failed: Math.max(1, found), note: `${found} findings at WARN or above` };
    },
  },
  {
    name: "lint",
    database: "migrated",
    async run({ cluster }) {
      // Our schemas only: platform schemas (auth, storage, realtime, ...) belong to Supabase, not to this project.
      const { code, output, log } = await execQuiet(supabase, [
        "db", "lint", `--remote=${cluster.cliUrl()}`, "--schema", "public,private", "--level", "warning", "--fail-on", "warning",
      ]);
      process.stdout.write(output + log);
      const clean = /No schema errors found/.test(log + output);
      return code === 0 && clean ? { passed: 1, failed: 0 } : { passed: 0, failed: 1, note: "db lint reported problems" };
    },
  },
];

/** Sends SIGTERM to a process we started and waits (up to 10 s) until it is gone. */
async function stopProcess(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  for (let i = 0; i < 100 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

/** Runs a command quietly: `output` is its stdout, `log` its stderr (the CLI prints its verdicts there). */
function execQuiet(cmd: string, args: string[]): Promise<{ code: number; output: string; log: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) process.stderr.write(stderr);
      resolve({ code: code ?? 1, output: stdout, log: stderr });
    });
  });
}

async function main(): Promise<number> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  const unknown = only.filter((n) => !suites.some((s) => s.name === n));
  if (unknown.length) {
    console.error(`unknown suite(s): ${unknown.join(", ")}; known: ${suites.map((s) => s.name).join(", ")}`);
    return 2;
  }
  const selected = suites.filter((s) => only.length === 0 || only.includes(s.name));
  await ensureSystemDeps();
  mkdirSync(TEST_DIR, { recursive: true });
  const statePath = path.join(TEST_DIR, "port");
  let port = existsSync(statePath) ? Number(readFileSync(statePath, "utf8")) : await freePort(55432);
  // .local/test/pg, or a per-checkout directory in /var/tmp when the OS user `postgres` cannot reach the checkout.
  const pg = clusterDir(path.join(TEST_DIR, "pg"));
  if (pg.external) step(`the OS user of the database cannot reach this checkout; the test cluster lives in ${pg.dir}`);
  let cluster = new Cluster({ dir: pg.dir, port, fast: true });
  if (!cluster.running() && !(await portIsFree(port))) {
    // Someone else took our old port while the test cluster was stopped.
    port = await freePort(55432);
    cluster = new Cluster({ dir: pg.dir, port, fast: true });
  }
  writeFileSync(statePath, String(port));
  cluster.init();
  cluster.start();
  const env: NodeJS.ProcessEnv = {
    SUPABASE_DB_URL: cluster.url(),
    DB_URL: cluster.url(),
    JWT_SECRET: DEFAULT_JWT_SECRET,
  };
  const results: Array<{ name: string; result: SuiteResult; seconds: number }> = [];
  try {
    for (const suite of selected) {
      const started = Date.now();
      console.log(`\n=== ${suite.name} ===`);
      let result: SuiteResult;
      try {
        if (suite.database !== "none") {
          cluster.recreateDatabase();
          cluster.migrate();
          if (suite.database === "with-test-helpers") cluster.installTestHelpers();
        }
        result = await suite.run({ cluster, env });
      } catch (err) {
        result = { passed: 0, failed: 1, note: err instanceof Error ? err.message.split("\n").slice(0, 6).join(" | ") : String(err) };
      }
      results.push({ name: suite.name, result, seconds: (Date.now() - started) / 1000 });
    }
  } finally {
    if (process.env.KEEP_TEST_DB !== "1") {
      step("stopping the test cluster");
      cluster.stop();
    }
  }
  console.log("\n=== summary ===");
  let passed = 0;
  let failed = 0;
  for (const { name, result, seconds } of results) {
    passed += result.passed;
    failed += result.failed;
    const status = result.failed === 0 && result.passed > 0 ? "ok  " : "FAIL";
    const note = result.note ? `  (${result.note})` : result.passed === 0 && result.failed === 0 ? "  (ran nothing)" : "";
    console.log(`${status} ${name.padEnd(10)} ${String(result.passed).padStart(4)} passed, ${result.failed} failed  ${seconds.toFixed(1)}s${note}`);
    if (result.passed === 0 && result.failed === 0) failed += 1;
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : err);
    console.log("0 passed, 1 failed");
    process.exit(1);
  },
);
