/**
 * Every KPI, defined once as a PostgreSQL query in Grafana's PostgreSQL-datasource dialect
 * (kpis/sql-macros.ts lists the tokens). The same text is used verbatim by Grafana panels and,
 * after expandForPostgres(), by the KPI API and the tests. Queries aggregate over the views of the
 * migration prisma/migrations/*_kpi_views (kpi_work_orders, kpi_asset_downtime, kpi_assets,
 * kpi_stock_movements); kpis/README.md documents each formula and the views' derived columns.
 *
 * Each query returns a numeric column `value` and, when `groupBy` is set, that grouping column.
 * Scalar KPIs return exactly one row (value NULL when there is nothing to average).
 */

export type KpiUnit = 'min' | 'h' | '%' | 'count' | 'ratio' | 'score' | 'currency' | 'days';

export interface KpiDefinition {
  id: string;
  title: string;
  unit: KpiUnit;
  /** Human-readable formula. */
  formula: string;
  description: string;
  /** Grafana PostgreSQL dialect. */
  sql: string;
  /** Name of the grouping column, if any. */
  groupBy?: string;
}

// ── Filter fragments (static text; the variables become bind parameters at expansion) ──────────

/** Site / customer / asset filter on a view row aliased `alias` with *_code columns. */
const scope = (alias: string): string =>
  `('\${site}' = '__all' OR ${alias}.site_code = '\${site}')
   AND ('\${customer}' = '__all' OR ${alias}.customer_code = '\${customer}')
   AND ('\${asset}' = '__all' OR ${alias}.asset_code = '\${asset}')`;

/** scope() plus the engineer (assignee) filter, for work-order rows. */
const woScope = (alias: string): string => `${scope(alias)}
   AND ('\${engineer}' = '__all' OR ${alias}.engineer_code = '\${engineer}')`;

/** Site / customer filter for stock movements (warehouse's site; central warehouses and vans have none). */
const stockScope = (alias: string): string =>
  `('\${site}' = '__all' OR ${alias}.site_code = '\${site}')
   AND ('\${customer}' = '__all' OR ${alias}.customer_code = '\${customer}')`;

/** Hours of [started_at, effective_end] inside the period (0 when outside). */
const clippedDowntimeHours = (d: string): string =>
  `GREATEST(0, EXTRACT(EPOCH FROM (LEAST(${d}.effective_end, $__timeTo()) - GREATEST(${d}.started_at, $__timeFrom()))) / 3600.0)`;

/** Period hours, not counting the future. */
const periodHours = `GREATEST(0, EXTRACT(EPOCH FROM (LEAST($__timeTo(), (now() AT TIME ZONE 'UTC')) - $__timeFrom())) / 3600.0)`;

const round2 = (expr: string): string => `ROUND((${expr})::numeric, 2)`;

/** Per-asset operating hours and corrective failures in the period (MTBF building block). */
const mtbfPerAsset = `SELECT a.asset_code,
         ${periodHours} - COALESCE((SELECT SUM(${clippedDowntimeHours('d')}) FROM kpi_asset_downtime d WHERE d.asset_id = a.asset_id), 0) AS operating_hours,
         (SELECT COUNT(*) FROM kpi_work_orders w
           WHERE w.asset_id = a.asset_id AND w.is_corrective AND NOT w.is_cancelled AND $__timeFilter(w.requested_at)) AS failures
    FROM kpi_assets a
   WHERE ${scope('a')}
     AND (a.retired_at IS NULL OR a.retired_at > $__timeFrom())`;

const backlogAt = `SELECT EXTRACT(EPOCH FROM ($__timeTo() - w.requested_at)) / 3600.0 AS age_hours
    FROM kpi_work_orders w
   WHERE w.requested_at <= $__timeTo()
     AND (w.completed_at IS NULL OR w.completed_at > $__timeTo())
     AND (w.cancelled_at IS NULL OR w.cancelled_at > $__timeTo())
     AND ${woScope('w')}`;

/** Stock value (balance × catalogue unit cost) per ledger position at a point in time. */
const stockValueAt = (cmp: string, point: string): string => `SELECT COALESCE(SUM(b.balance_after * b.part_unit_cost), 0)
      FROM (SELECT DISTINCT ON (m.part_id, m.warehouse_id) m.balance_after, m.part_unit_cost
              FROM kpi_stock_movements m
             WHERE m.at ${cmp} ${point} AND ${stockScope('m')}
             ORDER BY m.part_id, m.warehouse_id, m.at DESC, m.seq DESC) b`;

const costBy = (column: string, alias: string): string => `SELECT w.${column} AS ${alias}, ${round2('SUM(w.total_cost)')} AS value
  FROM kpi_work_orders w
 WHERE w.completed_at IS NOT NULL AND $__timeFilter(w.completed_at) AND w.${column} IS NOT NULL
   AND ${woScope('w')}
 GROUP BY w.${column}
 ORDER BY value DESC, ${alias}`;

const perEngineer = (valueExpr: string, where: string): string => `SELECT w.engineer_code AS engineer, ${valueExpr} AS value
  FROM kpi_work_orders w
 WHERE w.engineer_code IS NOT NULL AND ${where}
   AND ${woScope('w')}
 GROUP BY w.engineer_code
 ORDER BY w.engineer_code`;

export const KPI_DEFINITIONS: readonly KpiDefinition[] = [
  // ── Response and repair ───────────────────────────────────────────────────────────────────────
  {
    id: 'frt',
    title: 'First response time',
    unit: 'min',
    formula: 'AVG(responded_at − requested_at) in minutes, over orders requested in the period that have been responded to (cancelled excluded)',
    description: 'How quickly an engineer accepts or starts an order after it was requested. Orders still awaiting a response are not averaged (they show up in the SLA breach rate).',
    sql: `SELECT ${round2('AVG(w.frt_minutes)')} AS value
  FROM kpi_work_orders w
 WHERE $__timeFilter(w.requested_at) AND w.responded_at IS NOT NULL AND NOT w.is_cancelled
   AND ${woScope('w')}`,
  },
  {
    id: 'mttr',
    title: 'Mean time to repair',
    unit: 'h',
    formula: 'AVG(repair_hours) over corrective orders completed in the period; repair_hours = completed_at − started_at − hours on hold in between',
    description: 'Corrective = source rule, manual or customer (not pm, not followup). Hold time is taken from the work-order event log (on_hold → next event).',
    sql: `SELECT ${round2('AVG(w.repair_hours)')} AS value
  FROM kpi_work_orders w
 WHERE w.is_corrective AND w.completed_at IS NOT NULL AND w.repair_hours IS NOT NULL AND $__timeFilter(w.completed_at)
   AND ${woScope('w')}`,
  },
  {
    id: 'mtbf',
    title: 'Mean time between failures (fleet)',
    unit: 'h',
    formula: 'Σ operating hours ÷ Σ failures over the assets in scope; operating hours = period hours (up to now) − downtime hours in the period; failures = corrective orders requested in the period (cancelled excluded); NULL when no failure',
    description: 'Fleet MTBF: total up-time of the assets in scope divided by their corrective failures in the period.',
    sql: `SELECT ${round2('CASE WHEN SUM(x.failures) > 0 THEN SUM(x.operating_hours) / SUM(x.failures) END')} AS value
  FROM (${mtbfPerAsset}) x`,
  },
  {
    id: 'mtbf_by_asset',
    title: 'Mean time between failures per asset',
    unit: 'h',
    groupBy: 'asset',
    formula: 'per asset: operating hours in the period ÷ corrective failures in the period; NULL when the asset had no failure',
    description: 'Operating hours = period hours (up to now) − the asset\'s downtime hours in the period.',
    sql: `SELECT x.asset_code AS asset, ${round2('CASE WHEN x.failures > 0 THEN x.operating_hours / x.failures END')} AS value
  FROM (${mtbfPerAsset}) x
 ORDER BY x.asset_code`,
  },
  {
    id: 'first_time_fix_rate',
    title: 'First-time fix rate',
    unit: '%',
    formula: '100 × corrective orders completed in the period with first_time_fix ÷ corrective orders completed in the period',
    description: 'first_time_fix: completed without ever going on hold waiting for parts, and no other corrective order on the same asset requested within 7 days after completion (orders completed less than 7 days ago are provisional).',
    sql: `SELECT ${round2('100.0 * COUNT(*) FILTER (WHERE w.first_time_fix) / NULLIF(COUNT(*), 0)')} AS value
  FROM kpi_work_orders w
 WHERE w.is_corrective AND w.completed_at IS NOT NULL AND $__timeFilter(w.completed_at)
   AND ${woScope('w')}`,
  },
  // ── Planning and service levels ───────────────────────────────────────────────────────────────
  {
    id: 'pm_compliance',
    title: 'PM compliance',
    unit: '%',
    formula: '100 × PM orders due in the period (pm_due_at) completed on or before their due time ÷ PM orders due in the period (cancelled excluded)',
    description: "Preventive-maintenance orders done on time. Due time = the later of the plan's due date (calendar plans; orders generated ahead with lead days are not late before it) and resolution_due_at (the SLA target, pushed back by time waiting for the customer).",
    sql: `SELECT ${round2('100.0 * COUNT(*) FILTER (WHERE w.completed_at IS NOT NULL AND w.completed_at <= w.pm_due_at) / NULLIF(COUNT(*), 0)')} AS value
  FROM kpi_work_orders w
 WHERE w.source = 'pm' AND NOT w.is_cancelled AND w.pm_due_at IS NOT NULL AND $__timeFilter(w.pm_due_at)
   AND ${woScope('w')}`,
  },
  {
    id: 'sla_breach_rate',
    title: 'SLA breach rate',
    unit: '%',
    formula: '100 × orders requested in the period with a response or resolution breach ÷ orders requested in the period (cancelled excluded)',
    description: 'A breach is the stored flag, or evidence of one: responded after response_due_at (or still unanswered past it), completed after resolution_due_at (or still open past it).',
    sql: `SELECT ${round2('100.0 * COUNT(*) FILTER (WHERE w.sla_breached) / NULLIF(COUNT(*), 0)')} AS value
  FROM kpi_work_orders w
 WHERE $__timeFilter(w.requested_at) AND NOT w.is_cancelled
   AND ${woScope('w')}`,
  },
  {
    id: 'backlog_count',
    title: 'Backlog (open orders)',
    unit: 'count',
    formula: 'COUNT(orders requested on or before the end of the period and neither completed nor cancelled by then)',
    description: 'Open work at the end of the period (reconstructed from the order timestamps, so past periods are exact).',
    sql: `SELECT COUNT(*)::int AS value FROM (${backlogAt}) b`,
  },
  {
    id: 'backlog_age',
    title: 'Backlog age',
    unit: 'h',
    formula: 'AVG(end of period − requested_at) in hours over the orders open at the end of the period',
    description: 'Average age of the open orders at the end of the period.',
    sql: `SELECT ${round2('AVG(b.age_hours)')} AS value FROM (${backlogAt}) b`,
  },
  {
    id: 'backlog_by_age',
    title: 'Backlog by age',
    unit: 'count',
    groupBy: 'bucket',
    formula: 'COUNT(open orders at the end of the period) by age bucket: < 1d, 1–3d, 3–7d, 7–30d, ≥ 30d',
    description: 'Every bucket is returned (0 when empty), youngest first.',
    sql: `SELECT k.bucket, COUNT(b.age_hours)::int AS value
  FROM (VALUES (1, '< 1d', 0, 24), (2, '1-3d', 24, 72), (3, '3-7d', 72, 168), (4, '7-30d', 168, 720), (5, '>= 30d', 720, NULL)) AS k(pos, bucket, lo, hi)
  LEFT JOIN (${backlogAt}) b ON b.age_hours >= k.lo AND (k.hi IS NULL OR b.age_hours < k.hi)
 GROUP BY k.pos, k.bucket
 ORDER BY k.pos`,
  },
  {
    id: 'work_orders_requested',
    title: 'Work orders requested',
    unit: 'count',
    formula: 'COUNT(orders requested in the period)',
    description: 'Intake volume, every source (cancelled included).',
    sql: `SELECT COUNT(*)::int AS value
  FROM kpi_work_orders w
 WHERE $__timeFilter(w.requested_at)
   AND ${woScope('w')}`,
  },
  {
    id: 'work_orders_requested_per_day',
    title: 'Work orders requested per day',
    unit: 'count',
    groupBy: 'time',
    formula: 'COUNT(orders requested) per UTC day of requested_at',
    description: 'Time series (time = epoch seconds of the UTC day start).',
    sql: `SELECT $__timeGroupAlias(w.requested_at, 1d), COUNT(*)::int AS value
  FROM kpi_work_orders w
 WHERE $__timeFilter(w.requested_at)
   AND ${woScope('w')}
 GROUP BY 1
 ORDER BY 1`,
  },
  // ── Customer satisfaction ─────────────────────────────────────────────────────────────────────
  {
    id: 'csat_average',
    title: 'CSAT average',
    unit: 'score',
    formula: 'AVG(score) over surveys answered in the period (scores 1–5)',
    description: 'Filters apply to the surveyed order (site, customer, asset, assigned engineer).',
    sql: `SELECT ${round2('AVG(w.csat_score)')} AS value
  FROM kpi_work_orders w
 WHERE w.csat_score IS NOT NULL AND $__timeFilter(w.csat_answered_at)
   AND ${woScope('w')}`,
  },
  // ── Inventory ────────────────────────────────────────────────────────────────────────────────
  {
    id: 'inventory_turnover',
    title: 'Inventory turnover',
    unit: 'ratio',
    formula: 'issued value in the period ÷ average stock value; issued value = Σ (−quantity × unit cost) of issues and returns; average stock value = (value at the start + value at the end) ÷ 2, each = Σ last balance_after per part and warehouse × catalogue unit cost',
    description: 'Unit cost of a movement = the cost recorded on it, else the part\'s catalogue cost. Site filter = the warehouse\'s site (central warehouses and vans only count without a site filter). NULL when the average stock value is 0.',
    sql: `SELECT ${round2(`CASE WHEN (s.v_start + s.v_end) > 0 THEN s.issued / ((s.v_start + s.v_end) / 2.0) END`)} AS value
  FROM (SELECT
          (SELECT COALESCE(SUM(-m.quantity * m.unit_cost), 0) FROM kpi_stock_movements m
            WHERE m.kind IN ('issue', 'return') AND $__timeFilter(m.at) AND ${stockScope('m')}) AS issued,
          (${stockValueAt('<', '$__timeFrom()')}) AS v_start,
          (${stockValueAt('<=', '$__timeTo()')}) AS v_end) s`,
  },
  {
    id: 'stock_value',
    title: 'Stock value',
    unit: 'currency',
    formula: 'Σ last balance_after per part and warehouse at the end of the period × catalogue unit cost',
    description: 'Reconstructed from the ledger, so it is exact for past dates.',
    sql: `SELECT ${round2(stockValueAt('<=', '$__timeTo()'))} AS value`,
  },
  {
    id: 'stock_outs',
    title: 'Stock-outs',
    unit: 'count',
    formula: 'COUNT(stock movements in the period that took a part\'s balance in a warehouse from > 0 to 0)',
    description: 'Balance before a movement = balance_after − quantity.',
    sql: `SELECT COUNT(*)::int AS value
  FROM kpi_stock_movements m
 WHERE $__timeFilter(m.at) AND m.balance_before > 0 AND m.balance_after = 0
   AND ${stockScope('m')}`,
  },
  // ── Engineer performance ──────────────────────────────────────────────────────────────────────
  {
    id: 'engineer_orders_handled',
    title: 'Orders handled per engineer',
    unit: 'count',
    groupBy: 'engineer',
    formula: 'COUNT(orders completed in the period) by assigned engineer',
    description: 'Attributed to the order\'s assignee.',
    sql: perEngineer('COUNT(*)::int', 'w.completed_at IS NOT NULL AND $__timeFilter(w.completed_at)'),
  },
  {
    id: 'engineer_avg_handling_time',
    title: 'Average handling time per engineer',
    unit: 'h',
    groupBy: 'engineer',
    formula: 'AVG(repair_hours) over orders (every source) completed in the period, by assigned engineer',
    description: 'repair_hours = completed_at − started_at − hours on hold in between.',
    sql: perEngineer(round2('AVG(w.repair_hours)'), 'w.completed_at IS NOT NULL AND w.repair_hours IS NOT NULL AND $__timeFilter(w.completed_at)'),
  },
  {
    id: 'engineer_first_time_fix_rate',
    title: 'First-time fix rate per engineer',
    unit: '%',
    groupBy: 'engineer',
    formula: '100 × corrective orders completed in the period with first_time_fix ÷ corrective orders completed in the period, by assigned engineer',
    description: 'Same definition as the first-time fix rate.',
    sql: perEngineer(round2('100.0 * COUNT(*) FILTER (WHERE w.first_time_fix) / COUNT(*)'), 'w.is_corrective AND w.completed_at IS NOT NULL AND $__timeFilter(w.completed_at)'),
  },
  {
    id: 'engineer_rating',
    title: 'Rating per engineer',
    unit: 'score',
    groupBy: 'engineer',
    formula: 'AVG(CSAT score) over surveys answered in the period, by the surveyed order\'s assigned engineer',
    description: 'Customer rating (1–5) of the engineer\'s work.',
    sql: perEngineer(round2('AVG(w.csat_score)'), 'w.csat_score IS NOT NULL AND $__timeFilter(w.csat_answered_at)'),
  },
  // ── Cost ─────────────────────────────────────────────────────────────────────────────────────
  {
    id: 'cost_per_work_order',
    title: 'Average cost per work order',
    unit: 'currency',
    formula: 'AVG(labour + travel + parts cost) over orders completed in the period',
    description: 'Labour and travel = work-log costs; parts = (issued − returned) quantity × the movement\'s unit cost (else the part\'s catalogue cost).',
    sql: `SELECT ${round2('AVG(w.total_cost)')} AS value
  FROM kpi_work_orders w
 WHERE w.completed_at IS NOT NULL AND $__timeFilter(w.completed_at)
   AND ${woScope('w')}`,
  },
  {
    id: 'cost_by_work_order',
    title: 'Cost per work order',
    unit: 'currency',
    groupBy: 'work_order',
    formula: 'labour + travel + parts cost of each order completed in the period (work_order = order number)',
    description: 'Most expensive first.',
    sql: `SELECT w.number AS work_order, ${round2('w.total_cost')} AS value
  FROM kpi_work_orders w
 WHERE w.completed_at IS NOT NULL AND $__timeFilter(w.completed_at)
   AND ${woScope('w')}
 ORDER BY value DESC, work_order`,
  },
  {
    id: 'cost_by_contract',
    title: 'Cost per contract',
    unit: 'currency',
    groupBy: 'contract',
    formula: 'Σ (labour + travel + parts cost) of orders completed in the period, by contract code',
    description: 'Orders without a contract are left out.',
    sql: costBy('contract_code', 'contract'),
  },
  {
    id: 'cost_by_project',
    title: 'Cost per project',
    unit: 'currency',
    groupBy: 'project',
    formula: 'Σ (labour + travel + parts cost) of orders completed in the period, by project code',
    description: 'Orders without a project are left out.',
    sql: costBy('project_code', 'project'),
  },
  // ── Downtime ─────────────────────────────────────────────────────────────────────────────────
  {
    id: 'downtime_hours',
    title: 'Downtime',
    unit: 'h',
    formula: 'Σ hours of downtime periods inside the period (clipped to it; open periods count up to now)',
    description: 'Total over the assets in scope.',
    sql: `SELECT ${round2(`COALESCE(SUM(${clippedDowntimeHours('d')}), 0)`)} AS value
  FROM kpi_asset_downtime d
 WHERE d.started_at <= $__timeTo() AND d.effective_end >= $__timeFrom()
   AND ${scope('d')}`,
  },
  {
    id: 'downtime_by_asset',
    title: 'Downtime per asset',
    unit: 'h',
    groupBy: 'asset',
    formula: 'per asset: Σ hours of downtime periods inside the period (clipped; open periods up to now)',
    description: 'Assets with downtime in the period, most down first.',
    sql: `SELECT d.asset_code AS asset, ${round2(`SUM(${clippedDowntimeHours('d')})`)} AS value
  FROM kpi_asset_downtime d
 WHERE d.started_at <= $__timeTo() AND d.effective_end >= $__timeFrom()
   AND ${scope('d')}
 GROUP BY d.asset_code
 ORDER BY value DESC, asset`,
  },
];

const BY_ID = new Map(KPI_DEFINITIONS.map((d) => [d.id, d]));

export function kpiById(id: string): KpiDefinition | undefined {
  return BY_ID.get(id);
}

/** KPIs that return one value (no grouping column): the summary endpoint runs these. */
export const SCALAR_KPIS: readonly KpiDefinition[] = KPI_DEFINITIONS.filter((d) => d.groupBy === undefined);
