import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { DateOnly, errorResponses, IdParams } from '../schemas.ts';
import { ContractProfitabilitySchema, ProjectProfitabilitySchema, WorkOrderCostSchema } from './customer-schemas.ts';

const tags = ['costs'];

export function costRoutes(app: ApiApp, { costs }: ApiDeps): void {
  app.get(
    '/work-orders/:id/costs',
    {
      schema: {
        tags,
        summary: 'Cost roll-up of a work order: labour and travel (work logs), parts (issued − returned × unit cost)',
        params: IdParams,
        response: { 200: WorkOrderCostSchema, ...errorResponses },
      },
    },
    async (req) => costs.workOrder(req.params.id),
  );

  app.get(
    '/contracts/:id/profitability',
    {
      schema: {
        tags,
        summary: 'Contract profitability: revenue (value, pro-rated to the window) − cost of its orders',
        description: 'With from and to (both, whole days, inclusive) only orders requested in the window count, and the revenue is pro-rated (see revenueBasis).',
        params: IdParams,
        querystring: Type.Object({ from: Type.Optional(DateOnly), to: Type.Optional(DateOnly) }),
        response: { 200: ContractProfitabilitySchema, ...errorResponses },
      },
    },
    async (req) => costs.contract(req.params.id, req.query),
  );

  app.get(
    '/projects/:id/profitability',
    {
      schema: { tags, summary: 'Project profitability: revenue − cost of its orders; budget used %', params: IdParams, response: { 200: ProjectProfitabilitySchema, ...errorResponses } },
    },
    async (req) => costs.project(req.params.id),
  );
}
