/**
 * Rule definitions: the JSON a planner writes, validated here (API and engine share these schemas).
 * Each definition carries `schemaVersion`; `upgradeDefinition` brings older stored versions forward.
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { ANOMALY_DEFAULTS, AnomalyDefinition, anomalyDefinitionErrors } from './anomaly.ts';
import { COMPOSITE_DEFAULTS, CompositeDefinition } from './composite.ts';
import { TREND_DEFAULTS, TrendDefinition } from './trend.ts';

export { AnomalyDefinition, TrendDefinition };

import { METRIC, PRIORITY, SEVERITY } from './schema-parts.ts';

export { PRIORITY, SEVERITY };

export const ThresholdDefinition = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    metric: METRIC,
    operator: Type.Union([Type.Literal('>'), Type.Literal('>='), Type.Literal('<'), Type.Literal('<=')]),
    value: Type.Number(),
    holdSeconds: Type.Number({ minimum: 0, maximum: 7 * 24 * 3600, default: 0, description: 'breach must last this long before raising' }),
    hysteresis: Type.Number({ minimum: 0, default: 0, description: 'clear only once the value is back past threshold ∓ hysteresis' }),
    consecutive: Type.Integer({ minimum: 1, maximum: 1000, default: 1, description: 'breaching readings in a row needed ("3 times in a row"), on top of holdSeconds' }),
    severity: SEVERITY,
    priority: PRIORITY,
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type ThresholdDefinition = Static<typeof ThresholdDefinition>;

export const UsageDefinition = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    metric: METRIC,
    every: Type.Number({ exclusiveMinimum: 0, description: 'interval in counter units, e.g. 500 run-hours' }),
    startAt: Type.Number({ minimum: 0, default: 0, description: 'counter value of the last PM before the rule existed' }),
    tolerance: Type.Number({ minimum: 0, default: 0, description: 'generate the order this many units before it is due (Maximo "units to go" tolerance)' }),
    interval: Type.Union([Type.Literal('floating'), Type.Literal('fixed')], {
      default: 'floating',
      description: 'floating: next due = meter at completion + every; fixed: next due = previous due + every',
    }),
    rollover: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'the counter wraps to 0 after this value (e.g. 65535)' })),
    calendar: Type.Optional(
      Type.Object(
        { every: Type.Integer({ minimum: 1, maximum: 1000 }), unit: Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month')]) },
        { additionalProperties: false, description: 'whichever comes first: also due this long after the last PM' },
      ),
    ),
    priority: PRIORITY,
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type UsageDefinition = Static<typeof UsageDefinition>;

const CALENDAR_UNIT = Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month')]);

/** Calendar PM: every N days/weeks/months, generated `leadDays` ahead; evaluated on a clock tick. */
export const CalendarDefinition = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    every: Type.Integer({ minimum: 1, maximum: 1000 }),
    unit: CALENDAR_UNIT,
    anchor: Type.Optional(Type.String({ format: 'date-time', description: 'start of the first interval (default: when the rule first sees the asset)' })),
    leadDays: Type.Number({ minimum: 0, maximum: 365, default: 0, description: 'generate the order this many days before it is due' }),
    interval: Type.Union([Type.Literal('fixed'), Type.Literal('floating')], {
      default: 'fixed',
      description: 'fixed: next due = previous due + interval; floating: completion date + interval',
    }),
    priority: PRIORITY,
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type CalendarDefinition = Static<typeof CalendarDefinition>;

const AlarmMapping = Type.Object(
  {
    deviceCodes: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,32}$' }), { minItems: 1, maxItems: 200, description: 'device alarm codes this entry covers' }),
    faultCode: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,32}$', description: 'standard fault code, e.g. E01 (power), E02 (sensor)' }),
    severity: SEVERITY,
    createWorkOrder: Type.Boolean({ default: true }),
    workOrder: Type.Object(
      { title: Type.String({ minLength: 1, maxLength: 200 }), priority: PRIORITY, description: Type.Optional(Type.String({ maxLength: 2000 })) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** Device alarm codes → fault code → severity → work-order template. */
export const AlarmDefinition = Type.Object(
  { schemaVersion: Type.Literal(1), mappings: Type.Array(AlarmMapping, { minItems: 1, maxItems: 500 }) },
  { additionalProperties: false },
);
export type AlarmDefinition = Static<typeof AlarmDefinition>;

export type RuleKind = 'threshold' | 'usage' | 'alarm' | 'calendar' | 'trend' | 'anomaly' | 'composite';
export type Definition = ThresholdDefinition | UsageDefinition | AlarmDefinition | CalendarDefinition | TrendDefinition | AnomalyDefinition | CompositeDefinition;

const validators = {
  threshold: Compile(ThresholdDefinition),
  usage: Compile(UsageDefinition),
  alarm: Compile(AlarmDefinition),
  calendar: Compile(CalendarDefinition),
  trend: Compile(TrendDefinition),
  anomaly: Compile(AnomalyDefinition),
  composite: Compile(CompositeDefinition),
};

export const CURRENT_SCHEMA_VERSION: Record<RuleKind, number> = { threshold: 1, usage: 1, alarm: 1, calendar: 1, trend: 1, anomaly: 1, composite: 1 };

/** Each kind's defaults, applied under what the planner wrote. */
const WITH_DEFAULTS: Record<RuleKind, (d: Record<string, unknown>) => Record<string, unknown>> = {
  threshold: (d) => ({ holdSeconds: 0, hysteresis: 0, consecutive: 1, ...d }),
  usage: (d) => ({ startAt: 0, tolerance: 0, interval: 'floating', ...d }),
  calendar: (d) => ({ leadDays: 0, interval: 'fixed', ...d }),
  trend: (d) => ({ ...TREND_DEFAULTS, ...d }),
  anomaly: (d) => ({ ...ANOMALY_DEFAULTS, ...d }),
  composite: (d) => ({ ...COMPOSITE_DEFAULTS, ...d }),
  alarm: (d) => ({
    ...d,
    mappings: Array.isArray(d.mappings) ? d.mappings.map((m: unknown) => (typeof m === 'object' && m !== null ? { createWorkOrder: true, ...m } : m)) : d.mappings,
  }),
};

/** Kinds this build can evaluate (the database may hold kinds of a newer build). */
export const isRuleKind = (k: string): k is RuleKind => k in validators;

/** Upgrade path for stored definitions (ThingsBoard's upgrade(fromVersion)); v1 is current for every kind. */
export function upgradeDefinition(kind: RuleKind, raw: Record<string, unknown>): Record<string, unknown> {
  const v = typeof raw.schemaVersion === 'number' ? raw.schemaVersion : 1;
  if (v > CURRENT_SCHEMA_VERSION[kind]) throw new Error(`${kind} definition schemaVersion ${v} is newer than this build understands`);
  return { ...raw, schemaVersion: v };
}

export type DefinitionCheck = { ok: true; definition: Definition } | { ok: false; errors: { path: string; message: string }[] };

/** Applies defaults, upgrades, validates. Used by the API (400 on failure) and by the engine on load. */
export function checkDefinition(kind: RuleKind, input: unknown): DefinitionCheck {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, errors: [{ path: '', message: 'definition must be an object' }] };
  const upgraded = upgradeDefinition(kind, input as Record<string, unknown>);
  const withDefaults = WITH_DEFAULTS[kind](upgraded);
  const validator = validators[kind];
  if (validator.Check(withDefaults)) {
    if (kind === 'alarm') {
      const seen = new Set<string>();
      for (const m of (withDefaults as AlarmDefinition).mappings)
        for (const c of m.deviceCodes) {
          if (seen.has(c)) return { ok: false, errors: [{ path: '/mappings', message: `device code ${c} is mapped twice` }] };
          seen.add(c);
        }
    }
    if (kind === 'anomaly') {
      const errors = anomalyDefinitionErrors(withDefaults as unknown as AnomalyDefinition);
      if (errors.length > 0) return { ok: false, errors };
    }
    return { ok: true, definition: withDefaults as Definition };
  }
  return {
    ok: false,
    errors: [...validator.Errors(withDefaults)].slice(0, 20).map((e) => ({ path: e.instancePath || '/', message: e.message })),
  };
}
