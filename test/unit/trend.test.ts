import { describe, expect, it } from 'vitest';
import { evaluateTrend, hydrateTrendState, projectTrend, thin, TREND_MAX_POINTS, type TrendPoint, type TrendRuleLike, type TrendState } from '../../rules/trend.ts';
import type { Decision, Reading } from '../../rules/types.ts';

const H = 3600;
const t0 = Date.parse('2026-06-01T00:00:00Z');
const at = (hours: number): Date => new Date(t0 + hours * H * 1000);
const reading = (value: number, hours: number, metric = 'vibration'): Reading => ({ assetId: 'a1', assetCode: 'FAN-1', metric, value, ts: at(hours) });

// Rising towards 10 mm/s; a 10 h window, ≥ 5 readings, raise when the crossing is ≤ 5 h away.
const rule: TrendRuleLike = {
  id: 'tr1',
  name: 'Vibration trend',
  version: 2,
  definition: { schemaVersion: 1, metric: 'vibration', windowSeconds: 10 * H, minPoints: 5, threshold: 10, direction: 'rising', leadTimeSeconds: 5 * H, minR2: 0.5, severity: 'major', priority: 'high' },
};
const withDef = (patch: Partial<TrendRuleLike['definition']>): TrendRuleLike => ({ ...rule, definition: { ...rule.definition, ...patch } });

function run(r: TrendRuleLike, series: [hours: number, value: number][], start?: TrendState) {
  let state = start;
  const decisions: (Decision & { hour: number })[] = [];
  const changes: number[] = [];
  for (const [h, v] of series) {
    const e = evaluateTrend(r, state, reading(v, h), at(h));
    state = e.state;
    if (e.changed) changes.push(h);
    decisions.push(...e.decisions.map((d) => ({ ...d, hour: h })));
  }
  return { state: state!, decisions, changes };
}

/** Deterministic "noise" in [−1, 1] (no Math.random in unit tests). */
const noise = (i: number): number => Math.sin(i * 12.9898) * 0.5 + Math.sin(i * 78.233) * 0.5;
const hoursRange = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);
/** v = 2 + 0.5·h reaches 10 at h = 16. */
const linearRise = hoursRange(30).map((h): [number, number] => [h, 2 + 0.5 * h]);
/** The rise up to 12 at h 20, then a fall of 1/h to 2 at h 30. */
const riseAndFall: [number, number][] = [...linearRise.slice(0, 21), ...hoursRange(10, 21).map((h): [number, number] => [h, 12 - (h - 20)])];

describe('trend rule: raising', () => {
  it('a steady linear rise raises once, when the projected crossing (h 16) is within the 5 h lead (h 11)', () => {
    const { decisions, state, changes } = run(rule, linearRise.slice(0, 16));
    expect(decisions).toHaveLength(1);
    const d = decisions[0]!;
    expect(d.hour).toBe(11);
    expect(d).toMatchObject({
      type: 'raise',
      dedupeKey: `trend:tr1:a1:${at(11).toISOString()}`,
      openKey: 'rule:tr1:asset:a1',
      source: 'rule',
      priority: 'high',
      alarm: { severity: 'major', code: 'TREND-vibration' },
      at: at(11),
    });
    if (d.type !== 'raise') throw new Error('expected a raise');
    const e = d.explanation as unknown as { kind: string; statistic: { name: string; value: number }; threshold: number; inputs: Record<string, unknown> };
    expect(e.kind).toBe('trend');
    expect(e.threshold).toBe(10);
    expect(e.statistic).toEqual({ name: 'timeToThresholdSeconds', value: 5 * H });
    // window (h 1, h 11]: readings at h 2..11 → 10 points; fitted value at h 11 = 7.5
    expect(e.inputs).toMatchObject({
      from: at(2).toISOString(),
      to: at(11).toISOString(),
      readings: 10,
      points: 10,
      projectedCrossing: at(16).toISOString(),
      timeToThresholdSeconds: 5 * H,
      leadTimeSeconds: 5 * H,
      windowSeconds: 10 * H,
      direction: 'rising',
      minR2: 0.5,
    });
    expect(e.inputs.slopePerHour as number).toBeCloseTo(0.5, 10);
    expect(e.inputs.intercept as number).toBeCloseTo(7.5, 10);
    expect(e.inputs.r2 as number).toBeCloseTo(1, 10);
    // only the phase change is worth persisting
    expect(changes).toEqual([11]);
    expect(state).toMatchObject({ phase: 'active', since: at(11).getTime(), lastTs: at(15).getTime() });
  });

  it.each([
    { name: 'noisy flat signal', series: hoursRange(200).map((h): [number, number] => [h, 5 + noise(h)]), r: rule },
    { name: 'rise that is still far away (crossing 20 h out)', series: hoursRange(10).map((h): [number, number] => [h, 0 + 0.1 * h]), r: rule },
    { name: 'falling signal on a rising rule', series: hoursRange(30).map((h): [number, number] => [h, 20 - 0.5 * h]), r: rule },
    { name: 'fewer than minPoints readings in the window', series: [[0, 8], [1, 9], [2, 9.5], [3, 9.9]] as [number, number][], r: rule },
    { name: 'readings too sparse for the window', series: hoursRange(10).map((h): [number, number] => [h * 3, 6 + h * 0.5]), r: withDef({ minPoints: 5, windowSeconds: 12 * H }) },
  ])('no raise: $name', ({ series, r }) => {
    expect(run(r, series).decisions).toEqual([]);
  });

  it('r² below minR2 does not raise; the same readings raise when the gate is lowered', () => {
    // a rise of 0.3/h with ±1.5 alternating noise: towards the threshold and within the lead, but not linear
    const series = hoursRange(12).map((h): [number, number] => [h, 6 + 0.3 * h + (h % 2 === 0 ? 1.5 : -1.5)]);
    const points: TrendPoint[] = series.filter(([h]) => h > 0 && h <= 10).map(([h, v]) => [at(h).getTime(), v, 1]);
    const p = projectTrend(rule.definition, points, at(10).getTime())!;
    expect(p.towards).toBe(true);
    expect(p.r2).toBeCloseTo(0.366, 3);
    expect(p.timeToThresholdSeconds / H).toBeCloseTo(1.51, 2);
    expect(run(rule, series).decisions).toEqual([]);
    // without the gate the zig-zag raises, and even flaps (its projection swings with every reading)
    expect(run(withDef({ minR2: 0 }), series).decisions.map((d) => d.type)).toEqual(['raise', 'clear', 'raise']);
  });

  it('falling direction: a value already past the threshold raises with time-to-threshold 0', () => {
    const falling = withDef({ direction: 'falling', threshold: 3, minPoints: 3 });
    const { decisions } = run(falling, [[0, 4], [1, 3], [2, 2]]);
    expect(decisions).toHaveLength(1);
    const d = decisions[0]!;
    if (d.type !== 'raise') throw new Error('expected a raise');
    expect(d.explanation.statistic).toEqual({ name: 'timeToThresholdSeconds', value: 0 });
    expect(d.explanation.inputs).toMatchObject({ projectedCrossing: at(2).toISOString() });
    expect(d.alarm!.message).toContain('already past 3');
  });
});

describe('trend rule: clearing', () => {
  it('a slope reversal clears the episode (once), even while the fitted value is still past the threshold', () => {
    // rise to 12 at h 20, then fall 1/h: the window slope turns negative at h 24
    const { decisions, state } = run(rule, riseAndFall);
    expect(decisions.map((d) => [d.type, d.hour])).toEqual([
      ['raise', 11],
      ['clear', 24],
    ]);
    expect(decisions[1]).toMatchObject({ type: 'clear', openKey: 'rule:tr1:asset:a1', value: 8, at: at(24) });
    const proj = (h: number) => projectTrend(rule.definition, riseAndFall.filter(([x]) => x > h - 10 && x <= h).map(([x, v]): TrendPoint => [at(x).getTime(), v, 1]), at(h).getTime())!;
    expect(proj(23)).toMatchObject({ crossed: true, timeToThresholdSeconds: 0, reversed: false });
    expect(proj(24)).toMatchObject({ reversed: true });
    expect(state.phase).toBe('normal');
  });

  it('a flattening trend clears only once the projection is beyond 1.5 × lead (hysteresis)', () => {
    // after the raise at h 11 the value stays at 7.5: the slope decays, the projected crossing recedes
    const series: [number, number][] = [...linearRise.slice(0, 12), ...hoursRange(15, 12).map((h): [number, number] => [h, 7.5])];
    const { decisions } = run(rule, series);
    expect(decisions.map((d) => d.type)).toEqual(['raise', 'clear']);
    const clearHour = decisions[1]!.hour;
    // check against the projection itself: > 7.5 h at the clear, ≤ 7.5 h the hour before
    const proj = (h: number) => {
      const pts: TrendPoint[] = series.filter(([x]) => x > h - 10 && x <= h).map(([x, v]) => [at(x).getTime(), v, 1]);
      return projectTrend(rule.definition, pts, at(h).getTime())!;
    };
    expect(proj(clearHour).timeToThresholdSeconds).toBeGreaterThan(7.5 * H);
    expect(proj(clearHour - 1).timeToThresholdSeconds).toBeLessThanOrEqual(7.5 * H);
    expect(proj(clearHour - 1).timeToThresholdSeconds).toBeGreaterThan(5 * H); // would not have raised, yet no clear
    expect(proj(clearHour).reversed).toBe(false);
  });

  it('a new episode after a clear gets a new dedupe key', () => {
    const upAgain = hoursRange(15, 31).map((h): [number, number] => [h, 2 + (h - 30)]);
    const { decisions } = run(rule, [...riseAndFall, ...upAgain]);
    expect(decisions.map((d) => [d.type, d.hour])).toEqual([
      ['raise', 11],
      ['clear', 24],
      ['raise', 37],
    ]);
    const keys = decisions.map((d) => (d.type === 'raise' ? d.dedupeKey : 'clear'));
    expect(keys).toEqual([`trend:tr1:a1:${at(11).toISOString()}`, 'clear', `trend:tr1:a1:${at(37).toISOString()}`]);
  });
});

describe('trend rule: idempotence and state', () => {
  it('the same readings evaluated twice give the same decisions and dedupe key', () => {
    const a = run(rule, linearRise.slice(0, 14));
    const b = run(rule, linearRise.slice(0, 14));
    expect(a.decisions).toEqual(b.decisions);
    expect(a.decisions[0]).toMatchObject({ dedupeKey: `trend:tr1:a1:${at(11).toISOString()}` });
  });

  it('duplicates and out-of-order readings change nothing', () => {
    const first = run(rule, linearRise.slice(0, 12));
    expect(evaluateTrend(rule, first.state, reading(7.5, 11), at(12))).toEqual({ state: first.state, decisions: [], changed: false });
    expect(evaluateTrend(rule, first.state, reading(0, 3), at(12))).toEqual({ state: first.state, decisions: [], changed: false });
    expect(evaluateTrend(rule, first.state, reading(50, 12, 'temperature'), at(12))).toEqual({ state: first.state, decisions: [], changed: false });
  });

  it('state is JSON: a restarted worker continues identically', () => {
    const part = run(rule, linearRise.slice(0, 8));
    const restored = JSON.parse(JSON.stringify(part.state)) as TrendState;
    expect(run(rule, linearRise.slice(8, 16), restored).decisions).toEqual(run(rule, linearRise.slice(8, 16), part.state).decisions);
    expect(run(rule, linearRise.slice(8, 16), restored).decisions).toHaveLength(1);
  });

  it(`keeps at most ${TREND_MAX_POINTS} points, thinning deterministically without bending a line`, () => {
    const perSecond = withDef({ windowSeconds: H, minPoints: 10, threshold: 1e9 });
    let state: TrendState | undefined;
    for (let i = 0; i < 3000; i++) {
      state = evaluateTrend(perSecond, state, { ...reading(0, 0), value: 3 + 0.002 * i, ts: new Date(t0 + i * 1000) }, new Date(t0 + i * 1000)).state;
    }
    expect(state!.points.length).toBeLessThanOrEqual(TREND_MAX_POINTS);
    expect(state!.points.length).toBeGreaterThan(TREND_MAX_POINTS / 2);
    const p = projectTrend(perSecond.definition, state!.points, t0 + 2999 * 1000)!;
    expect(p.slopePerHour).toBeCloseTo(0.002 * 3600, 6);
    expect(p.intercept).toBeCloseTo(3 + 0.002 * 2999, 6);
    expect(p.readings).toBe(3000); // window (1 h) not yet full
    // thin() merges the oldest half pairwise, keeps the weight
    const pts: TrendPoint[] = [[0, 0, 1], [2, 2, 1], [4, 4, 2], [6, 6, 1], [8, 8, 1]];
    expect(thin([...pts, [10, 10, 1], [12, 12, 1], [14, 14, 1]])).toEqual([[1, 1, 2], [4.666666666666667, 4.666666666666667, 3], [8, 8, 1], [10, 10, 1], [12, 12, 1], [14, 14, 1]]);
  });

  it('hydrateTrendState rebuilds the points from history and keeps the persisted episode', () => {
    const live = run(rule, linearRise.slice(0, 13));
    const persisted: TrendState = { kind: 'trend', phase: 'active', points: [], since: at(11).getTime(), lastTs: at(11).getTime() };
    const history = linearRise.slice(0, 13).map(([h, value]) => ({ ts: at(h), value }));
    const hydrated = hydrateTrendState(rule, persisted, history);
    expect(hydrated).toEqual({ ...live.state, since: at(11).getTime() });
    expect(run(rule, linearRise.slice(13, 16), hydrated).decisions).toEqual([]); // still the same episode
    expect(hydrateTrendState(rule, undefined, [])).toEqual({ kind: 'trend', phase: 'normal', points: [] });
  });
});
