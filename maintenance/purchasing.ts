/**
 * Purchase orders: purchase request → order → receipt.
 *
 * - A draft order has lines (part, warehouse, quantity, unit price); a line may carry one purchase
 *   request (unique `purchase_request_id`: a request is on at most one line). `fromRequests` groups
 *   open requests into one draft order.
 * - Placing (draft → placed) marks its requests ordered. Cancelling (draft/placed, nothing received)
 *   detaches its requests and puts them back to open, so they can go on another order.
 * - Receipts (placed | partially_received) post one `receipt` movement per line at the line's unit
 *   price; each line is ONE conditional UPDATE `received_quantity + q <= quantity`, so concurrent
 *   receipts cannot over-receive (an over-receipt is a 400). The order row is locked FOR UPDATE
 *   first, which serialises receipts of one order. Idempotency: an optional `receiptKey` is stored
 *   as the movements' reference (`PO-<number>:<key>`) and checked after that lock, so a retried
 *   receipt with the same key is a no-op (`duplicate: true`), even when the retry races the original.
 * - A fully received line marks its request received and clears its open key (a new request can
 *   open later); the order becomes partially_received or received.
 */
import type { Clock } from '../platform/clock.ts';
import type { Db, Prisma } from '../platform/db/database.ts';
import { AppError, isUniqueViolation, notFound } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { TX_OPTIONS, type InventoryService, type MovementView, type Tx } from './inventory.ts';
import { canCancelPurchaseOrder, canReceive, checkReceipt, receiptReference, statusAfterReceipt, type PurchaseOrderStatus } from './inventory-rules.ts';

export const purchaseOrderSelect = {
  id: true,
  number: true,
  supplier: true,
  status: true,
  note: true,
  createdAt: true,
  placedAt: true,
  receivedAt: true,
  lines: {
    select: {
      id: true,
      partId: true,
      warehouseId: true,
      quantity: true,
      receivedQuantity: true,
      unitPrice: true,
      purchaseRequestId: true,
      part: { select: { code: true, name: true } },
      warehouse: { select: { code: true } },
      purchaseRequest: { select: { number: true, status: true } },
    },
    orderBy: [{ part: { code: 'asc' } }, { id: 'asc' }],
  },
} satisfies Prisma.PurchaseOrderSelect;

export type PurchaseOrderRow = Prisma.PurchaseOrderGetPayload<{ select: typeof purchaseOrderSelect }>;

export interface PurchaseOrderLineInput {
  partId: string;
  warehouseId: string;
  quantity: number;
  /** Default: the part's unit cost. */
  unitPrice?: number | undefined;
  purchaseRequestId?: string | undefined;
}

export interface ReceiptInput {
  lines: { lineId: string; quantity: number }[];
  receiptKey?: string | undefined;
  actor?: string | undefined;
  note?: string | undefined;
}

export function createPurchasingService(deps: { prisma: Db; clock: Clock; logger: Logger; inventory: InventoryService }) {
  const { prisma, clock } = deps;
  const ledger = deps.inventory.core;
  const log = deps.logger.child({ module: 'purchasing' });

  async function get(id: string): Promise<PurchaseOrderRow> {
    const po = await prisma.purchaseOrder.findUnique({ where: { id }, select: purchaseOrderSelect });
    if (!po) throw notFound('PurchaseOrder', id);
    return po;
  }

  async function insert(input: { supplier: string; note?: string | undefined; lines: PurchaseOrderLineInput[] }): Promise<PurchaseOrderRow> {
    if (!input.lines.length) throw new AppError('validation', 'a purchase order needs at least one line', {});
    const prIds = input.lines.flatMap((l) => (l.purchaseRequestId ? [l.purchaseRequestId] : []));
    if (new Set(prIds).size !== prIds.length) throw new AppError('validation', 'a purchase request can be on only one line', { purchaseRequestIds: prIds });
    const now = clock.now();
    let id: string;
    try {
      id = await prisma.$transaction(async (tx) => {
        const lines: Prisma.PurchaseOrderLineCreateWithoutPurchaseOrderInput[] = [];
        for (const [i, l] of input.lines.entries()) {
          const part = await ledger.requirePart(tx, l.partId);
          await ledger.requireWarehouse(tx, l.warehouseId, `lines[${i}].warehouseId`);
          if (l.purchaseRequestId) await checkRequest(tx, l, i);
          lines.push({
            part: { connect: { id: l.partId } },
            warehouse: { connect: { id: l.warehouseId } },
            quantity: l.quantity,
            unitPrice: l.unitPrice ?? part.unitCost,
            ...(l.purchaseRequestId ? { purchaseRequest: { connect: { id: l.purchaseRequestId } } } : {}),
          });
        }
        const po = await tx.purchaseOrder.create({ data: { supplier: input.supplier, note: input.note ?? null, status: 'draft', createdAt: now, lines: { create: lines } }, select: { id: true } });
        return po.id;
      }, TX_OPTIONS);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AppError('conflict', 'a purchase request is already on another purchase order', { purchaseRequestIds: prIds });
      throw err;
    }
    log.info({ purchaseOrder: id, supplier: input.supplier, lines: input.lines.length }, 'purchase order created');
    return get(id);
  }

  /** A line's request must be open, not on another order, and for the line's part and warehouse. */
  async function checkRequest(tx: Tx, l: PurchaseOrderLineInput, i: number): Promise<void> {
    const pr = await tx.purchaseRequest.findUnique({
      where: { id: l.purchaseRequestId! },
      select: { number: true, status: true, partId: true, warehouseId: true, purchaseOrderLine: { select: { purchaseOrder: { select: { number: true } } } } },
    });
    if (!pr) throw new AppError('validation', `purchase request ${l.purchaseRequestId} does not exist`, { [`lines[${i}].purchaseRequestId`]: l.purchaseRequestId });
    if (pr.status !== 'open') throw new AppError('conflict', `purchase request ${pr.number} is ${pr.status}; only open requests can be ordered`, { purchaseRequest: pr.number, status: pr.status });
    if (pr.purchaseOrderLine) {
      throw new AppError('conflict', `purchase request ${pr.number} is already on purchase order PO-${pr.purchaseOrderLine.purchaseOrder.number}`, { purchaseRequest: pr.number });
    }
    if (pr.partId !== l.partId || pr.warehouseId !== l.warehouseId) {
      throw new AppError('validation', `purchase request ${pr.number} is for another part or warehouse than line ${i}`, { purchaseRequest: pr.number, line: i });
    }
  }

  return {
    get,

    async list(f: { status?: PurchaseOrderStatus | undefined; supplier?: string | undefined; limit: number; offset: number }) {
      const where: Prisma.PurchaseOrderWhereInput = { ...(f.status ? { status: f.status } : {}), ...(f.supplier ? { supplier: f.supplier } : {}) };
      const [items, total] = await Promise.all([
        prisma.purchaseOrder.findMany({ where, select: purchaseOrderSelect, orderBy: { number: 'desc' }, take: f.limit, skip: f.offset }),
        prisma.purchaseOrder.count({ where }),
      ]);
      return { items, total };
    },

    /** A draft order with explicit lines (a line may carry an open purchase request of the same part + warehouse). */
    create: insert,

    /**
     * A draft order from open requests not yet on an order: the given ones, or all of a supplier's
     * (parts whose `supplier` is it). The supplier defaults to the parts' common supplier.
     */
    async fromRequests(input: { purchaseRequestIds?: string[] | undefined; supplier?: string | undefined; note?: string | undefined }) {
      let requests: { id: string; number: number; status: string; partId: string; warehouseId: string; quantity: number; part: { supplier: string | null } }[];
      const select = { id: true, number: true, status: true, partId: true, warehouseId: true, quantity: true, part: { select: { supplier: true } } } as const;
      if (input.purchaseRequestIds?.length) {
        const ids = [...new Set(input.purchaseRequestIds)];
        requests = await prisma.purchaseRequest.findMany({ where: { id: { in: ids } }, select, orderBy: { number: 'asc' } });
        const missing = ids.filter((id) => !requests.some((r) => r.id === id));
        if (missing.length) throw new AppError('validation', `purchase request(s) ${missing.join(', ')} do not exist`, { missing });
      } else if (input.supplier) {
        requests = await prisma.purchaseRequest.findMany({
          where: { status: 'open', purchaseOrderLine: { is: null }, part: { supplier: input.supplier } },
          select,
          orderBy: { number: 'asc' },
        });
        if (!requests.length) throw new AppError('validation', `no open purchase requests for supplier ${input.supplier}`, { supplier: input.supplier });
      } else {
        throw new AppError('validation', 'give purchaseRequestIds or a supplier', {});
      }
      const suppliers = [...new Set(requests.map((r) => r.part.supplier))];
      const supplier = input.supplier ?? (suppliers.length === 1 ? suppliers[0] : undefined);
      if (!supplier) {
        throw new AppError('validation', `the requests' parts have ${suppliers.length > 1 ? 'different suppliers' : 'no supplier'}; give the supplier`, { suppliers });
      }
      return insert({
        supplier,
        note: input.note,
        lines: requests.map((r) => ({ partId: r.partId, warehouseId: r.warehouseId, quantity: r.quantity, purchaseRequestId: r.id })),
      });
    },

    /** draft → placed; its open requests become ordered. */
    async place(id: string, input: { actor?: string | undefined } = {}) {
      const now = clock.now();
      await prisma.$transaction(async (tx) => {
        const placed = await tx.purchaseOrder.updateMany({ where: { id, status: 'draft' }, data: { status: 'placed', placedAt: now } });
        if (placed.count !== 1) {
          const po = await tx.purchaseOrder.findUnique({ where: { id }, select: { status: true } });
          if (!po) throw notFound('PurchaseOrder', id);
          throw new AppError('illegal_transition', `purchase order is ${po.status}; only a draft can be placed`, { status: po.status });
        }
        const lines = await tx.purchaseOrderLine.findMany({ where: { purchaseOrderId: id, purchaseRequestId: { not: null } }, select: { purchaseRequestId: true } });
        await tx.purchaseRequest.updateMany({ where: { id: { in: lines.map((l) => l.purchaseRequestId!) }, status: 'open' }, data: { status: 'ordered', orderedAt: now } });
      }, TX_OPTIONS);
      log.info({ purchaseOrder: id, actor: input.actor }, 'purchase order placed');
      return get(id);
    },

    /** draft | placed (nothing received) → cancelled; its requests go back to open, off the order. */
    async cancel(id: string) {
      await prisma.$transaction(async (tx) => {
        // compare-and-set: a receipt holds the order row, and moves it out of placed, first
        const cancelled = await tx.purchaseOrder.updateMany({ where: { id, status: { in: ['draft', 'placed'] } }, data: { status: 'cancelled' } });
        if (cancelled.count !== 1) {
          const po = await tx.purchaseOrder.findUnique({ where: { id }, select: { status: true } });
          if (!po) throw notFound('PurchaseOrder', id);
          throw new AppError('illegal_transition', `purchase order is ${po.status}; only a draft or placed order with nothing received can be cancelled`, {
            status: po.status,
            cancellable: canCancelPurchaseOrder(po.status),
          });
        }
        const lines = await tx.purchaseOrderLine.findMany({ where: { purchaseOrderId: id, purchaseRequestId: { not: null } }, select: { purchaseRequestId: true } });
        const prIds = lines.map((l) => l.purchaseRequestId!);
        await tx.purchaseOrderLine.updateMany({ where: { purchaseOrderId: id }, data: { purchaseRequestId: null } });
        await tx.purchaseRequest.updateMany({ where: { id: { in: prIds }, status: { in: ['open', 'ordered'] } }, data: { status: 'open', orderedAt: null } });
      }, TX_OPTIONS);
      log.info({ purchaseOrder: id }, 'purchase order cancelled');
      return get(id);
    },

    /** Posts a (partial) receipt; see the header for over-receipt and idempotency guarantees. */
    async receive(id: string, input: ReceiptInput): Promise<{ purchaseOrder: PurchaseOrderRow; movements: MovementView[]; duplicate: boolean }> {
      if (!input.lines.length) throw new AppError('validation', 'a receipt needs at least one line', {});
      const lineIds = input.lines.map((l) => l.lineId);
      if (new Set(lineIds).size !== lineIds.length) throw new AppError('validation', 'each line can appear once per receipt', { lineIds });
      const now = clock.now();
      const result = await prisma.$transaction(async (tx) => {
        const locked = await tx.$queryRawUnsafe<{ status: PurchaseOrderStatus; number: number }[]>(`SELECT "status"::text AS "status", "number" FROM "purchase_orders" WHERE "id" = $1 FOR UPDATE`, id);
        const po = locked[0];
        if (!po) throw notFound('PurchaseOrder', id);
        const reference = receiptReference(Number(po.number), input.receiptKey);
        const current = await tx.purchaseOrderLine.findMany({ where: { purchaseOrderId: id }, select: { id: true, partId: true, quantity: true, receivedQuantity: true } });
        // the order's parts narrow the look-up to the ledger's (part, warehouse, at) index
        const seen = input.receiptKey
          ? await tx.stockMovement.findFirst({ where: { partId: { in: current.map((l) => l.partId) }, kind: 'receipt', reference }, select: { id: true } })
          : null;
        if (seen) return { movements: [] as MovementView[], duplicate: true };
        if (!canReceive(po.status)) {
          throw new AppError('illegal_transition', `purchase order is ${po.status}; receipts are taken on placed or partially received orders`, { status: po.status });
        }
        for (const l of input.lines) {
          const line = current.find((c) => c.id === l.lineId);
          if (!line) throw new AppError('validation', `line ${l.lineId} is not on purchase order PO-${po.number}`, { lineId: l.lineId });
          const check = checkReceipt(line, l.quantity);
          if (!check.ok) throw new AppError('validation', check.message, { lineId: l.lineId, ordered: line.quantity, received: line.receivedQuantity, quantity: l.quantity });
        }
        const movements: MovementView[] = [];
        for (const l of [...input.lines].sort((a, b) => a.lineId.localeCompare(b.lineId))) {
          const rows = await tx.$queryRawUnsafe<{ receivedQuantity: number; quantity: number; partId: string; warehouseId: string; unitPrice: unknown; purchaseRequestId: string | null }[]>(
            `UPDATE "purchase_order_lines" SET "received_quantity" = "received_quantity" + $3::int
             WHERE "id" = $1 AND "purchase_order_id" = $2 AND "received_quantity" + $3::int <= "quantity"
             RETURNING "received_quantity" AS "receivedQuantity", "quantity", "part_id" AS "partId", "warehouse_id" AS "warehouseId", "unit_price" AS "unitPrice", "purchase_request_id" AS "purchaseRequestId"`,
            l.lineId,
            id,
            l.quantity,
          );
          const row = rows[0];
          if (!row) throw new AppError('validation', `over-receipt on line ${l.lineId}`, { lineId: l.lineId, quantity: l.quantity });
          const moved = await ledger.move(
            {
              kind: 'receipt',
              partId: row.partId,
              warehouseId: row.warehouseId,
              quantity: l.quantity,
              unitCost: row.unitPrice === null ? null : Number(row.unitPrice),
              reference,
              note: input.note,
              actor: input.actor,
            },
            { tx },
          );
          movements.push(...moved.movements);
          if (row.purchaseRequestId && Number(row.receivedQuantity) >= Number(row.quantity)) {
            await tx.purchaseRequest.updateMany({ where: { id: row.purchaseRequestId, status: { in: ['open', 'ordered'] } }, data: { status: 'received', receivedAt: now, openKey: null } });
          }
        }
        const after = await tx.purchaseOrderLine.findMany({ where: { purchaseOrderId: id }, select: { quantity: true, receivedQuantity: true } });
        const status = statusAfterReceipt(after);
        await tx.purchaseOrder.update({ where: { id }, data: { status, ...(status === 'received' ? { receivedAt: now } : {}) } });
        return { movements, duplicate: false };
      }, TX_OPTIONS);
      log.info({ purchaseOrder: id, lines: input.lines.length, receiptKey: input.receiptKey, duplicate: result.duplicate }, 'purchase order receipt');
      return { purchaseOrder: await get(id), ...result };
    },
  };
}

export type PurchasingService = ReturnType<typeof createPurchasingService>;
