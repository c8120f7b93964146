/** Event-loop lag (platform/loop-lag.ts): a blocked loop shows as lag, in the buckets and the maximum. */
import { describe, expect, it } from 'vitest';
import { bucketsBetween, quantileOf } from '../../platform/latency-buckets.ts';
import { startLoopLag } from '../../platform/loop-lag.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('loop lag', () => {
  it('records how long the loop was blocked, and a window from two readings', async () => {
    const lag = startLoopLag(10);
    try {
      await sleep(100);
      const before = lag.stats();
      expect(before.samples).toBeGreaterThan(3);
      const t = performance.now();
      while (performance.now() - t < 80) {
        /* block the loop */
      }
      await sleep(50);
      const after = lag.stats();
      expect(after.maxMs).toBeGreaterThanOrEqual(60);
      const window = bucketsBetween(before.buckets, after.buckets);
      expect(quantileOf(window, 1)).toBeGreaterThanOrEqual(60);
      expect(Object.values(window).reduce((a, n) => a + n, 0)).toBe(after.samples - before.samples);
    } finally {
      lag.stop();
    }
    const stopped = lag.stats().samples;
    await sleep(50);
    expect(lag.stats().samples).toBe(stopped);
  });
});
