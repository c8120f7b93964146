import { describe, expect, it } from 'vitest';
import { findOverlap, labourCostCents, labourTime, overlaps, toCents, workLogTotals } from '../../maintenance/labour.ts';

const t = (hhmm: string) => new Date(`2026-03-02T${hhmm}:00Z`);

describe('labourTime', () => {
  it.each([
    ['start + end', { startedAt: t('08:00'), endedAt: t('09:30') }, 90, { startedAt: t('08:00'), endedAt: t('09:30') }],
    ['start + end rounds to the nearest minute', { startedAt: t('08:00'), endedAt: new Date(t('08:10').getTime() + 31_000) }, 11, 'interval'],
    ['start + end + agreeing minutes', { startedAt: t('08:00'), endedAt: t('08:45'), minutes: 45 }, 45, 'interval'],
    ['start + minutes derives the end', { startedAt: t('13:00'), minutes: 30 }, 30, { startedAt: t('13:00'), endedAt: t('13:30') }],
    ['minutes alone (no interval)', { minutes: 25 }, 25, undefined],
    ['a full day', { minutes: 1440 }, 1440, undefined],
  ])('%s', (_name, input, minutes, interval) => {
    const r = labourTime(input);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.minutes).toBe(minutes);
    if (interval === 'interval') expect(r.interval).toBeDefined();
    else expect(r.interval).toEqual(interval);
  });

  it.each([
    ['end before start', { startedAt: t('10:00'), endedAt: t('09:00') }, /after startedAt/],
    ['end equal to start', { startedAt: t('10:00'), endedAt: t('10:00') }, /after startedAt/],
    ['under a minute', { startedAt: t('10:00'), endedAt: new Date(t('10:00').getTime() + 20_000) }, /at least one minute/],
    ['end without start', { endedAt: t('10:00') }, /needs startedAt/],
    ['nothing', {}, /startedAt and endedAt, or minutes/],
    ['zero minutes', { minutes: 0 }, /positive whole number/],
    ['fractional minutes', { minutes: 1.5 }, /positive whole number/],
    ['minutes disagreeing with the interval', { startedAt: t('08:00'), endedAt: t('09:00'), minutes: 30 }, /disagree/],
    ['more than a day', { startedAt: t('00:00'), endedAt: new Date(t('00:00').getTime() + 25 * 3_600_000) }, /at most 1440/],
    ['more than a day in minutes', { minutes: 1441 }, /at most 1440/],
  ])('refuses %s', (_name, input, message) => {
    const r = labourTime(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});

describe('overlaps (half-open intervals)', () => {
  const a = { startedAt: t('08:00'), endedAt: t('10:00') };
  it.each([
    ['inside', { startedAt: t('08:30'), endedAt: t('09:00') }, true],
    ['covering', { startedAt: t('07:00'), endedAt: t('11:00') }, true],
    ['crossing the start', { startedAt: t('07:30'), endedAt: t('08:01') }, true],
    ['crossing the end', { startedAt: t('09:59'), endedAt: t('10:30') }, true],
    ['back to back after', { startedAt: t('10:00'), endedAt: t('11:00') }, false],
    ['back to back before', { startedAt: t('07:00'), endedAt: t('08:00') }, false],
    ['disjoint', { startedAt: t('12:00'), endedAt: t('13:00') }, false],
  ])('%s → %s', (_name, b, expected) => {
    expect(overlaps(a, b)).toBe(expected);
    expect(overlaps(b, a)).toBe(expected);
  });

  it('findOverlap returns the first clashing entry', () => {
    const existing = [
      { id: 'x', startedAt: t('06:00'), endedAt: t('07:00') },
      { id: 'y', startedAt: t('09:00'), endedAt: t('09:30') },
    ];
    expect(findOverlap(a, existing)?.id).toBe('y');
    expect(findOverlap({ startedAt: t('07:00'), endedAt: t('08:00') }, existing)).toBeUndefined();
  });
});

describe('money', () => {
  it.each([
    [45, '45.00', 4500],
    ['45.5', '45.50', 4550],
    [0.1, '0.10', 10],
    [12.34, '12.34', 1234],
    ['7', '7.00', 700],
  ])('toCents(%j) = %d cents', (amount, _s, cents) => {
    expect(toCents(amount)).toBe(cents);
  });
  it.each([[-1], [1.234], ['abc'], [Number.NaN], [Infinity], ['1e3']])('toCents(%j) is not an amount', (amount) => {
    expect(toCents(amount)).toBeUndefined();
  });

  it.each([
    [90, 40, 6000, false],
    [45, '45.50', 3413, false], // 45/60 × 45.50 = 34.125 → 34.13
    [1, 100, 167, false], // 1.666… → 1.67
    [60, 0, 0, false],
    [30, null, 0, true],
    [30, undefined, 0, true],
  ])('%d min at %j/h = %d cents (rate missing: %s)', (minutes, rate, cents, rateMissing) => {
    expect(labourCostCents(minutes, rate)).toEqual({ cents, rateMissing });
  });
});

describe('workLogTotals', () => {
  it('sums labour and travel separately and ignores notes', () => {
    expect(
      workLogTotals([
        { kind: 'labour', minutes: 90, distanceKm: null, costCents: 6000 },
        { kind: 'labour', minutes: 45, distanceKm: null, costCents: 3413 },
        { kind: 'travel', minutes: 30, distanceKm: 12.4, costCents: 1550 },
        { kind: 'travel', minutes: 0, distanceKm: 0.1, costCents: 10 },
        { kind: 'travel', minutes: 0, distanceKm: 0.2, costCents: 20 },
        { kind: 'note', minutes: 0, distanceKm: null, costCents: 0 },
      ]),
    ).toEqual({ labourMinutes: 135, labourCost: 94.13, travelMinutes: 30, travelKm: 12.7, travelCost: 15.8, totalCost: 109.93 });
  });
  it('is all zero without logs', () => {
    expect(workLogTotals([])).toEqual({ labourMinutes: 0, labourCost: 0, travelMinutes: 0, travelKm: 0, travelCost: 0, totalCost: 0 });
  });
});
