// A throwaway PostgreSQL 15 cluster under a git-ignored project directory (or, when the database's OS user cannot
// reach the checkout, under a per-checkout directory in /var/tmp: see service-dir.ts), built to look like a Supabase
// database: the platform stand-in (sql/platform/) first, then our migrations through the real Supabase CLI.
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, rmSync } from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { BIN, PG_BIN, ROOT, isRoot, pidAlive, run, step } from "./util.ts";
import { serviceDir, type ServiceDir } from "./service-dir.ts";

/** Unprivileged OS user that owns and runs the server when we are root (initdb refuses root). */
const SERVER_USER = process.env.SUPABASE_CHAT_PG_USER ?? "postgres";

/**
 * Where a cluster whose project directory is `localDir` (.local/dev/pg, .local/test/pg) keeps its data: there, or
 * outside the checkout when the server's OS user cannot reach it (a clone in root's 0700 home).
 */
export function clusterDir(localDir: string): ServiceDir {
  if (isRoot()) ensureServerUser();
  return serviceDir(localDir, SERVER_USER);
}
export const LOCAL_PASSWORD = "postgres";
export const DATABASE = "postgres";

export interface ClusterOptions {
  /** Directory holding data/, logs/ (created on demand). */
  dir: string;
  port: number;
  /** Test clusters trade durability for speed. */
  fast?: boolean;
}

export class Cluster {
  readonly opts: ClusterOptions;
  readonly dataDir: string;
  readonly logFile: string;

  /** `opts.dir` is the project directory; the cluster lives there or where clusterDir() puts it. */
  constructor(opts: ClusterOptions) {
    this.opts = { ...opts, dir: clusterDir(opts.dir).dir };
    this.dataDir = path.join(this.opts.dir, "data");
    this.logFile = path.join(this.opts.dir, "logs", "postgres.log");
  }

  get port(): number {
    return this.opts.port;
  }

  url(user = "postgres", db = DATABASE): string {
    return `postgresql://${user}:${LOCAL_PASSWORD}@127.0.0.1:${this.port}/${db}`;
  }

  /** URL for the Supabase CLI: sslmode=disable keeps a TLS warning out of its stdout. */
  cliUrl(): string {
    return `${this.url()}?sslmode=disable`;
  }

  private asServerUser(): string | undefined {
    return isRoot() ? ensureServerUser() : undefined;
  }

  initialized(): boolean {
    return existsSync(path.join(this.dataDir, "PG_VERSION"));
  }

  init(): void {
    if (this.initialized()) return;
    const shown = path.relative(ROOT, this.dataDir);
    step(`initializing PostgreSQL cluster in ${shown && !shown.startsWith("..") ? shown : this.dataDir}`);
    mkdirSync(path.join(this.opts.dir, "logs"), { recursive: true });
    const pwfile = path.join(this.opts.dir, ".pwfile");
    writeFileSync(pwfile, `${LOCAL_PASSWORD}\n`, { mode: 0o600 });
    const user = this.asServerUser();
    if (user) {
      const { uid, gid } = osIds(user);
      for (const p of [this.opts.dir, path.join(this.opts.dir, "logs"), pwfile]) chownSync(p, uid, gid);
      assertTraversable(this.opts.dir, user);
    }
    run(`${PG_BIN}/initdb`, [
      "-D", this.dataDir, "-U", "supabase_admin", `--pwfile=${pwfile}`,
      "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions",
    ], { user });
    rmSync(pwfile);
    const settings = [
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = ''`,
      `wal_level = logical`,
      `max_wal_senders = 10`,
      `max_replication_slots = 10`,
      `shared_preload_libraries = 'pg_stat_statements, pg_cron'`,
      `cron.database_name = '${DATABASE}'`,
      `password_encryption = 'scram-sha-256'`,
      `max_connections = 200`,
      `log_min_messages = warning`,
      `log_line_prefix = '%m [%p] %q%u@%d '`,
      ...(this.opts.fast ? [`fsync = off`, `synchronous_commit = off`, `full_page_writes = off`] : []),
    ];
    writeFileSync(path.join(this.dataDir, "postgresql.auto.conf"), settings.join("\n") + "\n");
    if (user) {
      const { uid, gid } = osIds(user);
      chownSync(path.join(this.dataDir, "postgresql.auto.conf"), uid, gid);
    }
  }

  /** The postmaster's pid from postmaster.pid, if that process is alive (pg_ctl refuses to run as root). */
  pid(): number | undefined {
    const file = path.join(this.dataDir, "postmaster.pid");
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
    return pidAlive(pid) ? pid : undefined;
  }

  running(): boolean {
    return this.pid() !== undefined;
  }

  start(): void {
    if (this.running()) return;
    step(`starting PostgreSQL on 127.0.0.1:${this.port}`);
    run(`${PG_BIN}/pg_ctl`, ["start", "-w", "-t", "60", "-D", this.dataDir, "-l", this.logFile, "-o", `-p ${this.port}`], {
      user: this.asServerUser(),
    });
  }

  stop(mode: "fast" | "immediate" = "fast"): void {
    if (!this.running()) return;
    run(`${PG_BIN}/pg_ctl`, ["stop", "-w", "-t", "60", "-m", mode, "-D", this.dataDir], { user: this.asServerUser() });
  }

  /** Runs SQL (a string or a file) with psql, stopping at the first error. */
  psql(args: { sql?: string; file?: string; user?: string; db?: string; quiet?: boolean }): string {
    const argv = ["-X", "-v", "ON_ERROR_STOP=1", "-q", "-t", "-A", "-d", this.url(args.user ?? "supabase_admin", args.db ?? DATABASE)];
    if (args.file) argv.push("-f", args.file);
    if (args.sql) argv.push("-c", args.sql);
    return run(`${PG_BIN}/psql`, argv, { env: { PGOPTIONS: "-c client_min_messages=warning" } }).stdout.trim();
  }

  /** Stores a Vault secret under `name`, replacing an earlier one (as an operator does with Studio's Vault page). */
  setVaultSecret(name: string, value: string): void {
    const literal = (v: string) => `$v$${v.replace(/\$v\$/g, "")}$v$`;
    this.psql({
      sql: `delete from vault.secrets where name = ${literal(name)}; select vault.create_secret(${literal(value)}, ${literal(name)});`,
    });
  }

  hasDatabase(): boolean {
    return this.psql({ db: "template1", sql: `select count(*) from pg_database where datname = '${DATABASE}'` }) === "1";
  }

  /** True once the platform stand-in has been applied to the database. */
  platformApplied(): boolean {
    return this.psql({ sql: "select to_regnamespace('realtime') is not null" }) === "t";
  }

  /** Drops and recreates the database, then applies the platform stand-in. */
  recreateDatabase(): void {
    step("creating an empty database");
    this.psql({ db: "template1", sql: `drop database if exists ${DATABASE} with (force)` });
    this.psql({ db: "template1", sql: `create database ${DATABASE}` });
    this.applyPlatform();
  }

  applyPlatform(): void {
    step("applying the platform stand-in (sql/platform)");
    const dir = path.join(ROOT, "sql", "platform");
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
      this.psql({ file: path.join(dir, file) });
    }
  }

  /** Applies pending migrations with the real Supabase CLI, as `postgres` (as on Supabase). */
  migrate(): void {
    step("applying migrations (supabase migration up)");
    run(path.join(BIN, "supabase"), ["migration", "up", `--remote=${this.cliUrl()}`, "--yes"], {
      env: { SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
    });
  }

  seed(): void {
    const seed = path.join(ROOT, "supabase", "seed.sql");
    if (!existsSync(seed)) return;
    step("loading supabase/seed.sql");
    this.psql({ file: seed, user: "postgres" });
  }

  /** Installs the pgTAP helpers (sql/test/) — test databases only. */
  installTestHelpers(): void {
    step("installing test helpers (sql/test)");
    const dir = path.join(ROOT, "sql", "test");
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
      this.psql({ file: path.join(dir, file) });
    }
  }
}

function osIds(user: string): { uid: number; gid: number } {
  const uid = Number(run("id", ["-u", user]).stdout.trim());
  const gid = Number(run("id", ["-g", user]).stdout.trim());
  return { uid, gid };
}

function ensureServerUser(): string {
  if (spawnSync("id", [SERVER_USER], { stdio: "ignore" }).status !== 0) {
    run("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER]);
  }
  return SERVER_USER;
}

function assertTraversable(dir: string, user: string): void {
  const r = spawnSync("runuser", ["-u", user, "--", "test", "-w", dir]);
  if (r.status !== 0) {
    throw new Error(
      `the OS user '${user}' cannot write ${dir}; every parent directory must be searchable by it ` +
        `(clusterDir() normally picks such a directory; set SUPABASE_CHAT_LOCAL_DIR to one it can reach)`,
    );
  }
}
