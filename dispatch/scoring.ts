/**
 * Candidate scoring for one work order (pure): who may do it (eligibility, with the reason when
 * not) and how well each eligible engineer fits, as a 0–100 score with its breakdown so a
 * dispatcher sees why. The same numbers feed batch assignment as costs (100 − score).
 */
import { travel, type LatLon, type TravelModel, DEFAULT_TRAVEL } from './geo.ts';

export type Priority = 'low' | 'medium' | 'high' | 'urgent';

export interface SkillNeed {
  skill: string;
  /** 1–5; default 1 (any level). */
  minLevel?: number | undefined;
}

export interface OrderProfile {
  id: string;
  priority: Priority;
  requiredSkills: SkillNeed[];
  requiredCertifications: string[];
  /** Where the work is (the site); null = unknown (distance not scored). */
  location: LatLon | null;
  siteId: string;
  customerId: string | null;
  estimatedHours: number;
  /** SLA: someone must accept/start by then. */
  responseDueAt: Date | null;
}

export interface EngineerProfile {
  id: string;
  code: string;
  name: string;
  active: boolean;
  /** skill → level 1–5. */
  skills: Record<string, number>;
  /** Valid certifications (expired ones already removed by the caller). */
  certifications: string[];
  /** Live location if fresh, else home base; null = unknown. */
  location: LatLon | null;
  onLeave: boolean;
  /** Current shift window containing `now` (or the next one today); null = off shift. */
  shift: { start: Date; end: Date } | null;
  openOrders: number;
  /** Estimated hours of the open orders already assigned. */
  openHours: number;
  /** Most orders an engineer carries at once. */
  maxOpenOrders: number;
  /** Orders completed before at this site / for this customer. */
  siteVisits: number;
  customerVisits: number;
}

export interface ScoringWeights {
  skills: number;
  distance: number;
  load: number;
  urgency: number;
  familiarity: number;
}

export const DEFAULT_WEIGHTS: ScoringWeights = Object.freeze({ skills: 25, distance: 30, load: 20, urgency: 15, familiarity: 10 });

export interface ScoringOptions {
  weights?: ScoringWeights | undefined;
  travel?: TravelModel | undefined;
  /** Distance at which the distance component halves. */
  halfScoreKm?: number | undefined;
  /** Whether the work must fit in the remaining shift (travel + estimated hours). */
  requireShiftFit?: boolean | undefined;
}

export type IneligibleReason =
  | { code: 'inactive' }
  | { code: 'on_leave' }
  | { code: 'off_shift' }
  | { code: 'missing_skill'; skill: string; required: number; has: number }
  | { code: 'missing_certification'; certification: string }
  | { code: 'at_capacity'; openOrders: number; maxOpenOrders: number }
  | { code: 'shift_too_short'; neededHours: number; remainingHours: number }
  /** Declined this order before (set by the dispatch service). */
  | { code: 'declined' };

export interface Breakdown {
  skills: number;
  distance: number;
  load: number;
  urgency: number;
  familiarity: number;
}

export interface Candidate {
  engineerId: string;
  code: string;
  name: string;
  eligible: boolean;
  reasons: IneligibleReason[];
  /** 0–100, higher is better (0 when ineligible). */
  score: number;
  /** Weighted points per component (they sum to the score). */
  breakdown: Breakdown;
  travelKm: number | null;
  travelMinutes: number | null;
  /** Estimated arrival (now + travel) and whether it meets the response due time. */
  arrivalAt: Date | null;
  meetsResponseSla: boolean | null;
}

const clamp01 = (x: number): number => Math.max(0, Math.min(1, x));
const round2 = (x: number): number => Math.round(x * 100) / 100;

type Trip = { km: number; minutes: number } | null;

const tripOf = (o: OrderProfile, e: EngineerProfile, opts: ScoringOptions): Trip =>
  o.location && e.location ? travel(e.location, o.location, opts.travel ?? DEFAULT_TRAVEL) : null;

/**
 * Eligibility with or without the reasons: `out` collects them (recommendations); without it the
 * first failure returns false (batch scoring of every pair, no allocations).
 */
function checkEligible(o: OrderProfile, e: EngineerProfile, now: Date, opts: ScoringOptions, trip: Trip, out?: IneligibleReason[]): boolean {
  let ok = true;
  const fail = (r: () => IneligibleReason): boolean => {
    ok = false;
    if (out) out.push(r());
    return !out;
  };
  if (!e.active && fail(() => ({ code: 'inactive' }))) return false;
  if (e.onLeave && fail(() => ({ code: 'on_leave' }))) return false;
  if ((!e.shift || e.shift.end.getTime() <= now.getTime()) && fail(() => ({ code: 'off_shift' }))) return false;
  for (const need of o.requiredSkills) {
    const required = need.minLevel ?? 1;
    const has = e.skills[need.skill] ?? 0;
    if (has < required && fail(() => ({ code: 'missing_skill', skill: need.skill, required, has }))) return false;
  }
  for (const c of o.requiredCertifications) if (!e.certifications.includes(c) && fail(() => ({ code: 'missing_certification', certification: c }))) return false;
  if (e.openOrders >= e.maxOpenOrders && fail(() => ({ code: 'at_capacity', openOrders: e.openOrders, maxOpenOrders: e.maxOpenOrders }))) return false;
  if (opts.requireShiftFit !== false && e.shift && e.shift.end.getTime() > now.getTime()) {
    const start = Math.max(now.getTime(), e.shift.start.getTime());
    const remainingHours = (e.shift.end.getTime() - start) / 3_600_000 - e.openHours;
    const neededHours = (trip ? trip.minutes / 60 : 0) + o.estimatedHours;
    if (neededHours > remainingHours && fail(() => ({ code: 'shift_too_short', neededHours: round2(neededHours), remainingHours: round2(Math.max(0, remainingHours)) }))) return false;
  }
  return ok;
}

/** Why the engineer may not take the order (empty = eligible). */
export function eligibility(o: OrderProfile, e: EngineerProfile, now: Date, opts: ScoringOptions = {}): IneligibleReason[] {
  const reasons: IneligibleReason[] = [];
  checkEligible(o, e, now, opts, tripOf(o, e, opts), reasons);
  return reasons;
}

interface Components {
  breakdown: Breakdown;
  arrivalMs: number | null;
  slackH: number | null;
}

function components(o: OrderProfile, e: EngineerProfile, now: Date, opts: ScoringOptions, trip: Trip): Components {
  const w = opts.weights ?? DEFAULT_WEIGHTS;
  const total = w.skills + w.distance + w.load + w.urgency + w.familiarity || 1;
  // skills: all matched = 0.6, the rest rewards level above the minimum (experts for hard jobs)
  let skills = 1;
  if (o.requiredSkills.length > 0) {
    let surplus = 0;
    for (const n of o.requiredSkills) surplus += clamp01(((e.skills[n.skill] ?? 0) - (n.minLevel ?? 1)) / 4);
    skills = 0.6 + 0.4 * (surplus / o.requiredSkills.length);
  }
  const halfKm = opts.halfScoreKm ?? 20;
  const distance = trip ? halfKm / (halfKm + trip.km) : 0.5;
  const load = clamp01(1 - e.openOrders / Math.max(1, e.maxOpenOrders));
  // urgency: can they arrive before the response is due? full marks with ≥ 1 h to spare
  const arrivalMs = trip ? Math.max(now.getTime(), e.shift?.start.getTime() ?? now.getTime()) + trip.minutes * 60_000 : null;
  let urgency = 0.5;
  let slackH: number | null = null;
  if (o.responseDueAt && arrivalMs !== null) {
    slackH = (o.responseDueAt.getTime() - arrivalMs) / 3_600_000;
    urgency = slackH >= 1 ? 1 : slackH >= 0 ? 0.5 + 0.5 * slackH : clamp01(0.5 + slackH / 8);
  }
  const familiarity = clamp01(0.6 * Math.min(1, e.siteVisits / 5) + 0.4 * Math.min(1, e.customerVisits / 10));
  return {
    breakdown: {
      skills: round2((100 * w.skills * skills) / total),
      distance: round2((100 * w.distance * distance) / total),
      load: round2((100 * w.load * load) / total),
      urgency: round2((100 * w.urgency * urgency) / total),
      familiarity: round2((100 * w.familiarity * familiarity) / total),
    },
    arrivalMs,
    slackH,
  };
}

const sumBreakdown = (b: Breakdown): number => round2(b.skills + b.distance + b.load + b.urgency + b.familiarity);

/** Scores one engineer for one order. */
export function scoreCandidate(o: OrderProfile, e: EngineerProfile, now: Date, opts: ScoringOptions = {}): Candidate {
  const trip = tripOf(o, e, opts);
  const reasons: IneligibleReason[] = [];
  const eligible = checkEligible(o, e, now, opts, trip, reasons);
  const c = components(o, e, now, opts, trip);
  return {
    engineerId: e.id,
    code: e.code,
    name: e.name,
    eligible,
    reasons,
    score: eligible ? sumBreakdown(c.breakdown) : 0,
    breakdown: c.breakdown,
    travelKm: trip ? round2(trip.km) : null,
    travelMinutes: trip ? round2(trip.minutes) : null,
    arrivalAt: c.arrivalMs === null ? null : new Date(c.arrivalMs),
    meetsResponseSla: c.slackH === null ? null : c.slackH >= 0,
  };
}

/** Batch fast path: the same score as scoreCandidate (null when ineligible) and the travel km, without reasons. */
export function pairScore(o: OrderProfile, e: EngineerProfile, now: Date, opts: ScoringOptions = {}): { score: number | null; travelKm: number | null } {
  const trip = tripOf(o, e, opts);
  const travelKm = trip ? round2(trip.km) : null;
  if (!checkEligible(o, e, now, opts, trip)) return { score: null, travelKm };
  return { score: sumBreakdown(components(o, e, now, opts, trip).breakdown), travelKm };
}

/** Eligible candidates best first (ties: shorter travel, then code), then the ineligible with their reasons. */
export function rankCandidates(o: OrderProfile, engineers: EngineerProfile[], now: Date, opts: ScoringOptions = {}): Candidate[] {
  const all = engineers.map((e) => scoreCandidate(o, e, now, opts));
  return all.sort((a, b) => {
    if (a.eligible !== b.eligible) return a.eligible ? -1 : 1;
    if (b.score !== a.score) return b.score - a.score;
    const ta = a.travelKm ?? Infinity;
    const tb = b.travelKm ?? Infinity;
    if (ta !== tb) return ta - tb;
    return a.code.localeCompare(b.code);
  });
}

const PRIORITY_WEIGHT: Record<Priority, number> = { low: 1, medium: 2, high: 4, urgent: 8 };

/** Assignment cost of a candidate: (100 − score) × priority weight, so misfits on urgent orders cost more. */
export function assignmentCost(o: OrderProfile, c: { eligible: boolean; score: number }): number {
  return c.eligible ? (100 - c.score) * PRIORITY_WEIGHT[o.priority] : Infinity;
}

/** Urgent and soonest-due first: the insertion order for batch assignment when capacity is short. */
export function urgencyOrder(a: OrderProfile, b: OrderProfile): number {
  const p = PRIORITY_WEIGHT[b.priority] - PRIORITY_WEIGHT[a.priority];
  if (p !== 0) return p;
  return (a.responseDueAt?.getTime() ?? Infinity) - (b.responseDueAt?.getTime() ?? Infinity);
}
