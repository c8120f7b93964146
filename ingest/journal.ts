/**
 * Ingest journal (write-ahead log): every message is appended here synchronously, before the broker
 * acknowledges it (see pipeline.accept / journal), so a message the service acknowledged survives
 * kill -9 of the process even while it is still in the pipeline queue or the telemetry write buffer.
 *
 * - Segment files `${dir}/<id>.wal` (id increasing, zero-padded so names sort), binary records
 *   `[u32 bodyLength][u32 crc32(body)][body]`, body = `f64 receivedAt | u16 topicLength | topic |
 *   u16 clientIdLength (0xFFFF = none) | clientId | payload`, written with one fs.writeSync per
 *   record on a file descriptor opened for append: the bytes are in the page cache when the call
 *   returns, which survives the death of the process (not a power loss: no fsync, see README).
 * - A segment is closed after `segmentRecords` records and a new one is opened.
 * - The pipeline reports messages as durable (processed, and their points written or spooled by the
 *   telemetry store, or their dead letter stored) with `settle(segment, n)`; a closed segment whose
 *   every record is settled is deleted.
 * - Segments found at start-up were left by a process that did not stop cleanly: `leftovers()`
 *   lists them, `read()` yields their records (stopping at the first torn or corrupt record: a crash
 *   in the middle of a write), `remove()` deletes them once replayed.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export interface JournalRecord {
  receivedAt: Date;
  topic: string;
  clientId: string | undefined;
  payload: Buffer;
}

export interface JournalStats {
  /** Segments on disk (the open one included) holding messages not yet durable elsewhere. */
  segments: number;
  bytes: number;
  appended: number;
  /** Segments deleted because every message in them was durable. */
  released: number;
  /** Append failures (disk full, I/O error): those messages were not journaled. */
  appendErrors: number;
}

const SUFFIX = '.wal';
const HEADER = 8;
const NO_CLIENT = 0xffff;
/** Refuse absurd lengths when reading (a corrupt header must not allocate gigabytes). */
const MAX_BODY = 256 * 1024 * 1024;

interface Segment {
  id: number;
  appended: number;
  settled: number;
  bytes: number;
  closed: boolean;
}

const segmentName = (id: number): string => `${String(id).padStart(12, '0')}${SUFFIX}`;

export function encodeRecord(receivedAt: number, topic: string, clientId: string | undefined, payload: Buffer): Buffer {
  const topicLen = Buffer.byteLength(topic);
  const clientLen = clientId === undefined ? 0 : Buffer.byteLength(clientId);
  if (topicLen > 0xffff) throw new Error('journal: topic too long');
  const cid = clientLen >= NO_CLIENT ? undefined : clientId; // absurdly long client ids are not kept
  const bodyLen = 8 + 2 + topicLen + 2 + (cid === undefined ? 0 : clientLen) + payload.length;
  const buf = Buffer.allocUnsafe(HEADER + bodyLen);
  let o = HEADER;
  o = buf.writeDoubleLE(receivedAt, o);
  o = buf.writeUInt16LE(topicLen, o);
  o += buf.write(topic, o, 'utf8');
  if (cid === undefined) {
    o = buf.writeUInt16LE(NO_CLIENT, o);
  } else {
    o = buf.writeUInt16LE(clientLen, o);
    o += buf.write(cid, o, 'utf8');
  }
  payload.copy(buf, o);
  buf.writeUInt32LE(bodyLen, 0);
  buf.writeUInt32LE(crc32(buf.subarray(HEADER)), 4);
  return buf;
}

/** Records of one segment file, in order; `torn` = bytes after the last valid record (ignored). */
export function decodeSegment(data: Buffer): { records: JournalRecord[]; torn: number } {
  const records: JournalRecord[] = [];
  let o = 0;
  while (o + HEADER <= data.length) {
    const bodyLen = data.readUInt32LE(o);
    const crc = data.readUInt32LE(o + 4);
    if (bodyLen < 12 || bodyLen > MAX_BODY || o + HEADER + bodyLen > data.length) break;
    const body = data.subarray(o + HEADER, o + HEADER + bodyLen);
    if (crc32(body) !== crc) break;
    let b = 0;
    const receivedAt = body.readDoubleLE(b);
    b += 8;
    const topicLen = body.readUInt16LE(b);
    b += 2;
    if (b + topicLen + 2 > bodyLen) break;
    const topic = body.toString('utf8', b, b + topicLen);
    b += topicLen;
    const clientLen = body.readUInt16LE(b);
    b += 2;
    let clientId: string | undefined;
    if (clientLen !== NO_CLIENT) {
      if (b + clientLen > bodyLen) break;
      clientId = body.toString('utf8', b, b + clientLen);
      b += clientLen;
    }
    records.push({ receivedAt: new Date(receivedAt), topic, clientId, payload: Buffer.from(body.subarray(b)) });
    o += HEADER + bodyLen;
  }
  return { records, torn: data.length - o };
}

export interface Journal {
  /**
   * Appends one record (synchronously, before returning); returns the segment it went to, or -1 when
   * it could not be written (disk full, I/O error: counted in appendErrors, first one reported).
   */
  append(receivedAt: number, topic: string, payload: Buffer, clientId: string | undefined): number;
  /** `n` messages of `segment` are durable elsewhere; a closed segment fully settled is deleted. */
  settle(segment: number, n: number): void;
  /** Segments left by an earlier run (not appended to by this one), oldest first. */
  leftovers(): string[];
  read(name: string): { records: JournalRecord[]; torn: number };
  remove(name: string): void;
  stats(): JournalStats;
  /** Closes the open segment and deletes every segment whose messages are all settled (the rest stay for replay). */
  close(): void;
}

export function openJournal(opts: { dir: string; segmentRecords?: number; onError?: (err: Error) => void }): Journal {
  const { dir } = opts;
  const segmentRecords = opts.segmentRecords ?? 10_000;
  mkdirSync(dir, { recursive: true });
  const leftover = readdirSync(dir)
    .filter((n) => n.endsWith(SUFFIX))
    .sort();
  let leftoverBytes = 0;
  for (const n of leftover) leftoverBytes += statSync(join(dir, n)).size;
  const lastId = leftover.length > 0 ? Number.parseInt(leftover[leftover.length - 1]!, 10) : 0;
  const segments = new Map<number, Segment>();
  let current: Segment | undefined;
  let fd: number | undefined;
  let nextId = (Number.isFinite(lastId) ? lastId : 0) + 1;
  let appended = 0;
  let released = 0;
  let appendErrors = 0;
  let bytes = 0;
  let closed = false;

  function deleteIfDone(s: Segment): void {
    if (!s.closed || s.settled < s.appended) return;
    try {
      unlinkSync(join(dir, segmentName(s.id)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') opts.onError?.(err as Error);
    }
    segments.delete(s.id);
    bytes -= s.bytes;
    released++;
  }

  function closeCurrent(): void {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    if (current) {
      current.closed = true;
      const s = current;
      current = undefined;
      deleteIfDone(s);
    }
  }

  function openNext(): Segment {
    closeCurrent();
    const s: Segment = { id: nextId++, appended: 0, settled: 0, bytes: 0, closed: false };
    fd = openSync(join(dir, segmentName(s.id)), 'a');
    segments.set(s.id, s);
    current = s;
    return s;
  }

  return {
    append(receivedAt, topic, payload, clientId) {
      if (closed) return -1;
      try {
        let s = current;
        if (!s || s.appended >= segmentRecords) s = openNext();
        const rec = encodeRecord(receivedAt, topic, clientId, payload);
        try {
          let off = 0;
          while (off < rec.length) off += writeSync(fd!, rec, off);
        } catch (err) {
          // a partial record may be at the end now: close the segment so nothing lands behind it
          // (replay stops at the torn record) and continue in a new one
          closeCurrent();
          throw err;
        }
        s.appended++;
        s.bytes += rec.length;
        bytes += rec.length;
        appended++;
        return s.id;
      } catch (err) {
        // disk full / I/O error: the message is still processed (as without a journal) but is not
        // protected against a crash; never let the journal lose or block the message itself
        appendErrors++;
        if (appendErrors === 1 || appendErrors % 10_000 === 0) opts.onError?.(err as Error);
        return -1;
      }
    },
    settle(segment, n) {
      const s = segments.get(segment);
      if (!s) return;
      s.settled += n;
      deleteIfDone(s);
    },
    leftovers: () => [...leftover],
    read(name) {
      return decodeSegment(readFileSync(join(dir, name)));
    },
    remove(name) {
      const i = leftover.indexOf(name);
      if (i < 0) return;
      try {
        leftoverBytes -= statSync(join(dir, name)).size;
        unlinkSync(join(dir, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      leftover.splice(i, 1);
    },
    stats: () => ({ segments: segments.size + leftover.length, bytes: bytes + leftoverBytes, appended, released, appendErrors }),
    close() {
      if (closed) return;
      closed = true;
      closeCurrent();
      for (const seg of [...segments.values()]) deleteIfDone(seg);
    },
  };
}
