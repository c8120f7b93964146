/** Work logs and labour/travel time on work orders (SKELETON: to be implemented). */
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';

export function createWorkLogService(deps: { prisma: Db; clock: Clock }) {
  void deps;
  return {};
}

export type WorkLogService = ReturnType<typeof createWorkLogService>;
