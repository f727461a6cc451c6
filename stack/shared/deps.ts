// What every service factory receives: configuration, keys, how to reach the database and where to keep files.
import type { ProjectConfig } from "./config.ts";
import type { ProjectKeys } from "./keys.ts";

export interface DatabaseAccess {
  host: string;
  port: number;
  database: string;
  /** Local-only password of the platform's login roles (sql/platform/00_roles.sql). */
  password: string;
  /** A connection URL for one of the platform's login roles: the service connects as the role the real one uses
   * (PostgREST `authenticator`, GoTrue `supabase_auth_admin`, Storage `supabase_storage_admin`). */
  url(role: string): string;
}

export interface StackDeps {
  config: ProjectConfig;
  keys: ProjectKeys;
  db: DatabaseAccess;
  /** The public base URL clients use (API_URL), e.g. for links in emails and signed URLs. */
  apiUrl: string;
  /** The stack's state directory (.local/<name>): services keep their files below it (storage/, mail/). */
  dataDir: string;
}

export function databaseAccess(opts: { host: string; port: number; database: string; password: string }): DatabaseAccess {
  return {
    ...opts,
    url: (role) =>
      `postgresql://${encodeURIComponent(role)}:${encodeURIComponent(opts.password)}@${opts.host}:${opts.port}/${opts.database}`,
  };
}
