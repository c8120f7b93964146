/** JSON schemas (TypeBox) shared by the routes: request shapes, response shapes, the error body. */
import { Type, type TSchema } from 'typebox';

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'machine-readable error kind, e.g. validation, not_found, conflict, illegal_transition' }),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  },
  { $id: 'ErrorBody' },
);

export const errorResponses = {
  400: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  500: ErrorBody,
};

export const Uuid = Type.String({ format: 'uuid' });
export const IdParams = Type.Object({ id: Uuid });
export const Code = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'letters, digits, _ . - (used in MQTT topics)' });
export const DateOnly = Type.String({ format: 'date', description: 'YYYY-MM-DD' });
/** Request side: an ISO-8601 string. */
export const Timestamp = Type.String({ format: 'date-time' });
/** Response side: a Date, serialised as ISO-8601. */
export const TimestampOut = Type.Unsafe<Date>({ type: 'string', format: 'date-time' });
export const Nullable = <T extends TSchema>(s: T, options?: { description?: string }) => Type.Union([s, Type.Null()], options);

export const Paging = {
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  offset: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 }),
};

export const Page = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() });

export const SiteSchema = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  address: Nullable(Type.String()),
  createdAt: TimestampOut,
  updatedAt: TimestampOut,
});

export const ASSET_STATUS = Type.Union([Type.Literal('procured'), Type.Literal('installed'), Type.Literal('in_service'), Type.Literal('under_repair'), Type.Literal('retired')]);
/** Statuses a new asset may start in; see maintenance/asset-lifecycle.ts for the transitions. */
export const ASSET_INITIAL_STATUS = Type.Union([Type.Literal('procured'), Type.Literal('installed'), Type.Literal('in_service')], { description: 'a new asset starts as procured, installed or in_service (default)' });
export const ASSET_CRITICALITY = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('critical')]);
export const AREA_KIND = Type.Union([Type.Literal('area'), Type.Literal('line')], { description: 'area (hall, floor, zone) or production line' });

const OpenDowntimeSchema = Type.Object({ id: Uuid, reason: Type.String(), startedAt: TimestampOut, workOrderId: Nullable(Uuid) });

export const AssetSchema = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  type: Type.String(),
  brand: Nullable(Type.String()),
  model: Nullable(Type.String()),
  serial: Nullable(Type.String()),
  siteId: Uuid,
  siteCode: Type.String(),
  areaId: Nullable(Uuid),
  areaCode: Nullable(Type.String()),
  parentId: Nullable(Uuid),
  criticality: ASSET_CRITICALITY,
  supplier: Nullable(Type.String()),
  purchaseCost: Nullable(Type.Number()),
  purchaseDate: Nullable(Type.String()),
  commissionedAt: Nullable(Type.String({ description: 'commissioning date (YYYY-MM-DD)' })),
  installDate: Nullable(Type.String()),
  warrantyEnd: Nullable(Type.String()),
  retiredAt: Nullable(TimestampOut),
  specs: Type.Unknown({ description: 'technical specifications (JSON object)' }),
  status: ASSET_STATUS,
  allowedStatusTransitions: Type.Array(ASSET_STATUS, { description: 'statuses POST /assets/{id}/status accepts next' }),
  lastSeenAt: Nullable(TimestampOut),
  createdAt: TimestampOut,
  updatedAt: TimestampOut,
  meters: Type.Optional(Type.Array(Type.Object({ name: Type.String(), value: Type.Number(), unit: Nullable(Type.String()), readAt: TimestampOut }))),
  openDowntime: Type.Optional(Nullable(OpenDowntimeSchema)),
});

const assetFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  type: Type.String({ minLength: 1, maxLength: 64 }),
  brand: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  model: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  serial: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  siteId: Uuid,
  areaId: Type.Optional(Nullable(Uuid, { description: 'an area or line of the asset\'s site' })),
  parentId: Type.Optional(Nullable(Uuid, { description: 'the asset this one is a component of' })),
  criticality: Type.Optional(ASSET_CRITICALITY),
  supplier: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  purchaseCost: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 999_999_999_999.99 }))),
  purchaseDate: Type.Optional(Nullable(DateOnly)),
  commissionedAt: Type.Optional(Nullable(DateOnly)),
  installDate: Type.Optional(Nullable(DateOnly)),
  warrantyEnd: Type.Optional(Nullable(DateOnly)),
  specs: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'technical specifications; an update replaces the whole object' })),
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'who makes the change (recorded in the asset history)' })),
};

export const AssetBody = Type.Object(
  {
    code: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$',
        description: 'ASSET_CODE_MODE=enforce: optional, generated from the convention (default {type}-{brand}-{model}-{serial}); when given it must equal it (case-insensitive). generate: optional. off: required, free.',
      }),
    ),
    ...assetFields,
    status: Type.Optional(ASSET_INITIAL_STATUS),
  },
  { additionalProperties: false },
);

export const AssetPatchBody = Type.Partial(Type.Object({ code: Code, ...assetFields, status: ASSET_STATUS }), { additionalProperties: false });

export const AssetStatusBody = Type.Object(
  {
    status: ASSET_STATUS,
    note: Type.Optional(Type.String({ maxLength: 2000 })),
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    workOrderId: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

export const AreaSchema = Type.Object({
  id: Uuid,
  siteId: Uuid,
  parentId: Nullable(Uuid),
  code: Type.String(),
  name: Type.String(),
  kind: AREA_KIND,
  createdAt: TimestampOut,
  path: Type.Optional(Type.String({ description: 'codes from the top area, e.g. HALL-A/LINE-1' })),
  depth: Type.Optional(Type.Integer()),
  assetCount: Type.Optional(Type.Integer()),
});
export const AreaBody = Type.Object(
  { code: Code, name: Type.String({ minLength: 1, maxLength: 200 }), kind: Type.Optional(AREA_KIND), parentId: Type.Optional(Uuid) },
  { additionalProperties: false },
);

export const DowntimeSchema = Type.Object({
  id: Uuid,
  assetId: Uuid,
  workOrderId: Nullable(Uuid),
  reason: Type.String(),
  startedAt: TimestampOut,
  endedAt: Nullable(TimestampOut),
  open: Type.Optional(Type.Boolean()),
  hours: Type.Optional(Type.Number({ description: 'whole period (open: up to now)' })),
  hoursInWindow: Type.Optional(Type.Number({ description: 'part inside the queried window' })),
});
export const DowntimeReportSchema = Type.Object({
  from: TimestampOut,
  to: TimestampOut,
  downtimeHours: Type.Number({ description: 'periods clipped to [from, to]; open ones count up to now; overlaps once' }),
  availabilityPct: Nullable(Type.Number({ description: 'share of the window the asset was up; the window ends at now at the latest' })),
  items: Type.Array(DowntimeSchema),
});

export const TimelineEntrySchema = Type.Object({
  at: TimestampOut,
  source: Type.Union([Type.Literal('asset'), Type.Literal('work_order'), Type.Literal('alarm'), Type.Literal('downtime')]),
  type: Type.String({ description: 'asset: event kind; work_order: requested|completed|closed|cancelled; alarm: raised|cleared; downtime' }),
  summary: Type.String(),
  refId: Uuid,
  details: Type.Unknown(),
});
export const AssetHistorySchema = Type.Object({
  items: Type.Array(TimelineEntrySchema),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
  summary: Type.Object({
    ordersByStatus: Type.Record(Type.String(), Type.Integer()),
    workOrders: Type.Integer(),
    alarms: Type.Integer(),
    downtimePeriods: Type.Integer(),
    totalDowntimeHours: Type.Number(),
    down: Type.Boolean({ description: 'a downtime is open now' }),
    lastMaintenanceAt: Nullable(TimestampOut, { description: 'latest work-order completion' }),
  }),
});

export const AssetTreeSchema = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  type: Type.String(),
  status: ASSET_STATUS,
  criticality: ASSET_CRITICALITY,
  areaId: Nullable(Uuid),
  truncated: Type.Boolean({ description: 'has components below the requested depth' }),
  children: Type.Array(Type.Unknown({ description: 'components, same shape (recursive)' })),
});

export const PRIORITY = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('urgent')]);
/** `open` is the "new" state; see maintenance/work-order-state.ts for the allowed transitions. */
export const WO_STATUS = Type.Union([
  Type.Literal('open'),
  Type.Literal('assigned'),
  Type.Literal('accepted'),
  Type.Literal('en_route'),
  Type.Literal('in_progress'),
  Type.Literal('on_hold'),
  Type.Literal('completed'),
  Type.Literal('verified'),
  Type.Literal('closed'),
  Type.Literal('cancelled'),
]);
export const HOLD_REASON = Type.Union([Type.Literal('waiting_parts'), Type.Literal('waiting_customer'), Type.Literal('other')]);
export const WO_SOURCE = Type.Union([Type.Literal('manual'), Type.Literal('rule'), Type.Literal('pm'), Type.Literal('customer'), Type.Literal('followup')]);
export const WO_CHANNEL = Type.Union(
  [Type.Literal('api'), Type.Literal('portal'), Type.Literal('phone'), Type.Literal('email'), Type.Literal('iot'), Type.Literal('schedule'), Type.Literal('internal')],
  { description: 'how the request reached us' },
);
export const SEVERITY = Type.Union([Type.Literal('critical'), Type.Literal('major'), Type.Literal('minor'), Type.Literal('warning')]);

export const WorkOrderSchema = Type.Object({
  id: Uuid,
  number: Type.Integer(),
  title: Type.String(),
  description: Nullable(Type.String()),
  source: WO_SOURCE,
  channel: WO_CHANNEL,
  requestedBy: Nullable(Type.String()),
  priority: PRIORITY,
  severity: Nullable(SEVERITY),
  status: WO_STATUS,
  assetId: Uuid,
  assetCode: Type.String(),
  ruleId: Nullable(Uuid),
  pmPlanId: Nullable(Uuid),
  customerId: Nullable(Uuid),
  contractId: Nullable(Uuid),
  projectId: Nullable(Uuid),
  parentWorkOrderId: Nullable(Uuid, { description: 'the order this one follows up (e.g. low-CSAT escalation)' }),
  requiredSkills: Type.Array(Type.String()),
  estimatedHours: Nullable(Type.Number()),
  faultCode: Nullable(Type.String({ description: 'code from the fault-code library (GET /fault-codes)' })),
  rootCause: Nullable(Type.String()),
  resolution: Nullable(Type.String()),
  dedupeKey: Nullable(Type.String()),
  reason: Type.Unknown({ description: 'for rule/PM orders: rule id + version, inputs, statistic, threshold, summary' }),
  assigneeId: Nullable(Uuid),
  completionMeter: Nullable(Type.Number()),
  closedWithActiveAlarm: Type.Boolean({ description: 'completed/closed while a linked alarm was still active' }),
  requestedAt: TimestampOut,
  assignedAt: Nullable(TimestampOut),
  startedAt: Nullable(TimestampOut),
  completedAt: Nullable(TimestampOut),
  closedAt: Nullable(TimestampOut),
  cancelledAt: Nullable(TimestampOut),
  acceptedAt: Nullable(TimestampOut),
  enRouteAt: Nullable(TimestampOut),
  onHoldAt: Nullable(TimestampOut, { description: 'latest time the order went on hold' }),
  holdReason: Nullable(HOLD_REASON, { description: 'reason of the latest hold' }),
  verifiedAt: Nullable(TimestampOut),
  responseDueAt: Nullable(TimestampOut, { description: 'SLA: accept or start by then (requestedAt + response target for the priority)' }),
  resolutionDueAt: Nullable(TimestampOut, { description: 'SLA: complete by then; pushed back by time on hold waiting for the customer' }),
  respondedAt: Nullable(TimestampOut, { description: 'first transition to accepted or in_progress' }),
  responseBreached: Type.Boolean(),
  resolutionBreached: Type.Boolean(),
  pausedMs: Type.Number({ description: 'time spent on hold waiting for the customer (not counted against resolution)' }),
  createdAt: TimestampOut,
  updatedAt: TimestampOut,
  allowedTransitions: Type.Array(WO_STATUS),
  events: Type.Optional(
    Type.Array(Type.Object({ fromStatus: Nullable(WO_STATUS), toStatus: WO_STATUS, note: Nullable(Type.String()), actor: Nullable(Type.String()), at: TimestampOut })),
  ),
  alarms: Type.Optional(
    Type.Array(Type.Object({ id: Uuid, code: Type.String(), severity: Type.String(), status: Type.String(), raisedAt: TimestampOut, clearedAt: Nullable(TimestampOut) })),
  ),
});

/** Kinds a rule can be created with. */
export const RULE_KIND = Type.Union([
  Type.Literal('threshold'),
  Type.Literal('usage'),
  Type.Literal('alarm'),
  Type.Literal('calendar'),
  Type.Literal('trend'),
  Type.Literal('anomaly'),
  Type.Literal('composite'),
]);
/** Every kind the database knows (responses); today the same as the kinds that can be created. */
export const RULE_KIND_STORED = RULE_KIND;

export const RuleSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: RULE_KIND_STORED,
  assetId: Nullable(Uuid),
  assetType: Nullable(Type.String()),
  enabled: Type.Boolean(),
  definition: Type.Unknown(),
  version: Type.Integer(),
  createdAt: TimestampOut,
  updatedAt: TimestampOut,
});

export const RuleBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    kind: RULE_KIND,
    assetId: Type.Optional(Nullable(Uuid)),
    assetType: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
    enabled: Type.Optional(Type.Boolean()),
    definition: Type.Record(Type.String(), Type.Unknown(), {
      description:
        'threshold: {metric, operator, value, holdSeconds?, hysteresis?, consecutive?, severity, priority, title?}; ' +
        'usage: {metric, every, startAt?, tolerance?, interval?: floating|fixed, rollover?, calendar?: {every, unit}, priority, title?}; ' +
        'calendar: {every, unit: day|week|month, anchor?, leadDays?, interval?: fixed|floating, priority, title?}; ' +
        'alarm: {mappings: [{deviceCodes, faultCode, severity, createWorkOrder?, workOrder: {title, priority, description?}}]}; ' +
        'trend: {metric, windowSeconds, minPoints, threshold, direction: rising|falling, leadTimeSeconds, minR2?, severity, priority, title?}; ' +
        'anomaly: {metric, method: robust_z|ewma, windowSize, minPoints, zThreshold?, ewmaAlpha?, ewmaK?, consecutive?, minSigma?, severity, priority, title?}; ' +
        'composite: {combine: and|or, conditions: [{metric, operator, value}], holdSeconds?, maxAgeSeconds?, severity, priority, title?}',
    }),
  },
  { additionalProperties: false },
);

export const AlarmSchema = Type.Object({
  id: Uuid,
  assetId: Uuid,
  assetCode: Type.String(),
  ruleId: Nullable(Uuid),
  source: Type.String(),
  code: Type.String(),
  severity: Type.String(),
  status: Type.String(),
  message: Nullable(Type.String()),
  details: Type.Unknown(),
  raisedAt: TimestampOut,
  clearedAt: Nullable(TimestampOut),
  acknowledgedAt: Nullable(TimestampOut),
  acknowledgedBy: Nullable(Type.String()),
  workOrderId: Nullable(Uuid),
});

// ── Parts inventory ─────────────────────────────────────────────────────────────────────────────
export const WAREHOUSE_KIND = Type.Union([Type.Literal('site'), Type.Literal('central'), Type.Literal('van')], { description: 'van = an engineer\'s van stock' });
export const MOVEMENT_KIND = Type.Union([Type.Literal('receipt'), Type.Literal('issue'), Type.Literal('transfer'), Type.Literal('adjustment'), Type.Literal('return')]);
export const LEDGER_KIND = Type.Union([
  Type.Literal('receipt'),
  Type.Literal('issue'),
  Type.Literal('transfer_out'),
  Type.Literal('transfer_in'),
  Type.Literal('adjustment'),
  Type.Literal('return'),
]);
export const PR_STATUS = Type.Union([Type.Literal('open'), Type.Literal('ordered'), Type.Literal('received'), Type.Literal('cancelled')]);

export const PartSchema = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  unit: Type.String(),
  unitCost: Nullable(Type.Number()),
  safetyStock: Type.Integer(),
  reorderQuantity: Type.Integer(),
  createdAt: TimestampOut,
});

export const PartBody = Type.Object(
  {
    code: Code,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    unit: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
    unitCost: Type.Optional(Type.Number({ minimum: 0, maximum: 9_999_999_999 })),
    safetyStock: Type.Optional(Type.Integer({ minimum: 0, description: 'a purchase request is raised when a warehouse balance falls to or below this (0 = never)' })),
    reorderQuantity: Type.Optional(Type.Integer({ minimum: 0, description: 'quantity requested; 0 = top up to 2 × safetyStock' })),
  },
  { additionalProperties: false },
);

export const WarehouseSchema = Type.Object({ id: Uuid, code: Type.String(), name: Type.String(), kind: WAREHOUSE_KIND, siteId: Nullable(Type.String()) });

export const WarehouseBody = Type.Object(
  { code: Code, name: Type.String({ minLength: 1, maxLength: 200 }), kind: Type.Optional(WAREHOUSE_KIND), siteId: Type.Optional(Uuid) },
  { additionalProperties: false },
);

export const MovementBody = Type.Object(
  {
    kind: MOVEMENT_KIND,
    partId: Uuid,
    warehouseId: Uuid,
    quantity: Type.Integer({ minimum: -1_000_000_000, maximum: 1_000_000_000, description: 'positive; for an adjustment a signed, non-zero delta' }),
    toWarehouseId: Type.Optional(Uuid),
    workOrderId: Type.Optional(Uuid),
    reference: Type.Optional(Type.String({ maxLength: 200 })),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
    actor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const MovementSchema = Type.Object({
  id: Uuid,
  seq: Type.Integer(),
  partId: Uuid,
  warehouseId: Uuid,
  kind: LEDGER_KIND,
  quantity: Type.Integer({ description: 'signed delta' }),
  balanceAfter: Type.Integer(),
  transferId: Nullable(Type.String()),
  workOrderId: Nullable(Type.String()),
  reference: Nullable(Type.String()),
  note: Nullable(Type.String()),
  actor: Nullable(Type.String()),
  at: TimestampOut,
});

export const StockSchema = Type.Object({
  partId: Uuid,
  partCode: Type.String(),
  warehouseId: Uuid,
  warehouseCode: Type.String(),
  warehouseKind: WAREHOUSE_KIND,
  quantity: Type.Integer(),
  belowSafetyStock: Type.Boolean(),
  updatedAt: TimestampOut,
});

export const PurchaseRequestSchema = Type.Object({
  id: Uuid,
  number: Type.Integer(),
  partId: Uuid,
  partCode: Type.String(),
  warehouseId: Uuid,
  warehouseCode: Type.String(),
  quantity: Type.Integer(),
  status: PR_STATUS,
  reason: Type.Unknown(),
  createdAt: TimestampOut,
  orderedAt: Nullable(TimestampOut),
  receivedAt: Nullable(TimestampOut),
  cancelledAt: Nullable(TimestampOut),
});
