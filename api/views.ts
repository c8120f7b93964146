/** Shapes returned by the API, mapped from service results (dates stay Date; Fastify serialises them). */
import { allowedTransitions, type WorkOrderStatus } from '../maintenance/work-order-state.ts';

const dateOnly = (d: Date | null): string | null => (d ? d.toISOString().slice(0, 10) : null);

export function assetView<T extends { site: { code: string }; installDate: Date | null; warrantyEnd: Date | null }>(a: T) {
  const { site, ...rest } = a;
  return { ...rest, siteCode: site.code, installDate: dateOnly(a.installDate), warrantyEnd: dateOnly(a.warrantyEnd) };
}

export function workOrderView<T extends { asset: { code: string }; status: string }>(w: T) {
  const { asset, ...rest } = w;
  return { ...rest, assetCode: asset.code, allowedTransitions: [...allowedTransitions(w.status as WorkOrderStatus)] };
}

export function alarmView<T extends { asset: { code: string } }>(a: T) {
  const { asset, ...rest } = a;
  return { ...rest, assetCode: asset.code };
}

export function partView<T extends { unitCost: { toNumber(): number } | null }>(p: T) {
  return { ...p, unitCost: p.unitCost ? p.unitCost.toNumber() : null };
}

export function purchaseRequestView<T extends { part: { code: string }; warehouse: { code: string } }>(pr: T) {
  const { part, warehouse, ...rest } = pr;
  return { ...rest, partCode: part.code, warehouseCode: warehouse.code };
}
