// pg_net's background worker, for the platform stand-in's `net` schema (sql/platform/05_net_vault.sql).
//
// On Supabase, `net.http_post()` only queues a row in net.http_request_queue; the pg_net worker inside Postgres
// takes queued rows in batches, sends them, deletes them from the queue and records each answer in
// net._http_response under the request's id (supabase/pg_net src/worker.c; its table layout is in
// sql/platform/05_net_vault.sql). The local stack has no such worker in Postgres, so this one does the same from
// outside: a request is sent once, after the transaction that queued it committed (a rolled-back http_post sends
// nothing, as with pg_net), and its answer or its error is recorded. Differences: docs/local-stack/net.md.
import postgres from "postgres";

export interface NetWorkerOptions {
  /** A connection URL for a role that may read and write the net tables (the platform's superuser). */
  url: string;
  /** How often the queue is polled when it was empty (pg_net waits on a latch with a similar period). */
  pollMs?: number;
  /** Requests taken per round (pg_net's `pg_net.batch_size`, default 200). */
  batchSize?: number;
}

export interface NetWorker {
  /** Resolves once every request queued before the call has been sent and answered (for tests). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer | null;
  timeout_milliseconds: number;
}

export function startNetWorker(opts: NetWorkerOptions): NetWorker {
  const sql = postgres(opts.url, { max: 2, onnotice: () => {}, idle_timeout: 30 });
  const pollMs = opts.pollMs ?? 100;
  const batchSize = opts.batchSize ?? 200;
  let stopped = false;
  let waiters: Array<() => void> = [];
  let timer: NodeJS.Timeout | undefined;

  async function send(request: QueuedRequest): Promise<void> {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), request.timeout_milliseconds);
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.method === "GET" || request.body === null ? undefined : new Uint8Array(request.body),
        signal: controller.signal,
      });
      const content = await response.text();
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => (headers[name] = value));
      await sql`
        insert into net._http_response (id, status_code, content_type, headers, content, timed_out, error_msg)
        values (${request.id}, ${response.status}, ${response.headers.get("content-type")},
                ${sql.json(headers)}, ${content}, false, null)`;
    } catch (error) {
      const timedOut = controller.signal.aborted;
      const message = timedOut ? `Timeout of ${request.timeout_milliseconds} ms reached` : String((error as Error).message ?? error);
      await sql`
        insert into net._http_response (id, status_code, content_type, headers, content, timed_out, error_msg)
        values (${request.id}, null, null, null, null, ${timedOut}, ${message})`;
    } finally {
      clearTimeout(timeout);
    }
  }

  /** One round: take a batch off the queue (committed requests only, oldest first) and send it concurrently. */
  async function round(): Promise<number> {
    const batch = await sql<QueuedRequest[]>`
      delete from net.http_request_queue q
       where q.id in (select id from net.http_request_queue order by id limit ${batchSize} for update skip locked)
      returning q.id::text, q.method, q.url, q.headers, q.body, q.timeout_milliseconds`;
    await Promise.all(batch.map(send));
    return batch.length;
  }

  async function loop(): Promise<void> {
    if (stopped) return;
    // Only callers that were waiting before this round began can be answered by its finding the queue empty.
    const waiting = waiters;
    waiters = [];
    let sent = -1;
    try {
      sent = await round();
    } catch (error) {
      if (!stopped) console.error("net worker:", (error as Error).message);
    }
    if (sent === 0) for (const resolve of waiting) resolve();
    else waiters = waiting.concat(waiters);
    if (!stopped) timer = setTimeout(() => void loop(), sent > 0 ? 0 : pollMs);
  }

  timer = setTimeout(() => void loop(), 0);
  return {
    drain: () => new Promise<void>((resolve) => waiters.push(resolve)),
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const resolve of waiters) resolve();
      await sql.end({ timeout: 5 });
    },
  };
}
