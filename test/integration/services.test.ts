/**
 * Smoke test: every service provided by test/global-setup.ts actually answers.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { connectAsync, type MqttClient } from 'mqtt';
import { requireService, skipReason } from '../helpers/services.js';
import { createTestDatabase, createTestInfluxDb } from '../helpers/databases.js';

const execFileAsync = promisify(execFile);

function findBinary(bin: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs.filter(Boolean)) {
    try {
      accessSync(path.join(dir, bin), fsConstants.X_OK);
      return path.join(dir, bin);
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

const pgReason = skipReason('databaseUrl');
describe.skipIf(pgReason)(`PostgreSQL ${pgReason ?? ''}`, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    db = await createTestDatabase(requireService('databaseUrl')!);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('answers SELECT 1 on a fresh test database', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const res = await client.query<{ one: number; db: string }>('SELECT 1 AS one, current_database() AS db');
      expect(res.rows[0]).toEqual({ one: 1, db: new URL(db.url).pathname.slice(1) });
    } finally {
      await client.end();
    }
  });
});

const influxReason = skipReason('influxUrl');
describe.skipIf(influxReason)(`InfluxDB ${influxReason ?? ''}`, () => {
  let influxUrl: string;
  let influx: Awaited<ReturnType<typeof createTestInfluxDb>>;

  beforeAll(async () => {
    influxUrl = requireService('influxUrl')!;
    influx = await createTestInfluxDb(influxUrl);
  });
  afterAll(async () => {
    await influx?.drop();
  });

  it('GET /ping → 204', async () => {
    const res = await fetch(new URL('/ping', influxUrl));
    expect(res.status).toBe(204);
  });

  it('round-trips a point via /write and /query', async () => {
    const ts = 1_700_000_000_000_000_000n;
    const write = await fetch(new URL(`/write?db=${influx.db}&precision=ns`, influxUrl), {
      method: 'POST',
      body: `smoke,asset=pump-1 temp=42.5 ${ts}`,
    });
    expect(write.status, await write.text()).toBe(204);

    const q = new URL('/query', influxUrl);
    q.searchParams.set('db', influx.db);
    q.searchParams.set('q', `SELECT temp, asset FROM smoke`);
    q.searchParams.set('epoch', 'ms');
    const res = await fetch(q);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: { series?: { columns: string[]; values: unknown[][] }[] }[] };
    expect(body.results[0]?.series?.[0]).toMatchObject({
      columns: ['time', 'temp', 'asset'],
      values: [[1_700_000_000_000, 42.5, 'pump-1']],
    });
  });
});

const mqttReason = skipReason('mosquittoUrl');
describe.skipIf(mqttReason)(`Mosquitto ${mqttReason ?? ''}`, () => {
  let mqttUrl: string;
  let sub: MqttClient;
  const received: { topic: string; payload: string }[] = [];
  const prefix = `smoke/${randomBytes(4).toString('hex')}`;

  async function waitFor(topic: string): Promise<{ topic: string; payload: string }> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const msg = received.find((m) => m.topic === topic);
      if (msg) return msg;
      if (Date.now() > deadline) throw new Error(`no message on ${topic}; got ${JSON.stringify(received)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  beforeAll(async () => {
    mqttUrl = requireService('mosquittoUrl')!;
    sub = await connectAsync(mqttUrl, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5_000 });
    sub.on('message', (topic, payload) => received.push({ topic, payload: payload.toString('utf8') }));
    await sub.subscribeAsync(`${prefix}/#`, { qos: 1 });
  });
  afterAll(async () => {
    await sub?.endAsync();
  });

  it('publish/subscribe round trip with the mqtt package (MQTT 5)', async () => {
    const pub = await connectAsync(mqttUrl, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5_000 });
    try {
      await pub.publishAsync(`${prefix}/npm`, 'hello from mqtt.js', { qos: 1, properties: { contentType: 'text/plain' } });
    } finally {
      await pub.endAsync();
    }
    expect(await waitFor(`${prefix}/npm`)).toEqual({ topic: `${prefix}/npm`, payload: 'hello from mqtt.js' });
  });

  const mosquittoPub = findBinary('mosquitto_pub');
  it.skipIf(!mosquittoPub)(
    `publish via mosquitto_pub CLI ${mosquittoPub ? '' : 'needs mosquitto_pub (apt-get install mosquitto-clients)'}`,
    async () => {
      const url = new URL(mqttUrl);
      await execFileAsync(mosquittoPub!, [
        '-h', url.hostname,
        '-p', url.port || '1883',
        '-V', 'mqttv5',
        '-q', '1',
        '-t', `${prefix}/cli`,
        '-m', 'hello from mosquitto_pub',
      ], { timeout: 10_000 });
      expect(await waitFor(`${prefix}/cli`)).toEqual({ topic: `${prefix}/cli`, payload: 'hello from mosquitto_pub' });
    },
  );
});
