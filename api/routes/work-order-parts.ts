/** Parts on a work order: reservations (consumed at completion, released on cancel), parts used/returned ad hoc, consumed lines. */
import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams } from '../schemas.ts';
import { MovementsOut, PartLineIn, RESERVATION_STATUS, ReservationIn, ReservationOut, ReservationParams, WorkOrderPartsOut } from './inventory-schemas.ts';
import { movementsView, reservationView } from './inventory-views.ts';

const tags = ['inventory', 'work orders'];

export function workOrderPartsRoutes(app: ApiApp, { inventory }: ApiDeps): void {
  app.post(
    '/work-orders/:id/reservations',
    {
      schema: {
        tags,
        summary: 'Reserve parts for a work order (before completion); 409 when not available (on hand − reserved)',
        params: IdParams,
        body: ReservationIn,
        response: { 201: ReservationOut, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(reservationView(await inventory.reserve(req.params.id, req.body))),
  );

  app.get(
    '/work-orders/:id/reservations',
    {
      schema: {
        tags,
        summary: 'Reservations of a work order',
        params: IdParams,
        querystring: Type.Object({ status: Type.Optional(RESERVATION_STATUS) }),
        response: { 200: Type.Array(ReservationOut), ...errorResponses },
      },
    },
    async (req) => (await inventory.listReservations(req.params.id, req.query)).map(reservationView),
  );

  app.put(
    '/work-orders/:id/reservations/:reservationId',
    {
      schema: {
        tags,
        summary: 'Record how much of a reservation will be used (0 … reserved); completion issues that and releases the rest',
        params: ReservationParams,
        body: Type.Object({ usedQuantity: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }) }, { additionalProperties: false }),
        response: { 200: ReservationOut, ...errorResponses },
      },
    },
    async (req) => reservationView(await inventory.setUsedQuantity(req.params.id, req.params.reservationId, req.body.usedQuantity)),
  );

  app.delete(
    '/work-orders/:id/reservations/:reservationId',
    { schema: { tags, summary: 'Release a reservation (its quantity becomes available again)', params: ReservationParams, response: { 200: ReservationOut, ...errorResponses } } },
    async (req) => reservationView(await inventory.releaseReservation(req.params.id, req.params.reservationId)),
  );

  app.post(
    '/work-orders/:id/parts-used',
    {
      schema: {
        tags,
        summary: 'Record parts taken for the order without a reservation: an issue linked to it (not on closed/cancelled orders)',
        params: IdParams,
        body: PartLineIn,
        response: { 201: MovementsOut, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(movementsView(await inventory.recordPartsUsed(req.params.id, req.body))),
  );

  app.post(
    '/work-orders/:id/parts-returned',
    {
      schema: {
        tags,
        summary: 'Return unused parts of the order to a warehouse: a return linked to it (at most what the order consumed)',
        params: IdParams,
        body: PartLineIn,
        response: { 201: MovementsOut, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(movementsView(await inventory.recordPartsReturned(req.params.id, req.body))),
  );

  app.get(
    '/work-orders/:id/parts',
    { schema: { tags, summary: 'Parts consumed by the order (ledger: issues − returns per part, unit cost, value)', params: IdParams, response: { 200: WorkOrderPartsOut, ...errorResponses } } },
    async (req) => inventory.workOrderParts(req.params.id),
  );
}
