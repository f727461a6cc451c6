// Shared pieces of the reliability suites: connections (one per simulated client), users, the consistency check
// and a fingerprint of everything stored. Sizes come from RELIABILITY_SCALE: "test" (small, part of `npm test`) or
// "soak" (`npm run soak`).
import postgres from "postgres";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { userClaims, type Claims } from "../../stack/shared/request-context.ts";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
export const SOAK = process.env.RELIABILITY_SCALE === "soak";

export function dbUrl(): string {
  const url = process.env.DB_URL ?? process.env.SUPABASE_DB_URL;
  if (!url) throw new Error("DB_URL is not set: run the reliability suite through `npm test -- reliability` or `npm run soak`");
  return url;
}

/** A client's own connection (max 1), as PostgREST's pool hands one connection to each request. */
export function connect(url = dbUrl(), user?: string): postgres.Sql {
  const u = new URL(url);
  if (user) u.username = user;
  return postgres(u.toString(), { max: 1, onnotice: () => {}, idle_timeout: 5, connect_timeout: 10 });
}

export interface User {
  id: string;
  email: string;
  claims: Claims;
}

/** Creates confirmed auth users (their profiles come from the sign-up trigger). */
export async function createUsers(sql: postgres.Sql, prefix: string, n: number): Promise<User[]> {
  const users = Array.from({ length: n }, (_, i) => {
    const id = randomUUID();
    const email = `${prefix}${i}.${id.slice(0, 8)}@example.test`;
    return { id, email, claims: userClaims(id, email) };
  });
  for (const u of users) {
    await sql`
      insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                              raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
      values ('00000000-0000-0000-0000-000000000000', ${u.id}, 'authenticated', 'authenticated', ${u.email}, '', now(),
              ${sql.json({ provider: "email", providers: ["email"] })}, '{}'::jsonb, now(), now())`;
  }
  return users;
}

/** Installs bench.check_consistency() (sql/bench/02_check.sql) as the given superuser connection. */
export async function installConsistencyCheck(admin: postgres.Sql): Promise<void> {
  await admin.unsafe(readFileSync(path.join(ROOT, "sql", "bench", "02_check.sql"), "utf8"));
}

export async function inconsistencies(admin: postgres.Sql): Promise<Array<{ check_name: string; violations: number }>> {
  const rows = await admin<{ check_name: string; violations: string }[]>`select * from bench.check_consistency()`;
  return rows.filter((r) => Number(r.violations) !== 0).map((r) => ({ check_name: r.check_name, violations: Number(r.violations) }));
}

/**
 * A fingerprint of every row in the schemas clients can change through the API (public, private, auth, storage,
 * realtime): per table its row count and an md5 over its rows. Two equal fingerprints mean nothing was written.
 */
export async function fingerprint(admin: postgres.Sql): Promise<Record<string, string>> {
  const tables = await admin<{ name: string }[]>`
    select format('%I.%I', n.nspname, c.relname) as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and n.nspname in ('public', 'private', 'auth', 'storage', 'realtime', 'bench')
     order by 1`;
  if (tables.length === 0) return {};
  // The search-index job (pg_cron, every minute) moves messages from private.search_pending into
  // private.message_search and adds their words to private.search_words at any moment: those tables are fingerprinted
  // as the one set the job keeps constant, the keys of every searchable message (queued or indexed).
  const moving = new Set(["private.search_pending", "private.message_search", "private.search_words"]);
  const searchable =
    tables.some((t) => t.name === "private.message_search")
      ? [`select 'search: queued or indexed' as name, count(*) || ':' || coalesce(md5(string_agg(k, '|' order by k)), '') as fp
            from (select chat_id::text || '/' || seq as k from private.search_pending
                  union all select chat_id::text || '/' || seq from private.message_search) x`]
      : [];
  const rows = await admin.unsafe<{ name: string; fp: string }[]>(
    tables
      .filter((t) => !moving.has(t.name))
      .map((t) => `select '${t.name}' as name, count(*) || ':' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '') as fp from ${t.name} x`)
      .concat(searchable)
      .join(" union all "),
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.fp]));
}

export function diffFingerprints(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]);
}

/** The SQLSTATEs a client may meet (docs/errors.md "Codes and HTTP status"), minus those that mean a fault. */
export function documentedCodes(): Set<string> {
  const doc = readFileSync(path.join(ROOT, "docs", "errors.md"), "utf8");
  const section = doc.split("## Codes and HTTP status")[1]?.split("\n## ")[0] ?? "";
  const codes = new Set([...section.matchAll(/^\| `([0-9A-Z]{5})` \|/gm)].map((m) => m[1]!));
  return codes;
}
