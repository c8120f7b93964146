/**
 * Calendar PM on real PostgreSQL: the engine's clock tick creates the order once per interval
 * (also across two ticks and a restart), and completing it moves the next due date.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addInterval } from '../../rules/evaluate.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');

describe.skipIf(reason)(`calendar PM ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base: string;
  let assetId: string;
  let engineer: string;

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    drop = db.drop;
    platform = await startTestPlatform({ DATABASE_URL: db.url, RULES_TICK_MS: '3600000' });
    base = platform.apiUrl!;
    const site = await api<{ id: string }>(base, 'POST', '/sites', { code: 'CAL', name: 'CAL' });
    assetId = (await api<{ id: string }>(base, 'POST', '/assets', { code: 'BOILER-1', name: 'Boiler', type: 'boiler', siteId: site.body.id })).body.id;
    engineer = (await api<{ id: string }>(base, 'POST', '/engineers', { code: 'E-CAL', name: 'Wang Fang' })).body.id;
  });

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  it('creates the order once when due, and completing it schedules the next interval', async () => {
    const anchor = new Date(Date.now() - 40 * 86_400_000).toISOString(); // monthly, so one interval is overdue
    const rule = await api<{ id: string }>(base, 'POST', '/rules', {
      name: 'Monthly boiler inspection',
      kind: 'calendar',
      assetType: 'boiler',
      definition: { every: 1, unit: 'month', anchor, leadDays: 3, priority: 'medium', title: 'Monthly boiler inspection' },
    });
    expect(rule.status).toBe(201);
    await platform.engine.reload();
    await platform.engine.tick();
    await platform.engine.tick();
    const orders = await platform.db.prisma.workOrder.findMany({ where: { ruleId: rule.body.id } });
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ source: 'pm', status: 'open', title: 'Monthly boiler inspection' });
    expect((orders[0]!.reason as { summary: string }).summary).toMatch(/every 1 month\(s\) since .*: due .* on BOILER-1/);

    // a restarted engine (fresh cache) reads the persisted state and does not repeat it
    await platform.engine.reload();
    await platform.engine.tick();
    expect(await platform.db.prisma.workOrder.count({ where: { ruleId: rule.body.id } })).toBe(1);

    const id = orders[0]!.id;
    await api(base, 'POST', `/work-orders/${id}/transitions`, { to: 'assigned', assigneeId: engineer });
    await api(base, 'POST', `/work-orders/${id}/transitions`, { to: 'in_progress' });
    expect((await api(base, 'POST', `/work-orders/${id}/transitions`, { to: 'completed' })).status).toBe(200);
    const state = await platform.db.prisma.ruleState.findUnique({ where: { ruleId_assetId: { ruleId: rule.body.id, assetId } } });
    const lastPmAt = (state!.state as { lastPmAt: number }).lastPmAt;
    // fixed interval: the next interval starts at the due date just served (anchor + 1 month)
    expect(lastPmAt).toBe(addInterval(Date.parse(anchor), 1, 'month'));
    await platform.engine.tick();
    expect(await platform.db.prisma.workOrder.count({ where: { ruleId: rule.body.id } })).toBe(1);
  });
});
