/**
 * Every query of every generated dashboard, run the way Grafana would run it, against the real
 * InfluxDB and PostgreSQL the platform fills: the demo simulator publishes telemetry over MQTT
 * (device auth on) into InfluxDB and its rules raise alarms and work orders; what the simulator
 * does not create (customer, contract, project, completed orders with labour and parts, a survey,
 * stock movements, a downtime) is added through the API (plus work logs and a survey answer via
 * Prisma). Grafana macros are expanded by dashboards/influxql-macros.ts and kpis/sql-macros.ts.
 * Each panel must answer without error and with at least one row carrying a value.
 *
 * The push to Grafana is tested against a small fake Grafana (node:http) that records requests:
 * Grafana itself cannot run on this machine (no package, no container runtime).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboards } from '../../dashboards/catalog.ts';
import type { DashboardJson } from '../../dashboards/board.ts';
import { INFLUX, POSTGRES } from '../../dashboards/datasources.ts';
import { expandInfluxQL } from '../../dashboards/influxql-macros.ts';
import { expandForPostgres } from '../../kpis/sql-macros.ts';
import { TAG_ASSET, TELEMETRY_MEASUREMENT } from '../../ingest/telemetry-schema.ts';
import { DEMO_SITE } from '../../simulators/demo-seed.ts';
import { createTestDatabase, createTestInfluxDb } from '../helpers/databases.ts';
import { api, eventually, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const boards = buildDashboards();
interface Target {
  refId: string;
  datasource: { uid: string };
  query?: string;
  rawSql?: string;
}
type PanelLike = { type: string; title: string; targets?: Target[] };
const cases = boards.flatMap((board) =>
  (board.panels as unknown as PanelLike[])
    .filter((p) => p.type !== 'row')
    .flatMap((panel) => (panel.targets ?? []).map((t) => ({ board, panel, t, name: `${board.title} / ${panel.title} [${t.refId}]` }))),
);
const variableCases = boards.flatMap((board) => board.templating.list.filter((v) => v.datasource).map((v) => ({ board, v, name: `${board.title} / $${v.name}` })));

/** The asset the simulator overheats (second demo machine): alarms, rule orders, downtime. */
const HOT_ASSET = 'PUMP-ACME-P100-0002';
const CUSTOMER = 'ACME-WATER';
const ENGINEER = 'ENG-001';
/** Values for the variables a board offers (hidden constants stay '__all'). */
const FILTERED: Record<string, string> = { site: DEMO_SITE, asset: HOT_ASSET, customer: CUSTOMER, engineer: ENGINEER };
function variablesOf(board: DashboardJson, filtered: boolean): Record<string, string> {
  if (!filtered) return {};
  return Object.fromEntries(board.templating.list.filter((v) => v.type !== 'constant').map((v) => [v.name, FILTERED[v.name] ?? '__all']));
}

const reason = skipReason('databaseUrl', 'influxUrl');

describe.skipIf(reason)(`dashboard queries return rows from the simulator's data ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let dropDb: () => Promise<void>;
  let dropInflux: () => Promise<void>;
  let influxDb = '';
  let client: pg.Client;
  let started: Date;
  const influxUrl = requireService('influxUrl') ?? '';

  /** Rows of every series, and the columns (besides time) that are null in every row. */
  async function influx(q: string): Promise<{ rows: number; emptyColumns: string[] }> {
    const url = new URL('/query', influxUrl);
    url.search = new URLSearchParams({ db: influxDb, q, epoch: 'ms' }).toString();
    const res = await fetch(url);
    const body = (await res.json()) as { error?: string; results?: { error?: string; series?: { columns: string[]; values?: unknown[][] }[] }[] };
    const err = body.error ?? body.results?.find((r) => r.error)?.error;
    if (!res.ok || err) throw new Error(`InfluxDB: ${err ?? res.status} for ${q}`);
    const series = (body.results ?? []).flatMap((r) => r.series ?? []);
    const columns = series[0]?.columns ?? [];
    const values = series.flatMap((s) => s.values ?? []);
    const emptyColumns = columns.filter((c, i) => c !== 'time' && values.every((row) => row[i] === null));
    return { rows: values.length, emptyColumns };
  }

  const range = () => ({ from: new Date(started.getTime() - 3_600_000), to: new Date(Date.now() + 8 * 86_400_000) });

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    dropDb = db.drop;
    const idb = await createTestInfluxDb(influxUrl);
    influxDb = idb.db;
    dropInflux = idb.drop;
    started = new Date();
    platform = await startTestPlatform({
      DATABASE_URL: db.url,
      INFLUX_URL: influxUrl,
      INFLUX_DATABASE: influxDb,
      SIMULATOR_ENABLED: 'true',
      SIMULATOR_INTERVAL_MS: '50',
      ROLES: 'api,ingest,rules',
      MQTT_AUTH: 'devices',
    });
    const base = platform.apiUrl!;
    const prisma = platform.db.prisma;
    client = new pg.Client({ connectionString: db.url });
    await client.connect();

    // the simulator's telemetry reached InfluxDB for every machine, and its rules produced PM and over-temperature orders
    await eventually(async () => (await influx(`SELECT last("runHours") FROM "${TELEMETRY_MEASUREMENT}" GROUP BY "${TAG_ASSET}"`)).rows >= 6, 20_000, 200);
    const hot = await prisma.asset.findUniqueOrThrow({ where: { code: HOT_ASSET }, select: { id: true, siteId: true } });
    const ruleOrder = await eventually(() => prisma.workOrder.findFirst({ where: { assetId: hot.id, source: 'rule' }, select: { id: true, status: true } }), 20_000, 200);
    const pmOrder = await eventually(() => prisma.workOrder.findFirst({ where: { assetId: hot.id, source: 'pm' }, select: { id: true, status: true } }), 20_000, 200);
    await eventually(() => prisma.alarm.findFirst({ where: { assetId: hot.id, status: 'active' } }), 20_000, 200);

    // what the simulator does not create: customer → site, contract, project
    const ok = <T>(r: { status: number; body: T }, what: string): T => {
      if (r.status >= 300) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const customer = ok(await api<{ id: string }>(base, 'POST', '/customers', { code: CUSTOMER, name: 'Acme Water' }), 'customer');
    ok(await api(base, 'PUT', `/customers/${customer.id}/sites`, { siteIds: [hot.siteId] }), 'customer sites');
    const contract = ok(
      await api<{ id: string }>(base, 'POST', '/contracts', { code: 'ACME-FM', customerId: customer.id, name: 'Pump maintenance', startsOn: '2026-01-01', value: 24000 }),
      'contract',
    );
    const project = ok(await api<{ id: string }>(base, 'POST', '/projects', { code: 'PRJ-SEALS', name: 'Seal replacement', contractId: contract.id, budget: 5000, revenue: 6000 }), 'project');

    // a manual repair on the project, and the rule's over-temperature order: assigned, started, parts issued, completed
    const engineer = await prisma.engineer.findUniqueOrThrow({ where: { code: ENGINEER }, select: { id: true } });
    const manual = ok(await api<{ id: string }>(base, 'POST', '/work-orders', { title: 'Replace seal', assetId: hot.id, projectId: project.id, priority: 'high' }), 'manual order');

    const part = (code: string, unitCost: number, safetyStock: number) => api<{ id: string }>(base, 'POST', '/parts', { code, name: code, unitCost, safetyStock }).then((r) => ok(r, code));
    const seal = await part('SEAL-40', 12.5, 5);
    const bearing = await part('BEARING-6204', 30, 2);
    const warehouse = ok(await api<{ id: string }>(base, 'POST', '/warehouses', { code: 'WH-PLANT-1', name: 'Plant 1 store', siteId: hot.siteId }), 'warehouse');
    const move = (body: Record<string, unknown>) => api(base, 'POST', '/stock/movements', { warehouseId: warehouse.id, ...body }).then((r) => ok(r, `movement ${JSON.stringify(body)}`));
    await move({ kind: 'receipt', partId: seal.id, quantity: 20 });
    await move({ kind: 'receipt', partId: bearing.id, quantity: 3 });

    for (const id of [manual.id, ruleOrder.id]) {
      const current = await prisma.workOrder.findUniqueOrThrow({ where: { id }, select: { status: true } });
      if (current.status === 'open') ok(await api(base, 'POST', `/work-orders/${id}/transitions`, { to: 'assigned', assigneeId: engineer.id }), 'assign');
      ok(await api(base, 'POST', `/work-orders/${id}/transitions`, { to: 'accepted' }), 'accept');
      ok(await api(base, 'POST', `/work-orders/${id}/transitions`, { to: 'in_progress' }), 'start');
    }
    await move({ kind: 'issue', partId: seal.id, quantity: 4, workOrderId: manual.id });
    // the last bearings: a stock-out, below safety stock, and an automatic purchase request
    await move({ kind: 'issue', partId: bearing.id, quantity: 3, workOrderId: ruleOrder.id });
    for (const id of [manual.id, ruleOrder.id]) {
      await prisma.workLog.create({ data: { workOrderId: id, engineerId: engineer.id, kind: 'labour', minutes: 90, cost: 270 } });
      ok(await api(base, 'POST', `/work-orders/${id}/transitions`, { to: 'completed' }), 'complete');
    }
    // the PM order stays open, assigned to the engineer (current load)
    if (pmOrder.status === 'open') ok(await api(base, 'POST', `/work-orders/${pmOrder.id}/transitions`, { to: 'assigned', assigneeId: engineer.id }), 'assign PM');
    // the customer's answer to the CSAT survey of the manual repair
    const now = new Date();
    await prisma.survey.create({
      data: { workOrderId: manual.id, tokenHash: 'dashboard-test', status: 'answered', score: 4, sentAt: now, expiresAt: new Date(now.getTime() + 7 * 86_400_000), answeredAt: now },
    });
    // a downtime of the hot pump, ended
    const down = ok(await api<{ id: string }>(base, 'POST', `/assets/${hot.id}/downtimes`, { reason: 'over-temperature', startedAt: new Date(now.getTime() - 1_800_000).toISOString() }), 'downtime');
    ok(await api(base, 'POST', `/assets/${hot.id}/downtimes/${down.id}/end`, {}), 'downtime end');
  }, 90_000);

  afterAll(async () => {
    await client?.end().catch(() => undefined);
    await platform?.cleanup();
    await dropDb?.();
    await dropInflux?.();
  });

  it('covers InfluxQL and SQL panels of every board', () => {
    expect(new Set(cases.map((c) => c.board.uid)).size).toBe(boards.length);
    expect(cases.some((c) => c.t.datasource.uid === INFLUX.uid)).toBe(true);
    expect(cases.some((c) => c.t.datasource.uid === POSTGRES.uid)).toBe(true);
  });

  describe.each([
    ['variables set to the demo site, hot pump, customer and engineer', true],
    ['every variable "All"', false],
  ])('%s', (_label, filtered) => {
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (name, { board, t }) => {
      const vars = { ...range(), ...variablesOf(board, filtered) };
      if (t.datasource.uid === INFLUX.uid) {
        const q = expandInfluxQL(t.query!, { ...vars, intervalMs: 10_000 });
        const r = await influx(q);
        expect(r.rows, `${name}: no rows for ${q}`).toBeGreaterThan(0);
        expect(r.emptyColumns, `${name}: columns null in every row for ${q}`).toEqual([]);
      } else {
        const { text, values } = expandForPostgres(t.rawSql!, { ...vars, intervalSeconds: 60 });
        const r = await client.query(text, values);
        expect(r.rows.length, `${name}: no rows`).toBeGreaterThan(0);
        if (r.fields.some((f) => f.name === 'value')) {
          expect(r.rows.some((row: { value: unknown }) => row.value !== null), `${name}: value is NULL in every row`).toBe(true);
        }
      }
    });
  });

  it.each(variableCases.map((c) => [c.name, c] as const))('template variable %s lists real codes', async (name, { board, v }) => {
    const query = String(v.query);
    const vars = { ...range(), ...variablesOf(board, true) };
    if (v.datasource!.uid === INFLUX.uid) {
      const r = await influx(expandInfluxQL(query, vars));
      expect(r.rows, name).toBeGreaterThanOrEqual(6);
    } else {
      const { text, values } = expandForPostgres(query, vars);
      const r = await client.query<{ __value: string; __text: string }>(text, values);
      expect(r.rows[0], name).toEqual({ __value: '__all', __text: 'All' });
      expect(r.rows.length, `${name}: only the All option`).toBeGreaterThan(1);
      expect(r.rows.map((x) => x.__value), name).toContain(FILTERED[v.name]);
    }
  });
});

// ── API: list, JSON, push to a (fake) Grafana ──────────────────────────────────────────────────

interface Recorded {
  method: string;
  url: string;
  authorization: string | undefined;
  body: { dashboard: { uid: string; id: unknown; title: string }; overwrite: boolean; folderUid?: string };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const apiReason = skipReason('databaseUrl');

describe.skipIf(apiReason)(`dashboards API and push to Grafana ${apiReason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base: string;
  let grafana: Server;
  let grafanaUrl: string;
  const recorded: Recorded[] = [];
  let answer: { status: number; body: unknown } = { status: 200, body: {} };

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    platform = await startTestPlatform({ DATABASE_URL: t.url, ROLES: 'api' });
    base = platform.apiUrl!;
    // stand-in for Grafana's POST /api/dashboards/db (Grafana cannot run here); records what it got
    grafana = createServer((req, res) => {
      void readBody(req).then((text) => {
        const body = JSON.parse(text) as Recorded['body'];
        recorded.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
        const payload =
          answer.status === 200 ? { id: recorded.length, uid: body.dashboard.uid, url: `/d/${body.dashboard.uid}/x`, status: 'success', version: 3 } : answer.body;
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      });
    });
    await new Promise<void>((resolve) => grafana.listen(0, '127.0.0.1', resolve));
    grafanaUrl = `http://127.0.0.1:${(grafana.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => grafana?.close(resolve));
    await platform?.cleanup();
    await drop?.();
  });

  it('lists the dashboards and serves each one as the generated JSON', async () => {
    const list = await api<{ items: { uid: string; title: string; panels: number; href: string }[] }>(base, 'GET', '/dashboards');
    expect(list.status).toBe(200);
    expect(list.body.items.map((d) => d.uid)).toEqual(boards.map((b) => b.uid));
    for (const item of list.body.items) {
      expect(item.panels).toBeGreaterThan(3);
      const one = await api<DashboardJson>(base, 'GET', item.href);
      expect(one.status).toBe(200);
      expect(one.body).toEqual(boards.find((b) => b.uid === item.uid));
    }
    const missing = await api<{ code: string }>(base, 'GET', '/dashboards/no-such-board');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
  });

  it('pushes every dashboard with a bearer token, overwrite and the folder', async () => {
    recorded.length = 0;
    answer = { status: 200, body: {} };
    const r = await api<{ pushed: number; failed: number; reachable: boolean; results: { uid: string; ok: boolean; status: number; url: string; version: number }[] }>(base, 'POST', '/dashboards/push', {
      grafanaUrl,
      apiToken: 'glsa_test',
      folderUid: 'om-folder',
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ pushed: boards.length, failed: 0, reachable: true });
    expect(r.body.results[0]).toEqual({ uid: boards[0]!.uid, title: boards[0]!.title, ok: true, status: 200, url: `/d/${boards[0]!.uid}/x`, version: 3 });
    expect(recorded.map((x) => x.body.dashboard.uid)).toEqual(boards.map((b) => b.uid));
    for (const [i, x] of recorded.entries()) {
      expect(x.method).toBe('POST');
      expect(x.url).toBe('/api/dashboards/db');
      expect(x.authorization).toBe('Bearer glsa_test');
      expect(x.body.overwrite).toBe(true);
      expect(x.body.folderUid).toBe('om-folder');
      expect(x.body.dashboard).toEqual({ ...boards[i], id: null });
    }
  });

  it('basic auth, a sub-path Grafana URL and a selection of boards', async () => {
    recorded.length = 0;
    const r = await api<{ pushed: number }>(base, 'POST', '/dashboards/push', { grafanaUrl: `${grafanaUrl}/grafana/`, username: 'admin', password: 's3cret', uids: ['om-project-cost'] });
    expect(r.status).toBe(200);
    expect(r.body.pushed).toBe(1);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.url).toBe('/grafana/api/dashboards/db');
    expect(recorded[0]!.authorization).toBe(`Basic ${Buffer.from('admin:s3cret').toString('base64')}`);
    expect(recorded[0]!.body.folderUid).toBeUndefined();
  });

  it.each([
    [401, { message: 'invalid API key' }, 'Grafana answered 401: invalid API key'],
    [500, { message: 'database is locked' }, 'Grafana answered 500: database is locked'],
  ])('reports Grafana answering %i per dashboard as 502', async (status, body, error) => {
    answer = { status, body };
    const r = await api<{ code: string; message: string; details: { pushed: number; failed: number; reachable: boolean; results: { ok: boolean; status: number; error: string }[] } }>(
      base,
      'POST',
      '/dashboards/push',
      { grafanaUrl, apiToken: 'wrong' },
    );
    expect(r.status).toBe(502);
    expect(r.body.code).toBe('grafana_rejected');
    expect(r.body.message).toContain(`rejected ${boards.length} of ${boards.length}`);
    expect(r.body.message).toContain(error);
    expect(r.body.details).toMatchObject({ pushed: 0, failed: boards.length, reachable: true });
    for (const x of r.body.details.results) expect(x).toMatchObject({ ok: false, status, error });
    answer = { status: 200, body: {} };
  });

  it('reports an unreachable Grafana as 502 without trying every board', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const r = await api<{ code: string; message: string; details: { reachable: boolean; failed: number; results: { error: string }[] } }>(base, 'POST', '/dashboards/push', {
      grafanaUrl: `http://127.0.0.1:${port}`,
    });
    expect(r.status).toBe(502);
    expect(r.body.code).toBe('grafana_unreachable');
    expect(r.body.message).toMatch(/unreachable \(Grafana unreachable: ECONNREFUSED\)/);
    expect(r.body.details).toMatchObject({ reachable: false, failed: boards.length });
  });

  it.each([
    ['a non-http URL', { grafanaUrl: 'ftp://grafana' }],
    ['token and basic auth together', { grafanaUrl: 'http://grafana:3000', apiToken: 't', username: 'u' }],
    ['an unknown board', { grafanaUrl: 'http://grafana:3000', uids: ['nope'] }],
    ['an unknown field', { grafanaUrl: 'http://grafana:3000', overwrite: false }],
  ])('400 for %s', async (_name, body) => {
    const r = await api<{ code: string }>(base, 'POST', '/dashboards/push', body);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('validation');
  });
});
