/**
 * Hardening of the HTTP surface on the real platform (AUTH_MODE=on, PostgreSQL): per-client rate
 * limits with the platform's error shape, failed-credential limits per IP, security headers, size
 * limits (413/414/431), no stack traces or internals in any error body, and no secret in the logs
 * while logging in, using API keys and creating device credentials. Requests come from distinct
 * loopback source addresses (127.0.0.x) so the per-IP limits of one test do not affect another.
 */
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../../main.ts';
import { loadConfig } from '../../platform/config.ts';
import { createRootLogger } from '../../platform/logger.ts';
import { AppError } from '../../platform/errors.ts';
import { installErrorHandling } from '../../api/error-handler.ts';
import { installHardening } from '../../api/hardening.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const ADMIN_PASSWORD = 'admin-password-hardening-1';
const SESSION_SECRET = 'session-secret-'.padEnd(48, 'q');
const PER_MIN = 30;
const LOGIN_PER_MIN = 4;

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: Record<string, unknown> | undefined;
}

/** One HTTP request from a chosen loopback source address (node:http, so headers and size are not filtered). */
function send(base: string, method: string, path: string, opts: { from?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Res> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, localAddress: opts.from ?? '127.0.0.1', headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> | undefined;
        try {
          body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const json = (base: string, method: string, path: string, body: unknown, from: string, headers: Record<string, string> = {}): Promise<Res> =>
  send(base, method, path, { from, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** No stack frames, source paths or framework internals in a response body. */
function expectNoInternals(r: Res): void {
  expect(r.text).not.toMatch(/\n\s+at |\bat [\w.<>]+ \(|node_modules|\/work\/|\.ts:\d+|\.js:\d+|FST_|Prisma|stack/);
}

describe.skipIf(reason)(`hardening on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Platform;
  let dataDir = '';
  let drop: () => Promise<void>;
  let base = '';
  const logLines: string[] = [];
  const secrets: string[] = [ADMIN_PASSWORD, SESSION_SECRET];

  const login = (username: string, password: string, from: string) => json(base, 'POST', '/auth/login', { username, password }, from);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    dataDir = mkdtempSync(join(tmpdir(), 'om-hardening-'));
    const config = loadConfig({
      DATABASE_URL: t.url,
      ROLES: 'api,ingest',
      HTTP_PORT: '0',
      INGEST_THREAD: 'off', // looks into the pipeline in this thread
      MQTT_PORT: '0',
      DATA_DIR: dataDir,
      MQTT_AUTH: 'devices',
      ASSET_CODE_MODE: 'off',
      AUTH_MODE: 'on',
      ADMIN_PASSWORD,
      SESSION_SECRET,
      LOGIN_MAX_FAILURES: '50',
      RATE_LIMIT_PER_MIN: String(PER_MIN),
      RATE_LIMIT_LOGIN_PER_MIN: String(LOGIN_PER_MIN),
      HSTS_MAX_AGE_S: '600',
      STALE_AFTER_S: '0',
    });
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        cb();
      },
    });
    platform = await startPlatform(config, { logger: createRootLogger('debug', sink) });
    base = platform.apiUrl!;
  });

  afterAll(async () => {
    await platform?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await drop?.();
  });

  it('puts security headers on API responses, errors and 404s, and a CSP the Swagger UI can live with on /docs', async () => {
    for (const r of [await send(base, 'GET', '/health', { from: '127.0.0.2' }), await send(base, 'GET', '/no/such/route', { from: '127.0.0.2' }), await send(base, 'GET', '/work-orders', { from: '127.0.0.2' })]) {
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['strict-transport-security']).toBe('max-age=600; includeSubDomains');
      expect(r.headers['x-powered-by']).toBeUndefined();
    }
    const ui = await send(base, 'GET', '/docs/', { from: '127.0.0.2' });
    expect(ui.status).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    expect(ui.headers['content-security-policy']).toContain("script-src 'self'");
    expect(ui.headers['content-security-policy']).not.toContain("default-src 'none'");
    expect(ui.headers['x-frame-options']).toBe('DENY');
    // the UI's own script and the spec it loads are served
    const scripts = [...ui.text.matchAll(/src="\.?\/?([^"]+\.js)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) expect((await send(base, 'GET', `/docs/${s.replace(/^docs\//, '')}`, { from: '127.0.0.2' })).status).toBe(200);
    expect((await send(base, 'GET', '/docs/json', { from: '127.0.0.2' })).status).toBe(200);
  });

  it('limits requests per user (its own bucket) with 429, Retry-After and the platform error shape; /health is exempt', async () => {
    const from = '127.0.0.11';
    const admin = (await login('admin', ADMIN_PASSWORD, from)).body!.token as string;
    for (const name of ['limited-a', 'limited-b']) {
      const created = await json(base, 'POST', '/users', { username: name, displayName: name, password: `${name}-password-1`, role: 'manager' }, from, bearer(admin));
      expect(created.status, created.text).toBe(201);
      secrets.push(`${name}-password-1`);
    }
    const a = (await login('limited-a', 'limited-a-password-1', '127.0.0.12')).body!.token as string;
    const b = (await login('limited-b', 'limited-b-password-1', '127.0.0.12')).body!.token as string;
    secrets.push(admin, a, b);
    for (let i = 0; i < PER_MIN; i++) {
      const r = await send(base, 'GET', '/auth/me', { from, headers: bearer(a) });
      expect(r.status, `request ${i + 1}`).toBe(200);
      expect(Number(r.headers['x-ratelimit-remaining'])).toBe(PER_MIN - i - 1);
    }
    const over = await send(base, 'GET', '/auth/me', { from, headers: bearer(a) });
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/30 requests per minute/), details: { retryAfterS: expect.any(Number) } });
    const retry = (over.body!.details as { retryAfterS: number }).retryAfterS;
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    expect(Number(over.headers['retry-after'])).toBe(retry);
    expect(over.headers['x-content-type-options']).toBe('nosniff');
    expectNoInternals(over);
    // same address, another user: its own budget
    expect((await send(base, 'GET', '/auth/me', { from, headers: bearer(b) })).status).toBe(200);
    // health checks are never throttled
    for (let i = 0; i < PER_MIN + 5; i++) expect((await send(base, 'GET', '/health', { from })).status).toBe(200);
    // anonymous callers are counted per address
    const anon = '127.0.0.13';
    for (let i = 0; i < PER_MIN; i++) expect((await send(base, 'GET', '/surveys/not-a-token', { from: anon })).status).toBe(404);
    expect((await send(base, 'GET', '/surveys/not-a-token', { from: anon })).status).toBe(429);
    expect((await send(base, 'GET', '/surveys/not-a-token', { from: '127.0.0.14' })).status).toBe(404);
  });

  it('refuses an address after repeated failed logins or bad tokens (even with the right password next), not others', async () => {
    const from = '127.0.0.21';
    for (let i = 0; i < LOGIN_PER_MIN; i++) expect((await login('admin', `wrong-password-${i}`, from)).status).toBe(401);
    const blocked = await login('admin', ADMIN_PASSWORD, from);
    expect(blocked.status).toBe(429);
    expect(blocked.body).toMatchObject({ code: 'rate_limited', details: { retryAfterS: expect.any(Number) } });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.body).not.toHaveProperty('token');
    // anonymous calls from that address that try no credential still work; other addresses log in
    expect((await send(base, 'GET', '/health', { from })).status).toBe(200);
    const other = await login('admin', ADMIN_PASSWORD, '127.0.0.22');
    expect(other.status).toBe(200);
    const token = other.body!.token as string;
    secrets.push(token);

    const guesser = '127.0.0.23';
    for (let i = 0; i < LOGIN_PER_MIN; i++) expect((await send(base, 'GET', '/work-orders', { from: guesser, headers: bearer(`guess.${i}.x`) })).status).toBe(401);
    expect((await send(base, 'GET', '/work-orders', { from: guesser, headers: bearer(token) })).status).toBe(429);
    expect((await send(base, 'GET', '/work-orders', { from: guesser, headers: { 'x-api-key': 'omk_ABCDEFGH_aaaaaaaaaaaaaaaaaaaaaaaa' } })).status).toBe(429);
    expect((await send(base, 'GET', '/work-orders', { from: '127.0.0.22', headers: bearer(token) })).status).toBe(200);
    // anonymous 401s (no credential at all) are not guesses and do not count
    const anon = '127.0.0.24';
    for (let i = 0; i < LOGIN_PER_MIN * 2; i++) expect((await send(base, 'GET', '/work-orders', { from: anon })).status).toBe(401);
    expect((await login('admin', ADMIN_PASSWORD, anon)).status).toBe(200);
  });

  it('enforces size limits: JSON body 413, request target 414, headers 431 — each with no internals', async () => {
    const from = '127.0.0.31';
    const big = JSON.stringify({ username: 'x'.repeat(2 * 1024 * 1024), password: 'y' });
    const r413 = await send(base, 'POST', '/auth/login', { from, headers: { 'content-type': 'application/json' }, body: big });
    expect(r413.status).toBe(413);
    expect(r413.body).toEqual({ code: 'payload_too_large', message: expect.any(String) });
    const r414 = await send(base, 'GET', `/health?pad=${'a'.repeat(10_000)}`, { from });
    expect(r414.status).toBe(414);
    expect(r414.body).toEqual({ code: 'uri_too_long', message: expect.stringMatching(/limit 8192/) });
    const r431 = await send(base, 'GET', '/health', { from, headers: { 'x-junk': 'z'.repeat(32 * 1024) } });
    expect(r431.status).toBe(431);
    for (const r of [r413, r414, r431]) expectNoInternals(r);
  });

  it('framework errors keep the {code, message} shape without stack traces or framework codes', async () => {
    const from = '127.0.0.41';
    const cases: [string, Promise<Res>, number, string][] = [
      ['bad JSON', send(base, 'POST', '/auth/login', { from, headers: { 'content-type': 'application/json' }, body: '{"username": "a", ' }), 400, 'bad_request'],
      ['empty JSON body', send(base, 'POST', '/auth/login', { from, headers: { 'content-type': 'application/json' }, body: '' }), 400, 'bad_request'],
      ['unsupported media type', send(base, 'POST', '/auth/login', { from, headers: { 'content-type': 'application/xml' }, body: '<a/>' }), 415, 'unsupported_media_type'],
      ['unknown route', send(base, 'GET', '/definitely/not/here', { from }), 404, 'not_found'],
      ['unknown method', send(base, 'DELETE', '/health', { from }), 404, 'not_found'],
      ['schema violation', json(base, 'POST', '/auth/login', { username: 12, extra: { __proto__: { polluted: true } } }, from), 400, 'validation'],
      ['prototype keys', send(base, 'POST', '/auth/login', { from, headers: { 'content-type': 'application/json' }, body: '{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}' }), 400, 'bad_request'],
      ['malformed percent-encoding', send(base, 'GET', '/work-orders/%E0%A4%A', { from }), 400, 'bad_request'],
      ['over-long path parameter', send(base, 'GET', `/surveys/${'t'.repeat(200)}`, { from }), 414, 'uri_too_long'],
      ['NUL in a string', json(base, 'POST', '/auth/login', { username: 'ad\u0000min', password: 'x' }, from), 400, 'validation'],
    ];
    for (const [what, p, status, code] of cases) {
      const r = await p;
      expect(r.status, what).toBe(status);
      expect(r.body, what).toMatchObject({ code, message: expect.any(String) });
      expect(Object.keys(r.body!).sort().filter((k) => k !== 'details'), what).toEqual(['code', 'message']);
      expectNoInternals(r);
      expect(r.headers['x-content-type-options'], what).toBe('nosniff');
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('never writes passwords, tokens, API keys or device secrets to the logs', async () => {
    const from = '127.0.0.51';
    const admin = (await login('admin', ADMIN_PASSWORD, from)).body!.token as string;
    secrets.push(admin);
    const h = bearer(admin);
    const userPw = 'hardening-user-password-7';
    expect((await json(base, 'POST', '/users', { username: 'logcheck', displayName: 'Log check', password: userPw, role: 'planner' }, from, h)).status).toBe(201);
    secrets.push(userPw);
    expect((await login('logcheck', userPw, from)).status).toBe(200);
    const key = await json(base, 'POST', '/api-keys', { name: 'log check', role: 'planner' }, from, h);
    expect(key.status, key.text).toBe(201);
    const apiKey = key.body!.key as string;
    // the secret part is everything after the prefix (base64url: it may itself contain '_')
    secrets.push(apiKey, /^omk_[A-Za-z0-9]{8}_(.+)$/.exec(apiKey)![1]!);
    expect((await send(base, 'GET', '/rules', { from, headers: { 'x-api-key': apiKey } })).status).toBe(200);
    expect((await send(base, 'GET', '/rules', { from, headers: { authorization: `ApiKey ${apiKey}` } })).status).toBe(200);
    const site = await json(base, 'POST', '/sites', { code: 'LOGS', name: 'Log site' }, from, h);
    const asset = await json(base, 'POST', '/assets', { code: 'LOG-1', name: 'Pump', type: 'pump', siteId: site.body!.id }, from, h);
    expect(asset.status, asset.text).toBe(201);
    const cred = await json(base, 'POST', `/assets/${asset.body!.id as string}/credentials`, {}, from, h);
    expect(cred.status, cred.text).toBe(201);
    const devicePw = cred.body!.password as string;
    secrets.push(devicePw);
    // a webhook whose secret is given, and one whose secret is generated (returned once)
    const hookSecret = 'webhook-signing-secret-42';
    const hook = await json(base, 'POST', '/webhooks', { name: 'log check', url: 'http://127.0.0.1:9/hook', events: ['work_order.created'], secret: hookSecret }, from, h);
    expect(hook.status, hook.text).toBe(201);
    const generated = await json(base, 'POST', '/webhooks', { name: 'log check 2', url: 'http://127.0.0.1:9/hook2', events: ['work_order.created'] }, from, h);
    expect(generated.status, generated.text).toBe(201);
    secrets.push(hookSecret, generated.body!.secret as string);
    // a device connecting with a wrong password (logged as refused) and with the right one
    const url = platform.mqttUrl!;
    const wrongPw = 'wrong-device-password-xyz';
    secrets.push(wrongPw);
    const refused = await new Promise<string>((resolve) => {
      const c = mqtt.connect(url, { username: cred.body!.username as string, password: wrongPw, reconnectPeriod: 0, protocolVersion: 4 });
      c.on('error', (e) => {
        c.end(true);
        resolve(e.message);
      });
      c.on('connect', () => {
        c.end(true);
        resolve('connected');
      });
    });
    expect(refused).not.toBe('connected');
    const ok = await mqtt.connectAsync(url, { username: cred.body!.username as string, password: devicePw, reconnectPeriod: 0, protocolVersion: 4 });
    await ok.endAsync();
    await new Promise((r) => setTimeout(r, 200));

    expect(logLines.length).toBeGreaterThan(20);
    expect(logLines.some((l) => l.includes('MQTT connection refused'))).toBe(true);
    // the access log: one line per request (REQUEST_LOG=all), not Fastify's two
    expect(logLines.some((l) => l.includes('"msg":"request"') && l.includes('"route":"/rules"') && l.includes('"statusCode":200'))).toBe(true);
    expect(logLines.some((l) => l.includes('"msg":"incoming request"') || l.includes('"msg":"request completed"'))).toBe(false);
    const all = logLines.join('\n');
    for (const s of secrets) expect(all.includes(s), `secret ${s.slice(0, 6)}… found in the logs`).toBe(false);
  });
});

describe('error handler and hardening on a bare Fastify app (no stack, no internals in 5xx)', () => {
  const app = Fastify({ bodyLimit: 1024 });
  beforeAll(async () => {
    installErrorHandling(app);
    await installHardening(app, { rateLimitPerMin: 1000, rateLimitLoginPerMin: 5, hstsMaxAgeS: 0 });
    app.get('/boom', async () => {
      throw new Error('ECONNREFUSED 10.1.2.3:5432 user=postgres password=hunter2 at /work/main/maintenance/x.ts:12:3');
    });
    app.get('/unavailable', async () => {
      throw new AppError('unavailable', 'InfluxDB at http://influx.internal:8086 refused token abc123');
    });
    app.get('/upstream', async () => {
      throw Object.assign(new Error('upstream said no (secret-ish detail)'), { statusCode: 502 });
    });
    app.get('/typeerror', async () => {
      const o = undefined as unknown as { x: { y: number } };
      return { v: o.x.y };
    });
    await app.ready();
  });
  afterAll(() => app.close());

  it.each([
    ['/boom', 500, 'internal'],
    ['/unavailable', 503, 'unavailable'],
    ['/upstream', 500, 'internal'],
    ['/typeerror', 500, 'internal'],
  ])('%s → %i with a generic body', async (url, status, code) => {
    const r = await app.inject({ method: 'GET', url });
    expect(r.statusCode).toBe(status);
    const body = r.json<Record<string, unknown>>();
    expect(body.code).toBe(code);
    expect(Object.keys(body).sort()).toEqual(['code', 'message']);
    expect(r.body).not.toMatch(/ECONNREFUSED|hunter2|\/work\/|influx|abc123|secret|TypeError|undefined|\n\s+at /);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['strict-transport-security']).toBeUndefined();
  });
});
