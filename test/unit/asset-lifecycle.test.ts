import { describe, expect, it } from 'vitest';
import {
  allowedAssetTransitions,
  ASSET_STATUSES,
  changedFields,
  checkAssetTransition,
  daysUntil,
  downtimeOpenKey,
  transitionEffects,
  warrantyAlertWindow,
  warrantyDedupeKey,
  type AssetStatus,
} from '../../maintenance/asset-lifecycle.ts';

const legal: [AssetStatus, AssetStatus][] = [
  ['procured', 'installed'],
  ['installed', 'in_service'],
  ['in_service', 'under_repair'],
  ['under_repair', 'in_service'],
  ['procured', 'retired'],
  ['installed', 'retired'],
  ['in_service', 'retired'],
  ['under_repair', 'retired'],
];

describe('asset status transitions', () => {
  it.each(legal)('%s → %s is allowed', (from, to) => expect(checkAssetTransition(from, to)).toEqual({ ok: true }));

  it('every other pair is refused', () => {
    for (const from of ASSET_STATUSES) {
      for (const to of ASSET_STATUSES) {
        const isLegal = legal.some(([f, t]) => f === from && t === to);
        expect(checkAssetTransition(from, to).ok, `${from} → ${to}`).toBe(isLegal);
      }
    }
  });

  it.each([
    ['procured', 'in_service', /cannot move an asset from procured to in_service; allowed next: installed, retired/],
    ['installed', 'under_repair', /allowed next: in_service, retired/],
    ['in_service', 'in_service', /already in_service; allowed next: under_repair, retired/],
    ['retired', 'in_service', /retired is final/],
  ] as const)('%s → %s explains: %s', (from, to, message) => {
    const r = checkAssetTransition(from, to);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toMatch(message);
      expect(r.allowed).toEqual(allowedAssetTransitions(from));
    }
  });

  it('retired has no way out', () => expect(allowedAssetTransitions('retired')).toEqual([]));
});

describe('transition effects', () => {
  it.each([
    ['in_service', 'under_repair', { openDowntime: true, closeDowntime: false, stampRetiredAt: false }],
    ['under_repair', 'in_service', { openDowntime: false, closeDowntime: true, stampRetiredAt: false }],
    ['under_repair', 'retired', { openDowntime: false, closeDowntime: true, stampRetiredAt: true }],
    ['in_service', 'retired', { openDowntime: false, closeDowntime: false, stampRetiredAt: true }],
    ['procured', 'installed', { fillInstallDate: true, fillCommissionedAt: false }],
    ['installed', 'in_service', { fillInstallDate: false, fillCommissionedAt: true }],
    ['under_repair', 'in_service', { fillCommissionedAt: false }],
  ] as const)('%s → %s', (from, to, effects) => expect(transitionEffects(from, to)).toMatchObject(effects));

  it('one open-downtime key per asset', () => expect(downtimeOpenKey('a1')).toBe('down:a1'));
});

describe('changedFields', () => {
  const d = (s: string) => new Date(`${s}T00:00:00Z`);
  it.each([
    [{ name: 'A' }, { name: 'B' }, { name: { from: 'A', to: 'B' } }],
    [{ name: 'A' }, { name: 'A' }, {}],
    [{ name: 'A' }, { name: undefined }, {}],
    [{ brand: null }, { brand: 'X' }, { brand: { from: null, to: 'X' } }],
    [{ warrantyEnd: d('2027-01-01') }, { warrantyEnd: d('2027-01-01') }, {}],
    [{ warrantyEnd: d('2027-01-01') }, { warrantyEnd: null }, { warrantyEnd: { from: d('2027-01-01'), to: null } }],
    [{ purchaseCost: { toNumber: () => 1200.5 } }, { purchaseCost: 1200.5 }, {}],
    [{ specs: { a: 1, b: { c: [1, 2] } } }, { specs: { b: { c: [1, 2] }, a: 1 } }, {}],
    [{ specs: { a: 1, b: { c: 1 } } }, { specs: { a: 1, b: { c: 2 } } }, { specs: { from: { a: 1, b: { c: 1 } }, to: { a: 1, b: { c: 2 } } } }],
  ])('%#: %j → %j', (before, after, want) => expect(changedFields(before, after)).toEqual(want));
});

describe('warranty alerts', () => {
  const now = new Date('2026-03-10T15:30:00Z');
  it('window is today … today + N days (UTC), off at 0', () => {
    expect(warrantyAlertWindow(now, 30)).toEqual({ from: new Date('2026-03-10T00:00:00Z'), to: new Date('2026-04-09T00:00:00Z') });
    expect(warrantyAlertWindow(now, 0)).toBeUndefined();
  });
  it.each([
    ['2026-03-10', 0],
    ['2026-03-11', 1],
    ['2026-04-09', 30],
    ['2026-03-09', -1],
  ])('warranty ending %s → %i days left', (end, days) => expect(daysUntil(new Date(`${end}T00:00:00Z`), now)).toBe(days));
  it('dedupe key per asset and end date', () => expect(warrantyDedupeKey('a1', new Date('2027-05-01T00:00:00Z'))).toBe('warranty:a1:2027-05-01'));
});
