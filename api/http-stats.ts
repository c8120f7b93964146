/**
 * Server-side response times per route — request received → response written (Fastify's
 * `elapsedTime`), which is what the service itself adds, without the client's or the network's share.
 * Counted since start in log-scale buckets (≈ 5 % wide, 0.01 ms to ~2 min), so percentiles are
 * within 5 % and any two readings can be subtracted for the figures over a window (the benchmarks
 * do). Shown in /health's counters as `http`. The read cache's own background refreshes are not
 * counted: nobody waits for them.
 */
import type { FastifyInstance } from 'fastify';
import { BUCKETS, bucketOf, quantileOf, sparse } from '../platform/latency-buckets.ts';

export interface RouteTimes {
  count: number;
  /** responses with status ≥ 500 */
  failed: number;
  maxMs: number;
  /** counts per bucket index (only non-empty buckets), cumulative since start */
  buckets: Record<string, number>;
}

export interface HttpStats {
  requests: number;
  /** "GET /assets/:id" → times */
  routes: Record<string, RouteTimes & { p50Ms: number; p99Ms: number }>;
}

export function installHttpStats(app: FastifyInstance): { stats(): HttpStats } {
  const routes = new Map<string, { count: number; failed: number; maxMs: number; counts: Uint32Array }>();
  let requests = 0;
  app.addHook('onResponse', (req, reply, done) => {
    if (reply.getHeader('x-cache') !== 'refresh') {
      const key = `${req.method} ${req.routeOptions.url ?? '(no route)'}`;
      let r = routes.get(key);
      if (!r) routes.set(key, (r = { count: 0, failed: 0, maxMs: 0, counts: new Uint32Array(BUCKETS) }));
      const ms = reply.elapsedTime;
      r.count++;
      if (reply.statusCode >= 500) r.failed++;
      if (ms > r.maxMs) r.maxMs = ms;
      r.counts[bucketOf(ms)]!++;
      requests++;
    }
    done();
  });
  return {
    stats(): HttpStats {
      const out: HttpStats['routes'] = {};
      for (const [key, r] of routes) {
        const buckets = sparse(r.counts);
        out[key] = { count: r.count, failed: r.failed, maxMs: Math.round(r.maxMs * 100) / 100, p50Ms: quantileOf(buckets, 0.5), p99Ms: quantileOf(buckets, 0.99), buckets };
      }
      return { requests, routes: out };
    },
  };
}
