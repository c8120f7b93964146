/**
 * Customers, contracts, projects and priority rules on real PostgreSQL through the platform API:
 * validation (400 naming the field), site ownership, and the classify hook — a gold customer's
 * critical asset gets the rule's priority and the contract's SLA due times, an explicit priority
 * wins, an order without a customer keeps the defaults, rule-engine orders are classified by their
 * alarm severity.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomerService } from '../../maintenance/customers.ts';
import { createWorkOrderService, type WorkOrderService } from '../../maintenance/work-orders.ts';
import { systemClock } from '../../platform/clock.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const logger = pino({ level: 'silent' });
const MIN = 60_000;
const H = 60 * MIN;

interface Err {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}
interface WorkOrder {
  id: string;
  priority: string;
  customerId: string | null;
  contractId: string | null;
  requestedAt: string;
  responseDueAt: string;
  resolutionDueAt: string;
  reason: { priority?: { basis: string; rule: { name: string; matched: Record<string, string> } | null; contract: string | null; sla: string } };
}

describe.skipIf(reason)(`customers, contracts and priority rules on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base: string;
  let goldId = '';
  let otherCustomerId = '';
  let siteA = '';
  let siteB = '';
  let siteC = '';
  let criticalAsset = '';
  let plainAsset = '';
  let contractId = '';
  let causes: WorkOrderService;

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    platform = await startTestPlatform({ DATABASE_URL: t.url, ROLES: 'api' });
    base = platform.apiUrl!;
    const site = async (code: string) => (await api<{ id: string }>(base, 'POST', '/sites', { code, name: code })).body.id;
    siteA = await site('SITE-A');
    siteB = await site('SITE-B');
    siteC = await site('SITE-C');
    const asset = async (code: string, siteId: string, criticality: 'low' | 'medium' | 'high' | 'critical') => {
      const id = (await api<{ id: string }>(base, 'POST', '/assets', { code, name: code, type: 'pump', siteId })).body.id;
      await platform.db.prisma.asset.update({ where: { id }, data: { criticality } });
      return id;
    };
    criticalAsset = await asset('PUMP-GOLD', siteA, 'critical');
    plainAsset = await asset('PUMP-NOCUST', siteC, 'critical');
    // a work-order service on the same database with the customer hooks: rule-engine style orders
    causes = createWorkOrderService({ prisma: platform.db.prisma, clock: systemClock, logger });
    causes.use(createCustomerService({ prisma: platform.db.prisma, clock: systemClock }).workOrderHooks);
  });

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  it('customers: create, duplicate code 409, assign sites (owned by another → 409, unknown → 400)', async () => {
    const gold = await api<{ id: string; tier: string } & Err>(base, 'POST', '/customers', { code: 'ACME', name: 'Acme', tier: 'gold', email: 'ops@acme.test' });
    expect(gold.status).toBe(201);
    expect(gold.body.tier).toBe('gold');
    goldId = gold.body.id;
    expect((await api<Err>(base, 'POST', '/customers', { code: 'ACME', name: 'again' })).status).toBe(409);
    expect((await api<Err>(base, 'POST', '/customers', { code: 'BAD', name: 'x', tier: 'diamond' })).status).toBe(400);
    otherCustomerId = (await api<{ id: string }>(base, 'POST', '/customers', { code: 'OTHER', name: 'Other' })).body.id;

    const set = await api<{ sites: { id: string; code: string }[] }>(base, 'PUT', `/customers/${goldId}/sites`, { siteIds: [siteA, siteB] });
    expect(set.status).toBe(200);
    expect(set.body.sites.map((s) => s.code)).toEqual(['SITE-A', 'SITE-B']);
    const taken = await api<Err>(base, 'PUT', `/customers/${otherCustomerId}/sites`, { siteIds: [siteB] });
    expect(taken.status).toBe(409);
    expect(taken.body.message).toMatch(/SITE-B/);
    const unknown = await api<Err>(base, 'PUT', `/customers/${otherCustomerId}/sites`, { siteIds: ['00000000-0000-4000-8000-000000000000'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/siteIds/);
    // replacing the set releases the sites left out
    await api(base, 'PUT', `/customers/${goldId}/sites`, { siteIds: [siteA] });
    expect((await api<{ sites: { code: string }[] }>(base, 'GET', `/customers/${goldId}`)).body.sites.map((s) => s.code)).toEqual(['SITE-A']);
    expect((await api<{ total: number }>(base, 'GET', '/customers?tier=gold')).body.total).toBe(1);
  });

  it('contracts are validated; 400 names the field', async () => {
    const body = { code: 'ACME-SLA', customerId: goldId, name: 'Acme premium', serviceLevel: 'premium', startsOn: '2020-01-01' };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ endsOn: '2019-12-31' }, /endsOn/],
      [{ coverage: { siteIds: [siteB] } }, /coverage\.siteIds/],
      [{ slaTargets: { urgent: { responseMinutes: 300, resolutionMinutes: 120 } } }, /slaTargets\.urgent\.responseMinutes/],
      [{ slaTargets: { urgent: { responseMinutes: 0, resolutionMinutes: 120 } } }, /responseMinutes/],
      [{ slaTargets: { critical: { responseMinutes: 1, resolutionMinutes: 2 } } }, /slaTargets/],
      [{ customerId: '00000000-0000-4000-8000-000000000000' }, /customer/],
    ];
    for (const [patch, field] of cases) {
      const r = await api<Err>(base, 'POST', '/contracts', { ...body, ...patch });
      expect(r.status, JSON.stringify(patch)).toBe(400);
      expect(r.body.message).toMatch(field);
    }
    const ok = await api<{ id: string; startsOn: string; endsOn: string | null; value: number; customerCode: string }>(base, 'POST', '/contracts', {
      ...body,
      coverage: { siteIds: [siteA], includesParts: true },
      slaTargets: { urgent: { responseMinutes: 30, resolutionMinutes: 120 } },
      value: 12000,
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ startsOn: '2020-01-01', endsOn: null, value: 12000, customerCode: 'ACME' });
    contractId = ok.body.id;
    expect((await api<Err>(base, 'POST', '/contracts', { ...body })).status).toBe(409);
    const patched = await api<Err>(base, 'PATCH', `/contracts/${contractId}`, { endsOn: '2019-01-01' });
    expect(patched.status).toBe(400);
    expect(patched.body.message).toMatch(/endsOn/);
    expect((await api<{ items: unknown[] }>(base, 'GET', `/contracts?customerId=${goldId}`)).body.items).toHaveLength(1);
  });

  it('projects: a contract of another customer is refused; the customer follows the contract', async () => {
    const bad = await api<Err>(base, 'POST', '/projects', { code: 'P-BAD', name: 'x', customerId: otherCustomerId, contractId });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/contractId/);
    const p = await api<{ id: string; customerId: string; budget: number }>(base, 'POST', '/projects', { code: 'P-1', name: 'Retrofit', contractId, budget: 5000 });
    expect(p.status).toBe(201);
    expect(p.body).toMatchObject({ customerId: goldId, budget: 5000 });
    expect((await api<Err>(base, 'DELETE', `/customers/${goldId}`)).status).toBe(409);
  });

  it('priority rules: CRUD with validation; examples only into an empty table', async () => {
    expect((await api<Err>(base, 'POST', '/priority-rules', { name: 'bad', priority: 'urgent', conditions: { customerTier: ['diamond'] } })).status).toBe(400);
    const seeded = await api<{ name: string }[]>(base, 'POST', '/priority-rules/examples');
    expect(seeded.status).toBe(201);
    expect(seeded.body.length).toBeGreaterThan(0);
    expect((await api<Err>(base, 'POST', '/priority-rules/examples')).status).toBe(409);
    // start from our own rules for the classification tests
    for (const r of (await api<{ id: string }[]>(base, 'GET', '/priority-rules')).body) expect((await api(base, 'DELETE', `/priority-rules/${r.id}`)).status).toBe(204);
    const gold = await api<{ id: string; position: number }>(base, 'POST', '/priority-rules', {
      name: 'Gold critical assets',
      position: 10,
      conditions: { customerTier: ['gold', 'platinum'], assetCriticality: ['critical'] },
      priority: 'urgent',
    });
    expect(gold.status).toBe(201);
    const alarm = await api<{ position: number }>(base, 'POST', '/priority-rules', { name: 'Critical alarms', conditions: { severity: ['critical'], source: ['rule'] }, priority: 'high' });
    expect(alarm.body.position).toBe(20);
    const off = await api<{ id: string }>(base, 'POST', '/priority-rules', { name: 'Disabled catch-all', position: 0, priority: 'low', enabled: false });
    expect((await api<{ enabled: boolean }>(base, 'PATCH', `/priority-rules/${off.body.id}`, { name: 'Disabled catch-all (off)' })).body.enabled).toBe(false);
    expect((await api<{ name: string }[]>(base, 'GET', '/priority-rules')).body.map((r) => r.name)).toEqual(['Disabled catch-all (off)', 'Gold critical assets', 'Critical alarms']);
  });

  it("a gold customer's critical asset gets the rule's priority and the contract's SLA due times", async () => {
    const r = await api<WorkOrder>(base, 'POST', '/work-orders', { title: 'Pump noisy', assetId: criticalAsset, source: 'customer', channel: 'portal' });
    expect(r.status).toBe(201);
    const wo = r.body;
    expect(wo).toMatchObject({ priority: 'urgent', customerId: goldId, contractId });
    const requested = Date.parse(wo.requestedAt);
    expect(Date.parse(wo.responseDueAt) - requested).toBe(30 * MIN);
    expect(Date.parse(wo.resolutionDueAt) - requested).toBe(120 * MIN);
    expect(wo.reason.priority).toMatchObject({
      basis: 'rule',
      rule: { name: 'Gold critical assets', matched: { customerTier: 'gold', assetCriticality: 'critical' } },
      contract: 'ACME-SLA',
      sla: 'contract',
    });
  });

  it('an explicit priority wins; the contract still applies, with default targets for a priority it does not name', async () => {
    const wo = (await api<WorkOrder>(base, 'POST', '/work-orders', { title: 'Repaint guard', assetId: criticalAsset, priority: 'low' })).body;
    expect(wo).toMatchObject({ priority: 'low', customerId: goldId, contractId });
    expect(Date.parse(wo.responseDueAt) - Date.parse(wo.requestedAt)).toBe(72 * H);
    expect(wo.reason.priority).toMatchObject({ basis: 'explicit', rule: null, sla: 'default' });
  });

  it('an order without a customer keeps the default priority and SLA', async () => {
    const wo = (await api<WorkOrder>(base, 'POST', '/work-orders', { title: 'Leak', assetId: plainAsset })).body;
    expect(wo).toMatchObject({ priority: 'medium', customerId: null, contractId: null });
    expect(Date.parse(wo.responseDueAt) - Date.parse(wo.requestedAt)).toBe(24 * H);
    expect(wo.reason.priority).toMatchObject({ basis: 'default', contract: null, sla: 'default' });
  });

  it('a contract outside its term or an inactive contract does not apply', async () => {
    const past = new Date(Date.UTC(2019, 5, 1)).toISOString();
    const old = (await api<WorkOrder>(base, 'POST', '/work-orders', { title: 'Old call', assetId: criticalAsset, requestedAt: past })).body;
    expect(old).toMatchObject({ priority: 'urgent', customerId: goldId, contractId: null });
    expect(Date.parse(old.responseDueAt) - Date.parse(old.requestedAt)).toBe(1 * H);
    await api(base, 'PATCH', `/contracts/${contractId}`, { active: false });
    expect((await api<WorkOrder>(base, 'POST', '/work-orders', { title: 'Inactive', assetId: criticalAsset })).body.contractId).toBeNull();
    await api(base, 'PATCH', `/contracts/${contractId}`, { active: true });
  });

  it('rule-engine orders are classified by their alarm severity; no match keeps the cause priority', async () => {
    const base0 = { source: 'rule' as const, assetId: plainAsset, reason: {}, requestedAt: new Date() };
    const hot = await causes.requestFromCause({ ...base0, dedupeKey: 'k-crit', openKey: 'o-crit', title: 'Overheat', priority: 'low', severity: 'critical' });
    expect(hot.workOrder).toMatchObject({ priority: 'high', severity: 'critical', customerId: null });
    expect((hot.workOrder.reason as WorkOrder['reason']).priority).toMatchObject({ basis: 'rule', rule: { name: 'Critical alarms' } });
    const warn = await causes.requestFromCause({ ...base0, dedupeKey: 'k-warn', openKey: 'o-warn', title: 'Warm', priority: 'low', severity: 'warning' });
    expect(warn.workOrder.priority).toBe('low');
    expect((warn.workOrder.reason as WorkOrder['reason']).priority).toMatchObject({ basis: 'cause' });
  });

  it('evaluate: a dry run that shows which rule matches and why', async () => {
    const r = await api<{
      decision: { priority: string; basis: string; ruleName: string };
      rules: { name: string; matched: boolean; checks: { field: string; ok: boolean }[] }[];
      contract: { code: string };
      sla: { source: string; responseMinutes: number };
      facts: Record<string, unknown>;
    }>(base, 'GET', `/priority-rules/evaluate?assetId=${criticalAsset}&severity=critical&source=rule`);
    expect(r.status).toBe(200);
    expect(r.body.facts).toEqual({ customerTier: 'gold', assetCriticality: 'critical', severity: 'critical', source: 'rule' });
    expect(r.body.decision).toMatchObject({ priority: 'urgent', basis: 'rule', ruleName: 'Gold critical assets' });
    expect(r.body.rules.map((x) => [x.name, x.matched])).toEqual([
      ['Disabled catch-all (off)', false],
      ['Gold critical assets', true],
      ['Critical alarms', true],
    ]);
    expect(r.body.contract.code).toBe('ACME-SLA');
    expect(r.body.sla).toMatchObject({ source: 'contract', responseMinutes: 30 });
    expect((await api<Err>(base, 'GET', '/priority-rules/evaluate?assetId=00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});
