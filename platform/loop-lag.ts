/**
 * Event-loop lag of this process: how late a 20-ms interval timer fires, in cumulative log-scale
 * buckets (platform/latency-buckets.ts) so that two readings give the figures over a window. A
 * request that arrives while the loop is blocked waits before any of its code runs, so this is the
 * part of a response time that the API's own measure (api/http-stats.ts) cannot see. In /health's
 * counters as `eventLoop`.
 */
import { performance } from 'node:perf_hooks';
import { BUCKETS, bucketOf, quantileOf, sparse } from './latency-buckets.ts';

export interface LoopLag {
  samples: number;
  maxMs: number;
  p99Ms: number;
  buckets: Record<string, number>;
}

export function startLoopLag(everyMs = 20): { stats(): LoopLag; stop(): void } {
  const counts = new Uint32Array(BUCKETS);
  let samples = 0;
  let maxMs = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const lag = Math.max(0, now - last - everyMs);
    last = now;
    counts[bucketOf(lag)]!++;
    samples++;
    if (lag > maxMs) maxMs = lag;
  }, everyMs);
  timer.unref();
  return {
    stats() {
      const buckets = sparse(counts);
      return { samples, maxMs: Math.round(maxMs * 100) / 100, p99Ms: quantileOf(buckets, 0.99), buckets };
    },
    stop: () => clearInterval(timer),
  };
}
