/** Maintenance operations: open orders, SLA, backlog, response and repair times, PM compliance. */
import { assembleBoard, type DashboardJson } from '../board.ts';
import { customerVariable, kpiBars, kpiStat, kpiTimeseries, siteVariable, sqlBars } from '../panels.ts';

const scope = `('\${site}' = '__all' OR w.site_code = '\${site}') AND ('\${customer}' = '__all' OR w.customer_code = '\${customer}')`;

export function maintenanceOperationsBoard(): DashboardJson {
  return assembleBoard({
    uid: 'om-maintenance-ops',
    title: 'Maintenance operations',
    description: 'Open orders by status and priority, SLA breach rate, backlog age, first response time, MTTR, MTBF, PM compliance.',
    tags: ['maintenance', 'kpi'],
    from: 'now-30d',
    variables: [siteVariable(), customerVariable()],
    sections: [
      {
        row: 'Backlog',
        panels: [
          kpiStat('backlog_count'),
          kpiStat('backlog_age'),
          kpiStat('sla_breach_rate'),
          kpiStat('work_orders_requested'),
          sqlBars(
            'Open orders by status',
            `SELECT w.status, COUNT(*)::int AS value
  FROM kpi_work_orders w
 WHERE w.is_open AND ${scope}
 GROUP BY w.status
 ORDER BY value DESC, w.status`,
            { width: 8, description: 'Orders not yet completed or cancelled, now.' },
          ),
          sqlBars(
            'Open orders by priority',
            `SELECT w.priority, COUNT(*)::int AS value
  FROM kpi_work_orders w
 WHERE w.is_open AND ${scope}
 GROUP BY w.priority
 ORDER BY value DESC, w.priority`,
            { width: 8, description: 'Orders not yet completed or cancelled, now.' },
          ),
          kpiBars('backlog_by_age', 8),
        ],
      },
      {
        row: 'Response and repair',
        panels: [kpiStat('frt'), kpiStat('mttr'), kpiStat('mtbf'), kpiStat('first_time_fix_rate'), kpiStat('pm_compliance'), kpiStat('csat_average')],
      },
      {
        row: 'Intake and downtime',
        panels: [kpiTimeseries('work_orders_requested_per_day'), kpiBars('downtime_by_asset'), kpiBars('mtbf_by_asset', 24)],
      },
    ],
  });
}
