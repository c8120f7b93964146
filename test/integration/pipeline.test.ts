/**
 * End to end on real components: PostgreSQL, InfluxDB (v1 API), the embedded aedes broker, and real
 * MQTT clients (mqtt.js and mosquitto_pub). Telemetry in → rules → exactly one work order out.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alarmTopic, telemetryTopic } from '../../ingest/topics.ts';
import { createTestDatabase, createTestInfluxDb } from '../helpers/databases.ts';
import { api, eventually, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const run = promisify(execFile);
const reason = skipReason('databaseUrl', 'influxUrl');

interface Page<T> {
  items: T[];
  total: number;
}
interface WorkOrder {
  id: string;
  number: number;
  status: string;
  source: string;
  ruleId: string | null;
  dedupeKey: string | null;
  reason: { summary: string; threshold: number; ruleVersion: number; statistic: { value: number } };
  completionMeter: number | null;
  allowedTransitions: string[];
  events?: { toStatus: string; note: string | null }[];
  closedWithActiveAlarm?: boolean;
  alarms?: { status: string }[];
}

describe.skipIf(reason)(`telemetry → rules → work orders on PostgreSQL + InfluxDB + MQTT ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let dropDb: () => Promise<void>;
  let dropInflux: () => Promise<void>;
  let influxDb: string;
  let client: MqttClient;
  let base: string;
  const ids: Record<string, string> = {};
  const SITE = 'site-e2e';

  const publish = async (asset: string, metrics: Record<string, number>, ts: number): Promise<void> => {
    await client.publishAsync(telemetryTopic(SITE, asset), JSON.stringify({ ts, metrics }), { qos: 1 });
  };
  const orders = async (query: string): Promise<Page<WorkOrder>> => (await api<Page<WorkOrder>>(base, 'GET', `/work-orders?${query}`)).body;

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    dropDb = db.drop;
    const influx = await createTestInfluxDb(requireService('influxUrl')!);
    dropInflux = influx.drop;
    influxDb = influx.db;
    platform = await startTestPlatform({ DATABASE_URL: db.url, INFLUX_URL: requireService('influxUrl'), INFLUX_DATABASE: influx.db });
    base = platform.apiUrl!;
    const site = await api<{ id: string }>(base, 'POST', '/sites', { code: SITE, name: 'E2E site' });
    expect(site.status).toBe(201);
    for (const code of ['PUMP-ACME-X1-0001', 'PUMP-ACME-X1-0002', 'PUMP-ACME-X1-0003']) {
      const a = await api<{ id: string }>(base, 'POST', '/assets', { code, name: code, type: 'pump', brand: 'ACME', model: 'X1', siteId: site.body.id, installDate: '2025-01-15' });
      expect(a.status).toBe(201);
      ids[code] = a.body.id;
    }
    const hot = await api<{ id: string }>(base, 'POST', '/rules', {
      name: 'Over-temperature',
      kind: 'threshold',
      assetType: 'pump',
      definition: { metric: 'temperature', operator: '>', value: 85, holdSeconds: 2, hysteresis: 5, severity: 'major', priority: 'high' },
    });
    expect(hot.status).toBe(201);
    ids.hotRule = hot.body.id;
    const pm = await api<{ id: string }>(base, 'POST', '/rules', {
      name: '500 h service',
      kind: 'usage',
      assetType: 'pump',
      definition: { metric: 'runHours', every: 500, priority: 'medium' },
    });
    expect(pm.status).toBe(201);
    ids.pmRule = pm.body.id;
    const eng = await api<{ id: string }>(base, 'POST', '/engineers', { code: 'E-1', name: 'Zhang San', skills: ['pump'] });
    ids.engineer = eng.body.id;
    await platform.engine.reload();
    client = await mqtt.connectAsync(platform.mqttUrl!, { protocolVersion: 4, clientId: 'e2e-device' });
  });

  afterAll(async () => {
    await client?.endAsync();
    await platform?.cleanup();
    await dropDb?.();
    await dropInflux?.();
  });

  it('an over-temperature episode creates exactly one work order and alarm, despite duplicates and retries', async () => {
    const asset = 'PUMP-ACME-X1-0001';
    const t = Date.now() - 60_000;
    // every reading is delivered twice (QoS1 redelivery / device retry) and the breach is held 4 s ≥ 2 s
    for (const [dt, v] of [[0, 70], [1000, 90], [3000, 91], [5000, 93], [7000, 92]] as const) {
      await publish(asset, { temperature: v }, t + dt);
      await publish(asset, { temperature: v }, t + dt);
    }
    const list = await eventually(async () => {
      const p = await orders(`assetId=${ids[asset]}&ruleId=${ids.hotRule}`);
      return p.items.length > 0 && p;
    });
    await platform.pipeline!.drain();
    expect((await orders(`assetId=${ids[asset]}&ruleId=${ids.hotRule}`)).total).toBe(1);
    const wo = list.items[0]!;
    expect(wo).toMatchObject({ source: 'rule', status: 'open', reason: { threshold: 85, ruleVersion: 1 } });
    expect(wo.reason.summary).toContain('temperature on PUMP-ACME-X1-0001 was > 85');
    const alarms = await api<Page<{ status: string; workOrderId: string; severity: string }>>(base, 'GET', `/alarms?assetId=${ids[asset]}&status=active`);
    expect(alarms.body.items).toEqual([expect.objectContaining({ status: 'active', workOrderId: wo.id, severity: 'major' })]);

    // the value drops into the hysteresis band (84 > 80): alarm stays; at 79 it clears
    await publish(asset, { temperature: 84 }, t + 9000);
    await publish(asset, { temperature: 79 }, t + 11_000);
    await eventually(async () => (await api<Page<unknown>>(base, 'GET', `/alarms?assetId=${ids[asset]}&status=active`)).body.total === 0);
    // a second episode while the first order is still open does not open a second order
    for (const dt of [13_000, 16_000, 19_000]) await publish(asset, { temperature: 95 }, t + dt);
    await platform.pipeline!.drain();
    expect((await orders(`assetId=${ids[asset]}&ruleId=${ids.hotRule}`)).total).toBe(1);

    // the alarm of the second episode is linked to the same order; acknowledging records who saw it
    const second = await eventually(async () => (await api<Page<{ id: string; workOrderId: string }>>(base, 'GET', `/alarms?assetId=${ids[asset]}&status=active`)).body.items[0]);
    expect(second.workOrderId).toBe(wo.id);
    const ack = await api<{ acknowledgedBy: string; acknowledgedAt: string; status: string }>(base, 'POST', `/alarms/${second.id}/acknowledge`, { by: 'planner-li' });
    expect(ack.body).toMatchObject({ acknowledgedBy: 'planner-li', status: 'active' });
    const again = await api<{ acknowledgedBy: string; acknowledgedAt: string }>(base, 'POST', `/alarms/${second.id}/acknowledge`, { by: 'someone-else' });
    expect(again.body).toEqual(expect.objectContaining({ acknowledgedBy: 'planner-li', acknowledgedAt: ack.body.acknowledgedAt }));
    // completing the order while its alarm is still active is allowed but flagged
    await api(base, 'POST', `/work-orders/${wo.id}/transitions`, { to: 'assigned', assigneeId: ids.engineer });
    await api(base, 'POST', `/work-orders/${wo.id}/transitions`, { to: 'in_progress' });
    const done = await api<WorkOrder>(base, 'POST', `/work-orders/${wo.id}/transitions`, { to: 'completed', note: 'fan replaced' });
    expect(done.body.closedWithActiveAlarm).toBe(true);
    expect(done.body.events!.at(-1)!.note).toBe('fan replaced; warning: 1 linked alarm(s) still active');
  });

  it('500 accumulated run-hours create one PM order; completing it restarts the interval from the meter', async () => {
    const asset = 'PUMP-ACME-X1-0002';
    const t = Date.now() - 50_000;
    for (const [i, h] of [100, 300, 499.5, 500, 505, 700].entries()) await publish(asset, { runHours: h }, t + i * 1000);
    const pm = await eventually(async () => (await orders(`assetId=${ids[asset]}&source=pm`)).items[0]);
    await platform.pipeline!.drain();
    expect((await orders(`assetId=${ids[asset]}&source=pm`)).total).toBe(1);
    expect(pm).toMatchObject({ dedupeKey: `usage:${ids.pmRule}:${ids[asset]}:500`, reason: { threshold: 500, statistic: { value: 500 } } });

    const assign = await api<WorkOrder>(base, 'POST', `/work-orders/${pm.id}/transitions`, { to: 'assigned', assigneeId: ids.engineer });
    expect(assign.status).toBe(200);
    expect((await api(base, 'POST', `/work-orders/${pm.id}/transitions`, { to: 'in_progress' })).status).toBe(200);
    const done = await api<WorkOrder>(base, 'POST', `/work-orders/${pm.id}/transitions`, { to: 'completed', meterReading: 712 });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'completed', completionMeter: 712, allowedTransitions: ['verified', 'closed'] });
    expect(done.body.events!.map((e) => e.toStatus)).toEqual(['open', 'assigned', 'in_progress', 'completed']);

    await publish(asset, { runHours: 1100 }, t + 10_000);
    await publish(asset, { runHours: 1211.9 }, t + 11_000);
    await platform.pipeline!.drain();
    expect((await orders(`assetId=${ids[asset]}&source=pm`)).total).toBe(1);
    await publish(asset, { runHours: 1212 }, t + 12_000);
    const second = await eventually(async () => (await orders(`assetId=${ids[asset]}&source=pm&status=open`)).items[0]);
    expect(second.dedupeKey).toBe(`usage:${ids.pmRule}:${ids[asset]}:1212`);
    expect(second.reason.summary).toContain('last PM at 712');
  });

  it('telemetry is queryable back from InfluxDB, through the API and with InfluxQL', async () => {
    const asset = 'PUMP-ACME-X1-0003';
    const t0 = Date.now() - 30_000;
    for (let i = 0; i < 20; i++) await publish(asset, { temperature: 60 + i / 10, vibration: 2 + i / 100 }, t0 + i * 100);
    const from = new Date(t0 - 1).toISOString();
    const res = await eventually(async () => {
      const r = await api<{ points: { ts: string; value: number }[]; store: string }>(base, 'GET', `/assets/${ids[asset]}/telemetry?metric=temperature&from=${from}`);
      return r.body.points.length === 20 && r;
    });
    expect(res.body.store).toBe('influxdb');
    expect(res.body.points[0]).toEqual({ ts: new Date(t0).toISOString(), value: 60 });
    expect(res.body.points[19]!.value).toBeCloseTo(61.9, 6);
    const q = new URLSearchParams({ db: influxDb, q: `SELECT count("vibration") FROM "telemetry" WHERE "asset" = '${asset}' AND "site" = '${SITE}'` });
    const direct = (await (await fetch(`${requireService('influxUrl')}/query?${q}`)).json()) as { results: { series: { values: [string, number][] }[] }[] };
    expect(direct.results[0]!.series[0]!.values[0]![1]).toBe(20);
    // meters and last-seen are kept for the asset
    const detail = await eventually(async () => {
      const d = await api<{ lastSeenAt: string | null; meters: { name: string; value: number }[] }>(base, 'GET', `/assets/${ids['PUMP-ACME-X1-0002']}`);
      return d.body.meters[0]?.value === 1212 && d.body;
    });
    expect(detail.lastSeenAt).not.toBeNull();
    // the latest counter value only; temperature is not a meter metric
    expect(detail.meters).toEqual([expect.objectContaining({ name: 'runHours', value: 1212 })]);
  });

  it('a batch of buffered readings in one message stores every reading', async () => {
    const asset = 'PUMP-ACME-X1-0003';
    const t0 = Date.now() - 20_000;
    const readings = Array.from({ length: 50 }, (_, i) => ({ ts: t0 + i * 10, metrics: { pressure: 3 + i / 100 } }));
    await client.publishAsync(telemetryTopic(SITE, asset), JSON.stringify({ readings: readings.reverse() }), { qos: 1 });
    const res = await eventually(async () => {
      const r = await api<{ points: { ts: string; value: number }[] }>(base, 'GET', `/assets/${ids[asset]}/telemetry?metric=pressure&from=${new Date(t0).toISOString()}`);
      return r.body.points.length === 50 && r.body.points;
    });
    expect(res[0]).toEqual({ ts: new Date(t0).toISOString(), value: 3 });
    expect(res[49]!.value).toBeCloseTo(3.49, 6);
  });

  it('malformed payloads are dead-lettered and counted, and the broker keeps working', async () => {
    const asset = 'PUMP-ACME-X1-0003';
    const before = await platform.health();
    const bad: [string, string][] = [
      [telemetryTopic(SITE, asset), '{not json'],
      [telemetryTopic(SITE, asset), JSON.stringify({ metrics: { temperature: 'hot' } })],
      [telemetryTopic(SITE, 'NO-SUCH-ASSET'), JSON.stringify({ metrics: { temperature: 1 } })],
      [telemetryTopic('other-site', asset), JSON.stringify({ metrics: { temperature: 1 } })],
      [`plant/${SITE}/${asset}/events`, '{}'],
      [telemetryTopic(SITE, asset), JSON.stringify({ metrics: { x: 1 }, pad: 'y'.repeat(70_000) })],
    ];
    for (const [topic, payload] of bad) await client.publishAsync(topic, payload, { qos: 1 });
    // a different real client: the mosquitto_pub CLI (MQTT 3.1.1 against aedes)
    const url = new URL(platform.mqttUrl!);
    await run('mosquitto_pub', ['-h', url.hostname, '-p', url.port, '-V', 'mqttv311', '-q', '1', '-t', telemetryTopic(SITE, asset), '-m', '[1,2,3]']);
    await run('mosquitto_pub', ['-h', url.hostname, '-p', url.port, '-V', 'mqttv311', '-q', '1', '-t', telemetryTopic(SITE, asset), '-m', JSON.stringify({ metrics: { temperature: 42.5 } })]);
    await platform.pipeline!.drain();
    const after = await platform.health();
    const dl = (h: typeof after) => h.counters.deadLetters as { total: number; byReason: Record<string, number> };
    expect(dl(after).total - dl(before).total).toBe(7);
    expect(dl(after).byReason).toMatchObject({ invalid_json: 1, unknown_asset: 2, invalid_topic: 1, payload_too_large: 1 });
    expect(dl(after).byReason.invalid_payload).toBe(2);
    const rows = await eventually(async () => {
      const r = await platform.db.prisma.deadLetter.findMany({ orderBy: { receivedAt: 'asc' } });
      return r.length === 7 && r;
    });
    expect(rows.map((r) => r.reason).sort()).toEqual(['invalid_json', 'invalid_payload', 'invalid_payload', 'invalid_topic', 'payload_too_large', 'unknown_asset', 'unknown_asset']);
    expect(rows.find((r) => r.reason === 'invalid_json')!.payload).toBe('{not json');
    // the valid message sent by mosquitto_pub after the bad ones was accepted
    const last = await eventually(async () => {
      const r = await api<{ points: { value: number }[] }>(base, 'GET', `/assets/${ids[asset]}/telemetry?metric=temperature`);
      return r.body.points.find((p) => p.value === 42.5);
    });
    expect(last.value).toBe(42.5);
  });

  it('device alarms are raised once and cleared by the device', async () => {
    const asset = 'PUMP-ACME-X1-0003';
    for (let i = 0; i < 3; i++) await client.publishAsync(alarmTopic(SITE, asset), JSON.stringify({ code: 'E01', severity: 'critical', message: 'power loss' }), { qos: 1 });
    const active = await eventually(async () => {
      const r = await api<Page<{ code: string; source: string; status: string }>>(base, 'GET', `/alarms?assetId=${ids[asset]}&status=active`);
      return r.body.items.length > 0 && r.body;
    });
    await platform.pipeline!.drain();
    expect(active.items).toEqual([expect.objectContaining({ code: 'E01', source: 'device', severity: 'critical' })]);
    await client.publishAsync(alarmTopic(SITE, asset), JSON.stringify({ code: 'E01', active: false }), { qos: 1 });
    await eventually(async () => (await api<Page<unknown>>(base, 'GET', `/alarms?assetId=${ids[asset]}&status=active`)).body.total === 0);
  });

  it('health reports every component', async () => {
    const h = await api<{ status: string; components: Record<string, { ok: boolean; detail: string }> }>(base, 'GET', '/health');
    expect(h.status).toBe(200);
    expect(h.body.status).toBe('ok');
    expect(h.body.components.database).toEqual({ ok: true, detail: 'postgres' });
    expect(h.body.components.telemetryStore!.detail).toMatch(/^influxdb: reachable/);
    expect(h.body.components.broker!.detail).toMatch(/1 clients/);
  });
});
