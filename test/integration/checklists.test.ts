/**
 * Checklists on real PostgreSQL: templates (validation, versioning), a PM order starting with its
 * plan's tasks and template, values checked by kind, the completion guard (refused while required
 * items are open, allowed once done) and the checklist becoming read-only after completion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const DAY = 86_400_000;

interface Err {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}
interface Template {
  id: string;
  name: string;
  version: number;
  items: { key: string; kind: string; required: boolean }[];
}
interface Item {
  key: string;
  position: number;
  label: string;
  kind: string;
  required: boolean;
  done: boolean;
  value: unknown;
  outOfRange: boolean;
  note: string | null;
  doneBy: string | null;
  doneAt: string | null;
  spec: Record<string, unknown>;
}
interface Checklist {
  items: Item[];
  added?: number;
  progress: { total: number; done: number; required: number; requiredDone: number; outOfRange: number; missingRequired: { key: string; label: string }[]; complete: boolean };
}

describe.skipIf(reason)(`checklists on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base: string;
  let assetId = '';
  let engineerId = '';
  let templateId = '';

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    drop = db.drop;
    platform = await startTestPlatform({ DATABASE_URL: db.url, ROLES: 'api' });
    base = platform.apiUrl!;
    const siteId = (await api<{ id: string }>(base, 'POST', '/sites', { code: 'CL', name: 'Checklist site' })).body.id;
    assetId = (await api<{ id: string }>(base, 'POST', '/assets', { code: 'CMP-9', name: 'Compressor', type: 'compressor', siteId })).body.id;
    engineerId = (await api<{ id: string }>(base, 'POST', '/engineers', { code: 'ENG-CL', name: 'Engineer' })).body.id;
  });

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  const checklist = async (woId: string) => (await api<Checklist>(base, 'GET', `/work-orders/${woId}/checklist`)).body;
  const record = (woId: string, key: string, body: Record<string, unknown>) => api<Item & Err>(base, 'PUT', `/work-orders/${woId}/checklist/${key}`, body);
  const move = (id: string, body: Record<string, unknown>) => api<{ status: string } & Err>(base, 'POST', `/work-orders/${id}/transitions`, body);

  it('templates: create, validate, duplicate name, edit bumps the version', async () => {
    const created = await api<Template & Err>(base, 'POST', '/checklist-templates', {
      name: 'Compressor service',
      assetType: 'compressor',
      items: [
        { key: 'inspect', label: 'Inspect belts' },
        { key: 'pressure', label: 'Discharge pressure', kind: 'number', min: 10, max: 20, unit: 'bar', required: true },
        { key: 'belt', label: 'Belt condition', kind: 'choice', options: ['ok', 'worn', 'replaced'], required: true },
      ],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ version: 1, items: [{ key: 'inspect', kind: 'check', required: false }, { key: 'pressure', kind: 'number' }, { key: 'belt', kind: 'choice' }] });
    templateId = created.body.id;

    const dup = await api<Err>(base, 'POST', '/checklist-templates', { name: 'Compressor service', items: [{ key: 'a', label: 'A' }] });
    expect(dup.status).toBe(409);
    const bad = await api<Err>(base, 'POST', '/checklist-templates', { name: 'Bad', items: [{ key: 't', label: 'T', kind: 'number', min: 5, max: 1 }] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('items[0]: min (5) is greater than max (1)');
    const dupKeys = await api<Err>(base, 'POST', '/checklist-templates', { name: 'Bad', items: [{ key: 'a', label: 'A' }, { key: 'a', label: 'B' }] });
    expect(dupKeys.body.message).toBe('items: duplicate key(s) a');
    const kind = await api<Err>(base, 'POST', '/checklist-templates', { name: 'Bad', items: [{ key: 'a', label: 'A', kind: 'photo' }] });
    expect(kind.status).toBe(400);

    const scratch = (await api<Template>(base, 'POST', '/checklist-templates', { name: 'Scratch', items: [{ key: 'a', label: 'A' }] })).body;
    const edited = await api<Template>(base, 'PUT', `/checklist-templates/${scratch.id}`, { items: [{ key: 'a', label: 'A' }, { key: 'b', label: 'B', required: true }] });
    expect(edited.body).toMatchObject({ version: 2, name: 'Scratch' });
    expect((await api<Template>(base, 'PATCH', `/checklist-templates/${scratch.id}`, { name: 'Scratch 2' })).body.version).toBe(3);
    const list = await api<{ items: Template[]; total: number }>(base, 'GET', '/checklist-templates?assetType=compressor');
    expect(list.body.items.map((t) => t.name)).toEqual(['Compressor service']);
    expect((await api(base, 'DELETE', `/checklist-templates/${scratch.id}`)).status).toBe(204);
    expect((await api(base, 'GET', `/checklist-templates/${scratch.id}`)).status).toBe(404);
  });

  it('a PM order gets its plan tasks then the template; completion is refused until required items are done', async () => {
    const plan = await api<{ id: string }>(base, 'POST', '/pm-plans', {
      name: 'Compressor PM',
      assetId,
      trigger: 'calendar',
      intervalCount: 1,
      intervalUnit: 'month',
      startDate: new Date(Date.now() - 40 * DAY).toISOString(),
      tasks: ['Drain condensate', { key: 'inspect', label: 'Inspect housing', required: false }],
      checklistTemplateId: templateId,
    });
    expect(plan.status).toBe(201);
    expect((await api<{ created: number }>(base, 'POST', '/pm-plans/run')).body.created).toBe(1);
    const wo = (await api<{ items: { id: string }[] }>(base, 'GET', `/work-orders?pmPlanId=${plan.body.id}`)).body.items[0]!;

    const cl = await checklist(wo.id);
    expect(cl.items.map((i) => [i.position, i.key, i.required])).toEqual([
      [1, 'task-1', true],
      [2, 'inspect', false],
      [3, 'inspect-2', false],
      [4, 'pressure', true],
      [5, 'belt', true],
    ]);
    expect(cl.items[3]!.spec).toMatchObject({ min: 10, max: 20, unit: 'bar', source: 'template', templateId, templateVersion: 1 });
    expect(cl.progress).toMatchObject({ total: 5, done: 0, required: 3, requiredDone: 0, complete: false });

    expect((await move(wo.id, { to: 'assigned', assigneeId: engineerId })).status).toBe(200);
    expect((await move(wo.id, { to: 'in_progress' })).status).toBe(200);
    const refused = await move(wo.id, { to: 'completed' });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toBe('cannot complete: 3 required checklist item(s) not done: Drain condensate, Discharge pressure, Belt condition');
    expect(refused.body.details).toEqual({
      missing: [
        { key: 'task-1', label: 'Drain condensate' },
        { key: 'pressure', label: 'Discharge pressure' },
        { key: 'belt', label: 'Belt condition' },
      ],
    });
    expect((await api<{ status: string }>(base, 'GET', `/work-orders/${wo.id}`)).body.status).toBe('in_progress');

    // values are checked by kind
    const notNumber = await record(wo.id, 'pressure', { value: 'high' });
    expect(notNumber.status).toBe(400);
    expect(notNumber.body.message).toBe('"Discharge pressure" needs a number (bar)');
    const notOption = await record(wo.id, 'belt', { value: 'broken' });
    expect(notOption.body.message).toBe('"Belt condition" must be one of: ok, worn, replaced');
    expect((await record(wo.id, 'pressure', { done: true })).body.message).toMatch(/needs a value to be done/);
    expect((await record(wo.id, 'nope', { done: true })).status).toBe(404);

    // out of range is recorded and flagged
    const high = await record(wo.id, 'pressure', { value: 23.5, actor: 'eng-7', note: 'relief valve checked' });
    expect(high.status).toBe(200);
    expect(high.body).toMatchObject({ done: true, value: 23.5, outOfRange: true, doneBy: 'eng-7', note: 'relief valve checked' });
    expect(high.body.doneAt).not.toBeNull();
    await record(wo.id, 'task-1', { done: true, actor: 'eng-7' });
    const partial = await move(wo.id, { to: 'completed' });
    expect(partial.body.message).toBe('cannot complete: 1 required checklist item(s) not done: Belt condition');
    expect((await record(wo.id, 'belt', { value: 'worn', actor: 'eng-7' })).body).toMatchObject({ done: true, value: 'worn', outOfRange: false });

    // undoing a required item blocks again
    const undone = await record(wo.id, 'task-1', { done: false });
    expect(undone.body).toMatchObject({ done: false, doneBy: null, doneAt: null });
    expect((await move(wo.id, { to: 'completed' })).status).toBe(409);
    await record(wo.id, 'task-1', { done: true, actor: 'eng-7' });

    expect((await checklist(wo.id)).progress).toMatchObject({ done: 3, requiredDone: 3, outOfRange: 1, missingRequired: [], complete: true });
    expect((await move(wo.id, { to: 'completed' })).status).toBe(200);

    // read-only once completed
    const locked = await record(wo.id, 'inspect', { done: true });
    expect(locked.status).toBe(409);
    expect(locked.body.message).toBe('work order is completed; its checklist is read-only');
    expect((await api(base, 'POST', `/work-orders/${wo.id}/checklist/items`, { label: 'Late item' })).status).toBe(409);
    expect((await api(base, 'POST', `/work-orders/${wo.id}/checklist`, { templateId })).status).toBe(409);
  });

  it('any open order: apply a template (idempotent per key) and add ad-hoc items', async () => {
    const wo = (await api<{ id: string }>(base, 'POST', '/work-orders', { title: 'Noise from compressor', assetId })).body;
    expect((await checklist(wo.id)).items).toEqual([]);
    const first = await api<Checklist>(base, 'POST', `/work-orders/${wo.id}/checklist`, { templateId });
    expect(first.status).toBe(200);
    expect(first.body.added).toBe(3);
    await record(wo.id, 'inspect', { done: true });
    const again = await api<Checklist>(base, 'POST', `/work-orders/${wo.id}/checklist`, { templateId });
    expect(again.body.added).toBe(0);
    expect(again.body.items.map((i) => [i.key, i.done])).toEqual([
      ['inspect', true],
      ['pressure', false],
      ['belt', false],
    ]);

    const adhoc = await api<Item>(base, 'POST', `/work-orders/${wo.id}/checklist/items`, { label: 'Photo of the nameplate', required: true });
    expect(adhoc.status).toBe(201);
    expect(adhoc.body).toMatchObject({ key: 'item-4', position: 4, kind: 'check', required: true, spec: { source: 'adhoc' } });
    const temp = await api<Item>(base, 'POST', `/work-orders/${wo.id}/checklist/items`, { key: 'temp', label: 'Bearing temperature', kind: 'number', max: 70, unit: '°C' });
    expect(temp.body.position).toBe(5);
    expect((await record(wo.id, 'temp', { value: 65 })).body).toMatchObject({ done: true, outOfRange: false });
    expect((await api<Err>(base, 'POST', `/work-orders/${wo.id}/checklist/items`, { key: 'temp', label: 'again' })).status).toBe(409);
    const badItem = await api<Err>(base, 'POST', `/work-orders/${wo.id}/checklist/items`, { label: 'Choose', kind: 'choice' });
    expect(badItem.status).toBe(400);
    expect(badItem.body.message).toMatch(/options must list/);

    const ghost = '00000000-0000-4000-8000-000000000009';
    expect((await api(base, 'GET', `/work-orders/${ghost}/checklist`)).status).toBe(404);
    expect((await api<Err>(base, 'POST', `/work-orders/${wo.id}/checklist`, { templateId: ghost })).status).toBe(400);

    // a template edit does not change the order's copied items
    await api(base, 'PATCH', `/checklist-templates/${templateId}`, { items: [{ key: 'only', label: 'Only item' }] });
    expect((await checklist(wo.id)).items.map((i) => i.key)).toEqual(['inspect', 'pressure', 'belt', 'item-4', 'temp']);
  });
});
