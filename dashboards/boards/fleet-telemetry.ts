/** Fleet telemetry overview: run-hours, temperature and vibration per asset (InfluxDB), alarms (PostgreSQL). */
import { assembleBoard, type DashboardJson } from '../board.ts';
import {
  assetVariable,
  FROM_TELEMETRY,
  influxBars,
  influxTimeseries,
  kpiStat,
  METRIC,
  siteVariable,
  sqlStat,
  sqlTable,
  sqlTimeseries,
  TELEMETRY_SCOPE,
} from '../panels.ts';
import { TAG_ASSET } from '../../ingest/telemetry-schema.ts';

const BY_ASSET = `GROUP BY "${TAG_ASSET}"`;
const alarmScope = `('\${site}' = '__all' OR a.site_code = '\${site}') AND ('\${asset}' = '__all' OR a.asset_code = '\${asset}')`;
const ALARMS = `FROM alarms al JOIN kpi_assets a ON a.asset_id = al.asset_id`;

export function fleetTelemetryBoard(): DashboardJson {
  return assembleBoard({
    uid: 'om-fleet-telemetry',
    title: 'Fleet telemetry overview',
    description: 'Per site and asset: run-hours, temperature and vibration from InfluxDB; alarms from the platform.',
    tags: ['telemetry', 'fleet'],
    from: 'now-6h',
    variables: [siteVariable(), assetVariable()],
    sections: [
      {
        row: 'Run-hours',
        panels: [
          influxBars('Run-hours per asset (latest)', `SELECT last("${METRIC.runHours}") AS "runHours" ${FROM_TELEMETRY} WHERE ${TELEMETRY_SCOPE} AND $timeFilter ${BY_ASSET}`, {
            alias: `$tag_${TAG_ASSET}`,
            unit: 'h',
            description: 'Run-hours counter reported by each asset (latest value in the time range).',
          }),
          influxBars('Run-hours accumulated in range', `SELECT spread("${METRIC.runHours}") AS "runHours" ${FROM_TELEMETRY} WHERE ${TELEMETRY_SCOPE} AND $timeFilter ${BY_ASSET}`, {
            alias: `$tag_${TAG_ASSET}`,
            unit: 'h',
            description: 'Increase of the run-hours counter within the time range.',
          }),
        ],
      },
      {
        row: 'Condition',
        panels: [
          influxTimeseries('Temperature', `SELECT mean("${METRIC.temperature}") ${FROM_TELEMETRY} WHERE ${TELEMETRY_SCOPE} AND $timeFilter GROUP BY time($__interval), "${TAG_ASSET}" fill(null)`, {
            alias: `$tag_${TAG_ASSET}`,
            unit: 'celsius',
          }),
          influxTimeseries('Vibration', `SELECT mean("${METRIC.vibration}") ${FROM_TELEMETRY} WHERE ${TELEMETRY_SCOPE} AND $timeFilter GROUP BY time($__interval), "${TAG_ASSET}" fill(null)`, {
            alias: `$tag_${TAG_ASSET}`,
            unit: 'velocitymms',
          }),
        ],
      },
      {
        row: 'Alarms',
        panels: [
          sqlStat('Active alarms', `SELECT COUNT(*)::int AS value ${ALARMS} WHERE al.status = 'active' AND ${alarmScope}`, {
            description: 'Alarms currently active (not cleared), any time.',
          }),
          sqlStat('Alarms raised in range', `SELECT COUNT(*)::int AS value ${ALARMS} WHERE $__timeFilter(al.raised_at) AND ${alarmScope}`),
          kpiStat('backlog_count'),
          kpiStat('downtime_hours'),
          sqlTimeseries(
            'Alarms raised',
            `SELECT $__timeGroupAlias(al.raised_at, $__interval), COUNT(*)::int AS value ${ALARMS} WHERE $__timeFilter(al.raised_at) AND ${alarmScope} GROUP BY 1 ORDER BY 1`,
            { width: 24 },
          ),
          sqlTable(
            'Recent alarms',
            `SELECT al.raised_at AS "time", a.asset_code AS asset, al.severity::text AS severity, al.code, al.status::text AS status, al.message, al.cleared_at
  ${ALARMS}
 WHERE $__timeFilter(al.raised_at) AND ${alarmScope}
 ORDER BY al.raised_at DESC
 LIMIT 200`,
            { width: 24 },
          ),
        ],
      },
    ],
  });
}
