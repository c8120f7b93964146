/**
 * The whole role × route matrix, derived from the access table and checked against the running
 * API with AUTH_MODE=on: for every route and every role, a caller without the permission gets 403
 * (before any input validation), a caller with it never gets 403 or 401, and nobody anonymous gets
 * past a protected route (401). Row-level checks (own orders/assets) are in access-control.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLE_PERMISSIONS, type Role } from '../../access/permissions.ts';
import { ROUTE_ACCESS } from '../../access/route-permissions.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const ADMIN_PASSWORD = 'admin-password-123';
const ROLES_UNDER_TEST: Exclude<Role, 'device'>[] = ['admin', 'planner', 'dispatcher', 'engineer', 'manager', 'customer'];
const NIL = '00000000-0000-4000-8000-000000000000';

function expectedAllowed(role: Role, key: string): boolean {
  const a = ROUTE_ACCESS[key]!;
  if ('public' in a || 'authenticated' in a) return true;
  const perms = ROLE_PERMISSIONS[role];
  const granted = perms.has(a.permission) || (!!a.self && perms.has(a.self));
  return granted && (role !== 'customer' || !!a.customer);
}

describe.skipIf(reason)(`role × route access matrix on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base = '';
  const tokens = new Map<string, string>();

  async function send(token: string | undefined, key: string): Promise<number> {
    const [method, template] = key.split(' ') as [string, string];
    const path = template.replace(/:(\w+)/g, (_m, p: string) => (p === 'entity' ? 'assets' : p === 'key' ? 'k1' : NIL));
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    let body: string | undefined;
    if (method !== 'GET' && method !== 'DELETE') {
      headers['content-type'] = 'application/json';
      body = '{}';
    }
    const res = await fetch(`${base}${path}`, { method, headers, body });
    await res.arrayBuffer();
    return res.status;
  }

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    platform = await startTestPlatform({ DATABASE_URL: t.url, ROLES: 'api', AUTH_MODE: 'on', ADMIN_PASSWORD, RATE_LIMIT_PER_MIN: '1000000' });
    base = platform.apiUrl!;
    const login = async (username: string, password: string): Promise<string> => {
      const r = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
      return ((await r.json()) as { token: string }).token;
    };
    const admin = await login('admin', ADMIN_PASSWORD);
    tokens.set('admin', admin);
    const post = async <T>(path: string, body: unknown): Promise<T> => {
      const r = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, body: JSON.stringify(body) });
      expect(r.status, path).toBe(201);
      return (await r.json()) as T;
    };
    const customer = await post<{ id: string }>('/customers', { code: 'MATRIX', name: 'Matrix Co' });
    const engineer = await post<{ id: string }>('/engineers', { code: 'MX-1', name: 'Matrix engineer' });
    for (const role of ROLES_UNDER_TEST.filter((r) => r !== 'admin')) {
      await post('/users', {
        username: `m-${role}`,
        displayName: role,
        password: `${role}-password-9`,
        role,
        ...(role === 'customer' ? { customerId: customer.id } : {}),
        ...(role === 'engineer' ? { engineerId: engineer.id } : {}),
      });
      tokens.set(role, await login(`m-${role}`, `${role}-password-9`));
    }
  });

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  const protectedRoutes = Object.entries(ROUTE_ACCESS)
    .filter(([key, a]) => !('public' in a) && key !== 'POST /auth/logout')
    .map(([key]) => key);

  it('covers every route of the running API', async () => {
    const spec = (await (await fetch(`${base}/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const served = Object.entries(spec.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`));
    const listed = new Set(Object.keys(ROUTE_ACCESS));
    expect(served.filter((k) => !listed.has(k))).toEqual([]);
  });

  it('refuses anonymous callers on every protected route (401)', async () => {
    const wrong: string[] = [];
    for (const key of protectedRoutes) {
      const status = await send(undefined, key);
      if (status !== 401) wrong.push(`${key} → ${status}`);
    }
    expect(wrong).toEqual([]);
  });

  it.each(ROLES_UNDER_TEST)('%s: 403 exactly where the table denies, never where it allows', async (role) => {
    const wrong: string[] = [];
    let denied = 0;
    for (const key of protectedRoutes) {
      const status = await send(tokens.get(role), key);
      const allowed = expectedAllowed(role, key);
      if (!allowed) denied++;
      if (allowed ? status === 403 || status === 401 : status !== 403) wrong.push(`${key} → ${status} (expected ${allowed ? 'not 401/403' : '403'})`);
    }
    expect(wrong).toEqual([]);
    // sanity: the matrix really separates roles
    if (role === 'admin') expect(denied).toBe(0);
    else expect(denied).toBeGreaterThan(0);
  });
});
