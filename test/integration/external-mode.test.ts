/**
 * MQTT_MODE=external: two service instances on one Mosquitto with an MQTT 5 shared subscription
 * split the load — every message processed once, telemetry stored once, one work order per cause.
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../ingest/topics.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { eventually, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl', 'mosquittoUrl');

describe.skipIf(reason)(`two instances on an external broker (shared subscription) ${reason ?? ''}`, () => {
  const run = randomBytes(4).toString('hex');
  const SITE = `ext-${run}`;
  let a: Awaited<ReturnType<typeof startTestPlatform>>;
  let b: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    drop = db.drop;
    const env = (id: string) => ({
      DATABASE_URL: db.url,
      MQTT_MODE: 'external',
      MQTT_URL: requireService('mosquittoUrl'),
      MQTT_CLIENT_ID: `om-${run}-${id}`,
      MQTT_SHARE_GROUP: `g-${run}`,
    });
    a = await startTestPlatform(env('a'));
    const site = await a.db.prisma.site.create({ data: { code: SITE, name: SITE } });
    for (let i = 0; i < 4; i++) await a.db.prisma.asset.create({ data: { code: `${SITE}-M${i}`, name: `M${i}`, type: 'fan', siteId: site.id } });
    await a.db.prisma.rule.create({
      data: {
        name: 'Fan hot',
        kind: 'threshold',
        assetType: 'fan',
        definition: { schemaVersion: 1, metric: 'temperature', operator: '>', value: 80, holdSeconds: 0, hysteresis: 0, severity: 'minor', priority: 'medium' },
      },
    });
    b = await startTestPlatform(env('b'));
    await a.engine.reload();
  }, 60_000);

  afterAll(async () => {
    await a?.cleanup();
    await b?.cleanup();
    await drop?.();
  });

  it('reports the external broker in health', async () => {
    const h = await a.health();
    expect(h.components.broker).toMatchObject({ ok: true });
    expect(h.components.broker!.detail).toContain(`$share/g-${run}/plant/+/+/+`);
    expect(a.mqttUrl).toBeUndefined();
  });

  it('splits 400 messages between the instances with no duplicates, and one work order per cause', async () => {
    const pub = await mqtt.connectAsync(requireService('mosquittoUrl')!, { protocolVersion: 5 });
    const base = Date.now() - 60_000;
    for (let i = 0; i < 400; i++) {
      // every message breaches the rule: both instances see breaches for every asset
      await pub.publishAsync(telemetryTopic(SITE, `${SITE}-M${i % 4}`), JSON.stringify({ ts: base + i, metrics: { temperature: 85 + (i % 5) } }), { qos: 1 });
    }
    await pub.endAsync();
    await eventually(async () => (a.pipeline!.counters().accepted + b.pipeline!.counters().accepted) === 400, 20_000);
    await a.pipeline!.drain();
    await b.pipeline!.drain();
    expect(a.pipeline!.counters().accepted).toBeGreaterThan(0);
    expect(b.pipeline!.counters().accepted).toBeGreaterThan(0);
    await a.telemetry.flush();
    await b.telemetry.flush();
    expect(await a.db.prisma.telemetryPoint.count({ where: { siteCode: SITE } })).toBe(400);
    const orders = await a.db.prisma.workOrder.groupBy({ by: ['assetId'], _count: true });
    expect(orders).toHaveLength(4);
    expect(orders.every((o) => o._count === 1)).toBe(true);
  });
});
