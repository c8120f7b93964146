/**
 * Azure predictive-maintenance sample (100 machines, 2015): an alarm-mapping rule "device error code →
 * work order for component X", configured on the first part of the year and scored on the rest.
 * Pure functions; eval/pdm.ts reads the CSV files.
 *
 * Rule semantics (as rules/evaluate.ts' alarm mapping: one open order per machine + fault):
 *  - a mapped error opens a work order for (machine, component) unless one is already open;
 *  - a failure of that component closes it: a hit, lead = failure − order time;
 *  - a scheduled replacement of the component (maintenance record not at a failure) closes it as
 *    "served by maintenance" (neither hit nor false);
 *  - an order open for `horizonHours` with neither is a false work order (expired).
 */
import { median } from '../rules/stats.ts';

export interface Event {
  t: number;
  machine: number;
  /** error code (errors), component (failures, maintenance) */
  code: string;
}

export interface AzureData {
  errors: Event[];
  failures: Event[];
  maintenance: Event[];
  machines: number[];
}

/** `datetime,machineID,X` with ISO timestamps without zone (read as UTC). */
export function parseEvents(csv: string): Event[] {
  return csv
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [d, m, c] = l.split(',');
      return { t: Date.parse(`${d!.replace(' ', 'T')}Z`), machine: Number(m), code: c! };
    })
    .sort((a, b) => a.t - b.t || a.machine - b.machine);
}

export const parseMachines = (csv: string): number[] =>
  csv
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => Number(l.split(',')[0]));

const HOUR = 3_600_000;

export interface MappingEntry {
  code: string;
  component: string;
  /** share of this code's occurrences (training period) followed by a failure of the component within the horizon */
  precision: number;
  occurrences: number;
  /** the same share for random machine-hours: P(failure of the component within the horizon) */
  baseRate: number;
}

export interface MappingConfig {
  mapping: MappingEntry[];
  /** every code × component considered, for the report */
  candidates: MappingEntry[];
  horizonHours: number;
  trainFrom: number;
  trainTo: number;
}

/**
 * Learns code → component from [from, to): for each error code the component whose failure most
 * often follows it within the horizon (on the same machine); mapped when that precision is at least
 * `minPrecision` and `minLift` × the component's base rate. One component per code (the alarm
 * definition maps a device code once).
 */
export function learnMapping(d: AzureData, from: number, to: number, horizonHours = 168, minPrecision = 0.1, minLift = 5): MappingConfig {
  // only errors whose whole follow-up window lies inside [from, to): no label from after `to` is used
  const errors = d.errors.filter((e) => e.t >= from && e.t < to - horizonHours * HOUR);
  const failures = d.failures.filter((f) => f.t >= from && f.t < to);
  const codes = [...new Set(d.errors.map((e) => e.code))].sort();
  const components = [...new Set(d.failures.map((f) => f.code))].sort();
  const failuresBy = new Map<string, number[]>();
  for (const f of failures) {
    const k = `${f.machine}|${f.code}`;
    failuresBy.set(k, [...(failuresBy.get(k) ?? []), f.t]);
  }
  const followed = (machine: number, component: string, t: number): boolean =>
    (failuresBy.get(`${machine}|${component}`) ?? []).some((ft) => ft >= t && ft - t <= horizonHours * HOUR);
  const machineHours = (d.machines.length * (to - horizonHours * HOUR - from)) / HOUR;
  const candidates: MappingEntry[] = [];
  for (const component of components) {
    // base rate: expected share of machine-hours within `horizon` before a failure of the component
    const n = failures.filter((f) => f.code === component && f.t >= from + horizonHours * HOUR).length;
    const baseRate = Math.min(1, (n * horizonHours) / machineHours);
    for (const code of codes) {
      const occ = errors.filter((e) => e.code === code);
      const hits = occ.filter((e) => followed(e.machine, component, e.t)).length;
      candidates.push({ code, component, precision: occ.length ? hits / occ.length : 0, occurrences: occ.length, baseRate });
    }
  }
  const mapping: MappingEntry[] = [];
  for (const code of codes) {
    const best = candidates.filter((c) => c.code === code).sort((a, b) => b.precision - a.precision)[0];
    if (best && best.precision >= minPrecision && best.precision >= minLift * best.baseRate) mapping.push(best);
  }
  return { mapping, candidates, horizonHours, trainFrom: from, trainTo: to };
}

export interface AlarmWorkOrder {
  machine: number;
  component: string;
  code: string;
  openedAt: number;
  closedAt: number | undefined;
  outcome: 'failure' | 'maintenance' | 'expired' | 'open';
  /** failure − openedAt (hours), for outcome failure */
  leadHours?: number;
}

/**
 * Replays all events in time order (errors before failures at the same hour: the code is reported by
 * the failing machine) and returns the work orders the mapping would have created. `repeat` is the
 * stricter variant "open only after `count` mapped codes for the component within `withinHours`".
 */
export function replayMapping(d: AzureData, cfg: Pick<MappingConfig, 'mapping' | 'horizonHours'>, until: number, repeat: { count: number; withinHours: number } = { count: 1, withinHours: 0 }): AlarmWorkOrder[] {
  const map = new Map(cfg.mapping.map((m) => [m.code, m.component]));
  const recent = new Map<string, number[]>();
  const horizon = cfg.horizonHours * HOUR;
  type Ev = { t: number; machine: number; code: string; kind: 0 | 1 | 2 };
  const failureKeys = new Set(d.failures.map((f) => `${f.machine}|${f.code}|${f.t}`));
  const events: Ev[] = [
    ...d.errors.map((e) => ({ ...e, kind: 0 as const })),
    ...d.failures.map((e) => ({ ...e, kind: 1 as const })),
    // replacements recorded for a failure are the failure itself
    ...d.maintenance.filter((m) => !failureKeys.has(`${m.machine}|${m.code}|${m.t}`)).map((e) => ({ ...e, kind: 2 as const })),
  ]
    .filter((e) => e.t < until)
    .sort((a, b) => a.t - b.t || a.kind - b.kind || a.machine - b.machine);
  const open = new Map<string, AlarmWorkOrder>();
  const out: AlarmWorkOrder[] = [];
  const close = (key: string, t: number, outcome: AlarmWorkOrder['outcome']) => {
    const wo = open.get(key)!;
    wo.closedAt = t;
    wo.outcome = outcome;
    if (outcome === 'failure') wo.leadHours = (t - wo.openedAt) / HOUR;
    open.delete(key);
  };
  const expire = (t: number) => {
    for (const [key, wo] of open) if (t - wo.openedAt > horizon) close(key, wo.openedAt + horizon, 'expired');
  };
  for (const e of events) {
    expire(e.t);
    if (e.kind === 0) {
      const component = map.get(e.code);
      if (!component) continue;
      const key = `${e.machine}|${component}`;
      // "N times within T hours" variant: count mapped codes of this component on this machine
      const times = [...(recent.get(key) ?? []).filter((t) => e.t - t <= repeat.withinHours * HOUR), e.t];
      recent.set(key, times);
      if (times.length < repeat.count) continue;
      if (open.has(key)) continue; // one open order per machine + fault (openKey)
      const wo: AlarmWorkOrder = { machine: e.machine, component, code: e.code, openedAt: e.t, closedAt: undefined, outcome: 'open' };
      open.set(key, wo);
      out.push(wo);
    } else {
      const key = `${e.machine}|${e.code}`;
      if (open.has(key)) close(key, e.t, e.kind === 1 ? 'failure' : 'maintenance');
    }
  }
  expire(until);
  return out;
}

export interface AlarmMetrics {
  from: string;
  to: string;
  machines: number;
  failures: number;
  /** failures with a work order for that component opened ≥ minLeadHours before */
  caughtAhead: number;
  caughtAheadShare: number;
  /** failures with a work order open at all (any lead) */
  caughtAny: number;
  workOrders: number;
  falseWorkOrders: number;
  servedByMaintenance: number;
  falsePerMachineYear: number;
  medianLeadHours: number | undefined;
  /** the share of work orders that were followed by the failure they predict */
  precision: number;
  byComponent: Record<string, { failures: number; caughtAhead: number }>;
}

export function scoreMapping(d: AzureData, wos: readonly AlarmWorkOrder[], from: number, to: number, minLeadHours = 24): AlarmMetrics {
  const failures = d.failures.filter((f) => f.t >= from && f.t < to);
  const inPeriod = wos.filter((w) => w.openedAt >= from && w.openedAt < to);
  const hitsByFailure = new Map<string, AlarmWorkOrder>();
  for (const w of wos) if (w.outcome === 'failure') hitsByFailure.set(`${w.machine}|${w.component}|${w.closedAt}`, w);
  const byComponent: AlarmMetrics['byComponent'] = {};
  let caughtAhead = 0;
  let caughtAny = 0;
  const leads: number[] = [];
  for (const f of failures) {
    const c = (byComponent[f.code] ??= { failures: 0, caughtAhead: 0 });
    c.failures++;
    const w = hitsByFailure.get(`${f.machine}|${f.code}|${f.t}`);
    if (!w) continue;
    caughtAny++;
    leads.push(w.leadHours!);
    if (w.leadHours! >= minLeadHours) {
      caughtAhead++;
      c.caughtAhead++;
    }
  }
  // an order counts as false when it expired; orders still open at the end are censored (not counted)
  const falseWorkOrders = inPeriod.filter((w) => w.outcome === 'expired').length;
  const decided = inPeriod.filter((w) => w.outcome !== 'open');
  const years = (to - from) / (365.25 * 24 * HOUR);
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    machines: d.machines.length,
    failures: failures.length,
    caughtAhead,
    caughtAheadShare: failures.length ? caughtAhead / failures.length : 0,
    caughtAny,
    workOrders: inPeriod.length,
    falseWorkOrders,
    servedByMaintenance: inPeriod.filter((w) => w.outcome === 'maintenance').length,
    falsePerMachineYear: falseWorkOrders / (d.machines.length * years),
    medianLeadHours: median(leads),
    precision: decided.length ? decided.filter((w) => w.outcome === 'failure').length / decided.length : 0,
    byComponent,
  };
}
