/**
 * Parts inventory: catalogue, warehouses (site stores, central stores, engineers' vans), a movement
 * ledger and the balances derived from it, purchase requests raised at safety stock, and the stock
 * reports (valuation, turnover, slow movers, stock-outs; math in `inventory-reports.ts`).
 *
 * Never negative, even under concurrent issues: each balance change is ONE conditional UPDATE
 * (`quantity + delta >= reserved`: available never below zero, so issues, transfers and adjustments
 * cannot eat stock reserved for work orders) in the same transaction as its ledger row; PostgreSQL
 * re-checks the condition after waiting for a concurrent writer's row lock, and CHECK constraints
 * (quantity >= 0, 0 <= reserved <= quantity) back it. Every new movement carries a unit cost: the
 * part's standard cost (Part.unitCost), or the purchase-order line's price for PO receipts.
 * Exactly one purchase request per part + warehouse while one is open or ordered: `open_key` is
 * unique and is inserted with ON CONFLICT DO NOTHING inside the issuing transaction.
 * Reservations, consumption at completion and parts used on work orders: `reservations.ts`.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../platform/clock.ts';
import type { Db, Prisma } from '../platform/db/database.ts';
import { AppError, isUniqueViolation, notFound } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { recordEvent } from '../integrations/outbox.ts';
import { createReservations } from './reservations.ts';
import { slowMoving, stockOuts, turnover, valuation, weightedAverageCost, type LedgerRow, type Opening } from './inventory-reports.ts';
import {
  availableQuantity,
  checkPurchaseRequestTransition,
  isOpenPurchaseRequest,
  movementDelta,
  purchaseRequestOpenKey,
  reorderNeed,
  shortageMessage,
  type LedgerKind,
  type MovementKind,
  type PurchaseRequestStatus,
} from './inventory-rules.ts';

export type Tx = Prisma.TransactionClient;
export type WarehouseKind = 'site' | 'central' | 'van';
type Money = Prisma.Decimal | number | null;

export interface MoveInput {
  kind: MovementKind;
  partId: string;
  warehouseId: string;
  /** Positive; for an adjustment a signed, non-zero delta. */
  quantity: number;
  /** Destination of a transfer. */
  toWarehouseId?: string | undefined;
  workOrderId?: string | undefined;
  reference?: string | undefined;
  note?: string | undefined;
  actor?: string | undefined;
  /** Unit cost recorded on the movement (PO receipts: the line's price); default the part's unit cost. */
  unitCost?: Money | undefined;
}

export interface PartRef {
  id: string;
  code: string;
  safetyStock: number;
  reorderQuantity: number;
  unitCost: Prisma.Decimal | null;
}

export const partSelect = {
  id: true,
  code: true,
  name: true,
  unit: true,
  unitCost: true,
  safetyStock: true,
  reorderQuantity: true,
  supplier: true,
  leadTimeDays: true,
  createdAt: true,
} satisfies Prisma.PartSelect;

export const warehouseSelect = { id: true, code: true, name: true, kind: true, siteId: true, engineerId: true } satisfies Prisma.WarehouseSelect;

export const movementSelect = {
  id: true,
  seq: true,
  partId: true,
  warehouseId: true,
  kind: true,
  quantity: true,
  balanceAfter: true,
  unitCost: true,
  transferId: true,
  workOrderId: true,
  reference: true,
  note: true,
  actor: true,
  at: true,
} satisfies Prisma.StockMovementSelect;

export const purchaseRequestSelect = {
  id: true,
  number: true,
  partId: true,
  warehouseId: true,
  quantity: true,
  status: true,
  reason: true,
  createdAt: true,
  orderedAt: true,
  receivedAt: true,
  cancelledAt: true,
  part: { select: { code: true, name: true } },
  warehouse: { select: { code: true, name: true } },
  purchaseOrderLine: { select: { purchaseOrderId: true } },
} satisfies Prisma.PurchaseRequestSelect;

export type MovementView = Prisma.StockMovementGetPayload<{ select: typeof movementSelect }>;
export type PurchaseRequestView = Prisma.PurchaseRequestGetPayload<{ select: typeof purchaseRequestSelect }>;

export const TX_OPTIONS = { maxWait: 10_000, timeout: 15_000 };

/** Largest balance a stock row holds (`quantity` is a PostgreSQL integer). */
export const MAX_BALANCE = 2_147_483_647;

const num = (d: Money | undefined): number | null => (d === null || d === undefined ? null : Number(d));

/** `timestamp(3)` columns hold UTC wall-clock time (as Prisma writes them). */
export function isoNoZone(d: Date): string {
  return d.toISOString().replace('Z', '');
}

/** The ledger primitives shared by the inventory, its reservations and purchasing (all inside a caller's transaction). */
export function createLedger(deps: { prisma: Db; clock: Clock; logger: Logger }) {
  const { prisma, clock } = deps;
  const log = deps.logger.child({ module: 'inventory' });

  async function stockRow(tx: Tx, partId: string, warehouseId: string): Promise<{ quantity: number; reserved: number }> {
    const s = await tx.stock.findUnique({ where: { partId_warehouseId: { partId, warehouseId } }, select: { quantity: true, reserved: true } });
    return s ?? { quantity: 0, reserved: 0 };
  }

  /** Applies `delta` to one balance; refuses (409) rather than taking reserved or missing stock. Returns the new balance. */
  async function applyDelta(tx: Tx, partId: string, warehouseId: string, delta: number, now: Date): Promise<number> {
    if (delta < 0) {
      const rows = await tx.$queryRawUnsafe<{ quantity: number }[]>(
        `UPDATE "stock" SET "quantity" = "quantity" + $3::int, "updated_at" = $4::timestamp
         WHERE "part_id" = $1 AND "warehouse_id" = $2 AND "quantity" + $3::int >= "reserved" RETURNING "quantity"`,
        partId,
        warehouseId,
        delta,
        isoNoZone(now),
      );
      const row = rows[0];
      if (!row) {
        const s = await stockRow(tx, partId, warehouseId);
        throw new AppError('conflict', shortageMessage(s, -delta), { partId, warehouseId, available: availableQuantity(s), onHand: s.quantity, reserved: s.reserved, requested: -delta });
      }
      return Number(row.quantity);
    }
    // the balance is an int4: a sum past its range would abort the statement with a 500, so the
    // conditional update refuses it (no row returned) and the caller gets a 409 naming the limit
    const rows = await tx.$queryRawUnsafe<{ quantity: number }[]>(
      `INSERT INTO "stock" ("part_id", "warehouse_id", "quantity", "updated_at") VALUES ($1, $2, $3::int, $4::timestamp)
       ON CONFLICT ("part_id", "warehouse_id") DO UPDATE SET "quantity" = "stock"."quantity" + EXCLUDED."quantity", "updated_at" = EXCLUDED."updated_at"
       WHERE "stock"."quantity"::bigint + EXCLUDED."quantity" <= ${MAX_BALANCE}
       RETURNING "quantity"`,
      partId,
      warehouseId,
      delta,
      isoNoZone(now),
    );
    const row = rows[0];
    if (!row) {
      const s = await stockRow(tx, partId, warehouseId);
      throw new AppError('conflict', `the balance would exceed ${MAX_BALANCE}: ${s.quantity} on hand, ${delta} more`, { partId, warehouseId, onHand: s.quantity, requested: delta, max: MAX_BALANCE });
    }
    return Number(row.quantity);
  }

  async function ledgerRow(
    tx: Tx,
    row: { partId: string; warehouseId: string; kind: LedgerKind; delta: number; balanceAfter: number; unitCost: Money; transferId?: string | undefined; at: Date },
    input: Pick<MoveInput, 'workOrderId' | 'reference' | 'note' | 'actor'>,
  ): Promise<MovementView> {
    return tx.stockMovement.create({
      data: {
        partId: row.partId,
        warehouseId: row.warehouseId,
        kind: row.kind,
        quantity: row.delta,
        balanceAfter: row.balanceAfter,
        unitCost: row.unitCost,
        transferId: row.transferId ?? null,
        workOrderId: input.workOrderId ?? null,
        reference: input.reference ?? null,
        note: input.note ?? null,
        actor: input.actor ?? null,
        at: row.at,
      },
      select: movementSelect,
    });
  }

  /** Inserts an open purchase request unless one is open or ordered for the part + warehouse (ON CONFLICT DO NOTHING). */
  async function raisePurchaseRequest(tx: Tx, r: { partId: string; warehouseId: string; quantity: number; reason: Record<string, unknown>; now: Date }): Promise<boolean> {
    const { count } = await tx.purchaseRequest.createMany({
      data: [{ partId: r.partId, warehouseId: r.warehouseId, quantity: r.quantity, status: 'open', openKey: purchaseRequestOpenKey(r.partId, r.warehouseId), reason: r.reason as Prisma.InputJsonValue, createdAt: r.now }],
      skipDuplicates: true,
    });
    if (count !== 1) return false;
    // low stock: one stock.low outbox event per request actually raised, in the issuing transaction
    const pr = await tx.purchaseRequest.findUniqueOrThrow({
      where: { openKey: purchaseRequestOpenKey(r.partId, r.warehouseId) },
      select: { id: true, number: true, part: { select: { code: true, name: true, unit: true, safetyStock: true } }, warehouse: { select: { code: true, name: true } } },
    });
    await recordEvent(tx, {
      type: 'stock.low',
      subjectId: pr.id,
      occurredAt: r.now,
      payload: {
        purchaseRequestId: pr.id,
        purchaseRequestNumber: pr.number,
        partId: r.partId,
        partCode: pr.part.code,
        partName: pr.part.name,
        unit: pr.part.unit,
        warehouseId: r.warehouseId,
        warehouseCode: pr.warehouse.code,
        quantity: r.quantity,
        safetyStock: pr.part.safetyStock,
        balance: typeof r.reason.balance === 'number' ? r.reason.balance : typeof r.reason.available === 'number' ? r.reason.available : null,
        trigger: r.reason.trigger ?? null,
        summary: r.reason.summary ?? null,
      },
    });
    return true;
  }

  /** After a balance went down: raise a purchase request unless one is already open for this part + warehouse. */
  async function maybeRequestPurchase(tx: Tx, part: PartRef, warehouseId: string, balance: number, now: Date): Promise<boolean> {
    const quantity = reorderNeed(part, balance);
    if (quantity === undefined) return false;
    return raisePurchaseRequest(tx, {
      partId: part.id,
      warehouseId,
      quantity,
      reason: { trigger: 'safety_stock', balance, safetyStock: part.safetyStock, summary: `${part.code}: ${balance} in stock ≤ safety stock ${part.safetyStock}` },
      now,
    });
  }

  async function requirePart(tx: Tx, id: string): Promise<PartRef> {
    const part = await tx.part.findUnique({ where: { id }, select: { id: true, code: true, safetyStock: true, reorderQuantity: true, unitCost: true } });
    if (!part) throw new AppError('validation', `part ${id} does not exist`, { partId: id });
    return part;
  }

  async function requireWarehouse(tx: Tx, id: string, field: string): Promise<void> {
    if (!(await tx.warehouse.findUnique({ where: { id }, select: { id: true } }))) throw new AppError('validation', `warehouse ${id} does not exist`, { [field]: id });
  }

  async function move(input: MoveInput, opts: { tx?: Tx | undefined } = {}): Promise<{ movements: MovementView[]; purchaseRequested: boolean }> {
    const d = movementDelta(input.kind, input.quantity);
    if (!d.ok) throw new AppError('validation', d.message, { kind: input.kind, quantity: input.quantity });
    if (input.kind === 'transfer') {
      if (!input.toWarehouseId) throw new AppError('validation', 'a transfer needs toWarehouseId', { kind: input.kind });
      if (input.toWarehouseId === input.warehouseId) throw new AppError('validation', 'a transfer needs two different warehouses', { toWarehouseId: input.toWarehouseId });
    } else if (input.toWarehouseId) {
      throw new AppError('validation', `toWarehouseId is only for transfers, not for a ${input.kind}`, { kind: input.kind });
    }
    const now = clock.now();
    const run = async (tx: Tx) => {
      const part = await requirePart(tx, input.partId);
      await requireWarehouse(tx, input.warehouseId, 'warehouseId');
      const unitCost = input.unitCost !== undefined && input.unitCost !== null ? input.unitCost : part.unitCost;
      const movements: MovementView[] = [];
      if (input.kind === 'transfer') {
        const to = input.toWarehouseId!;
        await requireWarehouse(tx, to, 'toWarehouseId');
        // lock both balances in one fixed order so opposite transfers cannot deadlock
        await tx.$queryRawUnsafe(
          `SELECT 1 FROM "stock" WHERE "part_id" = $1 AND "warehouse_id" IN ($2, $3) ORDER BY "warehouse_id" FOR UPDATE`,
          input.partId,
          input.warehouseId,
          to,
        );
        const transferId = randomUUID();
        const fromBalance = await applyDelta(tx, input.partId, input.warehouseId, d.delta, now);
        movements.push(await ledgerRow(tx, { partId: input.partId, warehouseId: input.warehouseId, kind: 'transfer_out', delta: d.delta, balanceAfter: fromBalance, unitCost, transferId, at: now }, input));
        const toBalance = await applyDelta(tx, input.partId, to, -d.delta, now);
        movements.push(await ledgerRow(tx, { partId: input.partId, warehouseId: to, kind: 'transfer_in', delta: -d.delta, balanceAfter: toBalance, unitCost, transferId, at: now }, input));
      } else {
        const balance = await applyDelta(tx, input.partId, input.warehouseId, d.delta, now);
        movements.push(await ledgerRow(tx, { partId: input.partId, warehouseId: input.warehouseId, kind: input.kind, delta: d.delta, balanceAfter: balance, unitCost, at: now }, input));
      }
      const first = movements[0]!;
      const purchaseRequested = first.quantity < 0 ? await maybeRequestPurchase(tx, part, first.warehouseId, first.balanceAfter, now) : false;
      return { movements, purchaseRequested };
    };
    const result = opts.tx ? await run(opts.tx) : await prisma.$transaction(run, TX_OPTIONS);
    log.info({ kind: input.kind, part: input.partId, warehouse: input.warehouseId, quantity: input.quantity, purchaseRequested: result.purchaseRequested }, 'stock movement');
    return result;
  }

  return { stockRow, applyDelta, ledgerRow, raisePurchaseRequest, maybeRequestPurchase, requirePart, requireWarehouse, move };
}

export type Ledger = ReturnType<typeof createLedger>;

export function createInventoryService(deps: { prisma: Db; clock: Clock; logger: Logger }) {
  const { prisma, clock } = deps;
  const log = deps.logger.child({ module: 'inventory' });
  const ledgerCore = createLedger(deps);
  const { move } = ledgerCore;
  const reservations = createReservations({ ...deps, ledger: ledgerCore });

  async function getPurchaseRequest(id: string): Promise<PurchaseRequestView> {
    const pr = await prisma.purchaseRequest.findUnique({ where: { id }, select: purchaseRequestSelect });
    if (!pr) throw notFound('PurchaseRequest', id);
    return pr;
  }

  /** Last balance before `from` per part + warehouse, and the ledger rows in [from, to) in ledger order. */
  async function ledgerWindow(from: Date, to: Date, warehouseId: string | undefined): Promise<{ openings: Opening[]; movements: LedgerRow[] }> {
    if (to.getTime() <= from.getTime()) throw new AppError('validation', '`to` must be after `from`', { from: from.toISOString(), to: to.toISOString() });
    const openings = await prisma.$queryRawUnsafe<{ partId: string; warehouseId: string; balance: number }[]>(
      `SELECT DISTINCT ON ("part_id", "warehouse_id") "part_id" AS "partId", "warehouse_id" AS "warehouseId", "balance_after" AS "balance"
       FROM "stock_movements" WHERE "at" < $1::timestamp AND ($2::text IS NULL OR "warehouse_id" = $2::text)
       ORDER BY "part_id", "warehouse_id", "seq" DESC`,
      isoNoZone(from),
      warehouseId ?? null,
    );
    const movements = await prisma.stockMovement.findMany({
      where: { at: { gte: from, lt: to }, ...(warehouseId ? { warehouseId } : {}) },
      select: { partId: true, warehouseId: true, kind: true, quantity: true, balanceAfter: true, at: true },
      orderBy: { seq: 'asc' },
    });
    return { openings: openings.map((o) => ({ ...o, balance: Number(o.balance) })), movements };
  }

  async function partNames(ids: string[]): Promise<Map<string, { code: string; name: string }>> {
    const parts = await prisma.part.findMany({ where: { id: { in: ids } }, select: { id: true, code: true, name: true } });
    return new Map(parts.map((p) => [p.id, { code: p.code, name: p.name }]));
  }

  return {
    workOrderHooks: reservations.workOrderHooks,
    reserve: reservations.reserve,
    listReservations: reservations.listReservations,
    setUsedQuantity: reservations.setUsedQuantity,
    releaseReservation: reservations.release,
    recordPartsUsed: reservations.recordPartsUsed,
    recordPartsReturned: reservations.recordPartsReturned,
    workOrderParts: reservations.workOrderParts,
    /** Ledger primitives for purchasing (receipts inside its transactions). */
    core: ledgerCore,

    async createPart(input: {
      code: string;
      name: string;
      unit?: string | undefined;
      unitCost?: number | undefined;
      safetyStock?: number | undefined;
      reorderQuantity?: number | undefined;
      supplier?: string | undefined;
      leadTimeDays?: number | undefined;
    }) {
      try {
        return await prisma.part.create({
          data: {
            code: input.code,
            name: input.name,
            unit: input.unit ?? 'pcs',
            unitCost: input.unitCost ?? null,
            safetyStock: input.safetyStock ?? 0,
            reorderQuantity: input.reorderQuantity ?? 0,
            supplier: input.supplier ?? null,
            leadTimeDays: input.leadTimeDays ?? null,
          },
          select: partSelect,
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', `part code ${input.code} already exists`, { code: input.code });
        throw err;
      }
    },

    async listParts(f: { code?: string | undefined; supplier?: string | undefined; limit: number; offset: number }) {
      const where: Prisma.PartWhereInput = { ...(f.code ? { code: f.code } : {}), ...(f.supplier ? { supplier: f.supplier } : {}) };
      const [items, total] = await Promise.all([
        prisma.part.findMany({ where, select: partSelect, orderBy: { code: 'asc' }, take: f.limit, skip: f.offset }),
        prisma.part.count({ where }),
      ]);
      return { items, total };
    },

    async createWarehouse(input: { code: string; name: string; kind?: WarehouseKind | undefined; siteId?: string | undefined; engineerId?: string | undefined }) {
      const kind = input.kind ?? 'site';
      // site_id has no foreign key: check it here (PM orders pick their store by the asset's site)
      if (input.siteId && !(await prisma.site.findUnique({ where: { id: input.siteId }, select: { id: true } }))) {
        throw new AppError('validation', `site ${input.siteId} does not exist`, { siteId: input.siteId });
      }
      if (input.engineerId) {
        if (kind !== 'van') throw new AppError('validation', `engineerId is only for vans, not for a ${kind} warehouse`, { kind });
        if (!(await prisma.engineer.findUnique({ where: { id: input.engineerId }, select: { id: true } }))) {
          throw new AppError('validation', `engineer ${input.engineerId} does not exist`, { engineerId: input.engineerId });
        }
      }
      try {
        return await prisma.warehouse.create({ data: { code: input.code, name: input.name, kind, siteId: input.siteId ?? null, engineerId: input.engineerId ?? null }, select: warehouseSelect });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', `warehouse code ${input.code} already exists`, { code: input.code });
        throw err;
      }
    },

    async listWarehouses(f: { kind?: WarehouseKind | undefined; engineerId?: string | undefined } = {}) {
      return prisma.warehouse.findMany({
        where: { ...(f.kind ? { kind: f.kind } : {}), ...(f.engineerId ? { engineerId: f.engineerId } : {}) },
        select: warehouseSelect,
        orderBy: { code: 'asc' },
      });
    },

    move,

    /** Balances (materialised from the ledger) with what is reserved and available, optionally for one part and/or one warehouse. */
    async stock(f: { partId?: string | undefined; warehouseId?: string | undefined }) {
      const rows = await prisma.stock.findMany({
        where: { ...(f.partId ? { partId: f.partId } : {}), ...(f.warehouseId ? { warehouseId: f.warehouseId } : {}) },
        select: {
          partId: true,
          warehouseId: true,
          quantity: true,
          reserved: true,
          updatedAt: true,
          part: { select: { code: true, safetyStock: true } },
          warehouse: { select: { code: true, kind: true } },
        },
        orderBy: [{ partId: 'asc' }, { warehouseId: 'asc' }],
      });
      return rows.map((r) => ({
        partId: r.partId,
        partCode: r.part.code,
        warehouseId: r.warehouseId,
        warehouseCode: r.warehouse.code,
        warehouseKind: r.warehouse.kind,
        quantity: r.quantity,
        reserved: r.reserved,
        available: availableQuantity(r),
        belowSafetyStock: r.part.safetyStock > 0 && r.quantity <= r.part.safetyStock,
        updatedAt: r.updatedAt,
      }));
    },

    /** Ledger of one part, newest first. */
    async ledger(f: { partId: string; warehouseId?: string | undefined; limit: number; offset: number }) {
      if (!(await prisma.part.findUnique({ where: { id: f.partId }, select: { id: true } }))) throw notFound('Part', f.partId);
      const where: Prisma.StockMovementWhereInput = { partId: f.partId, ...(f.warehouseId ? { warehouseId: f.warehouseId } : {}) };
      const [items, total] = await Promise.all([
        prisma.stockMovement.findMany({ where, select: movementSelect, orderBy: { seq: 'desc' }, take: f.limit, skip: f.offset }),
        prisma.stockMovement.count({ where }),
      ]);
      return { items, total };
    },

    async listPurchaseRequests(f: { status?: PurchaseRequestStatus | undefined; partId?: string | undefined; warehouseId?: string | undefined; limit: number; offset: number }) {
      const where: Prisma.PurchaseRequestWhereInput = {
        ...(f.status ? { status: f.status } : {}),
        ...(f.partId ? { partId: f.partId } : {}),
        ...(f.warehouseId ? { warehouseId: f.warehouseId } : {}),
      };
      const [items, total] = await Promise.all([
        prisma.purchaseRequest.findMany({ where, select: purchaseRequestSelect, orderBy: { number: 'desc' }, take: f.limit, skip: f.offset }),
        prisma.purchaseRequest.count({ where }),
      ]);
      return { items, total };
    },

    getPurchaseRequest,

    /**
     * open → ordered → received (posts a receipt to the ledger) | cancelled; final states free the open key.
     * A request on a purchase-order line follows its order instead (placing, receiving, cancelling the order).
     */
    async transitionPurchaseRequest(id: string, input: { to: PurchaseRequestStatus; actor?: string | undefined; note?: string | undefined }) {
      const now = clock.now();
      await prisma.$transaction(async (tx) => {
        const current = await tx.purchaseRequest.findUnique({
          where: { id },
          select: { status: true, number: true, partId: true, warehouseId: true, quantity: true, purchaseOrderLine: { select: { purchaseOrder: { select: { number: true } } } } },
        });
        if (!current) throw notFound('PurchaseRequest', id);
        const from = current.status;
        const check = checkPurchaseRequestTransition(from, input.to);
        if (!check.ok) throw new AppError('illegal_transition', check.message, { from, to: input.to });
        if (current.purchaseOrderLine) {
          const po = current.purchaseOrderLine.purchaseOrder.number;
          throw new AppError('conflict', `purchase request ${current.number} is on purchase order PO-${po}: place, receive or cancel the order instead`, { purchaseOrder: po });
        }
        const stamp = input.to === 'ordered' ? 'orderedAt' : input.to === 'received' ? 'receivedAt' : 'cancelledAt';
        // compare-and-set on the status: a concurrent transition makes this match nothing
        const updated = await tx.purchaseRequest.updateMany({
          where: { id, status: from },
          data: { status: input.to, [stamp]: now, ...(isOpenPurchaseRequest(input.to) ? {} : { openKey: null }) },
        });
        if (updated.count !== 1) throw new AppError('conflict', `purchase request ${id} changed concurrently; reload and retry`, { id });
        if (input.to === 'received') {
          await move(
            { kind: 'receipt', partId: current.partId, warehouseId: current.warehouseId, quantity: current.quantity, reference: `PR-${current.number}`, note: input.note, actor: input.actor },
            { tx },
          );
        }
      }, TX_OPTIONS);
      log.info({ purchaseRequest: id, to: input.to }, 'purchase request transition');
      return getPurchaseRequest(id);
    },

    /**
     * Stock value per part + warehouse (stock > 0). Costing: `standard` (default) = the part's
     * current unit cost; `average` = weighted average of priced receipts in the ledger (Σ q·c / Σ q,
     * all warehouses), falling back to the standard cost for parts never received at a price.
     */
    async valuationReport(f: { warehouseId?: string | undefined; method?: 'standard' | 'average' | undefined }) {
      const method = f.method ?? 'standard';
      const rows = await prisma.stock.findMany({
        where: { quantity: { gt: 0 }, ...(f.warehouseId ? { warehouseId: f.warehouseId } : {}) },
        select: { partId: true, warehouseId: true, quantity: true, part: { select: { code: true, name: true, unitCost: true } }, warehouse: { select: { code: true } } },
        orderBy: [{ partId: 'asc' }, { warehouseId: 'asc' }],
      });
      const average = new Map<string, number>();
      if (method === 'average' && rows.length) {
        const receipts = await prisma.stockMovement.findMany({
          where: { kind: 'receipt', partId: { in: [...new Set(rows.map((r) => r.partId))] }, unitCost: { not: null } },
          select: { partId: true, quantity: true, unitCost: true },
        });
        const byPart = new Map<string, { quantity: number; unitCost: number | null }[]>();
        for (const r of receipts) byPart.set(r.partId, [...(byPart.get(r.partId) ?? []), { quantity: r.quantity, unitCost: num(r.unitCost) }]);
        for (const [partId, list] of byPart) {
          const avg = weightedAverageCost(list);
          if (avg !== undefined) average.set(partId, avg);
        }
      }
      const report = valuation(
        rows
          .map((r) => ({
            partId: r.partId,
            partCode: r.part.code,
            partName: r.part.name,
            warehouseId: r.warehouseId,
            warehouseCode: r.warehouse.code,
            quantity: r.quantity,
            unitCost: average.get(r.partId) ?? num(r.part.unitCost),
          }))
          .sort((a, b) => a.partCode.localeCompare(b.partCode) || a.warehouseCode.localeCompare(b.warehouseCode)),
      );
      return { method, ...report };
    },

    /** Per part over [from, to): issued/returned/consumed, time-weighted average on-hand, turnover ratio, days of supply. */
    async turnoverReport(f: { from: Date; to: Date; warehouseId?: string | undefined }) {
      const { openings, movements } = await ledgerWindow(f.from, f.to, f.warehouseId);
      const items = turnover(openings, movements, f.from, f.to);
      const names = await partNames(items.map((i) => i.partId));
      return {
        from: f.from,
        to: f.to,
        items: items
          .map((i) => ({ ...i, partCode: names.get(i.partId)?.code ?? '', partName: names.get(i.partId)?.name ?? '' }))
          .sort((a, b) => a.partCode.localeCompare(b.partCode)),
      };
    },

    /** Parts with stock and no issue in the last `days` days (never issued included): quantity, value at unit cost, last issue. */
    async slowMovingReport(f: { days: number; warehouseId?: string | undefined }) {
      const now = clock.now();
      const stock = await prisma.stock.groupBy({ by: ['partId'], where: { quantity: { gt: 0 }, ...(f.warehouseId ? { warehouseId: f.warehouseId } : {}) }, _sum: { quantity: true } });
      const ids = stock.map((s) => s.partId);
      const [parts, lastIssues] = await Promise.all([
        prisma.part.findMany({ where: { id: { in: ids } }, select: { id: true, code: true, name: true, unitCost: true } }),
        prisma.stockMovement.groupBy({ by: ['partId'], where: { partId: { in: ids }, kind: 'issue', ...(f.warehouseId ? { warehouseId: f.warehouseId } : {}) }, _max: { at: true } }),
      ]);
      const qty = new Map(stock.map((s) => [s.partId, s._sum.quantity ?? 0]));
      const last = new Map(lastIssues.map((l) => [l.partId, l._max.at]));
      const items = slowMoving(
        parts.map((p) => ({ partId: p.id, partCode: p.code, partName: p.name, quantity: qty.get(p.id) ?? 0, unitCost: num(p.unitCost), lastIssueAt: last.get(p.id) ?? null })),
        now,
        f.days,
      );
      return { days: f.days, asOf: now, items, totalValue: items.reduce((s, i) => Math.round((s + i.value) * 100) / 100, 0) };
    },

    /** Per part over [from, to): how many times a balance went to 0 (from the ledger's balanceAfter). */
    async stockOutReport(f: { from: Date; to: Date; warehouseId?: string | undefined }) {
      const { openings, movements } = await ledgerWindow(f.from, f.to, f.warehouseId);
      const items = stockOuts(openings, movements);
      const names = await partNames(items.map((i) => i.partId));
      return { from: f.from, to: f.to, items: items.map((i) => ({ ...i, partCode: names.get(i.partId)?.code ?? '', partName: names.get(i.partId)?.name ?? '' })) };
    },
  };
}

export type InventoryService = ReturnType<typeof createInventoryService>;
