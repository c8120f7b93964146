/**
 * Cost roll-up on real PostgreSQL: work logs and stock movements (inserted directly, as the work-log
 * and parts endpoints would) roll up per work order to hand-computed totals, and into contract and
 * project profitability (window, pro-rated revenue, top cost orders).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');

interface Err {
  code: string;
  message: string;
}
interface Cost {
  labour: { minutes: number; cost: number };
  travel: { minutes: number; distanceKm: number; cost: number };
  parts: { cost: number; lines: { partCode: string; quantity: number; cost: number; uncostedQuantity: number }[] };
  total: number;
}

describe.skipIf(reason)(`cost roll-up and profitability on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base: string;
  let contractId = '';
  let projectId = '';
  const wo: Record<'march' | 'june' | 'november' | 'outside', { id: string; number: number }> = {} as never;

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    platform = await startTestPlatform({ DATABASE_URL: t.url, ROLES: 'api' });
    base = platform.apiUrl!;
    const prisma = platform.db.prisma;
    const siteId = (await api<{ id: string }>(base, 'POST', '/sites', { code: 'S-COST', name: 'Cost site' })).body.id;
    const customerId = (await api<{ id: string }>(base, 'POST', '/customers', { code: 'COST-CO', name: 'Cost Co' })).body.id;
    await api(base, 'PUT', `/customers/${customerId}/sites`, { siteIds: [siteId] });
    const assetId = (await api<{ id: string }>(base, 'POST', '/assets', { code: 'BOILER-9', name: 'Boiler', type: 'boiler', siteId })).body.id;
    // a 365-day contract worth 36,500 (100 a day)
    contractId = (await api<{ id: string }>(base, 'POST', '/contracts', { code: 'COST-2025', customerId, name: 'Maintenance 2025', startsOn: '2025-01-01', endsOn: '2025-12-31', value: 36500 })).body.id;
    projectId = (await api<{ id: string }>(base, 'POST', '/projects', { code: 'PRJ-COST', name: 'Boiler overhaul', contractId, budget: 500, revenue: 400 })).body.id;
    const order = async (title: string, requestedAt: string, project = true) => {
      const r = await api<{ id: string; number: number; contractId: string | null }>(base, 'POST', '/work-orders', { title, assetId, requestedAt, ...(project ? { projectId } : {}) });
      expect(r.status).toBe(201);
      return r.body;
    };
    const march = await order('March repair', '2025-03-10T09:00:00Z');
    expect(march.contractId).toBe(contractId);
    wo.march = march;
    wo.june = await order('June repair', '2025-06-01T09:00:00Z');
    wo.november = await order('November check', '2025-11-20T09:00:00Z', false);
    wo.outside = await order('Before the contract', '2024-12-20T09:00:00Z', false);

    const engineerId = (await api<{ id: string }>(base, 'POST', '/engineers', { code: 'ENG-COST', name: 'Engineer' })).body.id;
    const log = (workOrderId: string, kind: 'labour' | 'travel' | 'note', minutes: number, cost: number, distanceKm?: number) =>
      prisma.workLog.create({ data: { workOrderId, engineerId, kind, minutes, cost, distanceKm: distanceKm ?? null } });
    await log(wo.march.id, 'labour', 90, 67.5);
    await log(wo.march.id, 'labour', 30, 22.5);
    await log(wo.march.id, 'travel', 40, 10.2, 12.5);
    await log(wo.march.id, 'note', 0, 0);
    await log(wo.june.id, 'labour', 120, 100);
    await log(wo.outside.id, 'labour', 60, 999);

    const warehouseId = (await prisma.warehouse.create({ data: { code: 'W-COST', name: 'Store' } })).id;
    const part = (code: string, unitCost: number | null) => prisma.part.create({ data: { code, name: code, unitCost } });
    const bearing = await part('BEARING', 11);
    const gasket = await part('GASKET', 4);
    const mystery = await part('MYSTERY', null);
    const move = (workOrderId: string | null, partId: string, kind: 'issue' | 'return' | 'receipt', quantity: number, unitCost: number | null) =>
      prisma.stockMovement.create({ data: { workOrderId, partId, warehouseId, kind, quantity, balanceAfter: 0, unitCost } });
    await move(null, bearing.id, 'receipt', 100, 11);
    await move(wo.march.id, bearing.id, 'issue', -5, 12.5);
    await move(wo.march.id, bearing.id, 'return', 2, 12.5);
    await move(wo.march.id, gasket.id, 'issue', -3, null); // catalogue cost 4
    await move(wo.march.id, mystery.id, 'issue', -1, null); // no cost anywhere
    await move(wo.june.id, gasket.id, 'issue', -10, 4.25);
  });

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  it('rolls a work order up: labour, travel, parts (issued − returned × unit cost, catalogue fallback)', async () => {
    const r = await api<Cost>(base, 'GET', `/work-orders/${wo.march.id}/costs`);
    expect(r.status).toBe(200);
    expect(r.body.labour).toEqual({ minutes: 120, cost: 90 });
    expect(r.body.travel).toEqual({ minutes: 40, distanceKm: 12.5, cost: 10.2 });
    // bearing 3 × 12.50 = 37.50; gasket 3 × 4.00 = 12.00; mystery 1 × ? = 0 (reported)
    expect(r.body.parts.lines).toEqual([
      expect.objectContaining({ partCode: 'BEARING', quantity: 3, cost: 37.5, uncostedQuantity: 0 }),
      expect.objectContaining({ partCode: 'GASKET', quantity: 3, cost: 12, uncostedQuantity: 0 }),
      expect.objectContaining({ partCode: 'MYSTERY', quantity: 1, cost: 0, uncostedQuantity: 1 }),
    ]);
    expect(r.body.parts.cost).toBe(49.5);
    expect(r.body.total).toBe(149.7);
    const empty = await api<Cost>(base, 'GET', `/work-orders/${wo.november.id}/costs`);
    expect(empty.body).toMatchObject({ total: 0, parts: { cost: 0, lines: [] }, labour: { cost: 0 } });
    expect((await api<Err>(base, 'GET', '/work-orders/00000000-0000-4000-8000-000000000000/costs')).status).toBe(404);
  });

  it('contract profitability over its whole term', async () => {
    const r = await api<{ revenue: number; revenueBasis: string; cost: Record<string, number>; margin: number; marginPct: number; orders: number; costPerOrder: number; topCostOrders: { number: number; title: string; total: number }[] }>(
      base,
      'GET',
      `/contracts/${contractId}/profitability`,
    );
    expect(r.status).toBe(200);
    // march 149.70 + june (100 + 42.50) = 292.20; the order before the contract is not on it
    expect(r.body).toMatchObject({ revenue: 36500, revenueBasis: 'contract_value', cost: { labour: 190, travel: 10.2, parts: 92, total: 292.2 }, margin: 36207.8, marginPct: 99.2, orders: 3, costPerOrder: 97.4 });
    expect(r.body.topCostOrders).toEqual([
      { workOrderId: wo.march.id, number: wo.march.number, title: 'March repair', total: 149.7 },
      { workOrderId: wo.june.id, number: wo.june.number, title: 'June repair', total: 142.5 },
    ]);
  });

  it('a window counts the orders requested in it and pro-rates the revenue', async () => {
    const r = await api<{ revenue: number; revenueBasis: string; cost: { total: number }; orders: number; window: unknown }>(base, 'GET', `/contracts/${contractId}/profitability?from=2025-03-01&to=2025-03-31`);
    expect(r.body).toMatchObject({ revenue: 3100, revenueBasis: 'pro_rated_term', cost: { total: 149.7 }, orders: 1, window: { from: '2025-03-01', to: '2025-03-31' } });
    const partial = await api<Err>(base, 'GET', `/contracts/${contractId}/profitability?from=2025-03-01`);
    expect(partial.status).toBe(400);
    expect((await api<Err>(base, 'GET', `/contracts/${contractId}/profitability?from=2025-03-31&to=2025-03-01`)).status).toBe(400);
  });

  it('project profitability with budget use', async () => {
    const r = await api<{ revenue: number; budget: number; budgetUsedPct: number; cost: { total: number }; margin: number; orders: number }>(base, 'GET', `/projects/${projectId}/profitability`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ revenue: 400, budget: 500, cost: { total: 292.2 }, margin: 107.8, orders: 2, budgetUsedPct: 58.44 });
  });
});
