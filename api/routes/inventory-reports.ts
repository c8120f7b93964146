/** Stock reports: valuation, turnover, slow movers, stock-outs (math in maintenance/inventory-reports.ts). */
import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, Uuid } from '../schemas.ts';
import { SlowMovingOut, StockOutsOut, TurnoverOut, ValuationOut, WindowQuery } from './inventory-schemas.ts';

const tags = ['inventory'];

export function inventoryReportRoutes(app: ApiApp, { inventory }: ApiDeps): void {
  app.get(
    '/inventory/reports/valuation',
    {
      schema: {
        tags,
        summary: 'Stock value per part + warehouse with totals (standard = part unit cost; average = weighted average of priced receipts)',
        querystring: Type.Object({ warehouseId: Type.Optional(Uuid), method: Type.Optional(Type.Union([Type.Literal('standard'), Type.Literal('average')])) }),
        response: { 200: ValuationOut, ...errorResponses },
      },
    },
    async (req) => inventory.valuationReport(req.query),
  );

  app.get(
    '/inventory/reports/turnover',
    {
      schema: {
        tags,
        summary: 'Per part over [from, to): consumption, time-weighted average on-hand, turnover ratio, days of supply',
        querystring: WindowQuery,
        response: { 200: TurnoverOut, ...errorResponses },
      },
    },
    async (req) => inventory.turnoverReport({ from: new Date(req.query.from), to: new Date(req.query.to), warehouseId: req.query.warehouseId }),
  );

  app.get(
    '/inventory/reports/slow-moving',
    {
      schema: {
        tags,
        summary: 'Parts in stock with no issue in the last N days (default 90): quantity, value, last issue',
        querystring: Type.Object({ days: Type.Integer({ minimum: 1, maximum: 3650, default: 90 }), warehouseId: Type.Optional(Uuid) }),
        response: { 200: SlowMovingOut, ...errorResponses },
      },
    },
    async (req) => inventory.slowMovingReport(req.query),
  );

  app.get(
    '/inventory/reports/stock-outs',
    {
      schema: {
        tags,
        summary: 'Per part over [from, to): how many times a balance fell to 0 (from the ledger)',
        querystring: WindowQuery,
        response: { 200: StockOutsOut, ...errorResponses },
      },
    },
    async (req) => inventory.stockOutReport({ from: new Date(req.query.from), to: new Date(req.query.to), warehouseId: req.query.warehouseId }),
  );
}
