/** One asset (chosen from the assets InfluxDB has telemetry for): its signals, orders, downtime and reliability KPIs. */
import { assembleBoard, type DashboardJson } from '../board.ts';
import { FROM_TELEMETRY, influxStat, influxTimeseries, kpiStat, METRIC, sqlTable, telemetryAssetVariable, TELEMETRY_SCOPE } from '../panels.ts';

const assetOnly = `('\${asset}' = '__all' OR w.asset_code = '\${asset}')`;

export function assetDetailBoard(): DashboardJson {
  return assembleBoard({
    uid: 'om-asset-detail',
    title: 'Asset detail',
    description: 'Telemetry, work orders, downtime, MTBF and MTTR of one asset.',
    tags: ['telemetry', 'asset'],
    from: 'now-24h',
    variables: [telemetryAssetVariable()],
    sections: [
      {
        row: 'Signals',
        panels: [
          influxStat('Run-hours', `SELECT last("${METRIC.runHours}") ${FROM_TELEMETRY} WHERE ${TELEMETRY_SCOPE} AND $timeFilter`, { unit: 'h' }),
          influxStat('Temperature (latest)', `SELECT last("${METRIC.temperature}") ${FROM_TELEMETRY} WHERE ${TELEMETRY_SCOPE} AND $timeFilter`, { unit: 'celsius' }),
          influxStat('Vibration (latest)', `SELECT last("${METRIC.vibration}") ${FROM_TELEMETRY} WHERE ${TELEMETRY_SCOPE} AND $timeFilter`, { unit: 'velocitymms' }),
          influxStat('Run-hours in range', `SELECT spread("${METRIC.runHours}") ${FROM_TELEMETRY} WHERE ${TELEMETRY_SCOPE} AND $timeFilter`, { unit: 'h' }),
          influxTimeseries(
            'Temperature and vibration',
            `SELECT mean("${METRIC.temperature}") AS "temperature", mean("${METRIC.vibration}") AS "vibration" ${FROM_TELEMETRY} WHERE ${TELEMETRY_SCOPE} AND $timeFilter GROUP BY time($__interval) fill(null)`,
          ),
          influxTimeseries('Run-hours', `SELECT max("${METRIC.runHours}") AS "runHours" ${FROM_TELEMETRY} WHERE ${TELEMETRY_SCOPE} AND $timeFilter GROUP BY time($__interval) fill(null)`, {
            unit: 'h',
          }),
        ],
      },
      {
        row: 'Reliability',
        panels: [kpiStat('mtbf'), kpiStat('mttr'), kpiStat('downtime_hours'), kpiStat('backlog_count')],
      },
      {
        row: 'Work',
        panels: [
          sqlTable(
            'Open work orders',
            `SELECT w.number, w.title, w.source, w.priority, w.status, w.engineer_code AS engineer, w.requested_at, w.resolution_due_at, w.sla_breached
  FROM kpi_work_orders w
 WHERE w.is_open AND ${assetOnly}
 ORDER BY w.requested_at DESC
 LIMIT 200`,
            { description: 'Orders of this asset not yet completed or cancelled (any time).' },
          ),
          sqlTable(
            'Downtime periods',
            `SELECT d.started_at, d.ended_at, ROUND(d.hours::numeric, 2) AS hours, d.reason
  FROM kpi_asset_downtime d
 WHERE d.started_at <= $__timeTo() AND d.effective_end >= $__timeFrom()
   AND ('\${asset}' = '__all' OR d.asset_code = '\${asset}')
 ORDER BY d.started_at DESC
 LIMIT 200`,
          ),
        ],
      },
    ],
  });
}
