/**
 * npm run bench:rules — issue #4 benchmark (a script, not a test).
 *  A. Rule evaluations/s for 10,000 assets × 5 rules: the pure evaluate() core, and the engine
 *     (rule index, state cache, PGlite-backed state) fed in batches of 1,000 readings.
 *  B. Alarm reading → committed work order latency p50/p99 while the service ingests 10,000
 *     readings/s (separate publisher process) on real PostgreSQL + InfluxDB. Latency is the work
 *     order's database commit time (created_at) minus the probe reading's publish time, both on this
 *     machine's clock. Target p99 ≤ 50 ms.
 * Options: --assets 10000 --steps 20 --load-rate 10000 --load-seconds 20 --probes 300 --json
 */
import { fork } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import pg from 'pg';
import { pino } from 'pino';
import { startPlatform } from '../main.ts';
import { loadConfig } from '../platform/config.ts';
import { systemClock } from '../platform/clock.ts';
import { openDatabase } from '../platform/db/database.ts';
import { createRulesEngine, type EngineReading } from '../rules/engine.ts';
import { startLocalServices } from '../test/services/local-services.ts';
import { METRICS, pureEvaluations, RULES, value } from './cpu-gauge.ts';
import type { ChildMessage, ParentMessage, PublisherJob } from './publisher.ts';

const { values: argv } = parseArgs({
  options: {
    assets: { type: 'string', default: '10000' },
    steps: { type: 'string', default: '20' },
    'load-rate': { type: 'string', default: '10000' },
    'load-seconds': { type: 'string', default: '20' },
    probes: { type: 'string', default: '300' },
    json: { type: 'boolean', default: false },
  },
});
const ASSETS = Number(argv.assets);
const STEPS = Number(argv.steps);
const LOAD_RATE = Number(argv['load-rate']);
const LOAD_SECONDS = Number(argv['load-seconds']);
const PROBES = Number(argv.probes);
const logger = pino({ level: 'warn' });
const say = (m: string): void => void process.stderr.write(`[bench:rules] ${m}\n`);
const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

interface PartA {
  pureEvaluations: number;
  pureEvalsPerS: number;
  engineColdStepS: number;
  engineWarmEvalsPerS: number;
  engineReadingsPerS: number;
}

async function partA(): Promise<PartA> {
  const t0 = Date.now() - 3600_000;
  // pure core
  const pure = pureEvaluations(ASSETS, STEPS);
  const pureS = pure.seconds;

  // engine with state in an embedded database
  say(`engine: seeding ${ASSETS} assets × ${RULES.length} rules in PGlite`);
  const db = await openDatabase({ databaseUrl: undefined, dataDir: '', logger, inMemory: true });
  const site = await db.prisma.site.create({ data: { code: 'RB', name: 'RB' } });
  await db.prisma.asset.createMany({ data: Array.from({ length: ASSETS }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, code: `RB-${i}`, name: `RB-${i}`, type: 'pump', siteId: site.id })) });
  for (const r of RULES) await db.prisma.rule.create({ data: { name: r.name, kind: r.kind, assetType: 'pump', definition: r.definition as object } });
  let created = 0;
  const engine = createRulesEngine({
    prisma: db.prisma,
    clock: systemClock,
    logger,
    reloadMs: 3_600_000,
    effects: { requestWorkOrder: async () => ({ workOrder: { id: 'x', number: ++created }, created: true }), raiseAlarm: async () => undefined, clearAlarm: async () => undefined },
  });
  await engine.reload();
  const batchesPerStep = Math.ceil(ASSETS / 200);
  let coldS = 0;
  let warmS = 0;
  let warmEvals = 0;
  for (let step = 0; step < STEPS; step++) {
    const before = engine.stats().evaluations;
    const started = process.hrtime.bigint();
    for (let b = 0; b < batchesPerStep; b++) {
      const batch: EngineReading[] = [];
      for (let i = b * 200; i < Math.min(ASSETS, (b + 1) * 200); i++) {
        const ts = new Date(t0 + step * 1000);
        for (const metric of METRICS) batch.push({ assetId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, assetCode: `RB-${i}`, assetType: 'pump', metric, value: value(metric, i, step), ts });
      }
      await engine.onReadings(batch);
    }
    const s = Number(process.hrtime.bigint() - started) / 1e9;
    if (step === 0) coldS = s;
    else {
      warmS += s;
      warmEvals += engine.stats().evaluations - before;
    }
  }
  await engine.stop();
  await db.close();
  return {
    pureEvaluations: pure.evaluations,
    pureEvalsPerS: Math.round(pure.evaluations / pureS),
    engineColdStepS: Math.round(coldS * 1000) / 1000,
    engineWarmEvalsPerS: Math.round(warmEvals / warmS),
    engineReadingsPerS: Math.round(warmEvals / RULES.length / warmS),
  };
}

async function partB(): Promise<{ loadRate: number; loadAchievedPerS: number; probes: number; workOrders: number; p50Ms: number; p99Ms: number; maxMs: number }> {
  const services = await startLocalServices();
  try {
    if (!services.urls.databaseUrl || !services.urls.influxUrl) throw new Error(`part B needs PostgreSQL and InfluxDB: ${services.urls.missing.join(', ')}`);
    const admin = new pg.Client({ connectionString: services.urls.databaseUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE bench_rules');
    await admin.end();
    const dbUrl = services.urls.databaseUrl.replace(/\/[^/]*$/, '/bench_rules');
    const config = loadConfig({
      DATABASE_URL: dbUrl,
      INFLUX_URL: services.urls.influxUrl,
      INFLUX_DATABASE: 'bench_rules',
      HTTP_PORT: '0',
      INGEST_THREAD: 'off', // looks into the pipeline in this thread
      MQTT_PORT: '0',
      MQTT_AUTH: 'none',
      DATA_DIR: `/tmp/bench-rules-${process.pid}`,
      TELEMETRY_FLUSH_MS: '200',
      STALE_AFTER_S: '0',
      LOG_LEVEL: 'warn',
      INGEST_JOURNAL: process.env.INGEST_JOURNAL ?? 'on',
    });
    const platform = await startPlatform(config, { logger });
    try {
      const prisma = platform.db.prisma;
      const site = await prisma.site.create({ data: { code: 'RB', name: 'RB' } });
      const loadAssets = Array.from({ length: 200 }, (_, i) => `LOAD-${i}`);
      await prisma.asset.createMany({ data: loadAssets.map((code) => ({ code, name: code, type: 'pump', siteId: site.id })) });
      await prisma.asset.createMany({ data: Array.from({ length: PROBES }, (_, i) => ({ code: `PROBE-${i}`, name: `PROBE-${i}`, type: 'probe', siteId: site.id })) });
      for (const r of RULES.slice(0, 4)) await prisma.rule.create({ data: { name: r.name, kind: r.kind, assetType: 'pump', definition: r.definition as object } });
      const probeRule = await prisma.rule.create({
        data: { name: 'probe alarm', kind: 'threshold', assetType: 'probe', definition: { schemaVersion: 1, metric: 'alarmProbe', operator: '>', value: 0, holdSeconds: 0, hysteresis: 0, consecutive: 1, severity: 'critical', priority: 'urgent' } },
      });
      await platform.engine.reload();

      // background load in its own process
      const child = fork(fileURLToPath(new URL('./publisher.ts', import.meta.url)), [], { execArgv: ['--import', import.meta.resolve('tsx')], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const messages = LOAD_RATE * LOAD_SECONDS;
      const job: PublisherJob = { url: platform.mqttUrl!, site: 'RB', assets: loadAssets, messages, connections: 4, rate: LOAD_RATE, baseTs: Date.now() - 10 * 60_000 - (messages / 200) * 5, tsStepMs: 5, clientIdPrefix: 'load', ruleEvents: false };
      const events = new Map<string, () => void>();
      child.on('message', (m: ChildMessage) => events.get(m.type)?.());
      const wait = (type: string): Promise<void> => new Promise((r) => events.set(type, r));
      const ready = wait('ready');
      child.send({ type: 'run', ...job } satisfies ParentMessage);
      await ready;
      const done = wait('done');
      child.send({ type: 'go' } satisfies ParentMessage);
      const loadStart = Date.now();

      // probes: one alarm reading for a fresh asset every (load time / probes)
      const probe = await mqtt.connectAsync(platform.mqttUrl!, { protocolVersion: 4 });
      await new Promise((r) => setTimeout(r, 2000)); // past the warm-up
      const gap = Math.max(10, ((LOAD_SECONDS - 4) * 1000) / PROBES);
      for (let i = 0; i < PROBES; i++) {
        probe.publish(`plant/RB/PROBE-${i}/telemetry`, JSON.stringify({ ts: Date.now(), metrics: { alarmProbe: 1 } }), { qos: 0 });
        await new Promise((r) => setTimeout(r, gap));
      }
      await done;
      const loadSeconds = (Date.now() - loadStart) / 1000;
      child.send({ type: 'exit' } satisfies ParentMessage);
      await platform.pipeline!.drain();
      await probe.endAsync();
      const rows = await prisma.$queryRawUnsafe<{ ms: number }[]>(
        'SELECT EXTRACT(EPOCH FROM (created_at - requested_at)) * 1000 AS ms FROM work_orders WHERE rule_id = $1',
        probeRule.id,
      );
      const lat = rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
      const counters = platform.pipeline!.counters();
      return {
        loadRate: LOAD_RATE,
        loadAchievedPerS: Math.round(counters.accepted / loadSeconds),
        probes: PROBES,
        workOrders: lat.length,
        p50Ms: Math.round(quantile(lat, 0.5) * 10) / 10,
        p99Ms: Math.round(quantile(lat, 0.99) * 10) / 10,
        maxMs: Math.round((lat.at(-1) ?? NaN) * 10) / 10,
      };
    } finally {
      await platform.stop();
    }
  } finally {
    await services.stop();
  }
}

const a = await partA();
say('part B: alarm → work order latency under load');
const b = await partB();
const result = {
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  a,
  b,
  summary: [
    { name: 'Rules: pure evaluate() (10,000 assets × 5 rules)', value: a.pureEvalsPerS, unit: 'evaluations/s' },
    { name: 'Rules: engine with state cache, warm', value: a.engineWarmEvalsPerS, unit: 'evaluations/s' },
    { name: `Rules: alarm reading → committed work order p99 under ${b.loadRate.toLocaleString('en')} readings/s`, value: b.p99Ms, unit: 'ms', target: '≤ 50 ms', met: b.p99Ms <= 50 },
  ],
};
if (argv.json) console.log(JSON.stringify(result));
else {
  console.log(`Rules benchmark — ${ASSETS} assets × ${RULES.length} rules, ${STEPS} readings per asset and metric`);
  console.log(`machine: ${result.machine.cpu} × ${result.machine.cores}, ${result.machine.memGiB} GiB, Node ${result.machine.node}`);
  console.log(`  pure evaluate()                 ${a.pureEvalsPerS.toLocaleString('en')} evaluations/s (${a.pureEvaluations.toLocaleString('en')} evaluations)`);
  console.log(`  engine, warm state cache        ${a.engineWarmEvalsPerS.toLocaleString('en')} evaluations/s (= ${a.engineReadingsPerS.toLocaleString('en')} readings/s with 5 rules each)`);
  console.log(`  engine, first readings (cold)   ${a.engineColdStepS} s for one reading of each metric on ${ASSETS} assets (state loaded from the database)`);
  console.log(`Alarm reading → committed work order while ingesting ${b.loadRate}/s (achieved ${b.loadAchievedPerS}/s) on PostgreSQL + InfluxDB`);
  console.log(`  ${b.workOrders}/${b.probes} work orders   p50 ${b.p50Ms} ms   p99 ${b.p99Ms} ms   max ${b.maxMs} ms   (target p99 ≤ 50 ms)`);
}
process.exit(0);
