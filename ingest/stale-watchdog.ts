/**
 * Stale-data watchdog: an in-service asset that has reported before but sent nothing for
 * `staleAfterMs` gets one active "STALE" alarm; it clears by itself when data flows again.
 */
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';

export interface StaleAlarms {
  raise(a: { activeKey: string; assetId: string; source: 'device'; code: string; severity: 'warning'; message: string; raisedAt: Date }): Promise<unknown>;
  clear(activeKey: string, at: Date): Promise<unknown>;
}

export const STALE_CODE = 'STALE';
export const staleKey = (assetId: string): string => `stale:${assetId}`;

export function createStaleWatchdog(deps: { prisma: Db; alarms: StaleAlarms; clock: Clock; logger: Logger; staleAfterMs: number; intervalMs: number }) {
  const log = deps.logger.child({ module: 'stale-watchdog' });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function check(): Promise<{ raised: number; cleared: number }> {
    const now = deps.clock.now();
    const cutoff = new Date(now.getTime() - deps.staleAfterMs);
    const stale = await deps.prisma.asset.findMany({
      where: { status: 'in_service', lastSeenAt: { lt: cutoff }, alarms: { none: { activeKey: { startsWith: 'stale:' } } } },
      select: { id: true, code: true, lastSeenAt: true },
      take: 1000,
    });
    for (const a of stale) {
      const silentS = Math.round((now.getTime() - a.lastSeenAt!.getTime()) / 1000);
      await deps.alarms.raise({ activeKey: staleKey(a.id), assetId: a.id, source: 'device', code: STALE_CODE, severity: 'warning', message: `no data for ${silentS} s`, raisedAt: now });
    }
    const recovered = await deps.prisma.alarm.findMany({
      where: { activeKey: { startsWith: 'stale:' }, asset: { lastSeenAt: { gte: cutoff } } },
      select: { activeKey: true },
    });
    for (const r of recovered) if (r.activeKey) await deps.alarms.clear(r.activeKey, now);
    if (stale.length || recovered.length) log.info({ raised: stale.length, cleared: recovered.length }, 'stale-data check');
    return { raised: stale.length, cleared: recovered.length };
  }

  return {
    check,
    start(): void {
      timer = setInterval(() => {
        running ??= check()
          .then(() => undefined)
          .catch((err) => log.warn({ err: (err as Error).message }, 'stale-data check failed'))
          .finally(() => {
            running = undefined;
          });
      }, deps.intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
