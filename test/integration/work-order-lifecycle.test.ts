/**
 * Work-order lifecycle and SLA timers on real PostgreSQL: the full path through every state with
 * its event trail and timestamps, refusals (409 illegal pairs, on_hold without a reason), and SLA
 * breaches driven by a second work-order service with a manual clock on the same database.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkOrderService, type WorkOrderService } from '../../maintenance/work-orders.ts';
import { manualClock } from '../../platform/clock.ts';
import { openDatabase, type Database } from '../../platform/db/database.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const logger = pino({ level: 'silent' });
const H = 3_600_000;
const MIN = 60_000;

interface Err {
  code: string;
  message: string;
}
interface WorkOrder {
  id: string;
  status: string;
  holdReason: string | null;
  allowedTransitions: string[];
  responseBreached: boolean;
  resolutionBreached: boolean;
  events?: { fromStatus: string | null; toStatus: string; note: string | null; at: string }[];
  [k: string]: unknown;
}

describe.skipIf(reason)(`work-order lifecycle and SLA on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base: string;
  let db: Database;
  let assetId = '';
  let engineerId = '';
  // a second service on the same database whose time the test moves by hand
  const clock = manualClock(new Date());
  let timed: WorkOrderService;

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    platform = await startTestPlatform({ DATABASE_URL: t.url, ROLES: 'api' });
    base = platform.apiUrl!;
    db = await openDatabase({ databaseUrl: t.url, dataDir: '', logger });
    timed = createWorkOrderService({ prisma: db.prisma, clock, logger });
    const siteId = (await api<{ id: string }>(base, 'POST', '/sites', { code: 'LC', name: 'Lifecycle' })).body.id;
    assetId = (await api<{ id: string }>(base, 'POST', '/assets', { code: 'AHU-1', name: 'Air handler', type: 'ahu', siteId })).body.id;
    engineerId = (await api<{ id: string }>(base, 'POST', '/engineers', { code: 'ENG-1', name: 'Engineer' })).body.id;
  });

  afterAll(async () => {
    await db?.close();
    await platform?.cleanup();
    await drop?.();
  });

  const create = async (body: Record<string, unknown> = {}) =>
    (await api<WorkOrder>(base, 'POST', '/work-orders', { title: 'Filter clogged', assetId, ...body })).body;
  const move = (id: string, body: Record<string, unknown>) => api<WorkOrder & Err>(base, 'POST', `/work-orders/${id}/transitions`, body);

  it('walks the full path with one event per transition and a timestamp per state', async () => {
    const wo = await create({ priority: 'high' });
    expect(wo).toMatchObject({ status: 'open', responseBreached: false, resolutionBreached: false, respondedAt: null, pausedMs: 0 });
    expect(Date.parse(wo.responseDueAt as string) - Date.parse(wo.requestedAt as string)).toBe(4 * H);
    expect(Date.parse(wo.resolutionDueAt as string) - Date.parse(wo.requestedAt as string)).toBe(24 * H);

    const path: Record<string, unknown>[] = [
      { to: 'assigned', assigneeId: engineerId },
      { to: 'accepted' },
      { to: 'en_route' },
      { to: 'in_progress' },
      { to: 'on_hold', holdReason: 'waiting_parts', note: 'bearing ordered' },
      { to: 'in_progress' },
      { to: 'completed' },
      { to: 'verified', actor: 'customer' },
      { to: 'closed' },
    ];
    let last: WorkOrder | undefined;
    for (const step of path) {
      const r = await move(wo.id, step);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.status).toBe(step.to);
      last = r.body;
      if (step.to === 'completed') expect(r.body.allowedTransitions).toEqual(['verified', 'closed']);
      if (step.to === 'verified') expect(r.body.allowedTransitions).toEqual(['closed']);
    }
    const done = last!;
    expect(done.events!.map((e) => [e.fromStatus, e.toStatus])).toEqual([
      [null, 'open'],
      ['open', 'assigned'],
      ['assigned', 'accepted'],
      ['accepted', 'en_route'],
      ['en_route', 'in_progress'],
      ['in_progress', 'on_hold'],
      ['on_hold', 'in_progress'],
      ['in_progress', 'completed'],
      ['completed', 'verified'],
      ['verified', 'closed'],
    ]);
    expect(done.events![5]!.note).toBe('on hold: waiting_parts; bearing ordered');
    for (const f of ['assignedAt', 'acceptedAt', 'enRouteAt', 'startedAt', 'onHoldAt', 'completedAt', 'verifiedAt', 'closedAt']) expect(done[f], f).toEqual(expect.any(String));
    expect(done).toMatchObject({ holdReason: 'waiting_parts', respondedAt: done.acceptedAt, cancelledAt: null, responseBreached: false, resolutionBreached: false, pausedMs: 0 });
    // startedAt is the first start, not the resume after the hold
    expect(done.startedAt).toBe(done.events![4]!.at);
    expect(done.allowedTransitions).toEqual([]);
  });

  it('refuses on_hold without a reason (409), a reason for other targets and unknown reasons (400)', async () => {
    const wo = await create();
    await move(wo.id, { to: 'assigned', assigneeId: engineerId });
    expect((await move(wo.id, { to: 'accepted', holdReason: 'other' })).status).toBe(400);
    await move(wo.id, { to: 'in_progress' });
    const noReason = await move(wo.id, { to: 'on_hold' });
    expect(noReason.status).toBe(409);
    expect(noReason.body).toMatchObject({ code: 'illegal_transition', message: expect.stringMatching(/holdReason/) });
    expect((await move(wo.id, { to: 'on_hold', holdReason: 'lunch' })).status).toBe(400);
    const held = await move(wo.id, { to: 'on_hold', holdReason: 'other' });
    expect(held.body).toMatchObject({ status: 'on_hold', holdReason: 'other', allowedTransitions: ['in_progress', 'cancelled'] });
    const cancelled = await move(wo.id, { to: 'cancelled' });
    expect(cancelled.body).toMatchObject({ status: 'cancelled', allowedTransitions: [] });
  });

  it('illegal pairs are 409 naming the allowed targets', async () => {
    const wo = await create();
    const expectIllegal = async (to: string, message: string) => {
      const r = await move(wo.id, { to, assigneeId: engineerId, holdReason: to === 'on_hold' ? 'other' : undefined });
      expect(r.status, `→${to}`).toBe(409);
      expect(r.body).toMatchObject({ code: 'illegal_transition', message });
    };
    await expectIllegal('accepted', 'cannot move a work order from open to accepted; allowed: assigned, cancelled');
    await expectIllegal('verified', 'cannot move a work order from open to verified; allowed: assigned, cancelled');
    await move(wo.id, { to: 'assigned', assigneeId: engineerId });
    await expectIllegal('en_route', 'cannot move a work order from assigned to en_route; allowed: accepted, in_progress, open, cancelled');
    await move(wo.id, { to: 'accepted' });
    await move(wo.id, { to: 'en_route' });
    await expectIllegal('completed', 'cannot move a work order from en_route to completed; allowed: in_progress, on_hold, cancelled');
    await move(wo.id, { to: 'on_hold', holdReason: 'waiting_parts' });
    await expectIllegal('completed', 'cannot move a work order from on_hold to completed; allowed: in_progress, cancelled');
    await move(wo.id, { to: 'in_progress' });
    await move(wo.id, { to: 'completed' });
    await expectIllegal('cancelled', 'cannot move a work order from completed to cancelled; allowed: verified, closed');
    await move(wo.id, { to: 'verified' });
    await expectIllegal('in_progress', 'cannot move a work order from verified to in_progress; allowed: closed');
    await move(wo.id, { to: 'closed' });
    await expectIllegal('open', 'cannot move a work order from closed to open; closed is final');
    // refused transitions leave no trace
    const got = await api<WorkOrder>(base, 'GET', `/work-orders/${wo.id}`);
    expect(got.body.events).toHaveLength(9);
  });

  it('a manual urgent order answered late is flagged responseBreached and listed by ?slaBreached=true', async () => {
    const t0 = new Date();
    clock.set(t0);
    const late = await timed.create({ title: 'Chiller down', assetId, priority: 'urgent', source: 'manual' });
    const onTime = await timed.create({ title: 'Chiller noisy', assetId, priority: 'urgent', source: 'customer' });
    expect(late.responseDueAt).toEqual(new Date(t0.getTime() + H));
    expect(late.resolutionDueAt).toEqual(new Date(t0.getTime() + 4 * H));
    clock.advance(10 * MIN);
    await timed.transition(late.id, { to: 'assigned', assigneeId: engineerId });
    await timed.transition(onTime.id, { to: 'assigned', assigneeId: engineerId });
    clock.set(new Date(t0.getTime() + H)); // exactly at the due time: on time
    expect(await timed.transition(onTime.id, { to: 'accepted' })).toMatchObject({ respondedAt: clock.now(), responseBreached: false });
    clock.advance(1);
    const accepted = await timed.transition(late.id, { to: 'accepted' });
    expect(accepted).toMatchObject({ respondedAt: clock.now(), responseBreached: true, resolutionBreached: false });

    const breached = await api<{ items: WorkOrder[]; total: number }>(base, 'GET', '/work-orders?slaBreached=true');
    expect(breached.status).toBe(200);
    expect(breached.body.items.map((w) => w.id)).toContain(late.id);
    expect(breached.body.items.map((w) => w.id)).not.toContain(onTime.id);
    expect(breached.body.items.every((w) => w.responseBreached || w.resolutionBreached)).toBe(true);
    const fine = await api<{ items: WorkOrder[] }>(base, 'GET', '/work-orders?slaBreached=false');
    expect(fine.body.items.map((w) => w.id)).toContain(onTime.id);
    expect(fine.body.items.map((w) => w.id)).not.toContain(late.id);
    expect((await api(base, 'GET', '/work-orders?slaBreached=maybe')).status).toBe(400);
  });

  it('sweepSla flags overdue unanswered orders in bulk; a customer hold pauses the resolution clock', async () => {
    const t0 = new Date();
    clock.set(t0);
    const waiting = await timed.create({ title: 'Leak', assetId, priority: 'urgent', source: 'manual' });
    const paused = await timed.create({ title: 'Access needed', assetId, priority: 'urgent', source: 'customer' });
    await timed.transition(paused.id, { to: 'assigned', assigneeId: engineerId });
    await timed.transition(paused.id, { to: 'in_progress' });
    clock.set(new Date(t0.getTime() + H));
    await timed.transition(paused.id, { to: 'on_hold', holdReason: 'waiting_customer' });

    const flags = async (id: string) => db.prisma.workOrder.findUniqueOrThrow({ where: { id }, select: { responseBreached: true, resolutionBreached: true } });
    await timed.sweepSla(new Date(t0.getTime() + H)); // at the due time: not yet
    expect(await flags(waiting.id)).toEqual({ responseBreached: false, resolutionBreached: false });
    const first = await timed.sweepSla(new Date(t0.getTime() + H + 1));
    expect(first.responseBreached).toBeGreaterThanOrEqual(1);
    expect(await flags(waiting.id)).toEqual({ responseBreached: true, resolutionBreached: false });
    expect(await timed.sweepSla(new Date(t0.getTime() + H + 1))).toEqual({ responseBreached: 0, resolutionBreached: 0 }); // idempotent

    await timed.sweepSla(new Date(t0.getTime() + 10 * H));
    expect(await flags(waiting.id)).toEqual({ responseBreached: true, resolutionBreached: true });
    // paused since +1 h, 3 h before its resolution due time: not breached however long the customer takes
    expect(await flags(paused.id)).toEqual({ responseBreached: false, resolutionBreached: false });
    clock.set(new Date(t0.getTime() + 11 * H));
    const resumed = await timed.transition(paused.id, { to: 'in_progress' });
    expect(resumed).toMatchObject({ pausedMs: 10 * H, resolutionDueAt: new Date(t0.getTime() + 14 * H), resolutionBreached: false });
    clock.set(new Date(t0.getTime() + 13 * H));
    expect(await timed.transition(paused.id, { to: 'completed' })).toMatchObject({ resolutionBreached: false, responseBreached: false });

    const listed = await api<{ items: WorkOrder[] }>(base, 'GET', '/work-orders?slaBreached=true&limit=500');
    expect(listed.body.items.map((w) => w.id)).toContain(waiting.id);
    expect(listed.body.items.map((w) => w.id)).not.toContain(paused.id);
  });

  it('rule-created orders get their due times from requestedAt too', async () => {
    const rule = await db.prisma.rule.create({
      data: { name: 'Hot', kind: 'threshold', assetId, definition: { schemaVersion: 1, metric: 't', operator: '>', value: 1, holdSeconds: 0, hysteresis: 0, severity: 'major', priority: 'low' } },
    });
    const requestedAt = new Date('2026-03-01T00:00:00.000Z');
    const { workOrder } = await timed.requestFromCause({
      dedupeKey: `k:${rule.id}`,
      openKey: `o:${rule.id}`,
      source: 'rule',
      title: 'Hot',
      priority: 'low',
      assetId,
      ruleId: rule.id,
      reason: {},
      requestedAt,
    });
    expect(workOrder).toMatchObject({ responseDueAt: new Date(requestedAt.getTime() + 72 * H), resolutionDueAt: new Date(requestedAt.getTime() + 168 * H) });
  });
});
