/**
 * Parts on work orders on real PostgreSQL: reservations never over-commit under concurrency from two
 * instances (separate pools), issues cannot take reserved stock, completion consumes reservations in
 * the completing transaction (ledger rows linked to the order, one purchase request at the safety-
 * stock crossing) or fails as a whole, cancel releases, parts used/returned ad hoc, and PM orders
 * reserve their plan's parts at creation (or raise one purchase request for the shortage).
 *
 * Transitions run through a work-order service built here on the test database with only the
 * inventory hooks (other modules' completion rules are not under test); the cancel test goes through
 * the API to check the platform's wiring.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInventoryService, type InventoryService } from '../../maintenance/inventory.ts';
import { createWorkOrderService, type WorkOrderService } from '../../maintenance/work-orders.ts';
import { systemClock } from '../../platform/clock.ts';
import { openDatabase, type Database } from '../../platform/db/database.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const logger = pino({ level: 'silent' });

interface Err {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}
interface Reservation {
  id: string;
  workOrderId: string;
  partId: string;
  warehouseId: string;
  partCode: string;
  quantity: number;
  usedQuantity: number;
  status: string;
  closedAt: string | null;
}
interface Stock {
  quantity: number;
  reserved: number;
  available: number;
}
interface Movement {
  kind: string;
  quantity: number;
  balanceAfter: number;
  workOrderId: string | null;
  unitCost: number | null;
}

describe.skipIf(reason)(`work-order parts on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let second: Database;
  let drop: () => Promise<void>;
  let base: string;
  let A: InventoryService;
  let B: InventoryService;
  let woA: WorkOrderService;
  let woB: WorkOrderService;
  let siteId = '';
  let assetId = '';
  let engineerId = '';
  let central = '';
  let store = '';
  let n = 0;

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    drop = db.drop;
    platform = await startTestPlatform({ DATABASE_URL: db.url, ROLES: 'api' });
    base = platform.apiUrl!;
    second = await openDatabase({ databaseUrl: db.url, dataDir: '', logger });
    A = createInventoryService({ prisma: platform.db.prisma, clock: systemClock, logger });
    B = createInventoryService({ prisma: second.prisma, clock: systemClock, logger });
    woA = createWorkOrderService({ prisma: platform.db.prisma, clock: systemClock, logger, hooks: A.workOrderHooks });
    woB = createWorkOrderService({ prisma: second.prisma, clock: systemClock, logger, hooks: B.workOrderHooks });
    const prisma = platform.db.prisma;
    siteId = (await prisma.site.create({ data: { code: 'RS-1', name: 'Plant 1' } })).id;
    assetId = (await prisma.asset.create({ data: { code: 'PUMP-1', name: 'Pump', type: 'pump', siteId } })).id;
    engineerId = (await prisma.engineer.create({ data: { code: 'ENG-R1', name: 'Engineer' } })).id;
    central = (await api<{ id: string }>(base, 'POST', '/warehouses', { code: 'R-CENTRAL', name: 'Central', kind: 'central' })).body.id;
    store = (await api<{ id: string }>(base, 'POST', '/warehouses', { code: 'R-SITE-1', name: 'Plant 1 store', kind: 'site', siteId })).body.id;
  });

  afterAll(async () => {
    await second?.close();
    await platform?.cleanup();
    await drop?.();
  });

  const newPart = async (extra: Record<string, unknown> = {}): Promise<string> => {
    const r = await api<{ id: string }>(base, 'POST', '/parts', { code: `RP-${++n}`, name: `part ${n}`, ...extra });
    expect(r.status).toBe(201);
    return r.body.id;
  };
  const receive = (partId: string, warehouseId: string, quantity: number) => A.move({ kind: 'receipt', partId, warehouseId, quantity });
  const newOrder = async (): Promise<string> => {
    const r = await api<{ id: string; status: string }>(base, 'POST', '/work-orders', { title: `job ${++n}`, assetId });
    expect(r.status).toBe(201);
    return r.body.id;
  };
  const startOrder = async (id: string, wo: WorkOrderService = woA): Promise<void> => {
    await wo.transition(id, { to: 'assigned', assigneeId: engineerId });
    await wo.transition(id, { to: 'accepted' });
    await wo.transition(id, { to: 'in_progress' });
  };
  const reserve = (woId: string, body: Record<string, unknown>) => api<Reservation & Err>(base, 'POST', `/work-orders/${woId}/reservations`, body);
  const stock = async (partId: string, warehouseId: string): Promise<Stock> =>
    (await api<Stock[]>(base, 'GET', `/stock?partId=${partId}&warehouseId=${warehouseId}`)).body[0] ?? { quantity: 0, reserved: 0, available: 0 };
  const orderMovements = (workOrderId: string) => platform.db.prisma.stockMovement.findMany({ where: { workOrderId }, orderBy: { seq: 'asc' } });
  const openPrs = (partId: string) => platform.db.prisma.purchaseRequest.findMany({ where: { partId, status: { in: ['open', 'ordered'] } } });

  it('reserve, list, set used quantity, release; refusals name the figures', async () => {
    const part = await newPart({ unitCost: 4 });
    await receive(part, store, 6);
    const wo = await newOrder();
    const r = await reserve(wo, { partId: part, warehouseId: store, quantity: 4 });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ workOrderId: wo, partId: part, warehouseId: store, quantity: 4, usedQuantity: 4, status: 'reserved', partCode: expect.stringMatching(/^RP-/), closedAt: null });
    expect(await stock(part, store)).toMatchObject({ quantity: 6, reserved: 4, available: 2 });

    const short = await reserve(wo, { partId: part, warehouseId: store, quantity: 3 });
    expect(short.status).toBe(409);
    expect(short.body.message).toBe('insufficient available stock: 2 available (6 on hand, 4 reserved), 3 requested');
    expect(short.body.details).toMatchObject({ available: 2, onHand: 6, reserved: 4, requested: 3 });
    // never stocked here: nothing available
    expect((await reserve(wo, { partId: part, warehouseId: central, quantity: 1 })).body.message).toMatch(/0 available \(0 on hand, 0 reserved\)/);
    expect((await reserve(wo, { partId: part, warehouseId: store, quantity: 0 })).status).toBe(400);
    expect((await reserve(wo, { partId: '00000000-0000-4000-8000-000000000000', warehouseId: store, quantity: 1 })).status).toBe(400);
    expect((await reserve('00000000-0000-4000-8000-000000000000', { partId: part, warehouseId: store, quantity: 1 })).status).toBe(404);

    const tooMuch = await api<Err>(base, 'PUT', `/work-orders/${wo}/reservations/${r.body.id}`, { usedQuantity: 5 });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.message).toMatch(/exceeds the reserved quantity 4/);
    const used = await api<Reservation>(base, 'PUT', `/work-orders/${wo}/reservations/${r.body.id}`, { usedQuantity: 1 });
    expect(used.body).toMatchObject({ usedQuantity: 1, quantity: 4, status: 'reserved' });
    const list = await api<Reservation[]>(base, 'GET', `/work-orders/${wo}/reservations`);
    expect(list.body.map((x) => [x.id, x.usedQuantity])).toEqual([[r.body.id, 1]]);

    const released = await api<Reservation>(base, 'DELETE', `/work-orders/${wo}/reservations/${r.body.id}`);
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({ status: 'released', usedQuantity: 0, closedAt: expect.any(String) });
    expect(await stock(part, store)).toMatchObject({ quantity: 6, reserved: 0, available: 6 });
    expect((await api<Err>(base, 'DELETE', `/work-orders/${wo}/reservations/${r.body.id}`)).status).toBe(409);
    expect((await api<Reservation[]>(base, 'GET', `/work-orders/${wo}/reservations?status=reserved`)).body).toEqual([]);
    // nothing of this touched the ledger
    expect(await platform.db.prisma.stockMovement.count({ where: { partId: part } })).toBe(1);
  });

  it('15 concurrent reservations of 1 against 10 available from two instances: exactly 10 succeed', async () => {
    const part = await newPart();
    await receive(part, store, 10);
    const orders = [await newOrder(), await newOrder(), await newOrder()];
    const results = await Promise.allSettled(Array.from({ length: 15 }, (_, i) => (i % 2 ? A : B).reserve(orders[i % 3]!, { partId: part, warehouseId: store, quantity: 1 })));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    expect(failed).toHaveLength(5);
    expect(failed.every((f) => (f.reason as { kind?: string }).kind === 'conflict')).toBe(true);
    expect(await stock(part, store)).toEqual(expect.objectContaining({ quantity: 10, reserved: 10, available: 0 }));
    expect(await platform.db.prisma.partReservation.count({ where: { partId: part, status: 'reserved' } })).toBe(10);
  });

  it('issues, transfers and adjustments cannot take reserved stock, also under concurrency', async () => {
    const part = await newPart();
    await receive(part, store, 10);
    const wo = await newOrder();
    expect((await reserve(wo, { partId: part, warehouseId: store, quantity: 7 })).status).toBe(201);
    const issue = await api<Err>(base, 'POST', '/stock/movements', { kind: 'issue', partId: part, warehouseId: store, quantity: 4 });
    expect(issue.status).toBe(409);
    expect(issue.body.message).toBe('insufficient stock: 3 available (10 on hand, 7 reserved), 4 requested');
    expect(issue.body.details).toMatchObject({ available: 3, onHand: 10, reserved: 7, requested: 4 });
    expect((await api<Err>(base, 'POST', '/stock/movements', { kind: 'transfer', partId: part, warehouseId: store, toWarehouseId: central, quantity: 4 })).status).toBe(409);
    expect((await api<Err>(base, 'POST', '/stock/movements', { kind: 'adjustment', partId: part, warehouseId: store, quantity: -4 })).status).toBe(409);
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 ? A : B).move({ kind: 'issue', partId: part, warehouseId: store, quantity: 1 })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(await stock(part, store)).toMatchObject({ quantity: 7, reserved: 7, available: 0 });
    // an increase is always fine
    expect((await api(base, 'POST', '/stock/movements', { kind: 'adjustment', partId: part, warehouseId: store, quantity: 2 })).status).toBe(201);
    expect(await stock(part, store)).toMatchObject({ quantity: 9, reserved: 7, available: 2 });
  });

  it('completion consumes reservations (used quantity, rest released) in the completing transaction; one purchase request at the crossing', async () => {
    const filter = await newPart({ unitCost: 12.5, safetyStock: 5, reorderQuantity: 20 });
    const gasket = await newPart({ unitCost: 0.4 });
    await receive(filter, store, 12);
    await receive(gasket, central, 5);
    const wo1 = await newOrder();
    const r1 = (await reserve(wo1, { partId: filter, warehouseId: store, quantity: 4 })).body;
    expect((await reserve(wo1, { partId: gasket, warehouseId: central, quantity: 2 })).status).toBe(201);
    await api(base, 'PUT', `/work-orders/${wo1}/reservations/${r1.id}`, { usedQuantity: 3 });
    await startOrder(wo1);
    const done = await woA.transition(wo1, { to: 'completed', actor: 'eng' });
    expect(done.status).toBe('completed');

    const moves = await orderMovements(wo1);
    expect(moves.map((m) => [m.partId, m.kind, m.quantity, m.balanceAfter, m.workOrderId, Number(m.unitCost)])).toEqual(
      expect.arrayContaining([
        [filter, 'issue', -3, 9, wo1, 12.5],
        [gasket, 'issue', -2, 3, wo1, 0.4],
      ]),
    );
    expect(moves).toHaveLength(2);
    expect(await stock(filter, store)).toMatchObject({ quantity: 9, reserved: 0, available: 9 });
    expect(await stock(gasket, central)).toMatchObject({ quantity: 3, reserved: 0 });
    const after = (await api<Reservation[]>(base, 'GET', `/work-orders/${wo1}/reservations`)).body;
    expect(after.map((r) => [r.partId, r.status, r.usedQuantity]).sort()).toEqual([
      [filter, 'consumed', 3],
      [gasket, 'consumed', 2],
    ].sort());
    expect(await openPrs(filter)).toHaveLength(0); // 9 > safety stock 5
    const parts = await api<{ items: { partId: string; quantity: number; unitCost: number | null; value: number }[]; totalValue: number }>(base, 'GET', `/work-orders/${wo1}/parts`);
    expect(parts.body.items.find((i) => i.partId === filter)).toMatchObject({ quantity: 3, unitCost: 12.5, value: 37.5 });
    expect(parts.body.totalValue).toBe(38.3);
    // no reservations on a completed order
    const late = await reserve(wo1, { partId: filter, warehouseId: store, quantity: 1 });
    expect(late.status).toBe(409);
    expect(late.body.message).toMatch(/completed/);

    // two orders complete concurrently (two instances): 9 → 4 → 0, both at or below 5, one request
    const wo2 = await newOrder();
    const wo3 = await newOrder();
    expect((await reserve(wo2, { partId: filter, warehouseId: store, quantity: 5 })).status).toBe(201);
    expect((await reserve(wo3, { partId: filter, warehouseId: store, quantity: 4 })).status).toBe(201);
    await startOrder(wo2);
    await startOrder(wo3, woB);
    const both = await Promise.allSettled([woA.transition(wo2, { to: 'completed' }), woB.transition(wo3, { to: 'completed' })]);
    expect(both.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(await stock(filter, store)).toMatchObject({ quantity: 0, reserved: 0, available: 0 });
    const prs = await openPrs(filter);
    expect(prs).toHaveLength(1);
    expect(prs[0]).toMatchObject({ status: 'open', quantity: 20, warehouseId: store });
  });

  it('a completion whose consumption cannot happen fails as a whole: the order stays in_progress, nothing is issued', async () => {
    const a = await newPart();
    const b = await newPart();
    await receive(a, store, 5);
    await receive(b, store, 5);
    const wo = await newOrder();
    await reserve(wo, { partId: a, warehouseId: store, quantity: 2 });
    await reserve(wo, { partId: b, warehouseId: store, quantity: 2 });
    await startOrder(wo);
    // the reserved quantity of b disappears behind the service's back (e.g. a manual database fix)
    await platform.db.prisma.stock.update({ where: { partId_warehouseId: { partId: b, warehouseId: store } }, data: { reserved: 0 } });
    const err = await woA.transition(wo, { to: 'completed' }).catch((e: unknown) => e as { kind: string; message: string });
    expect(err).toMatchObject({ kind: 'conflict', message: expect.stringMatching(/cannot consume the reservation of 2 × RP-\d+: .* the work order stays in_progress/) });
    const order = await api<{ status: string }>(base, 'GET', `/work-orders/${wo}`);
    expect(order.body.status).toBe('in_progress');
    expect(await orderMovements(wo)).toHaveLength(0);
    expect(await stock(a, store)).toMatchObject({ quantity: 5, reserved: 2 });
    expect(await stock(b, store)).toMatchObject({ quantity: 5, reserved: 0 });
    expect(await platform.db.prisma.partReservation.count({ where: { workOrderId: wo, status: 'reserved' } })).toBe(2);
  });

  it('cancelling an order (through the API) releases its reservations', async () => {
    const part = await newPart();
    await receive(part, store, 5);
    const wo = await newOrder();
    await reserve(wo, { partId: part, warehouseId: store, quantity: 3 });
    await reserve(wo, { partId: part, warehouseId: store, quantity: 1 });
    expect(await stock(part, store)).toMatchObject({ reserved: 4, available: 1 });
    const cancelled = await api<{ status: string }>(base, 'POST', `/work-orders/${wo}/transitions`, { to: 'cancelled' });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(await stock(part, store)).toMatchObject({ quantity: 5, reserved: 0, available: 5 });
    const rs = (await api<Reservation[]>(base, 'GET', `/work-orders/${wo}/reservations`)).body;
    expect(rs.map((r) => r.status)).toEqual(['released', 'released']);
    expect((await reserve(wo, { partId: part, warehouseId: store, quantity: 1 })).status).toBe(409);
    expect((await api(base, 'POST', `/work-orders/${wo}/parts-used`, { partId: part, warehouseId: store, quantity: 1 })).status).toBe(409);
  });

  it('parts used and returned ad hoc are ledger rows linked to the order; returns are capped; closed orders refuse', async () => {
    const part = await newPart({ unitCost: 7.25 });
    await receive(part, store, 10);
    const wo = await newOrder();
    await startOrder(wo);
    const used = await api<{ movements: Movement[] }>(base, 'POST', `/work-orders/${wo}/parts-used`, { partId: part, warehouseId: store, quantity: 3, actor: 'eng' });
    expect(used.status).toBe(201);
    expect(used.body.movements[0]).toMatchObject({ kind: 'issue', quantity: -3, balanceAfter: 7, workOrderId: wo, unitCost: 7.25 });
    // the catalogue cost changes after the issue: the return is still credited at the cost the order was charged
    await platform.db.prisma.part.update({ where: { id: part }, data: { unitCost: 9.9 } });
    const returned = await api<{ movements: Movement[] }>(base, 'POST', `/work-orders/${wo}/parts-returned`, { partId: part, warehouseId: store, quantity: 1 });
    expect(returned.status).toBe(201);
    expect(returned.body.movements[0]).toMatchObject({ kind: 'return', quantity: 1, balanceAfter: 8, workOrderId: wo, unitCost: 7.25 });
    const over = await api<Err>(base, 'POST', `/work-orders/${wo}/parts-returned`, { partId: part, warehouseId: store, quantity: 3 });
    expect(over.status).toBe(400);
    expect(over.body.message).toBe('cannot return 3: the work order consumed 2 of this part');
    const parts = await api<{ items: { issued: number; returned: number; quantity: number; unitCost: number; value: number }[]; totalValue: number }>(base, 'GET', `/work-orders/${wo}/parts`);
    expect(parts.body.items).toEqual([expect.objectContaining({ issued: 3, returned: 1, quantity: 2, unitCost: 7.25, value: 14.5 })]);
    expect(parts.body.totalValue).toBe(14.5);
    // still possible once completed (recorded afterwards), not once closed
    await woA.transition(wo, { to: 'completed' });
    expect((await api(base, 'POST', `/work-orders/${wo}/parts-used`, { partId: part, warehouseId: store, quantity: 1 })).status).toBe(201);
    await woA.transition(wo, { to: 'closed' });
    const closed = await api<Err>(base, 'POST', `/work-orders/${wo}/parts-used`, { partId: part, warehouseId: store, quantity: 1 });
    expect(closed.status).toBe(409);
    expect(closed.body.message).toMatch(/closed/);
    expect((await api(base, 'GET', '/work-orders/00000000-0000-4000-8000-000000000000/parts')).status).toBe(404);
  });

  it('a PM order reserves its plan\'s parts at the asset\'s site store at creation; a shortage raises one purchase request and does not block creation', async () => {
    const prisma = platform.db.prisma;
    const belt = await newPart({ reorderQuantity: 0 });
    const oil = await newPart({ safetyStock: 2, reorderQuantity: 10 });
    await receive(belt, store, 3);
    await receive(oil, store, 1);
    await receive(oil, central, 100); // not used: the site has its own store
    const plan = await prisma.pmPlan.create({ data: { name: 'Quarterly', assetId, trigger: 'calendar', intervalCount: 3, intervalUnit: 'month' } });
    await prisma.pmPlanPart.createMany({ data: [{ planId: plan.id, partId: belt, quantity: 2 }, { planId: plan.id, partId: oil, quantity: 5 }] });
    const request = (k: string) =>
      woA.requestFromCause({ dedupeKey: `pm:${plan.id}:${k}`, openKey: `pm:${plan.id}:${k}`, source: 'pm', title: 'Quarterly PM', priority: 'medium', assetId, pmPlanId: plan.id, reason: {}, requestedAt: new Date() });

    const first = await request('q1');
    expect(first.created).toBe(true);
    const rs = (await api<Reservation[]>(base, 'GET', `/work-orders/${first.workOrder.id}/reservations`)).body;
    expect(rs.map((r) => [r.partId, r.warehouseId, r.quantity, r.status])).toEqual([[belt, store, 2, 'reserved']]);
    expect(await stock(belt, store)).toMatchObject({ quantity: 3, reserved: 2, available: 1 });
    expect(await stock(oil, store)).toMatchObject({ quantity: 1, reserved: 0 });
    expect(await stock(oil, central)).toMatchObject({ reserved: 0 });
    let prs = await openPrs(oil);
    expect(prs).toHaveLength(1);
    expect(prs[0]).toMatchObject({ warehouseId: store, quantity: 10, reason: expect.objectContaining({ trigger: 'pm_shortage', required: 5, available: 1 }) });

    // the next PM order: belt now short too (1 available), oil's request is still open → not repeated
    const second = await request('q2');
    expect(second.created).toBe(true);
    expect((await api<Reservation[]>(base, 'GET', `/work-orders/${second.workOrder.id}/reservations`)).body).toEqual([]);
    prs = await openPrs(oil);
    expect(prs).toHaveLength(1);
    const beltPrs = await openPrs(belt);
    expect(beltPrs).toHaveLength(1);
    expect(beltPrs[0]).toMatchObject({ quantity: 1, reason: expect.objectContaining({ trigger: 'pm_shortage', required: 2, available: 1 }) });

    // an asset at a site without a store reserves from the central store
    const otherSite = (await prisma.site.create({ data: { code: 'RS-2', name: 'Plant 2' } })).id;
    const otherAsset = (await prisma.asset.create({ data: { code: 'PUMP-2', name: 'Pump 2', type: 'pump', siteId: otherSite } })).id;
    const plan2 = await prisma.pmPlan.create({ data: { name: 'Oil change', assetId: otherAsset, trigger: 'calendar', intervalCount: 1, intervalUnit: 'month' } });
    await prisma.pmPlanPart.create({ data: { planId: plan2.id, partId: oil, quantity: 4 } });
    const third = await woA.requestFromCause({ dedupeKey: `pm:${plan2.id}:1`, openKey: `pm:${plan2.id}`, source: 'pm', title: 'Oil change', priority: 'low', assetId: otherAsset, pmPlanId: plan2.id, reason: {}, requestedAt: new Date() });
    const rs3 = (await api<Reservation[]>(base, 'GET', `/work-orders/${third.workOrder.id}/reservations`)).body;
    expect(rs3.map((r) => [r.warehouseId, r.quantity])).toEqual([[central, 4]]);
    // a manual order reserves nothing by itself
    const manual = await newOrder();
    expect((await api<Reservation[]>(base, 'GET', `/work-orders/${manual}/reservations`)).body).toEqual([]);
  });
});
