/** Preventive-maintenance plans (SKELETON: to be implemented). */
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';
import type { WorkOrderService } from './work-orders.ts';

export function createPmPlanService(deps: { prisma: Db; clock: Clock; logger: Logger; workOrders: WorkOrderService }) {
  void deps;
  return {
    /** Generates the orders that are due (idempotent; run periodically on every instance). */
    async tick(): Promise<{ created: number }> {
      return { created: 0 };
    },
  };
}

export type PmPlanService = ReturnType<typeof createPmPlanService>;
