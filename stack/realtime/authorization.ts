// Realtime Authorization for private channels: the statements the real server runs on its own database connection,
// and nothing else (supabase/realtime:lib/realtime/tenants/authorization.ex, checked at 833cf36).
//
// Read (at join, and again after every accepted access_token): in one transaction, still as the server's own role,
// insert one probe row per extension into realtime.messages (id, topic, extension, inserted_at, updated_at) with
// ids generated here; then the settings (role, realtime.topic, request.jwt.claims, request.jwt.claim.sub,
// request.jwt.claim.role, request.headers, all local); then `select id from realtime.messages where id = any(ids)`
// under the user's RLS; a returned id means read is allowed for that extension. ROLLBACK AND CHAIN.
// Write (lazily, on the first broadcast or presence track): the settings, then per extension an insert of
// (topic, extension, timestamps, id) in a savepoint: success = allowed, 42501 = denied, anything else aborts.
// ROLLBACK AND CHAIN. The probes never carry an event or a payload, so policies cannot see the event name.
import { randomUUID } from "node:crypto";
import type postgres from "postgres";

export type Extension = "broadcast" | "presence";

/** true / false once evaluated; null while not evaluated (the real server's nil). */
export interface ExtensionPolicies {
  read: boolean | null;
  write: boolean | null;
}

export interface Policies {
  broadcast: ExtensionPolicies;
  presence: ExtensionPolicies;
}

export function emptyPolicies(): Policies {
  return { broadcast: { read: null, write: null }, presence: { read: null, write: null } };
}

export interface AuthorizationContext {
  /** The channel's name without the `realtime:` prefix. */
  topic: string;
  claims: Record<string, unknown>;
  role: string;
  sub: string | null;
  /** The x-* headers of the websocket upgrade (or of the REST request). */
  headers: Record<string, string>;
}

/** What the channel turns into a join error or a shutdown. */
export class AuthorizationError extends Error {
  constructor(
    readonly kind: "missing_partition" | "rls_policy_error" | "database",
    message: string,
  ) {
    super(message);
  }
}

const UTC_NOW = () => new Date().toISOString().replace("Z", "");

async function setConnConfig(tx: postgres.TransactionSql, ctx: AuthorizationContext): Promise<void> {
  await tx.unsafe(
    `SELECT
        set_config('role', $1, true),
        set_config('realtime.topic', $2, true),
        set_config('request.jwt.claims', $3, true),
        set_config('request.jwt.claim.sub', $4, true),
        set_config('request.jwt.claim.role', $5, true),
        set_config('request.headers', $6, true)`,
    [ctx.role, ctx.topic, JSON.stringify(ctx.claims), ctx.sub, ctx.role, JSON.stringify(ctx.headers)],
  );
}

function classify(error: unknown): AuthorizationError {
  const e = error as { code?: string; message?: string };
  // "no partition of relation "messages" found for row" (check_violation on a partitioned insert)
  if (e.code === "23514" && /partition/i.test(e.message ?? "")) {
    return new AuthorizationError("missing_partition", "Realtime was unable to find the expected messages partition");
  }
  return new AuthorizationError("database", e.message ?? String(error));
}

export function extensionsToCheck(presenceEnabled: boolean): Extension[] {
  return presenceEnabled ? ["broadcast", "presence"] : ["broadcast"];
}

export class Authorization {
  constructor(private readonly sql: postgres.Sql) {}

  /** Evaluates read for `extensions`; the others keep their current value. */
  async readPolicies(policies: Policies, ctx: AuthorizationContext, extensions: Extension[]): Promise<Policies> {
    const ids = new Map(extensions.map((ext) => [ext, randomUUID()] as const));
    let returned: Set<string>;
    try {
      returned = await this.sql.begin(async (tx) => {
        const now = UTC_NOW();
        const values: unknown[] = [];
        const rows = [...ids].map(([ext, id], i) => {
          values.push(id, ctx.topic, ext, now, now);
          const b = i * 5;
          return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5})`;
        });
        await tx.unsafe(
          `INSERT INTO "realtime"."messages" ("id","topic","extension","inserted_at","updated_at") VALUES ${rows.join(",")}`,
          values as postgres.ParameterOrJSON<never>[],
        );
        await setConnConfig(tx, ctx);
        let found: { id: string }[];
        try {
          found = await tx.unsafe<{ id: string }[]>(
            `SELECT m0."id" FROM "realtime"."messages" AS m0 WHERE (m0."id" = ANY($1))`,
            [[...ids.values()]] as never,
          );
        } catch (error) {
          throw new AuthorizationError("rls_policy_error", (error as Error).message);
        }
        await tx.unsafe("ROLLBACK AND CHAIN");
        return new Set(found.map((r) => r.id));
      });
    } catch (error) {
      if (error instanceof AuthorizationError) throw error;
      throw classify(error);
    }
    const next: Policies = structuredClone(policies);
    for (const [ext, id] of ids) next[ext].read = returned.has(id);
    return next;
  }

  /** Evaluates write for `extensions`; extensions not checked are set to false, as the real server does. */
  async writePolicies(policies: Policies, ctx: AuthorizationContext, extensions: Extension[]): Promise<Policies> {
    const next: Policies = structuredClone(policies);
    try {
      await this.sql.begin(async (tx) => {
        await setConnConfig(tx, ctx);
        for (const ext of ["broadcast", "presence"] as const) {
          if (!extensions.includes(ext)) {
            next[ext].write = false;
            continue;
          }
          const now = UTC_NOW();
          try {
            await tx.savepoint((sp) =>
              sp.unsafe(
                `INSERT INTO "realtime"."messages" ("extension","topic","inserted_at","updated_at","id") VALUES ($1,$2,$3,$4,$5)`,
                [ext, ctx.topic, now, now, randomUUID()],
              ),
            );
            next[ext].write = true;
          } catch (error) {
            if ((error as { code?: string }).code === "42501") next[ext].write = false;
            else throw error;
          }
        }
        await tx.unsafe("ROLLBACK AND CHAIN");
      });
    } catch (error) {
      if (error instanceof AuthorizationError) throw error;
      throw classify(error);
    }
    return next;
  }
}
