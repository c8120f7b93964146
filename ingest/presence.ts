/**
 * Asset connection state: broker sessions of asset-scoped devices (counted, so a reconnect that
 * overlaps the old session does not flap) and statuses devices publish themselves (retained
 * "online", last will "offline"). Written to assets.online / online_changed_at.
 */
import type { Db } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';

export function createPresence(deps: { prisma: Db; logger: Logger }) {
  const log = deps.logger.child({ module: 'presence' });
  const sessions = new Map<string, number>();
  let chain: Promise<unknown> = Promise.resolve();

  function write(assetCode: string, online: boolean, at: Date): void {
    // serialised so the last event wins in the database too
    chain = chain
      .then(() =>
        deps.prisma.$executeRawUnsafe(
          'UPDATE assets SET online = $1, online_changed_at = $2 WHERE code = $3 AND online IS DISTINCT FROM $1',
          online,
          at,
          assetCode,
        ),
      )
      .catch((err) => log.warn({ err: (err as Error).message, asset: assetCode }, 'presence update failed'));
    log.info({ asset: assetCode, online }, 'asset presence');
  }

  return {
    session(assetCode: string, up: boolean, at: Date): void {
      const n = Math.max(0, (sessions.get(assetCode) ?? 0) + (up ? 1 : -1));
      if (n === 0) sessions.delete(assetCode);
      else sessions.set(assetCode, n);
      if ((up && n === 1) || (!up && n === 0)) write(assetCode, up, at);
    },
    reported(assetCode: string, online: boolean, at: Date): void {
      write(assetCode, online, at);
    },
    flush: (): Promise<unknown> => chain,
  };
}

export type Presence = ReturnType<typeof createPresence>;
