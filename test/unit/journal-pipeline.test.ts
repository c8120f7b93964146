/**
 * The ingest journal wired into the pipeline: records are released only once the telemetry store
 * (write buffer: written or spooled) and the dead-letter sink have what they carried; what a
 * "killed" pipeline left behind is replayed by the next one.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeadLetter, DeadLetterSink } from '../../ingest/dead-letters.ts';
import type { AssetDirectory } from '../../ingest/asset-directory.ts';
import { openJournal, type Journal } from '../../ingest/journal.ts';
import { createIngestPipeline, type IngestReading } from '../../ingest/pipeline.ts';
import type { TelemetryPoint, TelemetryStore } from '../../ingest/telemetry-store/port.ts';
import { openSpool } from '../../ingest/telemetry-store/spool.ts';
import { createWriteBuffer, type WriteBuffer } from '../../ingest/telemetry-store/write-buffer.ts';
import { systemClock } from '../../platform/clock.ts';

const logger = pino({ level: 'silent' });
const topic = (asset: string): string => `plant/S1/${asset}/telemetry`;
const payload = (ts: number, v: number): Buffer => Buffer.from(JSON.stringify({ ts, metrics: { temperature: v } }));
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

function harness(dir: string, opts: { segmentRecords?: number } = {}) {
  let storeDown = false;
  const written: TelemetryPoint[] = [];
  const buffer: WriteBuffer = createWriteBuffer({
    batchSize: 1000,
    flushMs: 60_000,
    maxBuffered: 100_000,
    logger,
    writeBatch: async (points) => {
      if (storeDown) throw new Error('store down');
      written.push(...points);
    },
  });
  const store: TelemetryStore = {
    kind: 'embedded',
    write: (p) => buffer.push(p),
    flush: () => buffer.flush(),
    query: async () => [],
    health: async () => ({ ok: true, detail: '' }),
    stats: () => buffer.stats(),
    progress: () => buffer.progress(),
    close: () => buffer.close(),
  };
  // dead-letter sink double: FIFO, stored only when flushed (like the real one)
  const dlPending: DeadLetter[] = [];
  const dlStored: DeadLetter[] = [];
  let recorded = 0;
  const deadLetters = {
    record: (d: DeadLetter) => {
      dlPending.push(d);
      recorded++;
    },
    flush: async () => {
      dlStored.push(...dlPending.splice(0));
    },
    progress: () => ({ recorded, stored: dlStored.length }),
    stats: () => ({ byReason: {}, total: recorded, stored: dlStored.length, pending: dlPending.length, lost: 0 }),
    close: async () => {},
  } as unknown as DeadLetterSink;
  const directory = {
    cached: () => undefined, // every lookup goes the resolve() way here
    resolve: async (siteCode: string, code: string) => (code.startsWith('UNKNOWN') ? { error: 'unknown asset' } : { id: `id-${code}`, code, siteCode, type: 'fan' }),
    noteActivity: () => {},
  } as unknown as AssetDirectory;
  const readings: IngestReading[] = [];
  const journal: Journal = openJournal({ dir, segmentRecords: opts.segmentRecords ?? 4 });
  const pipeline = createIngestPipeline({
    store,
    directory,
    deadLetters,
    sinks: { onReadings: async (r) => void readings.push(...r) },
    clock: systemClock,
    logger,
    maxPayloadBytes: 65536,
    queueLimit: 10_000,
    journal,
  });
  return {
    pipeline,
    journal,
    buffer,
    written,
    readings,
    dlStored,
    deadLetters,
    setStoreDown: (down: boolean) => {
      storeDown = down;
    },
  };
}

describe('ingest journal in the pipeline', () => {
  let dir: string;
  const cleanups: (() => Promise<void> | void)[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'om-journal-pipe-'));
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });
  const wal = (): string[] => readdirSync(dir).filter((n) => n.endsWith('.wal')).sort();

  it('releases a segment only after its points are written; a killed process leaves the rest for replay, which stores and deletes it', async () => {
    const a = harness(dir);
    cleanups.push(() => a.buffer.close().catch(() => {}));
    for (let i = 0; i < 10; i++) a.pipeline.accept(topic('FAN-1'), payload(T0 + i, 60 + i), 'dev');
    await a.pipeline.drain();
    expect(a.readings).toHaveLength(10); // the rules saw them…
    expect(a.written).toHaveLength(0); // …the store has not written them yet (flush interval)
    expect(wal()).toEqual(['000000000001.wal', '000000000002.wal', '000000000003.wal']); // 4 + 4 + 2
    expect(a.pipeline.journalStats()).toMatchObject({ appended: 10, segments: 3 });

    // the store fails: nothing durable, nothing released
    a.setStoreDown(true);
    await a.buffer.flush().catch(() => {});
    a.pipeline.accept(topic('FAN-1'), payload(T0 + 10, 70), 'dev');
    await a.pipeline.drain();
    expect(wal()).toHaveLength(3);

    // store back: the two closed segments go, the open one (3 of 4 records) stays
    a.setStoreDown(false);
    await a.buffer.flush();
    await new Promise((r) => setTimeout(r, 300)); // the pipeline's settle timer (250 ms)
    expect(a.written).toHaveLength(11);
    expect(wal()).toEqual(['000000000003.wal']);

    // more readings, then "kill -9": nothing is closed or flushed
    for (let i = 11; i < 14; i++) a.pipeline.accept(topic('FAN-2'), payload(T0 + i, 80), 'dev');
    await a.pipeline.drain();
    expect(wal()).toEqual(['000000000003.wal', '000000000004.wal']);

    // next process: replays segment 3 (ts 8–11; 8–10 already stored: harmless duplicates) and 4 (12, 13)
    const b = harness(dir);
    cleanups.push(() => b.buffer.close().catch(() => {}));
    expect(b.journal.leftovers()).toEqual(['000000000003.wal', '000000000004.wal']);
    const r = await b.pipeline.replayJournal();
    expect(r).toEqual({ segments: 2, messages: 6, tornBytes: 0, kept: 0 });
    expect(b.written.map((p) => p.ts.getTime() - T0)).toEqual([8, 9, 10, 11, 12, 13]);
    expect(b.readings.map((x) => x.ts.getTime() - T0)).toEqual([8, 9, 10, 11, 12, 13]);
    expect(b.pipeline.counters()).toMatchObject({ replayed: 6, received: 0 });
    expect(b.journal.leftovers()).toEqual([]);
    // replay does not journal again: only the new run's own (none yet) segments remain
    expect(wal()).toEqual([]);
  });

  it('a dead-lettered message is released only once the dead-letter sink has stored it', async () => {
    const h = harness(dir, { segmentRecords: 2 });
    cleanups.push(() => h.buffer.close().catch(() => {}));
    h.pipeline.accept(topic('UNKNOWN-1'), payload(T0, 1), 'dev');
    h.pipeline.accept('plant/S1/FAN-1/telemetry', Buffer.from('not json'), 'dev');
    h.pipeline.accept(topic('FAN-1'), payload(T0 + 1, 2), 'dev'); // opens segment 2, closing 1
    await h.pipeline.drain();
    await h.buffer.flush();
    await new Promise((r) => setTimeout(r, 300));
    expect(h.dlStored).toHaveLength(0);
    expect(wal()).toEqual(['000000000001.wal', '000000000002.wal']);
    await h.deadLetters.flush();
    await new Promise((r) => setTimeout(r, 300));
    expect(h.dlStored.map((d) => d.reason).sort()).toEqual(['invalid_json', 'unknown_asset']);
    expect(wal()).toEqual(['000000000002.wal']);
    // orderly shutdown: the open segment, fully durable, is deleted at close
    await h.pipeline.stop();
    await h.buffer.close();
    h.pipeline.closeJournal();
    expect(wal()).toEqual([]);
  });

  it('a message journaled before the ack (embedded broker) is not journaled twice', async () => {
    const h = harness(dir, { segmentRecords: 100 });
    cleanups.push(() => h.buffer.close().catch(() => {}));
    const seg = h.pipeline.journal(topic('FAN-1'), payload(T0, 1), 'dev');
    expect(seg).toBe(1);
    h.pipeline.accept(topic('FAN-1'), payload(T0, 1), 'dev', seg);
    await h.pipeline.drain();
    expect(h.pipeline.journalStats()).toMatchObject({ appended: 1 });
    await h.pipeline.stop();
    await h.buffer.close();
    h.pipeline.closeJournal();
    expect(wal()).toEqual([]);
  });
});

describe('write buffer durability counters', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'om-wb-progress-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const pts = (n: number): TelemetryPoint[] => Array.from({ length: n }, (_, i) => ({ site: 's', asset: 'a', ts: new Date(T0 + i), fields: { x: i } }));

  it('counts pushed points and, in order, the ones written or spooled', async () => {
    let down = false;
    const buf = createWriteBuffer({
      batchSize: 100,
      flushMs: 60_000,
      maxBuffered: 10,
      logger,
      spool: openSpool(dir, 1e9),
      writeBatch: async () => {
        if (down) throw new Error('down');
      },
    });
    try {
      buf.push(pts(3));
      expect(buf.progress()).toEqual({ pushed: 3, durable: 0 });
      await buf.flush();
      expect(buf.progress()).toEqual({ pushed: 3, durable: 3 });
      down = true;
      buf.push(pts(4));
      await buf.flush(); // fails → the queue is spilled to the spool: durable on disk
      expect(buf.progress()).toEqual({ pushed: 7, durable: 7 });
      expect(buf.stats().spooled).toBe(4);
      buf.push(pts(8));
      expect(buf.progress()).toEqual({ pushed: 15, durable: 7 });
      expect(buf.push(pts(5))).toBe(true); // buffer full: spooled at once, counted in neither
      expect(buf.progress()).toEqual({ pushed: 15, durable: 7 });
      expect(buf.stats().spooled).toBe(9);
      down = false;
      await buf.flush();
      expect(buf.progress()).toEqual({ pushed: 15, durable: 15 });
      expect(buf.stats()).toMatchObject({ spooled: 0, written: 3 + 4 + 5 + 8 });
    } finally {
      await buf.close();
    }
  });
});
