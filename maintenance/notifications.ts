/**
 * Notifications: things people must be told (warranty expiring, low CSAT, ...). Each has a dedupe
 * key so a periodic sweep or a retried hook produces it exactly once (ON CONFLICT DO NOTHING).
 * Webhook delivery (outbox) builds on this table later.
 */
import type { Clock } from '../platform/clock.ts';
import type { Db, DbTx, Prisma } from '../platform/db/database.ts';
import { notFound } from '../platform/errors.ts';

export interface NotificationInput {
  kind: string;
  subjectType: string;
  subjectId: string;
  /** Same key → same notification (never a second one). */
  dedupeKey: string;
  title: string;
  payload?: Record<string, unknown> | undefined;
}

export const notificationSelect = {
  id: true,
  kind: true,
  subjectType: true,
  subjectId: true,
  dedupeKey: true,
  title: true,
  payload: true,
  createdAt: true,
  readAt: true,
} satisfies Prisma.NotificationSelect;

export function createNotificationService(deps: { prisma: Db; clock: Clock }) {
  const { prisma, clock } = deps;
  return {
    /** Inserts unless one with the same dedupe key exists; pass a transaction client to tie it to a change. Returns whether it was new. */
    async notify(n: NotificationInput, db: DbTx = prisma): Promise<boolean> {
      const r = await db.notification.createMany({
        data: [{ kind: n.kind, subjectType: n.subjectType, subjectId: n.subjectId, dedupeKey: n.dedupeKey, title: n.title, payload: (n.payload ?? {}) as Prisma.InputJsonValue, createdAt: clock.now() }],
        skipDuplicates: true,
      });
      return r.count === 1;
    },

    async list(f: { kind?: string | undefined; subjectType?: string | undefined; subjectId?: string | undefined; unread?: boolean | undefined; limit: number; offset: number }) {
      const where: Prisma.NotificationWhereInput = {
        ...(f.kind ? { kind: f.kind } : {}),
        ...(f.subjectType ? { subjectType: f.subjectType } : {}),
        ...(f.subjectId ? { subjectId: f.subjectId } : {}),
        ...(f.unread === true ? { readAt: null } : f.unread === false ? { NOT: { readAt: null } } : {}),
      };
      const [items, total] = await Promise.all([
        prisma.notification.findMany({ where, select: notificationSelect, orderBy: { createdAt: 'desc' }, take: f.limit, skip: f.offset }),
        prisma.notification.count({ where }),
      ]);
      return { items, total };
    },

    async markRead(id: string) {
      const n = await prisma.notification.findUnique({ where: { id }, select: { readAt: true } });
      if (!n) throw notFound('Notification', id);
      if (!n.readAt) await prisma.notification.update({ where: { id }, data: { readAt: clock.now() } });
      return prisma.notification.findUniqueOrThrow({ where: { id }, select: notificationSelect });
    },
  };
}

export type NotificationService = ReturnType<typeof createNotificationService>;
