import { Type } from 'typebox';
import { PERMISSIONS, ROLES, type Permission, type Role } from '../../access/permissions.ts';
import { AppError } from '../../platform/errors.ts';
import type { ApiApp, ApiDeps } from '../server.ts';
import { errorResponses, IdParams, Nullable, TimestampOut, Uuid } from '../schemas.ts';

const ROLE = Type.Unsafe<Role>({ type: 'string', enum: [...ROLES] });
const PERMISSION = Type.Unsafe<Permission>({ type: 'string', enum: [...PERMISSIONS] });
const UserSchema = Type.Object({
  id: Uuid,
  username: Type.String(),
  displayName: Type.String(),
  email: Nullable(Type.String()),
  role: ROLE,
  customerId: Nullable(Uuid),
  engineerId: Nullable(Uuid),
  active: Type.Boolean(),
  lastLoginAt: Nullable(TimestampOut),
  lockedUntil: Nullable(TimestampOut),
  createdAt: TimestampOut,
});
const ApiKeySchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  prefix: Type.String(),
  role: ROLE,
  scopes: Type.Array(Type.String()),
  customerId: Nullable(Uuid),
  engineerId: Nullable(Uuid),
  createdById: Nullable(Type.String()),
  createdAt: TimestampOut,
  expiresAt: Nullable(TimestampOut),
  revokedAt: Nullable(TimestampOut),
  lastUsedAt: Nullable(TimestampOut),
});
const USERNAME = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$' });
const PASSWORD = Type.String({ minLength: 10, maxLength: 200 });

export function authRoutes(app: ApiApp, { auth }: ApiDeps): void {
  app.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in: returns a session token for `Authorization: Bearer <token>`',
        body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ token: Type.String(), expiresAt: TimestampOut, user: UserSchema }), ...errorResponses },
      },
    },
    async (req) => auth.login(req.body.username, req.body.password),
  );
  app.post('/auth/logout', { schema: { tags: ['auth'], summary: 'End every session of the calling user', response: { 204: Type.Null(), ...errorResponses } } }, async (req, reply) => {
    if (req.principal?.kind !== 'user') throw new AppError('validation', 'only user sessions can log out (revoke API keys instead)');
    if (!/^[0-9a-f-]{36}$/.test(req.principal.id)) throw new AppError('validation', 'AUTH_MODE=off: there is no session to end');
    await auth.logoutEverywhere(req.principal.id);
    return reply.status(204).send(null);
  });
  app.get(
    '/auth/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'Who am I: role, permissions, linked customer/engineer',
        response: {
          200: Type.Object({ kind: Type.String(), id: Type.String(), name: Type.String(), role: ROLE, permissions: Type.Array(Type.String()), customerId: Nullable(Type.String()), engineerId: Nullable(Type.String()) }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = req.principal!;
      return { kind: p.kind, id: p.id, name: p.name, role: p.role, permissions: [...p.permissions].sort(), customerId: p.customerId, engineerId: p.engineerId };
    },
  );

  app.get('/users', { schema: { tags: ['auth'], summary: 'Users', response: { 200: Type.Array(UserSchema), ...errorResponses } } }, () => auth.listUsers());
  app.post(
    '/users',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create a user (engineers link engineerId, customers customerId)',
        body: Type.Object(
          {
            username: USERNAME,
            displayName: Type.String({ minLength: 1, maxLength: 200 }),
            email: Type.Optional(Nullable(Type.String({ format: 'email' }))),
            password: PASSWORD,
            role: ROLE,
            customerId: Type.Optional(Nullable(Uuid)),
            engineerId: Type.Optional(Nullable(Uuid)),
          },
          { additionalProperties: false },
        ),
        response: { 201: UserSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await auth.createUser(req.body)),
  );
  app.patch(
    '/users/:id',
    {
      schema: {
        tags: ['auth'],
        summary: 'Change a user; new password, role, links or deactivation end their sessions',
        params: IdParams,
        body: Type.Object(
          {
            displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            email: Type.Optional(Nullable(Type.String({ format: 'email' }))),
            password: Type.Optional(PASSWORD),
            role: Type.Optional(ROLE),
            active: Type.Optional(Type.Boolean()),
            customerId: Type.Optional(Nullable(Uuid)),
            engineerId: Type.Optional(Nullable(Uuid)),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: UserSchema, ...errorResponses },
      },
    },
    async (req) => auth.updateUser(req.params.id, req.body),
  );

  app.get('/api-keys', { schema: { tags: ['auth'], summary: 'API keys (never their secrets)', response: { 200: Type.Array(ApiKeySchema), ...errorResponses } } }, () => auth.listApiKeys());
  app.post(
    '/api-keys',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an API key for an integration; the key is shown once',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            role: ROLE,
            scopes: Type.Optional(Type.Array(PERMISSION, { maxItems: 50, description: 'narrow the role to these permissions' })),
            customerId: Type.Optional(Nullable(Uuid)),
            engineerId: Type.Optional(Nullable(Uuid)),
            expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Intersect([ApiKeySchema, Type.Object({ key: Type.String({ description: 'omk_<prefix>_<secret>: shown once' }) })]), ...errorResponses },
      },
    },
    async (req, reply) => {
      const { expiresAt, ...rest } = req.body;
      const created = await auth.createApiKey({ ...rest, expiresAt: expiresAt ? new Date(expiresAt) : undefined }, req.principal?.kind === 'user' && /^[0-9a-f-]{36}$/.test(req.principal.id) ? req.principal.id : null);
      return reply.status(201).send(created);
    },
  );
  app.post('/api-keys/:id/revoke', { schema: { tags: ['auth'], summary: 'Revoke an API key (immediately)', params: IdParams, response: { 200: ApiKeySchema, ...errorResponses } } }, async (req) =>
    auth.revokeApiKey(req.params.id),
  );
}
