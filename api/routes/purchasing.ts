/** Purchase orders: from requests or explicit lines, place, (partial, idempotent) receipts, cancel. */
import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams, Page, Paging } from '../schemas.ts';
import { FromRequestsIn, PO_STATUS, PurchaseOrderIn, PurchaseOrderOut, ReceiptIn, ReceiptOut } from './inventory-schemas.ts';
import { movementView, purchaseOrderView } from './inventory-views.ts';

const tags = ['purchasing'];

export function purchasingRoutes(app: ApiApp, { purchasing }: ApiDeps): void {
  app.post(
    '/purchase-orders',
    { schema: { tags, summary: 'Create a draft purchase order with lines (a line may carry an open purchase request)', body: PurchaseOrderIn, response: { 201: PurchaseOrderOut, ...errorResponses } } },
    async (req, reply) => reply.status(201).send(purchaseOrderView(await purchasing.create(req.body))),
  );

  app.post(
    '/purchase-orders/from-requests',
    {
      schema: {
        tags,
        summary: 'Group open purchase requests (given ids, or all of a supplier\'s parts) into one draft purchase order',
        body: FromRequestsIn,
        response: { 201: PurchaseOrderOut, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(purchaseOrderView(await purchasing.fromRequests(req.body))),
  );

  app.get(
    '/purchase-orders',
    {
      schema: {
        tags,
        summary: 'List purchase orders (newest first)',
        querystring: Type.Object({ status: Type.Optional(PO_STATUS), supplier: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), ...Paging }),
        response: { 200: Page(PurchaseOrderOut), ...errorResponses },
      },
    },
    async (req) => {
      const { items, total } = await purchasing.list(req.query);
      return { items: items.map(purchaseOrderView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get('/purchase-orders/:id', { schema: { tags, summary: 'One purchase order with its lines', params: IdParams, response: { 200: PurchaseOrderOut, ...errorResponses } } }, async (req) =>
    purchaseOrderView(await purchasing.get(req.params.id)),
  );

  app.post(
    '/purchase-orders/:id/place',
    { schema: { tags, summary: 'Place a draft order (draft → placed); its requests become ordered', params: IdParams, response: { 200: PurchaseOrderOut, ...errorResponses } } },
    async (req) => purchaseOrderView(await purchasing.place(req.params.id)),
  );

  app.post(
    '/purchase-orders/:id/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a draft or placed order with nothing received; its requests go back to open',
        params: IdParams,
        response: { 200: PurchaseOrderOut, ...errorResponses },
      },
    },
    async (req) => purchaseOrderView(await purchasing.cancel(req.params.id)),
  );

  app.post(
    '/purchase-orders/:id/receipts',
    {
      schema: {
        tags,
        summary: 'Receive (part of) the order: a receipt movement per line at its unit price; over-receipt → 400; a retried receiptKey is a no-op',
        params: IdParams,
        body: ReceiptIn,
        response: { 201: ReceiptOut, ...errorResponses },
      },
    },
    async (req, reply) => {
      const r = await purchasing.receive(req.params.id, req.body);
      return reply.status(201).send({ purchaseOrder: purchaseOrderView(r.purchaseOrder), movements: r.movements.map(movementView), duplicate: r.duplicate });
    },
  );
}
