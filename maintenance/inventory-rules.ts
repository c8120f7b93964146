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

// ── Availability and reservations ───────────────────────────────────────────────────────────────

/** What can still be issued, transferred or reserved: on hand minus what work orders hold. */
export const availableQuantity = (s: { quantity: number; reserved: number }): number => s.quantity - s.reserved;

/** The 409 message when a movement would take stock that is not available (missing or reserved). */
export function shortageMessage(s: { quantity: number; reserved: number }, requested: number): string {
  return `insufficient stock: ${availableQuantity(s)} available (${s.quantity} on hand, ${s.reserved} reserved), ${requested} requested`;
}

/** The 409 message when a reservation does not fit in the available stock. */
export function reservationShortageMessage(s: { quantity: number; reserved: number }, requested: number): string {
  return `insufficient available stock: ${availableQuantity(s)} available (${s.quantity} on hand, ${s.reserved} reserved), ${requested} requested`;
}

export function checkQuantity(quantity: number, what: string): { ok: true } | { ok: false; message: string } {
  if (!Number.isSafeInteger(quantity) || quantity <= 0) return { ok: false, message: `${what} must be a positive integer` };
  return { ok: true };
}

/** The quantity a reservation will actually use (0 … reserved). */
export function checkUsedQuantity(reserved: number, used: number): { ok: true } | { ok: false; message: string } {
  if (!Number.isSafeInteger(used) || used < 0) return { ok: false, message: 'usedQuantity must be a non-negative integer' };
  if (used > reserved) return { ok: false, message: `usedQuantity ${used} exceeds the reserved quantity ${reserved}` };
  return { ok: true };
}

/** Work orders that can still take reservations (before completion). */
export const canReserveFor = (status: string): boolean => !['completed', 'verified', 'closed', 'cancelled'].includes(status);
/** Work orders on which parts can still be recorded as used or returned (completed ones included). */
export const canRecordPartsFor = (status: string): boolean => status !== 'closed' && status !== 'cancelled';

/**
 * At completion a reservation is issued for what is used and the rest released: the balance goes
 * down by `issue`, the reserved quantity by the whole reservation.
 */
export function consumption(r: { quantity: number; usedQuantity: number }): { issue: number; release: number } {
  const issue = Math.min(Math.max(r.usedQuantity, 0), r.quantity);
  return { issue, release: r.quantity - issue };
}

/**
 * Where a PM order's parts are reserved from: a site store at the asset's site, else a central
 * store (lowest code first, so the choice is stable). undefined = nowhere.
 */
export function pickReservationWarehouse<W extends { kind: string; siteId: string | null; code: string }>(warehouses: readonly W[], siteId: string | null): W | undefined {
  const byCode = [...warehouses].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  return (siteId ? byCode.find((w) => w.kind === 'site' && w.siteId === siteId) : undefined) ?? byCode.find((w) => w.kind === 'central');
}

// ── Purchase orders ─────────────────────────────────────────────────────────────────────────────

export type PurchaseOrderStatus = 'draft' | 'placed' | 'partially_received' | 'received' | 'cancelled';

/** Receipts are accepted on placed and partially received orders. */
export const canReceive = (status: PurchaseOrderStatus): boolean => status === 'placed' || status === 'partially_received';

/** Only an order with nothing received yet can be cancelled (draft or placed). */
export const canCancelPurchaseOrder = (status: PurchaseOrderStatus): boolean => status === 'draft' || status === 'placed';

/** Status after a receipt: received when every line is complete, else partially received. */
export function statusAfterReceipt(lines: readonly { quantity: number; receivedQuantity: number }[]): 'received' | 'partially_received' {
  return lines.every((l) => l.receivedQuantity >= l.quantity) ? 'received' : 'partially_received';
}

/** Over-receipt check for one line (the database re-checks it with a conditional update). */
export function checkReceipt(line: { quantity: number; receivedQuantity: number }, quantity: number): { ok: true } | { ok: false; message: string } {
  const q = checkQuantity(quantity, 'a received quantity');
  if (!q.ok) return q;
  const open = line.quantity - line.receivedQuantity;
  if (quantity > open) return { ok: false, message: `over-receipt: ${line.quantity} ordered, ${line.receivedQuantity} already received, ${quantity} more would exceed the order by ${quantity - open}` };
  return { ok: true };
}

/** Reference stored on a receipt movement; with a receipt key it makes a retried receipt recognisable. */
export const receiptReference = (poNumber: number, receiptKey?: string | undefined): string => (receiptKey ? `PO-${poNumber}:${receiptKey}` : `PO-${poNumber}`);
