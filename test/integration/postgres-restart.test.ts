/**
 * PostgreSQL taken down while the rules engine evaluates breaches (issue #9): a private, restartable
 * PostgreSQL under the real platform (embedded broker, InfluxDB telemetry), MQTT QoS 1 publishers
 * that keep going through the outage. Once the database is back, every asset that breached has
 * exactly one work order per cause (threshold and usage rule) with one active alarm linked to it —
 * none lost, none duplicated — the platform recovered without a restart, nothing was dead-lettered,
 * and every reading is in InfluxDB (which never went down). Once with a fast shutdown, once with the
 * whole server SIGKILLed (crash recovery on restart).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../ingest/topics.ts';
import { createTestInfluxDb } from '../helpers/databases.ts';
import { api, eventually, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';
import { findPostgresBinDir, startPrivatePostgres, type PostgresStopMode, type PrivatePostgres } from '../services/local-services.ts';

const reason = skipReason('influxUrl') ?? (findPostgresBinDir() ? undefined : 'needs the PostgreSQL server binaries (apt-get install postgresql) for a private, restartable server');

const SITE = 'S';
const ASSETS_PER_RUN = 20;
const ROUND_MS = 100;
/** Rounds published before the database goes down. */
const STOP_ROUND = 20;
const OUTAGE_MS = 4_000;
/** Rounds published after the database is back. */
const AFTER_ROUNDS = 20;

interface Schedule {
  code: string;
  /** First round in which the asset breaches (temperature > 80, runHours ≥ 500); undefined = not yet decided. */
  from: number | undefined;
  /** Whether the database was down when its first breach was published. */
  duringOutage: boolean;
}

describe.skipIf(reason)(`PostgreSQL restarted during rule evaluation ${reason ?? ''}`, () => {
  let pgsrv: PrivatePostgres;
  let influx: Awaited<ReturnType<typeof createTestInfluxDb>>;
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let client: MqttClient;
  let thresholdRuleId = '';
  let usageRuleId = '';
  let published = 0;
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown): void => {
    unhandled.push(err);
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    pgsrv = await startPrivatePostgres();
    influx = await createTestInfluxDb(requireService('influxUrl')!);
    platform = await startTestPlatform({
      DATABASE_URL: pgsrv.url,
      INFLUX_URL: requireService('influxUrl')!,
      INFLUX_DATABASE: influx.db,
      TELEMETRY_FLUSH_MS: '50',
    });
    const site = await platform.db.prisma.site.create({ data: { code: SITE, name: SITE } });
    await platform.db.prisma.asset.create({ data: { code: 'NEW-1', name: 'never seen before the outage', type: 'fan', siteId: site.id } });
    for (const prefix of ['F', 'K']) {
      for (let i = 0; i < ASSETS_PER_RUN; i++) {
        const code = `${prefix}-${String(i).padStart(2, '0')}`;
        await platform.db.prisma.asset.create({ data: { code, name: code, type: 'fan', siteId: site.id } });
      }
    }
    thresholdRuleId = (
      await platform.db.prisma.rule.create({
        data: {
          name: 'Hot fan',
          kind: 'threshold',
          assetType: 'fan',
          definition: { schemaVersion: 1, metric: 'temperature', operator: '>', value: 80, holdSeconds: 0, hysteresis: 0, severity: 'minor', priority: 'medium' },
        },
      })
    ).id;
    usageRuleId = (
      await platform.db.prisma.rule.create({
        data: { name: 'Fan service', kind: 'usage', assetType: 'fan', definition: { schemaVersion: 1, metric: 'runHours', every: 500, startAt: 0, priority: 'medium' } },
      })
    ).id;
    await platform.engine.reload();
    client = await mqtt.connectAsync(platform.mqttUrl!, { protocolVersion: 4, clientId: 'pg-restart-publisher' });
  }, 60_000);

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
    await client?.endAsync().catch(() => undefined);
    // the database must be up for a clean platform stop (the pipeline drains into it)
    await pgsrv?.start().catch(() => undefined);
    await platform?.cleanup();
    await influx?.drop().catch(() => undefined);
    await pgsrv?.dispose();
  });

  const influxCount = async (): Promise<number> => {
    const q = new URLSearchParams({ db: influx.db, q: 'SELECT count("temperature") FROM "telemetry"' });
    const body = (await (await fetch(`${requireService('influxUrl')!}/query?${q}`)).json()) as { results: { series?: { values: [string, number][] }[] }[] };
    return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
  };

  /**
   * Publishes one reading per asset every ROUND_MS (QoS 1). Five assets breach before the outage,
   * five in the very round after which the database is stopped (their evaluation races the
   * shutdown), five while it is down and five after it is back. The database is stopped with `mode`,
   * kept down OUTAGE_MS while publishing goes on, then started again.
   */
  async function streamThroughOutage(prefix: string, mode: PostgresStopMode) {
    const schedule: Schedule[] = Array.from({ length: ASSETS_PER_RUN }, (_, i) => ({
      code: `${prefix}-${String(i).padStart(2, '0')}`,
      from: i < 5 ? 5 + 3 * i : i < 10 ? STOP_ROUND : undefined,
      duringOutage: false,
    }));
    let down = false;
    let back = false;
    let outage: Promise<void> | undefined;
    let restartedAt: number | undefined;
    const healthDuring: { ok: boolean; httpStatus: number }[] = [];
    let outageStartedRound = -1;
    let nextDuringOutage = 10;
    const base = Date.now();

    for (let round = 0; ; round++) {
      const started = Date.now();
      if (down && nextDuringOutage < 15 && round >= outageStartedRound + 5 + 6 * (nextDuringOutage - 10)) schedule[nextDuringOutage++]!.from = round;
      // the rest (including any the outage was too short for) breach after the restart
      if (restartedAt !== undefined) for (let j = nextDuringOutage; j < 20; j++) schedule[j]!.from ??= restartedAt + 2 + 3 * (j - nextDuringOutage);
      await Promise.all(
        schedule.map((a) => {
          const breached = a.from !== undefined && round >= a.from;
          if (a.from === round && down) a.duringOutage = true;
          const metrics = { temperature: breached ? 90 : 60, runHours: breached ? 500 + (round - a.from!) : 400 + round * 0.5 };
          published++;
          return client.publishAsync(telemetryTopic(SITE, a.code), JSON.stringify({ ts: base + round * ROUND_MS, metrics }), { qos: 1 });
        }),
      );
      if (round === STOP_ROUND) {
        // stop right away: the breaches of this round are being evaluated while the server goes down
        outageStartedRound = round;
        outage = (async () => {
          await pgsrv.stop(mode);
          down = true;
          await new Promise((r) => setTimeout(r, OUTAGE_MS / 2));
          const h = await platform.health();
          const res = await api<{ status: string }>(platform.apiUrl!, 'GET', '/health');
          healthDuring.push({ ok: h.components.database!.ok, httpStatus: res.status });
          await new Promise((r) => setTimeout(r, OUTAGE_MS / 2));
          await pgsrv.start();
          down = false;
          back = true;
        })();
        outage.catch(() => {
          back = true; // stop publishing; `await outage` below reports the error
        });
      }
      if (back && restartedAt === undefined) restartedAt = round;
      if (restartedAt !== undefined && round >= restartedAt + AFTER_ROUNDS) break;
      await new Promise((r) => setTimeout(r, Math.max(0, ROUND_MS - (Date.now() - started))));
    }
    await outage;
    return { schedule, healthDuring };
  }

  /** Every asset of the run: one order per rule, one active alarm linked to its threshold order. */
  async function expectExactlyOnce(prefix: string): Promise<void> {
    const assets = await platform.db.prisma.asset.findMany({ where: { code: { startsWith: `${prefix}-` } }, select: { id: true, code: true } });
    expect(assets).toHaveLength(ASSETS_PER_RUN);
    const ids = assets.map((a) => a.id);
    // everything published has been evaluated (retried batches included) once the pipeline is idle
    await platform.pipeline!.drain();
    await eventually(async () => (await platform.db.prisma.workOrder.count({ where: { assetId: { in: ids } } })) >= 2 * ASSETS_PER_RUN, 5_000, 100).catch(
      () => undefined, // the per-asset assertions below say which are missing
    );
    const orders = await platform.db.prisma.workOrder.findMany({ where: { assetId: { in: ids } }, select: { id: true, assetId: true, ruleId: true, dedupeKey: true } });
    for (const ruleId of [thresholdRuleId, usageRuleId]) {
      const per = new Map<string, number>();
      for (const o of orders.filter((w) => w.ruleId === ruleId)) per.set(o.assetId, (per.get(o.assetId) ?? 0) + 1);
      expect(
        assets.filter((a) => per.get(a.id) !== 1).map((a) => `${a.code}: ${per.get(a.id) ?? 0}`),
        `assets without exactly one order of rule ${ruleId}`,
      ).toEqual([]);
    }
    expect(orders).toHaveLength(2 * ASSETS_PER_RUN);
    expect(new Set(orders.map((o) => o.dedupeKey)).size).toBe(orders.length);
    const alarms = await platform.db.prisma.alarm.findMany({ where: { assetId: { in: ids } }, select: { assetId: true, ruleId: true, status: true, workOrderId: true } });
    expect(alarms).toHaveLength(ASSETS_PER_RUN);
    const thresholdOrder = new Map(orders.filter((o) => o.ruleId === thresholdRuleId).map((o) => [o.assetId, o.id]));
    for (const a of alarms) {
      expect(a.ruleId).toBe(thresholdRuleId);
      expect(a.status).toBe('active');
      expect(a.workOrderId).toBe(thresholdOrder.get(a.assetId));
    }
  }

  for (const [prefix, mode] of [
    ['F', 'fast'],
    ['K', 'kill'],
  ] as const) {
    it(`${mode === 'fast' ? 'fast shutdown' : 'SIGKILLed server'}: one work order per breach, nothing lost or dead-lettered`, async () => {
      const before = { ...platform.pipeline!.counters() };
      const engineBefore = platform.engine.stats();
      const sentBefore = published;

      const { schedule, healthDuring } = await streamThroughOutage(prefix, mode);
      const sent = published - sentBefore;

      // the outage hit rule evaluation (batches failed and were retried) and health said so
      expect(schedule.filter((a) => a.duringOutage).length, 'breaches first published while the database was down').toBeGreaterThan(0);
      expect(healthDuring).toEqual([{ ok: false, httpStatus: 503 }]);
      if (mode === 'kill') expect(pgsrv.log(200), 'the restart after SIGKILL ran crash recovery').toMatch(/not properly shut down; automatic recovery in progress/);
      const after = platform.pipeline!.counters();
      expect(after.sinkRetries - before.sinkRetries).toBeGreaterThan(0);
      expect(platform.engine.stats().errors - engineBefore.errors).toBeGreaterThan(0);

      await expectExactlyOnce(prefix);

      // recovered in place: healthy again, every message accepted, none refused or dead-lettered
      const health = await api<{ status: string }>(platform.apiUrl!, 'GET', '/health');
      expect(health.status, JSON.stringify(health.body)).toBe(200);
      const c = platform.pipeline!.counters();
      expect(c.received - before.received).toBe(sent);
      expect(c.accepted - before.accepted).toBe(sent);
      expect(c.readings - before.readings).toBe(2 * sent);
      expect(c.rejected).toBe(0);
      expect(platform.telemetry.stats().dropped).toBe(0);
      const dl = (await platform.health()).counters.deadLetters as { total: number };
      expect(dl.total).toBe(0);
      expect(await platform.db.prisma.deadLetter.count()).toBe(0);
      // InfluxDB never went down: every reading published so far is stored, once
      await eventually(async () => (await influxCount()) === published, 20_000, 100);
      expect(unhandled).toEqual([]);
    }, 60_000);
  }

  it('readings of an asset not cached yet wait for the database instead of being dropped', async () => {
    const before = { ...platform.pipeline!.counters() };
    const stored = await influxCount();
    // NEW-1 has never sent anything: its first reading needs a database lookup (the asset cache is cold)
    await pgsrv.stop('fast');
    const base = Date.now();
    for (let i = 0; i < 5; i++) {
      await client.publishAsync(telemetryTopic(SITE, 'NEW-1'), JSON.stringify({ ts: base + i, metrics: { temperature: 60, runHours: 1 } }), { qos: 1 });
      published++;
    }
    // held, not dropped and not dead-lettered, while the database is down
    await eventually(async () => platform.pipeline!.counters().sinkRetries > before.sinkRetries, 10_000, 50);
    expect(platform.pipeline!.counters().accepted - before.accepted).toBe(0);
    expect(platform.pipeline!.counters().rejected).toBe(0);
    await pgsrv.start();
    await eventually(async () => platform.pipeline!.counters().accepted - before.accepted === 5, 20_000, 100);
    await platform.pipeline!.drain();
    expect(platform.pipeline!.counters().rejected).toBe(0);
    await eventually(async () => (await influxCount()) === stored + 5, 20_000, 100);
    expect(await platform.db.prisma.deadLetter.count()).toBe(0);
    expect(unhandled).toEqual([]);
  }, 60_000);
});
