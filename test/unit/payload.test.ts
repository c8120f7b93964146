import { describe, expect, it } from 'vitest';
import { decodeAlarm, decodeStatus, decodeTelemetry } from '../../ingest/payload.ts';
import { parseTopic } from '../../ingest/topics.ts';

const now = new Date('2026-06-01T12:00:00Z');
const buf = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseTopic', () => {
  it.each([
    ['plant/s1/PUMP-1/telemetry', { site: 's1', asset: 'PUMP-1', kind: 'telemetry' }],
    ['plant/s1/PUMP-1/alarm', { site: 's1', asset: 'PUMP-1', kind: 'alarm' }],
  ])('accepts %s', (topic, expected) => expect(parseTopic(topic)).toEqual(expected));

  it('ignores topics outside plant/', () => expect(parseTopic('$SYS/broker/uptime')).toBeUndefined());

  it.each([
    ['plant/s1/telemetry', /levels/],
    ['plant/s1/A/events', /unknown message kind/],
    ['plant/s 1/A/telemetry', /invalid site/],
    ['plant/s1/A+/telemetry', /invalid asset/],
    ['plant/s1/A/telemetry/extra', /levels/],
  ])('rejects %s', (topic, msg) => {
    const r = parseTopic(topic);
    expect(r && 'error' in r ? r.error : '').toMatch(msg);
  });
});

describe('decodeTelemetry', () => {
  it('accepts metrics with epoch-ms, ISO or missing timestamps', () => {
    const a = decodeTelemetry(buf({ ts: now.getTime() - 1000, metrics: { runHours: 512.3, temperature: 71.2 } }), now, 65536);
    expect(a).toEqual({ ok: true, value: [{ ts: new Date(now.getTime() - 1000), metrics: { runHours: 512.3, temperature: 71.2 } }] });
    const b = decodeTelemetry(buf({ ts: '2026-06-01T11:59:00Z', metrics: { x: 1 } }), now, 65536);
    expect(b.ok && b.value[0]!.ts.toISOString()).toBe('2026-06-01T11:59:00.000Z');
    const c = decodeTelemetry(buf({ metrics: { x: -3 } }), now, 65536);
    expect(c.ok && c.value[0]!.ts).toEqual(now);
  });

  it('accepts a batch of buffered readings, sorted by time', () => {
    const r = decodeTelemetry(
      buf({ readings: [{ ts: now.getTime() - 1000, metrics: { x: 2 } }, { ts: now.getTime() - 3000, metrics: { x: 1, y: 5 } }, { metrics: { x: 3 } }] }),
      now,
      65536,
    );
    expect(r).toEqual({
      ok: true,
      value: [
        { ts: new Date(now.getTime() - 3000), metrics: { x: 1, y: 5 } },
        { ts: new Date(now.getTime() - 1000), metrics: { x: 2 } },
        { ts: now, metrics: { x: 3 } },
      ],
    });
  });

  it.each([
    [{ readings: [] }, /non-empty array/],
    [{ readings: {} }, /non-empty array/],
    [{ readings: [{ metrics: { x: 1 } }, 7] }, /readings\[1\] must be an object/],
    [{ readings: [{ metrics: { x: 1 } }, { metrics: { x: 'a' } }] }, /readings\[1\]: metric "x" must be a finite number/],
    [{ readings: [{ metrics: { x: 1 } }], metrics: { x: 1 } }, /either metrics or readings/],
    [{ readings: Array.from({ length: 1001 }, () => ({ metrics: { x: 1 } })) }, /too many readings/],
  ])('refuses a bad batch whole: %j', (payload, detail) => {
    const r = decodeTelemetry(buf(payload), now, 1_000_000);
    expect(!r.ok && r.rejection.detail).toMatch(detail);
  });

  it.each([
    ['not json', 'invalid_json', /JSON/],
    ['[1,2]', 'invalid_payload', /object/],
    ['null', 'invalid_payload', /object/],
    [{ metrics: {} }, 'invalid_payload', /empty/],
    [{ metrics: [1] }, 'invalid_payload', /metrics must be an object/],
    [{ metrics: { temperature: 'hot' } }, 'invalid_payload', /finite number/],
    [{ metrics: { 'bad name': 1 } }, 'invalid_payload', /metric name/],
    [{ metrics: { x: 1 }, ts: 'yesterday' }, 'invalid_payload', /ts must be/],
    [{ metrics: { x: 1 }, ts: now.getTime() + 3600_000 }, 'invalid_payload', /future/],
    [{ metrics: { x: 1 }, ts: 0 }, 'invalid_payload', /year old/],
    [{ metrics: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`m${i}`, i])) }, 'invalid_payload', /too many/],
  ])('rejects %j as %s', (payload, reason, detail) => {
    const r = decodeTelemetry(buf(payload), now, 65536);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.rejection.reason).toBe(reason);
      expect(r.rejection.detail).toMatch(detail);
    }
  });

  it('rejects oversized payloads before parsing', () => {
    const r = decodeTelemetry(buf({ metrics: { x: 1 }, pad: 'y'.repeat(200) }), now, 100);
    expect(!r.ok && r.rejection.reason).toBe('payload_too_large');
  });

  it('never throws on random bytes', () => {
    let seed = 42;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
      expect(() => decodeTelemetry(bytes, now, 65536)).not.toThrow();
      expect(() => decodeAlarm(bytes, now, 65536)).not.toThrow();
    }
  });
});

describe('decodeAlarm', () => {
  it('defaults severity to major and active to true', () => {
    const r = decodeAlarm(buf({ code: 'E01' }), now, 1000);
    expect(r).toEqual({ ok: true, value: { ts: now, code: 'E01', severity: 'major', active: true, message: undefined } });
  });
  it.each([
    [{}, /code/],
    [{ code: 'E01', severity: 'fatal' }, /severity/],
    [{ code: 'E01', active: 'yes' }, /active/],
    [{ code: 'E 01' }, /code/],
  ])('rejects %j', (payload, detail) => {
    const r = decodeAlarm(buf(payload), now, 1000);
    expect(!r.ok && r.rejection.detail).toMatch(detail);
  });
});

describe('decodeStatus', () => {
  it.each([
    ['online', true],
    ['OFFLINE', false],
    [JSON.stringify({ online: true }), true],
  ])('accepts %s', (payload, online) => {
    const r = decodeStatus(Buffer.from(payload), now);
    expect(r.ok && r.value.online).toBe(online);
  });
  it.each(['maybe', '{"online":"yes"}', '[]'])('rejects %s', (payload) => {
    expect(decodeStatus(Buffer.from(payload), now).ok).toBe(false);
  });
});
