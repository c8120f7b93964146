/**
 * Load generator for bench/peer.ts, run as a separate process (child_process.fork with tsx) so the
 * publisher and the system under test each get a core. Not meant to be run by hand.
 *
 * Like bench/publisher.ts (same data, same IPC protocol), but publishes with QoS 1 (the peer bench
 * compares two MQTT consumers of one Mosquitto) and reports when the broker had acknowledged every
 * message. The data (payloadFor) is a copy of bench/publisher.ts's: importing that module into a
 * forked child would also install its IPC handlers.
 *
 * IPC protocol (parent ⇄ child):
 *   parent → {type:'run', ...PeerPublisherJob}  child connects `connections` MQTT 3.1.1 clients
 *   child  → {type:'ready'}                      all clients connected
 *   parent → {type:'go'}                         child publishes, respecting socket backpressure
 *   child  → {type:'done', ...PeerPublisherReport} every message acknowledged (PUBACK); clients closed
 *   child  → {type:'error', message}
 */
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';

export interface PeerPublisherJob {
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
  qos: 0 | 1;
}

export interface PeerPublisherReport {
  sent: number;
  /** Date.now() just before the first publish / after the last byte was handed to the kernel / after the last PUBACK. */
  startedAt: number;
  endedAt: number;
  ackedAt: number;
  drainWaitMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
}

export type PeerParentMessage = ({ type: 'run' } & PeerPublisherJob) | { type: 'go' } | { type: 'exit' };
export type PeerChildMessage = { type: 'ready' } | ({ type: 'done' } & PeerPublisherReport) | { type: 'error'; message: string };

const HOT_FROM = 300;
const HOT_TO = 400;
const r2 = (v: number): number => Math.round(v * 100) / 100;

/**
 * Message k → asset i = k % A, per-asset index j = floor(k / A). Temperature 50..70, except on "hot"
 * assets (i % 10 === 3) for j ∈ [300, 400): 88..92 → one over-temperature episode per hot asset that
 * gets that far (same values as bench/publisher.ts with ruleEvents on).
 */
export function payloadFor(i: number, j: number, baseTs: number, tsStepMs: number): string {
  const hot = i % 10 === 3 && j >= HOT_FROM && j < HOT_TO;
  const metrics = {
    runHours: r2(480 + (i % 20) + j * 0.05),
    temperature: hot ? r2(90 + 2 * Math.sin(j / 5)) : r2(60 + 10 * Math.sin(j / 40 + i)),
    vibration: r2(2 + 0.5 * Math.sin(j / 7 + i)),
    pressure: r2(5 + 0.2 * Math.cos(j / 11 + i)),
  };
  return JSON.stringify({ ts: baseTs + j * tsStepMs, metrics });
}

/** Over-temperature episodes the data contains for N messages over A assets (what a correct rule must report). */
export function expectedEpisodes(messages: number, assets: number): number {
  let n = 0;
  for (let i = 3; i < assets; i += 10) {
    const perAsset = Math.floor(messages / assets) + (i < messages % assets ? 1 : 0);
    if (perAsset > HOT_FROM) n++;
  }
  return n;
}

function send(msg: PeerChildMessage): void {
  process.send?.(msg);
}

async function connectAll(job: PeerPublisherJob): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  for (let c = 0; c < job.connections; c++) {
    const client = await mqtt.connectAsync(job.url, {
      protocolVersion: 4,
      clientId: `${job.clientIdPrefix}-${process.pid}-${c}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 60,
    });
    client.on('error', (err) => send({ type: 'error', message: `publisher connection ${c}: ${err.message}` }));
    clients.push(client);
  }
  return clients;
}

/** Messages not yet acknowledged by the broker (QoS 1). */
const unacked = (client: MqttClient): number => Object.keys((client as unknown as { outgoing: Record<string, unknown> }).outgoing).length;

/** Publishes every message whose asset belongs to connection `c`, in global k order. */
async function publishOn(client: MqttClient, c: number, job: PeerPublisherJob, stats: { sent: number; drainWaitMs: number }, startedAt: number): Promise<void> {
  const A = job.assets.length;
  const C = job.connections;
  const topics = job.assets.map((code) => `plant/${job.site}/${code}/telemetry`);
  let mine = 0;
  for (let i = c; i < A; i += C) mine += Math.floor(job.messages / A) + (i < job.messages % A ? 1 : 0);
  const myRate = job.rate > 0 ? (job.rate * mine) / job.messages : 0;
  const stream = client.stream;
  let published = 0;
  for (let k = c; k < job.messages; ) {
    const i = k % A;
    const j = Math.floor(k / A);
    client.publish(topics[i]!, payloadFor(i, j, job.baseTs, job.tsStepMs), { qos: job.qos });
    published++;
    stats.sent++;
    const nextI = i + C;
    k = nextI < A ? k + C : (j + 1) * A + c;
    if (stream.writableNeedDrain) {
      const t0 = performance.now();
      await once(stream, 'drain');
      stats.drainWaitMs += performance.now() - t0;
    }
    // keep the number of unacknowledged QoS 1 messages (= message ids in use) well below 65,535
    if (job.qos === 1 && published % 1000 === 0) while (unacked(client) > 20_000) await new Promise((r) => setTimeout(r, 1));
    if (myRate > 0 && published % 10 === 0) {
      const dueAt = startedAt + (published / myRate) * 1000;
      const wait = dueAt - Date.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    }
  }
  while (stream.writableLength > 0) await new Promise((r) => setTimeout(r, 1));
}

async function run(job: PeerPublisherJob): Promise<void> {
  const clients = await connectAll(job);
  send({ type: 'ready' });
  await new Promise<void>((resolve) => {
    const onMsg = (m: PeerParentMessage): void => {
      if (m.type === 'go') {
        process.off('message', onMsg);
        resolve();
      }
    };
    process.on('message', onMsg);
  });
  const cpu0 = process.cpuUsage();
  const stats = { sent: 0, drainWaitMs: 0 };
  const startedAt = Date.now();
  await Promise.all(clients.map((client, c) => publishOn(client, c, job, stats, startedAt)));
  const endedAt = Date.now();
  while (clients.some((cl) => unacked(cl) > 0)) await new Promise((r) => setTimeout(r, 1));
  const ackedAt = Date.now();
  const cpu = process.cpuUsage(cpu0);
  await Promise.all(clients.map((cl) => cl.endAsync(false).catch(() => undefined)));
  send({ type: 'done', sent: stats.sent, startedAt, endedAt, ackedAt, drainWaitMs: Math.round(stats.drainWaitMs), cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000 });
}

// only when forked as a child (importing payloadFor elsewhere must not install these handlers)
if (process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.on('message', (m: PeerParentMessage) => {
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
