/**
 * Loads what scoring needs from the database: engineer profiles (skills, valid certifications,
 * location, shift and leave at `now`, current load, familiarity) and order profiles (skills,
 * certifications, site location, SLA). Few set-based queries, whatever the number of orders.
 */
import type { Db } from '../platform/db/database.ts';
import { isLatLon, type LatLon } from './geo.ts';
import type { EngineerProfile, OrderProfile, Priority, SkillNeed } from './scoring.ts';
import { onLeave, shiftAt } from './shifts.ts';

/** Statuses in which an order occupies its engineer. */
export const ACTIVE_STATUSES = ['assigned', 'accepted', 'en_route', 'in_progress', 'on_hold'] as const;
const DONE_STATUSES = ['completed', 'verified', 'closed'] as const;

export interface ProfileOptions {
  /** Hours assumed for orders without an estimate. */
  defaultHours: number;
  /** A GPS fix older than this falls back to the home base. */
  locationMaxAgeMs: number;
}

export const DEFAULT_PROFILE_OPTIONS: ProfileOptions = Object.freeze({ defaultHours: 2, locationMaxAgeMs: 2 * 3_600_000 });

/** "hvac" or "hvac:3" (minimum level 3). */
export function parseSkillNeed(s: string): SkillNeed {
  const m = /^(.+?):([1-5])$/.exec(s.trim());
  return m ? { skill: m[1]!.trim(), minLevel: Number(m[2]) } : { skill: s.trim(), minLevel: 1 };
}

export interface LoadedEngineer extends EngineerProfile {
  /** Where the location came from. */
  locationSource: 'live' | 'home' | 'unknown';
  timezone: string;
}

export async function loadEngineerProfiles(prisma: Db, now: Date, opts: ProfileOptions = DEFAULT_PROFILE_OPTIONS, familiarityFor?: { siteIds: string[]; customerIds: string[] }): Promise<{ engineers: LoadedEngineer[]; familiarity: Familiarity }> {
  const rows = await prisma.engineer.findMany({
    where: { active: true },
    orderBy: { code: 'asc' },
    select: {
      id: true,
      code: true,
      name: true,
      active: true,
      homeLat: true,
      homeLon: true,
      lat: true,
      lon: true,
      locationAt: true,
      timezone: true,
      maxOpenOrders: true,
      skillLevels: { select: { skill: true, level: true } },
      certifications: { select: { name: true, expiresAt: true } },
      shifts: { select: { weekday: true, startMinute: true, endMinute: true } },
      leaves: { where: { endsAt: { gt: now }, startsAt: { lte: new Date(now.getTime() + 86_400_000) } }, select: { startsAt: true, endsAt: true } },
    },
  });
  const load = await prisma.workOrder.groupBy({
    by: ['assigneeId'],
    where: { status: { in: [...ACTIVE_STATUSES] }, assigneeId: { not: null } },
    _count: { _all: true, estimatedHours: true },
    _sum: { estimatedHours: true },
  });
  const loadOf = new Map(load.map((l) => [l.assigneeId!, { orders: l._count._all, hours: (l._sum.estimatedHours ?? 0) + (l._count._all - l._count.estimatedHours) * opts.defaultHours }]));
  const familiarity = await loadFamiliarity(prisma, familiarityFor);
  const engineers = rows.map((r): LoadedEngineer => {
    const live: LatLon | null = r.locationAt && now.getTime() - r.locationAt.getTime() <= opts.locationMaxAgeMs && isLatLon({ lat: r.lat ?? NaN, lon: r.lon ?? NaN }) ? { lat: r.lat!, lon: r.lon! } : null;
    const home: LatLon | null = isLatLon({ lat: r.homeLat ?? NaN, lon: r.homeLon ?? NaN }) ? { lat: r.homeLat!, lon: r.homeLon! } : null;
    const l = loadOf.get(r.id) ?? { orders: 0, hours: 0 };
    return {
      id: r.id,
      code: r.code,
      name: r.name,
      active: r.active,
      skills: Object.fromEntries(r.skillLevels.map((s) => [s.skill, s.level])),
      certifications: r.certifications.filter((c) => !c.expiresAt || c.expiresAt.getTime() >= now.getTime()).map((c) => c.name),
      location: live ?? home,
      locationSource: live ? 'live' : home ? 'home' : 'unknown',
      timezone: r.timezone,
      onLeave: onLeave(r.leaves.map((x) => ({ start: x.startsAt, end: x.endsAt })), now),
      shift: shiftAt(r.shifts, now, r.timezone),
      openOrders: l.orders,
      openHours: l.hours,
      maxOpenOrders: r.maxOpenOrders,
      siteVisits: 0,
      customerVisits: 0,
    };
  });
  return { engineers, familiarity };
}

/** Completed orders per engineer at a site / for a customer. */
export interface Familiarity {
  site(engineerId: string, siteId: string): number;
  customer(engineerId: string, customerId: string | null): number;
}

async function loadFamiliarity(prisma: Db, scope?: { siteIds: string[]; customerIds: string[] }): Promise<Familiarity> {
  // site/customer → engineer → completed orders (nested maps: no string keys built per pair)
  const bySite = new Map<string, Map<string, number>>();
  const byCustomer = new Map<string, Map<string, number>>();
  const put = (m: Map<string, Map<string, number>>, outer: string, inner: string, n: number): void => {
    let row = m.get(outer);
    if (!row) m.set(outer, (row = new Map()));
    row.set(inner, n);
  };
  if (scope && scope.siteIds.length > 0) {
    const rows = await prisma.$queryRaw<{ assignee_id: string; site_id: string; n: bigint }[]>`
      SELECT w.assignee_id, a.site_id, count(*) AS n
        FROM work_orders w JOIN assets a ON a.id = w.asset_id
       WHERE w.assignee_id IS NOT NULL AND w.status::text IN (${DONE_STATUSES[0]}, ${DONE_STATUSES[1]}, ${DONE_STATUSES[2]})
         AND a.site_id = ANY(${scope.siteIds})
       GROUP BY w.assignee_id, a.site_id`;
    for (const r of rows) put(bySite, r.site_id, r.assignee_id, Number(r.n));
  }
  if (scope && scope.customerIds.length > 0) {
    const rows = await prisma.workOrder.groupBy({
      by: ['assigneeId', 'customerId'],
      where: { assigneeId: { not: null }, customerId: { in: scope.customerIds }, status: { in: [...DONE_STATUSES] } },
      _count: { _all: true },
    });
    for (const r of rows) put(byCustomer, r.customerId!, r.assigneeId!, r._count._all);
  }
  return {
    site: (e, s) => bySite.get(s)?.get(e) ?? 0,
    customer: (e, c) => (c ? (byCustomer.get(c)?.get(e) ?? 0) : 0),
  };
}

export const orderSelect = {
  id: true,
  number: true,
  title: true,
  priority: true,
  status: true,
  assigneeId: true,
  requiredSkills: true,
  requiredCertifications: true,
  estimatedHours: true,
  responseDueAt: true,
  customerId: true,
  asset: { select: { code: true, siteId: true, site: { select: { latitude: true, longitude: true } } } },
} as const;

export interface LoadedOrder extends OrderProfile {
  number: number;
  title: string;
  status: string;
  assigneeId: string | null;
  assetCode: string;
}

export function toOrderProfile(
  o: {
    id: string;
    number: number;
    title: string;
    priority: Priority;
    status: string;
    assigneeId: string | null;
    requiredSkills: string[];
    requiredCertifications: string[];
    estimatedHours: number | null;
    responseDueAt: Date | null;
    customerId: string | null;
    asset: { code: string; siteId: string; site: { latitude: number | null; longitude: number | null } };
  },
  opts: ProfileOptions = DEFAULT_PROFILE_OPTIONS,
): LoadedOrder {
  const loc = { lat: o.asset.site.latitude ?? NaN, lon: o.asset.site.longitude ?? NaN };
  return {
    id: o.id,
    number: o.number,
    title: o.title,
    status: o.status,
    assigneeId: o.assigneeId,
    assetCode: o.asset.code,
    priority: o.priority,
    requiredSkills: o.requiredSkills.map(parseSkillNeed),
    requiredCertifications: o.requiredCertifications,
    location: isLatLon(loc) ? loc : null,
    siteId: o.asset.siteId,
    customerId: o.customerId,
    estimatedHours: o.estimatedHours ?? opts.defaultHours,
    responseDueAt: o.responseDueAt,
  };
}
