/**
 * npm run bench:soak — issue #9 soak (a script, not a test): the platform ingests at the sustained
 * target (default 20,000 readings/s, rules on, work orders created along the way) for 30 minutes on
 * PostgreSQL + InfluxDB, with a light API load (50 requests/s, API key) beside it, while this process
 * (= the service) samples its memory and event-loop delay every second.
 *
 *   npm run bench:soak -- [--minutes 30] [--rate 20000] [--assets 200] [--api-rate 50] [--ingest-thread] [--json]
 *
 * --ingest-thread: the service with INGEST_THREAD=on (ingest and rules in a worker thread, the API on
 * the main thread); both threads' heaps are sampled (the thread's through /health's counters) and
 * judged, the event-loop delay is the main thread's (the API's).
 *
 * Verdict on growth: least-squares slope of (a) the per-minute MINIMUM of heapUsed (≈ live heap after
 * collections, the leak signal) and (b) the per-minute maximum RSS, over the run after a warm-up (the
 * first 20 %), in MB per hour; plus the medians of the first and last third. "No growth trend" = the
 * slope would add less than 10 % of the mean over another run of the same length, or less than 8 MB.
 * Also checked: InfluxDB holds every reading (count = published), nothing dead-lettered, queue bounded.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { apiKeyHeader, forkTs, ingestFigures, machine, machineLine, startBenchPlatform, startPublisher } from './harness.ts';
import type { HttpLoadJob, HttpLoadMessage } from './http-load.ts';

const { values: argv } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    rate: { type: 'string', default: '20000' },
    assets: { type: 'string', default: '200' },
    'api-rate': { type: 'string', default: '50' },
    'samples-out': { type: 'string' },
    'ingest-thread': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const THREAD = argv['ingest-thread'];
const MINUTES = Number(argv.minutes);
const RATE = Number(argv.rate);
const ASSETS = Number(argv.assets);
const API_RATE = Number(argv['api-rate']);
const progress = (s: string): void => void process.stderr.write(`${s}\n`);

interface Sample {
  /** seconds since the load started */
  t: number;
  rssMb: number;
  heapUsedMb: number;
  /** --ingest-thread: the worker thread's heap */
  threadHeapUsedMb?: number | undefined;
  externalMb: number;
  /** event-loop delay over the last second, ms */
  eldP99: number;
  eldMax: number;
  accepted: number;
  written: number;
  queued: number;
  buffered: number;
}

interface Trend {
  slopeMbPerH: number;
  meanMb: number;
  firstThirdMedianMb: number;
  lastThirdMedianMb: number;
  growth: boolean;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
};

/** Least-squares slope of ys over xs (hours) and the verdict described in the header. */
export function trend(points: { tH: number; mb: number }[], runHours: number): Trend {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.tH, 0) / n;
  const my = points.reduce((a, p) => a + p.mb, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.tH - mx) ** 2, 0);
  const sxy = points.reduce((a, p) => a + (p.tH - mx) * (p.mb - my), 0);
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const third = Math.max(1, Math.floor(n / 3));
  const projected = slope * runHours;
  return {
    slopeMbPerH: r1(slope),
    meanMb: r1(my),
    firstThirdMedianMb: r1(median(points.slice(0, third).map((p) => p.mb))),
    lastThirdMedianMb: r1(median(points.slice(-third).map((p) => p.mb))),
    growth: projected > Math.max(8, 0.1 * my),
  };
}

async function main(): Promise<void> {
  const durationS = Math.round(MINUTES * 60);
  const messages = RATE * durationS;
  progress(`soak: ${RATE} readings/s for ${MINUTES} min (${messages.toLocaleString('en')} readings), ${ASSETS} assets, API ${API_RATE} req/s`);
  const machineAtStart = machine(); // the code revision that ran, not the one at the end
  const bench = await startBenchPlatform({ INGEST_QUEUE_LIMIT: '1000000', ...(THREAD ? { INGEST_THREAD: 'on' } : {}) });
  const { platform } = bench;
  const figures = () => ingestFigures(platform);
  const children: ChildProcess[] = [];
  try {
    const prisma = platform.db.prisma;
    const site = await prisma.site.create({ data: { code: 'SOAK', name: 'Soak site' } });
    const codes = Array.from({ length: ASSETS }, (_, i) => `SOAK-${String(i).padStart(5, '0')}`);
    await prisma.asset.createMany({ data: codes.map((code) => ({ code, name: code, type: 'pump', siteId: site.id })) });
    await prisma.rule.create({
      data: { name: 'Pump hot', kind: 'threshold', assetType: 'pump', definition: { schemaVersion: 1, metric: 'temperature', operator: '>', value: 85, holdSeconds: 0, hysteresis: 5, severity: 'major', priority: 'high' } },
    });
    await prisma.rule.create({
      data: { name: 'Pump 500 h', kind: 'usage', assetType: 'pump', definition: { schemaVersion: 1, metric: 'runHours', every: 500, startAt: 0, priority: 'medium', title: 'Service (500 h)' } },
    });
    if (platform.thread) {
      platform.thread.rulesChanged();
      while (((await platform.health()).counters.rules as { rules: number }).rules < 2) await sleep(50);
    } else await platform.engine.reload();
    const headers = await apiKeyHeader(platform.apiUrl!, 'manager');
    const someAssets = await prisma.asset.findMany({ select: { id: true }, take: 50 });

    // Readings stamped in real time: asset i reports every ASSETS / RATE s.
    const pub = await startPublisher(
      { url: platform.mqttUrl!, site: 'SOAK', assets: codes, messages, connections: 4, rate: RATE, baseTs: Date.now(), tsStepMs: (ASSETS * 1000) / RATE, clientIdPrefix: 'soak', ruleEvents: true },
      'soak',
      { onChild: (c) => children.push(c) },
    );
    const published = pub.go();
    let apiResult: Promise<HttpLoadMessage> | undefined;
    if (API_RATE > 0) {
      const http = forkTs('./http-load.ts', { onChild: (c) => children.push(c) });
      const job: HttpLoadJob = {
        baseUrl: platform.apiUrl!,
        headers,
        durationS: durationS - 5,
        warmupS: 5,
        endpoints: [
          { name: 'GET /work-orders?limit=50', paths: ['/work-orders?limit=50', '/work-orders?limit=50&status=open'], ratePerS: API_RATE / 2 },
          { name: 'GET /assets/:id', paths: someAssets.map((a) => `/assets/${a.id}`), ratePerS: API_RATE / 2 },
        ],
      };
      apiResult = new Promise<HttpLoadMessage>((resolve, reject) => {
        http.once('message', (m: HttpLoadMessage) => resolve(m));
        http.once('exit', (code) => reject(new Error(`API load generator exited (${code}) before reporting`)));
      });
      http.send({ type: 'run', job });
    }

    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const samples: Sample[] = [];
    const eld = monitorEventLoopDelay({ resolution: 10 });
    eld.enable();
    let lastReport = 0;
    const sample = async (): Promise<void> => {
      const at = performance.now();
      const m = process.memoryUsage();
      const eldP99 = r1(eld.percentile(99) / 1e6);
      const eldMax = r1(eld.max / 1e6);
      eld.reset();
      const f = await figures();
      samples.push({
        t: Math.round((at - t0) / 100) / 10,
        rssMb: r1(m.rss / 2 ** 20),
        heapUsedMb: r1(m.heapUsed / 2 ** 20),
        threadHeapUsedMb: f.threadHeapUsedMb,
        externalMb: r1(m.external / 2 ** 20),
        eldP99,
        eldMax,
        accepted: f.accepted,
        written: f.written,
        queued: f.queued,
        buffered: f.buffered,
      });
      const s = samples[samples.length - 1]!;
      if (s.t - lastReport >= 60) {
        lastReport = s.t;
        progress(
          `  ${Math.round(s.t / 60)} min: accepted ${s.accepted.toLocaleString('en')}, written ${s.written.toLocaleString('en')}, queue ${s.queued}, RSS ${s.rssMb} MB, heap ${s.heapUsedMb} MB${THREAD ? ` (thread ${s.threadHeapUsedMb} MB)` : ''}, loop p99 ${s.eldP99} ms`,
        );
      }
    };
    const sampler = setInterval(() => void sample().catch((err: unknown) => progress(`  sample failed: ${(err as Error).message}`)), 1000);

    const report = await published;
    // drain: everything published accepted and written (bounded wait)
    const deadline = performance.now() + 120_000;
    for (;;) {
      const f = await figures();
      if (performance.now() >= deadline || (f.accepted >= report.sent && f.buffered === 0 && f.queued === 0)) break;
      await sleep(200);
    }
    clearInterval(sampler);
    eld.disable();
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const api = apiResult ? await apiResult : undefined;
    if (!THREAD) await platform.telemetry.flush(); // (the thread's writer flushes on its own; the drain waited for it)
    const counters = await figures();
    const influxCount = await countInflux(bench.influxUrl, bench.influxDb);
    const workOrders = await prisma.workOrder.groupBy({ by: ['source'], _count: true });
    const deadLetters = await prisma.deadLetter.count();
    if (argv['samples-out']) writeFileSync(argv['samples-out'], JSON.stringify(samples));

    // per-minute aggregates after the warm-up (first 20 %)
    const warm = samples.filter((s) => s.t >= durationS * 0.2 && s.t <= durationS);
    const byMinute = new Map<number, Sample[]>();
    for (const s of warm) byMinute.set(Math.floor(s.t / 60), [...(byMinute.get(Math.floor(s.t / 60)) ?? []), s]);
    const minutes = [...byMinute.entries()].sort((a, b) => a[0] - b[0]);
    const runH = durationS / 3600;
    const heapTrend = trend(minutes.map(([m, ss]) => ({ tH: m / 60, mb: Math.min(...ss.map((s) => s.heapUsedMb)) })), runH);
    const threadHeapTrend = THREAD ? trend(minutes.map(([m, ss]) => ({ tH: m / 60, mb: Math.min(...ss.map((s) => s.threadHeapUsedMb ?? Infinity)) })), runH) : undefined;
    const rssTrend = trend(minutes.map(([m, ss]) => ({ tH: m / 60, mb: Math.max(...ss.map((s) => s.rssMb)) })), runH);
    const eldP99s = samples.filter((s) => s.t <= durationS).map((s) => s.eldP99);
    const firstMinuteRate = samples.find((s) => s.t >= 60)?.accepted ?? 0;
    const sustained = Math.round((report.sent - firstMinuteRate) / Math.max(1, wallS - 60));

    const result = {
      bench: 'soak',
      at: new Date().toISOString(),
      machine: machineAtStart,
      minutes: MINUTES,
      targetRate: RATE,
      assets: ASSETS,
      published: report.sent,
      accepted: counters.accepted,
      rejected: counters.rejected,
      deadLetters,
      influxCount,
      achievedRatePerS: Math.round(report.sent / Math.max(1, (report.endedAt - report.startedAt) / 1000)),
      sustainedAfterFirstMinutePerS: sustained,
      serviceCoresBusy: r1((cpu.user + cpu.system) / 1e6 / wallS),
      peakQueue: Math.max(...samples.map((s) => s.queued)),
      peakTelemetryBuffer: Math.max(...samples.map((s) => s.buffered)),
      deployment: THREAD ? 'one process, INGEST_THREAD=on' : 'one process, one thread',
      heapLive: heapTrend,
      threadHeapLive: threadHeapTrend,
      rss: rssTrend,
      eventLoopDelayMs: { medianOfP99: r1(median(eldP99s)), worstP99: Math.max(...eldP99s), max: Math.max(...samples.map((s) => s.eldMax)) },
      workOrders: Object.fromEntries(workOrders.map((w) => [w.source, w._count])),
      api: api?.type === 'done' ? api.results : api,
      summary: [
        { name: `Soak ${MINUTES} min at ${RATE.toLocaleString('en')} readings/s: readings in InfluxDB / published`, value: `${influxCount.toLocaleString('en')} / ${report.sent.toLocaleString('en')}`, unit: 'readings', met: influxCount === report.sent },
        { name: `Soak: live-heap trend after warm-up (per-minute min heapUsed${THREAD ? ', API thread' : ''})`, value: `${heapTrend.slopeMbPerH >= 0 ? '+' : ''}${heapTrend.slopeMbPerH} MB/h (mean ${heapTrend.meanMb} MB)`, unit: '', target: 'no growth trend', met: !heapTrend.growth },
        ...(threadHeapTrend
          ? [{ name: 'Soak: live-heap trend after warm-up (ingest thread)', value: `${threadHeapTrend.slopeMbPerH >= 0 ? '+' : ''}${threadHeapTrend.slopeMbPerH} MB/h (mean ${threadHeapTrend.meanMb} MB)`, unit: '', target: 'no growth trend', met: !threadHeapTrend.growth }]
          : []),
        { name: 'Soak: RSS trend after warm-up (per-minute max)', value: `${rssTrend.slopeMbPerH >= 0 ? '+' : ''}${rssTrend.slopeMbPerH} MB/h (mean ${rssTrend.meanMb} MB)`, unit: '', target: 'no growth trend', met: !rssTrend.growth },
        { name: 'Soak: event-loop delay p99 (median of 1-s windows / worst window)', value: `${r1(median(eldP99s))} / ${Math.max(...eldP99s)}`, unit: 'ms' },
      ],
    };
    if (argv.json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(`\nbench:soak${THREAD ? ' (INGEST_THREAD=on)' : ''} — ${MINUTES} min at ${RATE.toLocaleString('en')} readings/s target (${result.achievedRatePerS.toLocaleString('en')}/s achieved), ${ASSETS} assets, rules on, API ${API_RATE} req/s`);
      console.log(`machine: ${machineLine(result.machine)}`);
      console.log(`  readings: published ${report.sent.toLocaleString('en')}, accepted ${counters.accepted.toLocaleString('en')}, in InfluxDB ${influxCount.toLocaleString('en')}, rejected ${counters.rejected}, dead letters ${deadLetters}`);
      console.log(`  peak ingest queue ${result.peakQueue}, peak write buffer ${result.peakTelemetryBuffer}, service ${result.serviceCoresBusy} cores busy, work orders ${JSON.stringify(result.workOrders)}`);
      const trends: [string, Trend][] = [[THREAD ? 'live heap, API thread' : 'live heap (min heapUsed per minute)', heapTrend], ...(threadHeapTrend ? [['live heap, ingest thread', threadHeapTrend] as [string, Trend]] : []), ['RSS (max per minute)', rssTrend]];
      for (const [label, t] of trends) {
        console.log(`  ${label.padEnd(36)} slope ${t.slopeMbPerH} MB/h, mean ${t.meanMb} MB, first third ${t.firstThirdMedianMb} MB → last third ${t.lastThirdMedianMb} MB: ${t.growth ? 'GROWTH TREND' : 'no growth trend'}`);
      }
      console.log(`  event-loop delay: p99 per 1-s window median ${result.eventLoopDelayMs.medianOfP99} ms, worst ${result.eventLoopDelayMs.worstP99} ms, max ${result.eventLoopDelayMs.max} ms`);
      if (api?.type === 'done') {
        for (const r of api.results) console.log(`  API ${r.name.padEnd(26)} ${r.requests} requests, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms, non-2xx ${r.non2xx}, errors ${r.errors}`);
        const w = api.results[0]?.windows ?? [];
        console.log(`  API p99 per minute (${api.results[0]?.name}): ${w.map((x) => x.p99).join(' ')} ms`);
      }
    }
  } finally {
    for (const c of children) c.kill();
    await bench.stop();
  }
}

async function countInflux(url: string, db: string): Promise<number> {
  const q = new URLSearchParams({ db, q: 'SELECT count("temperature") FROM "telemetry"' });
  const res = await fetch(`${url}/query?${q}`);
  const body = (await res.json()) as { results: { series?: { values: [string, number][] }[] }[] };
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
