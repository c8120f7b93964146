/**
 * Batching shared by the telemetry adapters: size- and time-triggered flushes, one flush at a time,
 * bounded memory. When the store fails, the batch is not lost:
 *  - with a spool (production): it goes to disk at once, and so does everything buffered while the
 *    store stays down; spooled segments are replayed oldest-first once the store answers again;
 *  - without one (tests of this module): it stays at the front of the memory queue and is retried.
 * Retries back off exponentially (up to 30 s) while the store keeps failing.
 */
import type { Logger } from '../../platform/logger.ts';
import type { TelemetryPoint, TelemetryStoreStats } from './port.ts';
import type { Spool } from './spool.ts';

export interface WriteBufferOptions {
  batchSize: number;
  flushMs: number;
  maxBuffered: number;
  logger: Logger;
  /** Writes one batch; throws on failure. */
  writeBatch(points: TelemetryPoint[]): Promise<void>;
  spool?: Spool | undefined;
}

export interface WriteBuffer {
  push(points: readonly TelemetryPoint[]): boolean;
  /** Writes (or spools) everything buffered; rejects if the store failed and there is no spool. */
  flush(): Promise<void>;
  stats(): TelemetryStoreStats;
  /**
   * Cumulative counters for the ingest journal: `pushed` = points that entered the memory queue,
   * `durable` = how many of those (oldest first: the queue drains in FIFO order) were written to the
   * store or spooled to disk. Everything pushed before `pushed` read N is durable once `durable` ≥ N.
   * Points `push` spools at once (buffer full) are durable when it returns and are counted in neither.
   */
  progress(): { pushed: number; durable: number };
  close(): Promise<void>;
}

export function createWriteBuffer(opts: WriteBufferOptions): WriteBuffer {
  const { spool } = opts;
  let queue: TelemetryPoint[] = [];
  let inFlight: Promise<void> | undefined;
  let written = 0;
  let pushed = 0;
  let durable = 0;
  let failedFlushes = 0;
  let dropped = 0;
  let lastError: string | undefined;
  let closed = false;
  let backoffUntil = 0;

  const timer = setInterval(() => {
    if (Date.now() >= backoffUntil || spool) void flush().catch(() => {});
  }, opts.flushMs);
  timer.unref();

  function failed(err: unknown): void {
    failedFlushes++;
    lastError = err instanceof Error ? err.message : String(err);
    backoffUntil = Date.now() + Math.min(30_000, opts.flushMs * 2 ** Math.min(failedFlushes, 6));
  }

  function succeeded(n: number): void {
    written += n;
    if (failedFlushes > 0) opts.logger.info({ afterFailures: failedFlushes }, 'telemetry store reachable again');
    failedFlushes = 0;
    lastError = undefined;
    backoffUntil = 0;
  }

  /** Moves the whole memory queue to disk; what does not fit stays in memory (bounded by maxBuffered). */
  function spillAll(s: Spool): void {
    while (queue.length > 0) {
      const chunk = queue.slice(0, opts.batchSize);
      if (!s.append(chunk)) {
        opts.logger.error({ spooled: s.stats(), buffered: queue.length }, 'telemetry spool full; keeping points in memory');
        return;
      }
      queue = queue.slice(chunk.length);
      durable += chunk.length;
    }
  }

  async function drain(): Promise<void> {
    const storeDown = failedFlushes > 0 && Date.now() < backoffUntil;
    if (spool && storeDown) {
      spillAll(spool);
      return;
    }
    // replay what was spooled before newer points: oldest segment first, stop at the first failure
    if (spool) {
      for (let seg = spool.oldest(); seg; seg = spool.oldest()) {
        try {
          await opts.writeBatch(seg.points);
        } catch (err) {
          failed(err);
          opts.logger.warn({ err: lastError, spooled: spool.stats() }, 'telemetry store still unreachable; spool kept');
          spillAll(spool);
          return;
        }
        spool.remove(seg.name);
        succeeded(seg.points.length);
      }
    }
    while (queue.length > 0) {
      const batch = queue.slice(0, opts.batchSize);
      try {
        await opts.writeBatch(batch);
      } catch (err) {
        failed(err);
        if (spool) {
          opts.logger.warn({ err: lastError, buffered: queue.length }, 'telemetry write failed; spooling to disk');
          spillAll(spool);
          return;
        }
        opts.logger.warn({ err: lastError, buffered: queue.length }, 'telemetry write failed; batch kept for retry');
        throw err;
      }
      queue = queue.slice(batch.length);
      durable += batch.length;
      succeeded(batch.length);
    }
  }

  function flush(): Promise<void> {
    inFlight ??= drain().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  return {
    push(points) {
      if (closed || queue.length + points.length > opts.maxBuffered) {
        if (!closed && spool && spool.append(points)) return true;
        dropped += points.length;
        return false;
      }
      for (const p of points) queue.push(p);
      pushed += points.length;
      if (queue.length >= opts.batchSize && !inFlight) void flush().catch(() => {});
      return true;
    },
    flush: async () => {
      // a flush already running may have started before the latest push: run once more after it
      if (inFlight) await inFlight.catch(() => {});
      backoffUntil = 0;
      await flush();
    },
    stats: () => {
      const s = spool?.stats();
      return { buffered: queue.length, written, failedFlushes, dropped, lastError, spooled: s?.points ?? 0, spoolBytes: s?.bytes ?? 0 };
    },
    progress: () => ({ pushed, durable }),
    async close() {
      clearInterval(timer);
      try {
        await this.flush();
      } catch (err) {
        opts.logger.error({ err: (err as Error).message, lost: queue.length }, 'telemetry store unreachable at shutdown and no spool: buffered points lost');
      } finally {
        closed = true;
      }
    },
  };
}
