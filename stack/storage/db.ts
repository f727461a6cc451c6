// Storage's database access: one pool as supabase_storage_admin (the role storage-api connects as), every operation
// in a transaction that starts with the scope settings (statements.ts SCOPE_SQL) for either the caller or the
// "superuser" (storage-api's asSuperUser(): the same scope with the service-role key's claims).
// testPermission runs a statement as the caller and always rolls it back (src/storage/database/pg.ts:250-265).
import postgres from "postgres";
import { SCOPE_SQL, scopeValues, type Scope, type Statement } from "./statements.ts";

export type Row = Record<string, unknown>;

export interface Tx {
  run<T extends Row = Row>(statement: Statement): Promise<T[]>;
}

const ROLLBACK = Symbol("storage: roll back the permission test");

export class StorageDb {
  readonly sql: postgres.Sql;

  constructor(url: string) {
    this.sql = postgres(url, { max: 4, onnotice: () => {}, idle_timeout: 20, prepare: false, types: {} });
  }

  /** One transaction in `scope`; commits when `fn` resolves. */
  async transaction<T>(scope: Scope, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return (await this.sql.begin(async (sql) => {
      await sql.unsafe(SCOPE_SQL, scopeValues(scope));
      const tx: Tx = {
        run: async <R extends Row>(s: Statement) => (await sql.unsafe(s.text, s.values as postgres.ParameterOrJSON<never>[])) as unknown as R[],
      };
      return fn(tx);
    })) as T;
  }

  /** A single statement in its own scoped transaction. */
  async run<T extends Row = Row>(scope: Scope, statement: Statement): Promise<T[]> {
    return this.transaction(scope, (tx) => tx.run<T>(statement));
  }

  /** Runs `fn` in `scope` and rolls back whatever it did; its errors (RLS, triggers) propagate. */
  async testPermission(scope: Scope, fn: (tx: Tx) => Promise<unknown>): Promise<void> {
    try {
      await this.transaction(scope, async (tx) => {
        await fn(tx);
        throw ROLLBACK;
      });
    } catch (error) {
      if (error !== ROLLBACK) throw error;
    }
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}
