import { describe, expect, it } from 'vitest';
import { can, effectivePermissions, PERMISSIONS, ROLE_PERMISSIONS, ROLES, type Principal } from '../../access/permissions.ts';
import { signSession, verifySession } from '../../access/tokens.ts';

const now = new Date('2026-11-25T10:00:00Z');
const SECRET = 'x'.repeat(32);

describe('session tokens', () => {
  it('round-trips claims and expires at exp', () => {
    const { token, claims } = signSession({ sub: 'u1', role: 'planner' }, SECRET, now, 3600);
    expect(claims.exp - claims.iat).toBe(3600);
    const ok = verifySession(token, SECRET, new Date(now.getTime() + 3599_000));
    expect(ok).toMatchObject({ ok: true, claims: { sub: 'u1', role: 'planner' } });
    expect(verifySession(token, SECRET, new Date(now.getTime() + 3600_000))).toEqual({ ok: false, reason: 'expired' });
  });

  it.each([
    { name: 'another secret', mutate: (t: string) => t, secret: 'y'.repeat(32), reason: 'bad_signature' },
    { name: 'tampered payload (role escalated)', mutate: (t: string) => { const [h, , s] = t.split('.'); return `${h}.${Buffer.from(JSON.stringify({ sub: 'u1', role: 'admin', iat: 0, exp: 9e9, jti: 'x' })).toString('base64url')}.${s}`; }, secret: SECRET, reason: 'bad_signature' },
    { name: 'alg none', mutate: (t: string) => `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${t.split('.')[1]}.`, secret: SECRET, reason: 'malformed' },
    { name: 'two parts', mutate: (t: string) => t.split('.').slice(0, 2).join('.'), secret: SECRET, reason: 'malformed' },
    { name: 'garbage', mutate: () => 'not-a-token', secret: SECRET, reason: 'malformed' },
    { name: 'truncated signature', mutate: (t: string) => t.slice(0, -4), secret: SECRET, reason: 'bad_signature' },
  ])('refuses $name', ({ mutate, secret, reason }) => {
    const { token } = signSession({ sub: 'u1', role: 'planner' }, SECRET, now, 3600);
    expect(verifySession(mutate(token), secret, now)).toEqual({ ok: false, reason });
  });
});

describe('roles', () => {
  const principal = (role: (typeof ROLES)[number], scopes?: (typeof PERMISSIONS)[number][]): Principal => ({
    kind: 'user',
    id: 'u',
    name: 'u',
    role,
    permissions: effectivePermissions(role, scopes),
    customerId: null,
    engineerId: null,
  });

  it.each([
    { role: 'admin', yes: ['users:admin', 'rules:write', 'audit:read'], no: [] },
    { role: 'planner', yes: ['rules:write', 'pm:write', 'kpis:read'], no: ['users:admin', 'work_orders:dispatch', 'audit:read'] },
    { role: 'dispatcher', yes: ['work_orders:dispatch', 'work_orders:create', 'engineers:write'], no: ['rules:write', 'users:admin'] },
    { role: 'engineer', yes: ['work_orders:update', 'engineers:self'], no: ['work_orders:dispatch', 'work_orders:create', 'rules:read', 'customers:read', 'kpis:read'] },
    { role: 'manager', yes: ['kpis:read', 'audit:read', 'rules:read', 'dashboards:read'], no: ['rules:write', 'work_orders:update', 'users:admin'] },
    { role: 'customer', yes: ['work_orders:read', 'work_orders:create', 'assets:read'], no: ['work_orders:update', 'rules:read', 'kpis:read', 'inventory:read'] },
    { role: 'device', yes: [], no: ['assets:read', 'work_orders:read'] },
  ] as const)('$role', ({ role, yes, no }) => {
    const p = principal(role);
    for (const x of yes) expect(can(p, x), x).toBe(true);
    for (const x of no) expect(can(p, x), x).toBe(false);
  });

  it('only admin may administer users, and every role maps to known permissions', () => {
    for (const r of ROLES) {
      for (const p of ROLE_PERMISSIONS[r]) expect(PERMISSIONS).toContain(p);
      expect(ROLE_PERMISSIONS[r].has('users:admin')).toBe(r === 'admin');
    }
  });

  it('API-key scopes narrow a role and can never widen it', () => {
    expect([...effectivePermissions('planner', ['rules:read', 'users:admin'])]).toEqual(['rules:read']);
    expect(effectivePermissions('planner', [])).toBe(ROLE_PERMISSIONS.planner);
  });

  it('a key whose scopes are all unknown (e.g. a renamed permission) gets nothing, not the whole role', () => {
    expect([...effectivePermissions('admin', ['legacy:everything'])]).toEqual([]);
    expect([...effectivePermissions('planner', ['legacy:thing', 'rules:read'])]).toEqual(['rules:read']);
  });
});
