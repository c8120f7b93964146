/** Change versions for the read cache, fed with the triggers' notification payloads. */
import { describe, expect, it } from 'vitest';
import { createVersions } from '../../platform/db/change-feed.ts';

describe('createVersions', () => {
  it('moves a row version only for its own key, a table version for any row, and everything on a bulk change', () => {
    const v = createVersions();
    const row = (k: string) => v.rowVersion(['work_orders'], k);
    const [a0, b0, t0] = [row('a'), row('b'), v.version(['work_orders'])];
    v.apply('work_orders|a');
    expect(row('a')).toBeGreaterThan(a0);
    expect(row('b')).toBe(b0);
    expect(v.version(['work_orders'])).toBeGreaterThan(t0);
    expect(v.version(['assets'])).toBe(0);
    const [a1, b1] = [row('a'), row('b')];
    v.apply('work_orders'); // too many rows to list, or TRUNCATE
    expect(row('a')).toBeGreaterThan(a1);
    expect(row('b')).toBeGreaterThan(b1);
    const t1 = v.version(['work_orders']);
    v.apply('work_orders|'); // rows changed whose key is null (e.g. alarms without an order): lists only
    expect(v.version(['work_orders'])).toBeGreaterThan(t1);
    const [a2, x2] = [row('a'), v.version(['sites'])];
    v.apply('not_tracked|a');
    expect([row('a'), v.version(['sites'])]).toEqual([a2, x2]);
    v.bumpAll();
    expect(v.version(['sites'])).toBeGreaterThan(x2);
    expect(row('a')).toBeGreaterThan(a2);
    expect(v.received()).toEqual({ work_orders: 3 });
  });
});
