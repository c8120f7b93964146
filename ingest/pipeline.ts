/**
 * Ingest pipeline: broker → bounded queue → (validate, resolve asset) → telemetry store + rules.
 * `accept` is synchronous and cheap (called on the broker's publish path); the work happens in a
 * single async loop that takes messages in arrival order, so per-asset ordering is preserved.
 * Nothing accepted is silently dropped: every refusal is counted and dead-lettered with its payload.
 *
 * With a journal (ingest/journal.ts, INGEST_JOURNAL=on) every message is appended to it synchronously
 * before the broker acknowledges it, and released once it is durable: processed (rules delivered or
 * dead-lettered) and its points written or spooled by the telemetry store (its dead letter stored).
 * What a killed process left in the journal is fed through the pipeline again at start-up
 * (`replayJournal`); duplicates are harmless (the stores overwrite a point at the same series and
 * ts; the rules skip readings with ts ≤ the state's lastTs; work orders are unique per cause).
 */
import type { Clock } from '../platform/clock.ts';
import type { Logger } from '../platform/logger.ts';
import type { AssetDirectory, KnownAsset } from './asset-directory.ts';
import type { DeadLetterSink } from './dead-letters.ts';
import type { Journal } from './journal.ts';
import { decodeAlarm, decodeStatus, decodeTelemetry, type AlarmMessage, type Rejection, type RejectReason, type TelemetryMessage } from './payload.ts';
import type { TelemetryPoint, TelemetryStore } from './telemetry-store/port.ts';
import { parseTopic, type MessageKind } from './topics.ts';

export interface IngestReading {
  assetId: string;
  assetCode: string;
  assetType: string;
  metric: string;
  value: number;
  ts: Date;
}

/** Where readings and device alarms go after storage (the rules engine, maintenance). */
export interface IngestSinks {
  onReadings?(readings: IngestReading[]): Promise<void>;
  onDeviceAlarm?(asset: KnownAsset, alarm: AlarmMessage): Promise<void>;
  /** A device reported itself online/offline (retained status or last will). */
  onStatus?(asset: KnownAsset, online: boolean, ts: Date): void;
}

export interface IngestCounters {
  received: number;
  accepted: number;
  rejected: number;
  ignored: number;
  readings: number;
  queued: number;
  sinkRetries: number;
  /** Publishes held back by backpressure (queue above its high-water mark). */
  throttled: number;
  /** Messages fed again from the journal at start-up (not counted in `received`). */
  replayed: number;
}

interface Message {
  topic: string;
  payload: Buffer;
  clientId: string | undefined;
  receivedAt: Date;
  /** Journal segment holding the message; -1 = not journaled (journal off, or replayed from it). */
  seg: number;
}

/** Messages of some journal segments, durable once the store's and the dead-letter sink's counters reach these marks. */
interface DurabilityMark {
  segs: number[];
  counts: number[];
  points: number;
  deadLetters: number;
}

const BATCH = 1000;
const SETTLE_MS = 250;

export function createIngestPipeline(deps: {
  store: TelemetryStore;
  directory: AssetDirectory;
  deadLetters: DeadLetterSink;
  sinks: IngestSinks;
  clock: Clock;
  logger: Logger;
  maxPayloadBytes: number;
  queueLimit: number;
  /** Pause before re-trying a batch the sinks failed on (database down). */
  retryMs?: number;
  /** Write-ahead log of accepted messages (undefined = off). */
  journal?: Journal | undefined;
}) {
  const log = deps.logger.child({ module: 'ingest' });
  const counters: IngestCounters = { received: 0, accepted: 0, rejected: 0, ignored: 0, readings: 0, queued: 0, sinkRetries: 0, throttled: 0, replayed: 0 };
  const { journal } = deps;
  const marks: DurabilityMark[] = [];
  let marksHead = 0;

  /** The messages counted in segs/counts are processed: durable once what they pushed is. */
  function addMark(segs: number[], counts: number[]): void {
    marks.push({ segs, counts, points: deps.store.progress().pushed, deadLetters: deps.deadLetters.progress().recorded });
    settleDurable();
  }

  /** Releases the journal records of every mark the store and the dead-letter sink have caught up with. */
  function settleDurable(): void {
    if (!journal || marksHead >= marks.length) return;
    const store = deps.store.progress();
    const dl = deps.deadLetters.progress();
    while (marksHead < marks.length) {
      const m = marks[marksHead]!;
      if (store.durable < m.points || dl.stored < m.deadLetters) break;
      for (let i = 0; i < m.segs.length; i++) journal.settle(m.segs[i]!, m.counts[i]!);
      marksHead++;
    }
    if (marksHead === marks.length) {
      marks.length = 0;
      marksHead = 0;
    } else if (marksHead > 1024 && marksHead * 2 > marks.length) {
      marks.splice(0, marksHead);
      marksHead = 0;
    }
  }
  const settleTimer = journal ? setInterval(settleDurable, SETTLE_MS) : undefined;
  settleTimer?.unref();

  function markBatch(batch: Message[]): void {
    if (!journal) return;
    const segs: number[] = [];
    const counts: number[] = [];
    for (const m of batch) {
      if (m.seg < 0) continue;
      const last = segs.length - 1;
      if (last >= 0 && segs[last] === m.seg) counts[last]!++;
      else {
        const i = segs.indexOf(m.seg);
        if (i >= 0) counts[i]!++;
        else {
          segs.push(m.seg);
          counts.push(1);
        }
      }
    }
    if (segs.length > 0) addMark(segs, counts);
  }
  let queue: Message[] = [];
  let running: Promise<void> | undefined;
  let stopped = false;
  const idleWaiters: (() => void)[] = [];
  const retryMs = deps.retryMs ?? 1000;
  // backpressure: above the high-water mark publishers are held (their TCP stream pauses) until the
  // queue is back under the low-water mark; the hard limit (queueLimit) only guards against floods
  // that ignore it (e.g. many QoS 0 clients at once)
  const highWater = Math.max(1, Math.floor(deps.queueLimit / 2));
  const lowWater = Math.floor(deps.queueLimit / 4);
  const admissionWaiters: (() => void)[] = [];
  // admitted by the broker but not yet arrived in accept(): counted so a burst of concurrently
  // authorised packets cannot overshoot the queue
  let inbound = 0;
  const releaseAdmission = (): void => {
    if (admissionWaiters.length === 0 || queue.length > lowWater) return;
    while (admissionWaiters.length > 0 && queue.length + inbound < highWater) {
      inbound++;
      admissionWaiters.shift()!();
    }
  };

  function deadLetter(m: Message, reason: RejectReason, detail: string): void {
    counters.rejected++;
    deps.deadLetters.record({ topic: m.topic, payload: m.payload, reason, detail, clientId: m.clientId, receivedAt: m.receivedAt });
  }

  type Decoded =
    | { kind: 'telemetry'; readings: TelemetryMessage[] }
    | { kind: 'alarm'; alarm: AlarmMessage }
    | { kind: 'status'; online: boolean; ts: Date };

  function decode(kind: MessageKind, m: Message): { ok: true; value: Decoded } | { ok: false; rejection: Rejection } {
    if (kind === 'telemetry') {
      const r = decodeTelemetry(m.payload, m.receivedAt, deps.maxPayloadBytes);
      return r.ok ? { ok: true, value: { kind, readings: r.value } } : r;
    }
    if (kind === 'alarm') {
      const r = decodeAlarm(m.payload, m.receivedAt, deps.maxPayloadBytes);
      return r.ok ? { ok: true, value: { kind, alarm: r.value } } : r;
    }
    const r = decodeStatus(m.payload, m.receivedAt);
    return r.ok ? { ok: true, value: { kind, ...r.value } } : r;
  }

  async function processBatch(batch: Message[]): Promise<void> {
    const points: TelemetryPoint[] = [];
    const readings: IngestReading[] = [];
    const alarms: { asset: KnownAsset; alarm: AlarmMessage }[] = [];
    const pointMessages: Message[] = [];
    for (const m of batch) {
      try {
        const topic = parseTopic(m.topic);
        if (topic === undefined) {
          counters.ignored++;
          continue;
        }
        if ('error' in topic) {
          deadLetter(m, 'invalid_topic', topic.error);
          continue;
        }
        const decoded = decode(topic.kind, m);
        if (!decoded.ok) {
          deadLetter(m, decoded.rejection.reason, decoded.rejection.detail);
          continue;
        }
        const lookup = (): ReturnType<AssetDirectory['resolve']> => deps.directory.resolve(topic.site, topic.asset, m.receivedAt.getTime());
        // known assets (nearly every message) without a promise per message; the database only for the rest
        let asset: Awaited<ReturnType<AssetDirectory['resolve']>> | undefined = deps.directory.cached(topic.site, topic.asset, m.receivedAt.getTime());
        try {
          asset ??= await lookup();
        } catch {
          // an asset not cached yet needs the database: wait for it like the rules do, never drop the message
          const resolved = await untilAvailable('asset lookup', lookup);
          if (!resolved.ok) {
            deadLetter(m, 'unavailable', `database unreachable at shutdown: ${resolved.err.message}`);
            continue;
          }
          asset = resolved.value;
        }
        if ('error' in asset) {
          deadLetter(m, 'unknown_asset', asset.error);
          continue;
        }
        counters.accepted++;
        const v = decoded.value;
        if (v.kind === 'telemetry') {
          for (const { ts, metrics } of v.readings) {
            points.push({ site: asset.siteCode, asset: asset.code, ts, fields: metrics });
            deps.directory.noteActivity(asset, ts, metrics);
            for (const metric in metrics) readings.push({ assetId: asset.id, assetCode: asset.code, assetType: asset.type, metric, value: metrics[metric]!, ts });
          }
          pointMessages.push(m);
        } else if (v.kind === 'alarm') {
          deps.directory.noteActivity(asset, v.alarm.ts, {});
          alarms.push({ asset, alarm: v.alarm });
        } else {
          deps.sinks.onStatus?.(asset, v.online, v.ts);
        }
      } catch (err) {
        // a bug in handling one message must not lose it, nor the rest of the batch
        log.error({ err, topic: m.topic }, 'ingest: handling a message failed unexpectedly; dead-lettered');
        deadLetter(m, 'internal_error', (err as Error).message);
      }
    }
    if (points.length > 0 && !deps.store.write(points)) {
      // the store's buffer is full (store unreachable for long): keep the raw messages instead of losing them
      for (const m of pointMessages) deadLetter(m, 'overloaded', 'telemetry buffer full; store unreachable');
    }
    counters.readings += readings.length;
    // rules not reached (database still down at shutdown): the journal keeps the batch for the next start
    if ((await deliver(readings, alarms)).ok) markBatch(batch);
  }

  /**
   * Runs `f` until it succeeds, pausing retryMs, 2×, 4× … (≤ 30 s) between failures: the database being
   * down must hold ingest back, not lose what was accepted. Once the pipeline is stopping it gives up
   * after three attempts (→ ok: false) so shutdown cannot hang on a dead database.
   */
  async function untilAvailable<T>(what: string, f: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; err: Error }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return { ok: true, value: await f() };
      } catch (err) {
        counters.sinkRetries++;
        if (stopped && attempt >= 2) {
          log.error({ err: (err as Error).message }, `giving up on ${what} at shutdown`);
          return { ok: false, err: err as Error };
        }
        log.warn({ err: (err as Error).message, attempt }, `${what} failed; retrying`);
        await new Promise((r) => setTimeout(r, Math.min(retryMs * 2 ** attempt, 30_000)));
      }
    }
  }

  /** Rules and alarms must see every reading: retry until the downstream (database) is back. */
  async function deliver(readings: IngestReading[], alarms: { asset: KnownAsset; alarm: AlarmMessage }[]): Promise<{ ok: boolean }> {
    return untilAvailable(`rule evaluation of ${readings.length} readings`, async () => {
      if (readings.length > 0 && deps.sinks.onReadings) await deps.sinks.onReadings(readings);
      if (deps.sinks.onDeviceAlarm) for (const a of alarms) await deps.sinks.onDeviceAlarm(a.asset, a.alarm);
    });
  }

  async function loop(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.length <= BATCH ? queue : queue.slice(0, BATCH);
      queue = queue.length <= BATCH ? [] : queue.slice(BATCH);
      counters.queued = queue.length;
      releaseAdmission();
      try {
        await processBatch(batch);
      } catch (err) {
        log.error({ err }, 'ingest batch failed unexpectedly');
      }
      // a backlog must not starve the event loop: sockets, InfluxDB responses and the API need turns
      if (queue.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    counters.queued = 0;
    releaseAdmission();
    for (const w of idleWaiters.splice(0)) w();
  }

  function kick(): void {
    running ??= loop().finally(() => {
      running = undefined;
      if (queue.length > 0) kick();
    });
  }

  function enqueue(m: Message): void {
    if (queue.length >= deps.queueLimit) {
      deadLetter(m, 'overloaded', `ingest queue full (${deps.queueLimit})`);
      if (m.seg >= 0) addMark([m.seg], [1]);
      return;
    }
    queue.push(m);
    counters.queued = queue.length;
    kick();
  }

  return {
    /**
     * Journals a message before it is acknowledged when that happens earlier than `accept` (the
     * embedded broker acknowledges QoS 1 before emitting the publish); pass the result to `accept`.
     * undefined when the journal is off.
     */
    journal(topic: string, payload: Buffer, clientId: string | undefined): number | undefined {
      return journal?.append(deps.clock.now().getTime(), topic, payload, clientId);
    },

    /** A message refused before it reached the queue (e.g. outside the device's ACL). */
    reject(topic: string, payload: Buffer, clientId: string | undefined, reason: RejectReason, detail: string): void {
      counters.received++;
      deadLetter({ topic, payload, clientId, receivedAt: deps.clock.now(), seg: -1 }, reason, detail);
    },

    /**
     * undefined when the queue has room; otherwise a promise that resolves once it has drained below
     * the low-water mark. The broker holds the publishing client until then.
     */
    admission(): Promise<void> | undefined {
      if (stopped || (admissionWaiters.length === 0 && queue.length + inbound < highWater)) {
        inbound++;
        return undefined;
      }
      counters.throttled++;
      return new Promise<void>((resolve) => admissionWaiters.push(resolve));
    },

    /**
     * Called from the broker for every publish; never blocks. Must run before the message is
     * acknowledged (it is journaled here unless `journaled` says where `journal()` already put it).
     */
    accept(topic: string, payload: Buffer, clientId?: string, journaled?: number): void {
      counters.received++;
      if (inbound > 0) inbound--;
      const receivedAt = deps.clock.now();
      const seg = journaled ?? (journal ? journal.append(receivedAt.getTime(), topic, payload, clientId) : -1);
      enqueue({ topic, payload, clientId, receivedAt, seg });
    },

    /**
     * Feeds what an earlier process left in the journal through the pipeline (not journaled again),
     * waits until it is processed and the store and dead-letter sink have it, then deletes those
     * segments. Run before the broker delivers anything. A segment whose messages could not be made
     * durable (store down without a spool) is kept for the next start.
     */
    async replayJournal(): Promise<{ segments: number; messages: number; tornBytes: number; kept: number }> {
      const out = { segments: 0, messages: 0, tornBytes: 0, kept: 0 };
      if (!journal) return out;
      for (const name of journal.leftovers()) {
        const { records, torn } = journal.read(name);
        if (torn > 0) log.warn({ segment: name, tornBytes: torn }, 'journal: incomplete record at the end of a segment (crash mid-write); ignored');
        out.tornBytes += torn;
        for (const r of records) {
          if (queue.length >= highWater) await this.drain();
          counters.replayed++;
          enqueue({ topic: r.topic, payload: r.payload, clientId: r.clientId, receivedAt: r.receivedAt, seg: -1 });
        }
        await this.drain();
        const points = deps.store.progress().pushed;
        const dead = deps.deadLetters.progress().recorded;
        try {
          await deps.store.flush();
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'journal replay: telemetry store flush failed');
        }
        await deps.deadLetters.flush();
        out.messages += records.length;
        if (deps.store.progress().durable >= points && deps.deadLetters.progress().stored >= dead) {
          journal.remove(name);
          out.segments++;
        } else {
          log.warn({ segment: name }, 'journal replay: store or dead-letter sink did not take everything; segment kept for the next start');
          out.kept++;
        }
      }
      return out;
    },

    /** Journal segments and bytes waiting to become durable elsewhere (undefined = journal off). */
    journalStats: () => journal?.stats(),

    /**
     * After stop() and after the store and dead-letter sink were closed (flushed): releases what is
     * durable and closes the journal; segments still holding undurable messages stay for replay.
     */
    closeJournal(): void {
      if (!journal) return;
      if (settleTimer) clearInterval(settleTimer);
      settleDurable();
      journal.close();
    },

    /** Resolves once everything accepted so far has been processed. */
    async drain(): Promise<void> {
      if (!running && queue.length === 0) return;
      await new Promise<void>((r) => idleWaiters.push(r));
    },

    counters: (): IngestCounters => ({ ...counters }),

    async stop(): Promise<void> {
      stopped = true;
      await this.drain();
    },
  };
}

export type IngestPipeline = ReturnType<typeof createIngestPipeline>;
