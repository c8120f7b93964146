/**
 * Users, sessions and API keys. Passwords are scrypt-hashed; sessions are HS256 tokens whose
 * validity also depends on the user row (deactivation, password change and logout end them);
 * API keys (`omk_<prefix>_<secret>`) are shown once and stored as sha256; repeated bad passwords
 * lock the account for a while. Every failure says the same thing: no user enumeration.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../platform/clock.ts';
import type { Db, Prisma } from '../platform/db/database.ts';
import { AppError, conflict, isUniqueViolation, notFound } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { hashSecret, sha256Hex, verifySecret } from '../platform/secrets.ts';
import { effectivePermissions, isPermission, isRole, ROLE_PERMISSIONS, type Permission, type Principal, type Role } from './permissions.ts';
import { signSession, verifySession } from './tokens.ts';

export interface AuthOptions {
  sessionSecret: string;
  sessionTtlSeconds: number;
  maxFailedLogins: number;
  lockMinutes: number;
  /** Reuse a key/user row read for authentication this long (0 = read on every request). */
  cacheMs?: number;
}

export const userSelect = {
  id: true,
  username: true,
  displayName: true,
  email: true,
  role: true,
  customerId: true,
  engineerId: true,
  active: true,
  lastLoginAt: true,
  lockedUntil: true,
  createdAt: true,
} satisfies Prisma.UserSelect;

export const apiKeySelect = {
  id: true,
  name: true,
  prefix: true,
  role: true,
  scopes: true,
  customerId: true,
  engineerId: true,
  createdById: true,
  createdAt: true,
  expiresAt: true,
  revokedAt: true,
  lastUsedAt: true,
} satisfies Prisma.ApiKeySelect;

const apiKeyAuthSelect = { ...apiKeySelect, secretHash: true } satisfies Prisma.ApiKeySelect;
type ApiKeyAuthRow = Prisma.ApiKeyGetPayload<{ select: typeof apiKeyAuthSelect }>;
const userAuthSelect = { id: true, displayName: true, role: true, customerId: true, engineerId: true, active: true, sessionsValidAfter: true } satisfies Prisma.UserSelect;
type UserAuthRow = Prisma.UserGetPayload<{ select: typeof userAuthSelect }>;

const MIN_PASSWORD = 10;
const BAD_LOGIN = 'invalid username or password';
// verifying against a dummy hash keeps the response time the same for unknown users
let dummyHash: Promise<string> | undefined;

export interface UserInput {
  username: string;
  displayName: string;
  email?: string | null | undefined;
  password: string;
  role: Role;
  customerId?: string | null | undefined;
  engineerId?: string | null | undefined;
}

function checkPassword(pw: string): void {
  if (pw.length < MIN_PASSWORD) throw new AppError('validation', `password must have at least ${MIN_PASSWORD} characters`);
  if (/^(.)\1*$/.test(pw)) throw new AppError('validation', 'password must not be one repeated character');
}

export function createAuthService(deps: { prisma: Db; clock: Clock; logger: Logger; options: AuthOptions }) {
  const { prisma, clock, options } = deps;
  const log = deps.logger.child({ module: 'auth' });

  async function checkLinks(role: Role, customerId: string | null | undefined, engineerId: string | null | undefined): Promise<void> {
    if (role === 'customer') {
      if (!customerId) throw new AppError('validation', 'a customer user needs customerId');
      if (!(await prisma.customer.findUnique({ where: { id: customerId }, select: { id: true } }))) throw new AppError('validation', `customer ${customerId} does not exist`);
    } else if (customerId) throw new AppError('validation', 'customerId is only for role customer');
    if (role === 'engineer') {
      if (!engineerId) throw new AppError('validation', 'an engineer user needs engineerId');
      if (!(await prisma.engineer.findUnique({ where: { id: engineerId }, select: { id: true } }))) throw new AppError('validation', `engineer ${engineerId} does not exist`);
    } else if (engineerId) throw new AppError('validation', 'engineerId is only for role engineer');
  }

  // Authentication runs on every request; its database read is cached briefly per key prefix / user id.
  // Every change to users or keys made through this service drops the entries it affects at once, so
  // only changes made through another instance wait up to cacheMs. Bounded: cleared when it grows large.
  const cacheMs = options.cacheMs ?? 0;
  const keyCache = new Map<string, { row: ApiKeyAuthRow | null; until: number }>();
  const userCache = new Map<string, { row: UserAuthRow | null; until: number }>();
  // bumped by every change: a read that started before a change is not cached after it
  let epoch = 0;
  async function cached<R>(cache: Map<string, { row: R | null; until: number }>, id: string, now: number, read: () => Promise<R | null>): Promise<R | null> {
    const hit = cacheMs > 0 ? cache.get(id) : undefined;
    if (hit && hit.until > now) return hit.row;
    const readEpoch = epoch;
    const row = await read();
    if (cacheMs > 0 && readEpoch === epoch) {
      if (cache.size >= 10_000) cache.clear();
      cache.set(id, { row, until: now + cacheMs });
    }
    return row;
  }
  const forgetKeys = (): void => {
    epoch++;
    keyCache.clear();
  };
  const forgetUser = (id: string): void => {
    epoch++;
    userCache.delete(id);
    keyCache.clear(); // keys created by the user may have been revoked with it
  };

  const principalOf = (
    kind: Principal['kind'],
    row: { id: string; name: string; role: string; customerId: string | null; engineerId: string | null },
    scopes?: string[],
  ): Principal => {
    const role = isRole(row.role) ? row.role : 'device';
    return {
      kind,
      id: row.id,
      name: row.name,
      role,
      permissions: effectivePermissions(role, scopes),
      customerId: row.customerId,
      engineerId: row.engineerId,
    };
  };

  return {
    /** First start with no users: creates `admin`; returns the generated password to show once. */
    async bootstrapAdmin(password: string | undefined): Promise<{ created: boolean; password?: string }> {
      if ((await prisma.user.count()) > 0) return { created: false };
      const pw = password ?? randomBytes(12).toString('base64url');
      checkPassword(pw);
      try {
        await prisma.user.create({ data: { username: 'admin', displayName: 'Administrator', passwordHash: await hashSecret(pw), role: 'admin', sessionsValidAfter: new Date(0) } });
      } catch (err) {
        if (isUniqueViolation(err)) return { created: false }; // another instance was first
        throw err;
      }
      return { created: true, ...(password ? {} : { password: pw }) };
    },

    async login(username: string, password: string): Promise<{ token: string; expiresAt: Date; user: Prisma.UserGetPayload<{ select: typeof userSelect }> }> {
      const now = clock.now();
      const user = await prisma.user.findUnique({ where: { username }, select: { ...userSelect, passwordHash: true, failedLogins: true } });
      if (!user) {
        await verifySecret(password, await (dummyHash ??= hashSecret('not-a-real-password')));
        throw new AppError('unauthenticated', BAD_LOGIN);
      }
      const lockedMessage = (until: Date) => `too many failed logins; try again after ${until.toISOString()}`;
      if (user.lockedUntil && user.lockedUntil > now) throw new AppError('unauthenticated', lockedMessage(user.lockedUntil));
      // an expired lock gives a fresh allowance, once (the conditional update wins for one request)
      if (user.lockedUntil) await prisma.user.updateMany({ where: { id: user.id, lockedUntil: user.lockedUntil }, data: { failedLogins: 0, lockedUntil: null } });
      // the attempt is counted (atomically) before the password is checked: concurrent guesses each get
      // their own number, so a burst cannot have more than maxFailedLogins passwords tried. The counter
      // is not reset by the lock (a reset would hand racing requests new low numbers), only by a
      // successful login, an expired lock or an admin's password reset.
      const attemptNo = (await prisma.user.update({ where: { id: user.id }, data: { failedLogins: { increment: 1 } }, select: { failedLogins: true } })).failedLogins;
      const lock = async (): Promise<Date> => {
        const until = new Date(now.getTime() + options.lockMinutes * 60_000);
        const set = await prisma.user.updateMany({ where: { id: user.id, OR: [{ lockedUntil: null }, { lockedUntil: { lte: now } }] }, data: { lockedUntil: until } });
        if (set.count === 1) log.warn({ user: user.username }, 'account locked after repeated failed logins');
        return (await prisma.user.findUnique({ where: { id: user.id }, select: { lockedUntil: true } }))?.lockedUntil ?? until;
      };
      if (attemptNo > options.maxFailedLogins) throw new AppError('unauthenticated', lockedMessage(await lock()));
      const ok = await verifySecret(password, user.passwordHash);
      if (!ok || !user.active) {
        if (attemptNo >= options.maxFailedLogins) await lock();
        throw new AppError('unauthenticated', BAD_LOGIN);
      }
      await prisma.user.update({ where: { id: user.id }, data: { failedLogins: 0, lockedUntil: null, lastLoginAt: now } });
      const { token, claims } = signSession({ sub: user.id, role: user.role }, options.sessionSecret, now, options.sessionTtlSeconds);
      const { passwordHash: _h, failedLogins: _f, ...view } = user;
      return { token, expiresAt: new Date(claims.exp * 1000), user: { ...view, lastLoginAt: now, lockedUntil: null } };
    },

    /** Ends every session of the user (tokens issued before now stop working). */
    async logoutEverywhere(userId: string): Promise<void> {
      await prisma.user.update({ where: { id: userId }, data: { sessionsValidAfter: clock.now() } });
      forgetUser(userId);
    },

    /** Principal from `Authorization: Bearer <session>` or an API key (`X-API-Key` / `Authorization: ApiKey …`); null = anonymous. */
    async authenticate(headers: { authorization?: string | undefined; 'x-api-key'?: string | string[] | undefined }): Promise<Principal | null> {
      const auth = headers.authorization ?? '';
      const headerKey = headers['x-api-key'];
      const apiKey = typeof headerKey === 'string' ? headerKey : /^ApiKey\s+(\S+)$/i.exec(auth)?.[1];
      const now = clock.now();
      if (apiKey) {
        const m = /^omk_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{20,})$/.exec(apiKey);
        if (!m) throw new AppError('unauthenticated', 'invalid API key');
        const row = await cached(keyCache, m[1]!, now.getTime(), () => prisma.apiKey.findUnique({ where: { prefix: m[1]! }, select: apiKeyAuthSelect }));
        const given = Buffer.from(sha256Hex(m[2]!), 'hex');
        if (!row || !timingSafeEqual(given, Buffer.from(row.secretHash, 'hex')) || row.revokedAt || (row.expiresAt && row.expiresAt <= now)) {
          throw new AppError('unauthenticated', 'invalid API key');
        }
        // last use at most once a minute per key
        if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
          row.lastUsedAt = now; // also in the cached row: one write a minute, not one per cache miss
          void prisma.apiKey.update({ where: { id: row.id }, data: { lastUsedAt: now } }).catch(() => undefined);
        }
        return principalOf('api_key', { id: row.id, name: row.name, role: row.role, customerId: row.customerId, engineerId: row.engineerId }, row.scopes);
      }
      const bearer = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
      if (!bearer) return null;
      const v = verifySession(bearer, options.sessionSecret, now);
      if (!v.ok) throw new AppError('unauthenticated', v.reason === 'expired' ? 'session expired; log in again' : 'invalid session token');
      const user = await cached(userCache, v.claims.sub, now.getTime(), () => prisma.user.findUnique({ where: { id: v.claims.sub }, select: userAuthSelect }));
      if (!user || !user.active || user.sessionsValidAfter.getTime() > v.claims.iatMs) throw new AppError('unauthenticated', 'session ended; log in again');
      return principalOf('user', { id: user.id, name: user.displayName, role: user.role, customerId: user.customerId, engineerId: user.engineerId });
    },

    async createUser(input: UserInput) {
      checkPassword(input.password);
      await checkLinks(input.role, input.customerId, input.engineerId);
      try {
        return await prisma.user.create({
          data: {
            username: input.username,
            displayName: input.displayName,
            email: input.email ?? null,
            passwordHash: await hashSecret(input.password),
            role: input.role,
            customerId: input.customerId ?? null,
            engineerId: input.engineerId ?? null,
            // compared with the app clock's token issue times (the database default would be the DB clock)
            sessionsValidAfter: new Date(0),
          },
          select: userSelect,
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`username ${input.username} is taken`, { username: input.username });
        throw err;
      }
    },

    async updateUser(id: string, input: { displayName?: string | undefined; email?: string | null | undefined; password?: string | undefined; role?: Role | undefined; active?: boolean | undefined; customerId?: string | null | undefined; engineerId?: string | null | undefined }) {
      const current = await prisma.user.findUnique({ where: { id }, select: { role: true, customerId: true, engineerId: true } });
      if (!current) throw notFound('User', id);
      const role = input.role ?? (current.role as Role);
      await checkLinks(role, input.customerId === undefined ? current.customerId : input.customerId, input.engineerId === undefined ? current.engineerId : input.engineerId);
      if (input.password !== undefined) checkPassword(input.password);
      // anything that changes what the user may do ends their sessions
      const endSessions = input.password !== undefined || input.role !== undefined || input.active === false || input.customerId !== undefined || input.engineerId !== undefined;
      // a deactivated user's integration keys stop too (they acted with that user's authority)
      if (input.active === false) await prisma.apiKey.updateMany({ where: { createdById: id, revokedAt: null }, data: { revokedAt: clock.now() } });
      const updated = await prisma.user.update({
        where: { id },
        data: {
          ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
          ...(input.email !== undefined ? { email: input.email } : {}),
          ...(input.password !== undefined ? { passwordHash: await hashSecret(input.password), failedLogins: 0, lockedUntil: null } : {}),
          ...(input.role !== undefined ? { role: input.role } : {}),
          ...(input.active !== undefined ? { active: input.active } : {}),
          ...(input.customerId !== undefined ? { customerId: input.customerId } : {}),
          ...(input.engineerId !== undefined ? { engineerId: input.engineerId } : {}),
          ...(endSessions ? { sessionsValidAfter: clock.now() } : {}),
        },
        select: userSelect,
      });
      forgetUser(id);
      return updated;
    },

    listUsers: () => prisma.user.findMany({ select: userSelect, orderBy: { username: 'asc' } }),

    /** The key is returned once; only its hash is kept. Scopes must be permissions of the role. */
    async createApiKey(input: { name: string; role: Role; scopes?: string[] | undefined; customerId?: string | null | undefined; engineerId?: string | null | undefined; expiresAt?: Date | undefined }, createdById: string | null) {
      await checkLinks(input.role, input.customerId, input.engineerId);
      const scopes = input.scopes ?? [];
      const unknown = scopes.filter((s) => !isPermission(s) || !ROLE_PERMISSIONS[input.role].has(s as Permission));
      if (unknown.length) throw new AppError('validation', `scopes not granted to role ${input.role}: ${unknown.join(', ')}`, { scopes: unknown });
      if (input.expiresAt && input.expiresAt <= clock.now()) throw new AppError('validation', 'expiresAt must be in the future');
      const prefix = randomBytes(6).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 8).padEnd(8, 'x');
      const secret = randomBytes(24).toString('base64url');
      const row = await prisma.apiKey.create({
        data: {
          name: input.name,
          prefix,
          secretHash: sha256Hex(secret),
          role: input.role,
          scopes,
          customerId: input.customerId ?? null,
          engineerId: input.engineerId ?? null,
          createdById,
          expiresAt: input.expiresAt ?? null,
        },
        select: apiKeySelect,
      });
      forgetKeys(); // a lookup of this prefix before it existed may be cached as unknown
      return { ...row, key: `omk_${prefix}_${secret}` };
    },

    listApiKeys: () => prisma.apiKey.findMany({ select: apiKeySelect, orderBy: { createdAt: 'desc' } }),

    async revokeApiKey(id: string) {
      const r = await prisma.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: clock.now() } });
      forgetKeys();
      if (r.count === 0 && !(await prisma.apiKey.findUnique({ where: { id }, select: { id: true } }))) throw notFound('ApiKey', id);
      return prisma.apiKey.findUniqueOrThrow({ where: { id }, select: apiKeySelect });
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
