/**
 * Composite rule: AND / OR of conditions on several metrics of one asset ("temperature > 80 AND
 * vibration > 6"). Each reading updates the latest value of its metric; values older than
 * `maxAgeSeconds` count as unknown (false). The combined condition then behaves like a threshold:
 * hold, one alarm + order per episode, clear when the combination is false again.
 */
import { Type, type Static } from 'typebox';
import { openKeyFor } from './evaluate.ts';
import { METRIC, PRIORITY, SEVERITY } from './schema-parts.ts';
import type { Decision, Evaluation, Reading } from './types.ts';

const Condition = Type.Object(
  { metric: METRIC, operator: Type.Union([Type.Literal('>'), Type.Literal('>='), Type.Literal('<'), Type.Literal('<=')]), value: Type.Number() },
  { additionalProperties: false },
);

export const CompositeDefinition = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    combine: Type.Union([Type.Literal('and'), Type.Literal('or')]),
    conditions: Type.Array(Condition, { minItems: 2, maxItems: 10 }),
    holdSeconds: Type.Number({ minimum: 0, maximum: 7 * 24 * 3600, default: 0 }),
    maxAgeSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 7 * 24 * 3600, default: 300, description: 'older values count as unknown (false)' }),
    severity: SEVERITY,
    priority: PRIORITY,
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type CompositeDefinition = Static<typeof CompositeDefinition>;
export const COMPOSITE_DEFAULTS = { holdSeconds: 0, maxAgeSeconds: 300 } as const;

export interface CompositeState {
  kind: 'composite';
  phase: 'normal' | 'pending' | 'active';
  /** metric → [ts ms, value] of its latest reading */
  latest: Record<string, [number, number]>;
  since?: number;
  lastTs?: number;
}

export const compositeMetrics = (d: CompositeDefinition): string[] => [...new Set(d.conditions.map((c) => c.metric))];

const holds = (op: string, v: number, limit: number): boolean => (op === '>' ? v > limit : op === '>=' ? v >= limit : op === '<' ? v < limit : v <= limit);

export function evaluateComposite(
  rule: { id: string; name: string; version: number; definition: CompositeDefinition },
  prev: CompositeState | undefined,
  r: Reading,
): Evaluation {
  const d = rule.definition;
  const state: CompositeState = prev ?? { kind: 'composite', phase: 'normal', latest: {} };
  const t = r.ts.getTime();
  const seen = state.latest[r.metric];
  if (!compositeMetrics(d).includes(r.metric) || (seen && t <= seen[0])) return { state, decisions: [], changed: false };
  const latest = { ...state.latest, [r.metric]: [t, r.value] as [number, number] };
  const now = Math.max(t, state.lastTs ?? t);
  const results = d.conditions.map((c) => {
    const v = latest[c.metric];
    return v !== undefined && now - v[0] <= d.maxAgeSeconds * 1000 && holds(c.operator, v[1], c.value);
  });
  const met = d.combine === 'and' ? results.every(Boolean) : results.some(Boolean);
  const openKey = openKeyFor(rule.id, r.assetId);
  const base = { ...state, latest, lastTs: now };
  if (state.phase === 'active') {
    if (met) return { state: base, decisions: [], changed: false };
    return { state: { kind: 'composite', phase: 'normal', latest, lastTs: now }, decisions: [{ type: 'clear', openKey, at: r.ts, value: r.value }], changed: true };
  }
  if (!met) return { state: { kind: 'composite', phase: 'normal', latest, lastTs: now }, decisions: [], changed: state.phase !== 'normal' };
  const since = state.phase === 'pending' && state.since !== undefined ? state.since : now;
  if (now - since < d.holdSeconds * 1000) return { state: { ...base, phase: 'pending', since }, decisions: [], changed: state.phase !== 'pending' };
  const described = d.conditions.map((c, i) => `${c.metric} ${latest[c.metric]?.[1] ?? '?'} ${c.operator} ${c.value}${results[i] ? ' ✓' : ''}`).join(` ${d.combine.toUpperCase()} `);
  const sinceIso = new Date(since).toISOString();
  const decision: Decision = {
    type: 'raise',
    dedupeKey: `composite:${rule.id}:${r.assetId}:${sinceIso}`,
    openKey,
    source: 'rule',
    title: d.title ?? `${rule.name} on ${r.assetCode}`,
    priority: d.priority,
    alarm: { severity: d.severity, code: 'RULE-composite', message: described },
    explanation: {
      ruleId: rule.id,
      ruleName: rule.name,
      ruleVersion: rule.version,
      kind: 'composite',
      metric: compositeMetrics(d).join('+'),
      statistic: { name: 'conditionsMet', value: results.filter(Boolean).length },
      threshold: d.combine === 'and' ? d.conditions.length : 1,
      inputs: { from: sinceIso, to: r.ts.toISOString(), holdSeconds: d.holdSeconds },
      summary: `${described} on ${r.assetCode} since ${sinceIso}`,
    },
    at: r.ts,
  };
  return { state: { ...base, phase: 'active', since }, decisions: [decision], changed: true };
}
