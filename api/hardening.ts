/**
 * Hardening of the HTTP surface (policy in api/hardening-policy.ts):
 * - rate limit per client (@fastify/rate-limit): user or API key when authenticated, else IP; /health exempt;
 * - failed logins and refused credentials limited per IP (password spraying, token guessing);
 * - security headers on every response (strict CSP except for the Swagger UI, no-store, HSTS behind TLS);
 * - request target length limit (414); the JSON body limit (413) is Fastify's `bodyLimit`.
 * 429 bodies have the platform's error shape `{code: 'rate_limited', message, details: {retryAfterS}}`.
 *
 * Installed before access control: the failed-credential check must run before authentication,
 * while the per-client limiter is a route-level hook and so runs after it (the principal is known).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import {
  findUnstorable,
  HARDENING_DEFAULTS,
  isFailedCredential,
  MAX_URL_LENGTH,
  RATE_LIMIT_EXEMPT,
  rateLimitKey,
  securityHeaders,
  triesCredential,
  type HardeningOptions,
} from './hardening-policy.ts';

export type { HardeningOptions } from './hardening-policy.ts';

const WINDOW_MS = 60_000;

/** An error the error handler renders as `{code, message, details}` with the given status. */
const clientError = (statusCode: number, code: string, message: string, details?: unknown): Error =>
  Object.assign(new Error(message), { statusCode, code, details });

const rateLimited = (retryAfterS: number, what: string): Error =>
  clientError(429, 'rate_limited', `${what}; retry in ${retryAfterS} s`, { retryAfterS });

const hasCredential = (req: FastifyRequest): boolean => req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined;

export async function installHardening(app: FastifyInstance, options: Partial<HardeningOptions> = {}): Promise<void> {
  const opts: HardeningOptions = { ...HARDENING_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };

  app.addHook('onRequest', async (req) => {
    if (req.url.length > MAX_URL_LENGTH) throw clientError(414, 'uri_too_long', `request target is ${req.url.length} characters (limit ${MAX_URL_LENGTH})`);
  });

  // after validation (values are parsed and coerced), before access control and the handler
  app.addHook('preHandler', async (req) => {
    for (const [part, value] of [['querystring', req.query], ['params', req.params], ['body', req.body]] as const) {
      const bad = findUnstorable(value);
      if (bad) throw clientError(400, 'validation', `${part}${bad.path} ${bad.problem}`, [{ path: `${part}${bad.path}`, message: bad.problem }]);
    }
  });

  app.addHook('onSend', async (req, reply, payload) => {
    for (const [name, value] of Object.entries(securityHeaders({ url: req.url, hstsMaxAgeS: opts.hstsMaxAgeS }))) {
      if (name === 'cache-control' && reply.hasHeader('cache-control')) continue;
      reply.header(name, value);
    }
    reply.removeHeader('x-powered-by');
    return payload;
  });

  if (opts.rateLimitPerMin <= 0 && opts.rateLimitLoginPerMin <= 0) return;
  // global: false — the per-client limit is attached to routes below, not by the plugin itself
  await app.register(rateLimit, { global: false, max: 1, timeWindow: WINDOW_MS, cache: 50_000 });

  if (opts.rateLimitLoginPerMin > 0) {
    // read before authentication (so a blocked IP is refused before its guess is checked); counted on each refusal
    const failures = app.createRateLimit({ max: opts.rateLimitLoginPerMin, timeWindow: WINDOW_MS, keyGenerator: (req) => `authfail:${req.ip}` });
    app.addHook('onRequest', async (req, reply) => {
      if (!triesCredential({ method: req.method, url: req.url, hasCredential: hasCredential(req) })) return;
      const state = await failures(req, { increment: false });
      if (!state.isAllowed && state.remaining === 0) {
        const after = Math.max(1, state.ttlInSeconds);
        req.log.warn({ ip: req.ip }, 'too many failed logins or refused credentials from this address');
        reply.header('retry-after', after);
        throw rateLimited(after, 'too many failed logins or refused credentials from this address');
      }
    });
    app.addHook('onResponse', async (req, reply) => {
      if (isFailedCredential({ method: req.method, route: req.routeOptions.url, status: reply.statusCode, hasCredential: hasCredential(req) })) await failures(req);
    });
  }

  if (opts.rateLimitPerMin > 0) {
    const authEnabled = opts.authEnabled ?? true;
    const perClient = app.rateLimit({
      max: opts.rateLimitPerMin,
      timeWindow: WINDOW_MS,
      keyGenerator: (req) => rateLimitKey({ principal: req.principal ?? null, ip: req.ip, authEnabled }),
      errorResponseBuilder: (_req, ctx) => rateLimited(Math.max(1, Math.ceil(ctx.ttl / 1000)), `rate limit of ${ctx.max} requests per minute exceeded`),
    });
    // route-level onRequest hooks run after the app-level ones, so access control has set req.principal
    app.addHook('onRoute', (route) => {
      if (RATE_LIMIT_EXEMPT.has(route.url)) return;
      const existing = route.onRequest;
      route.onRequest = [...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]), perClient];
    });
  }
}
