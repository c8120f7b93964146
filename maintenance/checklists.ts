/**
 * Checklist templates and work-order checklists. A PM order gets its plan's tasks and the plan's
 * template copied at creation (inside the creating transaction); any open order can have a
 * template applied (idempotent per key) or ad-hoc items added; items record done / value / note
 * with who and when. Completion is refused while required items are not done; once the order is
 * completed the checklist is read-only. Rules (validation, value per kind, progress) are pure in
 * `checklist-rules.ts`.
 *
 * Races with completion: every checklist write first takes a share lock on the order row and
 * re-reads its status; the completion guard takes an update lock on the same row before counting
 * the missing items. So an item cannot be un-done or added between the check and the completion.
 */
import type { Clock } from '../platform/clock.ts';
import { Prisma, type Db, type DbTx } from '../platform/db/database.ts';
import { AppError, conflict, isUniqueViolation, notFound } from '../platform/errors.ts';
import {
  applyItemUpdate,
  checkItem,
  checklistProgress,
  checkTemplateItems,
  completionBlocker,
  itemsToAdd,
  normalizeTasks,
  planChecklist,
  valueSpecOf,
  type ItemSpec,
  type ValueSpec,
} from './checklist-rules.ts';
import type { WorkOrderHooks } from './work-orders.ts';
import { isTerminal, type WorkOrderStatus } from './work-order-state.ts';

export interface TemplateInput {
  name: string;
  assetType?: string | null | undefined;
  items: unknown[];
}

export const templateSelect = { id: true, name: true, assetType: true, items: true, version: true, createdAt: true, updatedAt: true } satisfies Prisma.ChecklistTemplateSelect;

export const checklistItemSelect = {
  key: true,
  position: true,
  label: true,
  kind: true,
  required: true,
  spec: true,
  done: true,
  value: true,
  outOfRange: true,
  note: true,
  doneBy: true,
  doneAt: true,
} satisfies Prisma.WorkOrderChecklistItemSelect;

export type ChecklistItemRow = Prisma.WorkOrderChecklistItemGetPayload<{ select: typeof checklistItemSelect }>;

type Source = { source: 'task' | 'template' | 'adhoc'; templateId?: string; templateVersion?: number };

const rowOf = (workOrderId: string, item: ItemSpec, position: number, source: Source): Prisma.WorkOrderChecklistItemCreateManyInput => ({
  workOrderId,
  position,
  key: item.key,
  label: item.label,
  kind: item.kind,
  required: item.required,
  spec: { ...valueSpecOf(item), ...source } as Prisma.InputJsonValue,
});

export function createChecklistService(deps: { prisma: Db; clock: Clock }) {
  const { prisma, clock } = deps;

  /** Locks the order row (share: checklist writes; update: the completion guard) and returns its status. */
  async function lockOrder(tx: DbTx, id: string, mode: 'share' | 'update'): Promise<WorkOrderStatus> {
    const rows =
      mode === 'share'
        ? await tx.$queryRaw<{ status: string }[]>`SELECT "status"::text AS "status" FROM "work_orders" WHERE "id" = ${id} FOR SHARE`
        : await tx.$queryRaw<{ status: string }[]>`SELECT "status"::text AS "status" FROM "work_orders" WHERE "id" = ${id} FOR UPDATE`;
    const row = rows[0];
    if (!row) throw notFound('WorkOrder', id);
    return row.status as WorkOrderStatus;
  }

  /** Checklist writes need an order that is not completed (or otherwise finished). */
  async function lockWritable(tx: DbTx, id: string): Promise<void> {
    const status = await lockOrder(tx, id, 'share');
    if (isTerminal(status)) throw conflict(`work order is ${status}; its checklist is read-only`, { status });
  }

  async function nextPosition(tx: DbTx, workOrderId: string): Promise<number> {
    const agg = await tx.workOrderChecklistItem.aggregate({ where: { workOrderId }, _max: { position: true } });
    return (agg._max.position ?? 0) + 1;
  }

  async function getTemplate(id: string) {
    const t = await prisma.checklistTemplate.findUnique({ where: { id }, select: templateSelect });
    if (!t) throw notFound('ChecklistTemplate', id);
    return t;
  }

  function templateItems(raw: unknown): ItemSpec[] {
    const c = checkTemplateItems(raw);
    if (!c.ok) throw new AppError('validation', c.message);
    return c.items;
  }

  const storedItems = (items: ItemSpec[]) => items.map((i) => ({ key: i.key, label: i.label, kind: i.kind, required: i.required, ...valueSpecOf(i) })) as Prisma.InputJsonValue;

  async function checklist(workOrderId: string, db: DbTx = prisma) {
    const items = await db.workOrderChecklistItem.findMany({ where: { workOrderId }, select: checklistItemSelect, orderBy: [{ position: 'asc' }, { key: 'asc' }] });
    if (items.length === 0 && !(await db.workOrder.findUnique({ where: { id: workOrderId }, select: { id: true } }))) throw notFound('WorkOrder', workOrderId);
    return { workOrderId, items, progress: checklistProgress(items) };
  }

  const workOrderHooks: WorkOrderHooks = {
    /** A PM order starts with its plan's tasks, then its template's items. */
    async onCreated(tx, order) {
      if (!order.pmPlanId) return;
      const plan = await tx.pmPlan.findUnique({
        where: { id: order.pmPlanId },
        select: { tasks: true, checklistTemplate: { select: { id: true, version: true, items: true } } },
      });
      if (!plan) return;
      // both were validated when written; anything unreadable is skipped rather than blocking the order
      const tasks = normalizeTasks(plan.tasks);
      const tpl = plan.checklistTemplate ? checkTemplateItems(plan.checklistTemplate.items) : undefined;
      const taskItems = tasks.ok ? tasks.items : [];
      const all = planChecklist(taskItems, tpl?.ok ? tpl.items : []);
      if (all.length === 0) return;
      await tx.workOrderChecklistItem.createMany({
        data: all.map((item, i) =>
          rowOf(order.id, item, i + 1, i < taskItems.length ? { source: 'task' } : { source: 'template', templateId: plan.checklistTemplate!.id, templateVersion: plan.checklistTemplate!.version }),
        ),
      });
    },
    /** Completion guard: refused while required items are not done. */
    async onTransition(tx, ctx) {
      if (ctx.to !== 'completed') return;
      await lockOrder(tx, ctx.id, 'update');
      const items = await tx.workOrderChecklistItem.findMany({ where: { workOrderId: ctx.id, required: true, done: false }, select: checklistItemSelect, orderBy: { position: 'asc' } });
      const blocker = completionBlocker(items);
      if (blocker) throw new AppError('illegal_transition', blocker.message, { missing: blocker.missing });
    },
  };

  return {
    workOrderHooks,

    async createTemplate(input: TemplateInput) {
      const items = templateItems(input.items);
      try {
        return await prisma.checklistTemplate.create({ data: { name: input.name, assetType: input.assetType ?? null, items: storedItems(items) }, select: templateSelect });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`a checklist template named ${input.name} already exists`, { name: input.name });
        throw err;
      }
    },

    getTemplate,

    async listTemplates(f: { assetType?: string | undefined; limit: number; offset: number }) {
      const where: Prisma.ChecklistTemplateWhereInput = f.assetType ? { assetType: f.assetType } : {};
      const [items, total] = await Promise.all([
        prisma.checklistTemplate.findMany({ where, select: templateSelect, orderBy: { name: 'asc' }, take: f.limit, skip: f.offset }),
        prisma.checklistTemplate.count({ where }),
      ]);
      return { items, total };
    },

    /** Edits bump the version; orders keep the items they were given (with the version they came from). */
    async updateTemplate(id: string, patch: Partial<TemplateInput>) {
      await getTemplate(id);
      const items = patch.items !== undefined ? templateItems(patch.items) : undefined;
      try {
        return await prisma.checklistTemplate.update({
          where: { id },
          data: {
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            ...(patch.assetType !== undefined ? { assetType: patch.assetType } : {}),
            ...(items ? { items: storedItems(items) } : {}),
            version: { increment: 1 },
          },
          select: templateSelect,
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`a checklist template named ${patch.name} already exists`, { name: patch.name });
        throw err;
      }
    },

    /** Deletes a template; plans that used it lose their template, orders keep their copied items. */
    async deleteTemplate(id: string): Promise<void> {
      const { count } = await prisma.checklistTemplate.deleteMany({ where: { id } });
      if (count === 0) throw notFound('ChecklistTemplate', id);
    },

    checklist: (workOrderId: string) => checklist(workOrderId),

    /** Adds the template's items the order does not have yet (by key); 409 once the order is completed. */
    async applyTemplate(workOrderId: string, templateId: string) {
      return prisma.$transaction(async (tx) => {
        await lockWritable(tx, workOrderId);
        const tpl = await tx.checklistTemplate.findUnique({ where: { id: templateId }, select: { id: true, version: true, items: true } });
        if (!tpl) throw new AppError('validation', `checklist template ${templateId} does not exist`, { templateId });
        const existing = await tx.workOrderChecklistItem.findMany({ where: { workOrderId }, select: { key: true } });
        const add = itemsToAdd(
          existing.map((e) => e.key),
          templateItems(tpl.items),
        );
        const start = await nextPosition(tx, workOrderId);
        if (add.length) {
          await tx.workOrderChecklistItem.createMany({
            data: add.map((item, i) => rowOf(workOrderId, item, start + i, { source: 'template', templateId: tpl.id, templateVersion: tpl.version })),
            skipDuplicates: true,
          });
        }
        return { ...(await checklist(workOrderId, tx)), added: add.length };
      });
    },

    /** An ad-hoc item at the end of the list; key defaults to item-<position>; 409 when the key exists. */
    async addItem(workOrderId: string, input: { key?: string | undefined; label: string; kind?: string | undefined; required?: boolean | undefined; min?: number; max?: number; unit?: string; options?: string[] }) {
      return prisma.$transaction(async (tx) => {
        await lockWritable(tx, workOrderId);
        const position = await nextPosition(tx, workOrderId);
        const c = checkItem({ ...input, key: input.key ?? `item-${position}` }, 'item');
        if (!c.ok) throw new AppError('validation', c.message);
        try {
          await tx.workOrderChecklistItem.create({ data: rowOf(workOrderId, c.item, position, { source: 'adhoc' }), select: { id: true } });
        } catch (err) {
          if (isUniqueViolation(err)) throw conflict(`checklist item ${c.item.key} already exists on this work order`, { key: c.item.key });
          throw err;
        }
        return tx.workOrderChecklistItem.findUniqueOrThrow({ where: { workOrderId_key: { workOrderId, key: c.item.key } }, select: checklistItemSelect });
      });
    },

    /** Records done / value / note; values are checked by kind; 409 once the order is completed. */
    async updateItem(workOrderId: string, key: string, input: { done?: boolean | undefined; value?: unknown; note?: string | null | undefined; actor?: string | undefined }) {
      return prisma.$transaction(async (tx) => {
        await lockWritable(tx, workOrderId);
        const item = await tx.workOrderChecklistItem.findUnique({ where: { workOrderId_key: { workOrderId, key } }, select: { id: true, ...checklistItemSelect } });
        if (!item) throw new AppError('not_found', `checklist item ${key} is not on work order ${workOrderId}`, { key });
        const r = applyItemUpdate({ label: item.label, kind: item.kind, spec: (item.spec ?? {}) as ValueSpec, done: item.done, value: item.value }, input);
        if (!r.ok) throw new AppError('validation', r.message, { key });
        const touched = input.done !== undefined || input.value !== undefined;
        return tx.workOrderChecklistItem.update({
          where: { id: item.id },
          data: {
            done: r.done,
            value: r.value === null ? Prisma.DbNull : (r.value as Prisma.InputJsonValue),
            outOfRange: r.outOfRange,
            ...(input.note !== undefined ? { note: input.note } : {}),
            ...(!r.done ? { doneBy: null, doneAt: null } : touched ? { doneBy: input.actor ?? null, doneAt: clock.now() } : {}),
          },
          select: checklistItemSelect,
        });
      });
    },
  };
}

export type ChecklistService = ReturnType<typeof createChecklistService>;
