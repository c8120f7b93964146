/**
 * Device authentication and topic ACLs for the embedded broker.
 * Secrets are scrypt-hashed (`scrypt$N$r$p$salt$hash`); scope checks are pure functions.
 *   asset scope: may publish only plant/{its site}/{its asset}/(telemetry|alarm|status)
 *   site scope (gateway): may publish for any asset of its site
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (secret: string, salt: Buffer, len: number, opts: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scryptCb(secret, salt, len, opts, (err, key) => (err ? reject(err) : resolve(key))));

const PARAMS = { N: 16384, r: 8, p: 1 } as const;

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, 32, PARAMS);
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(secret, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A new random secret (shown to the user once). */
export const newSecret = (): string => randomBytes(24).toString('base64url');

export interface DeviceScope {
  credentialId: string;
  username: string;
  site: string;
  /** undefined = gateway for the whole site */
  asset: string | undefined;
}

const PUBLISHABLE = new Set(['telemetry', 'alarm', 'status']);

export function mayPublish(scope: DeviceScope, topic: string): { ok: true } | { ok: false; reason: string } {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'plant' || !PUBLISHABLE.has(parts[3] ?? '')) {
    return { ok: false, reason: `devices may only publish plant/{site}/{asset}/telemetry|alarm|status, not ${topic}` };
  }
  if (parts[1] !== scope.site) return { ok: false, reason: `${scope.username} may not publish for site ${parts[1]}` };
  if (scope.asset !== undefined && parts[2] !== scope.asset) return { ok: false, reason: `${scope.username} may not publish for asset ${parts[2]}` };
  return { ok: true };
}

/** Devices may subscribe only inside their own subtree (e.g. commands later); no wildcards across assets. */
export function maySubscribe(scope: DeviceScope, filter: string): boolean {
  const parts = filter.split('/');
  if (parts[0] !== 'plant' || parts[1] !== scope.site) return false;
  if (scope.asset === undefined) return parts.length >= 3;
  return parts[2] === scope.asset;
}
