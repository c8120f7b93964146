/** Sites and assets: CRUD with the integrity rules a CMMS needs (unique codes, valid parent, no cycles). */
import type { Clock } from '../platform/clock.ts';
import type { Db, Prisma } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';
import type { NotificationService } from './notifications.ts';
import type { WorkOrderHooks } from './work-orders.ts';
import { AppError, conflict, isForeignKeyViolation, isRecordNotFound, isUniqueViolation, notFound } from '../platform/errors.ts';

export type AssetStatus = 'procured' | 'installed' | 'in_service' | 'under_repair' | 'retired';

export interface AssetInput {
  code: string;
  name: string;
  type: string;
  brand?: string | null | undefined;
  model?: string | null | undefined;
  serial?: string | null | undefined;
  siteId: string;
  parentId?: string | null | undefined;
  installDate?: string | null | undefined;
  warrantyEnd?: string | null | undefined;
  specs?: Record<string, unknown> | undefined;
  status?: AssetStatus | undefined;
}

export const assetSelect = {
  id: true,
  code: true,
  name: true,
  type: true,
  brand: true,
  model: true,
  serial: true,
  siteId: true,
  parentId: true,
  installDate: true,
  warrantyEnd: true,
  specs: true,
  status: true,
  lastSeenAt: true,
  createdAt: true,
  updatedAt: true,
  site: { select: { code: true } },
} satisfies Prisma.AssetSelect;

const toDate = (s: string | null | undefined): Date | null | undefined => (s === undefined ? undefined : s === null ? null : new Date(`${s.slice(0, 10)}T00:00:00Z`));

export interface AssetServiceDeps {
  prisma: Db;
  clock: Clock;
  logger: Logger;
  notifications: NotificationService;
  /** e.g. "{type}-{brand}-{model}-{serial}" (config ASSET_CODE_CONVENTION). */
  codeConvention: string;
  codeMode: 'enforce' | 'generate' | 'off';
  warrantyAlertDays: number;
}

export function createAssetService(deps: AssetServiceDeps) {
  const { prisma } = deps;
  // SKELETON: asset lifecycle hooks (downtime) and the warranty sweep are to be implemented.
  const workOrderHooks: WorkOrderHooks = {};

  async function assertParent(id: string | undefined, parentId: string | null | undefined): Promise<void> {
    if (!parentId) return;
    if (parentId === id) throw new AppError('validation', 'an asset cannot be its own parent', { parentId });
    // walk up from the new parent; meeting `id` would close a cycle
    let cursor: string | null = parentId;
    for (let depth = 0; cursor; depth++) {
      if (depth > 50) throw new AppError('validation', 'asset hierarchy is deeper than 50 levels', { parentId });
      const row: { parentId: string | null } | null = await prisma.asset.findUnique({ where: { id: cursor }, select: { parentId: true } });
      if (!row) throw new AppError('validation', `parent asset ${cursor} does not exist`, { parentId });
      if (id && row.parentId === id) throw new AppError('validation', 'parent would create a cycle in the asset hierarchy', { parentId });
      cursor = row.parentId;
    }
  }

  function mapWriteError(err: unknown, input: Partial<AssetInput>): never {
    if (isUniqueViolation(err)) throw conflict(`asset code ${input.code} is already used`, { code: input.code });
    if (isForeignKeyViolation(err)) throw new AppError('validation', `site ${input.siteId} does not exist`, { siteId: input.siteId });
    throw err;
  }

  return {
    workOrderHooks,
    /** Notifies once per asset + warranty end when it ends within warrantyAlertDays. */
    async sweepWarranty(): Promise<{ notified: number }> {
      return { notified: 0 };
    },

    async createSite(input: { code: string; name: string; address?: string | undefined }) {
      try {
        return await prisma.site.create({ data: { code: input.code, name: input.name, address: input.address ?? null } });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`site code ${input.code} is already used`, { code: input.code });
        throw err;
      }
    },
    listSites: () => prisma.site.findMany({ orderBy: { code: 'asc' } }),

    async create(input: AssetInput) {
      await assertParent(undefined, input.parentId);
      try {
        return await prisma.asset.create({
          data: {
            code: input.code,
            name: input.name,
            type: input.type,
            brand: input.brand ?? null,
            model: input.model ?? null,
            serial: input.serial ?? null,
            siteId: input.siteId,
            parentId: input.parentId ?? null,
            installDate: toDate(input.installDate) ?? null,
            warrantyEnd: toDate(input.warrantyEnd) ?? null,
            specs: (input.specs ?? {}) as Prisma.InputJsonValue,
            status: input.status ?? 'in_service',
          },
          select: assetSelect,
        });
      } catch (err) {
        mapWriteError(err, input);
      }
    },

    async update(id: string, patch: Partial<AssetInput>) {
      if (patch.parentId !== undefined) await assertParent(id, patch.parentId);
      try {
        return await prisma.asset.update({
          where: { id },
          data: {
            ...(patch.code !== undefined ? { code: patch.code } : {}),
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            ...(patch.type !== undefined ? { type: patch.type } : {}),
            ...(patch.brand !== undefined ? { brand: patch.brand } : {}),
            ...(patch.model !== undefined ? { model: patch.model } : {}),
            ...(patch.serial !== undefined ? { serial: patch.serial } : {}),
            ...(patch.siteId !== undefined ? { siteId: patch.siteId } : {}),
            ...(patch.parentId !== undefined ? { parentId: patch.parentId } : {}),
            ...(patch.installDate !== undefined ? { installDate: toDate(patch.installDate) } : {}),
            ...(patch.warrantyEnd !== undefined ? { warrantyEnd: toDate(patch.warrantyEnd) } : {}),
            ...(patch.specs !== undefined ? { specs: patch.specs as Prisma.InputJsonValue } : {}),
            ...(patch.status !== undefined ? { status: patch.status } : {}),
          },
          select: assetSelect,
        });
      } catch (err) {
        if (isRecordNotFound(err)) throw notFound('Asset', id);
        mapWriteError(err, patch);
      }
    },

    async get(id: string) {
      const a = await prisma.asset.findUnique({ where: { id }, select: { ...assetSelect, meters: { select: { name: true, value: true, unit: true, readAt: true } } } });
      if (!a) throw notFound('Asset', id);
      return a;
    },

    async findByCode(code: string) {
      return prisma.asset.findUnique({ where: { code }, select: { id: true, code: true, site: { select: { code: true } } } });
    },

    async list(f: { siteId?: string | undefined; type?: string | undefined; status?: AssetStatus | undefined; code?: string | undefined; limit: number; offset: number }) {
      const where: Prisma.AssetWhereInput = {
        ...(f.siteId ? { siteId: f.siteId } : {}),
        ...(f.type ? { type: f.type } : {}),
        ...(f.status ? { status: f.status } : {}),
        ...(f.code ? { code: f.code } : {}),
      };
      const [items, total] = await Promise.all([
        prisma.asset.findMany({ where, select: assetSelect, orderBy: { code: 'asc' }, take: f.limit, skip: f.offset }),
        prisma.asset.count({ where }),
      ]);
      return { items, total };
    },

    /** Assets with history are retired, not deleted; only never-used assets can be removed. */
    async remove(id: string) {
      const a = await prisma.asset.findUnique({ where: { id }, select: { _count: { select: { workOrders: true, children: true } } } });
      if (!a) throw notFound('Asset', id);
      if (a._count.workOrders > 0 || a._count.children > 0) {
        throw conflict('asset has work orders or child assets; set status to retired instead of deleting', { id, ...a._count });
      }
      await prisma.asset.delete({ where: { id } });
    },

    async createEngineer(input: { code: string; name: string; phone?: string | undefined; email?: string | undefined; skills?: string[] | undefined }) {
      try {
        return await prisma.engineer.create({
          data: { code: input.code, name: input.name, phone: input.phone ?? null, email: input.email ?? null, skills: input.skills ?? [] },
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`engineer code ${input.code} is already used`, { code: input.code });
        throw err;
      }
    },
    listEngineers: () => prisma.engineer.findMany({ orderBy: { code: 'asc' } }),
  };
}

export type AssetService = ReturnType<typeof createAssetService>;
