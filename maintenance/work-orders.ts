/**
 * Work orders: manual creation, idempotent creation from a cause (rules, PM), listing, and the
 * lifecycle. Exactly-once is enforced by the database: `dedupe_key` is unique forever (same episode
 * or due point → same order) and `open_key` is unique while the order is open (one open order per
 * asset + rule), so retries, duplicate messages, concurrent workers and restarts all converge on one row.
 */
import type { Clock } from '../platform/clock.ts';
import type { Db, DbTx, Prisma } from '../platform/db/database.ts';
import { AppError, isForeignKeyViolation, isUniqueViolation, notFound } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { AWAITING_RESOLUTION, AWAITING_RESPONSE, slaDueTimes, slaOnTransition } from './sla.ts';
import { checkTransition, isTerminal, TIMESTAMP_FOR, type HoldReason, type WorkOrderStatus } from './work-order-state.ts';

export type Priority = 'low' | 'medium' | 'high' | 'urgent';
export type Source = 'manual' | 'rule' | 'pm' | 'customer';

export interface CauseRequest {
  dedupeKey: string;
  openKey: string;
  source: 'rule' | 'pm';
  title: string;
  priority: Priority;
  assetId: string;
  ruleId: string;
  reason: Record<string, unknown>;
  requestedAt: Date;
  description?: string | undefined;
}

export interface TransitionInput {
  to: WorkOrderStatus;
  assigneeId?: string | undefined;
  note?: string | undefined;
  actor?: string | undefined;
  /** Counter reading at completion (PM orders restart their interval from it). */
  meterReading?: number | undefined;
  /** Required when moving to on_hold (and only then). */
  holdReason?: HoldReason | undefined;
}

export interface CompletedOrder {
  id: string;
  source: Source;
  ruleId: string | null;
  assetId: string;
  meterReading: number | undefined;
}

export interface WorkOrderHooks {
  /** Runs inside the completing transaction; returns the meter value it used (stored on the order). */
  onCompleted?(tx: DbTx, order: CompletedOrder): Promise<number | undefined>;
  /** Runs after the completing transaction committed. */
  afterCompleted?(order: CompletedOrder): void;
}

/** The columns the SLA clock reads and writes (shown in views, loaded by transitions). */
const slaSelect = {
  onHoldAt: true,
  holdReason: true,
  responseDueAt: true,
  resolutionDueAt: true,
  respondedAt: true,
  responseBreached: true,
  resolutionBreached: true,
  pausedMs: true,
} satisfies Prisma.WorkOrderSelect;

export const workOrderSelect = {
  id: true,
  number: true,
  title: true,
  description: true,
  source: true,
  priority: true,
  status: true,
  assetId: true,
  ruleId: true,
  dedupeKey: true,
  reason: true,
  assigneeId: true,
  completionMeter: true,
  closedWithActiveAlarm: true,
  requestedAt: true,
  assignedAt: true,
  startedAt: true,
  completedAt: true,
  closedAt: true,
  cancelledAt: true,
  acceptedAt: true,
  enRouteAt: true,
  verifiedAt: true,
  ...slaSelect,
  createdAt: true,
  updatedAt: true,
  asset: { select: { code: true, name: true } },
} satisfies Prisma.WorkOrderSelect;

export type WorkOrderView = Prisma.WorkOrderGetPayload<{ select: typeof workOrderSelect }>;

export interface ListFilter {
  status?: WorkOrderStatus | undefined;
  assetId?: string | undefined;
  ruleId?: string | undefined;
  source?: Source | undefined;
  /** true: response or resolution breached; false: neither (flags as set by transitions and sweepSla). */
  slaBreached?: boolean | undefined;
  limit: number;
  offset: number;
}

export function createWorkOrderService(deps: { prisma: Db; clock: Clock; logger: Logger; hooks?: WorkOrderHooks }) {
  const { prisma, clock } = deps;
  const log = deps.logger.child({ module: 'work-orders' });
  const hooks = deps.hooks ?? {};

  async function findByKeys(dedupeKey: string, openKey: string): Promise<WorkOrderView | null> {
    return prisma.workOrder.findFirst({ where: { OR: [{ dedupeKey }, { openKey }] }, select: workOrderSelect, orderBy: { createdAt: 'desc' } });
  }

  return {
    async create(input: { title: string; description?: string | undefined; assetId: string; priority?: Priority | undefined; source: 'manual' | 'customer' }) {
      const requestedAt = clock.now();
      const priority = input.priority ?? 'medium';
      try {
        const wo = await prisma.workOrder.create({
          data: {
            title: input.title,
            description: input.description ?? null,
            assetId: input.assetId,
            priority,
            source: input.source,
            requestedAt,
            ...slaDueTimes(priority, requestedAt),
            events: { create: { toStatus: 'open', note: `created (${input.source})`, at: clock.now() } },
          },
          select: workOrderSelect,
        });
        log.info({ workOrder: wo.number, asset: wo.assetId }, 'work order created');
        return wo;
      } catch (err) {
        if (isForeignKeyViolation(err)) throw new AppError('validation', `asset ${input.assetId} does not exist`, { assetId: input.assetId });
        throw err;
      }
    },

    /** Idempotent: returns the existing order for the same cause instead of creating a second one. */
    async requestFromCause(req: CauseRequest): Promise<{ workOrder: WorkOrderView; created: boolean }> {
      const existing = await findByKeys(req.dedupeKey, req.openKey);
      if (existing) return { workOrder: existing, created: false };
      try {
        const wo = await prisma.workOrder.create({
          data: {
            title: req.title.slice(0, 300),
            description: req.description ?? null,
            source: req.source,
            priority: req.priority,
            assetId: req.assetId,
            ruleId: req.ruleId,
            dedupeKey: req.dedupeKey,
            openKey: req.openKey,
            reason: req.reason as Prisma.InputJsonValue,
            requestedAt: req.requestedAt,
            ...slaDueTimes(req.priority, req.requestedAt),
            events: { create: { toStatus: 'open', note: `created by rule ${req.ruleId}`, actor: 'rules-engine', at: clock.now() } },
          },
          select: workOrderSelect,
        });
        log.info({ workOrder: wo.number, asset: req.assetId, rule: req.ruleId, dedupeKey: req.dedupeKey }, 'work order created from rule');
        return { workOrder: wo, created: true };
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        // another worker (or a retry) won the race: hand back its order
        const winner = await findByKeys(req.dedupeKey, req.openKey);
        if (!winner) throw err;
        return { workOrder: winner, created: false };
      }
    },

    async list(f: ListFilter) {
      const where: Prisma.WorkOrderWhereInput = {
        ...(f.status ? { status: f.status } : {}),
        ...(f.assetId ? { assetId: f.assetId } : {}),
        ...(f.ruleId ? { ruleId: f.ruleId } : {}),
        ...(f.source ? { source: f.source } : {}),
        ...(f.slaBreached === true ? { OR: [{ responseBreached: true }, { resolutionBreached: true }] } : {}),
        ...(f.slaBreached === false ? { responseBreached: false, resolutionBreached: false } : {}),
      };
      const [items, total] = await Promise.all([
        prisma.workOrder.findMany({ where, select: workOrderSelect, orderBy: { number: 'desc' }, take: f.limit, skip: f.offset }),
        prisma.workOrder.count({ where }),
      ]);
      return { items, total };
    },

    async get(id: string) {
      const wo = await prisma.workOrder.findUnique({
        where: { id },
        select: {
          ...workOrderSelect,
          events: { select: { fromStatus: true, toStatus: true, note: true, actor: true, at: true }, orderBy: { at: 'asc' } },
          alarms: { select: { id: true, code: true, severity: true, status: true, raisedAt: true, clearedAt: true } },
        },
      });
      if (!wo) throw notFound('WorkOrder', id);
      return wo;
    },

    async transition(id: string, input: TransitionInput) {
      const now = clock.now();
      const result = await prisma.$transaction(async (tx) => {
        const current = await tx.workOrder.findUnique({
          where: { id },
          select: {
            status: true,
            assigneeId: true,
            source: true,
            ruleId: true,
            assetId: true,
            startedAt: true,
            completedAt: true,
            ...slaSelect,
          },
        });
        if (!current) throw notFound('WorkOrder', id);
        const from = current.status as WorkOrderStatus;
        const assigneeId = input.assigneeId ?? current.assigneeId;
        const check = checkTransition(from, input.to, { assigneeId, holdReason: input.holdReason });
        if (!check.ok) throw new AppError('illegal_transition', check.message, { from, to: input.to });
        if (input.holdReason && input.to !== 'on_hold') throw new AppError('validation', 'holdReason applies only when moving to on_hold', { to: input.to });
        if (input.assigneeId) {
          const eng = await tx.engineer.findUnique({ where: { id: input.assigneeId }, select: { active: true } });
          if (!eng || !eng.active) throw new AppError('validation', `engineer ${input.assigneeId} does not exist or is inactive`, { assigneeId: input.assigneeId });
        }
        let completionMeter: number | undefined;
        if (input.to === 'completed' && hooks.onCompleted) {
          completionMeter = await hooks.onCompleted(tx, { id, source: current.source, ruleId: current.ruleId, assetId: current.assetId, meterReading: input.meterReading });
        }
        const stampField = TIMESTAMP_FOR[input.to];
        // resuming from on_hold keeps the first start
        const stamp = stampField && !(stampField === 'startedAt' && current.startedAt) ? { [stampField]: now } : {};
        const sla = slaOnTransition({ ...current, status: from }, input.to, now, input.holdReason);
        // finishing an order whose alarm is still active is allowed but flagged: the fault may persist
        const activeAlarms =
          input.to === 'completed' || input.to === 'closed' ? await tx.alarm.count({ where: { workOrderId: id, status: 'active' } }) : 0;
        // compare-and-set on the status: a concurrent transition makes this match nothing
        const updated = await tx.workOrder.updateMany({
          where: { id, status: from },
          data: {
            status: input.to,
            ...stamp,
            ...sla,
            ...(input.to === 'on_hold' ? { holdReason: input.holdReason ?? null } : {}),
            ...(input.to === 'open' ? { assigneeId: null } : input.assigneeId ? { assigneeId: input.assigneeId } : {}),
            ...(isTerminal(input.to) ? { openKey: null } : {}),
            ...(activeAlarms > 0 ? { closedWithActiveAlarm: true } : {}),
            ...(completionMeter !== undefined ? { completionMeter } : input.meterReading !== undefined ? { completionMeter: input.meterReading } : {}),
          },
        });
        if (updated.count !== 1) throw new AppError('conflict', `work order ${id} changed concurrently; reload and retry`, { id });
        await tx.workOrderEvent.create({
          data: {
            workOrderId: id,
            fromStatus: from,
            toStatus: input.to,
            note: [input.to === 'on_hold' ? `on hold: ${input.holdReason}` : undefined, input.note, activeAlarms > 0 ? `warning: ${activeAlarms} linked alarm(s) still active` : undefined].filter(Boolean).join('; ') || null,
            actor: input.actor ?? null,
            at: now,
          },
        });
        return { from, order: { id, source: current.source, ruleId: current.ruleId, assetId: current.assetId, meterReading: completionMeter ?? input.meterReading } };
      });
      if (input.to === 'completed') hooks.afterCompleted?.(result.order);
      log.info({ workOrder: id, from: result.from, to: input.to }, 'work order transition');
      return this.get(id);
    },

    /**
     * Flags orders still waiting whose response or resolution is overdue at `now` (bulk updates; run
     * periodically). Orders on hold waiting for the customer are skipped: their clock is paused.
     */
    async sweepSla(now: Date = clock.now()): Promise<{ responseBreached: number; resolutionBreached: number }> {
      const response = await prisma.workOrder.updateMany({
        where: { responseBreached: false, respondedAt: null, status: { in: [...AWAITING_RESPONSE] }, responseDueAt: { lt: now } },
        data: { responseBreached: true },
      });
      const resolution = await prisma.workOrder.updateMany({
        where: {
          resolutionBreached: false,
          completedAt: null,
          status: { in: [...AWAITING_RESOLUTION] },
          resolutionDueAt: { lt: now },
          NOT: { status: 'on_hold', holdReason: 'waiting_customer' },
        },
        data: { resolutionBreached: true },
      });
      if (response.count || resolution.count) log.warn({ responseBreached: response.count, resolutionBreached: resolution.count }, 'work orders breached their SLA');
      return { responseBreached: response.count, resolutionBreached: resolution.count };
    },
  };
}

export type WorkOrderService = ReturnType<typeof createWorkOrderService>;
