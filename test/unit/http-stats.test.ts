/**
 * Server-side response times (api/http-stats.ts) and their buckets (platform/latency-buckets.ts): bucket bounds, quantiles within the bucket width,
 * differences between two readings, and what is counted on a bare Fastify app.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { installHttpStats } from '../../api/http-stats.ts';
import { bucketBoundMs, bucketOf, bucketsBetween, quantileOf } from '../../platform/latency-buckets.ts';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('http stats', () => {
  it('puts a time in the bucket whose bounds hold it, 5 % wide', () => {
    for (const ms of [0.011, 0.3, 1, 7.77, 25, 999, 60_000]) {
      const i = bucketOf(ms);
      expect(bucketBoundMs(i)).toBeGreaterThanOrEqual(ms);
      expect(bucketBoundMs(i - 1)).toBeLessThan(ms);
      expect(bucketBoundMs(i) / ms).toBeLessThanOrEqual(1.05 + 1e-9);
    }
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(1e9)).toBe(bucketOf(2e9)); // everything above the last bound in the last bucket
  });

  it('reads quantiles within 5 % of the exact figure, and over a window from two readings', () => {
    const times = Array.from({ length: 10_000 }, (_, i) => 0.2 + (i % 1000) * 0.05); // 0.2 … 50.15 ms
    const buckets: Record<string, number> = {};
    for (const t of times) buckets[bucketOf(t)] = (buckets[bucketOf(t)] ?? 0) + 1;
    const sorted = [...times].sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.99]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1]!;
      const got = quantileOf(buckets, q);
      expect(got).toBeGreaterThanOrEqual(exact * 0.999);
      expect(got).toBeLessThanOrEqual(exact * 1.051);
    }
    const later = { ...buckets, [bucketOf(100)]: 50 };
    expect(bucketsBetween(buckets, later)).toEqual({ [bucketOf(100)]: 50 });
    expect(quantileOf(bucketsBetween(buckets, later), 0.99)).toBeCloseTo(bucketBoundMs(bucketOf(100)), 1);
    expect(quantileOf({}, 0.99)).toBe(0);
  });

  it('counts each route apart, failures too, and not the read cache’s own refreshes', async () => {
    app = Fastify();
    const http = installHttpStats(app);
    app.get('/things/:id', async () => ({ ok: true }));
    app.get('/slow', async () => {
      await new Promise((r) => setTimeout(r, 30));
      return { ok: true };
    });
    app.get('/boom', async () => {
      throw new Error('boom');
    });
    app.get('/refreshed', async (_req, reply) => reply.header('x-cache', 'refresh').send({ ok: true }));
    for (const id of ['a', 'b', 'c']) await app.inject({ method: 'GET', url: `/things/${id}` });
    await app.inject({ method: 'GET', url: '/slow' });
    await app.inject({ method: 'GET', url: '/boom' });
    await app.inject({ method: 'GET', url: '/refreshed' });
    await app.inject({ method: 'GET', url: '/nowhere' });
    const s = http.stats();
    expect(s.requests).toBe(6);
    expect(s.routes['GET /things/:id']).toMatchObject({ count: 3, failed: 0 });
    expect(s.routes['GET /boom']).toMatchObject({ count: 1, failed: 1 });
    expect(s.routes['GET /refreshed']).toBeUndefined();
    expect(Object.keys(s.routes)).toContain('GET (no route)');
    const slow = s.routes['GET /slow']!;
    expect(slow.maxMs).toBeGreaterThanOrEqual(29);
    expect(slow.p99Ms).toBeGreaterThanOrEqual(29);
    expect(s.routes['GET /things/:id']!.p99Ms).toBeLessThan(slow.p99Ms);
  });
});
