/**
 * Customer e-signature on completion. The signer's image (PNG or SVG, checked like any upload) is
 * stored as a `signature` attachment of the order; the signature row keeps who signed, when, the
 * summary they signed (signed-summary.ts) and its sha256. `valid` = the order's current summary
 * still hashes to it. Re-signing is allowed only after the work changed; it replaces the row and
 * the earlier image stays as an attachment.
 *
 * Guard (work-order hook, inside the transition's transaction): completing an order whose contract
 * requires a signature needs a signature that still matches. Work logged after completion (allowed
 * until the order is closed) makes the signature read as not valid; it does not undo the completion.
 */
import type { Clock } from '../platform/clock.ts';
import type { Db, DbTx, Prisma } from '../platform/db/database.ts';
import { AppError, conflict, notFound } from '../platform/errors.ts';
import type { AttachmentService } from './attachments.ts';
import { buildSummary, comparable, stillMatches, summaryHash, type SignedSummary } from './signed-summary.ts';
import { workLogTotalsOf } from './work-logs.ts';
import type { WorkOrderHooks } from './work-orders.ts';

export type SignatureImageType = 'image/png' | 'image/svg+xml';

export interface SignInput {
  signerName: string;
  signerRole?: string | undefined;
  /** Base64 (a `data:<type>;base64,` prefix is accepted). */
  image: string;
  imageContentType: SignatureImageType;
}

const SIGNABLE = new Set(['in_progress', 'completed']);

const signatureSelect = {
  workOrderId: true,
  signerName: true,
  signerRole: true,
  attachmentId: true,
  contentHash: true,
  summary: true,
  signedAt: true,
} satisfies Prisma.WorkOrderSignatureSelect;

/** The summary of the order as it stands now (read through `db`, a transaction inside hooks). */
export async function currentSummary(db: DbTx, workOrderId: string): Promise<SignedSummary | undefined> {
  const wo = await db.workOrder.findUnique({
    where: { id: workOrderId },
    select: {
      number: true,
      title: true,
      status: true,
      faultCode: true,
      rootCause: true,
      resolution: true,
      asset: { select: { code: true } },
      checklistItems: { select: { position: true, key: true, done: true, value: true } },
    },
  });
  if (!wo) return undefined;
  // parts = what the ledger booked to the order + what its open reservations will issue at completion
  // (their used quantity): completing turns the latter into the former, so the signed parts stay the same
  const [work, movements, reserved] = await Promise.all([
    workLogTotalsOf(db, workOrderId),
    db.stockMovement.findMany({ where: { workOrderId, kind: { in: ['issue', 'return'] } }, select: { quantity: true, part: { select: { code: true } } } }),
    db.partReservation.findMany({ where: { workOrderId, status: 'reserved' }, select: { consumedQuantity: true, part: { select: { code: true } } } }),
  ]);
  return buildSummary({
    number: wo.number,
    title: wo.title,
    assetCode: wo.asset.code,
    status: wo.status,
    faultCode: wo.faultCode,
    rootCause: wo.rootCause,
    resolution: wo.resolution,
    checklist: wo.checklistItems,
    work: { labourMinutes: work.labourMinutes, labourCost: work.labourCost, travelMinutes: work.travelMinutes, travelKm: work.travelKm, travelCost: work.travelCost },
    movements: [
      ...movements.map((m) => ({ partCode: m.part.code, quantity: m.quantity })),
      ...reserved.map((r) => ({ partCode: r.part.code, quantity: -r.consumedQuantity })),
    ],
  });
}

const signedStatus = (summary: unknown): string => ((summary as SignedSummary | null)?.workOrder?.status as string | undefined) ?? '';

function decodeImage(image: string): Buffer {
  const b64 = image.replace(/^data:[\w.+/-]+;base64,/, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) throw new AppError('validation', 'image must be base64');
  return Buffer.from(b64, 'base64');
}

export function createSignatureService(deps: { prisma: Db; clock: Clock; attachments: AttachmentService }) {
  const { prisma, clock, attachments } = deps;

  const workOrderHooks: WorkOrderHooks = {
    async onTransition(tx, ctx) {
      if (ctx.to !== 'completed' || !ctx.contractId) return;
      const contract = await tx.contract.findUnique({ where: { id: ctx.contractId }, select: { code: true, requireSignature: true } });
      if (!contract?.requireSignature) return;
      const sig = await tx.workOrderSignature.findUnique({ where: { workOrderId: ctx.id }, select: { contentHash: true, summary: true } });
      if (!sig) throw new AppError('illegal_transition', `cannot complete: the customer signature is required by contract ${contract.code}`, { contract: contract.code });
      const now = await currentSummary(tx, ctx.id);
      if (!now || !stillMatches(now, { status: signedStatus(sig.summary), contentHash: sig.contentHash })) {
        throw new AppError(
          'illegal_transition',
          `cannot complete: the customer signature is required by contract ${contract.code} and the work changed after signing; sign again`,
          { contract: contract.code, signedHash: sig.contentHash },
        );
      }
    },
  };

  return {
    workOrderHooks,

    async sign(workOrderId: string, input: SignInput) {
      const bytes = decodeImage(input.image);
      const wo = await prisma.workOrder.findUnique({ where: { id: workOrderId }, select: { number: true, status: true } });
      if (!wo) throw notFound('WorkOrder', workOrderId);
      const ext = input.imageContentType === 'image/png' ? 'png' : 'svg';
      await attachments.storeAndRecord(
        {
          ownerType: 'work_order',
          ownerId: workOrderId,
          kind: 'signature',
          fileName: `signature-WO${wo.number}.${ext}`,
          contentType: input.imageContentType,
          bytes,
          description: `signed by ${input.signerName}${input.signerRole ? ` (${input.signerRole})` : ''}`,
          uploadedBy: input.signerName,
        },
        (insert) =>
          prisma.$transaction(async (tx) => {
            // lock the order: a concurrent transition or second signature waits for this one
            const locked = await tx.$queryRaw<{ status: string }[]>`SELECT status::text AS status FROM work_orders WHERE id = ${workOrderId} FOR UPDATE`;
            const status = locked[0]?.status;
            if (!status) throw notFound('WorkOrder', workOrderId);
            if (!SIGNABLE.has(status)) throw new AppError('illegal_transition', `work order is ${status}; the customer signs while it is in_progress or completed`, { status });
            const summary = await currentSummary(tx, workOrderId);
            if (!summary) throw notFound('WorkOrder', workOrderId);
            const existing = await tx.workOrderSignature.findUnique({ where: { workOrderId }, select: { contentHash: true, summary: true, signerName: true } });
            if (existing && stillMatches(summary, { status: signedStatus(existing.summary), contentHash: existing.contentHash })) {
              throw conflict(`work order is already signed by ${existing.signerName} and nothing changed since`, { contentHash: existing.contentHash });
            }
            const attachment = await insert(tx);
            const data = {
              signerName: input.signerName,
              signerRole: input.signerRole ?? null,
              attachmentId: attachment.id,
              contentHash: summaryHash(summary),
              summary: summary as unknown as Prisma.InputJsonValue,
              signedAt: clock.now(),
            };
            await tx.workOrderSignature.upsert({ where: { workOrderId }, create: { workOrderId, ...data }, update: data });
          }),
      );
      return this.get(workOrderId);
    },

    /** The signature with `valid`: true while the order's current summary still hashes to the signed one. */
    async get(workOrderId: string) {
      const sig = await prisma.workOrderSignature.findUnique({ where: { workOrderId }, select: signatureSelect });
      if (!sig) {
        const exists = await prisma.workOrder.findUnique({ where: { id: workOrderId }, select: { id: true } });
        if (!exists) throw notFound('WorkOrder', workOrderId);
        throw new AppError('not_found', `work order ${workOrderId} has not been signed`, { workOrderId });
      }
      const now = await currentSummary(prisma, workOrderId);
      // the hash the signed one is compared with (status as signed while the order only moved on; see signed-summary.ts)
      const currentHash = now ? summaryHash(comparable(now, signedStatus(sig.summary))) : null;
      return { ...sig, valid: currentHash === sig.contentHash, currentHash };
    },
  };
}

export type SignatureService = ReturnType<typeof createSignatureService>;
