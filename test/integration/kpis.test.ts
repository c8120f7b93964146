/**
 * KPIs on real PostgreSQL against a hand-built fixture (every row inserted through Prisma with explicit
 * timestamps). Every figure below is computed by hand in the comments; the API must return exactly it,
 * filters by site / customer / engineer must change it as computed, and every KPI definition's SQL
 * must execute (expanded by expandForPostgres) and return a `value` column.
 *
 * Period P = [2026-10-01T00:00Z, 2026-10-31T00:00Z] = 720 h. Customers CUST-A (site SITE-A: PUMP-A1,
 * PUMP-A2) and CUST-B (site SITE-B: FAN-B1, VALVE-B2). Engineers ENG-1, ENG-2. Times are 2026, UTC.
 *
 * Orders (corrective = rule/manual/customer)                          repair h      FTF   breach
 *  WO1  rule     PUMP-A1 ENG-1 req 10-02 08:00 resp 08:30 (30)  start 09:00 hold 10–12 (waiting_parts)
 *                                         done 14:00 → 5 − 2 = 3     no (parts)  no
 *  WO2  customer PUMP-A1 ENG-1 req 10-10 08:00 resp 09:30 (90, due 09:00 → late)  10:00–12:00 → 2
 *                                                                      no (WO3 within 7 d)  yes
 *  WO3  manual   PUMP-A1 ENG-1 req 10-15 08:00 resp 08:45 (45) 09:00 hold 10–11 (waiting_customer)
 *                 done 13:00 (due 12:00, stored flag) → 4 − 1 = 3     yes (WO9 cancelled)  yes
 *                 no customer on the order: falls back to the site's customer CUST-A
 *  WO4  rule     FAN-B1  ENG-2 req 10-20 10:00 resp 10:15 (15) 10:30–11:30 → 1   yes (WO13 after 7 d) no
 *  WO5  pm       PUMP-A2 ENG-1 req 10-05 00:00 resp 01:00 (60) 10-06 08:00–10:00 → 2, due 10-12: on time  no
 *  WO6  pm       PUMP-A2 ENG-2 req 10-13 00:00 resp 00:30 (30) 10-21 08:00–09:00 → 1, due 10-20: late   yes
 *  WO7  pm       FAN-B1  ENG-1 req 10-18 00:00, assigned, never responded, due 10-25 (open)             yes
 *  WO8  pm       PUMP-A2 —     req 10-29 00:00, open, response due 10-29 04:00; resolution due 11-05      yes
 *  WO9  manual   PUMP-A1 —     req 10-16 09:00, cancelled 10:00 (excluded everywhere)
 *  WO10 rule     PUMP-A2 ENG-1 req 10-28 12:00 resp 12:20 (20), in progress, resolution due 10-28 20:00  yes
 *  WO11 rule     PUMP-A1 ENG-1 req 09-20 (outside P), done 09-20; survey score 1 answered 09-21 (outside)
 *  WO13 rule     FAN-B1  ENG-2 req 10-27 18:00 resp 19:00 (60), done 11-02 (after P)                    no
 *
 * Costs (labour + travel + parts): WO1 150 + 20 + (2 × 25 − 1 × 25) = 195; WO2 100; WO3 50; WO4 parts
 * 1 × catalogue 10 = 10; WO5 80; WO6 0 (WO11 999 and WO13 30 are completed outside P).
 * Contracts: K-A on WO1, WO2; K-B on WO4. Project PRJ-A on WO1, WO3.
 * Surveys answered in P: WO1 4, WO2 2, WO4 5 (WO3 pending, WO11 outside).
 * Downtime: PUMP-A1 09-30 20:00–10-01 04:00 (4 h in P) + 10-02 08–14 (6) + 10-10 08–12 (4) = 14;
 * PUMP-A2 10-28 12–14 = 2; FAN-B1 from 10-30 12:00, still open → 12 h in P; VALVE-B2 none. Total 28.
 * Stock (BEARING 25, FILTER 10; WH-A at SITE-A, WH-C central):
 *  09-15 receipt BEARING WH-A +10 → 10; 09-15 receipt FILTER WH-C +4 → 4;
 *  10-02 issue BEARING −2 → 8 (WO1); 10-02 return +1 → 9 (WO1); 10-20 issue FILTER −1 → 3 (WO4, no
 *  movement cost → 10); 10-22 issue BEARING −9 → 0 (stock-out); 10-23 receipt BEARING +5 → 5;
 *  10-25 issue FILTER −3 → 0 (stock-out); 11-03 issue BEARING −5 → 0 (after P).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';
import { KPI_DEFINITIONS, SCALAR_KPIS } from '../../kpis/definitions.ts';
import { expandForPostgres } from '../../kpis/sql-macros.ts';
import { createKpiService } from '../../kpis/service.ts';
import { systemClock } from '../../platform/clock.ts';

const reason = skipReason('databaseUrl');

interface KpiOut {
  id: string;
  unit: string;
  from: string;
  to: string;
  groupBy: string | null;
  value: number | null;
  rows: { key: string; value: number | null }[];
}
interface Summary {
  from: string;
  to: string;
  kpis: { id: string; value: number | null }[];
}
interface Err {
  code: string;
  message: string;
}

const t = (s: string): Date => new Date(`2026-${s}:00Z`);
const FROM = '2026-10-01T00:00:00Z';
const TO = '2026-10-31T00:00:00Z';
const P = `from=${FROM}&to=${TO}`;

describe.skipIf(reason)(`KPIs against a hand-computed fixture on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base: string;
  const num: Record<string, number> = {};

  const kpi = async (id: string, query = ''): Promise<KpiOut> => {
    const r = await api<KpiOut>(base, 'GET', `/kpis/${id}?${P}${query}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  };
  const value = async (id: string, query = ''): Promise<number | null> => (await kpi(id, query)).value;
  const rows = async (id: string, query = ''): Promise<Record<string, number | null>> =>
    Object.fromEntries((await kpi(id, query)).rows.map((r) => [r.key, r.value]));

  beforeAll(async () => {
    const tdb = await createTestDatabase(requireService('databaseUrl')!);
    drop = tdb.drop;
    platform = await startTestPlatform({ DATABASE_URL: tdb.url, ROLES: 'api' });
    base = platform.apiUrl!;
    const db = platform.db.prisma;

    const custA = await db.customer.create({ data: { code: 'CUST-A', name: 'Customer A' } });
    const custB = await db.customer.create({ data: { code: 'CUST-B', name: 'Customer B' } });
    const siteA = await db.site.create({ data: { code: 'SITE-A', name: 'Site A', customerId: custA.id } });
    const siteB = await db.site.create({ data: { code: 'SITE-B', name: 'Site B', customerId: custB.id } });
    const asset = (code: string, siteId: string) => db.asset.create({ data: { code, name: code, type: 'pump', siteId } });
    const a1 = await asset('PUMP-A1', siteA.id);
    const a2 = await asset('PUMP-A2', siteA.id);
    const b1 = await asset('FAN-B1', siteB.id);
    await asset('VALVE-B2', siteB.id);
    const e1 = await db.engineer.create({ data: { code: 'ENG-1', name: 'One', hourlyRate: 50 } });
    const e2 = await db.engineer.create({ data: { code: 'ENG-2', name: 'Two', hourlyRate: 50 } });
    const kA = await db.contract.create({ data: { code: 'K-A', customerId: custA.id, name: 'A', startsOn: t('01-01T00:00') } });
    const kB = await db.contract.create({ data: { code: 'K-B', customerId: custB.id, name: 'B', startsOn: t('01-01T00:00') } });
    const prj = await db.project.create({ data: { code: 'PRJ-A', name: 'Project A', customerId: custA.id } });

    type Src = 'rule' | 'manual' | 'customer' | 'pm';
    type Status = 'open' | 'assigned' | 'in_progress' | 'completed' | 'closed' | 'cancelled';
    const order = async (
      key: string,
      o: {
        source: Src;
        assetId: string;
        status: Status;
        engineerId?: string;
        customerId?: string;
        contractId?: string;
        projectId?: string;
        requested: string;
        responded?: string;
        started?: string;
        completed?: string;
        cancelled?: string;
        responseDue?: string;
        resolutionDue?: string;
        resolutionBreached?: boolean;
        holdReason?: 'waiting_parts' | 'waiting_customer';
      },
    ) => {
      const wo = await db.workOrder.create({
        data: {
          title: key,
          source: o.source,
          assetId: o.assetId,
          status: o.status,
          assigneeId: o.engineerId ?? null,
          customerId: o.customerId ?? null,
          contractId: o.contractId ?? null,
          projectId: o.projectId ?? null,
          requestedAt: t(o.requested),
          respondedAt: o.responded ? t(o.responded) : null,
          startedAt: o.started ? t(o.started) : null,
          completedAt: o.completed ? t(o.completed) : null,
          cancelledAt: o.cancelled ? t(o.cancelled) : null,
          responseDueAt: o.responseDue ? t(o.responseDue) : null,
          resolutionDueAt: o.resolutionDue ? t(o.resolutionDue) : null,
          resolutionBreached: o.resolutionBreached ?? false,
          holdReason: o.holdReason ?? null,
        },
      });
      num[key] = wo.number;
      return wo;
    };
    const wo1 = await order('WO1', { source: 'rule', assetId: a1.id, status: 'closed', engineerId: e1.id, customerId: custA.id, contractId: kA.id, projectId: prj.id, requested: '10-02T08:00', responded: '10-02T08:30', started: '10-02T09:00', completed: '10-02T14:00', responseDue: '10-02T09:00', resolutionDue: '10-02T20:00', holdReason: 'waiting_parts' });
    const wo2 = await order('WO2', { source: 'customer', assetId: a1.id, status: 'closed', engineerId: e1.id, customerId: custA.id, contractId: kA.id, requested: '10-10T08:00', responded: '10-10T09:30', started: '10-10T10:00', completed: '10-10T12:00', responseDue: '10-10T09:00', resolutionDue: '10-10T20:00' });
    const wo3 = await order('WO3', { source: 'manual', assetId: a1.id, status: 'completed', engineerId: e1.id, projectId: prj.id, requested: '10-15T08:00', responded: '10-15T08:45', started: '10-15T09:00', completed: '10-15T13:00', responseDue: '10-15T10:00', resolutionDue: '10-15T12:00', resolutionBreached: true, holdReason: 'waiting_customer' });
    const wo4 = await order('WO4', { source: 'rule', assetId: b1.id, status: 'closed', engineerId: e2.id, customerId: custB.id, contractId: kB.id, requested: '10-20T10:00', responded: '10-20T10:15', started: '10-20T10:30', completed: '10-20T11:30', responseDue: '10-20T12:00', resolutionDue: '10-21T10:00' });
    const wo5 = await order('WO5', { source: 'pm', assetId: a2.id, status: 'completed', engineerId: e1.id, requested: '10-05T00:00', responded: '10-05T01:00', started: '10-06T08:00', completed: '10-06T10:00', responseDue: '10-05T04:00', resolutionDue: '10-12T00:00' });
    await order('WO6', { source: 'pm', assetId: a2.id, status: 'completed', engineerId: e2.id, requested: '10-13T00:00', responded: '10-13T00:30', started: '10-21T08:00', completed: '10-21T09:00', responseDue: '10-13T04:00', resolutionDue: '10-20T00:00' });
    await order('WO7', { source: 'pm', assetId: b1.id, status: 'assigned', engineerId: e1.id, requested: '10-18T00:00', responseDue: '10-18T04:00', resolutionDue: '10-25T00:00' });
    await order('WO8', { source: 'pm', assetId: a2.id, status: 'open', requested: '10-29T00:00', responseDue: '10-29T04:00', resolutionDue: '11-05T00:00' });
    await order('WO9', { source: 'manual', assetId: a1.id, status: 'cancelled', requested: '10-16T09:00', cancelled: '10-16T10:00', responseDue: '10-16T09:30', resolutionDue: '10-16T20:00' });
    await order('WO10', { source: 'rule', assetId: a2.id, status: 'in_progress', engineerId: e1.id, requested: '10-28T12:00', responded: '10-28T12:20', started: '10-28T13:00', responseDue: '10-28T13:00', resolutionDue: '10-28T20:00' });
    const wo11 = await order('WO11', { source: 'rule', assetId: a1.id, status: 'closed', engineerId: e1.id, requested: '09-20T08:00', responded: '09-20T08:10', started: '09-20T08:30', completed: '09-20T10:30' });
    const wo13 = await order('WO13', { source: 'rule', assetId: b1.id, status: 'completed', engineerId: e2.id, requested: '10-27T18:00', responded: '10-27T19:00', started: '11-02T08:00', completed: '11-02T10:00', responseDue: '10-27T20:00', resolutionDue: '11-10T00:00' });

    // Status history: the on_hold spans are what repair time subtracts.
    const events = (workOrderId: string, list: [string, 'in_progress' | 'on_hold' | 'completed', string?][]) =>
      db.workOrderEvent.createMany({ data: list.map(([at, toStatus, note]) => ({ workOrderId, toStatus, note: note ?? null, at: t(at) })) });
    await events(wo1.id, [['10-02T09:00', 'in_progress'], ['10-02T10:00', 'on_hold', 'on hold: waiting_parts'], ['10-02T12:00', 'in_progress'], ['10-02T14:00', 'completed']]);
    await events(wo3.id, [['10-15T09:00', 'in_progress'], ['10-15T10:00', 'on_hold', 'on hold: waiting_customer'], ['10-15T11:00', 'in_progress'], ['10-15T13:00', 'completed']]);

    const log = (workOrderId: string, engineerId: string, kind: 'labour' | 'travel', minutes: number, cost: number) => db.workLog.create({ data: { workOrderId, engineerId, kind, minutes, cost } });
    await log(wo1.id, e1.id, 'labour', 180, 150);
    await log(wo1.id, e1.id, 'travel', 30, 20);
    await log(wo2.id, e1.id, 'labour', 120, 100);
    await log(wo3.id, e1.id, 'labour', 60, 50);
    await log(wo5.id, e1.id, 'labour', 120, 80);
    await log(wo11.id, e1.id, 'labour', 60, 999);
    await log(wo13.id, e2.id, 'labour', 30, 30);

    const survey = (workOrderId: string, score: number | null, answered: string | null) =>
      db.survey.create({ data: { workOrderId, tokenHash: `h-${workOrderId}`, status: answered ? 'answered' : 'pending', score, sentAt: t('09-01T00:00'), expiresAt: t('12-31T00:00'), answeredAt: answered ? t(answered) : null } });
    await survey(wo1.id, 4, '10-03T10:00');
    await survey(wo2.id, 2, '10-11T10:00');
    await survey(wo4.id, 5, '10-21T10:00');
    await survey(wo3.id, null, null);
    await survey(wo11.id, 1, '09-21T10:00');

    const down = (assetId: string, started: string, ended: string | null) =>
      db.assetDowntime.create({ data: { assetId, reason: 'repair', startedAt: t(started), endedAt: ended ? t(ended) : null, openKey: ended ? null : `down:${assetId}` } });
    await down(a1.id, '09-30T20:00', '10-01T04:00');
    await down(a1.id, '10-02T08:00', '10-02T14:00');
    await down(a1.id, '10-10T08:00', '10-10T12:00');
    await down(a2.id, '10-28T12:00', '10-28T14:00');
    await down(b1.id, '10-30T12:00', null);

    const whA = await db.warehouse.create({ data: { code: 'WH-A', name: 'Site A store', kind: 'site', siteId: siteA.id } });
    const whC = await db.warehouse.create({ data: { code: 'WH-C', name: 'Central', kind: 'central' } });
    const bearing = await db.part.create({ data: { code: 'BEARING', name: 'Bearing', unitCost: 25 } });
    const filter = await db.part.create({ data: { code: 'FILTER', name: 'Filter', unitCost: 10 } });
    const move = (partId: string, warehouseId: string, kind: 'receipt' | 'issue' | 'return', quantity: number, balanceAfter: number, at: string, unitCost: number | null, workOrderId?: string) =>
      db.stockMovement.create({ data: { partId, warehouseId, kind, quantity, balanceAfter, unitCost, workOrderId: workOrderId ?? null, at: t(at) } });
    await move(bearing.id, whA.id, 'receipt', 10, 10, '09-15T08:00', 25);
    await move(filter.id, whC.id, 'receipt', 4, 4, '09-15T08:00', 10);
    await move(bearing.id, whA.id, 'issue', -2, 8, '10-02T09:30', 25, wo1.id);
    await move(bearing.id, whA.id, 'return', 1, 9, '10-02T13:00', 25, wo1.id);
    await move(filter.id, whC.id, 'issue', -1, 3, '10-20T11:00', null, wo4.id);
    await move(bearing.id, whA.id, 'issue', -9, 0, '10-22T08:00', 25);
    await move(bearing.id, whA.id, 'receipt', 5, 5, '10-23T08:00', 25);
    await move(filter.id, whC.id, 'issue', -3, 0, '10-25T08:00', 10);
    await move(bearing.id, whA.id, 'issue', -5, 0, '11-03T08:00', 25);
  }, 120_000);

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  it('response and repair: FRT, MTTR, first-time fix', async () => {
    // FRT: WO1 30, WO2 90, WO3 45, WO4 15, WO5 60, WO6 30, WO10 20, WO13 60 → 350 / 8
    expect(await value('frt')).toBe(43.75);
    // MTTR: corrective completed in P: WO1 3, WO2 2, WO3 3 (4 − 1 h on hold), WO4 1 → 9 / 4
    expect(await value('mttr')).toBe(2.25);
    // FTF: WO1 no (waiting parts), WO2 no (WO3 within 7 days), WO3 yes (WO9 was cancelled), WO4 yes → 2 / 4
    expect(await value('first_time_fix_rate')).toBe(50);
  });

  it('MTBF: fleet and per asset (operating hours = 720 − downtime in P)', async () => {
    // PUMP-A1 (720 − 14) / 3 failures (WO1, WO2, WO3; WO9 cancelled, WO11 before P); PUMP-A2 (720 − 2) / 1 (WO10);
    // FAN-B1 (720 − 12) / 2 (WO4, WO13); VALVE-B2 no failure → null
    expect(await rows('mtbf_by_asset')).toEqual({ 'PUMP-A1': 235.33, 'PUMP-A2': 718, 'FAN-B1': 354, 'VALVE-B2': null });
    // fleet: (706 + 718 + 708 + 720) / 6 = 2852 / 6
    expect(await value('mtbf')).toBe(475.33);
  });

  it('PM compliance, SLA breach rate, backlog', async () => {
    // PM due in P: WO5 on time, WO6 late, WO7 not done (WO8 due after P) → 1 / 3
    expect(await value('pm_compliance')).toBe(33.33);
    // requested in P, not cancelled: 10 orders; breached WO2 (late response), WO3 (late completion + flag),
    // WO6 (late), WO7, WO8 (unanswered past due), WO10 (open past resolution due) → 6 / 10
    expect(await value('sla_breach_rate')).toBe(60);
    // open at 10-31 00:00: WO7 (312 h), WO8 (48 h), WO10 (60 h), WO13 (78 h; completed only on 11-02)
    expect(await value('backlog_count')).toBe(4);
    expect(await value('backlog_age')).toBe(124.5); // 498 / 4
    expect((await kpi('backlog_by_age')).rows).toEqual([
      { key: '< 1d', value: 0 },
      { key: '1-3d', value: 2 },
      { key: '3-7d', value: 1 },
      { key: '7-30d', value: 1 },
      { key: '>= 30d', value: 0 },
    ]);
    // every order requested in P, cancelled included: WO1–WO10, WO13
    expect(await value('work_orders_requested')).toBe(11);
    const perDay = await rows('work_orders_requested_per_day');
    expect(Object.values(perDay).reduce((s, v) => s! + v!, 0)).toBe(11);
    expect(perDay['2026-10-02T00:00:00.000Z']).toBe(1);
    expect(perDay['2026-10-16T00:00:00.000Z']).toBe(1);
  });

  it('CSAT and engineer performance', async () => {
    expect(await value('csat_average')).toBe(3.67); // (4 + 2 + 5) / 3
    // completed in P: ENG-1 WO1, WO2, WO3, WO5; ENG-2 WO4, WO6
    expect(await rows('engineer_orders_handled')).toEqual({ 'ENG-1': 4, 'ENG-2': 2 });
    // ENG-1 (3 + 2 + 3 + 2) / 4; ENG-2 (1 + 1) / 2
    expect(await rows('engineer_avg_handling_time')).toEqual({ 'ENG-1': 2.5, 'ENG-2': 1 });
    // corrective: ENG-1 WO1 no, WO2 no, WO3 yes → 1/3; ENG-2 WO4 yes → 1/1
    expect(await rows('engineer_first_time_fix_rate')).toEqual({ 'ENG-1': 33.33, 'ENG-2': 100 });
    // ENG-1 (4 + 2) / 2; ENG-2 5
    expect(await rows('engineer_rating')).toEqual({ 'ENG-1': 3, 'ENG-2': 5 });
    // the engineer variable narrows a scalar KPI: MTTR of ENG-2 = WO4 only
    expect(await value('mttr', '&engineer=ENG-2')).toBe(1);
  });

  it('cost per work order, contract and project', async () => {
    // completed in P: WO1 195, WO2 100, WO3 50, WO4 10, WO5 80, WO6 0 → 435 / 6
    expect(await value('cost_per_work_order')).toBe(72.5);
    const byOrder = await kpi('cost_by_work_order');
    expect(byOrder.rows).toEqual([
      { key: String(num.WO1), value: 195 },
      { key: String(num.WO2), value: 100 },
      { key: String(num.WO5), value: 80 },
      { key: String(num.WO3), value: 50 },
      { key: String(num.WO4), value: 10 },
      { key: String(num.WO6), value: 0 },
    ]);
    expect(await rows('cost_by_contract')).toEqual({ 'K-A': 295, 'K-B': 10 }); // WO1 + WO2; WO4
    expect(await rows('cost_by_project')).toEqual({ 'PRJ-A': 245 }); // WO1 + WO3
  });

  it('downtime and inventory', async () => {
    expect(await value('downtime_hours')).toBe(28); // 14 + 2 + 12
    expect((await kpi('downtime_by_asset')).rows).toEqual([
      { key: 'PUMP-A1', value: 14 },
      { key: 'FAN-B1', value: 12 },
      { key: 'PUMP-A2', value: 2 },
    ]);
    // issued value in P: 50 − 25 + 10 + 225 + 30 = 290; stock value at start 10 × 25 + 4 × 10 = 290, at end 5 × 25 + 0 = 125
    // turnover = 290 / ((290 + 125) / 2) = 290 / 207.5
    expect(await value('inventory_turnover')).toBe(1.4);
    expect(await value('stock_value')).toBe(125);
    expect(await value('stock_outs')).toBe(2); // 10-22 BEARING WH-A, 10-25 FILTER WH-C (11-03 is after P)
  });

  it('site and customer filters change the numbers as computed', async () => {
    const site = '&site=SITE-A';
    // SITE-A orders: WO1, WO2, WO3, WO5, WO6, WO8, WO9, WO10
    expect(await value('frt', site)).toBe(45.83); // (30 + 90 + 45 + 60 + 30 + 20) / 6
    expect(await value('mttr', site)).toBe(2.67); // (3 + 2 + 3) / 3
    expect(await value('first_time_fix_rate', site)).toBe(33.33);
    expect(await value('sla_breach_rate', site)).toBe(71.43); // WO2, WO3, WO6, WO8, WO10 of 7
    expect(await value('pm_compliance', site)).toBe(50); // WO5 yes, WO6 no
    expect(await value('backlog_count', site)).toBe(2); // WO8, WO10
    expect(await value('backlog_age', site)).toBe(54); // (48 + 60) / 2
    expect(await value('csat_average', site)).toBe(3);
    expect(await value('downtime_hours', site)).toBe(16);
    expect(await value('mtbf', site)).toBe(356); // (706 + 718) / 4
    expect(await value('cost_per_work_order', site)).toBe(85); // (195 + 100 + 50 + 80 + 0) / 5
    // stock at WH-A only: issued 50 − 25 + 225 = 250; start 250, end 125 → 250 / 187.5
    expect(await value('inventory_turnover', site)).toBe(1.33);
    expect(await value('stock_outs', site)).toBe(1);

    const cust = '&customer=CUST-B';
    // CUST-B orders: WO4, WO7, WO13
    expect(await value('frt', cust)).toBe(37.5); // (15 + 60) / 2
    expect(await value('mttr', cust)).toBe(1);
    expect(await value('first_time_fix_rate', cust)).toBe(100);
    expect(await value('sla_breach_rate', cust)).toBe(33.33); // WO7 of 3
    expect(await value('pm_compliance', cust)).toBe(0); // WO7
    expect(await value('backlog_age', cust)).toBe(195); // (312 + 78) / 2
    expect(await value('csat_average', cust)).toBe(5);
    expect(await value('mtbf', cust)).toBe(714); // (708 + 720) / 2
    expect(await rows('mtbf_by_asset', cust)).toEqual({ 'FAN-B1': 354, 'VALVE-B2': null });
    expect(await value('cost_per_work_order', cust)).toBe(10);
    expect(await value('inventory_turnover', cust)).toBeNull(); // no warehouse of CUST-B holds stock
    expect(await value('stock_outs', cust)).toBe(0);
    // WO3 has no customer of its own: it counts for its site's customer CUST-A
    expect(await value('mttr', '&customer=CUST-A')).toBe(2.67);
  });

  it('summary returns every single-value KPI with the same figures', async () => {
    const r = await api<Summary>(base, 'GET', `/kpis/summary?${P}&site=SITE-A`);
    expect(r.status).toBe(200);
    expect(r.body.kpis.map((k) => k.id)).toEqual(SCALAR_KPIS.map((d) => d.id));
    const byId = Object.fromEntries(r.body.kpis.map((k) => [k.id, k.value]));
    expect(byId).toMatchObject({ frt: 45.83, mttr: 2.67, sla_breach_rate: 71.43, backlog_count: 2, downtime_hours: 16, stock_outs: 1 });
    expect([r.body.from, r.body.to]).toEqual(['2026-10-01T00:00:00.000Z', '2026-10-31T00:00:00.000Z']);
  });

  it('catalogue, unknown ids, bad periods, default period, date-only bounds', async () => {
    const cat = await api<{ items: { id: string; formula: string; groupBy: string | null }[] }>(base, 'GET', '/kpis');
    expect(cat.status).toBe(200);
    expect(cat.body.items.map((i) => i.id)).toEqual(KPI_DEFINITIONS.map((d) => d.id));
    expect(cat.body.items.find((i) => i.id === 'mtbf_by_asset')).toMatchObject({ groupBy: 'asset' });
    expect(cat.body.items.every((i) => i.formula.length > 10)).toBe(true);

    const unknown = await api<Err>(base, 'GET', '/kpis/no_such_kpi');
    expect([unknown.status, unknown.body.code]).toEqual([404, 'not_found']);
    const reversed = await api<Err>(base, 'GET', '/kpis/frt?from=2026-11-01&to=2026-10-01');
    expect([reversed.status, reversed.body.code]).toEqual([400, 'validation']);
    expect(reversed.body.message).toMatch(/after/);
    const badDate = await api<Err>(base, 'GET', '/kpis/frt?from=2026-02-30');
    expect(badDate.status).toBe(400);
    const badSummary = await api<Err>(base, 'GET', '/kpis/summary?to=tomorrow-ish');
    expect(badSummary.status).toBe(400);
    // a filter value that is not a code is refused before any SQL runs
    const injected = await api<Err>(base, 'GET', `/kpis/frt?site=${encodeURIComponent("x' OR '1'='1")}`);
    expect(injected.status).toBe(400);

    const before = Date.now();
    const dflt = await api<KpiOut>(base, 'GET', '/kpis/frt');
    expect(dflt.status).toBe(200);
    const span = Date.parse(dflt.body.to) - Date.parse(dflt.body.from);
    expect(span).toBe(30 * 86_400_000);
    expect(Date.parse(dflt.body.to)).toBeGreaterThanOrEqual(before - 1000);

    // date-only bounds cover whole days: 2026-10-02..2026-10-02 holds WO1's response only
    const day = await api<KpiOut>(base, 'GET', '/kpis/frt?from=2026-10-02&to=2026-10-02');
    expect([day.body.value, day.body.to]).toEqual([30, '2026-10-02T23:59:59.999Z']);
  });

  it('a hostile variable value reaching the service stays a bind parameter', async () => {
    const kpis = createKpiService({ prisma: platform.db.prisma, clock: systemClock });
    const all = await kpis.run('work_orders_requested', { from: FROM, to: TO });
    const hostile = await kpis.run('work_orders_requested', { from: FROM, to: TO, site: "x' OR '1'='1" });
    expect([all.value, hostile.value]).toEqual([11, 0]);
    expect(await platform.db.prisma.workOrder.count()).toBe(12);
  });

  it('the view flags are never NULL (a NULL would silently drop a row from a FILTER)', async () => {
    const [r] = await platform.db.prisma.$queryRawUnsafe<{ n: number }[]>(
      `SELECT COUNT(*)::int AS n FROM kpi_work_orders
        WHERE sla_breached IS NULL OR response_late IS NULL OR resolution_late IS NULL OR went_on_hold_waiting_parts IS NULL
           OR is_corrective IS NULL OR is_open IS NULL OR total_cost IS NULL OR (completed_at IS NOT NULL AND NOT is_cancelled AND first_time_fix IS NULL)`,
    );
    expect(r!.n).toBe(0);
  });

  it('every definition executes against the fixture (unfiltered and filtered) and returns a value column', async () => {
    for (const vars of [{}, { site: 'SITE-A', customer: 'CUST-A', asset: 'PUMP-A1', engineer: 'ENG-1' }]) {
      for (const d of KPI_DEFINITIONS) {
        const q = expandForPostgres(d.sql, { from: new Date(FROM), to: new Date(TO), ...vars });
        const result = await platform.db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(q.text, ...q.values);
        if (!d.groupBy) expect(result, d.id).toHaveLength(1);
        for (const row of result) {
          expect(Object.keys(row), d.id).toContain('value');
          if (d.groupBy) expect(Object.keys(row), d.id).toContain(d.groupBy);
        }
      }
    }
  });
});
