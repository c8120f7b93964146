/**
 * The one place that names how telemetry is stored. Dashboards and queries import these names,
 * so a rename breaks a test instead of silently emptying a panel.
 *
 * InfluxDB: measurement `telemetry`, tags `site` and `asset`, one float field per metric
 *   (e.g. `telemetry,site=plant-1,asset=PUMP-ACME-X1-0001 runHours=512.3,temperature=71.2 1732530000000`),
 *   precision ms.
 * Embedded store: table `telemetry_points(asset_code, metric, ts, value, site_code)`, one row per metric.
 */
export const TELEMETRY_MEASUREMENT = 'telemetry';
export const TAG_SITE = 'site';
export const TAG_ASSET = 'asset';
export const EMBEDDED_TELEMETRY_TABLE = 'telemetry_points';

/** Metric names become InfluxDB field keys and SQL values: keep them identifier-like. */
export const METRIC_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** Site and asset codes appear in MQTT topics and as tag values. */
export const CODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
