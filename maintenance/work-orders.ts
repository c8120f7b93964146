/**
 * Work orders: manual creation, idempotent creation from a cause (rules, PM), listing, and the
 * lifecycle. Exactly-once is enforced by the database: `dedupe_key` is unique forever (same episode
 * or due point → same order) and `open_key` is unique while the order is open (one open order per
 * asset + rule), so retries, duplicate messages, concurrent workers and restarts all converge on one row.
 */
import type { Clock } from '../platform/clock.ts';
import { Prisma, type Db, type DbTx } from '../platform/db/database.ts';
import { AppError, isForeignKeyViolation, isUniqueViolation, notFound } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { AWAITING_RESOLUTION, AWAITING_RESPONSE, slaDueTimes, slaOnTransition, type SlaTarget } from './sla.ts';
import { checkTransition, isTerminal, TIMESTAMP_FOR, type HoldReason, type WorkOrderStatus } from './work-order-state.ts';

export type Priority = 'low' | 'medium' | 'high' | 'urgent';
export type Source = 'manual' | 'rule' | 'pm' | 'customer' | 'followup';
export type Channel = 'api' | 'portal' | 'phone' | 'email' | 'iot' | 'schedule' | 'internal';
export type Severity = 'critical' | 'major' | 'minor' | 'warning';

/** Extra fields any order may be created with. */
interface OrderExtras {
  description?: string | undefined;
  /** Alarm severity (IoT) or severity reported by the customer: input to priority rules. */
  severity?: Severity | undefined;
  requiredSkills?: string[] | undefined;
  estimatedHours?: number | undefined;
  projectId?: string | undefined;
  requestedBy?: string | undefined;
}

/** An order caused by something that may repeat (rule episode, PM due point, CSAT escalation): created at most once. */
export interface CauseRequest extends OrderExtras {
  dedupeKey: string;
  openKey: string;
  source: 'rule' | 'pm' | 'followup';
  title: string;
  /** The cause's own priority; priority rules (hooks.classify) may override it. */
  priority: Priority;
  assetId: string;
  ruleId?: string | undefined;
  pmPlanId?: string | undefined;
  parentWorkOrderId?: string | undefined;
  reason: Record<string, unknown>;
  requestedAt: Date;
  channel?: Channel | undefined;
}

/** An order entered by a person: a customer (portal/API) or a dispatcher (phone/email). */
export interface CreateInput extends OrderExtras {
  title: string;
  assetId: string;
  /** Explicit priority; omitted = decided by the priority rules (default medium). */
  priority?: Priority | undefined;
  source: 'manual' | 'customer';
  channel?: Channel | undefined;
  /** When the request came in (a phone call logged later); default now, never in the future. */
  requestedAt?: Date | undefined;
}

/** What creation asks the hooks: priority, SLA targets, customer and contract for an order. */
export interface ClassifyInput {
  assetId: string;
  source: Source;
  severity: Severity | undefined;
  /** Priority given by the requester or the cause (undefined = none). */
  requestedPriority: Priority | undefined;
  /** true when a person chose the priority explicitly (rules should not override it). */
  explicitPriority: boolean;
  requestedAt: Date;
}

export interface Classification {
  priority: Priority;
  /** SLA targets for the priority (default DEFAULT_SLA_TARGETS). */
  slaTargets?: Readonly<Record<Priority, SlaTarget>> | undefined;
  customerId?: string | null | undefined;
  contractId?: string | null | undefined;
  /** Why: stored in reason.priority (rule name, matched conditions). */
  explanation?: Record<string, unknown> | undefined;
}

/** Created order as hooks see it (inside the creating transaction). */
export interface CreatedOrder {
  id: string;
  assetId: string;
  source: Source;
  pmPlanId: string | null;
  ruleId: string | null;
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

export interface TransitionContext {
  id: string;
  from: WorkOrderStatus;
  to: WorkOrderStatus;
  assetId: string;
  source: Source;
  contractId: string | null;
  actor: string | undefined;
  at: Date;
  /** Assignee after the transition (null when the order goes back to open). */
  assigneeId?: string | null | undefined;
}

/**
 * Extension points (modules plug in with `workOrders.use(hooks)`; main.ts wires them). Hooks run in
 * the order they were added; any may throw an AppError to refuse the operation.
 */
export interface WorkOrderHooks {
  /** Decides priority, SLA targets, customer and contract at creation. The first hook that has it wins. */
  classify?(input: ClassifyInput): Promise<Classification>;
  /** Inside the creating transaction (copy checklists, reserve parts). */
  onCreated?(tx: DbTx, order: CreatedOrder): Promise<void>;
  /** After the creating transaction committed (auto-dispatch). Must not throw. */
  afterCreated?(order: CreatedOrder): void | Promise<void>;
  /** Inside the transition's transaction, before the status changes: refuse (throw) or write related rows. */
  onTransition?(tx: DbTx, ctx: TransitionContext): Promise<void>;
  /** Bulk variant used by assignMany (one call for all orders); without it onTransition runs per order. */
  onTransitionMany?(tx: DbTx, ctxs: TransitionContext[]): Promise<void>;
  /** Inside the completing transaction; returns the meter value it used (stored on the order). */
  onCompleted?(tx: DbTx, order: CompletedOrder): Promise<number | undefined>;
  /** After the transition committed (notifications, surveys). Must not throw. */
  afterTransition?(ctx: TransitionContext): void | Promise<void>;
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
  channel: true,
  requestedBy: true,
  priority: true,
  severity: true,
  status: true,
  assetId: true,
  ruleId: true,
  pmPlanId: true,
  customerId: true,
  contractId: true,
  projectId: true,
  parentWorkOrderId: true,
  requiredSkills: true,
  estimatedHours: true,
  faultCode: true,
  rootCause: true,
  resolution: true,
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

/** workOrderSelect's scalar fields as SQL (for the list's single statement); keep the two in step. */
const WORK_ORDER_COLUMNS = Prisma.raw(
  [
    'w.id', 'w.number', 'w.title', 'w.description', 'w.source::text AS source', 'w.channel::text AS channel', 'w.requested_by AS "requestedBy"',
    'w.priority::text AS priority', 'w.severity::text AS severity', 'w.status::text AS status', 'w.asset_id AS "assetId"', 'w.rule_id AS "ruleId"',
    'w.pm_plan_id AS "pmPlanId"', 'w.customer_id AS "customerId"', 'w.contract_id AS "contractId"', 'w.project_id AS "projectId"',
    'w.parent_work_order_id AS "parentWorkOrderId"', 'w.required_skills AS "requiredSkills"', 'w.estimated_hours AS "estimatedHours"',
    'w.fault_code AS "faultCode"', 'w.root_cause AS "rootCause"', 'w.resolution', 'w.dedupe_key AS "dedupeKey"', 'w.reason',
    'w.assignee_id AS "assigneeId"', 'w.completion_meter AS "completionMeter"', 'w.closed_with_active_alarm AS "closedWithActiveAlarm"',
    'w.requested_at AS "requestedAt"', 'w.assigned_at AS "assignedAt"', 'w.started_at AS "startedAt"', 'w.completed_at AS "completedAt"',
    'w.closed_at AS "closedAt"', 'w.cancelled_at AS "cancelledAt"', 'w.accepted_at AS "acceptedAt"', 'w.en_route_at AS "enRouteAt"',
    'w.verified_at AS "verifiedAt"', 'w.on_hold_at AS "onHoldAt"', 'w.hold_reason::text AS "holdReason"', 'w.response_due_at AS "responseDueAt"',
    'w.resolution_due_at AS "resolutionDueAt"', 'w.responded_at AS "respondedAt"', 'w.response_breached AS "responseBreached"',
    'w.resolution_breached AS "resolutionBreached"', 'w.paused_ms AS "pausedMs"', 'w.created_at AS "createdAt"', 'w.updated_at AS "updatedAt"',
  ].join(', '),
);

type WorkOrderRow = Omit<WorkOrderView, 'asset'> & { assetCode: string; assetName: string };

export interface ListFilter {
  status?: WorkOrderStatus | undefined;
  assetId?: string | undefined;
  ruleId?: string | undefined;
  source?: Source | undefined;
  pmPlanId?: string | undefined;
  customerId?: string | undefined;
  contractId?: string | undefined;
  projectId?: string | undefined;
  assigneeId?: string | undefined;
  priority?: Priority | undefined;
  /** true: response or resolution breached; false: neither (flags as set by transitions and sweepSla). */
  slaBreached?: boolean | undefined;
  limit: number;
  offset: number;
}

/** Later than this is a typo or a wrong clock, not a request time. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

export function createWorkOrderService(deps: { prisma: Db; clock: Clock; logger: Logger; hooks?: WorkOrderHooks }) {
  const { prisma, clock } = deps;
  const log = deps.logger.child({ module: 'work-orders' });
  const hooks: WorkOrderHooks[] = deps.hooks ? [deps.hooks] : [];

  async function classify(input: ClassifyInput): Promise<Classification> {
    for (const h of hooks) if (h.classify) return h.classify(input);
    return { priority: input.requestedPriority ?? 'medium' };
  }

  /** Creates the order and its first event, then lets the hooks add related rows, in one transaction. */
  async function insert(data: Omit<Prisma.WorkOrderUncheckedCreateInput, 'priority' | 'customerId' | 'contractId' | 'responseDueAt' | 'resolutionDueAt' | 'events'>, cls: Classification, event: { note: string; actor: string | null }) {
    const requestedAt = data.requestedAt as Date;
    const reason = { ...(data.reason as Record<string, unknown> | undefined), ...(cls.explanation ? { priority: cls.explanation } : {}) };
    return prisma.$transaction(async (tx) => {
      const wo = await tx.workOrder.create({
        data: {
          ...data,
          reason: reason as Prisma.InputJsonValue,
          priority: cls.priority,
          customerId: cls.customerId ?? null,
          contractId: cls.contractId ?? null,
          ...slaDueTimes(cls.priority, requestedAt, cls.slaTargets),
          events: { create: { toStatus: 'open', note: event.note, actor: event.actor, at: clock.now() } },
        },
        select: workOrderSelect,
      });
      for (const h of hooks) await h.onCreated?.(tx, { id: wo.id, assetId: wo.assetId, source: wo.source, pmPlanId: wo.pmPlanId, ruleId: wo.ruleId });
      return wo;
    });
  }

  async function afterCreated(wo: WorkOrderView): Promise<void> {
    for (const h of hooks) {
      try {
        await h.afterCreated?.({ id: wo.id, assetId: wo.assetId, source: wo.source, pmPlanId: wo.pmPlanId, ruleId: wo.ruleId });
      } catch (err) {
        log.warn({ err, workOrder: wo.id }, 'after-created hook failed');
      }
    }
  }

  const extrasData = (x: OrderExtras) => ({
    description: x.description ?? null,
    severity: x.severity ?? null,
    requiredSkills: x.requiredSkills ?? [],
    estimatedHours: x.estimatedHours ?? null,
    projectId: x.projectId ?? null,
    requestedBy: x.requestedBy ?? null,
  });

  async function findByKeys(dedupeKey: string, openKey: string): Promise<WorkOrderView | null> {
    return prisma.workOrder.findFirst({ where: { OR: [{ dedupeKey }, { openKey }] }, select: workOrderSelect, orderBy: { createdAt: 'desc' } });
  }

  return {
    async create(input: CreateInput) {
      const now = clock.now();
      const requestedAt = input.requestedAt ?? now;
      if (requestedAt.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
        throw new AppError('validation', `requestedAt ${requestedAt.toISOString()} is in the future`, { requestedAt: requestedAt.toISOString() });
      }
      const asset = await prisma.asset.findUnique({ where: { id: input.assetId }, select: { code: true, status: true } });
      if (!asset) throw new AppError('validation', `asset ${input.assetId} does not exist`, { assetId: input.assetId });
      if (asset.status === 'retired') throw new AppError('validation', `asset ${asset.code} is retired; no new work orders`, { assetId: input.assetId });
      const cls = await classify({ assetId: input.assetId, source: input.source, severity: input.severity, requestedPriority: input.priority, explicitPriority: input.priority !== undefined, requestedAt });
      try {
        const wo = await insert(
          { title: input.title, assetId: input.assetId, source: input.source, channel: input.channel ?? 'api', requestedAt, ...extrasData(input) },
          cls,
          { note: `created (${input.source} via ${input.channel ?? 'api'})`, actor: input.requestedBy ?? null },
        );
        log.info({ workOrder: wo.number, asset: wo.assetId }, 'work order created');
        await afterCreated(wo);
        return this.get(wo.id);
      } catch (err) {
        if (isForeignKeyViolation(err)) throw new AppError('validation', 'asset or project does not exist', { assetId: input.assetId, projectId: input.projectId });
        throw err;
      }
    },

    /** Idempotent: returns the existing order for the same cause instead of creating a second one. */
    async requestFromCause(req: CauseRequest): Promise<{ workOrder: WorkOrderView; created: boolean }> {
      const existing = await findByKeys(req.dedupeKey, req.openKey);
      if (existing) return { workOrder: existing, created: false };
      const cls = await classify({ assetId: req.assetId, source: req.source, severity: req.severity, requestedPriority: req.priority, explicitPriority: false, requestedAt: req.requestedAt });
      try {
        const wo = await insert(
          {
            title: req.title.slice(0, 300),
            source: req.source,
            channel: req.channel ?? (req.source === 'rule' ? 'iot' : req.source === 'pm' ? 'schedule' : 'internal'),
            assetId: req.assetId,
            ruleId: req.ruleId ?? null,
            pmPlanId: req.pmPlanId ?? null,
            parentWorkOrderId: req.parentWorkOrderId ?? null,
            dedupeKey: req.dedupeKey,
            openKey: req.openKey,
            reason: req.reason as Prisma.InputJsonValue,
            requestedAt: req.requestedAt,
            ...extrasData(req),
          },
          cls,
          { note: `created by ${req.ruleId ? `rule ${req.ruleId}` : req.pmPlanId ? `PM plan ${req.pmPlanId}` : req.source}`, actor: req.ruleId ? 'rules-engine' : req.pmPlanId ? 'pm-scheduler' : 'system' },
        );
        log.info({ workOrder: wo.number, asset: req.assetId, rule: req.ruleId, pmPlan: req.pmPlanId, dedupeKey: req.dedupeKey }, 'work order created from a cause');
        await afterCreated(wo);
        return { workOrder: wo, created: true };
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        // another worker (or a retry) won the race: hand back its order
        const winner = await findByKeys(req.dedupeKey, req.openKey);
        if (!winner) throw err;
        return { workOrder: winner, created: false };
      }
    },

    /** Plug in a module's hooks (called by main.ts at wiring time). */
    use(h: WorkOrderHooks): void {
      hooks.push(h);
    },

    /** Close-out fields: fault code from the library, root cause, resolution (any time before closed). */
    async recordCloseOut(id: string, input: { faultCode?: string | null | undefined; rootCause?: string | null | undefined; resolution?: string | null | undefined }) {
      const current = await prisma.workOrder.findUnique({ where: { id }, select: { status: true } });
      if (!current) throw notFound('WorkOrder', id);
      if (current.status === 'closed' || current.status === 'cancelled') throw new AppError('illegal_transition', `work order is ${current.status}; its close-out can no longer change`, { status: current.status });
      if (input.faultCode) {
        const fc = await prisma.faultCode.findUnique({ where: { code: input.faultCode }, select: { code: true } });
        if (!fc) throw new AppError('validation', `fault code ${input.faultCode} is not in the fault-code library`, { faultCode: input.faultCode });
      }
      await prisma.workOrder.update({
        where: { id },
        data: {
          ...(input.faultCode !== undefined ? { faultCode: input.faultCode } : {}),
          ...(input.rootCause !== undefined ? { rootCause: input.rootCause } : {}),
          ...(input.resolution !== undefined ? { resolution: input.resolution } : {}),
        },
      });
      return this.get(id);
    },

    /** Newest first. One statement for the page and one for the total, side by side (the list is the hottest read). */
    async list(f: ListFilter): Promise<{ items: WorkOrderView[]; total: number }> {
      const eq = (column: string, value: string | undefined, type?: string): Prisma.Sql | undefined =>
        value === undefined ? undefined : type ? Prisma.sql`${Prisma.raw(column)} = CAST(${value} AS ${Prisma.raw(`"${type}"`)})` : Prisma.sql`${Prisma.raw(column)} = ${value}`;
      const conditions = [
        eq('w.status', f.status, 'WorkOrderStatus'),
        eq('w.asset_id', f.assetId),
        eq('w.rule_id', f.ruleId),
        eq('w.source', f.source, 'WorkOrderSource'),
        eq('w.pm_plan_id', f.pmPlanId),
        eq('w.customer_id', f.customerId),
        eq('w.contract_id', f.contractId),
        eq('w.project_id', f.projectId),
        eq('w.assignee_id', f.assigneeId),
        eq('w.priority', f.priority, 'WorkOrderPriority'),
        f.slaBreached === true ? Prisma.sql`(w.response_breached OR w.resolution_breached)` : undefined,
        f.slaBreached === false ? Prisma.sql`NOT w.response_breached AND NOT w.resolution_breached` : undefined,
      ].filter((c): c is Prisma.Sql => c !== undefined);
      const where = conditions.length ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;
      const [rows, counted] = await Promise.all([
        prisma.$queryRaw<WorkOrderRow[]>`
          SELECT ${WORK_ORDER_COLUMNS}, a.code AS "assetCode", a.name AS "assetName"
            FROM work_orders w JOIN assets a ON a.id = w.asset_id
            ${where}
           ORDER BY w.number DESC LIMIT ${f.limit} OFFSET ${f.offset}`,
        prisma.$queryRaw<{ total: number }[]>`SELECT count(*)::int AS total FROM work_orders w ${where}`,
      ]);
      const items = rows.map(({ assetCode, assetName, ...w }) => ({ ...w, asset: { code: assetCode, name: assetName } }));
      return { items, total: counted[0]?.total ?? 0 };
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

    /**
     * Bulk open → assigned (batch dispatch): one transaction, one compare-and-set UPDATE for all
     * pairs (orders no longer open are skipped and reported), one event per order, the transition
     * hooks run for each. Returns the ids that were assigned.
     */
    async assignMany(
      pairs: { workOrderId: string; engineerId: string }[],
      opts: {
        actor?: string | undefined;
        note?: string | undefined;
        /** Runs in the same transaction with the ids actually assigned (e.g. the dispatch log). */
        within?: ((tx: DbTx, assignedIds: string[], at: Date) => Promise<void>) | undefined;
      } = {},
    ): Promise<{ assigned: string[]; skipped: string[] }> {
      if (pairs.length === 0) return { assigned: [], skipped: [] };
      const now = clock.now();
      const nowIso = now.toISOString();
      const ctxs = await prisma.$transaction(
        async (tx) => {
          const values = Prisma.join(pairs.map((p) => Prisma.sql`(${p.workOrderId}, ${p.engineerId})`));
          const rows = await tx.$queryRaw<{ id: string; asset_id: string; source: Source; contract_id: string | null; assignee_id: string }[]>`
            UPDATE work_orders AS w
               SET status = 'assigned', assignee_id = v.engineer_id,
                   assigned_at = (${nowIso}::timestamptz AT TIME ZONE 'UTC'), updated_at = (${nowIso}::timestamptz AT TIME ZONE 'UTC')
              FROM (VALUES ${values}) AS v(id, engineer_id)
             WHERE w.id = v.id AND w.status = 'open'
               AND EXISTS (SELECT 1 FROM engineers e WHERE e.id = v.engineer_id AND e.active)
         RETURNING w.id, w.asset_id, w.source, w.contract_id, w.assignee_id`;
          // one INSERT … SELECT unnest(): a thousand events cost one round trip, not a thousand-row createMany
          await tx.$executeRaw`
            INSERT INTO work_order_events (id, work_order_id, from_status, to_status, note, actor, at)
            SELECT gen_random_uuid()::text, x, 'open'::"WorkOrderStatus", 'assigned'::"WorkOrderStatus", ${opts.note ?? null}, ${opts.actor ?? null}, (${nowIso}::timestamptz AT TIME ZONE 'UTC')
              FROM unnest(${rows.map((r) => r.id)}::text[]) AS x`;
          await opts.within?.(tx, rows.map((r) => r.id), now);
          const ctxs: TransitionContext[] = rows.map((r) => ({ id: r.id, from: 'open', to: 'assigned', assetId: r.asset_id, source: r.source, contractId: r.contract_id, actor: opts.actor, at: now, assigneeId: r.assignee_id }));
          for (const h of hooks) {
            if (h.onTransitionMany) await h.onTransitionMany(tx, ctxs);
            else if (h.onTransition) for (const ctx of ctxs) await h.onTransition(tx, ctx);
          }
          return ctxs;
        },
        { timeout: 60_000 },
      );
      for (const ctx of ctxs) {
        for (const h of hooks) {
          try {
            await h.afterTransition?.(ctx);
          } catch (err) {
            log.warn({ err, workOrder: ctx.id }, 'after-transition hook failed');
          }
        }
      }
      const done = new Set(ctxs.map((c) => c.id));
      log.info({ assigned: done.size, skipped: pairs.length - done.size }, 'work orders assigned in bulk');
      return { assigned: [...done], skipped: pairs.filter((p) => !done.has(p.workOrderId)).map((p) => p.workOrderId) };
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
            contractId: true,
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
        const ctx: TransitionContext = {
          id,
          from,
          to: input.to,
          assetId: current.assetId,
          source: current.source,
          contractId: current.contractId,
          actor: input.actor,
          at: now,
          assigneeId: input.to === 'open' ? null : assigneeId,
        };
        for (const h of hooks) await h.onTransition?.(tx, ctx);
        let completionMeter: number | undefined;
        if (input.to === 'completed') {
          for (const h of hooks) {
            if (!h.onCompleted) continue;
            const m = await h.onCompleted(tx, { id, source: current.source, ruleId: current.ruleId, assetId: current.assetId, meterReading: input.meterReading });
            completionMeter ??= m;
          }
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
        return { from, ctx, order: { id, source: current.source, ruleId: current.ruleId, assetId: current.assetId, meterReading: completionMeter ?? input.meterReading } };
      });
      for (const h of hooks) {
        try {
          if (input.to === 'completed') h.afterCompleted?.(result.order);
          await h.afterTransition?.(result.ctx);
        } catch (err) {
          log.warn({ err, workOrder: id }, 'after-transition hook failed');
        }
      }
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
