/**
 * Backtest / dry run on real PostgreSQL + InfluxDB: a draft or saved rule replayed over stored
 * telemetry reports the orders it would have created, creates none; the CLI gives the same answer.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, createTestInfluxDb } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const run = promisify(execFile);
const reason = skipReason('databaseUrl', 'influxUrl');

interface Result {
  readings: number;
  workOrders: { assetCode: string; requestedAt: string; alarmClearedAt: string | null; dedupeKey: string; explanation: { summary: string } }[];
  alarms: { raised: number; cleared: number };
}

describe.skipIf(reason)(`rule backtest ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let dbUrl: string;
  let influxDb: string;
  let drops: (() => Promise<void>)[] = [];
  let base: string;
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  const hot = { metric: 'temperature', operator: '>', value: 85, holdSeconds: 120, hysteresis: 5, severity: 'major', priority: 'high' };

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    const influx = await createTestInfluxDb(requireService('influxUrl')!);
    drops = [db.drop, influx.drop];
    dbUrl = db.url;
    influxDb = influx.db;
    platform = await startTestPlatform({ DATABASE_URL: db.url, INFLUX_URL: requireService('influxUrl'), INFLUX_DATABASE: influx.db, ROLES: 'api,ingest' });
    base = platform.apiUrl!;
    const site = await api<{ id: string }>(base, 'POST', '/sites', { code: 'BT', name: 'BT' });
    for (const code of ['M-1', 'M-2']) await api(base, 'POST', '/assets', { code, name: code, type: 'motor', siteId: site.body.id });
    // a day of history, one reading a minute: M-1 overheats twice (3 h and 10 h for 10 minutes), M-2 once for 1 minute (shorter than the hold)
    const points = [];
    for (let m = 0; m < 24 * 60; m++) {
      const ts = new Date(t0 + m * 60_000);
      const m1 = (m >= 180 && m < 190) || (m >= 600 && m < 610) ? 92 : 70;
      const m2 = m === 300 ? 99 : 71;
      points.push({ site: 'BT', asset: 'M-1', ts, fields: { temperature: m1, runHours: m / 60 } }, { site: 'BT', asset: 'M-2', ts, fields: { temperature: m2, runHours: 1000 + m / 60 } });
    }
    platform.telemetry.write(points);
    await platform.telemetry.flush();
  }, 60_000);

  afterAll(async () => {
    await platform?.cleanup();
    for (const d of drops) await d();
  });

  it('a draft threshold rule: the episodes it would have raised, nothing created', async () => {
    const r = await api<Result>(base, 'POST', '/rules/backtest', {
      draft: { kind: 'threshold', name: 'Motor hot (draft)', definition: hot },
      assetType: 'motor',
      from: new Date(t0).toISOString(),
      to: new Date(t0 + 86_400_000).toISOString(),
    });
    expect(r.status).toBe(200);
    expect(r.body.readings).toBe(2 * 24 * 60);
    expect(r.body.workOrders.map((o) => [o.assetCode, o.requestedAt, o.alarmClearedAt])).toEqual([
      ['M-1', new Date(t0 + 182 * 60_000).toISOString(), new Date(t0 + 190 * 60_000).toISOString()],
      ['M-1', new Date(t0 + 602 * 60_000).toISOString(), new Date(t0 + 610 * 60_000).toISOString()],
    ]);
    expect(r.body.alarms).toEqual({ raised: 2, cleared: 2 });
    expect(r.body.workOrders[0]!.explanation.summary).toContain('was > 85 from 2026-11-01T03:00:00.000Z');
    expect(await platform.db.prisma.workOrder.count()).toBe(0);
    expect(await platform.db.prisma.alarm.count()).toBe(0);
  });

  it('a saved usage rule, and the CLI with a progress bar gives the same answer', async () => {
    const rule = await api<{ id: string }>(base, 'POST', '/rules', { name: 'Motor 8 h PM', kind: 'usage', assetType: 'motor', definition: { metric: 'runHours', every: 8, priority: 'low' } });
    const r = await api<Result>(base, 'POST', '/rules/backtest', { ruleId: rule.body.id, from: new Date(t0).toISOString(), to: new Date(t0 + 86_400_000).toISOString() });
    // M-1 runs 0 → 23.98 h: due at 8 and 16; M-2 starts at 1000 h: due at once (8, since last PM unknown → startAt 0), then every 8 h
    const m1 = r.body.workOrders.filter((o) => o.assetCode === 'M-1');
    expect(m1.map((o) => o.requestedAt)).toEqual([new Date(t0 + 8 * 3600_000).toISOString(), new Date(t0 + 16 * 3600_000).toISOString()]);
    expect(r.body.workOrders.filter((o) => o.assetCode === 'M-2').length).toBe(3);
    const cli = await run('npx', ['tsx', 'rules/backtest-cli.ts', '--rule', rule.body.id, '--from', new Date(t0).toISOString(), '--to', new Date(t0 + 86_400_000).toISOString(), '--json'], {
      env: { ...process.env, DATABASE_URL: dbUrl, INFLUX_URL: requireService('influxUrl'), INFLUX_DATABASE: influxDb, LOG_LEVEL: 'warn' },
      cwd: new URL('../..', import.meta.url).pathname,
    });
    const fromCli = JSON.parse(cli.stdout) as Result;
    expect(fromCli.workOrders.map((o) => o.dedupeKey)).toEqual(r.body.workOrders.map((o) => o.dedupeKey));
    expect(await platform.db.prisma.workOrder.count()).toBe(0);
  }, 60_000);

  it('explains bad requests', async () => {
    const both = await api<{ message: string }>(base, 'POST', '/rules/backtest', { from: new Date(t0).toISOString(), to: new Date(t0 + 1000).toISOString() });
    expect(both.status).toBe(400);
    expect(both.body.message).toMatch(/ruleId or draft/);
    const bad = await api<{ message: string }>(base, 'POST', '/rules/backtest', {
      draft: { kind: 'threshold', definition: { ...hot, operator: 'above' } },
      assetType: 'motor',
      from: new Date(t0).toISOString(),
      to: new Date(t0 + 1000).toISOString(),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/\/operator/);
  });
});
