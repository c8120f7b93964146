/**
 * Backpressure on the embedded broker: a burst far larger than the ingest queue is slowed down at
 * the publisher's TCP stream instead of being refused — nothing is dead-lettered as overloaded.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../ingest/topics.ts';
import { eventually, startTestPlatform } from '../helpers/platform.ts';

describe('ingest backpressure (embedded broker, embedded stores)', () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;

  beforeAll(async () => {
    platform = await startTestPlatform({ INGEST_QUEUE_LIMIT: '100', ROLES: 'ingest,rules' });
    const site = await platform.db.prisma.site.create({ data: { code: 'BP', name: 'BP' } });
    await platform.db.prisma.asset.create({ data: { code: 'BP-1', name: 'BP-1', type: 'x', siteId: site.id } });
  }, 60_000);

  afterAll(async () => {
    await platform?.cleanup();
  });

  it('holds a 5,000-message burst back instead of dead-lettering it', async () => {
    const client = await mqtt.connectAsync(platform.mqttUrl!, { protocolVersion: 4 });
    const base = Date.now() - 100_000;
    for (let i = 0; i < 5000; i++) client.publish(telemetryTopic('BP', 'BP-1'), JSON.stringify({ ts: base + i, metrics: { v: i } }), { qos: 0 });
    await client.publishAsync(telemetryTopic('BP', 'BP-1'), JSON.stringify({ ts: base + 5000, metrics: { v: 5000 } }), { qos: 1 });
    await eventually(async () => platform.pipeline!.counters().accepted === 5001, 30_000);
    const c = platform.pipeline!.counters();
    expect(c).toMatchObject({ received: 5001, accepted: 5001, rejected: 0 });
    expect(c.throttled).toBeGreaterThan(0);
    const dl = (await platform.health()).counters.deadLetters as { total: number };
    expect(dl.total).toBe(0);
    await platform.telemetry.flush();
    expect(await platform.db.prisma.telemetryPoint.count({ where: { assetCode: 'BP-1' } })).toBe(5001);
    await client.endAsync();
  }, 60_000);
});
