import { describe, expect, it } from 'vitest';
import { afterFailure, backoffBounds, backoffCeiling, backoffDelay, type BackoffPolicy } from '../../integrations/backoff.ts';

const policy: BackoffPolicy = { baseMs: 1000, maxMs: 60_000, maxAttempts: 5, jitter: 0.5 };

describe('backoffCeiling', () => {
  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [6, 32_000],
    [7, 60_000], // 64 s capped at 60 s
    [50, 60_000],
    [10_000, 60_000], // 2^9999 would be Infinity: still the cap
  ])('after %i failed attempts waits at most %i ms', (attempts, ms) => {
    expect(backoffCeiling(attempts, policy)).toBe(ms);
  });

  it('treats 0 or fractional attempts as the first', () => {
    expect(backoffCeiling(0, policy)).toBe(1000);
    expect(backoffCeiling(1.9, policy)).toBe(1000);
  });
});

describe('backoffDelay with jitter', () => {
  it.each([
    // attempts, jitter, random, expected
    [1, 0.5, 0, 1000],
    [1, 0.5, 0.999999, 500],
    [3, 0.5, 0.5, 3000],
    [3, 0, 0.9, 4000], // no jitter: always the ceiling
    [3, 1, 0.25, 3000], // full jitter
    [3, 1.7, 0.5, 2000], // jitter clamped to 1
    [3, 0.5, Number.NaN, 4000], // a broken random source does not break the schedule
  ])('attempt %i, jitter %d, random %d → %i ms', (attempts, jitter, random, ms) => {
    expect(backoffDelay(attempts, { ...policy, jitter }, random)).toBe(ms);
  });

  it('stays within its bounds for any random value', () => {
    for (let attempts = 1; attempts <= 10; attempts++) {
      const { min, max } = backoffBounds(attempts, policy);
      expect(min).toBe(Math.floor(max / 2));
      for (const r of [0, 0.1, 0.33, 0.5, 0.77, 0.999]) {
        const d = backoffDelay(attempts, policy, r);
        expect(d).toBeGreaterThanOrEqual(min);
        expect(d).toBeLessThanOrEqual(max);
      }
    }
  });
});

describe('afterFailure', () => {
  const now = new Date('2026-01-01T00:00:00Z');

  it('schedules the next attempt until the last one, then fails', () => {
    const expected = [1000, 2000, 4000, 8000];
    for (let attempts = 1; attempts < policy.maxAttempts; attempts++) {
      const r = afterFailure(attempts, { ...policy, jitter: 0 }, now, 0.5);
      expect(r).toEqual({ status: 'pending', delayMs: expected[attempts - 1], nextAttemptAt: new Date(now.getTime() + expected[attempts - 1]!) });
    }
    expect(afterFailure(5, policy, now, 0.5)).toEqual({ status: 'failed' });
    // a re-queued delivery past the limit gets one attempt and fails again on failure
    expect(afterFailure(6, policy, now, 0.5)).toEqual({ status: 'failed' });
  });

  it('maxAttempts 1 means no retry', () => {
    expect(afterFailure(1, { ...policy, maxAttempts: 1 }, now, 0)).toEqual({ status: 'failed' });
  });
});
