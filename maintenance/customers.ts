/** Customers, contracts and projects (SKELETON: to be implemented). */
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import type { WorkOrderHooks } from './work-orders.ts';

export function createCustomerService(deps: { prisma: Db; clock: Clock }) {
  void deps;
  /** classify: priority rules + contract SLA targets. */
  const workOrderHooks: WorkOrderHooks = {};
  return { workOrderHooks };
}

export type CustomerService = ReturnType<typeof createCustomerService>;
