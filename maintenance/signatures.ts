/** Customer e-signature on completion (SKELETON: to be implemented). */
import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import type { AttachmentService } from './attachments.ts';
import type { WorkOrderHooks } from './work-orders.ts';

export function createSignatureService(deps: { prisma: Db; clock: Clock; attachments: AttachmentService }) {
  void deps;
  const workOrderHooks: WorkOrderHooks = {};
  return { workOrderHooks };
}

export type SignatureService = ReturnType<typeof createSignatureService>;
