import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { toLineProtocol, toLineProtocolViaPoint } from '../../ingest/telemetry-store/influx.ts';
import { createWriteBuffer, type WriteBuffer } from '../../ingest/telemetry-store/write-buffer.ts';
import type { TelemetryPoint } from '../../ingest/telemetry-store/port.ts';

const logger = pino({ level: 'silent' });
const point = (i: number): TelemetryPoint => ({ site: 's1', asset: 'A', ts: new Date(1_700_000_000_000 + i), fields: { x: i } });

describe('line protocol', () => {
  it('the fast encoder writes exactly what the client library\'s Point writes', () => {
    const names = ['plant 1', 'P,1=2', 'a\\b', 'x"y', 'site-7', 'ÄÖ ü', 'tab\there'];
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 500; i++) {
      const p: TelemetryPoint = {
        site: names[Math.floor(rnd() * names.length)]!,
        asset: names[Math.floor(rnd() * names.length)]!,
        ts: new Date(1_700_000_000_000 + Math.floor(rnd() * 1e9)),
        fields: { [`m ${i % 3}`]: rnd() * 1e6 - 5e5, runHours: Math.floor(rnd() * 1e5), tiny: rnd() * 1e-9 },
      };
      expect(toLineProtocol(p)).toBe(toLineProtocolViaPoint(p));
    }
  });

  it('uses the shared measurement/tag names, ms precision and escapes tag values', () => {
    expect(toLineProtocol({ site: 'plant 1', asset: 'P,1=2', ts: new Date(1732530000000), fields: { runHours: 512.3, temperature: 71 } })).toBe(
      'telemetry,asset=P\\,1\\=2,site=plant\\ 1 runHours=512.3,temperature=71 1732530000000',
    );
  });
});

describe('write buffer', () => {
  let buf: WriteBuffer | undefined;
  afterEach(async () => {
    await buf?.close().catch(() => {});
  });

  it('keeps a failed batch and writes it, once and in order, when the store is back', async () => {
    const written: number[] = [];
    let down = true;
    buf = createWriteBuffer({
      batchSize: 3,
      flushMs: 60_000,
      maxBuffered: 100,
      logger,
      writeBatch: async (pts) => {
        if (down) throw new Error('connection refused');
        written.push(...pts.map((p) => p.fields.x!));
      },
    });
    buf.push([point(1), point(2)]);
    await expect(buf.flush()).rejects.toThrow('connection refused');
    buf.push([point(3), point(4)]);
    expect(buf.stats()).toMatchObject({ buffered: 4, written: 0, failedFlushes: 1, lastError: 'connection refused' });
    down = false;
    await buf.flush();
    expect(written).toEqual([1, 2, 3, 4]);
    expect(buf.stats()).toMatchObject({ buffered: 0, written: 4, failedFlushes: 0, dropped: 0 });
  });

  it('refuses (and counts) points beyond maxBuffered instead of growing without bound', async () => {
    buf = createWriteBuffer({ batchSize: 1000, flushMs: 60_000, maxBuffered: 5, logger, writeBatch: async () => {} });
    expect(buf.push([point(1), point(2), point(3)])).toBe(true);
    expect(buf.push([point(4), point(5), point(6)])).toBe(false);
    expect(buf.stats()).toMatchObject({ buffered: 3, dropped: 3 });
  });

  it('close() flushes what is buffered', async () => {
    const written: number[] = [];
    buf = createWriteBuffer({ batchSize: 1000, flushMs: 60_000, maxBuffered: 100, logger, writeBatch: async (pts) => void written.push(...pts.map((p) => p.fields.x!)) });
    buf.push([point(7)]);
    await buf.close();
    expect(written).toEqual([7]);
  });
});
