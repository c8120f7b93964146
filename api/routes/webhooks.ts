import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams, Nullable, Page, Paging, TimestampOut, Uuid } from '../schemas.ts';
import { EVENT_TYPES } from '../../integrations/outbox.ts';

const tags = ['webhooks'];

const FORMAT = Type.Union([Type.Literal('json'), Type.Literal('dingtalk'), Type.Literal('wecom')], {
  description: 'json: {id, type, occurredAt, data} signed with X-OM-Signature; dingtalk / wecom: robot markdown messages',
});
const DELIVERY_STATUS = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]);
const EVENTS = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  minItems: 1,
  maxItems: 32,
  description: `event types (${EVENT_TYPES.join(', ')}), "<prefix>.*" (e.g. work_order.*) or "*"`,
});

const SubscriptionSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  url: Type.String(),
  format: FORMAT,
  events: Type.Array(Type.String()),
  active: Type.Boolean(),
  secretHint: Type.String({ description: 'last characters of the secret; the whole secret is shown only when it is set' }),
  createdAt: TimestampOut,
});
const SubscriptionWithSecret = Type.Intersect([
  SubscriptionSchema,
  Type.Object({ secret: Type.String({ description: 'HMAC key of X-OM-Signature (DingTalk: the robot\'s "SEC…" signing secret). Shown only now.' }) }),
]);
const SubscriptionMaybeSecret = Type.Intersect([SubscriptionSchema, Type.Object({ secret: Type.Optional(Type.String({ description: 'the new secret, when this change set one' })) })]);

const DeliverySchema = Type.Object({
  id: Uuid,
  eventId: Type.String({ description: 'the outbox event id = X-OM-Event-Id (receivers deduplicate on it)' }),
  eventType: Type.String(),
  subjectId: Nullable(Type.String()),
  occurredAt: TimestampOut,
  subscriptionId: Uuid,
  status: DELIVERY_STATUS,
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(TimestampOut),
  lastStatusCode: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  deliveredAt: Nullable(TimestampOut),
  createdAt: TimestampOut,
});

const OutboxEventSchema = Type.Object({
  id: Type.String(),
  seq: Type.Integer(),
  type: Type.String(),
  subjectId: Nullable(Type.String()),
  payload: Type.Unknown(),
  createdAt: TimestampOut,
  dispatchedAt: Nullable(TimestampOut),
  deliveries: Type.Integer({ description: 'deliveries created for it (one per matching subscription)' }),
});

const url = Type.String({ minLength: 1, maxLength: 2000, description: 'http(s); no user:password@ in it' });
const secret = Type.String({ minLength: 1, maxLength: 200 });

export function webhookRoutes(app: ApiApp, { webhooks }: ApiDeps): void {
  app.get(
    '/webhooks',
    {
      schema: {
        tags,
        summary: 'Webhook subscriptions',
        querystring: Type.Object({ active: Type.Optional(Type.Boolean()), ...Paging }),
        response: { 200: Page(SubscriptionSchema), ...errorResponses },
      },
    },
    async (req) => ({ ...(await webhooks.list(req.query)), limit: req.query.limit, offset: req.query.offset }),
  );

  app.post(
    '/webhooks',
    {
      schema: {
        tags,
        summary: 'Subscribe a URL to events; the secret (generated unless given) is in this response only',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            url,
            events: EVENTS,
            format: Type.Optional(FORMAT),
            secret: Type.Optional(secret),
            active: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: SubscriptionWithSecret, ...errorResponses },
      },
    },
    async (req, reply) => reply.code(201).send(await webhooks.create(req.body)),
  );

  app.get(
    '/webhooks/:id',
    { schema: { tags, summary: 'One subscription', params: IdParams, response: { 200: SubscriptionSchema, ...errorResponses } } },
    async (req) => webhooks.get(req.params.id),
  );

  app.patch(
    '/webhooks/:id',
    {
      schema: {
        tags,
        summary: 'Change a subscription (active: false pauses delivery; rotateSecret: a new generated secret, shown once)',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            url: Type.Optional(url),
            events: Type.Optional(EVENTS),
            format: Type.Optional(FORMAT),
            secret: Type.Optional(secret),
            rotateSecret: Type.Optional(Type.Boolean()),
            active: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: SubscriptionMaybeSecret, ...errorResponses },
      },
    },
    async (req) => webhooks.update(req.params.id, req.body),
  );

  app.delete(
    '/webhooks/:id',
    { schema: { tags, summary: 'Delete a subscription and its delivery log', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await webhooks.remove(req.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/webhooks/:id/test',
    {
      schema: {
        tags,
        summary: 'Send a synthetic webhook.test event to this subscription now; returns the delivery (status, code, error)',
        params: IdParams,
        response: { 200: DeliverySchema, ...errorResponses },
      },
    },
    async (req) => webhooks.test(req.params.id),
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        summary: 'Delivery log of a subscription (newest first)',
        params: IdParams,
        querystring: Type.Object({ status: Type.Optional(DELIVERY_STATUS), eventType: Type.Optional(Type.String({ maxLength: 64 })), ...Paging }),
        response: { 200: Page(DeliverySchema), ...errorResponses },
      },
    },
    async (req) => ({ ...(await webhooks.deliveries(req.params.id, req.query)), limit: req.query.limit, offset: req.query.offset }),
  );

  app.post(
    '/webhook-deliveries/:id/retry',
    {
      schema: {
        tags,
        summary: 'Re-queue a failed (or re-send a delivered) delivery: one more attempt now (409 when it is still pending)',
        params: IdParams,
        response: { 200: DeliverySchema, ...errorResponses },
      },
    },
    async (req) => webhooks.retry(req.params.id),
  );

  app.get(
    '/outbox',
    {
      schema: {
        tags,
        summary: 'Outbox events (newest first): every event recorded with its change, and whether it was fanned out',
        querystring: Type.Object({
          type: Type.Optional(Type.String({ maxLength: 64 })),
          subjectId: Type.Optional(Type.String({ maxLength: 64 })),
          dispatched: Type.Optional(Type.Boolean()),
          ...Paging,
        }),
        response: { 200: Page(OutboxEventSchema), ...errorResponses },
      },
    },
    async (req) => ({ ...(await webhooks.outbox(req.query)), limit: req.query.limit, offset: req.query.offset }),
  );
}
