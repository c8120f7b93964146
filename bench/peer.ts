/**
 * Side-by-side peer benchmark (issue #9): the same MQTT → threshold rule → InfluxDB pipeline built with
 * Node-RED (bench/peer-nodered: node-red + node-red-contrib-influxdb, pinned, installed on first run
 * with `npm ci`) and with this platform, on the same machine in the same run, one system at a time,
 * fed the same data through the same Mosquitto, writing to the same influxd (different databases).
 *
 *   npx tsx bench/peer.ts [--messages 100000] [--rate 5000] [--probes 120] [--probe-interval-ms 100]
 *                         [--assets 200] [--connections 4] [--batch-size 5000] [--flush-ms 200]
 *                         [--inflight 20] [--systems ours,nodered] [--rounds 1] [--json] [--timeout-s auto]
 *
 * Per system: start it (a child process), warm up (2,000 readings, end to end), then
 *  1. throughput: N readings, QoS 1, publisher unthrottled; N ÷ (first publish → InfluxQL count of the
 *     run's points = N); the count must reach N exactly (lost / duplicated points are reported);
 *  2. latency: background load at --rate readings/s plus one alarm probe every --probe-interval-ms (a
 *     reading with temperature 90 from its own asset, which reported a normal value during warm-up = a
 *     new over-temperature episode): publish → rule decision committed (ours: the work order's
 *     created_at in PostgreSQL; Node-RED: Date.now() in the function node, written with the alarm
 *     point) and publish → decision visible to a reader polling every 10 ms (ours: PostgreSQL
 *     work_orders; Node-RED: the alarm measurement in InfluxDB);
 * --rounds R repeats both systems R times in alternating order (A B, B A, …) and pools the results.
 * then stop it. Figures are printed as measured; nothing here passes or fails. See bench/peer-nodered/README.md.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { pino } from 'pino';
import { openDatabase } from '../platform/db/database.ts';
import { findMosquittoBinary, startLocalServices } from '../test/services/local-services.ts';
import { createTestDatabase } from '../test/helpers/databases.ts';
import { createCleanup } from './cleanup.ts';
import { printHelpAndExit, intArgOf } from './cli-args.ts';
import { cpuDelta, fmt, round, summarize, type LatencySummary } from './figures.ts';
import { influxQl as harnessInfluxQl, machine as harnessMachine, startPublisher as startHarnessPublisher, tsxImport } from './harness.ts';
import { expectedEpisodes, payloadFor, type PublisherJob, type PublisherReport } from './publisher.ts';

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NR_DIR = fileURLToPath(new URL('./peer-nodered/', import.meta.url));
const NR_MAIN = path.join(NR_DIR, 'node_modules', 'node-red', 'red.js');
const SYSTEMS = ['ours', 'nodered'] as const;
type SystemName = (typeof SYSTEMS)[number];
const LABEL: Record<SystemName, string> = { ours: 'ours', nodered: 'Node-RED' };
const SITES = { ping: 'peer-ping', warm: 'peer-wu', tp: 'peer-tp', lt: 'peer-lt', probe: 'peer-pr' } as const;
const WARM_ASSETS = 20;
const WARM_MESSAGES = 2_000;
const OBSERVE_EVERY_MS = 10;

const { values: argv } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '5000' },
    probes: { type: 'string', default: '120' },
    'probe-interval-ms': { type: 'string', default: '100' },
    assets: { type: 'string', default: '200' },
    connections: { type: 'string', default: '4' },
    'batch-size': { type: 'string', default: '5000' },
    'flush-ms': { type: 'string', default: '200' },
    inflight: { type: 'string', default: '20' },
    systems: { type: 'string', default: 'ours,nodered' },
    rounds: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    'timeout-s': { type: 'string', default: 'auto' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
  allowPositionals: false,
});

if (argv.help) printHelpAndExit(import.meta.url);
const intArg = intArgOf(argv);

const systems = argv.systems.split(',').map((s) => s.trim()).filter(Boolean);
if (systems.length === 0 || systems.some((s) => !(SYSTEMS as readonly string[]).includes(s))) {
  console.error(`--systems: comma list of ${SYSTEMS.join(', ')}, got "${argv.systems}"`);
  process.exit(2);
}

const opts = {
  messages: intArg('messages', 1000, 10_000_000),
  rate: intArg('rate', 100, 1_000_000),
  probes: intArg('probes', 1, 10_000),
  probeIntervalMs: intArg('probe-interval-ms', 10, 10_000),
  assets: intArg('assets', 10, 100_000),
  connections: intArg('connections', 1, 64),
  batchSize: intArg('batch-size', 1, 1_000_000),
  flushMs: intArg('flush-ms', 10, 600_000),
  inflight: intArg('inflight', 0, 65_535),
  systems: systems as SystemName[],
  rounds: intArg('rounds', 1, 20),
  json: argv.json === true,
  timeoutS: argv['timeout-s'] === 'auto' ? 0 : intArg('timeout-s', 30, 24 * 3600),
};
// auto: 2 min for set-up plus 4 min per round (a default round takes ~1.5 min)
if (opts.timeoutS === 0) opts.timeoutS = 120 + 240 * opts.rounds;
/** Latency phase: background readings = rate × (probing time + 3 s), so the load runs before, during and after the probes. */
const LT_MESSAGES = Math.round(opts.rate * ((opts.probes * opts.probeIntervalMs) / 1000 + 3));

const progress = (msg: string): void => void process.stderr.write(`[bench:peer] ${msg}\n`);

// ---------------------------------------------------------------------------
// cleanup: everything registered here runs once, newest first, on success, error, timeout or signal
// ---------------------------------------------------------------------------

/** Set on abort: the systems' dying words (their database went away first) are only noise then. */
let aborting = false;

const {
  children: forked,
  onCleanup,
  cleanupAll,
  cleaning,
  abort,
} = createCleanup({
  progress,
  abortStepMs: 15_000,
  timeoutS: opts.timeoutS,
  onAbort: () => {
    aborting = true;
  },
});

// ---------------------------------------------------------------------------
// small helpers
// ---------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const codes = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `PEER-${prefix}-${String(i + 1).padStart(5, '0')}`);
const ASSETS = {
  ping: codes('PING', 1),
  warm: codes('WU', WARM_ASSETS),
  tp: codes('TP', opts.assets),
  lt: codes('LT', opts.assets),
  probe: codes('PR', opts.probes),
};

/** Per-asset timestamps span ceil(n/A) × step and end 10 min before now (unique, in the past). */
const baseTs = (n: number, assets: number, stepMs: number): number => Date.now() - 10 * 60_000 - Math.ceil(n / assets) * stepMs;

// ---------------------------------------------------------------------------
// /proc: CPU and RSS of process trees (Linux; zeros elsewhere)
// ---------------------------------------------------------------------------

interface ProcRow {
  ppid: number;
  comm: string;
  /** utime + stime + cutime + cstime, in clock ticks (USER_HZ = 100) */
  ticks: number;
  rssBytes: number;
}

function procTable(): Map<number, ProcRow> {
  const rows = new Map<number, ProcRow>();
  let dirs: string[];
  try {
    dirs = readdirSync('/proc');
  } catch {
    return rows;
  }
  for (const d of dirs) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const f = stat.slice(close + 2).split(' ');
    rows.set(Number(d), {
      ppid: Number(f[1]),
      comm: stat.slice(stat.indexOf('(') + 1, close),
      ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]),
      rssBytes: Number(f[21]) * 4096,
    });
  }
  return rows;
}

function subtree(rows: Map<number, ProcRow>, root: number): number[] {
  const kids = new Map<number, number[]>();
  for (const [pid, r] of rows) kids.set(r.ppid, [...(kids.get(r.ppid) ?? []), pid]);
  const out: number[] = [];
  const walk = (pid: number): void => {
    if (!rows.has(pid)) return;
    out.push(pid);
    for (const k of kids.get(pid) ?? []) walk(k);
  };
  walk(root);
  return out;
}

/** Busy CPU seconds of the whole machine (/proc/stat: all but idle and iowait). */
function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return (f.reduce((a, b) => a + b, 0) - (f[3] ?? 0) - (f[4] ?? 0)) / 100;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds: the system's process tree; influxd / postgres / mosquitto started by this process;
 * `bench` = this process + the publisher child; and `others` = everything else on the machine (other
 * users' work competes for the same cores: the figures are only comparable when it stays small).
 */
function cpuSnapshot(systemPid: number | undefined): Record<string, number> {
  const rows = procTable();
  const out: Record<string, number> = { system: 0, influxd: 0, postgres: 0, mosquitto: 0, bench: 0, others: 0 };
  const sys = new Set(systemPid !== undefined ? subtree(rows, systemPid) : []);
  let mine = 0;
  for (const pid of subtree(rows, process.pid)) {
    const r = rows.get(pid)!;
    const s = r.ticks / 100;
    mine += s;
    if (sys.has(pid)) out.system! += s;
    else if (r.comm === 'influxd' || r.comm === 'postgres' || r.comm === 'mosquitto') out[r.comm]! += s;
    // this process, the publisher child and whatever it already reaped (its cutime/cstime)
    else out.bench! += s;
  }
  out.others = machineBusySeconds() - mine;
  return out;
}

function rssOf(systemPid: number): number {
  const rows = procTable();
  return subtree(rows, systemPid).reduce((s, pid) => s + rows.get(pid)!.rssBytes, 0);
}

// ---------------------------------------------------------------------------
// guarded child processes: a tiny sh wrapper holds a pipe from this process; when the pipe closes
// (stop(), or this process dying in any way, even SIGKILL) it sends SIGTERM, then SIGKILL after 10 s
// ---------------------------------------------------------------------------

const GUARD_SCRIPT = [
  'exec 3<&0',
  '"$@" </dev/null &',
  'p=$!',
  '( read -r _ <&3; kill -TERM $p 2>/dev/null; i=0; while kill -0 $p 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; kill -KILL $p 2>/dev/null ) &',
  'w=$!',
  'exec 3<&-',
  'wait $p; rc=$?',
  'kill $w 2>/dev/null',
  'exit $rc',
].join('\n');

interface Guarded {
  /** pid of the wrapper; the real process is its child (use subtree() for accounting). */
  pid: number;
  running(): boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

function spawnGuarded(name: string, cmd: string, args: string[], o: { env: Record<string, string>; cwd?: string; onLine?: (line: string, stream: 'stdout' | 'stderr') => void }): Guarded {
  const child = spawn('/bin/sh', ['-c', GUARD_SCRIPT, `peer-guard-${name}`, cmd, ...args], { env: o.env, cwd: o.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => undefined);
  for (const stream of ['stdout', 'stderr'] as const) {
    let buf = '';
    child[stream].setEncoding('utf8');
    child[stream].on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        o.onLine?.(buf.slice(0, i), stream);
        buf = buf.slice(i + 1);
      }
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  const stop = async (): Promise<void> => {
    if (done) return;
    child.stdin.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  };
  onCleanup(`stop ${name}`, stop);
  return { pid: child.pid!, running: () => !done, exited, stop };
}

// ---------------------------------------------------------------------------
// InfluxDB
// ---------------------------------------------------------------------------

let INFLUX_URL = '';

const influxQl = (db: string | undefined, q: string, method: 'GET' | 'POST' = 'GET') => harnessInfluxQl(INFLUX_URL, db, q, method);

async function influxCount(db: string, measurement: string, field: string, site: string): Promise<number> {
  const series = await influxQl(db, `SELECT count("${field}") FROM "${measurement}" WHERE "site" = '${site}'`);
  const v = series[0]?.values[0]?.[1];
  return typeof v === 'number' ? v : 0;
}

// ---------------------------------------------------------------------------
// Mosquitto (own config: the tests' private broker keeps max_queued_messages at 1000, which drops
// QoS 1 messages for a consumer that falls behind — a benchmark must not lose them)
// ---------------------------------------------------------------------------

async function startMosquitto(): Promise<{ url: string; pid: number }> {
  const bin = findMosquittoBinary();
  if (!bin) throw new Error('needs Mosquitto (apt-get install mosquitto)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'peer-mosquitto-'));
  onCleanup('remove Mosquitto dir', () => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_queued_messages 0',
      `max_inflight_messages ${opts.inflight}`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
    ].join('\n') + '\n',
  );
  // as root, mosquitto drops to the `mosquitto` user after reading its config
  const lines: string[] = [];
  const g = spawnGuarded('mosquitto', bin, ['-c', conf], { env: { PATH: process.env.PATH ?? '' }, onLine: (l) => lines.push(l) });
  const url = `mqtt://127.0.0.1:${port}`;
  for (const until = Date.now() + 15_000; ; ) {
    try {
      const c = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 2_000 });
      await c.endAsync(true);
      break;
    } catch (err) {
      if (!g.running() || Date.now() > until) throw new Error(`Mosquitto did not start: ${(err as Error).message}\n${lines.slice(-20).join('\n')}`);
      await sleep(100);
    }
  }
  return { url, pid: g.pid };
}

// ---------------------------------------------------------------------------
// the two systems
// ---------------------------------------------------------------------------

interface SystemHandle {
  name: SystemName;
  pid: number;
  influxDb: string;
  running(): boolean;
  stop(): Promise<void>;
  /** Rule decisions (alarm episodes) recorded for a site. */
  decisions(site: string): Promise<number>;
  /** Probe assets whose decision a reader can see now. */
  visibleProbes(): Promise<string[]>;
  /** asset → decision committed (ms since the probe reading's ts = its publish time). */
  committedLatencies(): Promise<Map<string, number>>;
  logTail(): string[];
}

async function startOurs(databaseUrl: string, mqttUrl: string): Promise<SystemHandle> {
  const db = await createTestDatabase(databaseUrl);
  onCleanup('drop PostgreSQL database', () => db.drop());
  const influxDb = `peer_ours_${randomBytes(5).toString('hex')}`;
  onCleanup('drop InfluxDB database (ours)', async () => void (await influxQl(undefined, `DROP DATABASE "${influxDb}"`, 'POST')));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'peer-ours-'));
  onCleanup('remove data dir (ours)', () => rmSync(dataDir, { recursive: true, force: true }));

  // seed before the service starts (migrations applied by openDatabase): sites, pumps, one rule
  const logger = pino({ level: 'warn' }, pino.destination({ dest: 2, sync: true }));
  const database = await openDatabase({ databaseUrl: db.url, dataDir, logger });
  try {
    const prisma = database.prisma;
    for (const [key, site] of Object.entries(SITES) as [keyof typeof SITES, string][]) {
      const s = await prisma.site.create({ data: { code: site, name: site } });
      const list = ASSETS[key];
      for (let i = 0; i < list.length; i += 1000) {
        await prisma.asset.createMany({ data: list.slice(i, i + 1000).map((code) => ({ code, name: code, type: 'pump', siteId: s.id })) });
      }
    }
    await prisma.rule.create({
      data: {
        name: 'Pump over-temperature',
        kind: 'threshold',
        assetType: 'pump',
        definition: { schemaVersion: 1, metric: 'temperature', operator: '>', value: 85, holdSeconds: 0, hysteresis: 0, consecutive: 1, severity: 'major', priority: 'high' },
      },
    });
  } finally {
    await database.close();
  }

  const httpPort = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    LOG_LEVEL: 'warn',
    ROLES: 'api,ingest,rules',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(httpPort),
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    INFLUX_URL,
    INFLUX_DATABASE: influxDb,
    MQTT_MODE: 'external',
    MQTT_URL: mqttUrl,
    MQTT_CLIENT_ID: `peer-ours-${process.pid}`,
    TELEMETRY_FLUSH_MS: String(opts.flushMs),
    TELEMETRY_BATCH_SIZE: String(opts.batchSize),
    INGEST_QUEUE_LIMIT: String(Math.min(10_000_000, opts.messages + LT_MESSAGES + 100_000)),
    STALE_AFTER_S: '0',
    AUTH_MODE: 'off',
    RATE_LIMIT_PER_MIN: '0',
  };
  const log: string[] = [];
  const g = spawnGuarded('platform', process.execPath, ['--import', tsxImport(), path.join(ROOT, 'main.ts')], {
    env,
    onLine: (l) => {
      log.push(l);
      if (log.length > 200) log.shift();
      if (!aborting && (/"level":(50|60)/.test(l) || /error/i.test(l))) progress(`ours: ${l.slice(0, 300)}`);
    },
  });
  for (const until = Date.now() + 60_000; ; await sleep(200)) {
    if (!g.running()) throw new Error(`our platform exited during start-up:\n${log.slice(-20).join('\n')}`);
    if (Date.now() > until) throw new Error(`our platform did not become healthy within 60 s:\n${log.slice(-20).join('\n')}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/health`, { signal: AbortSignal.timeout(2_000) });
      const body = (await res.json()) as { components?: { broker?: { ok?: boolean } } };
      if (body.components?.broker?.ok) break;
    } catch {
      /* not up yet */
    }
  }
  const client = new pg.Client({ connectionString: db.url });
  client.on('error', () => undefined);
  await client.connect();
  onCleanup('close PostgreSQL observer', () => client.end().catch(() => undefined));
  const bySite = `FROM work_orders w JOIN assets a ON a.id = w.asset_id JOIN sites s ON s.id = a.site_id WHERE s.code = $1`;
  return {
    name: 'ours',
    pid: g.pid,
    influxDb,
    running: g.running,
    stop: g.stop,
    async decisions(site) {
      // alarms (one per episode; a work order stays open across episodes of one asset, alarms do not)
      const r = await client.query<{ n: string }>('SELECT count(*) AS n FROM alarms al JOIN assets a ON a.id = al.asset_id JOIN sites s ON s.id = a.site_id WHERE s.code = $1', [site]);
      return Number(r.rows[0]?.n ?? 0);
    },
    async visibleProbes() {
      const r = await client.query<{ code: string }>(`SELECT a.code ${bySite}`, [SITES.probe]);
      return r.rows.map((x) => x.code);
    },
    async committedLatencies() {
      const r = await client.query<{ code: string; ms: number }>(`SELECT a.code, (EXTRACT(EPOCH FROM (w.created_at - w.requested_at)) * 1000)::float8 AS ms ${bySite}`, [SITES.probe]);
      return new Map(r.rows.map((x) => [x.code, Number(x.ms)]));
    },
    logTail: () => log.slice(-20),
  };
}

async function ensureNodeRedInstalled(): Promise<void> {
  if (existsSync(NR_MAIN) && existsSync(path.join(NR_DIR, 'node_modules', 'node-red-contrib-influxdb', 'influxdb.js'))) return;
  progress(`installing Node-RED into ${path.relative(ROOT, NR_DIR)}node_modules (npm ci, first run only)`);
  const npm = spawn('npm', ['ci', '--prefix', NR_DIR, '--no-audit', '--no-fund'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  const code = await new Promise<number | null>((resolve, reject) => {
    npm.once('error', reject);
    npm.once('exit', (c) => resolve(c));
  });
  if (code !== 0 || !existsSync(NR_MAIN)) throw new Error(`npm ci --prefix ${NR_DIR} failed (exit ${code})`);
}

async function startNodeRed(mqttUrl: string): Promise<SystemHandle> {
  await ensureNodeRedInstalled();
  const influxDb = `peer_nodered_${randomBytes(5).toString('hex')}`;
  await influxQl(undefined, `CREATE DATABASE "${influxDb}"`, 'POST');
  onCleanup('drop InfluxDB database (Node-RED)', async () => void (await influxQl(undefined, `DROP DATABASE "${influxDb}"`, 'POST')));
  const userDir = mkdtempSync(path.join(os.tmpdir(), 'peer-nodered-'));
  onCleanup('remove Node-RED user dir', () => rmSync(userDir, { recursive: true, force: true }));
  copyFileSync(path.join(NR_DIR, 'flows.json'), path.join(userDir, 'flows.json'));
  const broker = new URL(mqttUrl);
  const influx = new URL(INFLUX_URL);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: userDir,
    PEER_MQTT_HOST: broker.hostname,
    PEER_MQTT_PORT: broker.port,
    PEER_INFLUX_HOST: influx.hostname,
    PEER_INFLUX_PORT: influx.port || '8086',
    PEER_INFLUX_DB: influxDb,
    PEER_BATCH_SIZE: String(opts.batchSize),
    PEER_BATCH_TIMEOUT_S: String(opts.flushMs / 1000),
  };
  const port = await freePort();
  const log: string[] = [];
  let connected = false;
  const g = spawnGuarded('node-red', process.execPath, [NR_MAIN, '-s', path.join(NR_DIR, 'settings.js'), '-u', userDir, '-p', String(port), 'flows.json'], {
    env,
    cwd: NR_DIR,
    onLine: (l) => {
      log.push(l);
      if (log.length > 200) log.shift();
      if (/Connected to broker/.test(l)) connected = true;
      if (!aborting && /\[(error|warn)\]/.test(l) && !/Using unencrypted credentials|Projects disabled/.test(l)) progress(`Node-RED: ${l.slice(0, 300)}`);
    },
  });
  for (const until = Date.now() + 60_000; !connected; await sleep(100)) {
    if (!g.running()) throw new Error(`Node-RED exited during start-up:\n${log.slice(-20).join('\n')}`);
    if (Date.now() > until) throw new Error(`Node-RED did not connect to the broker within 60 s:\n${log.slice(-20).join('\n')}`);
  }
  return {
    name: 'nodered',
    pid: g.pid,
    influxDb,
    running: g.running,
    stop: g.stop,
    decisions: (site) => influxCount(influxDb, 'alarm', 'decidedAt', site),
    async visibleProbes() {
      const series = await influxQl(influxDb, `SELECT "readingTs", "asset" FROM "alarm" WHERE "site" = '${SITES.probe}'`);
      const s = series[0];
      if (!s) return [];
      const col = s.columns.indexOf('asset');
      return s.values.map((v) => String(v[col]));
    },
    async committedLatencies() {
      const series = await influxQl(influxDb, `SELECT "readingTs", "decidedAt", "asset" FROM "alarm" WHERE "site" = '${SITES.probe}'`);
      const s = series[0];
      if (!s) return new Map();
      const [iR, iD, iA] = ['readingTs', 'decidedAt', 'asset'].map((c) => s.columns.indexOf(c)) as [number, number, number];
      return new Map(s.values.map((v) => [String(v[iA]), Number(v[iD]) - Number(v[iR])]));
    },
    logTail: () => log.slice(-20),
  };
}

// ---------------------------------------------------------------------------
// load
// ---------------------------------------------------------------------------

/** The shared load generator (bench/publisher.ts) at QoS 1, tracked for cleanup. */
const startPublisher = (job: PublisherJob): ReturnType<typeof startHarnessPublisher> =>
  startHarnessPublisher(job, 'peer', {
    onChild: (child) => {
      forked.add(child);
      child.once('exit', () => forked.delete(child));
    },
  });

const jobFor = (url: string, site: string, assets: string[], messages: number, rate: number): PublisherJob => ({
  url,
  site,
  assets,
  messages,
  connections: Math.min(opts.connections, assets.length),
  rate,
  baseTs: baseTs(messages, assets.length, 100),
  tsStepMs: 100,
  clientIdPrefix: `peer-load-${site}`,
  ruleEvents: true,
  qos: 1,
});

/** Waits until `count()` reaches `target`; gives up after `stallMs` without progress once `settled()` is true. */
async function waitForCount(count: () => Promise<number>, target: number, settled: () => boolean, everyMs: number, stallMs = 10_000): Promise<{ n: number; at: number; complete: boolean }> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const n = await count();
    const at = Date.now();
    if (n >= target) return { n, at, complete: n === target };
    if (n !== last || !settled()) {
      last = n;
      lastChange = at;
    } else if (at - lastChange > stallMs) return { n, at, complete: false };
    await sleep(everyMs);
  }
}

/** Proves the whole path works (subscription active, writes land) and warms it up, like a running system would be. */
async function warmUp(sys: SystemHandle, mqttUrl: string): Promise<void> {
  const c: MqttClient = await mqtt.connectAsync(mqttUrl, { protocolVersion: 4, clientId: `peer-warm-${process.pid}`, reconnectPeriod: 0 });
  try {
    // a reading every 200 ms until one arrives (the consumer's SUBSCRIBE may still be in flight)
    for (const until = Date.now() + 30_000; (await influxCount(sys.influxDb, 'telemetry', 'temperature', SITES.ping)) === 0; ) {
      if (Date.now() > until) throw new Error(`${LABEL[sys.name]}: no reading arrived in InfluxDB within 30 s of its start\n${sys.logTail().join('\n')}`);
      await c.publishAsync(`plant/${SITES.ping}/${ASSETS.ping[0]}/telemetry`, JSON.stringify({ ts: Date.now(), metrics: { temperature: 20 } }), { qos: 1 });
      await sleep(200);
    }
    const base = baseTs(WARM_MESSAGES, WARM_ASSETS, 100);
    for (let k = 0; k < WARM_MESSAGES; k++) {
      const i = k % WARM_ASSETS;
      c.publish(`plant/${SITES.warm}/${ASSETS.warm[i]}/telemetry`, payloadFor(i, Math.floor(k / WARM_ASSETS), base, 100), { qos: 1 });
    }
    // one normal reading from every probe asset: the probes then hit known, reporting assets (as a real
    // overheating machine would), not cold asset lookups
    const probeBase = Date.now() - 60_000;
    ASSETS.probe.forEach((code, k) => c.publish(`plant/${SITES.probe}/${code}/telemetry`, JSON.stringify({ ts: probeBase + k, metrics: { temperature: 60, vibration: 2, pressure: 5, runHours: 480 } }), { qos: 1 }));
    const r = await waitForCount(() => influxCount(sys.influxDb, 'telemetry', 'temperature', SITES.warm), WARM_MESSAGES, () => true, 100);
    if (!r.complete) throw new Error(`${LABEL[sys.name]}: warm-up incomplete (${r.n} of ${WARM_MESSAGES} readings in InfluxDB)`);
    const p = await waitForCount(() => influxCount(sys.influxDb, 'telemetry', 'temperature', SITES.probe), ASSETS.probe.length, () => true, 100);
    if (!p.complete) throw new Error(`${LABEL[sys.name]}: warm-up incomplete (${p.n} of ${ASSETS.probe.length} probe-asset readings in InfluxDB)`);
  } finally {
    await c.endAsync(false).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------
// phases
// ---------------------------------------------------------------------------

interface ThroughputResult {
  messages: number;
  complete: boolean;
  influxCount: number;
  lost: number;
  duplicated: number;
  seconds: number;
  msgsPerS: number;
  publisher: PublisherReport & { msgsPerS: number; allAckedAfterS: number };
  episodes: { expected: number; recorded: number };
  cpuSeconds: Record<string, number>;
  systemCores: number;
  rssPeakMb: number;
}

function rssTracker(pid: number): { peak(): number; stop(): void } {
  let peak = rssOf(pid);
  const t = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 200);
  return { peak: () => peak, stop: () => clearInterval(t) };
}

async function throughput(sys: SystemHandle, mqttUrl: string): Promise<ThroughputResult> {
  const N = opts.messages;
  const pub = await startPublisher(jobFor(mqttUrl, SITES.tp, ASSETS.tp, N, 0));
  progress(`${LABEL[sys.name]}: throughput — ${fmt(N)} readings, QoS 1, unthrottled`);
  const rss = rssTracker(sys.pid);
  const cpu0 = cpuSnapshot(sys.pid);
  const wall0 = Date.now();
  let report: PublisherReport | undefined;
  let pubError: unknown;
  const pubDone = pub.go().then(
    (r) => (report = r),
    (e: unknown) => (pubError = e),
  );
  const r = await waitForCount(
    async () => {
      if (pubError) throw pubError;
      if (!sys.running()) throw new Error(`${LABEL[sys.name]} exited during the run:\n${sys.logTail().join('\n')}`);
      return influxCount(sys.influxDb, 'telemetry', 'temperature', SITES.tp);
    },
    N,
    () => report !== undefined,
    100,
  );
  await pubDone;
  if (pubError) throw pubError;
  const cpu = cpuDelta(cpu0, cpuSnapshot(sys.pid));
  const wallS = (Date.now() - wall0) / 1000;
  rss.stop();
  const rep = report!;
  // a few more seconds for late/duplicate points and for the rule's alarms to be committed
  await sleep(1000);
  const finalCount = await influxCount(sys.influxDb, 'telemetry', 'temperature', SITES.tp);
  const seconds = Math.max(0.001, (r.at - rep.startedAt) / 1000);
  return {
    messages: N,
    complete: r.complete && finalCount === N,
    influxCount: finalCount,
    lost: Math.max(0, N - finalCount),
    duplicated: Math.max(0, finalCount - N),
    seconds: round(seconds, 3),
    msgsPerS: round(Math.min(N, r.n) / seconds),
    publisher: { ...rep, msgsPerS: round(rep.sent / Math.max(0.001, (rep.endedAt - rep.startedAt) / 1000)), allAckedAfterS: round((rep.ackedAt - rep.startedAt) / 1000, 2) },
    episodes: { expected: expectedEpisodes(N, opts.assets), recorded: await sys.decisions(SITES.tp) },
    cpuSeconds: cpu,
    systemCores: round((cpu.system ?? 0) / Math.max(0.001, wallS), 2),
    rssPeakMb: round(rss.peak() / 2 ** 20, 1),
  };
}

interface LatencyResult {
  rate: number;
  loadMessages: number;
  achievedRate: number;
  probes: number;
  committed: LatencySummary;
  visible: LatencySummary;
  /** every probe's latency in ms, for pooling over rounds */
  samples: { committed: number[]; visible: number[] };
  probesWithoutDecision: number;
  loadCount: number;
  loadLost: number;
  episodes: { expected: number; recorded: number };
  cpuSeconds: Record<string, number>;
  rssPeakMb: number;
}

async function latency(sys: SystemHandle, mqttUrl: string): Promise<LatencyResult> {
  const M = LT_MESSAGES;
  const pub = await startPublisher(jobFor(mqttUrl, SITES.lt, ASSETS.lt, M, opts.rate));
  const probe: MqttClient = await mqtt.connectAsync(mqttUrl, { protocolVersion: 4, clientId: `peer-probe-${process.pid}`, reconnectPeriod: 0 });
  onCleanup('probe client', () => probe.endAsync(true).catch(() => undefined));
  progress(`${LABEL[sys.name]}: latency — ${fmt(opts.rate)} readings/s background (${fmt(M)}), ${opts.probes} alarm probes every ${opts.probeIntervalMs} ms`);
  const rss = rssTracker(sys.pid);
  const cpu0 = cpuSnapshot(sys.pid);
  let report: PublisherReport | undefined;
  let pubError: unknown;
  const pubDone = pub.go().then(
    (r) => (report = r),
    (e: unknown) => (pubError = e),
  );
  const sentAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  let probing = true;
  const observer = (async () => {
    let quietSince: number | undefined;
    for (;;) {
      const seen = await sys.visibleProbes();
      const at = Date.now();
      for (const code of seen) if (!seenAt.has(code)) seenAt.set(code, at);
      if (!probing && seenAt.size >= sentAt.size) return;
      if (!probing) {
        quietSince ??= at;
        if (at - quietSince > 15_000) return;
      }
      await sleep(OBSERVE_EVERY_MS);
    }
  })();
  await sleep(1500); // past the load's start
  const t0 = Date.now();
  for (let k = 0; k < opts.probes; k++) {
    const due = t0 + k * opts.probeIntervalMs;
    if (due > Date.now()) await sleep(due - Date.now());
    const code = ASSETS.probe[k]!;
    const ts = Date.now();
    sentAt.set(code, ts);
    probe.publish(`plant/${SITES.probe}/${code}/telemetry`, JSON.stringify({ ts, metrics: { temperature: 90, vibration: 2, pressure: 5, runHours: 480 } }), { qos: 1 });
  }
  await pubDone;
  if (pubError) throw pubError;
  probing = false;
  await observer;
  const cpu = cpuDelta(cpu0, cpuSnapshot(sys.pid));
  rss.stop();
  const rep = report!;
  const load = await waitForCount(() => influxCount(sys.influxDb, 'telemetry', 'temperature', SITES.lt), M, () => true, 100);
  const committed = await sys.committedLatencies();
  const visible = [...seenAt].filter(([code]) => sentAt.has(code)).map(([code, at]) => at - sentAt.get(code)!);
  return {
    rate: opts.rate,
    loadMessages: M,
    achievedRate: round(rep.sent / Math.max(0.001, (rep.endedAt - rep.startedAt) / 1000)),
    probes: opts.probes,
    committed: summarize([...committed.values()]),
    visible: summarize(visible),
    samples: { committed: [...committed.values()], visible },
    probesWithoutDecision: opts.probes - committed.size,
    loadCount: load.n,
    loadLost: Math.max(0, M - load.n),
    episodes: { expected: expectedEpisodes(M, opts.assets), recorded: await sys.decisions(SITES.lt) },
    cpuSeconds: cpu,
    rssPeakMb: round(rss.peak() / 2 ** 20, 1),
  };
}

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------

interface SystemResult {
  throughput: ThroughputResult;
  latency: LatencyResult;
  startSeconds: number;
}

function machine(): Record<string, unknown> {
  let nodeRed = 'not installed';
  let contrib = 'not installed';
  try {
    nodeRed = (JSON.parse(readFileSync(path.join(NR_DIR, 'node_modules', 'node-red', 'package.json'), 'utf8')) as { version: string }).version;
    contrib = (JSON.parse(readFileSync(path.join(NR_DIR, 'node_modules', 'node-red-contrib-influxdb', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    /* not installed */
  }
  return { ...harnessMachine(), nodeRed, nodeRedContribInfluxdb: contrib };
}

const ratio = (a: number | null | undefined, b: number | null | undefined, digits = 2): number | null => (a && b ? round(a / b, digits) : null);

/** One system over all rounds: throughput mean (and per round), latency pooled over every probe. */
interface Aggregate {
  rounds: number;
  msgsPerS: number;
  msgsPerSRounds: number[];
  lost: number;
  duplicated: number;
  committed: LatencySummary;
  visible: LatencySummary;
  probesWithoutDecision: number;
  episodesOk: boolean;
  cpuSystemS: number;
  rssPeakMb: number;
  otherCores: number;
}

function aggregate(rounds: SystemResult[]): Aggregate {
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    rounds: rounds.length,
    msgsPerS: round(mean(rounds.map((r) => r.throughput.msgsPerS))),
    msgsPerSRounds: rounds.map((r) => r.throughput.msgsPerS),
    lost: rounds.reduce((a, r) => a + r.throughput.lost + r.latency.loadLost, 0),
    duplicated: rounds.reduce((a, r) => a + r.throughput.duplicated, 0),
    committed: summarize(rounds.flatMap((r) => r.latency.samples.committed)),
    visible: summarize(rounds.flatMap((r) => r.latency.samples.visible)),
    probesWithoutDecision: rounds.reduce((a, r) => a + r.latency.probesWithoutDecision, 0),
    episodesOk: rounds.every((r) => r.throughput.episodes.recorded === r.throughput.episodes.expected && r.latency.episodes.recorded === r.latency.episodes.expected),
    cpuSystemS: round(mean(rounds.map((r) => r.throughput.cpuSeconds.system ?? 0)), 2),
    rssPeakMb: Math.max(...rounds.map((r) => Math.max(r.throughput.rssPeakMb, r.latency.rssPeakMb))),
    otherCores: round(mean(rounds.map((r) => (r.throughput.cpuSeconds.others ?? 0) / Math.max(0.001, r.throughput.seconds))), 2),
  };
}

function ratios(o: Aggregate, n: Aggregate): Record<string, number | null> {
  return {
    throughputOursOverNodeRed: ratio(o.msgsPerS, n.msgsPerS),
    decisionP50NodeRedOverOurs: ratio(n.committed.p50Ms, o.committed.p50Ms),
    decisionP99NodeRedOverOurs: ratio(n.committed.p99Ms, o.committed.p99Ms),
    queryableP50NodeRedOverOurs: ratio(n.visible.p50Ms, o.visible.p50Ms),
    queryableP99NodeRedOverOurs: ratio(n.visible.p99Ms, o.visible.p99Ms),
  };
}

function summaryRows(a: Partial<Record<SystemName, Aggregate>>): { name: string; value: number | string; unit: string; target?: string }[] {
  const o = a.ours;
  const n = a.nodered;
  const rows: { name: string; value: number | string; unit: string; target?: string }[] = [];
  const lat = (s: LatencySummary | undefined): string => (s ? `${fmt(s.p50Ms, 1)} / ${fmt(s.p99Ms, 1)}` : 'n/a');
  const r = o && n ? ratios(o, n) : undefined;
  if (o) rows.push({ name: 'Node-RED peer: our throughput (MQTT QoS 1 → rule → InfluxDB)', value: o.msgsPerS, unit: 'msgs/s' });
  if (n) rows.push({ name: 'Node-RED peer: Node-RED throughput (same broker, data, influxd)', value: n.msgsPerS, unit: 'msgs/s' });
  if (r) rows.push({ name: 'Node-RED peer: throughput ratio (ours ÷ Node-RED)', value: r.throughputOursOverNodeRed ?? 'n/a', unit: '×' });
  if (o) rows.push({ name: `Node-RED peer: our alarm latency p50 / p99 at ${fmt(opts.rate)}/s (publish → work order committed)`, value: lat(o.committed), unit: 'ms' });
  if (n) rows.push({ name: `Node-RED peer: Node-RED alarm latency p50 / p99 at ${fmt(opts.rate)}/s (publish → decision in function node)`, value: lat(n.committed), unit: 'ms' });
  if (r) rows.push({ name: 'Node-RED peer: alarm latency ratio p99 (Node-RED ÷ ours; > 1 = ours faster)', value: r.decisionP99NodeRedOverOurs ?? 'n/a', unit: '×' });
  if (o && n && r) {
    rows.push({ name: 'Node-RED peer: publish → alarm queryable p99, ours / Node-RED (reader polls every 10 ms)', value: `${fmt(o.visible.p99Ms, 1)} / ${fmt(n.visible.p99Ms, 1)}`, unit: 'ms' });
    rows.push({ name: 'Node-RED peer: alarm queryable latency ratio p99 (Node-RED ÷ ours; > 1 = ours faster)', value: r.queryableP99NodeRedOverOurs ?? 'n/a', unit: '×' });
  }
  const loss = (s: Aggregate | undefined): string => (s ? `${s.lost} pts, ${s.probesWithoutDecision} alarms` : 'n/a');
  rows.push({ name: 'Node-RED peer: lost points / missing probe alarms (ours; Node-RED)', value: `${loss(o)}; ${loss(n)}`, unit: '' });
  const res = (s: Aggregate | undefined): string => (s ? `${fmt(s.cpuSystemS, 1)} CPU s, ${fmt(s.rssPeakMb)} MB` : 'n/a');
  rows.push({ name: 'Node-RED peer: CPU in the throughput run / RSS peak (ours; Node-RED)', value: `${res(o)}; ${res(n)}`, unit: '' });
  const others = Math.max(o?.otherCores ?? 0, n?.otherCores ?? 0);
  rows.push({ name: 'Node-RED peer: other processes on the machine during the throughput runs (max)', value: others, unit: 'cores', target: '≈ 0 for clean figures' });
  return rows;
}

function printHuman(m: Record<string, unknown>, r: Partial<Record<SystemName, SystemResult>>, title: string, cols: SystemName[]): void {
  const L = (label: string, f: (s: SystemResult) => string, note = ''): void =>
    console.log(`  ${label.padEnd(44)}${cols.map((c) => (r[c] ? f(r[c]) : 'n/a').padStart(22)).join('')}  ${note}`);
  console.log(`\n${title}Node-RED peer benchmark — same Mosquitto (max_inflight_messages ${opts.inflight}, no queue limit), same influxd, same data; one system at a time`);
  console.log(`machine: ${String(m.cpu)} × ${String(m.cores)} cores, ${String(m.memGiB)} GiB, Node ${String(m.node)}, CPU gauge ${Number(m.cpuGauge).toLocaleString('en')} evaluate()/s; Node-RED ${String(m.nodeRed)}, node-red-contrib-influxdb ${String(m.nodeRedContribInfluxdb)}`);
  console.log(`batching: ${opts.batchSize} points or ${opts.flushMs} ms (ours: TELEMETRY_BATCH_SIZE / TELEMETRY_FLUSH_MS; Node-RED: join node count / timeout → influxdb batch)`);
  console.log(`\n  ${''.padEnd(44)}${cols.map((c) => LABEL[c].padStart(22)).join('')}`);
  console.log(`Throughput: ${fmt(opts.messages)} readings over ${opts.assets} assets, ${opts.connections} publisher connections, QoS 1, unthrottled`);
  L('readings/s (first publish → N in InfluxDB)', (s) => fmt(s.throughput.msgsPerS));
  L('elapsed', (s) => `${fmt(s.throughput.seconds, 2)} s`);
  L('publisher: own rate / all PUBACKs after', (s) => `${fmt(s.throughput.publisher.msgsPerS)}/s, ${fmt(s.throughput.publisher.allAckedAfterS, 1)} s`);
  L('InfluxDB count(temperature)', (s) => `${fmt(s.throughput.influxCount)} ${s.throughput.influxCount === opts.messages ? '✓' : '✗'}`, `of ${fmt(opts.messages)}`);
  L('alarm episodes recorded / expected', (s) => `${s.throughput.episodes.recorded} / ${s.throughput.episodes.expected}`);
  L('CPU s: system', (s) => `${fmt(s.throughput.cpuSeconds.system, 1)} (${fmt(s.throughput.systemCores, 2)} cores)`);
  L('CPU s: influxd / mosquitto / postgres', (s) => `${fmt(s.throughput.cpuSeconds.influxd, 1)} / ${fmt(s.throughput.cpuSeconds.mosquitto, 1)} / ${fmt(s.throughput.cpuSeconds.postgres, 1)}`);
  L('CPU s: bench+publisher / others', (s) => `${fmt(s.throughput.cpuSeconds.bench, 1)} / ${fmt(s.throughput.cpuSeconds.others, 1)}`, 'others = processes not started by this bench (should be ~0)');
  L('RSS peak (system)', (s) => `${fmt(s.throughput.rssPeakMb)} MB`);
  console.log(`Latency: background ${fmt(opts.rate)} readings/s (${fmt(LT_MESSAGES)}), ${opts.probes} alarm probes (temperature 90: a new episode on its own, warmed-up asset) every ${opts.probeIntervalMs} ms`);
  L('achieved background rate', (s) => `${fmt(s.latency.achievedRate)}/s`);
  L('publish → decision committed p50 / p99', (s) => `${fmt(s.latency.committed.p50Ms, 1)} / ${fmt(s.latency.committed.p99Ms, 1)} ms`, 'ours: work order created_at; Node-RED: Date.now() in the function');
  L('  max, n', (s) => `${fmt(s.latency.committed.maxMs, 1)} ms, n=${s.latency.committed.n}`);
  L('publish → alarm queryable p50 / p99', (s) => `${fmt(s.latency.visible.p50Ms, 1)} / ${fmt(s.latency.visible.p99Ms, 1)} ms`, 'reader polls every 10 ms: PostgreSQL / InfluxDB');
  L('  max, n', (s) => `${fmt(s.latency.visible.maxMs, 1)} ms, n=${s.latency.visible.n}`);
  L('probes without a decision', (s) => String(s.latency.probesWithoutDecision));
  L('background points in InfluxDB', (s) => `${fmt(s.latency.loadCount)} ${s.latency.loadLost === 0 ? '✓' : '✗'}`, `of ${fmt(LT_MESSAGES)}`);
  L('alarm episodes recorded / expected', (s) => `${s.latency.episodes.recorded} / ${s.latency.episodes.expected}`);
  L('CPU s: system / RSS peak', (s) => `${fmt(s.latency.cpuSeconds.system, 1)} s / ${fmt(s.latency.rssPeakMb)} MB`);
  L('CPU s: others on the machine', (s) => fmt(s.latency.cpuSeconds.others, 1));
  L('start-up (start → healthy, warm-up done)', (s) => `${fmt(s.startSeconds, 1)} s`);
  const busy = cols.filter((c) => r[c] && (r[c].throughput.cpuSeconds.others ?? 0) / Math.max(0.001, r[c].throughput.seconds) > 0.25);
  if (busy.length) console.log(`  note: other processes on this machine used > 0.25 cores during the throughput run of ${busy.map((c) => LABEL[c]).join(' and ')}: the figures are contended`);
}

function printAggregate(a: Partial<Record<SystemName, Aggregate>>): void {
  const o = a.ours;
  const n = a.nodered;
  const rounds = (o ?? n)?.rounds ?? 0;
  console.log(`
${rounds > 1 ? `Over ${rounds} rounds (throughput: mean of the rounds; latency: all probes pooled)` : 'Summary'}`);
  for (const [name, s] of Object.entries(a) as [SystemName, Aggregate][]) {
    console.log(
      `  ${LABEL[name].padEnd(9)} ${fmt(s.msgsPerS).padStart(7)} readings/s${rounds > 1 ? ` (${s.msgsPerSRounds.map((x) => fmt(x)).join(', ')})` : ''}; decision p50/p99 ${fmt(s.committed.p50Ms, 1)} / ${fmt(s.committed.p99Ms, 1)} ms; ` +
        `queryable p50/p99 ${fmt(s.visible.p50Ms, 1)} / ${fmt(s.visible.p99Ms, 1)} ms (n=${s.visible.n}); lost ${s.lost}, duplicated ${s.duplicated}, probes without decision ${s.probesWithoutDecision}; episodes ${s.episodesOk ? 'as expected' : 'NOT as expected'}`,
    );
  }
  if (o && n) {
    const r = ratios(o, n);
    console.log(`  throughput ours ÷ Node-RED               ${fmt(r.throughputOursOverNodeRed, 2)}×`);
    console.log(`  decision latency p99 Node-RED ÷ ours      ${fmt(r.decisionP99NodeRedOverOurs, 2)}×  (> 1 = ours faster; p50 ${fmt(r.decisionP50NodeRedOverOurs, 2)}×)`);
    console.log(`  queryable latency p99 Node-RED ÷ ours     ${fmt(r.queryableP99NodeRedOverOurs, 2)}×  (p50 ${fmt(r.queryableP50NodeRedOverOurs, 2)}×)`);
  }
  console.log('');
}

async function main(): Promise<void> {
  if (opts.systems.includes('nodered')) await ensureNodeRedInstalled();
  const m = machine();
  // PostgreSQL + InfluxDB from the tests' service helper; Mosquitto our own (see startMosquitto)
  process.env.TEST_MOSQUITTO_URL ??= 'mqtt://127.0.0.1:1';
  progress('starting local PostgreSQL + InfluxDB + Mosquitto');
  const services = await startLocalServices();
  onCleanup('stop local services', () => services.stop());
  const { databaseUrl, influxUrl } = services.urls;
  if (!databaseUrl || !influxUrl) throw new Error(`needs PostgreSQL and InfluxDB: missing ${services.urls.missing.join(', ')} (or set TEST_DATABASE_URL / TEST_INFLUX_URL)`);
  INFLUX_URL = influxUrl;
  const broker = await startMosquitto();

  const perRound: { order: SystemName[]; results: Partial<Record<SystemName, SystemResult>> }[] = [];
  for (let round_ = 0; round_ < opts.rounds; round_++) {
    // alternate the order (A B, B A, …) so neither system always runs first on a warmer/cooler machine
    const order = round_ % 2 === 0 ? opts.systems : [...opts.systems].reverse();
    const results: Partial<Record<SystemName, SystemResult>> = {};
    for (const name of order) {
      progress(`${opts.rounds > 1 ? `round ${round_ + 1}/${opts.rounds}: ` : ''}${LABEL[name]}: starting`);
      const t0 = Date.now();
      const sys = name === 'ours' ? await startOurs(databaseUrl, broker.url) : await startNodeRed(broker.url);
      await warmUp(sys, broker.url);
      const startSeconds = round((Date.now() - t0) / 1000, 1);
      const tp = await throughput(sys, broker.url);
      progress(`${LABEL[name]}: ${fmt(tp.msgsPerS)} readings/s${tp.complete ? '' : ` — INCOMPLETE (${fmt(tp.influxCount)} of ${fmt(tp.messages)})`}`);
      const lt = await latency(sys, broker.url);
      progress(`${LABEL[name]}: decision latency p50 ${fmt(lt.committed.p50Ms, 1)} ms, p99 ${fmt(lt.committed.p99Ms, 1)} ms; stopping`);
      await sys.stop();
      results[name] = { throughput: tp, latency: lt, startSeconds };
    }
    perRound.push({ order, results });
  }

  const agg: Partial<Record<SystemName, Aggregate>> = {};
  for (const name of opts.systems) agg[name] = aggregate(perRound.map((r) => r.results[name]!));
  const result = {
    bench: 'peer',
    at: new Date().toISOString(),
    machine: m,
    options: { ...opts, latencyLoadMessages: LT_MESSAGES },
    rounds: perRound.map((r) => ({
      order: r.order,
      ...Object.fromEntries(Object.entries(r.results).map(([k, v]) => [k, { ...v, latency: { ...v.latency, samples: undefined, committedMs: v.latency.samples.committed, queryableMs: v.latency.samples.visible } }])),
    })),
    aggregate: agg,
    ratios: agg.ours && agg.nodered ? ratios(agg.ours, agg.nodered) : null,
    summary: summaryRows(agg),
  };
  if (opts.json) console.log(JSON.stringify(result));
  else {
    perRound.forEach((r, k) => printHuman(m, r.results, opts.rounds > 1 ? `Round ${k + 1} of ${opts.rounds}: ` : '', r.order));
    printAggregate(agg);
  }
  progress('cleaning up');
  await cleanupAll(20_000);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (!cleaning()) void abort(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1);
  },
);
