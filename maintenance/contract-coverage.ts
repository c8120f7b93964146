/**
 * Contracts (pure): validation of a contract's term, coverage and SLA targets; which contract
 * covers an asset on a date; the SLA targets an order gets from it.
 *
 * A contract covers an asset on day D (UTC) when it is active, belongs to the customer owning the
 * asset's site, startsOn ≤ D ≤ endsOn (both inclusive; no endsOn = open-ended), and its coverage
 * lists the asset's site and type (a missing or empty list = all of the customer's sites / types).
 * When several cover it, the most specific wins (restricts both sites and types > one of them >
 * neither), then the highest service level (premium > standard > basic), then the latest start,
 * then the code (deterministic).
 *
 * SLA targets are stored in minutes per priority ({ urgent: { responseMinutes, resolutionMinutes } })
 * and converted to milliseconds merged over the defaults: a priority the contract does not name keeps
 * the default target.
 */
import { DEFAULT_SLA_TARGETS, type SlaTarget } from './sla.ts';
import type { Priority } from './work-orders.ts';

export type ServiceLevel = 'basic' | 'standard' | 'premium';
const LEVEL_RANK: Record<ServiceLevel, number> = { basic: 0, standard: 1, premium: 2 };
const PRIORITIES: readonly Priority[] = ['low', 'medium', 'high', 'urgent'];
const MAX_MINUTES = 366 * 24 * 60;

export interface Coverage {
  siteIds?: string[] | undefined;
  assetTypes?: string[] | undefined;
  includesParts?: boolean | undefined;
  includesLabour?: boolean | undefined;
}

export interface SlaTargetMinutes {
  responseMinutes: number;
  resolutionMinutes: number;
}
export type ContractSlaTargets = Partial<Record<Priority, SlaTargetMinutes>>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; field: string; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseCoverage(raw: unknown): Parsed<Coverage> {
  if (raw === null || raw === undefined) return { ok: true, value: {} };
  if (!isObject(raw)) return { ok: false, field: 'coverage', message: 'coverage must be an object' };
  const out: Coverage = {};
  for (const [key, value] of Object.entries(raw)) {
    const field = `coverage.${key}`;
    if (key === 'siteIds' || key === 'assetTypes') {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) return { ok: false, field, message: `${field} must be a list of non-empty strings` };
      out[key] = [...new Set(value as string[])];
    } else if (key === 'includesParts' || key === 'includesLabour') {
      if (typeof value !== 'boolean') return { ok: false, field, message: `${field} must be true or false` };
      out[key] = value;
    } else {
      return { ok: false, field, message: `${field} is not a coverage field (siteIds, assetTypes, includesParts, includesLabour)` };
    }
  }
  return { ok: true, value: out };
}

/** Each target positive whole minutes, response ≤ resolution; the message names the field. */
export function parseSlaTargets(raw: unknown): Parsed<ContractSlaTargets> {
  if (raw === null || raw === undefined) return { ok: true, value: {} };
  if (!isObject(raw)) return { ok: false, field: 'slaTargets', message: 'slaTargets must be an object keyed by priority' };
  const out: ContractSlaTargets = {};
  for (const [key, value] of Object.entries(raw)) {
    const field = `slaTargets.${key}`;
    if (!(PRIORITIES as readonly string[]).includes(key)) return { ok: false, field, message: `${field}: ${key} is not a priority (${PRIORITIES.join(', ')})` };
    if (!isObject(value)) return { ok: false, field, message: `${field} must be { responseMinutes, resolutionMinutes }` };
    for (const k of Object.keys(value)) {
      if (k !== 'responseMinutes' && k !== 'resolutionMinutes') return { ok: false, field: `${field}.${k}`, message: `${field}.${k} is not allowed (responseMinutes, resolutionMinutes)` };
    }
    for (const k of ['responseMinutes', 'resolutionMinutes'] as const) {
      const v = value[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > MAX_MINUTES) {
        return { ok: false, field: `${field}.${k}`, message: `${field}.${k} must be a positive whole number of minutes (at most ${MAX_MINUTES})` };
      }
    }
    const t = { responseMinutes: value.responseMinutes as number, resolutionMinutes: value.resolutionMinutes as number };
    if (t.responseMinutes > t.resolutionMinutes) {
      return { ok: false, field: `${field}.responseMinutes`, message: `${field}.responseMinutes (${t.responseMinutes}) must not exceed resolutionMinutes (${t.resolutionMinutes})` };
    }
    out[key as Priority] = t;
  }
  return { ok: true, value: out };
}

/** UTC calendar day of a date ("YYYY-MM-DD"); contract dates are whole days. */
export const dayOf = (d: Date): string => d.toISOString().slice(0, 10);

export function checkTerm(startsOn: Date, endsOn: Date | null): Parsed<null> {
  if (endsOn && dayOf(endsOn) < dayOf(startsOn)) return { ok: false, field: 'endsOn', message: `endsOn ${dayOf(endsOn)} is before startsOn ${dayOf(startsOn)}` };
  return { ok: true, value: null };
}

export interface ContractCandidate {
  id: string;
  code: string;
  customerId: string;
  serviceLevel: ServiceLevel;
  startsOn: Date;
  endsOn: Date | null;
  active: boolean;
  coverage: unknown;
}

export interface AssetFacts {
  siteId: string;
  type: string;
  /** Owner of the asset's site (null = no customer: no contract can cover it). */
  customerId: string | null;
}

/** Why a contract does or does not cover the asset on that day (first failing reason). */
export function coverageOf(c: ContractCandidate, asset: AssetFacts, at: Date): { covers: true; specificity: number } | { covers: false; reason: string } {
  if (!c.active) return { covers: false, reason: 'inactive' };
  if (!asset.customerId || c.customerId !== asset.customerId) return { covers: false, reason: 'other customer' };
  const day = dayOf(at);
  if (day < dayOf(c.startsOn)) return { covers: false, reason: 'not started' };
  if (c.endsOn && day > dayOf(c.endsOn)) return { covers: false, reason: 'ended' };
  const cov = parseCoverage(c.coverage);
  if (!cov.ok) return { covers: false, reason: `invalid coverage: ${cov.message}` };
  const sites = cov.value.siteIds?.length ? cov.value.siteIds : undefined;
  const types = cov.value.assetTypes?.length ? cov.value.assetTypes : undefined;
  if (sites && !sites.includes(asset.siteId)) return { covers: false, reason: 'site not covered' };
  if (types && !types.includes(asset.type)) return { covers: false, reason: 'asset type not covered' };
  return { covers: true, specificity: (sites ? 1 : 0) + (types ? 1 : 0) };
}

/** The contract covering the asset on `at` (see the ordering above), or undefined. */
export function coveringContract<T extends ContractCandidate>(contracts: readonly T[], asset: AssetFacts, at: Date): T | undefined {
  let best: { c: T; specificity: number } | undefined;
  for (const c of contracts) {
    const cov = coverageOf(c, asset, at);
    if (!cov.covers) continue;
    if (!best || compare({ c, specificity: cov.specificity }, best) < 0) best = { c, specificity: cov.specificity };
  }
  return best?.c;
}

/** Negative when `a` should win over `b`. */
function compare(a: { c: ContractCandidate; specificity: number }, b: { c: ContractCandidate; specificity: number }): number {
  return (
    b.specificity - a.specificity ||
    LEVEL_RANK[b.c.serviceLevel] - LEVEL_RANK[a.c.serviceLevel] ||
    b.c.startsOn.getTime() - a.c.startsOn.getTime() ||
    a.c.code.localeCompare(b.c.code)
  );
}

/** The contract's targets (minutes) as milliseconds, merged over `defaults`. Invalid stored targets are ignored. */
export function slaTargetsFor(raw: unknown, defaults: Readonly<Record<Priority, SlaTarget>> = DEFAULT_SLA_TARGETS): Readonly<Record<Priority, SlaTarget>> {
  const parsed = parseSlaTargets(raw);
  const out = { ...defaults };
  if (!parsed.ok) return out;
  for (const p of PRIORITIES) {
    const t = parsed.value[p];
    if (t) out[p] = { responseMs: t.responseMinutes * 60_000, resolutionMs: t.resolutionMinutes * 60_000 };
  }
  return out;
}

/** Where the targets of an order of `priority` come from. */
export function slaSourceFor(raw: unknown, priority: Priority): 'contract' | 'default' {
  const parsed = parseSlaTargets(raw);
  return parsed.ok && parsed.value[priority] ? 'contract' : 'default';
}
