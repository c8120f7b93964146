import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { clientErrorCode, findUnstorable, isFailedCredential, rateLimitKey, securityHeaders, triesCredential } from '../../api/hardening-policy.ts';
import { createRootLogger } from '../../platform/logger.ts';

describe('rate-limit key', () => {
  it.each([
    [{ principal: { kind: 'user', id: 'u1' }, ip: '10.0.0.1', authEnabled: true }, 'user:u1'],
    [{ principal: { kind: 'api_key', id: 'k1' }, ip: '10.0.0.1', authEnabled: true }, 'api_key:k1'],
    [{ principal: null, ip: '10.0.0.1', authEnabled: true }, 'ip:10.0.0.1'],
    // AUTH_MODE=off: everyone is the same local admin, so callers are told apart by address
    [{ principal: { kind: 'user', id: 'local-admin' }, ip: '10.0.0.2', authEnabled: false }, 'ip:10.0.0.2'],
  ])('%j → %s', (input, key) => expect(rateLimitKey(input)).toBe(key));
});

describe('failed credentials', () => {
  it.each([
    [{ method: 'POST', route: '/auth/login', status: 401, hasCredential: false }, true],
    [{ method: 'POST', route: '/auth/login', status: 200, hasCredential: false }, false],
    [{ method: 'POST', route: '/auth/login', status: 400, hasCredential: false }, false],
    [{ method: 'GET', route: '/work-orders', status: 401, hasCredential: true }, true],
    [{ method: 'GET', route: '/work-orders', status: 401, hasCredential: false }, false],
    [{ method: 'GET', route: '/work-orders', status: 403, hasCredential: true }, false],
  ])('%j → %s', (input, failed) => expect(isFailedCredential(input)).toBe(failed));

  it.each([
    [{ method: 'POST', url: '/auth/login', hasCredential: false }, true],
    [{ method: 'POST', url: '/auth/login?x=1', hasCredential: false }, true],
    [{ method: 'GET', url: '/health', hasCredential: false }, false],
    [{ method: 'GET', url: '/health', hasCredential: true }, true],
  ])('tries a credential %j → %s', (input, tries) => expect(triesCredential(input)).toBe(tries));
});

describe('security headers', () => {
  it('API responses: no content allowed, no caching, no framing; HSTS only when configured', () => {
    const h = securityHeaders({ url: '/work-orders?x=1', hstsMaxAgeS: 0 });
    expect(h).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' });
    expect(h['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(h['strict-transport-security']).toBeUndefined();
    expect(securityHeaders({ url: '/health', hstsMaxAgeS: 3600 })['strict-transport-security']).toBe('max-age=3600; includeSubDomains');
  });

  it.each(['/docs', '/docs/', '/docs/static/index.html', '/docs?x'])('the Swagger UI (%s) may run its own scripts', (url) => {
    const h = securityHeaders({ url, hstsMaxAgeS: 0 });
    expect(h['content-security-policy']).toContain("script-src 'self'");
    expect(h['cache-control']).toBeUndefined();
  });

  it.each(['/docsx', '/documents', '/assets/1/documents'])('%s is not the UI', (url) => expect(securityHeaders({ url, hstsMaxAgeS: 0 })['content-security-policy']).toContain("default-src 'none'"));
});

describe('public code of framework errors', () => {
  it.each([
    [400, 'FST_ERR_CTP_INVALID_JSON_BODY', 'bad_request'],
    [413, 'FST_ERR_CTP_BODY_TOO_LARGE', 'payload_too_large'],
    [415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', 'unsupported_media_type'],
    [429, 'rate_limited', 'rate_limited'],
    [414, 'uri_too_long', 'uri_too_long'],
    [400, undefined, 'bad_request'],
    [418, undefined, 'bad_request'],
    [400, 'ERR_SOMETHING_INTERNAL', 'bad_request'],
  ] as const)('%i %s → %s', (status, code, out) => expect(clientErrorCode(status, code)).toBe(out));
});

describe('log redaction', () => {
  it('censors credentials wherever they are bound', () => {
    const lines: string[] = [];
    const log = createRootLogger('info', new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }));
    log.info({ body: { username: 'u', password: 'p4ss-word-1' }, req: { headers: { authorization: 'Bearer tok-123', 'x-api-key': 'omk_AAAAAAAA_key', cookie: 'sid=c00k' } } }, 'x');
    log.info({ config: { sessionSecret: 's3cr3t', databaseUrl: 'postgres://u:dbpw@h/d', mqttPassword: 'mq-pw' }, credential: { secret: 'hook-secret', key: 'omk_BBBBBBBB_key', token: 'survey-tok' } }, 'y');
    log.info({ password: 'top-level-pw', token: 'top-tok' }, 'z');
    const out = lines.join('');
    for (const s of ['p4ss-word-1', 'tok-123', 'omk_AAAAAAAA_key', 'c00k', 's3cr3t', 'dbpw', 'mq-pw', 'hook-secret', 'omk_BBBBBBBB_key', 'survey-tok', 'top-level-pw', 'top-tok']) expect(out).not.toContain(s);
    expect(out.match(/\[redacted\]/g)?.length).toBe(12);
    expect(out).toContain('"username":"u"');
  });
});

describe('unstorable values in parsed input', () => {
  it.each([
    [{ limit: 5, offset: Infinity }, '/offset', 'finite'],
    [{ a: [1, 2, { b: Number.NaN }] }, '/a/2/b', 'finite'],
    [-Infinity, '/', 'finite'],
    [{ kind: 'a\u0000b' }, '/kind', 'NUL'],
    [{ 'k\u0000': 1 }, '/k\\0', 'NUL'],
  ])('%j → %s', (input, at, problem) => {
    const found = findUnstorable(input);
    expect(found?.path).toBe(at);
    expect(found?.problem).toContain(problem);
  });
  it.each([[{ a: 1, b: 'Infinity', c: null, d: [1.5, -0], e: '😀\n' }], [Buffer.from([0, 1, 2])], [undefined], ['plain']])('%j is fine', (input) => expect(findUnstorable(input)).toBeUndefined());
});
