/**
 * Parts inventory on real PostgreSQL: balances derived from the ledger, never negative under
 * concurrent issues from two instances (separate connection pools), exactly one purchase
 * request per part + warehouse while one is open, and the stock reports on a small dated fixture.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInventoryService, type InventoryService } from '../../maintenance/inventory.ts';
import { createPurchasingService } from '../../maintenance/purchasing.ts';
import { manualClock, systemClock } from '../../platform/clock.ts';
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
interface Movement {
  kind: string;
  quantity: number;
  balanceAfter: number;
  warehouseId: string;
  seq: number;
}
interface Stock {
  partId: string;
  warehouseId: string;
  quantity: number;
}
interface PR {
  id: string;
  number: number;
  status: string;
  quantity: number;
  partId: string;
  warehouseId: string;
}

describe.skipIf(reason)(`parts inventory on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let second: Database;
  let drop: () => Promise<void>;
  let base: string;
  let A: InventoryService;
  let B: InventoryService;
  let central = '';
  let van = '';

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    drop = db.drop;
    platform = await startTestPlatform({ DATABASE_URL: db.url, ROLES: 'api' });
    base = platform.apiUrl!;
    // two service instances with their own connection pools on the same database
    second = await openDatabase({ databaseUrl: db.url, dataDir: '', logger });
    A = createInventoryService({ prisma: platform.db.prisma, clock: systemClock, logger });
    B = createInventoryService({ prisma: second.prisma, clock: systemClock, logger });
    central = (await api<{ id: string }>(base, 'POST', '/warehouses', { code: 'CENTRAL', name: 'Central store', kind: 'central' })).body.id;
    const v = await api<{ id: string; kind: string }>(base, 'POST', '/warehouses', { code: 'VAN-07', name: 'Van of engineer 7', kind: 'van' });
    expect(v.body.kind).toBe('van');
    van = v.body.id;
  });

  afterAll(async () => {
    await second?.close();
    await platform?.cleanup();
    await drop?.();
  });

  const newPart = async (code: string, extra: Record<string, unknown> = {}): Promise<string> => {
    const r = await api<{ id: string }>(base, 'POST', '/parts', { code, name: code, ...extra });
    expect(r.status).toBe(201);
    return r.body.id;
  };
  const move = (body: Record<string, unknown>) => api<{ movements: Movement[]; purchaseRequested: boolean } & Err>(base, 'POST', '/stock/movements', body);
  const balance = async (partId: string, warehouseId: string): Promise<number> =>
    (await api<Stock[]>(base, 'GET', `/stock?partId=${partId}&warehouseId=${warehouseId}`)).body[0]?.quantity ?? 0;
  const prs = async (partId: string, status?: string) =>
    (await api<{ items: PR[] }>(base, 'GET', `/purchase-requests?partId=${partId}${status ? `&status=${status}` : ''}`)).body.items;

  /** Every ledger row's balanceAfter = previous balanceAfter + quantity, and the last one = the stock row. */
  async function expectLedgerConsistent(partId: string, warehouseId: string): Promise<void> {
    const rows = await platform.db.prisma.stockMovement.findMany({ where: { partId, warehouseId }, orderBy: { seq: 'asc' } });
    let running = 0;
    for (const r of rows) {
      running += r.quantity;
      expect(r.balanceAfter).toBe(running);
      expect(r.balanceAfter).toBeGreaterThanOrEqual(0);
    }
    expect(await balance(partId, warehouseId)).toBe(running);
  }

  it('catalogue: create, list, duplicate code → 409, bad input → 400', async () => {
    const id = await newPart('BRG-6204', { name: 'Bearing 6204', unitCost: 12.5, safetyStock: 0 });
    const list = await api<{ items: { id: string; unitCost: number | null; unit: string }[]; total: number }>(base, 'GET', '/parts?code=BRG-6204');
    expect(list.body.total).toBe(1);
    expect(list.body.items[0]).toMatchObject({ id, unitCost: 12.5, unit: 'pcs' });
    expect((await api<Err>(base, 'POST', '/parts', { code: 'BRG-6204', name: 'again' })).status).toBe(409);
    const bad = await api<Err>(base, 'POST', '/parts', { code: 'X', name: 'x', safetyStock: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/safetyStock/);
    expect((await api<Err>(base, 'POST', '/warehouses', { code: 'W', name: 'w', kind: 'boat' })).status).toBe(400);
    const whs = await api<{ code: string }[]>(base, 'GET', '/warehouses?kind=van');
    expect(whs.body.map((w) => w.code)).toEqual(['VAN-07']);
  });

  it('receipt, issue, transfer, adjustment and return derive the balances and the ledger', async () => {
    const part = await newPart('FLT-OIL-1');
    expect((await move({ kind: 'receipt', partId: part, warehouseId: central, quantity: 20, reference: 'GRN-1' })).status).toBe(201);
    const issue = await move({ kind: 'issue', partId: part, warehouseId: central, quantity: 3, note: 'PM' });
    expect(issue.body.movements[0]).toMatchObject({ kind: 'issue', quantity: -3, balanceAfter: 17 });
    const transfer = await move({ kind: 'transfer', partId: part, warehouseId: central, toWarehouseId: van, quantity: 5 });
    expect(transfer.status).toBe(201);
    expect(transfer.body.movements.map((m) => [m.kind, m.quantity, m.balanceAfter])).toEqual([
      ['transfer_out', -5, 12],
      ['transfer_in', 5, 5],
    ]);
    expect((await move({ kind: 'adjustment', partId: part, warehouseId: central, quantity: -2, note: 'count' })).body.movements[0]?.balanceAfter).toBe(10);
    expect((await move({ kind: 'issue', partId: part, warehouseId: van, quantity: 2 })).body.movements[0]?.balanceAfter).toBe(3);
    expect((await move({ kind: 'return', partId: part, warehouseId: van, quantity: 1 })).body.movements[0]?.balanceAfter).toBe(4);
    expect(await balance(part, central)).toBe(10);
    expect(await balance(part, van)).toBe(4);
    const [row] = (await api<(Stock & { reserved: number; available: number; warehouseKind: string })[]>(base, 'GET', `/stock?partId=${part}&warehouseId=${van}`)).body;
    expect(row).toMatchObject({ quantity: 4, reserved: 0, available: 4, warehouseKind: 'van' });
    const ledger = await api<{ items: Movement[]; total: number }>(base, 'GET', `/parts/${part}/ledger`);
    expect(ledger.body.total).toBe(7);
    expect(ledger.body.items.map((m) => m.kind)).toEqual(['return', 'issue', 'adjustment', 'transfer_in', 'transfer_out', 'issue', 'receipt']);
    const vanLedger = await api<{ total: number }>(base, 'GET', `/parts/${part}/ledger?warehouseId=${van}`);
    expect(vanLedger.body.total).toBe(3);
    await expectLedgerConsistent(part, central);
    await expectLedgerConsistent(part, van);
  });

  it('an issue (or transfer, or adjustment) beyond the stock is refused with 409 and the available quantity; nothing changes', async () => {
    const part = await newPart('SEAL-22');
    await move({ kind: 'receipt', partId: part, warehouseId: central, quantity: 4 });
    const tooMuch = await move({ kind: 'issue', partId: part, warehouseId: central, quantity: 5 });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.code).toBe('conflict');
    expect(tooMuch.body.message).toMatch(/insufficient stock: 4 available/);
    expect(tooMuch.body.details).toMatchObject({ available: 4, requested: 5 });
    expect((await move({ kind: 'transfer', partId: part, warehouseId: central, toWarehouseId: van, quantity: 9 })).status).toBe(409);
    expect((await move({ kind: 'adjustment', partId: part, warehouseId: central, quantity: -5 })).status).toBe(409);
    // never stocked in the van: 0 available
    const none = await move({ kind: 'issue', partId: part, warehouseId: van, quantity: 1 });
    expect(none.status).toBe(409);
    expect(none.body.details).toMatchObject({ available: 0 });
    expect(await balance(part, central)).toBe(4);
    expect(await balance(part, van)).toBe(0);
    expect((await api<{ total: number }>(base, 'GET', `/parts/${part}/ledger`)).body.total).toBe(1);
  });

  it('bad movements: 400 for schema and rule violations, unknown part/warehouse named', async () => {
    const part = await newPart('GASKET-1');
    expect((await move({ kind: 'issue', partId: part, warehouseId: central, quantity: 0 })).status).toBe(400);
    expect((await move({ kind: 'receipt', partId: part, warehouseId: central, quantity: 1.5 })).status).toBe(400);
    expect((await move({ kind: 'steal', partId: part, warehouseId: central, quantity: 1 })).status).toBe(400);
    expect((await move({ kind: 'transfer', partId: part, warehouseId: central, quantity: 1 })).body.message).toMatch(/toWarehouseId/);
    expect((await move({ kind: 'issue', partId: part, warehouseId: central, toWarehouseId: van, quantity: 1 })).status).toBe(400);
    const unknown = await move({ kind: 'receipt', partId: part, warehouseId: '00000000-0000-4000-8000-000000000000', quantity: 1 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/warehouse .* does not exist/);
    expect((await api<Err>(base, 'GET', '/parts/00000000-0000-4000-8000-000000000000/ledger')).status).toBe(404);
  });

  it('out-of-range input is a 4xx, not a 500: huge safety stock, a balance past the integer range, an unknown site', async () => {
    const huge = await api<Err>(base, 'POST', '/parts', { code: 'HUGE-SS', name: 'x', safetyStock: 3_000_000_000 });
    expect(huge.status).toBe(400);
    expect(huge.body.message).toMatch(/safetyStock/);
    const part = await newPart('BULK-1');
    expect((await move({ kind: 'receipt', partId: part, warehouseId: central, quantity: 1_000_000_000 })).status).toBe(201);
    expect((await move({ kind: 'receipt', partId: part, warehouseId: central, quantity: 1_000_000_000 })).status).toBe(201);
    const over = await move({ kind: 'receipt', partId: part, warehouseId: central, quantity: 1_000_000_000 });
    expect(over.status).toBe(409);
    expect(over.body.message).toMatch(/would exceed 2147483647/);
    // a transfer whose destination would overflow changes nothing at the source either
    await move({ kind: 'receipt', partId: part, warehouseId: van, quantity: 1_000_000_000 });
    expect((await move({ kind: 'transfer', partId: part, warehouseId: van, toWarehouseId: central, quantity: 1_000_000_000 })).status).toBe(409);
    expect(await balance(part, van)).toBe(1_000_000_000);
    expect(await balance(part, central)).toBe(2_000_000_000);
    await expectLedgerConsistent(part, central);
    const noSite = await api<Err>(base, 'POST', '/warehouses', { code: 'W-NOSITE', name: 'w', siteId: '00000000-0000-4000-8000-000000000000' });
    expect(noSite.status).toBe(400);
    expect(noSite.body.message).toMatch(/site .* does not exist/);
  });

  it('20 concurrent issues of 1 against stock 10 from two instances: exactly 10 succeed, stock 0, ledger consistent', async () => {
    const part = (await A.createPart({ code: 'FUSE-10A', name: 'Fuse' })).id;
    await A.move({ kind: 'receipt', partId: part, warehouseId: central, quantity: 10 });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? A : B).move({ kind: 'issue', partId: part, warehouseId: central, quantity: 1, actor: `eng-${i}` })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(10);
    expect(failed).toHaveLength(10);
    expect(failed.every((f) => (f.reason as { kind?: string }).kind === 'conflict')).toBe(true);
    expect(await balance(part, central)).toBe(0);
    expect(await platform.db.prisma.stockMovement.count({ where: { partId: part, kind: 'issue' } })).toBe(10);
    await expectLedgerConsistent(part, central);
  });

  it('concurrent transfers in opposite directions neither deadlock nor go negative', async () => {
    const part = (await A.createPart({ code: 'VBELT-A', name: 'V-belt' })).id;
    await A.move({ kind: 'receipt', partId: part, warehouseId: central, quantity: 10 });
    await A.move({ kind: 'receipt', partId: part, warehouseId: van, quantity: 10 });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? A : B).move({ kind: 'transfer', partId: part, warehouseId: i % 4 < 2 ? central : van, toWarehouseId: i % 4 < 2 ? van : central, quantity: 3 }),
      ),
    );
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.every((r) => (r.reason as { kind?: string }).kind === 'conflict')).toBe(true);
    expect((await balance(part, central)) + (await balance(part, van))).toBe(20);
    await expectLedgerConsistent(part, central);
    await expectLedgerConsistent(part, van);
  });

  it('safety-stock crossing under concurrent issues creates exactly one open purchase request', async () => {
    const part = (await A.createPart({ code: 'FILTER-AIR', name: 'Air filter', safetyStock: 5, reorderQuantity: 12 })).id;
    await A.move({ kind: 'receipt', partId: part, warehouseId: central, quantity: 15 });
    // 12 issues take the balance from 15 to 3: every issue from the 10th on is at or below 5
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => (i % 2 ? A : B).move({ kind: 'issue', partId: part, warehouseId: central, quantity: 1 })));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    const requested = results.filter((r) => r.status === 'fulfilled' && r.value.purchaseRequested);
    expect(requested).toHaveLength(1);
    const open = await prs(part);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ status: 'open', quantity: 12, warehouseId: central });
    // further issues while it is open (or ordered) raise nothing new
    await A.move({ kind: 'issue', partId: part, warehouseId: central, quantity: 1 });
    const ordered = await api<PR>(base, 'POST', `/purchase-requests/${open[0]!.id}/transitions`, { to: 'ordered' });
    expect(ordered.body.status).toBe('ordered');
    await B.move({ kind: 'issue', partId: part, warehouseId: central, quantity: 1 });
    expect(await prs(part)).toHaveLength(1);
    expect(await balance(part, central)).toBe(1);

    // receiving posts a receipt to the ledger and frees the open key
    const received = await api<PR>(base, 'POST', `/purchase-requests/${open[0]!.id}/transitions`, { to: 'received', actor: 'stores' });
    expect(received.status).toBe(200);
    expect(received.body.status).toBe('received');
    expect(await balance(part, central)).toBe(13);
    const last = (await api<{ items: (Movement & { reference: string })[] }>(base, 'GET', `/parts/${part}/ledger?limit=1`)).body.items[0];
    expect(last).toMatchObject({ kind: 'receipt', quantity: 12, balanceAfter: 13, reference: `PR-${open[0]!.number}` });
    // final state: no more transitions
    const again = await api<Err>(base, 'POST', `/purchase-requests/${open[0]!.id}/transitions`, { to: 'cancelled' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('illegal_transition');

    // a later crossing creates a new request
    const later = await move({ kind: 'issue', partId: part, warehouseId: central, quantity: 8 });
    expect(later.body.purchaseRequested).toBe(true);
    const all = await prs(part);
    expect(all).toHaveLength(2);
    expect(all.filter((p) => p.status === 'open')).toHaveLength(1);
    await expectLedgerConsistent(part, central);
  });

  it('purchase request lifecycle: open → received is refused, cancelling frees the open key too; top-up quantity without reorderQuantity', async () => {
    const part = await newPart('PUMP-SEAL', { safetyStock: 3 });
    await move({ kind: 'receipt', partId: part, warehouseId: van, quantity: 4 });
    expect((await move({ kind: 'issue', partId: part, warehouseId: van, quantity: 2 })).body.purchaseRequested).toBe(true);
    const [pr] = await prs(part, 'open');
    expect(pr).toMatchObject({ quantity: 4, warehouseId: van }); // 2 × 3 − 2
    const skip = await api<Err>(base, 'POST', `/purchase-requests/${pr!.id}/transitions`, { to: 'received' });
    expect(skip.status).toBe(409);
    expect(skip.body.message).toMatch(/allowed: ordered, cancelled/);
    expect((await api<Err>(base, 'POST', `/purchase-requests/${pr!.id}/transitions`, { to: 'open' })).status).toBe(400);
    expect((await api<PR>(base, 'POST', `/purchase-requests/${pr!.id}/transitions`, { to: 'cancelled' })).body.status).toBe('cancelled');
    expect(await balance(part, van)).toBe(2);
    expect((await move({ kind: 'issue', partId: part, warehouseId: van, quantity: 1 })).body.purchaseRequested).toBe(true);
    expect(await prs(part, 'open')).toHaveLength(1);
    expect((await api<Err>(base, 'POST', '/purchase-requests/00000000-0000-4000-8000-000000000000/transitions', { to: 'ordered' })).status).toBe(404);
  });

  it('every movement carries a unit cost: the part\'s, or the purchase-order line\'s price for PO receipts', async () => {
    const part = await newPart('COST-1', { unitCost: 4.2, supplier: 'ACME', leadTimeDays: 7 });
    const listed = await api<{ items: { supplier: string | null; leadTimeDays: number | null }[] }>(base, 'GET', '/parts?supplier=ACME');
    expect(listed.body.items).toEqual([expect.objectContaining({ supplier: 'ACME', leadTimeDays: 7 })]);
    await move({ kind: 'receipt', partId: part, warehouseId: central, quantity: 5 });
    await move({ kind: 'transfer', partId: part, warehouseId: central, toWarehouseId: van, quantity: 2 });
    const ledger = await api<{ items: (Movement & { unitCost: number | null })[] }>(base, 'GET', `/parts/${part}/ledger`);
    expect(ledger.body.items.map((m) => [m.kind, m.unitCost])).toEqual([
      ['transfer_in', 4.2],
      ['transfer_out', 4.2],
      ['receipt', 4.2],
    ]);
    const engineer = await platform.db.prisma.engineer.create({ data: { code: 'ENG-VAN', name: 'Van driver' } });
    const vanOf = await api<{ engineerId: string; kind: string }>(base, 'POST', '/warehouses', { code: 'VAN-ENG', name: 'Van', kind: 'van', engineerId: engineer.id });
    expect(vanOf.status).toBe(201);
    expect(vanOf.body).toMatchObject({ engineerId: engineer.id, kind: 'van' });
    expect((await api<{ code: string }[]>(base, 'GET', `/warehouses?engineerId=${engineer.id}`)).body.map((w) => w.code)).toEqual(['VAN-ENG']);
    const notVan = await api<Err>(base, 'POST', '/warehouses', { code: 'SITE-ENG', name: 'Store', kind: 'site', engineerId: engineer.id });
    expect(notVan.status).toBe(400);
    expect(notVan.body.message).toMatch(/only for vans/);
  });

  it('stock reports on a dated fixture: valuation (standard and average cost), turnover, slow movers, stock-outs', async () => {
    // a service whose time the test sets, on the same database; its own warehouse keeps the figures apart
    const day = (d: number) => new Date(Date.UTC(2025, 0, 1) + d * 86_400_000);
    const clock = manualClock(day(0));
    const inv = createInventoryService({ prisma: platform.db.prisma, clock, logger });
    const purchasing = createPurchasingService({ prisma: platform.db.prisma, clock, logger, inventory: inv });
    const wh = (await inv.createWarehouse({ code: 'REPORTS', name: 'Reports', kind: 'central' })).id;
    const p = (await inv.createPart({ code: 'REP-P', name: 'Belt', unitCost: 2.5 })).id;
    const q = (await inv.createPart({ code: 'REP-Q', name: 'Motor', unitCost: 100 })).id;
    await inv.move({ kind: 'receipt', partId: p, warehouseId: wh, quantity: 10 });
    await inv.move({ kind: 'receipt', partId: q, warehouseId: wh, quantity: 3 });
    clock.set(day(2));
    await inv.move({ kind: 'issue', partId: p, warehouseId: wh, quantity: 4 });
    clock.set(day(5));
    await inv.move({ kind: 'issue', partId: p, warehouseId: wh, quantity: 6 });
    clock.set(day(7));
    const po = await purchasing.create({ supplier: 'ACME', lines: [{ partId: p, warehouseId: wh, quantity: 20, unitPrice: 3 }] });
    await purchasing.place(po.id);
    await purchasing.receive(po.id, { lines: [{ lineId: po.lines[0]!.id, quantity: 20 }] });
    clock.set(day(10));

    // P: 20 × 2.5 = 50, Q: 3 × 100 = 300
    const standard = await api<{ method: string; items: { partCode: string; value: number }[]; totalValue: number; totalQuantity: number }>(base, 'GET', `/inventory/reports/valuation?warehouseId=${wh}`);
    expect(standard.status).toBe(200);
    expect(standard.body).toMatchObject({ method: 'standard', totalQuantity: 23, totalValue: 350 });
    expect(standard.body.items.map((i) => [i.partCode, i.value])).toEqual([
      ['REP-P', 50],
      ['REP-Q', 300],
    ]);
    // average: P received 10 @ 2.5 and 20 @ 3 → 85 / 30 = 2.8333 → 20 × 2.83 = 56.6
    const average = await api<{ items: { partCode: string; unitCost: number; value: number }[]; totalValue: number }>(base, 'GET', `/inventory/reports/valuation?warehouseId=${wh}&method=average`);
    expect(average.body.items[0]).toMatchObject({ partCode: 'REP-P', unitCost: 2.8333, value: 56.6 });
    expect(average.body.totalValue).toBe(356.6);

    // P on hand 10 (2 d), 6 (3 d), 0 (2 d), 20 (3 d) → 98 / 10 = 9.8; consumed 10 in 10 days
    const window = `from=${day(0).toISOString()}&to=${day(10).toISOString()}&warehouseId=${wh}`;
    const turnover = await api<{ items: Record<string, unknown>[] }>(base, 'GET', `/inventory/reports/turnover?${window}`);
    expect(turnover.status, JSON.stringify(turnover.body)).toBe(200);
    expect(turnover.body.items).toEqual([
      expect.objectContaining({ partCode: 'REP-P', issued: 10, returned: 0, consumed: 10, averageOnHand: 9.8, turnover: 1.0204, daysOfSupply: 9.8 }),
      expect.objectContaining({ partCode: 'REP-Q', issued: 0, consumed: 0, averageOnHand: 3, turnover: 0, daysOfSupply: null }),
    ]);
    // a window starting later takes the balance before it as its opening: 6 for 3 days, 0 for 2 → 18 / 5
    const later = await api<{ items: { partCode: string; averageOnHand: number }[] }>(base, 'GET', `/inventory/reports/turnover?from=${day(2).toISOString()}&to=${day(7).toISOString()}&warehouseId=${wh}`);
    expect(later.body.items.find((i) => i.partCode === 'REP-P')?.averageOnHand).toBe(3.6);
    expect((await api(base, 'GET', `/inventory/reports/turnover?from=${day(5).toISOString()}&to=${day(1).toISOString()}`)).status).toBe(400);

    const outs = await api<{ items: { partCode: string; stockOuts: number; lastStockOutAt: string }[] }>(base, 'GET', `/inventory/reports/stock-outs?${window}`);
    expect(outs.body.items).toEqual([expect.objectContaining({ partCode: 'REP-P', stockOuts: 1, lastStockOutAt: day(5).toISOString() })]);

    // as of day 10: Q never issued; P last issued 5 days ago
    const slow90 = await inv.slowMovingReport({ days: 90, warehouseId: wh });
    expect(slow90.items.map((i) => [i.partCode, i.value, i.daysSinceLastIssue])).toEqual([['REP-Q', 300, null]]);
    const slow3 = await inv.slowMovingReport({ days: 3, warehouseId: wh });
    expect(slow3.items.map((i) => [i.partCode, i.quantity, i.value, i.daysSinceLastIssue])).toEqual([
      ['REP-Q', 3, 300, null],
      ['REP-P', 20, 50, 5],
    ]);
    expect(slow3.totalValue).toBe(350);
    // through the API (today's clock): both are long unissued
    const api90 = await api<{ items: { partCode: string; lastIssueAt: string | null }[] }>(base, 'GET', `/inventory/reports/slow-moving?warehouseId=${wh}`);
    expect(api90.body.items.map((i) => [i.partCode, i.lastIssueAt])).toEqual([
      ['REP-Q', null],
      ['REP-P', day(5).toISOString()],
    ]);
  });
});
