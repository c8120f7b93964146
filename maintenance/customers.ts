/**
 * Customers, their sites, contracts and projects; priority rules; and the work-order `classify`
 * hook that decides every new order's priority, SLA targets, customer and contract.
 *
 * classify (registered first, so it is the one that decides): with at most three simple queries —
 * the asset with its site's customer and tier, that customer's active contracts, the enabled
 * priority rules — it applies the priority policy of `priority-rules.ts` (explicit priority from a
 * person > first matching rule > the cause's priority > medium) and picks the covering contract
 * (`contract-coverage.ts`), whose SLA targets (minutes) replace the defaults for the priorities it
 * names. The explanation (basis, rule and matched facts, contract code, SLA source) is stored in
 * the order's reason.priority. An asset without a customer gets no contract and default targets.
 */
import type { Clock } from '../platform/clock.ts';
import type { Db, Prisma } from '../platform/db/database.ts';
import { AppError, conflict, isForeignKeyViolation, isRecordNotFound, isUniqueViolation, notFound } from '../platform/errors.ts';
import { checkTerm, coverageOf, coveringContract, parseCoverage, parseSlaTargets, slaSourceFor, slaTargetsFor, type Parsed, type ServiceLevel } from './contract-coverage.ts';
import { checkRule, decidePriority, EXAMPLE_PRIORITY_RULES, orderRules, parseConditions, type CustomerTier, type PriorityConditions, type PriorityFacts, type PriorityRuleDef } from './priority-rules.ts';
import type { Classification, ClassifyInput, Priority, Severity, Source, WorkOrderHooks } from './work-orders.ts';

export interface CustomerInput {
  code: string;
  name: string;
  tier?: CustomerTier | undefined;
  email?: string | null | undefined;
  phone?: string | null | undefined;
}

export interface ContractInput {
  code: string;
  customerId: string;
  name: string;
  serviceLevel?: ServiceLevel | undefined;
  /** YYYY-MM-DD */
  startsOn: string;
  endsOn?: string | null | undefined;
  coverage?: Record<string, unknown> | undefined;
  slaTargets?: Record<string, unknown> | undefined;
  requireSignature?: boolean | undefined;
  value?: number | null | undefined;
  active?: boolean | undefined;
}

export interface ProjectInput {
  code: string;
  name: string;
  customerId?: string | null | undefined;
  contractId?: string | null | undefined;
  budget?: number | null | undefined;
  revenue?: number | null | undefined;
}

export interface PriorityRuleInput {
  name: string;
  position?: number | undefined;
  conditions?: Record<string, unknown> | undefined;
  priority: Priority;
  enabled?: boolean | undefined;
}

export const customerSelect = { id: true, code: true, name: true, tier: true, email: true, phone: true, createdAt: true, updatedAt: true } satisfies Prisma.CustomerSelect;

export const contractSelect = {
  id: true,
  code: true,
  customerId: true,
  name: true,
  serviceLevel: true,
  startsOn: true,
  endsOn: true,
  coverage: true,
  slaTargets: true,
  requireSignature: true,
  value: true,
  active: true,
  createdAt: true,
  updatedAt: true,
  customer: { select: { code: true } },
} satisfies Prisma.ContractSelect;

export const projectSelect = { id: true, code: true, name: true, customerId: true, contractId: true, budget: true, revenue: true, createdAt: true } satisfies Prisma.ProjectSelect;

export const priorityRuleSelect = { id: true, name: true, position: true, conditions: true, priority: true, enabled: true, createdAt: true, updatedAt: true } satisfies Prisma.PriorityRuleSelect;

const candidateSelect = { id: true, code: true, customerId: true, serviceLevel: true, startsOn: true, endsOn: true, active: true, coverage: true, slaTargets: true } satisfies Prisma.ContractSelect;
type Candidate = Prisma.ContractGetPayload<{ select: typeof candidateSelect }>;

const toDay = (s: string): Date => new Date(`${s.slice(0, 10)}T00:00:00Z`);
const orNull = <T>(v: T | null | undefined): T | null => v ?? null;

function must<T>(p: Parsed<T>): T {
  if (!p.ok) throw new AppError('validation', p.message, { field: p.field });
  return p.value;
}

/** Stored rule rows → rule definitions (rows whose stored conditions no longer parse are skipped). */
function toRuleDefs(rows: { id: string; name: string; position: number; conditions: unknown; priority: Priority; enabled: boolean }[]): PriorityRuleDef[] {
  return rows.flatMap((r) => {
    const c = parseConditions(r.conditions);
    return c.ok ? [{ id: r.id, name: r.name, position: r.position, conditions: c.conditions, priority: r.priority, enabled: r.enabled }] : [];
  });
}

export function createCustomerService(deps: { prisma: Db; clock: Clock }) {
  const { prisma, clock } = deps;

  /** The three classification queries: asset + customer tier, the customer's active contracts, the rules. */
  async function loadContext(assetId: string, onlyEnabledRules: boolean) {
    const asset = await prisma.asset.findUnique({
      where: { id: assetId },
      select: { id: true, code: true, type: true, siteId: true, criticality: true, site: { select: { customerId: true, customer: { select: { code: true, tier: true } } } } },
    });
    if (!asset) return undefined;
    const customerId = asset.site.customerId;
    const [contracts, rules] = await Promise.all([
      customerId ? prisma.contract.findMany({ where: { customerId, active: true }, select: candidateSelect }) : Promise.resolve([] as Candidate[]),
      prisma.priorityRule.findMany({ where: onlyEnabledRules ? { enabled: true } : {}, select: { id: true, name: true, position: true, conditions: true, priority: true, enabled: true } }),
    ]);
    return { asset, customerId, contracts, rules: toRuleDefs(rules) };
  }

  async function classify(input: ClassifyInput): Promise<Classification> {
    const ctx = await loadContext(input.assetId, true);
    // unknown asset: the insert reports it (400); nothing to classify
    if (!ctx) return { priority: input.requestedPriority ?? 'medium' };
    const facts: PriorityFacts = {
      customerTier: ctx.asset.site.customer?.tier ?? null,
      assetCriticality: ctx.asset.criticality,
      severity: input.severity ?? null,
      source: input.source,
    };
    const decision = decidePriority({ requested: input.requestedPriority, explicit: input.explicitPriority, rules: ctx.rules, facts });
    const contract = coveringContract(ctx.contracts, { siteId: ctx.asset.siteId, type: ctx.asset.type, customerId: ctx.customerId }, input.requestedAt);
    const sla = contract ? slaSourceFor(contract.slaTargets, decision.priority) : 'default';
    return {
      priority: decision.priority,
      slaTargets: contract && sla === 'contract' ? slaTargetsFor(contract.slaTargets) : undefined,
      customerId: ctx.customerId,
      contractId: contract?.id ?? null,
      explanation: { basis: decision.basis, rule: decision.rule ?? null, facts, contract: contract?.code ?? null, sla },
    };
  }

  const workOrderHooks: WorkOrderHooks = { classify };

  async function assertCoverageSites(customerId: string, coverage: { siteIds?: string[] | undefined }): Promise<void> {
    const ids = coverage.siteIds ?? [];
    if (ids.length === 0) return;
    const owned = await prisma.site.findMany({ where: { id: { in: ids }, customerId }, select: { id: true } });
    const foreign = ids.filter((id) => !owned.some((s) => s.id === id));
    if (foreign.length) throw new AppError('validation', `coverage.siteIds: site(s) ${foreign.join(', ')} do not belong to the contract's customer`, { field: 'coverage.siteIds', siteIds: foreign });
  }

  function contractWriteError(err: unknown, input: { code?: string | undefined; customerId?: string | undefined }): never {
    if (isUniqueViolation(err)) throw conflict(`contract code ${input.code} is already used`, { code: input.code });
    if (isForeignKeyViolation(err)) throw new AppError('validation', `customer ${input.customerId} does not exist`, { field: 'customerId', customerId: input.customerId });
    throw err;
  }

  async function assertProjectLinks(customerId: string | null, contractId: string | null): Promise<string | null> {
    if (!contractId) return customerId;
    const c = await prisma.contract.findUnique({ where: { id: contractId }, select: { customerId: true } });
    if (!c) throw new AppError('validation', `contract ${contractId} does not exist`, { field: 'contractId', contractId });
    if (customerId && c.customerId !== customerId) throw new AppError('validation', `contractId: contract ${contractId} belongs to another customer`, { field: 'contractId', contractId, customerId });
    return customerId ?? c.customerId;
  }

  function validRuleConditions(raw: unknown): PriorityConditions {
    const c = parseConditions(raw);
    if (!c.ok) throw new AppError('validation', c.message, { field: c.field });
    return c.conditions;
  }

  return {
    workOrderHooks,
    classify,

    // ── customers ────────────────────────────────────────────────────────────────────────────
    async createCustomer(input: CustomerInput) {
      try {
        return await prisma.customer.create({
          data: { code: input.code, name: input.name, tier: input.tier ?? 'standard', email: orNull(input.email), phone: orNull(input.phone) },
          select: customerSelect,
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`customer code ${input.code} is already used`, { code: input.code });
        throw err;
      }
    },

    async listCustomers(f: { tier?: CustomerTier | undefined; code?: string | undefined; limit: number; offset: number }) {
      const where: Prisma.CustomerWhereInput = { ...(f.tier ? { tier: f.tier } : {}), ...(f.code ? { code: f.code } : {}) };
      const [items, total] = await Promise.all([
        prisma.customer.findMany({ where, select: customerSelect, orderBy: { code: 'asc' }, take: f.limit, skip: f.offset }),
        prisma.customer.count({ where }),
      ]);
      return { items, total };
    },

    async getCustomer(id: string) {
      const c = await prisma.customer.findUnique({ where: { id }, select: { ...customerSelect, sites: { select: { id: true, code: true, name: true }, orderBy: { code: 'asc' } } } });
      if (!c) throw notFound('Customer', id);
      return c;
    },

    async updateCustomer(id: string, patch: Partial<CustomerInput>) {
      try {
        await prisma.customer.update({
          where: { id },
          data: {
            ...(patch.code !== undefined ? { code: patch.code } : {}),
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            ...(patch.tier !== undefined ? { tier: patch.tier } : {}),
            ...(patch.email !== undefined ? { email: patch.email } : {}),
            ...(patch.phone !== undefined ? { phone: patch.phone } : {}),
          },
        });
      } catch (err) {
        if (isRecordNotFound(err)) throw notFound('Customer', id);
        if (isUniqueViolation(err)) throw conflict(`customer code ${patch.code} is already used`, { code: patch.code });
        throw err;
      }
      return this.getCustomer(id);
    },

    /** Customers with contracts or work orders are kept (their history and profitability depend on them). */
    async deleteCustomer(id: string) {
      const c = await prisma.customer.findUnique({ where: { id }, select: { _count: { select: { contracts: true, workOrders: true, projects: true } } } });
      if (!c) throw notFound('Customer', id);
      if (c._count.contracts || c._count.workOrders || c._count.projects) throw conflict('customer has contracts, projects or work orders and cannot be deleted', { id, ...c._count });
      await prisma.customer.delete({ where: { id } });
    },

    /**
     * Replaces the customer's set of sites: the listed sites become the customer's, its other sites
     * are released. A site owned by another customer is refused (409): release it there first.
     */
    async setSites(id: string, siteIds: string[]) {
      const ids = [...new Set(siteIds)];
      await prisma.$transaction(async (tx) => {
        const customer = await tx.customer.findUnique({ where: { id }, select: { id: true } });
        if (!customer) throw notFound('Customer', id);
        const sites = await tx.site.findMany({ where: { id: { in: ids } }, select: { id: true, code: true, customerId: true } });
        const missing = ids.filter((s) => !sites.some((x) => x.id === s));
        if (missing.length) throw new AppError('validation', `siteIds: site(s) ${missing.join(', ')} do not exist`, { field: 'siteIds', siteIds: missing });
        const taken = sites.filter((s) => s.customerId && s.customerId !== id);
        if (taken.length) throw conflict(`site(s) ${taken.map((s) => s.code).join(', ')} belong to another customer; release them there first`, { siteIds: taken.map((s) => s.id) });
        await tx.site.updateMany({ where: { customerId: id, id: { notIn: ids } }, data: { customerId: null } });
        if (ids.length) await tx.site.updateMany({ where: { id: { in: ids } }, data: { customerId: id } });
      });
      return this.getCustomer(id);
    },

    // ── contracts ────────────────────────────────────────────────────────────────────────────
    async createContract(input: ContractInput) {
      const startsOn = toDay(input.startsOn);
      const endsOn = input.endsOn ? toDay(input.endsOn) : null;
      must(checkTerm(startsOn, endsOn));
      const coverage = must(parseCoverage(input.coverage));
      const slaTargets = must(parseSlaTargets(input.slaTargets));
      await assertCoverageSites(input.customerId, coverage);
      try {
        return await prisma.contract.create({
          data: {
            code: input.code,
            customerId: input.customerId,
            name: input.name,
            serviceLevel: input.serviceLevel ?? 'standard',
            startsOn,
            endsOn,
            coverage: coverage as Prisma.InputJsonValue,
            slaTargets: slaTargets as Prisma.InputJsonValue,
            requireSignature: input.requireSignature ?? false,
            value: orNull(input.value),
            active: input.active ?? true,
          },
          select: contractSelect,
        });
      } catch (err) {
        contractWriteError(err, input);
      }
    },

    async updateContract(id: string, patch: Partial<ContractInput>) {
      const current = await prisma.contract.findUnique({ where: { id }, select: { customerId: true, startsOn: true, endsOn: true, coverage: true } });
      if (!current) throw notFound('Contract', id);
      const startsOn = patch.startsOn !== undefined ? toDay(patch.startsOn) : current.startsOn;
      const endsOn = patch.endsOn !== undefined ? (patch.endsOn ? toDay(patch.endsOn) : null) : current.endsOn;
      must(checkTerm(startsOn, endsOn));
      const coverage = must(parseCoverage(patch.coverage !== undefined ? patch.coverage : current.coverage));
      const slaTargets = patch.slaTargets !== undefined ? must(parseSlaTargets(patch.slaTargets)) : undefined;
      await assertCoverageSites(patch.customerId ?? current.customerId, coverage);
      try {
        return await prisma.contract.update({
          where: { id },
          data: {
            ...(patch.code !== undefined ? { code: patch.code } : {}),
            ...(patch.customerId !== undefined ? { customerId: patch.customerId } : {}),
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            ...(patch.serviceLevel !== undefined ? { serviceLevel: patch.serviceLevel } : {}),
            startsOn,
            endsOn,
            ...(patch.coverage !== undefined ? { coverage: coverage as Prisma.InputJsonValue } : {}),
            ...(slaTargets !== undefined ? { slaTargets: slaTargets as Prisma.InputJsonValue } : {}),
            ...(patch.requireSignature !== undefined ? { requireSignature: patch.requireSignature } : {}),
            ...(patch.value !== undefined ? { value: patch.value } : {}),
            ...(patch.active !== undefined ? { active: patch.active } : {}),
          },
          select: contractSelect,
        });
      } catch (err) {
        if (isRecordNotFound(err)) throw notFound('Contract', id);
        contractWriteError(err, patch);
      }
    },

    async getContract(id: string) {
      const c = await prisma.contract.findUnique({ where: { id }, select: contractSelect });
      if (!c) throw notFound('Contract', id);
      return c;
    },

    async listContracts(f: { customerId?: string | undefined; active?: boolean | undefined; limit: number; offset: number }) {
      const where: Prisma.ContractWhereInput = { ...(f.customerId ? { customerId: f.customerId } : {}), ...(f.active !== undefined ? { active: f.active } : {}) };
      const [items, total] = await Promise.all([
        prisma.contract.findMany({ where, select: contractSelect, orderBy: { code: 'asc' }, take: f.limit, skip: f.offset }),
        prisma.contract.count({ where }),
      ]);
      return { items, total };
    },

    /** A contract with work orders is deactivated (active=false), not deleted: profitability needs it. */
    async deleteContract(id: string) {
      const c = await prisma.contract.findUnique({ where: { id }, select: { _count: { select: { workOrders: true } } } });
      if (!c) throw notFound('Contract', id);
      if (c._count.workOrders) throw conflict('contract has work orders; set active=false instead of deleting', { id, workOrders: c._count.workOrders });
      await prisma.contract.delete({ where: { id } });
    },

    // ── projects ─────────────────────────────────────────────────────────────────────────────
    async createProject(input: ProjectInput) {
      const customerId = await assertProjectLinks(orNull(input.customerId), orNull(input.contractId));
      try {
        return await prisma.project.create({
          data: { code: input.code, name: input.name, customerId, contractId: orNull(input.contractId), budget: orNull(input.budget), revenue: orNull(input.revenue) },
          select: projectSelect,
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`project code ${input.code} is already used`, { code: input.code });
        if (isForeignKeyViolation(err)) throw new AppError('validation', `customer ${input.customerId} does not exist`, { field: 'customerId', customerId: input.customerId });
        throw err;
      }
    },

    async updateProject(id: string, patch: Partial<ProjectInput>) {
      const current = await prisma.project.findUnique({ where: { id }, select: { customerId: true, contractId: true } });
      if (!current) throw notFound('Project', id);
      const contractId = patch.contractId !== undefined ? patch.contractId : current.contractId;
      const customerId = await assertProjectLinks(patch.customerId !== undefined ? patch.customerId : current.customerId, contractId);
      try {
        return await prisma.project.update({
          where: { id },
          data: {
            ...(patch.code !== undefined ? { code: patch.code } : {}),
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            customerId,
            contractId,
            ...(patch.budget !== undefined ? { budget: patch.budget } : {}),
            ...(patch.revenue !== undefined ? { revenue: patch.revenue } : {}),
          },
          select: projectSelect,
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`project code ${patch.code} is already used`, { code: patch.code });
        if (isForeignKeyViolation(err)) throw new AppError('validation', `customer ${patch.customerId} does not exist`, { field: 'customerId', customerId: patch.customerId });
        throw err;
      }
    },

    async getProject(id: string) {
      const p = await prisma.project.findUnique({ where: { id }, select: projectSelect });
      if (!p) throw notFound('Project', id);
      return p;
    },

    async listProjects(f: { customerId?: string | undefined; contractId?: string | undefined; limit: number; offset: number }) {
      const where: Prisma.ProjectWhereInput = { ...(f.customerId ? { customerId: f.customerId } : {}), ...(f.contractId ? { contractId: f.contractId } : {}) };
      const [items, total] = await Promise.all([
        prisma.project.findMany({ where, select: projectSelect, orderBy: { code: 'asc' }, take: f.limit, skip: f.offset }),
        prisma.project.count({ where }),
      ]);
      return { items, total };
    },

    async deleteProject(id: string) {
      const p = await prisma.project.findUnique({ where: { id }, select: { _count: { select: { workOrders: true } } } });
      if (!p) throw notFound('Project', id);
      if (p._count.workOrders) throw conflict('project has work orders and cannot be deleted', { id, workOrders: p._count.workOrders });
      await prisma.project.delete({ where: { id } });
    },

    // ── priority rules ───────────────────────────────────────────────────────────────────────
    async listPriorityRules() {
      const rows = await prisma.priorityRule.findMany({ select: priorityRuleSelect });
      return orderRules(rows);
    },

    async createPriorityRule(input: PriorityRuleInput) {
      const conditions = validRuleConditions(input.conditions ?? {});
      const position = input.position ?? ((await prisma.priorityRule.aggregate({ _max: { position: true } }))._max.position ?? 0) + 10;
      return prisma.priorityRule.create({
        data: { name: input.name, position, conditions: conditions as Prisma.InputJsonValue, priority: input.priority, enabled: input.enabled ?? true },
        select: priorityRuleSelect,
      });
    },

    async updatePriorityRule(id: string, patch: Partial<PriorityRuleInput>) {
      const conditions = patch.conditions !== undefined ? validRuleConditions(patch.conditions) : undefined;
      try {
        return await prisma.priorityRule.update({
          where: { id },
          data: {
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            ...(patch.position !== undefined ? { position: patch.position } : {}),
            ...(conditions !== undefined ? { conditions: conditions as Prisma.InputJsonValue } : {}),
            ...(patch.priority !== undefined ? { priority: patch.priority } : {}),
            ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
          },
          select: priorityRuleSelect,
        });
      } catch (err) {
        if (isRecordNotFound(err)) throw notFound('PriorityRule', id);
        throw err;
      }
    },

    async deletePriorityRule(id: string) {
      const r = await prisma.priorityRule.deleteMany({ where: { id } });
      if (r.count === 0) throw notFound('PriorityRule', id);
    },

    /** Seeds EXAMPLE_PRIORITY_RULES into an empty rule table (409 when rules exist). */
    async seedExamplePriorityRules() {
      if ((await prisma.priorityRule.count()) > 0) throw conflict('priority rules already exist; examples are only seeded into an empty rule set');
      await prisma.priorityRule.createMany({
        data: EXAMPLE_PRIORITY_RULES.map((r) => ({ name: r.name, position: r.position, conditions: r.conditions as Prisma.InputJsonValue, priority: r.priority, enabled: true })),
      });
      return this.listPriorityRules();
    },

    /** Dry run of classification for an asset: facts, every rule's checks, the decision, the contract. */
    async evaluate(input: { assetId: string; severity?: Severity | undefined; source?: Source | undefined; priority?: Priority | undefined; at?: Date | undefined }) {
      const at = input.at ?? clock.now();
      const ctx = await loadContext(input.assetId, false);
      if (!ctx) throw notFound('Asset', input.assetId);
      const source = input.source ?? 'manual';
      const facts: PriorityFacts = { customerTier: ctx.asset.site.customer?.tier ?? null, assetCriticality: ctx.asset.criticality, severity: input.severity ?? null, source };
      const explicit = input.priority !== undefined && (source === 'manual' || source === 'customer');
      const decision = decidePriority({ requested: input.priority, explicit, rules: ctx.rules, facts });
      const assetFacts = { siteId: ctx.asset.siteId, type: ctx.asset.type, customerId: ctx.customerId };
      const contract = coveringContract(ctx.contracts, assetFacts, at);
      const slaSource = contract ? slaSourceFor(contract.slaTargets, decision.priority) : 'default';
      const targets = slaTargetsFor(contract && slaSource === 'contract' ? contract.slaTargets : undefined)[decision.priority];
      return {
        facts,
        customer: ctx.asset.site.customer ? { id: ctx.customerId, code: ctx.asset.site.customer.code, tier: ctx.asset.site.customer.tier } : null,
        decision: { priority: decision.priority, basis: decision.basis, ruleId: decision.rule?.id ?? null, ruleName: decision.rule?.name ?? null },
        rules: orderRules(ctx.rules).map((r) => {
          const { matched, checks } = checkRule(r, facts);
          return { id: r.id, name: r.name, position: r.position, enabled: r.enabled, priority: r.priority, matched: r.enabled && matched, checks };
        }),
        contract: contract ? { id: contract.id, code: contract.code, serviceLevel: contract.serviceLevel } : null,
        contracts: ctx.contracts.map((c) => {
          const cov = coverageOf(c, assetFacts, at);
          return { id: c.id, code: c.code, covers: cov.covers, reason: cov.covers ? null : cov.reason };
        }),
        sla: { source: slaSource, responseMinutes: targets.responseMs / 60_000, resolutionMinutes: targets.resolutionMs / 60_000 },
      };
    },
  };
}

export type CustomerService = ReturnType<typeof createCustomerService>;
