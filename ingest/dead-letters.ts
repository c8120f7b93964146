/**
 * Dead-letter queue: every refused message is counted by reason and kept (topic, payload, reason)
 * in the `dead_letters` table, written in batches off the broker's path (every `flushMs`, default
 * 500 ms; a failed write is retried with the batch kept in memory, in order).
 */
import type { Db } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';
import type { RejectReason } from './payload.ts';

export interface DeadLetter {
  topic: string;
  payload: Buffer;
  reason: RejectReason;
  detail: string;
  clientId: string | undefined;
  receivedAt: Date;
}

const MAX_STORED_PAYLOAD = 64 * 1024;

/** Stored as UTF-8 text when it is text, otherwise as "base64:<...>". */
export function payloadText(buf: Buffer): string {
  const slice = buf.subarray(0, MAX_STORED_PAYLOAD);
  const text = slice.toString('utf8');
  const clean = Buffer.from(text, 'utf8').equals(slice) && !text.includes('\u0000');
  return clean ? text : `base64:${slice.toString('base64')}`;
}

export function createDeadLetterSink(deps: { prisma: Db; logger: Logger; flushMs?: number; maxBuffered?: number }) {
  const log = deps.logger.child({ module: 'dead-letters' });
  const counts: Partial<Record<RejectReason, number>> = {};
  let pending: DeadLetter[] = [];
  let stored = 0;
  let recorded = 0;
  let lost = 0;
  let inFlight: Promise<void> | undefined;
  const maxBuffered = deps.maxBuffered ?? 100_000;

  const noNul = (s: string): string => (s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);

  async function write(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending.slice(0, 1000);
      await deps.prisma.deadLetter.createMany({
        // PostgreSQL text and jsonb refuse U+0000 (a parser message may quote it): one such row must not block the batch forever
        data: batch.map((d) => ({
          topic: noNul(d.topic.slice(0, 1000)),
          payload: noNul(payloadText(d.payload)),
          reason: d.reason,
          details: { detail: noNul(d.detail) },
          clientId: d.clientId === undefined ? null : noNul(d.clientId),
          receivedAt: d.receivedAt,
        })),
      });
      pending = pending.slice(batch.length);
      stored += batch.length;
    }
  }

  function flush(): Promise<void> {
    inFlight ??= write()
      .catch((err) => log.warn({ err: (err as Error).message, pending: pending.length }, 'dead-letter write failed; will retry'))
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  const timer = setInterval(() => void flush(), deps.flushMs ?? 500);
  timer.unref();

  return {
    record(d: DeadLetter): void {
      counts[d.reason] = (counts[d.reason] ?? 0) + 1;
      if (pending.length >= maxBuffered) {
        lost++;
        return;
      }
      pending.push(d);
      recorded++;
      log.debug({ topic: d.topic, reason: d.reason, detail: d.detail }, 'message dead-lettered');
    },
    async flush(): Promise<void> {
      if (inFlight) await inFlight;
      await flush();
    },
    /**
     * Cumulative counters for the ingest journal: `recorded` = dead letters taken into the buffer,
     * `stored` = how many of those (oldest first) are in the database. A dead letter refused because
     * the buffer is full (`lost`) is counted in neither: it is lost either way.
     */
    progress: () => ({ recorded, stored }),
    stats: () => ({ byReason: { ...counts }, total: Object.values(counts).reduce((a, b) => a + (b ?? 0), 0), stored, pending: pending.length, lost }),
    async close(): Promise<void> {
      clearInterval(timer);
      await this.flush();
    },
  };
}

export type DeadLetterSink = ReturnType<typeof createDeadLetterSink>;
