/**
 * evaluate(rule, state, reading, now): the pure heart of the rules engine.
 * Same inputs → same outputs; no clock, no I/O. Callers persist `state` and act on `decisions`.
 */
import type { ThresholdDefinition } from './definitions.ts';
import type { AlarmRule, Decision, DeviceAlarm, Evaluation, Reading, ReadingRule, RuleState, ThresholdRule, ThresholdState, UsageRule, UsageState } from './types.ts';

export const openKeyFor = (ruleId: string, assetId: string): string => `rule:${ruleId}:asset:${assetId}`;

export function initialState(rule: ReadingRule): RuleState {
  return rule.kind === 'threshold' ? { kind: 'threshold', phase: 'normal' } : { kind: 'usage', lastPmValue: rule.definition.startAt };
}

export function evaluate(rule: ReadingRule, state: RuleState | undefined, reading: Reading, now: Date): Evaluation {
  if (reading.metric !== rule.definition.metric) return { state: state ?? initialState(rule), decisions: [], changed: false };
  return rule.kind === 'threshold'
    ? evaluateThreshold(rule, state?.kind === 'threshold' ? state : undefined, reading, now)
    : evaluateUsage(rule, state?.kind === 'usage' ? state : undefined, reading, now);
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
  const due = state.lastPmValue + d.every;
  const tolerance = d.tolerance ?? 0;
  const next: UsageState = { ...state, lastValue: r.value, lastTs: t, ...(offset ? { offset } : {}) };
  const offsetChanged = offset !== (state.offset ?? 0);
  if (ltd < due - tolerance || state.requestedFor === due) return { state: next, decisions: [], changed: offsetChanged };
  const decision: Decision = {
    type: 'raise',
    dedupeKey: `usage:${rule.id}:${r.assetId}:${due}`,
    openKey: openKeyFor(rule.id, r.assetId),
    source: 'pm',
    title: d.title ?? `${rule.name}: ${d.every} ${d.metric} service on ${r.assetCode}`,
    priority: d.priority,
    explanation: {
      ruleId: rule.id,
      ruleName: rule.name,
      ruleVersion: rule.version,
      kind: 'usage',
      metric: d.metric,
      statistic: { name: 'counter', value: ltd },
      threshold: due,
      inputs: {
        from: new Date(state.lastTs ?? t).toISOString(),
        to: r.ts.toISOString(),
        lastPmValue: state.lastPmValue,
        every: d.every,
        tolerance,
        rawValue: r.value,
        ...(offset ? { offset } : {}),
      },
      summary:
        `${d.metric} on ${r.assetCode} reached ${ltd}${offset ? ` (raw ${r.value} + ${offset} before resets)` : ''} ≥ ${due}${tolerance ? ` − tolerance ${tolerance}` : ''}` +
        ` (last PM at ${state.lastPmValue} + every ${d.every})`,
    },
    at: r.ts,
  };
  return { state: { ...next, requestedFor: due }, decisions: [decision], changed: true };
}

/**
 * A PM order was completed at raw counter value `meter`. Floating interval: the next one is due
 * `every` after the completion reading; fixed interval: `every` after the previous due point.
 */
export function pmCompleted(state: UsageState, meter: number, interval: 'floating' | 'fixed' = 'floating', every?: number): UsageState {
  const { requestedFor, ...rest } = state;
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
