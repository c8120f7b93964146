import { describe, expect, it } from 'vitest';
import { checkDefinition } from '../../rules/definitions.ts';

describe('rule definitions', () => {
  it('fills defaults and the schema version', () => {
    const r = checkDefinition('threshold', { metric: 'temperature', operator: '>', value: 85, severity: 'major', priority: 'high' });
    expect(r).toEqual({
      ok: true,
      definition: { schemaVersion: 1, metric: 'temperature', operator: '>', value: 85, holdSeconds: 0, hysteresis: 0, consecutive: 1, severity: 'major', priority: 'high' },
    });
    const u = checkDefinition('usage', { metric: 'runHours', every: 500, priority: 'medium' });
    expect(u.ok && u.definition).toMatchObject({ startAt: 0, tolerance: 0, interval: 'floating', schemaVersion: 1 });
  });

  it.each([
    ['threshold', { metric: 'temperature', operator: '!=', value: 85, severity: 'major', priority: 'high' }, '/operator'],
    ['threshold', { metric: 'temperature', operator: '>', value: '85', severity: 'major', priority: 'high' }, '/value'],
    ['threshold', { metric: 'temperature', operator: '>', value: 85, severity: 'major', priority: 'high', holdSeconds: -1 }, '/holdSeconds'],
    ['threshold', { metric: 'temperature', operator: '>', value: 85, severity: 'major', priority: 'high', typo: 1 }, '/'],
    ['usage', { metric: 'runHours', every: 0, priority: 'medium' }, '/every'],
    ['usage', { metric: '9lives', every: 10, priority: 'medium' }, '/metric'],
  ] as const)('rejects a bad %s definition at %s', (kind, def, path) => {
    const r = checkDefinition(kind, def);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toContain(path);
  });

  it('refuses definitions from a newer schema version', () => {
    expect(() => checkDefinition('usage', { schemaVersion: 9, metric: 'runHours', every: 1, priority: 'low' })).toThrow(/newer/);
  });
});
