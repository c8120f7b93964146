/**
 * evaluate(rule, state, reading, now): the pure heart of the rules engine.
 * Same inputs → same outputs; no clock, no I/O. Callers persist `state` and act on `decisions`.
 */
import { evaluateAnomaly, initialAnomalyState } from './anomaly.ts';
import { compositeMetrics, evaluateComposite } from './composite.ts';
import type { ThresholdDefinition } from './definitions.ts';
import { evaluateTrend, initialTrendState } from './trend.ts';
import type {
  AlarmRule,
  CalendarRule,
  CalendarState,
  Decision,
  DeviceAlarm,
  Evaluation,
  Reading,
  ReadingRule,
  RuleState,
  ThresholdRule,
  ThresholdState,
  UsageRule,
  UsageState,
} from './types.ts';

export const openKeyFor = (ruleId: string, assetId: string): string => `rule:${ruleId}:asset:${assetId}`;

export function initialState(rule: ReadingRule): RuleState {
  switch (rule.kind) {
    case 'threshold':
      return { kind: 'threshold', phase: 'normal' };
    case 'usage':
      return { kind: 'usage', lastPmValue: rule.definition.startAt };
    case 'trend':
      return initialTrendState();
    case 'anomaly':
      return initialAnomalyState();
    case 'composite':
      return { kind: 'composite', phase: 'normal', latest: {} };
  }
}

/** The metrics a reading rule watches. */
export const metricsOf = (rule: ReadingRule): string[] => (rule.kind === 'composite' ? compositeMetrics(rule.definition) : [rule.definition.metric]);

export function evaluate(rule: ReadingRule, state: RuleState | undefined, reading: Reading, now: Date): Evaluation {
  if (rule.kind === 'composite') return evaluateComposite(rule, state?.kind === 'composite' ? state : undefined, reading);
  if (reading.metric !== rule.definition.metric) return { state: state ?? initialState(rule), decisions: [], changed: false };
  switch (rule.kind) {
    case 'threshold':
      return evaluateThreshold(rule, state?.kind === 'threshold' ? state : undefined, reading, now);
    case 'usage':
      return evaluateUsage(rule, state?.kind === 'usage' ? state : undefined, reading, now);
    case 'trend':
      return evaluateTrend(rule, state?.kind === 'trend' ? state : undefined, reading, now);
    case 'anomaly':
      return evaluateAnomaly(rule, state?.kind === 'anomaly' ? state : undefined, reading, now);
  }
}

export function breaches(d: Pick<ThresholdDefinition, 'operator' | 'value'>, v: number): boolean {
  switch (d.operator) {
    case '>':
      return v > d.value;
    case '>=':
      return v >= d.value;
    case '<':
      return v < d.value;
    case '<=':
      return v <= d.value;
  }
}

/** Back to normal only past the hysteresis band: for '>' 85 with hysteresis 5, the value must drop to ≤ 80. */
export function clears(d: Pick<ThresholdDefinition, 'operator' | 'value' | 'hysteresis'>, v: number): boolean {
  const upward = d.operator === '>' || d.operator === '>=';
  return upward ? v <= d.value - d.hysteresis && !breaches(d, v) : v >= d.value + d.hysteresis && !breaches(d, v);
}

const worse = (d: ThresholdDefinition, a: number, b: number): number => (d.operator === '>' || d.operator === '>=' ? Math.max(a, b) : Math.min(a, b));

function evaluateThreshold(rule: ThresholdRule, prev: ThresholdState | undefined, r: Reading, _now: Date): Evaluation {
  const d = rule.definition;
  const state: ThresholdState = prev ?? { kind: 'threshold', phase: 'normal' };
  const t = r.ts.getTime();
  // Out-of-order or repeated readings never move the state machine backwards.
  if (state.lastTs !== undefined && t <= state.lastTs) return { state, decisions: [], changed: false };
  const breach = breaches(d, r.value);
  const openKey = openKeyFor(rule.id, r.assetId);

  if (state.phase === 'active') {
    if (clears(d, r.value)) {
      return { state: { kind: 'threshold', phase: 'normal', lastTs: t }, decisions: [{ type: 'clear', openKey, at: r.ts, value: r.value }], changed: true };
    }
    return { state: { ...state, peak: worse(d, state.peak, r.value), lastTs: t }, decisions: [], changed: false };
  }

  if (!breach) return { state: { kind: 'threshold', phase: 'normal', lastTs: t }, decisions: [], changed: state.phase !== 'normal' };

  const since = state.phase === 'pending' ? state.since : t;
  const peak = state.phase === 'pending' ? worse(d, state.peak, r.value) : r.value;
  const count = state.phase === 'pending' ? (state.count ?? 1) + 1 : 1;
  const heldMs = t - since;
  const consecutive = d.consecutive ?? 1;
  if (heldMs < d.holdSeconds * 1000 || count < consecutive) {
    // the count is persisted while it matters (a restart must not forget "2 of 3 in a row")
    return { state: { kind: 'threshold', phase: 'pending', since, peak, lastTs: t, count }, decisions: [], changed: state.phase !== 'pending' || count <= consecutive };
  }
  const sinceIso = new Date(since).toISOString();
  const decision: Decision = {
    type: 'raise',
    dedupeKey: `threshold:${rule.id}:${r.assetId}:${sinceIso}`,
    openKey,
    source: 'rule',
    title: d.title ?? `${rule.name}: ${d.metric} ${d.operator} ${d.value} on ${r.assetCode}`,
    priority: d.priority,
    alarm: {
      severity: d.severity,
      code: `RULE-${d.metric}`.slice(0, 32),
      message: `${d.metric} ${r.value} ${d.operator} ${d.value}${d.holdSeconds > 0 ? ` for ${Math.round(heldMs / 1000)} s` : ''}`,
    },
    explanation: {
      ruleId: rule.id,
      ruleName: rule.name,
      ruleVersion: rule.version,
      kind: 'threshold',
      metric: d.metric,
      statistic: { name: 'value', value: r.value },
      threshold: d.value,
      inputs: { from: sinceIso, to: r.ts.toISOString(), readings: count, peak, holdSeconds: d.holdSeconds, consecutive },
      summary:
        `${d.metric} on ${r.assetCode} was ${d.operator} ${d.value} from ${sinceIso} to ${r.ts.toISOString()}` +
        ` (${Math.round(heldMs / 1000)} s ≥ hold ${d.holdSeconds} s; ${count} reading(s) in a row; peak ${peak}; now ${r.value})`,
    },
    at: r.ts,
  };
  return { state: { kind: 'threshold', phase: 'active', since, raisedAt: t, peak, lastTs: t }, decisions: [decision], changed: true };
}

/**
 * Life-to-date of a counter that may be reset (replaced meter) or wrap (`rollover`): a drop in the
 * raw value adds the previous raw value (or the rollover span) to the offset.
 */
export function lifeToDate(state: Pick<UsageState, 'lastValue' | 'offset'>, raw: number, rollover: number | undefined): { ltd: number; offset: number } {
  let offset = state.offset ?? 0;
  if (state.lastValue !== undefined && raw < state.lastValue) offset += rollover ?? state.lastValue;
  return { ltd: raw + offset, offset };
}

function evaluateUsage(rule: UsageRule, prev: UsageState | undefined, r: Reading, _now: Date): Evaluation {
  const d = rule.definition;
  const state: UsageState = prev ?? { kind: 'usage', lastPmValue: d.startAt };
  const t = r.ts.getTime();
  if (state.lastTs !== undefined && t <= state.lastTs) return { state, decisions: [], changed: false };
  const { ltd, offset } = lifeToDate(state, r.value, d.rollover);
  const next: UsageState = { ...state, lastValue: r.value, lastTs: t, ...(offset ? { offset } : {}), ...(d.calendar && state.lastPmAt === undefined ? { lastPmAt: t } : {}) };
  const persist = offset !== (state.offset ?? 0) || next.lastPmAt !== state.lastPmAt;
  return usageDue(rule, next, r.assetId, r.assetCode, r.ts, ltd, persist);
}

/**
 * Clock tick for usage rules with a calendar part ("whichever comes first"): an idle machine sends
 * no readings, so the calendar side must be checked without one.
 */
export function evaluateUsageTick(rule: UsageRule, prev: UsageState | undefined, asset: { id: string; code: string }, now: Date): Evaluation {
  if (!rule.definition.calendar) return { state: prev ?? { kind: 'usage', lastPmValue: rule.definition.startAt }, decisions: [], changed: false };
  const state: UsageState = prev ?? { kind: 'usage', lastPmValue: rule.definition.startAt };
  const next: UsageState = state.lastPmAt === undefined ? { ...state, lastPmAt: now.getTime() } : state;
  return usageDue(rule, next, asset.id, asset.code, now, undefined, next !== state);
}

/** Meter due (when a life-to-date value is given) or calendar due, once per PM cycle. */
function usageDue(rule: UsageRule, state: UsageState, assetId: string, assetCode: string, at: Date, ltd: number | undefined, persist: boolean): Evaluation {
  const d = rule.definition;
  const due = state.lastPmValue + d.every;
  const tolerance = d.tolerance ?? 0;
  const calDue = d.calendar && state.lastPmAt !== undefined ? addInterval(state.lastPmAt, d.calendar.every, d.calendar.unit) : undefined;
  const meterDue = ltd !== undefined && ltd >= due - tolerance;
  const timeDue = calDue !== undefined && at.getTime() >= calDue;
  if ((!meterDue && !timeDue) || state.requestedFor === due) return { state, decisions: [], changed: persist };
  const trigger = meterDue ? 'meter' : 'calendar';
  const calIso = calDue !== undefined ? new Date(calDue).toISOString() : undefined;
  const decision: Decision = {
    type: 'raise',
    // the cycle is identified by the last PM: meter due point, plus the calendar due date when there is one
    dedupeKey: `usage:${rule.id}:${assetId}:${due}${calIso ? `:${calIso}` : ''}`,
    openKey: openKeyFor(rule.id, assetId),
    source: 'pm',
    title: d.title ?? `${rule.name}: ${d.every} ${d.metric} service on ${assetCode}`,
    priority: d.priority,
    explanation: {
      ruleId: rule.id,
      ruleName: rule.name,
      ruleVersion: rule.version,
      kind: 'usage',
      metric: d.metric,
      statistic: { name: trigger === 'meter' ? 'counter' : 'daysSinceLastPm', value: trigger === 'meter' ? ltd! : Math.round((at.getTime() - state.lastPmAt!) / 86_400_000) },
      threshold: trigger === 'meter' ? due : d.calendar!.every,
      inputs: {
        from: new Date(state.lastTs ?? at.getTime()).toISOString(),
        to: at.toISOString(),
        lastPmValue: state.lastPmValue,
        every: d.every,
        tolerance,
        trigger,
        ...(ltd !== undefined ? { rawValue: state.lastValue } : {}),
        ...(state.offset ? { offset: state.offset } : {}),
        ...(state.lastPmAt !== undefined ? { lastPmAt: new Date(state.lastPmAt).toISOString() } : {}),
        ...(calIso ? { dueAt: calIso } : {}),
      },
      summary:
        trigger === 'meter'
          ? `${d.metric} on ${assetCode} reached ${ltd}${state.offset ? ` (raw ${state.lastValue} + ${state.offset} before resets)` : ''} ≥ ${due}${tolerance ? ` − tolerance ${tolerance}` : ''}` +
            ` (last PM at ${state.lastPmValue} + every ${d.every})`
          : `${d.calendar!.every} ${d.calendar!.unit}(s) since the last PM on ${assetCode} (due ${calIso}) came before ${due} ${d.metric}`,
    },
    at,
  };
  return { state: { ...state, requestedFor: due }, decisions: [decision], changed: true };
}

const DAY = 86_400_000;

/** t + every × unit, in UTC; months keep the day of month, clamped to the month's last day. */
export function addInterval(t: number, every: number, unit: 'day' | 'week' | 'month'): number {
  if (unit === 'day') return t + every * DAY;
  if (unit === 'week') return t + every * 7 * DAY;
  const d = new Date(t);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + every, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return target.getTime();
}

/** Calendar PM on a clock tick: once per interval, `leadDays` ahead of the due date. */
export function evaluateCalendar(rule: CalendarRule, prev: CalendarState | undefined, asset: { id: string; code: string }, now: Date): Evaluation {
  const d = rule.definition;
  const start = prev?.lastPmAt ?? (d.anchor ? Date.parse(d.anchor) : now.getTime());
  const state: CalendarState = prev ?? { kind: 'calendar', lastPmAt: start };
  const due = addInterval(state.lastPmAt, d.every, d.unit);
  if (now.getTime() < due - d.leadDays * DAY || state.requestedFor === due) return { state, decisions: [], changed: prev === undefined };
  const dueIso = new Date(due).toISOString();
  const decision: Decision = {
    type: 'raise',
    dedupeKey: `calendar:${rule.id}:${asset.id}:${dueIso}`,
    openKey: openKeyFor(rule.id, asset.id),
    source: 'pm',
    title: d.title ?? `${rule.name}: every ${d.every} ${d.unit}(s) on ${asset.code}`,
    priority: d.priority,
    explanation: {
      ruleId: rule.id,
      ruleName: rule.name,
      ruleVersion: rule.version,
      kind: 'calendar',
      metric: 'calendar',
      statistic: { name: 'daysUntilDue', value: Math.round((due - now.getTime()) / DAY) },
      threshold: d.leadDays,
      inputs: { from: new Date(state.lastPmAt).toISOString(), to: now.toISOString(), lastPmAt: new Date(state.lastPmAt).toISOString(), dueAt: dueIso },
      summary: `every ${d.every} ${d.unit}(s) since ${new Date(state.lastPmAt).toISOString().slice(0, 10)}: due ${dueIso.slice(0, 10)} on ${asset.code}${d.leadDays ? ` (generated ${d.leadDays} day(s) ahead)` : ''}`,
    },
    at: now,
  };
  return { state: { ...state, requestedFor: due }, decisions: [decision], changed: true };
}

/** A calendar PM order was completed at `at`: fixed intervals continue from the due date, floating ones from completion. */
export function calendarCompleted(state: CalendarState, at: Date, interval: 'fixed' | 'floating'): CalendarState {
  const { requestedFor, ...rest } = state;
  return { ...rest, lastPmAt: interval === 'fixed' && requestedFor !== undefined ? requestedFor : at.getTime() };
}

/**
 * A PM order was completed at raw counter value `meter`. Floating interval: the next one is due
 * `every` after the completion reading; fixed interval: `every` after the previous due point.
 */
export function pmCompleted(state: UsageState, meter: number, interval: 'floating' | 'fixed' = 'floating', every?: number, at?: Date): UsageState {
  const { requestedFor, ...withoutRequest } = state;
  const rest: UsageState = at !== undefined && state.lastPmAt !== undefined ? { ...withoutRequest, lastPmAt: at.getTime() } : withoutRequest;
  const ltd = meter + (state.offset ?? 0);
  if (interval === 'fixed' && every !== undefined) {
    // the due point just served; when no order was requested, the last due point at or below the meter
    const served = requestedFor ?? state.lastPmValue + Math.max(1, Math.floor((ltd - state.lastPmValue) / every)) * every;
    return { ...rest, lastPmValue: served };
  }
  return { ...rest, lastPmValue: ltd };
}

/**
 * Alarm mapping: a device alarm code → fault code, severity and work-order template. One open
 * order (and one active alarm) per asset + fault; the device clearing the code clears the alarm.
 * Returns no decision for codes the rule does not map.
 */
export function evaluateDeviceAlarm(rule: AlarmRule, a: DeviceAlarm): Decision[] {
  const m = rule.definition.mappings.find((x) => x.deviceCodes.includes(a.code));
  if (!m) return [];
  const openKey = `${openKeyFor(rule.id, a.assetId)}:fault:${m.faultCode}`;
  if (!a.active) return [{ type: 'clear', openKey, at: a.ts, value: 0 }];
  const iso = a.ts.toISOString();
  return [
    {
      type: 'raise',
      dedupeKey: `alarm:${rule.id}:${a.assetId}:${m.faultCode}:${iso}`,
      openKey,
      source: 'rule',
      title: `${m.workOrder.title} (${m.faultCode}) on ${a.assetCode}`,
      priority: m.workOrder.priority,
      createWorkOrder: m.createWorkOrder,
      ...(m.workOrder.description ? { description: m.workOrder.description } : {}),
      alarm: { severity: m.severity, code: m.faultCode, message: a.message ?? `device alarm ${a.code}` },
      explanation: {
        ruleId: rule.id,
        ruleName: rule.name,
        ruleVersion: rule.version,
        kind: 'alarm',
        metric: a.code,
        statistic: { name: 'deviceAlarm', value: 1 },
        threshold: 1,
        inputs: { from: iso, to: iso, deviceCode: a.code, faultCode: m.faultCode, deviceSeverity: a.severity, ...(a.message ? { message: a.message } : {}) },
        summary: `device alarm ${a.code} on ${a.assetCode} → fault ${m.faultCode} (${m.severity})${a.message ? `: ${a.message}` : ''}`,
      },
      at: a.ts,
    },
  ];
}
