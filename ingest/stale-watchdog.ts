/**
 * Stale-data watchdog: an in-service asset that has reported before but sent nothing for
 * `staleAfterMs` gets one active "STALE" alarm; it clears by itself when data flows again.
 *
 * "Data flows again" means the asset's last-seen time moved past the one recorded when the alarm was
 * raised (kept in the alarm's details), not that it is within `staleAfterMs` of now at the next check:
 * with last-seen written in batches and checks on an interval, a single reading could otherwise be
 * already stale again when the check sees it, leaving the alarm active for good. If the asset falls
 * silent again, the next check raises a new alarm, so the history shows the gap and the recovery.
 * An asset taken out of service clears its STALE alarm.
 */
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';

export interface StaleAlarms {
  raise(a: {
    activeKey: string;
    assetId: string;
    source: 'device';
    code: string;
    severity: 'warning';
    message: string;
    details: { lastSeenAt: string };
    raisedAt: Date;
  }): Promise<unknown>;
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
      await deps.alarms.raise({
        activeKey: staleKey(a.id),
        assetId: a.id,
        source: 'device',
        code: STALE_CODE,
        severity: 'warning',
        message: `no data for ${silentS} s`,
        details: { lastSeenAt: a.lastSeenAt!.toISOString() },
        raisedAt: now,
      });
    }
    // alarms raised before details.lastSeenAt existed: last-seen then was before raised_at - staleAfter
    const recovered = await deps.prisma.$queryRaw<{ active_key: string }[]>`
      SELECT al.active_key FROM alarms al JOIN assets a ON a.id = al.asset_id
      WHERE al.active_key LIKE 'stale:%'
        AND (a.status <> 'in_service'
             OR a.last_seen_at > COALESCE((al.details->>'lastSeenAt')::timestamptz, al.raised_at - make_interval(secs => ${deps.staleAfterMs / 1000})))`;
    for (const r of recovered) await deps.alarms.clear(r.active_key, now);
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
