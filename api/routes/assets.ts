import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { AssetBody, AssetSchema, ASSET_STATUS, Code, errorResponses, IdParams, Page, Paging, SiteSchema, Uuid } from '../schemas.ts';
import { assetView } from '../views.ts';

export function assetRoutes(app: ApiApp, { assets, onAssetsChanged }: ApiDeps): void {
  app.get('/sites', { schema: { tags: ['assets'], summary: 'List sites', response: { 200: Type.Array(SiteSchema) } } }, () => assets.listSites());

  app.post(
    '/sites',
    {
      schema: {
        tags: ['assets'],
        summary: 'Create a site',
        body: Type.Object({ code: Code, name: Type.String({ minLength: 1, maxLength: 200 }), address: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
        response: { 201: SiteSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await assets.createSite(req.body)),
  );

  app.get(
    '/assets',
    {
      schema: {
        tags: ['assets'],
        summary: 'List assets',
        querystring: Type.Object({ siteId: Type.Optional(Uuid), type: Type.Optional(Type.String()), status: Type.Optional(ASSET_STATUS), code: Type.Optional(Type.String()), ...Paging }),
        response: { 200: Page(AssetSchema), ...errorResponses },
      },
    },
    async (req) => {
      const { items, total } = await assets.list(req.query);
      return { items: items.map(assetView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.post(
    '/assets',
    { schema: { tags: ['assets'], summary: 'Create an asset', body: AssetBody, response: { 201: AssetSchema, ...errorResponses } } },
    async (req, reply) => {
      const a = await assets.create(req.body);
      onAssetsChanged();
      return reply.status(201).send(assetView(a));
    },
  );

  app.get(
    '/assets/:id',
    { schema: { tags: ['assets'], summary: 'Asset detail with its meters', params: IdParams, response: { 200: AssetSchema, ...errorResponses } } },
    async (req) => assetView(await assets.get(req.params.id)),
  );

  app.patch(
    '/assets/:id',
    {
      schema: { tags: ['assets'], summary: 'Update an asset', params: IdParams, body: Type.Partial(AssetBody, { additionalProperties: false }), response: { 200: AssetSchema, ...errorResponses } },
    },
    async (req) => {
      const a = await assets.update(req.params.id, req.body);
      onAssetsChanged();
      return assetView(a);
    },
  );

  app.delete(
    '/assets/:id',
    { schema: { tags: ['assets'], summary: 'Delete a never-used asset (retire assets with history)', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await assets.remove(req.params.id);
      onAssetsChanged();
      return reply.status(204).send(null);
    },
  );
}
