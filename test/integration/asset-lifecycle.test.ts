/**
 * Asset lifecycle on real PostgreSQL with the code convention enforced: areas/lines, generated and
 * checked codes, status changes and their effects (downtime, retirement), downtime ended by work
 * orders, concurrent downtime starts, the history timeline, warranty alerts exactly once, the
 * component tree and QR codes.
 */
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';
import { assetSelect } from '../../maintenance/assets.ts';
import { assetView } from '../../api/views.ts';

const reason = skipReason('databaseUrl');
const DAY = 86_400_000;
const H = 3_600_000;

interface Err {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}
interface Asset {
  id: string;
  code: string;
  status: string;
  areaCode: string | null;
  purchaseCost: number | null;
  installDate: string | null;
  commissionedAt: string | null;
  retiredAt: string | null;
  allowedStatusTransitions: string[];
  openDowntime?: { id: string; workOrderId: string | null } | null;
  [k: string]: unknown;
}
interface Downtime {
  id: string;
  workOrderId: string | null;
  startedAt: string;
  endedAt: string | null;
  open: boolean;
  hours: number;
  hoursInWindow: number;
}
interface DowntimeReport {
  from: string;
  to: string;
  downtimeHours: number;
  availabilityPct: number | null;
  items: Downtime[];
}
interface Entry {
  at: string;
  source: string;
  type: string;
  summary: string;
  refId: string;
  details: Record<string, unknown>;
}
interface History {
  items: Entry[];
  total: number;
  summary: { ordersByStatus: Record<string, number>; totalDowntimeHours: number; lastMaintenanceAt: string | null; down: boolean; alarms: number };
}
interface WorkOrder {
  id: string;
  number: number;
  status: string;
  completedAt: string | null;
}

const dateIn = (days: number): string => new Date(Date.now() + days * DAY).toISOString().slice(0, 10);

describe.skipIf(reason)(`asset lifecycle on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base: string;
  let siteId = '';
  let otherSiteId = '';
  let lineId = '';
  let engineerId = '';
  let serial = 100;

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    drop = db.drop;
    platform = await startTestPlatform({ DATABASE_URL: db.url, ROLES: 'api', ASSET_CODE_MODE: 'enforce', ASSET_CODE_CONVENTION: '{type}-{brand}-{model}-{serial}', WARRANTY_ALERT_DAYS: '30' });
    base = platform.apiUrl!;
    siteId = (await api<{ id: string }>(base, 'POST', '/sites', { code: 'PLANT-1', name: 'Plant 1' })).body.id;
    otherSiteId = (await api<{ id: string }>(base, 'POST', '/sites', { code: 'PLANT-2', name: 'Plant 2' })).body.id;
    engineerId = (await api<{ id: string }>(base, 'POST', '/engineers', { code: 'ENG-A', name: 'Engineer A' })).body.id;
  });

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  /** A pump with a fresh serial; the code is generated from the convention. */
  const newAsset = async (extra: Record<string, unknown> = {}): Promise<Asset> => {
    const r = await api<Asset>(base, 'POST', '/assets', { name: 'Pump', type: 'pump', brand: 'Grundfos', model: 'CR10', serial: `S${serial++}`, siteId, ...extra });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };
  const setStatus = (id: string, body: Record<string, unknown>) => api<Asset & Err>(base, 'POST', `/assets/${id}/status`, body);
  const history = async (id: string, q = '') => (await api<History>(base, 'GET', `/assets/${id}/history${q}`)).body;
  const downtimes = async (id: string, q = '') => (await api<DowntimeReport>(base, 'GET', `/assets/${id}/downtimes${q}`)).body;
  const workOrder = async (assetId: string, title: string) => (await api<WorkOrder>(base, 'POST', '/work-orders', { title, assetId })).body;
  const moveOrder = async (id: string, steps: Record<string, unknown>[]): Promise<WorkOrder> => {
    let last: WorkOrder | undefined;
    for (const step of steps) {
      const r = await api<WorkOrder>(base, 'POST', `/work-orders/${id}/transitions`, step);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      last = r.body;
    }
    return last!;
  };
  const toCompleted = [{ to: 'assigned', assigneeId: '' }, { to: 'accepted' }, { to: 'in_progress' }, { to: 'completed', actor: 'eng-a' }];

  it('areas and lines nest per site; an asset may only use an area of its own site', async () => {
    const hall = await api<{ id: string; kind: string }>(base, 'POST', `/sites/${siteId}/areas`, { code: 'HALL-A', name: 'Hall A' });
    expect(hall.status).toBe(201);
    expect(hall.body.kind).toBe('area');
    const line = await api<{ id: string; parentId: string }>(base, 'POST', `/sites/${siteId}/areas`, { code: 'LINE-1', name: 'Line 1', kind: 'line', parentId: hall.body.id });
    expect(line.body.parentId).toBe(hall.body.id);
    lineId = line.body.id;
    expect((await api<Err>(base, 'POST', `/sites/${siteId}/areas`, { code: 'HALL-A', name: 'again' })).status).toBe(409);
    // the same code at another site is fine, but not as a child of this site's area
    expect((await api(base, 'POST', `/sites/${otherSiteId}/areas`, { code: 'HALL-A', name: 'Hall A' })).status).toBe(201);
    const cross = await api<Err>(base, 'POST', `/sites/${otherSiteId}/areas`, { code: 'X', name: 'x', parentId: hall.body.id });
    expect(cross.status).toBe(400);
    expect(cross.body.message).toMatch(/another site/);
    expect((await api<Err>(base, 'GET', `/sites/${crypto.randomUUID()}/areas`)).status).toBe(404);

    const areas = await api<{ code: string; path: string; depth: number; kind: string }[]>(base, 'GET', `/sites/${siteId}/areas`);
    expect(areas.body.map((a) => [a.path, a.depth, a.kind])).toEqual([
      ['HALL-A', 0, 'area'],
      ['HALL-A/LINE-1', 1, 'line'],
    ]);

    const wrongSite = await api<Err>(base, 'POST', '/assets', { name: 'x', type: 'pump', brand: 'b', model: 'm', serial: 's', siteId: otherSiteId, areaId: lineId });
    expect(wrongSite.status).toBe(400);
    expect(wrongSite.body.message).toMatch(/area LINE-1 belongs to another site/);
  });

  it('enforce mode: code generated when omitted, checked when given (segment named), 409 when taken', async () => {
    const created = await api<Asset>(base, 'POST', '/assets', {
      name: 'Chiller 1',
      type: 'Chiller',
      brand: 'Trane Inc.',
      model: 'CVHF',
      serial: '77',
      siteId,
      areaId: lineId,
      criticality: 'high',
      supplier: 'Cooling Supplies Ltd',
      purchaseCost: 125000.5,
      purchaseDate: '2025-02-01',
      commissionedAt: '2025-03-15',
      warrantyEnd: '2030-03-15',
      specs: { capacityKw: 1200, refrigerant: 'R-134a' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      code: 'CHILLER-TRANEINC-CVHF-77',
      areaCode: 'LINE-1',
      criticality: 'high',
      supplier: 'Cooling Supplies Ltd',
      purchaseCost: 125000.5,
      purchaseDate: '2025-02-01',
      commissionedAt: '2025-03-15',
      status: 'in_service',
      allowedStatusTransitions: ['under_repair', 'retired'],
    });

    const matching = await api<Asset>(base, 'POST', '/assets', { code: 'chiller-traneinc-cvhf-78', name: 'Chiller 2', type: 'chiller', brand: 'Trane Inc.', model: 'CVHF', serial: '78', siteId });
    expect(matching.status).toBe(201);
    expect(matching.body.code).toBe('CHILLER-TRANEINC-CVHF-78');

    const mismatch = await api<Err>(base, 'POST', '/assets', { code: 'CHILLER-CARRIER-CVHF-79', name: 'Chiller 3', type: 'chiller', brand: 'Trane', model: 'CVHF', serial: '79', siteId });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.message).toMatch(/segment \{brand\} is "CARRIER" but the asset's brand gives "TRANE"/);
    expect(mismatch.body.details).toMatchObject({ field: 'brand' });

    const missing = await api<Err>(base, 'POST', '/assets', { name: 'Chiller 4', type: 'chiller', brand: 'Trane', model: 'CVHF', siteId });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/needs "serial"/);

    const dup = await api<Err>(base, 'POST', '/assets', { name: 'again', type: 'chiller', brand: 'TRANE INC', model: 'cvhf', serial: '77', siteId });
    expect(dup.status).toBe(409);
    expect(dup.body.message).toMatch(/CHILLER-TRANEINC-CVHF-77 is already used/);

    const preview = await api<{ code: string; mode: string }>(base, 'GET', '/assets/code-preview?type=ahu&brand=Daikin&model=D-AHU&serial=12');
    expect(preview.body).toMatchObject({ code: 'AHU-DAIKIN-DAHU-12', mode: 'enforce' });
    const previewMissing = await api<Err>(base, 'GET', '/assets/code-preview?type=ahu&model=D-AHU&serial=12');
    expect(previewMissing.status).toBe(400);
    expect(previewMissing.body.message).toMatch(/needs "brand"/);

    // a new serial regenerates the code; the update is in the history with before/after
    const patched = await api<Asset>(base, 'PATCH', `/assets/${created.body.id}`, { serial: '77B', purchaseCost: 120000, actor: 'planner' });
    expect(patched.body).toMatchObject({ code: 'CHILLER-TRANEINC-CVHF-77B', purchaseCost: 120000 });
    const badPatch = await api<Err>(base, 'PATCH', `/assets/${created.body.id}`, { code: 'CHILLER-TRANEINC-CVHF-1' });
    expect(badPatch.status).toBe(400);
    expect(badPatch.body.message).toMatch(/\{serial\} is "1"/);
    const h = await history(created.body.id);
    const updated = h.items.find((e) => e.type === 'updated')!;
    expect(updated.details).toMatchObject({
      actor: 'planner',
      changes: { serial: { from: '77', to: '77B' }, code: { from: 'CHILLER-TRANEINC-CVHF-77', to: 'CHILLER-TRANEINC-CVHF-77B' }, purchaseCost: { from: 125000.5, to: 120000 } },
    });
    expect(h.items.at(-1)).toMatchObject({ source: 'asset', type: 'created' });

    // moving to another site leaves the old site's area and is recorded as a move
    const moved = await api<Asset>(base, 'PATCH', `/assets/${created.body.id}`, { siteId: otherSiteId });
    expect(moved.body).toMatchObject({ siteCode: 'PLANT-2', areaId: null, areaCode: null, code: 'CHILLER-TRANEINC-CVHF-77B' });
    const mh = await history(created.body.id);
    expect(mh.items[0]).toMatchObject({ type: 'moved', details: { changes: { siteId: { from: siteId, to: otherSiteId }, areaId: { from: lineId, to: null } } } });
  });

  it('status lifecycle: 409 for illegal moves naming what is allowed; stamps install, commissioning and retirement', async () => {
    const a = await newAsset({ status: 'procured' });
    expect((await api<Err>(base, 'POST', '/assets', { name: 'x', type: 'pump', brand: 'b', model: 'm', serial: 'z1', siteId, status: 'under_repair' })).status).toBe(400);

    const skip = await setStatus(a.id, { status: 'in_service' });
    expect(skip.status).toBe(409);
    expect(skip.body.code).toBe('illegal_transition');
    expect(skip.body.message).toBe('cannot move an asset from procured to in_service; allowed next: installed, retired');
    expect(skip.body.details).toMatchObject({ allowed: ['installed', 'retired'] });

    const installed = await setStatus(a.id, { status: 'installed', actor: 'installer' });
    expect(installed.body).toMatchObject({ status: 'installed', installDate: new Date().toISOString().slice(0, 10), commissionedAt: null });
    const inService = await setStatus(a.id, { status: 'in_service' });
    expect(inService.body.commissionedAt).toBe(new Date().toISOString().slice(0, 10));
    expect((await setStatus(a.id, { status: 'in_service' })).body.message).toMatch(/already in_service/);
    const retired = await setStatus(a.id, { status: 'retired', note: 'replaced by newer model' });
    expect(retired.body).toMatchObject({ status: 'retired', allowedStatusTransitions: [] });
    expect(retired.body.retiredAt).toEqual(expect.any(String));
    const back = await setStatus(a.id, { status: 'in_service' });
    expect(back.status).toBe(409);
    expect(back.body.message).toMatch(/retired is final/);
    expect((await api<Err>(base, 'PATCH', `/assets/${a.id}`, { status: 'installed' })).status).toBe(409);

    const h = await history(a.id);
    expect(h.items.filter((e) => e.source === 'asset').map((e) => [e.type, e.details.fromStatus, e.details.toStatus])).toEqual([
      ['status_changed', 'in_service', 'retired'],
      ['status_changed', 'installed', 'in_service'],
      ['status_changed', 'procured', 'installed'],
      ['created', null, 'procured'],
    ]);
    expect(h.items[0]!.summary).toBe('status in_service → retired: replaced by newer model');
  });

  it('the asset detail (one SQL statement) equals what the Prisma relation query gives, every field set', async () => {
    const parent = await newAsset();
    const a = await newAsset({ areaId: lineId, parentId: parent.id, criticality: 'high', supplier: 'ACME', purchaseCost: 1234.5, purchaseDate: dateIn(-400), commissionedAt: dateIn(-300), installDate: dateIn(-350), warrantyEnd: dateIn(-10), specs: { kW: 7.5, fluid: 'water', nested: { a: [1, 2] } } });
    const prisma = platform.db.prisma;
    const readAt = new Date(Date.now() - 61_234);
    await prisma.meter.createMany({ data: [{ assetId: a.id, name: 'run_hours', value: 1234.567, unit: 'h', readAt }, { assetId: a.id, name: 'cycles', value: 42, unit: null, readAt }] });
    await prisma.asset.update({ where: { id: a.id }, data: { lastSeenAt: new Date(Date.now() - 5_555) } });
    expect((await setStatus(a.id, { status: 'under_repair', note: 'bearing noise' })).status).toBe(200);
    const expected = await prisma.asset.findUnique({
      where: { id: a.id },
      select: { ...assetSelect, meters: { select: { name: true, value: true, unit: true, readAt: true }, orderBy: { name: 'asc' } }, downtimes: { where: { endedAt: null }, select: { id: true, reason: true, startedAt: true, workOrderId: true } } },
    });
    const { downtimes: open, ...rest } = expected!;
    const want = JSON.parse(JSON.stringify(assetView({ ...rest, openDowntime: open[0] ?? null }))) as Record<string, unknown>;
    const got = await api<Asset>(base, 'GET', `/assets/${a.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(want);
    expect(got.body).toMatchObject({ areaCode: expect.any(String), purchaseCost: 1234.5, meters: [{ name: 'cycles', unit: null }, { name: 'run_hours', value: 1234.567, readAt: readAt.toISOString() }], openDowntime: { reason: 'bearing noise' } });
    // and without area, meters or downtime
    const bare = await newAsset();
    const plain = await prisma.asset.findUnique({ where: { id: bare.id }, select: assetSelect });
    expect((await api<Asset>(base, 'GET', `/assets/${bare.id}`)).body).toEqual(JSON.parse(JSON.stringify(assetView({ ...plain!, meters: [], openDowntime: null }))));
    expect((await api<Err>(base, 'GET', '/assets/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('under_repair opens a downtime and returning to service ends it', async () => {
    const a = await newAsset();
    const down = await setStatus(a.id, { status: 'under_repair', note: 'seal leaking' });
    expect(down.body.allowedStatusTransitions).toEqual(['in_service', 'retired']);
    const detail = await api<Asset>(base, 'GET', `/assets/${a.id}`);
    expect(detail.body.openDowntime).toMatchObject({ reason: 'seal leaking', workOrderId: null });
    expect((await downtimes(a.id)).items).toEqual([expect.objectContaining({ open: true, endedAt: null })]);

    await setStatus(a.id, { status: 'in_service' });
    const report = await downtimes(a.id);
    expect(report.items).toHaveLength(1);
    expect(report.items[0]!.open).toBe(false);
    expect(report.items[0]!.endedAt).toEqual(expect.any(String));
    expect((await api<Asset>(base, 'GET', `/assets/${a.id}`)).body.openDowntime).toBeNull();
    // PATCH with a status goes through the same lifecycle
    expect((await api<Asset>(base, 'PATCH', `/assets/${a.id}`, { status: 'under_repair' })).body.status).toBe('under_repair');
    expect((await downtimes(a.id)).items.filter((d) => d.open)).toHaveLength(1);
    // retiring while under repair ends the downtime too
    await setStatus(a.id, { status: 'retired' });
    expect((await downtimes(a.id)).items.filter((d) => d.open)).toHaveLength(0);
  });

  it('completing or cancelling the work order ends its downtime and returns the asset to service', async () => {
    const a = await newAsset();
    const wo = await workOrder(a.id, 'Bearing noise');
    const other = await newAsset();
    const foreign = await setStatus(other.id, { status: 'under_repair', workOrderId: wo.id });
    expect(foreign.status).toBe(400);
    expect(foreign.body.message).toMatch(/another asset/);

    await setStatus(a.id, { status: 'under_repair', workOrderId: wo.id, actor: 'dispatcher' });
    expect((await api<Asset>(base, 'GET', `/assets/${a.id}`)).body.openDowntime).toMatchObject({ workOrderId: wo.id });
    const done = await moveOrder(wo.id, toCompleted.map((s) => (s.to === 'assigned' ? { ...s, assigneeId: engineerId } : s)));
    expect(done.status).toBe('completed');

    const after = await api<Asset>(base, 'GET', `/assets/${a.id}`);
    expect(after.body).toMatchObject({ status: 'in_service', openDowntime: null });
    const report = await downtimes(a.id);
    expect(report.items[0]).toMatchObject({ workOrderId: wo.id, open: false, endedAt: done.completedAt });
    const back = (await history(a.id)).items.find((e) => e.type === 'status_changed' && e.details.toStatus === 'in_service')!;
    expect(back.details).toMatchObject({ actor: 'eng-a', workOrderId: wo.id, downtimeId: report.items[0]!.id, note: `work order #${wo.number} completed` });

    // cancelled order: same; actor defaults to "work-order"
    const wo2 = await workOrder(a.id, 'False alarm?');
    await setStatus(a.id, { status: 'under_repair', workOrderId: wo2.id });
    await moveOrder(wo2.id, [{ to: 'cancelled' }]);
    expect((await api<Asset>(base, 'GET', `/assets/${a.id}`)).body.status).toBe('in_service');
    const cancelBack = (await history(a.id)).items.find((e) => e.type === 'status_changed' && e.details.workOrderId === wo2.id && e.details.toStatus === 'in_service')!;
    expect(cancelBack.details.actor).toBe('work-order');

    // a downtime started by hand for an order ends with it; the asset was not under repair and stays in service
    const wo3 = await workOrder(a.id, 'Planned stop for inspection');
    const planned = await api<Downtime>(base, 'POST', `/assets/${a.id}/downtimes`, { reason: 'planned stop', workOrderId: wo3.id });
    expect(planned.status).toBe(201);
    await moveOrder(wo3.id, [{ to: 'cancelled' }]);
    const after3 = await downtimes(a.id);
    expect(after3.items).toHaveLength(3);
    expect(after3.items.find((d) => d.id === planned.body.id)).toMatchObject({ open: false, workOrderId: wo3.id });
    expect((await api<Asset>(base, 'GET', `/assets/${a.id}`)).body.status).toBe('in_service');
    // an order finishing on an asset that is not down changes nothing
    const wo4 = await workOrder(a.id, 'Routine check');
    await moveOrder(wo4.id, [{ to: 'cancelled' }]);
    expect((await downtimes(a.id)).items).toHaveLength(3);
  });

  it('concurrent downtime starts leave exactly one open downtime', async () => {
    const a = await newAsset();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => api<Downtime & Err>(base, 'POST', `/assets/${a.id}/downtimes`, { reason: `power cut ${i}` })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const refused = results.filter((r) => r.status === 409);
    expect(refused).toHaveLength(11);
    expect(refused[0]!.body.message).toMatch(/already has an open downtime/);
    expect(await platform.db.prisma.assetDowntime.count({ where: { assetId: a.id, endedAt: null } })).toBe(1);

    const open = results.find((r) => r.status === 201)!.body;
    // going under repair reuses the open downtime rather than failing
    expect((await setStatus(a.id, { status: 'under_repair' })).status).toBe(200);
    expect(await platform.db.prisma.assetDowntime.count({ where: { assetId: a.id } })).toBe(1);
    const ended = await api<Downtime>(base, 'POST', `/assets/${a.id}/downtimes/${open.id}/end`, {});
    expect(ended.status).toBe(200);
    expect(ended.body.endedAt).toEqual(expect.any(String));
    expect((await api<Err>(base, 'POST', `/assets/${a.id}/downtimes/${open.id}/end`, {})).status).toBe(409);
    expect((await api<Err>(base, 'POST', `/assets/${a.id}/downtimes/${crypto.randomUUID()}/end`, {})).status).toBe(404);
  });

  it('downtime in a window: periods clipped, open ones up to now, availability', async () => {
    const a = await newAsset();
    const now = Date.now();
    const first = await api<Downtime>(base, 'POST', `/assets/${a.id}/downtimes`, { reason: 'motor trip', startedAt: new Date(now - 5 * H).toISOString() });
    await api(base, 'POST', `/assets/${a.id}/downtimes/${first.body.id}/end`, { endedAt: new Date(now - 3 * H).toISOString() });
    await api(base, 'POST', `/assets/${a.id}/downtimes`, { reason: 'blocked filter', startedAt: new Date(now - 1 * H).toISOString() });

    // window [now-4h, now]: 1 h of the first period + the open hour
    const r = await downtimes(a.id, `?from=${new Date(now - 4 * H).toISOString()}`);
    expect(r.items).toHaveLength(2);
    expect(r.downtimeHours).toBeCloseTo(2, 1);
    expect(r.availabilityPct).toBeCloseTo(50, 0);
    expect(r.items.find((d) => !d.open)).toMatchObject({ hours: 2, hoursInWindow: 1 });
    // a window before everything
    const empty = await downtimes(a.id, `?from=${new Date(now - 10 * H).toISOString()}&to=${new Date(now - 6 * H).toISOString()}`);
    expect(empty).toMatchObject({ items: [], downtimeHours: 0, availabilityPct: 100 });
    expect((await api<Err>(base, 'GET', `/assets/${a.id}/downtimes?from=${new Date(now).toISOString()}&to=${new Date(now - H).toISOString()}`)).status).toBe(400);
    const open = r.items.find((d) => d.open)!;
    const future = await api<Err>(base, 'POST', `/assets/${a.id}/downtimes/${open.id}/end`, { endedAt: new Date(now + H).toISOString() });
    expect(future.status).toBe(400);
    expect(future.body.message).toMatch(/future/);
    const early = await api<Err>(base, 'POST', `/assets/${a.id}/downtimes/${open.id}/end`, { endedAt: new Date(now - 2 * H).toISOString() });
    expect(early.status).toBe(400);
    expect(early.body.message).toMatch(/before the start/);
    // all-time totals in the history summary: 2 h closed + the open hour
    const hs = await history(a.id);
    expect(hs.summary.totalDowntimeHours).toBeCloseTo(3, 1);
    expect(hs.summary.down).toBe(true);
  });

  it('history merges lifecycle events, work orders, alarms and downtime, newest first, with totals', async () => {
    const a = await newAsset();
    const wo = await workOrder(a.id, 'Overheating');
    await setStatus(a.id, { status: 'under_repair', workOrderId: wo.id });
    const t0 = Date.now();
    await platform.db.prisma.alarm.create({
      data: { assetId: a.id, source: 'device', code: 'HIGH_TEMP', severity: 'major', status: 'cleared', message: 'bearing 95 °C', raisedAt: new Date(t0 - 30 * 60_000), clearedAt: new Date(t0) },
    });
    const done = await moveOrder(wo.id, toCompleted.map((s) => (s.to === 'assigned' ? { ...s, assigneeId: engineerId } : s)));

    const h = await history(a.id);
    const times = h.items.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    const kinds = h.items.map((e) => `${e.source}:${e.type}`);
    for (const k of ['asset:created', 'asset:status_changed', 'work_order:requested', 'work_order:completed', 'alarm:raised', 'alarm:cleared', 'downtime:downtime']) expect(kinds).toContain(k);
    expect(h.items.find((e) => e.type === 'completed')).toMatchObject({ refId: wo.id, details: { number: wo.number, title: 'Overheating', source: 'manual' } });
    expect(h.items.find((e) => e.source === 'downtime')!.details).toMatchObject({ workOrderId: wo.id, open: false });
    expect(h.total).toBe(h.items.length);
    expect(h.summary).toMatchObject({ ordersByStatus: { completed: 1 }, lastMaintenanceAt: done.completedAt, down: false, alarms: 1 });

    const page = await history(a.id, '?limit=2&offset=1');
    expect(page.items.map((e) => `${e.source}:${e.type}:${e.refId}`)).toEqual(h.items.slice(1, 3).map((e) => `${e.source}:${e.type}:${e.refId}`));
    expect(page.total).toBe(h.total);
  });

  it('warranty sweep notifies once per asset and warranty end; list filter by warranty window', async () => {
    const soon = await newAsset({ warrantyEnd: dateIn(10) });
    const later = await newAsset({ warrantyEnd: dateIn(100) });
    const expired = await newAsset({ warrantyEnd: dateIn(-3) });
    const retired = await newAsset({ warrantyEnd: dateIn(5) });
    await setStatus(retired.id, { status: 'retired' });

    const first = await api<{ notified: number; due: number }>(base, 'POST', '/assets/warranty-sweep');
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ notified: 1, due: 1 });
    const second = await api<{ notified: number }>(base, 'POST', '/assets/warranty-sweep');
    expect(second.body).toEqual({ notified: 0, due: 1 });

    const list = await api<{ items: { subjectId: string; dedupeKey: string; payload: Record<string, unknown> }[] }>(base, 'GET', '/notifications?kind=warranty_expiring&limit=500');
    const mine = (id: string) => list.body.items.filter((n) => n.subjectId === id);
    expect(mine(soon.id)).toHaveLength(1);
    expect(mine(soon.id)[0]).toMatchObject({ dedupeKey: `warranty:${soon.id}:${dateIn(10)}`, payload: { code: soon.code, warrantyEnd: dateIn(10), daysLeft: 10 } });
    for (const other of [later, expired, retired]) expect(mine(other.id)).toHaveLength(0);

    const filtered = await api<{ items: { id: string }[] }>(base, 'GET', '/assets?warrantyEndsWithinDays=30&limit=500');
    const ids = filtered.body.items.map((a) => a.id);
    expect(ids).toContain(soon.id);
    for (const other of [later, expired, retired]) expect(ids).not.toContain(other.id);

    // a new warranty end is a new alert
    await api(base, 'PATCH', `/assets/${soon.id}`, { warrantyEnd: dateIn(20) });
    expect((await api<{ notified: number }>(base, 'POST', '/assets/warranty-sweep')).body.notified).toBe(1);
  });

  it('component tree, recursive with a depth bound, and hierarchy filters', async () => {
    const root = await newAsset({ name: 'Compressor unit', criticality: 'critical' });
    const child = await newAsset({ name: 'Motor', parentId: root.id });
    const grandchild = await newAsset({ name: 'Bearing', parentId: child.id });
    interface Node {
      id: string;
      truncated: boolean;
      children: Node[];
    }
    const deep = await api<Node>(base, 'GET', `/assets/${root.id}/tree`);
    expect(deep.body.children.map((c) => c.id)).toEqual([child.id]);
    expect(deep.body.children[0]!.children.map((c) => c.id)).toEqual([grandchild.id]);
    expect(deep.body.children[0]!.truncated).toBe(false);
    const shallow = await api<Node>(base, 'GET', `/assets/${root.id}/tree?depth=1`);
    expect(shallow.body.children[0]).toMatchObject({ id: child.id, truncated: true, children: [] });

    const byParent = await api<{ items: { id: string }[]; total: number }>(base, 'GET', `/assets?parentId=${root.id}`);
    expect(byParent.body.items.map((a) => a.id)).toEqual([child.id]);
    const critical = await api<{ items: { id: string }[] }>(base, 'GET', '/assets?criticality=critical');
    expect(critical.body.items.map((a) => a.id)).toEqual([root.id]);
    const cycle = await api<Err>(base, 'PATCH', `/assets/${root.id}`, { parentId: grandchild.id });
    expect(cycle.status).toBe(400);
    expect(cycle.body.message).toMatch(/cycle/);
  });

  it('QR code per asset encodes om:asset:<CODE> and follows the code', async () => {
    const a = await newAsset();
    const res = await fetch(`${base}/assets/${a.id}/qr.svg`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(res.headers.get('x-qr-payload')).toBe(`om:asset:${a.code}`);
    const svg = await res.text();
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*viewBox="0 0 \d+ \d+"/);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    // the same symbol the QR library makes of the payload (i.e. it encodes exactly that)
    expect(svg).toBe(await QRCode.toString(`om:asset:${a.code}`, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
    expect(svg).not.toBe(await QRCode.toString(`om:asset:${a.code}X`, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));

    const renamed = await api<Asset>(base, 'PATCH', `/assets/${a.id}`, { serial: 'RENAMED1' });
    const svg2 = await (await fetch(`${base}/assets/${a.id}/qr.svg`)).text();
    expect(renamed.body.code).toBe('PUMP-GRUNDFOS-CR10-RENAMED1');
    expect(svg2).not.toBe(svg);

    const png = await fetch(`${base}/assets/${a.id}/qr.png?size=300`);
    expect(png.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await png.arrayBuffer());
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // IHDR: width and height follow the chunk header
    expect(bytes.subarray(12, 16).toString('ascii')).toBe('IHDR');
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([300, 300]);
    expect((await api<Err>(base, 'GET', `/assets/${crypto.randomUUID()}/qr.svg`)).status).toBe(404);
  });
});
