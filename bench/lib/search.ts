// Search benchmarks (issue 17): search_messages latency for a user in 200 chats (a common word, a rare word, a phrase
// and a prefix, with 1 and 8 clients), people and chat suggestions, what search indexing adds to send_message and
// edit_message (the same calls with the search triggers off, in the same run), the indexer's rate and the index's
// size per message.
import { randomUUID } from "node:crypto";
import type postgres from "postgres";
import { inRequest, userClaims, type Claims } from "../../stack/shared/request-context.ts";
import { step } from "../../scripts/lib/util.ts";
import { benchRecords, comparisonRecord, type BenchRecord } from "./report.ts";
import { drive, type Measurement } from "./stats.ts";

/** How many chats the searching user is in. */
export const SEARCH_CHATS = 200;

/**
 * The queries, as a user types them. The generator's bodies are cuts of one Lorem ipsum paragraph: `dolor` is in most
 * messages, `pariatur` ends the paragraph and is in few (cuts rarely reach the end), and `conse` is the prefix of two
 * words while the user is still typing it (no space after it).
 */
export const SEARCH_QUERIES: Array<{ name: string; query: string }> = [
  { name: "common_word", query: "dolor " },
  { name: "rare_word", query: "pariatur " },
  { name: "phrase", query: '"dolore magna" ' },
  { name: "prefix", query: "conse" },
];

export interface SearchDeps {
  admin: postgres.Sql;
  clients: postgres.Sql[];
  reads: number;
  sends: number;
  line: (label: string, m: Measurement) => void;
  notes: string[];
  /** Only the indexing cost and the index size (bench/search.ts --indexing-only). */
  indexingOnly?: boolean;
}

/**
 * The searching user: a bench user made for it (once per data set) and added to 200 of the hub's groups, the
 * busiest first, so the chats hold a realistic share of the data set's messages.
 */
async function searcher(admin: postgres.Sql): Promise<{ id: string; email: string }> {
  const email = "searcher@bench.test";
  const [existing] = await admin<{ id: string }[]>`select id::text from auth.users where email = ${email}`;
  if (existing) return { id: existing.id, email };
  const id = randomUUID();
  await admin`
    insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                            raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
    values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', 'authenticated', ${email}, '', now(),
            '{"provider": "email", "providers": ["email"]}', '{"username": "searcher"}', now(), now())`;
  await admin`
    insert into public.chat_members (chat_id, user_id, role, history_from_seq, last_read_seq)
    select c.id, ${id}::uuid, 'member', 0, c.last_message_seq
      from public.chat_members m join public.chats c on c.id = m.chat_id
     where m.user_id = (select u.id from bench.users u where u.ord = 1) and c.kind = 'group'
       and c.id not in (select chat_id from bench.chats) and c.member_count < 1000
     order by c.last_message_seq desc, c.id
     limit ${SEARCH_CHATS}`;
  return { id, email };
}

export async function measureSearch(deps: SearchDeps): Promise<BenchRecord[]> {
  const { admin, clients, line, notes } = deps;
  const records: BenchRecord[] = [];
  const who = await searcher(admin);
  // Messages queued by earlier sections (their sends) go into the index first, as the search-index job would do.
  await admin`select private.index_pending_messages(1000000)`;
  await admin`select gin_clean_pending_list('private.message_search_document_idx'::regclass)`;
  const claims: Claims = userClaims(who.id, who.email);
  const [scope] = await admin<{ chats: string; messages: string }[]>`
    select count(*)::text as chats, coalesce(sum(c.last_message_seq), 0)::text as messages
      from public.chat_members m join public.chats c on c.id = m.chat_id where m.user_id = ${who.id}::uuid`;
  step(`search as a user in ${scope?.chats} chats holding ${scope?.messages} messages`);
  for (const q of SEARCH_QUERIES) {
    const [n] = await admin<{ n: string }[]>`
      select count(*)::text as n from public.messages m join public.chat_members cm on cm.chat_id = m.chat_id and cm.user_id = ${who.id}::uuid
       where private.search_document(m.body) @@ private.search_query(${q.query})
         and m.deleted_at is null and m.body is not null and m.kind = any (private.searchable_kinds())
         and m.seq > cm.history_from_seq`;
    step(`  ${q.name} (${JSON.stringify(q.query)}): ${n?.n} matching messages in those chats`);
    notes.push(`search.${q.name}: ${JSON.stringify(q.query)} matches ${n?.n} of ${scope?.messages} messages in ${scope?.chats} chats`);
  }

  const items = Array.from({ length: deps.indexingOnly ? 0 : 200 }, (_, i) => i);
  const search = (query: string, sort: "relevance" | "newest") => (sql: postgres.Sql) =>
    inRequest(sql, claims, (tx) => tx`select * from public.search_messages(query => ${query}, sort => ${sort})`, { method: "GET" });
  for (const q of deps.indexingOnly ? [] : SEARCH_QUERIES) {
    for (const sort of ["relevance", "newest"] as const) {
      const name = `search.${q.name}${sort === "newest" ? ".newest" : ""}`;
      await drive(clients, items.slice(0, 20), search(q.query, sort));
      const many = await drive(clients, items, search(q.query, sort));
      line(`${name} (${clients.length} clients)`, many);
      records.push(...benchRecords(name, many, null));
      const one = await drive(clients.slice(0, 1), items.slice(0, 100), search(q.query, sort));
      line(`${name} (1 client)`, one);
      records.push(...benchRecords(`${name}.1_client`, one, null));
    }
  }
  const suggest = (sql: postgres.Sql, i: number) =>
    inRequest(sql, claims, (tx) => tx`select * from public.search_suggestions(query => ${"user" + (1 + (i % 9))})`, { method: "GET" });
  if (!deps.indexingOnly) {
    await drive(clients, items.slice(0, 20), suggest);
    const sug = await drive(clients, items, (sql, i) => suggest(sql, i));
    line(`search.suggestions (${clients.length} clients)`, sug);
    records.push(...benchRecords("search.suggestions", sug, null));
  }

  // Indexing cost: sends and edits by members of groups the searcher is not in (so the searcher's chats stay as the
  // generator made them for the next run), with search indexing and then without it.
  const members = await admin<{ chat_id: string; user_id: string; email: string }[]>`
    select distinct on (m.user_id) m.chat_id::text, m.user_id::text, u.email
      from public.chat_members m join auth.users u on u.id = m.user_id join public.chats c on c.id = m.chat_id
     where c.kind = 'group' and c.member_count between 5 and 300 and c.id not in (select chat_id from bench.chats)
       and m.chat_id not in (select chat_id from public.chat_members where user_id = ${who.id}::uuid)
     order by m.user_id, m.chat_id
     limit 400`;
  const n = Math.min(deps.sends, members.length * 20);
  const claimsOf = new Map(members.map((m) => [m.user_id, userClaims(m.user_id, m.email)]));
  const drain = async (label: string) => {
    const [queued] = await admin<{ n: string }[]>`select count(*)::text as n from private.search_pending`;
    if (Number(queued?.n ?? 0) === 0) return;
    const t0 = performance.now();
    let drained = 0;
    for (;;) {
      const [r] = await admin<{ n: number }[]>`select private.index_pending_messages(2000) as n`;
      if (!r || r.n === 0) break;
      drained += r.n;
    }
    const seconds = (performance.now() - t0) / 1000;
    step(`search indexer (${label}): ${drained} queued messages indexed in ${seconds.toFixed(2)} s = ${(drained / seconds).toFixed(0)} per second`);
    if (label === "with search indexing" && drained >= 1000) {
      records.push({ name: "search.indexer", metric: "messages_per_second", value: Math.round(drained / seconds), unit: "msg/s", baseline: null, ratio: null });
    }
  };
  const sendAndEdit = async (label: string, pool = clients, count = n) => {
    const sent: Array<{ id: string; user_id: string }> = [];
    const items = Array.from({ length: count }, (_, i) => members[i % members.length]!);
    const send = await drive(pool, items, async (sql, m, i) => {
      const [row] = await inRequest(sql, claimsOf.get(m.user_id)!, (tx) =>
        tx<{ id: string }[]>`select id::text from public.send_message(chat_id => ${m.chat_id}::uuid,
                               body => ${`lorem ipsum dolor sit amet ${label} ${i} consectetur adipiscing`}, client_id => ${randomUUID()}::uuid)`);
      if (row) sent.push({ id: row.id, user_id: m.user_id });
    });
    // The search-index job's work on what the sends queued (documents, GIN entries, words), so that the edits below
    // re-index indexed messages, as edits of all but the newest minute's messages do.
    await drain(label);
    const edit = await drive(pool, sent, (sql, s, i) =>
      inRequest(sql, claimsOf.get(s.user_id)!, (tx) => tx`select id from public.edit_message(${s.id}::uuid, ${`dolore magna aliqua ${label} ${i} edited`})`));
    line(`send_message ${label} (${pool.length} clients)`, send);
    line(`edit_message ${label} (${pool.length} clients)`, edit);
    return { send, edit };
  };
  // The send rate allows 30 sends per user per 10 s: members rotate, and the rounds wait out the window.
  const pause = () => new Promise((r) => setTimeout(r, 10_500));
  await sendAndEdit("warm-up");
  await pause();
  const withIndex = await sendAndEdit("with search indexing");
  await pause();
  const withIndex1 = await sendAndEdit("with search indexing", clients.slice(0, 1), Math.min(n, 400));
  // Without search indexing: neither the queue row of a send nor the re-index of an edit.
  await admin`alter table public.messages disable trigger messages_queue_search`;
  await admin`alter table public.messages disable trigger messages_update_search`;
  let without: { send: Measurement; edit: Measurement };
  let without1: { send: Measurement; edit: Measurement };
  try {
    await pause();
    without = await sendAndEdit("without search indexing");
    await pause();
    without1 = await sendAndEdit("without search indexing", clients.slice(0, 1), Math.min(n, 400));
  } finally {
    await admin`alter table public.messages enable trigger messages_queue_search`;
    await admin`alter table public.messages enable trigger messages_update_search`;
  }
  records.push(...benchRecords("search.indexing.send_message", withIndex.send, without.send));
  records.push(...benchRecords("search.indexing.edit_message", withIndex.edit, without.edit));
  records.push(...benchRecords("search.indexing.send_message.1_client", withIndex1.send, without1.send));
  records.push(...benchRecords("search.indexing.edit_message.1_client", withIndex1.edit, without1.edit));
  records.push(comparisonRecord("compare.search_indexing_send.1_client", "p50", withIndex1.send.p50, without1.send.p50));
  records.push(comparisonRecord("compare.search_indexing_edit.1_client", "p50", withIndex1.edit.p50, without1.edit.p50));
  records.push(comparisonRecord("compare.search_indexing_send", "p50", withIndex.send.p50, without.send.p50));
  records.push(comparisonRecord("compare.search_indexing_send", "p95", withIndex.send.p95, without.send.p95));
  records.push(comparisonRecord("compare.search_indexing_edit", "p50", withIndex.edit.p50, without.edit.p50));
  records.push(comparisonRecord("compare.search_indexing_edit", "p95", withIndex.edit.p95, without.edit.p95));

  const [size] = await admin<{ index: string; table: string; indexed: string }[]>`
    select pg_relation_size('private.message_search_document_idx')::text as index,
           pg_total_relation_size('private.message_search')::text as table,
           (select count(*) from private.message_search)::text as indexed`;
  const indexed = Math.max(1, Number(size!.indexed));
  const perMessage = Number(size!.index) / indexed;
  const tablePerMessage = Number(size!.table) / indexed;
  step(
    `search index: GIN ${(Number(size!.index) / 2 ** 20).toFixed(1)} MiB for ${size!.indexed} indexed messages = ${perMessage.toFixed(1)} bytes per message; ` +
      `with the stored documents and the key ${(Number(size!.table) / 2 ** 20).toFixed(1)} MiB = ${tablePerMessage.toFixed(1)} bytes per message`,
  );
  records.push({ name: "search.index_size", metric: "bytes_per_message", value: Number(perMessage.toFixed(1)), unit: "B", baseline: null, ratio: null });
  records.push({ name: "search.index_size", metric: "total", value: Number((Number(size!.index) / 2 ** 20).toFixed(1)), unit: "MiB", baseline: null, ratio: null });
  records.push({ name: "search.index_size", metric: "with_documents_bytes_per_message", value: Number(tablePerMessage.toFixed(1)), unit: "B", baseline: null, ratio: null });
  return records;
}
