/**
 * C-MAPSS replay through the trend rule (pure functions; eval/pdm.ts does the file reading).
 *
 * 1. sensors: chosen on training engines only — mean per-engine correlation with the cycle ≥ 0.5 in
 *    absolute value, with the same sign in ≥ 95 % of the engines (monotonic degradation);
 * 2. health index HI: least squares of the z-scored sensors on the target min(RUL, 125) / 125
 *    (1 while healthy, falling linearly to 0 at failure), fitted on training engines;
 * 3. HI is smoothed causally (EWMA) and replayed as telemetry, 1 cycle = 1 hour, through the real
 *    `evaluateTrend` (direction falling, threshold = median smoothed HI at failure of the training
 *    engines);
 * 4. the rule's window, r² gate, lead time and the smoothing are chosen by a grid search on the
 *    training engines, scoring the work orders against the failures (see `score`).
 */
import { ewmaUpdate, median, quantile, type Ewma } from '../rules/stats.ts';
import { evaluateTrend, projectTrend, type TrendRuleLike, type TrendState } from '../rules/trend.ts';
import type { Decision } from '../rules/types.ts';
import { leastSquares } from './linalg.ts';

export interface Engine {
  unit: number;
  /** cycle numbers, ascending from 1 */
  cycles: number[];
  /** per cycle: sensors s1..s21 (index 0 = s1) */
  sensors: number[][];
}

/** Rows `unit cycle op1 op2 op3 s1..s21`, whitespace separated (trailing spaces in the originals). */
export function parseCmapss(text: string): Engine[] {
  const byUnit = new Map<number, Engine>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 26) continue;
    const n = f.map(Number);
    const unit = n[0]!;
    let e = byUnit.get(unit);
    if (!e) byUnit.set(unit, (e = { unit, cycles: [], sensors: [] }));
    e.cycles.push(n[1]!);
    e.sensors.push(n.slice(5, 26));
  }
  return [...byUnit.values()].sort((a, b) => a.unit - b.unit);
}

export const parseRul = (text: string): number[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map(Number);

const pearson = (x: readonly number[], y: readonly number[]): number => {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
};

export interface SensorChoice {
  /** 1-based sensor numbers (s2 → 2) */
  sensors: number[];
  /** per sensor s1..s21: mean per-engine correlation with the cycle, share of engines with that sign */
  stats: { sensor: number; meanCorr: number; consistency: number }[];
}

export function selectSensors(engines: readonly Engine[], minAbsCorr = 0.5, minConsistency = 0.95): SensorChoice {
  const stats: SensorChoice['stats'] = [];
  for (let s = 0; s < 21; s++) {
    const cs = engines.map((e) => pearson(e.sensors.map((row) => row[s]!), e.cycles));
    const meanCorr = cs.reduce((a, b) => a + b, 0) / cs.length;
    const consistency = cs.filter((c) => Math.sign(c) === Math.sign(meanCorr) && c !== 0).length / cs.length;
    stats.push({ sensor: s + 1, meanCorr, consistency });
  }
  return { sensors: stats.filter((x) => Math.abs(x.meanCorr) >= minAbsCorr && x.consistency >= minConsistency).map((x) => x.sensor), stats };
}

export interface HiModel {
  sensors: number[];
  mean: number[];
  sd: number[];
  coef: number[];
  intercept: number;
  /** RUL cap of the target: HI = min(RUL, cap) / cap */
  cap: number;
}

export function fitHealthIndex(engines: readonly Engine[], sensors: readonly number[], cap = 125): HiModel {
  const cols = sensors.map((s) => s - 1);
  const mean = cols.map(() => 0);
  const sd = cols.map(() => 0);
  let n = 0;
  for (const e of engines)
    for (const row of e.sensors) {
      cols.forEach((c, j) => (mean[j] = mean[j]! + row[c]!));
      n++;
    }
  cols.forEach((_, j) => (mean[j] = mean[j]! / n));
  for (const e of engines) for (const row of e.sensors) cols.forEach((c, j) => (sd[j] = sd[j]! + (row[c]! - mean[j]!) ** 2));
  cols.forEach((_, j) => (sd[j] = Math.sqrt(sd[j]! / (n - 1)) || 1));
  const x: number[][] = [];
  const y: number[] = [];
  for (const e of engines) {
    const life = e.cycles[e.cycles.length - 1]!;
    e.sensors.forEach((row, i) => {
      x.push(cols.map((c, j) => (row[c]! - mean[j]!) / sd[j]!));
      y.push(Math.min(life - e.cycles[i]!, cap) / cap);
    });
  }
  const { intercept, coef } = leastSquares(x, y);
  return { sensors: [...sensors], mean, sd, coef, intercept, cap };
}

export function healthIndex(m: HiModel, row: readonly number[]): number {
  let hi = m.intercept;
  m.sensors.forEach((s, j) => (hi += (m.coef[j]! * (row[s - 1]! - m.mean[j]!)) / m.sd[j]!));
  return hi;
}

/** Causal EWMA (α = 1: no smoothing). */
export function smooth(values: readonly number[], alpha: number): number[] {
  let e: Ewma | undefined;
  return values.map((v) => (e = ewmaUpdate(e, v, alpha)).mean);
}

export interface TrendConfig {
  /** EWMA weight of the newest HI (1 = raw HI) */
  alpha: number;
  windowCycles: number;
  minPoints: number;
  minR2: number;
  leadCycles: number;
  /** HI failure threshold */
  threshold: number;
}

const HOUR = 3600;
const T0 = Date.UTC(2026, 0, 1);
export const cycleTs = (cycle: number): Date => new Date(T0 + cycle * HOUR * 1000);

export function trendRule(cfg: TrendConfig, id = 'cmapss-hi'): TrendRuleLike {
  return {
    id,
    name: 'Engine health index trend',
    version: 1,
    definition: {
      schemaVersion: 1,
      metric: 'hi',
      windowSeconds: cfg.windowCycles * HOUR,
      minPoints: cfg.minPoints,
      threshold: cfg.threshold,
      direction: 'falling',
      leadTimeSeconds: cfg.leadCycles * HOUR,
      minR2: cfg.minR2,
      severity: 'major',
      priority: 'high',
    },
  };
}

export interface Replay {
  unit: number;
  lastCycle: number;
  /** raise and clear decisions, by cycle */
  events: { type: Decision['type']; cycle: number }[];
  /** cycle of the raise whose episode is still active at the last cycle */
  activeSince: number | undefined;
  state: TrendState;
  /** smoothed HI at the last cycle */
  lastHi: number;
}

/** Replays one engine's smoothed HI through evaluateTrend, one reading per cycle. */
export function replayEngine(m: HiModel, cfg: TrendConfig, e: Engine, rule = trendRule(cfg), his?: readonly number[]): Replay {
  const hi = his ?? smooth(e.sensors.map((row) => healthIndex(m, row)), cfg.alpha);
  let state: TrendState | undefined;
  const events: Replay['events'] = [];
  let activeSince: number | undefined;
  for (let i = 0; i < e.cycles.length; i++) {
    const cycle = e.cycles[i]!;
    const ts = cycleTs(cycle);
    const r = evaluateTrend(rule, state, { assetId: `engine-${e.unit}`, assetCode: `ENG-${e.unit}`, metric: 'hi', value: hi[i]!, ts }, ts);
    state = r.state;
    for (const d of r.decisions) {
      events.push({ type: d.type, cycle });
      activeSince = d.type === 'raise' ? cycle : undefined;
    }
  }
  return { unit: e.unit, lastCycle: e.cycles[e.cycles.length - 1]!, events, activeSince, state: state!, lastHi: hi[hi.length - 1]! };
}

export interface Targets {
  /** the lead a planner wants (cycles) */
  targetLead: number;
  /** below this a work order comes too late to act on */
  minUsefulLead: number;
  /** above this it is "early" (wastes remaining life) */
  maxLead: number;
}
export const DEFAULT_TARGETS: Targets = { targetLead: 30, minUsefulLead: 15, maxLead: 60 };

export interface WoMetrics {
  engines: number;
  /** engines whose failure was preceded by a work order still open at failure */
  caught: number;
  caughtShare: number;
  /** lead in [minUsefulLead, maxLead] */
  useful: number;
  /** lead < minUsefulLead */
  late: number;
  /** lead > maxLead */
  early: number;
  missed: number;
  medianLead: number | undefined;
  p10Lead: number | undefined;
  p90Lead: number | undefined;
  /** work orders raised and cleared again before the failure (no failure followed them) */
  falseWorkOrders: number;
  enginesWithFalse: number;
  score: number;
}

/**
 * Utility of one configuration on run-to-failure engines: 1 per useful work order, 0.3 per late or
 * early one (it still prevents the failure, but leaves too little time or wastes life), 0 for a miss,
 * −0.5 per false work order. Divided by the number of engines.
 */
export function woMetrics(replays: readonly Replay[], t: Targets = DEFAULT_TARGETS): WoMetrics {
  const leads: number[] = [];
  let useful = 0;
  let late = 0;
  let early = 0;
  let falseWorkOrders = 0;
  let enginesWithFalse = 0;
  for (const r of replays) {
    const clears = r.events.filter((e) => e.type === 'clear').length;
    falseWorkOrders += clears;
    if (clears > 0) enginesWithFalse++;
    if (r.activeSince === undefined) continue;
    const lead = r.lastCycle - r.activeSince;
    leads.push(lead);
    if (lead < t.minUsefulLead) late++;
    else if (lead > t.maxLead) early++;
    else useful++;
  }
  const caught = leads.length;
  const n = replays.length;
  return {
    engines: n,
    caught,
    caughtShare: caught / n,
    useful,
    late,
    early,
    missed: n - caught,
    medianLead: median(leads),
    p10Lead: quantile(leads, 0.1),
    p90Lead: quantile(leads, 0.9),
    falseWorkOrders,
    enginesWithFalse,
    score: (useful + 0.3 * (late + early) - 0.5 * falseWorkOrders) / n,
  };
}

/** HI failure threshold: median of the smoothed HI at the failure cycle of the training engines. */
export function failureThreshold(m: HiModel, engines: readonly Engine[], alpha: number): number {
  return median(engines.map((e) => smooth(e.sensors.map((row) => healthIndex(m, row)), alpha).at(-1)!))!;
}

export interface Grid {
  alpha: number[];
  windowCycles: number[];
  minR2: number[];
  leadCycles: number[];
}
export const DEFAULT_GRID: Grid = { alpha: [1, 0.3], windowCycles: [20, 40, 60], minR2: [0, 0.5], leadCycles: [40, 60, 80, 100] };

/** Higher score wins; ties go to the median lead closest to the target. */
const better = (a: WoMetrics, b: WoMetrics, t: Targets): boolean =>
  a.score > b.score + 1e-12 || (Math.abs(a.score - b.score) <= 1e-12 && Math.abs((a.medianLead ?? Infinity) - t.targetLead) < Math.abs((b.medianLead ?? Infinity) - t.targetLead));

export interface Fitted {
  model: HiModel;
  sensors: SensorChoice;
  config: TrendConfig;
  /** the configuration's metrics on the engines it was fitted on */
  inSample: WoMetrics;
  /** RUL ≈ min(cap, factor × projected time-to-threshold), factor fitted on the training cycles */
  rulFactor: number;
  /** RMSE of that calibrated estimate over every training cycle (target capped at 125) */
  rulTrainRmse: number;
  candidates: number;
  /** every grid point with its metrics on the training engines (sensitivity) */
  all: { config: TrendConfig; metrics: WoMetrics }[];
}

/** Projected time-to-threshold (cycles; Infinity when not projecting towards it) after every cycle. */
export function projections(m: HiModel, cfg: TrendConfig, e: Engine, rule = trendRule(cfg), his?: readonly number[]): number[] {
  const hi = his ?? smooth(e.sensors.map((row) => healthIndex(m, row)), cfg.alpha);
  let state: TrendState | undefined;
  return e.cycles.map((cycle, i) => {
    const ts = cycleTs(cycle);
    state = evaluateTrend(rule, state, { assetId: `engine-${e.unit}`, assetCode: `ENG-${e.unit}`, metric: 'hi', value: hi[i]!, ts }, ts).state;
    const p = projectTrend(rule.definition, state.points, ts.getTime());
    return !p || !p.towards ? Infinity : p.timeToThresholdSeconds / HOUR;
  });
}

/**
 * Linear extrapolation of a health index that degrades ever faster projects the crossing too late;
 * the factor (0.05 … 2 in steps of 0.01) minimising the RMSE of min(cap, factor × projection) against
 * min(cap, true RUL) over every cycle of the training engines corrects that on average.
 */
export function calibrateRul(m: HiModel, cfg: TrendConfig, train: readonly Engine[], cap = 125): { factor: number; rmse: number } {
  const rule = trendRule(cfg);
  const pairs: [number, number][] = [];
  for (const e of train) {
    const life = e.cycles[e.cycles.length - 1]!;
    projections(m, cfg, e, rule).forEach((ttt, i) => pairs.push([ttt, Math.min(cap, life - e.cycles[i]!)]));
  }
  let best = { factor: 1, rmse: Infinity };
  for (let k = 5; k <= 200; k++) {
    const factor = k / 100;
    const r = rmse(pairs.map(([ttt, y]) => [Math.min(cap, factor * ttt), y]));
    if (r < best.rmse) best = { factor, rmse: r };
  }
  return best;
}

/** Everything chosen from training engines only: sensors, HI model, threshold, rule parameters, RUL factor. */
export function fitPipeline(train: readonly Engine[], grid: Grid = DEFAULT_GRID, targets: Targets = DEFAULT_TARGETS, withRul = true): Fitted {
  const sensors = selectSensors(train);
  const model = fitHealthIndex(train, sensors.sensors);
  let best: { config: TrendConfig; metrics: WoMetrics } | undefined;
  let candidates = 0;
  const all: Fitted['all'] = [];
  for (const alpha of grid.alpha) {
    const his = train.map((e) => smooth(e.sensors.map((row) => healthIndex(model, row)), alpha));
    const threshold = median(his.map((h) => h.at(-1)!))!;
    for (const windowCycles of grid.windowCycles)
      for (const minR2 of grid.minR2)
        for (const leadCycles of grid.leadCycles) {
          const config: TrendConfig = { alpha, windowCycles, minPoints: Math.max(3, Math.ceil(windowCycles / 2)), minR2, leadCycles, threshold };
          const rule = trendRule(config);
          const metrics = woMetrics(
            train.map((e, i) => replayEngine(model, config, e, rule, his[i])),
            targets,
          );
          candidates++;
          all.push({ config, metrics });
          if (!best || better(metrics, best.metrics, targets)) best = { config, metrics };
        }
  }
  const cal = withRul ? calibrateRul(model, best!.config, train) : { factor: 1, rmse: NaN };
  return { model, sensors, config: best!.config, inSample: best!.metrics, rulFactor: cal.factor, rulTrainRmse: cal.rmse, candidates, all };
}

/** k-fold cross-validation by unit number: each engine is scored by a pipeline fitted without it. */
export function crossValidate(engines: readonly Engine[], folds = 4, grid: Grid = DEFAULT_GRID, targets: Targets = DEFAULT_TARGETS) {
  const replays: Replay[] = [];
  const configs: TrendConfig[] = [];
  for (let f = 0; f < folds; f++) {
    const train = engines.filter((e) => (e.unit - 1) % folds !== f);
    const held = engines.filter((e) => (e.unit - 1) % folds === f);
    const fitted = fitPipeline(train, grid, targets, false);
    configs.push(fitted.config);
    replays.push(...held.map((e) => replayEngine(fitted.model, fitted.config, e)));
  }
  return { metrics: woMetrics(replays, targets), configs };
}

export interface TestWoMetrics {
  engines: number;
  /** true RUL at the cut ≤ targetLead: a work order should be open by now */
  due: number;
  dueWithWorkOrder: number;
  /** true RUL at the cut > maxLead: an open work order is premature */
  notDue: number;
  prematureWorkOrders: number;
  /** raised and cleared again before the cut */
  falseWorkOrders: number;
  /** open at the cut, with their true lead (failure − raise) */
  openAtCut: number;
  medianTrueLeadOfOpen: number | undefined;
}

/** Work orders on the test engines (cut before failure; failure = last cycle + true RUL). */
export function testWoMetrics(replays: readonly Replay[], trueRul: readonly number[], t: Targets = DEFAULT_TARGETS): TestWoMetrics {
  let due = 0;
  let dueWithWorkOrder = 0;
  let notDue = 0;
  let prematureWorkOrders = 0;
  let falseWorkOrders = 0;
  const leads: number[] = [];
  replays.forEach((r, i) => {
    const rul = trueRul[i]!;
    falseWorkOrders += r.events.filter((e) => e.type === 'clear').length;
    const open = r.activeSince !== undefined;
    if (open) leads.push(r.lastCycle + rul - r.activeSince!);
    if (rul <= t.targetLead) {
      due++;
      if (open) dueWithWorkOrder++;
    } else if (rul > t.maxLead) {
      notDue++;
      if (open) prematureWorkOrders++;
    }
  });
  return { engines: replays.length, due, dueWithWorkOrder, notDue, prematureWorkOrders, falseWorkOrders, openAtCut: leads.length, medianTrueLeadOfOpen: median(leads) };
}

export interface RulEstimate {
  unit: number;
  trueRul: number;
  /** the rule's own projection: crossing − last cycle, clipped to [0, cap] */
  trend: number;
  /** the projection × the factor calibrated on training, clipped */
  calibrated: number;
  /** from the HI level: cap × (HI − threshold) / (1 − threshold), clipped (a plain linear-regression estimate) */
  level: number;
}

/** RUL at the last cycle of each test engine; `cap` also clips (125, the customary piecewise target). */
export function estimateRul(f: Pick<Fitted, 'model' | 'config' | 'rulFactor'>, test: readonly Engine[], trueRul: readonly number[], cap = 125): RulEstimate[] {
  const cfg = f.config;
  const rule = trendRule(cfg);
  const clip = (x: number) => Math.min(cap, Math.max(0, x));
  return test.map((e, i) => {
    const hi = smooth(e.sensors.map((row) => healthIndex(f.model, row)), cfg.alpha);
    const ttt = projections(f.model, cfg, e, rule, hi).at(-1)!;
    const last = hi[hi.length - 1]!;
    return { unit: e.unit, trueRul: trueRul[i]!, trend: clip(ttt), calibrated: clip(f.rulFactor * ttt), level: clip((cap * (last - cfg.threshold)) / (1 - cfg.threshold)) };
  });
}

export function rmse(pairs: readonly [number, number][]): number {
  return Math.sqrt(pairs.reduce((s, [a, b]) => s + (a - b) ** 2, 0) / pairs.length);
}

/** PHM08 asymmetric score: late predictions (d = estimate − truth > 0) cost more: Σ e^{−d/13} − 1 (d < 0), e^{d/10} − 1 (d ≥ 0). */
export function phmScore(pairs: readonly [estimate: number, truth: number][]): number {
  return pairs.reduce((s, [est, truth]) => {
    const d = est - truth;
    return s + (d < 0 ? Math.exp(-d / 13) - 1 : Math.exp(d / 10) - 1);
  }, 0);
}
