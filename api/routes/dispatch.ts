import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams, Nullable, TimestampOut, Uuid, WorkOrderSchema } from '../schemas.ts';
import { workOrderView } from '../views.ts';

const SkillIn = Type.Union([
  Type.String({ minLength: 1, maxLength: 64 }),
  Type.Object({ skill: Type.String({ minLength: 1, maxLength: 64 }), level: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })) }, { additionalProperties: false }),
]);
const DateOnly = Type.String({ format: 'date' });
const CertIn = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), issuedAt: Type.Optional(Nullable(DateOnly)), expiresAt: Type.Optional(Nullable(DateOnly)) },
  { additionalProperties: false },
);
const EngineerFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  phone: Type.Optional(Nullable(Type.String({ maxLength: 50 }))),
  email: Type.Optional(Nullable(Type.String({ format: 'email' }))),
  skills: Type.Optional(Type.Array(SkillIn, { maxItems: 50, description: 'names (level 3) or { skill, level 1–5 }' })),
  certifications: Type.Optional(Type.Array(CertIn, { maxItems: 50 })),
  homeLat: Type.Optional(Nullable(Type.Number({ minimum: -90, maximum: 90 }))),
  homeLon: Type.Optional(Nullable(Type.Number({ minimum: -180, maximum: 180 }))),
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone of the roster, e.g. Asia/Shanghai' })),
  maxOpenOrders: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  hourlyRate: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 100_000 }))),
  active: Type.Optional(Type.Boolean()),
};
const CODE = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' });

const EngineerSchema = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  phone: Nullable(Type.String()),
  email: Nullable(Type.String()),
  active: Type.Boolean(),
  skills: Type.Array(Type.Object({ skill: Type.String(), level: Type.Integer() })),
  certifications: Type.Array(Type.Object({ name: Type.String(), issuedAt: Nullable(Type.String()), expiresAt: Nullable(Type.String()) })),
  homeLat: Nullable(Type.Number()),
  homeLon: Nullable(Type.Number()),
  lat: Nullable(Type.Number()),
  lon: Nullable(Type.Number()),
  locationAt: Nullable(TimestampOut),
  timezone: Type.String(),
  maxOpenOrders: Type.Integer(),
  hourlyRate: Nullable(Type.Number()),
  createdAt: TimestampOut,
});

const dateOnly = (d: Date | null): string | null => (d ? d.toISOString().slice(0, 10) : null);
function engineerView<
  T extends {
    skillLevels: { skill: string; level: number }[];
    certifications: { name: string; issuedAt: Date | null; expiresAt: Date | null }[];
    hourlyRate: { toNumber(): number } | null;
  },
>(e: T) {
  const { skillLevels, certifications, hourlyRate, ...rest } = e;
  return {
    ...rest,
    skills: skillLevels,
    certifications: certifications.map((c) => ({ name: c.name, issuedAt: dateOnly(c.issuedAt), expiresAt: dateOnly(c.expiresAt) })),
    hourlyRate: hourlyRate ? hourlyRate.toNumber() : null,
  };
}

const Reason = Type.Object({ code: Type.String() }, { additionalProperties: true });
const CandidateSchema = Type.Object({
  engineerId: Uuid,
  code: Type.String(),
  name: Type.String(),
  eligible: Type.Boolean(),
  reasons: Type.Array(Reason, { description: 'why not eligible: inactive, on_leave, off_shift, missing_skill, missing_certification, at_capacity, shift_too_short, declined' }),
  score: Type.Number({ description: '0–100, sum of the breakdown' }),
  breakdown: Type.Object({ skills: Type.Number(), distance: Type.Number(), load: Type.Number(), urgency: Type.Number(), familiarity: Type.Number() }),
  travelKm: Nullable(Type.Number()),
  travelMinutes: Nullable(Type.Number()),
  arrivalAt: Nullable(TimestampOut),
  meetsResponseSla: Nullable(Type.Boolean()),
});

export function dispatchRoutes(app: ApiApp, { engineers, dispatch }: ApiDeps): void {
  app.get(
    '/engineers',
    {
      schema: {
        tags: ['engineers'],
        summary: 'List engineers with skills and certifications',
        querystring: Type.Object({ skill: Type.Optional(Type.String({ maxLength: 64 })), active: Type.Optional(Type.Boolean()) }),
        response: { 200: Type.Array(EngineerSchema), ...errorResponses },
      },
    },
    async (req) => (await engineers.list(req.query)).map(engineerView),
  );
  app.post(
    '/engineers',
    {
      schema: {
        tags: ['engineers'],
        summary: 'Create an engineer',
        body: Type.Object({ code: CODE, ...EngineerFields }, { additionalProperties: false }),
        response: { 201: EngineerSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(engineerView(await engineers.create(req.body))),
  );
  app.get('/engineers/:id', { schema: { tags: ['engineers'], summary: 'One engineer', params: IdParams, response: { 200: EngineerSchema, ...errorResponses } } }, async (req) =>
    engineerView(await engineers.get(req.params.id)),
  );
  app.patch(
    '/engineers/:id',
    {
      schema: {
        tags: ['engineers'],
        summary: 'Update an engineer (skills/certifications replace the lists; deactivating re-dispatches their orders not yet under way)',
        params: IdParams,
        body: Type.Object({ code: Type.Optional(CODE), ...EngineerFields, name: Type.Optional(EngineerFields.name) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: EngineerSchema, ...errorResponses },
      },
    },
    async (req) => engineerView(await engineers.update(req.params.id, req.body)),
  );
  app.put(
    '/engineers/:id/location',
    {
      schema: {
        tags: ['engineers'],
        summary: 'Live GPS fix from the engineer app (older fixes than the stored one are ignored)',
        params: IdParams,
        body: Type.Object(
          { lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }), at: Type.Optional(Type.String({ format: 'date-time' })) },
          { additionalProperties: false },
        ),
        response: { 200: EngineerSchema, ...errorResponses },
      },
    },
    async (req) => engineerView(await engineers.updateLocation(req.params.id, { lat: req.body.lat, lon: req.body.lon, at: req.body.at ? new Date(req.body.at) : undefined })),
  );
  const Shift = Type.Object(
    { weekday: Type.Integer({ minimum: 1, maximum: 7, description: '1 = Monday … 7 = Sunday' }), startMinute: Type.Integer({ minimum: 0, maximum: 1439 }), endMinute: Type.Integer({ minimum: 0, maximum: 1439 }) },
    { additionalProperties: false },
  );
  app.put(
    '/engineers/:id/shifts',
    {
      schema: {
        tags: ['engineers'],
        summary: 'Replace the weekly roster (local time of the engineer; end ≤ start = overnight; empty = unrestricted)',
        params: IdParams,
        body: Type.Array(Shift, { maxItems: 50 }),
        response: { 200: Type.Array(Shift), ...errorResponses },
      },
    },
    async (req) => engineers.setShifts(req.params.id, req.body),
  );
  app.post(
    '/engineers/:id/leave',
    {
      schema: {
        tags: ['engineers'],
        summary: 'Record leave; leave that has started re-dispatches the orders not yet under way',
        params: IdParams,
        body: Type.Object(
          { startsAt: Type.String({ format: 'date-time' }), endsAt: Type.String({ format: 'date-time' }), reason: Type.Optional(Type.String({ maxLength: 500 })) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            leave: Type.Object({ id: Uuid, startsAt: TimestampOut, endsAt: TimestampOut, reason: Nullable(Type.String()) }),
            redispatched: Type.Array(Type.Object({ workOrderId: Uuid, reassignedTo: Nullable(Uuid) })),
          }),
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const r = await engineers.addLeave(req.params.id, { startsAt: new Date(req.body.startsAt), endsAt: new Date(req.body.endsAt), reason: req.body.reason });
      return reply.status(201).send({ leave: { id: r.leave.id, startsAt: r.leave.startsAt, endsAt: r.leave.endsAt, reason: r.leave.reason }, redispatched: r.redispatched as { workOrderId: string; reassignedTo: string | null }[] });
    },
  );
  app.delete(
    '/engineers/:id/leave/:leaveId',
    { schema: { tags: ['engineers'], summary: 'Cancel leave', params: Type.Object({ id: Uuid, leaveId: Uuid }), response: { 204: Type.Null(), ...errorResponses } } },
    async (req, reply) => {
      await engineers.deleteLeave(req.params.id, req.params.leaveId);
      return reply.status(204).send(null);
    },
  );
  app.get(
    '/engineers/:id/status',
    {
      schema: {
        tags: ['engineers'],
        summary: 'Availability now: shift, leave, open orders, location age',
        params: IdParams,
        response: {
          200: Type.Object({
            engineer: EngineerSchema,
            at: TimestampOut,
            available: Type.Boolean(),
            onLeave: Type.Boolean(),
            shift: Nullable(Type.Object({ start: TimestampOut, end: TimestampOut })),
            roster: Type.Array(Shift),
            upcomingLeave: Type.Array(Type.Object({ id: Uuid, startsAt: TimestampOut, endsAt: TimestampOut, reason: Nullable(Type.String()) })),
            openOrders: Type.Array(Type.Object({ id: Uuid, number: Type.Integer(), status: Type.String(), priority: Type.String(), estimatedHours: Nullable(Type.Number()) })),
            location: Nullable(Type.Object({ lat: Nullable(Type.Number()), lon: Nullable(Type.Number()), at: TimestampOut, ageS: Type.Integer() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const s = await engineers.status(req.params.id);
      return { ...s, engineer: engineerView(s.engineer) };
    },
  );

  app.get(
    '/work-orders/:id/recommendations',
    {
      schema: {
        tags: ['dispatch'],
        summary: 'Ranked engineers for one order with the score breakdown; ineligible ones listed last with the reason',
        params: IdParams,
        querystring: Type.Object({ includeIneligible: Type.Optional(Type.Boolean({ default: true })) }),
        response: {
          200: Type.Object({
            workOrder: Type.Object({
              id: Uuid,
              number: Type.Integer(),
              title: Type.String(),
              priority: Type.String(),
              status: Type.String(),
              assetCode: Type.String(),
              requiredSkills: Type.Array(Type.Object({ skill: Type.String(), minLevel: Type.Optional(Type.Integer()) })),
              responseDueAt: Nullable(TimestampOut),
            }),
            at: TimestampOut,
            candidates: Type.Array(CandidateSchema),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => dispatch.recommend(req.params.id, req.query),
  );
  app.post(
    '/work-orders/:id/assign',
    {
      schema: {
        tags: ['dispatch'],
        summary: 'Assign (or reassign) an order to an engineer; ineligible engineers need force: true',
        params: IdParams,
        body: Type.Object(
          { engineerId: Uuid, actor: Type.Optional(Type.String({ maxLength: 200 })), note: Type.Optional(Type.String({ maxLength: 2000 })), force: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 200: WorkOrderSchema, ...errorResponses },
      },
    },
    async (req) => workOrderView(await dispatch.assign(req.params.id, req.body.engineerId, req.body)),
  );
  app.post(
    '/work-orders/:id/decline',
    {
      schema: {
        tags: ['dispatch'],
        summary: 'The assigned engineer declines: the order goes to the next best engineer (never back to them)',
        params: IdParams,
        body: Type.Object({ engineerId: Uuid, reason: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ declined: Type.Boolean(), reassignedTo: Nullable(Uuid), workOrder: WorkOrderSchema }), ...errorResponses },
      },
    },
    async (req) => {
      const r = await dispatch.decline(req.params.id, req.body.engineerId, { reason: req.body.reason, actor: req.body.engineerId });
      return { ...r, workOrder: workOrderView(r.workOrder) };
    },
  );
  app.get(
    '/work-orders/:id/dispatch-log',
    {
      schema: {
        tags: ['dispatch'],
        summary: 'Dispatch decisions for an order (auto, batch, manual, redispatch, declined, withdrawn) with scores',
        params: IdParams,
        response: {
          200: Type.Array(Type.Object({ kind: Type.String(), engineerId: Nullable(Uuid), score: Nullable(Type.Number()), details: Type.Unknown(), actor: Nullable(Type.String()), at: TimestampOut })),
          ...errorResponses,
        },
      },
    },
    async (req) => dispatch.history(req.params.id),
  );
  app.post(
    '/dispatch/batch',
    {
      schema: {
        tags: ['dispatch'],
        summary: 'Assign open orders to available engineers at minimum total cost (dryRun defaults to true: review the plan first)',
        body: Type.Object(
          {
            dryRun: Type.Boolean({ default: true }),
            workOrderIds: Type.Optional(Type.Array(Uuid, { maxItems: 10_000 })),
            siteId: Type.Optional(Uuid),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
            actor: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            dryRun: Type.Boolean(),
            orders: Type.Integer(),
            engineers: Type.Integer(),
            assignments: Type.Array(
              Type.Object({
                workOrderId: Uuid,
                number: Type.Integer(),
                priority: Type.String(),
                engineerId: Uuid,
                engineerCode: Type.String(),
                score: Type.Number(),
                cost: Type.Number(),
                travelKm: Nullable(Type.Number()),
              }),
            ),
            unassigned: Type.Array(Type.Object({ workOrderId: Uuid, number: Type.Integer(), reason: Type.String() })),
            totalCost: Type.Number(),
            greedy: Type.Object({ totalCost: Type.Number(), assigned: Type.Integer() }, { description: 'nearest-available baseline on the same instance' }),
            persisted: Type.Optional(Type.Object({ assigned: Type.Integer(), skipped: Type.Integer() })),
            timingsMs: Type.Object({ load: Type.Number(), matrix: Type.Number(), solve: Type.Number(), persist: Type.Number(), total: Type.Number() }),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => dispatch.batchAssign(req.body),
  );
}
