/**
 * INGEST_THREAD (platform/role-thread.ts, ingest-thread.ts): the real service as a child process
 * (main.ts under tsx) on PostgreSQL and InfluxDB, ingest and rules in a worker thread, the API on the
 * main thread. Proven across the thread boundary: readings published to the embedded broker (which
 * the thread runs) reach InfluxDB and the rules engine, whose work order the API serves; /health joins
 * both threads' components and counters; what the API changes that the thread holds in memory reaches
 * it — an asset edit (asset lookups), a completed PM order (the engine's rule state), a new rule (with
 * the periodic re-read set to an hour), a revoked device credential (the broker's verification
 * cache); an assignment made through the API is published to the engineer over the thread's broker;
 * the thread's log lines say which thread wrote them; SIGTERM stops both and leaves the journal empty.
 * And the edges: INGEST_THREAD=on needs DATABASE_URL; a thread that cannot start fails the start; a
 * start that fails after the thread started stops the thread.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../ingest/topics.ts';
import { TELEMETRY_MEASUREMENT } from '../../ingest/telemetry-schema.ts';
import { engineerOrdersTopic } from '../../dispatch/engineer-topics.ts';
import { loadConfig } from '../../platform/config.ts';
import { openDatabase, type Database } from '../../platform/db/database.ts';
import { startRoleThread } from '../../platform/role-thread.ts';
import { createTestDatabase, createTestStores } from '../helpers/databases.ts';
import { platformProcess, type HealthBody, type PlatformProcess } from '../helpers/platform-process.ts';
import { api, eventually, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';
import { freePort } from '../services/local-services.ts';

const reason = skipReason('databaseUrl', 'influxUrl');

describe('INGEST_THREAD configuration', () => {
  it('needs DATABASE_URL: the embedded database is open in one thread only', () => {
    expect(() => loadConfig({ INGEST_THREAD: 'on' })).toThrow(/INGEST_THREAD: "on" needs DATABASE_URL/);
    expect(loadConfig({ INGEST_THREAD: 'on', DATABASE_URL: 'postgres://u@127.0.0.1/x' }).ingestThread).toBe('on');
    expect(loadConfig({}).ingestThread).toBe('auto');
    expect(() => loadConfig({ INGEST_THREAD: 'yes' })).toThrow(/INGEST_THREAD/);
  });

  it('a thread that cannot start fails the start with its reason (not reported as a crash)', async () => {
    const config = loadConfig({ DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none', ROLES: 'ingest', DATA_DIR: mkdtempSync(join(tmpdir(), 'om-thread-')), LOG_LEVEL: 'silent' });
    const exits: Error[] = [];
    await expect(startRoleThread({ entry: new URL('../../ingest-thread.ts', import.meta.url), config, logger: pino({ level: 'silent' }), onExit: (e) => exits.push(e) })).rejects.toThrow(/ingest thread failed to start: .*(ECONNREFUSED|connect)/i);
    expect(exits).toEqual([]); // a failed start is the caller's error, not a crash
    rmSync(config.dataDir, { recursive: true, force: true });
  }, 60_000);
});

const noDb = skipReason('databaseUrl');

describe.skipIf(noDb)(`a start that fails after the thread started ${noDb ?? ''}`, () => {
  it('stops the thread: its broker port is free again', async () => {
    const listen = (port: number): Promise<Server> =>
      new Promise((resolve, reject) => {
        const srv = createServer();
        srv.once('error', reject).listen(port, '127.0.0.1', () => resolve(srv));
      });
    const taken = await listen(0);
    const mqttPort = await freePort();
    const t = await createTestDatabase(requireService('databaseUrl')!);
    try {
      const start = startTestPlatform({ DATABASE_URL: t.url, INGEST_THREAD: 'on', HTTP_PORT: String((taken.address() as AddressInfo).port), MQTT_PORT: String(mqttPort) });
      await expect(start).rejects.toThrow(/EADDRINUSE/);
      const again = await listen(mqttPort); // the thread's embedded broker has closed
      await new Promise((r) => again.close(r));
    } finally {
      await new Promise((r) => taken.close(r));
      await t.drop();
    }
  }, 120_000);
});

/** The embedded broker's address, from /health (the thread runs it). */
const mqttUrlOf = (h: HealthBody): string => {
  const url = /mqtt:\/\/[\d.]+:\d+/.exec(h.components.broker?.detail ?? '')?.[0];
  if (!url) throw new Error(`no broker address in ${JSON.stringify(h.components.broker)}`);
  return url;
};

describe.skipIf(noDb)(`device credentials revoked through the API, broker in the thread ${noDb ?? ''}`, () => {
  it('are refused on the very next connection (not when the broker’s 60-s verification cache runs out)', async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    const proc = platformProcess({ env: { DATABASE_URL: t.url, INGEST_THREAD: 'on', MQTT_AUTH: 'devices' }, ready: (h) => h.components.broker?.ok === true });
    try {
      await proc.start();
      const site = await api<{ id: string }>(proc.apiUrl(), 'POST', '/sites', { code: 'RV', name: 'Revocation' });
      const asset = await api<{ id: string }>(proc.apiUrl(), 'POST', '/assets', { code: 'RV-1', name: 'RV-1', type: 'pump', siteId: site.body.id });
      const cred = await api<{ id: string; username: string; password: string }>(proc.apiUrl(), 'POST', `/assets/${asset.body.id}/credentials`, {});
      expect(cred.status).toBe(201);
      const url = mqttUrlOf((await proc.health()).body);
      const login = { username: cred.body.username, password: cred.body.password, reconnectPeriod: 0, connectTimeout: 5_000 };
      await (await connectAsync(url, { ...login, clientId: 'rv-1' })).endAsync(); // verified: cached in the thread
      expect((await api(proc.apiUrl(), 'DELETE', `/credentials/${cred.body.id}`)).status).toBe(200);
      await expect(connectAsync(url, { ...login, clientId: 'rv-2' })).rejects.toThrow(/not authorized|bad user ?name or password/i);
    } finally {
      await proc.dispose();
      await t.drop();
    }
  }, 120_000);
});

describe.skipIf(reason)(`ingest and rules in a worker thread, the API on the main thread ${reason ?? ''}`, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  let db: Database;
  let proc: PlatformProcess;
  let client: MqttClient;
  let influxUrl: string;
  let influxDb: string;
  const ids: Record<string, string> = {};
  const health = async (): Promise<HealthBody> => (await proc.health()).body;
  const accepted = async (): Promise<number> => ((await health()).counters.ingest as { accepted: number }).accepted;
  const rejected = async (): Promise<number> => ((await health()).counters.ingest as { rejected: number }).rejected;
  const publish = (asset: string, metrics: Record<string, number>): Promise<unknown> =>
    client.publishAsync(telemetryTopic('TH', asset), JSON.stringify({ ts: Date.now(), metrics }), { qos: 1 });

  beforeAll(async () => {
    const stores = await createTestStores({ databaseUrl: requireService('databaseUrl')!, influxUrl: requireService('influxUrl')! }, cleanups);
    ({ influxUrl, influxDb } = stores);
    db = await openDatabase({ databaseUrl: stores.databaseUrl, dataDir: '', logger: pino({ level: 'silent' }) });
    cleanups.push(() => db.close());
    const site = await db.prisma.site.create({ data: { code: 'TH', name: 'Threads' } });
    for (const code of ['PUMP-1', 'PUMP-2']) ids[code] = (await db.prisma.asset.create({ data: { code, name: code, type: 'pump', siteId: site.id } })).id;
    await db.prisma.rule.create({
      data: { name: 'Hot', kind: 'threshold', assetType: 'pump', definition: { schemaVersion: 1, metric: 'temperature', operator: '>', value: 80, holdSeconds: 0, hysteresis: 5, severity: 'major', priority: 'high' } },
    });
    ids.pmRule = (await db.prisma.rule.create({ data: { name: '500 h', kind: 'usage', assetType: 'pump', definition: { schemaVersion: 1, metric: 'runHours', every: 500, startAt: 0, priority: 'medium' } } })).id;
    proc = platformProcess({
      // rule definitions re-read only hourly: a rule changed through the API must reach the thread's engine at once
      env: { DATABASE_URL: stores.databaseUrl, INFLUX_URL: influxUrl, INFLUX_DATABASE: influxDb, INGEST_THREAD: 'on', TELEMETRY_FLUSH_MS: '200', RULES_RELOAD_MS: '3600000' },
      ready: (h) => h.components.broker?.ok === true && h.components.ingestThread?.ok === true && h.components.rules?.detail.startsWith('2 rules') === true,
    });
    cleanups.push(() => proc.dispose());
    await proc.start();
    client = await connectAsync(mqttUrlOf(await health()), { clientId: 'th-test', reconnectPeriod: 0 });
    cleanups.push(() => client.endAsync());
  }, 120_000);

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('reports both threads in /health: the thread’s broker, rules and ingest counters beside the API’s own figures', async () => {
    const h = await health();
    expect(h.status).toBe('ok');
    expect(h.components).toMatchObject({
      database: { ok: true },
      telemetryStore: { ok: true, detail: expect.stringContaining('influx') },
      broker: { ok: true, detail: expect.stringContaining('embedded aedes') },
      rules: { ok: true },
      ingestThread: { ok: true, detail: 'ingest and rules in a worker thread' },
    });
    expect(h.counters).toMatchObject({ ingest: { accepted: expect.any(Number) }, rules: { rules: 2 }, http: expect.any(Object) });
    // two event loops: the API's and the thread's, each measured by its own timer
    expect(h.counters.eventLoop).toMatchObject({ samples: expect.any(Number) });
    expect(h.counters.ingestThreadEventLoop).toMatchObject({ samples: expect.any(Number) });
    // and two heaps: each thread reports its own (the process's RSS is the same figure)
    expect(h.counters.memory).toMatchObject({ rssMb: expect.any(Number), heapUsedMb: expect.any(Number) });
    expect(h.counters.ingestThreadMemory).toMatchObject({ rssMb: expect.any(Number), heapUsedMb: expect.any(Number) });
    expect((h.counters.ingestThreadMemory as { heapUsedMb: number }).heapUsedMb).not.toBe((h.counters.memory as { heapUsedMb: number }).heapUsedMb);
  });

  it('takes readings in the thread into InfluxDB and the rules engine; the API on the main thread serves the order', async () => {
    const before = await accepted();
    await publish('PUMP-1', { temperature: 60 });
    await publish('PUMP-1', { temperature: 95 });
    await eventually(async () => (await accepted()) >= before + 2, 10_000);
    const orders = await eventually(async () => {
      const r = await api<{ items: { id: string; assetId: string; source: string }[] }>(proc.apiUrl(), 'GET', `/work-orders?assetId=${ids['PUMP-1']}`);
      return r.body.items.length > 0 && r.body.items;
    }, 10_000);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ source: 'rule' });
    ids.order = orders[0]!.id;
    const q = new URLSearchParams({ db: influxDb, q: `SELECT count(temperature) FROM ${TELEMETRY_MEASUREMENT} WHERE asset = 'PUMP-1'` });
    const n = await eventually(async () => {
      const body = (await (await fetch(`${influxUrl}/query?${q}`)).json()) as { results: { series?: { values: [string, number][] }[] }[] };
      return body.results[0]?.series?.[0]?.values[0]?.[1];
    }, 10_000);
    expect(n).toBe(2);
    // the thread's lines carry its name; the API's do not
    const lines = proc.logTail(400).split('\n');
    expect(lines.some((l) => l.includes('"thread":"ingest"'))).toBe(true);
    const listening = lines.find((l) => l.includes('"msg":"API listening"'));
    expect(listening).toBeDefined();
    expect(listening).not.toContain('"thread"');
  });

  it('an asset edit through the API reaches the thread’s asset lookups', async () => {
    await publish('PUMP-2', { temperature: 50 });
    await eventually(async () => (await db.prisma.asset.findUnique({ where: { id: ids['PUMP-2']! } }))?.lastSeenAt, 10_000);
    const r = await api(proc.apiUrl(), 'PATCH', `/assets/${ids['PUMP-2']}`, { code: 'PUMP-2B' });
    expect(r.status).toBe(200);
    const rejectedBefore = await rejected();
    const acceptedBefore = await accepted();
    // the old code is unknown now (it was cached as known a moment ago), the new one is taken
    await publish('PUMP-2', { temperature: 51 });
    await publish('PUMP-2B', { temperature: 52 });
    await eventually(async () => (await rejected()) === rejectedBefore + 1 && (await accepted()) === acceptedBefore + 1, 10_000);
  });

  it('publishes an assignment made through the API to the engineer, over the broker in the thread', async () => {
    const eng = await api<{ id: string }>(proc.apiUrl(), 'POST', '/engineers', { code: 'ENG-T', name: 'Thread Tester' });
    expect(eng.status).toBe(201);
    const got: string[] = [];
    client.on('message', (topic, payload) => topic === engineerOrdersTopic('ENG-T') && got.push(payload.toString()));
    await client.subscribeAsync(engineerOrdersTopic('ENG-T'), { qos: 1 });
    const r = await api(proc.apiUrl(), 'POST', `/work-orders/${ids.order}/assign`, { engineerId: eng.body.id, force: true });
    expect(r.status).toBe(200);
    const msg = await eventually(async () => got[0], 10_000);
    expect(JSON.parse(msg)).toMatchObject({ workOrderId: ids.order });
  });

  it('completing a PM order through the API restarts the interval in the thread’s rules engine', async () => {
    const evaluations = async (): Promise<number> => ((await health()).counters.rules as { evaluations: number }).evaluations;
    /** publish and wait until the thread's engine has evaluated it */
    const reading = async (runHours: number): Promise<void> => {
      const before = await evaluations();
      await publish('PUMP-1', { runHours });
      await eventually(async () => (await evaluations()) > before, 10_000);
    };
    const pmOrders = async () => (await api<{ items: { id: string; dedupeKey: string }[] }>(proc.apiUrl(), 'GET', `/work-orders?assetId=${ids['PUMP-1']}&source=pm`)).body.items;
    await reading(100);
    await reading(500);
    const [pm] = await eventually(async () => (await pmOrders()).length === 1 && pmOrders(), 10_000);
    const eng = await api<{ id: string }>(proc.apiUrl(), 'POST', '/engineers', { code: 'ENG-PM', name: 'PM Tester' });
    for (const step of [{ to: 'assigned', assigneeId: eng.body.id }, { to: 'in_progress' }, { to: 'completed', meterReading: 712 }]) {
      expect((await api(proc.apiUrl(), 'POST', `/work-orders/${pm!.id}/transitions`, step)).status).toBe(200);
    }
    // next due at 712 + 500 = 1212: 1100 is not due (it would be on the engine's pre-completion state, due at 1000)
    await reading(1100);
    expect(await pmOrders()).toHaveLength(1);
    await reading(1212);
    const second = await eventually(async () => (await pmOrders()).find((o) => o.id !== pm!.id), 10_000);
    expect(second.dedupeKey).toBe(`usage:${ids.pmRule}:${ids['PUMP-1']}:1212`);
  });

  it('a rule changed through the API applies in the thread at once (not at the next hourly re-read)', async () => {
    const r = await api<{ id: string }>(proc.apiUrl(), 'POST', '/rules', {
      name: 'Shaking',
      kind: 'threshold',
      assetId: ids['PUMP-1'],
      definition: { schemaVersion: 1, metric: 'vibration', operator: '>', value: 7, holdSeconds: 0, hysteresis: 1, severity: 'minor', priority: 'medium' },
    });
    expect(r.status).toBe(201);
    await eventually(async () => ((await health()).counters.rules as { rules: number }).rules === 3, 5_000);
    await publish('PUMP-1', { vibration: 9 });
    await eventually(async () => (await api<{ total: number }>(proc.apiUrl(), 'GET', `/work-orders?assetId=${ids['PUMP-1']}&ruleId=${r.body.id}`)).body.total === 1, 10_000);
  });

  it('stops both threads on SIGTERM and leaves nothing in the journal', async () => {
    await proc.stop(15_000);
    expect(proc.running()).toBe(false);
    expect(proc.logTail(400)).not.toMatch(/error during shutdown|ingest thread ended/);
    const journal = join(proc.dataDir, 'journal');
    expect(existsSync(journal) ? readdirSync(journal) : []).toEqual([]);
  });
});
