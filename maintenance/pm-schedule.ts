/**
 * Pure PM scheduling: when a preventive-maintenance plan is due for one asset, the dedupe
 * sequence of that due point, the explanation stored on the generated order, and the forecast of
 * upcoming due points. No I/O, no clock: `pm-plans.ts` loads the inputs and passes `now`.
 *
 * Semantics (see maintenance/README.md):
 * - Calendar anchor = plan.startDate ?? asset commissionedAt ?? installDate ?? plan creation. The
 *   anchor is time zero (as if the work had been done then): the first due point is one interval later.
 * - Floating calendar: next due = (last completion ?? anchor) + interval.
 * - Fixed calendar: due points anchor + k × interval (k ≥ 1, always computed from the anchor, so
 *   month ends do not drift). Points missed while nothing ran or while an order was open are
 *   skipped: only the latest point that came due is generated (no storm of catch-up orders).
 * - Meter (Maximo): units to go = last PM reading + interval − tolerance − current reading. Before
 *   the first completion the baseline is the meter value when the plan first saw the asset.
 * - calendar_or_meter: whichever comes first; a completion restarts both.
 * - One cycle at a time: once an order was generated for the current cycle (`lastGeneratedAt`
 *   set; cleared by completion or cancellation) no further order is generated for it, except that
 *   a fixed schedule moves on to its next point (which an order still open then covers).
 */

export type PmTrigger = 'calendar' | 'meter' | 'calendar_or_meter';
export type IntervalUnit = 'day' | 'week' | 'month' | 'year';

export interface PmSchedule {
  trigger: PmTrigger;
  intervalCount: number | null;
  intervalUnit: IntervalUnit | null;
  meterInterval: number | null;
  meterTolerance: number;
  leadDays: number;
  floating: boolean;
}

/** Where a plan stands for one asset (PmPlanState; all empty before the plan first saw the asset). */
export interface PmState {
  lastDoneAt: Date | null;
  /** Last completion reading, or the baseline recorded when the plan first saw the asset. */
  lastDoneMeter: number | null;
  generatedSeq: number;
  /** Set when an order was generated (or found open) for the current cycle; null after completion / cancellation. */
  lastGeneratedAt: Date | null;
}

export const EMPTY_STATE: PmState = { lastDoneAt: null, lastDoneMeter: null, generatedSeq: 0, lastGeneratedAt: null };

export const DAY_MS = 86_400_000;
const UNIT_DAYS_MIN: Record<IntervalUnit, number> = { day: 1, week: 7, month: 28, year: 365 };

export const hasCalendar = (t: PmTrigger): boolean => t !== 'meter';
export const hasMeter = (t: PmTrigger): boolean => t !== 'calendar';

/**
 * What a plan's schedule lacks or gets wrong: fields the trigger needs (`missing`) and other
 * problems. Empty lists = valid.
 */
export function checkSchedule(s: PmSchedule & { meterName: string | null }): { missing: string[]; problems: string[] } {
  const missing: string[] = [];
  const problems: string[] = [];
  if (hasCalendar(s.trigger)) {
    if (s.intervalCount == null) missing.push('intervalCount');
    if (s.intervalUnit == null) missing.push('intervalUnit');
  }
  if (hasMeter(s.trigger)) {
    if (!s.meterName) missing.push('meterName');
    if (s.meterInterval == null) missing.push('meterInterval');
  }
  if (s.intervalCount != null && (!Number.isInteger(s.intervalCount) || s.intervalCount < 1)) problems.push('intervalCount must be a positive integer');
  if (s.meterInterval != null && !(s.meterInterval > 0)) problems.push('meterInterval must be positive');
  if (s.meterTolerance < 0) problems.push('meterTolerance must not be negative');
  if (s.meterInterval != null && s.meterTolerance >= s.meterInterval) problems.push(`meterTolerance (${s.meterTolerance}) must be smaller than meterInterval (${s.meterInterval})`);
  if (s.leadDays < 0) problems.push('leadDays must not be negative');
  if (hasCalendar(s.trigger) && s.intervalCount != null && s.intervalUnit != null && s.leadDays >= s.intervalCount * UNIT_DAYS_MIN[s.intervalUnit]) {
    problems.push(`leadDays (${s.leadDays}) must be shorter than the interval (${s.intervalCount} ${s.intervalUnit})`);
  }
  return { missing, problems };
}

/** t + count × unit in UTC; months and years keep the day of month, clamped to the month's last day. */
export function addInterval(t: Date, count: number, unit: IntervalUnit): Date {
  if (unit === 'day') return new Date(t.getTime() + count * DAY_MS);
  if (unit === 'week') return new Date(t.getTime() + count * 7 * DAY_MS);
  const months = unit === 'year' ? count * 12 : count;
  const target = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + months, 1, t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds(), t.getUTCMilliseconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(t.getUTCDate(), lastDay));
  return target;
}

/** k-th point of a fixed schedule (k ≥ 0), computed from the anchor so month ends do not drift. */
export const fixedPoint = (anchor: Date, k: number, count: number, unit: IntervalUnit): Date => addInterval(anchor, k * count, unit);

/** Largest k ≥ 0 with fixedPoint(k) ≤ t (0 when t is before the first point). */
export function latestPointIndex(anchor: Date, count: number, unit: IntervalUnit, t: Date): number {
  if (t.getTime() < anchor.getTime()) return 0;
  let k: number;
  if (unit === 'day' || unit === 'week') {
    k = Math.floor((t.getTime() - anchor.getTime()) / (count * (unit === 'week' ? 7 : 1) * DAY_MS));
  } else {
    const months = (t.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + (t.getUTCMonth() - anchor.getUTCMonth());
    k = Math.max(0, Math.floor(months / (unit === 'year' ? count * 12 : count)));
  }
  while (fixedPoint(anchor, k + 1, count, unit).getTime() <= t.getTime()) k++;
  while (k > 0 && fixedPoint(anchor, k, count, unit).getTime() > t.getTime()) k--;
  return k;
}

export interface CalendarStatus {
  dueAt: Date;
  /** dueAt − leadDays: when the order is generated. */
  generateFrom: Date;
  /** What dueAt counts from: the last completion, the anchor (floating), or the fixed schedule. */
  base: 'last_done' | 'anchor' | 'schedule';
  /** Fixed schedules: index of the due point (anchor + point × interval). */
  point?: number;
  /** Fixed schedules: earlier points that came due unhandled and are skipped (not generated). */
  skippedPoints?: number;
  /** The point came due (now ≥ generateFrom) and was not handled yet (fixed) / the date is reached (floating). */
  reached: boolean;
}

export interface MeterStatus {
  baseline: number;
  /** baseline + interval */
  dueValue: number;
  /** dueValue − tolerance: the order is generated at this reading. */
  triggerValue: number;
  current: number;
  reached: boolean;
}

export interface DueStatus {
  calendar?: CalendarStatus | undefined;
  /** Undefined for meter plans without a reading or baseline yet. */
  meter?: MeterStatus | undefined;
  /** An order was already generated (or found open) for the current cycle. */
  pending: boolean;
  /** Generate now: the due point's dedupe sequence and what made it due. */
  due?: { seq: number; basis: 'calendar' | 'meter' } | undefined;
}

export function calendarStatus(s: PmSchedule, anchor: Date, state: PmState, now: Date): CalendarStatus | undefined {
  if (!hasCalendar(s.trigger) || s.intervalCount == null || s.intervalUnit == null) return undefined;
  const lead = s.leadDays * DAY_MS;
  if (s.floating) {
    const dueAt = addInterval(state.lastDoneAt ?? anchor, s.intervalCount, s.intervalUnit);
    const generateFrom = new Date(dueAt.getTime() - lead);
    return { dueAt, generateFrom, base: state.lastDoneAt ? 'last_done' : 'anchor', reached: now.getTime() >= generateFrom.getTime() };
  }
  // fixed: the latest point whose generation time has come; handled when an order was generated (or
  // found open) or the work completed at or after that time
  const handledUntil = Math.max(state.lastGeneratedAt?.getTime() ?? -Infinity, state.lastDoneAt?.getTime() ?? -Infinity);
  const k = latestPointIndex(anchor, s.intervalCount, s.intervalUnit, new Date(now.getTime() + lead));
  const pointAt = (i: number) => fixedPoint(anchor, i, s.intervalCount!, s.intervalUnit!);
  if (k >= 1 && pointAt(k).getTime() - lead > handledUntil) {
    const firstUnhandled = Number.isFinite(handledUntil) ? latestPointIndex(anchor, s.intervalCount, s.intervalUnit, new Date(handledUntil + lead)) + 1 : 1;
    const dueAt = pointAt(k);
    return { dueAt, generateFrom: new Date(dueAt.getTime() - lead), base: 'schedule', point: k, skippedPoints: Math.max(0, k - firstUnhandled), reached: true };
  }
  const dueAt = pointAt(k + 1);
  return { dueAt, generateFrom: new Date(dueAt.getTime() - lead), base: 'schedule', point: k + 1, skippedPoints: 0, reached: false };
}

export function meterStatus(s: PmSchedule, state: PmState, meter: number | null): MeterStatus | undefined {
  if (!hasMeter(s.trigger) || s.meterInterval == null || meter == null || state.lastDoneMeter == null) return undefined;
  const dueValue = state.lastDoneMeter + s.meterInterval;
  const triggerValue = dueValue - s.meterTolerance;
  return { baseline: state.lastDoneMeter, dueValue, triggerValue, current: meter, reached: meter >= triggerValue };
}

/**
 * Whether the plan is due for the asset now. `meter` is the current value of the plan's meter
 * (null = no reading yet). The sequence is `generatedSeq + 1`: every instance reading the same state
 * derives the same dedupe key, so concurrent ticks converge on one order.
 */
export function dueStatus(s: PmSchedule, anchor: Date, state: PmState, meter: number | null, now: Date): DueStatus {
  const calendar = calendarStatus(s, anchor, state, now);
  const m = meterStatus(s, state, meter);
  const pending = state.lastGeneratedAt !== null;
  // a fixed schedule's `reached` already excludes handled points; floating cycles wait for completion
  const calendarDue = calendar !== undefined && calendar.reached && (!s.floating || !pending);
  const meterDue = m !== undefined && m.reached && !pending;
  const due = calendarDue || meterDue ? { seq: state.generatedSeq + 1, basis: calendarDue ? ('calendar' as const) : ('meter' as const) } : undefined;
  return { calendar, meter: m, pending, due };
}

/** The meter baseline to record on first sight (no completion and no baseline yet), else undefined. */
export function baselineToRecord(s: PmSchedule, state: PmState | null, meter: number | null): number | undefined {
  if (!hasMeter(s.trigger) || meter == null) return undefined;
  return state?.lastDoneMeter == null ? meter : undefined;
}

export const pmDedupeKey = (planId: string, assetId: string, seq: number): string => `pm:${planId}:${assetId}:${seq}`;
export const pmOpenKey = (planId: string, assetId: string): string => `pm:${planId}:${assetId}`;

/** Sequence number of a PM dedupe key (undefined for other keys). */
export function seqOfDedupeKey(key: string | null): number | undefined {
  const m = key ? /^pm:[^:]+:[^:]+:(\d+)$/.exec(key) : null;
  return m ? Number(m[1]) : undefined;
}

const isoDay = (d: Date): string => d.toISOString().slice(0, 10);

/** Why the order exists: stored in WorkOrder.reason. */
export function explainDue(
  plan: PmSchedule & { id: string; name: string; meterName: string | null },
  asset: { id: string; code: string },
  anchor: Date,
  state: PmState,
  status: DueStatus,
  now: Date,
): Record<string, unknown> {
  const basis = status.due?.basis ?? null;
  const c = status.calendar;
  const m = status.meter;
  const calText = c
    ? c.base === 'schedule'
      ? `fixed schedule every ${plan.intervalCount} ${plan.intervalUnit}(s) from ${isoDay(anchor)}: point #${c.point} due ${isoDay(c.dueAt)}` +
        (c.skippedPoints ? ` (${c.skippedPoints} missed point(s) skipped)` : '')
      : `every ${plan.intervalCount} ${plan.intervalUnit}(s) since ${isoDay(state.lastDoneAt ?? anchor)} (${c.base === 'last_done' ? 'last done' : 'anchor'}): due ${isoDay(c.dueAt)}`
    : undefined;
  const meterText = m
    ? `${plan.meterName} at ${m.current} ≥ ${m.dueValue}${plan.meterTolerance ? ` − tolerance ${plan.meterTolerance}` : ''} (last PM at ${m.baseline} + every ${plan.meterInterval})`
    : undefined;
  return {
    pmPlanId: plan.id,
    pmPlanName: plan.name,
    kind: 'pm',
    trigger: plan.trigger,
    basis,
    seq: status.due?.seq ?? null,
    summary: `${plan.name} on ${asset.code}: ${basis === 'meter' ? meterText : calText}`,
    ...(c
      ? {
          calendar: {
            dueAt: c.dueAt.toISOString(),
            generateFrom: c.generateFrom.toISOString(),
            base: c.base,
            anchor: anchor.toISOString(),
            interval: { count: plan.intervalCount, unit: plan.intervalUnit },
            floating: plan.floating,
            leadDays: plan.leadDays,
            reached: c.reached,
            ...(c.point !== undefined ? { point: c.point, skippedPoints: c.skippedPoints ?? 0 } : {}),
          },
        }
      : {}),
    ...(m
      ? {
          meter: {
            name: plan.meterName,
            current: m.current,
            baseline: m.baseline,
            interval: plan.meterInterval,
            tolerance: plan.meterTolerance,
            dueValue: m.dueValue,
            triggerValue: m.triggerValue,
            unitsToGo: m.triggerValue - m.current,
            reached: m.reached,
          },
        }
      : {}),
    lastDone: { at: state.lastDoneAt?.toISOString() ?? null, meter: state.lastDoneMeter },
    evaluatedAt: now.toISOString(),
  };
}

// ───────────────────────── forecast ─────────────────────────

export interface MeterReading {
  value: number;
  readAt: Date;
}

export interface UsageRate {
  perDay: number;
  derivation: 'since_last_completion' | 'since_first_sight';
  from: { value: number; at: Date };
  to: { value: number; at: Date };
}

/** Less than this between the two readings gives no usable rate. */
const MIN_RATE_SPAN_MS = 3_600_000;

/**
 * Average usage per day: from the last completion reading to the latest reading, or — before any
 * completion — from the baseline recorded when the plan first saw the asset (`firstSeenAt`).
 */
export function usageRate(state: PmState, meter: MeterReading | null, firstSeenAt: Date | null): UsageRate | null {
  if (!meter || state.lastDoneMeter == null) return null;
  const since = state.lastDoneAt ?? firstSeenAt;
  if (!since) return null;
  const span = meter.readAt.getTime() - since.getTime();
  if (span < MIN_RATE_SPAN_MS || meter.value < state.lastDoneMeter) return null;
  return {
    perDay: ((meter.value - state.lastDoneMeter) / span) * DAY_MS,
    derivation: state.lastDoneAt ? 'since_last_completion' : 'since_first_sight',
    from: { value: state.lastDoneMeter, at: since },
    to: { value: meter.value, at: meter.readAt },
  };
}

export interface ForecastOccurrence {
  /** Estimated due date (calendar: the due date; meter: when the meter reaches the due value). */
  dueAt: Date;
  /** When the order would be generated (lead days / meter tolerance before dueAt). */
  generateAt: Date;
  basis: 'calendar' | 'meter';
  overdue: boolean;
  /** Meter basis: the due reading. */
  meterDueValue?: number;
}

export interface ForecastInput {
  schedule: PmSchedule;
  anchor: Date;
  state: PmState;
  meter: MeterReading | null;
  rate: UsageRate | null;
  now: Date;
  from: Date;
  to: Date;
  /** Most occurrences listed per plan and asset. */
  max: number;
}

/**
 * Upcoming due points of one plan on one asset within [from, to], in date order. An overdue point
 * not generated yet is listed (flagged) when the window includes now. An order already generated
 * for the current cycle is not listed again: it is assumed done when due (or now, if overdue), and
 * every later point is assumed done exactly when due. Meter dates assume the average usage rate.
 */
export function forecastOccurrences(f: ForecastInput): { occurrences: ForecastOccurrence[]; truncated: boolean } {
  const s = f.schedule;
  const now = f.now.getTime();
  const lead = s.leadDays * DAY_MS;
  const status = dueStatus(s, f.anchor, f.state, f.meter?.value ?? null, f.now);
  const rate = f.rate && f.rate.perDay > 0 ? f.rate : null;
  const meterAt = (t: number): number | null => (f.meter ? f.meter.value + (rate ? (rate.perDay * Math.max(0, t - f.meter.readAt.getTime())) / DAY_MS : 0) : null);
  const timeAtMeter = (v: number): number | undefined => {
    if (!f.meter) return undefined;
    if (!rate) return v <= f.meter.value ? now : undefined;
    return f.meter.readAt.getTime() + ((v - f.meter.value) / rate.perDay) * DAY_MS;
  };
  const occurrences: ForecastOccurrence[] = [];

  // the cycle the next occurrence belongs to
  let lastT: number;
  let lastM: number | null;
  let fixedNext: number | undefined; // fixed schedules: due time of the next unhandled point
  const fixedAfter = (t: number): number => {
    const k = latestPointIndex(f.anchor, s.intervalCount!, s.intervalUnit!, new Date(t + lead));
    return fixedPoint(f.anchor, k + 1, s.intervalCount!, s.intervalUnit!).getTime();
  };
  if (status.pending) {
    const assumedDone = Math.max(now, s.floating && status.calendar ? status.calendar.dueAt.getTime() : now);
    lastT = assumedDone;
    lastM = meterAt(assumedDone);
  } else {
    lastT = (f.state.lastDoneAt ?? f.anchor).getTime();
    lastM = f.state.lastDoneMeter;
  }
  // fixed: the unhandled point that came due (skipping missed ones), else the next one to come
  if (!s.floating && status.calendar) fixedNext = status.calendar.dueAt.getTime();

  let truncated = false;
  for (let guard = 0; guard < 100_000; guard++) {
    let cal: number | undefined;
    if (hasCalendar(s.trigger) && s.intervalCount != null && s.intervalUnit != null) {
      cal = s.floating ? addInterval(new Date(lastT), s.intervalCount, s.intervalUnit).getTime() : fixedNext;
    }
    let met: { at: number; gen: number; value: number } | undefined;
    if (hasMeter(s.trigger) && s.meterInterval != null && lastM != null) {
      const value = lastM + s.meterInterval;
      const at = timeAtMeter(value);
      const gen = timeAtMeter(value - s.meterTolerance);
      if (gen !== undefined) met = { at: at ?? gen, gen, value };
    }
    if (cal === undefined && met === undefined) break;
    const calFirst = cal !== undefined && (met === undefined || cal <= met.at);
    const dueAt = calFirst ? cal! : met!.at;
    if (dueAt > f.to.getTime()) break;
    const occ: ForecastOccurrence = calFirst
      ? { dueAt: new Date(cal!), generateAt: new Date(cal! - lead), basis: 'calendar', overdue: cal! < now }
      : { dueAt: new Date(met!.at), generateAt: new Date(met!.gen), basis: 'meter', overdue: met!.at < now, meterDueValue: met!.value };
    const first = guard === 0;
    if (dueAt >= f.from.getTime() || (first && dueAt < now && f.from.getTime() <= now)) {
      if (occurrences.length >= f.max) {
        truncated = true;
        break;
      }
      occurrences.push(occ);
    }
    // assume this point is done when due (an overdue one: now)
    const done = Math.max(dueAt, now);
    lastT = done;
    lastM = calFirst || dueAt < now ? meterAt(done) : met!.value;
    if (!s.floating && cal !== undefined) fixedNext = calFirst ? fixedAfter(Math.max(cal, now)) : fixedAfter(done);
  }
  return { occurrences, truncated };
}

/** Hours and parts the listed occurrences need (planners' capacity and parts view). */
export function forecastTotals<P extends { partId: string; quantity: number }>(items: { estimatedHours: number | null; parts: P[] }[]) {
  const parts = new Map<string, P>();
  let hours = 0;
  let withoutEstimate = 0;
  for (const i of items) {
    if (i.estimatedHours == null) withoutEstimate++;
    else hours += i.estimatedHours;
    for (const p of i.parts) {
      const cur = parts.get(p.partId);
      parts.set(p.partId, cur ? { ...cur, quantity: cur.quantity + p.quantity } : { ...p });
    }
  }
  return { occurrences: items.length, estimatedHours: Math.round(hours * 100) / 100, occurrencesWithoutEstimate: withoutEstimate, parts: [...parts.values()] };
}
