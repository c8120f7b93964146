import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams, Page, Paging, Uuid } from '../schemas.ts';
import { ContractBody, ContractPatch, ContractSchema, contractView, CUSTOMER_TIER, CustomerBody, CustomerSchema, ProjectBody, ProjectPatch, ProjectSchema, projectView } from './customer-schemas.ts';
import { costRoutes } from './costs.ts';
import { priorityRuleRoutes } from './priority-rules.ts';
import { surveyRoutes } from './surveys.ts';

const tags = ['customers'];

/** Customers and their sites, contracts, projects; plus priority rules, CSAT surveys and costs. */
export function customerRoutes(app: ApiApp, deps: ApiDeps): void {
  const { customers } = deps;

  app.post('/customers', { schema: { tags, summary: 'Create a customer', body: CustomerBody, response: { 201: CustomerSchema, ...errorResponses } } }, async (req, reply) =>
    reply.status(201).send(await customers.createCustomer(req.body)),
  );

  app.get(
    '/customers',
    {
      schema: {
        tags,
        summary: 'List customers',
        querystring: Type.Object({ tier: Type.Optional(CUSTOMER_TIER), code: Type.Optional(Type.String({ maxLength: 64 })), ...Paging }),
        response: { 200: Page(CustomerSchema), ...errorResponses },
      },
    },
    async (req) => ({ ...(await customers.listCustomers(req.query)), limit: req.query.limit, offset: req.query.offset }),
  );

  app.get('/customers/:id', { schema: { tags, summary: 'Customer with its sites', params: IdParams, response: { 200: CustomerSchema, ...errorResponses } } }, async (req) =>
    customers.getCustomer(req.params.id),
  );

  app.patch(
    '/customers/:id',
    { schema: { tags, summary: 'Update a customer', params: IdParams, body: Type.Partial(CustomerBody, { additionalProperties: false }), response: { 200: CustomerSchema, ...errorResponses } } },
    async (req) => customers.updateCustomer(req.params.id, req.body),
  );

  app.delete(
    '/customers/:id',
    { schema: { tags, summary: 'Delete a customer without contracts, projects or work orders', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await customers.deleteCustomer(req.params.id);
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/customers/:id/sites',
    {
      schema: {
        tags,
        summary: "Set the customer's sites (replaces the set; sites of another customer → 409)",
        params: IdParams,
        body: Type.Object({ siteIds: Type.Array(Uuid, { maxItems: 1000 }) }, { additionalProperties: false }),
        response: { 200: CustomerSchema, ...errorResponses },
      },
    },
    async (req) => customers.setSites(req.params.id, req.body.siteIds),
  );

  app.post(
    '/contracts',
    {
      schema: {
        tags,
        summary: 'Create a service contract (service level, coverage, SLA targets, value)',
        description: 'endsOn ≥ startsOn; coverage.siteIds must be sites of the customer; SLA targets positive minutes with response ≤ resolution. 400 names the field.',
        body: ContractBody,
        response: { 201: ContractSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(contractView(await customers.createContract(req.body))),
  );

  app.get(
    '/contracts',
    {
      schema: {
        tags,
        summary: 'List contracts',
        querystring: Type.Object({ customerId: Type.Optional(Uuid), active: Type.Optional(Type.Boolean()), ...Paging }),
        response: { 200: Page(ContractSchema), ...errorResponses },
      },
    },
    async (req) => {
      const { items, total } = await customers.listContracts(req.query);
      return { items: items.map(contractView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get('/contracts/:id', { schema: { tags, summary: 'Contract', params: IdParams, response: { 200: ContractSchema, ...errorResponses } } }, async (req) =>
    contractView(await customers.getContract(req.params.id)),
  );

  app.patch(
    '/contracts/:id',
    { schema: { tags, summary: 'Update a contract (same validation as creation)', params: IdParams, body: ContractPatch, response: { 200: ContractSchema, ...errorResponses } } },
    async (req) => contractView(await customers.updateContract(req.params.id, req.body)),
  );

  app.delete(
    '/contracts/:id',
    { schema: { tags, summary: 'Delete a contract without work orders (else set active=false)', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await customers.deleteContract(req.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post('/projects', { schema: { tags, summary: 'Create a project', body: ProjectBody, response: { 201: ProjectSchema, ...errorResponses } } }, async (req, reply) =>
    reply.status(201).send(projectView(await customers.createProject(req.body))),
  );

  app.get(
    '/projects',
    {
      schema: {
        tags,
        summary: 'List projects',
        querystring: Type.Object({ customerId: Type.Optional(Uuid), contractId: Type.Optional(Uuid), ...Paging }),
        response: { 200: Page(ProjectSchema), ...errorResponses },
      },
    },
    async (req) => {
      const { items, total } = await customers.listProjects(req.query);
      return { items: items.map(projectView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get('/projects/:id', { schema: { tags, summary: 'Project', params: IdParams, response: { 200: ProjectSchema, ...errorResponses } } }, async (req) =>
    projectView(await customers.getProject(req.params.id)),
  );

  app.patch(
    '/projects/:id',
    { schema: { tags, summary: 'Update a project', params: IdParams, body: ProjectPatch, response: { 200: ProjectSchema, ...errorResponses } } },
    async (req) => projectView(await customers.updateProject(req.params.id, req.body)),
  );

  app.delete(
    '/projects/:id',
    { schema: { tags, summary: 'Delete a project without work orders', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await customers.deleteProject(req.params.id);
      return reply.status(204).send(null);
    },
  );

  priorityRuleRoutes(app, deps);
  surveyRoutes(app, deps);
  costRoutes(app, deps);
}
