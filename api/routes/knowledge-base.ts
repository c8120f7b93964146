/** Fault-code library and knowledge base: CRUD, search, suggestions for a work order, "used" marks. */
import { Type } from 'typebox';
import { FAULT_CODE_PATTERN } from '../../maintenance/knowledge-base.ts';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams, Page, Paging, Uuid } from '../schemas.ts';
import { ArticleBody, ArticlePatch, ArticleSchema, FaultCodeSchema, SuggestionsSchema } from '../work-execution-schemas.ts';

const tags = ['knowledge base'];

export function knowledgeRoutes(app: ApiApp, { knowledge }: ApiDeps): void {
  app.get('/fault-codes', { schema: { tags, summary: 'The fault-code library (E01 power, E02 sensor, …)', response: { 200: Type.Array(FaultCodeSchema) } } }, () => knowledge.listFaultCodes());

  app.post(
    '/fault-codes',
    {
      schema: {
        tags,
        summary: 'Add a fault code to the library (409 when it exists)',
        body: Type.Object(
          {
            code: Type.String({ pattern: FAULT_CODE_PATTERN, description: 'one capital letter and 2–3 digits, e.g. E13, M101' }),
            name: Type.String({ minLength: 1, maxLength: 200 }),
            category: Type.String({ minLength: 1, maxLength: 64 }),
            description: Type.Optional(Type.String({ maxLength: 2000 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: FaultCodeSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await knowledge.createFaultCode(req.body)),
  );

  app.post(
    '/knowledge-articles',
    { schema: { tags, summary: 'Write a knowledge article (a known solution for a fault code and/or asset type)', body: ArticleBody, response: { 201: ArticleSchema, ...errorResponses } } },
    async (req, reply) => reply.status(201).send(await knowledge.createArticle(req.body)),
  );

  app.get(
    '/knowledge-articles',
    {
      schema: {
        tags,
        summary: 'Search the knowledge base: q (words in title, symptoms, tags; ranked), faultCode, assetType',
        querystring: Type.Object({
          q: Type.Optional(Type.String({ maxLength: 500 })),
          faultCode: Type.Optional(Type.String({ maxLength: 16 })),
          assetType: Type.Optional(Type.String({ maxLength: 64 })),
          ...Paging,
        }),
        response: { 200: Page(ArticleSchema), ...errorResponses },
      },
    },
    async (req) => {
      const { items, total } = await knowledge.search(req.query);
      return { items, total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get('/knowledge-articles/:id', { schema: { tags, summary: 'A knowledge article', params: IdParams, response: { 200: ArticleSchema, ...errorResponses } } }, async (req) =>
    knowledge.getArticle(req.params.id),
  );

  app.patch(
    '/knowledge-articles/:id',
    { schema: { tags, summary: 'Update a knowledge article', params: IdParams, body: ArticlePatch, response: { 200: ArticleSchema, ...errorResponses } } },
    async (req) => knowledge.updateArticle(req.params.id, req.body),
  );

  app.delete('/knowledge-articles/:id', { schema: { tags, summary: 'Delete a knowledge article', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } }, async (req, reply) => {
    await knowledge.deleteArticle(req.params.id);
    return reply.status(204).send(null);
  });

  app.post(
    '/knowledge-articles/:id/used',
    {
      schema: {
        tags,
        summary: 'Mark an article as used on a work order: usedCount +1 once per order (a note on the order records it)',
        params: IdParams,
        body: Type.Object({ workOrderId: Uuid, actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ article: ArticleSchema, counted: Type.Boolean({ description: 'false when it was already marked for this order' }) }), ...errorResponses },
      },
    },
    async (req) => knowledge.markUsed(req.params.id, req.body),
  );

  app.get(
    '/work-orders/:id/suggestions',
    {
      schema: {
        tags,
        summary: 'Knowledge articles suggested for a work order, best first, with the score breakdown',
        description: 'Score: fault code (+50 the order\'s, +40 a linked alarm\'s code in the library), asset type (+30), shared words between the order title/description and the article title/symptoms/tags (+5 each, ≤ 25); ties by usedCount.',
        params: IdParams,
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 50, default: 5 }) }),
        response: { 200: SuggestionsSchema, ...errorResponses },
      },
    },
    async (req) => knowledge.suggestions(req.params.id, req.query.limit),
  );
}
