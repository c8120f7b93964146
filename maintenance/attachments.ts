/** Attachments: documents, photos, signatures stored in a file store (SKELETON: to be implemented). */
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';

export function createAttachmentService(deps: { prisma: Db; clock: Clock; dir: string; maxBytes: number; types: readonly string[] }) {
  void deps;
  return {};
}

export type AttachmentService = ReturnType<typeof createAttachmentService>;
