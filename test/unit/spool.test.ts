import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSpool } from '../../ingest/telemetry-store/spool.ts';
import { createWriteBuffer } from '../../ingest/telemetry-store/write-buffer.ts';
import type { TelemetryPoint } from '../../ingest/telemetry-store/port.ts';

const point = (i: number): TelemetryPoint => ({ site: 's', asset: `A${i % 3}`, ts: new Date(1_700_000_000_000 + i), fields: { x: i, y: i / 2 } });
const logger = pino({ level: 'silent' });

describe('telemetry spool', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps segments across a restart, oldest first, and drops half-written ones', () => {
    const a = openSpool(dir, 1e9);
    a.append([point(1), point(2)]);
    a.append([point(3)]);
    writeFileSync(join(dir, 'zzz.jsonl.tmp'), '{"broken'); // a crash mid-write
    const b = openSpool(dir, 1e9);
    expect(b.stats()).toMatchObject({ segments: 2, points: 3 });
    const first = b.oldest()!;
    expect(first.points).toEqual([point(1), point(2)]);
    b.remove(first.name);
    expect(b.oldest()!.points).toEqual([point(3)]);
    expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(false);
  });

  it('refuses to grow past maxBytes', () => {
    const s = openSpool(dir, 200);
    expect(s.append([point(1)])).toBe(true);
    expect(s.append(Array.from({ length: 50 }, (_, i) => point(i)))).toBe(false);
    expect(s.stats().points).toBe(1);
  });

  it('a write buffer spools on failure and replays the spool, then newer points, once the store is back', async () => {
    const written: number[] = [];
    let down = true;
    const spool = openSpool(dir, 1e9);
    const buf = createWriteBuffer({
      batchSize: 2,
      flushMs: 60_000,
      maxBuffered: 4,
      logger,
      spool,
      writeBatch: async (pts) => {
        if (down) throw new Error('ECONNREFUSED');
        written.push(...pts.map((p) => p.fields.x!));
      },
    });
    buf.push([point(1), point(2), point(3)]);
    await buf.flush(); // does not throw: the data is safe on disk
    expect(buf.stats()).toMatchObject({ buffered: 0, spooled: 3, written: 0 });
    // memory is bounded: beyond maxBuffered points go straight to the spool
    expect(buf.push([point(4), point(5), point(6), point(7), point(8)])).toBe(true);
    expect(buf.stats()).toMatchObject({ buffered: 0, spooled: 8, dropped: 0 });
    down = false;
    buf.push([point(9)]);
    await buf.flush();
    expect(written.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(buf.stats()).toMatchObject({ buffered: 0, spooled: 0, written: 9 });
    expect(readdirSync(dir)).toEqual([]);
    await buf.close();
  });
});
