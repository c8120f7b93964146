/**
 * Latency probe for bench/ingest.ts, run as its own process so its MQTT client and its InfluxQL
 * polling cost the service under test nothing. Not meant to be run by hand.
 *
 * Every `intervalMs` it publishes one reading `{ts, metrics: {probe: seq}}` for the probe asset and
 * notes the send time; it polls InfluxDB (InfluxQL over the v1 /query API, like any reader) every
 * ~5 ms while probes are outstanding, and records publish → visible for each.
 *
 * IPC (parent ⇄ child):
 *   parent → {type:'run', ...ProbeJob}     child → {type:'ready'} once connected
 *   parent → {type:'start'}                starts probing
 *   parent → {type:'sync', id}             child → {type:'synced', id, visible, sent, afterLoad}
 *       answered after a query that STARTED after the request arrived, so `visible` counts at least
 *       every probe point InfluxDB held when the parent sent the request
 *   parent → {type:'loadDone', at}         probes sent before `at` (Date.now()) count as "under load"
 *   parent → {type:'stop'}                 stops publishing, waits ≤ 5 s for outstanding probes,
 *                                          child → {type:'report', ...ProbeReport}
 *   parent → {type:'exit'}
 */
import mqtt from 'mqtt';

export interface ProbeJob {
  mqttUrl: string;
  username?: string | undefined;
  password?: string | undefined;
  site: string;
  asset: string;
  influxUrl: string;
  influxDb: string;
  intervalMs: number;
}

export interface ProbeSample {
  /** Date.now() at publish */
  sentAt: number;
  ms: number;
  underLoad: boolean;
}

export interface ProbeReport {
  sent: number;
  samples: ProbeSample[];
  lost: number;
  queries: number;
  cpuMs: number;
}

export type ProbeParentMessage =
  | ({ type: 'run' } & ProbeJob)
  | { type: 'start' }
  | { type: 'sync'; id: number }
  | { type: 'loadDone'; at: number }
  | { type: 'stop' }
  | { type: 'exit' };
export type ProbeChildMessage =
  | { type: 'ready' }
  | { type: 'synced'; id: number; visible: number; sent: number; afterLoad: number }
  | ({ type: 'report' } & ProbeReport)
  | { type: 'error'; message: string };

const send = (m: ProbeChildMessage): void => void process.send?.(m);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function run(job: ProbeJob): Promise<void> {
  const client = await mqtt.connectAsync(job.mqttUrl, {
    protocolVersion: 4,
    clientId: `bench-probe-${process.pid}`,
    reconnectPeriod: 0,
    ...(job.username ? { username: job.username, password: job.password ?? '' } : {}),
  });
  client.on('error', (err) => send({ type: 'error', message: `probe MQTT: ${err.message}` }));
  const topic = `plant/${job.site}/${job.asset}/telemetry`;
  const base = job.influxUrl.replace(/\/+$/, '');

  const outstanding = new Map<number, { ts: number; sentAt: number; sentPerf: number }>();
  const samples: ProbeSample[] = [];
  let seq = 0;
  let lastTs = 0;
  let visible = 0;
  let queries = 0;
  let loadDoneAt = Infinity;
  let sending = false;
  let polling = true;
  /** sync requests waiting for a query that starts after they arrived */
  let pendingSyncs: number[] = [];

  const timer = setInterval(() => {
    if (!sending) return;
    const s = ++seq;
    const ts = Math.max(Date.now(), lastTs + 1);
    lastTs = ts;
    outstanding.set(s, { ts, sentAt: Date.now(), sentPerf: performance.now() });
    client.publish(topic, JSON.stringify({ ts, metrics: { probe: s } }), { qos: 0 });
  }, job.intervalMs);

  const poller = (async () => {
    while (polling) {
      const syncs = pendingSyncs;
      pendingSyncs = [];
      if (outstanding.size > 0) {
        let from = Infinity;
        for (const p of outstanding.values()) from = Math.min(from, p.ts);
        const q = `SELECT "probe" FROM "telemetry" WHERE "asset" = '${job.asset}' AND time >= ${from}ms`;
        try {
          queries++;
          const res = await fetch(`${base}/query?${new URLSearchParams({ db: job.influxDb, q, epoch: 'ms' })}`, { signal: AbortSignal.timeout(10_000) });
          const body = (await res.json()) as { results?: { series?: { values: [number, number][] }[] }[] };
          const now = performance.now();
          for (const [, v] of body.results?.[0]?.series?.[0]?.values ?? []) {
            const p = outstanding.get(v);
            if (!p) continue;
            outstanding.delete(v);
            visible++;
            samples.push({ sentAt: p.sentAt, ms: Math.round((now - p.sentPerf) * 10) / 10, underLoad: p.sentAt < loadDoneAt });
          }
        } catch (err) {
          send({ type: 'error', message: `probe query: ${(err as Error).message}` });
          await sleep(100);
        }
      }
      const afterLoad = samples.filter((x) => !x.underLoad).length;
      for (const id of syncs) send({ type: 'synced', id, visible, sent: seq, afterLoad });
      await sleep(5);
    }
  })();

  const cpu0 = process.cpuUsage();
  process.on('message', (m: ProbeParentMessage) => {
    if (m.type === 'start') sending = true;
    else if (m.type === 'sync') pendingSyncs.push(m.id);
    else if (m.type === 'loadDone') loadDoneAt = m.at;
    else if (m.type === 'stop') {
      sending = false;
      clearInterval(timer);
      void (async () => {
        for (const until = Date.now() + 5_000; outstanding.size > 0 && Date.now() < until; ) await sleep(20);
        polling = false;
        await poller;
        const cpu = process.cpuUsage(cpu0);
        await client.endAsync(true).catch(() => undefined);
        send({ type: 'report', sent: seq, samples, lost: outstanding.size, queries, cpuMs: Math.round((cpu.user + cpu.system) / 1000) });
      })();
    }
  });
  send({ type: 'ready' });
}

if (process.send) {
  process.on('message', (m: ProbeParentMessage) => {
    if (m.type === 'run') {
      run(m).catch((err: unknown) => {
        send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
        process.exitCode = 1;
      });
    } else if (m.type === 'exit') {
      process.disconnect();
    }
  });
  process.on('disconnect', () => process.exit(process.exitCode ?? 0));
}
