/** TypeBox schemas of the PM-plan and checklist routes (requests and responses). */
import { Type, type TOptional, type TSchema } from 'typebox';
import { DateOnly, PRIORITY, Timestamp, TimestampOut, Uuid } from '../schemas.ts';

const Nullable = <T extends TSchema>(s: T, options?: { description?: string }) => Type.Union([s, Type.Null()], options);
const optional = <T extends Record<string, TSchema>>(o: T) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof T]: TOptional<T[K]> };

// ── PM plans ──────────────────────────────────────────────────────────────────────────────────
export const PM_TRIGGER = Type.Union([Type.Literal('calendar'), Type.Literal('meter'), Type.Literal('calendar_or_meter')], {
  description: 'calendar needs intervalCount + intervalUnit; meter needs meterName + meterInterval; calendar_or_meter needs both (whichever comes first)',
});
export const INTERVAL_UNIT = Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month'), Type.Literal('year')]);

const Task = Type.Union([
  Type.String({ minLength: 1, maxLength: 300, description: 'a required check item keyed task-<n>' }),
  Type.Object(
    { key: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), label: Type.String({ minLength: 1, maxLength: 300 }), required: Type.Optional(Type.Boolean({ description: 'default true' })) },
    { additionalProperties: false },
  ),
]);

const planFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Nullable(Type.String({ maxLength: 4000 })),
  assetId: Nullable(Uuid, { description: 'the one asset the plan covers (exclusive with assetType)' }),
  assetType: Nullable(Type.String({ minLength: 1, maxLength: 64, description: 'every non-retired asset of this type (exclusive with assetId)' })),
  trigger: PM_TRIGGER,
  intervalCount: Nullable(Type.Integer({ minimum: 1, maximum: 1000 })),
  intervalUnit: Nullable(INTERVAL_UNIT),
  startDate: Nullable(Type.Union([Timestamp, DateOnly]), {
    description: 'calendar anchor (time zero: first due one interval later); default the asset\'s commissioning / install date, else the plan\'s creation',
  }),
  meterName: Nullable(Type.String({ minLength: 1, maxLength: 64, description: 'counter name (Meter.name), e.g. run_hours' })),
  meterInterval: Nullable(Type.Number({ exclusiveMinimum: 0, maximum: 1e12 })),
  meterTolerance: Type.Number({ minimum: 0, maximum: 1e12, description: 'generate this many units before the due reading' }),
  leadDays: Type.Integer({ minimum: 0, maximum: 3650, description: 'calendar orders are generated this many days before they are due' }),
  floating: Type.Boolean({ description: 'true (default): next due from the last completion; false: fixed schedule from the anchor (missed points are skipped)' }),
  priority: PRIORITY,
  estimatedHours: Nullable(Type.Number({ minimum: 0, maximum: 10_000 })),
  requiredSkills: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 }),
  tasks: Type.Array(Task, { maxItems: 200, description: 'ordered task list copied onto each order\'s checklist (before the template\'s items)' }),
  checklistTemplateId: Nullable(Uuid),
  enabled: Type.Boolean(),
  parts: Type.Array(Type.Object({ partId: Uuid, quantity: Type.Integer({ minimum: 1, maximum: 1_000_000 }) }, { additionalProperties: false }), {
    maxItems: 100,
    description: 'required parts per visit (PATCH replaces the list)',
  }),
};

const { name: planName, trigger: planTrigger, ...optionalPlanFields } = planFields;
export const PmPlanBody = Type.Object({ name: planName, trigger: planTrigger, ...optional(optionalPlanFields) }, { additionalProperties: false });
export const PmPlanPatch = Type.Partial(Type.Object(planFields), { additionalProperties: false });

export const PmPlanSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Nullable(Type.String()),
  assetId: Nullable(Uuid),
  assetType: Nullable(Type.String()),
  trigger: PM_TRIGGER,
  intervalCount: Nullable(Type.Integer()),
  intervalUnit: Nullable(INTERVAL_UNIT),
  startDate: Nullable(TimestampOut),
  meterName: Nullable(Type.String()),
  meterInterval: Nullable(Type.Number()),
  meterTolerance: Type.Number(),
  leadDays: Type.Integer(),
  floating: Type.Boolean(),
  priority: PRIORITY,
  estimatedHours: Nullable(Type.Number()),
  requiredSkills: Type.Array(Type.String()),
  tasks: Type.Array(Type.Object({ key: Type.String(), label: Type.String(), required: Type.Boolean() })),
  checklistTemplateId: Nullable(Uuid),
  enabled: Type.Boolean(),
  parts: Type.Array(Type.Object({ partId: Uuid, partCode: Type.String(), partName: Type.String(), quantity: Type.Integer() })),
  createdAt: TimestampOut,
  updatedAt: TimestampOut,
});

export const PmPlanListQuery = Type.Object({
  assetId: Type.Optional(Uuid),
  assetType: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  enabled: Type.Optional(Type.Boolean()),
});

export const PmRunResult = Type.Object({
  created: Type.Integer({ description: 'orders generated by this run' }),
  covered: Type.Integer({ description: 'due points covered by an order of the plan still open on the asset (not generated again)' }),
  baselines: Type.Integer({ description: 'meter baselines recorded (plans seeing an asset for the first time)' }),
  plans: Type.Integer({ description: 'enabled plans checked' }),
});

export const PmStatusSchema = Type.Object({
  assetId: Uuid,
  assetCode: Type.String(),
  anchor: TimestampOut,
  state: Type.Object({
    lastDoneAt: Nullable(TimestampOut),
    lastDoneMeter: Nullable(Type.Number({ description: 'last completion reading, or the baseline recorded at first sight' })),
    generatedSeq: Type.Integer(),
    lastGeneratedAt: Nullable(TimestampOut, { description: 'set while an order of the current cycle exists' }),
  }),
  pending: Type.Boolean({ description: 'an order was generated for the current cycle and not completed' }),
  due: Type.Boolean({ description: 'the next run generates an order' }),
  dueBasis: Nullable(Type.Union([Type.Literal('calendar'), Type.Literal('meter')])),
  nextSeq: Type.Integer(),
  calendar: Nullable(
    Type.Object({
      dueAt: TimestampOut,
      generateFrom: TimestampOut,
      base: Type.String(),
      point: Type.Optional(Type.Integer()),
      skippedPoints: Type.Optional(Type.Integer()),
      reached: Type.Boolean(),
    }),
  ),
  meter: Nullable(
    Type.Object({ baseline: Type.Number(), dueValue: Type.Number(), triggerValue: Type.Number(), current: Type.Number(), reached: Type.Boolean(), unitsToGo: Type.Number() }),
  ),
});

export const ForecastQuery = Type.Object({
  from: Type.Optional(Timestamp),
  to: Type.Optional(Timestamp),
  planId: Type.Optional(Uuid),
  assetId: Type.Optional(Uuid),
  siteId: Type.Optional(Uuid),
});

const PartNeed = Type.Object({ partId: Uuid, partCode: Type.String(), partName: Type.String(), quantity: Type.Integer() });
const Reading = Type.Object({ value: Type.Number(), at: TimestampOut });

export const ForecastSchema = Type.Object({
  from: TimestampOut,
  to: TimestampOut,
  generatedAt: TimestampOut,
  items: Type.Array(
    Type.Object({
      planId: Uuid,
      planName: Type.String(),
      assetId: Uuid,
      assetCode: Type.String(),
      siteId: Uuid,
      dueAt: Type.Unsafe<Date>({ type: 'string', format: 'date-time', description: 'estimated due date (meter: when the due reading is expected)' }),
      generateAt: Type.Unsafe<Date>({ type: 'string', format: 'date-time', description: 'when the order would be generated (lead days / tolerance before dueAt)' }),
      basis: Type.Union([Type.Literal('calendar'), Type.Literal('meter')]),
      overdue: Type.Boolean(),
      meterName: Nullable(Type.String()),
      meterDueValue: Nullable(Type.Number()),
      usageRate: Nullable(
        Type.Object({
          perDay: Type.Number(),
          derivation: Type.Union([Type.Literal('since_last_completion'), Type.Literal('since_first_sight')], {
            description: '(latest reading − last completion reading) / time since the completion, or the same from the baseline recorded at first sight',
          }),
          from: Reading,
          to: Reading,
        }),
      ),
      priority: PRIORITY,
      estimatedHours: Nullable(Type.Number()),
      requiredSkills: Type.Array(Type.String()),
      parts: Type.Array(PartNeed),
    }),
  ),
  totals: Type.Object({
    occurrences: Type.Integer(),
    estimatedHours: Type.Number(),
    occurrencesWithoutEstimate: Type.Integer(),
    parts: Type.Array(PartNeed),
  }),
  unforecastable: Type.Array(Type.Object({ planId: Uuid, planName: Type.String(), assetId: Uuid, assetCode: Type.String(), reason: Type.String() }), {
    description: 'meter plans whose next due date cannot be estimated yet',
  }),
  truncated: Type.Boolean({ description: 'some plan × asset listed the maximum number of occurrences' }),
});

// ── checklists ────────────────────────────────────────────────────────────────────────────────
export const ITEM_KIND = Type.Union([Type.Literal('check'), Type.Literal('number'), Type.Literal('text'), Type.Literal('choice')]);

const itemFields = {
  key: Type.String({ minLength: 1, maxLength: 64, description: 'unique on the checklist; letters, digits, _ . -' }),
  label: Type.String({ minLength: 1, maxLength: 300 }),
  kind: Type.Optional(ITEM_KIND),
  required: Type.Optional(Type.Boolean()),
  min: Type.Optional(Type.Number({ description: 'number items: lower limit (values below are recorded and flagged outOfRange)' })),
  max: Type.Optional(Type.Number({ description: 'number items: upper limit' })),
  unit: Type.Optional(Type.String({ maxLength: 16 })),
  options: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 50, description: 'choice items' })),
};

export const TemplateItem = Type.Object(itemFields, { additionalProperties: false });
export const AdHocItemBody = Type.Object({ ...itemFields, key: Type.Optional(itemFields.key) }, { additionalProperties: false });

export const TemplateBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }), assetType: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))), items: Type.Array(TemplateItem, { minItems: 1, maxItems: 200 }) },
  { additionalProperties: false },
);
export const TemplatePatch = Type.Partial(TemplateBody, { additionalProperties: false });

export const TemplateSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  assetType: Nullable(Type.String()),
  items: Type.Array(
    Type.Object({
      key: Type.String(),
      label: Type.String(),
      kind: ITEM_KIND,
      required: Type.Boolean(),
      min: Type.Optional(Type.Number()),
      max: Type.Optional(Type.Number()),
      unit: Type.Optional(Type.String()),
      options: Type.Optional(Type.Array(Type.String())),
    }),
  ),
  version: Type.Integer({ description: 'bumped by every edit' }),
  createdAt: TimestampOut,
  updatedAt: TimestampOut,
});

export const ChecklistItemSchema = Type.Object({
  key: Type.String(),
  position: Type.Integer(),
  label: Type.String(),
  kind: ITEM_KIND,
  required: Type.Boolean(),
  spec: Type.Unknown({ description: '{min, max, unit, options} and where the item came from: source task|template|adhoc, templateId, templateVersion' }),
  done: Type.Boolean(),
  value: Type.Unknown({ description: 'check: boolean; number; text; choice: one of the options' }),
  outOfRange: Type.Boolean({ description: 'number outside min/max (recorded, flagged)' }),
  note: Nullable(Type.String()),
  doneBy: Nullable(Type.String()),
  doneAt: Nullable(TimestampOut),
});

export const ChecklistSchema = Type.Object({
  workOrderId: Uuid,
  items: Type.Array(ChecklistItemSchema),
  progress: Type.Object({
    total: Type.Integer(),
    done: Type.Integer(),
    required: Type.Integer(),
    requiredDone: Type.Integer(),
    outOfRange: Type.Integer(),
    missingRequired: Type.Array(Type.Object({ key: Type.String(), label: Type.String() })),
    complete: Type.Boolean({ description: 'every required item is done (the order may be completed)' }),
  }),
  added: Type.Optional(Type.Integer({ description: 'items added by applying a template' })),
});

export const ItemUpdateBody = Type.Object(
  {
    done: Type.Optional(Type.Boolean()),
    value: Type.Optional(Type.Unknown({ description: 'by kind: check boolean, number, text string, choice option; null clears' })),
    note: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    actor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
