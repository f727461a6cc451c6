// Latency percentiles and a concurrent driver: N clients (one connection each) pull work items from a shared queue.
import type postgres from "postgres";

export interface Measurement {
  ops: number;
  errors: number;
  errorCodes: Record<string, number>;
  seconds: number;
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  /** Every latency in ms (for derived statistics). */
  latencies: number[];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function summarize(latencies: number[], seconds: number, errors = 0, errorCodes: Record<string, number> = {}): Measurement {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    ops: latencies.length,
    errors,
    errorCodes,
    seconds,
    throughput: latencies.length / seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
    latencies: sorted,
  };
}

/**
 * Runs `items.length` operations over `clients` concurrently (each client one at a time, like an app with one
 * connection) and measures each operation's latency and the wall-clock throughput. Failed operations are counted by
 * SQLSTATE and left out of the latencies.
 */
export async function drive<I>(
  clients: postgres.Sql[],
  items: I[],
  op: (sql: postgres.Sql, item: I, index: number) => Promise<unknown>,
): Promise<Measurement> {
  let next = 0;
  const latencies: number[] = [];
  const errorCodes: Record<string, number> = {};
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    clients.map(async (sql) => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        const t = performance.now();
        try {
          await op(sql, items[i]!, i);
          latencies.push(performance.now() - t);
        } catch (err) {
          errors++;
          const code = (err as { code?: string }).code ?? (err instanceof Error ? err.message.slice(0, 60) : "error");
          errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        }
      }
    }),
  );
  return summarize(latencies, (performance.now() - started) / 1000, errors, errorCodes);
}

export interface Side<I> {
  clients: postgres.Sql[];
  items: I[];
  op: (sql: postgres.Sql, item: I, index: number) => Promise<unknown>;
}

/**
 * Several sides of one comparison measured in alternation: each side's items are cut into `rounds` slices and the
 * slices run side after side (a1 b1 c1 a2 b2 c2 ...), so a change of load on a shared machine reaches every side alike.
 * Each side's measurement joins its slices: every latency, and the throughput over the time its own slices took.
 */
export async function interleave<I>(sides: Side<I>[], rounds = 4): Promise<Measurement[]> {
  const parts: Measurement[][] = sides.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [k, side] of sides.entries()) {
      const size = Math.ceil(side.items.length / rounds);
      const slice = side.items.slice(r * size, (r + 1) * size);
      if (slice.length) parts[k]!.push(await drive(side.clients, slice, side.op));
    }
  }
  return parts.map((ms) => {
    const codes: Record<string, number> = {};
    for (const m of ms) for (const [c, n] of Object.entries(m.errorCodes)) codes[c] = (codes[c] ?? 0) + n;
    return summarize(
      ms.flatMap((m) => m.latencies),
      ms.reduce((a, m) => a + m.seconds, 0),
      ms.reduce((a, m) => a + m.errors, 0),
      codes,
    );
  });
}
