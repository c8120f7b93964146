import { describe, expect, it } from 'vitest';
import {
  applyItemUpdate,
  checkItem,
  checklistProgress,
  checkTemplateItems,
  checkValue,
  completionBlocker,
  itemsToAdd,
  normalizeTasks,
  planChecklist,
  type ItemSpec,
  type ItemState,
} from '../../maintenance/checklist-rules.ts';

describe('template items', () => {
  it('accepts every kind with its spec and defaults kind=check, required=false', () => {
    const r = checkTemplateItems([
      { key: 'visual', label: 'Visual inspection' },
      { key: 'oil-temp', label: 'Oil temperature', kind: 'number', min: 20, max: 80, unit: '°C', required: true },
      { key: 'remarks', label: 'Remarks', kind: 'text' },
      { key: 'belt', label: 'Belt condition', kind: 'choice', options: ['ok', 'worn', 'replaced'], required: true },
    ]);
    expect(r.ok && r.items.map((i) => [i.key, i.kind, i.required])).toEqual([
      ['visual', 'check', false],
      ['oil-temp', 'number', true],
      ['remarks', 'text', false],
      ['belt', 'choice', true],
    ]);
  });

  it.each<[string, unknown, RegExp]>([
    ['not a list', {}, /non-empty list/],
    ['empty', [], /non-empty list/],
    ['duplicate keys', [{ key: 'a', label: 'A' }, { key: 'a', label: 'B' }], /duplicate key\(s\) a/],
    ['bad key', [{ key: 'has space', label: 'A' }], /items\[0\]\.key/],
    ['missing label', [{ key: 'a' }], /items\[0\]\.label/],
    ['unknown kind', [{ key: 'a', label: 'A', kind: 'photo' }], /kind must be one of check, number, text, choice/],
    ['min > max', [{ key: 't', label: 'T', kind: 'number', min: 5, max: 1 }], /min \(5\) is greater than max \(1\)/],
    ['choice without options', [{ key: 'c', label: 'C', kind: 'choice' }], /options must list/],
    ['duplicate options', [{ key: 'c', label: 'C', kind: 'choice', options: ['x', 'x'] }], /options has duplicates/],
    ['options on a check item', [{ key: 'c', label: 'C', options: ['x'] }], /options apply only to choice/],
    ['min on a text item', [{ key: 't', label: 'T', kind: 'text', min: 1 }], /min, max and unit apply only to number/],
  ])('rejects %s', (_name, items, message) => {
    const r = checkTemplateItems(items);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(message);
  });
});

describe('plan tasks', () => {
  it('strings become required check items keyed task-<n>; objects keep their key and required flag', () => {
    const r = normalizeTasks(['Drain oil', { label: 'Replace filter' }, { key: 'torque', label: 'Torque bolts', required: false }]);
    expect(r.ok && r.items).toEqual([
      { key: 'task-1', label: 'Drain oil', kind: 'check', required: true },
      { key: 'task-2', label: 'Replace filter', kind: 'check', required: true },
      { key: 'torque', label: 'Torque bolts', kind: 'check', required: false },
    ]);
  });

  it.each<[unknown, RegExp]>([
    ['x', /tasks must be a list/],
    [[''], /tasks\[0\] must be a non-empty string/],
    [[42], /tasks\[0\] must be a string or/],
    [[{ key: 'a', label: 'A' }, { key: 'a', label: 'B' }], /duplicate key\(s\) a/],
  ])('rejects %j', (tasks, message) => {
    const r = normalizeTasks(tasks);
    expect(!r.ok && r.message).toMatch(message);
  });

  it('a PM order gets the tasks then the template items; colliding template keys get a suffix', () => {
    const tasks: ItemSpec[] = [
      { key: 'task-1', label: 'Drain oil', kind: 'check', required: true },
      { key: 'inspect', label: 'Inspect housing', kind: 'check', required: true },
    ];
    const tpl: ItemSpec[] = [
      { key: 'inspect', label: 'Inspect belts', kind: 'check', required: false },
      { key: 'temp', label: 'Temperature', kind: 'number', required: true, min: 0, max: 90 },
    ];
    expect(planChecklist(tasks, tpl).map((i) => i.key)).toEqual(['task-1', 'inspect', 'inspect-2', 'temp']);
  });

  it('applying a template again adds only missing keys', () => {
    const tpl: ItemSpec[] = [
      { key: 'a', label: 'A', kind: 'check', required: true },
      { key: 'b', label: 'B', kind: 'check', required: false },
    ];
    expect(itemsToAdd(['a', 'x'], tpl).map((i) => i.key)).toEqual(['b']);
    expect(itemsToAdd(['a', 'b'], tpl)).toEqual([]);
  });

  it('ad-hoc item validation names the field', () => {
    const r = checkItem({ key: 'k', label: 'L', kind: 'number', min: 'low' }, 'item');
    expect(!r.ok && r.message).toBe('item.min must be a number');
  });
});

describe('values by kind', () => {
  const num = { min: 10, max: 20, unit: 'bar' };
  it.each<[string, string, object, unknown, { ok: boolean; outOfRange?: boolean; message?: RegExp }]>([
    ['check true', 'check', {}, true, { ok: true, outOfRange: false }],
    ['check with a string', 'check', {}, 'yes', { ok: false, message: /value must be true or false/ }],
    ['number within range', 'number', num, 15, { ok: true, outOfRange: false }],
    ['number on the limit', 'number', num, 20, { ok: true, outOfRange: false }],
    ['number below min (recorded, flagged)', 'number', num, 9.9, { ok: true, outOfRange: true }],
    ['number above max (recorded, flagged)', 'number', num, 21, { ok: true, outOfRange: true }],
    ['number without limits', 'number', {}, -1e6, { ok: true, outOfRange: false }],
    ['number as a string', 'number', num, '15', { ok: false, message: /needs a number \(bar\)/ }],
    ['text', 'text', {}, 'all good', { ok: true, outOfRange: false }],
    ['blank text', 'text', {}, '   ', { ok: false, message: /non-empty text/ }],
    ['choice option', 'choice', { options: ['ok', 'worn'] }, 'worn', { ok: true, outOfRange: false }],
    ['choice outside the options', 'choice', { options: ['ok', 'worn'] }, 'broken', { ok: false, message: /must be one of: ok, worn/ }],
    ['null clears any kind', 'number', num, null, { ok: true, outOfRange: false }],
  ])('%s', (_name, kind, spec, value, expected) => {
    const r = checkValue(kind, spec, value, 'Item');
    expect(r.ok).toBe(expected.ok);
    if (r.ok) expect(r.outOfRange).toBe(expected.outOfRange);
    else expect(r.message).toMatch(expected.message!);
  });
});

describe('recording an item', () => {
  const check: ItemState = { label: 'Drain oil', kind: 'check', spec: {}, done: false, value: null };
  const pressure: ItemState = { label: 'Pressure', kind: 'number', spec: { min: 10, max: 20 }, done: false, value: null };
  it.each<[string, ItemState, { done?: boolean; value?: unknown }, { done: boolean; value: unknown; outOfRange: boolean } | RegExp]>([
    ['check done', check, { done: true }, { done: true, value: true, outOfRange: false }],
    ['check value true', check, { value: true }, { done: true, value: true, outOfRange: false }],
    ['check undone', { ...check, done: true, value: true }, { done: false }, { done: false, value: false, outOfRange: false }],
    ['number value marks done', pressure, { value: 12 }, { done: true, value: 12, outOfRange: false }],
    ['number out of range is kept and flagged', pressure, { value: 25 }, { done: true, value: 25, outOfRange: true }],
    ['number value but explicitly not done', pressure, { value: 12, done: false }, { done: false, value: 12, outOfRange: false }],
    ['number done without a value', pressure, { done: true }, /"Pressure" \(number\) needs a value to be done/],
    ['clearing the value undoes it', { ...pressure, done: true, value: 12 }, { value: null }, { done: false, value: null, outOfRange: false }],
    ['note-only update keeps the flag', { ...pressure, done: true, value: 30 }, {}, { done: true, value: 30, outOfRange: true }],
    ['invalid value', pressure, { value: 'high' }, /needs a number/],
  ])('%s', (_name, item, update, expected) => {
    const r = applyItemUpdate(item, update);
    if (expected instanceof RegExp) expect(!r.ok && r.message).toMatch(expected);
    else expect(r).toEqual({ ok: true, ...expected });
  });
});

describe('progress and the completion guard', () => {
  const items = [
    { key: 'a', label: 'Drain oil', required: true, done: true, outOfRange: false },
    { key: 'b', label: 'Replace filter', required: true, done: false, outOfRange: false },
    { key: 'c', label: 'Pressure', required: false, done: true, outOfRange: true },
    { key: 'd', label: 'Torque bolts', required: true, done: false, outOfRange: false },
  ];
  it('counts done / required and lists what is missing', () => {
    expect(checklistProgress(items)).toEqual({
      total: 4,
      done: 2,
      required: 3,
      requiredDone: 1,
      outOfRange: 1,
      missingRequired: [
        { key: 'b', label: 'Replace filter' },
        { key: 'd', label: 'Torque bolts' },
      ],
      complete: false,
    });
  });
  it('blocks completion naming the missing items, allows it when all required are done', () => {
    expect(completionBlocker(items)?.message).toBe('cannot complete: 2 required checklist item(s) not done: Replace filter, Torque bolts');
    expect(completionBlocker(items.map((i) => ({ ...i, done: true })))).toBeUndefined();
    expect(completionBlocker([])).toBeUndefined();
  });
});
