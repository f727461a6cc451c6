// Broadcast from the database: committed inserts into realtime.messages, streamed by logical replication and handed
// to the fan-out, as supabase/realtime:lib/realtime/tenants/replication_connection.ex does (checked at 833cf36):
// - publication `supabase_realtime_messages_publication FOR TABLE realtime.messages`, created when missing;
// - a TEMPORARY LOGICAL pgoutput slot created at start, then START_REPLICATION: every insert committed after that is
//   delivered once, in commit order (rolled-back inserts such as the authorization probes never appear);
// - relations of realtime.messages and its partitions only; an insert needs inserted_at, event, id, topic, private
//   and a payload, otherwise it is skipped (the real server logs UnableToBroadcastChanges); the extension column is
//   not looked at;
// - it goes to the topic `topic` (public or private per `private`) as a user broadcast with meta {id}.
// The replication protocol itself (slot, START_REPLICATION, pgoutput decoding, standby status) is postgres.js's
// `subscribe`; its slot is named postgresjs_<random> instead of supabase_realtime_messages_replication_slot_<suffix>.
import postgres from "postgres";
import { jsonUserBroadcast } from "./codec.ts";
import { tenantTopic, type Hub } from "./hub.ts";

export const PUBLICATION = "supabase_realtime_messages_publication";

export interface BroadcastStream {
  close(): Promise<void>;
}

interface MessageRow {
  id?: string | null;
  topic?: string | null;
  event?: string | null;
  payload?: unknown;
  private?: boolean | null;
  inserted_at?: unknown;
}

export async function startBroadcastStream(url: string, sql: postgres.Sql, hub: Hub, maxPayloadBytes: number): Promise<BroadcastStream> {
  const [existing] = await sql<{ tables: string[] }[]>`
    select coalesce(array_agg(schemaname || '.' || tablename), '{}') as tables
      from pg_publication_tables where pubname = ${PUBLICATION}`;
  const pub = await sql`select 1 from pg_publication where pubname = ${PUBLICATION}`;
  if (pub.length === 0) {
    await sql.unsafe(`CREATE PUBLICATION ${PUBLICATION} FOR TABLE realtime.messages`);
  } else {
    // A publication holding anything else is recreated, as the real server does.
    const tables = existing?.tables ?? [];
    const unexpected = tables.some((t) => t !== "realtime.messages" && !t.startsWith("realtime.messages_"));
    if (unexpected || tables.length === 0) {
      await sql.unsafe(`DROP PUBLICATION IF EXISTS ${PUBLICATION}; CREATE PUBLICATION ${PUBLICATION} FOR TABLE realtime.messages`);
    }
  }

  const replication = postgres(url, { publications: PUBLICATION, onnotice: () => {} } as postgres.Options<{}>);
  const { unsubscribe } = await replication.subscribe("insert", (row: MessageRow | null, info) => {
    if (!row || info.relation.schema !== "realtime" || !info.relation.table.startsWith("messages")) return;
    const { id, topic, event, payload } = row;
    const isPrivate = row.private;
    if (id == null || topic == null || event == null || isPrivate == null || row.inserted_at == null || payload == null) return;
    const json = JSON.stringify(payload);
    if (Buffer.byteLength(json) > maxPayloadBytes) return;
    hub.publish(tenantTopic(topic, isPrivate), {
      kind: "broadcast",
      body: jsonUserBroadcast(event, json, { id }),
      messageId: id,
    });
  });
  return {
    async close() {
      unsubscribe();
      await replication.end({ timeout: 1 });
    },
  };
}
