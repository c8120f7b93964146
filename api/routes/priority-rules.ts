import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams, PRIORITY, SEVERITY, Uuid, WO_SOURCE } from '../schemas.ts';
import { EvaluationSchema, PriorityRuleBody, PriorityRulePatch, PriorityRuleSchema } from './customer-schemas.ts';

const tags = ['customers'];

export function priorityRuleRoutes(app: ApiApp, { customers }: ApiDeps): void {
  app.get(
    '/priority-rules',
    { schema: { tags, summary: 'Priority rules in evaluation order (first enabled match wins)', response: { 200: Type.Array(PriorityRuleSchema), ...errorResponses } } },
    async () => customers.listPriorityRules(),
  );

  app.post(
    '/priority-rules',
    {
      schema: {
        tags,
        summary: 'Add a priority rule',
        description:
          'Policy: an explicit priority from a person wins; otherwise the first enabled rule (by position) whose conditions all match; otherwise the cause\'s own priority (rule/PM orders) or medium.',
        body: PriorityRuleBody,
        response: { 201: PriorityRuleSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await customers.createPriorityRule(req.body)),
  );

  app.post(
    '/priority-rules/examples',
    { schema: { tags, summary: 'Seed the example rule set into an empty rule table (409 when rules exist)', response: { 201: Type.Array(PriorityRuleSchema), ...errorResponses } } },
    async (_req, reply) => reply.status(201).send(await customers.seedExamplePriorityRules()),
  );

  app.get(
    '/priority-rules/evaluate',
    {
      schema: {
        tags,
        summary: 'Dry run: which rule, priority, contract and SLA targets an order on this asset would get, and why',
        querystring: Type.Object({
          assetId: Uuid,
          severity: Type.Optional(SEVERITY),
          source: Type.Optional(WO_SOURCE),
          priority: Type.Optional(PRIORITY),
          at: Type.Optional(Type.String({ format: 'date-time', description: 'request time (default now): decides which contract is in force' })),
        }),
        response: { 200: EvaluationSchema, ...errorResponses },
      },
    },
    async (req) => customers.evaluate({ ...req.query, at: req.query.at ? new Date(req.query.at) : undefined }),
  );

  app.patch(
    '/priority-rules/:id',
    { schema: { tags, summary: 'Update a priority rule', params: IdParams, body: PriorityRulePatch, response: { 200: PriorityRuleSchema, ...errorResponses } } },
    async (req) => customers.updatePriorityRule(req.params.id, req.body),
  );

  app.delete(
    '/priority-rules/:id',
    { schema: { tags, summary: 'Delete a priority rule', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await customers.deletePriorityRule(req.params.id);
      return reply.status(204).send(null);
    },
  );
}
