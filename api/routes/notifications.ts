import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams, Page, Paging, TimestampOut, Uuid } from '../schemas.ts';

const NotificationSchema = Type.Object({
  id: Uuid,
  kind: Type.String({ description: 'e.g. warranty_expiring, csat_low' }),
  subjectType: Type.String(),
  subjectId: Type.String(),
  dedupeKey: Type.String(),
  title: Type.String(),
  payload: Type.Unknown(),
  createdAt: TimestampOut,
  readAt: Type.Union([TimestampOut, Type.Null()]),
});

export function notificationRoutes(app: ApiApp, { notifications }: ApiDeps): void {
  app.get(
    '/notifications',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Notifications (newest first): warranty expiring, low CSAT escalations, ...',
        querystring: Type.Object({
          kind: Type.Optional(Type.String({ maxLength: 64 })),
          subjectType: Type.Optional(Type.String({ maxLength: 64 })),
          subjectId: Type.Optional(Type.String({ maxLength: 64 })),
          unread: Type.Optional(Type.Boolean()),
          ...Paging,
        }),
        response: { 200: Page(NotificationSchema), ...errorResponses },
      },
    },
    async (req) => ({ ...(await notifications.list(req.query)), limit: req.query.limit, offset: req.query.offset }),
  );
  app.post(
    '/notifications/:id/read',
    { schema: { tags: ['notifications'], summary: 'Mark a notification read', params: IdParams, response: { 200: NotificationSchema, ...errorResponses } } },
    async (req) => notifications.markRead(req.params.id),
  );
}
