/**
 * Issue #9: the service is killed with SIGKILL in the middle of a QoS 1 telemetry stream and started
 * again, on real components: the real service as a child process (main.ts under tsx), PostgreSQL,
 * InfluxDB 1.x and an external Mosquitto (MQTT_MODE=external, stable MQTT_CLIENT_ID → persistent
 * session, so what is published while the service is down is queued by the broker).
 *
 * Simulated time: one "tick" = 5 s of reading time; every tick each of six fans sends one QoS 1
 * message {temperature, vibration, runHours}. Phases (ticks):
 *   A [0, 40)    service up; the test waits until all of it is in InfluxDB
 *   B [40, 70)   streamed at ~20 ticks/s; SIGKILL right after tick 55 is published, the stream goes on
 *   D [70, 110)  published while the service is down (queued by Mosquitto; with the rest of B ~330
 *                messages, under Mosquitto's default max_queued_messages of 1000 — beyond it the broker
 *                silently drops what a down subscriber would have received)
 *   C [110, 150) after the restart
 * Rules: "Overheat" temperature > 80 held 60 s (12 ticks), "Bearing wear" vibration > 7 held 600 s
 * (120 ticks), "500 h service" every 500 runHours. Per fan:
 *   FAN-A  vibration high from tick 10 on: the 600 s hold starts in A and completes only in C, so the
 *          order exists only if the pending state (since = tick 10) was recovered from the database
 *   FAN-B  overheat from tick 5 (order in A) continuing across kill and restart; 500 h crossed in A
 *   FAN-C  overheat from tick 48 (pending at the kill, hold done at tick 60); 500 h crossed at tick 56
 *   FAN-D  overheat ticks 75–100 and 500 h at tick 80: wholly while the service is down
 *   FAN-E  overheat from tick 115 and 500 h at tick 120: after the restart
 *   FAN-F  nothing (control)
 * After the restart the test re-sends all of B (a gateway retrying at least once; the broker itself
 * redelivers only what was in flight unacknowledged, usually nothing, see the printed figures).
 *
 * Proven: exactly one work order per cause (none duplicated by redelivery or journal replay, none
 * lost), the hold timer continues from the database, everything published while the service was down
 * reaches InfluxDB, and — with the ingest journal (INGEST_JOURNAL=on, the default) — no reading the
 * dead process had acknowledged is lost: mqtt.js PUBACKs QoS 1 on receipt, the journal has the message
 * before that, and the restarted service replays what the dead one had not yet written to InfluxDB
 * (checked before the gateway re-sends the window). A graceful stop leaves the journal empty.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../ingest/topics.ts';
import { TELEMETRY_MEASUREMENT } from '../../ingest/telemetry-schema.ts';
import { openDatabase, type Database, type Prisma } from '../../platform/db/database.ts';
import { createTestStores } from '../helpers/databases.ts';
import { platformProcess, type HealthBody, type PlatformProcess } from '../helpers/platform-process.ts';
import { eventually } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';
import { findMosquittoBinary, startPrivateMosquitto, type PrivateMosquitto } from '../services/local-services.ts';

const reason = skipReason('databaseUrl', 'influxUrl', 'mosquittoUrl') ?? (findMosquittoBinary() ? undefined : 'needs the mosquitto binary for a private broker');

const SITE = 'CR';
const FANS = ['FAN-A', 'FAN-B', 'FAN-C', 'FAN-D', 'FAN-E', 'FAN-F'] as const;
type Fan = (typeof FANS)[number];
const TICK_MS = 5_000;
const PHASE = { A: [0, 40], B: [40, 70], D: [70, 110], C: [110, 150] } as const;
const KILL_AFTER_TICK = 55;
/** Real time between ticks in phase B (the stream the kill lands in): 20 ticks/s = 120 msg/s. */
const B_TICK_GAP_MS = 50;
const FLUSH_MS = 1_000; // TELEMETRY_FLUSH_MS, the production default

const inRange = (t: number, from: number, to: number): boolean => t >= from && t <= to;
function reading(fan: Fan, t: number): { temperature: number; vibration: number; runHours: number } {
  const hot = (fan === 'FAN-B' && t >= 5) || (fan === 'FAN-C' && inRange(t, 48, 100)) || (fan === 'FAN-D' && inRange(t, 75, 100)) || (fan === 'FAN-E' && t >= 115);
  const shaking = fan === 'FAN-A' && t >= 10;
  // run hours at tick 0; +0.5 h per tick → FAN-B 500 at tick 20, FAN-C at 56, FAN-D at 80, FAN-E at 120
  const start: Record<Fan, number> = { 'FAN-A': 400, 'FAN-B': 490, 'FAN-C': 472, 'FAN-D': 460, 'FAN-E': 440, 'FAN-F': 100 };
  return { temperature: hot ? 90 : 60, vibration: shaking ? 9 : 2, runHours: start[fan] + t * 0.5 };
}

describe.skipIf(reason)(`service killed (-9) mid-stream and restarted ${reason ?? ''}`, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  let db: Database;
  let proc: PlatformProcess;
  let broker: PrivateMosquitto;
  let publisher: MqttClient;
  let influxUrl: string;
  let influxDb: string;
  const t0 = Math.floor((Date.now() - 30 * 60_000) / 1000) * 1000;
  const tsOf = (t: number): number => t0 + t * TICK_MS;
  const rules: Record<'overheat' | 'wear' | 'service', string> = { overheat: '', wear: '', service: '' };
  const assetIds = new Map<Fan, string>();

  beforeAll(async () => {
    const stores = await createTestStores({ databaseUrl: requireService('databaseUrl')!, influxUrl: requireService('influxUrl')! }, cleanups);
    ({ influxUrl, influxDb } = stores);
    broker = await startPrivateMosquitto({ persistence: true });
    cleanups.push(() => broker.dispose());

    // seed through the schema the service migrates to (openDatabase applies the migrations)
    const scratch = mkdtempSync(join(tmpdir(), 'om-crash-seed-'));
    cleanups.push(async () => rmSync(scratch, { recursive: true, force: true }));
    db = await openDatabase({ databaseUrl: stores.databaseUrl, dataDir: scratch, logger: pino({ level: 'silent' }) });
    cleanups.push(() => db.close());
    const site = await db.prisma.site.create({ data: { code: SITE, name: 'Crash/restart' } });
    for (const code of FANS) assetIds.set(code, (await db.prisma.asset.create({ data: { code, name: code, type: 'fan', siteId: site.id } })).id);
    const rule = async (name: string, kind: 'threshold' | 'usage', definition: Prisma.InputJsonObject): Promise<string> =>
      (await db.prisma.rule.create({ data: { name, kind, assetType: 'fan', definition } })).id;
    rules.overheat = await rule('Overheat', 'threshold', { schemaVersion: 1, metric: 'temperature', operator: '>', value: 80, holdSeconds: 60, hysteresis: 5, severity: 'major', priority: 'high' });
    rules.wear = await rule('Bearing wear', 'threshold', { schemaVersion: 1, metric: 'vibration', operator: '>', value: 7, holdSeconds: 600, hysteresis: 1, severity: 'minor', priority: 'medium' });
    rules.service = await rule('500 h service', 'usage', { schemaVersion: 1, metric: 'runHours', every: 500, startAt: 0, priority: 'medium' });

    proc = platformProcess({
      env: {
        DATABASE_URL: stores.databaseUrl,
        INFLUX_URL: influxUrl,
        INFLUX_DATABASE: influxDb,
        MQTT_MODE: 'external',
        MQTT_URL: broker.url,
        MQTT_CLIENT_ID: `om-crash-${randomBytes(4).toString('hex')}`,
        TELEMETRY_FLUSH_MS: String(FLUSH_MS),
      },
      // ready = subscribed on the broker (health 200 needs the broker component ok)
      ready: (h: HealthBody) => h.components.broker?.ok === true && h.components.rules?.detail.startsWith('3 rules') === true,
    });
    cleanups.push(() => proc.dispose());

    publisher = await connectAsync(broker.url, { protocolVersion: 5, clientId: `crash-pub-${randomBytes(4).toString('hex')}`, clean: true, reconnectPeriod: 0, connectTimeout: 5_000 });
    publisher.on('error', () => undefined);
    cleanups.push(() => publisher.endAsync(true));
  }, 60_000);

  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch((err: unknown) => console.warn('cleanup failed:', err));
  });

  async function publishTick(t: number): Promise<void> {
    await Promise.all(FANS.map((fan) => publisher.publishAsync(telemetryTopic(SITE, fan), JSON.stringify({ ts: tsOf(t), metrics: reading(fan, t) }), { qos: 1 })));
  }

  async function influxPoints(): Promise<Map<Fan, Set<number>>> {
    const params = new URLSearchParams({ db: influxDb, epoch: 'ms', q: `SELECT "temperature" FROM "${TELEMETRY_MEASUREMENT}" WHERE "site" = '${SITE}' GROUP BY "asset"` });
    const res = await fetch(`${influxUrl}/query?${params}`);
    const body = (await res.json()) as { results?: { series?: { tags: { asset: string }; values: [number, number][] }[] }[] };
    const out = new Map<Fan, Set<number>>(FANS.map((f) => [f, new Set<number>()]));
    for (const s of body.results?.[0]?.series ?? []) for (const [ts] of s.values) out.get(s.tags.asset as Fan)?.add((ts - t0) / TICK_MS);
    return out;
  }

  const ticks = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
  const missingIn = (points: Map<Fan, Set<number>>, from: number, to: number): { fan: Fan; tick: number }[] =>
    FANS.flatMap((fan) => ticks(from, to).filter((t) => !points.get(fan)!.has(t)).map((tick) => ({ fan, tick })));

  it('keeps work orders exactly-once and recovers rule state; the journal loses no acknowledged reading', async () => {
    await proc.start();
    const firstPid = proc.pid();

    // A: service up; wait until all of it is stored and FAN-A's 600 s hold is pending in the database
    for (const t of ticks(...PHASE.A)) await publishTick(t);
    await eventually(async () => missingIn(await influxPoints(), ...PHASE.A).length === 0, 15_000);
    const pendingA = await eventually(async () => {
      const row = await db.prisma.ruleState.findUnique({ where: { ruleId_assetId: { ruleId: rules.wear, assetId: assetIds.get('FAN-A')! } } });
      return row && (row.state as { phase?: string }).phase === 'pending' ? (row.state as { since: number }) : undefined;
    });
    expect(pendingA.since).toBe(tsOf(10));
    await eventually(async () => (await db.prisma.workOrder.count()) === 2); // FAN-B: overheat (tick 17) and 500 h (tick 20)

    // B: stream; SIGKILL right after tick 55 while the stream goes on. /health is polled meanwhile
    // so the last counters the process reported before it died can be shown.
    let lastHealth: HealthBody | undefined;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        try {
          lastHealth = (await proc.health()).body;
        } catch {
          /* dead */
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    let killAt = 0;
    let killed: Promise<void> | undefined;
    for (const t of ticks(...PHASE.B)) {
      await publishTick(t);
      if (t === KILL_AFTER_TICK) {
        polling = false;
        killAt = Date.now();
        killed = proc.kill9();
      }
      await new Promise((r) => setTimeout(r, B_TICK_GAP_MS));
    }
    await killed;
    await poller;
    expect(proc.running()).toBe(false);

    // D: published while the service is down; Mosquitto queues them in the service's session
    for (const t of ticks(...PHASE.D)) await publishTick(t);
    const downEnd = Date.now();

    // restart: same env, same DATA_DIR, same MQTT client id
    const restartAt = Date.now();
    await proc.start();
    const readyMs = Date.now() - restartAt;
    expect(proc.pid()).not.toBe(firstPid);

    // what was published after the kill (the rest of B, all of D) was queued by Mosquitto and arrives
    await eventually(async () => {
      const p = await influxPoints();
      return missingIn(p, KILL_AFTER_TICK + 1, PHASE.B[1]).length === 0 && missingIn(p, ...PHASE.D).length === 0;
    }, 30_000);
    // measure the loss now: B before the kill is the window the dead process had taken over
    const lostB = missingIn(await influxPoints(), ...PHASE.B);
    const afterRestart = (await proc.health()).body;
    const publishedAfterKill = (PHASE.D[1] - KILL_AFTER_TICK - 1) * FANS.length;
    const redelivered = (afterRestart.counters.ingest as { received: number }).received - publishedAfterKill;
    // the journal closed the gap: nothing published before the kill is missing (before any re-send)
    expect(lostB).toEqual([]);
    // the dead process's open journal segment is always left behind, so a replay must have happened
    const replayed = (afterRestart.counters.ingest as { replayed: number }).replayed;
    expect(replayed).toBeGreaterThan(0);

    // a gateway re-sending the kill window after the restart (at-least-once on its side): duplicates
    // and older timestamps must not move any rule backwards or create orders
    for (const t of ticks(...PHASE.B)) await publishTick(t);
    // C: after the restart
    for (const t of ticks(...PHASE.C)) await publishTick(t);
    await eventually(async () => {
      const p = await influxPoints();
      return missingIn(p, 0, PHASE.C[1]).length === 0;
    }, 30_000);
    // graceful stop drains the pipeline and flushes: nothing is still in flight when we count
    await proc.stop();
    // …and releases every journal segment (all durable)
    const journalDir = join(proc.dataDir, 'journal');
    expect(existsSync(journalDir) ? readdirSync(journalDir) : []).toEqual([]);

    // --- work orders: exactly one per cause ---------------------------------------------------------
    const orders = await db.prisma.workOrder.findMany({ select: { assetId: true, ruleId: true, dedupeKey: true, reason: true } });
    const fanOf = new Map([...assetIds].map(([code, id]) => [id, code]));
    const got = orders.map((o) => `${fanOf.get(o.assetId!)}:${Object.entries(rules).find(([, id]) => id === o.ruleId)?.[0] ?? o.ruleId}`).sort();
    expect(got).toEqual(
      [
        'FAN-A:wear', // hold from tick 10 (A) to tick 130 (C): spans the kill and the restart
        'FAN-B:overheat', // before the kill
        'FAN-B:service',
        'FAN-C:overheat', // episode around the kill
        'FAN-C:service',
        'FAN-D:overheat', // wholly while the service was down
        'FAN-D:service',
        'FAN-E:overheat', // after the restart
        'FAN-E:service',
      ].sort(),
    );
    const reasonOf = (fan: Fan, rule: keyof typeof rules): { inputs: { from: string; to: string } } =>
      orders.find((o) => o.assetId === assetIds.get(fan) && o.ruleId === rules[rule])!.reason as { inputs: { from: string; to: string } };
    // the hold timer continued from the persisted state: since = tick 10, raised at tick 130 (a reset
    // state would have restarted the 600 s hold after the restart and never completed it)
    expect(reasonOf('FAN-A', 'wear').inputs).toMatchObject({ from: new Date(tsOf(10)).toISOString(), to: new Date(tsOf(130)).toISOString() });
    expect(reasonOf('FAN-D', 'overheat').inputs).toMatchObject({ from: new Date(tsOf(75)).toISOString(), to: new Date(tsOf(87)).toISOString() });
    expect(reasonOf('FAN-E', 'overheat').inputs).toMatchObject({ from: new Date(tsOf(115)).toISOString(), to: new Date(tsOf(127)).toISOString() });

    // --- telemetry: published while down → stored; loss limited to the last flush before the kill --
    const points = await influxPoints();
    expect(missingIn(points, ...PHASE.A)).toEqual([]);
    expect(missingIn(points, ...PHASE.D)).toEqual([]);
    expect(missingIn(points, ...PHASE.C)).toEqual([]);
    expect(missingIn(points, ...PHASE.B)).toEqual([]); // the re-sent window filled the gap (same series + ts: no duplicates)
    const fcSince = (Date.parse(reasonOf('FAN-C', 'overheat').inputs.from) - t0) / TICK_MS;
    expect(fcSince).toBeGreaterThanOrEqual(48);

    const report = {
      killAfterTick: KILL_AFTER_TICK,
      msgPerSecondInB: Math.round((FANS.length * 1000) / B_TICK_GAP_MS),
      telemetryFlushMs: FLUSH_MS,
      lostReadings: lostB.length,
      replayedFromJournal: replayed,
      journalBeforeKill: lastHealth?.counters.journal,
      lastCountersBeforeKill: { ingest: lastHealth?.counters.ingest, telemetry: lastHealth?.counters.telemetry },
      downMs: downEnd - killAt,
      restartReadyMs: readyMs,
      redeliveredByBroker: redelivered,
      fanCOverheatSinceTick: fcSince,
    };
    console.info(`[crash-restart] ${JSON.stringify(report)}`);
  }, 90_000);
});
