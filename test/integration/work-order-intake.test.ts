/**
 * Work-order intake on real PostgreSQL: every source records how the request came in and when
 * (a phone call logged later keeps the call's time and its SLA counts from then), bad request times
 * are refused, and the close-out fields only accept codes from the fault-code library.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const H = 3_600_000;

interface WorkOrder {
  id: string;
  status: string;
  channel: string;
  source: string;
  requestedBy: string | null;
  requestedAt: string;
  responseDueAt: string;
  resolutionDueAt: string;
  responseBreached: boolean;
  faultCode: string | null;
  rootCause: string | null;
  resolution: string | null;
  severity: string | null;
  requiredSkills: string[];
  estimatedHours: number | null;
  events?: { note: string | null; actor: string | null }[];
}
interface Err {
  code: string;
  message: string;
}

describe.skipIf(reason)(`work-order intake on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base: string;
  let assetId = '';

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    platform = await startTestPlatform({ DATABASE_URL: t.url, ROLES: 'api' });
    base = platform.apiUrl!;
    const siteId = (await api<{ id: string }>(base, 'POST', '/sites', { code: 'IN', name: 'Intake' })).body.id;
    assetId = (await api<{ id: string }>(base, 'POST', '/assets', { code: 'CH-1', name: 'Chiller', type: 'chiller', siteId })).body.id;
  });

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  it('records a phone call logged later at the time of the call, with its caller, and counts the SLA from then', async () => {
    const calledAt = new Date(Date.now() - 2 * H);
    const res = await api<WorkOrder>(base, 'POST', '/work-orders', {
      title: 'Chiller tripping',
      assetId,
      priority: 'urgent',
      channel: 'phone',
      requestedBy: 'Ms Zhang, facility manager',
      requestedAt: calledAt.toISOString(),
      severity: 'major',
      requiredSkills: ['hvac', 'electrical'],
      estimatedHours: 3,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ channel: 'phone', source: 'manual', requestedBy: 'Ms Zhang, facility manager', severity: 'major', requiredSkills: ['hvac', 'electrical'], estimatedHours: 3 });
    expect(Date.parse(res.body.requestedAt)).toBe(calledAt.getTime());
    // urgent: respond within 1 h of the call — already overdue, which the sweep flags
    expect(Date.parse(res.body.responseDueAt)).toBe(calledAt.getTime() + 1 * H);
    expect(Date.parse(res.body.resolutionDueAt)).toBe(calledAt.getTime() + 4 * H);
    const detail = (await api<WorkOrder>(base, 'GET', `/work-orders/${res.body.id}`)).body;
    expect(detail.events?.[0]).toMatchObject({ note: 'created (manual via phone)', actor: 'Ms Zhang, facility manager' });
  });

  it('defaults to now over the API and lists orders by channel-independent filters', async () => {
    const before = Date.now();
    const res = await api<WorkOrder>(base, 'POST', '/work-orders', { title: 'Portal request', assetId, source: 'customer', channel: 'portal' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ channel: 'portal', source: 'customer' });
    expect(Date.parse(res.body.requestedAt)).toBeGreaterThanOrEqual(before - 1000);
    const list = await api<{ items: WorkOrder[]; total: number }>(base, 'GET', `/work-orders?source=customer&priority=medium`);
    expect(list.body.items.map((w) => w.id)).toEqual([res.body.id]);
  });

  it('refuses a request time in the future and channels that only machines use', async () => {
    const future = await api<Err>(base, 'POST', '/work-orders', { title: 'x', assetId, requestedAt: new Date(Date.now() + 2 * H).toISOString() });
    expect(future.status).toBe(400);
    expect(future.body.message).toMatch(/in the future/);
    const iot = await api<Err>(base, 'POST', '/work-orders', { title: 'x', assetId, channel: 'iot' });
    expect(iot.status).toBe(400);
    const badDate = await api<Err>(base, 'POST', '/work-orders', { title: 'x', assetId, requestedAt: 'yesterday' });
    expect(badDate.status).toBe(400);
  });

  it('accepts close-out fault codes from the library only, and freezes them once closed', async () => {
    const wo = (await api<WorkOrder>(base, 'POST', '/work-orders', { title: 'Sensor reading flat', assetId })).body;
    const unknown = await api<Err>(base, 'PUT', `/work-orders/${wo.id}/close-out`, { faultCode: 'E77' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/E77 is not in the fault-code library/);
    const ok = await api<WorkOrder>(base, 'PUT', `/work-orders/${wo.id}/close-out`, { faultCode: 'E02', rootCause: 'loose sensor connector', resolution: 'reseated and secured connector' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ faultCode: 'E02', rootCause: 'loose sensor connector', resolution: 'reseated and secured connector' });
    const empty = await api<Err>(base, 'PUT', `/work-orders/${wo.id}/close-out`, {});
    expect(empty.status).toBe(400);

    const cancelled = await api<WorkOrder>(base, 'POST', `/work-orders/${wo.id}/transitions`, { to: 'cancelled', note: 'duplicate' });
    expect(cancelled.status).toBe(200);
    const frozen = await api<Err>(base, 'PUT', `/work-orders/${wo.id}/close-out`, { resolution: 'changed later' });
    expect(frozen.status).toBe(409);
    expect((await api<WorkOrder>(base, 'GET', `/work-orders/${wo.id}`)).body.resolution).toBe('reseated and secured connector');
  });

  it('refuses new orders on a retired asset', async () => {
    const siteId = (await api<{ id: string }[]>(base, 'GET', '/sites')).body[0]!.id;
    const old = (await api<{ id: string }>(base, 'POST', '/assets', { code: 'OLD-1', name: 'Old pump', type: 'pump', siteId })).body.id;
    expect((await api(base, 'POST', `/assets/${old}/status`, { status: 'retired', note: 'scrapped' })).status).toBe(200);
    const res = await api<Err>(base, 'POST', '/work-orders', { title: 'x', assetId: old });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/OLD-1 is retired/);
  });
});
