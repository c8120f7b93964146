/**
 * The generated Grafana dashboards: list, one board's JSON, and push to a Grafana over its HTTP API.
 * A push that Grafana does not accept (unreachable, 401, 5xx…) answers 502 with the per-board report.
 */
import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { ErrorBody, errorResponses } from '../schemas.ts';
import { dashboards } from '../../dashboards/catalog.ts';
import { pushDashboards } from '../../dashboards/grafana-push.ts';
import { invalid, notFound } from '../../platform/errors.ts';

const DashboardUid = Type.String({ pattern: '^[A-Za-z0-9_-]{1,40}$' });
const Summary = Type.Object({
  uid: Type.String(),
  title: Type.String(),
  description: Type.String(),
  tags: Type.Array(Type.String()),
  panels: Type.Integer({ description: 'panels, rows excluded' }),
  href: Type.String({ description: 'GET this for the dashboard JSON' }),
});
const PushBody = Type.Object(
  {
    grafanaUrl: Type.String({ format: 'uri', pattern: '^https?://', description: 'base URL of Grafana, e.g. http://grafana:3000' }),
    apiToken: Type.Optional(Type.String({ minLength: 1, description: 'service-account token (sent as Bearer)' })),
    username: Type.Optional(Type.String({ minLength: 1, description: 'basic auth (instead of apiToken)' })),
    password: Type.Optional(Type.String()),
    folderUid: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    uids: Type.Optional(Type.Array(DashboardUid, { minItems: 1, uniqueItems: true, description: 'push only these (default: all)' })),
  },
  { additionalProperties: false },
);
const PushResult = Type.Object({
  uid: Type.String(),
  title: Type.String(),
  ok: Type.Boolean(),
  status: Type.Optional(Type.Integer({ description: 'HTTP status Grafana answered with' })),
  url: Type.Optional(Type.String()),
  version: Type.Optional(Type.Integer()),
  error: Type.Optional(Type.String()),
});
const PushReport = Type.Object({
  grafanaUrl: Type.String(),
  reachable: Type.Boolean(),
  pushed: Type.Integer(),
  failed: Type.Integer(),
  results: Type.Array(PushResult),
});
const PushFailed = Type.Object({ code: Type.String(), message: Type.String(), details: PushReport });

export function dashboardRoutes(app: ApiApp, _deps: ApiDeps): void {
  app.get(
    '/dashboards',
    { schema: { tags: ['dashboards'], summary: 'The generated Grafana dashboards', response: { 200: Type.Object({ items: Type.Array(Summary) }) } } },
    async () => ({
      items: dashboards().map((d) => ({
        uid: d.uid,
        title: d.title,
        description: String(d.description ?? ''),
        tags: [...d.tags],
        panels: d.panels.filter((p) => p.type !== 'row').length,
        href: `/dashboards/${d.uid}`,
      })),
    }),
  );

  app.get(
    '/dashboards/:uid',
    {
      schema: {
        tags: ['dashboards'],
        summary: 'One dashboard as Grafana JSON (as provisioned from dashboards/provisioning/dashboards/json)',
        params: Type.Object({ uid: DashboardUid }),
        response: { 200: Type.Unknown({ description: 'Grafana dashboard JSON' }), ...errorResponses },
      },
    },
    async (req) => {
      const d = dashboards().find((b) => b.uid === req.params.uid);
      if (!d) throw notFound('Dashboard', req.params.uid);
      return d;
    },
  );

  app.post(
    '/dashboards/push',
    {
      schema: {
        tags: ['dashboards'],
        summary: 'Push the dashboards to a Grafana (POST /api/dashboards/db, overwrite) and report per dashboard',
        description: 'The target Grafana needs datasources with the uids om-influx and om-postgres (see dashboards/provisioning/datasources).',
        body: PushBody,
        response: { 200: PushReport, 502: PushFailed, 400: ErrorBody, 500: ErrorBody },
      },
    },
    async (req, reply) => {
      const { uids, apiToken, username, ...target } = req.body;
      if (apiToken && username) throw invalid('give either apiToken or username/password, not both');
      const all = dashboards();
      const unknown = (uids ?? []).filter((u) => !all.some((d) => d.uid === u));
      if (unknown.length > 0) throw invalid(`unknown dashboard uid(s): ${unknown.join(', ')}`, { unknown });
      const selected = uids ? all.filter((d) => uids.includes(d.uid)) : all;
      const report = await pushDashboards(selected, { ...target, apiToken, username });
      if (report.failed === 0) return reply.status(200).send(report);
      const first = report.results.find((r) => !r.ok)?.error ?? 'unknown error';
      return reply.status(502).send({
        code: report.reachable ? 'grafana_rejected' : 'grafana_unreachable',
        message: report.reachable ? `Grafana at ${report.grafanaUrl} rejected ${report.failed} of ${report.results.length} dashboards (first: ${first})` : `Grafana at ${report.grafanaUrl} is unreachable (${first})`,
        details: report,
      });
    },
  );
}
