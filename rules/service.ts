/** Rules CRUD. Definitions are validated by rules/definitions.ts; every update bumps `version`. */
import type { Db, DbTx, Prisma } from '../platform/db/database.ts';
import { AppError, isForeignKeyViolation, isRecordNotFound, notFound } from '../platform/errors.ts';
import { backtest, type ReadingSource } from './backtest.ts';
import { checkDefinition, isRuleKind, type RuleKind } from './definitions.ts';
import type { ReadingRule } from './types.ts';

export interface RuleInput {
  name: string;
  kind: RuleKind;
  assetId?: string | null | undefined;
  assetType?: string | null | undefined;
  enabled?: boolean | undefined;
  definition: unknown;
}

const ruleSelect = {
  id: true,
  name: true,
  kind: true,
  assetId: true,
  assetType: true,
  enabled: true,
  definition: true,
  version: true,
  createdAt: true,
  updatedAt: true,
} satisfies Prisma.RuleSelect;

function validated(kind: string, definition: unknown): Prisma.InputJsonValue {
  if (!isRuleKind(kind)) throw new AppError('validation', `rules of kind ${kind} are not supported by this version`, { kind });
  const check = checkDefinition(kind, definition);
  if (!check.ok) throw new AppError('validation', `invalid ${kind} rule definition: ${check.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, { errors: check.errors });
  return check.definition as unknown as Prisma.InputJsonValue;
}

function validateScope(assetId: string | null | undefined, assetType: string | null | undefined): void {
  if (!!assetId === !!assetType) throw new AppError('validation', 'a rule applies to exactly one of assetId or assetType', { assetId, assetType });
}

type RuleRow = Prisma.RuleGetPayload<{ select: typeof ruleSelect }>;

function recordVersion(tx: DbTx, r: RuleRow) {
  return tx.ruleVersion.create({
    data: { ruleId: r.id, version: r.version, name: r.name, enabled: r.enabled, assetId: r.assetId, assetType: r.assetType, definition: r.definition as Prisma.InputJsonValue },
  });
}

export function createRuleService(deps: { prisma: Db; onChange?: () => void }) {
  const { prisma } = deps;
  const changed = (): void => deps.onChange?.();
  return {
    async create(input: RuleInput) {
      validateScope(input.assetId, input.assetType);
      const definition = validated(input.kind, input.definition);
      try {
        const rule = await prisma.$transaction(async (tx) => {
          const r = await tx.rule.create({
            data: { name: input.name, kind: input.kind, assetId: input.assetId ?? null, assetType: input.assetType ?? null, enabled: input.enabled ?? true, definition },
            select: ruleSelect,
          });
          await recordVersion(tx, r);
          return r;
        });
        changed();
        return rule;
      } catch (err) {
        if (isForeignKeyViolation(err)) throw new AppError('validation', `asset ${input.assetId} does not exist`, { assetId: input.assetId });
        throw err;
      }
    },

    async update(id: string, patch: Partial<RuleInput>) {
      const current = await prisma.rule.findUnique({ where: { id }, select: { kind: true, assetId: true, assetType: true, definition: true } });
      if (!current) throw notFound('Rule', id);
      if (patch.kind !== undefined && patch.kind !== current.kind) throw new AppError('validation', 'the kind of a rule cannot change; create a new rule', { kind: patch.kind });
      const assetId = patch.assetId !== undefined ? patch.assetId : current.assetId;
      const assetType = patch.assetType !== undefined ? patch.assetType : current.assetType;
      validateScope(assetId, assetType);
      const definition = patch.definition !== undefined ? validated(current.kind, patch.definition) : undefined;
      try {
        const rule = await prisma.$transaction(async (tx) => {
          const r = await tx.rule.update({
            where: { id },
            data: {
              ...(patch.name !== undefined ? { name: patch.name } : {}),
              ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
              assetId: assetId ?? null,
              assetType: assetType ?? null,
              ...(definition !== undefined ? { definition } : {}),
              version: { increment: 1 },
            },
            select: ruleSelect,
          });
          await recordVersion(tx, r);
          return r;
        });
        changed();
        return rule;
      } catch (err) {
        if (isRecordNotFound(err)) throw notFound('Rule', id);
        if (isForeignKeyViolation(err)) throw new AppError('validation', `asset ${assetId} does not exist`, { assetId });
        throw err;
      }
    },

    async get(id: string) {
      const rule = await prisma.rule.findUnique({ where: { id }, select: ruleSelect });
      if (!rule) throw notFound('Rule', id);
      return rule;
    },

    async list(f: { assetId?: string | undefined; kind?: RuleKind | undefined; enabled?: boolean | undefined }) {
      return prisma.rule.findMany({
        where: { ...(f.assetId ? { assetId: f.assetId } : {}), ...(f.kind ? { kind: f.kind } : {}), ...(f.enabled !== undefined ? { enabled: f.enabled } : {}) },
        select: ruleSelect,
        orderBy: { createdAt: 'asc' },
      });
    },

    /**
     * Dry run of a saved rule (ruleId) or a draft against stored telemetry; creates nothing.
     * Scope: the given assetId/assetType, else the rule's own.
     */
    async backtest(
      input: {
        ruleId?: string | undefined;
        draft?: { kind: RuleKind; name?: string | undefined; definition: unknown } | undefined;
        assetId?: string | undefined;
        assetType?: string | undefined;
        from: Date;
        to: Date;
        maxOrders?: number | undefined;
      },
      source: ReadingSource,
      onProgress?: (done: number, total: number, readings: number) => void,
    ) {
      if (!!input.ruleId === !!input.draft) throw new AppError('validation', 'give either ruleId or draft');
      if (input.from >= input.to) throw new AppError('validation', '"from" must be before "to"');
      let rule: ReadingRule;
      let scope: { assetId: string | null; assetType: string | null };
      if (input.ruleId) {
        const row = await prisma.rule.findUnique({ where: { id: input.ruleId }, select: { id: true, name: true, kind: true, version: true, definition: true, assetId: true, assetType: true } });
        if (!row) throw notFound('Rule', input.ruleId);
        const def = validated(row.kind, row.definition);
        rule = { id: row.id, name: row.name, kind: row.kind, version: row.version, definition: def } as unknown as ReadingRule;
        scope = { assetId: row.assetId, assetType: row.assetType };
      } else {
        const draft = input.draft!;
        rule = { id: 'draft', name: draft.name ?? 'draft rule', kind: draft.kind, version: 0, definition: validated(draft.kind, draft.definition) } as unknown as ReadingRule;
        scope = { assetId: null, assetType: null };
      }
      if (!['threshold', 'usage', 'trend', 'anomaly', 'composite'].includes(rule.kind)) {
        throw new AppError('validation', `${rule.kind} rules do not evaluate telemetry; backtest threshold, usage, trend, anomaly or composite rules`);
      }
      const assetId = input.assetId ?? (input.assetType ? null : scope.assetId);
      const assetType = input.assetType ?? (input.assetId ? null : scope.assetType);
      if (!assetId && !assetType) throw new AppError('validation', 'a draft needs assetId or assetType to run against');
      const assets = await prisma.asset.findMany({ where: assetId ? { id: assetId } : { type: assetType! }, select: { id: true, code: true }, orderBy: { code: 'asc' } });
      if (assetId && assets.length === 0) throw notFound('Asset', assetId);
      return backtest({ rule, assets, source, from: input.from, to: input.to, maxOrders: input.maxOrders, onProgress });
    },

    /** Every version of the rule, newest first. */
    async versions(id: string) {
      const rows = await prisma.ruleVersion.findMany({
        where: { ruleId: id },
        select: { version: true, name: true, enabled: true, assetId: true, assetType: true, definition: true, createdAt: true },
        orderBy: { version: 'desc' },
      });
      if (rows.length === 0 && !(await prisma.rule.findUnique({ where: { id }, select: { id: true } }))) throw notFound('Rule', id);
      return rows;
    },

    async remove(id: string) {
      try {
        await prisma.rule.delete({ where: { id } });
        changed();
      } catch (err) {
        if (isRecordNotFound(err)) throw notFound('Rule', id);
        throw err;
      }
    },
  };
}

export type RuleService = ReturnType<typeof createRuleService>;
