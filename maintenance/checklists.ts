/** Checklist templates and work-order checklists (SKELETON: to be implemented). */
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import type { WorkOrderHooks } from './work-orders.ts';

export function createChecklistService(deps: { prisma: Db; clock: Clock }) {
  void deps;
  const workOrderHooks: WorkOrderHooks = {};
  return { workOrderHooks };
}

export type ChecklistService = ReturnType<typeof createChecklistService>;
