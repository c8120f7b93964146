/**
 * Small, pure statistics used by the predictive rule kinds (trend, anomaly) and by eval/.
 * No dependencies; numerically careful where it matters (regression is centred, so epoch-millisecond
 * abscissae do not lose precision). Functions return `undefined` when the input cannot define the
 * statistic (empty sample, fewer than two distinct abscissae) rather than NaN.
 */

export interface Point {
  /** abscissa (e.g. time in hours or ms) */
  t: number;
  /** ordinate (the value) */
  v: number;
  /** weight (≥ 0, default 1): a point standing for w merged readings */
  w?: number;
}

export interface LinearFit {
  /** dv/dt */
  slope: number;
  /** fitted value at t = 0 */
  intercept: number;
  /** coefficient of determination in [0, 1]; 1 when the fit is exact (including constant data) */
  r2: number;
  /** number of points (not the sum of weights) */
  n: number;
  /** sum of weights */
  weight: number;
  /** weighted mean of t and v (the fitted line passes through them) */
  meanT: number;
  meanV: number;
}

/**
 * Weighted least-squares line v = intercept + slope·t. Two-pass and centred on the weighted mean
 * of t, so large abscissae (epoch ms) are safe. Undefined for fewer than two points with positive
 * weight or when all t are equal.
 */
export function linearRegression(points: readonly Point[]): LinearFit | undefined {
  let sw = 0;
  let st = 0;
  let sv = 0;
  let n = 0;
  for (const p of points) {
    const w = p.w ?? 1;
    if (!(w > 0)) continue;
    sw += w;
    st += w * p.t;
    sv += w * p.v;
    n++;
  }
  if (n < 2) return undefined;
  const meanT = st / sw;
  const meanV = sv / sw;
  let stt = 0;
  let stv = 0;
  let svv = 0;
  for (const p of points) {
    const w = p.w ?? 1;
    if (!(w > 0)) continue;
    const dt = p.t - meanT;
    const dv = p.v - meanV;
    stt += w * dt * dt;
    stv += w * dt * dv;
    svv += w * dv * dv;
  }
  if (!(stt > 0)) return undefined;
  const slope = stv / stt;
  const intercept = meanV - slope * meanT;
  // r² = explained / total = stv² / (stt·svv); constant v is fitted exactly → 1
  const r2 = svv > 0 ? Math.min(1, Math.max(0, (stv * stv) / (stt * svv))) : 1;
  return { slope, intercept, r2, n, weight: sw, meanT, meanV };
}

/** Where the line reaches `level` (t), or undefined for a flat line. */
export function crossingTime(fit: Pick<LinearFit, 'slope' | 'intercept'>, level: number): number | undefined {
  if (fit.slope === 0) return undefined;
  return (level - fit.intercept) / fit.slope;
}

export function mean(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (n − 1); 0 for a single value, undefined for none. */
export function sampleSd(xs: readonly number[]): number | undefined {
  const m = mean(xs);
  if (m === undefined) return undefined;
  if (xs.length < 2) return 0;
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / (xs.length - 1));
}

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

/**
 * Quantile with linear interpolation between order statistics (Hyndman & Fan type 7, the default of
 * R, NumPy and Excel's PERCENTILE.INC): h = (n − 1)·p, x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]).
 */
export function quantile(xs: readonly number[], p: number): number | undefined {
  if (xs.length === 0 || !(p >= 0 && p <= 1)) return undefined;
  return quantileSorted(sorted(xs), p);
}

/** As `quantile`, for an already ascending-sorted sample (no copy). */
export function quantileSorted(s: readonly number[], p: number): number | undefined {
  if (s.length === 0 || !(p >= 0 && p <= 1)) return undefined;
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  const a = s[lo]!;
  const b = s[Math.min(lo + 1, s.length - 1)]!;
  return a + (h - lo) * (b - a);
}

export function median(xs: readonly number[]): number | undefined {
  return quantile(xs, 0.5);
}

/** Median absolute deviation from the median, unscaled (multiply by 1.4826 for a normal-consistent σ). */
export function mad(xs: readonly number[], center = median(xs)): number | undefined {
  if (center === undefined) return undefined;
  return median(xs.map((x) => Math.abs(x - center)));
}

/** Mean absolute deviation from `center`. */
export function meanAbsoluteDeviation(xs: readonly number[], center: number): number | undefined {
  return mean(xs.map((x) => Math.abs(x - center)));
}

/** 1.4826·MAD estimates σ for normal data (1 / Φ⁻¹(3/4)). */
export const MAD_TO_SD = 1.4826;
/** 1.2533·MeanAD estimates σ for normal data (√(π/2)); the fallback when MAD = 0. */
export const MEANAD_TO_SD = 1.2533;

export interface RobustZ {
  /** (x − median) / scale; ±Infinity when the baseline is constant and x differs from it; 0 when x equals it */
  z: number;
  median: number;
  /** unscaled MAD of the baseline */
  mad: number;
  /** the σ estimate used: 1.4826·MAD, or 1.2533·MeanAD when MAD = 0 (more than half the values equal), or 0 */
  scale: number;
  scaleFrom: 'mad' | 'meanAD' | 'none';
}

/**
 * Robust z-score of `x` against a baseline sample (which should not contain x): (x − median) /
 * (1.4826·MAD). When MAD is 0 (over half the baseline identical — common for quantised sensors) the
 * mean absolute deviation is used instead (1.2533·MeanAD, the IBM/Iglewicz–Hoaglin convention); when
 * that is 0 too the baseline is constant: z is 0 for x equal to it and ±Infinity otherwise.
 */
export function robustZ(x: number, baseline: readonly number[]): RobustZ | undefined {
  const m = median(baseline);
  if (m === undefined) return undefined;
  const d = mad(baseline, m)!;
  let scale = MAD_TO_SD * d;
  let scaleFrom: RobustZ['scaleFrom'] = 'mad';
  if (!(scale > 0)) {
    scale = MEANAD_TO_SD * meanAbsoluteDeviation(baseline, m)!;
    scaleFrom = scale > 0 ? 'meanAD' : 'none';
  }
  const diff = x - m;
  const z = scale > 0 ? diff / scale : diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity;
  return { z, median: m, mad: d, scale: scaleFrom === 'none' ? 0 : scale, scaleFrom };
}

export interface Ewma {
  mean: number;
  /** exponentially weighted variance */
  variance: number;
  /** observations folded in */
  n: number;
}

/**
 * One step of the exponentially weighted mean and variance (West 1979 / Finch 2009, "Incremental
 * calculation of weighted mean and variance"): δ = x − μ; μ' = μ + αδ; σ²' = (1 − α)(σ² + αδ²).
 * The first observation starts the mean with variance 0.
 */
export function ewmaUpdate(prev: Ewma | undefined, x: number, alpha: number): Ewma {
  if (!prev) return { mean: x, variance: 0, n: 1 };
  const delta = x - prev.mean;
  const incr = alpha * delta;
  return { mean: prev.mean + incr, variance: (1 - alpha) * (prev.variance + delta * incr), n: prev.n + 1 };
}

/**
 * Width factor of the EWMA control chart (Roberts 1959; Lucas & Saccucci 1990): the EWMA statistic of
 * independent values with sd σ has sd σ·√(α/(2 − α)·(1 − (1 − α)^{2n})) after n observations.
 */
export function ewmaSdFactor(alpha: number, n: number): number {
  return Math.sqrt((alpha / (2 - alpha)) * (1 - Math.pow(1 - alpha, 2 * n)));
}
