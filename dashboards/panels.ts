/**
 * Panel and variable factories shared by the boards. KPI panels take everything from the KPI
 * definition (title, unit, formula, SQL text verbatim) so a formula exists in exactly one place.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import { ConstantVariableBuilder, QueryVariableBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as BarGaugePanel } from '@grafana/grafana-foundation-sdk/bargauge';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { kpiById, type KpiDefinition, type KpiUnit } from '../kpis/definitions.ts';
import { TAG_ASSET, TAG_SITE, TELEMETRY_MEASUREMENT } from '../ingest/telemetry-schema.ts';
import { INFLUX, POSTGRES } from './datasources.ts';
import { influxql } from './builders/influxql.ts';
import { sql, type SqlFormat } from './builders/postgres.ts';

/** The "no filter" value of every template variable (shared with the KPI SQL dialect). */
export const ALL = '__all';

/**
 * Metric (field) names the demo fleet and the PM rules use. A rename in the simulator makes the
 * integration test (every panel returns rows) fail.
 */
export const METRIC = { runHours: 'runHours', temperature: 'temperature', vibration: 'vibration' } as const;

const ident = (name: string): string => `"${name}"`;
/** InfluxQL `FROM` with the measurement named by ingest. */
export const FROM_TELEMETRY = `FROM ${ident(TELEMETRY_MEASUREMENT)}`;
/** InfluxQL filter on the site/asset variables; '__all' matches every series (InfluxQL folds the literal test). */
export const TELEMETRY_SCOPE =
  `(${ident(TAG_SITE)} = '\${site}' OR '\${site}' = '${ALL}') AND (${ident(TAG_ASSET)} = '\${asset}' OR '\${asset}' = '${ALL}')`;

/** Grafana unit ids for the KPI units. Amounts carry no currency in the platform, hence plain numbers. */
const GRAFANA_UNIT: Record<KpiUnit, string> = {
  min: 'm',
  h: 'h',
  '%': 'percent',
  count: 'short',
  ratio: 'none',
  score: 'none',
  currency: 'none',
  days: 'd',
};

export function kpi(id: string): KpiDefinition {
  const def = kpiById(id);
  if (!def) throw new Error(`dashboards: KPI "${id}" is not defined in kpis/definitions.ts`);
  return def;
}

const describe = (def: KpiDefinition): string => `${def.description}\n\nFormula: ${def.formula}\n\nKPI id: ${def.id}`;
const decimals = (unit: KpiUnit): number => (unit === 'count' ? 0 : 2);

/** One number (scalar KPI). */
export function kpiStat(id: string, width = 6) {
  const def = kpi(id);
  return new StatPanel()
    .title(def.title)
    .description(describe(def))
    .datasource(POSTGRES)
    .withTarget(sql(def.sql).format('table'))
    .unit(GRAFANA_UNIT[def.unit])
    .decimals(decimals(def.unit))
    .noValue('–')
    .graphMode(common.BigValueGraphMode.None)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('/^value$/').values(false))
    .height(5)
    .span(width);
}

/** One bar per row of a grouped KPI (asset, engineer, project, age bucket…). */
export function kpiBars(id: string, width = 12) {
  const def = kpi(id);
  if (!def.groupBy) throw new Error(`dashboards: KPI "${id}" has no grouping column; use kpiStat`);
  return new BarGaugePanel()
    .title(def.title)
    .description(describe(def))
    .datasource(POSTGRES)
    .withTarget(sql(def.sql).format('table'))
    .unit(GRAFANA_UNIT[def.unit])
    .decimals(decimals(def.unit))
    .noValue('–')
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Gradient)
    .reduceOptions(new common.ReduceDataOptionsBuilder().values(true).calcs([]).fields('/^value$/'))
    .height(8)
    .span(width);
}

/** A grouped KPI as a table (long lists such as cost per work order). */
export function kpiTable(id: string, width = 12) {
  const def = kpi(id);
  return new TablePanel()
    .title(def.title)
    .description(describe(def))
    .datasource(POSTGRES)
    .withTarget(sql(def.sql).format('table'))
    .overrideByName('value', [{ id: 'unit', value: GRAFANA_UNIT[def.unit] }, { id: 'displayName', value: def.title }])
    .height(8)
    .span(width);
}

/** A KPI grouped by `time` ($__timeGroupAlias) as a time series. */
export function kpiTimeseries(id: string, width = 12) {
  const def = kpi(id);
  if (def.groupBy !== 'time') throw new Error(`dashboards: KPI "${id}" is not a time series (groupBy ${def.groupBy ?? 'none'})`);
  return new TimeseriesPanel()
    .title(def.title)
    .description(describe(def))
    .datasource(POSTGRES)
    .withTarget(sql(def.sql).format('time_series'))
    .unit(GRAFANA_UNIT[def.unit])
    .drawStyle(common.GraphDrawStyle.Bars)
    .fillOpacity(60)
    .height(8)
    .span(width);
}

/** A non-KPI SQL panel (listings and breakdowns over the KPI views / tables). */
export function sqlTable(title: string, rawSql: string, opts: { description?: string; width?: number; height?: number } = {}) {
  return new TablePanel()
    .title(title)
    .description(opts.description ?? '')
    .datasource(POSTGRES)
    .withTarget(sql(rawSql).format('table'))
    .height(opts.height ?? 8)
    .span(opts.width ?? 12);
}

export function sqlStat(title: string, rawSql: string, opts: { description?: string; width?: number; unit?: string } = {}) {
  return new StatPanel()
    .title(title)
    .description(opts.description ?? '')
    .datasource(POSTGRES)
    .withTarget(sql(rawSql).format('table'))
    .unit(opts.unit ?? 'short')
    .graphMode(common.BigValueGraphMode.None)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('/^value$/').values(false))
    .height(5)
    .span(opts.width ?? 6);
}

export function sqlBars(title: string, rawSql: string, opts: { description?: string; width?: number; unit?: string } = {}) {
  return new BarGaugePanel()
    .title(title)
    .description(opts.description ?? '')
    .datasource(POSTGRES)
    .withTarget(sql(rawSql).format('table'))
    .unit(opts.unit ?? 'short')
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Gradient)
    .reduceOptions(new common.ReduceDataOptionsBuilder().values(true).calcs([]).fields('/^value$/'))
    .height(8)
    .span(opts.width ?? 12);
}

export function sqlTimeseries(title: string, rawSql: string, opts: { description?: string; width?: number; unit?: string } = {}) {
  return new TimeseriesPanel()
    .title(title)
    .description(opts.description ?? '')
    .datasource(POSTGRES)
    .withTarget(sql(rawSql).format('time_series' satisfies SqlFormat))
    .unit(opts.unit ?? 'short')
    .drawStyle(common.GraphDrawStyle.Bars)
    .fillOpacity(60)
    .height(8)
    .span(opts.width ?? 12);
}

/** A telemetry time series, one line per series of the query (alias names them). */
export function influxTimeseries(title: string, query: string, opts: { alias?: string; unit?: string; width?: number; description?: string } = {}) {
  const target = influxql(query).format('time_series');
  if (opts.alias) target.alias(opts.alias);
  return new TimeseriesPanel()
    .title(title)
    .description(opts.description ?? '')
    .datasource(INFLUX)
    .withTarget(target)
    .unit(opts.unit ?? 'short')
    .spanNulls(true)
    .height(8)
    .span(opts.width ?? 12);
}

/** Latest value per series as bars (e.g. run-hours per asset). */
export function influxBars(title: string, query: string, opts: { alias?: string; unit?: string; width?: number; description?: string; calc?: string } = {}) {
  const target = influxql(query).format('time_series');
  if (opts.alias) target.alias(opts.alias);
  return new BarGaugePanel()
    .title(title)
    .description(opts.description ?? '')
    .datasource(INFLUX)
    .withTarget(target)
    .unit(opts.unit ?? 'short')
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Gradient)
    .reduceOptions(new common.ReduceDataOptionsBuilder().values(false).calcs([opts.calc ?? 'lastNotNull']))
    .height(8)
    .span(opts.width ?? 12);
}

export function influxStat(title: string, query: string, opts: { unit?: string; width?: number; description?: string } = {}) {
  return new StatPanel()
    .title(title)
    .description(opts.description ?? '')
    .datasource(INFLUX)
    .withTarget(influxql(query).format('time_series'))
    .unit(opts.unit ?? 'short')
    .graphMode(common.BigValueGraphMode.Area)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .height(5)
    .span(opts.width ?? 6);
}

// ── Template variables ──────────────────────────────────────────────────────────────────────────

/**
 * A PostgreSQL query variable whose first option is "All" = '__all'. Single-valued and without
 * Grafana's includeAll on purpose: Grafana then interpolates the value raw, which is what the
 * quoted '${name}' of the KPI dialect expects (with includeAll it would add its own quotes).
 */
export function pgVariable(name: string, label: string, optionsSql: string) {
  const query = `SELECT v.__value, v.__text FROM (SELECT 0 AS pos, '${ALL}' AS __value, 'All' AS __text UNION ALL ${optionsSql}) v ORDER BY v.pos, v.__text`;
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(POSTGRES)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.Disabled)
    .multi(false)
    .includeAll(false)
    .current({ selected: true, text: 'All', value: ALL });
}

export const siteVariable = () => pgVariable('site', 'Site', `SELECT 1, s.code, s.code || ' · ' || s.name FROM sites s`);
export const customerVariable = () => pgVariable('customer', 'Customer', `SELECT 1, c.code, c.code || ' · ' || c.name FROM customers c`);
export const engineerVariable = () => pgVariable('engineer', 'Engineer', `SELECT 1, e.code, e.code || ' · ' || e.name FROM engineers e WHERE e.active`);
/** Assets of the selected site. */
export const assetVariable = () =>
  pgVariable('asset', 'Asset', `SELECT 1, a.code, a.code FROM assets a JOIN sites s ON s.id = a.site_id WHERE ('\${site}' = '${ALL}' OR s.code = '\${site}') AND a.retired_at IS NULL`);

/** One asset at a time, from the tag values InfluxDB has telemetry for. */
export function telemetryAssetVariable() {
  const query = `SHOW TAG VALUES ${FROM_TELEMETRY} WITH KEY = ${ident(TAG_ASSET)}`;
  return new QueryVariableBuilder('asset')
    .label('Asset')
    .datasource(INFLUX)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(false)
    .includeAll(false);
}

/** A hidden variable fixed to '__all' (a KPI filter the board does not offer). */
export const fixedAll = (name: string) => new ConstantVariableBuilder(name).value(ALL).description('no filter on this board');
