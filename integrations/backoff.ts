/**
 * Retry schedule of webhook deliveries (pure). After the n-th failed attempt the next one waits
 * base × 2^(n−1), capped at maxMs, minus up to `jitter` of it (random in [0, 1) is an input), so
 * many deliveries failing together do not retry in lockstep. After `maxAttempts` attempts the
 * delivery is failed (a person can re-queue it).
 */
export interface BackoffPolicy {
  /** Wait after the first failure. */
  baseMs: number;
  /** Longest wait between two attempts. */
  maxMs: number;
  /** Attempts in all (the first one included) before the delivery is failed. */
  maxAttempts: number;
  /** Share of the wait taken off at random, 0 (none) … 1 (full jitter). */
  jitter: number;
}

export const DEFAULT_JITTER = 0.5;

/** The un-jittered wait after `attempts` failed attempts (attempts ≥ 1). */
export function backoffCeiling(attempts: number, p: BackoffPolicy): number {
  const n = Math.max(1, Math.floor(attempts));
  // 2^(n-1) overflows to Infinity for huge n: the cap applies first
  const exp = n - 1 >= 52 ? Number.POSITIVE_INFINITY : p.baseMs * 2 ** (n - 1);
  return Math.min(p.maxMs, exp);
}

/** [min, max] of the wait after `attempts` failed attempts. */
export function backoffBounds(attempts: number, p: BackoffPolicy): { min: number; max: number } {
  const max = backoffCeiling(attempts, p);
  return { min: Math.floor(max * (1 - clamp01(p.jitter))), max };
}

/** The wait after `attempts` failed attempts; `random` in [0, 1). */
export function backoffDelay(attempts: number, p: BackoffPolicy, random: number): number {
  const max = backoffCeiling(attempts, p);
  return Math.floor(max * (1 - clamp01(p.jitter) * clamp01(random)));
}

export type AfterFailure = { status: 'pending'; nextAttemptAt: Date; delayMs: number } | { status: 'failed' };

/** What happens after the `attempts`-th attempt failed at `now`. */
export function afterFailure(attempts: number, p: BackoffPolicy, now: Date, random: number): AfterFailure {
  if (attempts >= p.maxAttempts) return { status: 'failed' };
  const delayMs = backoffDelay(attempts, p, random);
  return { status: 'pending', nextAttemptAt: new Date(now.getTime() + delayMs), delayMs };
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
