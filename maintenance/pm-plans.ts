/** Preventive-maintenance plans (SKELETON: to be implemented). */
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';
import type { WorkOrderHooks, WorkOrderService } from './work-orders.ts';

export function createPmPlanService(deps: { prisma: Db; clock: Clock; logger: Logger; workOrders: WorkOrderService }) {
  void deps;
  /** Completion of a PM order restarts the plan's interval for that asset. */
  const workOrderHooks: WorkOrderHooks = {};
  return {
    workOrderHooks,
    /** Generates the orders that are due (idempotent; run periodically on every instance). */
    async tick(): Promise<{ created: number }> {
      return { created: 0 };
    },
  };
}

export type PmPlanService = ReturnType<typeof createPmPlanService>;
