/** KPI endpoints: the catalogue, one KPI for a period + filters, all scalar KPIs at once (kpis/). */
import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { Code, errorResponses, TimestampOut } from '../schemas.ts';

const tags = ['kpis'];

const UNIT = Type.Union([Type.Literal('min'), Type.Literal('h'), Type.Literal('%'), Type.Literal('count'), Type.Literal('ratio'), Type.Literal('score'), Type.Literal('currency'), Type.Literal('days')]);
const Bound = Type.String({ minLength: 10, maxLength: 40, description: 'ISO-8601 date-time, or YYYY-MM-DD (UTC; a date-only `to` means the end of that day)' });

const KpiQuery = Type.Object(
  {
    from: Type.Optional(Bound),
    to: Type.Optional(Bound),
    site: Type.Optional(Code),
    customer: Type.Optional(Code),
    asset: Type.Optional(Code),
    engineer: Type.Optional(Code),
  },
  { additionalProperties: false, description: 'Period (default: the last 30 days, bounds inclusive) and filters (codes; absent = all)' },
);

const Filters = Type.Object({ site: Type.Optional(Type.String()), customer: Type.Optional(Type.String()), asset: Type.Optional(Type.String()), engineer: Type.Optional(Type.String()) });
const Value = Type.Union([Type.Number(), Type.Null()]);

const CatalogueEntry = Type.Object({
  id: Type.String(),
  title: Type.String(),
  unit: UNIT,
  formula: Type.String(),
  description: Type.String(),
  groupBy: Type.Union([Type.String(), Type.Null()], { description: 'grouping column (asset, engineer, bucket, contract, project, work_order, time) or null for a single value' }),
});

const KpiResultOut = Type.Object({
  id: Type.String(),
  title: Type.String(),
  unit: UNIT,
  from: TimestampOut,
  to: TimestampOut,
  filters: Filters,
  groupBy: Type.Union([Type.String(), Type.Null()]),
  value: Type.Union([Type.Number(), Type.Null()], { description: 'single-value KPIs (null: nothing to compute it from); null for grouped KPIs' }),
  rows: Type.Array(Type.Object({ key: Type.String(), value: Value }), { description: 'grouped KPIs: one row per group (key = asset/engineer/contract/project code, bucket, order number, or ISO time)' }),
});

const SummaryOut = Type.Object({
  from: TimestampOut,
  to: TimestampOut,
  filters: Filters,
  kpis: Type.Array(Type.Object({ id: Type.String(), title: Type.String(), unit: UNIT, value: Value })),
});

export function kpiRoutes(app: ApiApp, { kpis }: ApiDeps): void {
  app.get(
    '/kpis',
    { schema: { tags, summary: 'KPI catalogue: id, title, unit, formula, description, grouping', response: { 200: Type.Object({ items: Type.Array(CatalogueEntry) }), ...errorResponses } } },
    async () => ({ items: kpis.catalogue() }),
  );

  app.get(
    '/kpis/summary',
    { schema: { tags, summary: 'Every single-value KPI for a period and filters', querystring: KpiQuery, response: { 200: SummaryOut, ...errorResponses } } },
    async (req) => kpis.summary(req.query),
  );

  app.get(
    '/kpis/:id',
    {
      schema: {
        tags,
        summary: 'One KPI for a period and filters (value, or rows when grouped); 404 for an unknown id, 400 for bad dates or from > to',
        params: Type.Object({ id: Type.String({ pattern: '^[a-z0-9_]{1,64}$' }) }),
        querystring: KpiQuery,
        response: { 200: KpiResultOut, ...errorResponses },
      },
    },
    async (req) => kpis.run(req.params.id, req.query),
  );
}
