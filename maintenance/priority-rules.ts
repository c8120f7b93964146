/**
 * Priority rules (pure): which priority a new work order gets.
 *
 * Policy, in this order:
 *   1. an explicit priority chosen by a person (dispatcher, customer portal) wins;
 *   2. otherwise the first enabled rule, by position, whose conditions all match;
 *   3. otherwise the cause's own priority (a rule-engine or PM order carries one);
 *   4. otherwise medium.
 * A rule's conditions are lists per fact (customerTier, assetCriticality, severity, source); a fact
 * matches when its value is in the list. All given conditions must match; no conditions = match all.
 * A fact that is unknown (order without a customer → no tier; no severity) never matches a condition
 * on it. No rules configured = steps 3–4 only (the behaviour before rules existed).
 */
import type { Priority, Severity, Source } from './work-orders.ts';

export const CUSTOMER_TIERS = ['standard', 'silver', 'gold', 'platinum'] as const;
export type CustomerTier = (typeof CUSTOMER_TIERS)[number];
export const ASSET_CRITICALITIES = ['low', 'medium', 'high', 'critical'] as const;
export type AssetCriticality = (typeof ASSET_CRITICALITIES)[number];
export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export const SOURCES = ['manual', 'rule', 'pm', 'customer', 'followup'] as const;
export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;

export interface PriorityConditions {
  customerTier?: CustomerTier[] | undefined;
  assetCriticality?: AssetCriticality[] | undefined;
  severity?: Severity[] | undefined;
  source?: Source[] | undefined;
}
export type ConditionField = keyof PriorityConditions;
const FIELDS: readonly ConditionField[] = ['customerTier', 'assetCriticality', 'severity', 'source'];
const ALLOWED: Record<ConditionField, readonly string[]> = {
  customerTier: CUSTOMER_TIERS,
  assetCriticality: ASSET_CRITICALITIES,
  severity: SEVERITIES,
  source: SOURCES,
};

export interface PriorityRuleDef {
  id: string;
  name: string;
  position: number;
  conditions: PriorityConditions;
  priority: Priority;
  enabled: boolean;
}

/** What is known about a new order when it is classified (null = unknown). */
export interface PriorityFacts {
  customerTier: CustomerTier | null;
  assetCriticality: AssetCriticality | null;
  severity: Severity | null;
  source: Source;
}

export interface ConditionCheck {
  field: ConditionField;
  expected: string[];
  actual: string | null;
  ok: boolean;
}

/** Validates stored or submitted conditions; the message names the offending field. */
export function parseConditions(raw: unknown): { ok: true; conditions: PriorityConditions } | { ok: false; message: string; field: string } {
  if (raw === null || raw === undefined) return { ok: true, conditions: {} };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, field: 'conditions', message: 'conditions must be an object' };
  const out: PriorityConditions = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!(FIELDS as readonly string[]).includes(key)) return { ok: false, field: `conditions.${key}`, message: `conditions.${key} is not a known condition (use ${FIELDS.join(', ')})` };
    const field = key as ConditionField;
    if (!Array.isArray(value) || value.length === 0) return { ok: false, field: `conditions.${field}`, message: `conditions.${field} must be a non-empty list` };
    const bad = value.find((v) => typeof v !== 'string' || !ALLOWED[field].includes(v));
    if (bad !== undefined) return { ok: false, field: `conditions.${field}`, message: `conditions.${field}: ${String(bad)} is not one of ${ALLOWED[field].join(', ')}` };
    (out as Record<string, string[]>)[field] = [...new Set(value as string[])];
  }
  return { ok: true, conditions: out };
}

/** Checks each given condition of a rule against the facts. */
export function checkRule(rule: Pick<PriorityRuleDef, 'conditions'>, facts: PriorityFacts): { matched: boolean; checks: ConditionCheck[] } {
  const checks: ConditionCheck[] = [];
  for (const field of FIELDS) {
    const expected = rule.conditions[field] as string[] | undefined;
    if (!expected) continue;
    const actual = facts[field];
    checks.push({ field, expected, actual, ok: actual !== null && expected.includes(actual) });
  }
  return { matched: checks.every((c) => c.ok), checks };
}

/** Rules in evaluation order: position, then name and id (stable when positions tie). */
export function orderRules<T extends Pick<PriorityRuleDef, 'position' | 'name' | 'id'>>(rules: readonly T[]): T[] {
  return [...rules].sort((a, b) => a.position - b.position || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

export type PriorityBasis = 'explicit' | 'rule' | 'cause' | 'default';

export interface PriorityDecision {
  priority: Priority;
  basis: PriorityBasis;
  rule?: { id: string; name: string; position: number; matched: Partial<Record<ConditionField, string | null>> } | undefined;
}

/** Applies the policy above. `requested` is the requester's or the cause's priority; `explicit` says a person chose it. */
export function decidePriority(input: { requested: Priority | undefined; explicit: boolean; rules: readonly PriorityRuleDef[]; facts: PriorityFacts }): PriorityDecision {
  if (input.explicit && input.requested) return { priority: input.requested, basis: 'explicit' };
  for (const rule of orderRules(input.rules)) {
    if (!rule.enabled) continue;
    const { matched, checks } = checkRule(rule, input.facts);
    if (!matched) continue;
    return {
      priority: rule.priority,
      basis: 'rule',
      rule: { id: rule.id, name: rule.name, position: rule.position, matched: Object.fromEntries(checks.map((c) => [c.field, c.actual])) },
    };
  }
  if (input.requested) return { priority: input.requested, basis: 'cause' };
  return { priority: 'medium', basis: 'default' };
}

/** Example rule set (POST /priority-rules/examples seeds it into an empty table). */
export const EXAMPLE_PRIORITY_RULES: readonly Omit<PriorityRuleDef, 'id' | 'enabled'>[] = [
  { name: 'Critical alarm on a critical asset', position: 10, conditions: { assetCriticality: ['critical'], severity: ['critical'] }, priority: 'urgent' },
  { name: 'Premium customers, critical or high-criticality asset', position: 20, conditions: { customerTier: ['gold', 'platinum'], assetCriticality: ['critical', 'high'] }, priority: 'urgent' },
  { name: 'Customer-reported critical or major fault', position: 30, conditions: { severity: ['critical', 'major'], source: ['manual', 'customer'] }, priority: 'high' },
  { name: 'Premium customers', position: 40, conditions: { customerTier: ['gold', 'platinum'] }, priority: 'high' },
  { name: 'Reported warnings on low-criticality assets', position: 50, conditions: { assetCriticality: ['low'], severity: ['warning'], source: ['manual', 'customer'] }, priority: 'low' },
];
