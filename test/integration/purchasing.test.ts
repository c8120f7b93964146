/**
 * Purchasing on real PostgreSQL: purchase requests → order → (partial) receipts through the API,
 * requests received and their open key freed, cancel returning requests to open, and receipts that
 * never over-receive under concurrency from two instances (separate pools) nor post twice when
 * retried with the same receipt key.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInventoryService } from '../../maintenance/inventory.ts';
import { createPurchasingService, type PurchasingService } from '../../maintenance/purchasing.ts';
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
}
interface Line {
  id: string;
  partId: string;
  quantity: number;
  receivedQuantity: number;
  openQuantity: number;
  unitPrice: number | null;
  purchaseRequestId: string | null;
  purchaseRequestNumber: number | null;
}
interface PO {
  id: string;
  number: number;
  supplier: string;
  status: string;
  placedAt: string | null;
  receivedAt: string | null;
  totalValue: number;
  lines: Line[];
}
interface PR {
  id: string;
  number: number;
  status: string;
  quantity: number;
  purchaseOrderId: string | null;
}
interface Movement {
  kind: string;
  quantity: number;
  balanceAfter: number;
  unitCost: number | null;
  reference: string | null;
}

describe.skipIf(reason)(`purchasing on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let second: Database;
  let drop: () => Promise<void>;
  let base: string;
  let A: PurchasingService;
  let B: PurchasingService;
  let wh = '';
  let n = 0;

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    drop = db.drop;
    platform = await startTestPlatform({ DATABASE_URL: db.url, ROLES: 'api' });
    base = platform.apiUrl!;
    second = await openDatabase({ databaseUrl: db.url, dataDir: '', logger });
    const invA = createInventoryService({ prisma: platform.db.prisma, clock: systemClock, logger });
    const invB = createInventoryService({ prisma: second.prisma, clock: systemClock, logger });
    A = createPurchasingService({ prisma: platform.db.prisma, clock: systemClock, logger, inventory: invA });
    B = createPurchasingService({ prisma: second.prisma, clock: systemClock, logger, inventory: invB });
    wh = (await api<{ id: string }>(base, 'POST', '/warehouses', { code: 'P-CENTRAL', name: 'Central', kind: 'central' })).body.id;
  });

  afterAll(async () => {
    await second?.close();
    await platform?.cleanup();
    await drop?.();
  });

  const newPart = async (extra: Record<string, unknown> = {}): Promise<string> => {
    const r = await api<{ id: string }>(base, 'POST', '/parts', { code: `PP-${++n}`, name: `part ${n}`, ...extra });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id;
  };
  const move = (body: Record<string, unknown>) => api<{ purchaseRequested: boolean }>(base, 'POST', '/stock/movements', { warehouseId: wh, ...body });
  const balance = async (partId: string) => (await api<{ quantity: number }[]>(base, 'GET', `/stock?partId=${partId}&warehouseId=${wh}`)).body[0]?.quantity ?? 0;
  const prsOf = async (partId: string) => (await api<{ items: PR[] }>(base, 'GET', `/purchase-requests?partId=${partId}`)).body.items;
  /** Stock 1 above safety stock, then an issue of 2: one open request. */
  const partWithRequest = async (extra: Record<string, unknown>): Promise<{ part: string; pr: PR }> => {
    const part = await newPart({ safetyStock: 2, ...extra });
    await move({ kind: 'receipt', partId: part, quantity: 3 });
    expect((await move({ kind: 'issue', partId: part, quantity: 2 })).body.purchaseRequested).toBe(true);
    return { part, pr: (await prsOf(part))[0]! };
  };
  const receipt = (id: string, body: Record<string, unknown>) => api<{ purchaseOrder: PO; movements: Movement[]; duplicate: boolean } & Err>(base, 'POST', `/purchase-orders/${id}/receipts`, body);

  it('requests → order → place → partial receipt → full receipt: requests received, a new request can open later', async () => {
    const p = await partWithRequest({ supplier: 'ACME', unitCost: 10, reorderQuantity: 20 });
    const q = await partWithRequest({ supplier: 'ACME', unitCost: 2.5 }); // top-up: 2 × 2 − 1 = 3
    const other = await partWithRequest({ supplier: 'Other' });

    const created = await api<PO>(base, 'POST', '/purchase-orders/from-requests', { supplier: 'ACME', note: 'weekly' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const po = created.body;
    expect(po).toMatchObject({ supplier: 'ACME', status: 'draft', placedAt: null, totalValue: 207.5 });
    expect(po.lines.map((l) => [l.partId, l.quantity, l.unitPrice, l.purchaseRequestId, l.receivedQuantity]).sort()).toEqual(
      [
        [p.part, 20, 10, p.pr.id, 0],
        [q.part, 3, 2.5, q.pr.id, 0],
      ].sort(),
    );
    expect((await prsOf(p.part))[0]).toMatchObject({ status: 'open', purchaseOrderId: po.id });
    expect((await prsOf(other.part))[0]).toMatchObject({ status: 'open', purchaseOrderId: null });

    // a request goes on one order only, and follows it
    expect((await api<Err>(base, 'POST', '/purchase-orders/from-requests', { supplier: 'ACME' })).status).toBe(400);
    const again = await api<Err>(base, 'POST', '/purchase-orders/from-requests', { purchaseRequestIds: [p.pr.id] });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/already on purchase order PO-/);
    const manual = await api<Err>(base, 'POST', `/purchase-requests/${p.pr.id}/transitions`, { to: 'ordered' });
    expect(manual.status).toBe(409);
    expect(manual.body.message).toMatch(/is on purchase order/);

    const early = await receipt(po.id, { lines: [{ lineId: po.lines[0]!.id, quantity: 1 }] });
    expect(early.status).toBe(409);
    expect(early.body.message).toMatch(/draft/);

    const placed = await api<PO>(base, 'POST', `/purchase-orders/${po.id}/place`);
    expect(placed.body).toMatchObject({ status: 'placed', placedAt: expect.any(String) });
    expect((await prsOf(p.part))[0]!.status).toBe('ordered');
    expect((await prsOf(q.part))[0]!.status).toBe('ordered');
    expect((await api<Err>(base, 'POST', `/purchase-orders/${po.id}/place`)).status).toBe(409);

    const pLine = po.lines.find((l) => l.partId === p.part)!;
    const qLine = po.lines.find((l) => l.partId === q.part)!;
    const partial = await receipt(po.id, { lines: [{ lineId: pLine.id, quantity: 8 }], receiptKey: 'GRN-1', actor: 'stores' });
    expect(partial.status, JSON.stringify(partial.body)).toBe(201);
    expect(partial.body.duplicate).toBe(false);
    expect(partial.body.movements).toEqual([expect.objectContaining({ kind: 'receipt', quantity: 8, balanceAfter: 9, unitCost: 10, reference: `PO-${po.number}:GRN-1` })]);
    expect(partial.body.purchaseOrder.status).toBe('partially_received');
    expect(partial.body.purchaseOrder.lines.find((l) => l.id === pLine.id)).toMatchObject({ receivedQuantity: 8, openQuantity: 12 });
    expect((await prsOf(p.part))[0]!.status).toBe('ordered');

    // the same receipt retried: nothing changes
    const retry = await receipt(po.id, { lines: [{ lineId: pLine.id, quantity: 8 }], receiptKey: 'GRN-1' });
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ duplicate: true, movements: [] });
    expect(await balance(p.part)).toBe(9);

    const over = await receipt(po.id, { lines: [{ lineId: pLine.id, quantity: 13 }] });
    expect(over.status).toBe(400);
    expect(over.body.message).toBe('over-receipt: 20 ordered, 8 already received, 13 more would exceed the order by 1');
    expect((await api<Err>(base, 'POST', `/purchase-orders/${po.id}/cancel`)).status).toBe(409);

    const full = await receipt(po.id, { lines: [{ lineId: pLine.id, quantity: 12 }, { lineId: qLine.id, quantity: 3 }], receiptKey: 'GRN-2' });
    expect(full.status).toBe(201);
    expect(full.body.purchaseOrder).toMatchObject({ status: 'received', receivedAt: expect.any(String) });
    expect(await balance(p.part)).toBe(21);
    expect(await balance(q.part)).toBe(4);
    expect((await prsOf(p.part))[0]).toMatchObject({ status: 'received' });
    expect((await platform.db.prisma.purchaseRequest.findUnique({ where: { id: p.pr.id } }))?.openKey).toBeNull();
    expect((await receipt(po.id, { lines: [{ lineId: qLine.id, quantity: 1 }] })).status).toBe(409);

    // the open key is free again: the next crossing opens a new request
    expect((await move({ kind: 'issue', partId: p.part, quantity: 19 })).body.purchaseRequested).toBe(true);
    expect((await prsOf(p.part)).map((r) => r.status)).toEqual(['open', 'received']);

    const list = await api<{ items: PO[]; total: number }>(base, 'GET', '/purchase-orders?status=received&supplier=ACME');
    expect(list.body.items.map((x) => x.id)).toContain(po.id);
    expect((await api(base, 'GET', '/purchase-orders/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('explicit lines: price defaults to the part cost, requests must match the line; bad input is named', async () => {
    const part = await newPart({ unitCost: 3 });
    const { part: other, pr } = await partWithRequest({});
    const bad = await api<Err>(base, 'POST', '/purchase-orders', { supplier: 'X', lines: [{ partId: part, warehouseId: wh, quantity: 2, purchaseRequestId: pr.id }] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/another part or warehouse/);
    expect((await api<Err>(base, 'POST', '/purchase-orders', { supplier: 'X', lines: [] })).status).toBe(400);
    const unknownPr = await api<Err>(base, 'POST', '/purchase-orders', { supplier: 'X', lines: [{ partId: part, warehouseId: wh, quantity: 1, purchaseRequestId: '00000000-0000-4000-8000-000000000000' }] });
    expect(unknownPr.status).toBe(400);
    const noSupplier = await api<Err>(base, 'POST', '/purchase-orders/from-requests', { purchaseRequestIds: [pr.id] });
    expect(noSupplier.status).toBe(400);
    expect(noSupplier.body.message).toMatch(/no supplier; give the supplier/);

    const ok = await api<PO>(base, 'POST', '/purchase-orders', {
      supplier: 'X',
      lines: [
        { partId: part, warehouseId: wh, quantity: 2 },
        { partId: other, warehouseId: wh, quantity: 4, unitPrice: 1.25, purchaseRequestId: pr.id },
      ],
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.lines.map((l) => [l.partId, l.unitPrice, l.purchaseRequestNumber]).sort()).toEqual(
      [
        [part, 3, null],
        [other, 1.25, pr.number],
      ].sort(),
    );
    expect(ok.body.totalValue).toBe(11);
  });

  it('cancelling a placed order puts its requests back to open, off the order; they can be ordered again', async () => {
    const { part, pr } = await partWithRequest({ supplier: 'Cancelco' });
    const po = (await api<PO>(base, 'POST', '/purchase-orders/from-requests', { purchaseRequestIds: [pr.id] })).body;
    expect(po.supplier).toBe('Cancelco');
    await api(base, 'POST', `/purchase-orders/${po.id}/place`);
    expect((await prsOf(part))[0]!.status).toBe('ordered');
    const cancelled = await api<PO>(base, 'POST', `/purchase-orders/${po.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.lines[0]!.purchaseRequestId).toBeNull();
    expect((await prsOf(part))[0]).toMatchObject({ status: 'open', purchaseOrderId: null });
    expect((await api<Err>(base, 'POST', `/purchase-orders/${po.id}/cancel`)).status).toBe(409);
    expect((await api<Err>(base, 'POST', `/purchase-orders/${po.id}/place`)).status).toBe(409);
    const again = await api<PO>(base, 'POST', '/purchase-orders/from-requests', { supplier: 'Cancelco' });
    expect(again.status).toBe(201);
    expect(again.body.lines[0]!.purchaseRequestId).toBe(pr.id);
  });

  it('concurrent receipts of one line from two instances never over-receive; a retried key posts once even when racing', async () => {
    const part = await newPart({ unitCost: 5 });
    const spare = await newPart();
    // a second line keeps the order open (partially received), so late receipts meet the line's limit
    const po = await A.create({ supplier: 'Race', lines: [{ partId: part, warehouseId: wh, quantity: 10 }, { partId: spare, warehouseId: wh, quantity: 1 }] });
    await A.place(po.id);
    const lineId = po.lines.find((l) => l.partId === part)!.id;
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 ? A : B).receive(po.id, { lines: [{ lineId, quantity: 2 }] })));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(failed.every((f) => (f.reason as { kind?: string }).kind === 'validation')).toBe(true);
    expect(failed.every((f) => (f.reason as { message?: string }).message?.startsWith('over-receipt: 10 ordered'))).toBe(true);
    const after = await A.get(po.id);
    expect(after).toMatchObject({ status: 'partially_received' });
    expect(after.lines.find((l) => l.id === lineId)!.receivedQuantity).toBe(10);
    expect(await balance(part)).toBe(10);
    expect(await platform.db.prisma.stockMovement.count({ where: { partId: part, kind: 'receipt' } })).toBe(5);

    const po2 = await B.create({ supplier: 'Race', lines: [{ partId: part, warehouseId: wh, quantity: 10 }] });
    await B.place(po2.id);
    const retried = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? A : B).receive(po2.id, { lines: [{ lineId: po2.lines[0]!.id, quantity: 3 }], receiptKey: 'GRN-77' })));
    expect(retried.filter((r) => !r.duplicate)).toHaveLength(1);
    expect((await A.get(po2.id)).lines[0]!.receivedQuantity).toBe(3);
    expect(await balance(part)).toBe(13);
    expect(await platform.db.prisma.stockMovement.count({ where: { reference: `PO-${po2.number}:GRN-77` } })).toBe(1);
  });
});
