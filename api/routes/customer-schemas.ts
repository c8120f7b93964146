/** TypeBox schemas and views for customers, contracts, projects, priority rules, surveys and costs. */
import { Type } from 'typebox';
import { Code, DateOnly, Nullable, PRIORITY, SEVERITY, TimestampOut, Uuid, WO_SOURCE } from '../schemas.ts';

const Money = Type.Number({ minimum: 0, maximum: 999_999_999_999, description: 'amount, 2 decimals' });
const dateOnly = (d: Date | null): string | null => (d ? d.toISOString().slice(0, 10) : null);
const decimal = (d: { toNumber(): number } | null): number | null => (d ? d.toNumber() : null);

export const CUSTOMER_TIER = Type.Union([Type.Literal('standard'), Type.Literal('silver'), Type.Literal('gold'), Type.Literal('platinum')]);
export const SERVICE_LEVEL = Type.Union([Type.Literal('basic'), Type.Literal('standard'), Type.Literal('premium')]);
export const ASSET_CRITICALITY = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('critical')]);
export const SURVEY_STATUS = Type.Union([Type.Literal('pending'), Type.Literal('answered'), Type.Literal('expired')]);

// ── customers ───────────────────────────────────────────────────────────────────────────────
export const CustomerBody = Type.Object(
  {
    code: Code,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    tier: Type.Optional(CUSTOMER_TIER),
    email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 320 }))),
    phone: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
  },
  { additionalProperties: false },
);

export const CustomerSchema = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  tier: CUSTOMER_TIER,
  email: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  createdAt: TimestampOut,
  updatedAt: TimestampOut,
  sites: Type.Optional(Type.Array(Type.Object({ id: Uuid, code: Type.String(), name: Type.String() }))),
});

// ── contracts ───────────────────────────────────────────────────────────────────────────────
const SlaTargetMinutes = Type.Object(
  { responseMinutes: Type.Integer({ minimum: 1 }), resolutionMinutes: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
const CoverageBody = Type.Object(
  {
    siteIds: Type.Optional(Type.Array(Uuid, { maxItems: 1000, description: 'covered sites (of the customer); empty/missing = all its sites' })),
    assetTypes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 200, description: 'covered asset types; empty/missing = all' })),
    includesParts: Type.Optional(Type.Boolean()),
    includesLabour: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const SlaTargetsBody = Type.Object(
  { low: Type.Optional(SlaTargetMinutes), medium: Type.Optional(SlaTargetMinutes), high: Type.Optional(SlaTargetMinutes), urgent: Type.Optional(SlaTargetMinutes) },
  { additionalProperties: false, description: 'per priority, in minutes; priorities not named keep the default targets; response ≤ resolution' },
);

const contractFields = {
  code: Code,
  customerId: Uuid,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  serviceLevel: Type.Optional(SERVICE_LEVEL),
  startsOn: DateOnly,
  endsOn: Type.Optional(Nullable(DateOnly, { description: 'inclusive; null = open-ended' })),
  coverage: Type.Optional(CoverageBody),
  slaTargets: Type.Optional(SlaTargetsBody),
  requireSignature: Type.Optional(Type.Boolean({ description: 'completion needs the customer e-signature' })),
  value: Type.Optional(Nullable(Money, { description: 'contract value (revenue) for profitability' })),
  active: Type.Optional(Type.Boolean()),
};
export const ContractBody = Type.Object(contractFields, { additionalProperties: false });
export const ContractPatch = Type.Partial(Type.Object(contractFields), { additionalProperties: false });

export const ContractSchema = Type.Object({
  id: Uuid,
  code: Type.String(),
  customerId: Uuid,
  customerCode: Type.String(),
  name: Type.String(),
  serviceLevel: SERVICE_LEVEL,
  startsOn: Type.String(),
  endsOn: Nullable(Type.String()),
  coverage: Type.Unknown(),
  slaTargets: Type.Unknown(),
  requireSignature: Type.Boolean(),
  value: Nullable(Type.Number()),
  active: Type.Boolean(),
  createdAt: TimestampOut,
  updatedAt: TimestampOut,
});

export function contractView<T extends { customer: { code: string }; startsOn: Date; endsOn: Date | null; value: { toNumber(): number } | null }>(c: T) {
  const { customer, ...rest } = c;
  return { ...rest, customerCode: customer.code, startsOn: dateOnly(c.startsOn)!, endsOn: dateOnly(c.endsOn), value: decimal(c.value) };
}

// ── projects ────────────────────────────────────────────────────────────────────────────────
const projectFields = {
  code: Code,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  customerId: Type.Optional(Nullable(Uuid)),
  contractId: Type.Optional(Nullable(Uuid)),
  budget: Type.Optional(Nullable(Money)),
  revenue: Type.Optional(Nullable(Money)),
};
export const ProjectBody = Type.Object(projectFields, { additionalProperties: false });
export const ProjectPatch = Type.Partial(Type.Object(projectFields), { additionalProperties: false });
export const ProjectSchema = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  customerId: Nullable(Uuid),
  contractId: Nullable(Uuid),
  budget: Nullable(Type.Number()),
  revenue: Nullable(Type.Number()),
  createdAt: TimestampOut,
});
export function projectView<T extends { budget: { toNumber(): number } | null; revenue: { toNumber(): number } | null }>(p: T) {
  return { ...p, budget: decimal(p.budget), revenue: decimal(p.revenue) };
}

// ── priority rules ──────────────────────────────────────────────────────────────────────────
const Conditions = Type.Object(
  {
    customerTier: Type.Optional(Type.Array(CUSTOMER_TIER, { minItems: 1 })),
    assetCriticality: Type.Optional(Type.Array(ASSET_CRITICALITY, { minItems: 1 })),
    severity: Type.Optional(Type.Array(SEVERITY, { minItems: 1 })),
    source: Type.Optional(Type.Array(WO_SOURCE, { minItems: 1 })),
  },
  { additionalProperties: false, description: 'all given conditions must match (value in the list); {} matches every order' },
);
const ruleFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  position: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'evaluation order, lowest first (default: after the last rule)' })),
  conditions: Type.Optional(Conditions),
  priority: PRIORITY,
  enabled: Type.Optional(Type.Boolean()),
};
export const PriorityRuleBody = Type.Object(ruleFields, { additionalProperties: false });
export const PriorityRulePatch = Type.Partial(Type.Object(ruleFields), { additionalProperties: false });
export const PriorityRuleSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  position: Type.Integer(),
  conditions: Type.Unknown(),
  priority: PRIORITY,
  enabled: Type.Boolean(),
  createdAt: TimestampOut,
  updatedAt: TimestampOut,
});

const Check = Type.Object({ field: Type.String(), expected: Type.Array(Type.String()), actual: Nullable(Type.String()), ok: Type.Boolean() });
export const EvaluationSchema = Type.Object({
  facts: Type.Object({ customerTier: Nullable(CUSTOMER_TIER), assetCriticality: Nullable(ASSET_CRITICALITY), severity: Nullable(SEVERITY), source: WO_SOURCE }),
  customer: Nullable(Type.Object({ id: Nullable(Uuid), code: Type.String(), tier: CUSTOMER_TIER })),
  decision: Type.Object({
    priority: PRIORITY,
    basis: Type.Union([Type.Literal('explicit'), Type.Literal('rule'), Type.Literal('cause'), Type.Literal('default')]),
    ruleId: Nullable(Uuid),
    ruleName: Nullable(Type.String()),
  }),
  rules: Type.Array(Type.Object({ id: Uuid, name: Type.String(), position: Type.Integer(), enabled: Type.Boolean(), priority: PRIORITY, matched: Type.Boolean(), checks: Type.Array(Check) })),
  contract: Nullable(Type.Object({ id: Uuid, code: Type.String(), serviceLevel: SERVICE_LEVEL })),
  contracts: Type.Array(Type.Object({ id: Uuid, code: Type.String(), covers: Type.Boolean(), reason: Nullable(Type.String()) })),
  sla: Type.Object({ source: Type.Union([Type.Literal('contract'), Type.Literal('default')]), responseMinutes: Type.Number(), resolutionMinutes: Type.Number() }),
});

// ── surveys ─────────────────────────────────────────────────────────────────────────────────
export const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) });
export const PublicSurveySchema = Type.Object({
  status: SURVEY_STATUS,
  workOrderNumber: Type.Integer(),
  title: Type.String(),
  assetCode: Type.String(),
  assetName: Type.String(),
  closedAt: Nullable(TimestampOut),
  expiresAt: TimestampOut,
  score: Nullable(Type.Integer()),
  comment: Nullable(Type.String()),
  answeredAt: Nullable(TimestampOut),
});
export const SurveySchema = Type.Object({
  id: Uuid,
  workOrderId: Uuid,
  workOrderNumber: Type.Integer(),
  customerId: Nullable(Uuid),
  status: SURVEY_STATUS,
  score: Nullable(Type.Integer()),
  comment: Nullable(Type.String()),
  sentAt: TimestampOut,
  expiresAt: TimestampOut,
  answeredAt: Nullable(TimestampOut),
  escalationWorkOrderId: Nullable(Uuid),
});
export function surveyView<T extends { workOrder: { number: number; customerId: string | null } }>(s: T) {
  const { workOrder, ...rest } = s;
  return { ...rest, workOrderNumber: workOrder.number, customerId: workOrder.customerId };
}
export const CsatSummarySchema = Type.Object({
  sent: Type.Integer(),
  answered: Type.Integer(),
  pending: Type.Integer(),
  expired: Type.Integer(),
  responseRate: Nullable(Type.Number({ description: 'answered / sent (0..1)' })),
  averageScore: Nullable(Type.Number()),
  lowScores: Type.Integer({ description: 'answered with a score ≤ CSAT_LOW_SCORE' }),
});

// ── costs ───────────────────────────────────────────────────────────────────────────────────
export const WorkOrderCostSchema = Type.Object({
  workOrderId: Uuid,
  number: Type.Integer(),
  contractId: Nullable(Uuid),
  projectId: Nullable(Uuid),
  labour: Type.Object({ minutes: Type.Number(), cost: Type.Number() }),
  travel: Type.Object({ minutes: Type.Number(), distanceKm: Type.Number(), cost: Type.Number() }),
  parts: Type.Object({
    cost: Type.Number(),
    lines: Type.Array(
      Type.Object({
        partId: Uuid,
        partCode: Type.String(),
        partName: Type.String(),
        quantity: Type.Number({ description: 'net used: issued − returned' }),
        cost: Type.Number(),
        uncostedQuantity: Type.Number({ description: 'quantity with no unit cost on the movement or the part (counted as 0)' }),
      }),
    ),
  }),
  total: Type.Number(),
});

const profitabilityFields = {
  revenue: Type.Number(),
  cost: Type.Object({ labour: Type.Number(), travel: Type.Number(), parts: Type.Number(), total: Type.Number() }),
  margin: Type.Number(),
  marginPct: Nullable(Type.Number()),
  orders: Type.Integer(),
  costPerOrder: Nullable(Type.Number()),
  topCostOrders: Type.Array(Type.Object({ workOrderId: Uuid, number: Type.Integer(), title: Type.String(), total: Type.Number() })),
};
export const ContractProfitabilitySchema = Type.Object({
  contractId: Uuid,
  code: Type.String(),
  window: Nullable(Type.Object({ from: Type.String(), to: Type.String() })),
  revenueBasis: Type.Union([Type.Literal('contract_value'), Type.Literal('pro_rated_term'), Type.Literal('pro_rated_annual')], {
    description: 'contract_value: no window; pro_rated_term: value × days of the window in the term / term days; pro_rated_annual: open-ended contract, value per 365 days',
  }),
  ...profitabilityFields,
});
export const ProjectProfitabilitySchema = Type.Object({
  projectId: Uuid,
  code: Type.String(),
  budget: Nullable(Type.Number()),
  budgetUsedPct: Nullable(Type.Number()),
  ...profitabilityFields,
});
