/**
 * Trend rule (rate of change → time-to-threshold): a least-squares line over the readings of the last
 * `windowSeconds` projects when the metric will reach `threshold`; when that crossing is within
 * `leadTimeSeconds` (or the fitted value is already past it) one work order is requested per episode.
 *
 * Pure, like evaluate.ts: same (rule, state, reading) → same result; no clock, no I/O.
 *  - raise: ≥ minPoints readings in the window, r² ≥ minR2, slope towards the threshold, and the
 *    projected crossing ≤ leadTimeSeconds ahead of the reading (0 when the fitted line is already past);
 *  - clear: the slope reverses, or the projection moves beyond 1.5 × leadTimeSeconds (hysteresis, so a
 *    projection hovering around the lead time does not flap); too few points after a gap keeps the
 *    episode as it is;
 *  - readings with ts ≤ lastTs (duplicates, out of order) change nothing;
 *  - `changed` is true only for phase changes. The points are soft state (see hydrateTrendState for
 *    rebuilding them after a restart from the telemetry store).
 */
import { Type, type Static } from 'typebox';
import { METRIC, PRIORITY, SEVERITY } from './schema-parts.ts';
import { openKeyFor } from './evaluate.ts';
import { linearRegression, type Point } from './stats.ts';
import type { Decision, Explanation, Reading } from './types.ts';


export const TrendDefinition = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    metric: METRIC,
    windowSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 366 * 24 * 3600, description: 'regression over the readings of this trailing window' }),
    minPoints: Type.Integer({ minimum: 3, maximum: 100_000, description: 'readings needed in the window before projecting' }),
    threshold: Type.Number({ description: 'the level whose crossing is projected' }),
    direction: Type.Union([Type.Literal('rising'), Type.Literal('falling')], { description: 'rising: the metric climbs towards the threshold; falling: it drops towards it' }),
    leadTimeSeconds: Type.Number({ exclusiveMinimum: 0, description: 'raise when the projected crossing is at most this far ahead' }),
    minR2: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'minimum r² of the fitted line (how linear the trend must be)' }),
    severity: SEVERITY,
    priority: PRIORITY,
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type TrendDefinition = Static<typeof TrendDefinition>;

/** Defaults checkDefinition applies before validation. */
export const TREND_DEFAULTS = { minR2: 0.5 } as const;

/** At most this many points are kept; beyond it the oldest half is merged pairwise (weighted). */
export const TREND_MAX_POINTS = 500;
/** The episode clears when the projected crossing is further away than this × leadTimeSeconds. */
export const TREND_CLEAR_FACTOR = 1.5;

/** [ts in epoch ms, value, weight = readings this point stands for]. Plain arrays: JSON-friendly and compact. */
export type TrendPoint = [t: number, v: number, w: number];

export type TrendState =
  | { kind: 'trend'; phase: 'normal'; points: TrendPoint[]; lastTs?: number }
  | { kind: 'trend'; phase: 'active'; points: TrendPoint[]; since: number; lastTs: number };

/** What evaluateTrend needs of a rule (a TrendRule of types.ts satisfies it). */
export interface TrendRuleLike {
  id: string;
  name: string;
  version: number;
  definition: TrendDefinition;
}

/** Same shape as types.ts `Evaluation`, with the state narrowed to TrendState. */
export interface TrendEvaluation {
  state: TrendState;
  decisions: Decision[];
  changed: boolean;
}

/** Trend-specific fields of `Explanation.inputs` (types.ts intersects its inputs with this). */
export interface TrendExplanationInputs {
  /** stored regression points (≤ TREND_MAX_POINTS; merged points count once) */
  points?: number;
  /** slope of the fitted line, metric units per hour */
  slopePerHour?: number;
  /** value of the fitted line at `to` (the regression's time origin is the evaluated reading) */
  intercept?: number;
  r2?: number;
  minR2?: number;
  windowSeconds?: number;
  /** ISO time at which the fitted line reaches the threshold (= `to` when already past it) */
  projectedCrossing?: string;
  timeToThresholdSeconds?: number;
  leadTimeSeconds?: number;
  direction?: 'rising' | 'falling';
}

export interface TrendProjection {
  /** stored points used */
  points: number;
  /** readings they stand for (sum of weights) */
  readings: number;
  /** first and last point time, epoch ms */
  from: number;
  to: number;
  slopePerHour: number;
  /** fitted value at `to` */
  intercept: number;
  r2: number;
  /** the slope points towards the threshold (rising: > 0, falling: < 0) */
  towards: boolean;
  /** the slope points away from the threshold (rising: < 0, falling: > 0) */
  reversed: boolean;
  /** the fitted value at `to` is already at or past the threshold */
  crossed: boolean;
  /** seconds from `to` to the crossing: 0 if crossed, Infinity if the line never reaches it */
  timeToThresholdSeconds: number;
}

const HOUR_MS = 3_600_000;

/**
 * Fits the line through `points` with time measured in hours from `at` (so the intercept is the fitted
 * value at `at`). Undefined with fewer than `minPoints` readings or no spread in time.
 */
export function projectTrend(d: Pick<TrendDefinition, 'threshold' | 'direction' | 'minPoints'>, points: readonly TrendPoint[], at: number): TrendProjection | undefined {
  let readings = 0;
  const pts: Point[] = [];
  for (const [t, v, w] of points) {
    readings += w;
    pts.push({ t: (t - at) / HOUR_MS, v, w });
  }
  if (readings < d.minPoints) return undefined;
  const fit = linearRegression(pts);
  if (!fit) return undefined;
  const rising = d.direction === 'rising';
  const slope = fit.slope;
  const intercept = fit.intercept;
  const towards = rising ? slope > 0 : slope < 0;
  const reversed = rising ? slope < 0 : slope > 0;
  const crossed = rising ? intercept >= d.threshold : intercept <= d.threshold;
  const timeToThresholdSeconds = crossed ? 0 : towards ? ((d.threshold - intercept) / slope) * 3600 : Infinity;
  return {
    points: points.length,
    readings,
    from: points[0]![0],
    to: at,
    slopePerHour: slope,
    intercept,
    r2: fit.r2,
    towards,
    reversed,
    crossed,
    timeToThresholdSeconds,
  };
}

/** Drops points outside the window ending at `t` (kept: t − window < pt ≤ t), then thins to TREND_MAX_POINTS. */
export function addPoint(points: readonly TrendPoint[], p: TrendPoint, windowSeconds: number): TrendPoint[] {
  const cutoff = p[0] - windowSeconds * 1000;
  let start = 0;
  while (start < points.length && points[start]![0] <= cutoff) start++;
  const next = points.slice(start);
  next.push(p);
  return next.length > TREND_MAX_POINTS ? thin(next) : next;
}

/**
 * Deterministic thinning: the oldest half is merged pairwise into points at the weighted mean time
 * and value with the summed weight. Points on a line stay on it, so the fitted slope of linear data
 * is unchanged; older history keeps a coarser resolution (like a multi-resolution ring buffer).
 */
export function thin(points: readonly TrendPoint[]): TrendPoint[] {
  const half = Math.floor(points.length / 4) * 2;
  const out: TrendPoint[] = [];
  for (let i = 0; i < half; i += 2) {
    const [t1, v1, w1] = points[i]!;
    const [t2, v2, w2] = points[i + 1]!;
    const w = w1 + w2;
    out.push([(t1 * w1 + t2 * w2) / w, (v1 * w1 + v2 * w2) / w, w]);
  }
  for (let i = half; i < points.length; i++) out.push(points[i]!);
  return out;
}

export const initialTrendState = (): TrendState => ({ kind: 'trend', phase: 'normal', points: [] });

const hours = (s: number): string => `${Math.round((s / 3600) * 10) / 10} h`;
const round = (x: number, digits = 6): number => Number(x.toPrecision(digits));

type TrendExplanation = Omit<Explanation, 'kind' | 'inputs'> & {
  kind: 'trend';
  inputs: { from: string; to: string; readings: number } & TrendExplanationInputs;
};
// Becomes the identity once rules/types.ts' Explanation accepts kind 'trend' (Rule['kind']) and its inputs include
// TrendExplanationInputs; then `asExplanation(x)` can be replaced by `x`.
const asExplanation = (e: TrendExplanation): Explanation => e as unknown as Explanation;

export function evaluateTrend(rule: TrendRuleLike, prev: TrendState | undefined, r: Reading, _now: Date): TrendEvaluation {
  const d = rule.definition;
  const state: TrendState = prev ?? initialTrendState();
  const t = r.ts.getTime();
  if (r.metric !== d.metric || !Number.isFinite(r.value) || !Number.isFinite(t)) return { state, decisions: [], changed: false };
  // Out-of-order or repeated readings never move the state machine (nor the regression) backwards.
  if (state.lastTs !== undefined && t <= state.lastTs) return { state, decisions: [], changed: false };

  const points = addPoint(state.points, [t, r.value, 1], d.windowSeconds);
  const p = projectTrend(d, points, t);
  const openKey = openKeyFor(rule.id, r.assetId);

  if (state.phase === 'active') {
    if (p && (p.reversed || p.timeToThresholdSeconds > TREND_CLEAR_FACTOR * d.leadTimeSeconds)) {
      return { state: { kind: 'trend', phase: 'normal', points, lastTs: t }, decisions: [{ type: 'clear', openKey, at: r.ts, value: r.value }], changed: true };
    }
    return { state: { ...state, points, lastTs: t }, decisions: [], changed: false };
  }

  if (!p || p.r2 < d.minR2 || !p.towards || p.timeToThresholdSeconds > d.leadTimeSeconds) {
    return { state: { kind: 'trend', phase: 'normal', points, lastTs: t }, decisions: [], changed: false };
  }

  const iso = r.ts.toISOString();
  const crossingIso = new Date(t + p.timeToThresholdSeconds * 1000).toISOString();
  const fromIso = new Date(p.from).toISOString();
  const slope = round(p.slopePerHour);
  const verb = d.direction === 'rising' ? 'rising' : 'falling';
  const when = p.crossed ? `is already past ${d.threshold} (fitted ${round(p.intercept)})` : `projected to reach ${d.threshold} at ${crossingIso} (in ${hours(p.timeToThresholdSeconds)})`;
  const decision: Decision = {
    type: 'raise',
    dedupeKey: `trend:${rule.id}:${r.assetId}:${iso}`,
    openKey,
    source: 'rule',
    title: d.title ?? `${rule.name}: ${d.metric} trending to ${d.threshold} on ${r.assetCode}`,
    priority: d.priority,
    alarm: {
      severity: d.severity,
      code: `TREND-${d.metric}`.slice(0, 32),
      message: `${d.metric} ${verb} ${slope}/h; ${when}`,
    },
    explanation: asExplanation({
      ruleId: rule.id,
      ruleName: rule.name,
      ruleVersion: rule.version,
      kind: 'trend',
      metric: d.metric,
      statistic: { name: 'timeToThresholdSeconds', value: Math.round(p.timeToThresholdSeconds) },
      threshold: d.threshold,
      inputs: {
        from: fromIso,
        to: iso,
        readings: p.readings,
        points: p.points,
        slopePerHour: p.slopePerHour,
        intercept: p.intercept,
        r2: p.r2,
        minR2: d.minR2,
        windowSeconds: d.windowSeconds,
        projectedCrossing: crossingIso,
        timeToThresholdSeconds: Math.round(p.timeToThresholdSeconds),
        leadTimeSeconds: d.leadTimeSeconds,
        direction: d.direction,
      },
      summary:
        `${d.metric} on ${r.assetCode} is ${verb} at ${slope}/h (least squares over ${p.readings} readings from ${fromIso} to ${iso}, r² ${round(p.r2, 3)} ≥ ${d.minR2});` +
        ` ${when}, within the lead time of ${hours(d.leadTimeSeconds)}`,
    }),
    at: r.ts,
  };
  return { state: { kind: 'trend', phase: 'active', points, since: t, lastTs: t }, decisions: [decision], changed: true };
}

/**
 * Rebuilds the soft part of a persisted state (the regression points) from telemetry history, e.g.
 * one store query for the window before the asset's next reading after a restart: the history is
 * replayed from an empty state (decisions dropped), the persisted phase and episode are kept.
 */
export function hydrateTrendState(rule: TrendRuleLike, persisted: TrendState | undefined, history: readonly { ts: Date; value: number }[]): TrendState {
  let replayed = initialTrendState();
  for (const h of history) {
    replayed = evaluateTrend(rule, replayed, { assetId: '', assetCode: '', metric: rule.definition.metric, value: h.value, ts: h.ts }, h.ts).state;
  }
  if (!persisted) return { kind: 'trend', phase: 'normal', points: replayed.points, ...(replayed.lastTs !== undefined ? { lastTs: replayed.lastTs } : {}) };
  const lastTs = Math.max(persisted.lastTs ?? -Infinity, replayed.lastTs ?? -Infinity);
  if (persisted.phase === 'active') return { ...persisted, points: replayed.points, lastTs };
  return { kind: 'trend', phase: 'normal', points: replayed.points, ...(Number.isFinite(lastTs) ? { lastTs } : {}) };
}
