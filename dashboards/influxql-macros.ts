/**
 * Grafana's InfluxQL interpolation, for the queries our dashboards use (pure). The tests and any
 * server-side reader run panel queries exactly as Grafana would send them. Understood:
 *
 *   $timeFilter              → time >= <from>ms and time <= <to>ms        (Grafana's own format)
 *   $__interval              → the group-by interval as an InfluxQL duration (e.g. 30s, 5m, 1h)
 *   $__interval_ms           → the same in milliseconds
 *   '${site}' '${asset}'     → the variable's value as an InfluxQL string literal (quotes included);
 *   '$site'   '$asset'         '__all' (the default) means "no filter", by the convention shared with
 *                              the KPI SQL dialect: ("site" = '${site}' OR '${site}' = '__all')
 *                              (InfluxQL folds the literal comparison, so __all matches every series)
 *
 * Anything else Grafana would interpolate ($name unquoted, ${name:format}, [[name]], other $__macros)
 * is refused, so a typo cannot turn into a literal that silently matches nothing.
 */
import { CODE } from '../ingest/telemetry-schema.ts';

export const INFLUX_VARIABLES = ['site', 'asset'] as const;
export type InfluxVariable = (typeof INFLUX_VARIABLES)[number];
export const ALL = '__all';

export interface InfluxMacroVars {
  from: Date;
  to: Date;
  /** $__interval in milliseconds (default 60 000). */
  intervalMs?: number;
  site?: string;
  asset?: string;
}

export class InfluxMacroError extends Error {
  override name = 'InfluxMacroError';
}

const UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/** 60 000 → '1m', 90 000 → '90s', 1500 → '1500ms': the largest unit that divides exactly. */
export function formatInfluxDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new InfluxMacroError(`interval must be a positive whole number of ms, got ${ms}`);
  for (const [unit, size] of UNITS) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

const isVariable = (name: string): name is InfluxVariable => (INFLUX_VARIABLES as readonly string[]).includes(name);

function literal(name: InfluxVariable, value: string | undefined): string {
  const v = value ?? ALL;
  if (v !== ALL && !CODE.test(v)) throw new InfluxMacroError(`variable ${name}: "${v}" is not a code (letters, digits, _ . -) or ${ALL}`);
  return `'${v}'`;
}

// order matters: quoted variables first, then the known macros, then anything else that looks like one
const TOKEN = /'\$\{(\w+)\}'|'\$(\w+)'|\$timeFilter(?!\w)|\$__interval_ms(?!\w)|\$__interval(?!\w)|\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\]/g;

export function expandInfluxQL(query: string, vars: InfluxMacroVars): string {
  const from = vars.from.getTime();
  const to = vars.to.getTime();
  if (!Number.isFinite(from) || !Number.isFinite(to) || from > to) throw new InfluxMacroError('time range: from must be a valid time not after to');
  const intervalMs = vars.intervalMs ?? 60_000;
  const interval = formatInfluxDuration(intervalMs);
  return query.replace(TOKEN, (token, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare;
    if (name !== undefined) {
      if (!isVariable(name)) throw new InfluxMacroError(`unknown template variable ${token} (known: ${INFLUX_VARIABLES.join(', ')})`);
      return literal(name, vars[name]);
    }
    if (token === '$timeFilter') return `time >= ${from}ms and time <= ${to}ms`;
    if (token === '$__interval') return interval;
    if (token === '$__interval_ms') return String(intervalMs);
    throw new InfluxMacroError(`unsupported macro ${token}: use $timeFilter, $__interval, $__interval_ms or a quoted '\${site}' / '\${asset}'`);
  });
}
