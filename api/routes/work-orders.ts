import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { AlarmSchema, errorResponses, HOLD_REASON, IdParams, Page, Paging, PRIORITY, SEVERITY, Uuid, WO_SOURCE, WO_STATUS, WorkOrderSchema } from '../schemas.ts';
import { alarmView, workOrderView } from '../views.ts';

export function workOrderRoutes(app: ApiApp, { workOrders, alarms }: ApiDeps): void {
  app.get(
    '/work-orders',
    {
      config: { readCache: { tables: ['work_orders', 'assets'] } },
      schema: {
        tags: ['work orders'],
        summary: 'List work orders (newest first)',
        querystring: Type.Object({
          status: Type.Optional(WO_STATUS),
          assetId: Type.Optional(Uuid),
          ruleId: Type.Optional(Uuid),
          source: Type.Optional(WO_SOURCE),
          pmPlanId: Type.Optional(Uuid),
          customerId: Type.Optional(Uuid),
          contractId: Type.Optional(Uuid),
          projectId: Type.Optional(Uuid),
          assigneeId: Type.Optional(Uuid),
          priority: Type.Optional(PRIORITY),
          slaBreached: Type.Optional(Type.Boolean({ description: 'true: response or resolution SLA breached; false: neither' })),
          ...Paging,
        }),
        response: { 200: Page(WorkOrderSchema), ...errorResponses },
      },
    },
    async (req) => {
      const { items, total } = await workOrders.list(req.query);
      return { items: items.map(workOrderView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.post(
    '/work-orders',
    {
      schema: {
        tags: ['work orders'],
        summary: 'Create a work order: a customer request (portal/API) or a dispatcher entering a phone call or email',
        description: 'Without `priority` the priority rules decide (customer tier, asset criticality, severity); SLA due times come from the contract covering the asset, else the defaults.',
        body: Type.Object(
          {
            title: Type.String({ minLength: 1, maxLength: 300 }),
            description: Type.Optional(Type.String({ maxLength: 10_000 })),
            assetId: Uuid,
            priority: Type.Optional(PRIORITY),
            severity: Type.Optional(SEVERITY),
            source: Type.Optional(Type.Union([Type.Literal('manual'), Type.Literal('customer')])),
            channel: Type.Optional(Type.Union([Type.Literal('api'), Type.Literal('portal'), Type.Literal('phone'), Type.Literal('email')])),
            requestedBy: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'caller / contact' })),
            requestedAt: Type.Optional(Type.String({ format: 'date-time', description: 'when the call/email came in (default now; not in the future)' })),
            requiredSkills: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 20 })),
            estimatedHours: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_000 })),
            projectId: Type.Optional(Uuid),
          },
          { additionalProperties: false },
        ),
        response: { 201: WorkOrderSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { requestedAt, ...body } = req.body;
      const order = await workOrders.create({ ...body, source: body.source ?? 'manual', requestedAt: requestedAt ? new Date(requestedAt) : undefined });
      return reply.status(201).send(workOrderView(order));
    },
  );

  app.get(
    '/work-orders/:id',
    {
      config: { readCache: { tables: ['assets'], byId: ['work_orders', 'work_order_events', 'alarms'] } },
      schema: { tags: ['work orders'], summary: 'Work order with its history and alarms', params: IdParams, response: { 200: WorkOrderSchema, ...errorResponses } },
    },
    async (req) => workOrderView(await workOrders.get(req.params.id)),
  );

  app.post(
    '/work-orders/:id/transitions',
    {
      schema: {
        tags: ['work orders'],
        summary: 'Move a work order through its lifecycle (409 for illegal transitions, including on_hold without holdReason)',
        params: IdParams,
        body: Type.Object(
          {
            to: WO_STATUS,
            assigneeId: Type.Optional(Uuid),
            note: Type.Optional(Type.String({ maxLength: 2000 })),
            actor: Type.Optional(Type.String({ maxLength: 200 })),
            meterReading: Type.Optional(Type.Number({ minimum: 0, description: 'counter value at completion (PM orders)' })),
            holdReason: Type.Optional(HOLD_REASON),
          },
          { additionalProperties: false },
        ),
        response: { 200: WorkOrderSchema, ...errorResponses },
      },
    },
    async (req) => workOrderView(await workOrders.transition(req.params.id, req.body)),
  );

  app.put(
    '/work-orders/:id/close-out',
    {
      schema: {
        tags: ['work orders'],
        summary: 'Record the fault code (from the library), root cause and resolution',
        params: IdParams,
        body: Type.Object(
          {
            faultCode: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 16 }), Type.Null()])),
            rootCause: Type.Optional(Type.Union([Type.String({ maxLength: 5000 }), Type.Null()])),
            resolution: Type.Optional(Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()])),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: WorkOrderSchema, ...errorResponses },
      },
    },
    async (req) => workOrderView(await workOrders.recordCloseOut(req.params.id, req.body)),
  );

  app.get(
    '/alarms',
    {
      schema: {
        tags: ['alarms'],
        summary: 'List alarms (newest first)',
        querystring: Type.Object({ assetId: Type.Optional(Uuid), status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('cleared')])), ...Paging }),
        response: { 200: Page(AlarmSchema), ...errorResponses },
      },
    },
    async (req) => {
      const { items, total } = await alarms.list(req.query);
      return { items: items.map(alarmView), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.post(
    '/alarms/:id/acknowledge',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Acknowledge an alarm (who has seen it); it stays active until its cause clears',
        params: IdParams,
        body: Type.Object({ by: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
        response: { 200: AlarmSchema, ...errorResponses },
      },
    },
    async (req) => alarmView(await alarms.acknowledge(req.params.id, req.body.by)),
  );
}
