import { describe, expect, it } from 'vitest';
import { anomalyDefinitionErrors, evaluateAnomaly, hydrateAnomalyState, type AnomalyRuleLike, type AnomalyState } from '../../rules/anomaly.ts';
import { robustZ } from '../../rules/stats.ts';
import type { Decision, Reading } from '../../rules/types.ts';

const t0 = Date.parse('2026-06-01T00:00:00Z');
const at = (i: number): Date => new Date(t0 + i * 60_000);
const reading = (value: number, i: number, metric = 'pressure'): Reading => ({ assetId: 'a1', assetCode: 'PUMP-7', metric, value, ts: at(i) });

const robust: AnomalyRuleLike = {
  id: 'an1',
  name: 'Pressure anomaly',
  version: 1,
  definition: { schemaVersion: 1, metric: 'pressure', method: 'robust_z', windowSize: 20, minPoints: 10, zThreshold: 3.5, ewmaAlpha: 0.3, ewmaK: 3, consecutive: 1, severity: 'minor', priority: 'medium' },
};
const ewma: AnomalyRuleLike = { ...robust, id: 'an2', definition: { ...robust.definition, method: 'ewma', windowSize: 30 } };
const withDef = (r: AnomalyRuleLike, patch: Partial<AnomalyRuleLike['definition']>): AnomalyRuleLike => ({ ...r, definition: { ...r.definition, ...patch } });

/** Steady noise around 50: a fixed 10-value pattern (median of two periods 50.05, MAD 0.35). */
const PATTERN = [0.3, -0.5, 0.1, 0.8, -0.2, -0.7, 0.4, 0, -0.3, 0.6];
const steady = (i: number): number => 50 + PATTERN[i % PATTERN.length]!;

function run(r: AnomalyRuleLike, values: number[], start?: AnomalyState, from = 0) {
  let state = start;
  const decisions: (Decision & { i: number })[] = [];
  const changes: number[] = [];
  values.forEach((v, k) => {
    const i = from + k;
    const e = evaluateAnomaly(r, state, reading(v, i), at(i));
    state = e.state;
    if (e.changed) changes.push(i);
    decisions.push(...e.decisions.map((d) => ({ ...d, i })));
  });
  return { state: state!, decisions, changes };
}
const series = (n: number, f: (i: number) => number = steady): number[] => Array.from({ length: n }, (_, i) => f(i));

describe('anomaly rule: robust z', () => {
  it('a spike is detected with the expected z: (60 − 50.05) / (1.4826 · 0.35) = 19.1748', () => {
    const values = [...series(25), 60];
    const { decisions, state } = run(robust, values);
    expect(decisions).toHaveLength(1);
    const d = decisions[0]!;
    expect(d.i).toBe(25);
    expect(d).toMatchObject({
      type: 'raise',
      dedupeKey: `anomaly:an1:a1:${at(25).toISOString()}`,
      openKey: 'rule:an1:asset:a1',
      source: 'rule',
      priority: 'medium',
      alarm: { severity: 'minor', code: 'ANOMALY-pressure' },
    });
    if (d.type !== 'raise') throw new Error('expected a raise');
    expect(d.explanation).toMatchObject({ kind: 'anomaly', threshold: 3.5, statistic: { name: 'robustZ' } });
    expect(d.explanation.statistic.value).toBeCloseTo(19.1748, 3);
    expect(d.explanation.inputs).toMatchObject({ method: 'robust_z', windowSize: 20, baselinePoints: 20, value: 60, scaleFrom: 'mad', zThreshold: 3.5, readings: 1, consecutive: 1 });
    const inputs = d.explanation.inputs as unknown as { median: number; mad: number };
    expect(inputs.median).toBeCloseTo(50.05, 10);
    expect(inputs.mad).toBeCloseTo(0.35, 10);
    // the reading under test is not in its own baseline (nor added afterwards, being anomalous)
    expect(state.baseline).toEqual(values.slice(5, 25));
    expect(robustZ(60, values.slice(5, 25))!.z).toBeCloseTo(d.explanation.statistic.value, 12);
  });

  it.each([
    { name: 'steady noise', values: series(300) },
    { name: 'a spike before the baseline has minPoints readings', values: [...series(5), 90, ...series(20, (i) => steady(i + 6))] },
    { name: 'a moderate excursion (|z| ≈ 2.8)', values: [...series(30), 51.5, ...series(10, (i) => steady(i + 31))] },
  ])('no raise: $name', ({ values }) => {
    expect(run(robust, values).decisions).toEqual([]);
  });

  it('consecutive = 3 needs three anomalous readings in a row (dedupe key: the first of them)', () => {
    const three = withDef(robust, { consecutive: 3 });
    const base = series(30);
    expect(run(three, [...base, 60, 61, steady(32), 62, 60]).decisions).toEqual([]);
    const { decisions, changes } = run(three, [...base, 60, 61, 62]);
    expect(decisions.map((d) => [d.type, d.i])).toEqual([['raise', 32]]);
    expect(decisions[0]).toMatchObject({ dedupeKey: `anomaly:an1:a1:${at(30).toISOString()}`, explanation: { inputs: { readings: 3, consecutive: 3 } } });
    // the in-a-row count is persisted while it matters
    expect(changes).toEqual([30, 31, 32]);
    // … so it survives a restart
    const partial = run(three, [...base, 60, 61]);
    const restored = JSON.parse(JSON.stringify(partial.state)) as AnomalyState;
    expect(evaluateAnomaly(three, restored, reading(62, 32), at(32)).decisions).toHaveLength(1);
  });

  it('raises once per episode and clears after `consecutive` normal readings', () => {
    const one = run(robust, [...series(30), 60, 65, 70, steady(33), steady(34)]);
    expect(one.decisions.map((d) => [d.type, d.i])).toEqual([
      ['raise', 30],
      ['clear', 33],
    ]);
    expect(one.decisions[1]).toMatchObject({ type: 'clear', openKey: 'rule:an1:asset:a1', value: steady(33) });

    const three = withDef(robust, { consecutive: 3 });
    const { decisions } = run(three, [...series(30), 60, 61, 62, steady(33), steady(34), 63, steady(36), steady(37), steady(38), steady(39)]);
    // two normal readings, then an anomalous one restarts the count: the clear comes at the third normal in a row
    expect(decisions.map((d) => [d.type, d.i])).toEqual([
      ['raise', 32],
      ['clear', 38],
    ]);
  });

  it('a constant (quantised) baseline: MeanAD fallback, and a finite statistic in the explanation', () => {
    const flat = run(robust, [...series(20, () => 392), 393]);
    expect(flat.decisions).toHaveLength(1);
    const d = flat.decisions[0]!;
    if (d.type !== 'raise') throw new Error('expected a raise');
    expect(d.explanation.statistic.value).toBe(Number.MAX_SAFE_INTEGER);
    expect(d.explanation.summary).toContain('constant');
    expect(JSON.parse(JSON.stringify(d.explanation)).statistic.value).toBe(Number.MAX_SAFE_INTEGER);
    // mostly 392 with the odd 393: MAD 0, and the MeanAD fallback (1.2533 · 0.2) makes every 393 anomalous (z 3.99) …
    const odd = (i: number): number => (i % 5 === 0 ? 393 : 392);
    const mostly = run(robust, [...series(20, odd), 392, 393]);
    expect(mostly.decisions.map((d) => [d.type, d.i])).toEqual([['raise', 10], ['clear', 11], ['raise', 15], ['clear', 16], ['raise', 21]]);
    expect(mostly.decisions[0]).toMatchObject({ explanation: { inputs: { scaleFrom: 'meanAD', mad: 0 } } });
    expect((mostly.decisions[0] as { explanation: { statistic: { value: number } } }).explanation.statistic.value).toBeCloseTo(1 / (1.2533 * 0.2), 6);
    // … unless minSigma says one step (resolution 1) is ordinary: 393 → z 1, 396 → z 4
    const resolution = withDef(robust, { minSigma: 1 });
    expect(run(resolution, [...series(20, odd), 392, 393]).decisions).toEqual([]);
    const big = run(resolution, [...series(20, odd), 396]);
    expect(big.decisions).toHaveLength(1);
    expect(big.decisions[0]).toMatchObject({ explanation: { statistic: { value: 4 }, inputs: { scaleFrom: 'minSigma', scale: 1 } } });
  });
});

describe('anomaly rule: EWMA', () => {
  it('detects a slow drift that the per-reading robust z misses', () => {
    // +0.04 per reading after reading 39 (≈ 0.09 σ per reading)
    const drift = (i: number): number => steady(i) + (i >= 40 ? 0.04 * (i - 39) : 0);
    const values = series(80, drift);
    const e = run(ewma, values).decisions;
    const z = run(withDef(robust, { windowSize: 30 }), values).decisions;
    expect(e[0]!.i).toBe(63);
    expect(z.length === 0 || z[0]!.i > e[0]!.i).toBe(true);
    const d = e[0]!;
    if (d.type !== 'raise') throw new Error('expected a raise');
    expect(d.explanation).toMatchObject({ kind: 'anomaly', threshold: 3, statistic: { name: 'ewmaDeviation' }, inputs: { method: 'ewma', windowSize: 30, baselinePoints: 30, ewmaAlpha: 0.3, ewmaK: 3 } });
    const inputs = d.explanation.inputs as unknown as { ewmaMean: number; ewmaSd: number; baselineMean: number; baselineSd: number };
    expect(inputs.ewmaSd).toBeCloseTo(inputs.baselineSd * Math.sqrt(0.3 / 1.7), 12);
    expect(d.explanation.statistic.value).toBeCloseTo((inputs.ewmaMean - inputs.baselineMean) / inputs.ewmaSd, 10);
    expect(d.explanation.statistic.value).toBeGreaterThan(3);
    // with consecutive = 1 a statistic hovering at the limit flaps (raise, clear, raise …): one order
    // stays open through the openKey, but consecutive ≥ 2 is the calmer setting for drifts
    expect(e.map((x) => x.type).slice(0, 2)).toEqual(['raise', 'clear']);
  });

  it('a step of 2σ is caught by EWMA within a few readings and clears when the values return', () => {
    const step = (i: number): number => steady(i) + (i >= 40 && i < 60 ? 1 : 0);
    const { decisions } = run(withDef(ewma, { consecutive: 2 }), series(80, step));
    expect(decisions.map((d) => [d.type, d.i])).toEqual([
      ['raise', 44],
      ['clear', 62],
    ]);
    expect(decisions[0]).toMatchObject({ dedupeKey: `anomaly:an2:a1:${at(43).toISOString()}` });
    expect(run(withDef(robust, { windowSize: 30 }), series(80, step)).decisions).toEqual([]); // |z| ≤ 2.8 per reading
  });

  it('no raise on steady noise', () => {
    expect(run(ewma, series(300)).decisions).toEqual([]);
  });
});

describe('anomaly rule: idempotence and state', () => {
  it('duplicates, out-of-order readings and other metrics change nothing; replays give the same keys', () => {
    const first = run(robust, [...series(25), 60]);
    expect(evaluateAnomaly(robust, first.state, reading(70, 25), at(26))).toEqual({ state: first.state, decisions: [], changed: false });
    expect(evaluateAnomaly(robust, first.state, reading(70, 3), at(26))).toEqual({ state: first.state, decisions: [], changed: false });
    expect(evaluateAnomaly(robust, first.state, reading(70, 26, 'flow'), at(26))).toEqual({ state: first.state, decisions: [], changed: false });
    expect(run(robust, [...series(25), 60]).decisions).toEqual(first.decisions);
  });

  it('the baseline is bounded by windowSize', () => {
    expect(run(robust, series(500)).state.baseline).toHaveLength(20);
  });

  it('hydrateAnomalyState rebuilds baseline and EWMA from history, keeping phase and counters', () => {
    const values = [...series(40), 60, 61];
    const three = withDef(ewma, { consecutive: 3 });
    const live = run(three, values);
    const persisted = JSON.parse(JSON.stringify({ ...live.state, baseline: [], ewma: undefined })) as AnomalyState;
    const hydrated = hydrateAnomalyState(three, persisted, values.map((value, i) => ({ ts: at(i), value })));
    expect(hydrated).toEqual(live.state);
    expect(hydrateAnomalyState(robust, undefined, [])).toEqual({ kind: 'anomaly', phase: 'normal', baseline: [] });
  });

  it('minPoints above windowSize is reported by the cross-field check', () => {
    expect(anomalyDefinitionErrors(withDef(robust, { minPoints: 50 }).definition)).toEqual([{ path: '/minPoints', message: 'minPoints (50) cannot exceed windowSize (20)' }]);
    expect(anomalyDefinitionErrors(robust.definition)).toEqual([]);
  });
});
