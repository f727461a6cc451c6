// The Docker-free local stack: state in .local/dev (git-ignored), processes tracked by pid. The database and clamd
// keep theirs there too unless their OS users cannot reach the checkout (see service-dir.ts); status says where.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import path from "node:path";
import { createHash } from "node:crypto";
import { Cluster, clusterDir } from "./cluster.ts";
import { clamdCommand, startClamd } from "./clamd.ts";
import { ensureSystemDeps } from "./system-deps.ts";
import { BIN, ROOT, freePort, pidAlive, portIsFree, step, waitFor } from "./util.ts";
import { DEFAULT_JWT_SECRET, projectKeys } from "../../stack/shared/keys.ts";
import { functionHealthy, generateVapidKeys, startFunctionsRuntime } from "./functions-runtime.ts";

export { DEFAULT_JWT_SECRET };

export const LOCAL_DIR = process.env.SUPABASE_CHAT_LOCAL_DIR ?? path.join(ROOT, ".local");

interface StackState {
  dbPort: number;
  /** The gateway (API_URL). */
  apiPort: number;
  /** The edge functions runtime behind the gateway's /functions/v1. */
  functionsPort: number;
  clamdPort: number;
  /** The mail catcher's HTTP API (MAILPIT_URL) and SMTP ports, [local_smtp] port / smtp_port in config.toml. */
  mailPort?: number;
  mailSmtpPort?: number;
  /** The notify function's Web Push keys (VAPID), made once per local stack. */
  vapidPublicKey?: string;
  vapidPrivateKey?: string;
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
  publishableKey: string;
  secretKey: string;
  gatewayPid?: number;
  /** The migration files this database has applied, by content hash (see start()). */
  migrations?: Record<string, string>;
  functionsPid?: number;
  clamdPid?: number;
}

export class LocalStack {
  readonly dir: string;
  private readonly stateFile: string;
  private state: StackState | undefined;

  constructor(name = "dev") {
    this.dir = path.join(LOCAL_DIR, name);
    this.stateFile = path.join(this.dir, "stack.json");
    if (existsSync(this.stateFile)) this.state = JSON.parse(readFileSync(this.stateFile, "utf8")) as StackState;
  }

  private save(): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.stateFile, JSON.stringify(this.state, null, 2) + "\n");
  }

  private pg: { dir: string; external: boolean } | undefined;

  private cluster(): Cluster {
    if (!this.state) throw new Error("stack state missing");
    this.pg ??= clusterDir(path.join(this.dir, "pg"));
    return new Cluster({ dir: this.pg.dir, port: this.state.dbPort });
  }

  private async ensureState(): Promise<StackState> {
    if (this.state && !this.state.publishableKey) {
      // State written before the opaque keys existed: derive them from its secret as a fresh start would.
      this.state = { ...this.state, ...(await projectKeys(this.state.jwtSecret)) };
      this.save();
    }
    if (this.state && !this.state.vapidPublicKey) {
      // State written before notifications existed: give the stack its VAPID pair.
      const vapid = generateVapidKeys();
      this.state = { ...this.state, vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey };
      this.save();
    }
    if (this.state) return this.state;
    const jwtSecret = process.env.SUPABASE_CHAT_JWT_SECRET ?? DEFAULT_JWT_SECRET;
    const apiPort = await freePort(54321);
    const dbPort = await freePort(54322, [apiPort]);
    const clamdPort = await freePort(54330, [apiPort, dbPort]);
    const functionsPort = await freePort(54331, [apiPort, dbPort, clamdPort]);
    const mailPort = await freePort(54324, [apiPort, dbPort, clamdPort, functionsPort]);
    const mailSmtpPort = await freePort(54325, [apiPort, dbPort, clamdPort, functionsPort, mailPort]);
    const { anonKey, serviceRoleKey, publishableKey, secretKey } = await projectKeys(jwtSecret);
    const vapid = generateVapidKeys();
    this.state = {
      dbPort, apiPort, functionsPort, clamdPort, mailPort, mailSmtpPort, jwtSecret, anonKey, serviceRoleKey, publishableKey, secretKey,
      vapidPublicKey: vapid.publicKey, vapidPrivateKey: vapid.privateKey,
    };
    this.save();
    return this.state;
  }

  /** A port saved at first start may have been taken by another program while the stack was stopped. */
  private async reassignTakenPorts(state: StackState): Promise<void> {
    const taken = () => [state.apiPort, state.dbPort, state.clamdPort, state.functionsPort, state.mailPort ?? 0, state.mailSmtpPort ?? 0];
    if (!this.cluster().running() && !(await portIsFree(state.dbPort))) state.dbPort = await freePort(54322, taken());
    if (!pidAlive(state.gatewayPid) && !(await portIsFree(state.apiPort))) state.apiPort = await freePort(54321, taken());
    // State from before the gateway has no functions port either.
    if (state.functionsPort === undefined || (!pidAlive(state.functionsPid) && !(await portIsFree(state.functionsPort)))) {
      state.functionsPort = await freePort(54331, taken());
    }
    if (!pidAlive(state.clamdPid) && !(await portIsFree(state.clamdPort))) state.clamdPort = await freePort(54330, taken());
    // The mail catcher runs inside the gateway process (stack/server.ts); state from before it existed has no ports.
    const gatewayUp = pidAlive(state.gatewayPid);
    if (state.mailPort === undefined || (!gatewayUp && !(await portIsFree(state.mailPort)))) state.mailPort = await freePort(54324, taken());
    if (state.mailSmtpPort === undefined || (!gatewayUp && !(await portIsFree(state.mailSmtpPort)))) {
      state.mailSmtpPort = await freePort(54325, taken());
    }
    this.save();
  }

  isRunning(): boolean {
    return !!this.state && this.cluster().running();
  }

  /** Starts everything; `rebuild` recreates the database (platform, migrations, seed) instead of migrating it. */
  async start(opts: { rebuild?: boolean } = {}): Promise<void> {
    await ensureSystemDeps();
    const state = await this.ensureState();
    await this.reassignTakenPorts(state);
    mkdirSync(path.join(this.dir, "logs"), { recursive: true });
    mkdirSync(path.join(this.dir, "storage"), { recursive: true });
    const cluster = this.cluster();
    if (this.pg?.external) step(`the OS user of the database cannot reach this checkout; its data lives in ${this.pg.dir}`);
    const fresh = !cluster.initialized();
    cluster.init();
    cluster.start();
    if (fresh || opts.rebuild || !cluster.platformApplied()) {
      cluster.recreateDatabase();
      cluster.migrate();
      cluster.seed();
    } else {
      // Unreleased migrations are edited where their objects are defined, and `migration up` only applies versions
      // it has not seen: a database built before such an edit silently keeps the old objects.
      const edited = Object.entries(state.migrations ?? {}).filter(([file, hash]) => migrationHashes()[file] !== hash);
      if (edited.length > 0) {
        throw new Error(`${edited.map(([f]) => f).join(", ")} changed since this local database applied ${edited.length > 1 ? "them" : "it"} ` +
          "(unreleased migrations are edited in place, see docs/schema.md); rebuild the database with `npm run db:reset` (its data is lost)");
      }
      step("database exists; applying the platform stand-in and any new migrations");
      cluster.applyPlatform();
      try {
        cluster.migrate();
      } catch (error) {
        // Unreleased migrations are edited where objects are defined (supabase/migrations/RELEASED), so a local
        // database built from an earlier set may hold versions that no longer exist.
        if (/Remote migration versions not found/.test(String((error as Error).message))) {
          throw new Error("this local database was built from migrations that were since rewritten (nothing is released yet, " +
            "see docs/schema.md); rebuild it with `npm run db:reset` (its data is lost)");
        }
        throw error;
      }
    }
    state.migrations = migrationHashes();
    try {
      await this.startClamd(state);
      // What the database needs to call the edge functions through pg_net (docs/operations.md, Files).
      cluster.setVaultSecret("functions_url", `http://127.0.0.1:${state.apiPort}/functions/v1`);
      cluster.setVaultSecret("service_role_key", state.serviceRoleKey);
      await this.startFunctions(state);
      await this.startGateway(state);
    } finally {
      // Also when a later process fails to start: `npm stop` then finds the pids of those that did.
      this.save();
    }
  }

  async reset(): Promise<void> {
    await this.start({ rebuild: true });
    step("database rebuilt");
  }

  stop(): void {
    if (!this.state) {
      step("nothing to stop");
      return;
    }
    for (const [name, key] of [["gateway", "gatewayPid"], ["functions", "functionsPid"], ["clamd", "clamdPid"]] as const) {
      const pid = this.state[key];
      if (pidAlive(pid)) {
        step(`stopping ${name} (pid ${pid})`);
        try {
          process.kill(-pid!, "SIGTERM");
        } catch {
          process.kill(pid!, "SIGTERM");
        }
      }
      this.state[key] = undefined;
    }
    if (this.cluster().running()) {
      step("stopping PostgreSQL");
      this.cluster().stop();
    }
    this.save();
  }

  private async startClamd(state: StackState): Promise<void> {
    if (pidAlive(state.clamdPid) && (await clamdCommand(state.clamdPort, "PING")) === "PONG") return;
    step(`starting clamd on 127.0.0.1:${state.clamdPort} with the test signature database`);
    const clamd = await startClamd({
      dir: path.join(this.dir, "clamav"),
      port: state.clamdPort,
      logFile: path.join(this.dir, "logs", "clamd.log"),
      avoid: [state.apiPort, state.dbPort, state.functionsPort, state.mailPort ?? 0, state.mailSmtpPort ?? 0],
    });
    state.clamdPid = clamd.pid;
    state.clamdPort = clamd.port;
  }

  private async startFunctions(state: StackState): Promise<void> {
    if (pidAlive(state.functionsPid) && (await functionHealthy(`http://127.0.0.1:${state.functionsPort}`, state.anonKey))) return;
    step(`starting edge functions on http://127.0.0.1:${state.functionsPort}/functions/v1 (behind the gateway)`);
    const child = await startFunctionsRuntime({
      port: state.functionsPort,
      apiUrl: `http://127.0.0.1:${state.apiPort}`,
      anonKey: state.anonKey,
      serviceRoleKey: state.serviceRoleKey,
      jwtSecret: state.jwtSecret,
      dbUrl: this.cluster().url(),
      clamdPort: state.clamdPort,
      logFile: path.join(this.dir, "logs", "functions.log"),
      detached: true,
      ...(state.vapidPublicKey && state.vapidPrivateKey
        ? { vapid: { publicKey: state.vapidPublicKey, privateKey: state.vapidPrivateKey } } : {}),
      smtpPort: state.mailSmtpPort ?? 54325,
    });
    state.functionsPid = child.pid;
  }

  gatewayEnv(state: StackState): Record<string, string> {
    return {
      PORT: String(state.apiPort),
      API_URL: `http://127.0.0.1:${state.apiPort}`,
      DB_HOST: "127.0.0.1",
      DB_PORT: String(state.dbPort),
      DB_NAME: "postgres",
      DB_PASSWORD: "postgres",
      JWT_SECRET: state.jwtSecret,
      PUBLISHABLE_KEY: state.publishableKey,
      SECRET_KEY: state.secretKey,
      FUNCTIONS_URL: `http://127.0.0.1:${state.functionsPort}`,
      STACK_DATA_DIR: this.dir,
      MAIL_PORT: String(state.mailPort ?? 54324),
      MAIL_SMTP_PORT: String(state.mailSmtpPort ?? 54325),
    };
  }

  /** The gateway and the Supabase services behind it (stack/server.ts), on API_URL. */
  private async startGateway(state: StackState): Promise<void> {
    const healthy = () => functionHealthy(`http://127.0.0.1:${state.apiPort}`, state.anonKey);
    if (pidAlive(state.gatewayPid) && (await healthy())) return;
    step(`starting the API gateway on http://127.0.0.1:${state.apiPort}`);
    const logFile = path.join(this.dir, "logs", "gateway.log");
    const log = openSync(logFile, "a");
    const child = spawn(`${BIN}/tsx`, ["stack/server.ts"], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...process.env, ...this.gatewayEnv(state) },
    });
    closeSync(log);
    child.unref();
    state.gatewayPid = child.pid;
    await waitFor(`the API gateway (log: ${logFile})`, async () => {
      if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode}; see ${logFile}`);
      return healthy();
    }, 60_000);
  }

  statusEnv(): string {
    const s = this.state;
    if (!s) return "";
    const apiUrl = `http://127.0.0.1:${s.apiPort}`;
    const vars: Record<string, string> = {
      API_URL: apiUrl,
      DB_URL: `postgresql://postgres:postgres@127.0.0.1:${s.dbPort}/postgres`,
      FUNCTIONS_URL: `${apiUrl}/functions/v1`,
      REST_URL: `${apiUrl}/rest/v1`,
      ANON_KEY: s.anonKey,
      SERVICE_ROLE_KEY: s.serviceRoleKey,
      PUBLISHABLE_KEY: s.publishableKey,
      SECRET_KEY: s.secretKey,
      JWT_SECRET: s.jwtSecret,
      CLAMD_URL: `tcp://127.0.0.1:${s.clamdPort}`,
      STORAGE_URL: `${apiUrl}/storage/v1`,
      STORAGE_FILES: path.join(this.dir, "storage"),
      // `supabase status -o env` prints both names for the mail catcher (INBUCKET_URL is the deprecated one).
      MAILPIT_URL: `http://127.0.0.1:${s.mailPort ?? 54324}`,
      INBUCKET_URL: `http://127.0.0.1:${s.mailPort ?? 54324}`,
      MAIL_SMTP_URL: `smtp://127.0.0.1:${s.mailSmtpPort ?? 54325}`,
      // The applicationServerKey web apps subscribe to push with (the notify function holds the private key).
      VAPID_PUBLIC_KEY: s.vapidPublicKey ?? "",
      // Where the cluster's files are: .local/dev/pg/data, or outside the checkout when `postgres` cannot reach it.
      DB_DATA_DIR: this.cluster().dataDir,
    };
    return Object.entries(vars).map(([k, v]) => `${k}="${v}"`).join("\n");
  }
}

/** The content hash of every migration file, by file name. */
function migrationHashes(): Record<string, string> {
  const dir = path.join(ROOT, "supabase", "migrations");
  const hashes: Record<string, string> = {};
  for (const file of readdirSync(dir).filter((f) => /^\d{14}_.*\.sql$/.test(f)).sort()) {
    hashes[file] = createHash("sha256").update(readFileSync(path.join(dir, file))).digest("hex");
  }
  return hashes;
}
