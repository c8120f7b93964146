/**
 * CSAT surveys on real PostgreSQL through the platform API: closing an order of a customer creates
 * exactly one survey and one notification carrying the link; a low score is escalated exactly once
 * (one follow-up order pointing at its parent), a second or concurrent answer stores nothing more,
 * a good score is not escalated, expired links answer 410, and the sweep expires, retries missing
 * escalations and sends surveys a failed hook missed.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotificationService } from '../../maintenance/notifications.ts';
import { createSurveyService } from '../../maintenance/surveys.ts';
import { createWorkOrderService } from '../../maintenance/work-orders.ts';
import { manualClock } from '../../platform/clock.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const logger = pino({ level: 'silent' });
const DAY = 86_400_000;

interface Err {
  code: string;
  message: string;
}
interface Page<T> {
  items: T[];
  total: number;
}
interface Notification {
  kind: string;
  subjectId: string;
  title: string;
  payload: { link: string; email: string | null; followUpNumber?: number };
}
interface WorkOrder {
  id: string;
  number: number;
  title: string;
  source: string;
  priority: string;
  parentWorkOrderId: string | null;
  customerId: string | null;
  description: string | null;
}
interface Survey {
  id: string;
  workOrderId: string;
  status: string;
  score: number | null;
  escalationWorkOrderId: string | null;
}

describe.skipIf(reason)(`CSAT surveys on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base: string;
  let customerId = '';
  let assetId = '';
  let orphanAsset = '';
  let engineerId = '';

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    platform = await startTestPlatform({ DATABASE_URL: t.url, ROLES: 'api', PUBLIC_URL: 'https://service.example.test' });
    base = platform.apiUrl!;
    const siteId = (await api<{ id: string }>(base, 'POST', '/sites', { code: 'S-CSAT', name: 'Customer site' })).body.id;
    const bareSite = (await api<{ id: string }>(base, 'POST', '/sites', { code: 'S-BARE', name: 'No customer' })).body.id;
    customerId = (await api<{ id: string }>(base, 'POST', '/customers', { code: 'CSAT-CO', name: 'Csat Co', email: 'facility@csat.test' })).body.id;
    expect((await api(base, 'PUT', `/customers/${customerId}/sites`, { siteIds: [siteId] })).status).toBe(200);
    assetId = (await api<{ id: string }>(base, 'POST', '/assets', { code: 'CH-1', name: 'Chiller', type: 'chiller', siteId })).body.id;
    orphanAsset = (await api<{ id: string }>(base, 'POST', '/assets', { code: 'CH-2', name: 'Chiller 2', type: 'chiller', siteId: bareSite })).body.id;
    engineerId = (await api<{ id: string }>(base, 'POST', '/engineers', { code: 'ENG-CSAT', name: 'Engineer' })).body.id;
  });

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  /** Creates an order and walks it to closed. */
  async function closedOrder(title: string, asset = assetId): Promise<WorkOrder> {
    const wo = (await api<WorkOrder>(base, 'POST', '/work-orders', { title, assetId: asset })).body;
    for (const step of [{ to: 'assigned', assigneeId: engineerId }, { to: 'accepted' }, { to: 'in_progress' }, { to: 'completed' }, { to: 'verified' }, { to: 'closed' }]) {
      const r = await api<Err>(base, 'POST', `/work-orders/${wo.id}/transitions`, step);
      expect(r.status, `${step.to}: ${r.body.message}`).toBe(200);
    }
    return wo;
  }
  const surveyNotifications = async (workOrderId: string) =>
    (await api<Page<Notification>>(base, 'GET', `/notifications?kind=csat_survey&subjectType=work_order&subjectId=${workOrderId}`)).body.items;
  async function tokenOf(workOrderId: string): Promise<string> {
    const [n] = await surveyNotifications(workOrderId);
    expect(n, 'survey notification').toBeDefined();
    return n!.payload.link.split('/surveys/')[1]!;
  }
  const surveysOf = async (workOrderId: string) => (await api<Page<Survey>>(base, 'GET', `/surveys?workOrderId=${workOrderId}`)).body.items;
  const followUps = async (parentId: string) =>
    (await api<Page<WorkOrder>>(base, 'GET', '/work-orders?source=followup&limit=500')).body.items.filter((w) => w.parentWorkOrderId === parentId);
  const answer = (token: string, body: Record<string, unknown>) => api<{ status: string; score: number; followUp: boolean } & Err>(base, 'POST', `/surveys/${token}`, body);

  it('closing an order of a customer creates exactly one survey and one notification with the link', async () => {
    const wo = await closedOrder('Chiller trips');
    const notes = await surveyNotifications(wo.id);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.payload.email).toBe('facility@csat.test');
    expect(notes[0]!.payload.link).toMatch(/^https:\/\/service\.example\.test\/surveys\/[A-Za-z0-9_-]{43}$/);
    const surveys = await surveysOf(wo.id);
    expect(surveys).toHaveLength(1);
    expect(surveys[0]).toMatchObject({ status: 'pending', score: null });
    // the token is not stored: only its hash
    const token = await tokenOf(wo.id);
    const row = await platform.db.prisma.survey.findUniqueOrThrow({ where: { workOrderId: wo.id }, select: { tokenHash: true } });
    expect(row.tokenHash).not.toContain(token);
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    // sending again (sweep, retried hook) does nothing
    expect((await api<{ sent: number }>(base, 'POST', '/surveys/sweep')).body.sent).toBe(0);
    expect(await surveyNotifications(wo.id)).toHaveLength(1);
    expect(await platform.db.prisma.survey.count({ where: { workOrderId: wo.id } })).toBe(1);

    const view = await api<{ status: string; workOrderNumber: number; title: string; assetCode: string; closedAt: string }>(base, 'GET', `/surveys/${token}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ status: 'pending', workOrderNumber: wo.number, title: 'Chiller trips', assetCode: 'CH-1' });
    expect(view.body.closedAt).toBeTruthy();
    expect((await api<Err>(base, 'GET', '/surveys/not-a-real-token')).status).toBe(404);
  });

  it('an order without a customer gets no survey', async () => {
    const wo = await closedOrder('No customer', orphanAsset);
    expect(wo.customerId).toBeNull();
    expect(await surveyNotifications(wo.id)).toHaveLength(0);
    expect(await surveysOf(wo.id)).toHaveLength(0);
  });

  it('survey low score escalated: 1/5 opens exactly one follow-up order; a second answer is 409', async () => {
    const wo = await closedOrder('Chiller still warm');
    const token = await tokenOf(wo.id);
    const r = await answer(token, { score: 1, comment: 'Still too warm in the server room' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'answered', score: 1, followUp: true });

    const fus = await followUps(wo.id);
    expect(fus).toHaveLength(1);
    expect(fus[0]).toMatchObject({
      source: 'followup',
      priority: 'high',
      parentWorkOrderId: wo.id,
      customerId,
      title: `Customer follow-up: CSAT 1/5 on WO #${wo.number}`,
      description: 'Still too warm in the server room',
    });
    const [survey] = await surveysOf(wo.id);
    expect(survey).toMatchObject({ status: 'answered', score: 1, escalationWorkOrderId: fus[0]!.id });
    const low = (await api<Page<Notification>>(base, 'GET', `/notifications?kind=csat_low&subjectId=${wo.id}`)).body.items;
    expect(low).toHaveLength(1);
    expect(low[0]!.payload.followUpNumber).toBe(fus[0]!.number);

    const again = await answer(token, { score: 5 });
    expect(again.status).toBe(409);
    expect((await api<Err>(base, 'GET', `/surveys/${token}`)).body).toMatchObject({ status: 'answered' });
    // the sweep finds nothing left to escalate; still one follow-up
    expect((await api<{ escalated: number }>(base, 'POST', '/surveys/sweep')).body.escalated).toBe(0);
    expect(await followUps(wo.id)).toHaveLength(1);
  });

  it('a concurrent double submit stores one answer and escalates once', async () => {
    const wo = await closedOrder('Double click');
    const token = await tokenOf(wo.id);
    const results = await Promise.all([answer(token, { score: 2 }), answer(token, { score: 2 }), answer(token, { score: 1 })]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    const [survey] = await surveysOf(wo.id);
    const winner = results.find((r) => r.status === 200)!;
    expect(survey).toMatchObject({ status: 'answered', score: winner.body.score });
    expect(await followUps(wo.id)).toHaveLength(1);
  });

  it('5/5 is not escalated', async () => {
    const wo = await closedOrder('Happy customer');
    const r = await answer(await tokenOf(wo.id), { score: 5, comment: 'Great' });
    expect(r.body).toEqual({ status: 'answered', score: 5, followUp: false });
    expect(await followUps(wo.id)).toHaveLength(0);
    expect((await surveysOf(wo.id))[0]!.escalationWorkOrderId).toBeNull();
    expect((await api<Page<Notification>>(base, 'GET', `/notifications?kind=csat_low&subjectId=${wo.id}`)).body.total).toBe(0);
  });

  it('an expired link answers 410 and the sweep marks it expired', async () => {
    const wo = await closedOrder('Late reply');
    const token = await tokenOf(wo.id);
    await platform.db.prisma.survey.update({ where: { workOrderId: wo.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const view = await api<Err>(base, 'GET', `/surveys/${token}`);
    expect(view.status).toBe(410);
    expect(view.body).toMatchObject({ code: 'expired', message: expect.stringMatching(/expired/) });
    expect((await answer(token, { score: 1 })).status).toBe(410);
    expect((await api<{ expired: number }>(base, 'POST', '/surveys/sweep')).body.expired).toBe(1);
    expect((await surveysOf(wo.id))[0]!.status).toBe('expired');
    expect(await followUps(wo.id)).toHaveLength(0);
  });

  it('expiry follows the clock: a service with a manual clock sees the link expire after SURVEY_TTL_DAYS', async () => {
    const wo = await closedOrder('Clocked');
    const token = await tokenOf(wo.id);
    const clock = manualClock(new Date());
    const prisma = platform.db.prisma;
    const workOrders = createWorkOrderService({ prisma, clock, logger });
    const surveys = createSurveyService({ prisma, clock, logger, workOrders, notifications: createNotificationService({ prisma, clock }), ttlDays: 14, lowScore: 2, publicUrl: () => undefined });
    expect(await surveys.view(token)).toMatchObject({ expired: false });
    clock.advance(14 * DAY + 60_000);
    expect(await surveys.view(token)).toMatchObject({ expired: true });
    expect(await surveys.answer(token, { score: 4 })).toMatchObject({ expired: true });
    expect(await prisma.survey.findUniqueOrThrow({ where: { workOrderId: wo.id }, select: { status: true } })).toEqual({ status: 'pending' });
    // the sweep at that time expires it (and any other survey still pending from earlier tests)
    expect((await surveys.sweep()).expired).toBeGreaterThanOrEqual(1);
    expect(await prisma.survey.findUniqueOrThrow({ where: { workOrderId: wo.id }, select: { status: true } })).toEqual({ status: 'expired' });
  });

  it('the sweep retries an escalation that did not happen, exactly once', async () => {
    const wo = await closedOrder('Crash between answer and escalation');
    // as if the process died right after storing the answer
    await platform.db.prisma.survey.update({ where: { workOrderId: wo.id }, data: { status: 'answered', score: 2, answeredAt: new Date() } });
    expect(await followUps(wo.id)).toHaveLength(0);
    expect((await api<{ escalated: number }>(base, 'POST', '/surveys/sweep')).body.escalated).toBe(1);
    const fus = await followUps(wo.id);
    expect(fus).toHaveLength(1);
    expect((await surveysOf(wo.id))[0]!.escalationWorkOrderId).toBe(fus[0]!.id);
    expect((await api<{ escalated: number }>(base, 'POST', '/surveys/sweep')).body.escalated).toBe(0);
    expect(await followUps(wo.id)).toHaveLength(1);
  });

  it('the sweep sends a survey the after-close hook missed', async () => {
    const wo = await closedOrder('Hook failed');
    await platform.db.prisma.notification.deleteMany({ where: { dedupeKey: `csat-survey:${wo.id}` } });
    await platform.db.prisma.survey.deleteMany({ where: { workOrderId: wo.id } });
    expect((await api<{ sent: number }>(base, 'POST', '/surveys/sweep')).body.sent).toBe(1);
    expect(await surveyNotifications(wo.id)).toHaveLength(1);
    expect((await answer(await tokenOf(wo.id), { score: 4 })).status).toBe(200);
  });

  it('the internal list reports the CSAT average and response rate', async () => {
    const r = await api<Page<Survey> & { summary: { sent: number; answered: number; expired: number; pending: number; averageScore: number; responseRate: number; lowScores: number } }>(
      base,
      'GET',
      `/surveys?customerId=${customerId}`,
    );
    expect(r.status).toBe(200);
    const rows = await platform.db.prisma.survey.findMany({ select: { status: true, score: true } });
    const answered = rows.filter((s) => s.status === 'answered');
    expect(r.body.summary).toMatchObject({
      sent: rows.length,
      answered: answered.length,
      lowScores: answered.filter((s) => s.score! <= 2).length,
      averageScore: Math.round((answered.reduce((n, s) => n + s.score!, 0) / answered.length) * 100) / 100,
      responseRate: Math.round((answered.length / rows.length) * 10_000) / 10_000,
    });
    // answered: 1, 1|2, 5, 2, 4; expired: late reply, clocked, and the first (still pending when the clocked sweep ran)
    expect(r.body.summary).toMatchObject({ sent: 8, answered: 5, expired: 3, pending: 0, responseRate: 0.625 });
    expect((await api<Page<Survey>>(base, 'GET', `/surveys?status=expired`)).body.total).toBe(3);
  });
});
