/**
 * AUTH_CACHE_MS: the authentication read (API key row, session user) is reused for a short time.
 * Changes made through this instance (revoke, deactivate, logout) apply to the very next request;
 * a change made elsewhere (another instance — here: straight in the database) applies within the
 * cache time, never later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/databases.ts';
import { eventually, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const ADMIN_PASSWORD = 'admin-password-123';
const CACHE_MS = 1_500;

describe.skipIf(reason)(`authentication cache ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base = '';
  let admin = '';

  const status = async (headers: Record<string, string>, path = '/assets'): Promise<number> => (await fetch(`${base}${path}`, { headers })).status;
  const json = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    expect(res.status, `${method} ${path}`).toBeLessThan(300);
    return (await res.json()) as T;
  };
  const newKey = async (): Promise<{ id: string; key: string }> => json('POST', '/api-keys', { name: `k-${Math.random()}`, role: 'manager' });

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    platform = await startTestPlatform({ DATABASE_URL: t.url, ROLES: 'api', AUTH_MODE: 'on', ADMIN_PASSWORD, AUTH_CACHE_MS: String(CACHE_MS) });
    base = platform.apiUrl!;
    const res = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    admin = ((await res.json()) as { token: string }).token;
  }, 60_000);

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  it('a key revoked through this instance is refused on the very next request', async () => {
    const { id, key } = await newKey();
    expect(await status({ 'x-api-key': key })).toBe(200); // now cached
    await json('POST', `/api-keys/${id}/revoke`);
    expect(await status({ 'x-api-key': key })).toBe(401);
  });

  it('a key revoked elsewhere (another instance) is refused within AUTH_CACHE_MS', async () => {
    const { id, key } = await newKey();
    expect(await status({ 'x-api-key': key })).toBe(200);
    const revokedAt = Date.now();
    await platform.db.prisma.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
    // the cached row still admits it for a moment (this is what the setting trades) …
    expect(await status({ 'x-api-key': key })).toBe(200);
    // … but never longer than the cache time
    await eventually(async () => (await status({ 'x-api-key': key })) === 401, CACHE_MS + 1_000, 50);
    expect(Date.now() - revokedAt).toBeLessThan(CACHE_MS + 1_000);
  });

  it('deactivating a user through this instance ends their session at once', async () => {
    const user = await json<{ id: string }>('POST', '/users', { username: 'planner1', displayName: 'P', password: 'planner-password-1', role: 'planner' });
    const res = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'planner1', password: 'planner-password-1' }) });
    const token = ((await res.json()) as { token: string }).token;
    expect(await status({ authorization: `Bearer ${token}` })).toBe(200);
    await json('PATCH', `/users/${user.id}`, { active: false });
    expect(await status({ authorization: `Bearer ${token}` })).toBe(401);
  });
});
