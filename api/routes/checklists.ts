import { Type } from 'typebox';
import type { ItemSpec } from '../../maintenance/checklist-rules.ts';
import type { ChecklistItemRow } from '../../maintenance/checklists.ts';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams, Page, Paging, Uuid } from '../schemas.ts';
import { AdHocItemBody, ChecklistItemSchema, ChecklistSchema, ItemUpdateBody, TemplateBody, TemplatePatch, TemplateSchema } from './pm-schemas.ts';

const tags = ['checklists'];

type Kind = ItemSpec['kind'];
const templateView = <T extends { items: unknown }>(t: T) => {
  const { items, ...rest } = t;
  return { ...rest, items: items as ItemSpec[] };
};
const itemView = (i: ChecklistItemRow) => ({ ...i, kind: i.kind as Kind });
const checklistView = <T extends { items: ChecklistItemRow[] }>(c: T) => {
  const { items, ...rest } = c;
  return { ...rest, items: items.map(itemView) };
};

/** Checklist templates and work-order checklists (registered by pmRoutes). */
export function checklistRoutes(app: ApiApp, { checklists }: ApiDeps): void {
  app.post(
    '/checklist-templates',
    { schema: { tags, summary: 'Create a checklist template (items: check | number(min, max, unit) | text | choice(options))', body: TemplateBody, response: { 201: TemplateSchema, ...errorResponses } } },
    async (req, reply) => reply.status(201).send(templateView(await checklists.createTemplate(req.body))),
  );

  app.get(
    '/checklist-templates',
    {
      schema: {
        tags,
        summary: 'List checklist templates',
        querystring: Type.Object({ assetType: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), ...Paging }),
        response: { 200: Page(TemplateSchema), ...errorResponses },
      },
    },
    async (req) => {
      const { items, total } = await checklists.listTemplates(req.query);
      return { items: items.map(templateView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get('/checklist-templates/:id', { schema: { tags, summary: 'Get a checklist template', params: IdParams, response: { 200: TemplateSchema, ...errorResponses } } }, async (req) =>
    templateView(await checklists.getTemplate(req.params.id)),
  );

  const update = { schema: { tags, summary: 'Edit a checklist template (bumps its version; orders keep the items they were given)', params: IdParams, body: TemplatePatch, response: { 200: TemplateSchema, ...errorResponses } } };
  app.patch('/checklist-templates/:id', update, async (req) => templateView(await checklists.updateTemplate(req.params.id, req.body)));
  app.put('/checklist-templates/:id', update, async (req) => templateView(await checklists.updateTemplate(req.params.id, req.body)));

  app.delete(
    '/checklist-templates/:id',
    { schema: { tags, summary: 'Delete a checklist template (plans using it lose it; orders keep their items)', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await checklists.deleteTemplate(req.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/work-orders/:id/checklist',
    { schema: { tags, summary: 'The order\'s checklist with progress (done / required counts, missing required items)', params: IdParams, response: { 200: ChecklistSchema, ...errorResponses } } },
    async (req) => checklistView(await checklists.checklist(req.params.id)),
  );

  app.post(
    '/work-orders/:id/checklist',
    {
      schema: {
        tags,
        summary: 'Apply a template to an order (adds the keys it does not have; idempotent); 409 once completed',
        params: IdParams,
        body: Type.Object({ templateId: Uuid }, { additionalProperties: false }),
        response: { 200: ChecklistSchema, ...errorResponses },
      },
    },
    async (req) => checklistView(await checklists.applyTemplate(req.params.id, req.body.templateId)),
  );

  app.post(
    '/work-orders/:id/checklist/items',
    { schema: { tags, summary: 'Add an ad-hoc item at the end of the checklist; 409 when the key exists or the order is completed', params: IdParams, body: AdHocItemBody, response: { 201: ChecklistItemSchema, ...errorResponses } } },
    async (req, reply) => reply.status(201).send(itemView(await checklists.addItem(req.params.id, req.body))),
  );

  app.put(
    '/work-orders/:id/checklist/:key',
    {
      schema: {
        tags,
        summary: 'Record an item: done, value (checked by kind; numbers outside min/max are flagged outOfRange), note; 409 once completed',
        params: Type.Object({ id: Uuid, key: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: ItemUpdateBody,
        response: { 200: ChecklistItemSchema, ...errorResponses },
      },
    },
    async (req) => itemView(await checklists.updateItem(req.params.id, req.params.key, req.body)),
  );
}
