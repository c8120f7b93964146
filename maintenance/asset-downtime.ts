/**
 * Downtime arithmetic (pure): how long an asset was down within a window, and its availability.
 * Periods are clipped to the window; an open period (no end) counts up to `now`; overlapping
 * periods count once. The window never extends past `now` (the future is neither up nor down).
 */
export interface Period {
  startedAt: Date;
  endedAt: Date | null;
}

export interface DowntimeTotals {
  /** Effective window: [from, min(to, now)]. */
  from: Date;
  to: Date;
  downtimeMs: number;
  downtimeHours: number;
  /** Share of the effective window the asset was up, in percent (2 decimals); null for an empty window. */
  availabilityPct: number | null;
}

/** Hours with 3 decimals (to the 3.6 s). */
export const msToHours = (ms: number): number => Math.round(ms / 3600) / 1000;

/** Length of a period inside [from, to] (0 when outside). */
export function clippedMs(p: Period, from: Date, to: Date, now: Date): number {
  const start = Math.max(p.startedAt.getTime(), from.getTime());
  const end = Math.min((p.endedAt ?? now).getTime(), to.getTime(), now.getTime());
  return Math.max(0, end - start);
}

export function downtimeInWindow(periods: readonly Period[], window: { from: Date; to: Date }, now: Date): DowntimeTotals {
  const from = window.from;
  const to = new Date(Math.min(window.to.getTime(), now.getTime()));
  const spans = periods
    .map((p) => [Math.max(p.startedAt.getTime(), from.getTime()), Math.min((p.endedAt ?? now).getTime(), to.getTime())] as const)
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  let downtimeMs = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const [s, e] of spans) {
    if (s > curEnd) {
      if (curEnd > curStart) downtimeMs += curEnd - curStart;
      curStart = s;
      curEnd = e;
    } else if (e > curEnd) {
      curEnd = e;
    }
  }
  if (curEnd > curStart) downtimeMs += curEnd - curStart;
  const windowMs = to.getTime() - from.getTime();
  const availabilityPct = windowMs > 0 ? Math.round(((windowMs - downtimeMs) / windowMs) * 10_000) / 100 : null;
  return { from, to: windowMs >= 0 ? to : from, downtimeMs, downtimeHours: msToHours(downtimeMs), availabilityPct };
}

/** Duration of one period in hours (open periods up to now). */
export const periodHours = (p: Period, now: Date): number => msToHours(Math.max(0, (p.endedAt ?? now).getTime() - p.startedAt.getTime()));
