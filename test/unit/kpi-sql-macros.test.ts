/** The KPI SQL dialect: documented tokens → bind parameters; anything else refused. Plus period parsing. */
import { describe, expect, it } from 'vitest';
import { expandForPostgres, intervalToSeconds, SqlMacroError, variablesUsed, type MacroVars } from '../../kpis/sql-macros.ts';
import { KPI_DEFINITIONS } from '../../kpis/definitions.ts';
import { cleanFilters, groupKey, resolvePeriod, toNumber } from '../../kpis/period.ts';
import { AppError } from '../../platform/errors.ts';

const FROM = new Date('2026-11-01T00:00:00Z');
const TO = new Date('2026-11-30T23:59:59.999Z');
const V: MacroVars = { from: FROM, to: TO };
const F = FROM.toISOString();
const T = TO.toISOString();

describe('expandForPostgres: accepted tokens', () => {
  const cases: { name: string; sql: string; vars?: Partial<MacroVars>; text: string; values: unknown[] }[] = [
    { name: 'no tokens', sql: 'SELECT 1 AS value', text: 'SELECT 1 AS value', values: [] },
    { name: '$__timeFilter', sql: 'WHERE $__timeFilter(w.requested_at)', text: 'WHERE (w.requested_at BETWEEN $1::timestamp AND $2::timestamp)', values: [F, T] },
    { name: 'timeFrom/timeTo share the parameters of timeFilter', sql: '$__timeTo() - $__timeFrom() AND $__timeFilter(x)', text: '$1::timestamp - $2::timestamp AND (x BETWEEN $2::timestamp AND $1::timestamp)', values: [T, F] },
    { name: 'nested parentheses in the column', sql: '$__timeFilter(COALESCE(a.x, (b.y)))', text: '(COALESCE(a.x, (b.y)) BETWEEN $1::timestamp AND $2::timestamp)', values: [F, T] },
    { name: '$__timeGroupAlias with a fixed interval', sql: 'SELECT $__timeGroupAlias(w.at, 1d), 1', text: 'SELECT floor(extract(epoch from w.at)/86400)*86400 AS "time", 1', values: [] },
    { name: '$__timeGroupAlias with $__interval (default 1h)', sql: '$__timeGroupAlias(w.at, $__interval)', text: 'floor(extract(epoch from w.at)/3600)*3600 AS "time"', values: [] },
    { name: '$__timeGroupAlias with $__interval from the vars', sql: '$__timeGroupAlias(w.at,$__interval)', vars: { intervalSeconds: 300 }, text: 'floor(extract(epoch from w.at)/300)*300 AS "time"', values: [] },
    { name: 'absent variable → __all', sql: "('${site}' = '__all' OR s.code = '${site}')", text: "($1::text = '__all' OR s.code = $1::text)", values: ['__all'] },
    { name: 'given variables, numbered in order of first use', sql: "'${customer}' '${site}' '${customer}' '${engineer}' '${asset}'", vars: { site: 'S1', customer: 'C1', asset: 'A1', engineer: 'E1' }, text: '$1::text $2::text $1::text $3::text $4::text', values: ['C1', 'S1', 'E1', 'A1'] },
    {
      name: 'injection attempt in a value stays a bind parameter',
      sql: "s.code = '${site}'",
      vars: { site: "x' OR '1'='1'; DROP TABLE work_orders; --" },
      text: 's.code = $1::text',
      values: ["x' OR '1'='1'; DROP TABLE work_orders; --"],
    },
    { name: 'a value that looks like a macro is just data', sql: "'${engineer}'", vars: { engineer: '$__timeFrom()' }, text: '$1::text', values: ['$__timeFrom()'] },
  ];
  it.each(cases)('$name', ({ sql, vars, text, values }) => {
    expect(expandForPostgres(sql, { ...V, ...vars })).toEqual({ text, values });
  });
});

describe('expandForPostgres: refused', () => {
  const cases: { name: string; sql: string; vars?: Partial<MacroVars>; error: RegExp }[] = [
    { name: 'unknown macro', sql: 'WHERE $__unixEpochFilter(t)', error: /unsupported macro \$__unixEpochFilter/ },
    { name: 'macro without parentheses', sql: 'WHERE t > $__timeFrom', error: /unsupported macro \$__timeFrom/ },
    { name: '$__interval outside timeGroupAlias', sql: 'SELECT $__interval', error: /unsupported macro \$__interval/ },
    { name: 'unknown quoted variable', sql: "'${region}'", error: /unknown template variable/ },
    { name: 'formatted variable', sql: "'${site:csv}'", error: /unknown template variable/ },
    { name: 'unquoted ${site}', sql: 's.code = ${site}', error: /unsupported "\$"/ },
    { name: '$site', sql: "s.code = '$site'", error: /unsupported "\$"/ },
    { name: 'positional parameter', sql: 'WHERE x = $1', error: /unsupported "\$"/ },
    { name: 'dollar quoting', sql: 'SELECT $$x$$', error: /unsupported "\$"/ },
    { name: '[[var]] syntax', sql: "s.code = '[[site]]'", error: /unsupported variable syntax/ },
    { name: 'timeFilter without a column', sql: '$__timeFilter()', error: /one argument/ },
    { name: 'timeGroupAlias with an empty column', sql: '$__timeGroupAlias(, 1d)', error: /missing argument/ },
    { name: 'timeFilter with two columns', sql: '$__timeFilter(a, b)', error: /one argument/ },
    { name: 'a variable inside a macro argument', sql: "$__timeFilter('${site}')", error: /not allowed inside/ },
    { name: 'timeFrom with an argument', sql: '$__timeFrom(x)', error: /takes no argument/ },
    { name: 'bad interval', sql: '$__timeGroupAlias(t, 1 day)', error: /bad interval/ },
    { name: 'unbalanced', sql: '$__timeFilter(t', error: /unbalanced/ },
    { name: 'invalid from', sql: 'SELECT 1', vars: { from: new Date('nope') }, error: /from must be a valid Date/ },
    { name: 'non-integer interval', sql: 'SELECT 1', vars: { intervalSeconds: 1.5 }, error: /intervalSeconds/ },
  ];
  it.each(cases)('$name', ({ sql, vars, error }) => {
    expect(() => expandForPostgres(sql, { ...V, ...vars })).toThrow(SqlMacroError);
    expect(() => expandForPostgres(sql, { ...V, ...vars })).toThrow(error);
  });
});

describe('intervals and variables used', () => {
  it.each([
    ['30s', 30],
    ['5m', 300],
    ['1h', 3600],
    ['2d', 172_800],
    ['1w', 604_800],
    ['$__interval', 42],
  ] as const)('%s → %d s', (spec, secs) => expect(intervalToSeconds(spec, 42)).toBe(secs));
  it('0m is refused', () => expect(() => intervalToSeconds('0m', 1)).toThrow(/positive/));
  it('lists the variables of a query', () => expect(variablesUsed("'${customer}' x '${site}'")).toEqual(['site', 'customer']));
});

describe('every KPI definition', () => {
  it.each(KPI_DEFINITIONS.map((d) => [d.id, d] as const))('%s expands, binds the period end and the site, returns value (and its group column)', (_id, d) => {
    const q = expandForPostgres(d.sql, { ...V, site: 'S' });
    expect(q.text).not.toMatch(/\$__|\$\{|\[\[/);
    expect(q.values).toContain(T);
    expect(q.values).toContain('S');
    expect(q.text).toMatch(/\bAS value\b/);
    if (d.groupBy) expect(q.text).toMatch(new RegExp(`\\b${d.groupBy}\\b`));
    expect(d.formula.length).toBeGreaterThan(10);
  });
  it('ids are unique snake_case', () => {
    const ids = KPI_DEFINITIONS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9_]+$/);
  });
});

describe('period and values', () => {
  const now = new Date('2026-12-15T12:00:00Z');
  const cases: { name: string; q: { from?: string; to?: string }; from: string; to: string }[] = [
    { name: 'default: last 30 days', q: {}, from: '2026-11-15T12:00:00.000Z', to: '2026-12-15T12:00:00.000Z' },
    { name: 'dates: from start of day, to end of day', q: { from: '2026-11-01', to: '2026-11-30' }, from: '2026-11-01T00:00:00.000Z', to: '2026-11-30T23:59:59.999Z' },
    { name: 'date-times with offsets', q: { from: '2026-11-01T08:00:00+08:00', to: '2026-11-02T00:00:00Z' }, from: '2026-11-01T00:00:00.000Z', to: '2026-11-02T00:00:00.000Z' },
    { name: 'only to: 30 days before it', q: { to: '2026-11-30T00:00:00Z' }, from: '2026-10-31T00:00:00.000Z', to: '2026-11-30T00:00:00.000Z' },
    { name: 'from = to is allowed', q: { from: '2026-11-01T00:00:00Z', to: '2026-11-01T00:00:00Z' }, from: '2026-11-01T00:00:00.000Z', to: '2026-11-01T00:00:00.000Z' },
  ];
  it.each(cases)('$name', ({ q, from, to }) => {
    const p = resolvePeriod(q, now);
    expect([p.from.toISOString(), p.to.toISOString()]).toEqual([from, to]);
  });
  it.each([
    [{ from: '2026-12-01', to: '2026-11-01' }, /after/],
    [{ from: '2026-02-30' }, /not a valid date/],
    [{ to: 'yesterday' }, /ISO-8601/],
    [{ from: '2026-11-01 10:00' }, /ISO-8601/],
  ])('%j is a validation error', (q, msg) => {
    expect(() => resolvePeriod(q, now)).toThrow(AppError);
    expect(() => resolvePeriod(q, now)).toThrow(msg);
  });
  it('numbers from SQL values', () => {
    expect([toNumber(null), toNumber(3), toNumber(4n), toNumber('2.50'), toNumber({ toNumber: () => 7.25 })]).toEqual([null, 3, 4, 2.5, 7.25]);
    expect(() => toNumber('abc')).toThrow();
  });
  it('group keys: time buckets become ISO timestamps', () => {
    expect(groupKey('time', 1_793_491_200)).toBe('2026-11-01T00:00:00.000Z');
    expect(groupKey('asset', 'P-1')).toBe('P-1');
    expect(groupKey('work_order', 12)).toBe('12');
  });
  it('empty filters are dropped', () => expect(cleanFilters({ site: 'S1', customer: '', asset: undefined })).toEqual({ site: 'S1' }));
});
