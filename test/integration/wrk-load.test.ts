/**
 * bench/wrk-load.ts drives the real wrk binary: it sends the job's paths with its headers, paces each
 * endpoint near its rate, and reports what wrk measured (requests, non-2xx, latency). Against a small
 * HTTP server on 127.0.0.1 that counts what arrives and answers slowly on one path.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWrk, wrkMissing } from '../../bench/wrk-load.ts';

const missing = wrkMissing();
// CI (REQUIRE_SERVICES=1) installs wrk: there a missing one fails instead of skipping
const skip = missing !== null && process.env.REQUIRE_SERVICES !== '1';

describe.skipIf(skip)(`wrk load generator ${skip ? `(skipped: ${missing})` : ''}`, () => {
  let server: Server;
  let base = '';
  const hits = new Map<string, number>();
  const keys = new Set<string>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
      keys.add(String(req.headers['x-api-key']));
      if (req.url!.startsWith('/missing')) res.writeHead(404).end('{}');
      else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('{"slow":true}'), 40);
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('paces each endpoint near its rate over its paths, with the headers, and reports latency and non-2xx', async () => {
    let measuring = 0;
    const results = await runWrk(
      {
        baseUrl: base,
        headers: { 'x-api-key': 'om_test_key' },
        durationS: 3,
        warmupS: 1,
        endpoints: [
          { name: 'fast', paths: ['/a/1', '/a/2', '/a/3'], ratePerS: 200 },
          { name: 'slow', paths: ['/slow'], ratePerS: 40 },
          { name: 'missing', paths: ['/missing'], ratePerS: 20 },
        ],
      },
      { onMeasuring: () => measuring++ },
    );
    expect(measuring).toBe(1);
    expect(results.map((r) => r.name)).toEqual(['fast', 'slow', 'missing']);
    const [fast, slow, miss] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0]];
    // every path used, evenly (round robin), always with the key
    const a = ['/a/1', '/a/2', '/a/3'].map((p) => hits.get(p) ?? 0);
    expect(Math.min(...a)).toBeGreaterThan(0);
    expect(Math.max(...a) - Math.min(...a)).toBeLessThanOrEqual(2);
    expect([...keys]).toEqual(['om_test_key']);
    // paced, not flat out: well under what an unpaced client reaches against this server
    for (const [r, rate] of [
      [fast, 200],
      [slow, 40],
      [miss, 20],
    ] as const) {
      expect(r.ratePerS).toBeGreaterThan(rate * 0.5);
      expect(r.ratePerS).toBeLessThan(rate * 1.3);
    }
    expect(fast.non2xx).toBe(0);
    expect(miss.non2xx).toBe(miss.requests);
    expect(fast.errors + slow.errors + miss.errors).toBe(0);
    // the slow path's 40 ms shows in what wrk measured
    expect(slow.latencyMs.p50).toBeGreaterThanOrEqual(39);
    expect(fast.latencyMs.p50).toBeLessThan(slow.latencyMs.p50);
    expect(slow.latencyMs.p99).toBeLessThanOrEqual(slow.latencyMs.max);
  });

  it('refuses a job with writes (GET load only)', async () => {
    await expect(runWrk({ baseUrl: base, headers: {}, durationS: 1, warmupS: 1, endpoints: [{ name: 'w', paths: ['/a/1'], ratePerS: 1, method: 'PUT' }] })).rejects.toThrow(/GET endpoints only/);
  });
});
