/**
 * Ingest benchmark (issue #3): N readings through the real broker into the real store with rules on.
 *
 *   npm run bench:ingest -- [--messages 200000] [--assets 200] [--connections 4] [--flush-ms 200]
 *                           [--rate 0] [--ts-step-ms 100] [--rules on|off] [--rule-events on|off]
 *                           [--auth devices|none] [--skip-raw] [--json]
 *                           [--min-probes 100] [--probe-interval-ms 50] [--timeout-s 300]
 *                           [--cpu-prof DIR] [--count-sql]
 *
 * Phases (one run, one process = "the service"):
 *  1. raw baseline: publisher child → plain embedded aedes broker → one mqtt.js subscriber on plant/#
 *     (no processing) — how fast can the broker alone move these messages on this machine;
 *  2. pipeline: throwaway PostgreSQL + InfluxDB (test/services/local-services.ts), the platform
 *     started in-process with startPlatform (main.ts), seeded with a site, A pumps, a probe asset and
 *     two pump rules; the publisher child publishes the same N messages; we time first publish →
 *     all N points written to InfluxDB, measure publish → queryable latency with a probe, sample RSS,
 *     then verify with InfluxQL count() that InfluxDB holds exactly N points.
 * Figures are printed as measured, beside the target; nothing here passes or fails.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { pino } from 'pino';
import { startPlatform, type Platform } from '../main.ts';
import { loadConfig } from '../platform/config.ts';
import { startLocalServices } from '../test/services/local-services.ts';
import { createTestDatabase } from '../test/helpers/databases.ts';
import type { ProbeChildMessage, ProbeJob, ProbeParentMessage, ProbeReport } from './probe.ts';
import { createCleanup } from './cleanup.ts';
import { intArgOf, printHelpAndExit } from './cli-args.ts';
import { cpuDelta, fmt, round, summarize, type LatencySummary } from './figures.ts';
import { influxQl, machine, machineLine, startPublisher as startHarnessPublisher, tsxImport, type Machine } from './harness.ts';
import type { PublisherJob, PublisherReport } from './publisher.ts';

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

const TARGET_MSGS_PER_S = 20_000;
const FIELDS_PER_MESSAGE = 4;
const SITE = 'bench-site';
const PROBE_ASSET = 'BENCH-PROBE-0001';

const { values: argv } = parseArgs({
  options: {
    messages: { type: 'string', default: '200000' },
    assets: { type: 'string', default: '200' },
    connections: { type: 'string', default: '4' },
    'flush-ms': { type: 'string', default: '200' },
    rate: { type: 'string', default: '0' },
    'ts-step-ms': { type: 'string', default: '100' },
    rules: { type: 'string', default: 'on' },
    auth: { type: 'string', default: 'devices' },
    'rule-events': { type: 'string', default: 'on' },
    'skip-raw': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'min-probes': { type: 'string', default: '100' },
    'probe-interval-ms': { type: 'string', default: '50' },
    'timeout-s': { type: 'string', default: '300' },
    'cpu-prof': { type: 'string' },
    'count-sql': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
  allowPositionals: false,
});

if (argv.help) printHelpAndExit(import.meta.url, '\nSee bench/README.md for what each figure means.');
const intArg = intArgOf(argv);

const opts = {
  messages: intArg('messages', 1, 50_000_000),
  assets: intArg('assets', 1, 100_000),
  connections: intArg('connections', 1, 256),
  flushMs: intArg('flush-ms', 10, 600_000),
  rate: intArg('rate', 0, 10_000_000),
  tsStepMs: intArg('ts-step-ms', 1, 3_600_000),
  rules: argv.rules === 'on',
  auth: argv.auth === 'none' ? ('none' as const) : ('devices' as const),
  ruleEvents: argv['rule-events'] !== 'off',
  skipRaw: argv['skip-raw'] === true,
  json: argv.json === true,
  minProbes: intArg('min-probes', 0, 100_000),
  probeIntervalMs: intArg('probe-interval-ms', 5, 60_000),
  timeoutS: intArg('timeout-s', 10, 24 * 3600),
  cpuProfDir: argv['cpu-prof'] ? path.resolve(argv['cpu-prof']) : undefined,
  /** Diagnostic: count the SQL statements the service sends during the load (wraps pg.Client#query). */
  countSql: argv['count-sql'] === true,
};
if (argv.rules !== 'on' && argv.rules !== 'off') {
  console.error(`--rules: expected on or off, got "${argv.rules}"`);
  process.exit(2);
}
if (argv['rule-events'] !== 'on' && argv['rule-events'] !== 'off') {
  console.error(`--rule-events: expected on or off, got "${argv['rule-events']}"`);
  process.exit(2);
}
if (argv.auth !== 'devices' && argv.auth !== 'none') {
  console.error(`--auth: expected devices or none, got "${argv.auth}"`);
  process.exit(2);
}
opts.connections = Math.min(opts.connections, opts.assets);

/** Progress goes to stderr so `--json` keeps stdout to exactly one JSON document. */
const progress = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};

// ---------------------------------------------------------------------------
// cleanup: everything registered here runs once, newest first, on success, error, timeout or signal
// ---------------------------------------------------------------------------

/** The service's logger: silenced on abort (a half-torn-down platform only logs noise). */
let serviceLogger: { level: string } | undefined;

const { children, onCleanup, cleanupAll, cleaning, abort } = createCleanup({
  progress,
  abortStepMs: 5_000,
  timeoutS: opts.timeoutS,
  onAbort: () => {
    if (serviceLogger) serviceLogger.level = 'silent';
  },
});

// ---------------------------------------------------------------------------
// small helpers
// ---------------------------------------------------------------------------

const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

/** CPU seconds of this process's descendants, grouped by command name (Linux /proc; {} elsewhere). */
function descendantsCpu(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    const procs = new Map<number, { ppid: number; comm: string; ticks: number }>();
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      } catch {
        continue;
      }
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' ');
      // fields after "(comm) ": state ppid ... utime(14) stime(15) cutime(16) cstime(17) → index field-3
      const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      procs.set(Number(d), { ppid: Number(f[1]), comm, ticks });
    }
    const kids = new Map<number, number[]>();
    for (const [pid, p] of procs) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), pid]);
    const subtree = (pid: number): number => (procs.get(pid)?.ticks ?? 0) + (kids.get(pid) ?? []).reduce((a, c) => a + subtree(c), 0);
    for (const child of kids.get(process.pid) ?? []) {
      const comm = procs.get(child)!.comm;
      out[comm] = (out[comm] ?? 0) + subtree(child) / 100; // USER_HZ = 100 on Linux
    }
  } catch {
    /* not Linux */
  }
  return out;
}

function startPublisher(job: PublisherJob, label: string): ReturnType<typeof startHarnessPublisher> {
  const execArgv = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir, '--cpu-prof-name', `publisher-${label}.cpuprofile`] : [];
  return startHarnessPublisher(job, label, {
    execArgv,
    onChild: (child) => {
      children.add(child);
      child.once('exit', () => children.delete(child));
    },
  });
}

interface ProbeHandle {
  start(): void;
  /** Probe points visible in InfluxDB, counted by a query that started after this call. */
  sync(): Promise<{ visible: number; sent: number; afterLoad: number }>;
  loadDone(at: number): void;
  stop(): Promise<ProbeReport>;
}

/** Forks bench/probe.ts (latency probe in its own process), connected and ready to start. */
async function startProbe(job: ProbeJob): Promise<ProbeHandle> {
  const child = fork(fileURLToPath(new URL('./probe.ts', import.meta.url)), [], { execArgv: ['--import', tsxImport()], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  let exited: Error | undefined;
  const waiters = new Set<{ match(m: ProbeChildMessage): boolean; resolve(m: ProbeChildMessage): void; reject(e: Error): void }>();
  child.once('exit', (code, signal) => {
    children.delete(child);
    exited = new Error(`latency probe exited (code ${code}, signal ${signal})`);
    for (const w of waiters) w.reject(exited);
    waiters.clear();
  });
  child.on('message', (m: ProbeChildMessage) => {
    if (m.type === 'error') progress(m.message);
    for (const w of waiters) {
      if (w.match(m)) {
        waiters.delete(w);
        w.resolve(m);
      }
    }
  });
  const next = <T extends ProbeChildMessage>(match: (m: ProbeChildMessage) => boolean): Promise<T> =>
    exited ? Promise.reject(exited) : new Promise<T>((resolve, reject) => waiters.add({ match, resolve: (m) => resolve(m as T), reject }));
  const send = (m: ProbeParentMessage): void => void child.send(m);
  const ready = next((m) => m.type === 'ready');
  send({ type: 'run', ...job });
  await ready;
  let syncId = 0;
  return {
    start: () => send({ type: 'start' }),
    async sync() {
      const id = ++syncId;
      const reply = next<Extract<ProbeChildMessage, { type: 'synced' }>>((m) => m.type === 'synced' && m.id === id);
      send({ type: 'sync', id });
      const { visible, sent, afterLoad } = await reply;
      return { visible, sent, afterLoad };
    },
    loadDone: (at) => send({ type: 'loadDone', at }),
    async stop() {
      const reply = next<Extract<ProbeChildMessage, { type: 'report' }>>((m) => m.type === 'report');
      send({ type: 'stop' });
      const { type: _t, ...r } = await reply;
      send({ type: 'exit' });
      return r;
    },
  };
}

function assetCodes(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `BENCH-PUMP-${String(i + 1).padStart(5, '0')}`);
}

function jobFor(url: string, clientIdPrefix: string, baseTs: number, login?: { username: string; password: string }, rate = opts.rate): PublisherJob {
  return {
    ...login,
    url,
    site: SITE,
    assets: assetCodes(opts.assets),
    messages: opts.messages,
    connections: opts.connections,
    rate,
    baseTs,
    tsStepMs: opts.tsStepMs,
    ruleEvents: opts.ruleEvents,
    clientIdPrefix,
  };
}

/** Per-asset timestamps span ceil(N/A) × step; they end 10 min before now (always in the past, never overwritten). */
function baseTimestamp(): number {
  const span = Math.ceil(opts.messages / opts.assets) * opts.tsStepMs;
  return Date.now() - 10 * 60_000 - span;
}

// ---------------------------------------------------------------------------
// phase 1: raw broker baseline
// ---------------------------------------------------------------------------

interface RawResult {
  published: number;
  delivered: number;
  seconds: number;
  msgsPerS: number;
  publisher: PublisherReport & { msgsPerS: number };
  brokerProcessCpuS: number;
  brokerProcessCores: number;
}

async function runRaw(): Promise<RawResult> {
  progress(`raw baseline: ${opts.messages} messages → embedded aedes → 1 subscriber on plant/#`);
  // same broker options as ingest/broker.ts, so the only difference is what happens after the broker
  const broker = await Aedes.createBroker({ concurrency: 1000 });
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closeBroker = async (): Promise<void> => {
    await new Promise<void>((r) => broker.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  };
  const unregisterBroker = onCleanup('raw broker', closeBroker);

  const sub: MqttClient = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: `bench-raw-sub-${process.pid}`, reconnectPeriod: 0 });
  const unregisterSub = onCleanup('raw subscriber', () => sub.endAsync(true));
  await sub.subscribeAsync('plant/#', { qos: 0 });
  let delivered = 0;
  let lastAt = 0;
  let allIn: () => void = () => undefined;
  const allDelivered = new Promise<void>((r) => (allIn = r));
  sub.on('message', () => {
    delivered++;
    lastAt = Date.now();
    if (delivered === opts.messages) allIn();
  });

  // always unthrottled: the baseline is the broker's capacity, whatever --rate the pipeline phase uses
  const pub = await startPublisher(jobFor(url, 'bench-raw', baseTimestamp(), undefined, 0), 'raw');
  const cpu0 = process.cpuUsage();
  const report = await pub.go();
  // QoS0: whatever does not arrive is lost; stop waiting once nothing arrives for 3 s
  for (let last = -1; delivered < opts.messages && delivered !== last; ) {
    last = delivered;
    await Promise.race([allDelivered, sleep(3000)]);
  }
  const cpu = process.cpuUsage(cpu0);
  const seconds = Math.max(0.001, ((lastAt || Date.now()) - report.startedAt) / 1000);
  const brokerProcessCpuS = (cpu.user + cpu.system) / 1e6;

  await sub.endAsync(true);
  unregisterSub();
  await closeBroker();
  unregisterBroker();
  return {
    published: report.sent,
    delivered,
    seconds: round(seconds, 3),
    msgsPerS: round(delivered / seconds),
    publisher: { ...report, msgsPerS: round(report.sent / Math.max(0.001, (report.endedAt - report.startedAt) / 1000)) },
    brokerProcessCpuS: round(brokerProcessCpuS, 2),
    brokerProcessCores: round(brokerProcessCpuS / seconds, 2),
  };
}

// ---------------------------------------------------------------------------
// phase 2: the platform
// ---------------------------------------------------------------------------

/** --count-sql: wraps pg.Client#query (the pool Prisma's adapter uses) to count statements by text. */
function sqlCounter(): { start(): void; stop(): { statement: string; count: number }[] } {
  const counts = new Map<string, number>();
  let on = false;
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...a: unknown[]) {
    if (on) {
      const q = a[0];
      const text = typeof q === 'string' ? q : q && typeof q === 'object' && 'text' in q ? String((q as { text: unknown }).text) : '?';
      const k = text.replace(/\s+/g, ' ').replace(/\$\d+/g, '$').slice(0, 160);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return original.apply(this, a);
  };
  return {
    start: () => void (on = true),
    stop: () => {
      on = false;
      proto.query = original;
      return [...counts.entries()].sort((x, y) => y[1] - x[1]).map(([statement, count]) => ({ statement, count }));
    },
  };
}


async function influxCount(influxUrl: string, db: string, field: string): Promise<number> {
  const series = await influxQl(influxUrl, db, `SELECT count("${field}") FROM "telemetry"`);
  const v = series[0]?.values[0]?.[1];
  return typeof v === 'number' ? v : 0;
}

async function seed(platform: Platform): Promise<{ rules: number; login: { username: string; password: string } | undefined }> {
  const prisma = platform.db.prisma;
  const site = await prisma.site.create({ data: { code: SITE, name: 'Benchmark site' } });
  const codes = assetCodes(opts.assets);
  for (let i = 0; i < codes.length; i += 1000) {
    await prisma.asset.createMany({
      data: codes.slice(i, i + 1000).map((code) => ({ code, name: `Bench pump ${code.slice(-5)}`, type: 'pump', brand: 'ACME', model: 'B1', siteId: site.id })),
    });
  }
  await prisma.asset.create({ data: { code: PROBE_ASSET, name: 'Latency probe', type: 'bench-probe', siteId: site.id } });
  await prisma.rule.create({
    data: {
      name: 'Pump over-temperature',
      kind: 'threshold',
      assetType: 'pump',
      definition: { schemaVersion: 1, metric: 'temperature', operator: '>', value: 85, holdSeconds: 5, hysteresis: 5, severity: 'major', priority: 'high' },
    },
  });
  await prisma.rule.create({
    data: {
      name: 'Pump 500 h service',
      kind: 'usage',
      assetType: 'pump',
      definition: { schemaVersion: 1, metric: 'runHours', every: 500, startAt: 0, priority: 'medium', title: 'Replace filter and check seals (500 h)' },
    },
  });
  await platform.engine.reload();
  let login: { username: string; password: string } | undefined;
  if (opts.auth === 'devices') {
    // a gateway credential for the site (like a real edge gateway), through the API
    const res = await fetch(`${platform.apiUrl}/sites/${site.id}/credentials`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench-gateway' }) });
    const body = (await res.json()) as { username?: string; password?: string; message?: string };
    if (res.status !== 201 || !body.username || !body.password) throw new Error(`creating the gateway credential failed (${res.status}): ${body.message ?? JSON.stringify(body)}`);
    login = { username: body.username, password: body.password };
  }
  return { rules: platform.engine.stats().rules, login };
}

interface PipelineResult {
  complete: boolean;
  loadPointsWritten: number;
  seconds: number;
  msgsPerS: number;
  pointsPerS: number;
  fieldsPerS: number;
  /** Rate of `written` between 10 % and 90 % of N (excludes start-up and the last flush). */
  steadyMsgsPerS: number | null;
  brokerReceivedAllAfterS: number | null;
  publisher: PublisherReport & { msgsPerS: number };
  influxCountTemperature: number;
  influxCountProbe: number;
  telemetryStats: ReturnType<Platform['telemetry']['stats']>;
  latency: { flushMs: number; underLoad: LatencySummary; afterLoad: LatencySummary; all: LatencySummary; lost: number; probeQueries: number; probeCpuS: number; series: [number, number][] };
  memory: { rssBeforeMb: number; rssPeakMb: number; rssEndMb: number; heapUsedPeakMb: number };
  peakIngestQueue: number;
  peakTelemetryBuffer: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  cpuSeconds: Record<string, number>;
  cpuCores: Record<string, number>;
  pipelineCounters: unknown;
  deadLetters: unknown;
  rules: unknown;
  workOrders: { pm: number; rule: number };
  alarms: { active: number; cleared: number };
  timeline: { t: number; written: number; received: number; queued: number; rssMb: number }[];
  profile?: string;
  sqlStatements?: { statement: string; count: number }[];
}

async function runPipeline(databaseUrl: string, influxUrl: string): Promise<PipelineResult> {
  const N = opts.messages;
  const db = await createTestDatabase(databaseUrl);
  onCleanup('drop PostgreSQL database', () => db.drop());
  const influxDb = `bench_${randomBytes(6).toString('hex')}`;
  onCleanup('drop InfluxDB database', async () => void (await influxQl(influxUrl, undefined, `DROP DATABASE "${influxDb}"`, 'POST')));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'om-bench-'));
  onCleanup('remove data dir', () => rmSync(dataDir, { recursive: true, force: true }));

  const config = loadConfig({
    LOG_LEVEL: 'warn',
    ROLES: opts.rules ? 'api,ingest,rules' : 'api,ingest',
    HTTP_PORT: '0',
    INGEST_THREAD: 'off', // looks into the pipeline in this thread
    MQTT_PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    INFLUX_URL: influxUrl,
    INFLUX_DATABASE: influxDb,
    TELEMETRY_FLUSH_MS: String(opts.flushMs),
    TELEMETRY_BATCH_SIZE: '5000',
    INGEST_QUEUE_LIMIT: String(Math.min(10_000_000, N + 100_000)),
    MQTT_AUTH: opts.auth,
    // the bench creates the gateway credential through the API without logging in (the API is not what it measures)
    AUTH_MODE: 'off',
    // readings are back-dated (see baseTimestamp): keep the stale-data watchdog running, but with a
    // horizon beyond the back-dating so it does not raise STALE alarms that only the bench data causes
    STALE_AFTER_S: String(Math.min(30 * 24 * 3600, Math.ceil((Date.now() - baseTimestamp()) / 1000) + 3600)),
  });
  const logger = pino({ level: 'warn' }, pino.destination({ dest: 2, sync: false }));
  serviceLogger = logger;
  progress(`pipeline: starting platform (PostgreSQL ${db.url.replace(/\/\/[^@]*@/, '//')}, InfluxDB ${influxUrl} db ${influxDb})`);
  const platform = await startPlatform(config, { logger });
  onCleanup('platform.stop()', () => platform.stop());
  const { rules, login } = await seed(platform);
  progress(`pipeline: seeded 1 site, ${opts.assets} pumps + 1 probe asset, ${rules} rules (rules ${opts.rules ? 'on' : 'off'}), MQTT auth ${opts.auth}`);

  const probe = await startProbe({ mqttUrl: platform.mqttUrl!, ...login, site: SITE, asset: PROBE_ASSET, influxUrl, influxDb, intervalMs: opts.probeIntervalMs });
  const pub = await startPublisher(jobFor(platform.mqttUrl!, 'bench-load', baseTimestamp(), login), 'pipeline');

  // --- monitors ---------------------------------------------------------------------------------
  let profiler: Session | undefined;
  if (opts.cpuProfDir) {
    mkdirSync(opts.cpuProfDir, { recursive: true });
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const sql = opts.countSql ? sqlCounter() : undefined;
  sql?.start();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  let heapPeak = process.memoryUsage().heapUsed;
  let peakQueue = 0;
  let peakBuffer = 0;
  const ELD_RESOLUTION_MS = 10;
  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  eld.enable();
  const cpu0 = process.cpuUsage();
  const kids0 = descendantsCpu();
  const wall0 = performance.now();

  let probesVisible = 0; // as last reported by the probe process
  let lastSyncAt = Date.now();
  let loadDoneAt: number | undefined; // Date.now()

  // 100 ms samples of the raw counters (they include probe messages; corrected afterwards with the
  // probe's own send/visible times); the reported timeline is thinned to ~1 s
  const samples: { at: number; written: number; received: number; queued: number; rssMb: number }[] = [];
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    rssPeak = Math.max(rssPeak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
    const c = platform.pipeline!.counters();
    const s = platform.telemetry.stats();
    peakQueue = Math.max(peakQueue, c.queued);
    peakBuffer = Math.max(peakBuffer, s.buffered);
    samples.push({ at: Date.now(), written: s.written, received: c.received, queued: c.queued, rssMb: mb(m.rss) });
  }, 100);
  onCleanup('sampler', () => clearInterval(sampler));

  // --- the run ---------------------------------------------------------------------------------
  progress(`pipeline: publishing ${N} messages over ${opts.connections} connections${opts.rate ? ` at ≤ ${opts.rate}/s` : ' (unthrottled)'}`);
  const publisherDone = pub.go();
  publisherDone.catch(() => undefined);
  probe.start();

  // "all N load points written": `written` also counts probe points. Read it at time t, then ask the
  // probe for the probe points visible in InfluxDB by a query started after t: each probe point
  // counted in `written` at t is visible to that query, so written(t) − visible ≤ load points written.
  // Every 10 ms; the (slower) sync only when the cheap check with the last known count passes.
  let complete = true;
  let report: PublisherReport | undefined;
  let publisherError: unknown;
  publisherDone.then(
    (r) => {
      report = r;
      progress(`pipeline: publisher done in ${((r.endedAt - r.startedAt) / 1000).toFixed(2)} s; waiting for InfluxDB`);
    },
    (err: unknown) => (publisherError = err),
  );
  const sync = async (): Promise<void> => {
    lastSyncAt = Date.now();
    probesVisible = (await probe.sync()).visible;
  };
  for (let lastChange = Date.now(), last = ''; ; ) {
    await sleep(10);
    if (publisherError) throw publisherError;
    const t = Date.now();
    const written = platform.telemetry.stats().written;
    if (written - probesVisible >= N) {
      await sync();
      if (written - probesVisible >= N) {
        loadDoneAt = t;
        break;
      }
    }
    // give up when nothing moves for 10 s after the publisher finished
    const c = platform.pipeline!.counters();
    const key = `${c.received}/${c.accepted}/${c.rejected}/${written}`;
    if (key !== last || !report) {
      last = key;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 10_000) {
      complete = false;
      progress(`pipeline: no progress for 10 s; ~${written - probesVisible} of ${N} load points written — reporting as incomplete`);
      break;
    }
    if (Date.now() - lastSyncAt > 500) await sync();
  }
  probe.loadDone(loadDoneAt ?? Date.now());
  const pubReport = report ?? (await publisherDone);
  const doneAt = loadDoneAt ?? Date.now();
  const cpu = process.cpuUsage(cpu0);
  const kids = cpuDelta(kids0, descendantsCpu());
  const wallS = (performance.now() - wall0) / 1000;
  eld.disable();
  const sqlStatements = sql?.stop();
  let profileFile: string | undefined;
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    profileFile = path.join(opts.cpuProfDir!, `service-pipeline-${Date.now()}.cpuprofile`);
    writeFileSync(profileFile, JSON.stringify(profile));
    profiler.disconnect();
  }

  // probes on the now idle system: a reference for the latency floor (flush interval + query), and
  // enough samples for ≥ minProbes in total
  const extraUntil = Date.now() + 30_000;
  for (;;) {
    const st = await probe.sync();
    const wantIdle = Math.max(20, opts.minProbes - (st.visible - st.afterLoad));
    if (st.afterLoad >= wantIdle || Date.now() > extraUntil) break;
    await sleep(100);
  }
  const probeReport = await probe.stop();
  const latUnder = probeReport.samples.filter((x) => x.underLoad).map((x) => x.ms);
  const latAfter = probeReport.samples.filter((x) => !x.underLoad).map((x) => x.ms);
  clearInterval(sampler);

  await platform.pipeline!.drain();
  await platform.telemetry.flush();
  const [countTemperature, countProbe] = [await influxCount(influxUrl, influxDb, 'temperature'), await influxCount(influxUrl, influxDb, 'probe')];
  const health = await platform.health();
  const prisma = platform.db.prisma;
  const [pmOrders, ruleOrders, activeAlarms, clearedAlarms] = await Promise.all([
    prisma.workOrder.count({ where: { source: 'pm' } }),
    prisma.workOrder.count({ where: { source: 'rule' } }),
    prisma.alarm.count({ where: { status: 'active' } }),
    prisma.alarm.count({ where: { status: 'cleared' } }),
  ]);
  const telemetryStats = platform.telemetry.stats();
  const loadPointsWritten = Math.min(N, telemetryStats.written - countProbe);

  const seconds = Math.max(0.001, (doneAt - pubReport.startedAt) / 1000);
  const written = complete ? N : loadPointsWritten;
  // load-only counters per sample: received − probes sent by then (a lower bound: never early), and
  // written − probes visible by then (probe points in flight make it at most a few points high)
  const sentAt = probeReport.samples.map((x) => x.sentAt).sort((a, b) => a - b);
  const visibleAt = probeReport.samples.map((x) => x.sentAt + x.ms).sort((a, b) => a - b);
  const countUpTo = (sorted: number[], t: number): number => {
    let lo = 0;
    for (let hi = sorted.length; lo < hi; ) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const sentBy = (t: number): number => countUpTo(sentAt, t) + probeReport.lost; // lost probes: assume sent early
  const load = samples.map((x) => ({ ...x, written: Math.max(0, x.written - countUpTo(visibleAt, x.at)), received: Math.max(0, x.received - sentBy(x.at)) }));
  const brokerReceivedAllAt = load.find((x) => x.received >= N)?.at;
  const t10 = load.find((x) => x.written >= 0.1 * N);
  const t90 = load.find((x) => x.written >= 0.9 * N);
  const steady = t10 && t90 && t90.at > t10.at ? round(((t90.written - t10.written) * 1000) / (t90.at - t10.at)) : null;
  const timeline: PipelineResult['timeline'] = [];
  for (const smp of load) {
    const t = round((smp.at - pubReport.startedAt) / 1000, 1);
    if (timeline.length === 0 || t - timeline[timeline.length - 1]!.t >= 1 || smp === load[load.length - 1]) timeline.push({ t, written: smp.written, received: smp.received, queued: smp.queued, rssMb: smp.rssMb });
  }
  const serviceCpuS = (cpu.user + cpu.system) / 1e6;
  const publisherCpuS = (pubReport.cpuUserMs + pubReport.cpuSystemMs) / 1000;
  // this process's descendants: influxd, postgres (+ backends); 'node' is the publisher (reported by
  // itself), 'esbuild' tsx's transformer, 'sh' the services' watchdogs
  const cpuSeconds: Record<string, number> = { service: round(serviceCpuS, 2), publisher: round(publisherCpuS, 2) };
  for (const [k, v] of Object.entries(kids)) if (k !== 'node' && (v >= 0.05 || k === 'influxd' || k === 'postgres')) cpuSeconds[k] = v;
  const cpuCores = Object.fromEntries(Object.entries(cpuSeconds).map(([k, v]) => [k, round(v / wallS, 2)]));

  return {
    complete,
    loadPointsWritten,
    seconds: round(seconds, 3),
    msgsPerS: round(written / seconds),
    pointsPerS: round(written / seconds),
    fieldsPerS: round((written * FIELDS_PER_MESSAGE) / seconds),
    steadyMsgsPerS: steady,
    brokerReceivedAllAfterS: brokerReceivedAllAt ? round((brokerReceivedAllAt - pubReport.startedAt) / 1000, 2) : null,
    publisher: { ...pubReport, msgsPerS: round(pubReport.sent / Math.max(0.001, (pubReport.endedAt - pubReport.startedAt) / 1000)) },
    influxCountTemperature: countTemperature,
    influxCountProbe: countProbe,
    telemetryStats,
    latency: {
      flushMs: opts.flushMs,
      underLoad: summarize(latUnder),
      afterLoad: summarize(latAfter),
      all: summarize([...latUnder, ...latAfter]),
      lost: probeReport.lost,
      probeQueries: probeReport.queries,
      probeCpuS: round(probeReport.cpuMs / 1000, 2),
      /** [seconds after the first publish, ms] per probe, for plotting */
      series: probeReport.samples.map((x) => [round((x.sentAt - pubReport.startedAt) / 1000, 2), x.ms] as [number, number]),
    },
    memory: { rssBeforeMb: mb(rssBefore), rssPeakMb: mb(rssPeak), rssEndMb: mb(process.memoryUsage().rss), heapUsedPeakMb: mb(heapPeak) },
    peakIngestQueue: peakQueue,
    peakTelemetryBuffer: peakBuffer,
    // the histogram holds the interval between timer ticks: subtract the timer's own period
    eventLoopDelayMs: Object.fromEntries(
      (
        [
          ['p50', eld.percentile(50)],
          ['p99', eld.percentile(99)],
          ['max', eld.max],
        ] as const
      ).map(([k, ns]) => [k, Math.max(0, round(ns / 1e6 - ELD_RESOLUTION_MS, 1))]),
    ) as { p50: number; p99: number; max: number },
    cpuSeconds,
    cpuCores,
    pipelineCounters: health.counters.ingest,
    deadLetters: health.counters.deadLetters,
    rules: health.counters.rules,
    workOrders: { pm: pmOrders, rule: ruleOrders },
    alarms: { active: activeAlarms, cleared: clearedAlarms },
    timeline,
    ...(profileFile ? { profile: profileFile } : {}),
    ...(sqlStatements ? { sqlStatements } : {}),
  };
}

// ---------------------------------------------------------------------------
// output
// ---------------------------------------------------------------------------

function printHuman(m: Machine, p: PipelineResult | undefined, raw: RawResult | undefined): void {
  const L = (label: string, value: string, note = ''): void => console.log(`  ${label.padEnd(34)} ${value.padStart(14)}  ${note}`);
  console.log(`\nIngest benchmark — ${fmt(opts.messages)} readings × ${FIELDS_PER_MESSAGE} fields, ${opts.assets} assets, ${opts.connections} publisher connections, rules ${opts.rules ? `on${opts.ruleEvents ? '' : ' (quiet data: no rule fires)'}` : 'off'}, MQTT auth ${opts.auth}, flush ${opts.flushMs} ms${opts.rate ? `, publisher capped at ${fmt(opts.rate)}/s` : ''}`);
  console.log(`machine: ${machineLine(m)}`);
  if (p) {
    const target = (v: number, t: number): string => `target ≥ ${fmt(t)} → ${v >= t ? 'met' : `${fmt((v / t) * 100)} % of target`}`;
    console.log(`\nEnd to end: publisher → aedes → pipeline → InfluxDB${p.complete ? '' : '   *** INCOMPLETE: not all points arrived ***'}`);
    L('readings/s (msgs/s)', fmt(p.msgsPerS), target(p.msgsPerS, TARGET_MSGS_PER_S));
    L('points/s (1 point per message)', fmt(p.pointsPerS));
    L('fields/s', fmt(p.fieldsPerS), target(p.fieldsPerS, TARGET_MSGS_PER_S * FIELDS_PER_MESSAGE));
    L('steady rate (10 %→90 % of N written)', p.steadyMsgsPerS === null ? 'n/a' : `${fmt(p.steadyMsgsPerS)}/s`);
    L('elapsed, first publish → N written', `${fmt(p.seconds, 2)} s`);
    L('broker had received all N after', p.brokerReceivedAllAfterS === null ? 'n/a' : `${fmt(p.brokerReceivedAllAfterS, 2)} s`, '(sampled every 100 ms)');
    L('publisher own rate', `${fmt(p.publisher.msgsPerS)}/s`, `(${fmt(p.publisher.sent)} sent in ${fmt((p.publisher.endedAt - p.publisher.startedAt) / 1000, 2)} s; waited ${fmt(p.publisher.drainWaitMs / opts.connections)} ms/connection for socket drain)`);
    L('InfluxDB count(temperature)', fmt(p.influxCountTemperature), `of ${fmt(opts.messages)} ${p.influxCountTemperature === opts.messages ? '✓ exact' : '✗ MISMATCH'}`);
    L('telemetry.stats().written', fmt(p.telemetryStats.written), `(= ${fmt(p.telemetryStats.written - p.influxCountProbe)} load + ${fmt(p.influxCountProbe)} probe points; failed flushes ${p.telemetryStats.failedFlushes}, dropped ${p.telemetryStats.dropped})`);
    console.log(`\nLatency: publish → visible to an InfluxQL query on InfluxDB (flush interval ${p.latency.flushMs} ms included)`);
    const lat = (label: string, s: LatencySummary): void =>
      s.n === 0
        ? L(label, 'no samples')
        : L(label, `p50 ${fmt(s.p50Ms)} ms`, `p99 ${fmt(s.p99Ms)} ms   max ${fmt(s.maxMs)} ms   mean ${fmt(s.meanMs)} ms   n=${s.n}${s.n < 100 ? ' (n<100)' : ''}`);
    lat('while the load runs', p.latency.underLoad);
    lat('after the load (idle system)', p.latency.afterLoad);
    lat('all samples', p.latency.all);
    if (p.latency.lost) L('probes never seen', fmt(p.latency.lost));
    console.log(`  (probe: separate process, 1 reading every ${opts.probeIntervalMs} ms, InfluxQL poll every ~5 ms: ${fmt(p.latency.probeQueries)} queries, ${fmt(p.latency.probeCpuS, 1)} CPU s)`);
    if (!opts.rate && p.peakIngestQueue > 10_000)
      console.log(`  note: the publisher was unthrottled, so "while the load runs" includes waiting behind a backlog of up to ${fmt(p.peakIngestQueue)} queued\n        messages; measure latency at a sustained rate with --rate (e.g. --rate ${fmt(TARGET_MSGS_PER_S, 0).replace(/,/g, '')}).`);
    console.log('\nService process (this process: broker + pipeline + rules + API; bench sampler only)');
    L('RSS peak', `${fmt(p.memory.rssPeakMb, 1)} MB`, `(before load ${fmt(p.memory.rssBeforeMb, 1)} MB, end ${fmt(p.memory.rssEndMb, 1)} MB; heap used peak ${fmt(p.memory.heapUsedPeakMb, 1)} MB)`);
    L('peak ingest queue', fmt(p.peakIngestQueue), `messages (peak telemetry write buffer ${fmt(p.peakTelemetryBuffer)} points)`);
    L('event-loop delay', `p50 ${fmt(p.eventLoopDelayMs.p50, 1)} ms`, `p99 ${fmt(p.eventLoopDelayMs.p99, 1)} ms   max ${fmt(p.eventLoopDelayMs.max, 1)} ms`);
    L('CPU seconds during the run', Object.entries(p.cpuSeconds).map(([k, v]) => `${k} ${fmt(v, 1)}`).join(', '));
    L('  = cores busy', Object.entries(p.cpuCores).map(([k, v]) => `${k} ${fmt(v, 2)}`).join(', '));
    console.log('\nWhat ran');
    L('pipeline counters', JSON.stringify(p.pipelineCounters));
    L('dead letters', JSON.stringify(p.deadLetters));
    L('rules engine', JSON.stringify(p.rules));
    L('work orders created', `pm ${p.workOrders.pm}, rule ${p.workOrders.rule}`, `alarms: active ${p.alarms.active}, cleared ${p.alarms.cleared}`);
    if (p.sqlStatements) {
      console.log(`\nSQL statements sent during the load (--count-sql): ${fmt(p.sqlStatements.reduce((a, b) => a + b.count, 0))}`);
      for (const q of p.sqlStatements.slice(0, 15)) console.log(`  ${fmt(q.count).padStart(9)}  ${q.statement}`);
    }
    if (p.profile) L('CPU profile (pipeline phase)', p.profile, '→ npx tsx bench/profile-summary.ts FILE');
  }
  if (raw) {
    console.log('\nRaw broker baseline: publisher (unthrottled) → embedded aedes → 1 subscriber (no processing)');
    L('delivered', `${fmt(raw.delivered)}`, `of ${fmt(raw.published)} published (QoS0)`);
    L('msgs/s', fmt(raw.msgsPerS), `(${fmt(raw.seconds, 2)} s; broker+subscriber process ${fmt(raw.brokerProcessCores, 2)} cores busy)`);
    L('publisher own rate', `${fmt(raw.publisher.msgsPerS)}/s`, `(waited ${fmt(raw.publisher.drainWaitMs / opts.connections)} ms/connection for socket drain)`);
  }
  if (p && raw) console.log('');
  if (p && raw) L('ratio pipeline ÷ raw', `${fmt(p.msgsPerS / raw.msgsPerS, 3)}`, `(${fmt(p.msgsPerS)} ÷ ${fmt(raw.msgsPerS)} msgs/s${opts.rate ? `; the pipeline's publisher was capped at ${fmt(opts.rate)}/s` : ''})`);
  console.log('');
}

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const m = machine();
  let raw: RawResult | undefined;
  if (!opts.skipRaw) raw = await runRaw();

  // this bench needs PostgreSQL + InfluxDB only: an (unused) Mosquitto URL keeps startLocalServices from starting one
  process.env.TEST_MOSQUITTO_URL ??= 'mqtt://127.0.0.1:1';
  progress('starting local PostgreSQL + InfluxDB');
  const services = await startLocalServices();
  onCleanup('stop local services', () => services.stop());
  const { databaseUrl, influxUrl } = services.urls;
  if (!databaseUrl || !influxUrl) throw new Error(`needs PostgreSQL and InfluxDB: missing ${services.urls.missing.join(', ')} (or set TEST_DATABASE_URL / TEST_INFLUX_URL)`);
  const p = await runPipeline(databaseUrl, influxUrl);

  const result = {
    bench: 'ingest',
    at: new Date().toISOString(),
    machine: m,
    options: { ...opts, targetMsgsPerS: TARGET_MSGS_PER_S, fieldsPerMessage: FIELDS_PER_MESSAGE },
    pipeline: p,
    raw: raw ?? null,
    ratioPipelineToRaw: raw ? round(p.msgsPerS / raw.msgsPerS, 3) : null,
    summary: [
      { name: `Ingest: readings/s end to end into InfluxDB (${fmt(opts.messages)} readings${p.complete ? '' : ', INCOMPLETE'})`, value: p.msgsPerS, unit: 'readings/s', target: `≥ ${fmt(TARGET_MSGS_PER_S)}`, met: p.complete && p.msgsPerS >= TARGET_MSGS_PER_S },
      { name: 'Ingest: readings in InfluxDB / published', value: `${fmt(p.influxCountTemperature)} / ${fmt(opts.messages)}`, unit: 'readings', met: p.influxCountTemperature === opts.messages },
      { name: 'Ingest: publish → queryable latency p50 / p99 (idle system)', value: `${p.latency.afterLoad.p50Ms ?? 'n/a'} / ${p.latency.afterLoad.p99Ms ?? 'n/a'}`, unit: 'ms' },
      ...(raw ? [{ name: 'Ingest: pipeline ÷ raw broker throughput', value: round(p.msgsPerS / raw.msgsPerS, 3), unit: '×' }] : []),
    ],
  };
  if (opts.json) console.log(JSON.stringify(result));
  else printHuman(m, p, raw);
  progress('cleaning up');
  await cleanupAll(20_000);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    // after a signal or the timeout, children dying is the expected consequence: no second report
    if (!cleaning()) void abort(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1);
  },
);
