import { describe, expect, it } from 'vitest';
import { clippedMs, downtimeInWindow, msToHours, periodHours, type Period } from '../../maintenance/asset-downtime.ts';
import { alarmEntries, downtimeEntry, mergeTimeline, workOrderEntries } from '../../maintenance/asset-history.ts';

const t = (hh: number, mm = 0) => new Date(Date.UTC(2026, 0, 1, hh, mm));
const p = (from: number, to: number | null): Period => ({ startedAt: t(from), endedAt: to === null ? null : t(to) });

describe('downtimeInWindow', () => {
  const window = { from: t(0), to: t(10) };
  const now = t(12);
  it.each([
    ['no periods', [], 0, 100],
    ['one period inside', [p(2, 4)], 2, 80],
    ['clipped at the window start', [p(-3, 1)], 1, 90],
    ['clipped at the window end', [p(9, 11)], 1, 90],
    ['outside the window', [p(-5, -1), p(11, 12)], 0, 100],
    ['overlaps count once', [p(1, 5), p(3, 6)], 5, 50],
    ['touching periods', [p(1, 2), p(2, 3)], 2, 80],
    ['contained period', [p(1, 8), p(2, 3)], 7, 30],
    ['open period counts to the window end', [p(8, null)], 2, 80],
    ['down the whole window', [p(-1, null)], 10, 0],
  ])('%s', (_name, periods, hours, availability) => {
    const r = downtimeInWindow(periods, window, now);
    expect(r.downtimeHours).toBe(hours);
    expect(r.availabilityPct).toBe(availability);
  });

  it('the window ends at now: an open period counts up to now, the future is not counted', () => {
    const r = downtimeInWindow([p(4, null)], { from: t(0), to: t(20) }, t(6));
    expect(r.to).toEqual(t(6));
    expect(r.downtimeHours).toBe(2);
    expect(r.availabilityPct).toBe(66.67);
  });

  it('an empty window has no availability', () => {
    expect(downtimeInWindow([p(1, 2)], { from: t(5), to: t(5) }, now)).toMatchObject({ downtimeMs: 0, availabilityPct: null });
  });

  it('period helpers', () => {
    expect(clippedMs(p(1, 5), t(2), t(3), now)).toBe(3_600_000);
    expect(clippedMs(p(1, null), t(0), t(20), t(4))).toBe(3 * 3_600_000);
    expect(periodHours(p(1, null), t(2, 30))).toBe(1.5);
    expect(msToHours(3600)).toBe(0.001);
    expect(msToHours(1799)).toBe(0);
  });
});

describe('history timeline', () => {
  const wo = {
    id: 'w1',
    number: 7,
    title: 'Compressor noise',
    source: 'customer',
    status: 'closed',
    priority: 'high',
    faultCode: 'BRG',
    rootCause: 'worn bearing',
    resolution: 'bearing replaced',
    requestedAt: t(1),
    completedAt: t(5),
    closedAt: t(6),
    cancelledAt: null,
  };

  it('a work order gives one entry per milestone it reached', () => {
    expect(workOrderEntries(wo).map((e) => [e.type, e.at])).toEqual([
      ['requested', t(1)],
      ['completed', t(5)],
      ['closed', t(6)],
    ]);
    expect(workOrderEntries({ ...wo, completedAt: null, closedAt: null }).map((e) => e.type)).toEqual(['requested']);
    expect(workOrderEntries(wo)[1]).toMatchObject({ summary: 'work order #7 completed [BRG]: Compressor noise', details: { resolution: 'bearing replaced', faultCode: 'BRG' } });
  });

  it('alarms give raised and cleared; downtime one entry with its hours', () => {
    expect(alarmEntries({ id: 'a1', code: 'HIGH_TEMP', severity: 'major', message: null, raisedAt: t(2), clearedAt: t(3) }).map((e) => e.type)).toEqual(['raised', 'cleared']);
    expect(downtimeEntry({ id: 'd1', reason: 'repair', startedAt: t(2), endedAt: null, workOrderId: null }, t(5))).toMatchObject({
      at: t(2),
      details: { hours: 3, open: true },
    });
  });

  it('merges newest first, asset events before other sources at the same instant, and pages', () => {
    const entries = [
      ...workOrderEntries(wo),
      { at: t(5), source: 'asset' as const, type: 'status_changed', summary: '', refId: 'e2', details: {} },
      { at: t(0), source: 'asset' as const, type: 'created', summary: '', refId: 'e1', details: {} },
      downtimeEntry({ id: 'd1', reason: 'repair', startedAt: t(2), endedAt: t(5), workOrderId: 'w1' }, t(9)),
    ];
    const all = mergeTimeline(entries, 0, 10).map((e) => `${e.source}:${e.type}`);
    expect(all).toEqual(['work_order:closed', 'asset:status_changed', 'work_order:completed', 'downtime:downtime', 'work_order:requested', 'asset:created']);
    expect(mergeTimeline(entries, 2, 2).map((e) => `${e.source}:${e.type}`)).toEqual(['work_order:completed', 'downtime:downtime']);
  });
});
