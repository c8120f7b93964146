/**
 * Dispatch service: recommendations (ranked, explained), manual and automatic assignment,
 * batch assignment (optimal, dry-run first), declines and re-dispatch, engineer notifications.
 * Assignments go through the work-order service (state machine, audit events, hooks); every
 * decision is written to dispatch_logs with its score and breakdown.
 */
import type { Clock } from '../platform/clock.ts';
import type { Db, DbTx, Prisma } from '../platform/db/database.ts';
import { AppError, notFound } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import type { NotificationService } from '../maintenance/notifications.ts';
import type { CreatedOrder, WorkOrderHooks, WorkOrderService } from '../maintenance/work-orders.ts';
import { greedyAssignment, solveAssignment } from './assignment.ts';
import { DEFAULT_PROFILE_OPTIONS, loadEngineerProfiles, orderSelect, toOrderProfile, type LoadedEngineer, type LoadedOrder, type ProfileOptions } from './profiles.ts';
import { assignmentCost, pairScore, rankCandidates, urgencyOrder, type Candidate, type Priority, type ScoringOptions } from './scoring.ts';

export type DispatchKind = 'auto' | 'batch' | 'manual' | 'redispatch' | 'declined' | 'withdrawn';

/** Which new orders are assigned automatically: "source:priority" patterns, `*` = any. */
export interface AutoAssignPolicy {
  matches(source: string, priority: Priority): boolean;
}

export function parseAutoAssign(patterns: readonly string[]): AutoAssignPolicy {
  const list = patterns.map((p) => {
    const [source = '*', priority = '*'] = p.split(':').map((s) => s.trim());
    return { source, priority };
  });
  return { matches: (source, priority) => list.some((p) => (p.source === '*' || p.source === source) && (p.priority === '*' || p.priority === priority)) };
}

export interface EngineerMessage {
  type: 'assigned' | 'withdrawn';
  workOrderId: string;
  number: number;
  title: string;
  priority: string;
  assetCode: string;
  at: string;
}

export interface DispatchDeps {
  prisma: Db;
  clock: Clock;
  logger: Logger;
  workOrders: WorkOrderService;
  notifications: NotificationService;
  /** Pushes a message to the engineer (MQTT topic per engineer); must not throw. */
  publish?: ((engineerCode: string, message: EngineerMessage) => void) | undefined;
  autoAssign: AutoAssignPolicy;
  scoring?: ScoringOptions | undefined;
  profiles?: ProfileOptions | undefined;
}

export interface PlannedAssignment {
  workOrderId: string;
  number: number;
  priority: Priority;
  engineerId: string;
  engineerCode: string;
  score: number;
  cost: number;
  travelKm: number | null;
}

export interface BatchPlan {
  dryRun: boolean;
  orders: number;
  engineers: number;
  assignments: PlannedAssignment[];
  unassigned: { workOrderId: string; number: number; reason: string }[];
  totalCost: number;
  /** Greedy nearest-available baseline on the same instance (nearest eligible engineer with capacity, most urgent order first; total in the same costs). */
  greedy: { totalCost: number; assigned: number };
  /** Persisted (not dry-run): orders assigned and those that changed meanwhile. */
  persisted?: { assigned: number; skipped: number };
  timingsMs: { load: number; matrix: number; solve: number; persist: number; total: number };
}

const ms = (t: number): number => Math.round((performance.now() - t) * 10) / 10;

export function createDispatchService(deps: DispatchDeps) {
  const { prisma, clock, workOrders, notifications } = deps;
  const log = deps.logger.child({ module: 'dispatch' });
  const profileOpts = deps.profiles ?? DEFAULT_PROFILE_OPTIONS;
  const scoring = deps.scoring ?? {};

  async function loadOrder(id: string): Promise<LoadedOrder> {
    const o = await prisma.workOrder.findUnique({ where: { id }, select: orderSelect });
    if (!o) throw notFound('WorkOrder', id);
    return toOrderProfile(o, profileOpts);
  }

  async function declinedBy(workOrderId: string): Promise<Set<string>> {
    const rows = await prisma.dispatchLog.findMany({ where: { workOrderId, kind: 'declined', engineerId: { not: null } }, select: { engineerId: true } });
    return new Set(rows.map((r) => r.engineerId!));
  }

  async function rank(order: LoadedOrder, now: Date): Promise<{ candidates: Candidate[]; engineers: LoadedEngineer[] }> {
    const { engineers, familiarity } = await loadEngineerProfiles(prisma, now, profileOpts, { siteIds: [order.siteId], customerIds: order.customerId ? [order.customerId] : [] });
    for (const e of engineers) {
      e.siteVisits = familiarity.site(e.id, order.siteId);
      e.customerVisits = familiarity.customer(e.id, order.customerId);
    }
    const declined = await declinedBy(order.id);
    const candidates = rankCandidates(order, engineers, now, scoring).map((c) =>
      declined.has(c.engineerId) ? { ...c, eligible: false, score: 0, reasons: [...c.reasons, { code: 'declined' as const }] } : c,
    );
    // re-sort: declined candidates move to the ineligible group
    candidates.sort((a, b) => Number(b.eligible) - Number(a.eligible) || b.score - a.score);
    return { candidates, engineers };
  }

  async function logDecision(kind: DispatchKind, workOrderId: string, engineerId: string | null, details: Record<string, unknown>, score: number | null, actor: string | undefined): Promise<void> {
    await prisma.dispatchLog.create({ data: { kind, workOrderId, engineerId, details: details as Prisma.InputJsonValue, score, actor: actor ?? null, at: clock.now() } });
  }

  type OrderRef = { id: string; number: number; title: string; priority: string; assetCode: string };
  /** The message an engineer gets (MQTT and the notification payload), and its notification title. */
  const messageOf = (type: EngineerMessage['type'], order: OrderRef, at: Date): EngineerMessage => ({
    type,
    workOrderId: order.id,
    number: order.number,
    title: order.title,
    priority: order.priority,
    assetCode: order.assetCode,
    at: at.toISOString(),
  });
  const noticeTitle = (type: EngineerMessage['type'], order: OrderRef): string => `${type === 'assigned' ? 'Assigned' : 'Withdrawn'}: WO #${order.number} ${order.title}`;

  async function tell(engineerId: string, type: EngineerMessage['type'], order: OrderRef): Promise<void> {
    const e = await prisma.engineer.findUnique({ where: { id: engineerId }, select: { code: true } });
    if (!e) return;
    const at = clock.now();
    const message = messageOf(type, order, at);
    await notifications.notify({
      kind: type === 'assigned' ? 'work_order_assigned' : 'work_order_withdrawn',
      subjectType: 'engineer',
      subjectId: engineerId,
      dedupeKey: `${type}:${order.id}:${engineerId}:${at.getTime()}`,
      title: noticeTitle(type, order),
      payload: message as unknown as Record<string, unknown>,
    });
    try {
      deps.publish?.(e.code, message);
    } catch (err) {
      log.warn({ err, engineer: e.code }, 'engineer notification publish failed');
    }
  }

  /** Batch dispatch log: one INSERT … SELECT unnest() for all rows. */
  async function insertBatchLog(tx: DbTx, rows: PlannedAssignment[], actor: string | null, at: Date): Promise<void> {
    if (rows.length === 0) return;
    await tx.$executeRaw`
      INSERT INTO dispatch_logs (id, work_order_id, engineer_id, kind, score, details, actor, at)
      SELECT gen_random_uuid()::text, w, e, 'batch'::"DispatchKind", s, d::jsonb, ${actor}, (${at.toISOString()}::timestamptz AT TIME ZONE 'UTC')
        FROM unnest(${rows.map((a) => a.workOrderId)}::text[], ${rows.map((a) => a.engineerId)}::text[], ${rows.map((a) => a.score)}::float8[],
                    ${rows.map((a) => JSON.stringify({ cost: a.cost, travelKm: a.travelKm }))}::text[]) AS t(w, e, s, d)`;
  }

  /** One notification per assignment (one INSERT; the dedupe key makes a retry a no-op). */
  async function insertAssignedNotifications(tx: DbTx, items: { engineerId: string; order: LoadedOrder }[], at: Date): Promise<void> {
    if (items.length === 0) return;
    await tx.$executeRaw`
      INSERT INTO notifications (id, kind, subject_type, subject_id, dedupe_key, title, payload, created_at)
      SELECT gen_random_uuid()::text, 'work_order_assigned', 'engineer', e, k, t, p::jsonb, (${at.toISOString()}::timestamptz AT TIME ZONE 'UTC')
        FROM unnest(${items.map((i) => i.engineerId)}::text[], ${items.map((i) => `assigned:${i.order.id}:${i.engineerId}:${at.getTime()}`)}::text[],
                    ${items.map((i) => noticeTitle('assigned', i.order))}::text[], ${items.map((i) => JSON.stringify(messageOf('assigned', i.order, at)))}::text[]) AS x(e, k, t, p)
      ON CONFLICT (dedupe_key) DO NOTHING`;
  }

  /** MQTT message to each engineer (after commit). */
  async function publishAssigned(items: { engineerId: string; order: LoadedOrder }[]): Promise<void> {
    if (items.length === 0 || !deps.publish) return;
    const codes = new Map((await prisma.engineer.findMany({ where: { id: { in: [...new Set(items.map((i) => i.engineerId))] } }, select: { id: true, code: true } })).map((e) => [e.id, e.code]));
    const at = clock.now();
    for (const { engineerId, order } of items) {
      const code = codes.get(engineerId);
      try {
        if (code) deps.publish(code, messageOf('assigned', order, at));
      } catch (err) {
        log.warn({ err, engineer: code }, 'engineer notification publish failed');
      }
    }
  }

  /** Puts an order with `engineerId`: from open directly, from assigned/accepted via open (withdrawing it from the previous engineer). */
  async function assignTo(order: LoadedOrder, engineerId: string, kind: DispatchKind, candidate: Candidate | undefined, actor: string | undefined, note: string | undefined) {
    if (order.status === 'assigned' || order.status === 'accepted') {
      if (order.assigneeId === engineerId) throw new AppError('conflict', `work order #${order.number} is already assigned to this engineer`, { engineerId });
      const previous = order.assigneeId;
      await workOrders.transition(order.id, { to: 'open', actor, note: `withdrawn for re-dispatch${note ? `: ${note}` : ''}` });
      if (previous) {
        await logDecision('withdrawn', order.id, previous, { reason: note ?? kind }, null, actor);
        await tell(previous, 'withdrawn', order);
      }
    } else if (order.status !== 'open') {
      throw new AppError('illegal_transition', `work order #${order.number} is ${order.status}; only open, assigned or accepted orders can be (re)assigned`, { status: order.status });
    }
    const wo = await workOrders.transition(order.id, { to: 'assigned', assigneeId: engineerId, actor: actor ?? `dispatch:${kind}`, note: note ?? (candidate ? `score ${candidate.score}` : undefined) });
    await logDecision(kind, order.id, engineerId, candidate ? { breakdown: candidate.breakdown, travelKm: candidate.travelKm, reasons: candidate.reasons } : {}, candidate?.score ?? null, actor);
    await tell(engineerId, 'assigned', order);
    log.info({ workOrder: order.number, engineer: engineerId, kind, score: candidate?.score }, 'work order dispatched');
    return wo;
  }

  /** Best eligible candidate → assign; none → the order stays open and a notification says why. */
  async function dispatchBest(order: LoadedOrder, kind: 'auto' | 'redispatch', actor: string | undefined) {
    const now = clock.now();
    const { candidates } = await rank(order, now);
    const best = candidates.find((c) => c.eligible);
    if (!best) {
      await notifications.notify({
        kind: 'dispatch_failed',
        subjectType: 'work_order',
        subjectId: order.id,
        dedupeKey: `dispatch-failed:${order.id}:${now.getTime()}`,
        title: `No eligible engineer for WO #${order.number}`,
        payload: { reasons: candidates.map((c) => ({ engineer: c.code, reasons: c.reasons })) },
      });
      log.warn({ workOrder: order.number }, 'no eligible engineer; order stays open');
      return null;
    }
    return assignTo(order, best.engineerId, kind, best, actor, undefined);
  }

  const workOrderHooks: WorkOrderHooks = {
    async afterCreated(created: CreatedOrder) {
      const order = await loadOrder(created.id);
      if (order.status !== 'open' || !deps.autoAssign.matches(created.source, order.priority)) return;
      await dispatchBest(order, 'auto', 'dispatch:auto');
    },
  };

  return {
    workOrderHooks,

    async recommend(workOrderId: string, opts: { includeIneligible?: boolean | undefined } = {}) {
      const order = await loadOrder(workOrderId);
      const now = clock.now();
      const { candidates } = await rank(order, now);
      return {
        workOrder: { id: order.id, number: order.number, title: order.title, priority: order.priority, status: order.status, assetCode: order.assetCode, requiredSkills: order.requiredSkills, responseDueAt: order.responseDueAt },
        at: now,
        candidates: opts.includeIneligible === false ? candidates.filter((c) => c.eligible) : candidates,
      };
    },

    /** Dispatcher's choice; an ineligible engineer needs `force` (the reasons are kept in the log). */
    async assign(workOrderId: string, engineerId: string, opts: { actor?: string | undefined; note?: string | undefined; force?: boolean | undefined } = {}) {
      const order = await loadOrder(workOrderId);
      const { candidates } = await rank(order, clock.now());
      const c = candidates.find((x) => x.engineerId === engineerId);
      if (!c) throw new AppError('validation', `engineer ${engineerId} does not exist or is inactive`, { engineerId });
      if (!c.eligible && !opts.force) {
        throw new AppError('conflict', `engineer ${c.code} is not eligible: ${c.reasons.map((r) => r.code).join(', ')} (pass force: true to override)`, { reasons: c.reasons });
      }
      return assignTo(order, engineerId, 'manual', c, opts.actor, opts.note);
    },

    /** The assigned engineer declines: back to open, never offered to them again, then re-dispatched. */
    async decline(workOrderId: string, engineerId: string, opts: { reason?: string | undefined; actor?: string | undefined } = {}) {
      const order = await loadOrder(workOrderId);
      if (order.assigneeId !== engineerId || !(order.status === 'assigned' || order.status === 'accepted')) {
        throw new AppError('illegal_transition', `work order #${order.number} is not assigned to engineer ${engineerId} (status ${order.status})`, { status: order.status });
      }
      await workOrders.transition(order.id, { to: 'open', actor: opts.actor ?? engineerId, note: `declined${opts.reason ? `: ${opts.reason}` : ''}` });
      await logDecision('declined', order.id, engineerId, { reason: opts.reason ?? null }, null, opts.actor);
      const reloaded = await loadOrder(workOrderId);
      const next = await dispatchBest(reloaded, 'redispatch', 'dispatch:redispatch');
      return { declined: true, reassignedTo: next?.assigneeId ?? null, workOrder: next ?? (await workOrders.get(workOrderId)) };
    },

    /** Engineer became unavailable (leave, deactivated): withdraw orders not yet under way and re-dispatch them. */
    async redispatchFrom(engineerId: string, reason: string, actor?: string) {
      const orders = await prisma.workOrder.findMany({ where: { assigneeId: engineerId, status: { in: ['assigned', 'accepted'] } }, select: { id: true } });
      const results: { workOrderId: string; reassignedTo: string | null }[] = [];
      for (const { id } of orders) {
        const order = await loadOrder(id);
        await workOrders.transition(id, { to: 'open', actor: actor ?? 'dispatch', note: `withdrawn: ${reason}` });
        await logDecision('withdrawn', id, engineerId, { reason }, null, actor);
        await tell(engineerId, 'withdrawn', order);
        const next = await dispatchBest(await loadOrder(id), 'redispatch', 'dispatch:redispatch');
        results.push({ workOrderId: id, reassignedTo: next?.assigneeId ?? null });
      }
      return results;
    },

    /**
     * Assigns open orders to available engineers at minimum total cost (capacities: open-order
     * limit and the hours left in the shift). Dry run returns the plan only.
     */
    async batchAssign(opts: { dryRun: boolean; workOrderIds?: string[] | undefined; siteId?: string | undefined; limit?: number | undefined; actor?: string | undefined }): Promise<BatchPlan> {
      const t0 = performance.now();
      const now = clock.now();
      const rows = await prisma.workOrder.findMany({
        where: { status: 'open', ...(opts.workOrderIds ? { id: { in: opts.workOrderIds } } : {}), ...(opts.siteId ? { asset: { siteId: opts.siteId } } : {}) },
        select: orderSelect,
        orderBy: { number: 'asc' },
        take: opts.limit ?? 5000,
      });
      const orders = rows.map((r) => toOrderProfile(r, profileOpts)).sort(urgencyOrder);
      const siteIds = [...new Set(orders.map((o) => o.siteId))];
      const customerIds = [...new Set(orders.map((o) => o.customerId).filter((c): c is string => !!c))];
      const { engineers, familiarity } = await loadEngineerProfiles(prisma, now, profileOpts, { siteIds, customerIds });
      const declined = await prisma.dispatchLog.findMany({ where: { kind: 'declined', workOrderId: { in: orders.map((o) => o.id) } }, select: { workOrderId: true, engineerId: true } });
      const declinedBy = new Map<string, Set<string>>();
      for (const d of declined) if (d.engineerId) declinedBy.set(d.workOrderId, (declinedBy.get(d.workOrderId) ?? new Set()).add(d.engineerId));
      const load = ms(t0);

      const t1 = performance.now();
      const meanHours = orders.length ? orders.reduce((a, o) => a + o.estimatedHours, 0) / orders.length : 1;
      const capacity = engineers.map((e) => {
        if (!e.shift || e.onLeave) return 0;
        const remaining = (e.shift.end.getTime() - Math.max(now.getTime(), e.shift.start.getTime())) / 3_600_000 - e.openHours;
        return Math.max(0, Math.min(e.maxOpenOrders - e.openOrders, Math.floor(remaining / meanHours)));
      });
      const scores: Float64Array[] = [];
      const distance: Float64Array[] = [];
      const cost = orders.map((o) => {
        const row = new Float64Array(engineers.length);
        const km = new Float64Array(engineers.length);
        const sc = new Float64Array(engineers.length);
        const declinedHere = declinedBy.get(o.id);
        engineers.forEach((e, j) => {
          e.siteVisits = familiarity.site(e.id, o.siteId);
          e.customerVisits = familiarity.customer(e.id, o.customerId);
          const p = pairScore(o, e, now, scoring);
          sc[j] = p.score ?? 0;
          row[j] = p.score === null || declinedHere?.has(e.id) ? Infinity : assignmentCost(o, { eligible: true, score: p.score });
          km[j] = p.travelKm ?? Number.MAX_SAFE_INTEGER;
        });
        scores.push(sc);
        distance.push(km);
        return row;
      });
      const matrix = ms(t1);

      const t2 = performance.now();
      const best = solveAssignment({ cost, capacity });
      // baseline: nearest available eligible engineer, most urgent order first
      const greedy = greedyAssignment({ cost, capacity }, distance);
      const solve = ms(t2);

      const assignments: PlannedAssignment[] = [];
      const unassigned: BatchPlan['unassigned'] = [];
      orders.forEach((o, i) => {
        const j = best.engineerOf[i]!;
        if (j < 0) {
          const anyEligible = cost[i]!.some((c) => c !== Infinity);
          unassigned.push({ workOrderId: o.id, number: o.number, reason: anyEligible ? 'no capacity left among eligible engineers' : 'no eligible engineer (skills, certifications, shift, leave or capacity)' });
          return;
        }
        const km = distance[i]![j]!;
        assignments.push({
          workOrderId: o.id,
          number: o.number,
          priority: o.priority,
          engineerId: engineers[j]!.id,
          engineerCode: engineers[j]!.code,
          score: scores[i]![j]!,
          cost: cost[i]![j]!,
          travelKm: km === Number.MAX_SAFE_INTEGER ? null : km,
        });
      });

      const t3 = performance.now();
      let persisted: BatchPlan['persisted'];
      if (!opts.dryRun && assignments.length > 0) {
        const byId = new Map(orders.map((o) => [o.id, o]));
        let told: { engineerId: string; order: LoadedOrder }[] = [];
        // assignments, their dispatch log and the engineers' notifications commit together
        const r = await workOrders.assignMany(
          assignments.map((a) => ({ workOrderId: a.workOrderId, engineerId: a.engineerId })),
          {
            actor: opts.actor ?? 'dispatch:batch',
            note: 'batch assignment',
            within: async (tx, ids, at) => {
              const done = new Set(ids);
              const rows = assignments.filter((a) => done.has(a.workOrderId));
              await insertBatchLog(tx, rows, opts.actor ?? null, at);
              told = rows.map((a) => ({ engineerId: a.engineerId, order: byId.get(a.workOrderId)! }));
              await insertAssignedNotifications(tx, told, at);
            },
          },
        );
        persisted = { assigned: r.assigned.length, skipped: r.skipped.length };
        await publishAssigned(told);
      }
      const persist = ms(t3);
      const plan: BatchPlan = {
        dryRun: opts.dryRun,
        orders: orders.length,
        engineers: engineers.length,
        assignments,
        unassigned,
        totalCost: Math.round(best.totalCost * 100) / 100,
        greedy: { totalCost: Math.round(greedy.totalCost * 100) / 100, assigned: greedy.assigned },
        ...(persisted ? { persisted } : {}),
        timingsMs: { load, matrix, solve, persist, total: ms(t0) },
      };
      log.info({ orders: plan.orders, engineers: plan.engineers, assigned: assignments.length, dryRun: opts.dryRun, totalCost: plan.totalCost, greedyCost: plan.greedy.totalCost, ms: plan.timingsMs.total }, 'batch assignment');
      return plan;
    },

    async history(workOrderId: string) {
      return prisma.dispatchLog.findMany({ where: { workOrderId }, orderBy: { at: 'asc' }, select: { kind: true, engineerId: true, score: true, details: true, actor: true, at: true } });
    },
  };
}

export type DispatchService = ReturnType<typeof createDispatchService>;
