/**
 * What a customer signs (pure): a summary of the work order — number, title, asset, status, fault
 * code, root cause, resolution, checklist results, labour/travel totals, parts consumed — written as
 * canonical JSON (keys sorted at every level, arrays in a fixed order) and hashed with sha256. The
 * same facts always give the same hash, so "the hash still matches" means "nothing changed".
 *
 * Status: the order normally moves on after signing (in_progress → completed → verified → closed);
 * that is the workflow, not a change to the work, so while the order is in one of those statuses it
 * is compared with the status it was signed in. Anything else (on hold, cancelled) counts as a change.
 */
import { createHash } from 'node:crypto';

export const SUMMARY_VERSION = 1;

export interface SummaryInput {
  number: number;
  title: string;
  assetCode: string;
  status: string;
  faultCode: string | null;
  rootCause: string | null;
  resolution: string | null;
  checklist: readonly { position: number; key: string; done: boolean; value: unknown }[];
  work: { labourMinutes: number; labourCost: number; travelMinutes: number; travelKm: number; travelCost: number };
  /** Stock movements booked to the order (issue negative, return positive), and open reservations as the issues they will become. */
  movements: readonly { partCode: string; quantity: number }[];
}

export interface SignedSummary {
  version: number;
  workOrder: { number: number; title: string; assetCode: string; status: string };
  faultCode: string | null;
  rootCause: string | null;
  resolution: string | null;
  checklist: { key: string; done: boolean; value: unknown }[];
  work: SummaryInput['work'];
  parts: { partCode: string; quantity: number }[];
}

/** JSON with object keys sorted at every level; undefined members dropped, as JSON.stringify does. */
export function canonicalJson(v: unknown): string {
  if (v === null || v === undefined || typeof v !== 'object') return JSON.stringify(v ?? null);
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x)).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

export function buildSummary(input: SummaryInput): SignedSummary {
  const consumed = new Map<string, number>();
  for (const m of input.movements) consumed.set(m.partCode, (consumed.get(m.partCode) ?? 0) - m.quantity);
  return {
    version: SUMMARY_VERSION,
    workOrder: { number: input.number, title: input.title, assetCode: input.assetCode, status: input.status },
    faultCode: input.faultCode,
    rootCause: input.rootCause,
    resolution: input.resolution,
    checklist: [...input.checklist]
      .sort((a, b) => a.position - b.position || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((c) => ({ key: c.key, done: c.done, value: c.value ?? null })),
    work: { ...input.work },
    parts: [...consumed]
      .filter(([, q]) => q !== 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([partCode, quantity]) => ({ partCode, quantity })),
  };
}

export const summaryHash = (s: SignedSummary): string => createHash('sha256').update(canonicalJson(s)).digest('hex');

/** Statuses an order passes through after being signed without its work changing. */
const SIGNED_FLOW = new Set(['in_progress', 'completed', 'verified', 'closed']);

/** The current summary as it is compared with the signed one (status per the rule above). */
export function comparable(current: SignedSummary, signedStatus: string): SignedSummary {
  if (SIGNED_FLOW.has(current.workOrder.status) && SIGNED_FLOW.has(signedStatus)) {
    return { ...current, workOrder: { ...current.workOrder, status: signedStatus } };
  }
  return current;
}

/** true when the current facts hash to what was signed. */
export const stillMatches = (current: SignedSummary, signed: { status: string; contentHash: string }): boolean =>
  summaryHash(comparable(current, signed.status)) === signed.contentHash;
