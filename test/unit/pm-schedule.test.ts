import { describe, expect, it } from 'vitest';
import {
  addInterval,
  baselineToRecord,
  calendarStatus,
  checkSchedule,
  dueStatus,
  EMPTY_STATE,
  explainDue,
  fixedPoint,
  forecastOccurrences,
  forecastTotals,
  latestPointIndex,
  meterStatus,
  pmDedupeKey,
  pmOpenKey,
  seqOfDedupeKey,
  usageRate,
  type IntervalUnit,
  type PmSchedule,
  type PmState,
} from '../../maintenance/pm-schedule.ts';

const d = (s: string) => new Date(s.length === 10 ? `${s}T00:00:00.000Z` : s);
const iso = (x: Date) => x.toISOString().slice(0, 10);

const monthly: PmSchedule = { trigger: 'calendar', intervalCount: 1, intervalUnit: 'month', meterInterval: null, meterTolerance: 0, leadDays: 0, floating: true };
const fixedMonthly: PmSchedule = { ...monthly, floating: false };
const meterPlan: PmSchedule = { trigger: 'meter', intervalCount: null, intervalUnit: null, meterInterval: 500, meterTolerance: 20, leadDays: 0, floating: true };
const either: PmSchedule = { ...monthly, trigger: 'calendar_or_meter', meterInterval: 500, meterTolerance: 0 };
const state = (s: Partial<PmState>): PmState => ({ ...EMPTY_STATE, ...s });

describe('addInterval (UTC, month ends clamped)', () => {
  it.each<[string, number, IntervalUnit, string]>([
    ['2025-01-31', 1, 'month', '2025-02-28'],
    ['2024-01-31', 1, 'month', '2024-02-29'],
    ['2025-03-31', 1, 'month', '2025-04-30'],
    ['2025-01-31', 3, 'month', '2025-04-30'],
    ['2024-02-29', 1, 'year', '2025-02-28'],
    ['2025-11-15', 2, 'month', '2026-01-15'],
    ['2025-01-01', 2, 'week', '2025-01-15'],
    ['2025-02-27', 3, 'day', '2025-03-02'],
  ])('%s + %i %s = %s', (from, n, unit, expected) => {
    expect(iso(addInterval(d(from), n, unit))).toBe(expected);
  });

  it('fixed points are computed from the anchor, so a clamped month does not shift later ones', () => {
    expect([1, 2, 3].map((k) => iso(fixedPoint(d('2025-01-31'), k, 1, 'month')))).toEqual(['2025-02-28', '2025-03-31', '2025-04-30']);
  });

  it.each<[string, number, IntervalUnit, string, number]>([
    ['2025-01-31', 1, 'month', '2025-02-27', 0],
    ['2025-01-31', 1, 'month', '2025-02-28', 1],
    ['2025-01-31', 1, 'month', '2025-03-30', 1],
    ['2025-01-31', 1, 'month', '2025-03-31', 2],
    ['2025-01-01', 7, 'day', '2025-01-21', 2],
    ['2025-01-01', 1, 'year', '2024-06-01', 0],
    ['2020-01-01', 1, 'year', '2025-06-01', 5],
  ])('latest point index: anchor %s every %i %s at %s → %i', (anchor, n, unit, t, k) => {
    expect(latestPointIndex(d(anchor), n, unit, d(t))).toBe(k);
  });
});

describe('checkSchedule names what the trigger needs', () => {
  const base = { ...monthly, meterName: null };
  it.each<[string, Partial<typeof base>, string[]]>([
    ['calendar without interval', { intervalCount: null, intervalUnit: null }, ['intervalCount', 'intervalUnit']],
    ['meter without meter fields', { trigger: 'meter' }, ['meterName', 'meterInterval']],
    ['calendar_or_meter needs both', { trigger: 'calendar_or_meter', intervalUnit: null }, ['intervalUnit', 'meterName', 'meterInterval']],
    ['complete calendar', {}, []],
  ])('%s', (_name, patch, missing) => {
    expect(checkSchedule({ ...base, ...patch }).missing).toEqual(missing);
  });

  it('rejects tolerance ≥ interval and lead days longer than the interval', () => {
    expect(checkSchedule({ ...meterPlan, meterName: 'run_hours', meterTolerance: 500 }).problems).toEqual([expect.stringMatching(/meterTolerance \(500\) must be smaller/)]);
    expect(checkSchedule({ ...monthly, meterName: null, intervalUnit: 'week', leadDays: 7 }).problems).toEqual([expect.stringMatching(/leadDays \(7\) must be shorter/)]);
    expect(checkSchedule({ ...monthly, meterName: null, intervalUnit: 'week', leadDays: 6 }).problems).toEqual([]);
  });
});

describe('calendar due', () => {
  it.each<[string, PmSchedule, PmState, string, { dueAt: string; reached: boolean; base: string; point?: number; skippedPoints?: number }]>([
    ['floating from the anchor, not yet', monthly, EMPTY_STATE, '2025-01-31T23:59:59Z', { dueAt: '2025-02-01', reached: false, base: 'anchor' }],
    ['floating from the anchor, due', monthly, EMPTY_STATE, '2025-02-01', { dueAt: '2025-02-01', reached: true, base: 'anchor' }],
    ['floating with lead days', { ...monthly, leadDays: 3 }, EMPTY_STATE, '2025-01-29', { dueAt: '2025-02-01', reached: true, base: 'anchor' }],
    ['floating from the last completion', monthly, state({ lastDoneAt: d('2025-03-10') }), '2025-03-20', { dueAt: '2025-04-10', reached: false, base: 'last_done' }],
    [
      'fixed: far behind → only the latest point, missed ones skipped',
      fixedMonthly,
      EMPTY_STATE,
      '2025-06-15',
      { dueAt: '2025-06-01', reached: true, base: 'schedule', point: 5, skippedPoints: 4 },
    ],
    [
      'fixed: latest point already generated → the next one, not reached',
      fixedMonthly,
      state({ lastGeneratedAt: d('2025-06-01T01:00:00Z'), generatedSeq: 1 }),
      '2025-06-15',
      { dueAt: '2025-07-01', reached: false, base: 'schedule', point: 6, skippedPoints: 0 },
    ],
    [
      'fixed: completed in March → April and May skipped, June due',
      fixedMonthly,
      state({ lastDoneAt: d('2025-03-05'), generatedSeq: 2 }),
      '2025-06-15',
      { dueAt: '2025-06-01', reached: true, base: 'schedule', point: 5, skippedPoints: 2 },
    ],
    [
      'fixed: completion does not move the schedule',
      fixedMonthly,
      state({ lastDoneAt: d('2025-02-20') }),
      '2025-02-25',
      { dueAt: '2025-03-01', reached: false, base: 'schedule', point: 2, skippedPoints: 0 },
    ],
  ])('%s', (_name, s, st, now, expected) => {
    const c = calendarStatus(s, d('2025-01-01'), st, d(now))!;
    expect({ ...c, dueAt: iso(c.dueAt), generateFrom: undefined }).toEqual({ ...expected, generateFrom: undefined });
  });

  it('fixed schedule anchored on a month end keeps the month end', () => {
    const c = calendarStatus(fixedMonthly, d('2024-01-31'), EMPTY_STATE, d('2024-03-31'))!;
    expect([iso(c.dueAt), c.point, c.skippedPoints]).toEqual(['2024-03-31', 2, 1]);
  });
});

describe('meter due (last PM reading + interval − tolerance)', () => {
  it.each<[string, PmState, number | null, { dueValue: number; triggerValue: number; reached: boolean } | undefined]>([
    ['below the trigger', state({ lastDoneMeter: 1000 }), 1479, { dueValue: 1500, triggerValue: 1480, reached: false }],
    ['at the trigger (tolerance early)', state({ lastDoneMeter: 1000 }), 1480, { dueValue: 1500, triggerValue: 1480, reached: true }],
    ['no reading', state({ lastDoneMeter: 1000 }), null, undefined],
    ['no baseline yet', EMPTY_STATE, 2000, undefined],
  ])('%s', (_name, st, meter, expected) => {
    const m = meterStatus(meterPlan, st, meter);
    expect(m && { dueValue: m.dueValue, triggerValue: m.triggerValue, reached: m.reached }).toEqual(expected);
  });

  it.each<[string, PmSchedule, PmState | null, number | null, number | undefined]>([
    ['first sight of a meter plan records the reading', meterPlan, null, 42, 42],
    ['state without baseline (meter appeared later)', either, state({ generatedSeq: 1 }), 7, 7],
    ['baseline already recorded', meterPlan, state({ lastDoneMeter: 10 }), 42, undefined],
    ['no reading yet', meterPlan, null, null, undefined],
    ['calendar plans keep no baseline', monthly, null, 42, undefined],
  ])('baseline: %s', (_name, s, st, meter, expected) => {
    expect(baselineToRecord(s, st, meter)).toBe(expected);
  });
});

describe('dueStatus: what to generate now', () => {
  const anchor = d('2025-01-01');
  it.each<[string, PmSchedule, PmState, number | null, string, { seq: number; basis: string } | undefined]>([
    ['calendar due, nothing generated yet', monthly, EMPTY_STATE, null, '2025-02-02', { seq: 1, basis: 'calendar' }],
    ['sequence continues after earlier cycles', monthly, state({ lastDoneAt: d('2025-01-05'), generatedSeq: 4 }), null, '2025-02-06', { seq: 5, basis: 'calendar' }],
    ['floating cycle already generated → nothing', monthly, state({ generatedSeq: 1, lastGeneratedAt: d('2025-02-01') }), null, '2025-03-05', undefined],
    ['meter reached', meterPlan, state({ lastDoneMeter: 1000 }), 1490, '2025-01-02', { seq: 1, basis: 'meter' }],
    ['meter reached but the cycle is pending', meterPlan, state({ lastDoneMeter: 1000, generatedSeq: 1, lastGeneratedAt: d('2025-01-02') }), 1900, '2025-01-03', undefined],
    ['which first: meter before the calendar', either, state({ lastDoneMeter: 0 }), 500, '2025-01-10', { seq: 1, basis: 'meter' }],
    ['which first: calendar before the meter', either, state({ lastDoneMeter: 0 }), 100, '2025-02-01', { seq: 1, basis: 'calendar' }],
    ['which first: neither', either, state({ lastDoneMeter: 0 }), 499, '2025-01-31', undefined],
    ['fixed: a new point while an order is pending is due (the open order will cover it)', fixedMonthly, state({ generatedSeq: 1, lastGeneratedAt: d('2025-02-01') }), null, '2025-03-01', { seq: 2, basis: 'calendar' }],
  ])('%s', (_name, s, st, meter, now, expected) => {
    expect(dueStatus(s, anchor, st, meter, d(now)).due).toEqual(expected);
  });

  it('keys: dedupe per due point, open key per plan and asset', () => {
    expect(pmDedupeKey('p1', 'a1', 3)).toBe('pm:p1:a1:3');
    expect(pmOpenKey('p1', 'a1')).toBe('pm:p1:a1');
    expect(seqOfDedupeKey('pm:p1:a1:12')).toBe(12);
    expect(seqOfDedupeKey('usage:r:a:500')).toBeUndefined();
    expect(seqOfDedupeKey(null)).toBeUndefined();
  });

  it('explains the due point', () => {
    const st = state({ lastDoneMeter: 1000, lastDoneAt: d('2025-01-10') });
    const status = dueStatus(meterPlan, d('2025-01-01'), st, 1485, d('2025-02-01'));
    const reason = explainDue({ ...meterPlan, id: 'p1', name: 'Oil change', meterName: 'run_hours' }, { id: 'a1', code: 'CMP-1' }, d('2025-01-01'), st, status, d('2025-02-01'));
    expect(reason).toMatchObject({
      pmPlanId: 'p1',
      pmPlanName: 'Oil change',
      trigger: 'meter',
      basis: 'meter',
      seq: 1,
      meter: { name: 'run_hours', current: 1485, baseline: 1000, dueValue: 1500, triggerValue: 1480, unitsToGo: -5 },
      lastDone: { at: '2025-01-10T00:00:00.000Z', meter: 1000 },
    });
    expect(reason.summary).toBe('Oil change on CMP-1: run_hours at 1485 ≥ 1500 − tolerance 20 (last PM at 1000 + every 500)');
    const cal = explainDue({ ...fixedMonthly, id: 'p2', name: 'Inspection', meterName: null }, { id: 'a1', code: 'CMP-1' }, d('2025-01-01'), EMPTY_STATE, dueStatus(fixedMonthly, d('2025-01-01'), EMPTY_STATE, null, d('2025-04-10')), d('2025-04-10'));
    expect(cal.summary).toBe('Inspection on CMP-1: fixed schedule every 1 month(s) from 2025-01-01: point #3 due 2025-04-01 (2 missed point(s) skipped)');
  });
});

describe('usage rate', () => {
  it.each<[string, PmState, { value: number; readAt: Date } | null, Date | null, { perDay: number; derivation: string } | null]>([
    ['since the last completion', state({ lastDoneAt: d('2025-01-01'), lastDoneMeter: 1000 }), { value: 1100, readAt: d('2025-01-11') }, null, { perDay: 10, derivation: 'since_last_completion' }],
    ['since first sight', state({ lastDoneMeter: 200 }), { value: 260, readAt: d('2025-01-04') }, d('2025-01-01'), { perDay: 20, derivation: 'since_first_sight' }],
    ['no reading', state({ lastDoneMeter: 200 }), null, d('2025-01-01'), null],
    ['no time base', state({ lastDoneMeter: 200 }), { value: 260, readAt: d('2025-01-04') }, null, null],
    ['reading older than the base', state({ lastDoneAt: d('2025-01-05'), lastDoneMeter: 200 }), { value: 260, readAt: d('2025-01-04') }, null, null],
    ['meter went back (replaced)', state({ lastDoneAt: d('2025-01-01'), lastDoneMeter: 200 }), { value: 10, readAt: d('2025-01-04') }, null, null],
  ])('%s', (_name, st, meter, first, expected) => {
    const r = usageRate(st, meter, first);
    expect(r && { perDay: r.perDay, derivation: r.derivation }).toEqual(expected);
  });
});

describe('forecast', () => {
  const run = (over: Partial<Parameters<typeof forecastOccurrences>[0]>) =>
    forecastOccurrences({ schedule: monthly, anchor: d('2025-01-01'), state: EMPTY_STATE, meter: null, rate: null, now: d('2025-01-20'), from: d('2025-01-20'), to: d('2025-05-01'), max: 100, ...over });
  const dates = (r: ReturnType<typeof run>) => r.occurrences.map((o) => `${iso(o.dueAt)}${o.basis === 'meter' ? ' meter' : ''}${o.overdue ? ' overdue' : ''}`);

  it.each<[string, Partial<Parameters<typeof forecastOccurrences>[0]>, string[]]>([
    ['floating: every month from the last completion', { state: state({ lastDoneAt: d('2025-01-15') }) }, ['2025-02-15', '2025-03-15', '2025-04-15']],
    ['fixed on a month end', { schedule: fixedMonthly, anchor: d('2025-01-31'), now: d('2025-01-01'), from: d('2025-01-01'), to: d('2025-06-01') }, ['2025-02-28', '2025-03-31', '2025-04-30', '2025-05-31']],
    [
      'overdue point listed once, the next ones counted from now',
      { state: state({ lastDoneAt: d('2024-10-01') }), now: d('2025-01-15'), from: d('2025-01-15'), to: d('2025-04-01') },
      ['2024-11-01 overdue', '2025-02-15', '2025-03-15'],
    ],
    [
      'an order already generated is not listed again; it is assumed done when due',
      { schedule: { ...monthly, leadDays: 5 }, state: state({ generatedSeq: 1, lastGeneratedAt: d('2025-01-27') }), now: d('2025-01-28'), from: d('2025-01-28'), to: d('2025-04-15') },
      ['2025-03-01', '2025-04-01'],
    ],
    ['window in the future skips earlier points', { state: state({ lastDoneAt: d('2025-01-15') }), from: d('2025-03-01'), to: d('2025-05-01') }, ['2025-03-15', '2025-04-15']],
    [
      'meter: at the usage rate since the last completion',
      {
        schedule: meterPlan,
        state: state({ lastDoneAt: d('2025-01-01'), lastDoneMeter: 1000 }),
        meter: { value: 1100, readAt: d('2025-01-11') },
        rate: { perDay: 10, derivation: 'since_last_completion', from: { value: 1000, at: d('2025-01-01') }, to: { value: 1100, at: d('2025-01-11') } },
        now: d('2025-01-11'),
        from: d('2025-01-11'),
      },
      ['2025-02-20 meter', '2025-04-11 meter'],
    ],
    [
      'calendar_or_meter: the meter comes first at a high rate',
      {
        schedule: either,
        state: state({ lastDoneAt: d('2025-01-01'), lastDoneMeter: 1000 }),
        meter: { value: 1080, readAt: d('2025-01-05') },
        rate: { perDay: 20, derivation: 'since_last_completion', from: { value: 1000, at: d('2025-01-01') }, to: { value: 1080, at: d('2025-01-05') } },
        now: d('2025-01-05'),
        from: d('2025-01-05'),
        to: d('2025-02-22'),
      },
      ['2025-01-26 meter', '2025-02-20 meter'],
    ],
    [
      'calendar_or_meter: the calendar comes first at a low rate',
      {
        schedule: either,
        state: state({ lastDoneAt: d('2025-01-01'), lastDoneMeter: 1000 }),
        meter: { value: 1010, readAt: d('2025-01-05') },
        rate: { perDay: 2.5, derivation: 'since_last_completion', from: { value: 1000, at: d('2025-01-01') }, to: { value: 1010, at: d('2025-01-05') } },
        now: d('2025-01-05'),
        from: d('2025-01-05'),
        to: d('2025-03-15'),
      },
      ['2025-02-01', '2025-03-01'],
    ],
    ['meter without a usage rate: nothing to project', { schedule: meterPlan, state: state({ lastDoneMeter: 1000 }), meter: { value: 1100, readAt: d('2025-01-11') } }, []],
    ['meter reached without a rate: due now', { schedule: meterPlan, state: state({ lastDoneMeter: 1000 }), meter: { value: 1490, readAt: d('2025-01-11') } }, ['2025-01-20 meter']],
  ])('%s', (_name, over, expected) => {
    expect(dates(run(over))).toEqual(expected);
  });

  it('meter occurrences carry the due reading and generate tolerance early', () => {
    const r = run({
      schedule: meterPlan,
      state: state({ lastDoneAt: d('2025-01-01'), lastDoneMeter: 1000 }),
      meter: { value: 1100, readAt: d('2025-01-11') },
      rate: { perDay: 10, derivation: 'since_last_completion', from: { value: 1000, at: d('2025-01-01') }, to: { value: 1100, at: d('2025-01-11') } },
      now: d('2025-01-11'),
      from: d('2025-01-11'),
    });
    expect(r.occurrences[0]).toMatchObject({ meterDueValue: 1500, basis: 'meter' });
    expect(iso(r.occurrences[0]!.generateAt)).toBe('2025-02-18'); // 1480 at 10/day
  });

  it('stops at max and says so', () => {
    const r = run({ schedule: { ...monthly, intervalUnit: 'day' }, max: 5 });
    expect(r.occurrences).toHaveLength(5);
    expect(r.truncated).toBe(true);
  });

  it('totals hours and parts over the occurrences', () => {
    const bolt = { partId: 'b', partCode: 'BOLT', partName: 'Bolt', quantity: 4 };
    const filter = { partId: 'f', partCode: 'FLT', partName: 'Filter', quantity: 1 };
    expect(
      forecastTotals([
        { estimatedHours: 1.5, parts: [bolt, filter] },
        { estimatedHours: 2, parts: [filter] },
        { estimatedHours: null, parts: [] },
      ]),
    ).toEqual({ occurrences: 3, estimatedHours: 3.5, occurrencesWithoutEstimate: 1, parts: [bolt, { ...filter, quantity: 2 }] });
  });
});
