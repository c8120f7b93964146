import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import {
  Code,
  errorResponses,
  IdParams,
  MovementBody,
  MovementSchema,
  Page,
  PartBody,
  PartSchema,
  Paging,
  PR_STATUS,
  PurchaseRequestSchema,
  StockSchema,
  Uuid,
  WAREHOUSE_KIND,
  WarehouseBody,
  WarehouseSchema,
} from '../schemas.ts';
import { partView, purchaseRequestView } from '../views.ts';

const tags = ['inventory'];

export function inventoryRoutes(app: ApiApp, { inventory }: ApiDeps): void {
  app.post('/parts', { schema: { tags, summary: 'Add a part to the catalogue', body: PartBody, response: { 201: PartSchema, ...errorResponses } } }, async (req, reply) =>
    reply.status(201).send(partView(await inventory.createPart(req.body))),
  );

  app.get(
    '/parts',
    { schema: { tags, summary: 'List the parts catalogue', querystring: Type.Object({ code: Type.Optional(Code), ...Paging }), response: { 200: Page(PartSchema), ...errorResponses } } },
    async (req) => {
      const { items, total } = await inventory.listParts(req.query);
      return { items: items.map(partView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.post(
    '/warehouses',
    { schema: { tags, summary: 'Create a warehouse (site store, central store or engineer\'s van)', body: WarehouseBody, response: { 201: WarehouseSchema, ...errorResponses } } },
    async (req, reply) => reply.status(201).send(await inventory.createWarehouse(req.body)),
  );

  app.get(
    '/warehouses',
    { schema: { tags, summary: 'List warehouses', querystring: Type.Object({ kind: Type.Optional(WAREHOUSE_KIND) }), response: { 200: Type.Array(WarehouseSchema), ...errorResponses } } },
    async (req) => inventory.listWarehouses(req.query),
  );

  app.post(
    '/stock/movements',
    {
      schema: {
        tags,
        summary: 'Post a stock movement (receipt, issue, transfer, adjustment, return); 409 when it would make stock negative',
        body: MovementBody,
        response: { 201: Type.Object({ movements: Type.Array(MovementSchema), purchaseRequested: Type.Boolean() }), ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await inventory.move(req.body)),
  );

  app.get(
    '/stock',
    {
      schema: {
        tags,
        summary: 'Stock balances per part and warehouse',
        querystring: Type.Object({ partId: Type.Optional(Uuid), warehouseId: Type.Optional(Uuid) }),
        response: { 200: Type.Array(StockSchema), ...errorResponses },
      },
    },
    async (req) => inventory.stock(req.query),
  );

  app.get(
    '/parts/:id/ledger',
    {
      schema: {
        tags,
        summary: 'Movement ledger of a part (newest first)',
        params: IdParams,
        querystring: Type.Object({ warehouseId: Type.Optional(Uuid), ...Paging }),
        response: { 200: Page(MovementSchema), ...errorResponses },
      },
    },
    async (req) => {
      const { items, total } = await inventory.ledger({ partId: req.params.id, ...req.query });
      return { items, total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get(
    '/purchase-requests',
    {
      schema: {
        tags,
        summary: 'List purchase requests (newest first)',
        querystring: Type.Object({ status: Type.Optional(PR_STATUS), partId: Type.Optional(Uuid), warehouseId: Type.Optional(Uuid), ...Paging }),
        response: { 200: Page(PurchaseRequestSchema), ...errorResponses },
      },
    },
    async (req) => {
      const { items, total } = await inventory.listPurchaseRequests(req.query);
      return { items: items.map(purchaseRequestView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.post(
    '/purchase-requests/:id/transitions',
    {
      schema: {
        tags,
        summary: 'Move a purchase request: open → ordered → received (posts a receipt) | cancelled',
        params: IdParams,
        body: Type.Object(
          {
            to: Type.Union([Type.Literal('ordered'), Type.Literal('received'), Type.Literal('cancelled')]),
            note: Type.Optional(Type.String({ maxLength: 2000 })),
            actor: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: PurchaseRequestSchema, ...errorResponses },
      },
    },
    async (req) => purchaseRequestView(await inventory.transitionPurchaseRequest(req.params.id, req.body)),
  );
}
