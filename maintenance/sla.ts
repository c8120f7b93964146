/**
 * Service-level targets for work orders (pure). Every order gets a response due time (someone
 * accepts or starts it) and a resolution due time (it is completed), both from `requestedAt` plus
 * the target for its priority. An event counts as on time when it happens at or before its due time
 * and late strictly after it. Time on hold waiting for the customer does not count against the
 * resolution target: on resume the resolution due time is pushed back by the time spent waiting.
 */
import type { HoldReason, WorkOrderStatus } from './work-order-state.ts';

export type SlaPriority = 'low' | 'medium' | 'high' | 'urgent';

const HOUR = 3_600_000;

export interface SlaTarget {
  responseMs: number;
  resolutionMs: number;
}

export const DEFAULT_SLA_TARGETS: Readonly<Record<SlaPriority, SlaTarget>> = Object.freeze({
  urgent: { responseMs: 1 * HOUR, resolutionMs: 4 * HOUR },
  high: { responseMs: 4 * HOUR, resolutionMs: 24 * HOUR },
  medium: { responseMs: 24 * HOUR, resolutionMs: 72 * HOUR },
  low: { responseMs: 72 * HOUR, resolutionMs: 168 * HOUR },
});

export function slaDueTimes(priority: SlaPriority, requestedAt: Date, targets: Readonly<Record<SlaPriority, SlaTarget>> = DEFAULT_SLA_TARGETS): { responseDueAt: Date; resolutionDueAt: Date } {
  const t = targets[priority];
  return { responseDueAt: new Date(requestedAt.getTime() + t.responseMs), resolutionDueAt: new Date(requestedAt.getTime() + t.resolutionMs) };
}

/** Strictly after the due time (no due time = never late). */
export const isLate = (at: Date, due: Date | null): boolean => due !== null && at.getTime() > due.getTime();

/** Statuses that still wait for a response (nobody has accepted or started the order). */
export const AWAITING_RESPONSE: readonly WorkOrderStatus[] = ['open', 'assigned'];
/** Statuses in which the resolution clock runs (on_hold too, unless waiting for the customer). */
export const AWAITING_RESOLUTION: readonly WorkOrderStatus[] = ['open', 'assigned', 'accepted', 'en_route', 'in_progress', 'on_hold'];

export const pausesResolutionClock = (status: WorkOrderStatus, holdReason: HoldReason | null): boolean => status === 'on_hold' && holdReason === 'waiting_customer';

export interface SlaState {
  status: WorkOrderStatus;
  responseDueAt: Date | null;
  resolutionDueAt: Date | null;
  respondedAt: Date | null;
  completedAt: Date | null;
  onHoldAt: Date | null;
  holdReason: HoldReason | null;
  responseBreached: boolean;
  resolutionBreached: boolean;
}

/**
 * Breach state at `now`. Flags already set stay set. An unanswered order is late once `now` passes
 * its response due time; an unresolved one once `now` passes its resolution due time — while the
 * clock is paused (waiting for the customer) it is judged at the moment the hold began.
 */
export function evaluateSla(s: SlaState, now: Date): { responseBreached: boolean; resolutionBreached: boolean } {
  const response = s.respondedAt ? isLate(s.respondedAt, s.responseDueAt) : AWAITING_RESPONSE.includes(s.status) && isLate(now, s.responseDueAt);
  let resolution: boolean;
  if (s.completedAt) resolution = isLate(s.completedAt, s.resolutionDueAt);
  else if (!AWAITING_RESOLUTION.includes(s.status)) resolution = false;
  else if (pausesResolutionClock(s.status, s.holdReason)) resolution = isLate(s.onHoldAt ?? now, s.resolutionDueAt);
  else resolution = isLate(now, s.resolutionDueAt);
  return { responseBreached: s.responseBreached || response, resolutionBreached: s.resolutionBreached || resolution };
}

export interface SlaPatch {
  respondedAt?: Date;
  resolutionDueAt?: Date;
  pausedMs?: number;
  responseBreached: boolean;
  resolutionBreached: boolean;
}

/**
 * SLA columns to write when an order moves from `s.status` to `to` at `now`: the first response,
 * the pause accounting when leaving a customer hold, and the breach flags of the resulting state.
 */
export function slaOnTransition(s: SlaState & { pausedMs: number }, to: WorkOrderStatus, now: Date, holdReason?: HoldReason | null): SlaPatch {
  const patch: Omit<SlaPatch, 'responseBreached' | 'resolutionBreached'> = {};
  if (!s.respondedAt && (to === 'accepted' || to === 'in_progress')) patch.respondedAt = now;
  if (pausesResolutionClock(s.status, s.holdReason) && s.onHoldAt) {
    const paused = Math.max(0, now.getTime() - s.onHoldAt.getTime());
    patch.pausedMs = s.pausedMs + paused;
    if (s.resolutionDueAt) patch.resolutionDueAt = new Date(s.resolutionDueAt.getTime() + paused);
  }
  const next: SlaState = {
    ...s,
    status: to,
    respondedAt: patch.respondedAt ?? s.respondedAt,
    resolutionDueAt: patch.resolutionDueAt ?? s.resolutionDueAt,
    completedAt: to === 'completed' ? now : s.completedAt,
    onHoldAt: to === 'on_hold' ? now : s.onHoldAt,
    holdReason: to === 'on_hold' ? (holdReason ?? null) : s.holdReason,
  };
  return { ...patch, ...evaluateSla(next, now) };
}
