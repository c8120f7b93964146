import { describe, expect, it } from 'vitest';
import { localParts, onLeave, shiftAt, validatePattern, zonedInstant } from '../../dispatch/shifts.ts';

const weekdays9to6 = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, startMinute: 9 * 60, endMinute: 18 * 60 }));

describe('shifts', () => {
  it('local parts and zoned instants agree (Shanghai is UTC+8, no DST)', () => {
    // Wednesday 2026-11-25 01:30 UTC = 09:30 in Shanghai
    expect(localParts(new Date('2026-11-25T01:30:00Z'), 'Asia/Shanghai')).toMatchObject({ y: 2026, m: 11, d: 25, weekday: 3, minute: 570 });
    expect(zonedInstant(2026, 11, 25, 9 * 60, 'Asia/Shanghai').toISOString()).toBe('2026-11-25T01:00:00.000Z');
  });

  it.each([
    { name: 'inside a weekday shift', at: '2026-11-25T02:00:00Z', tz: 'Asia/Shanghai', start: '2026-11-25T01:00:00.000Z', end: '2026-11-25T10:00:00.000Z' },
    { name: 'before the shift', at: '2026-11-25T00:30:00Z', tz: 'Asia/Shanghai', start: null },
    { name: 'end is exclusive', at: '2026-11-25T10:00:00Z', tz: 'Asia/Shanghai', start: null },
    { name: 'Saturday off', at: '2026-11-28T03:00:00Z', tz: 'Asia/Shanghai', start: null },
    { name: 'the same instant is outside the shift in New York (04:00 local)', at: '2026-11-25T09:00:00Z', tz: 'America/New_York', start: null },
  ])('$name', ({ at, tz, start, end }) => {
    const s = shiftAt(weekdays9to6, new Date(at), tz);
    if (start === null) expect(s).toBeNull();
    else expect({ start: s?.start.toISOString(), end: s?.end.toISOString() }).toEqual({ start, end });
  });

  it('night shifts run past midnight and are found from the next day', () => {
    const nights = [{ weekday: 5, startMinute: 22 * 60, endMinute: 6 * 60 }]; // Friday 22:00 → Saturday 06:00
    const s = shiftAt(nights, new Date('2026-11-27T20:00:00Z'), 'Asia/Shanghai'); // Saturday 04:00 local
    expect(s?.start.toISOString()).toBe('2026-11-27T14:00:00.000Z');
    expect(s?.end.toISOString()).toBe('2026-11-27T22:00:00.000Z');
  });

  it('handles a DST change (New York, 2026-11-01) without shifting the local hours', () => {
    const s = shiftAt([{ weekday: 1, startMinute: 9 * 60, endMinute: 17 * 60 }], new Date('2026-11-02T15:00:00Z'), 'America/New_York');
    expect(s?.start.toISOString()).toBe('2026-11-02T14:00:00.000Z'); // EST = UTC−5
  });

  it('no roster means always available', () => {
    expect(shiftAt([], new Date('2026-11-28T03:00:00Z'), 'UTC')).not.toBeNull();
  });

  it('leave covers [start, end)', () => {
    const leave = [{ start: new Date('2026-11-25T00:00:00Z'), end: new Date('2026-11-26T00:00:00Z') }];
    expect(onLeave(leave, new Date('2026-11-25T12:00:00Z'))).toBe(true);
    expect(onLeave(leave, new Date('2026-11-26T00:00:00Z'))).toBe(false);
  });

  it.each([
    { pattern: weekdays9to6, problems: 0 },
    { pattern: [{ weekday: 8, startMinute: 0, endMinute: 60 }], problems: 1 },
    { pattern: [{ weekday: 1, startMinute: 600, endMinute: 600 }], problems: 1 },
    { pattern: [{ weekday: 1, startMinute: 0, endMinute: 1440 }], problems: 1 },
    { pattern: [{ weekday: 1, startMinute: 480, endMinute: 720 }, { weekday: 1, startMinute: 700, endMinute: 900 }], problems: 1 },
  ])('validates patterns ($problems problems)', ({ pattern, problems }) => {
    expect(validatePattern(pattern)).toHaveLength(problems);
  });
});
