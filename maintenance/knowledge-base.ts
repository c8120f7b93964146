/** Fault-code library and knowledge base (SKELETON: to be implemented). */
import type { Db } from '../platform/db/database.ts';

export function createKnowledgeService(deps: { prisma: Db }) {
  void deps;
  return {};
}

export type KnowledgeService = ReturnType<typeof createKnowledgeService>;
