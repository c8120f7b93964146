/**
 * Device credentials: create (secret shown once), list, revoke, and authenticate for the broker.
 * Successful verifications are cached briefly (keyed by a hash of the secret) so reconnect storms
 * do not cost one scrypt each; revocation in this process drops the cache at once (and, through
 * `onRevoked`, in the ingest thread beside it), in other processes within CACHE_MS.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../platform/clock.ts';
import type { Db, Prisma } from '../platform/db/database.ts';
import { AppError, isRecordNotFound, notFound } from '../platform/errors.ts';
import { hashSecret, newSecret, verifySecret, type DeviceScope } from './device-auth.ts';

const CACHE_MS = 60_000;

const credentialSelect = {
  id: true,
  username: true,
  assetId: true,
  siteId: true,
  createdAt: true,
  revokedAt: true,
  lastUsedAt: true,
} satisfies Prisma.DeviceCredentialSelect;

export function createDeviceCredentialService(deps: { prisma: Db; clock: Clock; onRevoked?: (username: string) => void }) {
  const { prisma, clock } = deps;
  const verified = new Map<string, { scope: DeviceScope; until: number }>();
  const cacheKey = (username: string, secret: string): string => `${username}\u0000${createHash('sha256').update(secret).digest('base64')}`;
  /** Drops the cached verifications of `username`. */
  const forget = (username: string): void => {
    for (const k of verified.keys()) if (k.startsWith(`${username}\u0000`)) verified.delete(k);
  };

  return {
    /** Scope: exactly one of assetId (one device) or siteId (a gateway for the site). */
    async create(input: { assetId?: string; siteId?: string; username?: string | undefined }) {
      if (!!input.assetId === !!input.siteId) throw new AppError('validation', 'a credential is for exactly one asset or one site');
      let username = input.username;
      if (!username) {
        const code = input.assetId
          ? (await prisma.asset.findUnique({ where: { id: input.assetId }, select: { code: true } }))?.code
          : (await prisma.site.findUnique({ where: { id: input.siteId! }, select: { code: true } }))?.code;
        if (!code) throw notFound(input.assetId ? 'Asset' : 'Site', (input.assetId ?? input.siteId)!);
        username = `${input.assetId ? 'dev' : 'gw'}-${code}-${newSecret().slice(0, 6)}`;
      }
      const password = newSecret();
      try {
        const row = await prisma.deviceCredential.create({
          data: { username, secretHash: await hashSecret(password), assetId: input.assetId ?? null, siteId: input.siteId ?? null },
          select: credentialSelect,
        });
        return { ...row, password };
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'P2002') throw new AppError('conflict', `username ${username} is already used`, { username });
        if (code === 'P2003') throw new AppError('validation', `${input.assetId ? 'asset' : 'site'} does not exist`);
        throw err;
      }
    },

    /** Replaces the secret of an existing credential (or creates it): used by the demo seed. */
    async upsertForSite(siteId: string, username: string) {
      const password = newSecret();
      const secretHash = await hashSecret(password);
      await prisma.deviceCredential.upsert({ where: { username }, create: { username, secretHash, siteId }, update: { secretHash, revokedAt: null } });
      forget(username);
      deps.onRevoked?.(username); // the old secret no longer holds
      return { username, password };
    },

    forget,

    list(f: { assetId?: string | undefined; siteId?: string | undefined }) {
      return prisma.deviceCredential.findMany({
        where: { ...(f.assetId ? { assetId: f.assetId } : {}), ...(f.siteId ? { siteId: f.siteId } : {}) },
        select: credentialSelect,
        orderBy: { createdAt: 'asc' },
      });
    },

    async revoke(id: string) {
      try {
        const row = await prisma.deviceCredential.update({ where: { id }, data: { revokedAt: clock.now() }, select: credentialSelect });
        forget(row.username);
        deps.onRevoked?.(row.username);
        return row;
      } catch (err) {
        if (isRecordNotFound(err)) throw notFound('Credential', id);
        throw err;
      }
    },

    /** The device's scope, or null for unknown/revoked usernames and wrong secrets. */
    async authenticate(username: string | undefined, secret: string | undefined): Promise<DeviceScope | null> {
      if (!username || !secret) return null;
      const key = cacheKey(username, secret);
      const hit = verified.get(key);
      const now = clock.now().getTime();
      if (hit && hit.until > now) return hit.scope;
      const row = await prisma.deviceCredential.findUnique({
        where: { username },
        select: { id: true, secretHash: true, revokedAt: true, asset: { select: { code: true, site: { select: { code: true } } } }, site: { select: { code: true } } },
      });
      if (!row || row.revokedAt || !(await verifySecret(secret, row.secretHash))) return null;
      const site = row.asset?.site.code ?? row.site?.code;
      if (!site) return null;
      const scope: DeviceScope = { credentialId: row.id, username, site, asset: row.asset?.code };
      verified.set(key, { scope, until: now + CACHE_MS });
      void prisma.deviceCredential.update({ where: { id: row.id }, data: { lastUsedAt: clock.now() } }).catch(() => {});
      return scope;
    },
  };
}

export type DeviceCredentialService = ReturnType<typeof createDeviceCredentialService>;
