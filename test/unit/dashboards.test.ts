/**
 * Structure of the generated dashboards: datasources exist in provisioning, names come from the
 * ingest schema, KPI panels carry the KPI text verbatim, variables are declared, queries expand,
 * and the committed files equal a fresh generation.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDashboards } from '../../dashboards/catalog.ts';
import { panelQueries, variablesIn, type DashboardJson } from '../../dashboards/board.ts';
import { DATASOURCES, INFLUX, INFLUX_DATABASE, POSTGRES } from '../../dashboards/datasources.ts';
import { expandInfluxQL } from '../../dashboards/influxql-macros.ts';
import { pushDashboards } from '../../dashboards/grafana-push.ts';
import { METRIC } from '../../dashboards/panels.ts';
import { dashboardFileName, GRAFANA_JSON_PATH, PROVISIONING_DIR, renderProvisioning } from '../../dashboards/provisioning.ts';
import { TAG_ASSET, TAG_SITE, TELEMETRY_MEASUREMENT } from '../../ingest/telemetry-schema.ts';
import { KPI_DEFINITIONS, kpiById } from '../../kpis/definitions.ts';
import { expandForPostgres } from '../../kpis/sql-macros.ts';
import { CONFIG_SPEC } from '../../platform/config.ts';

const root = join(import.meta.dirname, '../..');
const boards = buildDashboards();
interface Target {
  refId: string;
  datasource: { type: string; uid: string };
  query?: string;
  rawSql?: string;
}
interface AnyPanel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
}
const panelsOf = (b: DashboardJson) => (b.panels as unknown as AnyPanel[]).filter((p) => p.type !== 'row');
const allPanels = boards.flatMap((b) => panelsOf(b).map((p) => ({ board: b, panel: p })));
const targets = allPanels.flatMap(({ board, panel }) => (panel.targets ?? []).map((t) => ({ board, panel, t })));
const influxTargets = targets.filter(({ t }) => t.datasource.uid === INFLUX.uid);
const sqlTargets = targets.filter(({ t }) => t.datasource.uid === POSTGRES.uid);
const kpiIdOf = (p: AnyPanel) => /KPI id: (\w+)/.exec(p.description ?? '')?.[1];
const range = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z') };

describe('dashboards: Grafana JSON shape', () => {
  it('six boards with unique uids, titles and a schema version', () => {
    expect(boards.map((b) => b.uid)).toEqual(['om-fleet-telemetry', 'om-asset-detail', 'om-maintenance-ops', 'om-engineer-performance', 'om-parts-inventory', 'om-project-cost']);
    expect(new Set(boards.map((b) => b.title)).size).toBe(boards.length);
    for (const b of boards) {
      expect(b.schemaVersion, b.uid).toBeGreaterThanOrEqual(36);
      expect(b.uid.length, b.uid).toBeLessThanOrEqual(40);
      expect(b.annotations, b.uid).toEqual({ list: [] });
    }
  });

  it.each(boards.map((b) => [b.uid, b] as const))('%s: unique panel ids, grid inside 24 columns, no overlap, every panel has targets', (_uid, b) => {
    const all = b.panels as unknown as AnyPanel[];
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length);
    const cells = new Set<string>();
    for (const p of all) {
      const g = p.gridPos;
      expect(g.w, p.title).toBeGreaterThan(0);
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
    for (const p of panelsOf(b)) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.title.length, 'title').toBeGreaterThan(0);
    }
  });
});

describe('dashboards: datasources', () => {
  const yaml = readFileSync(join(root, PROVISIONING_DIR, 'datasources/datasources.yaml'), 'utf8');

  it('the provisioning file declares every datasource uid and type the code knows', () => {
    for (const ds of DATASOURCES) {
      expect(yaml).toContain(`uid: ${ds.uid}`);
      expect(yaml).toContain(`type: ${ds.type}`);
    }
    expect(yaml).toContain(`dbName: ${INFLUX_DATABASE}`);
    expect(INFLUX_DATABASE).toBe(CONFIG_SPEC.influxDatabase.default);
  });

  it('every panel and target points at a provisioned datasource, the same for panel and targets', () => {
    const known = new Set(DATASOURCES.map((d) => `${d.type}/${d.uid}`));
    for (const { board, panel, t } of targets) {
      expect(known.has(`${t.datasource.type}/${t.datasource.uid}`), `${board.uid} / ${panel.title}`).toBe(true);
      expect(panel.datasource, `${board.uid} / ${panel.title}`).toEqual(t.datasource);
      expect(t.query ?? t.rawSql, `${board.uid} / ${panel.title}`).toBeTruthy();
    }
    for (const b of boards)
      for (const v of b.templating.list)
        if (v.datasource) expect(known.has(`${v.datasource.type}/${v.datasource.uid}`), `${b.uid} $${v.name}`).toBe(true);
    expect(influxTargets.length).toBeGreaterThan(5);
    expect(sqlTargets.length).toBeGreaterThan(20);
  });
});

describe('dashboards: InfluxQL uses the ingest schema names', () => {
  it.each(influxTargets.map(({ board, panel, t }) => [`${board.uid} / ${panel.title}`, t.query!] as const))('%s', (_name, q) => {
    // a rename of the measurement, a tag or a metric must show up here, not as an empty panel
    expect(q).toContain(`FROM "${TELEMETRY_MEASUREMENT}"`);
    expect([...q.matchAll(/FROM "(\w+)"/g)].map((m) => m[1])).toEqual([TELEMETRY_MEASUREMENT]);
    expect(q).toContain(`"${TAG_SITE}" = '\${site}'`);
    expect(q).toContain(`"${TAG_ASSET}" = '\${asset}'`);
    expect(q).toContain('$timeFilter');
    const fields = [...q.matchAll(/\w+\("(\w+)"\)/g)].map((m) => m[1]);
    expect(fields.length).toBeGreaterThan(0);
    for (const f of fields) expect(Object.values(METRIC), f).toContain(f);
    for (const m of q.matchAll(/GROUP BY (?:time\([^)]*\), )?"(\w+)"/g)) expect([TAG_SITE, TAG_ASSET]).toContain(m[1]);
    expect(() => expandInfluxQL(q, { ...range, site: 'plant-1', asset: 'P-1' })).not.toThrow();
  });

  it('the run-hours metric is a meter metric by default (the PM rules count the same field)', () => {
    expect(CONFIG_SPEC.meterMetrics.default?.split(',')).toContain(METRIC.runHours);
  });

  it('the asset-detail variable lists the asset tag of the telemetry measurement', () => {
    const v = boards.find((b) => b.uid === 'om-asset-detail')!.templating.list.find((x) => x.name === 'asset')!;
    expect(v.datasource).toEqual(INFLUX);
    expect(v.query).toBe(`SHOW TAG VALUES FROM "${TELEMETRY_MEASUREMENT}" WITH KEY = "${TAG_ASSET}"`);
  });
});

describe('dashboards: KPI panels use the KPI definitions verbatim', () => {
  const kpiPanels = allPanels.filter(({ panel }) => kpiIdOf(panel));

  it('every KPI appears on at least one board', () => {
    const shown = new Set(kpiPanels.map(({ panel }) => kpiIdOf(panel)));
    expect(KPI_DEFINITIONS.map((d) => d.id).filter((id) => !shown.has(id))).toEqual([]);
  });

  it.each(kpiPanels.map(({ board, panel }) => [`${board.uid} / ${panel.title}`, panel] as const))('%s', (_name, panel) => {
    const def = kpiById(kpiIdOf(panel)!)!;
    expect(def).toBeDefined();
    expect(panel.title).toBe(def.title);
    expect(panel.targets).toHaveLength(1);
    expect(panel.targets![0]!.rawSql).toBe(def.sql);
    expect(panel.description).toContain(def.formula);
  });

  it('no other panel carries a KPI query (no hand-copied formulas)', () => {
    const kpiSql = KPI_DEFINITIONS.map((d) => d.sql);
    for (const { board, panel, t } of sqlTargets.filter(({ panel }) => !kpiIdOf(panel))) {
      for (const s of kpiSql) expect(t.rawSql!.includes(s), `${board.uid} / ${panel.title}`).toBe(false);
      // the KPI views' derived measures are aggregated only in kpis/definitions.ts
      expect(t.rawSql, `${board.uid} / ${panel.title}`).not.toMatch(/(AVG|SUM)\(\s*\w+\.(frt_minutes|repair_hours|total_cost|csat_score|operating_hours)/);
    }
  });
});

describe('dashboards: template variables', () => {
  it.each(boards.map((b) => [b.uid, b] as const))('%s: every variable a query uses is declared; SQL-facing variables interpolate raw', (_uid, b) => {
    const declared = new Map(b.templating.list.map((v) => [v.name, v]));
    const used = new Set<string>();
    for (const p of panelsOf(b)) for (const q of panelQueries(p as never)) variablesIn(q).forEach((n) => used.add(n));
    for (const v of b.templating.list) variablesIn(String(v.query ?? '')).forEach((n) => used.add(n));
    for (const name of used) expect(declared.has(name), `$${name}`).toBe(true);
    for (const v of b.templating.list) {
      // Grafana quotes multi/includeAll values for SQL datasources; the dialect expects the raw value
      expect(v.multi, `$${v.name}`).toBe(false);
      expect(v.includeAll, `$${v.name}`).toBe(false);
      if (v.type === 'constant') expect(v.query).toBe('__all');
    }
  });

  it('SQL variables offer __all first and expand in the KPI dialect', () => {
    for (const b of boards)
      for (const v of b.templating.list.filter((x) => x.datasource?.uid === POSTGRES.uid)) {
        expect(String(v.query)).toContain(`'__all' AS __value`);
        expect(v.current?.value).toBe('__all');
        expect(() => expandForPostgres(String(v.query), range), `${b.uid} $${v.name}`).not.toThrow();
      }
  });

  it('every SQL panel query expands in the KPI dialect (only known macros and variables)', () => {
    for (const { board, panel, t } of sqlTargets) expect(() => expandForPostgres(t.rawSql!, { ...range, site: 'plant-1' }), `${board.uid} / ${panel.title}`).not.toThrow();
  });
});

describe('dashboards: committed provisioning equals a fresh generation (run `npm run dashboards`)', () => {
  const files = renderProvisioning(boards);

  it.each([...files.keys()])('%s', (rel) => {
    expect(readFileSync(join(root, PROVISIONING_DIR, rel), 'utf8')).toBe(files.get(rel));
  });

  it('no stale board JSON is committed', () => {
    const dir = join(root, PROVISIONING_DIR, 'dashboards/json');
    expect(readdirSync(dir).sort()).toEqual(boards.map((b) => dashboardFileName(b.uid).split('/').pop()).sort());
  });

  it('docker compose mounts the provisioning folder where the provider looks for board JSON', () => {
    const compose = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain(`./${PROVISIONING_DIR}:/etc/grafana/provisioning`);
    expect(GRAFANA_JSON_PATH).toBe('/etc/grafana/provisioning/dashboards/json');
    expect(files.get('dashboards/dashboards.yaml')).toContain(`path: ${GRAFANA_JSON_PATH}`);
  });
});

describe('push to Grafana: only a Grafana success answer counts as stored', () => {
  const one = boards.slice(0, 1);
  const fakeFetch =
    (answer: () => Response): typeof fetch =>
    async (_url, init) => {
      // the push must not follow redirects (an SSO proxy would turn the POST into a GET of its login page)
      expect(init?.redirect).toBe('manual');
      return answer();
    };
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  it.each([
    ['Grafana stored it', () => json(200, { id: 1, uid: one[0]!.uid, url: `/d/${one[0]!.uid}/x`, status: 'success', version: 2 }), true, undefined],
    ['an HTML login page with 200', () => new Response('<html>Sign in</html>', { status: 200, headers: { 'content-type': 'text/html' } }), false, /non-JSON body \(text\/html\)/],
    ['an empty 204', () => new Response(null, { status: 204 }), false, /non-JSON body/],
    ['JSON that is not Grafana\'s answer', () => json(200, { ok: true }), false, /without status "success"/],
    ['a redirect to a login page', () => new Response(null, { status: 302, headers: { location: 'https://sso.example/login' } }), false, /302: redirected to https:\/\/sso.example\/login/],
  ])('%s', async (_label, answer, ok, error) => {
    const r = await pushDashboards(one, { grafanaUrl: 'http://grafana.test' }, { fetch: fakeFetch(answer) });
    expect(r).toMatchObject({ reachable: true, pushed: ok ? 1 : 0, failed: ok ? 0 : 1 });
    if (error) expect(r.results[0]!.error).toMatch(error);
    else expect(r.results[0]).toMatchObject({ ok: true, status: 200, version: 2 });
  });

  it('a body that cannot be read is a failed board, not an unhandled error', async () => {
    const broken = new Response(new ReadableStream({ pull: (c) => c.error(new Error('socket hang up')) }), { status: 200 });
    const r = await pushDashboards(one, { grafanaUrl: 'http://grafana.test' }, { fetch: fakeFetch(() => broken) });
    expect(r).toMatchObject({ reachable: true, pushed: 0, failed: 1 });
    expect(r.results[0]!.error).toMatch(/body could not be read: socket hang up/);
  });
});
