/**
 * InfluxDB stopped mid-stream and started again: every accepted point is written once it is back
 * (spooled to disk meanwhile), none lost, none duplicated (counts are exact).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../ingest/topics.ts';
import { restartableInfluxd } from '../helpers/influxd.ts';
import { eventually, startTestPlatform } from '../helpers/platform.ts';
import { services } from '../helpers/services.ts';

const reason = services().influxUrl ? undefined : 'needs InfluxDB 1.x (apt-get install influxdb)';

describe.skipIf(reason)(`InfluxDB outage during ingest ${reason ?? ''}`, () => {
  let influx: Awaited<ReturnType<typeof restartableInfluxd>>;
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;

  beforeAll(async () => {
    influx = await restartableInfluxd();
    platform = await startTestPlatform({ INFLUX_URL: influx.url, INFLUX_DATABASE: 'outage', TELEMETRY_FLUSH_MS: '50', TELEMETRY_BATCH_SIZE: '200' });
    const site = await platform.db.prisma.site.create({ data: { code: 'S', name: 'S' } });
    for (let i = 0; i < 5; i++) await platform.db.prisma.asset.create({ data: { code: `P-${i}`, name: `P-${i}`, type: 'pump', siteId: site.id } });
  }, 60_000);

  afterAll(async () => {
    await platform?.cleanup();
    await influx?.dispose();
  });

  const count = async (): Promise<number> => {
    const q = new URLSearchParams({ db: 'outage', q: 'SELECT count("v") FROM "telemetry"' });
    const body = (await (await fetch(`${influx.url}/query?${q}`)).json()) as { results: { series?: { values: [string, number][] }[] }[] };
    return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
  };

  it('spools while InfluxDB is down and writes everything exactly once when it returns', async () => {
    const client = await mqtt.connectAsync(platform.mqttUrl!, { protocolVersion: 4 });
    const base = Date.now() - 120_000;
    const send = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) {
        await client.publishAsync(telemetryTopic('S', `P-${i % 5}`), JSON.stringify({ ts: base + i, metrics: { v: i } }), { qos: 1 });
      }
    };
    await send(0, 1000);
    await eventually(async () => (await count()) === 1000);

    await influx.stop();
    await send(1000, 2500);
    await platform.pipeline!.drain();
    // the points went to disk, not to memory
    await eventually(async () => platform.telemetry.stats().spooled === 1500 && platform.telemetry.stats().buffered === 0);
    const spoolDir = join(platform.config.dataDir, 'spool', 'telemetry');
    expect(existsSync(spoolDir) && readdirSync(spoolDir).length).toBeGreaterThan(0);
    const health = await platform.health();
    expect(health.components.telemetryStore!.ok).toBe(false);

    await influx.start();
    await send(2500, 3000);
    await eventually(async () => (await count()) === 3000, 60_000, 200);
    await eventually(async () => platform.telemetry.stats().spooled === 0);
    expect(readdirSync(spoolDir)).toEqual([]);
    // exactly the published values, once each
    const q = new URLSearchParams({ db: 'outage', q: 'SELECT sum("v") FROM "telemetry"' });
    const sum = (await (await fetch(`${influx.url}/query?${q}`)).json()) as { results: { series: { values: [string, number][] }[] }[] };
    expect(sum.results[0]!.series[0]!.values[0]![1]).toBe((2999 * 3000) / 2);
    expect(platform.telemetry.stats().dropped).toBe(0);
    await client.endAsync();
  }, 120_000);
});
