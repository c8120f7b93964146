import { describe, expect, it } from 'vitest';
import { checkTransition, isTerminal, WORK_ORDER_STATUSES, type WorkOrderStatus } from '../../maintenance/work-order-state.ts';

const legal: [WorkOrderStatus, WorkOrderStatus][] = [
  ['open', 'assigned'],
  ['assigned', 'in_progress'],
  ['in_progress', 'completed'],
  ['completed', 'closed'],
  ['open', 'cancelled'],
  ['assigned', 'cancelled'],
  ['in_progress', 'cancelled'],
  ['assigned', 'open'],
];

describe('work-order state machine', () => {
  it.each(legal)('%s → %s is allowed', (from, to) => expect(checkTransition(from, to, { assigneeId: 'e1' })).toEqual({ ok: true }));

  it('rejects every other pair with a message naming both states', () => {
    for (const from of WORK_ORDER_STATUSES) {
      for (const to of WORK_ORDER_STATUSES) {
        if (legal.some(([f, t]) => f === from && t === to)) continue;
        const r = checkTransition(from, to, { assigneeId: 'e1' });
        expect(r.ok, `${from}→${to}`).toBe(false);
        if (!r.ok) expect(r.message).toContain(`from ${from} to ${to}`);
      }
    }
  });

  it('assigning needs an engineer', () => {
    const r = checkTransition('open', 'assigned', {});
    expect(!r.ok && r.message).toMatch(/engineer/);
  });

  it('closed and cancelled are final; completed frees the cause', () => {
    expect(checkTransition('closed', 'open')).toMatchObject({ ok: false, message: expect.stringContaining('closed is final') });
    expect(isTerminal('completed')).toBe(true);
    expect(isTerminal('in_progress')).toBe(false);
  });
});
