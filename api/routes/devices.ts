import { Type } from 'typebox';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams, Nullable, TimestampOut, Uuid } from '../schemas.ts';

const Credential = Type.Object({
  id: Uuid,
  username: Type.String(),
  assetId: Nullable(Uuid),
  siteId: Nullable(Uuid),
  createdAt: TimestampOut,
  revokedAt: Nullable(TimestampOut),
  lastUsedAt: Nullable(TimestampOut),
});
const CreatedCredential = Type.Object({
  ...Credential.properties,
  password: Type.String({ description: 'shown once; store it in the device' }),
});
const CreateBody = Type.Object(
  { username: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.@-]{2,127}$' })) },
  { additionalProperties: false },
);

export function deviceRoutes(app: ApiApp, { credentials }: ApiDeps): void {
  app.post(
    '/assets/:id/credentials',
    {
      schema: {
        tags: ['devices'],
        summary: 'MQTT credentials for one device: it may publish only for this asset (password shown once)',
        params: IdParams,
        body: Type.Optional(CreateBody),
        response: { 201: CreatedCredential, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await credentials.create({ assetId: req.params.id, username: req.body?.username })),
  );
  app.post(
    '/sites/:id/credentials',
    {
      schema: {
        tags: ['devices'],
        summary: 'MQTT credentials for a gateway: it may publish for every asset of this site (password shown once)',
        params: IdParams,
        body: Type.Optional(CreateBody),
        response: { 201: CreatedCredential, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await credentials.create({ siteId: req.params.id, username: req.body?.username })),
  );
  app.get(
    '/credentials',
    {
      schema: {
        tags: ['devices'],
        summary: 'List device credentials (never the secrets)',
        querystring: Type.Object({ assetId: Type.Optional(Uuid), siteId: Type.Optional(Uuid) }),
        response: { 200: Type.Array(Credential), ...errorResponses },
      },
    },
    (req) => credentials.list(req.query),
  );
  app.delete(
    '/credentials/:id',
    { schema: { tags: ['devices'], summary: 'Revoke a credential (new connections are refused)', params: IdParams, response: { 200: Credential, ...errorResponses } } },
    (req) => credentials.revoke(req.params.id),
  );
}
