/**
 * The KPI SQL dialect (pure): a query text written for Grafana's PostgreSQL datasource, turned into a
 * parameterised PostgreSQL query for the API and the tests. Only these tokens are understood:
 *
 *   $__timeFilter(<expr>)            → (<expr> BETWEEN $from AND $to)
 *   $__timeFrom() / $__timeTo()      → the period bounds ($n::timestamp, UTC without time zone)
 *   $__timeGroupAlias(<expr>, <iv>)  → floor(extract(epoch from <expr>)/<secs>)*<secs> AS "time"
 *                                      <iv>: 30s, 5m, 1h, 1d, 1w or $__interval
 *   '${site}' '${customer}' '${asset}' '${engineer}'   (quoted, quotes included) → $n::text
 *
 * Anything else that Grafana would interpolate ($__anything, $name, ${name}, ${name:format},
 * [[name]], an unquoted ${site}) is refused with a SqlMacroError, so a typo cannot silently turn into
 * a literal that matches nothing. Variable values never enter the text: each becomes one bind
 * parameter (the same number for every use). An absent variable is '__all' (= no filter, by the
 * convention `('${site}' = '__all' OR s.code = '${site}')`).
 */

export const KPI_VARIABLES = ['site', 'customer', 'asset', 'engineer'] as const;
export type KpiVariable = (typeof KPI_VARIABLES)[number];

/** The value of a template variable meaning "no filter". */
export const ALL = '__all';

export interface MacroVars {
  from: Date;
  to: Date;
  site?: string;
  customer?: string;
  asset?: string;
  engineer?: string;
  /** Value of $__interval in seconds (default 3600). */
  intervalSeconds?: number;
}

export interface ExpandedQuery {
  text: string;
  values: unknown[];
}

export class SqlMacroError extends Error {
  override name = 'SqlMacroError';
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** '1d' → 86400; '$__interval' → the interval variable. */
export function intervalToSeconds(spec: string, intervalSeconds: number): number {
  const s = spec.trim();
  if (s === '$__interval') return intervalSeconds;
  const m = /^(\d+)(s|m|h|d|w)$/.exec(s);
  if (!m) throw new SqlMacroError(`bad interval "${s}" (use e.g. 30s, 5m, 1h, 1d, 1w or $__interval)`);
  const secs = Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  if (secs <= 0) throw new SqlMacroError(`interval must be positive: "${s}"`);
  return secs;
}

/** Index just after the ")" closing the "(" at `open`, honouring nested parentheses and string literals. */
function closingParen(sql: string, open: number): number {
  let depth = 0;
  for (let i = open; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'") {
      const end = sql.indexOf("'", i + 1);
      if (end < 0) break;
      i = end;
    } else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  throw new SqlMacroError(`unbalanced parentheses after position ${open}`);
}

/** Split "a, f(b, c)" at top-level commas. */
function splitArgs(args: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of args) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '' || out.length > 0) out.push(cur.trim());
  return out;
}

function checkVars(vars: MacroVars): void {
  for (const k of ['from', 'to'] as const) {
    const d = vars[k];
    if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new SqlMacroError(`${k} must be a valid Date`);
  }
  for (const k of KPI_VARIABLES) {
    const v = vars[k];
    if (v !== undefined && typeof v !== 'string') throw new SqlMacroError(`${k} must be a string`);
  }
  const iv = vars.intervalSeconds;
  if (iv !== undefined && !(Number.isInteger(iv) && iv > 0)) throw new SqlMacroError('intervalSeconds must be a positive integer');
}

/** Expand the dialect into `{ text, values }` for `prisma.$queryRawUnsafe(text, ...values)` / pg. */
export function expandForPostgres(sql: string, vars: MacroVars): ExpandedQuery {
  checkVars(vars);
  const values: unknown[] = [];
  const slots = new Map<string, number>();
  const param = (key: string, value: unknown, cast: string): string => {
    let n = slots.get(key);
    if (n === undefined) {
      values.push(value);
      n = values.length;
      slots.set(key, n);
    }
    return `$${n}::${cast}`;
  };
  // Timestamps go in as ISO strings: '…Z'::timestamp drops the zone, which is right for UTC columns.
  const from = (): string => param('from', vars.from.toISOString(), 'timestamp');
  const to = (): string => param('to', vars.to.toISOString(), 'timestamp');
  const interval = vars.intervalSeconds ?? 3600;

  const noDollar = (arg: string, what: string): string => {
    if (arg.includes('$')) throw new SqlMacroError(`${what}: macros or variables are not allowed inside its argument ("${arg}")`);
    if (arg === '') throw new SqlMacroError(`${what}: missing argument`);
    return arg;
  };

  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    // Old-style [[var]] variables.
    if (c === '[' && /^\[\[\s*\w+(?::\w+)?\s*\]\]/.test(sql.slice(i))) {
      throw new SqlMacroError(`unsupported variable syntax at position ${i}: ${sql.slice(i, i + 20)}`);
    }
    // Quoted template variable: '${name}'.
    if (c === "'" && sql.startsWith("'${", i)) {
      const m = /^'\$\{(\w+)\}'/.exec(sql.slice(i));
      if (!m || !(KPI_VARIABLES as readonly string[]).includes(m[1]!)) {
        throw new SqlMacroError(`unknown template variable at position ${i}: ${sql.slice(i, i + 24)} (allowed: ${KPI_VARIABLES.map((v) => `'\${${v}}'`).join(', ')})`);
      }
      const name = m[1] as KpiVariable;
      out += param(`var:${name}`, vars[name] ?? ALL, 'text');
      i += m[0].length;
      continue;
    }
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const rest = sql.slice(i);
    const macro = /^\$__(\w+)/.exec(rest);
    if (macro) {
      const name = macro[1]!;
      const open = i + macro[0].length;
      const allowed = ['timeFilter', 'timeFrom', 'timeTo', 'timeGroupAlias'];
      if (!allowed.includes(name) || sql[open] !== '(') {
        throw new SqlMacroError(`unsupported macro $__${name}${sql[open] === '(' ? '(…)' : ''} at position ${i} (allowed: $__timeFilter(col), $__timeFrom(), $__timeTo(), $__timeGroupAlias(col, interval))`);
      }
      const close = closingParen(sql, open);
      const args = splitArgs(sql.slice(open + 1, close - 1));
      if (name === 'timeFrom' || name === 'timeTo') {
        if (args.length !== 0) throw new SqlMacroError(`$__${name}() takes no argument`);
        out += name === 'timeFrom' ? from() : to();
      } else if (name === 'timeFilter') {
        if (args.length !== 1) throw new SqlMacroError('$__timeFilter(column) takes one argument');
        const col = noDollar(args[0]!, '$__timeFilter');
        out += `(${col} BETWEEN ${from()} AND ${to()})`;
      } else {
        if (args.length !== 2) throw new SqlMacroError('$__timeGroupAlias(column, interval) takes two arguments');
        const col = noDollar(args[0]!, '$__timeGroupAlias');
        const secs = intervalToSeconds(args[1]!, interval);
        out += `floor(extract(epoch from ${col})/${secs})*${secs} AS "time"`;
      }
      i = close;
      continue;
    }
    throw new SqlMacroError(`unsupported "$" at position ${i}: ${sql.slice(i, i + 20)} (only the documented macros and quoted '\${site|customer|asset|engineer}' are allowed)`);
  }
  return { text: out, values };
}

/** The template variables a query uses (for documentation and panel wiring). */
export function variablesUsed(sql: string): KpiVariable[] {
  return KPI_VARIABLES.filter((v) => sql.includes(`'\${${v}}'`));
}
