import { describe, expect, it } from 'vitest';
import { checkRule, decidePriority, EXAMPLE_PRIORITY_RULES, orderRules, parseConditions, type PriorityFacts, type PriorityRuleDef } from '../../maintenance/priority-rules.ts';

const facts = (f: Partial<PriorityFacts> = {}): PriorityFacts => ({ customerTier: 'gold', assetCriticality: 'critical', severity: 'major', source: 'rule', ...f });
const rule = (r: Partial<PriorityRuleDef> & Pick<PriorityRuleDef, 'id' | 'priority'>): PriorityRuleDef => ({ name: r.id, position: 10, conditions: {}, enabled: true, ...r });

describe('checkRule', () => {
  const cases: { name: string; conditions: PriorityRuleDef['conditions']; facts: PriorityFacts; matched: boolean }[] = [
    { name: 'no conditions match everything', conditions: {}, facts: facts({ customerTier: null, severity: null }), matched: true },
    { name: 'one list, value in it', conditions: { customerTier: ['gold', 'platinum'] }, facts: facts(), matched: true },
    { name: 'one list, value not in it', conditions: { customerTier: ['platinum'] }, facts: facts(), matched: false },
    { name: 'all conditions must match', conditions: { customerTier: ['gold'], assetCriticality: ['low'] }, facts: facts(), matched: false },
    { name: 'all four match', conditions: { customerTier: ['gold'], assetCriticality: ['critical'], severity: ['major', 'critical'], source: ['rule'] }, facts: facts(), matched: true },
    { name: 'unknown tier (no customer) never matches a tier condition', conditions: { customerTier: ['standard', 'silver', 'gold', 'platinum'] }, facts: facts({ customerTier: null }), matched: false },
    { name: 'missing severity never matches a severity condition', conditions: { severity: ['warning'] }, facts: facts({ severity: null }), matched: false },
    { name: 'source condition', conditions: { source: ['manual', 'customer'] }, facts: facts({ source: 'pm' }), matched: false },
  ];
  for (const c of cases) {
    it(c.name, () => expect(checkRule({ conditions: c.conditions }, c.facts).matched).toBe(c.matched));
  }

  it('reports each condition with expected and actual values', () => {
    const r = checkRule({ conditions: { customerTier: ['gold'], severity: ['critical'] } }, facts());
    expect(r.checks).toEqual([
      { field: 'customerTier', expected: ['gold'], actual: 'gold', ok: true },
      { field: 'severity', expected: ['critical'], actual: 'major', ok: false },
    ]);
  });
});

describe('decidePriority', () => {
  const rules = [
    rule({ id: 'r-gold-critical', position: 20, priority: 'urgent', conditions: { customerTier: ['gold'], assetCriticality: ['critical'] } }),
    rule({ id: 'r-any-gold', position: 30, priority: 'high', conditions: { customerTier: ['gold'] } }),
    rule({ id: 'r-disabled', position: 1, priority: 'low', enabled: false }),
  ];
  const cases: { name: string; requested?: 'low' | 'medium' | 'high' | 'urgent'; explicit: boolean; facts: PriorityFacts; rules: PriorityRuleDef[]; want: { priority: string; basis: string; rule?: string } }[] = [
    { name: 'explicit priority from a person wins over rules', requested: 'low', explicit: true, facts: facts(), rules, want: { priority: 'low', basis: 'explicit' } },
    { name: 'first matching enabled rule by position (disabled skipped)', requested: 'medium', explicit: false, facts: facts(), rules, want: { priority: 'urgent', basis: 'rule', rule: 'r-gold-critical' } },
    { name: 'a later rule matches when the first does not', explicit: false, facts: facts({ assetCriticality: 'low' }), rules, want: { priority: 'high', basis: 'rule', rule: 'r-any-gold' } },
    { name: "no rule matches: the cause's priority", requested: 'high', explicit: false, facts: facts({ customerTier: null }), rules, want: { priority: 'high', basis: 'cause' } },
    { name: 'nothing at all: medium', explicit: false, facts: facts({ customerTier: null }), rules, want: { priority: 'medium', basis: 'default' } },
    { name: 'no rules configured keeps the requested priority', requested: 'urgent', explicit: false, facts: facts(), rules: [], want: { priority: 'urgent', basis: 'cause' } },
    { name: 'explicit flag without a priority falls through to rules', explicit: true, facts: facts(), rules, want: { priority: 'urgent', basis: 'rule', rule: 'r-gold-critical' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decidePriority({ requested: c.requested, explicit: c.explicit, rules: c.rules, facts: c.facts });
      expect({ priority: d.priority, basis: d.basis, ...(d.rule ? { rule: d.rule.id } : {}) }).toEqual(c.want);
    });
  }

  it('explains which facts the winning rule matched', () => {
    const d = decidePriority({ requested: undefined, explicit: false, rules, facts: facts() });
    expect(d.rule).toEqual({ id: 'r-gold-critical', name: 'r-gold-critical', position: 20, matched: { customerTier: 'gold', assetCriticality: 'critical' } });
  });

  it('ties on position are broken by name, so evaluation order is stable', () => {
    const a = rule({ id: 'x', name: 'b-rule', position: 5, priority: 'low' });
    const b = rule({ id: 'y', name: 'a-rule', position: 5, priority: 'high' });
    expect(orderRules([a, b]).map((r) => r.name)).toEqual(['a-rule', 'b-rule']);
    expect(decidePriority({ requested: undefined, explicit: false, rules: [a, b], facts: facts() }).priority).toBe('high');
  });
});

describe('parseConditions', () => {
  const cases: { raw: unknown; ok: boolean; field?: string }[] = [
    { raw: {}, ok: true },
    { raw: undefined, ok: true },
    { raw: { customerTier: ['gold'], source: ['rule', 'pm'] }, ok: true },
    { raw: [], ok: false, field: 'conditions' },
    { raw: { tier: ['gold'] }, ok: false, field: 'conditions.tier' },
    { raw: { customerTier: [] }, ok: false, field: 'conditions.customerTier' },
    { raw: { customerTier: 'gold' }, ok: false, field: 'conditions.customerTier' },
    { raw: { severity: ['catastrophic'] }, ok: false, field: 'conditions.severity' },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.raw)} → ${c.ok ? 'ok' : c.field}`, () => {
      const r = parseConditions(c.raw);
      expect(r.ok).toBe(c.ok);
      if (!r.ok) {
        expect(r.field).toBe(c.field);
        expect(r.message).toContain(c.field!);
      }
    });
  }

  it('the example rules are valid', () => {
    for (const r of EXAMPLE_PRIORITY_RULES) expect(parseConditions(r.conditions).ok).toBe(true);
  });
});
