/**
 * Fuzzing the API and the MQTT ingest path on the real platform (PostgreSQL, AUTH_MODE=off).
 *
 * API: every operation in the OpenAPI document (/docs/json) gets requests built from its own schema
 * by a seeded PRNG — plausible ones (so they reach the services; ids returned by earlier responses
 * are reused) and malformed ones (wrong types, missing and extra fields, huge strings, deep
 * nesting, prototype keys, invalid ids, odd query strings, broken JSON, wrong content types).
 * No response may be 5xx or carry a stack trace, and the service is healthy afterwards.
 *
 * Ingest: a few hundred malformed MQTT messages from a real client are each counted and
 * dead-lettered (a local decode is the oracle), and a valid reading is still accepted afterwards.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTelemetry, decodeAlarm } from '../../ingest/payload.ts';
import { alarmTopic, telemetryTopic } from '../../ingest/topics.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { chance, int, pick, prng, randomBytes, uuidOf, WEIRD_NUMBERS, WEIRD_STRINGS, type Rand } from '../helpers/fuzz.ts';
import { api, eventually, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const SEED = Number(process.env.FUZZ_SEED ?? 8008);
const PER_OPERATION = Number(process.env.FUZZ_PER_OPERATION ?? 10);

type Schema = Record<string, unknown> & {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  $ref?: string;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  const?: unknown;
};
interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  method: string;
  path: string;
  params: Param[];
  body: { contentType: string; schema: Schema } | undefined;
}

/**
 * 5xx answers found by this fuzzer whose fix belongs in a service (reported, not fixed here).
 * Each entry must still fail, so a fix shows up as a failing test that asks to remove the entry.
 */
const KNOWN_5XX: Record<string, string> = {};

/** No stack frames, source paths or framework internals. */
const INTERNALS = /\n\s+at |\bat [\w.<>]+ \(|node_modules|\/work\/|\.ts:\d+|FST_ERR|PrismaClient|Invalid `prisma/;

/** Values that satisfy a schema as well as a small generator can (patterns: first matching candidate). */
function plausible(r: Rand, s: Schema | undefined, ids: string[], depth = 0): unknown {
  if (!s || depth > 6) return null;
  if (s.const !== undefined) return s.const;
  if (s.enum) return pick(r, s.enum);
  const alt = s.anyOf ?? s.oneOf;
  if (alt) return plausible(r, pick(r, alt), ids, depth + 1);
  if (s.allOf) return Object.assign({}, ...s.allOf.map((x) => plausible(r, x, ids, depth + 1) as object));
  const type = Array.isArray(s.type) ? pick(r, s.type.filter((t) => t !== 'null')) : s.type;
  switch (type ?? (s.properties ? 'object' : undefined)) {
    case 'string':
      return plausibleString(r, s, ids);
    case 'integer': {
      const lo = s.minimum ?? 0;
      const hi = Math.min(s.maximum ?? lo + 100, lo + 1000);
      return lo + int(r, hi - lo + 1);
    }
    case 'number': {
      const lo = s.minimum ?? 0;
      const hi = Math.min(s.maximum ?? lo + 100, lo + 1000);
      return Math.round((lo + r() * (hi - lo)) * 100) / 100;
    }
    case 'boolean':
      return chance(r, 0.5);
    case 'array': {
      const n = Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 3, int(r, 3)));
      return Array.from({ length: n }, () => plausible(r, s.items, ids, depth + 1));
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) if (s.required?.includes(k) || chance(r, 0.5)) out[k] = plausible(r, v, ids, depth + 1);
      return out;
    }
    case 'null':
      return null;
    default:
      return pick(r, [1, 'x', true, null, {}]);
  }
}

const CANDIDATES = ['ABC-1', 'E01', 'abc', 'FUZZ_1', 'user.name', 'fuzz-user-1', 'A1', 'temperature', '12:30', '08:00-17:00', '#ff8800', '+8613800000000', 'mo', 'Asia/Shanghai', '1.0.0', 'x'];
function plausibleString(r: Rand, s: Schema, ids: string[]): string {
  const now = Date.parse('2026-03-01T12:00:00Z');
  switch (s.format) {
    case 'uuid':
      return ids.length && chance(r, 0.7) ? pick(r, ids) : uuidOf(r);
    case 'date-time':
      return new Date(now + (r() - 0.5) * 60 * 86_400_000).toISOString();
    case 'date':
      return new Date(now + (r() - 0.5) * 60 * 86_400_000).toISOString().slice(0, 10);
    case 'email':
      return `fuzz${int(r, 1000)}@example.com`;
    case 'uri':
      return pick(r, ['http://127.0.0.1:9/hook', 'https://example.invalid/x', 'http://localhost:1/']);
  }
  const fit = (v: string) => v.length >= (s.minLength ?? 0) && v.length <= (s.maxLength ?? Infinity) && (!s.pattern || new RegExp(s.pattern, 'u').test(v));
  const base = [...CANDIDATES].sort(() => r() - 0.5).find(fit);
  if (base !== undefined) return base === 'ABC-1' || base === 'FUZZ_1' ? `${base}${int(r, 100000)}`.slice(0, s.maxLength ?? 64) : base;
  const n = Math.max(s.minLength ?? 1, Math.min(s.maxLength ?? 12, 12));
  return Array.from({ length: n }, () => pick(r, [...'abcdefghijklmnop0123456789'])).join('');
}

/** A malformed variant: wrong type, huge, deep, polluted, missing or extra fields. */
function malformed(r: Rand, s: Schema | undefined, ids: string[]): unknown {
  const valid = plausible(r, s, ids);
  switch (int(r, 10)) {
    case 0:
      return pick(r, [null, 0, -1, true, 'string', [], [1, 2], WEIRD_NUMBERS[int(r, WEIRD_NUMBERS.length)]]);
    case 1:
      return 'x'.repeat(100_000 + int(r, 100_000));
    case 2: {
      let deep: unknown = 1;
      for (let i = 0; i < 500 + int(r, 3000); i++) deep = chance(r, 0.5) ? [deep] : { a: deep };
      return deep;
    }
    default: {
      if (typeof valid !== 'object' || valid === null || Array.isArray(valid)) return pick(r, [{}, [valid], { value: valid }]);
      const o: Record<string, unknown> = { ...(valid as Record<string, unknown>) };
      const keys = Object.keys(s?.properties ?? {});
      for (let i = 0; i < 1 + int(r, 3); i++) {
        const k = keys.length && chance(r, 0.7) ? pick(r, keys) : pick(r, ['extra', '__proto__x', 'constructor', `k${int(r, 99)}`]);
        const what = int(r, 6);
        if (what === 0) delete o[k];
        else if (what === 1) o[k] = pick(r, WEIRD_STRINGS);
        else if (what === 2) o[k] = pick(r, WEIRD_NUMBERS);
        else if (what === 3) o[k] = pick(r, [null, true, [], {}, [null], { nested: { x: 1 } }]);
        else if (what === 4) o[k] = 'y'.repeat(5000 + int(r, 50_000));
        else o[k] = chance(r, 0.5) ? uuidOf(r) : new Date(8.64e15 + 1).toString();
      }
      return o;
    }
  }
}

/** encodeURIComponent that survives lone surrogates (sent as the raw invalid UTF-8 they would be). */
const enc = (v: string): string => {
  try {
    return encodeURIComponent(v);
  } catch {
    return '%ED%A0%80';
  }
};

const BAD_IDS = ['not-a-uuid', '0', '-1', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffffff', '%00', '%E0%A4%A', '..%2F..%2Fetc%2Fpasswd', "1'%20OR%20'1'='1", 'x'.repeat(99), '%F0%9F%98%80', 'null', 'undefined', '__proto__', 'constructor'];

function paramValue(r: Rand, p: Param, ids: string[], wild: boolean): string {
  if (!wild || chance(r, 0.3)) {
    const v = plausible(r, p.schema, ids);
    return enc(typeof v === 'string' ? v : JSON.stringify(v));
  }
  if (p.in === 'path') return pick(r, [...BAD_IDS, enc(pick(r, WEIRD_STRINGS)) || 'x']);
  return enc(String(pick<unknown>(r, [...WEIRD_STRINGS, ...WEIRD_NUMBERS, 'x'.repeat(3000), '[]', '{}', 'true', '2026-02-30', '9999-99-99T99:99:99Z'])));
}

function buildRequest(r: Rand, op: Operation, ids: string[], wild: boolean): { path: string; init: RequestInit; shown: string } {
  let path = op.path;
  for (const p of op.params.filter((x) => x.in === 'path')) path = path.replace(`{${p.name}}`, paramValue(r, p, ids, wild) || 'x');
  const q: string[] = [];
  for (const p of op.params.filter((x) => x.in === 'query')) if (p.required || chance(r, 0.5)) q.push(`${p.name}=${paramValue(r, p, ids, wild)}`);
  if (wild && chance(r, 0.3)) q.push(pick(r, ['a=1&a=2&a=3', '__proto__[x]=1', 'limit=-1', 'offset=1e400', '=', '&&&', 'x[]=1&x[]=2', 'q=%ZZ', 'sort=;DROP']));
  if (wild && q.length && chance(r, 0.2)) q.push(`${q[0]!.split('=')[0]}=${enc(pick(r, WEIRD_STRINGS))}`); // repeated key
  if (q.length) path += `?${q.join('&')}`;

  const headers: Record<string, string> = {};
  let body: string | Buffer | undefined;
  if (op.method !== 'GET' && op.method !== 'HEAD') {
    const json = !op.body || op.body.contentType.includes('json');
    if (!wild) {
      if (op.body) {
        headers['content-type'] = op.body.contentType;
        body = json ? JSON.stringify(plausible(r, op.body.schema, ids)) : randomBytes(r, 2000);
      }
    } else {
      const roll = int(r, 10);
      if (roll === 0) {
        headers['content-type'] = 'application/json';
        body = pick(r, ['{', '{"a":', '[1,2', '{"a":1}}', 'nul', '"unterminated', '\u0000', '{"__proto__": {"admin": true}}', '{"constructor": {"prototype": {"x": 1}}}', '']);
      } else if (roll === 1) {
        headers['content-type'] = pick(r, ['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'image/png', 'application/json; charset=utf-16', 'application/vnd.evil+json', '*/*']);
        body = chance(r, 0.5) ? randomBytes(r, 4000) : 'a=1&b=2';
      } else if (roll === 2 && op.body && !json) {
        headers['content-type'] = op.body.contentType;
        body = randomBytes(r, 50_000);
      } else {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(malformed(r, op.body?.schema, ids));
      }
    }
  }
  const shown = `${op.method} ${path.slice(0, 300)} ${headers['content-type'] ?? ''} ${body === undefined ? '' : Buffer.from(body).toString('utf8').slice(0, 300)}`;
  return { path, init: { method: op.method, headers, body }, shown };
}

/** Inline #/components/schemas refs (TypeBox $id schemas registered with addSchema). */
function deref(doc: { components?: { schemas?: Record<string, Schema> } }, s: Schema | undefined, seen = new Set<string>()): Schema | undefined {
  if (!s || typeof s !== 'object') return s;
  if (s.$ref) {
    const name = s.$ref.split('/').pop()!;
    if (seen.has(name)) return {};
    return deref(doc, doc.components?.schemas?.[name], new Set([...seen, name]));
  }
  const out: Schema = Array.isArray(s) ? ([...(s as unknown[])] as unknown as Schema) : { ...s };
  for (const [k, v] of Object.entries(out)) if (v && typeof v === 'object') (out as Record<string, unknown>)[k] = Array.isArray(v) ? v.map((x) => deref(doc, x as Schema, seen)) : deref(doc, v as Schema, seen);
  return out;
}

function collectIds(v: unknown, into: Set<string>, depth = 0): void {
  if (depth > 5 || v === null || typeof v !== 'object') return;
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(x) && (k === 'id' || k.endsWith('Id'))) into.add(x);
    else collectIds(x, into, depth + 1);
  }
}

describe.skipIf(reason)(`API fuzzing on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base = '';

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    platform = await startTestPlatform({ DATABASE_URL: t.url, ROLES: 'api', SURVEY_TTL_DAYS: '14' });
    base = platform.apiUrl!;
  });
  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  it(`every operation in the OpenAPI document survives random and malformed requests without a 5xx (seed ${SEED})`, { timeout: 120_000 }, async () => {
    const doc = (await api<{ paths: Record<string, Record<string, { parameters?: Param[]; requestBody?: { content: Record<string, { schema: Schema }> } }>>; components?: { schemas?: Record<string, Schema> } }>(base, 'GET', '/docs/json')).body;
    const ops: Operation[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        const content = Object.entries(op.requestBody?.content ?? {});
        const [contentType, media] = content.find(([ct]) => ct.includes('json')) ?? content[0] ?? [];
        ops.push({
          method: method.toUpperCase(),
          path,
          params: (op.parameters ?? []).map((p) => ({ ...p, schema: deref(doc, p.schema) })),
          body: contentType && media ? { contentType, schema: deref(doc, media.schema)! } : undefined,
        });
      }
    }
    expect(ops.length).toBeGreaterThan(100);
    // logging out of the built-in admin and the background jobs are not inputs worth fuzzing
    const r = prng(SEED);
    const ids = new Set<string>();
    const failures: string[] = [];
    const knownSeen = new Set<string>();
    const statuses = new Map<number, number>();
    let sent = 0;
    for (let round = 0; round < PER_OPERATION; round++) {
      const order = [...ops].sort(() => r() - 0.5);
      for (const op of order) {
        // the first rounds are mostly plausible, so later ones have ids and state to break
        const wild = round === 0 ? false : round < 3 ? chance(r, 0.4) : chance(r, 0.8);
        const { path, init, shown } = buildRequest(r, op, [...ids], wild);
        sent++;
        let status = 0;
        let text = '';
        try {
          const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
          status = res.status;
          text = await res.text();
        } catch (err) {
          failures.push(`${shown} → no response: ${(err as Error).message}`);
          continue;
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        // a Grafana push to an unreachable target is a gateway error by design
        const gateway = status === 502 && op.path === '/dashboards/push' && /grafana_(unreachable|rejected)/.test(text);
        const known = KNOWN_5XX[`${op.method} ${op.path}`];
        if (status >= 500 && known) knownSeen.add(`${op.method} ${op.path}`);
        else if (status >= 500 && !gateway) failures.push(`${shown} → ${status} ${text.slice(0, 300)}`);
        if (status >= 400 && INTERNALS.test(text)) failures.push(`${shown} → ${status} leaks internals: ${text.slice(0, 300)}`);
        if (status < 300 && (text.startsWith('{') || text.startsWith('['))) {
          try {
            collectIds(JSON.parse(text), ids);
          } catch {
            // not JSON (files, SVG, CSV)
          }
        }
      }
    }
    const summary = [...statuses.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ');
    expect(failures, `seed ${SEED} (FUZZ_SEED=${SEED} to replay), ${sent} requests [${summary}]:\n${failures.slice(0, 30).join('\n')}`).toEqual([]);
    expect([...knownSeen].sort(), 'a known 5xx no longer happens: remove it from KNOWN_5XX').toEqual(Object.keys(KNOWN_5XX).sort());
    // the fuzzer got past validation into the services, and created things to fuzz further
    expect([...statuses.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
    expect(ids.size).toBeGreaterThan(5);
    const health = await api<{ status?: string }>(base, 'GET', '/health');
    expect(health.status).toBe(200);
  });
});

describe.skipIf(reason)(`MQTT ingest fuzzing on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let rejectedTotal = 0;

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    platform = await startTestPlatform({ DATABASE_URL: t.url, ROLES: 'api,ingest', STALE_AFTER_S: '0' });
  });
  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  it('dead-letters and counts every malformed message from a real client, then still accepts a valid one', { timeout: 60_000 }, async () => {
    const base = platform.apiUrl!;
    const site = await api<{ id: string }>(base, 'POST', '/sites', { code: 'FZ', name: 'Fuzz site' });
    expect((await api(base, 'POST', '/assets', { code: 'PUMP-1', name: 'Pump', type: 'pump', siteId: site.body.id })).status).toBe(201);
    const health = async () => (await api<{ counters: { ingest: { received: number; accepted: number; rejected: number }; deadLetters: { total: number; byReason: Record<string, number> } } }>(base, 'GET', '/health')).body.counters;
    const before = await health();

    const client = await mqtt.connectAsync(platform.mqttUrl!, { protocolVersion: 4, reconnectPeriod: 0 });
    const r = prng(SEED);
    const now = new Date();
    let expectedRejects = 0;
    const SENT = 300;
    for (let i = 0; i < SENT; i++) {
      const alarm = chance(r, 0.3);
      const valid = alarm ? { code: 'E01', severity: 'major' } : { ts: now.getTime(), metrics: { temperature: 20 } };
      const text = JSON.stringify(valid);
      let payload: Buffer;
      switch (int(r, 6)) {
        case 0:
          payload = randomBytes(r, 500);
          break;
        case 1:
          payload = Buffer.from(text.slice(0, int(r, text.length)));
          break;
        case 2:
          payload = Buffer.from(text.replace(/20|"E01"/, () => JSON.stringify(pick<unknown>(r, [...WEIRD_STRINGS, null, [], {}]))));
          break;
        case 3:
          payload = Buffer.from(`{"__proto__": {"x": 1}, "metrics": {"__proto__": 1, "constructor": 2}, "code": ${JSON.stringify(pick(r, WEIRD_STRINGS))}}`);
          break;
        case 4:
          payload = Buffer.from(`${'['.repeat(1000 + int(r, 20_000))}`);
          break;
        default:
          payload = Buffer.from(JSON.stringify({ ...valid, ts: pick(r, [...WEIRD_NUMBERS, 'yesterday', '2026-13-01T00:00:00Z']) }));
      }
      // the pure decoder is the oracle: what it refuses must be dead-lettered, what it accepts stored
      const ok = (alarm ? decodeAlarm(payload, new Date(), 65_536) : decodeTelemetry(payload, new Date(), 65_536)).ok;
      if (!ok) expectedRejects++;
      await client.publishAsync(alarm ? alarmTopic('FZ', 'PUMP-1') : telemetryTopic('FZ', 'PUMP-1'), payload, { qos: 1 });
    }
    // messages for assets and sites that do not exist, and topics that are not ours to parse
    const badTopics = ['plant/FZ/NO-SUCH/telemetry', 'plant/XX/PUMP-1/telemetry', 'plant/FZ/PUMP-1/bogus', 'plant/FZ/PUMP-1/telemetry/extra', 'plant/F Z/PUMP-1/telemetry'];
    for (const t of badTopics) await client.publishAsync(t, JSON.stringify({ metrics: { temperature: 1 } }), { qos: 1 });
    expectedRejects += badTopics.length;
    expect(expectedRejects).toBeGreaterThan(200);

    const after = await eventually(async () => {
      const c = await health();
      return c.deadLetters.total - before.deadLetters.total >= expectedRejects ? c : undefined;
    }, 20_000);
    expect(after.ingest.rejected - before.ingest.rejected).toBe(expectedRejects);
    expect(after.deadLetters.total - before.deadLetters.total).toBe(expectedRejects);
    rejectedTotal = expectedRejects;

    // still alive: a valid reading is accepted and stored
    const accepted = after.ingest.accepted;
    await client.publishAsync(telemetryTopic('FZ', 'PUMP-1'), JSON.stringify({ metrics: { temperature: 42.5 } }), { qos: 1 });
    await eventually(async () => (await health()).ingest.accepted === accepted + 1);
    await client.endAsync();
    expect((await api(base, 'GET', '/health')).status).toBe(200);
  });

  // KNOWN BUG (ingest/dead-letters.ts, reported): a refusal whose detail holds U+0000 (e.g. the
  // JSON.parse message for a payload with a NUL byte) makes PostgreSQL refuse the jsonb `details`
  // (22P05), so that whole batch — and every later one — is never stored. Flip to `it` once fixed.
  it('stores every dead letter in PostgreSQL, including payloads with NUL bytes', { timeout: 15_000 }, async () => {
    expect(rejectedTotal).toBeGreaterThan(200);
    const rows = await eventually(async () => {
      const n = await platform.db.prisma.deadLetter.count();
      return n >= rejectedTotal ? n : undefined;
    }, 5_000);
    expect(rows).toBe(rejectedTotal);
  });
});
