/**
 * Work-order lifecycle (pure). `open` is the "new" state (created, not yet dispatched).
 *
 *   open → assigned → [accepted → [en_route →]] in_progress ⇄ on_hold → completed → [verified →] closed
 *
 * An assignment can be declined/withdrawn (assigned|accepted → open); en_route can also go on hold;
 * anything before completion can be cancelled. closed and cancelled are final.
 */
export const WORK_ORDER_STATUSES = ['open', 'assigned', 'accepted', 'en_route', 'in_progress', 'on_hold', 'completed', 'verified', 'closed', 'cancelled'] as const;
export type WorkOrderStatus = (typeof WORK_ORDER_STATUSES)[number];

export const HOLD_REASONS = ['waiting_parts', 'waiting_customer', 'other'] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];

const NEXT: Record<WorkOrderStatus, readonly WorkOrderStatus[]> = {
  open: ['assigned', 'cancelled'],
  assigned: ['accepted', 'in_progress', 'open', 'cancelled'],
  accepted: ['en_route', 'in_progress', 'open', 'cancelled'],
  en_route: ['in_progress', 'on_hold', 'cancelled'],
  in_progress: ['on_hold', 'completed', 'cancelled'],
  on_hold: ['in_progress', 'cancelled'],
  completed: ['verified', 'closed'],
  verified: ['closed'],
  closed: [],
  cancelled: [],
};

/** Statuses in which the order no longer holds its cause's "open" slot (completed, verified, closed, cancelled). */
export const isTerminal = (s: WorkOrderStatus): boolean => s === 'completed' || s === 'verified' || s === 'closed' || s === 'cancelled';

export const allowedTransitions = (from: WorkOrderStatus): readonly WorkOrderStatus[] => NEXT[from];

export type TransitionCheck = { ok: true } | { ok: false; message: string };

export function checkTransition(
  from: WorkOrderStatus,
  to: WorkOrderStatus,
  opts: { assigneeId?: string | null | undefined; holdReason?: HoldReason | null | undefined } = {},
): TransitionCheck {
  if (!NEXT[from].includes(to)) {
    const allowed = NEXT[from];
    return {
      ok: false,
      message: `cannot move a work order from ${from} to ${to}; ${allowed.length ? `allowed: ${allowed.join(', ')}` : `${from} is final`}`,
    };
  }
  if (to === 'assigned' && !opts.assigneeId) return { ok: false, message: 'assigning requires an engineer (assigneeId)' };
  if (to === 'on_hold' && !opts.holdReason) return { ok: false, message: `putting a work order on hold requires a holdReason (${HOLD_REASONS.join(', ')})` };
  return { ok: true };
}

export type TimestampField = 'assignedAt' | 'acceptedAt' | 'enRouteAt' | 'startedAt' | 'onHoldAt' | 'completedAt' | 'verifiedAt' | 'closedAt' | 'cancelledAt';

/** Timestamp column set when entering a status: the latest entry, except `startedAt` (first start; resuming from on_hold keeps it). */
export const TIMESTAMP_FOR: Partial<Record<WorkOrderStatus, TimestampField>> = {
  assigned: 'assignedAt',
  accepted: 'acceptedAt',
  en_route: 'enRouteAt',
  in_progress: 'startedAt',
  on_hold: 'onHoldAt',
  completed: 'completedAt',
  verified: 'verifiedAt',
  closed: 'closedAt',
  cancelled: 'cancelledAt',
};
