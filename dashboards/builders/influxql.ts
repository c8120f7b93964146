/**
 * A raw InfluxQL target for Grafana's InfluxDB datasource. The foundation SDK has no InfluxDB query
 * builder, so this implements its `Builder<Dataquery>` shape: panels accept it like any SDK query.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { INFLUX } from '../datasources.ts';

export type InfluxResultFormat = 'time_series' | 'table';

export interface InfluxQLTarget extends cog.Dataquery {
  refId: string;
  datasource: { type: string; uid: string };
  /** Raw InfluxQL; may use $timeFilter, $__interval and the '${site}' / '${asset}' variables. */
  query: string;
  rawQuery: true;
  resultFormat: InfluxResultFormat;
  /** Series alias, e.g. `$tag_asset`. */
  alias?: string;
}

export class InfluxQLBuilder implements cog.Builder<InfluxQLTarget> {
  private readonly target: Omit<InfluxQLTarget, '_implementsDataqueryVariant'>;

  constructor(query: string) {
    this.target = { refId: 'A', datasource: { ...INFLUX }, query, rawQuery: true, resultFormat: 'time_series' };
  }

  refId(refId: string): this {
    this.target.refId = refId;
    return this;
  }

  format(format: InfluxResultFormat): this {
    this.target.resultFormat = format;
    return this;
  }

  alias(alias: string): this {
    this.target.alias = alias;
    return this;
  }

  build(): InfluxQLTarget {
    // the marker method is non-enumerable: it satisfies the SDK's Dataquery type and never reaches JSON
    return Object.defineProperty({ ...this.target, datasource: { ...this.target.datasource } }, '_implementsDataqueryVariant', {
      value: () => {},
      enumerable: false,
    }) as InfluxQLTarget;
  }
}

export const influxql = (query: string): InfluxQLBuilder => new InfluxQLBuilder(query);
