/**
 * Working time (pure): which shift of a weekly pattern contains an instant, in the engineer's time
 * zone, and whether leave covers it. Weekday 1 = Monday … 7 = Sunday; minutes from local midnight;
 * a shift whose end is not after its start runs past midnight into the next day.
 */

export interface WeeklyShift {
  weekday: number;
  startMinute: number;
  endMinute: number;
}

export interface Interval {
  start: Date;
  end: Date;
}

const DAY_MS = 86_400_000;
/** Window reported for engineers without a roster: wide enough never to limit a day's work. */
const UNRESTRICTED_MS = 7 * DAY_MS;

/** Local calendar date (y, m, d), ISO weekday and minute of day of `at` in `timeZone`. */
export function localParts(at: Date, timeZone: string): { y: number; m: number; d: number; weekday: number; minute: number } {
  const f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short', hourCycle: 'h23' });
  const parts = Object.fromEntries(f.formatToParts(at).map((p) => [p.type, p.value]));
  const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(parts.weekday!) + 1;
  return { y: Number(parts.year), m: Number(parts.month), d: Number(parts.day), weekday, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

/** UTC offset (ms) of `timeZone` at `at`. */
function offsetMs(at: Date, timeZone: string): number {
  const p = localParts(at, timeZone);
  const asUtc = Date.UTC(p.y, p.m - 1, p.d, Math.floor(p.minute / 60), p.minute % 60);
  return asUtc - Math.floor(at.getTime() / 60_000) * 60_000;
}

/** The instant of local date (y, m, d) + minute in `timeZone`. */
export function zonedInstant(y: number, m: number, d: number, minute: number, timeZone: string): Date {
  const guess = Date.UTC(y, m - 1, d) + minute * 60_000;
  // two passes settle DST transitions
  let t = guess - offsetMs(new Date(guess), timeZone);
  t = guess - offsetMs(new Date(t), timeZone);
  return new Date(t);
}

/**
 * The shift interval containing `at`, else null. No pattern at all = always available
 * (engineers without a roster are not restricted); returns a window reaching a week ahead.
 */
export function shiftAt(pattern: WeeklyShift[], at: Date, timeZone: string): Interval | null {
  if (pattern.length === 0) return { start: new Date(at.getTime() - DAY_MS), end: new Date(at.getTime() + UNRESTRICTED_MS) };
  // a shift that started today or yesterday (overnight) may contain `at`
  for (const back of [0, 1]) {
    const day = localParts(new Date(at.getTime() - back * DAY_MS), timeZone);
    for (const s of pattern) {
      if (s.weekday !== day.weekday) continue;
      const start = zonedInstant(day.y, day.m, day.d, s.startMinute, timeZone);
      const lengthMin = s.endMinute > s.startMinute ? s.endMinute - s.startMinute : 1440 - s.startMinute + s.endMinute;
      const end = new Date(start.getTime() + lengthMin * 60_000);
      if (start.getTime() <= at.getTime() && at.getTime() < end.getTime()) return { start, end };
    }
  }
  return null;
}

export const onLeave = (leaves: Interval[], at: Date): boolean => leaves.some((l) => l.start.getTime() <= at.getTime() && at.getTime() < l.end.getTime());

/** Problems with a weekly pattern (empty = valid): ranges and overlaps on the same weekday. */
export function validatePattern(pattern: WeeklyShift[]): string[] {
  const problems: string[] = [];
  pattern.forEach((s, i) => {
    if (!Number.isInteger(s.weekday) || s.weekday < 1 || s.weekday > 7) problems.push(`shift ${i}: weekday must be 1 (Mon) – 7 (Sun)`);
    for (const k of ['startMinute', 'endMinute'] as const) if (!Number.isInteger(s[k]) || s[k] < 0 || s[k] >= 1440) problems.push(`shift ${i}: ${k} must be 0–1439`);
    if (s.startMinute === s.endMinute) problems.push(`shift ${i}: start and end are equal`);
  });
  const byDay = new Map<number, WeeklyShift[]>();
  for (const s of pattern) byDay.set(s.weekday, [...(byDay.get(s.weekday) ?? []), s]);
  for (const [day, list] of byDay) {
    const sorted = [...list].sort((a, b) => a.startMinute - b.startMinute);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      const prevEnd = prev.endMinute > prev.startMinute ? prev.endMinute : 1440;
      if (sorted[i]!.startMinute < prevEnd) problems.push(`weekday ${day}: shifts overlap`);
    }
  }
  return problems;
}
