/**
 * Session tokens: compact JWS (HS256) signed with a server secret (pure apart from HMAC).
 * Claims: sub (user id), role, iat, exp (seconds), jti; verification checks the signature in
 * constant time, the algorithm and expiry.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export interface SessionClaims {
  sub: string;
  role: string;
  iat: number;
  /** Issue time in ms: sessions are ended by "issued before T", which must not round to seconds. */
  iatMs: number;
  exp: number;
  jti: string;
}

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64url');
const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

export function signSession(claims: { sub: string; role: string }, secret: string, now: Date, ttlSeconds: number): { token: string; claims: SessionClaims } {
  const iat = Math.floor(now.getTime() / 1000);
  const full: SessionClaims = { sub: claims.sub, role: claims.role, iat, iatMs: now.getTime(), exp: iat + ttlSeconds, jti: randomUUID() };
  const body = `${HEADER}.${b64(JSON.stringify(full))}`;
  const sig = createHmac('sha256', secret).update(body).digest('base64url');
  return { token: `${body}.${sig}`, claims: full };
}

export type VerifyResult = { ok: true; claims: SessionClaims } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

export function verifySession(token: string, secret: string, now: Date): VerifyResult {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  const [h, p, s] = parts as [string, string, string];
  if (h !== HEADER) return { ok: false, reason: 'malformed' }; // only our exact header: no alg=none, no key confusion
  const expected = createHmac('sha256', secret).update(`${h}.${p}`).digest();
  let given: Buffer;
  try {
    given = Buffer.from(s, 'base64url');
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  let claims: SessionClaims;
  try {
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as SessionClaims;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number' || typeof claims.iatMs !== 'number' || typeof claims.role !== 'string') return { ok: false, reason: 'malformed' };
  if (Math.floor(now.getTime() / 1000) >= claims.exp) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}
