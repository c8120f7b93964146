/**
 * Device credentials and topic ACLs on the embedded broker, with real clients (mqtt.js and
 * mosquitto_pub); presence (sessions, retained status, last will) and the stale-data watchdog.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusTopic, telemetryTopic } from '../../ingest/topics.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, eventually, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const run = promisify(execFile);
const reason = skipReason('databaseUrl');

interface Login {
  id: string;
  username: string;
  password: string;
}

describe.skipIf(reason)(`MQTT device authentication and ACLs ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base: string;
  const id: Record<string, string> = {};
  let devA1: Login;
  let gwS1: Login;
  const connect = (login: { username: string; password: string }, extra: mqtt.IClientOptions = {}) =>
    mqtt.connectAsync(platform.mqttUrl!, { protocolVersion: 4, reconnectPeriod: 0, username: login.username, password: login.password, ...extra });
  const points = async (asset: string, metric = 'v'): Promise<number> =>
    (await api<{ points: unknown[] }>(base, 'GET', `/assets/${id[asset]}/telemetry?metric=${metric}&from=${new Date(Date.now() - 600_000).toISOString()}`)).body.points.length;
  const deadLetters = async () => (await platform.health()).counters.deadLetters as { byReason: Record<string, number> };

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    drop = db.drop;
    platform = await startTestPlatform({ DATABASE_URL: db.url, MQTT_AUTH: 'devices', STALE_AFTER_S: '1' });
    base = platform.apiUrl!;
    for (const site of ['S1', 'S2']) id[site] = (await api<{ id: string }>(base, 'POST', '/sites', { code: site, name: site })).body.id;
    for (const [code, site] of [['A1', 'S1'], ['A2', 'S1'], ['B1', 'S2']] as const) {
      id[code] = (await api<{ id: string }>(base, 'POST', '/assets', { code, name: code, type: 'pump', siteId: id[site] })).body.id;
    }
    devA1 = (await api<Login>(base, 'POST', `/assets/${id.A1}/credentials`, { username: 'device-a1' })).body;
    gwS1 = (await api<Login>(base, 'POST', `/sites/${id.S1}/credentials`, {})).body;
  });

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  it('stores only a scrypt hash of the secret and never lists it', async () => {
    const row = await platform.db.prisma.deviceCredential.findUnique({ where: { username: 'device-a1' } });
    expect(row!.secretHash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(row!.secretHash).not.toContain(devA1.password);
    const list = await api<Record<string, unknown>[]>(base, 'GET', `/credentials?assetId=${id.A1}`);
    expect(list.body).toHaveLength(1);
    expect(list.body[0]).not.toHaveProperty('password');
    expect(list.body[0]).not.toHaveProperty('secretHash');
  });

  it('refuses anonymous clients and bad passwords', async () => {
    await expect(mqtt.connectAsync(platform.mqttUrl!, { protocolVersion: 4, reconnectPeriod: 0 })).rejects.toThrow(/Bad username or password|Not authorized/);
    await expect(connect({ username: 'device-a1', password: 'wrong' })).rejects.toThrow(/Bad username or password/);
    await expect(connect({ username: 'nobody', password: devA1.password })).rejects.toThrow(/Bad username or password/);
  });

  it('a device publishes for its own asset; another asset’s topic gets it disconnected and dead-lettered', async () => {
    const c = await connect(devA1);
    await c.publishAsync(telemetryTopic('S1', 'A1'), JSON.stringify({ metrics: { v: 1 } }), { qos: 1 });
    await eventually(async () => (await points('A1')) === 1);
    const before = (await deadLetters()).byReason.unauthorized ?? 0;
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish(telemetryTopic('S1', 'A2'), JSON.stringify({ metrics: { v: 2 } }), { qos: 1 });
    await closed;
    await eventually(async () => ((await deadLetters()).byReason.unauthorized ?? 0) === before + 1);
    const row = await eventually(async () => platform.db.prisma.deadLetter.findFirst({ where: { reason: 'unauthorized' } }));
    expect(row).toMatchObject({ topic: 'plant/S1/A2/telemetry', payload: '{"metrics":{"v":2}}' });
    expect((row!.details as { detail: string }).detail).toContain('may not publish for asset A2');
    expect(await points('A2')).toBe(0);
    await c.endAsync(true);
  });

  it('a site gateway publishes for every asset of its site, not for another site (mosquitto_pub too)', async () => {
    const url = new URL(platform.mqttUrl!);
    const pub = (topic: string, msg: string) =>
      run('mosquitto_pub', ['-h', url.hostname, '-p', url.port, '-V', 'mqttv311', '-q', '1', '-u', gwS1.username, '-P', gwS1.password, '-t', topic, '-m', msg]);
    await pub(telemetryTopic('S1', 'A2'), JSON.stringify({ metrics: { v: 5 } }));
    await eventually(async () => (await points('A2')) === 1);
    const before = (await deadLetters()).byReason.unauthorized ?? 0;
    await pub(telemetryTopic('S2', 'B1'), JSON.stringify({ metrics: { v: 6 } })).catch(() => {});
    await eventually(async () => ((await deadLetters()).byReason.unauthorized ?? 0) === before + 1);
    expect(await points('B1')).toBe(0);
    await expect(run('mosquitto_pub', ['-h', url.hostname, '-p', url.port, '-V', 'mqttv311', '-u', gwS1.username, '-P', 'nope', '-t', telemetryTopic('S1', 'A2'), '-m', '{}'])).rejects.toThrow();
  });

  it('device subscriptions are limited to its own subtree', async () => {
    const c = await connect(devA1);
    try {
      // mqtt.js reports a SUBACK containing refusals (128) as an error carrying the packet
      const granted = await new Promise<number[]>((resolve) =>
        c.subscribe(['plant/S1/A1/cmd', 'plant/#', 'plant/S1/A2/telemetry'], (err, g) =>
          resolve(((err as { packet?: { granted: number[] } } | null)?.packet?.granted ?? g?.map((x) => x.qos)) as number[]),
        ),
      );
      expect(granted).toEqual([0, 128, 128]);
    } finally {
      await c.endAsync();
    }
  });

  it('presence: sessions, retained status and the last will mark assets online/offline', async () => {
    const online = async (code: string) => (await platform.db.prisma.asset.findUnique({ where: { code }, select: { online: true } }))?.online;
    const c = await connect(devA1);
    await eventually(async () => (await online('A1')) === true);
    await c.endAsync();
    await eventually(async () => (await online('A1')) === false);

    const gw = await connect(gwS1, { will: { topic: statusTopic('S1', 'A2'), payload: Buffer.from('offline'), qos: 1, retain: true } });
    await gw.publishAsync(statusTopic('S1', 'A2'), 'online', { qos: 1, retain: true });
    await eventually(async () => (await online('A2')) === true);
    gw.stream.destroy(); // connection lost without DISCONNECT: the broker publishes the will
    await eventually(async () => (await online('A2')) === false);
  });

  it('revoked credentials are refused on the next connection', async () => {
    const r = await api<{ revokedAt: string | null }>(base, 'DELETE', `/credentials/${devA1.id}`);
    expect(r.status).toBe(200);
    expect(r.body.revokedAt).not.toBeNull();
    await expect(connect(devA1)).rejects.toThrow(/Bad username or password/);
  });

  it('the stale-data watchdog raises STALE for a silent asset and clears it when data returns', async () => {
    // A1 last reported in an earlier test; STALE_AFTER_S=1
    const stale = await eventually(async () => platform.db.prisma.alarm.findFirst({ where: { assetId: id.A1, code: 'STALE', status: 'active' } }), 10_000, 100);
    expect(stale).toMatchObject({ source: 'device', severity: 'warning' });
    const gw = await connect(gwS1);
    await gw.publishAsync(telemetryTopic('S1', 'A1'), JSON.stringify({ metrics: { v: 9 } }), { qos: 1 });
    await eventually(async () => (await platform.db.prisma.alarm.findUnique({ where: { id: stale.id } }))?.status === 'cleared', 10_000, 100);
    await gw.endAsync();
    // never-reporting B1 has no STALE alarm (nothing to be stale about)
    expect(await platform.db.prisma.alarm.count({ where: { assetId: id.B1, code: 'STALE' } })).toBe(0);
  });
});
