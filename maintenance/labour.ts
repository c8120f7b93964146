/**
 * Labour and travel arithmetic for work logs (pure): minutes from a start/end interval, cost from an
 * engineer's hourly rate, overlap of one engineer's labour intervals, and the totals of an order's
 * logs. Money is computed in integer cents so sums do not drift.
 */

/** Longest single labour entry; longer is a typo (split real multi-day work into shifts). */
export const MAX_LABOUR_MINUTES = 24 * 60;

export interface Interval {
  startedAt: Date;
  endedAt: Date;
}

export type LabourTime = { ok: true; minutes: number; interval: Interval | undefined } | { ok: false; message: string };

/**
 * Minutes of a labour entry from what was given: start + end (minutes computed, rounded to the
 * nearest minute), start + minutes (end derived), or minutes alone (no interval, so no overlap check).
 * Giving all three is accepted only when they agree.
 */
export function labourTime(input: { startedAt?: Date | undefined; endedAt?: Date | undefined; minutes?: number | undefined }): LabourTime {
  const { startedAt, endedAt, minutes } = input;
  if (minutes !== undefined && (!Number.isInteger(minutes) || minutes <= 0)) return { ok: false, message: 'minutes must be a positive whole number' };
  if (endedAt && !startedAt) return { ok: false, message: 'endedAt needs startedAt' };
  if (startedAt && endedAt) {
    if (endedAt.getTime() <= startedAt.getTime()) return { ok: false, message: 'endedAt must be after startedAt' };
    const computed = Math.round((endedAt.getTime() - startedAt.getTime()) / 60_000);
    if (computed < 1) return { ok: false, message: 'a labour interval must last at least one minute' };
    if (minutes !== undefined && minutes !== computed) return { ok: false, message: `minutes (${minutes}) disagree with startedAt..endedAt (${computed} minutes); give one or the other` };
    if (computed > MAX_LABOUR_MINUTES) return { ok: false, message: `a labour entry may cover at most ${MAX_LABOUR_MINUTES} minutes (24 h); split longer work` };
    return { ok: true, minutes: computed, interval: { startedAt, endedAt } };
  }
  if (minutes === undefined) return { ok: false, message: 'labour needs startedAt and endedAt, or minutes' };
  if (minutes > MAX_LABOUR_MINUTES) return { ok: false, message: `a labour entry may cover at most ${MAX_LABOUR_MINUTES} minutes (24 h); split longer work` };
  if (startedAt) return { ok: true, minutes, interval: { startedAt, endedAt: new Date(startedAt.getTime() + minutes * 60_000) } };
  return { ok: true, minutes, interval: undefined };
}

/** Half-open intervals [start, end): back-to-back entries (one ends when the next starts) do not overlap. */
export const overlaps = (a: Interval, b: Interval): boolean => a.startedAt.getTime() < b.endedAt.getTime() && b.startedAt.getTime() < a.endedAt.getTime();

/** The first existing interval the candidate overlaps, if any. */
export function findOverlap<T extends Interval>(candidate: Interval, existing: readonly T[]): T | undefined {
  return existing.find((e) => overlaps(candidate, e));
}

/** A decimal amount (number or numeric string, ≤ 2 decimals) in integer cents; undefined when not such an amount. */
export function toCents(amount: number | string): number | undefined {
  const s = typeof amount === 'number' ? (Number.isFinite(amount) ? String(amount) : '') : amount.trim();
  const m = /^(\d+)(?:\.(\d{1,2})0*)?$/.exec(s);
  if (!m) return undefined;
  const cents = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(cents) ? cents : undefined;
}

export const fromCents = (cents: number): number => Math.round(cents) / 100;

/** Labour cost = minutes / 60 × hourly rate, rounded half-up to the cent; 0 (flagged) without a rate. */
export function labourCostCents(minutes: number, hourlyRate: number | string | null | undefined): { cents: number; rateMissing: boolean } {
  if (hourlyRate === null || hourlyRate === undefined) return { cents: 0, rateMissing: true };
  const rate = toCents(hourlyRate);
  if (rate === undefined) return { cents: 0, rateMissing: true };
  return { cents: Math.round((minutes * rate) / 60), rateMissing: false };
}

export interface LogLine {
  kind: 'note' | 'labour' | 'travel';
  minutes: number;
  distanceKm: number | null;
  /** Cost in cents. */
  costCents: number;
}

export interface WorkLogTotals {
  labourMinutes: number;
  labourCost: number;
  travelMinutes: number;
  travelKm: number;
  travelCost: number;
  totalCost: number;
}

export function workLogTotals(lines: readonly LogLine[]): WorkLogTotals {
  let labourMinutes = 0;
  let labourCents = 0;
  let travelMinutes = 0;
  let travelMetres = 0;
  let travelCents = 0;
  for (const l of lines) {
    if (l.kind === 'labour') {
      labourMinutes += l.minutes;
      labourCents += l.costCents;
    } else if (l.kind === 'travel') {
      travelMinutes += l.minutes;
      travelMetres += Math.round((l.distanceKm ?? 0) * 1000);
      travelCents += l.costCents;
    }
  }
  return {
    labourMinutes,
    labourCost: fromCents(labourCents),
    travelMinutes,
    travelKm: travelMetres / 1000,
    travelCost: fromCents(travelCents),
    totalCost: fromCents(labourCents + travelCents),
  };
}
