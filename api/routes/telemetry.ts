import { Type } from 'typebox';
import { AppError } from '../../platform/errors.ts';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams, Timestamp, TimestampOut } from '../schemas.ts';

export function telemetryRoutes(app: ApiApp, { telemetry, assets, clock }: ApiDeps): void {
  app.get(
    '/assets/:id/telemetry',
    {
      schema: {
        tags: ['telemetry'],
        summary: 'Readings of one metric of one asset over a time range (default: the last hour)',
        params: IdParams,
        querystring: Type.Object({
          metric: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' }),
          from: Type.Optional(Timestamp),
          to: Type.Optional(Timestamp),
          limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
        }),
        response: {
          200: Type.Object({
            asset: Type.String(),
            metric: Type.String(),
            from: TimestampOut,
            to: TimestampOut,
            store: Type.String(),
            points: Type.Array(Type.Object({ ts: TimestampOut, value: Type.Number() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const asset = await assets.get(req.params.id);
      const to = req.query.to ? new Date(req.query.to) : clock.now();
      const from = req.query.from ? new Date(req.query.from) : new Date(to.getTime() - 3600_000);
      if (from > to) throw new AppError('validation', '"from" must not be after "to"', { from, to });
      const points = await telemetry.query({ asset: asset.code, metric: req.query.metric, from, to, limit: req.query.limit });
      return { asset: asset.code, metric: req.query.metric, from, to, store: telemetry.kind, points };
    },
  );
}
