/**
 * Exactly-once work orders on real PostgreSQL: two independent workers (own connection pools, own
 * engines and caches) evaluating the same breaches at the same time, repeated requests, and a
 * restarted worker all converge on one order per cause.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlarmService } from '../../maintenance/alarms.ts';
import { createWorkOrderService } from '../../maintenance/work-orders.ts';
import { systemClock } from '../../platform/clock.ts';
import { openDatabase, type Database } from '../../platform/db/database.ts';
import { createRulesEngine, type EngineReading } from '../../rules/engine.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const logger = pino({ level: 'silent' });

function worker(db: Database) {
  const workOrders = createWorkOrderService({ prisma: db.prisma, clock: systemClock, logger });
  const alarms = createAlarmService({ prisma: db.prisma, clock: systemClock, logger });
  const engine = createRulesEngine({
    prisma: db.prisma,
    clock: systemClock,
    logger,
    reloadMs: 3_600_000,
    effects: { requestWorkOrder: (r) => workOrders.requestFromCause(r), raiseAlarm: (a) => alarms.raise(a), clearAlarm: (k, at) => alarms.clear(k, at) },
  });
  return { workOrders, engine };
}

describe.skipIf(reason)(`exactly-once work orders on PostgreSQL ${reason ?? ''}`, () => {
  let dbA: Database;
  let dbB: Database;
  let drop: () => Promise<void>;
  const assets: { id: string; code: string }[] = [];
  let ruleId = '';

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    // two "service instances": separate pools on the same database
    dbA = await openDatabase({ databaseUrl: t.url, dataDir: '', logger });
    dbB = await openDatabase({ databaseUrl: t.url, dataDir: '', logger });
    const site = await dbA.prisma.site.create({ data: { code: 'S', name: 'S' } });
    for (let i = 0; i < 12; i++) {
      assets.push(await dbA.prisma.asset.create({ data: { code: `M-${i}`, name: `M-${i}`, type: 'compressor', siteId: site.id }, select: { id: true, code: true } }));
    }
    const rule = await dbA.prisma.rule.create({
      data: {
        name: 'Hot',
        kind: 'threshold',
        assetType: 'compressor',
        definition: { schemaVersion: 1, metric: 'temperature', operator: '>', value: 85, holdSeconds: 1, hysteresis: 0, severity: 'critical', priority: 'urgent' },
      },
    });
    ruleId = rule.id;
  });

  afterAll(async () => {
    await dbA?.close();
    await dbB?.close();
    await drop?.();
  });

  const breach = (a: { id: string; code: string }, t0: number): EngineReading[] =>
    [0, 1000, 2000].map((dt) => ({ assetId: a.id, assetCode: a.code, assetType: 'compressor', metric: 'temperature', value: 90 + dt / 1000, ts: new Date(t0 + dt) }));

  it('two concurrent workers fed the same breaches create one order (and one alarm) per asset', async () => {
    const A = worker(dbA);
    const B = worker(dbB);
    await Promise.all([A.engine.reload(), B.engine.reload()]);
    const t0 = Date.now() - 60_000;
    const batch = assets.flatMap((a) => breach(a, t0));
    // both workers race on every asset, three times over (redeliveries)
    await Promise.all([A.engine.onReadings(batch), B.engine.onReadings(batch), A.engine.onReadings(batch), B.engine.onReadings(batch)]);
    const orders = await dbA.prisma.workOrder.groupBy({ by: ['assetId'], where: { ruleId }, _count: true });
    expect(orders).toHaveLength(assets.length);
    expect(orders.every((o) => o._count === 1)).toBe(true);
    const alarms = await dbA.prisma.alarm.groupBy({ by: ['assetId'], where: { ruleId, status: 'active' }, _count: true });
    expect(alarms.every((a) => a._count === 1) && alarms.length === assets.length).toBe(true);
    const created = A.engine.stats().workOrdersCreated + B.engine.stats().workOrdersCreated;
    expect(created).toBe(assets.length);
    expect(A.engine.stats().duplicatesSuppressed + B.engine.stats().duplicatesSuppressed).toBeGreaterThanOrEqual(assets.length);
  });

  it('a restarted worker (empty cache, state from the database) does not reopen the episode', async () => {
    const C = worker(dbB);
    await C.engine.reload();
    const t0 = Date.now() - 30_000;
    await C.engine.onReadings(assets.flatMap((a) => breach(a, t0)));
    expect(await dbA.prisma.workOrder.count({ where: { ruleId } })).toBe(assets.length);
    expect(C.engine.stats().workOrdersCreated).toBe(0);
    const persisted = await dbA.prisma.ruleState.findMany({ where: { ruleId } });
    expect(persisted).toHaveLength(assets.length);
    expect(persisted.every((p) => (p.state as { phase: string }).phase === 'active')).toBe(true);
  });

  it('twenty simultaneous requests for one cause yield one order', async () => {
    const A = worker(dbA);
    const B = worker(dbB);
    const req = {
      dedupeKey: 'manual-race-1',
      openKey: `race:${assets[0]!.id}`,
      source: 'pm' as const,
      title: 'race',
      priority: 'low' as const,
      assetId: assets[0]!.id,
      ruleId,
      reason: {},
      requestedAt: new Date(),
    };
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? A : B).workOrders.requestFromCause(req)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.workOrder.id)).size).toBe(1);
    expect(await dbA.prisma.workOrder.count({ where: { dedupeKey: 'manual-race-1' } })).toBe(1);
  });

  it('concurrent transitions of one order: exactly one wins, the other gets a conflict', async () => {
    const A = worker(dbA);
    const B = worker(dbB);
    const wo = await A.workOrders.create({ title: 't', assetId: assets[1]!.id, source: 'manual' });
    const results = await Promise.allSettled([A.workOrders.transition(wo.id, { to: 'cancelled' }), B.workOrders.transition(wo.id, { to: 'cancelled' })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(['conflict', 'illegal_transition']).toContain(failed.reason.kind);
    const events = await dbA.prisma.workOrderEvent.count({ where: { workOrderId: wo.id, toStatus: 'cancelled' } });
    expect(events).toBe(1);
  });
});
