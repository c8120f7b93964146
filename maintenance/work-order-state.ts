/** Work-order lifecycle (pure). open → assigned → in_progress → completed → closed; cancel before completion. */
export const WORK_ORDER_STATUSES = ['open', 'assigned', 'in_progress', 'completed', 'closed', 'cancelled'] as const;
export type WorkOrderStatus = (typeof WORK_ORDER_STATUSES)[number];

const NEXT: Record<WorkOrderStatus, readonly WorkOrderStatus[]> = {
  open: ['assigned', 'cancelled'],
  assigned: ['in_progress', 'open', 'cancelled'],
  in_progress: ['completed', 'cancelled'],
  completed: ['closed'],
  closed: [],
  cancelled: [],
};

/** Statuses in which the order still holds its cause's "open" slot. */
export const isTerminal = (s: WorkOrderStatus): boolean => s === 'completed' || s === 'closed' || s === 'cancelled';

export const allowedTransitions = (from: WorkOrderStatus): readonly WorkOrderStatus[] => NEXT[from];

export type TransitionCheck = { ok: true } | { ok: false; message: string };

export function checkTransition(from: WorkOrderStatus, to: WorkOrderStatus, opts: { assigneeId?: string | null } = {}): TransitionCheck {
  if (!NEXT[from].includes(to)) {
    const allowed = NEXT[from];
    return {
      ok: false,
      message: `cannot move a work order from ${from} to ${to}; ${allowed.length ? `allowed: ${allowed.join(', ')}` : `${from} is final`}`,
    };
  }
  if (to === 'assigned' && !opts.assigneeId) return { ok: false, message: 'assigning requires an engineer (assigneeId)' };
  return { ok: true };
}

/** Timestamp column set when entering a status. */
export const TIMESTAMP_FOR: Partial<Record<WorkOrderStatus, 'assignedAt' | 'startedAt' | 'completedAt' | 'closedAt' | 'cancelledAt'>> = {
  assigned: 'assignedAt',
  in_progress: 'startedAt',
  completed: 'completedAt',
  closed: 'closedAt',
  cancelled: 'cancelledAt',
};
