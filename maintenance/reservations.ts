/**
 * Parts on work orders: reservations, consumption at completion, release on cancel, parts used or
 * returned ad hoc, and the parts consumed by an order (from the ledger).
 *
 * - A reservation is ONE conditional UPDATE `reserved = reserved + q WHERE quantity - reserved >= q`
 *   in the transaction that inserts the reservation row: concurrent reservations never over-commit.
 *   Issues, transfers and adjustments cannot take reserved stock (see `applyDelta` in inventory.ts).
 * - `consumedQuantity` of a reserved row is the quantity it will use (default: all of it; PUT
 *   usedQuantity changes it); once consumed it is what was issued, once released 0.
 * - Completion (`onTransition` to completed, in the transition's transaction): every reserved row
 *   becomes an `issue` movement linked to the order for its used quantity at the part's unit cost,
 *   the balance's reserved quantity drops by the whole reservation (the rest is released), and the
 *   safety-stock purchase request check runs as for any issue. If any step cannot happen the hook
 *   throws and the completion rolls back: the order stays where it was.
 * - Cancellation releases every reserved row.
 * - PM orders (`onCreated`, in the creating transaction): each part of the plan is reserved from a
 *   site store at the asset's site (else a central store) when it is available in full; when it is
 *   not, nothing is reserved for that part, the order is still created, and a purchase request for
 *   the shortage (at least the part's reorder quantity) is raised — once, via the open key.
 * - Lock order: the work-order row first (FOR SHARE to reserve/release/use parts, FOR UPDATE to
 *   consume or release all, FOR UPDATE to return parts), then stock rows, then reservation rows; so
 *   a reservation cannot slip in beside a completing order, and nothing deadlocks.
 */
import type { Clock } from '../platform/clock.ts';
import type { Db, DbTx, Prisma } from '../platform/db/database.ts';
import { AppError, notFound } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import type { CreatedOrder, TransitionContext, WorkOrderHooks } from './work-orders.ts';
import type { Ledger, Tx } from './inventory.ts';
import { consumedParts } from './inventory-reports.ts';
import { canRecordPartsFor, canReserveFor, checkUsedQuantity, consumption, pickReservationWarehouse, reservationShortageMessage } from './inventory-rules.ts';

const TX_OPTIONS = { maxWait: 10_000, timeout: 15_000 };

export const reservationSelect = {
  id: true,
  workOrderId: true,
  partId: true,
  warehouseId: true,
  quantity: true,
  consumedQuantity: true,
  status: true,
  createdAt: true,
  closedAt: true,
  part: { select: { code: true, name: true } },
  warehouse: { select: { code: true } },
} satisfies Prisma.PartReservationSelect;

export type ReservationRow = Prisma.PartReservationGetPayload<{ select: typeof reservationSelect }>;

interface PartLine {
  partId: string;
  warehouseId: string;
  quantity: number;
  actor?: string | undefined;
  note?: string | undefined;
}

const iso = (d: Date): string => d.toISOString().replace('Z', '');

export function createReservations(deps: { prisma: Db; clock: Clock; logger: Logger; ledger: Ledger }) {
  const { prisma, clock, ledger } = deps;
  const log = deps.logger.child({ module: 'reservations' });

  /** Locks the work-order row (see the lock order above) and returns its status and number. */
  async function lockOrder(tx: Tx, id: string, mode: 'SHARE' | 'UPDATE'): Promise<{ status: string; number: number }> {
    const rows = await tx.$queryRawUnsafe<{ status: string; number: number }[]>(`SELECT "status"::text AS "status", "number" FROM "work_orders" WHERE "id" = $1 FOR ${mode}`, id);
    const row = rows[0];
    if (!row) throw notFound('WorkOrder', id);
    return { status: row.status, number: Number(row.number) };
  }

  /** reserved += q when that much is available; false (nothing changed) otherwise. */
  async function tryReserve(tx: Tx, partId: string, warehouseId: string, quantity: number, now: Date): Promise<boolean> {
    const rows = await tx.$queryRawUnsafe<unknown[]>(
      `UPDATE "stock" SET "reserved" = "reserved" + $3::int, "updated_at" = $4::timestamp
       WHERE "part_id" = $1 AND "warehouse_id" = $2 AND "quantity" - "reserved" >= $3::int RETURNING 1`,
      partId,
      warehouseId,
      quantity,
      iso(now),
    );
    return rows.length === 1;
  }

  /** reserved −= q (a release); refuses when the balance does not hold that much reserved (inconsistent data). */
  async function unreserve(tx: Tx, partId: string, warehouseId: string, quantity: number, now: Date): Promise<void> {
    const rows = await tx.$queryRawUnsafe<unknown[]>(
      `UPDATE "stock" SET "reserved" = "reserved" - $3::int, "updated_at" = $4::timestamp
       WHERE "part_id" = $1 AND "warehouse_id" = $2 AND "reserved" >= $3::int RETURNING 1`,
      partId,
      warehouseId,
      quantity,
      iso(now),
    );
    if (rows.length !== 1) throw new AppError('conflict', `stock of part ${partId} in warehouse ${warehouseId} does not hold ${quantity} reserved`, { partId, warehouseId, quantity });
  }

  async function reserveIn(tx: Tx, workOrderId: string, line: PartLine, now: Date): Promise<ReservationRow> {
    const part = await ledger.requirePart(tx, line.partId);
    await ledger.requireWarehouse(tx, line.warehouseId, 'warehouseId');
    if (!(await tryReserve(tx, line.partId, line.warehouseId, line.quantity, now))) {
      const s = await ledger.stockRow(tx, line.partId, line.warehouseId);
      throw new AppError('conflict', reservationShortageMessage(s, line.quantity), {
        partId: line.partId,
        partCode: part.code,
        warehouseId: line.warehouseId,
        available: s.quantity - s.reserved,
        onHand: s.quantity,
        reserved: s.reserved,
        requested: line.quantity,
      });
    }
    return tx.partReservation.create({
      data: { workOrderId, partId: line.partId, warehouseId: line.warehouseId, quantity: line.quantity, consumedQuantity: line.quantity, status: 'reserved', createdAt: now },
      select: reservationSelect,
    });
  }

  async function requireReservation(tx: Tx, workOrderId: string, id: string) {
    const r = await tx.partReservation.findFirst({ where: { id, workOrderId }, select: { id: true, status: true, partId: true, warehouseId: true, quantity: true } });
    if (!r) throw notFound('PartReservation', id);
    if (r.status !== 'reserved') throw new AppError('conflict', `reservation ${id} is already ${r.status}`, { status: r.status });
    return r;
  }

  /** Completion: issue what each reservation uses, release the rest, raise purchase requests at safety stock. */
  async function consumeAll(tx: Tx, ctx: TransitionContext): Promise<void> {
    const order = await lockOrder(tx, ctx.id, 'UPDATE');
    const rows = await tx.partReservation.findMany({
      where: { workOrderId: ctx.id, status: 'reserved' },
      select: { id: true, partId: true, warehouseId: true, quantity: true, consumedQuantity: true },
      orderBy: [{ partId: 'asc' }, { warehouseId: 'asc' }, { createdAt: 'asc' }],
    });
    for (const r of rows) {
      const part = await ledger.requirePart(tx, r.partId);
      const { issue } = consumption({ quantity: r.quantity, usedQuantity: r.consumedQuantity });
      const updated = await tx.$queryRawUnsafe<{ quantity: number }[]>(
        `UPDATE "stock" SET "quantity" = "quantity" - $3::int, "reserved" = "reserved" - $4::int, "updated_at" = $5::timestamp
         WHERE "part_id" = $1 AND "warehouse_id" = $2 AND "reserved" >= $4::int AND "quantity" - $3::int >= "reserved" - $4::int RETURNING "quantity"`,
        r.partId,
        r.warehouseId,
        issue,
        r.quantity,
        iso(ctx.at),
      );
      const balance = updated[0];
      if (!balance) {
        const s = await ledger.stockRow(tx, r.partId, r.warehouseId);
        throw new AppError('conflict', `cannot consume the reservation of ${r.quantity} × ${part.code}: the warehouse holds ${s.quantity} on hand, ${s.reserved} reserved; the work order stays ${ctx.from}`, {
          reservationId: r.id,
          partId: r.partId,
          warehouseId: r.warehouseId,
          onHand: s.quantity,
          reserved: s.reserved,
        });
      }
      const balanceAfter = Number(balance.quantity);
      if (issue > 0) {
        await ledger.ledgerRow(
          tx,
          { partId: r.partId, warehouseId: r.warehouseId, kind: 'issue', delta: -issue, balanceAfter, unitCost: part.unitCost, at: ctx.at },
          { workOrderId: ctx.id, reference: `WO-${order.number}`, note: `reservation ${r.id} consumed at completion`, actor: ctx.actor },
        );
        await ledger.maybeRequestPurchase(tx, part, r.warehouseId, balanceAfter, ctx.at);
      }
      const done = await tx.partReservation.updateMany({ where: { id: r.id, status: 'reserved' }, data: { status: 'consumed', consumedQuantity: issue, closedAt: ctx.at } });
      if (done.count !== 1) throw new AppError('conflict', `reservation ${r.id} changed concurrently; retry the completion`, { reservationId: r.id });
    }
    if (rows.length) log.info({ workOrder: ctx.id, reservations: rows.length }, 'reservations consumed at completion');
  }

  async function releaseAll(tx: Tx, workOrderId: string, now: Date): Promise<number> {
    await lockOrder(tx, workOrderId, 'UPDATE');
    const rows = await tx.partReservation.findMany({
      where: { workOrderId, status: 'reserved' },
      select: { id: true, partId: true, warehouseId: true, quantity: true },
      orderBy: [{ partId: 'asc' }, { warehouseId: 'asc' }],
    });
    for (const r of rows) {
      await unreserve(tx, r.partId, r.warehouseId, r.quantity, now);
      await tx.partReservation.updateMany({ where: { id: r.id, status: 'reserved' }, data: { status: 'released', consumedQuantity: 0, closedAt: now } });
    }
    return rows.length;
  }

  /** PM orders: reserve the plan's parts where available in full; otherwise raise a purchase request for the shortage. */
  async function reservePlanParts(tx: Tx, order: CreatedOrder): Promise<void> {
    const planParts = await tx.pmPlanPart.findMany({ where: { planId: order.pmPlanId! }, select: { partId: true, quantity: true }, orderBy: { partId: 'asc' } });
    if (!planParts.length) return;
    const asset = await tx.asset.findUnique({ where: { id: order.assetId }, select: { siteId: true } });
    const siteId = asset?.siteId ?? null;
    const candidates = await tx.warehouse.findMany({
      where: { OR: [...(siteId ? [{ kind: 'site' as const, siteId }] : []), { kind: 'central' as const }] },
      select: { id: true, code: true, kind: true, siteId: true },
    });
    const wh = pickReservationWarehouse(candidates, siteId);
    if (!wh) {
      log.warn({ workOrder: order.id, pmPlan: order.pmPlanId, site: siteId }, 'no site or central store to reserve the PM plan\'s parts from');
      return;
    }
    const now = clock.now();
    for (const p of planParts) {
      const part = await ledger.requirePart(tx, p.partId);
      if (await tryReserve(tx, p.partId, wh.id, p.quantity, now)) {
        await tx.partReservation.create({
          data: { workOrderId: order.id, partId: p.partId, warehouseId: wh.id, quantity: p.quantity, consumedQuantity: p.quantity, status: 'reserved', createdAt: now },
          select: { id: true },
        });
        continue;
      }
      const s = await ledger.stockRow(tx, p.partId, wh.id);
      const available = Math.max(0, s.quantity - s.reserved);
      const shortage = p.quantity - available;
      const raised = await ledger.raisePurchaseRequest(tx, {
        partId: p.partId,
        warehouseId: wh.id,
        quantity: Math.max(shortage, part.reorderQuantity),
        reason: {
          trigger: 'pm_shortage',
          workOrderId: order.id,
          pmPlanId: order.pmPlanId,
          required: p.quantity,
          available,
          summary: `${part.code}: PM order needs ${p.quantity}, ${available} available in ${wh.code}`,
        },
        now,
      });
      log.warn({ workOrder: order.id, part: part.code, warehouse: wh.code, required: p.quantity, available, purchaseRequested: raised }, 'PM part not available: nothing reserved');
    }
  }

  const workOrderHooks: WorkOrderHooks = {
    async onCreated(tx: DbTx, order: CreatedOrder) {
      if (order.pmPlanId) await reservePlanParts(tx, order);
    },
    async onTransition(tx: DbTx, ctx: TransitionContext) {
      if (ctx.to === 'completed') await consumeAll(tx, ctx);
      else if (ctx.to === 'cancelled') {
        const n = await releaseAll(tx, ctx.id, ctx.at);
        if (n) log.info({ workOrder: ctx.id, reservations: n }, 'reservations released on cancel');
      }
    },
  };

  const byId = (id: string) => prisma.partReservation.findUniqueOrThrow({ where: { id }, select: reservationSelect });

  return {
    workOrderHooks,

    /** Reserves `quantity` of a part in a warehouse for an order before completion; 409 with the figures when not available. */
    async reserve(workOrderId: string, line: PartLine): Promise<ReservationRow> {
      const now = clock.now();
      const r = await prisma.$transaction(async (tx) => {
        const order = await lockOrder(tx, workOrderId, 'SHARE');
        if (!canReserveFor(order.status)) throw new AppError('illegal_transition', `work order is ${order.status}; parts can no longer be reserved for it`, { status: order.status });
        return reserveIn(tx, workOrderId, line, now);
      }, TX_OPTIONS);
      log.info({ workOrder: workOrderId, part: line.partId, warehouse: line.warehouseId, quantity: line.quantity }, 'parts reserved');
      return r;
    },

    async listReservations(workOrderId: string, f: { status?: 'reserved' | 'consumed' | 'released' | undefined } = {}): Promise<ReservationRow[]> {
      if (!(await prisma.workOrder.findUnique({ where: { id: workOrderId }, select: { id: true } }))) throw notFound('WorkOrder', workOrderId);
      return prisma.partReservation.findMany({ where: { workOrderId, ...(f.status ? { status: f.status } : {}) }, select: reservationSelect, orderBy: { createdAt: 'asc' } });
    },

    /** How much of a reservation will actually be used at completion (0 … reserved); the rest is released then. */
    async setUsedQuantity(workOrderId: string, id: string, usedQuantity: number): Promise<ReservationRow> {
      await prisma.$transaction(async (tx) => {
        await lockOrder(tx, workOrderId, 'SHARE');
        const r = await requireReservation(tx, workOrderId, id);
        const check = checkUsedQuantity(r.quantity, usedQuantity);
        if (!check.ok) throw new AppError('validation', check.message, { reserved: r.quantity, usedQuantity });
        await tx.partReservation.updateMany({ where: { id, status: 'reserved' }, data: { consumedQuantity: usedQuantity } });
      }, TX_OPTIONS);
      return byId(id);
    },

    /** Gives a reservation's quantity back to the available stock. */
    async release(workOrderId: string, id: string): Promise<ReservationRow> {
      const now = clock.now();
      await prisma.$transaction(async (tx) => {
        await lockOrder(tx, workOrderId, 'SHARE');
        const r = await requireReservation(tx, workOrderId, id);
        const done = await tx.partReservation.updateMany({ where: { id, status: 'reserved' }, data: { status: 'released', consumedQuantity: 0, closedAt: now } });
        if (done.count !== 1) throw new AppError('conflict', `reservation ${id} changed concurrently; reload and retry`, { id });
        await unreserve(tx, r.partId, r.warehouseId, r.quantity, now);
      }, TX_OPTIONS);
      log.info({ workOrder: workOrderId, reservation: id }, 'reservation released');
      return byId(id);
    },

    /** Parts taken for an order without a reservation: an `issue` linked to it (not on closed/cancelled orders). */
    async recordPartsUsed(workOrderId: string, line: PartLine) {
      return prisma.$transaction(async (tx) => {
        const order = await lockOrder(tx, workOrderId, 'SHARE');
        if (!canRecordPartsFor(order.status)) throw new AppError('illegal_transition', `work order is ${order.status}; parts can no longer be recorded on it`, { status: order.status });
        return ledger.move({ kind: 'issue', ...line, workOrderId, reference: `WO-${order.number}` }, { tx });
      }, TX_OPTIONS);
    },

    /** Unused parts brought back: a `return` linked to the order, at most what the order consumed of that part. */
    async recordPartsReturned(workOrderId: string, line: PartLine) {
      return prisma.$transaction(async (tx) => {
        const order = await lockOrder(tx, workOrderId, 'UPDATE');
        if (!canRecordPartsFor(order.status)) throw new AppError('illegal_transition', `work order is ${order.status}; parts can no longer be recorded on it`, { status: order.status });
        const rows = await tx.stockMovement.findMany({ where: { workOrderId, partId: line.partId, kind: { in: ['issue', 'return'] } }, select: { kind: true, quantity: true, unitCost: true } });
        const consumed = -rows.reduce((a, r) => a + r.quantity, 0);
        if (line.quantity > consumed) {
          throw new AppError('validation', `cannot return ${line.quantity}: the work order consumed ${consumed} of this part`, { partId: line.partId, consumed, requested: line.quantity });
        }
        // a return is valued at what the order was charged for the part (weighted over its issues), not today's cost
        const issues = rows.filter((r) => r.kind === 'issue' && r.unitCost !== null);
        const issuedQty = issues.reduce((a, r) => a - r.quantity, 0);
        const unitCost = issuedQty > 0 ? Math.round((issues.reduce((a, r) => a - r.quantity * Number(r.unitCost), 0) / issuedQty) * 100) / 100 : undefined;
        return ledger.move({ kind: 'return', ...line, workOrderId, reference: `WO-${order.number}`, ...(unitCost !== undefined ? { unitCost } : {}) }, { tx });
      }, TX_OPTIONS);
    },

    /** Parts consumed by an order from the ledger: issues minus returns per part, with unit cost and value. */
    async workOrderParts(workOrderId: string) {
      if (!(await prisma.workOrder.findUnique({ where: { id: workOrderId }, select: { id: true } }))) throw notFound('WorkOrder', workOrderId);
      const rows = await prisma.stockMovement.findMany({
        where: { workOrderId, kind: { in: ['issue', 'return'] } },
        select: { partId: true, kind: true, quantity: true, unitCost: true, part: { select: { code: true, name: true, unit: true } } },
        orderBy: { seq: 'asc' },
      });
      const names = new Map(rows.map((r) => [r.partId, r.part]));
      const { items, totalValue } = consumedParts(rows.map((r) => ({ partId: r.partId, kind: r.kind, quantity: r.quantity, unitCost: r.unitCost === null ? null : Number(r.unitCost) })));
      return {
        items: items
          .map((i) => ({ ...i, partCode: names.get(i.partId)!.code, partName: names.get(i.partId)!.name, unit: names.get(i.partId)!.unit }))
          .sort((a, b) => a.partCode.localeCompare(b.partCode)),
        totalValue,
      };
    },
  };
}
