/** CSAT surveys after closure, low-score escalation (SKELETON: to be implemented). */
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';
import type { NotificationService } from './notifications.ts';
import type { WorkOrderHooks, WorkOrderService } from './work-orders.ts';

export function createSurveyService(deps: { prisma: Db; clock: Clock; logger: Logger; workOrders: WorkOrderService; notifications: NotificationService; ttlDays: number; lowScore: number; publicUrl: () => string | undefined }) {
  void deps;
  const workOrderHooks: WorkOrderHooks = {};
  return { workOrderHooks };
}

export type SurveyService = ReturnType<typeof createSurveyService>;
