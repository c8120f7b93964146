/**
 * The pure rule-evaluation workload (bench:rules part A) and a short run of it as a CPU gauge. Figures
 * on this shared VM move with the host: bench:rules measured 0.83–1.35 M pure evaluations/s on one day.
 * Every bench report carries the gauge (harness `machine()`), so a latency figure can be read against
 * how fast the machine was when it was taken.
 */
import { evaluate } from '../rules/evaluate.ts';
import type { RuleState, SingleMetricRule } from '../rules/types.ts';

export const RULES: { name: string; kind: 'threshold' | 'usage'; definition: Record<string, unknown> }[] = [
  { name: 'hot', kind: 'threshold', definition: { schemaVersion: 1, metric: 'temperature', operator: '>', value: 85, holdSeconds: 5, hysteresis: 5, consecutive: 1, severity: 'major', priority: 'high' } },
  { name: 'low pressure', kind: 'threshold', definition: { schemaVersion: 1, metric: 'pressure', operator: '<', value: 2, holdSeconds: 0, hysteresis: 0.2, consecutive: 3, severity: 'minor', priority: 'medium' } },
  { name: 'vibration', kind: 'threshold', definition: { schemaVersion: 1, metric: 'vibration', operator: '>=', value: 7, holdSeconds: 10, hysteresis: 1, consecutive: 1, severity: 'major', priority: 'high' } },
  { name: '500 h PM', kind: 'usage', definition: { schemaVersion: 1, metric: 'runHours', every: 500, startAt: 0, tolerance: 0, interval: 'floating', priority: 'medium' } },
  { name: 'cycles PM', kind: 'usage', definition: { schemaVersion: 1, metric: 'cycles', every: 10000, startAt: 0, tolerance: 100, interval: 'fixed', priority: 'low' } },
];
export const METRICS = ['temperature', 'pressure', 'vibration', 'runHours', 'cycles'];
export const value = (metric: string, i: number, step: number): number =>
  metric === 'temperature' ? 60 + ((i + step) % 10) : metric === 'pressure' ? 5 : metric === 'vibration' ? 2 : metric === 'runHours' ? (i % 400) + step * 0.1 : step * 10;

/** evaluate() over `assets` × RULES for `steps` readings each, states kept in a Map: evaluations and seconds. */
export function pureEvaluations(assets: number, steps: number): { evaluations: number; seconds: number } {
  const t0 = Date.now() - 3600_000;
  const rules = RULES.map((r, k) => ({ id: `r${k}`, name: r.name, version: 1, kind: r.kind, definition: r.definition }) as unknown as SingleMetricRule);
  const states = new Map<string, RuleState>();
  let evaluations = 0;
  const started = process.hrtime.bigint();
  for (let step = 0; step < steps; step++) {
    for (let i = 0; i < assets; i++) {
      const ts = new Date(t0 + step * 1000);
      for (const rule of rules) {
        const metric = rule.definition.metric;
        const k = `${rule.id}|${i}`;
        const r = evaluate(rule, states.get(k), { assetId: `a${i}`, assetCode: `A${i}`, metric, value: value(metric, i, step), ts }, ts);
        states.set(k, r.state);
        evaluations++;
      }
    }
  }
  return { evaluations, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/**
 * CPU gauge: pure evaluations/s over 10,000 assets × 5 rules × 4 steps (~0.2 s each), best of three
 * (the first includes compiling). The same workload as bench:rules' "pure evaluate()" figure, shorter;
 * compare gauges with gauges, not with that figure (back to back they differed by −20 % to +25 %).
 */
export function cpuGauge(): number {
  let best = 0;
  for (let k = 0; k < 3; k++) {
    const r = pureEvaluations(10_000, 4);
    best = Math.max(best, r.evaluations / r.seconds);
  }
  return Math.round(best);
}
