/**
 * Writes the audit log for every successful change (POST/PUT/PATCH/DELETE < 400): snapshot of the
 * audited entity before the handler and after the response; the entity id from the route's :id or
 * from the created resource in the response body.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { entityOfRoute, type AuditService } from '../access/audit.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auditBefore: unknown;
    auditCreatedId: string | null;
  }
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function stockRef(req: FastifyRequest): { partId: string; warehouseIds: string[] } | undefined {
  const b = req.body as { partId?: unknown; warehouseId?: unknown; toWarehouseId?: unknown } | undefined;
  if (!b || typeof b.partId !== 'string' || typeof b.warehouseId !== 'string') return undefined;
  return { partId: b.partId, warehouseIds: [b.warehouseId, ...(typeof b.toWarehouseId === 'string' ? [b.toWarehouseId] : [])] };
}

export function installAuditLog(app: FastifyInstance, audit: AuditService): void {
  app.decorateRequest('auditBefore', null);
  app.decorateRequest('auditCreatedId', null);

  // runs after the access-control preHandler (registered earlier): only permitted requests get here
  app.addHook('preHandler', async (req) => {
    const url = req.routeOptions.url;
    if (!url || !MUTATING.has(req.method) || url.startsWith('/auth/')) return;
    const { audited } = entityOfRoute(url);
    if (!audited) return;
    const id = (req.params as { id?: string } | undefined)?.id;
    req.auditBefore = audited === 'stock' ? await audit.snapshot('stock', { stock: stockRef(req) }) : id ? await audit.snapshot(audited, { id }) : null;
  });

  app.addHook('onSend', async (req, _reply, payload) => {
    if (MUTATING.has(req.method) && typeof payload === 'string' && payload.length < 1_000_000 && !(req.params as { id?: string } | undefined)?.id) {
      const m = /^\{"id":"([0-9a-f-]{36})"/.exec(payload) ?? /"id":"([0-9a-f-]{36})"/.exec(payload.slice(0, 2000));
      if (m && UUID.test(m[1]!)) req.auditCreatedId = m[1]!;
    }
    return payload;
  });

  app.addHook('onResponse', async (req, reply) => {
    const url = req.routeOptions.url;
    if (!url || !MUTATING.has(req.method) || reply.statusCode >= 400 || url === '/auth/login') return;
    const { type, audited } = entityOfRoute(url);
    const paramId = (req.params as { id?: string } | undefined)?.id;
    const entityId = paramId ?? req.auditCreatedId;
    let after: unknown = null;
    if (audited === 'stock') after = await audit.snapshot('stock', { stock: stockRef(req) });
    else if (audited && entityId && req.method !== 'DELETE') after = await audit.snapshot(audited, { id: entityId });
    await audit.record({
      principal: req.principal,
      method: req.method,
      route: url,
      statusCode: reply.statusCode,
      entityType: type,
      entityId: audited === 'stock' ? (stockRef(req)?.partId ?? null) : (entityId ?? null),
      before: req.auditBefore,
      after,
      requestId: req.id,
      ip: req.ip,
    });
  });
}
