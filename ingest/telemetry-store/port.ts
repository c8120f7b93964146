/** What ingest writes and the API reads: the telemetry store port. Adapters: influx.ts, embedded.ts. */
export interface TelemetryPoint {
  site: string;
  asset: string;
  ts: Date;
  /** metric name → value; one point carries every metric of one message. */
  fields: Record<string, number>;
}

export interface TelemetryQuery {
  asset: string;
  metric: string;
  from: Date;
  to: Date;
  limit: number;
  /** asc (default): the first `limit` readings of the range; desc: the latest ones, newest first. */
  order?: 'asc' | 'desc';
}

export interface TelemetrySample {
  ts: Date;
  value: number;
}

export interface TelemetryStoreStats {
  /** Points accepted but not yet written. */
  buffered: number;
  written: number;
  failedFlushes: number;
  /** Points refused because the buffer was full (store unreachable for too long). */
  dropped: number;
  lastError: string | undefined;
  /** Points waiting in the on-disk spool (store was unreachable). */
  spooled: number;
  spoolBytes: number;
}

export interface TelemetryStore {
  readonly kind: 'influxdb' | 'embedded';
  /** Buffers; never blocks on I/O. Returns false when the buffer is full and the points were refused. */
  write(points: readonly TelemetryPoint[]): boolean;
  /** Writes everything buffered so far (retrying the batch on the next flush when the store fails). */
  flush(): Promise<void>;
  query(q: TelemetryQuery): Promise<TelemetrySample[]>;
  health(): Promise<{ ok: boolean; detail: string }>;
  stats(): TelemetryStoreStats;
  /** Cumulative pushed/durable point counters of the write buffer (see WriteBuffer.progress): the ingest journal's release mark. */
  progress(): { pushed: number; durable: number };
  /** Flushes what is buffered and stops the timer. */
  close(): Promise<void>;
}
