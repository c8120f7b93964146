/** Shapes returned by the API, mapped from service results (dates stay Date; Fastify serialises them). */
import { allowedTransitions, type WorkOrderStatus } from '../maintenance/work-order-state.ts';
import { allowedAssetTransitions, type AssetStatus } from '../maintenance/asset-lifecycle.ts';

const dateOnly = (d: Date | null): string | null => (d ? d.toISOString().slice(0, 10) : null);

export function assetView<
  T extends {
    site: { code: string };
    area: { code: string } | null;
    status: string;
    purchaseCost: { toNumber(): number } | null;
    purchaseDate: Date | null;
    commissionedAt: Date | null;
    installDate: Date | null;
    warrantyEnd: Date | null;
  },
>(a: T) {
  const { site, area, ...rest } = a;
  return {
    ...rest,
    siteCode: site.code,
    areaCode: area?.code ?? null,
    purchaseCost: a.purchaseCost ? a.purchaseCost.toNumber() : null,
    purchaseDate: dateOnly(a.purchaseDate),
    commissionedAt: dateOnly(a.commissionedAt),
    installDate: dateOnly(a.installDate),
    warrantyEnd: dateOnly(a.warrantyEnd),
    allowedStatusTransitions: [...allowedAssetTransitions(a.status as AssetStatus)],
  };
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

export function purchaseRequestView<T extends { part: { code: string }; warehouse: { code: string }; purchaseOrderLine?: { purchaseOrderId: string } | null }>(pr: T) {
  const { part, warehouse, purchaseOrderLine, ...rest } = pr;
  return { ...rest, partCode: part.code, warehouseCode: warehouse.code, purchaseOrderId: purchaseOrderLine?.purchaseOrderId ?? null };
}
