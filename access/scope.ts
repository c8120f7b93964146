/**
 * Row-level access for engineers and customers: who may see which work order, asset, attachment
 * or notification, and the filters forced onto their lists. Refusals on single rows are 404 (the
 * caller must not learn that someone else's order exists).
 */
import type { Db } from '../platform/db/database.ts';
import { AppError, notFound } from '../platform/errors.ts';
import { can, type Permission, type Principal } from './permissions.ts';
import type { RouteAccess, Scope } from './route-permissions.ts';

/** Engineers and customers are restricted to their own rows; everybody else sees all. */
export const isRestricted = (p: Principal): boolean => p.role === 'engineer' || p.role === 'customer';

export interface ScopedRequest {
  method?: string | undefined;
  params: Record<string, string | undefined>;
  query: Record<string, unknown>;
  body: unknown;
}

export function createScopeChecker(prisma: Db) {
  async function workOrderVisible(p: Principal, id: string): Promise<boolean> {
    const wo = await prisma.workOrder.findUnique({ where: { id }, select: { assigneeId: true, customerId: true } });
    if (!wo) return true; // let the route answer 404 itself
    if (p.role === 'engineer') return !!p.engineerId && wo.assigneeId === p.engineerId;
    if (p.role === 'customer') return !!p.customerId && wo.customerId === p.customerId;
    return true;
  }

  async function assetVisible(p: Principal, id: string): Promise<boolean> {
    if (p.role !== 'customer') return true; // engineers read the asset register
    const a = await prisma.asset.findUnique({ where: { id }, select: { site: { select: { customerId: true } } } });
    if (!a) return true;
    return !!p.customerId && a.site.customerId === p.customerId;
  }

  async function attachmentVisible(p: Principal, id: string): Promise<boolean> {
    const a = await prisma.attachment.findUnique({ where: { id }, select: { ownerType: true, ownerId: true } });
    if (!a) return true;
    if (a.ownerType === 'work_order') return workOrderVisible(p, a.ownerId);
    if (a.ownerType === 'asset') return assetVisible(p, a.ownerId);
    return p.role !== 'customer'; // knowledge-base files: staff only
  }

  async function notificationVisible(p: Principal, id: string): Promise<boolean> {
    if (p.role !== 'engineer') return true;
    const n = await prisma.notification.findUnique({ where: { id }, select: { subjectType: true, subjectId: true } });
    if (!n) return true;
    return n.subjectType === 'engineer' && n.subjectId === p.engineerId;
  }

  /** Owner write permission for deleting an attachment (work-order files also follow the order's row rule). */
  const OWNER_WRITE: Readonly<Record<string, Permission>> = { work_order: 'work_orders:update', asset: 'assets:write', knowledge_article: 'knowledge:write' };

  async function checkAttachmentDelete(p: Principal, id: string): Promise<void> {
    const a = await prisma.attachment.findUnique({ where: { id }, select: { ownerType: true, ownerId: true } });
    if (!a) return; // the route answers 404
    if (isRestricted(p) && !(await attachmentVisible(p, id))) throw notFound('Attachment', id);
    const needed = OWNER_WRITE[a.ownerType];
    if (!needed || !can(p, needed)) throw new AppError('forbidden', `role ${p.role} may not delete ${a.ownerType.replace('_', ' ')} attachments (needs ${needed ?? 'admin'})`);
  }

  /** CSV import/export: the entity's own permission on top of data:import / data:export. */
  const DATA_ENTITY: Readonly<Record<string, { read: Permission; write: Permission }>> = {
    assets: { read: 'assets:read', write: 'assets:write' },
    parts: { read: 'inventory:read', write: 'inventory:write' },
    engineers: { read: 'engineers:read', write: 'engineers:write' },
  };

  return {
    /**
     * Enforces the route's row-level rule for restricted callers: throws not_found for rows that are
     * not theirs, rewrites list filters and request bodies to their own scope.
     */
    async enforce(p: Principal, access: Extract<RouteAccess, { permission: string }>, req: ScopedRequest, selfOnly: boolean): Promise<void> {
      const scope: Scope | undefined = access.scope;
      const id = req.params.id;
      if (scope === 'engineer_self') {
        if (selfOnly && id !== p.engineerId) throw notFound('Engineer', id ?? '');
        return;
      }
      if (scope === 'attachment_delete') {
        if (id) await checkAttachmentDelete(p, id);
        return;
      }
      if (scope === 'data_entity') {
        const entity = req.params.entity ?? '';
        const perms = DATA_ENTITY[entity];
        if (!perms) return; // the schema refuses unknown entities
        const needed = req.method === 'GET' ? perms.read : perms.write;
        if (!can(p, needed)) throw new AppError('forbidden', `role ${p.role} may not ${req.method === 'GET' ? 'export' : 'import'} ${entity} (needs ${needed})`);
        return;
      }
      if (!isRestricted(p) || !scope) return;
      switch (scope) {
        case 'work_order': {
          if (id && !(await workOrderVisible(p, id))) throw notFound('WorkOrder', id);
          // engineers work their orders; giving one to somebody else is dispatch (they can decline)
          const assignee = (req.body as { assigneeId?: unknown } | undefined)?.assigneeId;
          if (p.role === 'engineer' && assignee !== undefined && assignee !== p.engineerId) {
            throw new AppError('forbidden', 'engineers cannot assign orders to others; decline the order instead');
          }
          return;
        }
        case 'asset':
          if (id && !(await assetVisible(p, id))) throw notFound('Asset', id);
          return;
        case 'attachment':
          if (id && !(await attachmentVisible(p, id))) throw notFound('Attachment', id);
          return;
        case 'notification':
          if (id && !(await notificationVisible(p, id))) throw notFound('Notification', id);
          return;
        case 'work_order_list':
          if (p.role === 'engineer') req.query.assigneeId = p.engineerId ?? '00000000-0000-0000-0000-000000000000';
          if (p.role === 'customer') req.query.customerId = p.customerId ?? '00000000-0000-0000-0000-000000000000';
          return;
        case 'work_order_body': {
          const woId = (req.body as { workOrderId?: unknown } | undefined)?.workOrderId;
          if (typeof woId === 'string' && !(await workOrderVisible(p, woId))) throw notFound('WorkOrder', woId);
          return;
        }
        case 'asset_list':
          if (p.role === 'customer') req.query.customerId = p.customerId ?? '00000000-0000-0000-0000-000000000000';
          return;
        case 'notification_list':
          if (p.role === 'engineer') {
            req.query.subjectType = 'engineer';
            req.query.subjectId = p.engineerId ?? '-';
          }
          return;
        case 'work_order_create': {
          if (p.role !== 'customer') return;
          const body = req.body as Record<string, unknown>;
          const assetId = typeof body.assetId === 'string' ? body.assetId : '';
          if (!(await assetVisible(p, assetId))) throw new AppError('validation', `asset ${assetId} does not exist`, { assetId });
          // a project of another customer is refused like a missing one (their costs must not land on it)
          if (typeof body.projectId === 'string') {
            const project = await prisma.project.findUnique({ where: { id: body.projectId }, select: { customerId: true } });
            if (!project || !p.customerId || project.customerId !== p.customerId) throw new AppError('validation', 'asset or project does not exist', { assetId, projectId: body.projectId });
          }
          // a customer's request is always a customer request from the portal, with their priority only as a hint
          body.source = 'customer';
          body.channel = 'portal';
          delete body.priority;
          return;
        }
      }
    },
  };
}

export type ScopeChecker = ReturnType<typeof createScopeChecker>;
