/**
 * Stale-data watchdog on real PostgreSQL, with a hand-moved clock: one alarm per silence, cleared by
 * any new data even when that data is itself already older than the stale limit at the next check
 * (last-seen is written in batches and checked on an interval), raised anew when silence returns.
 */
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStaleWatchdog, staleKey, STALE_CODE } from '../../ingest/stale-watchdog.ts';
import { createAlarmService } from '../../maintenance/alarms.ts';
import { manualClock } from '../../platform/clock.ts';
import { openDatabase, type Database } from '../../platform/db/database.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const logger = pino({ level: 'silent' });
const t0 = new Date('2026-11-20T08:00:00.000Z');
const at = (s: number): Date => new Date(t0.getTime() + s * 1000);

describe.skipIf(reason)(`stale-data watchdog on PostgreSQL ${reason ?? ''}`, () => {
  let db: Database;
  let drop: () => Promise<void>;
  const clock = manualClock(t0);
  let watchdog: ReturnType<typeof createStaleWatchdog>;
  let siteId = '';

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    db = await openDatabase({ databaseUrl: t.url, dataDir: '', logger });
    siteId = (await db.prisma.site.create({ data: { code: 'S', name: 'S' } })).id;
    const alarms = createAlarmService({ prisma: db.prisma, clock, logger });
    watchdog = createStaleWatchdog({ prisma: db.prisma, alarms, clock, logger, staleAfterMs: 5000, intervalMs: 3_600_000 });
  });

  // the watchdog looks at every asset: each test starts without the previous one's
  afterEach(async () => {
    await db.prisma.asset.deleteMany();
  });

  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  const asset = (code: string, lastSeenAt: Date | null, status: 'in_service' | 'under_repair' = 'in_service') =>
    db.prisma.asset.create({ data: { code, name: code, type: 'pump', siteId, lastSeenAt, status }, select: { id: true } });
  const seen = (id: string, when: Date) => db.prisma.asset.update({ where: { id }, data: { lastSeenAt: when } });
  const staleAlarms = (assetId: string) =>
    db.prisma.alarm.findMany({ where: { assetId, code: STALE_CODE }, orderBy: { raisedAt: 'asc' }, select: { status: true, raisedAt: true, clearedAt: true, details: true, message: true } });

  it('raises once per silence, clears on a single late reading, and raises again when silence returns', async () => {
    const a = await asset('P-1', at(0));
    const never = await asset('P-NEVER', null);
    clock.set(at(10));
    expect(await watchdog.check()).toEqual({ raised: 1, cleared: 0 });
    expect(await watchdog.check()).toEqual({ raised: 0, cleared: 0 });
    expect(await staleAlarms(a.id)).toEqual([
      { status: 'active', raisedAt: at(10), clearedAt: null, details: { lastSeenAt: at(0).toISOString() }, message: 'no data for 10 s' },
    ]);

    // one reading at 11 s, noticed by a check at 30 s: already older than the 5 s limit, still new data
    await seen(a.id, at(11));
    clock.set(at(30));
    expect(await watchdog.check()).toEqual({ raised: 0, cleared: 1 });
    clock.set(at(31));
    expect(await watchdog.check()).toEqual({ raised: 1, cleared: 0 });
    expect(await staleAlarms(a.id)).toEqual([
      { status: 'cleared', raisedAt: at(10), clearedAt: at(30), details: { lastSeenAt: at(0).toISOString() }, message: 'no data for 10 s' },
      { status: 'active', raisedAt: at(31), clearedAt: null, details: { lastSeenAt: at(11).toISOString() }, message: 'no data for 20 s' },
    ]);

    // data that keeps flowing clears it and raises nothing more
    await seen(a.id, at(40));
    clock.set(at(41));
    expect(await watchdog.check()).toEqual({ raised: 0, cleared: 1 });
    expect(await db.prisma.alarm.count({ where: { assetId: a.id, status: 'active' } })).toBe(0);
    // an asset that never reported has nothing to be stale about
    expect(await staleAlarms(never.id)).toEqual([]);
  });

  it('an older reading arriving late does not count as data flowing again', async () => {
    const a = await asset('P-2', at(100));
    clock.set(at(110));
    expect(await watchdog.check()).toEqual({ raised: 1, cleared: 0 });
    // ingest only ever moves last_seen_at forward; a replayed older point leaves it where it was
    await seen(a.id, at(100));
    clock.set(at(120));
    expect(await watchdog.check()).toEqual({ raised: 0, cleared: 0 });
    expect((await staleAlarms(a.id)).map((x) => x.status)).toEqual(['active']);
  });

  it('an asset taken out of service clears its STALE alarm and gets no new one', async () => {
    const a = await asset('P-3', at(200));
    clock.set(at(210));
    expect(await watchdog.check()).toEqual({ raised: 1, cleared: 0 });
    await db.prisma.asset.update({ where: { id: a.id }, data: { status: 'under_repair' } });
    clock.set(at(220));
    expect(await watchdog.check()).toEqual({ raised: 0, cleared: 1 });
    clock.set(at(230));
    expect(await watchdog.check()).toEqual({ raised: 0, cleared: 0 });
    expect((await staleAlarms(a.id)).map((x) => x.status)).toEqual(['cleared']);
  });

  it('an alarm raised before last-seen was recorded in its details clears on data newer than the stale limit at raising', async () => {
    const a = await asset('P-4', at(300));
    await db.prisma.alarm.create({
      data: { activeKey: staleKey(a.id), assetId: a.id, source: 'device', code: STALE_CODE, severity: 'warning', raisedAt: at(310) },
    });
    clock.set(at(320));
    expect(await watchdog.check()).toEqual({ raised: 0, cleared: 0 });
    await seen(a.id, at(306)); // after 310 s - 5 s
    clock.set(at(330));
    expect(await watchdog.check()).toEqual({ raised: 0, cleared: 1 });
  });
});
