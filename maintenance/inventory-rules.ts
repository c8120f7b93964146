/**
 * Pure rules of the parts inventory: the signed delta of a movement, the purchase-request
 * lifecycle, and when / how much to reorder. No I/O; `inventory.ts` does the database work.
 */

export type MovementKind = 'receipt' | 'issue' | 'transfer' | 'adjustment' | 'return';
export type LedgerKind = 'receipt' | 'issue' | 'transfer_out' | 'transfer_in' | 'adjustment' | 'return';
export type PurchaseRequestStatus = 'open' | 'ordered' | 'received' | 'cancelled';

/**
 * Signed balance change of a movement in its (source) warehouse. Receipts, returns and transfers
 * take a positive quantity; an adjustment takes a signed, non-zero delta (a stock-count correction).
 */
export function movementDelta(kind: MovementKind, quantity: number): { ok: true; delta: number } | { ok: false; message: string } {
  if (!Number.isSafeInteger(quantity)) return { ok: false, message: 'quantity must be an integer' };
  if (kind === 'adjustment') {
    return quantity === 0 ? { ok: false, message: 'an adjustment needs a non-zero quantity (signed delta)' } : { ok: true, delta: quantity };
  }
  if (quantity <= 0) return { ok: false, message: `a ${kind} needs a positive quantity` };
  return { ok: true, delta: kind === 'issue' || kind === 'transfer' ? -quantity : quantity };
}

const TRANSITIONS: Record<PurchaseRequestStatus, readonly PurchaseRequestStatus[]> = {
  open: ['ordered', 'cancelled'],
  ordered: ['received', 'cancelled'],
  received: [],
  cancelled: [],
};

export function checkPurchaseRequestTransition(from: PurchaseRequestStatus, to: PurchaseRequestStatus): { ok: true } | { ok: false; message: string } {
  if (TRANSITIONS[from].includes(to)) return { ok: true };
  const allowed = TRANSITIONS[from];
  return { ok: false, message: `purchase request cannot go from ${from} to ${to}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ` (${from} is final)`}` };
}

/** Open and ordered requests hold the open key (one per part + warehouse); final ones release it. */
export const isOpenPurchaseRequest = (status: PurchaseRequestStatus): boolean => status === 'open' || status === 'ordered';

export const purchaseRequestOpenKey = (partId: string, warehouseId: string): string => `pr:${partId}:${warehouseId}`;

/**
 * Whether a balance that just went down needs a purchase request, and for how much: at or below
 * the part's safety stock (0 = no automatic requests) → `reorderQuantity`, or when that is 0,
 * enough to bring the balance to twice the safety stock.
 */
export function reorderNeed(part: { safetyStock: number; reorderQuantity: number }, balance: number): number | undefined {
  if (part.safetyStock <= 0 || balance > part.safetyStock) return undefined;
  if (part.reorderQuantity > 0) return part.reorderQuantity;
  return Math.max(1, part.safetyStock * 2 - balance);
}
