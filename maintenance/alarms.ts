/**
 * Alarms: one active alarm per cause (`active_key` unique while active), idempotent raise and clear.
 * Sources: rules (threshold breaches) and devices (alarm messages over MQTT).
 */
import type { Clock } from '../platform/clock.ts';
import type { Db, Prisma } from '../platform/db/database.ts';
import { isUniqueViolation, notFound } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { recordEvent } from '../integrations/outbox.ts';

export type Severity = 'critical' | 'major' | 'minor' | 'warning';

export interface RaiseAlarm {
  activeKey: string;
  assetId: string;
  ruleId?: string | undefined;
  source: 'rule' | 'device';
  code: string;
  severity: Severity;
  message?: string | undefined;
  details?: Record<string, unknown> | undefined;
  raisedAt: Date;
  workOrderId?: string | undefined;
}

const alarmSelect = {
  id: true,
  assetId: true,
  ruleId: true,
  source: true,
  code: true,
  severity: true,
  status: true,
  message: true,
  details: true,
  raisedAt: true,
  clearedAt: true,
  acknowledgedAt: true,
  acknowledgedBy: true,
  workOrderId: true,
  asset: { select: { code: true } },
} satisfies Prisma.AlarmSelect;

export function createAlarmService(deps: { prisma: Db; clock: Clock; logger: Logger }) {
  const { prisma } = deps;
  const log = deps.logger.child({ module: 'alarms' });
  return {
    async raise(a: RaiseAlarm): Promise<{ id: string; created: boolean }> {
      const existing = await prisma.alarm.findUnique({ where: { activeKey: a.activeKey }, select: { id: true, workOrderId: true } });
      if (existing) {
        if (a.workOrderId && !existing.workOrderId) await prisma.alarm.update({ where: { id: existing.id }, data: { workOrderId: a.workOrderId } });
        return { id: existing.id, created: false };
      }
      try {
        // the alarm and its alarm.raised outbox event commit together (a duplicate raise creates neither)
        const row = await prisma.$transaction(async (tx) => {
          const created = await tx.alarm.create({
            data: {
              activeKey: a.activeKey,
              assetId: a.assetId,
              ruleId: a.ruleId ?? null,
              source: a.source,
              code: a.code,
              severity: a.severity,
              message: a.message ?? null,
              details: (a.details ?? {}) as Prisma.InputJsonValue,
              raisedAt: a.raisedAt,
              workOrderId: a.workOrderId ?? null,
            },
            select: { id: true, asset: { select: { code: true } } },
          });
          await recordEvent(tx, {
            type: 'alarm.raised',
            subjectId: created.id,
            occurredAt: a.raisedAt,
            payload: {
              alarmId: created.id,
              assetId: a.assetId,
              assetCode: created.asset.code,
              ruleId: a.ruleId ?? null,
              source: a.source,
              code: a.code,
              severity: a.severity,
              message: a.message ?? null,
              workOrderId: a.workOrderId ?? null,
              raisedAt: a.raisedAt.toISOString(),
            },
          });
          return created;
        });
        log.info({ alarm: row.id, asset: a.assetId, code: a.code, severity: a.severity }, 'alarm raised');
        return { id: row.id, created: true };
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const winner = await prisma.alarm.findUnique({ where: { activeKey: a.activeKey }, select: { id: true } });
        if (!winner) throw err;
        return { id: winner.id, created: false };
      }
    },

    /** Clears the active alarm for this cause, if any. */
    async clear(activeKey: string, at: Date): Promise<boolean> {
      // only the clear that actually changed the active alarm writes alarm.cleared, in its transaction
      const cleared = await prisma.$transaction(async (tx) => {
        const current = await tx.alarm.findUnique({
          where: { activeKey },
          select: { id: true, assetId: true, ruleId: true, source: true, code: true, severity: true, raisedAt: true, workOrderId: true, asset: { select: { code: true } } },
        });
        if (!current) return false;
        const res = await tx.alarm.updateMany({ where: { id: current.id, activeKey }, data: { status: 'cleared', activeKey: null, clearedAt: at } });
        if (res.count === 0) return false;
        await recordEvent(tx, {
          type: 'alarm.cleared',
          subjectId: current.id,
          occurredAt: at,
          payload: {
            alarmId: current.id,
            assetId: current.assetId,
            assetCode: current.asset.code,
            ruleId: current.ruleId,
            source: current.source,
            code: current.code,
            severity: current.severity,
            workOrderId: current.workOrderId,
            raisedAt: current.raisedAt.toISOString(),
            clearedAt: at.toISOString(),
          },
        });
        return true;
      });
      if (cleared) log.info({ activeKey }, 'alarm cleared');
      return cleared;
    },

    /** Marks an alarm as seen by a person (active or cleared); acknowledging twice keeps the first. */
    async acknowledge(id: string, by: string) {
      const current = await prisma.alarm.findUnique({ where: { id }, select: { acknowledgedAt: true } });
      if (!current) throw notFound('Alarm', id);
      if (!current.acknowledgedAt) await prisma.alarm.update({ where: { id }, data: { acknowledgedAt: deps.clock.now(), acknowledgedBy: by } });
      return prisma.alarm.findUniqueOrThrow({ where: { id }, select: alarmSelect });
    },

    async list(f: { assetId?: string | undefined; status?: 'active' | 'cleared' | undefined; limit: number; offset: number }) {
      const where: Prisma.AlarmWhereInput = { ...(f.assetId ? { assetId: f.assetId } : {}), ...(f.status ? { status: f.status } : {}) };
      const [items, total] = await Promise.all([
        prisma.alarm.findMany({ where, select: alarmSelect, orderBy: { raisedAt: 'desc' }, take: f.limit, skip: f.offset }),
        prisma.alarm.count({ where }),
      ]);
      return { items, total };
    },
  };
}

export type AlarmService = ReturnType<typeof createAlarmService>;
