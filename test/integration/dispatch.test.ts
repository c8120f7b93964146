/**
 * Smart dispatch on real PostgreSQL through the platform API, with the engineer notification read
 * by a real MQTT client from the embedded broker: ranked and explained recommendations, manual
 * assignment with eligibility, auto-assignment on creation, decline → re-dispatch (never back to
 * the decliner), leave → re-dispatch, batch assignment (dry run first, never worse than greedy,
 * orders changed meanwhile skipped), live location and roster validation.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, eventually, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const H = 3_600_000;

interface Candidate {
  engineerId: string;
  code: string;
  eligible: boolean;
  score: number;
  reasons: { code: string; skill?: string }[];
  breakdown: Record<string, number>;
  travelKm: number | null;
}
interface WorkOrder {
  id: string;
  number: number;
  status: string;
  assigneeId: string | null;
}
interface Err {
  code: string;
  message: string;
}
interface Plan {
  dryRun: boolean;
  orders: number;
  assignments: { workOrderId: string; engineerCode: string; score: number }[];
  unassigned: { workOrderId: string; reason: string }[];
  totalCost: number;
  greedy: { totalCost: number; assigned: number };
  persisted?: { assigned: number; skipped: number };
}

// site in Shanghai; engineers 3 km, 12 km and 40 km away
const SITE = { latitude: 31.2304, longitude: 121.4737 };
const NEAR = { homeLat: 31.2574, homeLon: 121.4737 };
const MID = { homeLat: 31.3384, homeLon: 121.4737 };
const FAR = { homeLat: 31.5904, homeLon: 121.4737 };

describe.skipIf(reason)(`smart dispatch on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base: string;
  let client: MqttClient;
  const messages: { topic: string; body: { type: string; number: number } }[] = [];
  let assetId = '';
  const eng: Record<string, string> = {};

  const order = async (body: Record<string, unknown> = {}) => (await api<WorkOrder>(base, 'POST', '/work-orders', { title: 'Chiller alarm', assetId, requiredSkills: ['hvac:2'], estimatedHours: 2, ...body })).body;
  const recommend = async (id: string) => (await api<{ candidates: Candidate[] }>(base, 'GET', `/work-orders/${id}/recommendations`)).body.candidates;

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    platform = await startTestPlatform({ DATABASE_URL: t.url, ROLES: 'api,ingest', AUTO_ASSIGN: 'customer:urgent' });
    base = platform.apiUrl!;
    const site = (await api<{ id: string }>(base, 'POST', '/sites', { code: 'DSP', name: 'Dispatch site' })).body;
    await platform.db.prisma.site.update({ where: { id: site.id }, data: SITE });
    assetId = (await api<{ id: string }>(base, 'POST', '/assets', { code: 'CH-9', name: 'Chiller', type: 'chiller', siteId: site.id })).body.id;
    const engineers = [
      { code: 'NEAR', name: 'Near, junior', skills: [{ skill: 'hvac', level: 2 }], ...NEAR },
      { code: 'MID', name: 'Mid, expert', skills: [{ skill: 'hvac', level: 5 }], ...MID },
      { code: 'FAR', name: 'Far', skills: ['hvac'], ...FAR },
      { code: 'ELEC', name: 'Electrician', skills: [{ skill: 'electrical', level: 5 }], ...NEAR },
    ];
    for (const e of engineers) {
      const res = await api<{ id: string; skills: unknown }>(base, 'POST', '/engineers', { ...e, timezone: 'Asia/Shanghai', maxOpenOrders: 4 });
      expect(res.status).toBe(201);
      eng[e.code] = res.body.id;
    }
    client = await mqtt.connectAsync(platform.mqttUrl!, { protocolVersion: 4 });
    await client.subscribeAsync('om/engineers/+/orders', { qos: 1 });
    client.on('message', (topic, payload) => messages.push({ topic, body: JSON.parse(payload.toString()) as { type: string; number: number } }));
  });

  afterAll(async () => {
    await client?.endAsync();
    await platform?.cleanup();
    await drop?.();
  });

  it('stores skills with levels (names default to level 3) and validates engineers', async () => {
    const far = (await api<{ skills: { skill: string; level: number }[]; timezone: string }>(base, 'GET', `/engineers/${eng.FAR}`)).body;
    expect(far.skills).toEqual([{ skill: 'hvac', level: 3 }]);
    expect(far.timezone).toBe('Asia/Shanghai');
    expect((await api<Err>(base, 'POST', '/engineers', { code: 'X1', name: 'x', timezone: 'Mars/Olympus' })).status).toBe(400);
    expect((await api<Err>(base, 'POST', '/engineers', { code: 'X2', name: 'x', skills: [{ skill: 'hvac', level: 9 }] })).status).toBe(400);
    expect((await api<Err>(base, 'POST', '/engineers', { code: 'X3', name: 'x', homeLat: 31 })).status).toBe(400);
    expect((await api<Err>(base, 'POST', '/engineers', { code: 'NEAR', name: 'dup' })).status).toBe(409);
    const hvac = (await api<{ code: string }[]>(base, 'GET', '/engineers?skill=hvac')).body.map((e) => e.code);
    expect(hvac).toEqual(['FAR', 'MID', 'NEAR']);
  });

  it('recommends eligible engineers ranked with a breakdown, and lists the rest with the reason', async () => {
    const wo = await order();
    const c = await recommend(wo.id);
    expect(c.map((x) => x.code).slice(0, 3)).toEqual(expect.arrayContaining(['NEAR', 'MID', 'FAR']));
    expect(c.slice(0, 3).every((x) => x.eligible)).toBe(true);
    // the electrician is last: no hvac skill
    expect(c[3]).toMatchObject({ code: 'ELEC', eligible: false, score: 0, reasons: [{ code: 'missing_skill', skill: 'hvac' }] });
    for (const x of c.slice(0, 3)) expect(Object.values(x.breakdown).reduce((a, b) => a + b, 0)).toBeCloseTo(x.score, 0);
    // FAR is the farthest, and loses on distance
    const far = c.find((x) => x.code === 'FAR')!;
    expect(far.travelKm).toBeGreaterThan(c.find((x) => x.code === 'NEAR')!.travelKm!);
    expect(c.indexOf(far)).toBe(2);
    // a level-4 requirement leaves only the expert
    const hard = await order({ requiredSkills: ['hvac:4'] });
    const ranked = await recommend(hard.id);
    expect(ranked.filter((x) => x.eligible).map((x) => x.code)).toEqual(['MID']);
    await api(base, 'POST', `/work-orders/${wo.id}/transitions`, { to: 'cancelled' });
    await api(base, 'POST', `/work-orders/${hard.id}/transitions`, { to: 'cancelled' });
  });

  it('assigns by hand: eligible directly, ineligible only with force; the engineer hears about it over MQTT', async () => {
    const wo = await order();
    const refused = await api<Err>(base, 'POST', `/work-orders/${wo.id}/assign`, { engineerId: eng.ELEC });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/not eligible: missing_skill/);
    const ok = await api<WorkOrder>(base, 'POST', `/work-orders/${wo.id}/assign`, { engineerId: eng.MID, actor: 'dispatcher Wu' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'assigned', assigneeId: eng.MID });
    await eventually(async () => messages.find((m) => m.topic === 'om/engineers/MID/orders' && m.body.number === wo.number && m.body.type === 'assigned'));
    // reassigning withdraws it from MID (who is told) and gives it to the forced choice
    const forced = await api<WorkOrder>(base, 'POST', `/work-orders/${wo.id}/assign`, { engineerId: eng.ELEC, force: true, note: 'only one on site' });
    expect(forced.body).toMatchObject({ status: 'assigned', assigneeId: eng.ELEC });
    await eventually(async () => messages.find((m) => m.topic === 'om/engineers/MID/orders' && m.body.number === wo.number && m.body.type === 'withdrawn'));
    const logs = (await api<{ kind: string; engineerId: string }[]>(base, 'GET', `/work-orders/${wo.id}/dispatch-log`)).body;
    expect(logs.map((l) => l.kind)).toEqual(['manual', 'withdrawn', 'manual']);
    const notes = await api<{ items: { kind: string; subjectId: string }[] }>(base, 'GET', `/notifications?kind=work_order_assigned&subjectId=${eng.MID}`);
    expect(notes.body.items.length).toBeGreaterThanOrEqual(1);
    await api(base, 'POST', `/work-orders/${wo.id}/transitions`, { to: 'cancelled' });
  });

  it('auto-assigns new orders that match the policy, and declines go to the next best, never back', async () => {
    const medium = await order({ source: 'customer', priority: 'medium' });
    expect(medium.status).toBe('open'); // policy is customer:urgent only
    const urgent = await order({ source: 'customer', priority: 'urgent' });
    expect(urgent.status).toBe('assigned');
    const first = urgent.assigneeId!;
    const auto = (await api<{ kind: string; engineerId: string; score: number }[]>(base, 'GET', `/work-orders/${urgent.id}/dispatch-log`)).body;
    expect(auto).toEqual([expect.objectContaining({ kind: 'auto', engineerId: first })]);
    expect([eng.NEAR, eng.MID, eng.FAR]).toContain(first);

    const d1 = await api<{ reassignedTo: string | null; workOrder: WorkOrder }>(base, 'POST', `/work-orders/${urgent.id}/decline`, { engineerId: first, reason: 'stuck on another site' });
    expect(d1.status).toBe(200);
    expect(d1.body.reassignedTo).not.toBeNull();
    expect(d1.body.reassignedTo).not.toBe(first);
    expect(d1.body.workOrder.status).toBe('assigned');
    // the decliner is now ineligible for this order, with the reason
    const after = await recommend(urgent.id);
    expect(after.find((c) => c.engineerId === first)).toMatchObject({ eligible: false, reasons: expect.arrayContaining([{ code: 'declined' }]) });
    // declining an order not assigned to you is refused
    expect((await api<Err>(base, 'POST', `/work-orders/${urgent.id}/decline`, { engineerId: first })).status).toBe(409);
    // everybody declines → stays open with a dispatch_failed notification
    let current = d1.body.reassignedTo;
    while (current) {
      const d = await api<{ reassignedTo: string | null; workOrder: WorkOrder }>(base, 'POST', `/work-orders/${urgent.id}/decline`, { engineerId: current });
      expect(d.status).toBe(200);
      current = d.body.reassignedTo;
    }
    expect((await api<WorkOrder>(base, 'GET', `/work-orders/${urgent.id}`)).body.status).toBe('open');
    const failed = await api<{ items: { subjectId: string }[] }>(base, 'GET', `/notifications?kind=dispatch_failed&subjectId=${urgent.id}`);
    expect(failed.body.items).toHaveLength(1);
    for (const id of [medium.id, urgent.id]) await api(base, 'POST', `/work-orders/${id}/transitions`, { to: 'cancelled' });
  });

  it('leave that starts now takes the engineer out and re-dispatches orders not yet under way', async () => {
    const wo = await order();
    await api(base, 'POST', `/work-orders/${wo.id}/assign`, { engineerId: eng.NEAR });
    const leave = await api<{ redispatched: { workOrderId: string; reassignedTo: string | null }[] }>(base, 'POST', `/engineers/${eng.NEAR}/leave`, {
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 8 * H).toISOString(),
      reason: 'sick',
    });
    expect(leave.status).toBe(201);
    expect(leave.body.redispatched).toHaveLength(1);
    expect(leave.body.redispatched[0]!.reassignedTo).not.toBe(eng.NEAR);
    expect((await recommend(wo.id)).find((c) => c.code === 'NEAR')?.reasons).toEqual(expect.arrayContaining([{ code: 'on_leave' }]));
    const status = (await api<{ available: boolean; onLeave: boolean }>(base, 'GET', `/engineers/${eng.NEAR}/status`)).body;
    expect(status).toMatchObject({ available: false, onLeave: true });
    expect((await api<Err>(base, 'POST', `/engineers/${eng.NEAR}/leave`, { startsAt: new Date().toISOString(), endsAt: new Date(Date.now() - H).toISOString() })).status).toBe(400);
    await platform.db.prisma.engineerLeave.deleteMany({ where: { engineerId: eng.NEAR } });
    await api(base, 'POST', `/work-orders/${wo.id}/transitions`, { to: 'cancelled' });
  });

  it('batch-assigns: dry run changes nothing, the real run is never worse than greedy and skips orders changed meanwhile', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await order({ title: `Batch ${i}`, priority: i < 2 ? 'urgent' : 'medium' })).id);
    const dry = await api<Plan>(base, 'POST', '/dispatch/batch', { dryRun: true, workOrderIds: ids });
    expect(dry.status).toBe(200);
    expect(dry.body.orders).toBe(10);
    // 3 hvac engineers × capacity 4 → all 10 placed
    expect(dry.body.assignments).toHaveLength(10);
    expect(dry.body.totalCost).toBeLessThanOrEqual(dry.body.greedy.totalCost + 1e-6);
    const perEngineer = new Map<string, number>();
    for (const a of dry.body.assignments) perEngineer.set(a.engineerCode, (perEngineer.get(a.engineerCode) ?? 0) + 1);
    for (const n of perEngineer.values()) expect(n).toBeLessThanOrEqual(4);
    expect(perEngineer.has('ELEC')).toBe(false);
    for (const id of ids) expect((await api<WorkOrder>(base, 'GET', `/work-orders/${id}`)).body.status).toBe('open');

    // one order is cancelled between the plan and the run: it is skipped, the rest are assigned
    await api(base, 'POST', `/work-orders/${ids[9]}/transitions`, { to: 'cancelled' });
    const run = await api<Plan>(base, 'POST', '/dispatch/batch', { dryRun: false, workOrderIds: ids });
    expect(run.body.persisted).toEqual({ assigned: 9, skipped: 0 });
    for (const a of run.body.assignments) {
      const wo = (await api<WorkOrder & { events: { toStatus: string; actor: string | null }[] }>(base, 'GET', `/work-orders/${a.workOrderId}`)).body;
      expect(wo.status).toBe('assigned');
      expect(wo.events.at(-1)).toMatchObject({ toStatus: 'assigned', actor: 'dispatch:batch' });
    }
    const again = await api<Plan>(base, 'POST', '/dispatch/batch', { dryRun: false, workOrderIds: ids });
    expect(again.body).toMatchObject({ orders: 0, assignments: [] });
  });

  it('keeps only the newest GPS fix and validates rosters', async () => {
    const now = Date.now();
    const fix = await api<{ lat: number; lon: number; locationAt: string }>(base, 'PUT', `/engineers/${eng.FAR}/location`, { lat: 31.24, lon: 121.48, at: new Date(now - 60_000).toISOString() });
    expect(fix.body).toMatchObject({ lat: 31.24, lon: 121.48 });
    const stale = await api<{ lat: number }>(base, 'PUT', `/engineers/${eng.FAR}/location`, { lat: 30, lon: 120, at: new Date(now - 10 * 60_000).toISOString() });
    expect(stale.body.lat).toBe(31.24);
    expect((await api<Err>(base, 'PUT', `/engineers/${eng.FAR}/location`, { lat: 95, lon: 0 })).status).toBe(400);
    // with a live fix next to the site FAR is now the nearest
    const wo = await order();
    const c = await recommend(wo.id);
    expect(c.find((x) => x.code === 'FAR')!.travelKm).toBeLessThan(3);

    const bad = await api<Err>(base, 'PUT', `/engineers/${eng.FAR}/shifts`, [
      { weekday: 1, startMinute: 480, endMinute: 720 },
      { weekday: 1, startMinute: 700, endMinute: 900 },
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/overlap/);
    // a roster with no shift today → off shift
    const today = new Date().getUTCDay() === 0 ? 7 : new Date().getUTCDay();
    const otherDay = (today % 7) + 1;
    const other = (otherDay % 7) + 1;
    const roster = await api<unknown[]>(base, 'PUT', `/engineers/${eng.FAR}/shifts`, [{ weekday: other, startMinute: 0, endMinute: 60 }]);
    expect(roster.status).toBe(200);
    expect((await recommend(wo.id)).find((x) => x.code === 'FAR')?.reasons).toEqual(expect.arrayContaining([{ code: 'off_shift' }]));
    await api(base, 'PUT', `/engineers/${eng.FAR}/shifts`, []);
  });

  it('takes GPS fixes from the engineer app over MQTT and dead-letters malformed ones', async () => {
    await client.publishAsync('om/engineers/MID/location', JSON.stringify({ lat: 31.25, lon: 121.49 }), { qos: 1 });
    await eventually(async () => {
      const e = (await api<{ lat: number | null }>(base, 'GET', `/engineers/${eng.MID}`)).body;
      return e.lat === 31.25;
    });
    const before = await platform.db.prisma.deadLetter.count();
    await client.publishAsync('om/engineers/MID/location', '{"lat": 200, "lon": 0}', { qos: 1 });
    await client.publishAsync('om/engineers/NOBODY/location', JSON.stringify({ lat: 31, lon: 121 }), { qos: 1 });
    await eventually(async () => (await platform.db.prisma.deadLetter.count()) >= before + 2);
    const letters = await platform.db.prisma.deadLetter.findMany({ where: { topic: { startsWith: 'om/engineers/' } }, select: { reason: true, topic: true } });
    expect(letters).toEqual(expect.arrayContaining([{ reason: 'invalid_payload', topic: 'om/engineers/MID/location' }, { reason: 'invalid_payload', topic: 'om/engineers/NOBODY/location' }]));
    expect((await api<{ lat: number | null }>(base, 'GET', `/engineers/${eng.MID}`)).body.lat).toBe(31.25);
  });
});
