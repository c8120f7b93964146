/**
 * Parts inventory: catalogue, warehouses (site stores, central stores, engineers' vans), a movement
 * ledger and the balances derived from it, and purchase requests raised at safety stock.
 *
 * Never negative, even under concurrent issues: each balance change is ONE conditional UPDATE
 * (`quantity + delta >= 0`) in the same transaction as its ledger row; PostgreSQL re-checks the
 * condition after waiting for a concurrent writer's row lock, and a CHECK constraint backs it.
 * Exactly one purchase request per part + warehouse while one is open or ordered: `open_key` is
 * unique and is inserted with ON CONFLICT DO NOTHING inside the issuing transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../platform/clock.ts';
import type { Db, Prisma } from '../platform/db/database.ts';
import { AppError, isUniqueViolation, notFound } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import type { WorkOrderHooks } from './work-orders.ts';
import {
  checkPurchaseRequestTransition,
  isOpenPurchaseRequest,
  movementDelta,
  purchaseRequestOpenKey,
  reorderNeed,
  type LedgerKind,
  type MovementKind,
  type PurchaseRequestStatus,
} from './inventory-rules.ts';

type Tx = Prisma.TransactionClient;
export type WarehouseKind = 'site' | 'central' | 'van';

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
}

export const partSelect = {
  id: true,
  code: true,
  name: true,
  unit: true,
  unitCost: true,
  safetyStock: true,
  reorderQuantity: true,
  createdAt: true,
} satisfies Prisma.PartSelect;

export const warehouseSelect = { id: true, code: true, name: true, kind: true, siteId: true } satisfies Prisma.WarehouseSelect;

export const movementSelect = {
  id: true,
  seq: true,
  partId: true,
  warehouseId: true,
  kind: true,
  quantity: true,
  balanceAfter: true,
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
} satisfies Prisma.PurchaseRequestSelect;

export type MovementView = Prisma.StockMovementGetPayload<{ select: typeof movementSelect }>;
export type PurchaseRequestView = Prisma.PurchaseRequestGetPayload<{ select: typeof purchaseRequestSelect }>;

const TX_OPTIONS = { maxWait: 10_000, timeout: 15_000 };

export function createInventoryService(deps: { prisma: Db; clock: Clock; logger: Logger }) {
  const { prisma, clock } = deps;
  const log = deps.logger.child({ module: 'inventory' });

  /** Applies `delta` to one balance; refuses (409) rather than going below zero. Returns the new balance. */
  async function applyDelta(tx: Tx, partId: string, warehouseId: string, delta: number, now: Date): Promise<number> {
    if (delta < 0) {
      const rows = await tx.$queryRawUnsafe<{ quantity: number }[]>(
        `UPDATE "stock" SET "quantity" = "quantity" + $3::int, "updated_at" = $4::timestamp
         WHERE "part_id" = $1 AND "warehouse_id" = $2 AND "quantity" + $3::int >= 0 RETURNING "quantity"`,
        partId,
        warehouseId,
        delta,
        isoNoZone(now),
      );
      const row = rows[0];
      if (!row) {
        const current = await tx.stock.findUnique({ where: { partId_warehouseId: { partId, warehouseId } }, select: { quantity: true } });
        const available = current?.quantity ?? 0;
        throw new AppError('conflict', `insufficient stock: ${available} available, ${-delta} requested`, { partId, warehouseId, available, requested: -delta });
      }
      return Number(row.quantity);
    }
    const rows = await tx.$queryRawUnsafe<{ quantity: number }[]>(
      `INSERT INTO "stock" ("part_id", "warehouse_id", "quantity", "updated_at") VALUES ($1, $2, $3::int, $4::timestamp)
       ON CONFLICT ("part_id", "warehouse_id") DO UPDATE SET "quantity" = "stock"."quantity" + EXCLUDED."quantity", "updated_at" = EXCLUDED."updated_at"
       RETURNING "quantity"`,
      partId,
      warehouseId,
      delta,
      isoNoZone(now),
    );
    return Number(rows[0]!.quantity);
  }

  async function ledgerRow(
    tx: Tx,
    row: { partId: string; warehouseId: string; kind: LedgerKind; delta: number; balanceAfter: number; transferId?: string | undefined; at: Date },
    input: Pick<MoveInput, 'workOrderId' | 'reference' | 'note' | 'actor'>,
  ): Promise<MovementView> {
    return tx.stockMovement.create({
      data: {
        partId: row.partId,
        warehouseId: row.warehouseId,
        kind: row.kind,
        quantity: row.delta,
        balanceAfter: row.balanceAfter,
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

  /** After a balance went down: raise a purchase request unless one is already open for this part + warehouse. */
  async function maybeRequestPurchase(
    tx: Tx,
    part: { id: string; code: string; safetyStock: number; reorderQuantity: number },
    warehouseId: string,
    balance: number,
    now: Date,
  ): Promise<boolean> {
    const quantity = reorderNeed(part, balance);
    if (quantity === undefined) return false;
    // ON CONFLICT (open_key) DO NOTHING: a concurrent or earlier open request wins, and this transaction stays usable
    const { count } = await tx.purchaseRequest.createMany({
      data: [
        {
          partId: part.id,
          warehouseId,
          quantity,
          status: 'open',
          openKey: purchaseRequestOpenKey(part.id, warehouseId),
          reason: { trigger: 'safety_stock', balance, safetyStock: part.safetyStock, summary: `${part.code}: ${balance} in stock ≤ safety stock ${part.safetyStock}` },
          createdAt: now,
        },
      ],
      skipDuplicates: true,
    });
    return count === 1;
  }

  async function requirePart(tx: Tx, id: string) {
    const part = await tx.part.findUnique({ where: { id }, select: { id: true, code: true, safetyStock: true, reorderQuantity: true } });
    if (!part) throw new AppError('validation', `part ${id} does not exist`, { partId: id });
    return part;
  }

  async function requireWarehouse(tx: Tx, id: string, field: string): Promise<void> {
    if (!(await tx.warehouse.findUnique({ where: { id }, select: { id: true } }))) throw new AppError('validation', `warehouse ${id} does not exist`, { [field]: id });
  }

  async function move(input: MoveInput, opts: { tx?: Tx } = {}): Promise<{ movements: MovementView[]; purchaseRequested: boolean }> {
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
        movements.push(await ledgerRow(tx, { partId: input.partId, warehouseId: input.warehouseId, kind: 'transfer_out', delta: d.delta, balanceAfter: fromBalance, transferId, at: now }, input));
        const toBalance = await applyDelta(tx, input.partId, to, -d.delta, now);
        movements.push(await ledgerRow(tx, { partId: input.partId, warehouseId: to, kind: 'transfer_in', delta: -d.delta, balanceAfter: toBalance, transferId, at: now }, input));
      } else {
        const balance = await applyDelta(tx, input.partId, input.warehouseId, d.delta, now);
        movements.push(await ledgerRow(tx, { partId: input.partId, warehouseId: input.warehouseId, kind: input.kind, delta: d.delta, balanceAfter: balance, at: now }, input));
      }
      const first = movements[0]!;
      const purchaseRequested = first.quantity < 0 ? await maybeRequestPurchase(tx, part, first.warehouseId, first.balanceAfter, now) : false;
      return { movements, purchaseRequested };
    };
    const result = opts.tx ? await run(opts.tx) : await prisma.$transaction(run, TX_OPTIONS);
    log.info({ kind: input.kind, part: input.partId, warehouse: input.warehouseId, quantity: input.quantity, purchaseRequested: result.purchaseRequested }, 'stock movement');
    return result;
  }

  async function getPurchaseRequest(id: string): Promise<PurchaseRequestView> {
    const pr = await prisma.purchaseRequest.findUnique({ where: { id }, select: purchaseRequestSelect });
    if (!pr) throw notFound('PurchaseRequest', id);
    return pr;
  }

  // SKELETON: reservations on work orders, consumption at completion, release on cancel (to be implemented)
  const workOrderHooks: WorkOrderHooks = {};

  return {
    workOrderHooks,
    async createPart(input: { code: string; name: string; unit?: string | undefined; unitCost?: number | undefined; safetyStock?: number | undefined; reorderQuantity?: number | undefined }) {
      try {
        return await prisma.part.create({
          data: {
            code: input.code,
            name: input.name,
            unit: input.unit ?? 'pcs',
            unitCost: input.unitCost ?? null,
            safetyStock: input.safetyStock ?? 0,
            reorderQuantity: input.reorderQuantity ?? 0,
          },
          select: partSelect,
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', `part code ${input.code} already exists`, { code: input.code });
        throw err;
      }
    },

    async listParts(f: { code?: string | undefined; limit: number; offset: number }) {
      const where: Prisma.PartWhereInput = f.code ? { code: f.code } : {};
      const [items, total] = await Promise.all([
        prisma.part.findMany({ where, select: partSelect, orderBy: { code: 'asc' }, take: f.limit, skip: f.offset }),
        prisma.part.count({ where }),
      ]);
      return { items, total };
    },

    async createWarehouse(input: { code: string; name: string; kind?: WarehouseKind | undefined; siteId?: string | undefined }) {
      try {
        return await prisma.warehouse.create({ data: { code: input.code, name: input.name, kind: input.kind ?? 'site', siteId: input.siteId ?? null }, select: warehouseSelect });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('conflict', `warehouse code ${input.code} already exists`, { code: input.code });
        throw err;
      }
    },

    async listWarehouses(f: { kind?: WarehouseKind | undefined } = {}) {
      return prisma.warehouse.findMany({ where: f.kind ? { kind: f.kind } : {}, select: warehouseSelect, orderBy: { code: 'asc' } });
    },

    move,

    /** Balances (materialised from the ledger), optionally for one part and/or one warehouse. */
    async stock(f: { partId?: string | undefined; warehouseId?: string | undefined }) {
      const rows = await prisma.stock.findMany({
        where: { ...(f.partId ? { partId: f.partId } : {}), ...(f.warehouseId ? { warehouseId: f.warehouseId } : {}) },
        select: {
          partId: true,
          warehouseId: true,
          quantity: true,
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

    /** open → ordered → received (posts a receipt to the ledger) | cancelled; final states free the open key. */
    async transitionPurchaseRequest(id: string, input: { to: PurchaseRequestStatus; actor?: string | undefined; note?: string | undefined }) {
      const now = clock.now();
      await prisma.$transaction(async (tx) => {
        const current = await tx.purchaseRequest.findUnique({ where: { id }, select: { status: true, number: true, partId: true, warehouseId: true, quantity: true } });
        if (!current) throw notFound('PurchaseRequest', id);
        const from = current.status;
        const check = checkPurchaseRequestTransition(from, input.to);
        if (!check.ok) throw new AppError('illegal_transition', check.message, { from, to: input.to });
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
  };
}

/** `timestamp(3)` columns hold UTC wall-clock time (as Prisma writes them). */
function isoNoZone(d: Date): string {
  return d.toISOString().replace('Z', '');
}

export type InventoryService = ReturnType<typeof createInventoryService>;
