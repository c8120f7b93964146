/** Response shapes of the inventory, work-order parts and purchasing routes (Decimal → number). */
import type { MovementView } from '../../maintenance/inventory.ts';
import type { PurchaseOrderRow } from '../../maintenance/purchasing.ts';
import type { ReservationRow } from '../../maintenance/reservations.ts';

const num = (d: { toNumber(): number } | null): number | null => (d ? d.toNumber() : null);

export function movementView(m: MovementView) {
  return { ...m, unitCost: num(m.unitCost) };
}

export function movementsView(r: { movements: MovementView[]; purchaseRequested: boolean }) {
  return { movements: r.movements.map(movementView), purchaseRequested: r.purchaseRequested };
}

export function reservationView(r: ReservationRow) {
  const { part, warehouse, consumedQuantity, ...rest } = r;
  return { ...rest, usedQuantity: consumedQuantity, partCode: part.code, partName: part.name, warehouseCode: warehouse.code };
}

export function purchaseOrderView(po: PurchaseOrderRow) {
  const lines = po.lines.map((l) => {
    const { part, warehouse, purchaseRequest, unitPrice, ...rest } = l;
    return {
      ...rest,
      partCode: part.code,
      partName: part.name,
      warehouseCode: warehouse.code,
      unitPrice: num(unitPrice),
      openQuantity: l.quantity - l.receivedQuantity,
      purchaseRequestNumber: purchaseRequest?.number ?? null,
    };
  });
  const cents = lines.reduce((s, l) => s + (l.unitPrice === null ? 0 : l.quantity * Math.round(l.unitPrice * 100)), 0);
  return { ...po, lines, totalValue: cents / 100 };
}
