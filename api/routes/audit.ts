import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, Nullable, Page, Paging, TimestampOut } from '../schemas.ts';

const AuditSchema = Type.Object({
  id: Type.String(),
  at: TimestampOut,
  actorType: Type.String({ description: 'user, api_key or anonymous' }),
  actorId: Nullable(Type.String()),
  actorName: Nullable(Type.String()),
  role: Nullable(Type.String()),
  method: Type.String(),
  route: Type.String(),
  statusCode: Type.Integer(),
  entityType: Nullable(Type.String()),
  entityId: Nullable(Type.String()),
  before: Type.Unknown({ description: 'work orders, assets, rules, stock: the entity before the change' }),
  after: Type.Unknown(),
  requestId: Nullable(Type.String()),
  ip: Nullable(Type.String()),
});

export function auditRoutes(app: ApiApp, { audit }: ApiDeps): void {
  app.get(
    '/audit',
    {
      schema: {
        tags: ['auth'],
        summary: 'Audit log of changes (newest first): who, what, before/after',
        querystring: Type.Object({
          entityType: Type.Optional(Type.String({ maxLength: 64 })),
          entityId: Type.Optional(Type.String({ maxLength: 64 })),
          actorId: Type.Optional(Type.String({ maxLength: 64 })),
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
          ...Paging,
        }),
        response: { 200: Page(AuditSchema), ...errorResponses },
      },
    },
    async (req) => {
      const { from, to, ...rest } = req.query;
      const r = await audit.list({ ...rest, from: from ? new Date(from) : undefined, to: to ? new Date(to) : undefined });
      return { ...r, limit: req.query.limit, offset: req.query.offset };
    },
  );
}
