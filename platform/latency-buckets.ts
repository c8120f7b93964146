/**
 * Log-scale latency buckets (≈ 5 % wide, 0.01 ms to ~2 min), counted cumulatively so that two
 * readings can be subtracted for the figures over a window: response times (api/http-stats.ts) and
 * event-loop lag (platform/loop-lag.ts).
 */
/** Bucket i holds times in (bound(i-1), bound(i)] ms; the last also holds everything above. */
const GROWTH = 1.05;
const FIRST_MS = 0.01;
export const BUCKETS = 340; // FIRST_MS × 1.05^339 ≈ 155 s
const LOG_GROWTH = Math.log(GROWTH);

export function bucketOf(ms: number): number {
  if (!(ms > FIRST_MS)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / FIRST_MS) / LOG_GROWTH - 1e-9));
}

/** Upper bound of bucket i, ms. */
export function bucketBoundMs(i: number): number {
  return FIRST_MS * GROWTH ** i;
}

/** The q-quantile (0–1) of bucketed times: the upper bound of the bucket that holds it, ms. */
export function quantileOf(buckets: Record<string, number>, q: number): number {
  const pairs = Object.entries(buckets)
    .map(([i, n]) => [Number(i), n] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = pairs.reduce((a, [, n]) => a + n, 0);
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [i, n] of pairs) {
    seen += n;
    if (seen >= rank) return Math.round(bucketBoundMs(i) * 100) / 100;
  }
  return Math.round(bucketBoundMs(pairs.at(-1)![0]) * 100) / 100;
}

/** b − a, bucket by bucket: the times counted between two readings. */
export function bucketsBetween(a: Record<string, number> | undefined, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [i, n] of Object.entries(b)) {
    const d = n - (a?.[i] ?? 0);
    if (d > 0) out[i] = d;
  }
  return out;
}


/** The non-empty buckets of a count array, by index. */
export function sparse(counts: Uint32Array): Record<string, number> {
  const out: Record<string, number> = {};
  counts.forEach((n, i) => {
    if (n > 0) out[i] = n;
  });
  return out;
}
