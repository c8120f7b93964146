/** JSON schemas (TypeBox) of the inventory, work-order parts, purchasing and stock-report routes. */
import { Type } from 'typebox';
import { Code, LEDGER_KIND, Nullable, PR_STATUS, Timestamp, TimestampOut, Uuid, WAREHOUSE_KIND } from '../schemas.ts';

const Qty = (description?: string) => Type.Integer({ minimum: 1, maximum: 1_000_000_000, ...(description ? { description } : {}) });
const Money = (description?: string) => Type.Number({ minimum: 0, maximum: 9_999_999_999, ...(description ? { description } : {}) });
const Actor = Type.Optional(Type.String({ maxLength: 200 }));
const Note = Type.Optional(Type.String({ maxLength: 2000 }));

// ── Catalogue, warehouses, movements, balances ──────────────────────────────────────────────────

export const PartOut = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  unit: Type.String(),
  unitCost: Nullable(Type.Number(), { description: 'standard cost: used to value stock and to cost issues' }),
  safetyStock: Type.Integer(),
  reorderQuantity: Type.Integer(),
  supplier: Nullable(Type.String()),
  leadTimeDays: Nullable(Type.Integer()),
  createdAt: TimestampOut,
});

export const PartIn = Type.Object(
  {
    code: Code,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    unit: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
    unitCost: Type.Optional(Money()),
    safetyStock: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'a purchase request is raised when a warehouse balance falls to or below this (0 = never)' })),
    reorderQuantity: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'quantity requested; 0 = top up to 2 × safetyStock' })),
    supplier: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'usual supplier: POST /purchase-orders/from-requests {supplier} groups its parts\' requests' })),
    leadTimeDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })),
  },
  { additionalProperties: false },
);

export const WarehouseOut = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  kind: WAREHOUSE_KIND,
  siteId: Nullable(Type.String()),
  engineerId: Nullable(Type.String({ description: 'the engineer whose van this is' })),
});

export const WarehouseIn = Type.Object(
  {
    code: Code,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    kind: Type.Optional(WAREHOUSE_KIND),
    siteId: Type.Optional(Uuid),
    engineerId: Type.Optional(Type.String({ format: 'uuid', description: 'only for vans: the engineer whose van this is' })),
  },
  { additionalProperties: false },
);

export const MovementOut = Type.Object({
  id: Uuid,
  seq: Type.Integer(),
  partId: Uuid,
  warehouseId: Uuid,
  kind: LEDGER_KIND,
  quantity: Type.Integer({ description: 'signed delta' }),
  balanceAfter: Type.Integer(),
  unitCost: Nullable(Type.Number(), { description: 'unit cost at the time (part\'s cost, or the PO line\'s price for PO receipts)' }),
  transferId: Nullable(Type.String()),
  workOrderId: Nullable(Type.String()),
  reference: Nullable(Type.String()),
  note: Nullable(Type.String()),
  actor: Nullable(Type.String()),
  at: TimestampOut,
});

export const MovementsOut = Type.Object({ movements: Type.Array(MovementOut), purchaseRequested: Type.Boolean() });

export const StockOut = Type.Object({
  partId: Uuid,
  partCode: Type.String(),
  warehouseId: Uuid,
  warehouseCode: Type.String(),
  warehouseKind: WAREHOUSE_KIND,
  quantity: Type.Integer({ description: 'on hand' }),
  reserved: Type.Integer({ description: 'held for work orders' }),
  available: Type.Integer({ description: 'quantity − reserved: what can be issued, transferred or reserved' }),
  belowSafetyStock: Type.Boolean(),
  updatedAt: TimestampOut,
});

export const PurchaseRequestOut = Type.Object({
  id: Uuid,
  number: Type.Integer(),
  partId: Uuid,
  partCode: Type.String(),
  warehouseId: Uuid,
  warehouseCode: Type.String(),
  quantity: Type.Integer(),
  status: PR_STATUS,
  reason: Type.Unknown(),
  purchaseOrderId: Nullable(Uuid, { description: 'the purchase order it is on, if any' }),
  createdAt: TimestampOut,
  orderedAt: Nullable(TimestampOut),
  receivedAt: Nullable(TimestampOut),
  cancelledAt: Nullable(TimestampOut),
});

// ── Work-order parts ────────────────────────────────────────────────────────────────────────────

export const RESERVATION_STATUS = Type.Union([Type.Literal('reserved'), Type.Literal('consumed'), Type.Literal('released')]);

export const PartLineIn = Type.Object({ partId: Uuid, warehouseId: Uuid, quantity: Qty(), actor: Actor, note: Note }, { additionalProperties: false });

export const ReservationIn = Type.Object({ partId: Uuid, warehouseId: Uuid, quantity: Qty() }, { additionalProperties: false });

export const ReservationOut = Type.Object({
  id: Uuid,
  workOrderId: Uuid,
  partId: Uuid,
  partCode: Type.String(),
  partName: Type.String(),
  warehouseId: Uuid,
  warehouseCode: Type.String(),
  quantity: Type.Integer({ description: 'reserved' }),
  usedQuantity: Type.Integer({ description: 'reserved: what completion will issue (default all); consumed: what was issued; released: 0' }),
  status: RESERVATION_STATUS,
  createdAt: TimestampOut,
  closedAt: Nullable(TimestampOut),
});

export const ReservationParams = Type.Object({ id: Uuid, reservationId: Uuid });

export const WorkOrderPartsOut = Type.Object({
  items: Type.Array(
    Type.Object({
      partId: Uuid,
      partCode: Type.String(),
      partName: Type.String(),
      unit: Type.String(),
      issued: Type.Integer(),
      returned: Type.Integer(),
      quantity: Type.Integer({ description: 'issued − returned' }),
      unitCost: Nullable(Type.Number(), { description: 'value / quantity; null when nothing consumed or a movement had no cost' }),
      value: Type.Number(),
    }),
  ),
  totalValue: Type.Number(),
});

// ── Purchasing ──────────────────────────────────────────────────────────────────────────────────

export const PO_STATUS = Type.Union([Type.Literal('draft'), Type.Literal('placed'), Type.Literal('partially_received'), Type.Literal('received'), Type.Literal('cancelled')]);

export const PurchaseOrderIn = Type.Object(
  {
    supplier: Type.String({ minLength: 1, maxLength: 200 }),
    note: Note,
    lines: Type.Array(
      Type.Object(
        {
          partId: Uuid,
          warehouseId: Uuid,
          quantity: Qty(),
          unitPrice: Type.Optional(Money('default: the part\'s unit cost')),
          purchaseRequestId: Type.Optional(Type.String({ format: 'uuid', description: 'an open request of the same part + warehouse (on one line only)' })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 500 },
    ),
  },
  { additionalProperties: false },
);

export const FromRequestsIn = Type.Object(
  {
    purchaseRequestIds: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 500 })),
    supplier: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'without ids: all open requests of this supplier\'s parts; with ids: the order\'s supplier' })),
    note: Note,
  },
  { additionalProperties: false },
);

export const ReceiptIn = Type.Object(
  {
    lines: Type.Array(Type.Object({ lineId: Uuid, quantity: Qty() }, { additionalProperties: false }), { minItems: 1, maxItems: 500 }),
    receiptKey: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'idempotency key: a retried receipt with the same key is a no-op' })),
    actor: Actor,
    note: Note,
  },
  { additionalProperties: false },
);

export const PurchaseOrderOut = Type.Object({
  id: Uuid,
  number: Type.Integer(),
  supplier: Type.String(),
  status: PO_STATUS,
  note: Nullable(Type.String()),
  createdAt: TimestampOut,
  placedAt: Nullable(TimestampOut),
  receivedAt: Nullable(TimestampOut),
  totalValue: Type.Number({ description: 'Σ quantity × unit price' }),
  lines: Type.Array(
    Type.Object({
      id: Uuid,
      partId: Uuid,
      partCode: Type.String(),
      partName: Type.String(),
      warehouseId: Uuid,
      warehouseCode: Type.String(),
      quantity: Type.Integer(),
      receivedQuantity: Type.Integer(),
      openQuantity: Type.Integer(),
      unitPrice: Nullable(Type.Number()),
      purchaseRequestId: Nullable(Uuid),
      purchaseRequestNumber: Nullable(Type.Integer()),
    }),
  ),
});

export const ReceiptOut = Type.Object({
  purchaseOrder: PurchaseOrderOut,
  movements: Type.Array(MovementOut),
  duplicate: Type.Boolean({ description: 'true: this receiptKey was already posted; nothing changed' }),
});

// ── Reports ─────────────────────────────────────────────────────────────────────────────────────

export const WindowQuery = Type.Object({ from: Timestamp, to: Timestamp, warehouseId: Type.Optional(Uuid) });

export const ValuationOut = Type.Object({
  method: Type.Union([Type.Literal('standard'), Type.Literal('average')], { description: 'standard = part\'s unit cost; average = weighted average of priced receipts' }),
  items: Type.Array(
    Type.Object({
      partId: Uuid,
      partCode: Type.String(),
      partName: Type.String(),
      warehouseId: Uuid,
      warehouseCode: Type.String(),
      quantity: Type.Integer(),
      unitCost: Nullable(Type.Number()),
      value: Type.Number(),
    }),
  ),
  byWarehouse: Type.Array(Type.Object({ warehouseId: Uuid, warehouseCode: Type.String(), quantity: Type.Integer(), value: Type.Number() })),
  totalQuantity: Type.Integer(),
  totalValue: Type.Number(),
  unpriced: Type.Integer({ description: 'rows with stock but no unit cost (valued at 0)' }),
});

export const TurnoverOut = Type.Object({
  from: TimestampOut,
  to: TimestampOut,
  items: Type.Array(
    Type.Object({
      partId: Uuid,
      partCode: Type.String(),
      partName: Type.String(),
      issued: Type.Integer(),
      returned: Type.Integer(),
      consumed: Type.Integer({ description: 'issued − returned' }),
      averageOnHand: Type.Number({ description: 'time-weighted from the ledger\'s balanceAfter, summed over warehouses' }),
      turnover: Nullable(Type.Number({ description: 'consumed / averageOnHand' })),
      daysOfSupply: Nullable(Type.Number({ description: 'averageOnHand / consumption per day' })),
    }),
  ),
});

export const SlowMovingOut = Type.Object({
  days: Type.Integer(),
  asOf: TimestampOut,
  items: Type.Array(
    Type.Object({
      partId: Uuid,
      partCode: Type.String(),
      partName: Type.String(),
      quantity: Type.Integer(),
      unitCost: Nullable(Type.Number()),
      value: Type.Number(),
      lastIssueAt: Nullable(TimestampOut),
      daysSinceLastIssue: Nullable(Type.Integer()),
    }),
  ),
  totalValue: Type.Number(),
});

export const StockOutsOut = Type.Object({
  from: TimestampOut,
  to: TimestampOut,
  items: Type.Array(
    Type.Object({
      partId: Uuid,
      partCode: Type.String(),
      partName: Type.String(),
      stockOuts: Type.Integer({ description: 'times a balance fell to 0 (movements taking it from > 0 to 0)' }),
      lastStockOutAt: Nullable(TimestampOut),
      warehouses: Type.Array(Type.Object({ warehouseId: Uuid, stockOuts: Type.Integer() })),
    }),
  ),
});
