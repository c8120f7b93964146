/**
 * Preventive-maintenance plans on real PostgreSQL: validation, calendar (floating and fixed) and
 * meter plans generating exactly one order per due point (also with two instances ticking
 * concurrently on separate connection pools), completion restarting the interval, cancellation
 * leaving the work owed, and the forecast of upcoming work.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChecklistService } from '../../maintenance/checklists.ts';
import { createPmPlanService, type PmPlanService } from '../../maintenance/pm-plans.ts';
import { addInterval } from '../../maintenance/pm-schedule.ts';
import { createWorkOrderService } from '../../maintenance/work-orders.ts';
import { systemClock } from '../../platform/clock.ts';
import { openDatabase, type Database } from '../../platform/db/database.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const logger = pino({ level: 'silent' });
const DAY = 86_400_000;

interface Err {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}
interface Plan {
  id: string;
  name: string;
  assetId: string | null;
  assetType: string | null;
  requiredSkills: string[];
  tasks: { key: string; label: string; required: boolean }[];
  parts: { partId: string; partCode: string; quantity: number }[];
  enabled: boolean;
}
interface WorkOrder {
  id: string;
  title: string;
  status: string;
  assetId: string;
  pmPlanId: string | null;
  dedupeKey: string | null;
  requiredSkills: string[];
  estimatedHours: number | null;
  completionMeter: number | null;
  reason: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}
interface Status {
  assetId: string;
  pending: boolean;
  due: boolean;
  nextSeq: number;
  state: { lastDoneAt: string | null; lastDoneMeter: number | null; generatedSeq: number };
  calendar: { dueAt: string } | null;
  meter: { baseline: number; dueValue: number; triggerValue: number; current: number } | null;
}
interface Run {
  created: number;
  covered: number;
  baselines: number;
}

describe.skipIf(reason)(`PM plans on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let second: Database;
  let drop: () => Promise<void>;
  let base: string;
  let siteId = '';
  let engineerId = '';
  let partId = '';
  const assets: Record<string, string> = {};

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    drop = db.drop;
    platform = await startTestPlatform({ DATABASE_URL: db.url, ROLES: 'api' });
    base = platform.apiUrl!;
    second = await openDatabase({ databaseUrl: db.url, dataDir: '', logger });
    siteId = (await api<{ id: string }>(base, 'POST', '/sites', { code: 'PM', name: 'PM site' })).body.id;
    for (const [code, type] of [
      ['CMP-1', 'compressor'],
      ['CMP-2', 'compressor'],
      ['CMP-OLD', 'compressor'],
      ['PUMP-1', 'pump'],
      ['PUMP-2', 'pump'],
      ['AHU-1', 'ahu'],
      ['AHU-2', 'ahu'],
      ['FAN-1', 'fan'],
      ['FAN-2', 'fan'],
      ['CHL-1', 'chiller'],
    ] as const) {
      const r = await api<{ id: string }>(base, 'POST', '/assets', { code, name: code, type, siteId });
      expect(r.status).toBe(201);
      assets[code] = r.body.id;
    }
    await platform.db.prisma.asset.update({ where: { id: assets['CMP-OLD']! }, data: { status: 'retired' } });
    engineerId = (await api<{ id: string }>(base, 'POST', '/engineers', { code: 'ENG-PM', name: 'PM engineer' })).body.id;
    partId = (await api<{ id: string }>(base, 'POST', '/parts', { code: 'FLT-AIR', name: 'Air filter' })).body.id;
  });

  afterAll(async () => {
    await second?.close();
    await platform?.cleanup();
    await drop?.();
  });

  const createPlan = (body: Record<string, unknown>) => api<Plan & Err>(base, 'POST', '/pm-plans', body);
  const run = async () => (await api<Run>(base, 'POST', '/pm-plans/run')).body;
  const ordersOf = async (planId: string) => (await api<{ items: WorkOrder[]; total: number }>(base, 'GET', `/work-orders?pmPlanId=${planId}&limit=100`)).body.items;
  const status = async (planId: string) => (await api<Status[]>(base, 'GET', `/pm-plans/${planId}/status`)).body;
  const setMeter = (assetId: string, value: number, readAt = new Date()) =>
    platform.db.prisma.meter.upsert({ where: { assetId_name: { assetId, name: 'run_hours' } }, create: { assetId, name: 'run_hours', value, readAt }, update: { value, readAt } });
  const move = (id: string, body: Record<string, unknown>) => api<WorkOrder & Err>(base, 'POST', `/work-orders/${id}/transitions`, body);
  async function complete(id: string, extra: Record<string, unknown> = {}) {
    expect((await move(id, { to: 'assigned', assigneeId: engineerId })).status).toBe(200);
    expect((await move(id, { to: 'in_progress' })).status).toBe(200);
    return move(id, { to: 'completed', ...extra });
  }
  const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();

  it('validates plans: scope, the fields the trigger needs, parts and template', async () => {
    const missing = await createPlan({ name: 'x', assetId: assets['CMP-1'], trigger: 'calendar', intervalCount: 1 });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toBe('trigger calendar needs intervalUnit');
    const meter = await createPlan({ name: 'x', assetType: 'pump', trigger: 'calendar_or_meter', intervalCount: 1, intervalUnit: 'month' });
    expect(meter.body.message).toBe('trigger calendar_or_meter needs meterName, meterInterval');
    expect(meter.body.details).toEqual({ missing: ['meterName', 'meterInterval'] });
    const both = await createPlan({ name: 'x', assetId: assets['CMP-1'], assetType: 'compressor', trigger: 'calendar', intervalCount: 1, intervalUnit: 'month' });
    expect(both.body.message).toMatch(/exactly one of assetId or assetType/);
    const neither = await createPlan({ name: 'x', trigger: 'calendar', intervalCount: 1, intervalUnit: 'month' });
    expect(neither.status).toBe(400);
    const ghostPart = '00000000-0000-4000-8000-000000000001';
    const part = await createPlan({ name: 'x', assetType: 'pump', trigger: 'calendar', intervalCount: 1, intervalUnit: 'month', parts: [{ partId: ghostPart, quantity: 1 }] });
    expect(part.body.message).toBe(`part(s) do not exist: ${ghostPart}`);
    const tpl = await createPlan({ name: 'x', assetType: 'pump', trigger: 'calendar', intervalCount: 1, intervalUnit: 'month', checklistTemplateId: ghostPart });
    expect(tpl.body.message).toMatch(/checklist template .* does not exist/);
    const asset = await createPlan({ name: 'x', assetId: ghostPart, trigger: 'calendar', intervalCount: 1, intervalUnit: 'month' });
    expect(asset.body.message).toMatch(/asset .* does not exist/);
    const lead = await createPlan({ name: 'x', assetType: 'pump', trigger: 'calendar', intervalCount: 1, intervalUnit: 'week', leadDays: 10 });
    expect(lead.body.message).toMatch(/leadDays \(10\) must be shorter than the interval/);
    const tasks = await createPlan({ name: 'x', assetType: 'pump', trigger: 'calendar', intervalCount: 1, intervalUnit: 'week', tasks: [{ key: 'a', label: 'A' }, { key: 'a', label: 'B' }] });
    expect(tasks.body.message).toMatch(/duplicate key\(s\) a/);
    expect((await api<{ total: number }>(base, 'GET', '/pm-plans')).body.total).toBe(0);
  });

  it('CRUD: create with parts, skills and tasks; patch; list; delete', async () => {
    const created = await createPlan({
      name: 'Quarterly belt check',
      assetType: 'fan',
      trigger: 'calendar',
      intervalCount: 3,
      intervalUnit: 'month',
      requiredSkills: ['mechanical', 'mechanical', 'electrical'],
      estimatedHours: 1.5,
      tasks: ['Check belt tension', { key: 'bearing', label: 'Grease bearings', required: false }],
      parts: [{ partId, quantity: 2 }],
      enabled: false,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      assetType: 'fan',
      assetId: null,
      requiredSkills: ['mechanical', 'electrical'],
      tasks: [
        { key: 'task-1', label: 'Check belt tension', required: true },
        { key: 'bearing', label: 'Grease bearings', required: false },
      ],
      parts: [{ partId, partCode: 'FLT-AIR', quantity: 2 }],
    });
    const id = created.body.id;
    const patched = await api<Plan & Err>(base, 'PATCH', `/pm-plans/${id}`, { name: 'Belt check', assetId: assets['FAN-1'], parts: [] });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Belt check', assetId: assets['FAN-1'], assetType: null, parts: [], enabled: false });
    const badPatch = await api<Err>(base, 'PATCH', `/pm-plans/${id}`, { trigger: 'meter' });
    expect(badPatch.body.message).toBe('trigger meter needs meterName, meterInterval');
    const list = await api<{ items: Plan[]; total: number }>(base, 'GET', `/pm-plans?assetId=${assets['FAN-1']}&enabled=false`);
    expect(list.body.items.map((p) => p.id)).toEqual([id]);
    expect((await api(base, 'DELETE', `/pm-plans/${id}`)).status).toBe(204);
    expect((await api(base, 'GET', `/pm-plans/${id}`)).status).toBe(404);
    expect((await api(base, 'DELETE', `/pm-plans/${id}`)).status).toBe(404);
  });

  it('calendar plan: exactly one order when due, none before; completion restarts the interval', async () => {
    const due = await createPlan({
      name: 'Monthly inspection',
      assetId: assets['AHU-1'],
      trigger: 'calendar',
      intervalCount: 1,
      intervalUnit: 'month',
      startDate: daysAgo(40),
      priority: 'high',
      requiredSkills: ['hvac'],
      estimatedHours: 2,
      description: 'Inspect the air handler',
    });
    const notYet = await createPlan({ name: 'Not yet', assetId: assets['AHU-2'], trigger: 'calendar', intervalCount: 1, intervalUnit: 'month', startDate: daysAgo(10) });
    expect((await run()).created).toBe(1);
    expect((await run()).created).toBe(0);
    const orders = await ordersOf(due.body.id);
    expect(orders).toHaveLength(1);
    const wo = orders[0]!;
    expect(wo).toMatchObject({ title: 'PM: Monthly inspection', assetId: assets['AHU-1'], dedupeKey: `pm:${due.body.id}:${assets['AHU-1']}:1`, requiredSkills: ['hvac'], estimatedHours: 2 });
    expect(wo.reason).toMatchObject({ pmPlanId: due.body.id, pmPlanName: 'Monthly inspection', trigger: 'calendar', basis: 'calendar', seq: 1, calendar: { base: 'anchor' }, lastDone: { at: null } });
    expect(await ordersOf(notYet.body.id)).toHaveLength(0);
    expect((await status(due.body.id))[0]).toMatchObject({ pending: true, due: false, nextSeq: 2 });

    const done = await complete(wo.id);
    expect(done.status).toBe(200);
    const after = (await status(due.body.id))[0]!;
    expect(after).toMatchObject({ pending: false, due: false, state: { generatedSeq: 1 } });
    // floating: next due one month after the completion
    const nextDue = Date.parse(after.calendar!.dueAt);
    expect(nextDue - Date.parse(after.state.lastDoneAt!)).toBeGreaterThanOrEqual(28 * DAY);
    expect(nextDue).toBeGreaterThan(Date.now() + 27 * DAY);
    expect((await run()).created).toBe(0);
    expect(await ordersOf(due.body.id)).toHaveLength(1);
  });

  it('fixed schedule far behind generates one order for the latest point, not a storm', async () => {
    const plan = await createPlan({ name: 'Weekly fixed', assetId: assets['FAN-2'], trigger: 'calendar', intervalCount: 1, intervalUnit: 'week', floating: false, startDate: daysAgo(7 * 10 + 3) });
    await run();
    await run();
    const orders = await ordersOf(plan.body.id);
    expect(orders).toHaveLength(1);
    expect(orders[0]!.reason.calendar).toMatchObject({ base: 'schedule', point: 10, skippedPoints: 9 });
    expect(orders[0]!.reason.summary).toMatch(/point #10 .* \(9 missed point\(s\) skipped\)/);
  });

  it('asset-type plan on two instances ticking concurrently: one order per asset, retired assets skipped', async () => {
    const plan = await createPlan({ name: 'Compressor service', assetType: 'compressor', trigger: 'calendar', intervalCount: 6, intervalUnit: 'month', startDate: daysAgo(200), tasks: ['Drain condensate'] });
    const instance = (db: Database): PmPlanService => {
      const workOrders = createWorkOrderService({ prisma: db.prisma, clock: systemClock, logger });
      const pm = createPmPlanService({ prisma: db.prisma, clock: systemClock, logger, workOrders });
      workOrders.use(createChecklistService({ prisma: db.prisma, clock: systemClock }).workOrderHooks);
      workOrders.use(pm.workOrderHooks);
      return pm;
    };
    const A = instance(platform.db);
    const B = instance(second);
    await Promise.all([A.tick(), B.tick(), A.tick(), B.tick()]);
    const orders = await ordersOf(plan.body.id);
    expect(orders.map((o) => o.assetId).sort()).toEqual([assets['CMP-1'], assets['CMP-2']].sort());
    expect(new Set(orders.map((o) => o.dedupeKey)).size).toBe(2);
    const states = await platform.db.prisma.pmPlanState.findMany({ where: { planId: plan.body.id } });
    expect(states.map((s) => s.generatedSeq)).toEqual([1, 1]);
    // the hooks of either instance copied the task list once per order
    const items = await platform.db.prisma.workOrderChecklistItem.count({ where: { workOrderId: { in: orders.map((o) => o.id) } } });
    expect(items).toBe(2);
  });

  it('meter plan: baseline at first sight, order when the meter crosses interval − tolerance, restart from the completion reading', async () => {
    const pump = assets['PUMP-1']!;
    const plan = await createPlan({ name: 'Seal service', assetId: pump, trigger: 'meter', meterName: 'run_hours', meterInterval: 500, meterTolerance: 20 });
    expect((await run()).baselines).toBe(0); // no reading yet
    await setMeter(pump, 1000);
    expect((await run()).baselines).toBe(1);
    expect((await status(plan.body.id))[0]!.meter).toMatchObject({ baseline: 1000, dueValue: 1500, triggerValue: 1480 });
    await setMeter(pump, 1479);
    expect((await run()).created).toBe(0);
    await setMeter(pump, 1480);
    await Promise.all([run(), run()]);
    await run();
    const orders = await ordersOf(plan.body.id);
    expect(orders).toHaveLength(1);
    expect(orders[0]!.reason).toMatchObject({ basis: 'meter', meter: { current: 1480, baseline: 1000, dueValue: 1500 } });

    // completion at a reading: the next one is due at 1510 + 500 − 20
    expect((await complete(orders[0]!.id, { meterReading: 1510 })).body.completionMeter).toBe(1510);
    expect((await status(plan.body.id))[0]!).toMatchObject({ pending: false, state: { lastDoneMeter: 1510 }, meter: { dueValue: 2010, triggerValue: 1990 } });
    await setMeter(pump, 1985);
    expect((await run()).created).toBe(0);
    await setMeter(pump, 1995);
    await run();
    const again = await ordersOf(plan.body.id);
    expect(again.map((o) => o.dedupeKey).sort()).toEqual([`pm:${plan.body.id}:${pump}:1`, `pm:${plan.body.id}:${pump}:2`]);

    // completion without a reading takes the current meter
    const second = again.find((o) => o.dedupeKey?.endsWith(':2'))!;
    expect((await complete(second.id)).body.completionMeter).toBe(1995);
    expect((await status(plan.body.id))[0]!.state.lastDoneMeter).toBe(1995);
  });

  it('a due point while the previous order is still open is covered by it, not generated again', async () => {
    const plan = await createPlan({ name: 'Daily fixed', assetId: assets['PUMP-2'], trigger: 'calendar', intervalCount: 1, intervalUnit: 'day', floating: false, startDate: daysAgo(1.5) });
    await run();
    expect(await ordersOf(plan.body.id)).toHaveLength(1);
    // the schedule moves on a day while the order stays open
    await platform.db.prisma.pmPlanState.updateMany({ where: { planId: plan.body.id }, data: { lastGeneratedAt: new Date(Date.now() - DAY) } });
    const r = await run();
    expect(r.covered).toBe(1);
    expect(await ordersOf(plan.body.id)).toHaveLength(1);
    expect((await run()).covered).toBe(0);
  });

  it('a cancelled PM order leaves the work owed: the next run generates it again with a new sequence', async () => {
    const plan = await createPlan({ name: 'Chiller check', assetId: assets['CHL-1'], trigger: 'calendar', intervalCount: 1, intervalUnit: 'month', startDate: daysAgo(35) });
    await run();
    const [first] = await ordersOf(plan.body.id);
    expect((await move(first!.id, { to: 'cancelled', note: 'duplicate visit' })).status).toBe(200);
    await run();
    const orders = await ordersOf(plan.body.id);
    expect(orders.map((o) => [o.status, o.dedupeKey?.split(':').at(-1)]).sort()).toEqual([
      ['cancelled', '1'],
      ['open', '2'],
    ]);
  });

  it('forecast: calendar occurrences in the window, meter dates from the usage rate, hours and parts totals', async () => {
    const fan = assets['FAN-1']!;
    const anchor = new Date(Date.now() - 5 * DAY);
    const cal = await createPlan({
      name: 'Fan lubrication',
      assetId: fan,
      trigger: 'calendar',
      intervalCount: 1,
      intervalUnit: 'month',
      startDate: anchor.toISOString(),
      estimatedHours: 1.5,
      parts: [{ partId, quantity: 2 }],
    });
    const met = await createPlan({ name: 'Fan motor', assetId: fan, trigger: 'meter', meterName: 'run_hours', meterInterval: 500, estimatedHours: 4 });
    await setMeter(fan, 100);
    await run(); // baseline 100
    // as if the last service had been 10 days ago at 100 h and the fan ran 10 h a day since
    await platform.db.prisma.pmPlanState.updateMany({ where: { planId: met.body.id, assetId: fan }, data: { lastDoneAt: new Date(Date.now() - 10 * DAY) } });
    await setMeter(fan, 200);

    const to = new Date(Date.now() + 100 * DAY).toISOString();
    const f = await api<{
      items: { planId: string; dueAt: string; basis: string; meterDueValue: number | null; usageRate: { perDay: number; derivation: string } | null }[];
      totals: { occurrences: number; estimatedHours: number; parts: { partId: string; quantity: number }[] };
      unforecastable: unknown[];
    }>(base, 'GET', `/pm-plans/forecast?assetId=${fan}&to=${encodeURIComponent(to)}`);
    expect(f.status).toBe(200);
    const calendarDates = f.body.items.filter((i) => i.planId === cal.body.id).map((i) => i.dueAt);
    const expected = [1, 2, 3].map((m) => addInterval(anchor, m, 'month').toISOString());
    expect(calendarDates).toEqual(expected.filter((d) => d <= to));
    const meterItems = f.body.items.filter((i) => i.planId === met.body.id);
    expect(meterItems[0]).toMatchObject({ basis: 'meter', meterDueValue: 600, usageRate: { derivation: 'since_last_completion' } });
    expect(meterItems[0]!.usageRate!.perDay).toBeCloseTo(10, 3);
    // 400 h to go at 10 h/day
    expect(Math.abs(Date.parse(meterItems[0]!.dueAt) - (Date.now() + 40 * DAY))).toBeLessThan(DAY / 24);
    expect(meterItems.map((i) => i.meterDueValue)).toEqual([600, 1100]);
    // sorted by date
    const all = f.body.items.map((i) => i.dueAt);
    expect([...all].sort()).toEqual(all);
    expect(f.body.totals).toMatchObject({ occurrences: calendarDates.length + 2, estimatedHours: calendarDates.length * 1.5 + 8, parts: [{ partId, quantity: calendarDates.length * 2 }] });
    expect(f.body.unforecastable).toEqual([]);

    const bad = await api<Err>(base, 'GET', `/pm-plans/forecast?from=${encodeURIComponent(to)}&to=${encodeURIComponent(new Date().toISOString())}`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/must be after from/);
  });
  it('forecast reads assets, states and meters in a fixed number of queries, whatever the number of plans', async () => {
    // counts model calls made by a PM service built on the test database
    let calls = 0;
    const counted = new Proxy(platform.db.prisma, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof prop !== 'string' || prop.startsWith('$') || !v || typeof v !== 'object' || !('findMany' in v)) return v;
        return new Proxy(v, {
          get(t, p) {
            const f = Reflect.get(t, p) as unknown;
            return typeof f === 'function' ? (...args: unknown[]) => (calls++, (f as (...a: unknown[]) => unknown).apply(t, args)) : f;
          },
        });
      },
    });
    const svc = createPmPlanService({ prisma: counted, clock: systemClock, logger, workOrders: createWorkOrderService({ prisma: counted, clock: systemClock, logger }) });
    const ahu1 = assets['AHU-1']!;
    const ahu2 = assets['AHU-2']!;
    expect((await createPlan({ name: 'AHU belts', assetType: 'ahu', trigger: 'calendar', intervalCount: 2, intervalUnit: 'week', startDate: daysAgo(1) })).status).toBe(201);
    const queries = async () => {
      calls = 0;
      const f = await svc.forecast({ siteId });
      return { calls, f };
    };
    const before = await queries();
    for (const [name, unit] of [['AHU filters', 'month'], ['AHU coils', 'month'], ['AHU drives', 'year']] as const) {
      expect((await createPlan({ name, assetType: 'ahu', trigger: 'calendar', intervalCount: 1, intervalUnit: unit, startDate: daysAgo(2) })).status).toBe(201);
    }
    expect((await createPlan({ name: 'AHU-1 cycles', assetId: ahu1, trigger: 'meter', meterName: 'cycles', meterInterval: 1000 })).status).toBe(201);
    const after = await queries();
    expect(after.calls).toBe(before.calls);
    // a type plan still lists every asset of the type; the meter plan without a reading is reported
    const filters = after.f.items.filter((i) => i.planName === 'AHU filters');
    expect(new Set(filters.map((i) => i.assetId))).toEqual(new Set([ahu1, ahu2]));
    expect(after.f.unforecastable).toEqual(expect.arrayContaining([expect.objectContaining({ planName: 'AHU-1 cycles', assetId: ahu1, reason: 'no reading of cycles yet' })]));
  });
});
