/**
 * Access control for every route: authentication (session token or API key) on request, then the
 * route's permission from access/route-permissions.ts and its row-level scope. A route missing from
 * the table makes start-up fail. With AUTH_MODE=off every request acts as a built-in admin (local
 * development and the demo).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthService } from '../access/auth-service.ts';
import { can, ROLE_PERMISSIONS, type Principal } from '../access/permissions.ts';
import { isPublicPrefix, ROUTE_ACCESS, type RouteAccess } from '../access/route-permissions.ts';
import type { ScopeChecker } from '../access/scope.ts';
import { AppError } from '../platform/errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const LOCAL_ADMIN: Principal = Object.freeze({
  kind: 'user',
  id: 'local-admin',
  name: 'local admin (AUTH_MODE=off)',
  role: 'admin',
  permissions: ROLE_PERMISSIONS.admin,
  customerId: null,
  engineerId: null,
});

export const routeKey = (method: string, url: string): string => `${method} ${url}`;

export function installAccessControl(app: FastifyInstance, deps: { enabled: boolean; auth: AuthService; scopes: ScopeChecker }): void {
  const missing: string[] = [];
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const m of methods) {
      if (m === 'HEAD' || m === 'OPTIONS' || isPublicPrefix(route.url)) continue;
      if (!ROUTE_ACCESS[routeKey(m, route.url)]) missing.push(routeKey(m, route.url));
    }
  });
  app.addHook('onReady', async () => {
    if (missing.length) throw new Error(`routes without an access rule in access/route-permissions.ts: ${missing.join(', ')}`);
  });

  const accessOf = (req: FastifyRequest): RouteAccess | undefined => {
    const url = req.routeOptions.url;
    if (!url) return undefined;
    if (isPublicPrefix(url)) return { public: true };
    return ROUTE_ACCESS[routeKey(req.method === 'HEAD' ? 'GET' : req.method, url)];
  };

  app.addHook('onRequest', async (req) => {
    const access = accessOf(req);
    if (!access) return; // unknown route → 404 handler
    if (!deps.enabled) {
      req.principal = LOCAL_ADMIN;
      return;
    }
    // a bad credential is refused even on public routes: the caller must know it is wrong
    req.principal = await deps.auth.authenticate({ authorization: req.headers.authorization, 'x-api-key': req.headers['x-api-key'] });
    if ('public' in access) return;
    if (!req.principal) throw new AppError('unauthenticated', 'log in (Authorization: Bearer <token>) or send an API key (X-API-Key)');
  });

  // before the body is parsed and validated: a caller who may not use the route learns nothing about
  // its content types or input schema
  app.addHook('preParsing', async (req, _reply, payload) => {
    refuseUnpermitted(req);
    return payload;
  });

  function refuseUnpermitted(req: FastifyRequest): void {
    const access = accessOf(req);
    if (!access || 'public' in access) return;
    const p = req.principal;
    if (!p) throw new AppError('unauthenticated', 'not authenticated');
    if ('authenticated' in access) return;
    const full = can(p, access.permission);
    const selfOnly = !full && !!access.self && can(p, access.self);
    if (!full && !selfOnly) throw new AppError('forbidden', `role ${p.role} may not ${req.method} ${req.routeOptions.url} (needs ${access.permission})`);
    if (p.role === 'customer' && !access.customer) throw new AppError('forbidden', `customers may not ${req.method} ${req.routeOptions.url}`);
  }

  // after validation: params/query/body are parsed and coerced, so scopes can check and rewrite them
  app.addHook('preHandler', async (req) => {
    const access = accessOf(req);
    const p = req.principal;
    if (!access || !p || 'public' in access || 'authenticated' in access) return;
    const selfOnly = !can(p, access.permission);
    await deps.scopes.enforce(p, access, { method: req.method, params: (req.params ?? {}) as Record<string, string | undefined>, query: (req.query ?? {}) as Record<string, unknown>, body: req.body }, selfOnly);
  });
}
