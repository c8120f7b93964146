/**
 * npm run bench:api — issue #9 load figure (a script, not a test): API latency of list and detail
 * endpoints at a fixed 1,000 requests/s while the same service ingests 10,000 readings/s over MQTT
 * into InfluxDB with the rules engine on, on PostgreSQL, with access control on (requests carry an
 * API key). The publisher and the open-loop HTTP load generator (bench/http-load.ts) run in their own
 * processes. Target: p99 ≤ 25 ms.
 *
 *   npm run bench:api -- [--rate 1000] [--ingest 10000] [--seconds 30] [--warmup 5] [--assets 1000]
 *                        [--orders 20000] [--cpu-prof FILE.cpuprofile] [--api-process] [--read-cache-ms N] [--writes N] [--json]
 *
 * --api-process: the requests go to a second service process with ROLES=api on the same database (the
 * deployment the ROLES setting is for), while this process keeps ingesting with ROLES=ingest,rules.
 * --read-cache-ms: READ_CACHE_MS of the serving process (0 = without the API read cache).
 * --writes N: also N work-order changes/s (PUT close-out on the orders being read), on top of --rate.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { slaDueTimes } from '../maintenance/sla.ts';
import { apiKeyHeader, forkTs, machine, machineLine, startBenchPlatform, startPublisher } from './harness.ts';
import type { HttpLoadJob, HttpLoadMessage } from './http-load.ts';
import type { PublisherReport } from './publisher.ts';
import { platformProcess, type PlatformProcess } from '../test/helpers/platform-process.ts';

const { values: argv } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    ingest: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '30' },
    assets: { type: 'string', default: '1000' },
    orders: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '5' },
    'cpu-prof': { type: 'string' },
    'api-process': { type: 'boolean', default: false },
    'read-cache-ms': { type: 'string' },
    writes: { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
  },
});
const RATE = Number(argv.rate);
const INGEST = Number(argv.ingest);
const SECONDS = Number(argv.seconds);
const ASSETS = Number(argv.assets);
const ORDERS = Number(argv.orders);
const WARMUP_S = Number(argv.warmup);
const WRITES = Number(argv.writes);
const progress = (s: string): void => void (argv.json ? process.stderr : process.stdout).write(`${s}\n`);

async function main(): Promise<void> {
  progress('starting local PostgreSQL + InfluxDB and the platform');
  // READ_CACHE_MS for the serving process (default: the service default); 0 measures without the cache
  const cacheEnv: Record<string, string> = argv['read-cache-ms'] === undefined ? {} : { READ_CACHE_MS: argv['read-cache-ms'] };
  const bench = await startBenchPlatform(cacheEnv);
  const { platform } = bench;
  const children: ChildProcess[] = [];
  let apiProcess: PlatformProcess | undefined;
  try {
    const prisma = platform.db.prisma;
    progress(`seeding ${ASSETS} assets, ${ORDERS} work orders, an API key`);
    const site = await prisma.site.create({ data: { code: 'LD', name: 'Load site', latitude: 31.23, longitude: 121.47 } });
    const codes = Array.from({ length: ASSETS }, (_, i) => `LOAD-${String(i).padStart(5, '0')}`);
    await prisma.asset.createMany({ data: codes.map((code) => ({ code, name: `Pump ${code}`, type: 'pump', siteId: site.id })) });
    const assets = await prisma.asset.findMany({ select: { id: true }, orderBy: { code: 'asc' } });
    const now = Date.now();
    // A plant's history: 90 % of the orders are closed (spread over the last ~3 months), 10 % open and
    // recent (within their SLA, so the SLA sweep has nothing to do that a real system would not).
    for (let from = 0; from < ORDERS; from += 5000) {
      await prisma.workOrder.createMany({
        data: Array.from({ length: Math.min(5000, ORDERS - from) }, (_, j) => {
          const i = from + j;
          const priority = (['low', 'medium', 'high', 'urgent'] as const)[i % 4]!;
          const open = i % 10 === 0;
          const requestedAt = new Date(open ? now - (i % 600) * 1000 : now - ((i * 389) % (90 * 86_400)) * 1000 - 86_400_000);
          const done = (h: number): Date => new Date(requestedAt.getTime() + h * 3_600_000);
          const closed = open ? {} : { status: 'closed' as const, respondedAt: done(1), startedAt: done(1), completedAt: done(4), closedAt: done(6) };
          return { title: `Load order ${i}`, source: 'manual' as const, assetId: assets[i % assets.length]!.id, priority, requestedAt, ...slaDueTimes(priority, requestedAt), ...closed };
        }),
      });
    }
    const orders = await prisma.workOrder.findMany({ select: { id: true }, take: 500 });
    const headers = await apiKeyHeader(platform.apiUrl!, 'manager');
    // writes (--writes) come from a dispatcher, on the open orders among those being read
    const writer = WRITES > 0 ? await apiKeyHeader(platform.apiUrl!, 'dispatcher') : headers;
    const openRead = new Set((await prisma.workOrder.findMany({ where: { id: { in: orders.map((o) => o.id) }, status: 'open' }, select: { id: true } })).map((o) => o.id));
    let apiUrl = platform.apiUrl!;
    if (argv['api-process']) {
      progress('starting a second service process with ROLES=api on the same database');
      apiProcess = platformProcess({
        env: { DATABASE_URL: platform.config.databaseUrl!, INFLUX_URL: platform.config.influxUrl!, INFLUX_DATABASE: platform.config.influxDatabase, ROLES: 'api', AUTH_MODE: 'on', LOG_LEVEL: 'info', ...cacheEnv },
      });
      await apiProcess.start();
      apiUrl = apiProcess.apiUrl();
    }

    let published: Promise<PublisherReport | undefined> = Promise.resolve(undefined);
    if (INGEST > 0) {
      progress(`ingest load: ${INGEST} readings/s over MQTT (own process)`);
      // real-time data: each asset reports every ASSETS / INGEST seconds, stamped now
      const messages = INGEST * (SECONDS + WARMUP_S + 10);
      const pub = await startPublisher(
        { url: platform.mqttUrl!, site: 'LD', assets: codes, messages, connections: 4, rate: INGEST, baseTs: Date.now(), tsStepMs: (ASSETS * 1000) / INGEST, clientIdPrefix: 'api-load', ruleEvents: false },
        'api-load',
        { onChild: (c) => children.push(c) },
      );
      published = pub.go();
      await sleep(3000); // ingest at full rate before the HTTP load starts
    }

    progress(`HTTP load: ${RATE} requests/s, ${WARMUP_S} s warm-up + ${SECONDS} s measured (open loop, own process)`);
    const http = forkTs('./http-load.ts', { onChild: (c) => children.push(c) });
    const pick = (ids: { id: string }[], prefix: string): string[] => ids.slice(0, 500).map((x) => `${prefix}/${x.id}`);
    const share = (f: number): number => Math.round(RATE * f);
    const loadJob: HttpLoadJob = {
      baseUrl: apiUrl,
      headers,
      durationS: SECONDS,
      warmupS: WARMUP_S,
      endpoints: [
        { name: 'GET /work-orders?limit=50', paths: ['/work-orders?limit=50', '/work-orders?limit=50&status=open', '/work-orders?limit=50&priority=urgent', '/work-orders?limit=50&offset=1000'], ratePerS: share(0.3) },
        { name: 'GET /work-orders/:id', paths: pick(orders, '/work-orders'), ratePerS: share(0.3) },
        { name: 'GET /assets?limit=50', paths: ['/assets?limit=50', '/assets?limit=50&offset=500', '/assets?limit=50&type=pump'], ratePerS: share(0.2) },
        { name: 'GET /assets/:id', paths: pick(assets, '/assets'), ratePerS: share(0.2) },
        // engineers and dispatchers changing orders that are being read (each write refreshes that order and every order list)
        ...(WRITES > 0
          ? [{ name: 'PUT /work-orders/:id/close-out', paths: pick(orders.filter((o) => openRead.has(o.id)), '/work-orders').map((p) => `${p}/close-out`), ratePerS: WRITES, method: 'PUT' as const, body: { resolution: 'bench' }, counterField: 'resolution', headers: writer }]
          : []),
      ],
    };
    const finished = new Promise<HttpLoadMessage>((resolve, reject) => {
      http.once('message', (m: HttpLoadMessage) => resolve(m));
      http.once('exit', (code) => reject(new Error(`load generator exited (${code}) before reporting`)));
    });
    http.send({ type: 'run', job: loadJob });
    await sleep(WARMUP_S * 1000 + 50);
    const cacheBefore = await readCacheCounters(apiUrl, headers);
    const before = { at: performance.now(), accepted: platform.pipeline!.counters().accepted, written: platform.telemetry.stats().written, cpu: process.cpuUsage() };
    const eld = monitorEventLoopDelay({ resolution: 10 });
    eld.enable();
    const profiler = argv['cpu-prof'] ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    let peakQueue = 0;
    let peakRssMb = 0;
    const sampler = setInterval(() => {
      peakQueue = Math.max(peakQueue, platform.pipeline!.counters().queued);
      peakRssMb = Math.max(peakRssMb, process.memoryUsage().rss / 2 ** 20);
    }, 200);
    const outcome = await finished;
    clearInterval(sampler);
    eld.disable();
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(argv['cpu-prof']!, JSON.stringify(profile));
      progress(`CPU profile of the service during the measured window: ${argv['cpu-prof']}`);
    }
    if (outcome.type === 'error') throw new Error(`load generator: ${outcome.message}`);
    const results = outcome.results;
    const windowS = (performance.now() - before.at) / 1000;
    const cpu = process.cpuUsage(before.cpu);
    const cacheAfter = await readCacheCounters(apiUrl, headers);
    const readCache = cacheAfter && cacheBefore ? readCacheDelta(cacheBefore, cacheAfter) : null;
    const ingestPerS = Math.round((platform.pipeline!.counters().accepted - before.accepted) / windowS);
    const writtenPerS = Math.round((platform.telemetry.stats().written - before.written) / windowS);
    for (const c of children) c.kill();
    await published.catch(() => undefined);
    const rejected = platform.pipeline!.counters().rejected;

    // the target is about the list/detail reads; writes (--writes) are reported beside them
    const reads = results.filter((r) => r.name.startsWith('GET '));
    const worstP99 = Math.max(...reads.map((r) => r.latencyMs.p99));
    const achieved = reads.reduce((a, r) => a + r.ratePerS, 0);
    const failed = results.reduce((a, r) => a + r.non2xx + r.errors, 0);
    const result = {
      bench: 'api-load',
      at: new Date().toISOString(),
      machine: machine(),
      data: { assets: ASSETS, workOrders: ORDERS },
      requestRate: RATE,
      achievedRequestRate: achieved,
      ingestTarget: INGEST,
      ingestAcceptedPerS: ingestPerS,
      ingestWrittenToInfluxPerS: writtenPerS,
      ingestRejected: rejected,
      seconds: SECONDS,
      warmupS: WARMUP_S,
      service: {
        cpuCoresBusy: Math.round(((cpu.user + cpu.system) / 1e6 / windowS) * 100) / 100,
        eventLoopDelayMs: { p50: Math.round(eld.percentile(50) / 1e4) / 100, p99: Math.round(eld.percentile(99) / 1e4) / 100, max: Math.round(eld.max / 1e4) / 100 },
        peakIngestQueue: peakQueue,
        peakRssMb: Math.round(peakRssMb),
      },
      endpoints: results,
      readCache,
      worstP99Ms: worstP99,
      targetP99Ms: 25,
      met: worstP99 <= 25 && failed === 0 && achieved >= RATE * 0.98 && ingestPerS >= INGEST * 0.98,
      summary: [
        { name: `API list/detail p99 at ${RATE.toLocaleString('en')} req/s under ${INGEST.toLocaleString('en')} readings/s${argv['api-process'] ? ', API process apart' : ''} (worst endpoint)`, value: worstP99, unit: 'ms', target: '≤ 25 ms', met: worstP99 <= 25 },
        { name: 'API requests/s achieved (non-2xx + errors)', value: `${achieved} (${failed})`, unit: 'req/s', target: `${RATE}` },
        { name: 'ingest during the API load (accepted / written to InfluxDB)', value: `${ingestPerS} / ${writtenPerS}`, unit: 'readings/s', target: `${INGEST}` },
      ],
    };
    if (argv.json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(`\nbench:api${argv['api-process'] ? ' (API in its own process, ROLES=api)' : ''} — ${achieved} req/s (target ${RATE}) while ingesting ${ingestPerS} readings/s (target ${INGEST}; ${writtenPerS}/s written to InfluxDB), ${SECONDS} s measured after ${WARMUP_S} s warm-up, access control on (API key)`);
      console.log(`machine: ${machineLine(result.machine)}; data: ${ASSETS} assets, ${ORDERS} work orders`);
      console.log('  latency = request due (open loop) → response complete; "server" = request written → response complete');
      for (const r of results) {
        const l = r.latencyMs;
        console.log(`  ${r.name.padEnd(28)} ${String(r.ratePerS).padStart(5)} req/s  p50 ${l.p50} ms  p90 ${l.p90} ms  p99 ${l.p99} ms  p99.9 ${l.p999} ms  max ${l.max} ms  (server p99 ${r.serviceMs.p99} ms)  non-2xx ${r.non2xx}  errors ${r.errors}`);
      }
      const sv = result.service;
      console.log(`  service process: ${sv.cpuCoresBusy} cores busy, event-loop delay p50 ${sv.eventLoopDelayMs.p50} / p99 ${sv.eventLoopDelayMs.p99} / max ${sv.eventLoopDelayMs.max} ms, peak ingest queue ${sv.peakIngestQueue}, peak RSS ${sv.peakRssMb} MB; rejected readings ${rejected}`);
      if (readCache) console.log(`  read cache (READ_CACHE_MS): ${readCache.hits} hits, ${readCache.misses} misses, ${readCache.bypassed} bypassed (hit ratio ${readCache.hitRatio}); changes seen: ${JSON.stringify(readCache.changes)}`);
      console.log(`  worst p99 ${worstP99} ms (target ≤ 25 ms: ${worstP99 <= 25 ? 'met' : 'NOT met'})`);
    }
  } finally {
    for (const c of children) c.kill();
    await apiProcess?.dispose();
    await bench.stop();
  }
}

interface CacheCounters {
  hits: number;
  misses: number;
  bypassed: number;
  changes: { changes: Record<string, number> };
}

/** The service's read-cache counters from /health (null when the cache is off or absent). */
async function readCacheCounters(apiUrl: string, headers: Record<string, string>): Promise<CacheCounters | null> {
  const res = await fetch(`${apiUrl}/health`, { headers });
  const body = (await res.json()) as { counters?: { readCache?: (CacheCounters & { enabled: boolean }) | null } };
  const rc = body.counters?.readCache;
  return rc?.enabled ? rc : null;
}

function readCacheDelta(a: CacheCounters, b: CacheCounters) {
  const hits = b.hits - a.hits;
  const misses = b.misses - a.misses;
  const bypassed = b.bypassed - a.bypassed;
  const changes = Object.fromEntries(Object.entries(b.changes.changes).map(([t, n]) => [t, n - (a.changes.changes[t] ?? 0)]).filter(([, n]) => Number(n) > 0));
  return { hits, misses, bypassed, hitRatio: Math.round((hits / Math.max(1, hits + misses + bypassed)) * 1000) / 1000, changes };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
