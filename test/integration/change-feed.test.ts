/**
 * Change notifications on real PostgreSQL (migration 20261127090000 + platform/db/change-feed.ts):
 * what the triggers send for each kind of write, and the read-your-writes hold — a writer stays
 * `dirty` until this instance has received the notifications of what it wrote.
 */
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../platform/db/database.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { eventually } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');

describe.skipIf(reason)(`change notifications on PostgreSQL ${reason ?? ''}`, () => {
  let db: Database;
  let drop: () => Promise<void>;
  let spy: pg.Client;
  let heard: string[] = [];
  let siteId = '';
  let assetIds: string[] = [];

  /** What the triggers send for `write`, once everything it caused has arrived. */
  const sent = async (write: () => Promise<unknown>): Promise<string[]> => {
    heard = [];
    await write();
    const marker = `marker-${Math.random()}`;
    await spy.query('SELECT pg_notify($1, $2)', ['om_change', marker]);
    await eventually(async () => heard.includes(marker), 5_000, 5);
    return heard.filter((p) => p !== marker && !p.startsWith('sync:'));
  };

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    db = await openDatabase({ databaseUrl: t.url, dataDir: '', logger: pino({ level: 'silent' }) });
    spy = new pg.Client({ connectionString: t.url });
    await spy.connect();
    spy.on('notification', (n) => heard.push(n.payload ?? ''));
    await spy.query('LISTEN om_change');
    const site = await db.prisma.site.create({ data: { code: 'CF', name: 'Change feed' } });
    siteId = site.id;
    await db.prisma.asset.createMany({ data: Array.from({ length: 120 }, (_, i) => ({ code: `CF-${i}`, name: `Asset ${i}`, type: 'pump', siteId })) });
    assetIds = (await db.prisma.asset.findMany({ select: { id: true }, orderBy: { code: 'asc' } })).map((a) => a.id);
    // the setup's own notifications arrive asynchronously: wait them out so no test hears them
    await sent(async () => undefined);
  }, 60_000);

  afterAll(async () => {
    await spy?.end();
    await db?.close();
    await drop?.();
  });

  it('names the rows changed, by the key the cache tracks them under', async () => {
    const [a, b] = assetIds;
    let wo = { id: '' };
    const created = await sent(async () => (wo = await db.prisma.workOrder.create({ data: { title: 'T', source: 'manual', assetId: a! }, select: { id: true } })));
    expect(created).toEqual([`work_orders|${wo.id}`]);
    expect(await sent(() => db.prisma.workOrder.update({ where: { id: wo.id }, data: { title: 'T2' } }))).toEqual([`work_orders|${wo.id}`]);
    // rows that belong to an order are sent under the order's id
    expect(await sent(() => db.prisma.workOrderEvent.create({ data: { workOrderId: wo.id, toStatus: 'open', actor: 'test' } }))).toEqual([`work_order_events|${wo.id}`]);
    expect(await sent(() => db.prisma.alarm.create({ data: { assetId: a!, code: 'X', severity: 'major', message: 'm', source: 'rule', raisedAt: new Date(), workOrderId: wo.id } }))).toEqual([`alarms|${wo.id}`]);
    // … and an alarm without an order as "some rows changed"
    expect(await sent(() => db.prisma.alarm.create({ data: { assetId: b!, code: 'Y', severity: 'minor', message: 'm', source: 'rule', raisedAt: new Date() } }))).toEqual(['alarms|']);
    expect(await sent(() => db.prisma.meter.create({ data: { assetId: a!, name: 'run_hours', value: 1, readAt: new Date() } }))).toEqual([`meters|${a}`]);
    expect(await sent(() => db.prisma.asset.update({ where: { id: b! }, data: { name: 'Renamed' } }))).toEqual([`assets|${b}`]);
  });

  it('sends ingest last-seen updates as asset_activity, bulk changes without keys, and nothing for no-ops and rollbacks', async () => {
    const activity = () => db.prisma.$executeRawUnsafe(`UPDATE assets SET last_seen_at = now() WHERE site_id = $1`, siteId);
    expect(await sent(activity)).toEqual(['asset_activity']);
    // last-seen and something else: an asset change (over 100 rows: no key list)
    expect(await sent(() => spy.query(`UPDATE assets SET last_seen_at = now(), criticality = 'high' WHERE site_id = $1`, [siteId]))).toEqual(['assets']);
    expect(await sent(() => spy.query(`UPDATE assets SET name = name || '!' WHERE id = $1`, [assetIds[0]]))).toEqual([`assets|${assetIds[0]}`]);
    expect(await sent(() => spy.query(`UPDATE work_orders SET title = 'x' WHERE id = '00000000-0000-4000-8000-000000000000'`))).toEqual([]);
    expect(
      await sent(async () => {
        await spy.query('BEGIN');
        await spy.query(`UPDATE assets SET name = 'never' WHERE id = $1`, [assetIds[1]]);
        await spy.query('ROLLBACK');
      }),
    ).toEqual([]);
    // (through sent(): its notification must have arrived before the next write's are collected)
    expect(await sent(() => db.prisma.meter.create({ data: { assetId: assetIds[0]!, name: 'cycles', value: 1, readAt: new Date() } }))).toEqual([`meters|${assetIds[0]}`]);
    expect(await sent(() => spy.query('DELETE FROM meters WHERE asset_id = $1', [assetIds[0]]))).toEqual([`meters|${assetIds[0]}`]);
  });

  it('holds a writer until the notifications of what it wrote have arrived here', async () => {
    const feed = db.changes;
    expect(feed.ready).toBe(true);
    const before = feed.stats().changes.assets ?? 0;
    const release = feed.holdFor('user:p');
    expect(feed.dirty('user:p')).toBe(true);
    expect(feed.dirty('user:q')).toBe(false); // everybody else: when the notification arrives
    await db.prisma.asset.update({ where: { id: assetIds[2]! }, data: { name: 'Held' } });
    release();
    // released only once a message sent after the commit has come back through the listener …
    expect(feed.dirty('user:p')).toBe(true);
    await eventually(async () => !feed.dirty('user:p'), 5_000, 1);
    // … which comes after the write's own notification
    expect(feed.stats().changes.assets ?? 0).toBeGreaterThan(before);
    // two holds: dirty until both are over
    const r1 = feed.holdFor('user:p');
    const r2 = feed.holdFor('user:p');
    r1();
    r1(); // releasing twice counts once
    await new Promise((r) => setTimeout(r, 50));
    expect(feed.dirty('user:p')).toBe(true);
    r2();
    await eventually(async () => !feed.dirty('user:p'), 5_000, 1);
    expect(feed.stats().syncTimeouts).toBe(0);
  });
});
