import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { ROUTE_ACCESS } from '../../access/route-permissions.ts';
import { PERMISSIONS } from '../../access/permissions.ts';
import { installAccessControl } from '../../api/access-control.ts';
import type { AuthService } from '../../access/auth-service.ts';
import type { ScopeChecker } from '../../access/scope.ts';

const fakeDeps = { enabled: true, auth: { authenticate: async () => null } as unknown as AuthService, scopes: { enforce: async () => undefined } as unknown as ScopeChecker };

describe('route access table', () => {
  it('refuses to start when a route has no access rule', async () => {
    const app = Fastify();
    installAccessControl(app, fakeDeps);
    app.get('/health', () => 'ok');
    app.get('/secret-new-route', () => 'oops');
    await expect(app.ready()).rejects.toThrow(/routes without an access rule.*GET \/secret-new-route/);
  });

  it('starts when every route is listed, and answers 401 without credentials', async () => {
    const app = Fastify();
    installAccessControl(app, fakeDeps);
    app.get('/health', () => 'ok');
    app.get('/rules', () => []);
    await app.ready();
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/rules' })).statusCode).toBe(500); // no error handler installed in this bare app: the refusal is an AppError
    await app.close();
  });

  it('every rule names a known permission and every write route needs more than read', () => {
    for (const [route, access] of Object.entries(ROUTE_ACCESS)) {
      if ('permission' in access) {
        expect(PERMISSIONS, route).toContain(access.permission);
        if (!route.startsWith('GET ') && !route.includes('/backtest') && !route.includes('/notifications/')) expect(access.permission.endsWith(':read'), route).toBe(false);
      }
    }
  });
});
