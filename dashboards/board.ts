/**
 * Assembles a board from sections of SDK panel builders and returns plain Grafana dashboard JSON
 * (schemaVersion from the SDK, panel ids, grid positions, hidden '__all' constants for every KPI
 * variable the panels use but the board does not offer).
 */
import { DashboardBuilder, DashboardCursorSync, RowBuilder, VariableHide, type Panel, type RowPanel, type VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { fixedAll } from './panels.ts';

export interface BoardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  /** Default time range, e.g. now-24h. */
  from: string;
  variables: cog.Builder<VariableModel>[];
  sections: { row?: string; panels: cog.Builder<Panel>[] }[];
}

/** Grafana dashboard JSON as written to disk and served by the API. */
export type DashboardJson = {
  uid: string;
  title: string;
  tags: string[];
  schemaVersion: number;
  panels: (Panel | RowPanel)[];
  templating: { list: VariableModel[] };
  [key: string]: unknown;
};

/** '${name}' and '$name' uses in a query text (both dialects quote their variables). */
export function variablesIn(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/'\$\{(\w+)\}'|'\$(\w+)'/g)) names.add((m[1] ?? m[2])!);
  return [...names];
}

/** The query texts of a panel (InfluxQL `query` or SQL `rawSql` of every target). */
export function panelQueries(panel: { targets?: unknown[] }): string[] {
  return (panel.targets ?? []).map((t) => {
    const q = t as { query?: unknown; rawSql?: unknown };
    return String(q.rawSql ?? q.query ?? '');
  });
}

export function assembleBoard(spec: BoardSpec): DashboardJson {
  const builder = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['om', ...spec.tags])
    .time({ from: spec.from, to: 'now' })
    .refresh('1m')
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .variables(spec.variables);
  for (const section of spec.sections) {
    if (section.row) builder.withRow(new RowBuilder(section.row));
    for (const p of section.panels) builder.withPanel(p);
  }
  // plain JSON from here on (drops the SDK's marker methods)
  const json = JSON.parse(JSON.stringify(builder.build())) as DashboardJson;
  json.annotations = { list: [] };
  json.id = null;
  json.panels.forEach((p, i) => {
    p.id = i + 1;
  });

  const declared = new Set(json.templating.list.map((v) => v.name));
  const used = new Set<string>();
  for (const p of json.panels) for (const q of panelQueries(p as Panel)) variablesIn(q).forEach((v) => used.add(v));
  for (const v of json.templating.list) variablesIn(String(v.query ?? '')).forEach((n) => used.add(n));
  for (const name of [...used].sort()) {
    if (!declared.has(name)) json.templating.list.push(JSON.parse(JSON.stringify(fixedAll(name).build())) as VariableModel);
  }
  for (const v of json.templating.list) if (v.type === 'constant') v.hide = VariableHide.HideVariable;
  return json;
}
