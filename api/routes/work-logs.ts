/** Work logs (notes, labour, travel) of a work order with totals, and the engineer's hourly rate used to cost labour. */
import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams, Uuid } from '../schemas.ts';
import { WorkLogBody, WorkLogSchema, WorkLogTotalsSchema } from '../work-execution-schemas.ts';

const tags = ['work execution'];
const date = (s: string | undefined): Date | undefined => (s === undefined ? undefined : new Date(s));

export function workLogRoutes(app: ApiApp, { workLogs }: ApiDeps): void {
  app.post(
    '/work-orders/:id/work-logs',
    {
      schema: {
        tags,
        summary: 'Log a note, labour or travel on a work order (409 when closed/cancelled or the engineer\'s labour overlaps)',
        description:
          'labour: engineerId and startedAt+endedAt (minutes computed; must not overlap another labour entry of the engineer) or minutes; cost = minutes/60 × the engineer\'s hourly rate (0 with a warning when none is set). travel: distanceKm and/or minutes, cost as entered. note: text only.',
        params: IdParams,
        body: WorkLogBody,
        response: { 201: Type.Intersect([WorkLogSchema, Type.Object({ warnings: Type.Array(Type.String()) })]), ...errorResponses },
      },
    },
    async (req, reply) => {
      const { workLog, warnings } = await workLogs.add(req.params.id, { ...req.body, startedAt: date(req.body.startedAt), endedAt: date(req.body.endedAt) });
      return reply.status(201).send({ ...workLog, warnings });
    },
  );

  app.get(
    '/work-orders/:id/work-logs',
    {
      schema: {
        tags,
        summary: 'Work logs of a work order (oldest first) with labour and travel totals',
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(WorkLogSchema), totals: WorkLogTotalsSchema }), ...errorResponses },
      },
    },
    async (req) => workLogs.list(req.params.id),
  );

  app.put(
    '/engineers/:id/hourly-rate',
    {
      schema: {
        tags: ['engineers'],
        summary: 'Set the hourly rate that costs the engineer\'s labour from now on (earlier entries keep their cost)',
        params: IdParams,
        body: Type.Object({ hourlyRate: Type.Number({ minimum: 0, maximum: 100_000, description: 'per hour, at most 2 decimals' }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ id: Uuid, code: Type.String(), name: Type.String(), hourlyRate: Type.Union([Type.Number(), Type.Null()]) }), ...errorResponses },
      },
    },
    async (req) => workLogs.setHourlyRate(req.params.id, req.body.hourlyRate),
  );
}
