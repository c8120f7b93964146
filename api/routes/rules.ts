import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams, RULE_KIND, RuleBody, RuleSchema, Timestamp, TimestampOut, Uuid } from '../schemas.ts';

export function ruleRoutes(app: ApiApp, { rules, telemetry }: ApiDeps): void {
  app.get(
    '/rules',
    {
      schema: {
        tags: ['rules'],
        summary: 'List rules',
        querystring: Type.Object({ assetId: Type.Optional(Uuid), kind: Type.Optional(RULE_KIND), enabled: Type.Optional(Type.Boolean()) }),
        response: { 200: Type.Array(RuleSchema), ...errorResponses },
      },
    },
    (req) => rules.list(req.query),
  );
  app.post(
    '/rules',
    { schema: { tags: ['rules'], summary: 'Create a rule (definition validated per kind)', body: RuleBody, response: { 201: RuleSchema, ...errorResponses } } },
    async (req, reply) => reply.status(201).send(await rules.create(req.body)),
  );
  app.get('/rules/:id', { schema: { tags: ['rules'], params: IdParams, response: { 200: RuleSchema, ...errorResponses } } }, (req) => rules.get(req.params.id));
  app.patch(
    '/rules/:id',
    {
      schema: { tags: ['rules'], summary: 'Update a rule (bumps version)', params: IdParams, body: Type.Partial(RuleBody, { additionalProperties: false }), response: { 200: RuleSchema, ...errorResponses } },
    },
    (req) => rules.update(req.params.id, req.body),
  );
  app.post(
    '/rules/backtest',
    {
      schema: {
        tags: ['rules'],
        summary: 'Dry run: the work orders and alarms a saved or draft rule would have produced from stored telemetry (nothing is created)',
        body: Type.Object(
          {
            ruleId: Type.Optional(Uuid),
            draft: Type.Optional(
              Type.Object({ kind: RULE_KIND, name: Type.Optional(Type.String({ maxLength: 200 })), definition: Type.Record(Type.String(), Type.Unknown()) }, { additionalProperties: false }),
            ),
            assetId: Type.Optional(Uuid),
            assetType: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            from: Timestamp,
            to: Timestamp,
            maxOrders: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            rule: Type.Object({ id: Type.String(), name: Type.String(), version: Type.Integer(), kind: Type.String() }),
            from: TimestampOut,
            to: TimestampOut,
            assets: Type.Integer(),
            readings: Type.Integer(),
            workOrders: Type.Array(
              Type.Object({
                assetCode: Type.String(),
                dedupeKey: Type.String(),
                title: Type.String(),
                priority: Type.String(),
                requestedAt: TimestampOut,
                alarmClearedAt: Type.Union([TimestampOut, Type.Null()]),
                explanation: Type.Unknown(),
              }),
            ),
            alarms: Type.Object({ raised: Type.Integer(), cleared: Type.Integer() }),
            assumptions: Type.Array(Type.String()),
            durationMs: Type.Integer(),
          }),
          ...errorResponses,
        },
      },
    },
    (req) => rules.backtest({ ...req.body, from: new Date(req.body.from), to: new Date(req.body.to) }, telemetry),
  );
  app.get(
    '/rules/:id/versions',
    {
      schema: {
        tags: ['rules'],
        summary: 'Every version of a rule, newest first (work-order explanations cite ruleVersion)',
        params: IdParams,
        response: {
          200: Type.Array(
            Type.Object({
              version: Type.Integer(),
              name: Type.String(),
              enabled: Type.Boolean(),
              assetId: Type.Union([Uuid, Type.Null()]),
              assetType: Type.Union([Type.String(), Type.Null()]),
              definition: Type.Unknown(),
              createdAt: TimestampOut,
            }),
          ),
          ...errorResponses,
        },
      },
    },
    (req) => rules.versions(req.params.id),
  );
  app.delete(
    '/rules/:id',
    { schema: { tags: ['rules'], params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await rules.remove(req.params.id);
      return reply.status(204).send(null);
    },
  );
}
