/**
 * Work logs on work orders: notes, labour (engineer time, costed at the engineer's hourly rate at
 * the time of logging) and travel (distance / time / cost as entered), with per-order totals.
 *
 * Labour intervals of one engineer never overlap: the check and the insert run in one transaction
 * that first locks the engineer's row, so two concurrent entries for the same engineer serialise.
 * Logs can be added until the order is closed or cancelled; logging after the customer signed
 * changes the signed summary, so the signature then reads as no longer valid (signatures.ts).
 */
import type { Clock } from '../platform/clock.ts';
import type { Db, Prisma } from '../platform/db/database.ts';
import { AppError, conflict, notFound } from '../platform/errors.ts';
import { findOverlap, fromCents, labourCostCents, labourTime, toCents, workLogTotals, type WorkLogTotals } from './labour.ts';

export type WorkLogKind = 'note' | 'labour' | 'travel';

export interface WorkLogInput {
  kind: WorkLogKind;
  engineerId?: string | undefined;
  note?: string | undefined;
  startedAt?: Date | undefined;
  endedAt?: Date | undefined;
  minutes?: number | undefined;
  distanceKm?: number | undefined;
  cost?: number | undefined;
  actor?: string | undefined;
}

const workLogSelect = {
  id: true,
  workOrderId: true,
  kind: true,
  engineerId: true,
  note: true,
  startedAt: true,
  endedAt: true,
  minutes: true,
  distanceKm: true,
  cost: true,
  actor: true,
  createdAt: true,
  engineer: { select: { code: true, name: true } },
} satisfies Prisma.WorkLogSelect;

type WorkLogRow = Prisma.WorkLogGetPayload<{ select: typeof workLogSelect }>;

const centsOf = (d: { toString(): string }): number => toCents(d.toString()) ?? 0;

function view(r: WorkLogRow) {
  const { engineer, cost, ...rest } = r;
  return { ...rest, cost: fromCents(centsOf(cost)), engineerCode: engineer?.code ?? null, engineerName: engineer?.name ?? null };
}

export type WorkLogView = ReturnType<typeof view>;

const CLOSED = new Set(['closed', 'cancelled']);

/** Totals of an order's logs (also used for the signed summary). */
export async function workLogTotalsOf(db: Prisma.TransactionClient | Db, workOrderId: string): Promise<WorkLogTotals> {
  const rows = await db.workLog.findMany({ where: { workOrderId }, select: { kind: true, minutes: true, distanceKm: true, cost: true } });
  return workLogTotals(rows.map((r) => ({ kind: r.kind, minutes: r.minutes, distanceKm: r.distanceKm, costCents: centsOf(r.cost) })));
}

export function createWorkLogService(deps: { prisma: Db; clock: Clock }) {
  const { prisma, clock } = deps;

  return {
    async add(workOrderId: string, input: WorkLogInput): Promise<{ workLog: WorkLogView; warnings: string[] }> {
      return prisma.$transaction(async (tx) => {
        // FOR SHARE: a concurrent close waits for this log (and this log sees a close that committed first)
        const [wo] = await tx.$queryRaw<{ status: string }[]>`SELECT status::text AS status FROM work_orders WHERE id = ${workOrderId} FOR SHARE`;
        if (!wo) throw notFound('WorkOrder', workOrderId);
        if (CLOSED.has(wo.status)) throw new AppError('illegal_transition', `work order is ${wo.status}; no more work can be logged`, { status: wo.status });

        const warnings: string[] = [];
        let engineer: { id: string; code: string; hourlyRate: { toString(): string } | null } | undefined;
        if (input.engineerId) {
          // the row lock serialises concurrent labour entries of one engineer (overlap check below)
          const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM engineers WHERE id = ${input.engineerId} FOR UPDATE`;
          if (locked.length === 0) throw new AppError('validation', `engineer ${input.engineerId} does not exist`, { engineerId: input.engineerId });
          engineer = (await tx.engineer.findUnique({ where: { id: input.engineerId }, select: { id: true, code: true, hourlyRate: true } })) ?? undefined;
        }

        let data: Prisma.WorkLogUncheckedCreateInput;
        const base = { workOrderId, note: input.note ?? null, actor: input.actor ?? null, createdAt: clock.now() };
        switch (input.kind) {
          case 'note': {
            if (!input.note?.trim()) throw new AppError('validation', 'a note needs its text (note)');
            const extra = (['startedAt', 'endedAt', 'minutes', 'distanceKm', 'cost'] as const).filter((k) => input[k] !== undefined);
            if (extra.length) throw new AppError('validation', `a note carries text only; remove ${extra.join(', ')}`, { fields: extra });
            data = { ...base, kind: 'note', engineerId: engineer?.id ?? null };
            break;
          }
          case 'labour': {
            if (!engineer) throw new AppError('validation', 'labour needs the engineer who worked (engineerId)');
            if (input.distanceKm !== undefined || input.cost !== undefined) {
              throw new AppError('validation', 'labour cost is computed from the engineer\'s hourly rate; log distance and expenses as travel');
            }
            const t = labourTime(input);
            if (!t.ok) throw new AppError('validation', t.message);
            if (t.interval) {
              const others = await tx.workLog.findMany({
                where: { engineerId: engineer.id, kind: 'labour', startedAt: { lt: t.interval.endedAt }, endedAt: { gt: t.interval.startedAt } },
                select: { id: true, workOrderId: true, startedAt: true, endedAt: true },
              });
              const hit = findOverlap(
                t.interval,
                others.filter((o): o is typeof o & { startedAt: Date; endedAt: Date } => o.startedAt !== null && o.endedAt !== null),
              );
              if (hit) {
                throw conflict(
                  `engineer ${engineer.code} already has labour logged from ${hit.startedAt.toISOString()} to ${hit.endedAt.toISOString()} (work order ${hit.workOrderId})`,
                  { workLogId: hit.id, workOrderId: hit.workOrderId },
                );
              }
            }
            const cost = labourCostCents(t.minutes, engineer.hourlyRate?.toString());
            if (cost.rateMissing) warnings.push(`engineer ${engineer.code} has no hourly rate; labour cost recorded as 0 (set it with PUT /engineers/${engineer.id}/hourly-rate)`);
            data = {
              ...base,
              kind: 'labour',
              engineerId: engineer.id,
              startedAt: t.interval?.startedAt ?? null,
              endedAt: t.interval?.endedAt ?? null,
              minutes: t.minutes,
              cost: fromCents(cost.cents).toFixed(2),
            };
            break;
          }
          case 'travel': {
            if (input.startedAt || input.endedAt) throw new AppError('validation', 'travel takes distanceKm, minutes and cost, not startedAt/endedAt');
            if (input.distanceKm === undefined && input.minutes === undefined) throw new AppError('validation', 'travel needs distanceKm and/or minutes');
            if (input.minutes !== undefined && (!Number.isInteger(input.minutes) || input.minutes < 0)) throw new AppError('validation', 'minutes must be a whole number ≥ 0');
            if (input.distanceKm !== undefined && !(input.distanceKm >= 0)) throw new AppError('validation', 'distanceKm must be ≥ 0');
            const cents = input.cost === undefined ? 0 : toCents(input.cost);
            if (cents === undefined) throw new AppError('validation', 'cost must be an amount ≥ 0 with at most 2 decimals', { cost: input.cost });
            data = {
              ...base,
              kind: 'travel',
              engineerId: engineer?.id ?? null,
              minutes: input.minutes ?? 0,
              distanceKm: input.distanceKm ?? null,
              cost: fromCents(cents).toFixed(2),
            };
            break;
          }
        }
        const row = await tx.workLog.create({ data, select: workLogSelect });
        return { workLog: view(row), warnings };
      });
    },

    async list(workOrderId: string): Promise<{ items: WorkLogView[]; totals: WorkLogTotals }> {
      const wo = await prisma.workOrder.findUnique({ where: { id: workOrderId }, select: { id: true } });
      if (!wo) throw notFound('WorkOrder', workOrderId);
      const rows = await prisma.workLog.findMany({ where: { workOrderId }, select: workLogSelect, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
      const items = rows.map(view);
      const totals = workLogTotals(rows.map((r) => ({ kind: r.kind, minutes: r.minutes, distanceKm: r.distanceKm, costCents: centsOf(r.cost) })));
      return { items, totals };
    },

    /** Labour rate used for new labour entries (existing entries keep the cost they were logged with). */
    async setHourlyRate(engineerId: string, hourlyRate: number) {
      const cents = toCents(hourlyRate);
      if (cents === undefined) throw new AppError('validation', 'hourlyRate must be an amount ≥ 0 with at most 2 decimals', { hourlyRate });
      const found = await prisma.engineer.findUnique({ where: { id: engineerId }, select: { id: true } });
      if (!found) throw notFound('Engineer', engineerId);
      const e = await prisma.engineer.update({ where: { id: engineerId }, data: { hourlyRate: fromCents(cents).toFixed(2) }, select: { id: true, code: true, name: true, hourlyRate: true } });
      return { ...e, hourlyRate: e.hourlyRate === null ? null : fromCents(centsOf(e.hourlyRate)) };
    },
  };
}

export type WorkLogService = ReturnType<typeof createWorkLogService>;
