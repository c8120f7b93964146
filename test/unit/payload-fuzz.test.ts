/**
 * Fuzzing the MQTT payload decoders (ingest/payload.ts) with thousands of random and mutated
 * payloads from a seeded PRNG: random bytes, truncated and bit-flipped valid JSON, huge numbers,
 * deep nesting, prototype-pollution keys, odd unicode, wrong types. The decoders never throw,
 * always return a well-formed accept/reject, accepted values satisfy the contract, rejections carry
 * a known reason and a detail, and nothing leaks onto Object.prototype. Deterministic: the seed of a
 * failing case is in the assertion message.
 */
import { describe, expect, it } from 'vitest';
import { decodeAlarm, decodeStatus, decodeTelemetry, MAX_BATCH, MAX_FUTURE_MS, MAX_METRICS, MAX_PAST_MS, SEVERITIES } from '../../ingest/payload.ts';
import { METRIC_NAME } from '../../ingest/telemetry-schema.ts';
import { int, pick, prng, randomBytes, type Rand } from '../helpers/fuzz.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const MAX_BYTES = 65_536;
const REASONS = new Set(['unauthorized', 'invalid_topic', 'payload_too_large', 'invalid_json', 'invalid_payload', 'unknown_asset', 'overloaded']);


const WEIRD_STRINGS = ['', ' ', '\u0000', '\uFFFF', '\uD800', '😀🔥', 'Ω≈ç√', 'a'.repeat(600), '__proto__', 'constructor', 'prototype', 'toString', '../../etc/passwd', "'; DROP TABLE x; --", '${jndi:ldap://x}', '\n\r\t', 'NaN', 'Infinity', '-0', '1e400'];
const WEIRD_NUMBERS = [0, -0, 1e308, -1e308, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 5e-324, 2 ** 53 + 1, 1.5, -1, 8.64e15, 8.64e15 + 1, Date.parse('2026-03-01T12:00:00Z'), Date.parse('2026-03-01T12:10:00Z'), Date.parse('2024-01-01T00:00:00Z')];
const KEYS = ['ts', 'metrics', 'readings', 'code', 'severity', 'active', 'message', 'online', '__proto__', 'constructor', 'prototype', 'temperature', 'runHours', 'x'.repeat(100), '', 'a b', 'ü', '0'];

/** A random JSON-ish value (as source text, so NaN/1e400/duplicate keys/__proto__ keys are possible). */
function randomJsonText(r: Rand, depth = 0): string {
  const roll = int(r, depth > 4 ? 6 : 10);
  switch (roll) {
    case 0:
      return 'null';
    case 1:
      return pick(r, ['true', 'false']);
    case 2:
      return pick(r, [...WEIRD_NUMBERS.map(String), '1e400', '-1e400', '0.0000001', '123456789012345678901234567890', '-0']);
    case 3:
      return JSON.stringify(pick(r, WEIRD_STRINGS));
    case 4:
      return JSON.stringify(new Date(NOW.getTime() + (r() - 0.5) * 4 * MAX_PAST_MS).toISOString());
    case 5:
      return String(int(r, 1000) - 500);
    case 6:
    case 7: {
      const n = int(r, 6);
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push(`${JSON.stringify(pick(r, KEYS))}: ${randomJsonText(r, depth + 1)}`);
      return `{${parts.join(', ')}}`;
    }
    default: {
      const n = int(r, 5);
      return `[${Array.from({ length: n }, () => randomJsonText(r, depth + 1)).join(', ')}]`;
    }
  }
}

function validTelemetry(r: Rand): unknown {
  const metrics = () => Object.fromEntries(Array.from({ length: 1 + int(r, 4) }, (_, i) => [pick(r, ['temperature', 'runHours', 'vibration', 'pressure']) + i, r() * 1000]));
  if (r() < 0.5) return { ts: NOW.getTime() - int(r, 3_600_000), metrics: metrics() };
  return { readings: Array.from({ length: 1 + int(r, 5) }, () => ({ ts: new Date(NOW.getTime() - int(r, 3_600_000)).toISOString(), metrics: metrics() })) };
}
const validAlarm = (r: Rand): unknown => ({ code: pick(r, ['E01', 'OVERHEAT', 'x.y-z_1']), severity: pick(r, SEVERITIES), active: r() < 0.5, message: 'msg', ts: NOW.getTime() - 1000 });
const validStatus = (r: Rand): unknown => pick(r, ['online', 'offline', { online: true }, { online: false, ts: NOW.getTime() }]);

/** Mutations of valid payloads: truncation, byte flips, insertions, type swaps, huge/deep/polluted values. */
function mutate(r: Rand, valid: unknown): Uint8Array {
  const text = typeof valid === 'string' ? valid : JSON.stringify(valid);
  const buf = Buffer.from(text, 'utf8');
  switch (int(r, 12)) {
    case 0:
      return buf.subarray(0, int(r, buf.length));
    case 1: {
      const b = Buffer.from(buf);
      for (let i = 0; i < 1 + int(r, 4); i++) b[int(r, b.length)] = int(r, 256);
      return b;
    }
    case 2: {
      const at = int(r, buf.length);
      return Buffer.concat([buf.subarray(0, at), Buffer.from(randomJsonText(r)), buf.subarray(at)]);
    }
    case 3:
      // deep nesting
      return Buffer.from(`${'['.repeat(5000 + int(r, 50_000))}1${']'.repeat(int(r, 2) ? 0 : 5000)}`);
    case 4:
      return Buffer.from(`{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}, "metrics": {"__proto__": 5, "temperature": 1}, "readings": ${int(r, 2) ? '[{"__proto__": {"metrics": {"a": 1}}}]' : 'null'}}`);
    case 5: {
      // swap a value for something of another type
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return buf;
      }
      if (typeof o !== 'object' || o === null) return buf;
      const k = pick(r, [...Object.keys(o), ...KEYS]);
      o[k] = JSON.parse(randomJsonText(r)) as unknown;
      return Buffer.from(JSON.stringify(o));
    }
    case 6:
      // too many metrics / readings
      return Buffer.from(
        JSON.stringify(
          int(r, 2)
            ? { metrics: Object.fromEntries(Array.from({ length: MAX_METRICS + 1 + int(r, 10) }, (_, i) => [`m${i}`, i])) }
            : { readings: Array.from({ length: MAX_BATCH + 1 }, () => ({ metrics: { a: 1 } })) },
        ),
      );
    case 7:
      return Buffer.alloc(MAX_BYTES + 1 + int(r, 1000), 0x20);
    case 8:
      // UTF-8 BOM, NULs and invalid sequences around valid JSON
      return Buffer.concat([Buffer.from(pick(r, [[0xef, 0xbb, 0xbf], [0x00], [0xc3, 0x28], [0xff, 0xfe]])), buf]);
    case 9:
      return Buffer.from(text.replace(/\d+(\.\d+)?/g, () => pick(r, ['1e400', 'NaN', '-Infinity', '0x10', '1_000', '99999999999999999999999'])));
    case 10:
      return Buffer.from(text.replace(/"[a-zA-Z]+"/, () => JSON.stringify(pick(r, WEIRD_STRINGS))));
    default:
      return buf;
  }
}

type Decoder = (payload: Uint8Array) => { ok: true; value: unknown } | { ok: false; rejection: { reason: string; detail: string } };
const DECODERS: [string, Decoder, (r: Rand) => unknown][] = [
  ['telemetry', (p) => decodeTelemetry(p, NOW, MAX_BYTES), validTelemetry],
  ['alarm', (p) => decodeAlarm(p, NOW, MAX_BYTES), validAlarm],
  ['status', (p) => decodeStatus(p, NOW), validStatus],
];

/** The contract an accepted value must satisfy. */
function checkAccepted(kind: string, value: unknown): void {
  const checkTs = (ts: unknown) => {
    expect(ts).toBeInstanceOf(Date);
    const t = (ts as Date).getTime();
    expect(Number.isFinite(t)).toBe(true);
    expect(t).toBeLessThanOrEqual(NOW.getTime() + MAX_FUTURE_MS);
    expect(t).toBeGreaterThanOrEqual(NOW.getTime() - MAX_PAST_MS);
  };
  if (kind === 'telemetry') {
    const list = value as { ts: Date; metrics: Record<string, number> }[];
    expect(Array.isArray(list) && list.length >= 1 && list.length <= MAX_BATCH).toBe(true);
    for (const m of list) {
      checkTs(m.ts);
      const entries = Object.entries(m.metrics);
      expect(entries.length).toBeGreaterThan(0);
      expect(entries.length).toBeLessThanOrEqual(MAX_METRICS);
      for (const [name, v] of entries) {
        expect(name).toMatch(METRIC_NAME);
        expect(Number.isFinite(v)).toBe(true);
      }
    }
    for (let i = 1; i < list.length; i++) expect(list[i]!.ts.getTime()).toBeGreaterThanOrEqual(list[i - 1]!.ts.getTime());
  } else if (kind === 'alarm') {
    const a = value as { ts: Date; code: string; severity: string; active: boolean; message: unknown };
    checkTs(a.ts);
    expect(a.code).toMatch(/^[A-Za-z0-9_.-]{1,32}$/);
    expect(SEVERITIES).toContain(a.severity);
    expect(typeof a.active).toBe('boolean');
    expect(a.message === undefined || (typeof a.message === 'string' && a.message.length <= 500)).toBe(true);
  } else {
    const s = value as { online: boolean; ts: Date };
    expect(typeof s.online).toBe('boolean');
    checkTs(s.ts);
  }
}

const SEEDS = [1, 42, 20260301, 0xc0ffee];
const PER_SEED = 1500;

describe('payload decoders under fuzzing', () => {
  it.each(SEEDS)('seed %i: never throw, always a well-formed accept/reject', (seed) => {
    const r = prng(seed);
    const seen = { accepted: 0, rejected: 0 };
    for (let i = 0; i < PER_SEED; i++) {
      for (const [kind, decode, valid] of DECODERS) {
        const roll = r();
        const payload = roll < 0.2 ? randomBytes(r) : roll < 0.4 ? Buffer.from(randomJsonText(r)) : roll < 0.5 ? Buffer.from(JSON.stringify(valid(r))) : mutate(r, valid(r));
        const where = `seed ${seed}, case ${i}, ${kind}: ${Buffer.from(payload).toString('utf8').slice(0, 200)}`;
        let out: ReturnType<Decoder>;
        try {
          out = decode(payload);
        } catch (err) {
          throw new Error(`decoder threw (${where}): ${(err as Error).message}`);
        }
        expect(typeof out.ok, where).toBe('boolean');
        if (out.ok) {
          seen.accepted++;
          expect(Object.keys(out).sort(), where).toEqual(['ok', 'value']);
          checkAccepted(kind, out.value);
        } else {
          seen.rejected++;
          expect(REASONS.has(out.rejection.reason), where).toBe(true);
          expect(typeof out.rejection.detail, where).toBe('string');
          expect(out.rejection.detail.length, where).toBeGreaterThan(0);
          expect(out.rejection.detail.length, where).toBeLessThan(2000);
        }
        expect(({} as Record<string, unknown>).polluted, where).toBeUndefined();
      }
    }
    // the generator reaches both sides of every decoder
    expect(seen.accepted).toBeGreaterThan(PER_SEED * 0.1);
    expect(seen.rejected).toBeGreaterThan(PER_SEED);
  });

  it('valid payloads are always accepted (the fuzzer’s baseline is right)', () => {
    const r = prng(7);
    for (let i = 0; i < 500; i++) {
      for (const [kind, decode, valid] of DECODERS) {
        const v = valid(r);
        const out = decode(Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)));
        expect(out.ok, `${kind} ${JSON.stringify(v)}`).toBe(true);
      }
    }
  });

  it.each([
    ['telemetry', '{"metrics": {"__proto__": 1}}', 'invalid_payload'],
    ['telemetry', '{"metrics": {"t": 1e400}}', 'invalid_payload'],
    ['telemetry', `${'['.repeat(100_000)}`, 'payload_too_large'],
    ['telemetry', `${'['.repeat(60_000)}`, 'invalid_json'],
    ['telemetry', '{"ts": 8.64e15, "metrics": {"t": 1}}', 'invalid_payload'],
    ['telemetry', '{"ts": 8.7e15, "metrics": {"t": 1}}', 'invalid_payload'],
    ['telemetry', '{"ts": "2026-13-45T99:99:99Z", "metrics": {"t": 1}}', 'invalid_payload'],
    ['telemetry', '{"readings": [{"metrics": {"t": 1}}], "metrics": {"t": 1}}', 'invalid_payload'],
    ['telemetry', '\uFEFF{"metrics": {"t": 1}}', 'invalid_json'],
    ['alarm', '{"code": "E01", "severity": "__proto__"}', 'invalid_payload'],
    ['alarm', '{"code": "E01", "severity": "toString"}', 'invalid_payload'],
    ['alarm', '{"code": {"toString": "E01"}}', 'invalid_payload'],
  ] as const)('%s %s → %s', (kind, text, reason) => {
    const out = (kind === 'telemetry' ? decodeTelemetry : decodeAlarm)(Buffer.from(text), NOW, MAX_BYTES);
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.rejection.reason).toBe(reason);
  });

  it.each(['{"online": true, "ts": "0001-01-01T00:00:00Z"}', 'ONLINE ', '{"online": "yes"}', '\u0000'.repeat(300), '{"online": true, "__proto__": {"x": 1}}'])('status %j', (text) => {
    const out = decodeStatus(Buffer.from(text), NOW);
    if (out.ok) checkAccepted('status', out.value);
    else expect(out.rejection.detail.length).toBeGreaterThan(0);
  });
});
