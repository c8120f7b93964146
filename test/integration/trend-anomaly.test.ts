/**
 * Trend (time-to-threshold) and anomaly rules through the real pipeline: MQTT → rules engine →
 * one work order each, with the projection / statistic in its explanation; backtest of a draft trend.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../ingest/topics.ts';
import { api, eventually, startTestPlatform } from '../helpers/platform.ts';

interface Page<T> {
  items: T[];
  total: number;
}

describe('trend and anomaly rules end to end (embedded stores)', () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let base: string;
  let client: MqttClient;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    platform = await startTestPlatform({});
    base = platform.apiUrl!;
    const site = await api<{ id: string }>(base, 'POST', '/sites', { code: 'TA', name: 'TA' });
    for (const code of ['BEARING-1', 'FLOW-1', 'MOTOR-1']) ids[code] = (await api<{ id: string }>(base, 'POST', '/assets', { code, name: code, type: code.split('-')[0]!.toLowerCase(), siteId: site.body.id })).body.id;
    const trend = await api<{ id: string; message?: string }>(base, 'POST', '/rules', {
      name: 'Bearing wear',
      kind: 'trend',
      assetId: ids['BEARING-1'],
      definition: { metric: 'vibration', windowSeconds: 3600, minPoints: 10, threshold: 10, direction: 'rising', leadTimeSeconds: 6 * 3600, severity: 'major', priority: 'high' },
    });
    expect(trend.status, trend.body.message).toBe(201);
    ids.trend = trend.body.id;
    const anomaly = await api<{ id: string; message?: string }>(base, 'POST', '/rules', {
      name: 'Flow anomaly',
      kind: 'anomaly',
      assetId: ids['FLOW-1'],
      definition: { metric: 'flow', method: 'robust_z', windowSize: 50, minPoints: 20, zThreshold: 4, consecutive: 1, severity: 'minor', priority: 'medium' },
    });
    expect(anomaly.status, anomaly.body.message).toBe(201);
    const composite = await api<{ id: string; message?: string }>(base, 'POST', '/rules', {
      name: 'Motor hot and shaking',
      kind: 'composite',
      assetId: ids['MOTOR-1'],
      definition: { combine: 'and', conditions: [{ metric: 'temperature', operator: '>', value: 80 }, { metric: 'vibration', operator: '>', value: 6 }], severity: 'critical', priority: 'urgent' },
    });
    expect(composite.status, composite.body.message).toBe(201);
    ids.composite = composite.body.id;
    await platform.engine.reload();
    client = await mqtt.connectAsync(platform.mqttUrl!, { protocolVersion: 4 });
  }, 60_000);

  afterAll(async () => {
    await client?.endAsync();
    await platform?.cleanup();
  });

  const publish = (asset: string, metrics: Record<string, number>, ts: number) =>
    client.publishAsync(telemetryTopic('TA', asset), JSON.stringify({ ts, metrics }), { qos: 1 });

  it('a steady rise projected to cross within the lead time creates one order explaining the projection', async () => {
    const t0 = Date.now() - 60 * 60_000;
    // vibration climbs 0.1 per minute from 2: reaches 10 after 80 min, i.e. within the 6 h lead
    for (let m = 0; m < 40; m++) await publish('BEARING-1', { vibration: 2 + m * 0.1 }, t0 + m * 60_000);
    const wo = await eventually(async () => (await api<Page<{ reason: { summary: string; kind: string } }>>(base, 'GET', `/work-orders?ruleId=${ids.trend}`)).body.items[0]);
    await platform.pipeline!.drain();
    expect((await api<Page<unknown>>(base, 'GET', `/work-orders?ruleId=${ids.trend}`)).body.total).toBe(1);
    expect(wo.reason.kind).toBe('trend');
    expect(wo.reason.summary).toMatch(/vibration/);
  });

  it('a spike against a steady baseline is an anomaly (once)', async () => {
    const t0 = Date.now() - 30 * 60_000;
    for (let i = 0; i < 40; i++) await publish('FLOW-1', { flow: 100 + (i % 5) * 0.5 }, t0 + i * 10_000);
    await platform.pipeline!.drain();
    expect((await api<Page<unknown>>(base, 'GET', `/work-orders?assetId=${ids['FLOW-1']}`)).body.total).toBe(0);
    await publish('FLOW-1', { flow: 160 }, t0 + 41 * 10_000);
    await publish('FLOW-1', { flow: 165 }, t0 + 42 * 10_000);
    const wo = await eventually(async () => (await api<Page<{ reason: { kind: string; statistic: { value: number } } }>>(base, 'GET', `/work-orders?assetId=${ids['FLOW-1']}`)).body.items[0]);
    await platform.pipeline!.drain();
    expect((await api<Page<unknown>>(base, 'GET', `/work-orders?assetId=${ids['FLOW-1']}`)).body.total).toBe(1);
    expect(wo.reason.kind).toBe('anomaly');
    expect(Math.abs(wo.reason.statistic.value)).toBeGreaterThan(4);
  });

  it('a draft trend rule can be backtested over the stored readings', async () => {
    await platform.telemetry.flush();
    const r = await api<{ workOrders: { assetCode: string }[]; readings: number }>(base, 'POST', '/rules/backtest', {
      draft: { kind: 'trend', definition: { metric: 'vibration', windowSeconds: 3600, minPoints: 10, threshold: 10, direction: 'rising', leadTimeSeconds: 6 * 3600, severity: 'major', priority: 'high' } },
      assetId: ids['BEARING-1'],
      from: new Date(Date.now() - 2 * 3600_000).toISOString(),
      to: new Date().toISOString(),
    });
    expect(r.status).toBe(200);
    expect(r.body.readings).toBe(40);
    expect(r.body.workOrders).toHaveLength(1);
  });

  it('a composite AND rule fires only when both metrics agree, and backtests over both series', async () => {
    const t0 = Date.now() - 10 * 60_000;
    await publish('MOTOR-1', { temperature: 90, vibration: 2 }, t0);
    await publish('MOTOR-1', { temperature: 70, vibration: 7 }, t0 + 10_000);
    await platform.pipeline!.drain();
    expect((await api<Page<unknown>>(base, 'GET', `/work-orders?ruleId=${ids.composite}`)).body.total).toBe(0);
    await publish('MOTOR-1', { temperature: 88 }, t0 + 20_000);
    await publish('MOTOR-1', { vibration: 7.5 }, t0 + 21_000);
    const wo = await eventually(async () => (await api<Page<{ priority: string; reason: { summary: string } }>>(base, 'GET', `/work-orders?ruleId=${ids.composite}`)).body.items[0]);
    expect(wo.priority).toBe('urgent');
    // vibration 7 from 10 s earlier is still fresh (maxAgeSeconds 300): the temperature reading completes the AND
    expect(wo.reason.summary).toContain('temperature 88 > 80 ✓ AND vibration 7 > 6 ✓');
    await platform.telemetry.flush();
    const bt = await api<{ readings: number; workOrders: unknown[] }>(base, 'POST', '/rules/backtest', {
      ruleId: ids.composite,
      from: new Date(t0 - 1000).toISOString(),
      to: new Date().toISOString(),
    });
    expect(bt.status).toBe(200);
    expect(bt.body.readings).toBe(6);
    expect(bt.body.workOrders).toHaveLength(1);
  });
});
