/** API contract: schema validation with clear 4xx bodies, not-found, conflicts, illegal transitions, OpenAPI. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
interface Err {
  code: string;
  message: string;
  details?: unknown;
}

describe.skipIf(reason)(`API on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base: string;
  let siteId: string;
  let assetId: string;

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    drop = db.drop;
    platform = await startTestPlatform({ DATABASE_URL: db.url, ROLES: 'api' });
    base = platform.apiUrl!;
    siteId = (await api<{ id: string }>(base, 'POST', '/sites', { code: 'S1', name: 'Site' })).body.id;
    const a = await api<{ id: string }>(base, 'POST', '/assets', {
      code: 'CHILLER-TRANE-CVHF-77',
      name: 'Chiller',
      type: 'chiller',
      siteId,
      warrantyEnd: '2028-12-31',
      specs: { refrigerant: 'R-134a', capacityKw: 1200 },
    });
    assetId = a.body.id;
  });

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  it('creates, reads, updates and lists assets', async () => {
    const got = await api<Record<string, unknown>>(base, 'GET', `/assets/${assetId}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ code: 'CHILLER-TRANE-CVHF-77', siteCode: 'S1', warrantyEnd: '2028-12-31', specs: { capacityKw: 1200 }, status: 'in_service', meters: [] });
    const patched = await api<Record<string, unknown>>(base, 'PATCH', `/assets/${assetId}`, { status: 'under_repair', serial: 'SN-1' });
    expect(patched.body).toMatchObject({ status: 'under_repair', serial: 'SN-1' });
    const list = await api<{ total: number; items: unknown[] }>(base, 'GET', '/assets?type=chiller');
    expect(list.body.total).toBe(1);
  });

  it('400 with what is wrong, for bad bodies, params and query strings', async () => {
    const missing = await api<Err>(base, 'POST', '/assets', { code: 'X', type: 'pump', siteId });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('validation');
    expect(missing.body.message).toMatch(/name/);
    const extra = await api<Err>(base, 'POST', '/assets', { code: 'X', name: 'x', type: 'pump', siteId, colour: 'red' });
    expect(extra.status).toBe(400);
    expect(extra.body.message).toMatch(/additional/);
    const badCode = await api<Err>(base, 'POST', '/assets', { code: 'has space', name: 'x', type: 'pump', siteId });
    expect(badCode.status).toBe(400);
    expect(badCode.body.message).toMatch(/\/code/);
    // ASSET_CODE_MODE=off (the test default): codes are free but required
    const noCode = await api<Err>(base, 'POST', '/assets', { name: 'x', type: 'pump', siteId });
    expect(noCode.status).toBe(400);
    expect(noCode.body.message).toMatch(/code is required/);
    expect((await api<Err>(base, 'GET', '/assets/not-a-uuid')).status).toBe(400);
    expect((await api<Err>(base, 'GET', '/work-orders?status=bogus')).status).toBe(400);
    const badJson = await fetch(`${base}/sites`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":' });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as Err).message).toBeTruthy();
  });

  it('400 for invalid rule definitions, naming the field', async () => {
    const r = await api<Err>(base, 'POST', '/rules', {
      name: 'bad',
      kind: 'threshold',
      assetId,
      definition: { metric: 'temperature', operator: '=>', value: 85, severity: 'major', priority: 'high' },
    });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/\/operator/);
    const scope = await api<Err>(base, 'POST', '/rules', { name: 'x', kind: 'usage', definition: { metric: 'runHours', every: 10, priority: 'low' } });
    expect(scope.status).toBe(400);
    expect(scope.body.message).toMatch(/exactly one of assetId or assetType/);
  });

  it('rules are versioned on update', async () => {
    const r = await api<{ id: string; version: number }>(base, 'POST', '/rules', { name: 'PM', kind: 'usage', assetId, definition: { metric: 'runHours', every: 250, priority: 'low' } });
    expect(r.body.version).toBe(1);
    const u = await api<{ version: number; definition: { every: number } }>(base, 'PATCH', `/rules/${r.body.id}`, { definition: { metric: 'runHours', every: 300, priority: 'low' } });
    expect(u.body).toMatchObject({ version: 2, definition: { every: 300, schemaVersion: 1 } });
    const versions = await api<{ version: number; definition: { every: number } }[]>(base, 'GET', `/rules/${r.body.id}/versions`);
    expect(versions.body.map((v) => [v.version, v.definition.every])).toEqual([
      [2, 300],
      [1, 250],
    ]);
    expect((await api(base, 'GET', `/rules/${randomUUID()}/versions`)).status).toBe(404);
  });

  it('404 for unknown ids and routes; 409 for duplicates and illegal transitions', async () => {
    const nf = await api<Err>(base, 'GET', `/work-orders/${randomUUID()}`);
    expect(nf).toMatchObject({ status: 404, body: { code: 'not_found' } });
    expect((await api<Err>(base, 'GET', '/nope')).status).toBe(404);
    const dup = await api<Err>(base, 'POST', '/assets', { code: 'CHILLER-TRANE-CVHF-77', name: 'again', type: 'chiller', siteId });
    expect(dup).toMatchObject({ status: 409, body: { code: 'conflict' } });
    const wo = await api<{ id: string; status: string; allowedTransitions: string[] }>(base, 'POST', '/work-orders', { title: 'Noise from compressor', assetId, source: 'customer' });
    expect(wo.status).toBe(201);
    expect(wo.body).toMatchObject({ status: 'open', allowedTransitions: ['assigned', 'cancelled'] });
    const illegal = await api<Err>(base, 'POST', `/work-orders/${wo.body.id}/transitions`, { to: 'completed' });
    expect(illegal.status).toBe(409);
    expect(illegal.body).toMatchObject({ code: 'illegal_transition', message: 'cannot move a work order from open to completed; allowed: assigned, cancelled' });
    const noEngineer = await api<Err>(base, 'POST', `/work-orders/${wo.body.id}/transitions`, { to: 'assigned' });
    expect(noEngineer.status).toBe(409);
    const ghost = await api<Err>(base, 'POST', `/work-orders/${wo.body.id}/transitions`, { to: 'assigned', assigneeId: randomUUID() });
    expect(ghost.status).toBe(400);
    const unknownAsset = await api<Err>(base, 'POST', '/work-orders', { title: 'x', assetId: randomUUID() });
    expect(unknownAsset.status).toBe(400);
    const used = await api<Err>(base, 'DELETE', `/assets/${assetId}`);
    expect(used.status).toBe(409);
    expect(used.body.message).toMatch(/retired/);
  });

  it('serves OpenAPI at /docs', async () => {
    const spec = await api<{ openapi: string; paths: Record<string, unknown> }>(base, 'GET', '/docs/json');
    expect(spec.status).toBe(200);
    expect(spec.body.openapi).toMatch(/^3\./);
    for (const p of ['/health', '/assets', '/assets/{id}', '/rules', '/work-orders', '/work-orders/{id}/transitions', '/assets/{id}/telemetry', '/alarms']) {
      expect(Object.keys(spec.body.paths)).toContain(p);
    }
    expect((await fetch(`${base}/docs`)).status).toBe(200);
  });
});
