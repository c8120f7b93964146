import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import {
  AreaBody,
  AreaSchema,
  AssetBody,
  AssetHistorySchema,
  AssetPatchBody,
  AssetSchema,
  AssetStatusBody,
  AssetTreeSchema,
  ASSET_CRITICALITY,
  ASSET_STATUS,
  Code,
  DowntimeReportSchema,
  DowntimeSchema,
  errorResponses,
  IdParams,
  Page,
  Paging,
  SiteSchema,
  Timestamp,
  Uuid,
} from '../schemas.ts';
import { assetView } from '../views.ts';

const tags = ['assets'];
const date = (s: string | undefined): Date | undefined => (s === undefined ? undefined : new Date(s));

export function assetRoutes(app: ApiApp, { assets, onAssetsChanged }: ApiDeps): void {
  app.get('/sites', { schema: { tags, summary: 'List sites', response: { 200: Type.Array(SiteSchema) } } }, () => assets.listSites());

  app.post(
    '/sites',
    {
      schema: {
        tags,
        summary: 'Create a site',
        body: Type.Object({ code: Code, name: Type.String({ minLength: 1, maxLength: 200 }), address: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
        response: { 201: SiteSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await assets.createSite(req.body)),
  );

  app.get(
    '/sites/:id/areas',
    { schema: { tags, summary: 'Areas and lines of a site, in tree order (path, depth)', params: IdParams, response: { 200: Type.Array(AreaSchema), ...errorResponses } } },
    async (req) => assets.listAreas(req.params.id),
  );

  app.post(
    '/sites/:id/areas',
    { schema: { tags, summary: 'Add an area or line to a site (optionally inside another area)', params: IdParams, body: AreaBody, response: { 201: AreaSchema, ...errorResponses } } },
    async (req, reply) => reply.status(201).send(await assets.createArea(req.params.id, req.body)),
  );

  app.get(
    '/assets',
    {
      config: { readCache: { tables: ['assets', 'asset_activity', 'sites', 'areas'] } },
      schema: {
        tags,
        summary: 'List assets',
        querystring: Type.Object({
          siteId: Type.Optional(Uuid),
          customerId: Type.Optional(Uuid),
          areaId: Type.Optional(Uuid),
          parentId: Type.Optional(Uuid),
          type: Type.Optional(Type.String()),
          status: Type.Optional(ASSET_STATUS),
          criticality: Type.Optional(ASSET_CRITICALITY),
          code: Type.Optional(Type.String()),
          warrantyEndsWithinDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650, description: 'non-retired assets whose warranty ends between today and today + N days' })),
          ...Paging,
        }),
        response: { 200: Page(AssetSchema), ...errorResponses },
      },
    },
    async (req) => {
      const { items, total } = await assets.list(req.query);
      return { items: items.map(assetView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get(
    '/assets/code-preview',
    {
      schema: {
        tags,
        summary: 'The asset code the naming convention makes of these fields (400 naming a missing field)',
        querystring: Type.Object({
          type: Type.Optional(Type.String({ maxLength: 64 })),
          brand: Type.Optional(Type.String({ maxLength: 100 })),
          model: Type.Optional(Type.String({ maxLength: 100 })),
          serial: Type.Optional(Type.String({ maxLength: 100 })),
          siteId: Type.Optional(Uuid),
        }),
        response: { 200: Type.Object({ code: Type.String(), convention: Type.String(), mode: Type.String() }), ...errorResponses },
      },
    },
    async (req) => assets.codePreview(req.query),
  );

  app.post(
    '/assets/warranty-sweep',
    {
      schema: {
        tags,
        summary: 'Run the warranty alert sweep now (it also runs hourly): one warranty_expiring notification per asset and warranty end',
        response: { 200: Type.Object({ notified: Type.Integer({ description: 'new notifications' }), due: Type.Integer({ description: 'assets in the alert window' }) }), ...errorResponses },
      },
    },
    async () => assets.sweepWarranty(),
  );

  app.post(
    '/assets',
    { schema: { tags, summary: 'Create an asset', body: AssetBody, response: { 201: AssetSchema, ...errorResponses } } },
    async (req, reply) => {
      const a = await assets.create(req.body);
      onAssetsChanged();
      return reply.status(201).send(assetView(a));
    },
  );

  app.get(
    '/assets/:id',
    {
      config: { readCache: { tables: ['asset_activity', 'meters', 'sites', 'areas'], byId: ['assets', 'asset_downtimes'] } },
      schema: { tags, summary: 'Asset detail with its meters and open downtime', params: IdParams, response: { 200: AssetSchema, ...errorResponses } },
    },
    async (req) => assetView(await assets.get(req.params.id)),
  );

  app.patch(
    '/assets/:id',
    {
      schema: {
        tags,
        summary: 'Update an asset (history records before/after; a status goes through the lifecycle like POST /assets/{id}/status)',
        params: IdParams,
        body: AssetPatchBody,
        response: { 200: AssetSchema, ...errorResponses },
      },
    },
    async (req) => {
      const a = await assets.update(req.params.id, req.body);
      onAssetsChanged();
      return assetView(a);
    },
  );

  app.delete(
    '/assets/:id',
    { schema: { tags, summary: 'Delete a never-used asset (retire assets with history)', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await assets.remove(req.params.id);
      onAssetsChanged();
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/assets/:id/status',
    {
      schema: {
        tags,
        summary: 'Move an asset: procured → installed → in_service ⇄ under_repair (opens/ends downtime); any → retired (final). 409 lists the allowed next statuses',
        params: IdParams,
        body: AssetStatusBody,
        response: { 200: AssetSchema, ...errorResponses },
      },
    },
    async (req) => assetView(await assets.changeStatus(req.params.id, req.body)),
  );

  app.get(
    '/assets/:id/tree',
    {
      schema: {
        tags,
        summary: 'The asset with its components, recursively',
        params: IdParams,
        querystring: Type.Object({ depth: Type.Integer({ minimum: 1, maximum: 10, default: 5 }) }),
        response: { 200: AssetTreeSchema, ...errorResponses },
      },
    },
    async (req) => assets.tree(req.params.id, req.query.depth),
  );

  app.get(
    '/assets/:id/history',
    {
      schema: {
        tags,
        summary: 'Asset history, newest first: lifecycle events, work orders, alarms, downtime; with totals',
        params: IdParams,
        querystring: Type.Object({ ...Paging }),
        response: { 200: AssetHistorySchema, ...errorResponses },
      },
    },
    async (req) => assets.history(req.params.id, req.query),
  );

  app.get(
    '/assets/:id/downtimes',
    {
      schema: {
        tags,
        summary: 'Downtime periods overlapping [from, to] (default: the last 30 days), hours down in the window and availability',
        params: IdParams,
        querystring: Type.Object({ from: Type.Optional(Timestamp), to: Type.Optional(Timestamp) }),
        response: { 200: DowntimeReportSchema, ...errorResponses },
      },
    },
    async (req) => assets.downtimes(req.params.id, { from: date(req.query.from), to: date(req.query.to) }),
  );

  app.post(
    '/assets/:id/downtimes',
    {
      schema: {
        tags,
        summary: 'Start a downtime (409 while one is open)',
        params: IdParams,
        body: Type.Object(
          { reason: Type.String({ minLength: 1, maxLength: 500 }), startedAt: Type.Optional(Timestamp), workOrderId: Type.Optional(Uuid) },
          { additionalProperties: false },
        ),
        response: { 201: DowntimeSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await assets.startDowntime(req.params.id, { ...req.body, startedAt: date(req.body.startedAt) })),
  );

  app.post(
    '/assets/:id/downtimes/:downtimeId/end',
    {
      schema: {
        tags,
        summary: 'End a downtime (default: now)',
        params: Type.Object({ id: Uuid, downtimeId: Uuid }),
        body: Type.Optional(Type.Object({ endedAt: Type.Optional(Timestamp) }, { additionalProperties: false })),
        response: { 200: DowntimeSchema, ...errorResponses },
      },
    },
    async (req) => assets.endDowntime(req.params.id, req.params.downtimeId, { endedAt: date(req.body?.endedAt) }),
  );

  app.get(
    '/assets/:id/qr.svg',
    {
      schema: {
        tags,
        summary: 'QR code (SVG) of the asset; it encodes "om:asset:<CODE>"',
        params: IdParams,
        response: { 200: Type.String({ description: 'image/svg+xml' }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const qr = await assets.qrSvg(req.params.id);
      return reply.type('image/svg+xml').header('x-qr-payload', qr.payload).send(qr.svg);
    },
  );

  app.get(
    '/assets/:id/qr.png',
    {
      schema: {
        tags,
        summary: 'QR code (PNG) of the asset; it encodes "om:asset:<CODE>"',
        params: IdParams,
        querystring: Type.Object({ size: Type.Integer({ minimum: 64, maximum: 2048, default: 256, description: 'width in pixels' }) }),
        response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'image/png' }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const qr = await assets.qrPng(req.params.id, req.query.size);
      return reply.type('image/png').header('x-qr-payload', qr.payload).send(qr.png);
    },
  );
}
