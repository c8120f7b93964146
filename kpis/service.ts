/**
 * KPI service: runs a KPI definition (kpis/definitions.ts) for a period and filters. The query text
 * is expanded by kpis/sql-macros.ts into bind parameters and executed with $queryRawUnsafe; the
 * numbers come back as plain numbers (2 decimals are rounded in the SQL itself, so Grafana shows
 * the same figures).
 */
import type { Db } from '../platform/db/database.ts';
import type { Clock } from '../platform/clock.ts';
import { notFound } from '../platform/errors.ts';
import { KPI_DEFINITIONS, SCALAR_KPIS, kpiById, type KpiDefinition, type KpiUnit } from './definitions.ts';
import { expandForPostgres } from './sql-macros.ts';
import { cleanFilters, groupKey, resolvePeriod, toNumber, type KpiFilters, type KpiPeriod } from './period.ts';

export interface KpiQuery extends KpiFilters {
  from?: string | undefined;
  to?: string | undefined;
}

export interface KpiCatalogueEntry {
  id: string;
  title: string;
  unit: KpiUnit;
  formula: string;
  description: string;
  groupBy: string | null;
}

export interface KpiRow {
  key: string;
  value: number | null;
}

export interface KpiResult {
  id: string;
  title: string;
  unit: KpiUnit;
  from: Date;
  to: Date;
  filters: KpiFilters;
  groupBy: string | null;
  /** Scalar KPIs: the value (null = nothing to compute it from). Grouped KPIs: null. */
  value: number | null;
  /** Grouped KPIs: one row per group value. Scalar KPIs: []. */
  rows: KpiRow[];
}

export interface KpiSummary {
  from: Date;
  to: Date;
  filters: KpiFilters;
  kpis: { id: string; title: string; unit: KpiUnit; value: number | null }[];
}

const catalogueEntry = (d: KpiDefinition): KpiCatalogueEntry => ({ id: d.id, title: d.title, unit: d.unit, formula: d.formula, description: d.description, groupBy: d.groupBy ?? null });

export function createKpiService(deps: { prisma: Db; clock: Clock }) {
  const { prisma, clock } = deps;

  async function execute(def: KpiDefinition, period: KpiPeriod, filters: KpiFilters): Promise<Record<string, unknown>[]> {
    const q = expandForPostgres(def.sql, { ...period, ...filters });
    return prisma.$queryRawUnsafe<Record<string, unknown>[]>(q.text, ...q.values);
  }

  async function evaluate(def: KpiDefinition, period: KpiPeriod, filters: KpiFilters): Promise<KpiResult> {
    const rows = await execute(def, period, filters);
    const base = { id: def.id, title: def.title, unit: def.unit, from: period.from, to: period.to, filters, groupBy: def.groupBy ?? null };
    if (def.groupBy === undefined) return { ...base, value: toNumber(rows[0]?.['value']), rows: [] };
    const col = def.groupBy;
    return { ...base, value: null, rows: rows.map((r) => ({ key: groupKey(col, r[col]), value: toNumber(r['value']) })) };
  }

  return {
    catalogue(): KpiCatalogueEntry[] {
      return KPI_DEFINITIONS.map(catalogueEntry);
    },

    async run(id: string, query: KpiQuery): Promise<KpiResult> {
      const def = kpiById(id);
      if (!def) throw notFound('KPI', id);
      return evaluate(def, resolvePeriod(query, clock.now()), cleanFilters(query));
    },

    async summary(query: KpiQuery): Promise<KpiSummary> {
      const period = resolvePeriod(query, clock.now());
      const filters = cleanFilters(query);
      const kpis = [];
      for (const def of SCALAR_KPIS) {
        const r = await evaluate(def, period, filters);
        kpis.push({ id: r.id, title: r.title, unit: r.unit, value: r.value });
      }
      return { ...period, filters, kpis };
    },
  };
}

export type KpiService = ReturnType<typeof createKpiService>;
