import { describe, expect, it } from 'vitest';
import { expandInfluxQL, formatInfluxDuration, InfluxMacroError, type InfluxMacroVars } from '../../dashboards/influxql-macros.ts';

const from = new Date('2026-11-01T00:00:00.000Z');
const to = new Date('2026-11-01T06:00:00.000Z');
const F = from.getTime();
const T = to.getTime();
const vars = (over: Partial<InfluxMacroVars> = {}): InfluxMacroVars => ({ from, to, ...over });

describe('expandInfluxQL', () => {
  it.each<[string, string, Partial<InfluxMacroVars>, string]>([
    ['time filter, Grafana format', 'SELECT last("x") FROM "t" WHERE $timeFilter', {}, `SELECT last("x") FROM "t" WHERE time >= ${F}ms and time <= ${T}ms`],
    ['interval (default 1m)', 'GROUP BY time($__interval)', {}, 'GROUP BY time(1m)'],
    ['interval as given', 'GROUP BY time($__interval)', { intervalMs: 90_000 }, 'GROUP BY time(90s)'],
    ['interval in ms', 'x > $__interval_ms', { intervalMs: 30_000 }, 'x > 30000'],
    ['absent variable = __all', `("site" = '\${site}' OR '\${site}' = '__all')`, {}, `("site" = '__all' OR '__all' = '__all')`],
    ['variable value', `"asset" = '\${asset}'`, { asset: 'PUMP-ACME-P100-0001' }, `"asset" = 'PUMP-ACME-P100-0001'`],
    ['$name quoted form', `"site" = '$site'`, { site: 'plant-1' }, `"site" = 'plant-1'`],
    ['every use replaced', `'\${site}' '\${site}' $timeFilter $timeFilter`, { site: 's1' }, `'s1' 's1' time >= ${F}ms and time <= ${T}ms time >= ${F}ms and time <= ${T}ms`],
    ['regex end anchors are not macros', 'WHERE "asset" =~ /^P-1$/', {}, 'WHERE "asset" =~ /^P-1$/'],
    ['alias-like text outside the query is untouched when absent', 'SELECT 1', {}, 'SELECT 1'],
  ])('%s', (_name, query, over, expected) => {
    expect(expandInfluxQL(query, vars(over))).toBe(expected);
  });

  it.each<[string, string, Partial<InfluxMacroVars>, RegExp]>([
    ['unquoted variable', 'WHERE "site" = $site', {}, /unsupported macro \$site/],
    ['unknown quoted variable', `WHERE "x" = '\${customer}'`, {}, /unknown template variable/],
    ['formatted variable', `WHERE "site" =~ /^\${site:regex}$/`, {}, /unsupported macro/],
    ['old [[var]] syntax', 'WHERE "site" = [[site]]', {}, /unsupported macro \[\[site\]\]/],
    ['other Grafana macro', 'WHERE $__timeFilter', {}, /unsupported macro \$__timeFilter/],
    ['typo in timeFilter', 'WHERE $timeFilters', {}, /unsupported macro \$timeFilters/],
    ['value that is not a code', `"site" = '\${site}'`, { site: "x' OR 1=1" }, /not a code/],
    ['inverted range', 'SELECT 1', { from: to, to: from }, /from must be/],
    ['bad interval', 'time($__interval)', { intervalMs: 0 }, /positive/],
  ])('refuses %s', (_name, query, over, message) => {
    expect(() => expandInfluxQL(query, vars(over))).toThrow(InfluxMacroError);
    expect(() => expandInfluxQL(query, vars(over))).toThrow(message);
  });
});

describe('formatInfluxDuration', () => {
  it.each<[number, string]>([
    [1, '1ms'],
    [1500, '1500ms'],
    [1000, '1s'],
    [90_000, '90s'],
    [60_000, '1m'],
    [3_600_000, '1h'],
    [5_400_000, '90m'],
    [86_400_000, '1d'],
  ])('%i ms → %s', (ms, text) => {
    expect(formatInfluxDuration(ms)).toBe(text);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses %s', (ms) => {
    expect(() => formatInfluxDuration(ms)).toThrow(InfluxMacroError);
  });
});
