/**
 * Access control on real PostgreSQL through the platform API with AUTH_MODE=on: login and
 * sessions, lockout, API keys with scopes, the role matrix (each role refused what it must not
 * reach), and row-level access — customer A cannot read customer B's orders or assets by id, an
 * engineer sees only their own orders.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/databases.ts';
import { startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const ADMIN_PASSWORD = 'admin-password-123';

interface Res<T = Record<string, unknown>> {
  status: number;
  body: T;
}

describe.skipIf(reason)(`access control on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base = '';
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  async function call<T = Record<string, unknown>>(who: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res<T>> {
    const h: Record<string, string> = { ...headers };
    if (who) h.authorization = `Bearer ${tokens[who]}`;
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
  const login = async (username: string, password: string) => call<{ token: string }>(null, 'POST', '/auth/login', { username, password });

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    platform = await startTestPlatform({ DATABASE_URL: t.url, ROLES: 'api', AUTH_MODE: 'on', ADMIN_PASSWORD, SESSION_SECRET: 's'.repeat(40), LOGIN_MAX_FAILURES: '3', RATE_LIMIT_LOGIN_PER_MIN: '1000' });
    base = platform.apiUrl!;
    tokens.admin = (await login('admin', ADMIN_PASSWORD)).body.token;
    // two customers with a site and an asset each; two engineers
    for (const c of ['A', 'B']) {
      ids[`customer${c}`] = (await call<{ id: string }>('admin', 'POST', '/customers', { code: `CUST-${c}`, name: `Customer ${c}` })).body.id;
      ids[`site${c}`] = (await call<{ id: string }>('admin', 'POST', '/sites', { code: `SITE-${c}`, name: `Site ${c}` })).body.id;
      expect((await call('admin', 'PUT', `/customers/${ids[`customer${c}`]}/sites`, { siteIds: [ids[`site${c}`]] })).status).toBe(200);
      ids[`asset${c}`] = (await call<{ id: string }>('admin', 'POST', '/assets', { code: `CH-${c}`, name: `Chiller ${c}`, type: 'chiller', siteId: ids[`site${c}`] })).body.id;
    }
    for (const e of ['1', '2']) ids[`eng${e}`] = (await call<{ id: string }>('admin', 'POST', '/engineers', { code: `E${e}`, name: `Engineer ${e}` })).body.id;
    const users: [string, Record<string, unknown>][] = [
      ['planner', { role: 'planner' }],
      ['dispatcher', { role: 'dispatcher' }],
      ['manager', { role: 'manager' }],
      ['eng1', { role: 'engineer', engineerId: ids.eng1 }],
      ['eng2', { role: 'engineer', engineerId: ids.eng2 }],
      ['custA', { role: 'customer', customerId: ids.customerA }],
      ['custB', { role: 'customer', customerId: ids.customerB }],
    ];
    for (const [name, extra] of users) {
      const r = await call('admin', 'POST', '/users', { username: name, displayName: name, password: `${name}-password-1`, ...extra });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      tokens[name] = (await login(name, `${name}-password-1`)).body.token;
    }
    // orders: one per customer, assigned to engineer 1 (A) and 2 (B)
    for (const [c, e] of [['A', 'eng1'], ['B', 'eng2']] as const) {
      const wo = await call<{ id: string }>('dispatcher', 'POST', '/work-orders', { title: `Chiller ${c} noisy`, assetId: ids[`asset${c}`] });
      expect(wo.status).toBe(201);
      ids[`wo${c}`] = wo.body.id;
      expect((await call('dispatcher', 'POST', `/work-orders/${wo.body.id}/assign`, { engineerId: ids[e], force: true })).status).toBe(200);
    }
  });

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  it('refuses anonymous calls except the public routes, and says how to authenticate', async () => {
    const anon = await call<{ code: string; message: string }>(null, 'GET', '/work-orders');
    expect(anon.status).toBe(401);
    expect(anon.body).toMatchObject({ code: 'unauthenticated' });
    expect(anon.body.message).toMatch(/Bearer|API key/);
    expect((await call(null, 'GET', '/health')).status).toBe(200);
    expect((await call(null, 'GET', '/docs/json')).status).toBe(200);
    expect((await call(null, 'GET', '/surveys/not-a-real-token')).status).toBe(404);
    // a wrong credential is refused even where none is needed
    expect((await call(null, 'GET', '/health', undefined, { authorization: 'Bearer garbage' })).status).toBe(401);
  });

  it('logs in with a generic error for bad passwords, and locks the account after repeated failures', async () => {
    const unknown = await login('nobody', 'whatever-123');
    const wrong = await login('planner', 'wrong-password');
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body); // no user enumeration
    await login('planner', 'wrong-password');
    await login('planner', 'wrong-password'); // third failure → locked
    const locked = await login('planner', 'planner-password-1');
    expect(locked.status).toBe(401);
    expect((locked.body as unknown as { message: string }).message).toMatch(/too many failed logins/);
    // an existing session keeps working; an admin reset unlocks
    expect((await call('planner', 'GET', '/rules')).status).toBe(200);
    const users = (await call<{ id: string; username: string }[]>('admin', 'GET', '/users')).body;
    const planner = users.find((u) => u.username === 'planner')!;
    expect((await call('admin', 'PATCH', `/users/${planner.id}`, { password: 'planner-password-2' })).status).toBe(200);
    // the reset ended the old session
    expect((await call('planner', 'GET', '/rules')).status).toBe(401);
    tokens.planner = (await login('planner', 'planner-password-2')).body.token;
    expect((await call('planner', 'GET', '/rules')).status).toBe(200);
  });

  it.each([
    // [role, method, path-template, expected]
    ['planner', 'POST', '/rules/backtest', 400],
    ['planner', 'GET', '/pm-plans', 200],
    ['planner', 'POST', '/work-orders/{woA}/assign', 403],
    ['planner', 'GET', '/users', 403],
    ['dispatcher', 'GET', '/work-orders/{woA}/recommendations', 200],
    ['dispatcher', 'POST', '/rules', 403],
    ['manager', 'GET', '/kpis', 200],
    ['manager', 'GET', '/rules', 200],
    ['manager', 'POST', '/work-orders', 403],
    ['manager', 'PATCH', '/assets/{assetA}', 403],
    ['eng1', 'GET', '/rules', 403],
    ['eng1', 'POST', '/work-orders', 403],
    ['eng1', 'POST', '/dispatch/batch', 403],
    ['eng1', 'GET', '/customers', 403],
    ['eng1', 'GET', '/kpis', 403],
    ['custA', 'GET', '/rules', 403],
    ['custA', 'GET', '/engineers', 403],
    ['custA', 'GET', '/work-orders/{woA}/work-logs', 403],
    ['custA', 'POST', '/work-orders/{woA}/transitions', 403],
    ['custA', 'GET', '/inventory/reports/valuation', 403],
  ] as const)('%s %s %s → %i', async (who, method, template, expected) => {
    const path = template.replace(/\{(\w+)\}/g, (_m, k: string) => ids[k]!);
    const body = method === 'GET' ? undefined : {};
    const r = await call(who, method, path, body);
    expect(r.status, JSON.stringify(r.body)).toBe(expected);
  });

  it('customer A cannot read customer B’s orders or assets by id, and lists only their own', async () => {
    expect((await call('custA', 'GET', `/work-orders/${ids.woA}`)).status).toBe(200);
    const foreign = await call<{ code: string }>('custA', 'GET', `/work-orders/${ids.woB}`);
    expect(foreign.status).toBe(404);
    expect((await call('custA', 'GET', `/work-orders/${ids.woB}/attachments`)).status).toBe(404);
    expect((await call('custA', 'GET', `/assets/${ids.assetB}`)).status).toBe(404);
    expect((await call('custA', 'GET', `/assets/${ids.assetA}`)).status).toBe(200);
    const list = await call<{ items: { id: string }[]; total: number }>('custA', 'GET', `/work-orders?customerId=${ids.customerB}`);
    expect(list.body.items.map((w) => w.id)).toEqual([ids.woA]); // the filter is forced to their own
    const assets = await call<{ items: { id: string }[] }>('custA', 'GET', '/assets');
    expect(assets.body.items.map((a) => a.id)).toEqual([ids.assetA]);
  });

  it('a customer raises requests only for their own assets, always as a portal customer request', async () => {
    const own = await call<{ source: string; channel: string; customerId: string }>('custA', 'POST', '/work-orders', { title: 'Leaking', assetId: ids.assetA, priority: 'urgent', source: 'manual' });
    expect(own.status).toBe(201);
    expect(own.body).toMatchObject({ source: 'customer', channel: 'portal', customerId: ids.customerA });
    const foreign = await call('custA', 'POST', '/work-orders', { title: 'Not mine', assetId: ids.assetB });
    expect(foreign.status).toBe(400);
  });

  it('an engineer sees and works only their own orders and their own location', async () => {
    const list = await call<{ items: { id: string }[] }>('eng1', 'GET', '/work-orders');
    expect(list.body.items.map((w) => w.id)).toEqual([ids.woA]);
    expect((await call('eng1', 'GET', `/work-orders/${ids.woB}`)).status).toBe(404);
    expect((await call('eng1', 'POST', `/work-orders/${ids.woB}/transitions`, { to: 'accepted' })).status).toBe(404);
    expect((await call('eng1', 'POST', `/work-orders/${ids.woA}/transitions`, { to: 'accepted' })).status).toBe(200);
    // an engineer cannot hand their order to somebody else (that is dispatch; they can decline)
    const handOver = await call<{ code: string }>('eng1', 'POST', `/work-orders/${ids.woA}/transitions`, { to: 'en_route', assigneeId: ids.eng2 });
    expect(handOver.status).toBe(403);
    expect((await call<{ assigneeId: string }>('admin', 'GET', `/work-orders/${ids.woA}`)).body.assigneeId).toBe(ids.eng1);
    expect((await call('eng1', 'PUT', `/engineers/${ids.eng1}/location`, { lat: 31.2, lon: 121.5 })).status).toBe(200);
    expect((await call('eng1', 'PUT', `/engineers/${ids.eng2}/location`, { lat: 31.2, lon: 121.5 })).status).toBe(404);
    const me = await call<{ role: string; engineerId: string }>('eng1', 'GET', '/auth/me');
    expect(me.body).toMatchObject({ role: 'engineer', engineerId: ids.eng1 });
  });

  it('a burst of concurrent wrong passwords gets at most LOGIN_MAX_FAILURES guesses checked, then the lock', async () => {
    expect((await call('admin', 'POST', '/users', { username: 'burst', displayName: 'burst', password: 'burst-password-1', role: 'manager' })).status).toBe(201);
    const burst = await Promise.all(Array.from({ length: 12 }, () => login('burst', 'wrong-password')));
    const messages = burst.map((r) => (r.body as unknown as { message: string }).message);
    expect(burst.every((r) => r.status === 401)).toBe(true);
    // only the attempts that got a number within the limit had their password checked
    expect(messages.filter((m) => m === 'invalid username or password').length).toBeLessThanOrEqual(3);
    const after = await login('burst', 'burst-password-1');
    expect(after.status).toBe(401);
    expect((after.body as unknown as { message: string }).message).toMatch(/too many failed logins/);
  });

  it('deleting an attachment needs the write permission of its owner, not only work_orders:update', async () => {
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    const upload = async (path: string): Promise<string> => {
      const res = await fetch(`${base}${path}?fileName=f.pdf`, { method: 'POST', headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/pdf' }, body: pdf });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const assetDoc = await upload(`/assets/${ids.assetA}/documents`);
    const article = await call<{ id: string }>('admin', 'POST', '/knowledge-articles', { title: 'Impeller worn', solution: 'replace impeller' });
    expect(article.status).toBe(201);
    ids.article = article.body.id;
    const kbFile = await upload(`/knowledge-articles/${article.body.id}/attachments`);
    const woFileA = await upload(`/work-orders/${ids.woA}/attachments`);
    const woFileB = await upload(`/work-orders/${ids.woB}/attachments`);
    expect((await call('eng1', 'DELETE', `/attachments/${assetDoc}`)).status).toBe(403); // no assets:write
    expect((await call('dispatcher', 'DELETE', `/attachments/${assetDoc}`)).status).toBe(403);
    expect((await call('dispatcher', 'DELETE', `/attachments/${kbFile}`)).status).toBe(403); // no knowledge:write
    expect((await call('eng1', 'DELETE', `/attachments/${woFileB}`)).status).toBe(404); // not their order
    expect((await call('eng1', 'DELETE', `/attachments/${woFileA}`)).status).toBe(204);
    expect((await call('planner', 'DELETE', `/attachments/${assetDoc}`)).status).toBe(403); // planners lack work_orders:update
    expect((await call('admin', 'DELETE', `/attachments/${assetDoc}`)).status).toBe(204);
    expect((await call('admin', 'GET', `/attachments/${kbFile}`)).status).toBe(200);
  });

  it('an engineer cannot write on another engineer’s order through a route keyed by something else', async () => {
    const foreign = await call('eng2', 'POST', `/knowledge-articles/${ids.article}/used`, { workOrderId: ids.woA });
    expect(foreign.status).toBe(404);
    const logs = await call<{ note: string | null }[] | { items: { note: string | null }[] }>('admin', 'GET', `/work-orders/${ids.woA}/work-logs`);
    expect(JSON.stringify(logs.body)).not.toContain('used knowledge article');
    expect((await call('eng1', 'POST', `/knowledge-articles/${ids.article}/used`, { workOrderId: ids.woA })).status).toBe(200);
  });

  it('CSV import/export also needs the entity’s own permission (a planner cannot rewrite engineers)', async () => {
    const csvBody = 'code,name,active,hourlyRate\r\nE2,Engineer 2,false,1\r\n';
    const imp = async (who: string, entity: string) =>
      (await fetch(`${base}/import/${entity}?mode=upsert`, { method: 'POST', headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'text/csv' }, body: csvBody })).status;
    expect(await imp('planner', 'engineers')).toBe(403);
    expect((await call<{ active: boolean }>('admin', 'GET', `/engineers/${ids.eng2}`)).body.active).toBe(true);
    const exp = async (who: string, entity: string) => (await fetch(`${base}/export/${entity}`, { headers: { authorization: `Bearer ${tokens[who]}` } })).status;
    expect(await exp('planner', 'engineers')).toBe(200); // planners read engineers
    expect(await exp('planner', 'parts')).toBe(200);
    expect(await imp('admin', 'engineers')).toBe(200);
  });

  it('a customer cannot hang their request on another customer’s project', async () => {
    const projectB = await call<{ id: string }>('admin', 'POST', '/projects', { code: 'PRJ-B', name: 'B retrofit', customerId: ids.customerB });
    const projectA = await call<{ id: string }>('admin', 'POST', '/projects', { code: 'PRJ-A', name: 'A retrofit', customerId: ids.customerA });
    expect(projectB.status).toBe(201);
    expect((await call('custA', 'POST', '/work-orders', { title: 'x', assetId: ids.assetA, projectId: projectB.body.id })).status).toBe(400);
    const own = await call<{ projectId: string }>('custA', 'POST', '/work-orders', { title: 'x', assetId: ids.assetA, projectId: projectA.body.id });
    expect(own.status).toBe(201);
    expect(own.body.projectId).toBe(projectA.body.id);
  });

  it('API keys: shown once, narrowed by scopes, revocable', async () => {
    const created = await call<{ id: string; key: string; prefix: string }>('admin', 'POST', '/api-keys', { name: 'ERP sync', role: 'planner', scopes: ['rules:read'] });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^omk_[A-Za-z0-9]{8}_/);
    const listed = (await call<Record<string, unknown>[]>('admin', 'GET', '/api-keys')).body;
    // the secret is everything after the prefix (base64url: it may itself contain '_')
    const secret = /^omk_[A-Za-z0-9]{8}_(.+)$/.exec(created.body.key)![1]!;
    expect(secret.length).toBeGreaterThanOrEqual(20);
    expect(JSON.stringify(listed)).not.toContain(secret);
    const key = { 'x-api-key': created.body.key };
    expect((await call(null, 'GET', '/rules', undefined, key)).status).toBe(200);
    expect((await call(null, 'GET', '/pm-plans', undefined, key)).status).toBe(403); // planner may, the key's scope may not
    expect((await call(null, 'GET', '/rules', undefined, { authorization: `ApiKey ${created.body.key}` })).status).toBe(200);
    const widen = await call('admin', 'POST', '/api-keys', { name: 'bad', role: 'engineer', engineerId: ids.eng1, scopes: ['users:admin'] });
    expect(widen.status).toBe(400);
    expect((await call('admin', 'POST', `/api-keys/${created.body.id}/revoke`)).status).toBe(200);
    expect((await call(null, 'GET', '/rules', undefined, key)).status).toBe(401);
    expect((await call(null, 'GET', '/rules', undefined, { 'x-api-key': `${created.body.key}x` })).status).toBe(401);
  });

  it('logout and deactivation end sessions at once', async () => {
    const t = (await login('manager', 'manager-password-1')).body.token;
    tokens.manager2 = t;
    expect((await call('manager2', 'GET', '/rules')).status).toBe(200);
    expect((await call('manager2', 'POST', '/auth/logout')).status).toBe(204);
    expect((await call('manager2', 'GET', '/rules')).status).toBe(401);
    const users = (await call<{ id: string; username: string }[]>('admin', 'GET', '/users')).body;
    tokens.custB2 = (await login('custB', 'custB-password-1')).body.token;
    await call('admin', 'PATCH', `/users/${users.find((u) => u.username === 'custB')!.id}`, { active: false });
    expect((await call('custB2', 'GET', '/work-orders')).status).toBe(401);
    expect((await login('custB', 'custB-password-1')).status).toBe(401);
  });

  it('audits every change with who and the entity before and after; only auditors read it', async () => {
    const wo = await call<{ id: string }>('dispatcher', 'POST', '/work-orders', { title: 'Audit me', assetId: ids.assetA });
    expect(wo.status).toBe(201);
    expect((await call('dispatcher', 'POST', `/work-orders/${wo.body.id}/assign`, { engineerId: ids.eng1, force: true })).status).toBe(200);
    const rule = await call<{ id: string }>('planner', 'POST', '/rules', {
      name: 'Hot chiller',
      kind: 'threshold',
      assetType: 'chiller',
      definition: { schemaVersion: 1, metric: 'temperature', operator: '>', value: 30, holdSeconds: 0, hysteresis: 1, severity: 'major', priority: 'high' },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    expect((await call('planner', 'PATCH', `/rules/${rule.body.id}`, { enabled: false })).status).toBe(200);

    expect((await call('dispatcher', 'GET', '/audit')).status).toBe(403);
    interface Entry { actorName: string; role: string; method: string; route: string; entityId: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null }
    const woLog = (await call<{ items: Entry[] }>('admin', 'GET', `/audit?entityType=work_order&entityId=${wo.body.id}`)).body.items;
    expect(woLog.map((e) => e.route)).toEqual(['/work-orders/:id/assign', '/work-orders']);
    expect(woLog[1]).toMatchObject({ actorName: 'dispatcher', role: 'dispatcher', method: 'POST', before: null, after: expect.objectContaining({ status: 'open' }) });
    expect(woLog[0]).toMatchObject({ before: expect.objectContaining({ status: 'open', assigneeId: null }), after: expect.objectContaining({ status: 'assigned', assigneeId: ids.eng1 }) });
    const ruleLog = (await call<{ items: Entry[] }>('admin', 'GET', `/audit?entityType=rule&entityId=${rule.body.id}`)).body.items;
    expect(ruleLog[0]).toMatchObject({ actorName: 'planner', method: 'PATCH', before: expect.objectContaining({ enabled: true, version: 1 }), after: expect.objectContaining({ enabled: false, version: 2 }) });
    // refused and failed requests change nothing and are not audited as changes
    const before = (await call<{ total: number }>('admin', 'GET', '/audit')).body.total;
    await call('eng1', 'POST', '/rules', {});
    await call('planner', 'PATCH', `/rules/${rule.body.id}`, { enabled: 'maybe' });
    expect((await call<{ total: number }>('admin', 'GET', '/audit')).body.total).toBe(before);
  });
});
