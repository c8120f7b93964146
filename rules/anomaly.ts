/**
 * Anomaly rule: each reading is compared with a rolling baseline of the previous readings of the same
 * rule + asset (never including itself):
 *  - `robust_z`: z = (x − median) / (1.4826·MAD) of the baseline (MeanAD fallback when MAD = 0, see
 *    stats.robustZ); anomalous when |z| > zThreshold. Catches spikes and steps; insensitive to
 *    outliers already in the baseline.
 *  - `ewma`: EWMA control chart (Roberts 1959): the statistic e = α·x + (1 − α)·e₋₁ runs over every
 *    reading; the baseline gives μ and σ (mean and sample sd); anomalous when
 *    |e − μ| > ewmaK · σ·√(α/(2 − α)). Catches small sustained shifts and drifts that a per-reading
 *    test misses.
 * Only readings that test normal enter the baseline, and none while an episode is active, so a lasting shift or drift stays an anomaly until the values come
 * back (it is not silently learnt as the new normal). `minSigma` (optional) floors the σ estimate: a
 * quantised signal whose baseline is constant would otherwise be anomalous by a single step.
 *
 * `consecutive` anomalous readings in a row raise (once per episode, dedupe key = first anomalous
 * reading of the streak); `consecutive` normal readings in a row clear. Readings with ts ≤ lastTs change
 * nothing. `changed` is true for phase changes and for the in-a-row counters (so a restart does not
 * forget "2 of 3"); the baseline and the EWMA are soft state (see hydrateAnomalyState).
 */
import { Type, type Static } from 'typebox';
import { METRIC, PRIORITY, SEVERITY } from './schema-parts.ts';
import { openKeyFor } from './evaluate.ts';
import { type Ewma, ewmaSdFactor, ewmaUpdate, mean, robustZ, sampleSd } from './stats.ts';
import type { Decision, Explanation, Reading } from './types.ts';

export const AnomalyDefinition = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    metric: METRIC,
    method: Type.Union([Type.Literal('robust_z'), Type.Literal('ewma')], { description: 'robust_z: median/MAD z-score per reading; ewma: EWMA control chart (drifts, small shifts)' }),
    windowSize: Type.Integer({ minimum: 10, maximum: 1000, description: 'baseline: this many previous normal readings' }),
    minPoints: Type.Integer({ minimum: 3, maximum: 1000, description: 'baseline readings needed before testing (capped at windowSize)' }),
    zThreshold: Type.Number({ exclusiveMinimum: 0, default: 3.5, description: 'robust_z: |z| above this is anomalous (3.5: Iglewicz & Hoaglin)' }),
    ewmaAlpha: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.3, description: 'ewma: smoothing weight of the newest reading' }),
    ewmaK: Type.Number({ exclusiveMinimum: 0, default: 3, description: 'ewma: control-limit width in sigmas of the EWMA statistic' }),
    consecutive: Type.Integer({ minimum: 1, maximum: 1000, default: 1, description: 'anomalous readings in a row that raise (and normal ones in a row that clear)' }),
    minSigma: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'floor of the σ estimate in metric units (e.g. the sensor resolution), so a quantised or very stable signal is not anomalous by one step' }),
    ),
    severity: SEVERITY,
    priority: PRIORITY,
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type AnomalyDefinition = Static<typeof AnomalyDefinition>;

/** Defaults checkDefinition applies before validation. */
export const ANOMALY_DEFAULTS = { zThreshold: 3.5, ewmaAlpha: 0.3, ewmaK: 3, consecutive: 1 } as const;

/** Cross-field checks the schema cannot express (call after a successful schema check). */
export function anomalyDefinitionErrors(d: AnomalyDefinition): { path: string; message: string }[] {
  return d.minPoints > d.windowSize ? [{ path: '/minPoints', message: `minPoints (${d.minPoints}) cannot exceed windowSize (${d.windowSize})` }] : [];
}

interface AnomalyBase {
  kind: 'anomaly';
  /** the last ≤ windowSize readings judged normal, oldest first (never the reading under test) */
  baseline: number[];
  /** method ewma: the EWMA statistic over all readings */
  ewma?: Ewma;
}
export type AnomalyState =
  | (AnomalyBase & { phase: 'normal'; lastTs?: number })
  /** `count` anomalous readings in a row since `since`, fewer than `consecutive` */
  | (AnomalyBase & { phase: 'pending'; since: number; count: number; lastTs: number })
  /** raised for the episode that started at `since`; `normalCount` normal readings in a row so far */
  | (AnomalyBase & { phase: 'active'; since: number; raisedAt: number; normalCount: number; lastTs: number });

export interface AnomalyRuleLike {
  id: string;
  name: string;
  version: number;
  definition: AnomalyDefinition;
}

/** Same shape as types.ts `Evaluation`, with the state narrowed to AnomalyState. */
export interface AnomalyEvaluation {
  state: AnomalyState;
  decisions: Decision[];
  changed: boolean;
}

/** Anomaly-specific fields of `Explanation.inputs` (types.ts intersects its inputs with this). */
export interface AnomalyExplanationInputs {
  method?: 'robust_z' | 'ewma';
  windowSize?: number;
  /** baseline readings the test used */
  baselinePoints?: number;
  /** the reading that completed the streak */
  value?: number;
  /** robust_z: baseline median, unscaled MAD, σ estimate used and where it came from */
  median?: number;
  mad?: number;
  scale?: number;
  scaleFrom?: 'mad' | 'meanAD' | 'none' | 'minSigma';
  zThreshold?: number;
  /** ewma: EWMA statistic, its sd σ·√(α/(2−α)) (σ = max(baseline sd, minSigma)), baseline mean and sd, α and K */
  ewmaMean?: number;
  ewmaSd?: number;
  baselineMean?: number;
  baselineSd?: number;
  ewmaAlpha?: number;
  ewmaK?: number;
}

export interface AnomalyTest {
  anomalous: boolean;
  /** robust z, or the EWMA deviation (e − μ) / σ_e; ±Infinity against a constant baseline */
  statistic: number;
  inputs: AnomalyExplanationInputs;
}

/**
 * Tests `x` against the baseline (which must not contain it). `ewma` is the EWMA statistic already
 * updated with x. Undefined while the baseline has fewer than minPoints readings.
 */
export function testReading(d: AnomalyDefinition, baseline: readonly number[], x: number, ewma: Ewma | undefined): AnomalyTest | undefined {
  if (baseline.length < Math.min(d.minPoints, d.windowSize)) return undefined;
  if (d.method === 'robust_z') {
    const rz = robustZ(x, baseline);
    if (!rz) return undefined;
    const floored = d.minSigma !== undefined && !(rz.scale >= d.minSigma);
    const scale = floored ? d.minSigma! : rz.scale;
    const z = floored ? (x - rz.median) / scale : rz.z;
    return {
      anomalous: Math.abs(z) > d.zThreshold,
      statistic: z,
      inputs: {
        method: 'robust_z',
        windowSize: d.windowSize,
        baselinePoints: baseline.length,
        value: x,
        median: rz.median,
        mad: rz.mad,
        scale,
        scaleFrom: floored ? 'minSigma' : rz.scaleFrom,
        zThreshold: d.zThreshold,
      },
    };
  }
  const mu = mean(baseline);
  const sd = sampleSd(baseline);
  if (mu === undefined || sd === undefined || !ewma) return undefined;
  const sigma = d.minSigma !== undefined ? Math.max(sd, d.minSigma) : sd;
  const sdE = sigma * ewmaSdFactor(d.ewmaAlpha, Infinity);
  const diff = ewma.mean - mu;
  const statistic = sdE > 0 ? diff / sdE : diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity;
  return {
    anomalous: Math.abs(statistic) > d.ewmaK,
    statistic,
    inputs: { method: 'ewma', windowSize: d.windowSize, baselinePoints: baseline.length, value: x, ewmaMean: ewma.mean, ewmaSd: sdE, baselineMean: mu, baselineSd: sd, ewmaAlpha: d.ewmaAlpha, ewmaK: d.ewmaK },
  };
}

export const initialAnomalyState = (): AnomalyState => ({ kind: 'anomaly', phase: 'normal', baseline: [] });

const pushBounded = (xs: readonly number[], x: number, size: number): number[] => {
  const next = xs.length >= size ? xs.slice(xs.length - size + 1) : xs.slice();
  next.push(x);
  return next;
};
/** JSON has no Infinity: a constant baseline's infinite statistic is reported as ±MAX_SAFE_INTEGER. */
const finite = (x: number): number => (Number.isFinite(x) ? x : Math.sign(x) * Number.MAX_SAFE_INTEGER);
const round = (x: number, digits = 4): number => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : x);

type AnomalyExplanation = Omit<Explanation, 'kind' | 'inputs'> & {
  kind: 'anomaly';
  inputs: { from: string; to: string; readings: number; consecutive: number } & AnomalyExplanationInputs;
};
// Becomes the identity once rules/types.ts' Explanation accepts kind 'anomaly' (Rule['kind']) and its inputs include
// AnomalyExplanationInputs; then `asExplanation(x)` can be replaced by `x`.
const asExplanation = (e: AnomalyExplanation): Explanation => e as unknown as Explanation;

export function evaluateAnomaly(rule: AnomalyRuleLike, prev: AnomalyState | undefined, r: Reading, _now: Date): AnomalyEvaluation {
  const d = rule.definition;
  const state: AnomalyState = prev ?? initialAnomalyState();
  const t = r.ts.getTime();
  if (r.metric !== d.metric || !Number.isFinite(r.value) || !Number.isFinite(t)) return { state, decisions: [], changed: false };
  if (state.lastTs !== undefined && t <= state.lastTs) return { state, decisions: [], changed: false };

  const ewma = d.method === 'ewma' ? ewmaUpdate(state.ewma, r.value, d.ewmaAlpha) : undefined;
  const test = testReading(d, state.baseline, r.value, ewma);
  const anomalous = test?.anomalous ?? false;
  // readings that test normal (or arrive before minPoints) join the baseline, except during an episode
  const baseline = anomalous || state.phase === 'active' ? state.baseline : pushBounded(state.baseline, r.value, d.windowSize);
  const base = { kind: 'anomaly' as const, baseline, ...(ewma ? { ewma } : {}) };
  const consecutive = d.consecutive;
  const openKey = openKeyFor(rule.id, r.assetId);

  if (state.phase === 'active') {
    if (anomalous) return { state: { ...base, phase: 'active', since: state.since, raisedAt: state.raisedAt, normalCount: 0, lastTs: t }, decisions: [], changed: state.normalCount !== 0 };
    const normalCount = state.normalCount + 1;
    if (normalCount >= consecutive) {
      return { state: { ...base, phase: 'normal', lastTs: t }, decisions: [{ type: 'clear', openKey, at: r.ts, value: r.value }], changed: true };
    }
    return { state: { ...base, phase: 'active', since: state.since, raisedAt: state.raisedAt, normalCount, lastTs: t }, decisions: [], changed: true };
  }

  if (!anomalous || !test) return { state: { ...base, phase: 'normal', lastTs: t }, decisions: [], changed: state.phase !== 'normal' };

  const since = state.phase === 'pending' ? state.since : t;
  const count = state.phase === 'pending' ? state.count + 1 : 1;
  if (count < consecutive) return { state: { ...base, phase: 'pending', since, count, lastTs: t }, decisions: [], changed: true };

  const sinceIso = new Date(since).toISOString();
  const iso = r.ts.toISOString();
  const limit = d.method === 'robust_z' ? d.zThreshold : d.ewmaK;
  const statName = d.method === 'robust_z' ? 'robustZ' : 'ewmaDeviation';
  const baselineText =
    d.method === 'robust_z'
      ? `baseline median ${round(test.inputs.median!)}, MAD ${round(test.inputs.mad!)} over ${state.baseline.length} readings`
      : `EWMA ${round(test.inputs.ewmaMean!)} vs baseline mean ${round(test.inputs.baselineMean!)}, sd ${round(test.inputs.baselineSd!)} over ${state.baseline.length} readings (EWMA sd ${round(test.inputs.ewmaSd!)}, α ${d.ewmaAlpha})`;
  const decision: Decision = {
    type: 'raise',
    dedupeKey: `anomaly:${rule.id}:${r.assetId}:${sinceIso}`,
    openKey,
    source: 'rule',
    title: d.title ?? `${rule.name}: anomalous ${d.metric} on ${r.assetCode}`,
    priority: d.priority,
    alarm: {
      severity: d.severity,
      code: `ANOMALY-${d.metric}`.slice(0, 32),
      message: `${d.metric} ${r.value}: ${statName} ${round(test.statistic)} beyond ±${limit}`,
    },
    explanation: asExplanation({
      ruleId: rule.id,
      ruleName: rule.name,
      ruleVersion: rule.version,
      kind: 'anomaly',
      metric: d.metric,
      statistic: { name: statName, value: finite(test.statistic) },
      threshold: limit,
      inputs: { from: sinceIso, to: iso, readings: count, consecutive, ...test.inputs },
      summary:
        `${d.metric} on ${r.assetCode} was anomalous ${count} reading(s) in a row from ${sinceIso} to ${iso} (${d.method}):` +
        ` ${statName} ${round(test.statistic)} beyond ±${limit}; now ${r.value}; ${baselineText}` +
        (Number.isFinite(test.statistic) ? '' : ' (the baseline is constant: any difference is anomalous)'),
    }),
    at: r.ts,
  };
  return { state: { ...base, phase: 'active', since, raisedAt: t, normalCount: 0, lastTs: t }, decisions: [decision], changed: true };
}

/**
 * Rebuilds the soft part (baseline, EWMA) of a persisted state from telemetry history (one store
 * query for the last windowSize readings or so after a restart): the history is replayed from an empty
 * state — so anomalous readings stay out of the baseline as they would have — and the persisted
 * phase, episode and counters are kept.
 */
export function hydrateAnomalyState(rule: AnomalyRuleLike, persisted: AnomalyState | undefined, history: readonly { ts: Date; value: number }[]): AnomalyState {
  let replayed = initialAnomalyState();
  for (const h of history) {
    replayed = evaluateAnomaly(rule, replayed, { assetId: '', assetCode: '', metric: rule.definition.metric, value: h.value, ts: h.ts }, h.ts).state;
  }
  const soft = { baseline: replayed.baseline, ...(replayed.ewma ? { ewma: replayed.ewma } : {}) };
  if (!persisted) return { kind: 'anomaly', phase: 'normal', ...soft, ...(replayed.lastTs !== undefined ? { lastTs: replayed.lastTs } : {}) };
  const lastTs = Math.max(persisted.lastTs ?? -Infinity, replayed.lastTs ?? -Infinity);
  const { baseline: _b, ewma: _e, ...hard } = persisted;
  if (hard.phase === 'normal') return { ...hard, ...soft, ...(Number.isFinite(lastTs) ? { lastTs } : {}) };
  return { ...hard, ...soft, lastTs };
}
