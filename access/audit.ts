/**
 * Audit log of every change made through the API: who (user or API key, role), what (method,
 * route, entity), and for assets, rules, work orders and stock the entity before and after.
 * Written after the response (a failure to audit is logged, never turned into a failed request).
 */
import type { Clock } from '../platform/clock.ts';
import type { Db, Prisma } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';
import type { Principal } from './permissions.ts';

export type AuditedEntity = 'work_order' | 'asset' | 'rule' | 'stock';

/** Entity of a route by its first path segment; :id param identifies the row. */
export function entityOfRoute(url: string): { type: string; audited: AuditedEntity | null } {
  const first = url.split('/')[1] ?? '';
  switch (first) {
    case 'work-orders':
      return { type: 'work_order', audited: 'work_order' };
    case 'assets':
      return { type: 'asset', audited: 'asset' };
    case 'rules':
      return { type: 'rule', audited: 'rule' };
    case 'stock':
      return { type: 'stock', audited: 'stock' };
    default:
      return { type: first.replace(/-/g, '_').replace(/s$/, '') || 'unknown', audited: null };
  }
}

export interface AuditEntry {
  principal: Principal | null;
  method: string;
  route: string;
  statusCode: number;
  entityType: string | null;
  entityId: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
  ip: string | null;
}

export function createAuditService(deps: { prisma: Db; clock: Clock; logger: Logger }) {
  const { prisma, clock } = deps;
  const log = deps.logger.child({ module: 'audit' });

  const loaders: Record<Exclude<AuditedEntity, 'stock'>, (id: string) => Promise<unknown>> = {
    work_order: (id) =>
      prisma.workOrder.findUnique({
        where: { id },
        select: { status: true, priority: true, assigneeId: true, title: true, description: true, faultCode: true, rootCause: true, resolution: true, holdReason: true, requiredSkills: true, estimatedHours: true, updatedAt: true },
      }),
    asset: (id) =>
      prisma.asset.findUnique({
        where: { id },
        select: { code: true, name: true, type: true, brand: true, model: true, serial: true, siteId: true, areaId: true, parentId: true, status: true, criticality: true, warrantyEnd: true, specs: true, updatedAt: true },
      }),
    rule: (id) => prisma.rule.findUnique({ where: { id }, select: { name: true, kind: true, enabled: true, version: true, definition: true, assetId: true, assetType: true } }),
  };

  return {
    /** Snapshot of an audited entity (null when it does not exist). */
    async snapshot(type: AuditedEntity, ref: { id?: string | undefined; stock?: { partId: string; warehouseIds: string[] } | undefined }): Promise<unknown> {
      if (type === 'stock') {
        if (!ref.stock) return null;
        return prisma.stock.findMany({ where: { partId: ref.stock.partId, warehouseId: { in: ref.stock.warehouseIds } }, select: { partId: true, warehouseId: true, quantity: true, reserved: true }, orderBy: { warehouseId: 'asc' } });
      }
      return ref.id ? loaders[type](ref.id) : null;
    },

    async record(e: AuditEntry): Promise<void> {
      try {
        await prisma.auditLog.create({
          data: {
            at: clock.now(),
            actorType: e.principal?.kind ?? 'anonymous',
            actorId: e.principal?.id ?? null,
            actorName: e.principal?.name ?? null,
            role: e.principal?.role ?? null,
            method: e.method,
            route: e.route,
            statusCode: e.statusCode,
            entityType: e.entityType,
            entityId: e.entityId,
            before: (e.before ?? undefined) as Prisma.InputJsonValue | undefined,
            after: (e.after ?? undefined) as Prisma.InputJsonValue | undefined,
            requestId: e.requestId,
            ip: e.ip,
          },
        });
      } catch (err) {
        log.error({ err, route: e.route }, 'audit entry not written');
      }
    },

    async list(f: { entityType?: string | undefined; entityId?: string | undefined; actorId?: string | undefined; from?: Date | undefined; to?: Date | undefined; limit: number; offset: number }) {
      const where: Prisma.AuditLogWhereInput = {
        ...(f.entityType ? { entityType: f.entityType } : {}),
        ...(f.entityId ? { entityId: f.entityId } : {}),
        ...(f.actorId ? { actorId: f.actorId } : {}),
        ...(f.from || f.to ? { at: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lte: f.to } : {}) } } : {}),
      };
      const [items, total] = await Promise.all([prisma.auditLog.findMany({ where, orderBy: { at: 'desc' }, take: f.limit, skip: f.offset }), prisma.auditLog.count({ where })]);
      return { items, total };
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
