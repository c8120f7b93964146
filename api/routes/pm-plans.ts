import { Type } from 'typebox';
import type { PmPlanRow } from '../../maintenance/pm-plans.ts';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams, Page, Paging } from '../schemas.ts';
import { checklistRoutes } from './checklists.ts';
import { ForecastQuery, ForecastSchema, PmPlanBody, PmPlanListQuery, PmPlanPatch, PmPlanSchema, PmRunResult, PmStatusSchema } from './pm-schemas.ts';

const tags = ['pm plans'];

const pmPlanView = (p: PmPlanRow) => ({
  ...p,
  tasks: p.tasks as { key: string; label: string; required: boolean }[],
  parts: p.parts.map((x) => ({ partId: x.partId, partCode: x.part.code, partName: x.part.name, quantity: x.quantity })),
});

/** Preventive-maintenance plans (CRUD, run, status, forecast) and checklists. */
export function pmRoutes(app: ApiApp, deps: ApiDeps): void {
  const { pmPlans } = deps;

  app.post(
    '/pm-plans',
    {
      schema: {
        tags,
        summary: 'Create a PM plan for one asset or every asset of a type (calendar, meter or whichever first)',
        body: PmPlanBody,
        response: { 201: PmPlanSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(pmPlanView(await pmPlans.create(req.body))),
  );

  app.get(
    '/pm-plans',
    { schema: { tags, summary: 'List PM plans', querystring: Type.Object({ ...PmPlanListQuery.properties, ...Paging }), response: { 200: Page(PmPlanSchema), ...errorResponses } } },
    async (req) => {
      const { items, total } = await pmPlans.list(req.query);
      return { items: items.map(pmPlanView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get(
    '/pm-plans/forecast',
    {
      schema: {
        tags,
        summary: 'Upcoming PM work in a window (default now … +90 days): estimated due dates, hours and parts totals',
        querystring: ForecastQuery,
        response: { 200: ForecastSchema, ...errorResponses },
      },
    },
    async (req) => pmPlans.forecast(req.query),
  );

  app.post(
    '/pm-plans/run',
    { schema: { tags: ['pm plans', 'ops'], summary: 'Generate the PM orders that are due now (what the periodic tick does; idempotent)', response: { 200: PmRunResult, ...errorResponses } } },
    async () => pmPlans.tick(),
  );

  app.get('/pm-plans/:id', { schema: { tags, summary: 'Get a PM plan', params: IdParams, response: { 200: PmPlanSchema, ...errorResponses } } }, async (req) =>
    pmPlanView(await pmPlans.get(req.params.id)),
  );

  app.get(
    '/pm-plans/:id/status',
    { schema: { tags, summary: 'Where the plan stands on each asset in scope: next due date / reading, pending order, due now', params: IdParams, response: { 200: Type.Array(PmStatusSchema), ...errorResponses } } },
    async (req) => pmPlans.status(req.params.id),
  );

  const update = {
    schema: { tags, summary: 'Change a PM plan (partial; parts, when given, replace the list)', params: IdParams, body: PmPlanPatch, response: { 200: PmPlanSchema, ...errorResponses } },
  };
  app.patch('/pm-plans/:id', update, async (req) => pmPlanView(await pmPlans.update(req.params.id, req.body)));
  app.put('/pm-plans/:id', update, async (req) => pmPlanView(await pmPlans.update(req.params.id, req.body)));

  app.delete(
    '/pm-plans/:id',
    { schema: { tags, summary: 'Delete a PM plan (its orders stay; to pause it, PATCH enabled=false)', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await pmPlans.remove(req.params.id);
      return reply.status(204).send(null);
    },
  );

  checklistRoutes(app, deps);
}
