/**
 * CSAT surveys after closure, and the escalation of low scores.
 *
 * Sending: when an order with a customer is closed (`afterTransition`), one survey is created —
 * `work_order_id` is unique and the insert skips duplicates — with a random 32-byte token of which
 * only sha256 is stored. In the same transaction a `csat_survey` notification (dedupe key
 * `csat-survey:<order id>`) carries the link `<PUBLIC_URL>/surveys/<token>` and the customer's
 * e-mail: that notification is how the token reaches the customer (mail delivery reads it).
 *
 * Answering: one conditional UPDATE (… WHERE status = 'pending' AND expires_at > now), so a double
 * or concurrent submit stores exactly one answer. A score at or below CSAT_LOW_SCORE then opens a
 * follow-up order through `requestFromCause` (dedupe/open key `csat:<survey id>`: at most one, ever)
 * and a `csat_low` notification. The answer is committed first; if the escalation fails, `sweep()`
 * retries it (it is idempotent), expires pending surveys past their expiry, and sends surveys a
 * failed after-close hook missed (orders closed within the survey TTL).
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../platform/clock.ts';
import type { Db, Prisma } from '../platform/db/database.ts';
import { AppError, conflict } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { recordEvent } from '../integrations/outbox.ts';
import type { NotificationService } from './notifications.ts';
import { csatSummary, escalationTitle, hashSurveyToken, isLowScore, surveyExpiresAt, surveyLink, surveyState, type SurveyStatus } from './survey-rules.ts';
import type { WorkOrderHooks, WorkOrderService } from './work-orders.ts';

const DAY_MS = 86_400_000;
const SWEEP_BATCH = 100;

export const surveySelect = {
  id: true,
  workOrderId: true,
  status: true,
  score: true,
  comment: true,
  sentAt: true,
  expiresAt: true,
  answeredAt: true,
  escalationWorkOrderId: true,
  workOrder: { select: { number: true, customerId: true } },
} satisfies Prisma.SurveySelect;

const publicSelect = {
  id: true,
  status: true,
  score: true,
  comment: true,
  expiresAt: true,
  answeredAt: true,
  workOrder: { select: { number: true, title: true, closedAt: true, asset: { select: { code: true, name: true } } } },
} satisfies Prisma.SurveySelect;

export type Expired = { expired: true; message: string };
const EXPIRED: Expired = { expired: true, message: 'this survey link has expired' };

export function createSurveyService(deps: {
  prisma: Db;
  clock: Clock;
  logger: Logger;
  workOrders: WorkOrderService;
  notifications: NotificationService;
  ttlDays: number;
  lowScore: number;
  publicUrl: () => string | undefined;
}) {
  const { prisma, clock, workOrders, notifications, ttlDays, lowScore } = deps;
  const log = deps.logger.child({ module: 'surveys' });

  /** Creates the survey of a closed order with a customer, once; returns whether it was created now. */
  async function send(workOrderId: string): Promise<boolean> {
    const wo = await prisma.workOrder.findUnique({
      where: { id: workOrderId },
      select: { id: true, number: true, title: true, status: true, customerId: true, customer: { select: { code: true, name: true, email: true } } },
    });
    if (!wo || wo.status !== 'closed' || !wo.customerId) return false;
    const token = randomBytes(32).toString('base64url');
    const now = clock.now();
    const expiresAt = surveyExpiresAt(now, ttlDays);
    const created = await prisma.$transaction(async (tx) => {
      const r = await tx.survey.createMany({ data: [{ workOrderId, tokenHash: hashSurveyToken(token), sentAt: now, expiresAt }], skipDuplicates: true });
      if (r.count !== 1) return false;
      await notifications.notify(
        {
          kind: 'csat_survey',
          subjectType: 'work_order',
          subjectId: wo.id,
          dedupeKey: `csat-survey:${wo.id}`,
          title: `How did we do? Rate work order #${wo.number}: ${wo.title}`.slice(0, 300),
          payload: { link: surveyLink(deps.publicUrl(), token), email: wo.customer?.email ?? null, customerId: wo.customerId, customerCode: wo.customer?.code ?? null, workOrderNumber: wo.number, expiresAt: expiresAt.toISOString() },
        },
        tx,
      );
      return true;
    });
    if (created) log.info({ workOrder: wo.number }, 'CSAT survey sent');
    return created;
  }

  /** Opens (or finds) the follow-up order of an answered low-score survey; idempotent. */
  async function escalate(surveyId: string): Promise<{ id: string; number: number } | null> {
    const s = await prisma.survey.findUnique({
      where: { id: surveyId },
      select: { id: true, status: true, score: true, comment: true, escalationWorkOrderId: true, workOrder: { select: { id: true, number: true, title: true, assetId: true } } },
    });
    if (!s || s.status !== 'answered' || s.score === null || !isLowScore(s.score, lowScore)) return null;
    const wo = s.workOrder;
    const { workOrder: followUp } = await workOrders.requestFromCause({
      source: 'followup',
      dedupeKey: `csat:${s.id}`,
      openKey: `csat:${s.id}`,
      parentWorkOrderId: wo.id,
      assetId: wo.assetId,
      title: escalationTitle(s.score, wo.number),
      priority: 'high',
      description: s.comment ?? undefined,
      reason: { kind: 'csat', surveyId: s.id, score: s.score, lowScore, comment: s.comment, workOrderId: wo.id, workOrderNumber: wo.number, summary: `customer rated WO #${wo.number} ${s.score}/5 (≤ ${lowScore})` },
      requestedAt: clock.now(),
      channel: 'internal',
    });
    // the escalation bookkeeping and the csat.low outbox event commit together: once per survey
    await prisma.$transaction(async (tx) => {
      const linked = await tx.survey.updateMany({ where: { id: s.id, escalationWorkOrderId: null }, data: { escalationWorkOrderId: followUp.id } });
      if (linked.count !== 1) return;
      await recordEvent(tx, {
        type: 'csat.low',
        subjectId: s.id,
        payload: {
          surveyId: s.id,
          score: s.score,
          lowScore,
          comment: s.comment,
          workOrderId: wo.id,
          workOrderNumber: wo.number,
          workOrderTitle: wo.title,
          assetId: wo.assetId,
          followUpWorkOrderId: followUp.id,
          followUpNumber: followUp.number,
        },
      });
    });
    await notifications.notify({
      kind: 'csat_low',
      subjectType: 'work_order',
      subjectId: wo.id,
      dedupeKey: `csat-low:${s.id}`,
      title: `Low CSAT ${s.score}/5 on WO #${wo.number}: follow-up WO #${followUp.number}`,
      payload: { surveyId: s.id, score: s.score, comment: s.comment, workOrderId: wo.id, workOrderNumber: wo.number, followUpWorkOrderId: followUp.id, followUpNumber: followUp.number },
    });
    return { id: followUp.id, number: followUp.number };
  }

  const workOrderHooks: WorkOrderHooks = {
    async afterTransition(ctx) {
      if (ctx.to !== 'closed') return;
      try {
        await send(ctx.id);
      } catch (err) {
        // the sweep sends it later
        log.warn({ err, workOrder: ctx.id }, 'CSAT survey not sent; the sweep retries');
      }
    },
  };

  async function byToken(token: string) {
    const s = await prisma.survey.findUnique({ where: { tokenHash: hashSurveyToken(token) }, select: publicSelect });
    if (!s) throw new AppError('not_found', 'unknown survey link');
    return s;
  }

  const publicView = (s: Prisma.SurveyGetPayload<{ select: typeof publicSelect }>, status: SurveyStatus) => ({
    status,
    workOrderNumber: s.workOrder.number,
    title: s.workOrder.title,
    assetCode: s.workOrder.asset.code,
    assetName: s.workOrder.asset.name,
    closedAt: s.workOrder.closedAt,
    expiresAt: s.expiresAt,
    score: s.score,
    comment: s.comment,
    answeredAt: s.answeredAt,
  });

  return {
    workOrderHooks,
    send,
    escalate,

    /** What the customer sees behind the link (404 unknown; expired is reported, not thrown). */
    async view(token: string): Promise<Expired | { expired: false; survey: ReturnType<typeof publicView> }> {
      const s = await byToken(token);
      const state = surveyState(s, clock.now());
      if (state === 'expired') return EXPIRED;
      return { expired: false, survey: publicView(s, state) };
    },

    /** Stores the one answer (409 when already answered); a low score opens a follow-up order. */
    async answer(token: string, input: { score: number; comment?: string | undefined }): Promise<Expired | { expired: false; status: 'answered'; score: number; followUp: boolean }> {
      if (!Number.isInteger(input.score) || input.score < 1 || input.score > 5) throw new AppError('validation', 'score must be a whole number from 1 to 5', { field: 'score' });
      const s = await byToken(token);
      const now = clock.now();
      const state = surveyState(s, now);
      if (state === 'answered') throw conflict('this survey has already been answered');
      if (state === 'expired') return EXPIRED;
      const comment = input.comment?.trim() || null;
      const updated = await prisma.survey.updateMany({
        where: { id: s.id, status: 'pending', expiresAt: { gt: now } },
        data: { status: 'answered', score: input.score, comment, answeredAt: now },
      });
      if (updated.count !== 1) {
        // lost a race: another submit answered it first, or it just expired
        const again = await prisma.survey.findUniqueOrThrow({ where: { id: s.id }, select: { status: true } });
        if (again.status === 'answered') throw conflict('this survey has already been answered');
        return EXPIRED;
      }
      const low = isLowScore(input.score, lowScore);
      log.info({ survey: s.id, workOrder: s.workOrder.number, score: input.score }, 'CSAT answered');
      if (low) {
        try {
          await escalate(s.id);
        } catch (err) {
          log.warn({ err, survey: s.id }, 'CSAT escalation failed; the sweep retries');
        }
      }
      return { expired: false, status: 'answered', score: input.score, followUp: low };
    },

    /** Expires overdue surveys, retries missing escalations, sends surveys a failed hook missed. Idempotent. */
    async sweep(now: Date = clock.now()): Promise<{ expired: number; escalated: number; sent: number }> {
      const expired = await prisma.survey.updateMany({ where: { status: 'pending', expiresAt: { lte: now } }, data: { status: 'expired' } });
      const toEscalate = await prisma.survey.findMany({
        where: { status: 'answered', score: { lte: lowScore }, escalationWorkOrderId: null },
        select: { id: true },
        orderBy: { answeredAt: 'asc' },
        take: SWEEP_BATCH,
      });
      let escalated = 0;
      for (const s of toEscalate) {
        try {
          if (await escalate(s.id)) escalated++;
        } catch (err) {
          log.warn({ err, survey: s.id }, 'CSAT escalation failed');
        }
      }
      const missed = await prisma.workOrder.findMany({
        where: { status: 'closed', customerId: { not: null }, survey: { is: null }, closedAt: { gte: new Date(now.getTime() - ttlDays * DAY_MS) } },
        select: { id: true },
        take: SWEEP_BATCH,
      });
      let sent = 0;
      for (const w of missed) {
        try {
          if (await send(w.id)) sent++;
        } catch (err) {
          log.warn({ err, workOrder: w.id }, 'CSAT survey not sent');
        }
      }
      if (expired.count || escalated || sent) log.info({ expired: expired.count, escalated, sent }, 'CSAT sweep');
      return { expired: expired.count, escalated, sent };
    },

    /** Internal list with the CSAT figures of the same filter (status aside). */
    async list(f: { status?: SurveyStatus | undefined; customerId?: string | undefined; workOrderId?: string | undefined; limit: number; offset: number }) {
      const scope: Prisma.SurveyWhereInput = { ...(f.workOrderId ? { workOrderId: f.workOrderId } : {}), ...(f.customerId ? { workOrder: { customerId: f.customerId } } : {}) };
      const where: Prisma.SurveyWhereInput = { ...scope, ...(f.status ? { status: f.status } : {}) };
      const [items, total, groups, lowScores] = await Promise.all([
        prisma.survey.findMany({ where, select: surveySelect, orderBy: { sentAt: 'desc' }, take: f.limit, skip: f.offset }),
        prisma.survey.count({ where }),
        prisma.survey.groupBy({ by: ['status'], where: scope, _count: { _all: true }, _sum: { score: true } }),
        prisma.survey.count({ where: { ...scope, status: 'answered', score: { lte: lowScore } } }),
      ]);
      return {
        items,
        total,
        summary: csatSummary(
          groups.map((g) => ({ status: g.status, count: g._count._all, scoreSum: g._sum.score ?? 0 })),
          lowScores,
        ),
      };
    },
  };
}

export type SurveyService = ReturnType<typeof createSurveyService>;
