/**
 * Alarm mapping end to end: device alarm codes over MQTT → fault code, severity and a work order from
 * the template (once per fault while open); alarm-only mappings; unmapped codes stay device alarms.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alarmTopic } from '../../ingest/topics.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, eventually, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');

interface Page<T> {
  items: T[];
  total: number;
}

describe.skipIf(reason)(`alarm-code mapping rules ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base: string;
  let client: MqttClient;
  let assetId: string;
  let ruleId: string;

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    drop = db.drop;
    platform = await startTestPlatform({ DATABASE_URL: db.url });
    base = platform.apiUrl!;
    const site = await api<{ id: string }>(base, 'POST', '/sites', { code: 'AM', name: 'AM' });
    assetId = (await api<{ id: string }>(base, 'POST', '/assets', { code: 'CHILLER-1', name: 'Chiller', type: 'chiller', siteId: site.body.id })).body.id;
    const rule = await api<{ id: string; message?: string }>(base, 'POST', '/rules', {
      name: 'Chiller alarm codes',
      kind: 'alarm',
      assetType: 'chiller',
      definition: {
        mappings: [
          { deviceCodes: ['P01', 'P02'], faultCode: 'E01', severity: 'critical', workOrder: { title: 'Power supply fault', priority: 'urgent', description: 'Check breaker and PSU' } },
          { deviceCodes: ['S17'], faultCode: 'E02', severity: 'warning', createWorkOrder: false, workOrder: { title: 'Sensor drift', priority: 'low' } },
        ],
      },
    });
    expect(rule.status, rule.body.message).toBe(201);
    ruleId = rule.body.id;
    client = await mqtt.connectAsync(platform.mqttUrl!, { protocolVersion: 4 });
  });

  afterAll(async () => {
    await client?.endAsync();
    await platform?.cleanup();
    await drop?.();
  });

  const send = (payload: object) => client.publishAsync(alarmTopic('AM', 'CHILLER-1'), JSON.stringify(payload), { qos: 1 });

  it('rejects a definition that maps one device code twice', async () => {
    const r = await api<{ message: string }>(base, 'POST', '/rules', {
      name: 'dup',
      kind: 'alarm',
      assetId,
      definition: { mappings: [{ deviceCodes: ['X1'], faultCode: 'E1', severity: 'minor', workOrder: { title: 't', priority: 'low' } }, { deviceCodes: ['X1'], faultCode: 'E2', severity: 'minor', workOrder: { title: 't', priority: 'low' } }] },
    });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/X1 is mapped twice/);
  });

  it('mapped codes become one fault-coded alarm and one work order from the template', async () => {
    await send({ code: 'P01', message: 'undervoltage' });
    await send({ code: 'P02', message: 'phase loss' }); // same fault E01 while the first is open
    await send({ code: 'P01', message: 'undervoltage' });
    const wo = await eventually(async () => (await api<Page<{ id: string; title: string; priority: string; description: string; reason: { summary: string; faultCode?: string } }>>(base, 'GET', `/work-orders?assetId=${assetId}`)).body.items[0]);
    await platform.pipeline!.drain();
    expect((await api<Page<unknown>>(base, 'GET', `/work-orders?assetId=${assetId}`)).body.total).toBe(1);
    expect(wo).toMatchObject({ title: 'Power supply fault (E01) on CHILLER-1', priority: 'urgent', description: 'Check breaker and PSU' });
    expect(wo.reason.summary).toBe('device alarm P01 on CHILLER-1 → fault E01 (critical): undervoltage');
    const alarms = await api<Page<{ code: string; severity: string; source: string; ruleId: string; workOrderId: string }>>(base, 'GET', `/alarms?assetId=${assetId}&status=active`);
    expect(alarms.body.items).toEqual([expect.objectContaining({ code: 'E01', severity: 'critical', source: 'rule', ruleId, workOrderId: wo.id })]);
    // the device clears the code: the fault alarm clears, the order stays for the engineer
    await send({ code: 'P01', active: false });
    await eventually(async () => (await api<Page<unknown>>(base, 'GET', `/alarms?assetId=${assetId}&status=active`)).body.total === 0);
  });

  it('alarm-only mappings raise no work order; unmapped codes stay plain device alarms', async () => {
    await send({ code: 'S17', severity: 'minor' });
    await send({ code: 'Z99', severity: 'major' });
    const active = await eventually(async () => {
      const r = await api<Page<{ code: string; source: string; workOrderId: string | null }>>(base, 'GET', `/alarms?assetId=${assetId}&status=active`);
      // (items and total are two statements: wait until both show the two alarms)
      return r.body.total === 2 && r.body.items.length === 2 && r.body.items;
    });
    expect(active).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'E02', source: 'rule', workOrderId: null }),
        expect.objectContaining({ code: 'Z99', source: 'device', workOrderId: null }),
      ]),
    );
    expect((await api<Page<unknown>>(base, 'GET', `/work-orders?assetId=${assetId}`)).body.total).toBe(1);
  });
});
