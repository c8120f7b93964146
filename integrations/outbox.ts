/**
 * The transactional outbox: a business change writes its event row in the SAME transaction as the
 * change, so an event exists if and only if the change committed (a rolled-back change leaves none,
 * a committed one cannot lose it). The row id is the stable event id receivers deduplicate on; the
 * webhook service fans rows out to subscriptions and delivers them at least once.
 *
 * Depends only on platform/ so any module can write events without pulling in the delivery side.
 */
import type { DbTx, Prisma } from '../platform/db/database.ts';

/** Every event type a subscription may ask for (plus `*` and `<prefix>.*` patterns). */
export const EVENT_TYPES = [
  'work_order.created',
  'work_order.assigned',
  'work_order.completed',
  'alarm.raised',
  'alarm.cleared',
  'stock.low',
  'csat.low',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Synthetic event of POST /webhooks/:id/test (never fanned out to other subscriptions). */
export const TEST_EVENT_TYPE = 'webhook.test';

export interface NewEvent {
  type: EventType;
  /** The entity the event is about (work order, alarm, purchase request, survey). */
  subjectId: string | null;
  payload: Record<string, unknown>;
  /** When it happened (the service's clock); default the database's now(). */
  occurredAt?: Date | undefined;
}

/** Many rows in one INSERT … SELECT unnest() (bulk assignment); same semantics as recordEvent. */
export async function recordEvents(tx: DbTx, events: (NewEvent & { occurredAt: Date })[]): Promise<void> {
  if (events.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO outbox_events (id, type, subject_id, payload, created_at)
    SELECT gen_random_uuid()::text, t, s, p::jsonb, (c::timestamptz AT TIME ZONE 'UTC')
      FROM unnest(${events.map((e) => e.type)}::text[], ${events.map((e) => e.subjectId)}::text[],
                  ${events.map((e) => JSON.stringify(e.payload))}::text[], ${events.map((e) => e.occurredAt.toISOString())}::text[]) AS x(t, s, p, c)`;
}

/** Writes one outbox row with the caller's transaction client; returns the event id. */
export async function recordEvent(tx: DbTx, e: NewEvent): Promise<string> {
  const row = await tx.outboxEvent.create({
    data: {
      type: e.type,
      subjectId: e.subjectId,
      payload: e.payload as Prisma.InputJsonValue,
      ...(e.occurredAt ? { createdAt: e.occurredAt } : {}),
    },
    select: { id: true },
  });
  return row.id;
}
