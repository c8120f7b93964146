/**
 * Pure hardening policy (no Fastify, no I/O): who a request counts against for rate limiting,
 * which security headers a response gets, and the public error code of a framework error.
 * api/hardening.ts applies it.
 */
import { principalKey } from '../access/permissions.ts';

export interface HardeningOptions {
  /** Requests per minute per client (user / API key when authenticated, else IP); 0 = off. */
  rateLimitPerMin: number;
  /** Failed logins and refused credentials per minute per IP; 0 = off. */
  rateLimitLoginPerMin: number;
  /** Strict-Transport-Security max-age; 0 = no header (not served over TLS). */
  hstsMaxAgeS: number;
  /** Keyed per IP instead of per principal when every caller is the same local admin (AUTH_MODE=off). */
  authEnabled?: boolean;
}

export const HARDENING_DEFAULTS: Readonly<HardeningOptions> = Object.freeze({ rateLimitPerMin: 120_000, rateLimitLoginPerMin: 20, hstsMaxAgeS: 0, authEnabled: true });

/** Longest accepted request target (path + query); longer → 414. Node refuses headers over 16 KiB itself (431). */
export const MAX_URL_LENGTH = 8192;

/** Routes that are never rate limited: load balancers and monitors poll them. */
export const RATE_LIMIT_EXEMPT = new Set(['/health']);

/** The rate-limit bucket of a request: its principal when authenticated, else its IP. */
export function rateLimitKey(input: { principal: { kind: string; id: string } | null; ip: string; authEnabled: boolean }): string {
  if (input.authEnabled && input.principal) return principalKey(input.principal);
  return `ip:${input.ip}`;
}

/** Did this response refuse a credential (a failed login, or a bad/expired token or key)? Anonymous 401s are not guesses. */
export function isFailedCredential(input: { method: string; route: string | undefined; status: number; hasCredential: boolean }): boolean {
  if (input.status !== 401) return false;
  if (input.method === 'POST' && input.route === '/auth/login') return true;
  return input.hasCredential;
}

/** Does this request carry a credential (or try to log in), i.e. is it subject to the failed-credential limit? */
export const triesCredential = (input: { method: string; url: string; hasCredential: boolean }): boolean =>
  input.hasCredential || (input.method === 'POST' && input.url.split('?')[0] === '/auth/login');

/** The Swagger UI (HTML, scripts, styles) lives here; everything else is JSON or files. */
export const isDocsUi = (url: string): boolean => url === '/docs' || url.startsWith('/docs/') || url.startsWith('/docs?');

/** Headers every response gets (existing Cache-Control set by a route is kept by the caller). */
export function securityHeaders(input: { url: string; hstsMaxAgeS: number }): Record<string, string> {
  const docs = isDocsUi(input.url);
  const h: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
  };
  // the Swagger UI needs its own scripts, styles and inline images; API responses need nothing
  if (!docs) {
    h['content-security-policy'] = "default-src 'none'; frame-ancestors 'none'";
    h['cache-control'] = 'no-store';
  } else {
    h['content-security-policy'] = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'";
  }
  if (input.hstsMaxAgeS > 0) h['strict-transport-security'] = `max-age=${input.hstsMaxAgeS}; includeSubDomains`;
  return h;
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'timeout',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  431: 'headers_too_large',
};

/** Public `code` of a 4xx error that is not an AppError: framework codes (FST_…) become stable names. */
export function clientErrorCode(status: number, code: string | undefined): string {
  if (code && !code.startsWith('FST_') && /^[a-z][a-z_]{1,40}$/.test(code)) return code;
  return CODE_BY_STATUS[status] ?? 'bad_request';
}

/**
 * The first value in parsed input that no field of this API takes and the database refuses:
 * non-finite numbers (JSON `1e400` parses to Infinity; query coercion turns "Infinity" into a
 * number, and the schema validator lets both through) and strings with U+0000 (PostgreSQL text
 * cannot hold it). Raw bodies (Buffers: uploads, CSV) are not inspected.
 */
export function findUnstorable(value: unknown, path = '', depth = 0): { path: string; problem: string } | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path: path || '/', problem: 'must be a finite number' };
  if (typeof value === 'string') return value.includes('\u0000') ? { path: path || '/', problem: 'must not contain NUL (U+0000) characters' } : undefined;
  if (value === null || typeof value !== 'object' || depth > 64 || Buffer.isBuffer(value)) return undefined;
  for (const [k, v] of Object.entries(value)) {
    if (k.includes('\u0000')) return { path: `${path}/${k.replaceAll('\u0000', '\\0')}`, problem: 'names must not contain NUL (U+0000) characters' };
    const found = findUnstorable(v, `${path}/${k}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}
