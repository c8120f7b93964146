/**
 * The access log: one line per request once its response is out — method, path, route, status,
 * response time, read-cache outcome, who (user or API key id), client address — instead of Fastify's
 * two ("incoming request" and "request completed"). REQUEST_LOG chooses: `all`, `errors` (status ≥ 400)
 * or `off`. Path parameters that are credentials (a survey's token) are masked, so the log never holds
 * a link that would let its reader answer a customer's survey. Failures (5xx) are also logged with
 * their error by the error handler.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { principalKey } from '../access/permissions.ts';

export type RequestLogMode = 'all' | 'errors' | 'off';

/** Path parameters that are secrets: masked in the logged path. */
const SECRET_PARAMS = ['token'] as const;

export function installRequestLog(app: FastifyInstance, mode: RequestLogMode): void {
  if (mode === 'off') return;
  app.addHook('onResponse', (req, reply, done) => {
    const statusCode = reply.statusCode;
    if (mode === 'all' || statusCode >= 400) {
      const p = req.principal;
      req.log.info(
        {
          method: req.method,
          url: loggedUrl(req),
          route: req.routeOptions.url,
          statusCode,
          ms: Math.round(reply.elapsedTime * 100) / 100,
          cache: reply.getHeader('x-cache'),
          who: p ? principalKey(p) : undefined,
          ip: req.ip,
        },
        'request',
      );
    }
    done();
  });
}

/** The request's path and query with secret path parameters masked. */
export function loggedUrl(req: Pick<FastifyRequest, 'url' | 'params'>): string {
  const params = req.params as Record<string, unknown> | undefined;
  let url = req.url;
  if (!params) return url;
  for (const name of SECRET_PARAMS) {
    const v = params[name];
    if (typeof v !== 'string' || !v) continue;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    // the raw path holds the value percent-encoded if it needed encoding
    const masked = path.split('/').map((seg) => (seg === v || safeDecode(seg) === v ? '[redacted]' : seg)).join('/');
    url = masked + (q < 0 ? '' : url.slice(q));
  }
  return url;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
