/**
 * Shared pieces of the benchmark scripts: forking the tsx children (publisher, load generators),
 * the publisher's IPC handshake, and the machine description printed beside every figure.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { startPlatform, type Platform } from '../main.ts';
import { loadConfig } from '../platform/config.ts';
import { createTestDatabase, createTestInfluxDb } from '../test/helpers/databases.ts';
import { startLocalServices } from '../test/services/local-services.ts';
import { cpuGauge } from './cpu-gauge.ts';
import type { ChildMessage, ParentMessage, PublisherJob, PublisherReport } from './publisher.ts';

export function tsxImport(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

/** Forks a bench/*.ts child with tsx and an IPC channel; `onChild` sees it (for cleanup bookkeeping). */
export function forkTs(file: string, opts: { execArgv?: string[]; onChild?: (c: ChildProcess) => void } = {}): ChildProcess {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), [], { execArgv: ['--import', tsxImport(), ...(opts.execArgv ?? [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  opts.onChild?.(child);
  return child;
}

/** Forks bench/publisher.ts, connects it, returns `go()` (resolves with its report). */
export async function startPublisher(
  job: PublisherJob,
  label: string,
  opts: { execArgv?: string[]; onChild?: (c: ChildProcess) => void } = {},
): Promise<{ go(): Promise<PublisherReport>; child: ChildProcess }> {
  const child = forkTs('./publisher.ts', opts);
  let report: ((r: PublisherReport) => void) | undefined;
  let fail: ((e: Error) => void) | undefined;
  const done = new Promise<PublisherReport>((resolve, reject) => {
    report = resolve;
    fail = reject;
  });
  done.catch(() => undefined);
  let ready: () => void = () => undefined;
  const readyP = new Promise<void>((r) => (ready = r));
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'ready') ready();
    else if (m.type === 'done') {
      const { type: _t, ...r } = m;
      report?.(r);
    } else if (m.type === 'error') fail?.(new Error(`publisher (${label}): ${m.message}`));
  });
  child.once('exit', (code, signal) => fail?.(new Error(`publisher (${label}) exited (code ${code}, signal ${signal}) before reporting`)));
  const send = (m: ParentMessage): void => void child.send(m);
  send({ type: 'run', ...job });
  await Promise.race([readyP, done.then(() => undefined)]);
  return {
    child,
    go: async () => {
      send({ type: 'go' });
      const r = await done;
      send({ type: 'exit' });
      return r;
    },
  };
}

export function gitRevision(): string {
  try {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return `${rev}${dirty ? '+uncommitted changes' : ''}`;
  } catch {
    return 'unknown';
  }
}

export interface Machine {
  revision: string;
  cpu: string;
  cores: number;
  memGiB: number;
  node: string;
  platform: string;
  /** pure rule evaluations/s when the report was made (bench/cpu-gauge.ts): how fast this shared VM ran then */
  cpuGauge: number;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    revision: gitRevision(),
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()} ${os.release()}`,
    cpuGauge: cpuGauge(),
  };
}

/** One line describing the machine, for the head of every report. */
export function machineLine(m = machine()): string {
  return `${m.cpu} × ${m.cores} cores, ${m.memGiB} GiB RAM, Node ${m.node}, ${m.platform}; CPU gauge ${m.cpuGauge.toLocaleString('en')} evaluate()/s; code ${m.revision}`;
}

/**
 * The platform as a benchmark runs it: private throwaway PostgreSQL + InfluxDB (test/services), a fresh
 * database in each, started in this process (this process = "the service"), access control on with a
 * known admin password. `stop()` removes everything it made.
 */
export async function startBenchPlatform(env: Record<string, string> = {}): Promise<{ platform: Platform; influxUrl: string; influxDb: string; stop(): Promise<void> }> {
  process.env.TEST_MOSQUITTO_URL ??= 'mqtt://127.0.0.1:1'; // no Mosquitto needed: the embedded broker is used
  const services = await startLocalServices();
  const { databaseUrl, influxUrl } = services.urls;
  if (!databaseUrl || !influxUrl) {
    await services.stop();
    throw new Error(`needs PostgreSQL and InfluxDB (apt-get install -y postgresql influxdb): missing ${services.urls.missing.join(', ')}`);
  }
  const db = await createTestDatabase(databaseUrl);
  const influx = await createTestInfluxDb(influxUrl);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'om-bench-'));
  const cleanup = async (): Promise<void> => {
    await db.drop().catch(() => undefined);
    await influx.drop().catch(() => undefined);
    await services.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const platform = await startPlatform(
      loadConfig({
        DATABASE_URL: db.url,
        INFLUX_URL: influxUrl,
        INFLUX_DATABASE: influx.db,
        HTTP_PORT: '0',
        MQTT_PORT: '0',
        MQTT_AUTH: 'none',
        DATA_DIR: dataDir,
        TELEMETRY_FLUSH_MS: '200',
        TELEMETRY_BATCH_SIZE: '5000',
        LOG_LEVEL: 'warn',
        ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
        ASSET_CODE_MODE: 'off',
        // the benches read the pipeline's counters in this thread; bench:api --ingest-thread runs the thread
        INGEST_THREAD: 'off',
        ...env,
      }),
      { logger: pino({ level: 'warn' }) },
    );
    return {
      platform,
      influxUrl,
      influxDb: influx.db,
      stop: async () => {
        await platform.stop();
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * Ingest's counters, read directly from the pipeline in this thread, or (INGEST_THREAD=on) from the
 * ingest thread through health(), with that thread's heap.
 */
export async function ingestFigures(platform: Platform): Promise<{ accepted: number; rejected: number; queued: number; written: number; buffered: number; threadHeapUsedMb?: number | undefined }> {
  if (platform.pipeline) return { ...platform.pipeline.counters(), ...platform.telemetry.stats() };
  const c = (await platform.health()).counters as {
    ingest: { accepted: number; rejected: number; queued: number };
    telemetry: { written: number; buffered: number };
    ingestThreadMemory: { heapUsedMb: number } | null;
  };
  return { ...c.ingest, ...c.telemetry, threadHeapUsedMb: c.ingestThreadMemory?.heapUsedMb };
}

export const BENCH_ADMIN_PASSWORD = 'bench-admin-password';

/** Logs in as the admin and creates an API key with `role`; returns the header to send. */
export async function apiKeyHeader(apiUrl: string, role: string): Promise<Record<string, string>> {
  const login = await fetch(`${apiUrl}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: BENCH_ADMIN_PASSWORD }) });
  if (!login.ok) throw new Error(`admin login failed (${login.status}): ${await login.text()}`);
  const { token } = (await login.json()) as { token: string };
  const res = await fetch(`${apiUrl}/api-keys`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ name: `bench ${role}`, role }) });
  if (!res.ok) throw new Error(`creating an API key failed (${res.status}): ${await res.text()}`);
  const { key } = (await res.json()) as { key: string };
  return { 'x-api-key': key };
}

/** Waits for one IPC message of `type` from a child (rejects on its 'error' message or its exit). */
export function nextMessage<T extends { type: string }>(child: ChildProcess, type: T['type']): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string; message?: string }): void => {
      if (m.type === type) {
        off();
        resolve(m as T);
      } else if (m.type === 'error') {
        off();
        reject(new Error(m.message));
      }
    };
    const onExit = (code: number | null): void => {
      off();
      reject(new Error(`child exited (${code}) before sending '${type}'`));
    };
    const off = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** One InfluxQL statement over the v1 HTTP API; the first result's series (throws on any error). */
export async function influxQl(influxUrl: string, db: string | undefined, q: string, method: 'GET' | 'POST' = 'GET'): Promise<{ columns: string[]; values: unknown[][] }[]> {
  const params = new URLSearchParams({ q, epoch: 'ms' });
  if (db) params.set('db', db);
  const res = await fetch(`${influxUrl.replace(/\/+$/, '')}/query?${params}`, { method, signal: AbortSignal.timeout(30_000) });
  const body = (await res.json()) as { error?: string; results?: { error?: string; series?: { columns: string[]; values: unknown[][] }[] }[] };
  const err = body.error ?? body.results?.find((r) => r.error)?.error;
  if (!res.ok || err) throw new Error(`InfluxQL "${q}" failed (${res.status}): ${err ?? res.statusText}`);
  return body.results?.[0]?.series ?? [];
}
