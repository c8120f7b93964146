/**
 * KPI request parsing (pure): the period and the filters of a KPI query, and the conversion of raw
 * SQL result values (numeric → string/Decimal, bigint, number) to plain numbers.
 *
 * Period: `from` / `to` are ISO-8601 date-times or YYYY-MM-DD dates (UTC). A date-only `from` is the
 * start of that day; a date-only `to` is the end of that day (23:59:59.999), so `to=2026-11-30`
 * includes the 30th. Both bounds are inclusive ($__timeFilter is BETWEEN). Default: the 30 days up to
 * now (from = to − 30 days when only `to` is given; to = now when only `from` is given).
 */
import { AppError } from '../platform/errors.ts';

export const DEFAULT_PERIOD_DAYS = 30;
const DAY_MS = 86_400_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

export interface KpiFilters {
  site?: string | undefined;
  customer?: string | undefined;
  asset?: string | undefined;
  engineer?: string | undefined;
}

export interface KpiPeriod {
  from: Date;
  to: Date;
}

function parseBound(raw: string, name: 'from' | 'to'): Date {
  if (DATE_ONLY.test(raw)) {
    const d = new Date(`${raw}T00:00:00Z`);
    if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== raw) throw new AppError('validation', `${name} is not a valid date: ${raw}`, { [name]: raw });
    return name === 'to' ? new Date(d.getTime() + DAY_MS - 1) : d;
  }
  const d = new Date(raw);
  if (!DATE_TIME.test(raw) || Number.isNaN(d.getTime())) {
    throw new AppError('validation', `${name} must be an ISO-8601 date-time or YYYY-MM-DD: ${raw}`, { [name]: raw });
  }
  return d;
}

export function resolvePeriod(q: { from?: string | undefined; to?: string | undefined }, now: Date): KpiPeriod {
  const to = q.to !== undefined ? parseBound(q.to, 'to') : now;
  const from = q.from !== undefined ? parseBound(q.from, 'from') : new Date(to.getTime() - DEFAULT_PERIOD_DAYS * DAY_MS);
  if (from.getTime() > to.getTime()) {
    throw new AppError('validation', `from (${from.toISOString()}) is after to (${to.toISOString()})`, { from: from.toISOString(), to: to.toISOString() });
  }
  return { from, to };
}

/** Only the filters that were given (empty strings count as absent). */
export function cleanFilters(q: KpiFilters): KpiFilters {
  const out: KpiFilters = {};
  for (const k of ['site', 'customer', 'asset', 'engineer'] as const) {
    const v = q[k];
    if (v !== undefined && v !== '') out[k] = v;
  }
  return out;
}

/** A SQL result value as a number (null stays null). */
export function toNumber(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    const n = Number(v);
    if (Number.isNaN(n)) throw new Error(`not a number: ${v}`);
    return n;
  }
  if (typeof v === 'object' && 'toNumber' in v && typeof (v as { toNumber: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  throw new Error(`not a number: ${String(v)}`);
}

/** A grouping value as a string key (time buckets in epoch seconds → ISO timestamps). */
export function groupKey(column: string, v: unknown): string {
  if (v === null || v === undefined) return '';
  if (column === 'time') {
    const secs = toNumber(v);
    return secs === null ? '' : new Date(secs * 1000).toISOString();
  }
  if (v instanceof Date) return v.toISOString();
  return String(v);
}
