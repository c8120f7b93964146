import { describe, expect, it } from 'vitest';
import { addInterval, breaches, calendarCompleted, clears, evaluate, evaluateCalendar, evaluateDeviceAlarm, evaluateUsageTick, metricsOf, pmCompleted } from '../../rules/evaluate.ts';
import type { AlarmRule, CalendarRule, CalendarState, CompositeRule, DeviceAlarm, Reading, RuleState, ThresholdRule, UsageRule, UsageState } from '../../rules/types.ts';

const t0 = Date.parse('2026-06-01T00:00:00Z');
const at = (s: number): Date => new Date(t0 + s * 1000);
const reading = (metric: string, value: number, s: number): Reading => ({ assetId: 'a1', assetCode: 'PUMP-1', metric, value, ts: at(s) });

const threshold: ThresholdRule = {
  id: 'r1',
  name: 'Over-temperature',
  version: 3,
  kind: 'threshold',
  definition: { schemaVersion: 1, metric: 'temperature', operator: '>', value: 85, holdSeconds: 10, hysteresis: 5, consecutive: 1, severity: 'major', priority: 'high' },
};

function run(rule: ThresholdRule | UsageRule, inputs: [number, number][], metric = rule.definition.metric, start?: RuleState) {
  let state = start;
  const decisions = [];
  for (const [s, v] of inputs) {
    const r = evaluate(rule, state, reading(metric, v, s), at(s));
    state = r.state;
    decisions.push(...r.decisions);
  }
  return { state, decisions };
}

describe('threshold rule', () => {
  it('raises only after the breach has held for holdSeconds', () => {
    expect(run(threshold, [[0, 90], [5, 91]]).decisions).toEqual([]);
    const { decisions, state } = run(threshold, [[0, 90], [5, 93], [10, 91]]);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({
      type: 'raise',
      dedupeKey: `threshold:r1:a1:${at(0).toISOString()}`,
      openKey: 'rule:r1:asset:a1',
      priority: 'high',
      alarm: { severity: 'major' },
      explanation: { ruleId: 'r1', ruleVersion: 3, threshold: 85, statistic: { value: 91 }, inputs: { peak: 93, holdSeconds: 10 } },
    });
    expect(state).toMatchObject({ phase: 'active', since: t0 });
  });

  it('a dip below the threshold restarts the hold', () => {
    expect(run(threshold, [[0, 90], [5, 84], [9, 90], [15, 90]]).decisions).toEqual([]);
    expect(run(threshold, [[0, 90], [5, 84], [9, 90], [19, 90]]).decisions).toHaveLength(1);
  });

  it('raises once per episode and clears only past the hysteresis band', () => {
    const { decisions } = run(threshold, [[0, 90], [10, 90], [20, 95], [30, 84], [40, 82], [50, 80], [60, 90]]);
    expect(decisions.map((d) => d.type)).toEqual(['raise', 'clear']);
    expect(decisions[1]).toMatchObject({ type: 'clear', value: 80 });
  });

  it('a new episode after clearing gets a new dedupe key', () => {
    const { decisions } = run(threshold, [[0, 90], [10, 90], [20, 70], [30, 90], [40, 90]]);
    const raises = decisions.filter((d) => d.type === 'raise');
    expect(raises).toHaveLength(2);
    expect(raises[0]!.type === 'raise' && raises[1]!.type === 'raise' && raises[0]!.dedupeKey !== raises[1]!.dedupeKey).toBe(true);
  });

  it('the same reading delivered twice (or out of order) changes nothing', () => {
    const first = run(threshold, [[0, 90], [10, 90]]);
    const again = evaluate(threshold, first.state, reading('temperature', 90, 10), at(10));
    expect(again).toEqual({ state: first.state, decisions: [], changed: false });
    const older = evaluate(threshold, first.state, reading('temperature', 50, 3), at(11));
    expect(older.decisions).toEqual([]);
  });

  it('two workers evaluating the same readings from the same state compute the same dedupe key', () => {
    const a = run(threshold, [[0, 90], [10, 91]]);
    const b = run(threshold, [[0, 90], [10, 91]]);
    expect(a.decisions).toEqual(b.decisions);
  });

  it('holdSeconds 0 raises on the first breaching reading; other metrics are ignored', () => {
    const instant: ThresholdRule = { ...threshold, definition: { ...threshold.definition, holdSeconds: 0 } };
    expect(run(instant, [[0, 86]]).decisions).toHaveLength(1);
    expect(run(instant, [[0, 1000]], 'pressure').decisions).toEqual([]);
  });

  it.each([
    ['>', 85, 85.1, true],
    ['>', 85, 85, false],
    ['>=', 85, 85, true],
    ['<', 2, 1.9, true],
    ['<=', 2, 2, true],
    ['<', 2, 2, false],
  ] as const)('%s %d breached by %d: %s', (operator, value, v, expected) => {
    expect(breaches({ operator, value }, v)).toBe(expected);
  });

  it('"3 times in a row" needs three consecutive breaching readings (and the hold)', () => {
    const three: ThresholdRule = { ...threshold, definition: { ...threshold.definition, holdSeconds: 0, consecutive: 3 } };
    expect(run(three, [[0, 90], [1, 91]]).decisions).toEqual([]);
    expect(run(three, [[0, 90], [1, 91], [2, 70], [3, 90], [4, 90]]).decisions).toEqual([]);
    const { decisions } = run(three, [[0, 90], [1, 91], [2, 92]]);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ explanation: { inputs: { readings: 3, consecutive: 3 } } });
    // the count survives a restart: it is persisted while below the target
    const partial = evaluate(three, undefined, reading('temperature', 90, 0), at(0));
    const second = evaluate(three, partial.state, reading('temperature', 90, 1), at(1));
    expect(second.changed).toBe(true);
    expect(evaluate(three, JSON.parse(JSON.stringify(second.state)) as RuleState, reading('temperature', 90, 2), at(2)).decisions).toHaveLength(1);
  });

  it('low-side rules clear above threshold + hysteresis', () => {
    expect(clears({ operator: '<', value: 2, hysteresis: 0.5 }, 2.4)).toBe(false);
    expect(clears({ operator: '<', value: 2, hysteresis: 0.5 }, 2.5)).toBe(true);
  });
});

const usage: UsageRule = {
  id: 'u1',
  name: '500 h service',
  version: 1,
  kind: 'usage',
  definition: { schemaVersion: 1, metric: 'runHours', every: 500, startAt: 0, tolerance: 0, interval: 'floating', priority: 'medium' },
};

describe('usage (run-hours) rule', () => {
  it('requests a PM once when the counter reaches the due point, not on every later reading', () => {
    const { decisions, state } = run(usage, [[0, 480], [1, 499.9], [2, 500], [3, 510], [4, 700]]);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({
      type: 'raise',
      source: 'pm',
      dedupeKey: 'usage:u1:a1:500',
      explanation: { threshold: 500, statistic: { name: 'counter', value: 500 }, inputs: { lastPmValue: 0, every: 500 } },
    });
    expect(state).toMatchObject({ lastPmValue: 0, requestedFor: 500, lastValue: 700 });
  });

  it('after the PM is completed the interval floats from the completion reading', () => {
    const first = run(usage, [[0, 505]]);
    const restarted = pmCompleted(first.state as UsageState, 520);
    expect(restarted).toEqual({ kind: 'usage', lastPmValue: 520, lastValue: 505, lastTs: t0 });
    const next = run(usage, [[10, 1000], [11, 1019], [12, 1020]], 'runHours', restarted);
    expect(next.decisions).toHaveLength(1);
    expect(next.decisions[0]).toMatchObject({ dedupeKey: 'usage:u1:a1:1020' });
  });

  it('tolerance generates the order ahead of the due point ("units to go")', () => {
    const r: UsageRule = { ...usage, definition: { ...usage.definition, tolerance: 25 } };
    expect(run(r, [[0, 474]]).decisions).toEqual([]);
    expect(run(r, [[0, 475]]).decisions[0]).toMatchObject({ dedupeKey: 'usage:u1:a1:500', explanation: { inputs: { tolerance: 25 } } });
  });

  it('fixed intervals restart from the due point, floating ones from the completion meter', () => {
    const fixed: UsageRule = { ...usage, definition: { ...usage.definition, interval: 'fixed' } };
    const first = run(fixed, [[0, 530]]);
    expect(pmCompleted(first.state as UsageState, 560, 'fixed', 500).lastPmValue).toBe(500);
    expect(pmCompleted(first.state as UsageState, 560, 'floating', 500).lastPmValue).toBe(560);
    // fixed, completed without a request (e.g. by hand) at 1,230: the last due point served is 1,000
    expect(pmCompleted({ kind: 'usage', lastPmValue: 0 }, 1230, 'fixed', 500).lastPmValue).toBe(1000);
  });

  it('a replaced meter (reset) or a wrapping counter keeps life-to-date growing', () => {
    // counter replaced at 450 → restarts at 0; 50 more hours reach 500 life-to-date
    const { decisions, state } = run(usage, [[0, 400], [1, 450], [2, 10], [3, 49], [4, 50], [5, 60]]);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ explanation: { statistic: { value: 500 }, inputs: { rawValue: 50, offset: 450 } } });
    expect(state).toMatchObject({ offset: 450 });
    const wrapping: UsageRule = { ...usage, definition: { ...usage.definition, rollover: 400 } };
    const w = run(wrapping, [[0, 350], [1, 390], [2, 100]]);
    expect(w.decisions[0]).toMatchObject({ explanation: { statistic: { value: 500 } } });
  });

  it('startAt moves the first due point', () => {
    const r: UsageRule = { ...usage, definition: { ...usage.definition, startAt: 1200 } };
    expect(run(r, [[0, 1500]]).decisions).toEqual([]);
    expect(run(r, [[0, 1700]]).decisions[0]).toMatchObject({ dedupeKey: 'usage:u1:a1:1700' });
  });
});

describe('alarm mapping rule', () => {
  const rule: AlarmRule = {
    id: 'm1',
    name: 'codes',
    version: 2,
    kind: 'alarm',
    definition: {
      schemaVersion: 1,
      mappings: [{ deviceCodes: ['P01', 'P02'], faultCode: 'E01', severity: 'critical', createWorkOrder: true, workOrder: { title: 'Power fault', priority: 'urgent' } }],
    },
  };
  const alarm = (code: string, active = true): DeviceAlarm => ({ assetId: 'a1', assetCode: 'C-1', code, severity: 'major', active, message: undefined, ts: at(5) });

  it('maps device codes to one fault (same open key for every code of the fault)', () => {
    const [p1] = evaluateDeviceAlarm(rule, alarm('P01'));
    const [p2] = evaluateDeviceAlarm(rule, alarm('P02'));
    expect(p1).toMatchObject({ type: 'raise', openKey: 'rule:m1:asset:a1:fault:E01', priority: 'urgent', alarm: { severity: 'critical', code: 'E01' }, explanation: { ruleVersion: 2, inputs: { deviceCode: 'P01', faultCode: 'E01' } } });
    expect(p2!.openKey).toBe(p1!.openKey);
  });

  it('clears on the device clearing the code; ignores unmapped codes', () => {
    expect(evaluateDeviceAlarm(rule, alarm('P02', false))).toEqual([{ type: 'clear', openKey: 'rule:m1:asset:a1:fault:E01', at: at(5), value: 0 }]);
    expect(evaluateDeviceAlarm(rule, alarm('X'))).toEqual([]);
  });
});

describe('calendar PM and whichever comes first', () => {
  const day = 86_400_000;
  const cal: CalendarRule = {
    id: 'c1',
    name: 'Quarterly inspection',
    version: 1,
    kind: 'calendar',
    definition: { schemaVersion: 1, every: 3, unit: 'month', anchor: '2026-01-31T00:00:00.000Z', leadDays: 7, interval: 'fixed', priority: 'medium' },
  };
  const asset = { id: 'a1', code: 'PUMP-1' };

  it('adds days, weeks and months in UTC, clamping the day of month', () => {
    expect(new Date(addInterval(Date.parse('2026-01-31T00:00:00Z'), 1, 'month')).toISOString()).toBe('2026-02-28T00:00:00.000Z');
    expect(new Date(addInterval(Date.parse('2026-01-31T00:00:00Z'), 3, 'month')).toISOString()).toBe('2026-04-30T00:00:00.000Z');
    expect(new Date(addInterval(Date.parse('2026-11-15T08:00:00Z'), 2, 'month')).toISOString()).toBe('2027-01-15T08:00:00.000Z');
    expect(addInterval(0, 2, 'week')).toBe(14 * day);
  });

  it('raises leadDays before the due date, once per interval; fixed intervals continue from the due date', () => {
    const early = evaluateCalendar(cal, undefined, asset, new Date('2026-04-22T00:00:00Z'));
    expect(early.decisions).toEqual([]);
    expect(early.changed).toBe(true); // the anchor is persisted
    const due = evaluateCalendar(cal, early.state as CalendarState, asset, new Date('2026-04-23T00:00:00Z'));
    expect(due.decisions[0]).toMatchObject({ dedupeKey: 'calendar:c1:a1:2026-04-30T00:00:00.000Z', source: 'pm', explanation: { inputs: { dueAt: '2026-04-30T00:00:00.000Z' } } });
    expect(evaluateCalendar(cal, due.state as CalendarState, asset, new Date('2026-05-05T00:00:00Z')).decisions).toEqual([]);
    const fixed = calendarCompleted(due.state as CalendarState, new Date('2026-05-10T00:00:00Z'), 'fixed');
    expect(new Date(fixed.lastPmAt).toISOString()).toBe('2026-04-30T00:00:00.000Z');
    expect(new Date(calendarCompleted(due.state as CalendarState, new Date('2026-05-10T00:00:00Z'), 'floating').lastPmAt).toISOString()).toBe('2026-05-10T00:00:00.000Z');
  });

  const both: UsageRule = { ...usage, definition: { ...usage.definition, calendar: { every: 6, unit: 'month' } } };

  it('whichever comes first: an idle machine gets its PM from the calendar side on a tick', () => {
    const first = evaluateUsageTick(both, undefined, asset, new Date('2026-01-01T00:00:00Z'));
    expect(first).toMatchObject({ decisions: [], changed: true, state: { lastPmAt: Date.parse('2026-01-01T00:00:00Z') } });
    expect(evaluateUsageTick(both, first.state as UsageState, asset, new Date('2026-06-30T00:00:00Z')).decisions).toEqual([]);
    const due = evaluateUsageTick(both, first.state as UsageState, asset, new Date('2026-07-01T00:00:00Z'));
    expect(due.decisions[0]).toMatchObject({ source: 'pm', explanation: { inputs: { trigger: 'calendar' } } });
    // the meter reaching its due point in the same cycle does not raise a second order
    const meter = evaluate(both, due.state, reading('runHours', 600, Date.parse('2026-07-02T00:00:00Z') / 1000 - t0 / 1000), new Date());
    expect(meter.decisions).toEqual([]);
  });

  it('whichever comes first: a busy machine gets its PM from the meter; completion restarts both sides', () => {
    const start = evaluateUsageTick(both, undefined, asset, at(0));
    const r = evaluate(both, start.state, reading('runHours', 500, 3600), at(3600));
    expect(r.decisions[0]).toMatchObject({ explanation: { inputs: { trigger: 'meter' } } });
    const done = pmCompleted(r.state as UsageState, 505, 'floating', 500, at(7200));
    expect(done).toMatchObject({ lastPmValue: 505, lastPmAt: at(7200).getTime() });
    expect(done.requestedFor).toBeUndefined();
  });
});

describe('composite rule', () => {
  const rule: CompositeRule = {
    id: 'k1',
    name: 'Hot and shaking',
    version: 1,
    kind: 'composite',
    definition: {
      schemaVersion: 1,
      combine: 'and',
      conditions: [
        { metric: 'temperature', operator: '>', value: 80 },
        { metric: 'vibration', operator: '>', value: 6 },
      ],
      holdSeconds: 0,
      maxAgeSeconds: 60,
      severity: 'critical',
      priority: 'urgent',
    },
  };
  const feed = (r: CompositeRule, inputs: [string, number, number][]) => {
    let state: RuleState | undefined;
    const decisions = [];
    for (const [metric, v, s] of inputs) {
      const e = evaluate(r, state, reading(metric, v, s), at(s));
      state = e.state;
      decisions.push(...e.decisions);
    }
    return decisions;
  };

  it('AND needs every condition on fresh values; raises once and clears when one fails', () => {
    expect(feed(rule, [['temperature', 90, 0]])).toEqual([]);
    const d = feed(rule, [['temperature', 90, 0], ['vibration', 7, 1], ['temperature', 91, 2], ['vibration', 3, 3]]);
    expect(d.map((x) => x.type)).toEqual(['raise', 'clear']);
    expect(d[0]).toMatchObject({ priority: 'urgent', explanation: { kind: 'composite', statistic: { value: 2 } } });
    expect(d[0]!.type === 'raise' && d[0]!.explanation.summary).toContain('temperature 90 > 80 ✓ AND vibration 7 > 6 ✓');
  });

  it('a stale value counts as unknown; OR needs only one', () => {
    expect(feed(rule, [['temperature', 90, 0], ['vibration', 7, 120]])).toEqual([]);
    const or: CompositeRule = { ...rule, definition: { ...rule.definition, combine: 'or' } };
    expect(feed(or, [['vibration', 7, 0]])).toHaveLength(1);
    expect(metricsOf(rule)).toEqual(['temperature', 'vibration']);
  });
});
