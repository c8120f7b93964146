/**
 * Work-order lifecycle → outbox events, as work-order hooks (main.ts: `workOrders.use(...)`). Both
 * hooks run inside the work order's own transaction, so a refused or rolled-back creation or
 * transition (illegal transition, a later hook refusing, a lost compare-and-set) leaves no event.
 *   created           → work_order.created
 *   any → assigned    → work_order.assigned (single, and bulk through onTransitionMany: two queries for any number of orders)
 *   any → completed   → work_order.completed
 */
import type { DbTx, Prisma } from '../platform/db/database.ts';
import type { TransitionContext, WorkOrderHooks } from '../maintenance/work-orders.ts';
import { recordEvent, recordEvents, type EventType } from './outbox.ts';

const TRANSITION_EVENTS: Partial<Record<TransitionContext['to'], EventType>> = {
  assigned: 'work_order.assigned',
  completed: 'work_order.completed',
};

const orderSelect = {
  id: true,
  number: true,
  title: true,
  priority: true,
  severity: true,
  source: true,
  status: true,
  assetId: true,
  asset: { select: { code: true, name: true } },
  customerId: true,
  assignee: { select: { id: true, code: true, name: true } },
  requestedAt: true,
  resolutionDueAt: true,
} as const;

type OrderRow = Prisma.WorkOrderGetPayload<{ select: typeof orderSelect }>;

/** The order as the event reports it; `assignee` left out when it is not known (not guessed). */
function eventData(wo: OrderRow, assignee: OrderRow['assignee'] | undefined) {
  return {
    workOrderId: wo.id,
    number: wo.number,
    title: wo.title,
    priority: wo.priority,
    severity: wo.severity,
    source: wo.source,
    assetId: wo.assetId,
    assetCode: wo.asset.code,
    assetName: wo.asset.name,
    customerId: wo.customerId,
    ...(assignee !== undefined ? { assignee } : {}),
    requestedAt: wo.requestedAt.toISOString(),
    resolutionDueAt: wo.resolutionDueAt?.toISOString() ?? null,
  };
}

/**
 * One order's event data. `assigneeId`: the new assignee when the caller knows it; otherwise the
 * stored one, which is only current when the row already has the new status (bulk assignment writes
 * the rows before its hooks run) — else the assignee is left out.
 */
async function orderData(tx: DbTx, id: string, opts: { assigneeId?: string | null | undefined; status?: string } = {}) {
  const wo = await tx.workOrder.findUniqueOrThrow({ where: { id }, select: orderSelect });
  if (opts.assigneeId === undefined) {
    const known = opts.status === undefined || wo.status === opts.status;
    return eventData(wo, known ? wo.assignee : undefined);
  }
  const assignee =
    opts.assigneeId === null
      ? null
      : wo.assignee?.id === opts.assigneeId
        ? wo.assignee
        : await tx.engineer.findUnique({ where: { id: opts.assigneeId }, select: { id: true, code: true, name: true } });
  return eventData(wo, assignee);
}

const transitionPayload = (data: ReturnType<typeof eventData>, ctx: TransitionContext) => ({ ...data, status: ctx.to, from: ctx.from, actor: ctx.actor ?? null, at: ctx.at.toISOString() });

export const outboxWorkOrderHooks: WorkOrderHooks = {
  /** Bulk assignment: the rows already carry the new status and assignee. */
  async onTransitionMany(tx, ctxs) {
    const relevant = ctxs.filter((c) => TRANSITION_EVENTS[c.to]);
    if (relevant.length === 0) return;
    const rows = new Map((await tx.workOrder.findMany({ where: { id: { in: relevant.map((c) => c.id) } }, select: orderSelect })).map((r) => [r.id, r]));
    await recordEvents(
      tx,
      relevant.flatMap((ctx) => {
        const wo = rows.get(ctx.id);
        if (!wo) return [];
        return [{ type: TRANSITION_EVENTS[ctx.to]!, subjectId: ctx.id, occurredAt: ctx.at, payload: transitionPayload(eventData(wo, wo.assignee), ctx) }];
      }),
    );
  },

  async onCreated(tx, order) {
    const data = await orderData(tx, order.id);
    await recordEvent(tx, { type: 'work_order.created', subjectId: order.id, payload: { ...data, status: 'open' } });
  },

  async onTransition(tx, ctx) {
    const type = TRANSITION_EVENTS[ctx.to];
    if (!type) return;
    // transition() runs its hooks before it writes the new status and assignee: the new assignee
    // comes from the context when the work-order service passes it (assignMany has already written it)
    const data = await orderData(tx, ctx.id, ctx.to === 'assigned' ? { assigneeId: ctx.assigneeId, status: 'assigned' } : {});
    await recordEvent(tx, { type, subjectId: ctx.id, occurredAt: ctx.at, payload: transitionPayload(data, ctx) });
  },
};
