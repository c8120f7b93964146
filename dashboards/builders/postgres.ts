/**
 * A raw SQL target for Grafana's PostgreSQL datasource (code mode). The foundation SDK has no SQL
 * query builder, so this implements its `Builder<Dataquery>` shape. The text is in the KPI SQL
 * dialect (kpis/sql-macros.ts): $__timeFilter, $__timeFrom/$__timeTo, $__timeGroupAlias, '${site}'…
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { POSTGRES } from '../datasources.ts';

export type SqlFormat = 'time_series' | 'table';

export interface SqlTarget extends cog.Dataquery {
  refId: string;
  datasource: { type: string; uid: string };
  rawSql: string;
  rawQuery: true;
  editorMode: 'code';
  format: SqlFormat;
}

export class SqlBuilder implements cog.Builder<SqlTarget> {
  private readonly target: Omit<SqlTarget, '_implementsDataqueryVariant'>;

  constructor(rawSql: string) {
    this.target = { refId: 'A', datasource: { ...POSTGRES }, rawSql, rawQuery: true, editorMode: 'code', format: 'table' };
  }

  refId(refId: string): this {
    this.target.refId = refId;
    return this;
  }

  format(format: SqlFormat): this {
    this.target.format = format;
    return this;
  }

  build(): SqlTarget {
    return Object.defineProperty({ ...this.target, datasource: { ...this.target.datasource } }, '_implementsDataqueryVariant', {
      value: () => {},
      enumerable: false,
    }) as SqlTarget;
  }
}

export const sql = (rawSql: string): SqlBuilder => new SqlBuilder(rawSql);
