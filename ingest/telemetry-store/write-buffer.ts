/**
 * Batching shared by the telemetry adapters: size- and time-triggered flushes, one flush at a time,
 * failed batches kept (front of the queue) and retried, memory bounded by `maxBuffered` points.
 */
import type { Logger } from '../../platform/logger.ts';
import type { TelemetryPoint, TelemetryStoreStats } from './port.ts';

export interface WriteBufferOptions {
  batchSize: number;
  flushMs: number;
  maxBuffered: number;
  logger: Logger;
  /** Writes one batch; throws on failure (the batch stays buffered). */
  writeBatch(points: TelemetryPoint[]): Promise<void>;
}

export interface WriteBuffer {
  push(points: readonly TelemetryPoint[]): boolean;
  flush(): Promise<void>;
  stats(): TelemetryStoreStats;
  close(): Promise<void>;
}

export function createWriteBuffer(opts: WriteBufferOptions): WriteBuffer {
  let queue: TelemetryPoint[] = [];
  let inFlight: Promise<void> | undefined;
  let written = 0;
  let failedFlushes = 0;
  let dropped = 0;
  let lastError: string | undefined;
  let closed = false;
  let backoffUntil = 0;

  const timer = setInterval(() => {
    if (Date.now() >= backoffUntil) void flush().catch(() => {});
  }, opts.flushMs);
  timer.unref();

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, opts.batchSize);
      try {
        await opts.writeBatch(batch);
      } catch (err) {
        failedFlushes++;
        lastError = err instanceof Error ? err.message : String(err);
        backoffUntil = Date.now() + Math.min(30_000, opts.flushMs * 2 ** Math.min(failedFlushes, 5));
        opts.logger.warn({ err: lastError, buffered: queue.length }, 'telemetry write failed; batch kept for retry');
        throw err;
      }
      queue = queue.slice(batch.length);
      written += batch.length;
      failedFlushes = 0;
      lastError = undefined;
    }
  }

  function flush(): Promise<void> {
    if (!inFlight) {
      inFlight = drain().finally(() => {
        inFlight = undefined;
      });
    }
    return inFlight;
  }

  return {
    push(points) {
      if (closed || queue.length + points.length > opts.maxBuffered) {
        dropped += points.length;
        return false;
      }
      for (const p of points) queue.push(p);
      if (queue.length >= opts.batchSize && !inFlight && Date.now() >= backoffUntil) void flush().catch(() => {});
      return true;
    },
    flush: async () => {
      // a flush already running may have started before the latest push: run once more after it
      if (inFlight) await inFlight.catch(() => {});
      await flush();
    },
    stats: () => ({ buffered: queue.length, written, failedFlushes, dropped, lastError }),
    async close() {
      clearInterval(timer);
      try {
        await this.flush();
      } finally {
        closed = true;
      }
    },
  };
}
