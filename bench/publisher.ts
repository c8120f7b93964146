/**
 * Load generator for the benches (ingest, rules, api-load, soak, peer), run as a separate process (child_process.fork with tsx) so the
 * publisher and the service under test each get a core. Not meant to be run by hand.
 *
 * IPC protocol (parent ⇄ child):
 *   parent → {type:'run', ...PublisherJob}   child connects `connections` MQTT 3.1.1 clients
 *   child  → {type:'ready'}                   all clients connected
 *   parent → {type:'go'}                      child publishes, respecting socket backpressure
 *   child  → {type:'done', ...PublisherReport} every message handed to the kernel (with qos 1: and
 *                                             acknowledged by the broker); clients closed
 *   child  → {type:'error', message}
 *
 * Messages: N readings spread round-robin over the assets (message k → asset k % A, per-asset index
 * j = floor(k / A)); asset i is always published on connection i % C, so per-asset order is preserved.
 * Payload `{ts, metrics: {runHours, temperature, vibration, pressure}}` (4 fields) with
 * ts = baseTs + j * tsStepMs (unique per asset: no point overwrites another in InfluxDB).
 * The values are deterministic and exercise both benchmark rules:
 *   - runHours starts at 480 + (i % 20) and grows 0.05 per message → every asset crosses 500 once
 *     (after at most 400 messages) → one PM work order per asset;
 *   - temperature stays in 50..70 except on "hot" assets (i % 10 === 3), which read 90+ for
 *     messages j ∈ [300, 400) → with a 100 ms ts step that is a 10 s breach (hold 5 s) → one
 *     over-temperature order + alarm, cleared again when the value falls back.
 * With `ruleEvents: false` runHours starts at 0 (500 is reached only after 10,000 messages per asset)
 * and no asset runs hot: the rules evaluate every reading but have nothing to do.
 */
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';

export interface PublisherJob {
  url: string;
  site: string;
  /** Asset codes, index = asset number i. */
  assets: string[];
  messages: number;
  connections: number;
  /** Messages per second over all connections; 0 = as fast as the sockets accept. */
  rate: number;
  baseTs: number;
  tsStepMs: number;
  clientIdPrefix: string;
  /** false = values that never make a rule fire (isolates evaluation cost from work-order creation). */
  ruleEvents: boolean;
  /** Gateway (site-scoped) device credential when the broker requires MQTT_AUTH=devices. */
  username?: string | undefined;
  password?: string | undefined;
  /** Publish QoS; default 0. With 1 the report's ackedAt waits for every PUBACK (bench/peer.ts). */
  qos?: 0 | 1 | undefined;
}

export interface PublisherReport {
  sent: number;
  /** Date.now() just before the first publish / after the last byte was handed to the kernel / after the last PUBACK (= endedAt with QoS 0). */
  startedAt: number;
  endedAt: number;
  ackedAt: number;
  /** Times a connection's socket buffer was full (mqtt.js corks per tick, so this also counts plain batching). */
  drainWaits: number;
  /** Time spent waiting for 'drain', summed over connections: the receiver not reading fast enough. */
  drainWaitMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  maxRssMb: number;
}

export type ParentMessage = ({ type: 'run' } & PublisherJob) | { type: 'go' } | { type: 'exit' };
export type ChildMessage = { type: 'ready' } | ({ type: 'done' } & PublisherReport) | { type: 'error'; message: string };

const HOT_FROM = 300;
const HOT_TO = 400;
const r2 = (v: number): number => Math.round(v * 100) / 100;

export function payloadFor(i: number, j: number, baseTs: number, tsStepMs: number, ruleEvents = true): string {
  const hot = ruleEvents && i % 10 === 3 && j >= HOT_FROM && j < HOT_TO;
  const metrics = {
    runHours: r2((ruleEvents ? 480 + (i % 20) : 0) + j * 0.05),
    temperature: hot ? r2(90 + 2 * Math.sin(j / 5)) : r2(60 + 10 * Math.sin(j / 40 + i)),
    vibration: r2(2 + 0.5 * Math.sin(j / 7 + i)),
    pressure: r2(5 + 0.2 * Math.cos(j / 11 + i)),
  };
  return JSON.stringify({ ts: baseTs + j * tsStepMs, metrics });
}

/** Over-temperature episodes the ruleEvents data contains for N messages over A assets (what a correct rule must report). */
export function expectedEpisodes(messages: number, assets: number): number {
  let n = 0;
  for (let i = 3; i < assets; i += 10) {
    const perAsset = Math.floor(messages / assets) + (i < messages % assets ? 1 : 0);
    if (perAsset > HOT_FROM) n++;
  }
  return n;
}

function send(msg: ChildMessage): void {
  process.send?.(msg);
}

async function connectAll(job: PublisherJob): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  for (let c = 0; c < job.connections; c++) {
    const client = await mqtt.connectAsync(job.url, {
      protocolVersion: 4,
      clientId: `${job.clientIdPrefix}-${process.pid}-${c}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 60,
      ...(job.username ? { username: job.username, password: job.password ?? '' } : {}),
    });
    client.on('error', (err) => send({ type: 'error', message: `publisher connection ${c}: ${err.message}` }));
    clients.push(client);
  }
  return clients;
}

/** Messages not yet acknowledged by the broker (QoS 1). */
const unacked = (client: MqttClient): number => Object.keys((client as unknown as { outgoing: Record<string, unknown> }).outgoing).length;

/** Publishes every message whose asset belongs to connection `c`, in global k order. */
async function publishOn(client: MqttClient, c: number, job: PublisherJob, stats: { sent: number; drainWaits: number; drainWaitMs: number }, startedAt: number): Promise<void> {
  const A = job.assets.length;
  const C = job.connections;
  const topics = job.assets.map((code) => `plant/${job.site}/${code}/telemetry`);
  // messages on this connection, for pacing: assets i with i % C === c
  let mine = 0;
  for (let i = c; i < A; i += C) mine += Math.floor(job.messages / A) + (i < job.messages % A ? 1 : 0);
  const myRate = job.rate > 0 ? (job.rate * mine) / job.messages : 0;
  const stream = client.stream;
  const qos = job.qos ?? 0;
  let published = 0;
  for (let k = c; k < job.messages; ) {
    const i = k % A;
    const j = Math.floor(k / A);
    client.publish(topics[i]!, payloadFor(i, j, job.baseTs, job.tsStepMs, job.ruleEvents), { qos });
    published++;
    stats.sent++;
    // next k on this connection: next asset ≡ c (mod C) in this round, else first one of the next round
    const nextI = i + C;
    k = nextI < A ? k + C : (j + 1) * A + c;
    if (stream.writableNeedDrain) {
      stats.drainWaits++;
      const t0 = performance.now();
      await once(stream, 'drain');
      stats.drainWaitMs += performance.now() - t0;
    }
    // keep the number of unacknowledged QoS 1 messages (= message ids in use) well below 65,535
    if (qos === 1 && published % 1000 === 0) while (unacked(client) > 20_000) await new Promise((r) => setTimeout(r, 1));
    if (myRate > 0 && published % 50 === 0) {
      const dueAt = startedAt + (published / myRate) * 1000;
      const wait = dueAt - Date.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    }
  }
  // everything handed to the kernel ('drain' only fires after a refused write, so poll)
  while (stream.writableLength > 0) await new Promise((r) => setTimeout(r, 1));
}

async function run(job: PublisherJob): Promise<void> {
  const clients = await connectAll(job);
  send({ type: 'ready' });
  await new Promise<void>((resolve) => {
    const onMsg = (m: ParentMessage): void => {
      if (m.type === 'go') {
        process.off('message', onMsg);
        resolve();
      }
    };
    process.on('message', onMsg);
  });
  const cpu0 = process.cpuUsage();
  const stats = { sent: 0, drainWaits: 0, drainWaitMs: 0 };
  let maxRss = process.memoryUsage().rss;
  const rssTimer = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 100);
  const startedAt = Date.now();
  await Promise.all(clients.map((client, c) => publishOn(client, c, job, stats, startedAt)));
  const endedAt = Date.now();
  while (clients.some((cl) => unacked(cl) > 0)) await new Promise((r) => setTimeout(r, 1));
  const ackedAt = Date.now();
  clearInterval(rssTimer);
  maxRss = Math.max(maxRss, process.memoryUsage().rss);
  const cpu = process.cpuUsage(cpu0);
  await Promise.all(clients.map((cl) => cl.endAsync(false).catch(() => undefined)));
  send({
    type: 'done',
    sent: stats.sent,
    startedAt,
    endedAt,
    ackedAt,
    drainWaits: stats.drainWaits,
    drainWaitMs: Math.round(stats.drainWaitMs),
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    maxRssMb: maxRss / 2 ** 20,
  });
}

// only when forked as a child (importing payloadFor elsewhere must not install these handlers)
if (process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'run') {
      run(m).catch((err: unknown) => {
        send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
        process.exitCode = 1;
      });
    } else if (m.type === 'exit') {
      process.disconnect();
    }
  });
  // the parent going away (crash, SIGKILL) closes the IPC channel: never outlive it
  process.on('disconnect', () => process.exit(process.exitCode ?? 0));
}
