import { describe, expect, it } from 'vitest';
import { DEFAULT_SLA_TARGETS, evaluateSla, slaDueTimes, slaOnTransition, type SlaPriority, type SlaState } from '../../maintenance/sla.ts';

const H = 3_600_000;
const t0 = new Date('2026-01-05T08:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

describe('SLA due times', () => {
  it.each<[SlaPriority, number, number]>([
    ['urgent', 1, 4],
    ['high', 4, 24],
    ['medium', 24, 72],
    ['low', 72, 168],
  ])('%s: response %i h, resolution %i h after requestedAt', (priority, resp, res) => {
    expect(slaDueTimes(priority, t0)).toEqual({ responseDueAt: at(resp * H), resolutionDueAt: at(res * H) });
    expect(DEFAULT_SLA_TARGETS[priority]).toEqual({ responseMs: resp * H, resolutionMs: res * H });
  });

  it('takes other targets', () => {
    const targets = { ...DEFAULT_SLA_TARGETS, low: { responseMs: 1000, resolutionMs: 2000 } };
    expect(slaDueTimes('low', t0, targets)).toEqual({ responseDueAt: at(1000), resolutionDueAt: at(2000) });
  });
});

const base = (over: Partial<SlaState> = {}): SlaState => ({
  status: 'open',
  ...slaDueTimes('urgent', t0),
  respondedAt: null,
  completedAt: null,
  onHoldAt: null,
  holdReason: null,
  responseBreached: false,
  resolutionBreached: false,
  ...over,
});

describe('SLA breach at a given now (urgent: response due +1 h, resolution due +4 h)', () => {
  it.each<[string, Partial<SlaState>, number, { responseBreached: boolean; resolutionBreached: boolean }]>([
    ['open, before the response due time', {}, H - 1, { responseBreached: false, resolutionBreached: false }],
    ['open, exactly at the response due time (on time)', {}, H, { responseBreached: false, resolutionBreached: false }],
    ['open, 1 ms after the response due time', {}, H + 1, { responseBreached: true, resolutionBreached: false }],
    ['assigned, after the response due time', { status: 'assigned' }, 2 * H, { responseBreached: true, resolutionBreached: false }],
    ['open, exactly at the resolution due time', {}, 4 * H, { responseBreached: true, resolutionBreached: false }],
    ['open, after the resolution due time', {}, 4 * H + 1, { responseBreached: true, resolutionBreached: true }],
    ['responded on time, asked later', { status: 'in_progress', respondedAt: at(H) }, 3 * H, { responseBreached: false, resolutionBreached: false }],
    ['responded late', { status: 'in_progress', respondedAt: at(H + 1) }, 2 * H, { responseBreached: true, resolutionBreached: false }],
    ['completed exactly at the resolution due time', { status: 'completed', respondedAt: at(0), completedAt: at(4 * H) }, 100 * H, { responseBreached: false, resolutionBreached: false }],
    ['completed 1 ms late', { status: 'closed', respondedAt: at(0), completedAt: at(4 * H + 1) }, 100 * H, { responseBreached: false, resolutionBreached: true }],
    ['cancelled before anyone responded', { status: 'cancelled' }, 100 * H, { responseBreached: false, resolutionBreached: false }],
    ['on hold waiting for parts: clock runs', { status: 'on_hold', respondedAt: at(0), onHoldAt: at(H), holdReason: 'waiting_parts' }, 5 * H, { responseBreached: false, resolutionBreached: true }],
    ['on hold waiting for the customer: clock paused', { status: 'on_hold', respondedAt: at(0), onHoldAt: at(H), holdReason: 'waiting_customer' }, 50 * H, { responseBreached: false, resolutionBreached: false }],
    ['waiting for the customer since after the due time', { status: 'on_hold', respondedAt: at(0), onHoldAt: at(5 * H), holdReason: 'waiting_customer' }, 6 * H, { responseBreached: false, resolutionBreached: true }],
    ['flags stay set', { status: 'in_progress', respondedAt: at(0), responseBreached: true, resolutionBreached: true }, 0, { responseBreached: true, resolutionBreached: true }],
    ['no due times (legacy order): never breached', { responseDueAt: null, resolutionDueAt: null }, 1000 * H, { responseBreached: false, resolutionBreached: false }],
  ])('%s', (_name, over, nowMs, expected) => expect(evaluateSla(base(over), at(nowMs))).toEqual(expected));
});

describe('SLA on transition', () => {
  const state = (over: Partial<SlaState> = {}) => ({ ...base(over), pausedMs: 0 });

  it('the first accept or start is the response; later ones do not move it', () => {
    expect(slaOnTransition(state({ status: 'assigned' }), 'accepted', at(H))).toEqual({ respondedAt: at(H), responseBreached: false, resolutionBreached: false });
    expect(slaOnTransition(state({ status: 'assigned' }), 'in_progress', at(H + 1))).toEqual({ respondedAt: at(H + 1), responseBreached: true, resolutionBreached: false });
    expect(slaOnTransition(state({ status: 'en_route', respondedAt: at(1) }), 'in_progress', at(2 * H))).toEqual({ responseBreached: false, resolutionBreached: false });
  });

  it('completion after the resolution due time is a breach', () => {
    expect(slaOnTransition(state({ status: 'in_progress', respondedAt: at(0) }), 'completed', at(4 * H + 1)).resolutionBreached).toBe(true);
    expect(slaOnTransition(state({ status: 'in_progress', respondedAt: at(0) }), 'completed', at(4 * H)).resolutionBreached).toBe(false);
  });

  it('resuming from a customer hold pushes the resolution due time back by the pause', () => {
    const s = { ...state({ status: 'on_hold', respondedAt: at(0), onHoldAt: at(H), holdReason: 'waiting_customer' }), pausedMs: 1000 };
    const p = slaOnTransition(s, 'in_progress', at(6 * H));
    expect(p).toEqual({ pausedMs: 1000 + 5 * H, resolutionDueAt: at(9 * H), responseBreached: false, resolutionBreached: false });
    // a parts hold does not pause
    const parts = slaOnTransition(state({ status: 'on_hold', respondedAt: at(0), onHoldAt: at(H), holdReason: 'waiting_parts' }), 'in_progress', at(6 * H));
    expect(parts).toEqual({ responseBreached: false, resolutionBreached: true });
  });

  it('going on hold for the customer after the due time is flagged at once', () => {
    expect(slaOnTransition(state({ status: 'in_progress', respondedAt: at(0) }), 'on_hold', at(5 * H), 'waiting_customer').resolutionBreached).toBe(true);
    expect(slaOnTransition(state({ status: 'in_progress', respondedAt: at(0) }), 'on_hold', at(3 * H), 'waiting_customer').resolutionBreached).toBe(false);
  });
});
