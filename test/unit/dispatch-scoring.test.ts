import { describe, expect, it } from 'vitest';
import { haversineKm, travel } from '../../dispatch/geo.ts';
import { assignmentCost, eligibility, pairScore, rankCandidates, scoreCandidate, urgencyOrder, type EngineerProfile, type OrderProfile } from '../../dispatch/scoring.ts';

const now = new Date('2026-11-25T09:00:00Z');
const H = 3_600_000;
// Shanghai People's Square and two points ~10 km / ~50 km away
const SITE = { lat: 31.2304, lon: 121.4737 };
const NEAR = { lat: 31.3204, lon: 121.4737 };
const FAR = { lat: 31.6804, lon: 121.4737 };

const order = (o: Partial<OrderProfile> = {}): OrderProfile => ({
  id: 'wo',
  priority: 'high',
  requiredSkills: [{ skill: 'hvac', minLevel: 2 }],
  requiredCertifications: [],
  location: SITE,
  siteId: 's1',
  customerId: 'c1',
  estimatedHours: 2,
  responseDueAt: new Date(now.getTime() + 4 * H),
  ...o,
});
const engineer = (e: Partial<EngineerProfile> = {}): EngineerProfile => ({
  id: e.code ?? 'e',
  code: 'E',
  name: 'Engineer',
  active: true,
  skills: { hvac: 3 },
  certifications: [],
  location: NEAR,
  onLeave: false,
  shift: { start: new Date(now.getTime() - 1 * H), end: new Date(now.getTime() + 7 * H) },
  openOrders: 1,
  openHours: 1,
  maxOpenOrders: 8,
  siteVisits: 0,
  customerVisits: 0,
  ...e,
});

describe('geo', () => {
  it.each([
    { a: SITE, b: SITE, km: 0 },
    { a: SITE, b: NEAR, km: 10.01 },
    { a: { lat: 0, lon: 0 }, b: { lat: 0, lon: 1 }, km: 111.2 },
    { a: { lat: 39.9042, lon: 116.4074 }, b: { lat: 31.2304, lon: 121.4737 }, km: 1067.3 }, // Beijing–Shanghai
  ])('haversine $km km', ({ a, b, km }) => {
    expect(haversineKm(a, b)).toBeCloseTo(km, km > 100 ? 0 : 1);
  });
  it('travel time uses the detour factor and speed', () => {
    const t = travel(SITE, NEAR, { speedKmh: 60, detourFactor: 1.5 });
    expect(t.km).toBeCloseTo(15.01, 1);
    expect(t.minutes).toBeCloseTo(15.01, 1);
  });
});

describe('eligibility', () => {
  it.each([
    { name: 'eligible', e: {}, o: {}, codes: [] },
    { name: 'inactive', e: { active: false }, o: {}, codes: ['inactive'] },
    { name: 'on leave', e: { onLeave: true }, o: {}, codes: ['on_leave'] },
    { name: 'off shift', e: { shift: null }, o: {}, codes: ['off_shift'] },
    { name: 'shift over', e: { shift: { start: new Date(now.getTime() - 9 * H), end: new Date(now.getTime() - 1 * H) } }, o: {}, codes: ['off_shift'] },
    { name: 'skill level too low', e: { skills: { hvac: 1 } }, o: {}, codes: ['missing_skill'] },
    { name: 'skill missing', e: { skills: {} }, o: {}, codes: ['missing_skill'] },
    { name: 'certification missing', e: {}, o: { requiredCertifications: ['refrigerant-handling'] }, codes: ['missing_certification'] },
    { name: 'at capacity', e: { openOrders: 8 }, o: {}, codes: ['at_capacity'] },
    { name: 'work does not fit the remaining shift', e: { openHours: 6 }, o: { estimatedHours: 2 }, codes: ['shift_too_short'] },
  ])('$name', ({ e, o, codes }) => {
    expect(eligibility(order(o as Partial<OrderProfile>), engineer(e as Partial<EngineerProfile>), now).map((r) => r.code)).toEqual(codes);
  });

  it('says which skill and level is missing', () => {
    expect(eligibility(order(), engineer({ skills: { hvac: 1 } }), now)).toEqual([{ code: 'missing_skill', skill: 'hvac', required: 2, has: 1 }]);
  });
});

describe('scoring and ranking', () => {
  it('breakdown sums to the score and stays within 0–100', () => {
    const c = scoreCandidate(order(), engineer(), now);
    const sum = Object.values(c.breakdown).reduce((a, b) => a + b, 0);
    expect(c.score).toBeCloseTo(sum, 1);
    expect(c.score).toBeGreaterThan(0);
    expect(c.score).toBeLessThanOrEqual(100);
    expect(c.travelKm).toBeCloseTo(13, 0);
    expect(c.meetsResponseSla).toBe(true);
  });

  it('prefers near over far, idle over busy, expert over minimum, familiar over new', () => {
    const base = scoreCandidate(order(), engineer(), now).score;
    expect(scoreCandidate(order(), engineer({ location: FAR }), now).score).toBeLessThan(base);
    expect(scoreCandidate(order(), engineer({ openOrders: 6 }), now).score).toBeLessThan(base);
    expect(scoreCandidate(order(), engineer({ skills: { hvac: 5 } }), now).score).toBeGreaterThan(base);
    expect(scoreCandidate(order(), engineer({ siteVisits: 5, customerVisits: 10 }), now).score).toBeGreaterThan(base);
  });

  it('an engineer who cannot arrive before the response is due loses urgency points', () => {
    const due = order({ responseDueAt: new Date(now.getTime() + 30 * 60_000) });
    const far = scoreCandidate(due, engineer({ location: FAR }), now);
    expect(far.meetsResponseSla).toBe(false);
    expect(far.breakdown.urgency).toBeLessThan(scoreCandidate(due, engineer(), now).breakdown.urgency);
  });

  it('ranks eligible first by score, ineligible last with reasons and score 0', () => {
    const ranked = rankCandidates(order(), [engineer({ code: 'FAR', location: FAR }), engineer({ code: 'LEAVE', onLeave: true }), engineer({ code: 'NEAR' })], now);
    expect(ranked.map((c) => c.code)).toEqual(['NEAR', 'FAR', 'LEAVE']);
    expect(ranked[2]).toMatchObject({ eligible: false, score: 0, reasons: [{ code: 'on_leave' }] });
  });

  it('assignment cost is infinite for the ineligible and weighs urgent orders more', () => {
    const c = scoreCandidate(order(), engineer(), now);
    expect(assignmentCost(order({ priority: 'urgent' }), c)).toBeGreaterThan(assignmentCost(order({ priority: 'low' }), c));
    expect(assignmentCost(order(), scoreCandidate(order(), engineer({ active: false }), now))).toBe(Infinity);
  });

  it('orders urgent and soonest-due first', () => {
    const list = [
      order({ id: 'low', priority: 'low' }),
      order({ id: 'urgent-late', priority: 'urgent', responseDueAt: new Date(now.getTime() + 2 * H) }),
      order({ id: 'urgent-soon', priority: 'urgent', responseDueAt: new Date(now.getTime() + 1 * H) }),
    ];
    expect(list.sort(urgencyOrder).map((o) => o.id)).toEqual(['urgent-soon', 'urgent-late', 'low']);
  });

  it('the batch fast path gives exactly the recommendation score (and null when ineligible) on random profiles', () => {
    let seed = 3;
    const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    let ineligible = 0;
    for (let k = 0; k < 500; k++) {
      const o = order({
        priority: (['low', 'medium', 'high', 'urgent'] as const)[k % 4]!,
        requiredSkills: rand() < 0.8 ? [{ skill: 'hvac', minLevel: 1 + Math.floor(rand() * 4) }] : [],
        location: rand() < 0.9 ? { lat: 31 + rand(), lon: 121 + rand() } : null,
        estimatedHours: 1 + rand() * 5,
        responseDueAt: rand() < 0.8 ? new Date(now.getTime() + rand() * 6 * H) : null,
      });
      const e = engineer({
        skills: { hvac: Math.floor(rand() * 6) },
        location: rand() < 0.9 ? { lat: 31 + rand(), lon: 121 + rand() } : null,
        openOrders: Math.floor(rand() * 9),
        openHours: rand() * 6,
        onLeave: rand() < 0.05,
        siteVisits: Math.floor(rand() * 8),
      });
      const full = scoreCandidate(o, e, now);
      const fast = pairScore(o, e, now);
      expect(fast.score).toBe(full.eligible ? full.score : null);
      expect(fast.travelKm).toBe(full.travelKm);
      if (!full.eligible) ineligible++;
    }
    expect(ineligible).toBeGreaterThan(50);
  });
});
