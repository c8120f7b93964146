import { describe, expect, it } from 'vitest';
import { checkPurchaseRequestTransition, isOpenPurchaseRequest, movementDelta, purchaseRequestOpenKey, reorderNeed } from '../../maintenance/inventory-rules.ts';

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
