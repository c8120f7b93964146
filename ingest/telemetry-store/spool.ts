/**
 * Durable on-disk spool for telemetry the store could not take (InfluxDB down or slow).
 * Segments are JSON-lines files written with fsync, named so they sort oldest-first; a segment is
 * deleted only after the store accepted every point in it. Survives restarts: segments left by a
 * previous run are replayed. Bounded by `maxBytes`.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TelemetryPoint } from './port.ts';

interface StoredPoint {
  s: string;
  a: string;
  t: number;
  f: Record<string, number>;
}

export interface Spool {
  /** Appends points as one new segment; false when the spool is full. */
  append(points: readonly TelemetryPoint[]): boolean;
  /** Oldest segment, or undefined when empty. */
  oldest(): { name: string; points: TelemetryPoint[] } | undefined;
  remove(name: string): void;
  stats(): { segments: number; points: number; bytes: number };
}

const SUFFIX = '.jsonl';

export function openSpool(dir: string, maxBytes: number): Spool {
  mkdirSync(dir, { recursive: true });
  let seq = 0;
  // segment name → point count; rebuilt from disk at open (a crash mid-write leaves only a .tmp file)
  const segments = new Map<string, { points: number; bytes: number }>();
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (name.endsWith('.tmp')) {
      unlinkSync(path);
      continue;
    }
    if (!name.endsWith(SUFFIX)) continue;
    const text = readFileSync(path, 'utf8');
    segments.set(name, { points: text.split('\n').filter(Boolean).length, bytes: statSync(path).size });
  }
  let bytes = [...segments.values()].reduce((a, s) => a + s.bytes, 0);

  return {
    append(points) {
      if (points.length === 0) return true;
      const body = points.map((p) => JSON.stringify({ s: p.site, a: p.asset, t: p.ts.getTime(), f: p.fields } satisfies StoredPoint)).join('\n') + '\n';
      const size = Buffer.byteLength(body);
      if (bytes + size > maxBytes) return false;
      const name = `${String(Date.now()).padStart(15, '0')}-${String(process.pid).padStart(7, '0')}-${String(seq++).padStart(9, '0')}${SUFFIX}`;
      const tmp = join(dir, `${name}.tmp`);
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, body);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, join(dir, name));
      segments.set(name, { points: points.length, bytes: size });
      bytes += size;
      return true;
    },
    oldest() {
      const name = [...segments.keys()].sort()[0];
      if (!name) return undefined;
      const points: TelemetryPoint[] = [];
      for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
        if (!line) continue;
        const p = JSON.parse(line) as StoredPoint;
        points.push({ site: p.s, asset: p.a, ts: new Date(p.t), fields: p.f });
      }
      return { name, points };
    },
    remove(name) {
      const s = segments.get(name);
      if (!s) return;
      unlinkSync(join(dir, name));
      segments.delete(name);
      bytes -= s.bytes;
    },
    stats: () => ({ segments: segments.size, points: [...segments.values()].reduce((a, s) => a + s.points, 0), bytes }),
  };
}
