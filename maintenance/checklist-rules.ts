/**
 * Pure checklist rules: template / task-list validation, how a plan's tasks and a template become
 * one checklist with unique keys, value checking per item kind, and what completion requires.
 * No I/O; `checklists.ts` does the database work.
 *
 * Kinds: check (value boolean), number (min, max, unit: outside min/max is recorded but flagged
 * `outOfRange`), text (non-empty string), choice (one of `options`). An item with a value kind is
 * done only with a value.
 */

export const ITEM_KINDS = ['check', 'number', 'text', 'choice'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

export interface ItemSpec {
  key: string;
  label: string;
  kind: ItemKind;
  required: boolean;
  min?: number | undefined;
  max?: number | undefined;
  unit?: string | undefined;
  options?: string[] | undefined;
}

/** The per-kind part of an item, stored in WorkOrderChecklistItem.spec. */
export interface ValueSpec {
  min?: number | undefined;
  max?: number | undefined;
  unit?: string | undefined;
  options?: string[] | undefined;
}

type Result<T> = { ok: true } & T;
type Failure = { ok: false; message: string };

export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const MAX_ITEMS = 200;
const MAX_TEXT = 2000;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One item (template or ad hoc); `where` names it in messages. */
export function checkItem(raw: unknown, where: string): Result<{ item: ItemSpec }> | Failure {
  if (!isRecord(raw)) return { ok: false, message: `${where} must be an object` };
  const { key, label, kind = 'check', required = false, min, max, unit, options } = raw;
  if (typeof key !== 'string' || !KEY_PATTERN.test(key)) return { ok: false, message: `${where}.key must be 1-64 letters, digits, _ . - (got ${JSON.stringify(key)})` };
  if (typeof label !== 'string' || label.trim() === '' || label.length > 300) return { ok: false, message: `${where}.label must be a non-empty string of at most 300 characters` };
  if (typeof kind !== 'string' || !(ITEM_KINDS as readonly string[]).includes(kind)) return { ok: false, message: `${where}.kind must be one of ${ITEM_KINDS.join(', ')}` };
  if (typeof required !== 'boolean') return { ok: false, message: `${where}.required must be true or false` };
  const item: ItemSpec = { key, label: label.trim(), kind: kind as ItemKind, required };
  if (kind !== 'number' && (min !== undefined || max !== undefined || unit !== undefined)) return { ok: false, message: `${where}: min, max and unit apply only to number items` };
  if (kind !== 'choice' && options !== undefined) return { ok: false, message: `${where}: options apply only to choice items` };
  if (kind === 'number') {
    for (const [name, v] of [['min', min], ['max', max]] as const) {
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) return { ok: false, message: `${where}.${name} must be a number` };
    }
    if (typeof min === 'number' && typeof max === 'number' && min > max) return { ok: false, message: `${where}: min (${min}) is greater than max (${max})` };
    if (unit !== undefined && (typeof unit !== 'string' || unit.length > 16)) return { ok: false, message: `${where}.unit must be a string of at most 16 characters` };
    Object.assign(item, { min: min as number | undefined, max: max as number | undefined, unit: unit as string | undefined });
  }
  if (kind === 'choice') {
    if (!Array.isArray(options) || options.length === 0 || options.length > 50 || !options.every((o) => typeof o === 'string' && o.trim() !== '')) {
      return { ok: false, message: `${where}.options must list 1-50 non-empty strings` };
    }
    if (new Set(options).size !== options.length) return { ok: false, message: `${where}.options has duplicates` };
    item.options = options as string[];
  }
  return { ok: true, item };
}

const duplicates = (keys: string[]): string[] => [...new Set(keys.filter((k, i) => keys.indexOf(k) !== i))];

/** A template's item list: valid items with unique keys. */
export function checkTemplateItems(raw: unknown): Result<{ items: ItemSpec[] }> | Failure {
  if (!Array.isArray(raw) || raw.length === 0) return { ok: false, message: 'items must be a non-empty list' };
  if (raw.length > MAX_ITEMS) return { ok: false, message: `items: at most ${MAX_ITEMS} items` };
  const items: ItemSpec[] = [];
  for (const [i, r] of raw.entries()) {
    const c = checkItem(r, `items[${i}]`);
    if (!c.ok) return c;
    items.push(c.item);
  }
  const dup = duplicates(items.map((i) => i.key));
  if (dup.length) return { ok: false, message: `items: duplicate key(s) ${dup.join(', ')}` };
  return { ok: true, items };
}

/**
 * A PM plan's ordered task list: strings (key `task-<n>`, required) or {key?, label, required?}
 * (required by default: a task list is what the visit must do). Tasks are check items.
 */
export function normalizeTasks(raw: unknown): Result<{ items: ItemSpec[] }> | Failure {
  if (!Array.isArray(raw)) return { ok: false, message: 'tasks must be a list' };
  if (raw.length > MAX_ITEMS) return { ok: false, message: `tasks: at most ${MAX_ITEMS} tasks` };
  const items: ItemSpec[] = [];
  for (const [i, t] of raw.entries()) {
    const key = `task-${i + 1}`;
    if (typeof t === 'string') {
      if (t.trim() === '' || t.length > 300) return { ok: false, message: `tasks[${i}] must be a non-empty string of at most 300 characters` };
      items.push({ key, label: t.trim(), kind: 'check', required: true });
      continue;
    }
    if (!isRecord(t)) return { ok: false, message: `tasks[${i}] must be a string or {key?, label, required?}` };
    const c = checkItem({ key, required: true, ...t, kind: 'check' }, `tasks[${i}]`);
    if (!c.ok) return c;
    items.push(c.item);
  }
  const dup = duplicates(items.map((i) => i.key));
  if (dup.length) return { ok: false, message: `tasks: duplicate key(s) ${dup.join(', ')}` };
  return { ok: true, items };
}

/**
 * The checklist of a new PM order: the plan's tasks, then the template's items. A template key
 * already used by a task gets a suffix (`-2`, `-3`, …) so both stay on the list.
 */
export function planChecklist(tasks: ItemSpec[], templateItems: ItemSpec[]): ItemSpec[] {
  const taken = new Set<string>();
  const out: ItemSpec[] = [];
  for (const item of [...tasks, ...templateItems]) {
    let key = item.key;
    for (let n = 2; taken.has(key); n++) key = `${item.key.slice(0, 60)}-${n}`;
    taken.add(key);
    out.push({ ...item, key });
  }
  return out;
}

/** Applying a template to an order again adds only the keys the order does not have (idempotent). */
export const itemsToAdd = (existingKeys: Iterable<string>, items: ItemSpec[]): ItemSpec[] => {
  const have = new Set(existingKeys);
  return items.filter((i) => !have.has(i.key));
};

export const valueSpecOf = (i: ItemSpec): ValueSpec => ({
  ...(i.min !== undefined ? { min: i.min } : {}),
  ...(i.max !== undefined ? { max: i.max } : {}),
  ...(i.unit !== undefined ? { unit: i.unit } : {}),
  ...(i.options !== undefined ? { options: i.options } : {}),
});

const outside = (spec: ValueSpec, v: number): boolean => (spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max);

/** A value for an item of `kind`: null clears it; numbers outside min/max are accepted and flagged. */
export function checkValue(kind: string, spec: ValueSpec, value: unknown, label: string): Result<{ value: unknown; outOfRange: boolean }> | Failure {
  if (value === null) return { ok: true, value: null, outOfRange: false };
  switch (kind) {
    case 'check':
      return typeof value === 'boolean' ? { ok: true, value, outOfRange: false } : { ok: false, message: `"${label}" is a check item: value must be true or false` };
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return { ok: false, message: `"${label}" needs a number${spec.unit ? ` (${spec.unit})` : ''}` };
      return { ok: true, value, outOfRange: outside(spec, value) };
    }
    case 'text':
      if (typeof value !== 'string' || value.trim() === '') return { ok: false, message: `"${label}" needs a non-empty text` };
      if (value.length > MAX_TEXT) return { ok: false, message: `"${label}": text longer than ${MAX_TEXT} characters` };
      return { ok: true, value, outOfRange: false };
    case 'choice':
      if (typeof value !== 'string' || !(spec.options ?? []).includes(value)) return { ok: false, message: `"${label}" must be one of: ${(spec.options ?? []).join(', ')}` };
      return { ok: true, value, outOfRange: false };
    default:
      return { ok: false, message: `"${label}" has an unknown kind ${kind}` };
  }
}

export interface ItemState {
  label: string;
  kind: string;
  spec: ValueSpec;
  done: boolean;
  value: unknown;
}

/**
 * The result of recording `done` and/or `value` on an item. Giving a value marks the item done
 * unless `done` says otherwise (a check item is done when its value is true); an item with a value
 * kind cannot be done without a value.
 */
export function applyItemUpdate(item: ItemState, update: { done?: boolean | undefined; value?: unknown }): Result<{ done: boolean; value: unknown; outOfRange: boolean }> | Failure {
  let value: unknown = item.value ?? null;
  let done = item.done;
  if (update.value !== undefined) {
    const c = checkValue(item.kind, item.spec, update.value, item.label);
    if (!c.ok) return c;
    value = c.value;
    done = item.kind === 'check' ? value === true : value !== null;
  }
  if (update.done !== undefined) {
    done = update.done;
    if (item.kind === 'check' && update.value === undefined) value = update.done;
  }
  if (done && item.kind !== 'check' && value === null) return { ok: false, message: `"${item.label}" (${item.kind}) needs a value to be done` };
  const outOfRange = item.kind === 'number' && typeof value === 'number' && outside(item.spec, value);
  return { ok: true, done, value, outOfRange };
}

export interface ProgressItem {
  key: string;
  label: string;
  required: boolean;
  done: boolean;
  outOfRange: boolean;
}

export function checklistProgress(items: ProgressItem[]) {
  const missing = items.filter((i) => i.required && !i.done).map((i) => ({ key: i.key, label: i.label }));
  const required = items.filter((i) => i.required).length;
  return {
    total: items.length,
    done: items.filter((i) => i.done).length,
    required,
    requiredDone: required - missing.length,
    outOfRange: items.filter((i) => i.outOfRange).length,
    missingRequired: missing,
    complete: missing.length === 0,
  };
}

/** Why the order cannot be completed yet (undefined = it can). */
export function completionBlocker(items: ProgressItem[]): { message: string; missing: { key: string; label: string }[] } | undefined {
  const { missingRequired } = checklistProgress(items);
  if (missingRequired.length === 0) return undefined;
  return {
    message: `cannot complete: ${missingRequired.length} required checklist item(s) not done: ${missingRequired.map((m) => m.label).join(', ')}`,
    missing: missingRequired,
  };
}
