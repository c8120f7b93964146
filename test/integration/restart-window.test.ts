/**
 * A restart loses no trend window: the new process rebuilds it from InfluxDB, so readings after the
 * restart complete a projection that needs the readings from before it.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../ingest/topics.ts';
import { createTestDatabase, createTestInfluxDb } from '../helpers/databases.ts';
import { eventually, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl', 'influxUrl');

describe.skipIf(reason)(`trend window across a restart ${reason ?? ''}`, () => {
  let env: Record<string, string | undefined>;
  const drops: (() => Promise<void>)[] = [];
  let platform: Awaited<ReturnType<typeof startTestPlatform>> | undefined;

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    const influx = await createTestInfluxDb(requireService('influxUrl')!);
    drops.push(db.drop, influx.drop);
    env = { DATABASE_URL: db.url, INFLUX_URL: requireService('influxUrl'), INFLUX_DATABASE: influx.db };
  });

  afterAll(async () => {
    await platform?.cleanup();
    for (const d of drops) await d();
  });

  async function publishRise(p: NonNullable<typeof platform>, from: number, to: number, t0: number): Promise<void> {
    const c = await mqtt.connectAsync(p.mqttUrl!, { protocolVersion: 4 });
    for (let m = from; m < to; m++) await c.publishAsync(telemetryTopic('RW', 'GEARBOX-1'), JSON.stringify({ ts: t0 + m * 60_000, metrics: { oilTemp: 40 + m } }), { qos: 1 });
    await c.endAsync();
    await p.pipeline!.drain();
    await p.telemetry.flush();
  }

  it('readings before and after the restart form one window', async () => {
    platform = await startTestPlatform(env);
    const site = await platform.db.prisma.site.create({ data: { code: 'RW', name: 'RW' } });
    const asset = await platform.db.prisma.asset.create({ data: { code: 'GEARBOX-1', name: 'Gearbox', type: 'gearbox', siteId: site.id } });
    await platform.db.prisma.rule.create({
      data: {
        name: 'Oil heating up',
        kind: 'trend',
        assetId: asset.id,
        // 12 points needed; rising 1 °C/min towards 95 °C: the projection is inside the 2 h lead
        definition: { schemaVersion: 1, metric: 'oilTemp', windowSeconds: 3600, minPoints: 12, threshold: 95, direction: 'rising', leadTimeSeconds: 7200, minR2: 0.5, severity: 'major', priority: 'high' },
      },
    });
    await platform.engine.reload();
    const t0 = Date.now() - 30 * 60_000;
    await publishRise(platform, 0, 8, t0); // 8 points: not enough to project
    expect(await platform.db.prisma.workOrder.count()).toBe(0);
    await platform.cleanup();

    platform = await startTestPlatform(env); // a new process: empty caches
    await publishRise(platform, 8, 12, t0); // 4 more: only together with the 8 stored ones are there 12
    const wo = await eventually(async () => platform!.db.prisma.workOrder.findFirst({ where: { assetId: asset.id } }));
    expect((wo.reason as { kind: string }).kind).toBe('trend');
    expect(await platform.db.prisma.workOrder.count()).toBe(1);
  }, 60_000);
});
