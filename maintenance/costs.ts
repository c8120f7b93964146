/**
 * Cost roll-up: labour, travel and parts per work order → contract / project profitability.
 * The database aggregates (work logs grouped per order + kind; stock movements grouped per order +
 * part + unit cost); `cost-rollup.ts` does the money math in cents.
 *
 * A window (from..to, whole UTC days, both inclusive) selects the orders requested in it; their
 * whole cost counts. Contract revenue is the contract value, pro-rated to the window when one is
 * given (see `contractRevenue`); project revenue is the project's revenue field.
 */
import type { Db, Prisma } from '../platform/db/database.ts';
import { AppError, notFound } from '../platform/errors.ts';
import { contractRevenue, profitability, rollUpByOrder, workOrderCost, type LogSum, type PartSum, type WorkOrderCost } from './cost-rollup.ts';

type Scope = { workOrderId: string } | { contractId: string } | { projectId: string };
export interface Window {
  /** YYYY-MM-DD, inclusive */
  from: string;
  /** YYYY-MM-DD, inclusive */
  to: string;
}

const DAY_MS = 86_400_000;
const toDay = (s: string): Date => new Date(`${s.slice(0, 10)}T00:00:00Z`);
const isoNoZone = (d: Date): string => d.toISOString().replace('Z', '');
const num = (d: { toNumber(): number } | null | undefined): number => (d ? d.toNumber() : 0);

export function createCostService(deps: { prisma: Db }) {
  const { prisma } = deps;

  function orderWhere(scope: Scope, window?: Window): Prisma.WorkOrderWhereInput {
    const base: Prisma.WorkOrderWhereInput = 'workOrderId' in scope ? { id: scope.workOrderId } : 'contractId' in scope ? { contractId: scope.contractId } : { projectId: scope.projectId };
    return window ? { ...base, requestedAt: { gte: toDay(window.from), lt: new Date(toDay(window.to).getTime() + DAY_MS) } } : base;
  }

  async function logSums(scope: Scope, window?: Window): Promise<LogSum[]> {
    const rows = await prisma.workLog.groupBy({
      by: ['workOrderId', 'kind'],
      where: { kind: { in: ['labour', 'travel'] }, workOrder: orderWhere(scope, window) },
      _sum: { minutes: true, distanceKm: true, cost: true },
    });
    return rows.map((r) => ({ workOrderId: r.workOrderId, kind: r.kind as 'labour' | 'travel', minutes: r._sum.minutes ?? 0, distanceKm: r._sum.distanceKm ?? 0, cost: num(r._sum.cost) }));
  }

  /** Issues and returns of the scope's orders, summed per order + part + movement unit cost (one grouped query). */
  async function partSums(scope: Scope, window?: Window): Promise<PartSum[]> {
    const [column, id] = 'workOrderId' in scope ? ['id', scope.workOrderId] : 'contractId' in scope ? ['contract_id', scope.contractId] : ['project_id', scope.projectId];
    const params: unknown[] = [id];
    let windowSql = '';
    if (window) {
      params.push(isoNoZone(toDay(window.from)), isoNoZone(new Date(toDay(window.to).getTime() + DAY_MS)));
      windowSql = `AND w."requested_at" >= $2::timestamp AND w."requested_at" < $3::timestamp`;
    }
    const rows = await prisma.$queryRawUnsafe<{ workOrderId: string; partId: string; partCode: string; partName: string; quantity: number; movementUnitCost: number | null; partUnitCost: number | null }[]>(
      `SELECT m."work_order_id" AS "workOrderId", m."part_id" AS "partId", p."code" AS "partCode", p."name" AS "partName",
              SUM(m."quantity")::int AS "quantity", m."unit_cost"::float8 AS "movementUnitCost", p."unit_cost"::float8 AS "partUnitCost"
         FROM "stock_movements" m
         JOIN "work_orders" w ON w."id" = m."work_order_id"
         JOIN "parts" p ON p."id" = m."part_id"
        WHERE m."kind" IN ('issue', 'return') AND w."${column}" = $1 ${windowSql}
        GROUP BY m."work_order_id", m."part_id", p."code", p."name", m."unit_cost", p."unit_cost"`,
      ...params,
    );
    return rows.map((r) => ({
      ...r,
      quantity: Number(r.quantity),
      movementUnitCost: r.movementUnitCost === null ? null : Number(r.movementUnitCost),
      partUnitCost: r.partUnitCost === null ? null : Number(r.partUnitCost),
    }));
  }

  async function rollUp(scope: Scope, window?: Window): Promise<Map<string, WorkOrderCost>> {
    const [logs, parts] = await Promise.all([logSums(scope, window), partSums(scope, window)]);
    return rollUpByOrder(logs, parts);
  }

  /** Adds number and title to the top orders. */
  async function describeTop(top: { workOrderId: string; total: number }[]) {
    if (top.length === 0) return [];
    const refs = await prisma.workOrder.findMany({ where: { id: { in: top.map((t) => t.workOrderId) } }, select: { id: true, number: true, title: true } });
    return top.map((t) => {
      const r = refs.find((x) => x.id === t.workOrderId);
      return { workOrderId: t.workOrderId, number: r?.number ?? 0, title: r?.title ?? '', total: t.total };
    });
  }

  return {
    async workOrder(id: string) {
      const wo = await prisma.workOrder.findUnique({ where: { id }, select: { id: true, number: true, contractId: true, projectId: true } });
      if (!wo) throw notFound('WorkOrder', id);
      const [logs, parts] = await Promise.all([logSums({ workOrderId: id }), partSums({ workOrderId: id })]);
      return { workOrderId: wo.id, number: wo.number, contractId: wo.contractId, projectId: wo.projectId, ...workOrderCost(id, logs, parts) };
    },

    async contract(id: string, range: { from?: string | undefined; to?: string | undefined } = {}) {
      if (!range.from !== !range.to) throw new AppError('validation', 'give both from and to (or neither)', { field: range.from ? 'to' : 'from' });
      const window: Window | undefined = range.from && range.to ? { from: range.from, to: range.to } : undefined;
      const c = await prisma.contract.findUnique({ where: { id }, select: { id: true, code: true, value: true, startsOn: true, endsOn: true } });
      if (!c) throw notFound('Contract', id);
      if (window && window.to < window.from) throw new AppError('validation', `to ${window.to} is before from ${window.from}`, { field: 'to' });
      const scope = { contractId: id };
      const [costs, orders] = await Promise.all([rollUp(scope, window), prisma.workOrder.count({ where: orderWhere(scope, window) })]);
      const rev = contractRevenue(num(c.value), c, window ? { from: toDay(window.from), to: toDay(window.to) } : undefined);
      const p = profitability(rev.revenue, orders, costs);
      return { contractId: c.id, code: c.code, window: window ?? null, revenueBasis: rev.basis, ...p, topCostOrders: await describeTop(p.topCostOrders) };
    },

    async project(id: string) {
      const pr = await prisma.project.findUnique({ where: { id }, select: { id: true, code: true, budget: true, revenue: true } });
      if (!pr) throw notFound('Project', id);
      const scope = { projectId: id };
      const [costs, orders] = await Promise.all([rollUp(scope), prisma.workOrder.count({ where: orderWhere(scope) })]);
      const p = profitability(num(pr.revenue), orders, costs);
      const budget = pr.budget ? pr.budget.toNumber() : null;
      return {
        projectId: pr.id,
        code: pr.code,
        budget,
        budgetUsedPct: budget ? Math.round((p.cost.total / budget) * 10_000) / 100 : null,
        ...p,
        topCostOrders: await describeTop(p.topCostOrders),
      };
    },
  };
}

export type CostService = ReturnType<typeof createCostService>;
