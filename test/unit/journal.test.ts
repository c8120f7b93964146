import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeSegment, encodeRecord, openJournal } from '../../ingest/journal.ts';

describe('ingest journal', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'om-journal-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const files = (): string[] => readdirSync(dir).sort();
  const append = (j: ReturnType<typeof openJournal>, i: number): number => j.append(1_700_000_000_000 + i, `plant/S/A${i}/telemetry`, Buffer.from(`{"i":${i}}`), i % 2 ? `client-${i}` : undefined);

  it('encodes and decodes records (binary payload, missing client id, unicode topic)', () => {
    const payload = Buffer.from([0, 1, 2, 255, 0]);
    const a = encodeRecord(123.5, 'plant/Zürich/Ä/telemetry', undefined, payload);
    const b = encodeRecord(456, 't', 'c1', Buffer.alloc(0));
    const { records, torn } = decodeSegment(Buffer.concat([a, b]));
    expect(torn).toBe(0);
    expect(records).toEqual([
      { receivedAt: new Date(123.5), topic: 'plant/Zürich/Ä/telemetry', clientId: undefined, payload },
      { receivedAt: new Date(456), topic: 't', clientId: 'c1', payload: Buffer.alloc(0) },
    ]);
  });

  it('rotates segments and deletes a closed segment once every record in it is settled', () => {
    const j = openJournal({ dir, segmentRecords: 3 });
    const segs = Array.from({ length: 7 }, (_, i) => append(j, i));
    expect(segs).toEqual([1, 1, 1, 2, 2, 2, 3]);
    expect(files()).toEqual(['000000000001.wal', '000000000002.wal', '000000000003.wal']);
    expect(j.stats()).toMatchObject({ segments: 3, appended: 7 });
    j.settle(1, 2);
    expect(files()).toHaveLength(3); // one record of segment 1 still not durable
    j.settle(2, 3); // out of order: segment 2 is done before segment 1
    expect(files()).toEqual(['000000000001.wal', '000000000003.wal']);
    j.settle(1, 1);
    expect(files()).toEqual(['000000000003.wal']);
    j.settle(3, 1); // the open segment is never deleted while it is being appended to
    expect(files()).toEqual(['000000000003.wal']);
    j.close(); // … but is at close, being fully settled
    expect(files()).toEqual([]);
    expect(j.stats()).toMatchObject({ segments: 0, bytes: 0, released: 3 });
  });

  it('keeps unsettled segments at close and hands them to the next run in order', () => {
    const j = openJournal({ dir, segmentRecords: 2 });
    for (let i = 0; i < 5; i++) append(j, i);
    j.settle(1, 2);
    j.close();
    expect(files()).toEqual(['000000000002.wal', '000000000003.wal']);

    const next = openJournal({ dir, segmentRecords: 2 });
    expect(next.leftovers()).toEqual(['000000000002.wal', '000000000003.wal']);
    const replayed = next.leftovers().flatMap((n) => next.read(n).records.map((r) => r.topic));
    expect(replayed).toEqual(['plant/S/A2/telemetry', 'plant/S/A3/telemetry', 'plant/S/A4/telemetry']);
    expect(next.read('000000000002.wal').records[1]).toMatchObject({ clientId: 'client-3', receivedAt: new Date(1_700_000_000_003), payload: Buffer.from('{"i":3}') });
    // new segments continue after the leftovers, never reusing their names
    expect(append(next, 9)).toBe(4);
    for (const n of next.leftovers()) next.remove(n);
    expect(next.leftovers()).toEqual([]);
    expect(files()).toEqual(['000000000004.wal']);
    next.close();
  });

  it('ignores a torn last record (crash mid-write) and a corrupt one, keeping everything before it', () => {
    const j = openJournal({ dir, segmentRecords: 100 });
    for (let i = 0; i < 4; i++) append(j, i);
    j.close();
    const path = join(dir, '000000000001.wal');
    const whole = readFileSync(path);
    // a partial record: the first 11 bytes of a fifth one
    appendFileSync(path, encodeRecord(1, 'plant/S/X/telemetry', undefined, Buffer.from('{"torn":true}')).subarray(0, 11));
    let next = openJournal({ dir });
    let seg = next.read('000000000001.wal');
    expect(seg.records.map((r) => r.topic)).toEqual([0, 1, 2, 3].map((i) => `plant/S/A${i}/telemetry`));
    expect(seg.torn).toBe(11);
    next.close();

    // only the header of a record survived
    truncateSync(path, whole.length + 4);
    next = openJournal({ dir });
    expect(next.read('000000000001.wal')).toMatchObject({ torn: 4 });
    next.close();

    // a flipped byte inside the last record: the checksum refuses it
    const corrupt = Buffer.from(whole);
    corrupt[corrupt.length - 2]! ^= 0xff;
    writeFileSync(path, corrupt);
    next = openJournal({ dir });
    seg = next.read('000000000001.wal');
    expect(seg.records).toHaveLength(3);
    expect(seg.torn).toBeGreaterThan(0);
    next.close();

    // an absurd length field is not trusted (no huge allocation, nothing read)
    const bad = Buffer.alloc(16);
    bad.writeUInt32LE(0xfffffff0, 0);
    expect(decodeSegment(bad)).toEqual({ records: [], torn: 16 });
  });

  it('an append that fails (directory gone, disk full) is counted and reported once, never thrown', () => {
    const errors: string[] = [];
    const j = openJournal({ dir, segmentRecords: 1, onError: (e) => errors.push((e as NodeJS.ErrnoException).code ?? e.message) });
    expect(append(j, 0)).toBe(1);
    rmSync(dir, { recursive: true, force: true }); // the next segment cannot be created
    expect(append(j, 1)).toBe(-1);
    expect(append(j, 2)).toBe(-1);
    expect(j.stats()).toMatchObject({ appended: 1, appendErrors: 2 });
    expect(errors).toEqual(['ENOENT']);
    mkdirSync(dir);
    expect(append(j, 3)).toBeGreaterThan(1); // recovers once the disk is usable again
    expect(j.stats()).toMatchObject({ appended: 2, appendErrors: 2 });
    j.close();
  });

  it('an empty directory has no leftovers; stats count bytes on disk', () => {
    const j = openJournal({ dir, segmentRecords: 10 });
    expect(j.leftovers()).toEqual([]);
    append(j, 1);
    const size = readFileSync(join(dir, '000000000001.wal')).length;
    expect(j.stats()).toMatchObject({ segments: 1, bytes: size, appended: 1, appendErrors: 0 });
    j.close();
  });
});
