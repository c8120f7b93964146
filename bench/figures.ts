/** Small number helpers shared by the benchmark reports (bench/ingest.ts, bench/peer.ts). */

export const round = (v: number, digits = 0): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** A figure for a human-readable report; "n/a" when missing or not finite. */
export const fmt = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Nearest-rank quantile of ascending values (null when empty). */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export interface LatencySummary {
  n: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  meanMs: number | null;
}

/** p50 / p99 / max / mean of latency samples in ms, to 0.1 ms. */
export function summarize(values: readonly number[]): LatencySummary {
  const s = [...values].sort((a, b) => a - b);
  const r1 = (v: number | null): number | null => (v === null ? null : round(v, 1));
  return {
    n: s.length,
    p50Ms: r1(quantile(s, 0.5)),
    p99Ms: r1(quantile(s, 0.99)),
    maxMs: r1(s.at(-1) ?? null),
    meanMs: r1(s.length ? s.reduce((a, b) => a + b, 0) / s.length : null),
  };
}

/** after − before per key of `after` (CPU seconds per process name), to 0.01. */
export function cpuDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, round((after[k] ?? 0) - (before[k] ?? 0), 2)]));
}
