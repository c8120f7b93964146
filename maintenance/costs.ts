/** Cost roll-up: labour, parts, travel per work order → contract / project profitability (SKELETON). */
import type { Db } from '../platform/db/database.ts';

export function createCostService(deps: { prisma: Db }) {
  void deps;
  return {};
}

export type CostService = ReturnType<typeof createCostService>;
