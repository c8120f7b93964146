import { describe, expect, it } from 'vitest';
import {
  availableQuantity,
  canCancelPurchaseOrder,
  canReceive,
  canRecordPartsFor,
  canReserveFor,
  checkPurchaseRequestTransition,
  checkReceipt,
  checkUsedQuantity,
  consumption,
  isOpenPurchaseRequest,
  movementDelta,
  pickReservationWarehouse,
  purchaseRequestOpenKey,
  receiptReference,
  reorderNeed,
  reservationShortageMessage,
  shortageMessage,
  statusAfterReceipt,
  type PurchaseOrderStatus,
} from '../../maintenance/inventory-rules.ts';

describe('movementDelta', () => {
  it('signs quantities by kind', () => {
    expect(movementDelta('receipt', 5)).toEqual({ ok: true, delta: 5 });
    expect(movementDelta('return', 2)).toEqual({ ok: true, delta: 2 });
    expect(movementDelta('issue', 3)).toEqual({ ok: true, delta: -3 });
    expect(movementDelta('transfer', 4)).toEqual({ ok: true, delta: -4 });
    expect(movementDelta('adjustment', -7)).toEqual({ ok: true, delta: -7 });
    expect(movementDelta('adjustment', 7)).toEqual({ ok: true, delta: 7 });
  });
  it('rejects zero, negative (except adjustments) and fractional quantities', () => {
    expect(movementDelta('issue', 0).ok).toBe(false);
    expect(movementDelta('receipt', -1).ok).toBe(false);
    expect(movementDelta('adjustment', 0).ok).toBe(false);
    expect(movementDelta('receipt', 1.5).ok).toBe(false);
  });
});

describe('purchase request lifecycle', () => {
  it('open → ordered → received | cancelled', () => {
    expect(checkPurchaseRequestTransition('open', 'ordered').ok).toBe(true);
    expect(checkPurchaseRequestTransition('open', 'cancelled').ok).toBe(true);
    expect(checkPurchaseRequestTransition('ordered', 'received').ok).toBe(true);
    expect(checkPurchaseRequestTransition('ordered', 'cancelled').ok).toBe(true);
  });
  it('refuses skipping and leaving final states, naming what is allowed', () => {
    const skip = checkPurchaseRequestTransition('open', 'received');
    expect(skip).toEqual({ ok: false, message: expect.stringMatching(/allowed: ordered, cancelled/) });
    expect(checkPurchaseRequestTransition('received', 'cancelled')).toEqual({ ok: false, message: expect.stringMatching(/final/) });
    expect(checkPurchaseRequestTransition('cancelled', 'open').ok).toBe(false);
  });
  it('open and ordered hold the open key', () => {
    expect(isOpenPurchaseRequest('open') && isOpenPurchaseRequest('ordered')).toBe(true);
    expect(isOpenPurchaseRequest('received') || isOpenPurchaseRequest('cancelled')).toBe(false);
    expect(purchaseRequestOpenKey('p', 'w')).toBe('pr:p:w');
  });
});

describe('reorderNeed', () => {
  it('nothing above safety stock or with safety stock 0', () => {
    expect(reorderNeed({ safetyStock: 5, reorderQuantity: 0 }, 6)).toBeUndefined();
    expect(reorderNeed({ safetyStock: 0, reorderQuantity: 10 }, 0)).toBeUndefined();
  });
  it('reorder quantity when set, else top up to twice the safety stock', () => {
    expect(reorderNeed({ safetyStock: 5, reorderQuantity: 12 }, 5)).toBe(12);
    expect(reorderNeed({ safetyStock: 5, reorderQuantity: 0 }, 5)).toBe(5);
    expect(reorderNeed({ safetyStock: 5, reorderQuantity: 0 }, 0)).toBe(10);
  });
});

describe('availability', () => {
  it('available = on hand − reserved, named in both 409 messages', () => {
    expect(availableQuantity({ quantity: 10, reserved: 4 })).toBe(6);
    expect(shortageMessage({ quantity: 10, reserved: 4 }, 7)).toBe('insufficient stock: 6 available (10 on hand, 4 reserved), 7 requested');
    expect(reservationShortageMessage({ quantity: 3, reserved: 3 }, 1)).toBe('insufficient available stock: 0 available (3 on hand, 3 reserved), 1 requested');
  });
});

describe('reservations', () => {
  it.each([
    [5, 0, true],
    [5, 5, true],
    [5, 6, false],
    [5, -1, false],
    [5, 1.5, false],
  ])('reserved %i, used %s → ok %s', (reserved, used, ok) => {
    expect(checkUsedQuantity(reserved, used).ok).toBe(ok);
  });
  it('names the reserved quantity when used exceeds it', () => {
    expect(checkUsedQuantity(2, 3)).toEqual({ ok: false, message: 'usedQuantity 3 exceeds the reserved quantity 2' });
  });
  it.each([
    ['open', true, true],
    ['assigned', true, true],
    ['in_progress', true, true],
    ['on_hold', true, true],
    ['completed', false, true],
    ['verified', false, true],
    ['closed', false, false],
    ['cancelled', false, false],
  ])('%s: reserve %s, record parts %s', (status, reserve, record) => {
    expect(canReserveFor(status)).toBe(reserve);
    expect(canRecordPartsFor(status)).toBe(record);
  });
  it.each([
    [{ quantity: 5, usedQuantity: 5 }, { issue: 5, release: 0 }],
    [{ quantity: 5, usedQuantity: 3 }, { issue: 3, release: 2 }],
    [{ quantity: 5, usedQuantity: 0 }, { issue: 0, release: 5 }],
    [{ quantity: 5, usedQuantity: 9 }, { issue: 5, release: 0 }],
  ])('consumption of %o → %o', (r, expected) => {
    expect(consumption(r)).toEqual(expected);
  });
});

describe('pickReservationWarehouse', () => {
  const whs = [
    { code: 'C-2', kind: 'central', siteId: null },
    { code: 'C-1', kind: 'central', siteId: null },
    { code: 'S-B', kind: 'site', siteId: 'site-b' },
    { code: 'S-A2', kind: 'site', siteId: 'site-a' },
    { code: 'S-A1', kind: 'site', siteId: 'site-a' },
    { code: 'VAN', kind: 'van', siteId: 'site-a' },
  ];
  it.each([
    ['site-a', 'S-A1'],
    ['site-b', 'S-B'],
    ['site-c', 'C-1'],
    [null, 'C-1'],
  ])('asset at %s → %s', (siteId, code) => {
    expect(pickReservationWarehouse(whs, siteId)?.code).toBe(code);
  });
  it('nothing without a site store or central store (vans are not used)', () => {
    expect(pickReservationWarehouse(whs.filter((w) => w.kind === 'van'), 'site-a')).toBeUndefined();
  });
});

describe('purchase orders', () => {
  it.each<[PurchaseOrderStatus, boolean, boolean]>([
    ['draft', false, true],
    ['placed', true, true],
    ['partially_received', true, false],
    ['received', false, false],
    ['cancelled', false, false],
  ])('%s: receive %s, cancel %s', (status, receive, cancel) => {
    expect(canReceive(status)).toBe(receive);
    expect(canCancelPurchaseOrder(status)).toBe(cancel);
  });
  it('status after a receipt', () => {
    expect(statusAfterReceipt([{ quantity: 5, receivedQuantity: 5 }, { quantity: 2, receivedQuantity: 2 }])).toBe('received');
    expect(statusAfterReceipt([{ quantity: 5, receivedQuantity: 5 }, { quantity: 2, receivedQuantity: 0 }])).toBe('partially_received');
    expect(statusAfterReceipt([{ quantity: 5, receivedQuantity: 1 }])).toBe('partially_received');
  });
  it('over-receipt is refused with the figures', () => {
    expect(checkReceipt({ quantity: 10, receivedQuantity: 6 }, 4)).toEqual({ ok: true });
    expect(checkReceipt({ quantity: 10, receivedQuantity: 6 }, 5)).toEqual({ ok: false, message: 'over-receipt: 10 ordered, 6 already received, 5 more would exceed the order by 1' });
    expect(checkReceipt({ quantity: 10, receivedQuantity: 0 }, 0).ok).toBe(false);
  });
  it('receipt reference carries the key', () => {
    expect(receiptReference(12, 'GRN-7')).toBe('PO-12:GRN-7');
    expect(receiptReference(12)).toBe('PO-12');
  });
});
