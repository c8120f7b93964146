/**
 * InfluxDB adapter over the v1 HTTP API: line protocol POSTed to /write (precision ms, gzip) and
 * InfluxQL GET /query. Works with InfluxDB 1.x, 2.x (v1 compatibility + token, DBRP mapping) and 3.x Core.
 * Line protocol comes from @influxdata/influxdb-client's Point (escaping done right).
 */
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { escape, Point } from '@influxdata/influxdb-client';
import type { Logger } from '../../platform/logger.ts';
import { TAG_ASSET, TAG_SITE, TELEMETRY_MEASUREMENT } from '../telemetry-schema.ts';
import type { TelemetryPoint, TelemetryQuery, TelemetrySample, TelemetryStore } from './port.ts';
import type { Spool } from './spool.ts';
import { createWriteBuffer } from './write-buffer.ts';

export interface InfluxOptions {
  url: string;
  database: string;
  token: string | undefined;
  username: string | undefined;
  password: string | undefined;
  createDatabase: boolean;
  batchSize: number;
  flushMs: number;
  maxBuffered: number;
  logger: Logger;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Durable spool for batches InfluxDB could not take (undefined = memory only). */
  spool?: Spool | undefined;
}

const gzipAsync = promisify(gzip);

const msTime = (v: string | number | Date | undefined): string | undefined => (v instanceof Date ? String(v.getTime()) : v === undefined ? undefined : String(v));

/** Reference encoder (the client library's Point); the hot path below must produce the same lines. */
export function toLineProtocolViaPoint(p: TelemetryPoint): string | undefined {
  const point = new Point(TELEMETRY_MEASUREMENT).tag(TAG_SITE, p.site).tag(TAG_ASSET, p.asset).timestamp(p.ts);
  for (const [k, v] of Object.entries(p.fields)) point.floatField(k, v);
  return point.toLineProtocol({ convertTime: msTime });
}

const MEASUREMENT = escape.measurement(TELEMETRY_MEASUREMENT);
const tagCache = new Map<string, string>();
const tagValue = (v: string): string => {
  let e = tagCache.get(v);
  if (e === undefined) {
    e = escape.tag(v);
    if (tagCache.size < 100_000) tagCache.set(v, e);
  }
  return e;
};

/**
 * Line protocol for one point, ms precision, tags sorted by key (asset < site) as InfluxDB prefers:
 * the same bytes as the client's Point, with the library's escaping, without its per-point objects
 * (about 10× cheaper on the ingest hot path).
 */
export function toLineProtocol(p: TelemetryPoint): string | undefined {
  let fields = '';
  for (const k in p.fields) {
    const v = p.fields[k]!;
    if (!Number.isFinite(v)) continue;
    fields += `${fields ? ',' : ''}${tagValue(k)}=${v}`;
  }
  if (!fields) return undefined;
  return `${MEASUREMENT},${TAG_ASSET}=${tagValue(p.asset)},${TAG_SITE}=${tagValue(p.site)} ${fields} ${p.ts.getTime()}`;
}

/** InfluxQL string literal / identifier quoting. */
export const influxString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
export const influxIdent = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

interface InfluxQueryResponse {
  results?: { statement_id: number; error?: string; series?: { name: string; columns: string[]; values: unknown[][] }[] }[];
  error?: string;
}

export async function createInfluxStore(opts: InfluxOptions): Promise<TelemetryStore> {
  const log = opts.logger.child({ module: 'telemetry.influx' });
  const base = opts.url.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 10_000;

  const headers = (): Record<string, string> => {
    const h: Record<string, string> = {};
    if (opts.token) h.authorization = `Token ${opts.token}`;
    else if (opts.username) h.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
    return h;
  };

  async function influxQuery(q: string, method: 'GET' | 'POST' = 'GET'): Promise<InfluxQueryResponse> {
    const params = new URLSearchParams({ db: opts.database, q, epoch: 'ms' });
    const res = await fetch(`${base}/query?${params}`, { method, headers: headers(), signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json().catch(() => ({}))) as InfluxQueryResponse;
    const err = body.error ?? body.results?.find((r) => r.error)?.error;
    if (!res.ok || err) throw new Error(`InfluxDB query failed (${res.status}): ${err ?? res.statusText}`);
    return body;
  }

  async function writeBatch(points: TelemetryPoint[]): Promise<void> {
    const lines: string[] = [];
    for (const p of points) {
      const line = toLineProtocol(p);
      if (line) lines.push(line);
    }
    if (lines.length === 0) return;
    // compressed on libuv's thread pool, not on the event loop
    const body = await gzipAsync(lines.join('\n'));
    const params = new URLSearchParams({ db: opts.database, precision: 'ms' });
    const res = await fetch(`${base}/write?${params}`, {
      method: 'POST',
      headers: { ...headers(), 'content-type': 'text/plain; charset=utf-8', 'content-encoding': 'gzip' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status !== 204 && res.status !== 200) {
      const text = await res.text().catch(() => '');
      // 400 = the batch itself is bad: retrying would block everything behind it
      if (res.status === 400) {
        log.error({ status: res.status, body: text.slice(0, 500), points: points.length }, 'InfluxDB rejected a batch as malformed; dropping it');
        return;
      }
      throw new Error(`InfluxDB write failed (${res.status}): ${text.slice(0, 200)}`);
    }
  }

  if (opts.createDatabase) {
    try {
      await influxQuery(`CREATE DATABASE ${influxIdent(opts.database)}`, 'POST');
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'CREATE DATABASE failed (InfluxDB down, or 2.x/3.x where the bucket must exist)');
    }
  }

  const buffer = createWriteBuffer({ ...opts, logger: log, writeBatch });

  return {
    kind: 'influxdb',
    write: (points) => buffer.push(points),
    flush: () => buffer.flush(),
    async query(q: TelemetryQuery): Promise<TelemetrySample[]> {
      const sql =
        `SELECT ${influxIdent(q.metric)} FROM ${influxIdent(TELEMETRY_MEASUREMENT)} ` +
        `WHERE ${influxIdent(TAG_ASSET)} = ${influxString(q.asset)} AND time >= ${q.from.getTime()}ms AND time <= ${q.to.getTime()}ms ` +
        `ORDER BY time ${q.order === 'desc' ? 'DESC' : 'ASC'} LIMIT ${q.limit}`;
      const body = await influxQuery(sql);
      const values = body.results?.[0]?.series?.[0]?.values ?? [];
      const out: TelemetrySample[] = [];
      for (const [t, v] of values) if (typeof v === 'number') out.push({ ts: new Date(Number(t)), value: v });
      return out;
    },
    async health() {
      try {
        const res = await fetch(`${base}/ping`, { headers: headers(), signal: AbortSignal.timeout(2000) });
        const s = buffer.stats();
        const ok = res.status === 204 || res.status === 200;
        return { ok, detail: `${ok ? 'reachable' : `ping ${res.status}`}; buffered=${s.buffered}; spooled=${s.spooled}${s.lastError ? `; last error: ${s.lastError}` : ''}` };
      } catch (err) {
        const s = buffer.stats();
        return { ok: false, detail: `unreachable: ${(err as Error).message}; buffered=${s.buffered}; spooled=${s.spooled}` };
      }
    },
    stats: () => buffer.stats(),
    progress: () => buffer.progress(),
    close: () => buffer.close(),
  };
}
