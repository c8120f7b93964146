/**
 * The zero-dependency default that `npm run demo` uses: embedded aedes broker, PGlite under DATA_DIR
 * and telemetry in the embedded table — with the demo simulator producing work orders by itself.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../ingest/topics.ts';
import { DEMO_SITE } from '../../simulators/demo-seed.ts';
import { api, eventually, startTestPlatform } from '../helpers/platform.ts';

interface Page<T> {
  items: T[];
  total: number;
}

describe('embedded default (no external database, broker or InfluxDB)', () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let base: string;

  beforeAll(async () => {
    platform = await startTestPlatform({
      DATABASE_URL: undefined,
      INFLUX_URL: undefined,
      MQTT_AUTH: 'devices', // the production default: the simulator logs in with its gateway credential
      SIMULATOR_ENABLED: 'true',
      SIMULATOR_ASSETS: '4',
      SIMULATOR_INTERVAL_MS: '100',
      SIMULATOR_HOURS_PER_TICK: '20',
    });
    base = platform.apiUrl!;
  }, 60_000);

  afterAll(async () => {
    await platform?.cleanup();
  });

  it('runs on PGlite and the embedded telemetry table', async () => {
    expect(platform.config.mqttAuth).toBe('devices');
    expect(platform.db.kind).toBe('pglite');
    expect(platform.telemetry.kind).toBe('embedded');
    const h = await api<{ status: string; components: Record<string, { ok: boolean }> }>(base, 'GET', '/health');
    expect(h.body.status).toBe('ok');
  });

  it('the simulated fleet produces PM and over-temperature work orders on its own', async () => {
    const pm = await eventually(async () => (await api<Page<{ source: string }>>(base, 'GET', '/work-orders?source=pm')).body.total >= 4, 20_000);
    expect(pm).toBe(true);
    const hot = await eventually(async () => (await api<Page<{ title: string; reason: { summary: string } }>>(base, 'GET', '/work-orders?source=rule')).body.items[0], 20_000);
    expect(hot.reason.summary).toMatch(/temperature on PUMP-ACME-P100-0002 was > 85/);
    // exactly one over-temperature order while the machine keeps overheating
    await new Promise((r) => setTimeout(r, 500));
    expect((await api<Page<unknown>>(base, 'GET', '/work-orders?source=rule')).body.total).toBe(1);
  });

  it('stores and returns telemetry from the embedded table, accepting a real mqtt.js client', async () => {
    const assets = await api<Page<{ id: string; code: string }>>(base, 'GET', '/assets?code=PUMP-ACME-P100-0001');
    const asset = assets.body.items[0]!;
    const login = await api<{ username: string; password: string }>(base, 'POST', `/assets/${asset.id}/credentials`, {});
    expect(login.status).toBe(201);
    const client = await mqtt.connectAsync(platform.mqttUrl!, { protocolVersion: 4, username: login.body.username, password: login.body.password });
    const ts = Date.now() - 120_000;
    await client.publishAsync(telemetryTopic(DEMO_SITE, asset.code), JSON.stringify({ ts, metrics: { pressure: 3.25 } }), { qos: 1 });
    await client.endAsync();
    const points = await eventually(async () => {
      const r = await api<{ points: { ts: string; value: number }[]; store: string }>(base, 'GET', `/assets/${asset.id}/telemetry?metric=pressure&from=${new Date(ts - 1000).toISOString()}`);
      return r.body.points.length > 0 && r.body;
    });
    expect(points).toMatchObject({ store: 'embedded', points: [{ ts: new Date(ts).toISOString(), value: 3.25 }] });
  });
});
