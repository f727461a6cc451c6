// Benchmark output: the records ({name, metric, value, unit, baseline, ratio}), a table for the terminal, and a
// self-contained SVG chart (no external libraries, opens in any browser).
import type { Measurement } from "./stats.ts";

export interface BenchRecord {
  name: string;
  metric: string;
  value: number;
  unit: string;
  /** The same metric of the reference: bare Postgres for the same work, or the comparison's other side. */
  baseline: number | null;
  /** value / baseline (for throughput: higher is better; for latency: lower is better). */
  ratio: number | null;
  /**
   * Send rows only: the same metric of a bare insert (bench_base.messages) in the same run, and value / bare. For those
   * rows `baseline` is the naive Supabase chat (bench/lib/naive.ts) and this is the second reference.
   */
  bare?: number | null;
  bare_ratio?: number | null;
}

export interface Target {
  label: string;
  name: string;
  metric: string;
  /** "ratio" compares the record's ratio, "value" its value. */
  on: "ratio" | "value";
  op: ">=" | "<=";
  goal: number;
}

const round = (n: number, digits = 3) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);

/**
 * Records of one benchmark against its baseline (bare Postgres for the same work; for sends the naive Supabase chat),
 * and for sends the bare insert as a second reference.
 */
export function benchRecords(name: string, m: Measurement, base: Measurement | null, bare?: Measurement): BenchRecord[] {
  const rec = (metric: string, value: number, unit: string, b: number | null, x: number | undefined): BenchRecord => ({
    name,
    metric,
    value: round(value),
    unit,
    baseline: b === null ? null : round(b),
    ratio: b === null || b === 0 ? null : round(value / b),
    ...(x === undefined ? {} : { bare: round(x), bare_ratio: x === 0 ? null : round(value / x) }),
  });
  return [
    rec("throughput", m.throughput, "ops/s", base ? base.throughput : null, bare?.throughput),
    rec("p50", m.p50, "ms", base ? base.p50 : null, bare?.p50),
    rec("p95", m.p95, "ms", base ? base.p95 : null, bare?.p95),
    rec("p99", m.p99, "ms", base ? base.p99 : null, bare?.p99),
  ];
}

/** A comparison of two sides of the same benchmark (fan-out, depth, RLS overhead). */
export function comparisonRecord(name: string, metric: string, value: number, baseline: number, unit = "ms"): BenchRecord {
  return { name, metric, value: round(value), unit, baseline: round(baseline), ratio: round(value / baseline) };
}

export function checkTarget(records: BenchRecord[], t: Target): { actual: number | null; met: boolean | null } {
  const r = records.find((x) => x.name === t.name && x.metric === t.metric);
  const actual = r ? (t.on === "ratio" ? r.ratio : r.value) : null;
  if (actual === null || actual === undefined) return { actual: null, met: null };
  return { actual, met: t.op === ">=" ? actual >= t.goal : actual <= t.goal };
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

const fmt = (n: number | null, digits = 2) => (n === null || !Number.isFinite(n) ? "-" : n.toFixed(digits));

/** The table printed on stdout: one line per benchmark with throughput, p50/p95/p99 and ratios to the baseline. */
export function table(records: BenchRecord[]): string {
  const names = [...new Set(records.map((r) => r.name))];
  const head = ["benchmark", "ops/s", "base ops/s", "x base", "x bare", "p50 ms", "p95 ms", "p99 ms", "base p95", "p95 x base"];
  const widths = [50, 9, 10, 7, 7, 8, 8, 8, 9, 10];
  const lines = [head.map((h, i) => pad(h, widths[i]!, i > 0)).join(" "), widths.map((w) => "-".repeat(w)).join(" ")];
  const comparisons: string[] = [];
  for (const name of names) {
    const get = (metric: string) => records.find((r) => r.name === name && r.metric === metric);
    const thr = get("throughput");
    if (!thr) {
      for (const r of records.filter((x) => x.name === name)) {
        comparisons.push(
          `${pad(`${r.name} (${r.metric})`, 48)} ${pad(fmt(r.value), 10, true)} ${r.unit} vs ${pad(fmt(r.baseline), 10, true)} ${r.unit}  ratio ${fmt(r.ratio)}`,
        );
      }
      continue;
    }
    const p50 = get("p50");
    const p95 = get("p95");
    const p99 = get("p99");
    lines.push(
      [
        pad(name, widths[0]!),
        pad(fmt(thr.value, 0), widths[1]!, true),
        pad(fmt(thr.baseline, 0), widths[2]!, true),
        pad(fmt(thr.ratio), widths[3]!, true),
        pad(fmt(thr.bare_ratio ?? null), widths[4]!, true),
        pad(fmt(p50?.value ?? null), widths[5]!, true),
        pad(fmt(p95?.value ?? null), widths[6]!, true),
        pad(fmt(p99?.value ?? null), widths[7]!, true),
        pad(fmt(p95?.baseline ?? null), widths[8]!, true),
        pad(fmt(p95?.ratio ?? null), widths[9]!, true),
      ].join(" "),
    );
  }
  return [...lines, "", "comparisons (value vs reference):", ...comparisons].join("\n");
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * A two-panel SVG: p95 latency of each benchmark next to its bare-Postgres baseline, and the ratios the targets are
 * stated in, each with its goal marked.
 */
export function chart(records: BenchRecord[], targets: Target[], title: string): string {
  const latencyRows = [...new Set(records.map((r) => r.name))]
    .map((name) => records.find((r) => r.name === name && r.metric === "p95" && r.baseline !== null))
    .filter((r): r is BenchRecord => !!r);
  const targetRows = targets
    .map((t) => ({ t, ...checkTarget(records, t) }))
    .filter((x) => x.actual !== null);
  const rowH = 26;
  const left = 290;
  const barW = 520;
  const h1 = 60 + latencyRows.length * rowH * 1.6;
  const h2 = 50 + targetRows.length * rowH;
  const height = Math.ceil(h1 + h2 + 40);
  const width = left + barW + 170;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="16" y="24" font-size="16" font-weight="600">${esc(title)}</text>`);
  out.push(`<text x="16" y="44" fill="#555">p95 latency (ms): through the API request context (blue) vs bare Postgres, or for compare.* rows their reference (grey)</text>`);
  const maxLat = Math.max(1, ...latencyRows.flatMap((r) => [r.value, r.baseline ?? 0]));
  latencyRows.forEach((r, i) => {
    const y = 60 + i * rowH * 1.6;
    const w1 = (r.value / maxLat) * barW;
    const w2 = ((r.baseline ?? 0) / maxLat) * barW;
    out.push(`<text x="${left - 8}" y="${y + 14}" text-anchor="end">${esc(r.name)}</text>`);
    out.push(`<rect x="${left}" y="${y}" width="${w1.toFixed(1)}" height="11" fill="#3b82f6"/>`);
    out.push(`<text x="${left + w1 + 4}" y="${y + 10}" fill="#1e3a8a">${r.value.toFixed(2)}</text>`);
    out.push(`<rect x="${left}" y="${y + 13}" width="${w2.toFixed(1)}" height="11" fill="#9ca3af"/>`);
    out.push(`<text x="${left + w2 + 4}" y="${y + 23}" fill="#374151">${(r.baseline ?? 0).toFixed(2)}</text>`);
  });
  const y0 = h1 + 20;
  out.push(`<text x="16" y="${y0}" fill="#555">Targets: measured value (green = met, red = missed); the black tick is the goal</text>`);
  const maxT = Math.max(1, ...targetRows.flatMap((x) => [x.actual ?? 0, x.t.goal])) * 1.1;
  targetRows.forEach((x, i) => {
    const y = y0 + 14 + i * rowH;
    const w = ((x.actual ?? 0) / maxT) * barW;
    const g = (x.t.goal / maxT) * barW;
    out.push(`<text x="${left - 8}" y="${y + 13}" text-anchor="end">${esc(x.t.label)}</text>`);
    out.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="16" fill="${x.met ? "#22c55e" : "#ef4444"}"/>`);
    out.push(`<line x1="${left + g}" x2="${left + g}" y1="${y - 3}" y2="${y + 19}" stroke="#000" stroke-width="2"/>`);
    out.push(`<text x="${left + Math.max(w, g) + 6}" y="${y + 13}">${esc(`${(x.actual ?? 0).toFixed(2)} (goal ${x.t.op} ${x.t.goal})`)}</text>`);
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
