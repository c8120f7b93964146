/**
 * Embedded telemetry store: the `telemetry_points` table in the relational database (PGlite by default).
 * Same batching and semantics as InfluxDB: a point at an existing (asset, metric, ts) overwrites it.
 */
import type { Db } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/logger.ts';
import type { TelemetryPoint, TelemetryQuery, TelemetrySample, TelemetryStore } from './port.ts';
import { createWriteBuffer } from './write-buffer.ts';

export interface EmbeddedStoreOptions {
  prisma: Db;
  batchSize: number;
  flushMs: number;
  maxBuffered: number;
  logger: Logger;
}

const UPSERT = `INSERT INTO telemetry_points (asset_code, metric, ts, value, site_code)
  SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[], $5::text[])
  ON CONFLICT (asset_code, metric, ts) DO UPDATE SET value = EXCLUDED.value, site_code = EXCLUDED.site_code`;

export function createEmbeddedStore(opts: EmbeddedStoreOptions): TelemetryStore {
  const log = opts.logger.child({ module: 'telemetry.embedded' });

  async function writeBatch(points: TelemetryPoint[]): Promise<void> {
    // one row per metric; the last value for a duplicate (asset, metric, ts) wins, as in InfluxDB
    const rows = new Map<string, [string, string, Date, number, string]>();
    for (const p of points) {
      for (const [metric, value] of Object.entries(p.fields)) rows.set(`${p.asset}\u0000${metric}\u0000${p.ts.getTime()}`, [p.asset, metric, p.ts, value, p.site]);
    }
    const cols: [string[], string[], Date[], number[], string[]] = [[], [], [], [], []];
    for (const r of rows.values()) {
      cols[0].push(r[0]);
      cols[1].push(r[1]);
      cols[2].push(r[2]);
      cols[3].push(r[3]);
      cols[4].push(r[4]);
    }
    await opts.prisma.$executeRawUnsafe(UPSERT, ...cols);
  }

  const buffer = createWriteBuffer({ ...opts, logger: log, writeBatch });

  return {
    kind: 'embedded',
    write: (points) => buffer.push(points),
    flush: () => buffer.flush(),
    async query(q: TelemetryQuery): Promise<TelemetrySample[]> {
      const rows = await opts.prisma.telemetryPoint.findMany({
        where: { assetCode: q.asset, metric: q.metric, ts: { gte: q.from, lte: q.to } },
        select: { ts: true, value: true },
        orderBy: { ts: q.order ?? 'asc' },
        take: q.limit,
      });
      return rows;
    },
    async health() {
      const s = buffer.stats();
      return { ok: s.failedFlushes === 0, detail: `embedded table; buffered=${s.buffered}${s.lastError ? `; last error: ${s.lastError}` : ''}` };
    },
    stats: () => buffer.stats(),
    progress: () => buffer.progress(),
    close: () => buffer.close(),
  };
}
