/**
 * Engineers as dispatch sees them: skills with levels, certifications, home base and live
 * location, time zone and weekly roster, leave, open-order limit, current status.
 */
import type { Clock } from '../platform/clock.ts';
import type { Db, Prisma } from '../platform/db/database.ts';
import { AppError, conflict, isUniqueViolation, notFound } from '../platform/errors.ts';
import { isLatLon } from './geo.ts';
import { ACTIVE_STATUSES } from './profiles.ts';
import { onLeave, shiftAt, validatePattern, type WeeklyShift } from './shifts.ts';

export interface SkillInput {
  skill: string;
  level?: number | undefined;
}

export interface EngineerInput {
  code: string;
  name: string;
  phone?: string | null | undefined;
  email?: string | null | undefined;
  /** Names (level 3) or { skill, level 1–5 }. */
  skills?: (string | SkillInput)[] | undefined;
  certifications?: { name: string; issuedAt?: string | null | undefined; expiresAt?: string | null | undefined }[] | undefined;
  homeLat?: number | null | undefined;
  homeLon?: number | null | undefined;
  timezone?: string | undefined;
  maxOpenOrders?: number | undefined;
  hourlyRate?: number | null | undefined;
  active?: boolean | undefined;
}

export const engineerSelect = {
  id: true,
  code: true,
  name: true,
  phone: true,
  email: true,
  active: true,
  homeLat: true,
  homeLon: true,
  lat: true,
  lon: true,
  locationAt: true,
  timezone: true,
  maxOpenOrders: true,
  hourlyRate: true,
  createdAt: true,
  skillLevels: { select: { skill: true, level: true }, orderBy: { skill: 'asc' } },
  certifications: { select: { name: true, issuedAt: true, expiresAt: true }, orderBy: { name: 'asc' } },
} satisfies Prisma.EngineerSelect;

const DEFAULT_LEVEL = 3;
const toDate = (s: string | null | undefined): Date | null => (s ? new Date(`${s.slice(0, 10)}T00:00:00Z`) : null);

function normaliseSkills(skills: (string | SkillInput)[]): { skill: string; level: number }[] {
  const out = new Map<string, number>();
  for (const s of skills) {
    const { skill, level } = typeof s === 'string' ? { skill: s, level: DEFAULT_LEVEL } : { skill: s.skill, level: s.level ?? DEFAULT_LEVEL };
    const name = skill.trim().toLowerCase();
    if (!name) throw new AppError('validation', 'skill names must not be empty');
    if (!Number.isInteger(level) || level < 1 || level > 5) throw new AppError('validation', `skill ${name}: level must be 1–5`, { skill: name, level });
    out.set(name, Math.max(level, out.get(name) ?? 0));
  }
  return [...out].map(([skill, level]) => ({ skill, level }));
}

function checkTimezone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new AppError('validation', `unknown time zone "${tz}" (use an IANA name such as Asia/Shanghai)`, { timezone: tz });
  }
}

function checkHome(lat: number | null | undefined, lon: number | null | undefined): void {
  if ((lat === undefined || lat === null) !== (lon === undefined || lon === null)) throw new AppError('validation', 'homeLat and homeLon go together');
  if (lat !== undefined && lat !== null && !isLatLon({ lat, lon: lon! })) throw new AppError('validation', 'home base is not a valid latitude/longitude');
}

export function createEngineerService(deps: { prisma: Db; clock: Clock; onUnavailable?: (engineerId: string, reason: string) => Promise<unknown> }) {
  const { prisma, clock } = deps;

  async function get(id: string) {
    const e = await prisma.engineer.findUnique({ where: { id }, select: engineerSelect });
    if (!e) throw notFound('Engineer', id);
    return e;
  }

  return {
    get,
    async create(input: EngineerInput) {
      if (input.timezone) checkTimezone(input.timezone);
      checkHome(input.homeLat, input.homeLon);
      const skills = normaliseSkills(input.skills ?? []);
      try {
        const e = await prisma.engineer.create({
          data: {
            code: input.code,
            name: input.name,
            phone: input.phone ?? null,
            email: input.email ?? null,
            homeLat: input.homeLat ?? null,
            homeLon: input.homeLon ?? null,
            ...(input.timezone ? { timezone: input.timezone } : {}),
            ...(input.maxOpenOrders !== undefined ? { maxOpenOrders: input.maxOpenOrders } : {}),
            hourlyRate: input.hourlyRate ?? null,
            active: input.active ?? true,
            skillLevels: { create: skills },
            certifications: { create: (input.certifications ?? []).map((c) => ({ name: c.name, issuedAt: toDate(c.issuedAt), expiresAt: toDate(c.expiresAt) })) },
          },
          select: { id: true },
        });
        return get(e.id);
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`engineer code ${input.code} is already used (or a certification is listed twice)`, { code: input.code });
        throw err;
      }
    },

    async update(id: string, input: Partial<EngineerInput>) {
      const before = await get(id);
      if (input.timezone) checkTimezone(input.timezone);
      checkHome(input.homeLat === undefined ? before.homeLat : input.homeLat, input.homeLon === undefined ? before.homeLon : input.homeLon);
      const skills = input.skills ? normaliseSkills(input.skills) : undefined;
      try {
        await prisma.$transaction(async (tx) => {
          await tx.engineer.update({
            where: { id },
            data: {
              ...(input.code !== undefined ? { code: input.code } : {}),
              ...(input.name !== undefined ? { name: input.name } : {}),
              ...(input.phone !== undefined ? { phone: input.phone } : {}),
              ...(input.email !== undefined ? { email: input.email } : {}),
              ...(input.homeLat !== undefined ? { homeLat: input.homeLat } : {}),
              ...(input.homeLon !== undefined ? { homeLon: input.homeLon } : {}),
              ...(input.timezone !== undefined ? { timezone: input.timezone } : {}),
              ...(input.maxOpenOrders !== undefined ? { maxOpenOrders: input.maxOpenOrders } : {}),
              ...(input.hourlyRate !== undefined ? { hourlyRate: input.hourlyRate } : {}),
              ...(input.active !== undefined ? { active: input.active } : {}),
            },
          });
          if (skills) {
            await tx.engineerSkill.deleteMany({ where: { engineerId: id } });
            await tx.engineerSkill.createMany({ data: skills.map((s) => ({ ...s, engineerId: id })) });
          }
          if (input.certifications) {
            await tx.engineerCertification.deleteMany({ where: { engineerId: id } });
            await tx.engineerCertification.createMany({ data: input.certifications.map((c) => ({ engineerId: id, name: c.name, issuedAt: toDate(c.issuedAt), expiresAt: toDate(c.expiresAt) })) });
          }
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`engineer code ${input.code} is already used (or a certification is listed twice)`, { code: input.code });
        throw err;
      }
      if (input.active === false && before.active) await deps.onUnavailable?.(id, 'engineer deactivated');
      return get(id);
    },

    list: (f: { skill?: string | undefined; active?: boolean | undefined } = {}) =>
      prisma.engineer.findMany({
        where: { ...(f.active !== undefined ? { active: f.active } : {}), ...(f.skill ? { skillLevels: { some: { skill: f.skill.toLowerCase() } } } : {}) },
        select: engineerSelect,
        orderBy: { code: 'asc' },
      }),

    /** Live GPS fix (from the app via the API or MQTT). Older fixes than the stored one are ignored. */
    async updateLocation(id: string, fix: { lat: number; lon: number; at?: Date | undefined }) {
      if (!isLatLon(fix)) throw new AppError('validation', 'not a valid latitude/longitude', fix);
      const at = fix.at ?? clock.now();
      if (at.getTime() > clock.now().getTime() + 5 * 60_000) throw new AppError('validation', 'location time is in the future', { at: at.toISOString() });
      const r = await prisma.engineer.updateMany({
        where: { id, OR: [{ locationAt: null }, { locationAt: { lt: at } }] },
        data: { lat: fix.lat, lon: fix.lon, locationAt: at },
      });
      if (r.count === 0) await get(id); // 404 if missing; otherwise an out-of-order fix, ignored
      return get(id);
    },

    /** Same, addressed by engineer code (MQTT location topic). */
    async updateLocationByCode(code: string, fix: { lat: number; lon: number; at?: Date | undefined }) {
      const e = await prisma.engineer.findUnique({ where: { code }, select: { id: true } });
      if (!e) throw new AppError('validation', `no engineer with code ${code}`, { code });
      return this.updateLocation(e.id, fix);
    },

    async setShifts(id: string, pattern: WeeklyShift[]) {
      await get(id);
      const problems = validatePattern(pattern);
      if (problems.length) throw new AppError('validation', `invalid roster: ${problems.join('; ')}`, { problems });
      await prisma.$transaction([prisma.engineerShift.deleteMany({ where: { engineerId: id } }), prisma.engineerShift.createMany({ data: pattern.map((s) => ({ ...s, engineerId: id })) })]);
      return prisma.engineerShift.findMany({ where: { engineerId: id }, select: { weekday: true, startMinute: true, endMinute: true }, orderBy: [{ weekday: 'asc' }, { startMinute: 'asc' }] });
    },

    async addLeave(id: string, input: { startsAt: Date; endsAt: Date; reason?: string | undefined }) {
      await get(id);
      if (input.endsAt.getTime() <= input.startsAt.getTime()) throw new AppError('validation', 'leave must end after it starts');
      const leave = await prisma.engineerLeave.create({ data: { engineerId: id, startsAt: input.startsAt, endsAt: input.endsAt, reason: input.reason ?? null } });
      const now = clock.now();
      // leave starting now: orders not yet under way go to someone else
      const redispatched = leave.startsAt.getTime() <= now.getTime() && now.getTime() < leave.endsAt.getTime() ? await deps.onUnavailable?.(id, `on leave${input.reason ? `: ${input.reason}` : ''}`) : undefined;
      return { leave, redispatched: redispatched ?? [] };
    },

    async deleteLeave(id: string, leaveId: string) {
      const r = await prisma.engineerLeave.deleteMany({ where: { id: leaveId, engineerId: id } });
      if (r.count === 0) throw notFound('EngineerLeave', leaveId);
    },

    /** Where the engineer is and what they can take now. */
    async status(id: string) {
      const e = await get(id);
      const now = clock.now();
      const [shifts, leaves, open] = await Promise.all([
        prisma.engineerShift.findMany({ where: { engineerId: id }, select: { weekday: true, startMinute: true, endMinute: true }, orderBy: [{ weekday: 'asc' }, { startMinute: 'asc' }] }),
        prisma.engineerLeave.findMany({ where: { engineerId: id, endsAt: { gt: now } }, select: { id: true, startsAt: true, endsAt: true, reason: true }, orderBy: { startsAt: 'asc' } }),
        prisma.workOrder.findMany({ where: { assigneeId: id, status: { in: [...ACTIVE_STATUSES] } }, select: { id: true, number: true, status: true, priority: true, estimatedHours: true }, orderBy: { number: 'asc' } }),
      ]);
      const shift = shiftAt(shifts, now, e.timezone);
      const away = onLeave(leaves.map((l) => ({ start: l.startsAt, end: l.endsAt })), now);
      return {
        engineer: e,
        at: now,
        available: e.active && !away && !!shift && open.length < e.maxOpenOrders,
        onLeave: away,
        shift,
        roster: shifts,
        upcomingLeave: leaves,
        openOrders: open,
        location: e.locationAt ? { lat: e.lat, lon: e.lon, at: e.locationAt, ageS: Math.round((now.getTime() - e.locationAt.getTime()) / 1000) } : null,
      };
    },
  };
}

export type EngineerService = ReturnType<typeof createEngineerService>;
