/**
 * The one place that names the Grafana datasources. Every panel, every template variable and the
 * provisioning file (dashboards/provisioning/datasources/datasources.yaml) take their uid from here,
 * so a panel can never point at a datasource that is not provisioned.
 */
import { CONFIG_SPEC } from '../platform/config.ts';

export interface DatasourceRef {
  readonly type: string;
  readonly uid: string;
}

/** InfluxDB, queried in InfluxQL over the v1 API (served by 1.x, by 2.x via DBRP mapping and by 3.x). */
export const INFLUX: DatasourceRef = Object.freeze({ type: 'influxdb', uid: 'om-influx' });
/** The relational model (work orders, assets, stock, KPIs). */
export const POSTGRES: DatasourceRef = Object.freeze({ type: 'grafana-postgresql-datasource', uid: 'om-postgres' });

export const DATASOURCES = [INFLUX, POSTGRES] as const;

/** The database the ingest writes to unless INFLUX_DATABASE says otherwise. */
export const INFLUX_DATABASE = CONFIG_SPEC.influxDatabase.default ?? 'om';

/**
 * Grafana datasource provisioning for the docker compose stack (service names and the dev
 * credentials of docker-compose.yml). Written by `npm run dashboards`.
 */
export function provisionedDatasources(): { apiVersion: 1; datasources: Record<string, unknown>[] } {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: 'InfluxDB',
        uid: INFLUX.uid,
        type: INFLUX.type,
        access: 'proxy',
        url: 'http://influxdb:8086',
        isDefault: true,
        // InfluxDB 2.x serves InfluxQL on its v1 API; the token goes in an Authorization header
        jsonData: { version: 'InfluxQL', dbName: INFLUX_DATABASE, httpMode: 'GET', httpHeaderName1: 'Authorization' },
        secureJsonData: { httpHeaderValue1: 'Token om-dev-token' },
      },
      {
        name: 'PostgreSQL',
        uid: POSTGRES.uid,
        type: POSTGRES.type,
        access: 'proxy',
        url: 'postgres:5432',
        user: 'om',
        jsonData: { database: 'om', sslmode: 'disable', postgresVersion: 1500, timescaledb: false },
        secureJsonData: { password: 'om' },
      },
    ],
  };
}
