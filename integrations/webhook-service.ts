/**
 * Webhook subscriptions and delivery (the imperative shell around webhook-formats.ts and backoff.ts).
 *
 * Fan-out: undispatched outbox rows (oldest first, `FOR UPDATE SKIP LOCKED`) get one delivery per
 * matching active subscription — INSERT … ON CONFLICT (event, subscription) DO NOTHING — and are
 * marked dispatched, in one statement; a subscription sees the events recorded after it existed.
 *
 * Delivery: a worker claims due pending deliveries with one UPDATE over a `SELECT … FOR UPDATE SKIP
 * LOCKED` sub-select that counts the attempt and moves next_attempt_at to a lease (timeout + margin),
 * so several instances never send the same delivery at the same time and a worker that dies mid-POST
 * leaves the delivery to be retried after the lease. It POSTs outside any transaction (fetch with
 * AbortSignal.timeout, redirects not followed), then records the outcome: 2xx (and, for robots,
 * errcode 0) = delivered; otherwise the next attempt after an exponential backoff with jitter, or
 * failed after the last attempt. The outcome is written only while the claim is still ours (same
 * attempt count), so a late answer cannot overwrite a newer attempt. At least once: a receiver may
 * see an event again (a timeout after it processed the request, a crash before the outcome is
 * stored) and deduplicates on X-OM-Event-Id.
 *
 * Deliveries of a paused subscription (active = false) wait; they resume when it is re-activated.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../platform/clock.ts';
import type { Db, Prisma } from '../platform/db/database.ts';
import { AppError, conflict, notFound } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { afterFailure, DEFAULT_JITTER, type BackoffPolicy } from './backoff.ts';
import { TEST_EVENT_TYPE } from './outbox.ts';
import { buildRequest, checkWebhookUrl, interpretResponse, isEventPattern, redactUrl, type OutboundEvent, type WebhookFormat } from './webhook-formats.ts';

export interface WebhookServiceDeps {
  prisma: Db;
  clock: Clock;
  logger: Logger;
  /** Idle wait between polls of the worker loop. */
  pollMs: number;
  /** Per-request timeout (connect + response + body). */
  timeoutMs: number;
  /** Retry schedule; jitter defaults to DEFAULT_JITTER. */
  policy: Omit<BackoffPolicy, 'jitter'> & { jitter?: number | undefined };
  /** Deliveries sent concurrently per poll; outbox rows fanned out per poll. */
  deliveryBatch?: number;
  fanOutBatch?: number;
  random?: () => number;
  fetch?: typeof fetch;
}

export interface SubscriptionInput {
  name: string;
  url: string;
  events: string[];
  format?: WebhookFormat | undefined;
  secret?: string | undefined;
  active?: boolean | undefined;
}

export interface SubscriptionPatch {
  name?: string | undefined;
  url?: string | undefined;
  events?: string[] | undefined;
  format?: WebhookFormat | undefined;
  secret?: string | undefined;
  active?: boolean | undefined;
  /** Replace the secret with a generated one (returned once in the response). */
  rotateSecret?: boolean | undefined;
}

const subscriptionSelect = { id: true, name: true, url: true, secret: true, events: true, format: true, active: true, createdAt: true } satisfies Prisma.WebhookSubscriptionSelect;
type SubscriptionRow = Prisma.WebhookSubscriptionGetPayload<{ select: typeof subscriptionSelect }>;

const deliverySelect = {
  id: true,
  eventId: true,
  subscriptionId: true,
  status: true,
  attempts: true,
  nextAttemptAt: true,
  lastStatusCode: true,
  lastError: true,
  deliveredAt: true,
  createdAt: true,
  event: { select: { type: true, subjectId: true, createdAt: true } },
} satisfies Prisma.WebhookDeliverySelect;
type DeliveryRow = Prisma.WebhookDeliveryGetPayload<{ select: typeof deliverySelect }>;

interface Claimed {
  id: string;
  attempts: number;
  event_id: string;
  type: string;
  subject_id: string | null;
  payload: unknown;
  created_at: Date;
  url: string;
  secret: string;
  format: WebhookFormat;
}

/** A generated signing secret: 32 random bytes. */
export const generateSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

const iso = (d: Date): string => d.toISOString();
const MAX_RESPONSE_BYTES = 64 * 1024;

export function subscriptionView(s: SubscriptionRow) {
  return {
    id: s.id,
    name: s.name,
    url: s.url,
    format: s.format,
    events: s.events,
    active: s.active,
    /** Only the end of the secret, to tell secrets apart; the whole one is shown once. */
    secretHint: `…${s.secret.slice(-4)}`,
    createdAt: s.createdAt,
  };
}

export function deliveryView(d: DeliveryRow) {
  return {
    id: d.id,
    eventId: d.eventId,
    eventType: d.event.type,
    subjectId: d.event.subjectId,
    occurredAt: d.event.createdAt,
    subscriptionId: d.subscriptionId,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    deliveredAt: d.deliveredAt,
    createdAt: d.createdAt,
  };
}

function checkInput(input: { url?: string | undefined; events?: string[] | undefined; secret?: string | undefined }): { url?: string } {
  const out: { url?: string } = {};
  if (input.url !== undefined) {
    const u = checkWebhookUrl(input.url);
    if (!u.ok) throw new AppError('validation', u.message, { field: 'url' });
    out.url = u.url;
  }
  if (input.events !== undefined) {
    if (input.events.length === 0) throw new AppError('validation', 'subscribe to at least one event (or "*")', { field: 'events' });
    const bad = input.events.filter((e) => !isEventPattern(e));
    if (bad.length) throw new AppError('validation', `unknown event type(s): ${bad.join(', ')}`, { field: 'events', unknown: bad });
  }
  if (input.secret !== undefined && input.secret.length < 16 && !/^SEC/.test(input.secret)) {
    throw new AppError('validation', 'a secret needs at least 16 characters (or leave it out to get a generated one)', { field: 'secret' });
  }
  return out;
}

/** Reads at most `max` bytes of a response body (the rest is discarded). */
async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= max) {
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

function describeError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `timeout after ${timeoutMs} ms`;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${cause ? `${cause}: ` : ''}${e?.message ?? String(err)}`.slice(0, 500);
}

export function createWebhookService(deps: WebhookServiceDeps) {
  const { prisma, clock, timeoutMs } = deps;
  const policy: BackoffPolicy = { ...deps.policy, jitter: deps.policy.jitter ?? DEFAULT_JITTER };
  const log = deps.logger.child({ module: 'webhooks' });
  const random = deps.random ?? Math.random;
  const doFetch = deps.fetch ?? fetch;
  const deliveryBatch = deps.deliveryBatch ?? 20;
  const fanOutBatch = deps.fanOutBatch ?? 200;
  /** How long a claimed delivery is left alone: the request's timeout plus a margin. */
  const leaseMs = timeoutMs + 30_000;

  async function requireSubscription(id: string): Promise<SubscriptionRow> {
    const s = await prisma.webhookSubscription.findUnique({ where: { id }, select: subscriptionSelect });
    if (!s) throw notFound('WebhookSubscription', id);
    return s;
  }

  /** One outbox batch → deliveries; returns the number of events dispatched. */
  async function fanOut(): Promise<number> {
    const nowIso = iso(clock.now());
    const rows = await prisma.$queryRaw<{ id: string }[]>`
      WITH batch AS (
        SELECT id, type FROM outbox_events
         WHERE dispatched_at IS NULL
         ORDER BY seq
         LIMIT ${fanOutBatch}
           FOR UPDATE SKIP LOCKED
      ), created AS (
        INSERT INTO webhook_deliveries (id, event_id, subscription_id, status, attempts, next_attempt_at, created_at)
        SELECT gen_random_uuid()::text, b.id, s.id, 'pending'::"DeliveryStatus", 0,
               (${nowIso}::timestamptz AT TIME ZONE 'UTC'), (${nowIso}::timestamptz AT TIME ZONE 'UTC')
          FROM batch b
          JOIN webhook_subscriptions s
            ON s.active
           AND (b.type = ANY (s.events) OR '*' = ANY (s.events) OR split_part(b.type, '.', 1) || '.*' = ANY (s.events))
        ON CONFLICT (event_id, subscription_id) DO NOTHING
        RETURNING 1
      )
      UPDATE outbox_events o
         SET dispatched_at = (${nowIso}::timestamptz AT TIME ZONE 'UTC')
        FROM batch
       WHERE o.id = batch.id
   RETURNING o.id`;
    if (rows.length) log.debug({ events: rows.length }, 'outbox events fanned out');
    return rows.length;
  }

  /** Claims up to `limit` due deliveries (attempt counted, lease set) with their event and target. */
  async function claimDue(limit: number): Promise<Claimed[]> {
    const now = clock.now();
    const nowIso = iso(now);
    const leaseIso = iso(new Date(now.getTime() + leaseMs));
    return prisma.$queryRaw<Claimed[]>`
      WITH claimed AS (
        UPDATE webhook_deliveries d
           SET attempts = d.attempts + 1, next_attempt_at = (${leaseIso}::timestamptz AT TIME ZONE 'UTC')
         WHERE d.id IN (
           SELECT x.id FROM webhook_deliveries x
            WHERE x.status = 'pending'
              AND x.next_attempt_at <= (${nowIso}::timestamptz AT TIME ZONE 'UTC')
              AND EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.id = x.subscription_id AND s.active)
            ORDER BY x.next_attempt_at
            LIMIT ${limit}
              FOR UPDATE SKIP LOCKED)
        RETURNING d.id, d.attempts, d.event_id, d.subscription_id
      )
      SELECT c.id, c.attempts, c.event_id, e.type, e.subject_id, e.payload, e.created_at, s.url, s.secret, s.format::text AS format
        FROM claimed c
        JOIN outbox_events e ON e.id = c.event_id
        JOIN webhook_subscriptions s ON s.id = c.subscription_id`;
  }

  /** Sends one claimed delivery and records the outcome. */
  async function attempt(c: Claimed): Promise<'delivered' | 'pending' | 'failed'> {
    const event: OutboundEvent = {
      id: c.event_id,
      type: c.type,
      subjectId: c.subject_id,
      // timestamp(3) without time zone holds UTC; the driver reads it as local time
      occurredAt: c.created_at,
      data: (c.payload ?? {}) as Record<string, unknown>,
    };
    const req = buildRequest(event, { url: c.url, secret: c.secret, format: c.format }, clock.now());
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const res = await doFetch(req.url, { method: 'POST', headers: req.headers, body: req.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      statusCode = res.status;
      const verdict = interpretResponse(c.format, res.status, await readCapped(res, MAX_RESPONSE_BYTES));
      if (!verdict.ok) error = verdict.error;
    } catch (err) {
      error = describeError(err, timeoutMs);
    }
    const now = clock.now();
    if (error === null) {
      await prisma.webhookDelivery.updateMany({
        where: { id: c.id, status: 'pending' },
        data: { status: 'delivered', deliveredAt: now, lastStatusCode: statusCode, lastError: null },
      });
      log.debug({ delivery: c.id, event: c.event_id, type: c.type, attempts: c.attempts }, 'webhook delivered');
      return 'delivered';
    }
    const next = afterFailure(c.attempts, policy, now, random());
    await prisma.webhookDelivery.updateMany({
      where: { id: c.id, status: 'pending', attempts: c.attempts },
      data: next.status === 'failed' ? { status: 'failed', lastStatusCode: statusCode, lastError: error } : { nextAttemptAt: next.nextAttemptAt, lastStatusCode: statusCode, lastError: error },
    });
    const fields = { delivery: c.id, event: c.event_id, type: c.type, url: redactUrl(c.url), attempts: c.attempts, error };
    if (next.status === 'failed') log.warn(fields, 'webhook delivery failed for good');
    else log.info({ ...fields, retryInMs: next.delayMs }, 'webhook delivery failed; will retry');
    return next.status;
  }

  /** One batch of due deliveries, sent concurrently; returns how many were attempted. */
  async function deliverDue(): Promise<number> {
    const claimed = await claimDue(deliveryBatch);
    await Promise.all(claimed.map((c) => attempt(c).catch((err: unknown) => log.error({ err, delivery: c.id }, 'recording a webhook delivery failed'))));
    return claimed.length;
  }

  async function getDelivery(id: string) {
    const d = await prisma.webhookDelivery.findUnique({ where: { id }, select: deliverySelect });
    if (!d) throw notFound('WebhookDelivery', id);
    return deliveryView(d);
  }

  // ── worker loop ──────────────────────────────────────────────────────────────────────────────
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  function schedule(ms: number): void {
    timer = setTimeout(() => {
      running = loop().finally(() => {
        running = undefined;
      });
    }, ms);
    timer.unref?.();
  }

  async function loop(): Promise<void> {
    if (stopped) return;
    let busy = false;
    try {
      const dispatched = await fanOut();
      const sent = await deliverDue();
      busy = dispatched >= fanOutBatch || sent >= deliveryBatch;
    } catch (err) {
      log.warn({ err }, 'webhook worker poll failed');
    }
    if (!stopped) schedule(busy ? 0 : deps.pollMs);
  }

  return {
    // ── subscriptions ──
    async list(f: { active?: boolean | undefined; limit: number; offset: number }) {
      const where: Prisma.WebhookSubscriptionWhereInput = f.active === undefined ? {} : { active: f.active };
      const [items, total] = await Promise.all([
        prisma.webhookSubscription.findMany({ where, select: subscriptionSelect, orderBy: { createdAt: 'asc' }, take: f.limit, skip: f.offset }),
        prisma.webhookSubscription.count({ where }),
      ]);
      return { items: items.map(subscriptionView), total };
    },

    async get(id: string) {
      return subscriptionView(await requireSubscription(id));
    },

    /** Creates a subscription; the secret (given or generated) is in this response only. */
    async create(input: SubscriptionInput) {
      const { url } = checkInput(input);
      const secret = input.secret ?? generateSecret();
      const row = await prisma.webhookSubscription.create({
        data: { name: input.name, url: url!, events: [...new Set(input.events)], format: input.format ?? 'json', secret, active: input.active ?? true },
        select: subscriptionSelect,
      });
      log.info({ subscription: row.id, url: redactUrl(row.url), events: row.events, format: row.format }, 'webhook subscription created');
      return { ...subscriptionView(row), secret };
    },

    /** Changes a subscription; a new secret (given or rotated) is returned once. */
    async update(id: string, patch: SubscriptionPatch) {
      await requireSubscription(id);
      const { url } = checkInput(patch);
      if (patch.rotateSecret && patch.secret !== undefined) throw new AppError('validation', 'give either secret or rotateSecret, not both', { field: 'rotateSecret' });
      const secret = patch.rotateSecret ? generateSecret() : patch.secret;
      const row = await prisma.webhookSubscription.update({
        where: { id },
        data: {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(url !== undefined ? { url } : {}),
          ...(patch.events !== undefined ? { events: [...new Set(patch.events)] } : {}),
          ...(patch.format !== undefined ? { format: patch.format } : {}),
          ...(patch.active !== undefined ? { active: patch.active } : {}),
          ...(secret !== undefined ? { secret } : {}),
        },
        select: subscriptionSelect,
      });
      return { ...subscriptionView(row), ...(secret !== undefined ? { secret } : {}) };
    },

    /** Deletes the subscription and its delivery log. */
    async remove(id: string): Promise<void> {
      const { count } = await prisma.webhookSubscription.deleteMany({ where: { id } });
      if (count === 0) throw notFound('WebhookSubscription', id);
    },

    /** Sends a synthetic `webhook.test` event to this subscription now (even if paused) and returns the delivery. */
    async test(id: string) {
      const s = await requireSubscription(id);
      const now = clock.now();
      // the delivery is created already claimed (attempt 1, leased), so the worker leaves it to us
      const delivery = await prisma.$transaction(async (tx) => {
        const event = await tx.outboxEvent.create({
          data: { type: TEST_EVENT_TYPE, subjectId: s.id, payload: { message: `Test of webhook "${s.name}"`, subscriptionId: s.id }, createdAt: now, dispatchedAt: now },
          select: { id: true, type: true, subjectId: true, payload: true, createdAt: true },
        });
        const d = await tx.webhookDelivery.create({
          data: { eventId: event.id, subscriptionId: s.id, attempts: 1, nextAttemptAt: new Date(now.getTime() + leaseMs), createdAt: now },
          select: { id: true },
        });
        return { id: d.id, event };
      });
      await attempt({
        id: delivery.id,
        attempts: 1,
        event_id: delivery.event.id,
        type: delivery.event.type,
        subject_id: delivery.event.subjectId,
        payload: delivery.event.payload,
        created_at: delivery.event.createdAt,
        url: s.url,
        secret: s.secret,
        format: s.format,
      });
      return getDelivery(delivery.id);
    },

    // ── delivery log and outbox ──
    async deliveries(subscriptionId: string, f: { status?: 'pending' | 'delivered' | 'failed' | undefined; eventType?: string | undefined; limit: number; offset: number }) {
      await requireSubscription(subscriptionId);
      const where: Prisma.WebhookDeliveryWhereInput = {
        subscriptionId,
        ...(f.status ? { status: f.status } : {}),
        ...(f.eventType ? { event: { type: f.eventType } } : {}),
      };
      const [items, total] = await Promise.all([
        prisma.webhookDelivery.findMany({ where, select: deliverySelect, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], take: f.limit, skip: f.offset }),
        prisma.webhookDelivery.count({ where }),
      ]);
      return { items: items.map(deliveryView), total };
    },

    getDelivery,

    /** Re-queues a failed (or re-sends a delivered) delivery for one more attempt now; a pending one is already queued (409). */
    async retry(id: string) {
      const d = await prisma.webhookDelivery.findUnique({ where: { id }, select: { status: true, nextAttemptAt: true } });
      if (!d) throw notFound('WebhookDelivery', id);
      if (d.status === 'pending') throw conflict(`delivery ${id} is already queued (next attempt ${d.nextAttemptAt.toISOString()})`, { status: d.status });
      const { count } = await prisma.webhookDelivery.updateMany({
        where: { id, status: d.status },
        data: { status: 'pending', nextAttemptAt: clock.now(), deliveredAt: null },
      });
      if (count !== 1) throw conflict(`delivery ${id} changed concurrently; reload and retry`);
      log.info({ delivery: id, was: d.status }, 'webhook delivery re-queued');
      return getDelivery(id);
    },

    async outbox(f: { type?: string | undefined; subjectId?: string | undefined; dispatched?: boolean | undefined; limit: number; offset: number }) {
      const where: Prisma.OutboxEventWhereInput = {
        ...(f.type ? { type: f.type } : {}),
        ...(f.subjectId ? { subjectId: f.subjectId } : {}),
        ...(f.dispatched === undefined ? {} : f.dispatched ? { dispatchedAt: { not: null } } : { dispatchedAt: null }),
      };
      const [items, total] = await Promise.all([
        prisma.outboxEvent.findMany({
          where,
          select: { id: true, seq: true, type: true, subjectId: true, payload: true, createdAt: true, dispatchedAt: true, _count: { select: { deliveries: true } } },
          orderBy: { seq: 'desc' },
          take: f.limit,
          skip: f.offset,
        }),
        prisma.outboxEvent.count({ where }),
      ]);
      return { items: items.map(({ _count, ...e }) => ({ ...e, deliveries: _count.deliveries })), total };
    },

    // ── worker ──
    fanOut,
    deliverDue,
    /** Fan-out then delivery until nothing is due (tests, one-off runs). */
    async drain(maxRounds = 100): Promise<void> {
      for (let i = 0; i < maxRounds; i++) if ((await fanOut()) + (await deliverDue()) === 0) return;
    },
    start(): void {
      if (!stopped) return;
      stopped = false;
      schedule(0);
      log.info({ pollMs: deps.pollMs, timeoutMs, maxAttempts: policy.maxAttempts }, 'webhook delivery worker started');
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
