/**
 * GET /work-orders runs as hand-written SQL (the hottest list): its pages, totals and every field must
 * equal what the Prisma query with the same filters gives, for each filter and paging.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workOrderView } from '../../api/views.ts';
import { workOrderSelect } from '../../maintenance/work-orders.ts';
import type { Prisma } from '../../platform/db/database.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');

describe.skipIf(reason)(`work-order list (SQL) equals the Prisma query ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base = '';
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    platform = await startTestPlatform({ DATABASE_URL: t.url, ROLES: 'api', READ_CACHE_MS: '0' });
    base = platform.apiUrl!;
    const prisma = platform.db.prisma;
    const site = await prisma.site.create({ data: { code: 'WL', name: 'List site' } });
    const [a1, a2] = await Promise.all(['WL-1', 'WL-2'].map((code) => prisma.asset.create({ data: { code, name: `Asset ${code}`, type: 'pump', siteId: site.id } })));
    const customer = await prisma.customer.create({ data: { code: 'WLC', name: 'List customer' } });
    const engineer = await prisma.engineer.create({ data: { code: 'WLE', name: 'Eng' } });
    ids.a1 = a1!.id;
    ids.customer = customer.id;
    ids.engineer = engineer.id;
    const statuses = ['open', 'assigned', 'in_progress', 'completed', 'closed', 'cancelled'] as const;
    const priorities = ['low', 'medium', 'high', 'urgent'] as const;
    const sources = ['manual', 'rule', 'pm', 'customer'] as const;
    const t0 = Date.now() - 86_400_000;
    await prisma.workOrder.createMany({
      data: Array.from({ length: 75 }, (_, i) => ({
        title: `Order ${i}`,
        description: i % 3 ? null : `Description ${i} with "quotes" and ünïcode`,
        source: sources[i % 4]!,
        priority: priorities[i % 4]!,
        severity: i % 5 === 0 ? ('major' as const) : null,
        status: statuses[i % 6]!,
        assetId: (i % 2 ? a1 : a2)!.id,
        customerId: i % 3 === 0 ? customer.id : null,
        assigneeId: i % 6 === 1 ? engineer.id : null,
        requiredSkills: i % 4 === 0 ? ['electrical', 'hydraulics'] : [],
        estimatedHours: i % 2 ? 1.5 + i : null,
        reason: i % 7 === 0 ? { rule: 'temp', value: 91.5, nested: [1, 2] } : {},
        completionMeter: i % 9 === 0 ? 1234.5 : null,
        requestedAt: new Date(t0 + i * 60_000),
        responseDueAt: new Date(t0 + i * 60_000 + 3_600_000),
        responseBreached: i % 8 === 0,
        resolutionBreached: i % 11 === 0,
        holdReason: i % 10 === 0 ? ('waiting_parts' as const) : null,
        onHoldAt: i % 10 === 0 ? new Date(t0) : null,
        pausedMs: i % 10 === 0 ? 12_345 : 0,
      })),
    });
  }, 60_000);

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  const expected = async (where: Prisma.WorkOrderWhereInput, limit: number, offset: number) => {
    const prisma = platform.db.prisma;
    const [items, total] = await Promise.all([prisma.workOrder.findMany({ where, select: workOrderSelect, orderBy: { number: 'desc' }, take: limit, skip: offset }), prisma.workOrder.count({ where })]);
    return JSON.parse(JSON.stringify({ items: items.map(workOrderView), total, limit, offset })) as unknown;
  };

  it('every filter, alone and combined, with paging', async () => {
    const cases: [string, Prisma.WorkOrderWhereInput, number, number][] = [
      ['limit=50', {}, 50, 0],
      ['limit=20&offset=60', {}, 20, 60],
      ['limit=10&offset=500', {}, 10, 500],
      ['status=open', { status: 'open' }, 50, 0],
      ['priority=urgent&limit=5&offset=3', { priority: 'urgent' }, 5, 3],
      ['source=rule', { source: 'rule' }, 50, 0],
      [`assetId=${ids.a1}`, { assetId: ids.a1 }, 50, 0],
      [`customerId=${ids.customer}&status=closed`, { customerId: ids.customer, status: 'closed' }, 50, 0],
      [`assigneeId=${ids.engineer}`, { assigneeId: ids.engineer }, 50, 0],
      ['slaBreached=true', { OR: [{ responseBreached: true }, { resolutionBreached: true }] }, 50, 0],
      ['slaBreached=false&priority=low', { responseBreached: false, resolutionBreached: false, priority: 'low' }, 50, 0],
      ['pmPlanId=00000000-0000-4000-8000-000000000000', { pmPlanId: '00000000-0000-4000-8000-000000000000' }, 50, 0],
    ];
    for (const [query, where, limit, offset] of cases) {
      const got = await api<{ items: unknown[]; total: number }>(base, 'GET', `/work-orders?${query.includes('limit=') ? query : `${query}&limit=${limit}`}`);
      expect(got.status, query).toBe(200);
      expect(got.body, query).toEqual(await expected(where, limit, offset));
    }
  });
});
