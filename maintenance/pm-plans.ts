/**
 * Preventive-maintenance plans: CRUD with validation, the periodic tick that generates due orders,
 * the completion / cancellation hooks that move a plan's cycle, and the forecast of upcoming work.
 * Due computation and projection are pure (`pm-schedule.ts`); this file loads and stores.
 *
 * Exactly once: every due point has the dedupe key `pm:<plan>:<asset>:<seq>` (seq = last generated
 * sequence + 1, so every instance reading the same state derives the same key) and the open key
 * `pm:<plan>:<asset>` (one open order per plan and asset). Both are unique in the database, so
 * concurrent ticks on several instances converge on one order. The state (sequence, generation time)
 * is written by the `onCreated` hook inside the order's own transaction. A due point reached while an
 * order of the plan is still open on the asset is not generated again: the open order covers it.
 */
import type { Clock } from '../platform/clock.ts';
import type { Db, DbTx, Prisma } from '../platform/db/database.ts';
import { AppError, notFound } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { normalizeTasks } from './checklist-rules.ts';
import {
  baselineToRecord,
  checkSchedule,
  DAY_MS,
  dueStatus,
  EMPTY_STATE,
  explainDue,
  forecastOccurrences,
  forecastTotals,
  hasMeter,
  pmDedupeKey,
  pmOpenKey,
  seqOfDedupeKey,
  usageRate,
  type IntervalUnit,
  type PmSchedule,
  type PmState,
  type PmTrigger,
} from './pm-schedule.ts';
import type { Priority, WorkOrderHooks, WorkOrderService } from './work-orders.ts';

export interface PlanInput {
  name: string;
  description?: string | null | undefined;
  assetId?: string | null | undefined;
  assetType?: string | null | undefined;
  trigger: PmTrigger;
  intervalCount?: number | null | undefined;
  intervalUnit?: IntervalUnit | null | undefined;
  startDate?: string | null | undefined;
  meterName?: string | null | undefined;
  meterInterval?: number | null | undefined;
  meterTolerance?: number | undefined;
  leadDays?: number | undefined;
  floating?: boolean | undefined;
  priority?: Priority | undefined;
  estimatedHours?: number | null | undefined;
  requiredSkills?: string[] | undefined;
  tasks?: unknown[] | undefined;
  checklistTemplateId?: string | null | undefined;
  enabled?: boolean | undefined;
  parts?: { partId: string; quantity: number }[] | undefined;
}

export interface ForecastQuery {
  from?: string | undefined;
  to?: string | undefined;
  planId?: string | undefined;
  assetId?: string | undefined;
  siteId?: string | undefined;
}

export const pmPlanSelect = {
  id: true,
  name: true,
  description: true,
  assetId: true,
  assetType: true,
  trigger: true,
  intervalCount: true,
  intervalUnit: true,
  startDate: true,
  meterName: true,
  meterInterval: true,
  meterTolerance: true,
  leadDays: true,
  floating: true,
  priority: true,
  estimatedHours: true,
  requiredSkills: true,
  tasks: true,
  checklistTemplateId: true,
  enabled: true,
  createdAt: true,
  updatedAt: true,
  parts: { select: { partId: true, quantity: true, part: { select: { code: true, name: true } } }, orderBy: { partId: 'asc' } },
} satisfies Prisma.PmPlanSelect;

export type PmPlanRow = Prisma.PmPlanGetPayload<{ select: typeof pmPlanSelect }>;

const assetSelect = { id: true, code: true, siteId: true, commissionedAt: true, installDate: true } satisfies Prisma.AssetSelect;
type ScopeAsset = Prisma.AssetGetPayload<{ select: typeof assetSelect }>;
const stateSelect = { assetId: true, lastDoneAt: true, lastDoneMeter: true, generatedSeq: true, lastGeneratedAt: true, updatedAt: true } satisfies Prisma.PmPlanStateSelect;
type StateRow = Prisma.PmPlanStateGetPayload<{ select: typeof stateSelect }>;

/** Longest forecast window. */
const MAX_HORIZON_DAYS = 3 * 366;
const DEFAULT_HORIZON_DAYS = 90;
/** Most occurrences listed per plan and asset in one forecast. */
const MAX_OCCURRENCES = 400;

const scheduleOf = (p: Pick<PmPlanRow, 'trigger' | 'intervalCount' | 'intervalUnit' | 'meterInterval' | 'meterTolerance' | 'leadDays' | 'floating'>): PmSchedule => ({
  trigger: p.trigger,
  intervalCount: p.intervalCount,
  intervalUnit: p.intervalUnit,
  meterInterval: p.meterInterval,
  meterTolerance: p.meterTolerance,
  leadDays: p.leadDays,
  floating: p.floating,
});

/** The calendar anchor: plan start, else the asset's commissioning / installation, else the plan's creation. */
const anchorOf = (plan: Pick<PmPlanRow, 'startDate' | 'createdAt'>, asset: Pick<ScopeAsset, 'commissionedAt' | 'installDate'>): Date =>
  plan.startDate ?? asset.commissionedAt ?? asset.installDate ?? plan.createdAt;

const stateOf = (row: StateRow | undefined | null): PmState =>
  row ? { lastDoneAt: row.lastDoneAt, lastDoneMeter: row.lastDoneMeter, generatedSeq: row.generatedSeq, lastGeneratedAt: row.lastGeneratedAt } : EMPTY_STATE;

/** Stored task list: normalized {key, label, required} (validated before). */
function tasksJson(tasks: unknown[] | undefined): Prisma.InputJsonValue {
  const t = normalizeTasks(tasks ?? []);
  return t.ok ? t.items.map(({ key, label, required }) => ({ key, label, required })) : [];
}

/** Before any order or completion, the row's last write is the plan's first sight of the asset. */
const firstSeenAt = (row: StateRow | undefined): Date | null =>
  row && row.generatedSeq === 0 && row.lastDoneAt === null && row.lastGeneratedAt === null ? row.updatedAt : null;

export function createPmPlanService(deps: { prisma: Db; clock: Clock; logger: Logger; workOrders: WorkOrderService }) {
  const { prisma, clock, workOrders } = deps;
  const log = deps.logger.child({ module: 'pm-plans' });

  async function validate(p: PlanInput): Promise<void> {
    const hasAsset = p.assetId != null;
    const hasType = p.assetType != null && p.assetType !== '';
    if (hasAsset === hasType) throw new AppError('validation', 'a PM plan applies to exactly one of assetId or assetType', { assetId: p.assetId ?? null, assetType: p.assetType ?? null });
    const { missing, problems } = checkSchedule({
      trigger: p.trigger,
      intervalCount: p.intervalCount ?? null,
      intervalUnit: p.intervalUnit ?? null,
      meterName: p.meterName ?? null,
      meterInterval: p.meterInterval ?? null,
      meterTolerance: p.meterTolerance ?? 0,
      leadDays: p.leadDays ?? 0,
      floating: p.floating ?? true,
    });
    if (missing.length) throw new AppError('validation', `trigger ${p.trigger} needs ${missing.join(', ')}`, { missing });
    if (problems.length) throw new AppError('validation', problems.join('; '), { problems });
    if (p.startDate != null && Number.isNaN(Date.parse(p.startDate))) throw new AppError('validation', `startDate ${p.startDate} is not a date`);
    if (p.tasks !== undefined) {
      const t = normalizeTasks(p.tasks);
      if (!t.ok) throw new AppError('validation', t.message);
    }
    if (hasAsset && !(await prisma.asset.findUnique({ where: { id: p.assetId! }, select: { id: true } }))) {
      throw new AppError('validation', `asset ${p.assetId} does not exist`, { assetId: p.assetId });
    }
    if (p.checklistTemplateId != null && !(await prisma.checklistTemplate.findUnique({ where: { id: p.checklistTemplateId }, select: { id: true } }))) {
      throw new AppError('validation', `checklist template ${p.checklistTemplateId} does not exist`, { checklistTemplateId: p.checklistTemplateId });
    }
    if (p.parts?.length) {
      const ids = p.parts.map((x) => x.partId);
      const dup = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
      if (dup.length) throw new AppError('validation', `parts lists part(s) more than once: ${dup.join(', ')}`, { duplicates: dup });
      const found = new Set((await prisma.part.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((x) => x.id));
      const unknown = ids.filter((id) => !found.has(id));
      if (unknown.length) throw new AppError('validation', `part(s) do not exist: ${unknown.join(', ')}`, { partIds: unknown });
    }
  }

  /** Column values of a validated plan (parts and tasks handled separately). */
  const columns = (p: PlanInput) => ({
    name: p.name,
    description: p.description ?? null,
    assetId: p.assetId ?? null,
    assetType: p.assetId != null ? null : (p.assetType ?? null),
    trigger: p.trigger,
    intervalCount: p.intervalCount ?? null,
    intervalUnit: p.intervalUnit ?? null,
    startDate: p.startDate != null ? new Date(p.startDate) : null,
    meterName: p.meterName ?? null,
    meterInterval: p.meterInterval ?? null,
    meterTolerance: p.meterTolerance ?? 0,
    leadDays: p.leadDays ?? 0,
    floating: p.floating ?? true,
    priority: p.priority ?? 'medium',
    estimatedHours: p.estimatedHours ?? null,
    requiredSkills: [...new Set((p.requiredSkills ?? []).map((s) => s.trim()).filter(Boolean))],
    tasks: tasksJson(p.tasks),
    checklistTemplateId: p.checklistTemplateId ?? null,
    enabled: p.enabled ?? true,
  });

  async function get(id: string): Promise<PmPlanRow> {
    const plan = await prisma.pmPlan.findUnique({ where: { id }, select: pmPlanSelect });
    if (!plan) throw notFound('PmPlan', id);
    return plan;
  }

  async function assetsInScope(plan: Pick<PmPlanRow, 'assetId' | 'assetType'>, filter: { assetId?: string | undefined; siteId?: string | undefined } = {}): Promise<ScopeAsset[]> {
    return prisma.asset.findMany({
      where: {
        AND: [
          plan.assetId ? { id: plan.assetId } : { type: plan.assetType! },
          { status: { not: 'retired' } },
          filter.assetId ? { id: filter.assetId } : {},
          filter.siteId ? { siteId: filter.siteId } : {},
        ],
      },
      select: assetSelect,
      orderBy: { code: 'asc' },
    });
  }

  async function statesOf(planId: string, assetIds: string[]): Promise<Map<string, StateRow>> {
    const rows = await prisma.pmPlanState.findMany({ where: { planId, assetId: { in: assetIds } }, select: stateSelect });
    return new Map(rows.map((r) => [r.assetId, r]));
  }

  async function metersOf(meterName: string | null, assetIds: string[]): Promise<Map<string, { value: number; readAt: Date }>> {
    if (!meterName) return new Map();
    const rows = await prisma.meter.findMany({ where: { name: meterName, assetId: { in: assetIds } }, select: { assetId: true, value: true, readAt: true } });
    return new Map(rows.map((r) => [r.assetId, { value: r.value, readAt: r.readAt }]));
  }

  /** What the forecast reads for a set of plans, loaded in three queries: the non-retired assets in scope, their states and meters. */
  async function forecastContext(plans: PmPlanRow[], filter: { assetId?: string | undefined; siteId?: string | undefined }) {
    const assetIds = [...new Set(plans.flatMap((p) => (p.assetId ? [p.assetId] : [])))];
    const types = [...new Set(plans.flatMap((p) => (!p.assetId && p.assetType ? [p.assetType] : [])))];
    const assets =
      plans.length === 0
        ? []
        : await prisma.asset.findMany({
            where: {
              AND: [
                { OR: [...(assetIds.length ? [{ id: { in: assetIds } }] : []), ...(types.length ? [{ type: { in: types } }] : [])] },
                { status: { not: 'retired' } },
                filter.assetId ? { id: filter.assetId } : {},
                filter.siteId ? { siteId: filter.siteId } : {},
              ],
            },
            select: { ...assetSelect, type: true },
            orderBy: { code: 'asc' },
          });
    const ids = assets.map((a) => a.id);
    const meterNames = [...new Set(plans.flatMap((p) => (hasMeter(p.trigger) && p.meterName ? [p.meterName] : [])))];
    const [states, meters] = await Promise.all([
      ids.length ? prisma.pmPlanState.findMany({ where: { planId: { in: plans.map((p) => p.id) }, assetId: { in: ids } }, select: { ...stateSelect, planId: true } }) : [],
      ids.length && meterNames.length ? prisma.meter.findMany({ where: { name: { in: meterNames }, assetId: { in: ids } }, select: { assetId: true, name: true, value: true, readAt: true } }) : [],
    ]);
    const stateByPair = new Map(states.map(({ planId, ...r }) => [`${planId}:${r.assetId}`, r]));
    const meterByPair = new Map(meters.map((m) => [`${m.assetId}:${m.name}`, { value: m.value, readAt: m.readAt }]));
    return {
      inScope: (plan: Pick<PmPlanRow, 'assetId' | 'assetType'>): ScopeAsset[] =>
        assets.filter((a) => (plan.assetId ? a.id === plan.assetId : a.type === plan.assetType)).map(({ type: _type, ...a }) => a),
      stateOfPair: (planId: string, assetId: string): StateRow | undefined => stateByPair.get(`${planId}:${assetId}`),
      meterOfPair: (assetId: string, meterName: string): { value: number; readAt: Date } | null => meterByPair.get(`${assetId}:${meterName}`) ?? null,
    };
  }

  /** Makes sure the state row exists (concurrent callers: the first insert wins, the others do nothing). */
  async function ensureState(db: DbTx, planId: string, assetId: string, init: { lastDoneMeter?: number } = {}): Promise<void> {
    await db.pmPlanState.createMany({ data: [{ planId, assetId, ...init }], skipDuplicates: true });
  }

  /** First sight of an asset by a meter plan: the current reading becomes the baseline (first writer wins). */
  async function recordBaseline(planId: string, assetId: string, value: number): Promise<StateRow | null> {
    await ensureState(prisma, planId, assetId, { lastDoneMeter: value });
    await prisma.pmPlanState.updateMany({ where: { planId, assetId, lastDoneMeter: null }, data: { lastDoneMeter: value } });
    return prisma.pmPlanState.findUnique({ where: { planId_assetId: { planId, assetId } }, select: stateSelect });
  }

  async function tickPlan(plan: PmPlanRow, now: Date): Promise<{ created: number; covered: number; baselines: number }> {
    const out = { created: 0, covered: 0, baselines: 0 };
    const assets = await assetsInScope(plan);
    if (assets.length === 0) return out;
    const ids = assets.map((a) => a.id);
    const [states, meters] = await Promise.all([statesOf(plan.id, ids), metersOf(hasMeter(plan.trigger) ? plan.meterName : null, ids)]);
    const schedule = scheduleOf(plan);
    for (const asset of assets) {
      try {
        let row: StateRow | null | undefined = states.get(asset.id);
        const meter = meters.get(asset.id)?.value ?? null;
        const baseline = baselineToRecord(schedule, row ? stateOf(row) : null, meter);
        if (baseline !== undefined) {
          row = await recordBaseline(plan.id, asset.id, baseline);
          out.baselines++;
        }
        const state = stateOf(row);
        const anchor = anchorOf(plan, asset);
        const status = dueStatus(schedule, anchor, state, meter, now);
        if (!status.due) continue;
        const dedupeKey = pmDedupeKey(plan.id, asset.id, status.due.seq);
        const r = await workOrders.requestFromCause({
          dedupeKey,
          openKey: pmOpenKey(plan.id, asset.id),
          source: 'pm',
          pmPlanId: plan.id,
          title: `PM: ${plan.name}`,
          priority: plan.priority,
          assetId: asset.id,
          reason: explainDue({ ...schedule, id: plan.id, name: plan.name, meterName: plan.meterName }, asset, anchor, state, status, now),
          requestedAt: now,
          requiredSkills: plan.requiredSkills,
          estimatedHours: plan.estimatedHours ?? undefined,
          description: plan.description ?? undefined,
        });
        if (r.created) out.created++;
        else if (r.workOrder.dedupeKey !== dedupeKey) {
          // an order of this plan is still open on the asset: it covers this due point
          await ensureState(prisma, plan.id, asset.id);
          await prisma.pmPlanState.updateMany({ where: { planId: plan.id, assetId: asset.id }, data: { lastGeneratedAt: now } });
          out.covered++;
          log.info({ pmPlan: plan.id, asset: asset.id, openOrder: r.workOrder.number }, 'PM due point covered by the order still open');
        }
      } catch (err) {
        log.warn({ err, pmPlan: plan.id, asset: asset.id }, 'PM plan evaluation failed');
      }
    }
    return out;
  }

  /** Order of a PM plan (null for other orders). */
  async function planOfOrder(tx: DbTx, workOrderId: string) {
    const wo = await tx.workOrder.findUnique({ where: { id: workOrderId }, select: { pmPlanId: true, dedupeKey: true, requestedAt: true } });
    return wo?.pmPlanId ? { ...wo, pmPlanId: wo.pmPlanId } : null;
  }

  const workOrderHooks: WorkOrderHooks = {
    /** Records the generated due point in the order's own transaction (no window between order and state). */
    async onCreated(tx, order) {
      if (!order.pmPlanId || order.source !== 'pm') return;
      const wo = await planOfOrder(tx, order.id);
      const seq = seqOfDedupeKey(wo?.dedupeKey ?? null);
      if (!wo || seq === undefined) return;
      await ensureState(tx, wo.pmPlanId, order.assetId);
      await tx.pmPlanState.updateMany({
        where: { planId: wo.pmPlanId, assetId: order.assetId, generatedSeq: { lt: seq } },
        data: { generatedSeq: seq, lastGeneratedAt: wo.requestedAt },
      });
    },
    /** Completion restarts the interval: last done = now, at the completion reading (or the current meter). */
    async onCompleted(tx, order) {
      if (order.source !== 'pm') return undefined;
      const wo = await planOfOrder(tx, order.id);
      if (!wo) return undefined;
      const plan = await tx.pmPlan.findUnique({ where: { id: wo.pmPlanId }, select: { trigger: true, meterName: true } });
      if (!plan) return undefined;
      let meter = order.meterReading;
      if (meter === undefined && plan.meterName) {
        meter = (await tx.meter.findUnique({ where: { assetId_name: { assetId: order.assetId, name: plan.meterName } }, select: { value: true } }))?.value;
      }
      if (meter === undefined && hasMeter(plan.trigger)) {
        throw new AppError('validation', `completing this PM order needs meterReading (${plan.meterName}): no reading is known yet`, { meterName: plan.meterName });
      }
      await ensureState(tx, wo.pmPlanId, order.assetId);
      await tx.pmPlanState.updateMany({
        where: { planId: wo.pmPlanId, assetId: order.assetId },
        data: { lastDoneAt: clock.now(), lastGeneratedAt: null, ...(meter !== undefined ? { lastDoneMeter: meter } : {}) },
      });
      return meter;
    },
    /** A cancelled PM order leaves the work owed: the due point is generated again (with a new sequence). */
    async onTransition(tx, ctx) {
      if (ctx.to !== 'cancelled' || ctx.source !== 'pm') return;
      const wo = await planOfOrder(tx, ctx.id);
      if (!wo) return;
      await tx.pmPlanState.updateMany({ where: { planId: wo.pmPlanId, assetId: ctx.assetId }, data: { lastGeneratedAt: null } });
    },
  };

  return {
    workOrderHooks,

    async create(input: PlanInput): Promise<PmPlanRow> {
      await validate(input);
      const plan = await prisma.pmPlan.create({
        data: { ...columns(input), parts: { create: (input.parts ?? []).map((p) => ({ partId: p.partId, quantity: p.quantity })) } },
        select: { id: true },
      });
      log.info({ pmPlan: plan.id, name: input.name }, 'PM plan created');
      return get(plan.id);
    },

    get,

    async list(f: { assetId?: string | undefined; assetType?: string | undefined; enabled?: boolean | undefined; limit: number; offset: number }) {
      const where: Prisma.PmPlanWhereInput = {
        ...(f.assetId ? { assetId: f.assetId } : {}),
        ...(f.assetType ? { assetType: f.assetType } : {}),
        ...(f.enabled !== undefined ? { enabled: f.enabled } : {}),
      };
      const [items, total] = await Promise.all([
        prisma.pmPlan.findMany({ where, select: pmPlanSelect, orderBy: { name: 'asc' }, take: f.limit, skip: f.offset }),
        prisma.pmPlan.count({ where }),
      ]);
      return { items, total };
    },

    /** Partial update; `parts`, when given, replaces the list. Setting assetId clears assetType and vice versa. */
    async update(id: string, patch: Partial<PlanInput>): Promise<PmPlanRow> {
      const cur = await get(id);
      if (patch.assetId != null && patch.assetType != null) throw new AppError('validation', 'a PM plan applies to exactly one of assetId or assetType');
      const scope =
        patch.assetId != null ? { assetId: patch.assetId, assetType: null } : patch.assetType != null ? { assetId: null, assetType: patch.assetType } : { assetId: cur.assetId, assetType: cur.assetType };
      const merged: PlanInput = {
        name: cur.name,
        description: cur.description,
        trigger: cur.trigger,
        intervalCount: cur.intervalCount,
        intervalUnit: cur.intervalUnit,
        startDate: cur.startDate?.toISOString() ?? null,
        meterName: cur.meterName,
        meterInterval: cur.meterInterval,
        meterTolerance: cur.meterTolerance,
        leadDays: cur.leadDays,
        floating: cur.floating,
        priority: cur.priority,
        estimatedHours: cur.estimatedHours,
        requiredSkills: cur.requiredSkills,
        tasks: cur.tasks as unknown[],
        checklistTemplateId: cur.checklistTemplateId,
        enabled: cur.enabled,
        ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
        ...scope,
      };
      await validate(merged);
      await prisma.$transaction(async (tx) => {
        await tx.pmPlan.update({ where: { id }, data: columns(merged) });
        if (patch.parts) {
          await tx.pmPlanPart.deleteMany({ where: { planId: id } });
          if (patch.parts.length) await tx.pmPlanPart.createMany({ data: patch.parts.map((p) => ({ planId: id, partId: p.partId, quantity: p.quantity })) });
        }
      });
      return get(id);
    },

    /** Deletes the plan and its per-asset state; its orders stay (pmPlanId set to null). */
    async remove(id: string): Promise<void> {
      const { count } = await prisma.pmPlan.deleteMany({ where: { id } });
      if (count === 0) throw notFound('PmPlan', id);
    },

    /** Where the plan stands on each asset in scope now (due dates, meter units to go, pending order). */
    async status(id: string) {
      const plan = await get(id);
      const now = clock.now();
      const assets = await assetsInScope(plan);
      const ids = assets.map((a) => a.id);
      const [states, meters] = await Promise.all([statesOf(plan.id, ids), metersOf(hasMeter(plan.trigger) ? plan.meterName : null, ids)]);
      return assets.map((asset) => {
        const state = stateOf(states.get(asset.id));
        const anchor = anchorOf(plan, asset);
        const st = dueStatus(scheduleOf(plan), anchor, state, meters.get(asset.id)?.value ?? null, now);
        return {
          assetId: asset.id,
          assetCode: asset.code,
          anchor,
          state: { ...state },
          pending: st.pending,
          due: st.due !== undefined,
          dueBasis: st.due?.basis ?? null,
          nextSeq: state.generatedSeq + 1,
          calendar: st.calendar ?? null,
          meter: st.meter ? { ...st.meter, unitsToGo: st.meter.triggerValue - st.meter.current } : null,
        };
      });
    },

    /** Generates the orders that are due (idempotent; run periodically on every instance). */
    async tick(): Promise<{ created: number; covered: number; baselines: number; plans: number }> {
      const now = clock.now();
      const plans = await prisma.pmPlan.findMany({ where: { enabled: true }, select: pmPlanSelect, orderBy: { createdAt: 'asc' } });
      const total = { created: 0, covered: 0, baselines: 0, plans: plans.length };
      for (const plan of plans) {
        const r = await tickPlan(plan, now);
        total.created += r.created;
        total.covered += r.covered;
        total.baselines += r.baselines;
      }
      if (total.created) log.info(total, 'PM orders generated');
      return total;
    },

    /** Upcoming PM work in [from, to] (default now … now + 90 days) with hours and parts totals. */
    async forecast(q: ForecastQuery) {
      const now = clock.now();
      const from = q.from ? new Date(q.from) : now;
      const to = q.to ? new Date(q.to) : new Date(from.getTime() + DEFAULT_HORIZON_DAYS * DAY_MS);
      if (to.getTime() <= from.getTime()) throw new AppError('validation', `to (${to.toISOString()}) must be after from (${from.toISOString()})`);
      if (to.getTime() - from.getTime() > MAX_HORIZON_DAYS * DAY_MS) throw new AppError('validation', `the forecast horizon is at most ${MAX_HORIZON_DAYS} days`);
      let typeOfAsset: string | undefined;
      if (q.assetId) {
        const a = await prisma.asset.findUnique({ where: { id: q.assetId }, select: { type: true } });
        if (!a) throw notFound('Asset', q.assetId);
        typeOfAsset = a.type;
      }
      const plans = await prisma.pmPlan.findMany({
        where: {
          enabled: true,
          ...(q.planId ? { id: q.planId } : {}),
          ...(q.assetId ? { OR: [{ assetId: q.assetId }, { assetType: typeOfAsset! }] } : {}),
        },
        select: pmPlanSelect,
        orderBy: { name: 'asc' },
      });
      const items = [];
      const unforecastable: { planId: string; planName: string; assetId: string; assetCode: string; reason: string }[] = [];
      let truncated = false;
      // assets, states and meters of all plans in three queries (not three per plan)
      const { inScope, stateOfPair, meterOfPair } = await forecastContext(plans, { assetId: q.assetId, siteId: q.siteId });
      for (const plan of plans) {
        const assets = inScope(plan);
        const parts = plan.parts.map((p) => ({ partId: p.partId, partCode: p.part.code, partName: p.part.name, quantity: p.quantity }));
        for (const asset of assets) {
          const row = stateOfPair(plan.id, asset.id);
          const state = stateOf(row);
          const meter = hasMeter(plan.trigger) && plan.meterName ? meterOfPair(asset.id, plan.meterName) : null;
          const rate = hasMeter(plan.trigger) ? usageRate(state, meter, firstSeenAt(row)) : null;
          const f = forecastOccurrences({ schedule: scheduleOf(plan), anchor: anchorOf(plan, asset), state, meter, rate, now, from, to, max: MAX_OCCURRENCES });
          truncated ||= f.truncated;
          if (hasMeter(plan.trigger) && !rate) {
            unforecastable.push({
              planId: plan.id,
              planName: plan.name,
              assetId: asset.id,
              assetCode: asset.code,
              reason: !meter
                ? `no reading of ${plan.meterName} yet`
                : state.lastDoneMeter == null
                  ? 'no meter baseline yet (recorded at the next PM tick)'
                  : `no usage rate of ${plan.meterName} yet (needs a later reading than the ${state.lastDoneAt ? 'last completion' : 'baseline'})`,
            });
          }
          for (const o of f.occurrences) {
            items.push({
              planId: plan.id,
              planName: plan.name,
              assetId: asset.id,
              assetCode: asset.code,
              siteId: asset.siteId,
              dueAt: o.dueAt,
              generateAt: o.generateAt,
              basis: o.basis,
              overdue: o.overdue,
              meterName: hasMeter(plan.trigger) ? plan.meterName : null,
              meterDueValue: o.meterDueValue ?? null,
              usageRate: rate ? { perDay: rate.perDay, derivation: rate.derivation, from: rate.from, to: rate.to } : null,
              priority: plan.priority,
              estimatedHours: plan.estimatedHours,
              requiredSkills: plan.requiredSkills,
              parts,
            });
          }
        }
      }
      items.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || a.planName.localeCompare(b.planName) || a.assetCode.localeCompare(b.assetCode));
      return { from, to, generatedAt: now, items, totals: forecastTotals(items), unforecastable, truncated };
    },
  };
}

export type PmPlanService = ReturnType<typeof createPmPlanService>;
