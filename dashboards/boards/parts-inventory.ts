/** Parts inventory: stock value, turnover, stock-outs, low stock and open purchase requests. */
import { assembleBoard, type DashboardJson } from '../board.ts';
import { customerVariable, kpiStat, siteVariable, sqlTable, sqlTimeseries } from '../panels.ts';

const warehouseScope = `('\${site}' = '__all' OR s.code = '\${site}') AND ('\${customer}' = '__all' OR c.code = '\${customer}')`;
const WAREHOUSES = `JOIN warehouses wh ON wh.id = x.warehouse_id LEFT JOIN sites s ON s.id = wh.site_id LEFT JOIN customers c ON c.id = s.customer_id`;

export function partsInventoryBoard(): DashboardJson {
  return assembleBoard({
    uid: 'om-parts-inventory',
    title: 'Parts inventory',
    description: 'Stock value, inventory turnover, stock-outs, parts at or below safety stock, open purchase requests.',
    tags: ['inventory', 'kpi'],
    from: 'now-30d',
    variables: [siteVariable(), customerVariable()],
    sections: [
      {
        panels: [
          kpiStat('stock_value', 8),
          kpiStat('inventory_turnover', 8),
          kpiStat('stock_outs', 8),
          sqlTimeseries(
            'Parts issued',
            `SELECT $__timeGroupAlias(m.at, 1d), SUM(-m.quantity)::int AS value
  FROM kpi_stock_movements m
 WHERE m.kind = 'issue' AND $__timeFilter(m.at)
   AND ('\${site}' = '__all' OR m.site_code = '\${site}') AND ('\${customer}' = '__all' OR m.customer_code = '\${customer}')
 GROUP BY 1
 ORDER BY 1`,
            { width: 24, description: 'Quantity issued to work orders per day (all parts).' },
          ),
          sqlTable(
            'Low stock',
            `SELECT p.code AS part, p.name, wh.code AS warehouse, x.quantity, x.reserved, x.quantity - x.reserved AS available, p.safety_stock
  FROM stock x JOIN parts p ON p.id = x.part_id ${WAREHOUSES}
 WHERE x.quantity - x.reserved <= p.safety_stock AND ${warehouseScope}
 ORDER BY x.quantity - x.reserved - p.safety_stock, p.code, wh.code
 LIMIT 200`,
            { description: 'Available (on hand − reserved) at or below the safety stock.' },
          ),
          sqlTable(
            'Open purchase requests',
            `SELECT x.number, p.code AS part, wh.code AS warehouse, x.quantity, x.status::text AS status, x.created_at
  FROM purchase_requests x JOIN parts p ON p.id = x.part_id ${WAREHOUSES}
 WHERE x.status IN ('open', 'ordered') AND ${warehouseScope}
 ORDER BY x.created_at
 LIMIT 200`,
          ),
        ],
      },
    ],
  });
}
