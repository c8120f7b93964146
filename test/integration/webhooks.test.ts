/**
 * Outbound webhooks on real PostgreSQL, delivered to a real HTTP receiver (node:http on 127.0.0.1:0):
 * every event type is written with its change and reaches the receiver once, HMAC-signed, with its
 * stable event id; a rolled-back change writes no event; a flaky receiver is retried with backoff; a
 * dead one is failed after the last attempt and can be re-queued; a receiver that answers too late
 * gets the same event id again (at least once); several workers on one database deliver each event
 * once per subscription (SKIP LOCKED claims).
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alarmTopic } from '../../ingest/topics.ts';
import { outboxWorkOrderHooks } from '../../integrations/work-order-events.ts';
import { createWebhookService, type WebhookService } from '../../integrations/webhook-service.ts';
import { createWorkOrderService } from '../../maintenance/work-orders.ts';
import { systemClock } from '../../platform/clock.ts';
import { openDatabase, type Database } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, eventually, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const logger = pino({ level: 'silent' });

// generous: under a loaded CI machine a 500 ms timeout turned normal deliveries into legitimate (at-least-once) repeats
const TIMEOUT_MS = 2000;
const BACKOFF_MS = 300;
const MAX_ATTEMPTS = 4;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}
interface Plan {
  /** Answer 503 this many times. */
  fail?: number;
  /** Answer this many requests only after `hangMs` (longer than the platform's timeout). */
  hang?: number;
  hangMs?: number;
}
interface Receiver {
  base: string;
  received: Received[];
  plans: Map<string, Plan>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const plans = new Map<string, Plan>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const plan = plans.get(path);
      if (plan?.hang) {
        plan.hang--;
        setTimeout(() => res.end('late'), plan.hangMs ?? 2000).unref();
        return;
      }
      if (plan?.fail) {
        plan.fail--;
        res.statusCode = 503;
        res.end('try later');
        return;
      }
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    plans,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (a server opened and closed again). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

interface Body {
  id: string;
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}
interface Page<T> {
  items: T[];
  total: number;
}
interface Subscription {
  id: string;
  name: string;
  url: string;
  events: string[];
  secret?: string;
  secretHint: string;
  active: boolean;
}
interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  subjectId: string | null;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: string | null;
}
interface OutboxEvent {
  id: string;
  seq: number;
  type: string;
  subjectId: string | null;
  payload: Record<string, unknown>;
  createdAt: string;
  dispatchedAt: string | null;
}
interface Err {
  code: string;
  message: string;
}

/** The signature check a receiver would do, written independently of integrations/. */
function signatureOk(r: Received, secret: string): boolean {
  const ts = r.headers['x-om-timestamp'] as string;
  const expected = `sha256=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`;
  return r.headers['x-om-signature'] === expected;
}

describe.skipIf(reason)(`outbound webhooks ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let dbUrl: string;
  let base: string;
  let recv: Receiver;
  let client: MqttClient;
  let all: Subscription;
  let siteId = '';
  let assetId = '';
  let engineerId = '';

  beforeAll(async () => {
    recv = await startReceiver();
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    dbUrl = t.url;
    platform = await startTestPlatform({
      DATABASE_URL: t.url,
      ROLES: 'api,ingest,rules',
      PUBLIC_URL: 'https://service.example.test',
      WEBHOOK_POLL_MS: '50',
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      WEBHOOK_BACKOFF_MS: String(BACKOFF_MS),
      WEBHOOK_BACKOFF_MAX_MS: '2000',
      WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    });
    base = platform.apiUrl!;
    const created = await api<Subscription>(base, 'POST', '/webhooks', { name: 'everything', url: `${recv.base}/all`, events: ['*'] });
    expect(created.status).toBe(201);
    all = created.body;
    siteId = (await api<{ id: string }>(base, 'POST', '/sites', { code: 'WH', name: 'Webhook site' })).body.id;
    assetId = (await api<{ id: string }>(base, 'POST', '/assets', { code: 'PUMP-1', name: 'Pump', type: 'pump', siteId })).body.id;
    engineerId = (await api<{ id: string }>(base, 'POST', '/engineers', { code: 'ENG-W', name: 'Wang Fang' })).body.id;
    client = await mqtt.connectAsync(platform.mqttUrl!, { protocolVersion: 4 });
  });

  afterAll(async () => {
    await client?.endAsync();
    await platform?.cleanup();
    await recv?.close();
    await drop?.();
  });

  const at = (path: string) => recv.received.filter((r) => r.path === path);
  const bodies = (path: string) => at(path).map((r) => JSON.parse(r.body) as Body);
  const outbox = async (query: string) => (await api<Page<OutboxEvent>>(base, 'GET', `/outbox?limit=500&${query}`)).body.items;
  const deliveriesOf = async (subscriptionId: string, query = '') => (await api<Page<Delivery>>(base, 'GET', `/webhooks/${subscriptionId}/deliveries?limit=500&${query}`)).body.items;
  const deliveryOf = async (subscriptionId: string, eventId: string) => (await deliveriesOf(subscriptionId)).find((d) => d.eventId === eventId);
  const subscribe = async (name: string, path: string, events: string[]) => {
    const r = await api<Subscription & Err>(base, 'POST', '/webhooks', { name, url: `${recv.base}${path}`, events });
    expect(r.status, r.body.message).toBe(201);
    return r.body;
  };
  const transition = async (id: string, body: Record<string, unknown>) => {
    const r = await api<Err>(base, 'POST', `/work-orders/${id}/transitions`, body);
    expect(r.status, `${String(body.to)}: ${r.body.message}`).toBe(200);
  };
  const sendAlarm = (code: string, active: boolean) =>
    client.publishAsync(alarmTopic('WH', 'PUMP-1'), JSON.stringify({ code, active, severity: 'major', message: `pressure ${code}` }), { qos: 1 });

  it('manages subscriptions: URL and event checks, the secret shown once, a test event', async () => {
    expect(all.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    for (const [body, field] of [
      [{ name: 'x', url: 'https://user:pass@hooks.example.test/', events: ['*'] }, 'credentials'],
      [{ name: 'x', url: 'ftp://hooks.example.test/', events: ['*'] }, 'protocol'],
      [{ name: 'x', url: `${recv.base}/x`, events: ['work_order.deleted'] }, 'unknown event'],
      [{ name: 'x', url: `${recv.base}/x`, events: ['*'], secret: 'short' }, 'at least 16'],
    ] as const) {
      const r = await api<Err>(base, 'POST', '/webhooks', body);
      expect(r.status).toBe(400);
      expect(r.body.message).toContain(field);
    }
    const got = await api<Subscription>(base, 'GET', `/webhooks/${all.id}`);
    expect(got.body).not.toHaveProperty('secret');
    expect(got.body.secretHint).toBe(`…${all.secret!.slice(-4)}`);
    expect((await api<Page<Subscription>>(base, 'GET', '/webhooks')).body.items.map((s) => s.id)).toContain(all.id);

    // a given secret is kept; rotation returns a new one once
    const own = await subscribe('own secret', '/own', ['alarm.*']);
    const rotated = await api<Subscription>(base, 'PATCH', `/webhooks/${own.id}`, { rotateSecret: true, active: false });
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(own.secret);
    expect(rotated.body.active).toBe(false);
    expect((await api(base, 'PATCH', `/webhooks/${own.id}`, { url: 'https://a:b@x.test/' })).status).toBe(400);

    // the test endpoint sends a synthetic event right away, even to a paused subscription
    const test = await api<Delivery>(base, 'POST', `/webhooks/${own.id}/test`);
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ eventType: 'webhook.test', status: 'delivered', attempts: 1, lastStatusCode: 200, lastError: null });
    const [req] = at('/own');
    expect(req!.headers['x-om-event-id']).toBe(test.body.eventId);
    expect(signatureOk(req!, rotated.body.secret!)).toBe(true);
    expect(signatureOk(req!, own.secret!)).toBe(false);
    expect((JSON.parse(req!.body) as Body).type).toBe('webhook.test');
    // test events go to that subscription only
    expect(bodies('/all').some((b) => b.id === test.body.eventId)).toBe(false);

    expect((await api(base, 'DELETE', `/webhooks/${own.id}`)).status).toBe(204);
    expect((await api(base, 'GET', `/webhooks/${own.id}`)).status).toBe(404);
  });

  it('every event type is written with its change and reaches the receiver once, signed, with a stable id', async () => {
    // a customer's site, so that closing the order sends a CSAT survey
    const customerId = (await api<{ id: string }>(base, 'POST', '/customers', { code: 'WH-CO', name: 'Hook Co', email: 'ops@hook.test' })).body.id;
    expect((await api(base, 'PUT', `/customers/${customerId}/sites`, { siteIds: [siteId] })).status).toBe(200);

    // work order created → assigned → completed (→ closed: survey)
    const wo = (await api<{ id: string; number: number }>(base, 'POST', '/work-orders', { title: 'Seal leaking', assetId })).body;
    await transition(wo.id, { to: 'assigned', assigneeId: engineerId });
    for (const to of ['accepted', 'in_progress', 'completed', 'verified', 'closed']) await transition(wo.id, { to });

    // alarm raised (twice: one alarm) and cleared (twice: one clear), over MQTT
    await sendAlarm('P77', true);
    await sendAlarm('P77', true);
    const alarm = await eventually(async () => (await api<Page<{ id: string; code: string }>>(base, 'GET', `/alarms?assetId=${assetId}&status=active`)).body.items.find((a) => a.code === 'P77'));
    await sendAlarm('P77', false);
    await sendAlarm('P77', false);
    await eventually(async () => (await api<Page<unknown>>(base, 'GET', `/alarms?assetId=${assetId}&status=active`)).body.total === 0);

    // stock crosses the safety stock: one purchase request, one stock.low (a second issue below it: none)
    const partId = (await api<{ id: string }>(base, 'POST', '/parts', { code: 'SEAL-9', name: 'Seal', safetyStock: 2, reorderQuantity: 10 })).body.id;
    const warehouseId = (await api<{ id: string }>(base, 'POST', '/warehouses', { code: 'WH-MAIN', name: 'Main store' })).body.id;
    const move = async (kind: string, quantity: number) => expect((await api(base, 'POST', '/stock/movements', { kind, partId, warehouseId, quantity })).status).toBe(201);
    await move('receipt', 5);
    await move('issue', 3);
    await move('issue', 1);
    const prs = (await api<Page<{ id: string; number: number; partId: string }>>(base, 'GET', `/purchase-requests?partId=${partId}`)).body.items;
    expect(prs).toHaveLength(1);

    // the customer answers the survey with 1/5: a follow-up order and csat.low
    const note = (await api<Page<{ payload: { link: string } }>>(base, 'GET', `/notifications?kind=csat_survey&subjectType=work_order&subjectId=${wo.id}`)).body.items[0]!;
    const token = note.payload.link.split('/surveys/')[1]!;
    expect((await api(base, 'POST', `/surveys/${token}`, { score: 1, comment: 'Came two days late' })).status).toBe(200);
    const followUp = (await api<Page<{ id: string; number: number; parentWorkOrderId: string | null }>>(base, 'GET', '/work-orders?source=followup')).body.items.find((w) => w.parentWorkOrderId === wo.id)!;
    expect(followUp).toBeDefined();

    const wanted = (b: Body) =>
      (b.type.startsWith('work_order.') && b.data.workOrderId === wo.id) ||
      (b.type.startsWith('alarm.') && b.data.alarmId === alarm.id) ||
      (b.type === 'stock.low' && b.data.partId === partId) ||
      (b.type === 'csat.low' && b.data.workOrderId === wo.id);
    await eventually(async () => new Set(bodies('/all').filter(wanted).map((b) => b.type)).size === 7, 15_000);
    // nothing left to deliver for this subscription, then count: exactly once each
    await eventually(async () => (await deliveriesOf(all.id, 'status=pending')).length === 0, 15_000);

    const mine = at('/all').filter((r) => wanted(JSON.parse(r.body) as Body));
    const byType = new Map<string, Body[]>();
    for (const r of mine) {
      const b = JSON.parse(r.body) as Body;
      // headers and body agree, the signature verifies, the timestamp is current
      expect(r.headers['x-om-event-id']).toBe(b.id);
      expect(r.headers['x-om-event-type']).toBe(b.type);
      expect(r.headers['content-type']).toBe('application/json');
      expect(signatureOk(r, all.secret!)).toBe(true);
      expect(Math.abs(Number(r.headers['x-om-timestamp']) - Date.now() / 1000)).toBeLessThan(120);
      byType.set(b.type, [...(byType.get(b.type) ?? []), b]);
    }
    expect([...byType.keys()].sort()).toEqual(['alarm.cleared', 'alarm.raised', 'csat.low', 'stock.low', 'work_order.assigned', 'work_order.completed', 'work_order.created']);
    for (const [type, list] of byType) expect(list, type).toHaveLength(1);
    expect(new Set(mine.map((r) => r.headers['x-om-event-id'])).size).toBe(7);

    const one = (type: string) => byType.get(type)![0]!;
    expect(one('work_order.created').data).toMatchObject({ workOrderId: wo.id, number: wo.number, title: 'Seal leaking', assetCode: 'PUMP-1', status: 'open' });
    expect(one('work_order.assigned').data).toMatchObject({ workOrderId: wo.id, status: 'assigned', from: 'open', assignee: { id: engineerId, code: 'ENG-W' } });
    expect(one('work_order.completed').data).toMatchObject({ workOrderId: wo.id, status: 'completed', from: 'in_progress', assignee: { id: engineerId, code: 'ENG-W' } });
    expect(one('alarm.raised').data).toMatchObject({ alarmId: alarm.id, code: 'P77', severity: 'major', assetCode: 'PUMP-1', source: 'device', message: 'pressure P77' });
    expect(one('alarm.cleared').data).toMatchObject({ alarmId: alarm.id, code: 'P77' });
    expect(one('stock.low').data).toMatchObject({ partCode: 'SEAL-9', warehouseCode: 'WH-MAIN', balance: 2, safetyStock: 2, quantity: 10, purchaseRequestId: prs[0]!.id, purchaseRequestNumber: prs[0]!.number });
    expect(one('csat.low').data).toMatchObject({ score: 1, comment: 'Came two days late', workOrderNumber: wo.number, followUpWorkOrderId: followUp.id, followUpNumber: followUp.number });

    // the outbox holds the same ids, dispatched; the body's occurredAt is the event's time
    const events = await outbox(`subjectId=${wo.id}`);
    expect(events.map((e) => e.type).sort()).toEqual(['work_order.assigned', 'work_order.completed', 'work_order.created']);
    for (const e of events) {
      expect(e.dispatchedAt).not.toBeNull();
      const b = byType.get(e.type)![0]!;
      expect(b.id).toBe(e.id);
      expect(b.occurredAt).toBe(e.createdAt);
    }
    // the delivery log: each delivered at the first attempt
    for (const b of byType.values()) expect(await deliveryOf(all.id, b[0]!.id)).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200, nextAttemptAt: null });
  });

  it('a change that rolls back writes no event', async () => {
    // refused by the state machine
    const wo = (await api<{ id: string }>(base, 'POST', '/work-orders', { title: 'Belt check', assetId })).body;
    expect((await api(base, 'POST', `/work-orders/${wo.id}/transitions`, { to: 'completed' })).status).toBe(409);
    // refused by a hook that runs after ours, inside the same transaction (a bulk assignment too)
    const svc = createWorkOrderService({ prisma: platform.db.prisma, clock: systemClock, logger });
    svc.use(outboxWorkOrderHooks);
    let refuse = true;
    svc.use({
      async onTransition() {
        if (refuse) throw new AppError('conflict', 'refused by a later hook');
      },
    });
    await expect(svc.transition(wo.id, { to: 'assigned', assigneeId: engineerId })).rejects.toThrow('refused by a later hook');
    await expect(svc.assignMany([{ workOrderId: wo.id, engineerId }])).rejects.toThrow('refused by a later hook');
    expect((await outbox(`subjectId=${wo.id}`)).map((e) => e.type)).toEqual(['work_order.created']);

    // bulk assignment commits: its event names the engineer
    refuse = false;
    expect((await svc.assignMany([{ workOrderId: wo.id, engineerId }])).assigned).toEqual([wo.id]);
    const assigned = (await outbox(`subjectId=${wo.id}&type=work_order.assigned`))[0]!;
    expect(assigned.payload).toMatchObject({ workOrderId: wo.id, status: 'assigned', assignee: { id: engineerId, code: 'ENG-W', name: 'Wang Fang' } });
  });

  it('a receiver failing twice gets the event on the third attempt, after growing waits', async () => {
    recv.plans.set('/flaky', { fail: 2 });
    const sub = await subscribe('flaky', '/flaky', ['alarm.*']);
    await sendAlarm('F01', true);
    const event = await eventually(async () => (await outbox('type=alarm.raised')).find((e) => e.payload.code === 'F01'));

    // between the attempts the log shows the failure and when the next attempt is due
    const waiting = await eventually(async () => {
      const d = await deliveryOf(sub.id, event.id);
      return d && d.status === 'pending' && d.attempts === 1 && d.lastStatusCode === 503 ? d : undefined;
    }, 5000, 10);
    expect(waiting.lastError).toBe('HTTP 503: try later');
    const firstAt = at('/flaky')[0]!.at;
    const dueIn = Date.parse(waiting.nextAttemptAt!) - firstAt;
    expect(dueIn).toBeGreaterThanOrEqual(BACKOFF_MS / 2 - 50);
    expect(dueIn).toBeLessThanOrEqual(BACKOFF_MS + 500);

    const done = await eventually(async () => {
      const d = await deliveryOf(sub.id, event.id);
      return d?.status === 'delivered' ? d : undefined;
    }, 10_000);
    expect(done).toMatchObject({ attempts: 3, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    const reqs = at('/flaky');
    expect(reqs).toHaveLength(3);
    expect(new Set(reqs.map((r) => r.headers['x-om-event-id']))).toEqual(new Set([event.id]));
    expect(new Set(reqs.map((r) => r.body)).size).toBe(1);
    for (const r of reqs) expect(signatureOk(r, sub.secret!)).toBe(true);
    // the waits follow the schedule: ≥ half of base, then ≥ half of 2 × base (jitter takes off up to 50%)
    expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(BACKOFF_MS / 2 - 5);
    expect(reqs[2]!.at - reqs[1]!.at).toBeGreaterThanOrEqual(BACKOFF_MS - 5);
    await api(base, 'DELETE', `/webhooks/${sub.id}`);
  });

  it('a receiver that is down is failed after the last attempt, listed in the log, and can be re-queued', async () => {
    const port = await deadPort();
    const created = await api<Subscription>(base, 'POST', '/webhooks', { name: 'down', url: `http://127.0.0.1:${port}/hook`, events: ['stock.low'] });
    const sub = created.body;
    const test = await api<Delivery>(base, 'POST', `/webhooks/${sub.id}/test`);
    expect(test.body).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null });
    expect(test.body.lastError).toContain('ECONNREFUSED');

    const failed = await eventually(async () => (await deliveriesOf(sub.id, 'status=failed')).find((d) => d.id === test.body.id), 15_000);
    expect(failed).toMatchObject({ attempts: MAX_ATTEMPTS, status: 'failed', nextAttemptAt: null, deliveredAt: null });
    expect(failed.lastError).toContain('ECONNREFUSED');

    // the receiver is back (somewhere else): re-queue once → delivered with the same event id
    expect((await api(base, 'PATCH', `/webhooks/${sub.id}`, { url: `${recv.base}/recovered` })).status).toBe(200);
    const retried = await api<Delivery>(base, 'POST', `/webhook-deliveries/${test.body.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body.status).toBe('pending');
    const again = await api<Err>(base, 'POST', `/webhook-deliveries/${test.body.id}/retry`);
    // still queued (or already sent and delivered, when the worker was quicker than this request)
    if (again.status !== 200) expect(again.status).toBe(409);
    const delivered = await eventually(async () => {
      const d = await deliveryOf(sub.id, test.body.eventId);
      return d?.status === 'delivered' ? d : undefined;
    });
    expect(delivered.attempts).toBeGreaterThanOrEqual(MAX_ATTEMPTS + 1);
    expect(at('/recovered').map((r) => r.headers['x-om-event-id'])).toContain(test.body.eventId);
    expect((await api(base, 'POST', `/webhook-deliveries/00000000-0000-4000-8000-000000000000/retry`)).status).toBe(404);
    await api(base, 'DELETE', `/webhooks/${sub.id}`);
  });

  it('a receiver answering after the timeout gets the same event id again (at least once)', async () => {
    recv.plans.set('/slow', { hang: 1, hangMs: TIMEOUT_MS * 3 });
    const sub = await subscribe('slow', '/slow', ['work_order.created']);
    const wo = (await api<{ id: string }>(base, 'POST', '/work-orders', { title: 'Slow receiver', assetId })).body;
    const event = (await outbox(`subjectId=${wo.id}&type=work_order.created`))[0]!;
    const done = await eventually(async () => {
      const d = await deliveryOf(sub.id, event.id);
      return d?.status === 'delivered' ? d : undefined;
    }, 10_000);
    expect(done.attempts).toBe(2);
    const reqs = at('/slow').filter((r) => r.headers['x-om-event-id'] === event.id);
    // the receiver saw it twice: the dedupe key is what keeps it from acting twice
    expect(reqs).toHaveLength(2);
    expect(reqs[0]!.body).toBe(reqs[1]!.body);
    await api(base, 'DELETE', `/webhooks/${sub.id}`);
  });

  it('several workers on one database deliver each event once per subscription', async () => {
    const sub = await subscribe('exactly once', '/exact', ['work_order.created']);
    const dataDir = mkdtempSync(join(tmpdir(), 'om-webhooks-'));
    const dbs: Database[] = [];
    const workers: WebhookService[] = [];
    for (let i = 0; i < 2; i++) {
      const db = await openDatabase({ databaseUrl: dbUrl, dataDir, logger });
      dbs.push(db);
      workers.push(
        createWebhookService({ prisma: db.prisma, clock: systemClock, logger, pollMs: 5, timeoutMs: TIMEOUT_MS, policy: { baseMs: BACKOFF_MS, maxMs: 2000, maxAttempts: MAX_ATTEMPTS }, deliveryBatch: 3, fanOutBatch: 5 }),
      );
    }
    try {
      for (const w of workers) w.start();
      const orders: string[] = [];
      for (let round = 0; round < 4; round++) {
        const made = await Promise.all(Array.from({ length: 10 }, (_, i) => api<{ id: string }>(base, 'POST', '/work-orders', { title: `Bulk ${round}-${i}`, assetId })));
        orders.push(...made.map((m) => m.body.id));
        // and extra polls racing the loops (three workers: the platform's and these two)
        await Promise.all(workers.flatMap((w) => [w.fanOut(), w.deliverDue(), w.deliverDue()]));
      }
      const ids = new Set((await outbox('type=work_order.created')).filter((e) => orders.includes(e.subjectId!)).map((e) => e.id));
      expect(ids.size).toBe(40);
      await eventually(async () => bodies('/exact').filter((b) => ids.has(b.id)).length >= 40, 15_000);
      await eventually(async () => (await deliveriesOf(sub.id, 'status=pending')).length === 0 && (await deliveriesOf(all.id, 'status=pending')).length === 0, 15_000);
      await new Promise((r) => setTimeout(r, 300));
      const got = bodies('/exact').filter((b) => ids.has(b.id));
      expect(got).toHaveLength(40);
      expect(new Set(got.map((b) => b.id)).size).toBe(40);
      const log = (await deliveriesOf(sub.id)).filter((d) => ids.has(d.eventId));
      expect(log).toHaveLength(40);
      for (const d of log) expect(d).toMatchObject({ status: 'delivered', attempts: 1 });
      // the subscription that takes everything got them once too
      const everything = bodies('/all').filter((b) => ids.has(b.id));
      expect(everything).toHaveLength(40);
    } finally {
      for (const w of workers) await w.stop();
      for (const db of dbs) await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
