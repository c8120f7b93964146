import { describe, expect, it } from 'vitest';
import { crossingTime, ewmaSdFactor, ewmaUpdate, linearRegression, mad, mean, median, quantile, robustZ, sampleSd, type Ewma } from '../../rules/stats.ts';

describe('linearRegression', () => {
  it.each([
    // exact line v = 1 + 2t
    { pts: [[0, 1], [1, 3], [2, 5], [3, 7]], slope: 2, intercept: 1, r2: 1 },
    // by hand: mean t 3, mean v 4; Stt 10, Stv 6, Svv 6 → slope 0.6, intercept 4 − 1.8 = 2.2, r² 36/60
    { pts: [[1, 2], [2, 4], [3, 5], [4, 4], [5, 5]], slope: 0.6, intercept: 2.2, r2: 0.6 },
    // falling line v = 10 − 0.5t
    { pts: [[0, 10], [2, 9], [4, 8]], slope: -0.5, intercept: 10, r2: 1 },
    // constant values: slope 0, fitted exactly
    { pts: [[0, 4], [1, 4], [2, 4]], slope: 0, intercept: 4, r2: 1 },
    // symmetric hump: Stv = 2·0.8 − 0.2 + 0.2 − 2·0.8 = 0 → slope 0, intercept = mean 1.8, r² 0
    { pts: [[0, 1], [1, 2], [2, 3], [3, 2], [4, 1]], slope: 0, intercept: 1.8, r2: 0 },
  ])('fits $pts → slope $slope, intercept $intercept, r² $r2', ({ pts, slope, intercept, r2 }) => {
    const fit = linearRegression(pts.map(([t, v]) => ({ t: t!, v: v! })));
    expect(fit).toBeDefined();
    expect(fit!.slope).toBeCloseTo(slope, 12);
    expect(fit!.intercept).toBeCloseTo(intercept, 12);
    expect(fit!.r2).toBeCloseTo(r2, 12);
    expect(fit!.n).toBe(pts.length);
  });

  it('a weight of 2 equals the point twice (by hand: slope 21/11, intercept −2/11)', () => {
    const weighted = linearRegression([{ t: 0, v: 0, w: 2 }, { t: 1, v: 1 }, { t: 2, v: 4 }])!;
    const doubled = linearRegression([{ t: 0, v: 0 }, { t: 0, v: 0 }, { t: 1, v: 1 }, { t: 2, v: 4 }])!;
    expect(weighted.slope).toBeCloseTo(21 / 11, 12);
    expect(weighted.intercept).toBeCloseTo(-2 / 11, 12);
    expect(weighted.slope).toBeCloseTo(doubled.slope, 12);
    expect(weighted.r2).toBeCloseTo(doubled.r2, 12);
    expect(weighted.weight).toBe(4);
    expect(weighted.n).toBe(3);
  });

  it('keeps precision with epoch-millisecond abscissae (centred sums)', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const fit = linearRegression(Array.from({ length: 50 }, (_, i) => ({ t: t0 + i * 3_600_000, v: 100 + 0.25 * i })))!;
    expect(fit.slope * 3_600_000).toBeCloseTo(0.25, 9);
    expect(fit.r2).toBeCloseTo(1, 9);
    expect(fit.intercept + fit.slope * t0).toBeCloseTo(100, 4);
  });

  it('is undefined without two distinct abscissae', () => {
    expect(linearRegression([])).toBeUndefined();
    expect(linearRegression([{ t: 1, v: 1 }])).toBeUndefined();
    expect(linearRegression([{ t: 1, v: 1 }, { t: 1, v: 2 }])).toBeUndefined();
    expect(linearRegression([{ t: 1, v: 1 }, { t: 2, v: 2, w: 0 }])).toBeUndefined();
  });

  it('crossingTime solves intercept + slope·t = level', () => {
    expect(crossingTime({ slope: 2, intercept: 1 }, 9)).toBe(4);
    expect(crossingTime({ slope: -0.5, intercept: 10 }, 0)).toBe(20);
    expect(crossingTime({ slope: 0, intercept: 10 }, 0)).toBeUndefined();
  });
});

describe('location and spread', () => {
  it.each([
    { xs: [3, 1, 2], median: 2, mean: 2 },
    { xs: [4, 1, 3, 2], median: 2.5, mean: 2.5 },
    { xs: [7], median: 7, mean: 7 },
  ])('median/mean of $xs', ({ xs, median: m, mean: mu }) => {
    expect(median(xs)).toBe(m);
    expect(mean(xs)).toBe(mu);
  });

  it('empty samples are undefined', () => {
    expect(median([])).toBeUndefined();
    expect(mean([])).toBeUndefined();
    expect(mad([])).toBeUndefined();
    expect(quantile([], 0.5)).toBeUndefined();
    expect(sampleSd([])).toBeUndefined();
  });

  it.each([
    // type 7: h = (n − 1)p; [1,2,3,4]: p .25 → h .75 → 1.75; p .9 → h 2.7 → 3.7
    { p: 0, q: 1 },
    { p: 0.25, q: 1.75 },
    { p: 0.5, q: 2.5 },
    { p: 0.9, q: 3.7 },
    { p: 1, q: 4 },
  ])('quantile([4,1,3,2], $p) = $q', ({ p, q }) => {
    expect(quantile([4, 1, 3, 2], p)).toBeCloseTo(q, 12);
  });

  it('quantile rejects p outside [0, 1]', () => {
    expect(quantile([1, 2], 1.5)).toBeUndefined();
    expect(quantile([1, 2], -0.1)).toBeUndefined();
  });

  it('MAD: [1,1,2,2,4,6,9] has median 2, |deviations| 1,1,0,0,2,4,7 → MAD 1', () => {
    expect(mad([1, 1, 2, 2, 4, 6, 9])).toBe(1);
  });

  it('sample sd of [2,4,4,4,5,5,7,9] is √(32/7)', () => {
    expect(sampleSd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(sampleSd([3])).toBe(0);
  });
});

describe('robustZ', () => {
  it('(x − median) / (1.4826·MAD): 9.4 against [1,1,2,2,4,6,9] → 7.4 / 1.4826 = 4.99123', () => {
    const r = robustZ(9.4, [1, 1, 2, 2, 4, 6, 9])!;
    expect(r).toMatchObject({ median: 2, mad: 1, scaleFrom: 'mad' });
    expect(r.scale).toBeCloseTo(1.4826, 12);
    expect(r.z).toBeCloseTo(4.99123, 5);
    expect(robustZ(0, [1, 1, 2, 2, 4, 6, 9])!.z).toBeCloseTo(-2 / 1.4826, 12);
  });

  it('MAD = 0 falls back to 1.2533·MeanAD: 6 against [5,5,5,5,6] → 1 / (1.2533·0.2) = 3.98947', () => {
    const r = robustZ(6, [5, 5, 5, 5, 6])!;
    expect(r).toMatchObject({ median: 5, mad: 0, scaleFrom: 'meanAD' });
    expect(r.z).toBeCloseTo(3.98947, 5);
  });

  it('a constant baseline gives 0 for the same value and ±Infinity otherwise', () => {
    expect(robustZ(5, [5, 5, 5])).toMatchObject({ z: 0, scale: 0, scaleFrom: 'none' });
    expect(robustZ(5.1, [5, 5, 5])!.z).toBe(Infinity);
    expect(robustZ(4.9, [5, 5, 5])!.z).toBe(-Infinity);
    expect(robustZ(1, [])).toBeUndefined();
  });
});

describe('EWMA', () => {
  it('mean/variance update by hand (α = 0.5, 1 → 3 → 5): (1, 0) → (2, 1) → (3.5, 2.75)', () => {
    const steps: Ewma[] = [];
    let e: Ewma | undefined;
    for (const x of [1, 3, 5]) {
      e = ewmaUpdate(e, x, 0.5);
      steps.push(e);
    }
    expect(steps).toEqual([
      { mean: 1, variance: 0, n: 1 },
      { mean: 2, variance: 1, n: 2 },
      { mean: 3.5, variance: 2.75, n: 3 },
    ]);
  });

  it('α = 1 follows the last value', () => {
    expect(ewmaUpdate(ewmaUpdate(undefined, 4, 1), 9, 1)).toMatchObject({ mean: 9, variance: 0 });
  });

  it('control-chart factor √(α/(2−α)·(1−(1−α)^2n)): α after one step, √(0.3/1.7) asymptotically', () => {
    expect(ewmaSdFactor(0.3, 1)).toBeCloseTo(0.3, 12);
    expect(ewmaSdFactor(0.3, Infinity)).toBeCloseTo(Math.sqrt(0.3 / 1.7), 12);
    expect(ewmaSdFactor(0.3, Infinity)).toBeCloseTo(0.420084, 6);
  });
});
