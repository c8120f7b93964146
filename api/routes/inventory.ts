import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { Code, errorResponses, IdParams, MovementBody, Page, Paging, PR_STATUS, Uuid, WAREHOUSE_KIND } from '../schemas.ts';
import { partView, purchaseRequestView } from '../views.ts';
import { MovementOut, MovementsOut, PartIn, PartOut, PurchaseRequestOut, StockOut, WarehouseIn, WarehouseOut } from './inventory-schemas.ts';
import { movementsView, movementView } from './inventory-views.ts';
import { inventoryReportRoutes } from './inventory-reports.ts';
import { purchasingRoutes } from './purchasing.ts';
import { workOrderPartsRoutes } from './work-order-parts.ts';

const tags = ['inventory'];

export function inventoryRoutes(app: ApiApp, deps: ApiDeps): void {
  const { inventory } = deps;
  app.post('/parts', { schema: { tags, summary: 'Add a part to the catalogue', body: PartIn, response: { 201: PartOut, ...errorResponses } } }, async (req, reply) =>
    reply.status(201).send(partView(await inventory.createPart(req.body))),
  );

  app.get(
    '/parts',
    {
      schema: {
        tags,
        summary: 'List the parts catalogue',
        querystring: Type.Object({ code: Type.Optional(Code), supplier: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), ...Paging }),
        response: { 200: Page(PartOut), ...errorResponses },
      },
    },
    async (req) => {
      const { items, total } = await inventory.listParts(req.query);
      return { items: items.map(partView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.post(
    '/warehouses',
    { schema: { tags, summary: 'Create a warehouse (site store, central store or engineer\'s van)', body: WarehouseIn, response: { 201: WarehouseOut, ...errorResponses } } },
    async (req, reply) => reply.status(201).send(await inventory.createWarehouse(req.body)),
  );

  app.get(
    '/warehouses',
    {
      schema: {
        tags,
        summary: 'List warehouses',
        querystring: Type.Object({ kind: Type.Optional(WAREHOUSE_KIND), engineerId: Type.Optional(Uuid) }),
        response: { 200: Type.Array(WarehouseOut), ...errorResponses },
      },
    },
    async (req) => inventory.listWarehouses(req.query),
  );

  app.post(
    '/stock/movements',
    {
      schema: {
        tags,
        summary: 'Post a stock movement (receipt, issue, transfer, adjustment, return); 409 when it would take more than is available (on hand − reserved)',
        body: MovementBody,
        response: { 201: MovementsOut, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(movementsView(await inventory.move(req.body))),
  );

  app.get(
    '/stock',
    {
      schema: {
        tags,
        summary: 'Stock balances per part and warehouse: on hand, reserved, available',
        querystring: Type.Object({ partId: Type.Optional(Uuid), warehouseId: Type.Optional(Uuid) }),
        response: { 200: Type.Array(StockOut), ...errorResponses },
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
        response: { 200: Page(MovementOut), ...errorResponses },
      },
    },
    async (req) => {
      const { items, total } = await inventory.ledger({ partId: req.params.id, ...req.query });
      return { items: items.map(movementView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get(
    '/purchase-requests',
    {
      schema: {
        tags,
        summary: 'List purchase requests (newest first)',
        querystring: Type.Object({ status: Type.Optional(PR_STATUS), partId: Type.Optional(Uuid), warehouseId: Type.Optional(Uuid), ...Paging }),
        response: { 200: Page(PurchaseRequestOut), ...errorResponses },
      },
    },
    async (req) => {
      const { items, total } = await inventory.listPurchaseRequests(req.query);
      return { items: items.map(purchaseRequestView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get(
    '/purchase-requests/:id',
    { schema: { tags, summary: 'One purchase request', params: IdParams, response: { 200: PurchaseRequestOut, ...errorResponses } } },
    async (req) => purchaseRequestView(await inventory.getPurchaseRequest(req.params.id)),
  );

  app.post(
    '/purchase-requests/:id/transitions',
    {
      schema: {
        tags,
        summary: 'Move a purchase request that is not on a purchase order: open → ordered → received (posts a receipt) | cancelled',
        params: IdParams,
        body: Type.Object(
          {
            to: Type.Union([Type.Literal('ordered'), Type.Literal('received'), Type.Literal('cancelled')]),
            note: Type.Optional(Type.String({ maxLength: 2000 })),
            actor: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: PurchaseRequestOut, ...errorResponses },
      },
    },
    async (req) => purchaseRequestView(await inventory.transitionPurchaseRequest(req.params.id, req.body)),
  );

  workOrderPartsRoutes(app, deps);
  purchasingRoutes(app, deps);
  inventoryReportRoutes(app, deps);
}
