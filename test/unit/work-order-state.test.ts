import { describe, expect, it } from 'vitest';
import { allowedTransitions, checkTransition, isTerminal, TIMESTAMP_FOR, WORK_ORDER_STATUSES, type WorkOrderStatus } from '../../maintenance/work-order-state.ts';

const legal: [WorkOrderStatus, WorkOrderStatus][] = [
  ['open', 'assigned'],
  ['open', 'cancelled'],
  ['assigned', 'accepted'],
  ['assigned', 'in_progress'],
  ['assigned', 'open'],
  ['assigned', 'cancelled'],
  ['accepted', 'en_route'],
  ['accepted', 'in_progress'],
  ['accepted', 'open'],
  ['accepted', 'cancelled'],
  ['en_route', 'in_progress'],
  ['en_route', 'on_hold'],
  ['en_route', 'cancelled'],
  ['in_progress', 'on_hold'],
  ['in_progress', 'completed'],
  ['in_progress', 'cancelled'],
  ['on_hold', 'in_progress'],
  ['on_hold', 'cancelled'],
  ['completed', 'verified'],
  ['completed', 'closed'],
  ['verified', 'closed'],
];
const opts = { assigneeId: 'e1', holdReason: 'waiting_parts' } as const;

describe('work-order state machine', () => {
  it.each(legal)('%s → %s is allowed', (from, to) => expect(checkTransition(from, to, opts)).toEqual({ ok: true }));

  it('rejects every other pair (all 100 checked) with a message naming both states and the allowed ones', () => {
    let rejected = 0;
    for (const from of WORK_ORDER_STATUSES) {
      for (const to of WORK_ORDER_STATUSES) {
        if (legal.some(([f, t]) => f === from && t === to)) continue;
        const r = checkTransition(from, to, opts);
        expect(r.ok, `${from}→${to}`).toBe(false);
        if (!r.ok) expect(r.message).toContain(`from ${from} to ${to}`);
        rejected++;
      }
    }
    expect(rejected).toBe(WORK_ORDER_STATUSES.length ** 2 - legal.length);
  });

  it('allowedTransitions lists exactly the legal targets', () => {
    for (const from of WORK_ORDER_STATUSES) {
      expect([...allowedTransitions(from)].sort(), from).toEqual(legal.filter(([f]) => f === from).map(([, t]) => t).sort());
    }
  });

  it('keeps the existing message format', () => {
    expect(checkTransition('open', 'completed')).toEqual({ ok: false, message: 'cannot move a work order from open to completed; allowed: assigned, cancelled' });
  });

  it('assigning needs an engineer', () => {
    const r = checkTransition('open', 'assigned', {});
    expect(!r.ok && r.message).toMatch(/engineer/);
  });

  it('going on hold needs a holdReason', () => {
    for (const from of ['en_route', 'in_progress'] as const) {
      const r = checkTransition(from, 'on_hold', { assigneeId: 'e1' });
      expect(!r.ok && r.message).toMatch(/holdReason \(waiting_parts, waiting_customer, other\)/);
      expect(checkTransition(from, 'on_hold', { holdReason: 'waiting_customer' })).toEqual({ ok: true });
    }
  });

  it('closed and cancelled are final; completed (and later) frees the cause', () => {
    expect(checkTransition('closed', 'open')).toMatchObject({ ok: false, message: expect.stringContaining('closed is final') });
    expect(checkTransition('cancelled', 'open')).toMatchObject({ ok: false, message: expect.stringContaining('cancelled is final') });
    expect(WORK_ORDER_STATUSES.filter(isTerminal)).toEqual(['completed', 'verified', 'closed', 'cancelled']);
  });

  it('every status but open has a timestamp column', () => {
    expect(WORK_ORDER_STATUSES.filter((s) => !TIMESTAMP_FOR[s])).toEqual(['open']);
  });
});
