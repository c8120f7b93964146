/** Purchase orders: purchase request → order → receipt (SKELETON: to be implemented). */
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';
import type { InventoryService } from './inventory.ts';

export function createPurchasingService(deps: { prisma: Db; clock: Clock; logger: Logger; inventory: InventoryService }) {
  void deps;
  return {};
}

export type PurchasingService = ReturnType<typeof createPurchasingService>;
