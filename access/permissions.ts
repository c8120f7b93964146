/**
 * Roles and permissions (pure). A permission is `<area>:<action>`; a role is a fixed set of them.
 * Row-level rules come on top (access/scope.ts): an engineer reaches only their own orders, a
 * customer only their own sites, assets and orders.
 */

export const PERMISSIONS = [
  'assets:read',
  'assets:write',
  'rules:read',
  'rules:write',
  'pm:read',
  'pm:write',
  'work_orders:read',
  'work_orders:create',
  'work_orders:update',
  'work_orders:dispatch',
  'alarms:read',
  'alarms:ack',
  'engineers:read',
  'engineers:write',
  'engineers:self',
  'inventory:read',
  'inventory:write',
  'purchasing:write',
  'customers:read',
  'customers:write',
  'surveys:read',
  'knowledge:read',
  'knowledge:write',
  'telemetry:read',
  'devices:write',
  'notifications:read',
  'kpis:read',
  'dashboards:read',
  'dashboards:write',
  'audit:read',
  'users:admin',
  'webhooks:admin',
  'data:import',
  'data:export',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['admin', 'planner', 'dispatcher', 'engineer', 'manager', 'customer', 'device'] as const;
export type Role = (typeof ROLES)[number];

const READ_ALL: Permission[] = PERMISSIONS.filter((p) => p.endsWith(':read') && p !== 'audit:read');

export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = Object.freeze({
  admin: new Set<Permission>(PERMISSIONS),
  // tunes rules and PM plans, keeps the asset register, parts catalogue and knowledge base
  planner: new Set<Permission>([...READ_ALL, 'rules:write', 'pm:write', 'assets:write', 'inventory:write', 'knowledge:write', 'work_orders:create', 'data:import', 'data:export']),
  // takes requests, assigns engineers, follows orders through
  dispatcher: new Set<Permission>([
    ...READ_ALL,
    'work_orders:create',
    'work_orders:update',
    'work_orders:dispatch',
    'engineers:write',
    'alarms:ack',
    'inventory:write',
    'purchasing:write',
  ]),
  // works their own orders: status, checklist, logs, photos, parts, signature; own location
  engineer: new Set<Permission>([
    'work_orders:read',
    'work_orders:update',
    'engineers:self',
    'assets:read',
    'alarms:read',
    'alarms:ack',
    'inventory:read',
    'knowledge:read',
    'pm:read',
    'telemetry:read',
    'notifications:read',
  ]),
  // reads everything, KPIs and dashboards
  manager: new Set<Permission>([...READ_ALL, 'audit:read', 'data:export']),
  // own sites, assets and orders; raises requests (rating goes through the public survey link)
  customer: new Set<Permission>(['work_orders:read', 'work_orders:create', 'assets:read']),
  // devices talk MQTT; through the API they can do nothing
  device: new Set<Permission>(),
});

export const isRole = (s: string): s is Role => (ROLES as readonly string[]).includes(s);
export const isPermission = (s: string): s is Permission => (PERMISSIONS as readonly string[]).includes(s);

/** Who is calling. API keys carry a role and optionally fewer permissions (scopes). */
/** A principal as one string, "user:<id>" or "api_key:<id>" (rate-limit buckets, read-your-writes, the access log). */
export const principalKey = (p: { kind: string; id: string }): string => `${p.kind}:${p.id}`;

export interface Principal {
  kind: 'user' | 'api_key';
  id: string;
  name: string;
  role: Role;
  /** Effective permissions: the role's, narrowed by an API key's scopes. */
  permissions: ReadonlySet<Permission>;
  /** Customer users: their customer. */
  customerId: string | null;
  /** Engineer users: their engineer record. */
  engineerId: string | null;
}

/**
 * The role's permissions, narrowed to `scopes` when the key has any. Scopes that are not (or no
 * longer) permissions of the role are dropped — a key whose scopes all became unknown gets nothing,
 * never the whole role.
 */
export function effectivePermissions(role: Role, scopes?: readonly string[] | null): ReadonlySet<Permission> {
  const base = ROLE_PERMISSIONS[role];
  if (!scopes || scopes.length === 0) return base;
  return new Set([...base].filter((p) => scopes.includes(p)));
}

export const can = (p: Principal, permission: Permission): boolean => p.permissions.has(permission);
