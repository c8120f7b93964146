/**
 * Backtest / dry run: replay stored telemetry through a rule (saved or draft) for a time range and
 * report the work orders and alarms it would have produced — nothing is created. Uses the same
 * pure `evaluate` as live evaluation. Simulation assumptions (stated in the result):
 *  - an order counts as resolved when its alarm clears (so a later episode is a new order);
 *  - a usage PM order is completed at the reading that triggered it (floating interval restarts there).
 */
import { evaluate, metricsOf, pmCompleted } from './evaluate.ts';
import type { Explanation, ReadingRule, RuleState, UsageState } from './types.ts';

/** What the backtest needs from the telemetry store (the TelemetryStore port satisfies it). */
export interface ReadingSource {
  query(q: { asset: string; metric: string; from: Date; to: Date; limit: number; order?: 'asc' | 'desc' }): Promise<{ ts: Date; value: number }[]>;
}

export interface BacktestAsset {
  id: string;
  code: string;
}

export interface WouldBeOrder {
  assetCode: string;
  dedupeKey: string;
  title: string;
  priority: string;
  requestedAt: Date;
  alarmClearedAt: Date | null;
  explanation: Explanation;
}

export interface BacktestResult {
  rule: { id: string; name: string; version: number; kind: string };
  from: Date;
  to: Date;
  assets: number;
  readings: number;
  workOrders: WouldBeOrder[];
  alarms: { raised: number; cleared: number };
  assumptions: string[];
  durationMs: number;
}

const PAGE = 10_000;

export async function backtest(opts: {
  rule: ReadingRule;
  assets: BacktestAsset[];
  source: ReadingSource;
  from: Date;
  to: Date;
  /** Called after each asset: (done, total, readings so far). */
  onProgress?(done: number, total: number, readings: number): void;
  /** Stops early once this many orders were found (protects the API from huge answers). */
  maxOrders?: number;
}): Promise<BacktestResult> {
  const started = Date.now();
  const { rule } = opts;
  const metrics = metricsOf(rule);
  const orders: WouldBeOrder[] = [];
  let readings = 0;
  let raised = 0;
  let cleared = 0;
  const maxOrders = opts.maxOrders ?? 10_000;
  for (const [i, asset] of opts.assets.entries()) {
    let state: RuleState | undefined;
    const open = new Map<string, WouldBeOrder>();
    const cursors = new Map(metrics.map((m) => [m, opts.from]));
    for (;;) {
      // one page per metric, merged in time order (a composite rule watches several)
      const pages = await Promise.all(metrics.map(async (metric) => ({ metric, rows: await opts.source.query({ asset: asset.code, metric, from: cursors.get(metric)!, to: opts.to, limit: PAGE }) })));
      const full = pages.filter((p) => p.rows.length === PAGE);
      // with several metrics, only merge up to the earliest page end so the order stays exact
      const horizon = full.length > 0 ? Math.min(...full.map((p) => p.rows[p.rows.length - 1]!.ts.getTime())) : Infinity;
      const page = pages
        .flatMap((p) => p.rows.filter((row) => row.ts.getTime() <= horizon).map((row) => ({ metric: p.metric, ...row })))
        .sort((a, b) => a.ts.getTime() - b.ts.getTime());
      for (const p of pages) {
        const consumed = p.rows.filter((row) => row.ts.getTime() <= horizon);
        if (consumed.length > 0) cursors.set(p.metric, new Date(consumed[consumed.length - 1]!.ts.getTime() + 1));
      }
      for (const p of page) {
        readings++;
        const r = evaluate(rule, state, { assetId: asset.id, assetCode: asset.code, metric: p.metric, value: p.value, ts: p.ts }, p.ts);
        state = r.state;
        for (const d of r.decisions) {
          if (d.type === 'clear') {
            const o = open.get(d.openKey);
            if (o) {
              o.alarmClearedAt = d.at;
              open.delete(d.openKey);
              cleared++;
            }
            continue;
          }
          if (open.has(d.openKey)) continue; // live, the open order would absorb it
          const order: WouldBeOrder = { assetCode: asset.code, dedupeKey: d.dedupeKey, title: d.title, priority: d.priority, requestedAt: d.at, alarmClearedAt: null, explanation: d.explanation };
          orders.push(order);
          if (d.alarm) {
            raised++;
            open.set(d.openKey, order);
          }
          if (rule.kind === 'usage' && state.kind === 'usage') {
            state = pmCompleted(state as UsageState, p.value, rule.definition.interval, rule.definition.every);
          }
        }
      }
      if (full.length === 0 || orders.length >= maxOrders) break;
    }
    opts.onProgress?.(i + 1, opts.assets.length, readings);
    if (orders.length >= maxOrders) break;
  }
  return {
    rule: { id: rule.id, name: rule.name, version: rule.version, kind: rule.kind },
    from: opts.from,
    to: opts.to,
    assets: opts.assets.length,
    readings,
    workOrders: orders.slice(0, maxOrders),
    alarms: { raised, cleared },
    assumptions: [
      'an order counts as resolved when its alarm clears',
      'usage PM orders are completed at the reading that triggered them',
      ...(orders.length >= maxOrders ? [`stopped after ${maxOrders} work orders`] : []),
    ],
    durationMs: Date.now() - started,
  };
}
