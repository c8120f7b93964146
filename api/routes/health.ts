import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';

const Component = Type.Object({ ok: Type.Boolean(), detail: Type.String() });
const HealthBody = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  components: Type.Record(Type.String(), Component),
  counters: Type.Record(Type.String(), Type.Unknown()),
});

export function healthRoutes(app: ApiApp, { health }: ApiDeps): void {
  app.get(
    '/health',
    { schema: { tags: ['ops'], summary: 'Status of the database, telemetry store, broker and pipeline, with counters', response: { 200: HealthBody, 503: HealthBody } } },
    async (_req, reply) => {
      const report = await health();
      const ok = Object.values(report.components).every((c) => c.ok);
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', ...report });
    },
  );
}
