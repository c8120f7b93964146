/**
 * API read cache (READ_CACHE_MS) on real PostgreSQL with two service instances: a cached response is
 * never served after a change committed through the same instance (API or in-process writers), is
 * dropped within milliseconds of a change by another instance or another database client, is never
 * shared across row-level scopes, and is bypassed while the change listener is down.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/databases.ts';
import { eventually, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';
import { LISTENER_APP_NAME } from '../../platform/db/change-feed.ts';

const reason = skipReason('databaseUrl');

interface Got<T> {
  status: number;
  cache: string | null;
  body: T;
}
interface WorkOrderBody {
  id: string;
  title: string;
  rootCause: string | null;
  status: string;
  priority: string;
  events: unknown[];
}
interface PageBody {
  items: { id: string; rootCause?: string | null; name?: string }[];
  total: number;
}

describe.skipIf(reason)(`API read cache ${reason ?? ''}`, () => {
  let a: Awaited<ReturnType<typeof startTestPlatform>>;
  let b: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let dbUrl = '';
  let other: pg.Client;
  let assetId = '';
  let orderIds: string[] = [];

  const call = async <T>(base: string, method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Got<T>> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    return { status: res.status, cache: res.headers.get('x-cache'), body: (await res.json()) as T };
  };
  const getA = <T>(path: string, headers?: Record<string, string>) => call<T>(a.apiUrl!, 'GET', path, { headers });

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    dbUrl = t.url;
    // a long max age: everything below must come from change tracking, not from expiry; no activity
    // lag, so that last-seen updates show at once too (the lag itself: unit test)
    const env = { DATABASE_URL: t.url, ROLES: 'api', READ_CACHE_MS: '600000', READ_CACHE_ACTIVITY_MS: '0' };
    a = await startTestPlatform(env);
    b = await startTestPlatform(env);
    other = new pg.Client({ connectionString: t.url });
    await other.connect();
    const site = await call<{ id: string }>(a.apiUrl!, 'POST', '/sites', { body: { code: 'RC', name: 'Read cache site' } });
    const asset = await call<{ id: string }>(a.apiUrl!, 'POST', '/assets', { body: { code: 'RC-P1', name: 'Pump one', type: 'pump', siteId: site.body.id } });
    assetId = asset.body.id;
    orderIds = [];
    for (let i = 0; i < 3; i++) {
      const wo = await call<{ id: string }>(a.apiUrl!, 'POST', '/work-orders', { body: { title: `Order ${i}`, assetId, priority: 'low' } });
      expect(wo.status).toBe(201);
      orderIds.push(wo.body.id);
    }
    // the set-up's writes are confirmed (their caller is no longer held back from the cache)
    await eventually(async () => !a.db.changes.dirty('user:local-admin'), 2_000, 5);
  }, 60_000);

  afterAll(async () => {
    await other?.end();
    await a?.cleanup();
    await b?.cleanup();
    await drop?.();
  });

  it('serves a repeated GET from the cache, byte for byte', async () => {
    const path = `/work-orders/${orderIds[0]}`;
    const first = await getA<WorkOrderBody>(path);
    const second = await getA<WorkOrderBody>(path);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.cache).toBe('miss');
    expect(second.cache).toBe('hit');
    expect(second.body).toEqual(first.body);
    const list1 = await getA<PageBody>('/work-orders?limit=10');
    const list2 = await getA<PageBody>('/work-orders?limit=10');
    expect([list1.cache, list2.cache]).toEqual(['miss', 'hit']);
    expect(list2.body).toEqual(list1.body);
    // a different query is a different entry
    expect((await getA<PageBody>('/work-orders?limit=2')).cache).toBe('miss');
  });

  it('never serves a response older than a change made through the same instance (API)', async () => {
    const path = `/work-orders/${orderIds[1]}`;
    const list = '/work-orders?limit=10';
    for (let i = 0; i < 15; i++) {
      await getA(path);
      await getA(list);
      const rootCause = `Cause ${i}`;
      const changed = await call<WorkOrderBody>(a.apiUrl!, 'PUT', `${path}/close-out`, { body: { rootCause } });
      expect(changed.status).toBe(200);
      const detail = await getA<WorkOrderBody>(path);
      expect(detail.body.rootCause).toBe(rootCause);
      // bypass: the caller's write is not confirmed by its notification yet; miss: it is, and dropped the entry
      expect(['miss', 'bypass']).toContain(detail.cache);
      expect((await getA<PageBody>(list)).body.items.find((w) => w.id === orderIds[1])?.rootCause).toBe(rootCause);
    }
    // a transition writes work_orders and work_order_events in one transaction
    const before = (await getA<WorkOrderBody>(path)).body.events.length;
    expect((await getA<WorkOrderBody>(path)).cache).toBe('hit');
    expect((await call(a.apiUrl!, 'POST', `${path}/transitions`, { body: { to: 'cancelled', note: 'not needed' } })).status).toBe(200);
    const after = await getA<WorkOrderBody>(path);
    expect(after.body.status).toBe('cancelled');
    expect(after.body.events.length).toBe(before + 1);
  });

  it('a change to one work order keeps the other orders cached (lists are refreshed)', async () => {
    const [x, y] = [`/work-orders/${orderIds[0]}`, `/work-orders/${orderIds[2]}`];
    await getA(x);
    await getA(y);
    await getA('/work-orders?limit=10');
    expect((await call(a.apiUrl!, 'PUT', `${x}/close-out`, { body: { resolution: 'Only this one' } })).status).toBe(200);
    // once the writer's own guard is over (its notification arrived), the other order is still cached
    const other = await eventually(async () => {
      const r = await getA(y);
      return r.cache === 'bypass' ? undefined : r;
    }, 2_000, 5);
    expect(other.cache).toBe('hit');
    expect((await getA(x)).cache).toBe('miss');
    expect((await getA('/work-orders?limit=10')).cache).toBe('miss');
  });

  it('shows a change made in the same process outside the API (rules engine, jobs) within milliseconds', async () => {
    const path = `/work-orders/${orderIds[2]}`;
    const soon = async (check: () => Promise<boolean>): Promise<number> => {
      const t0 = performance.now();
      await eventually(async () => check(), 2_000, 2);
      return performance.now() - t0;
    };
    const lags: number[] = [];
    for (const priority of ['medium', 'high', 'urgent'] as const) {
      await getA(path);
      expect((await getA(path)).cache).toBe('hit');
      await a.db.prisma.workOrder.update({ where: { id: orderIds[2]! }, data: { priority } });
      lags.push(await soon(async () => (await getA<WorkOrderBody>(path)).body.priority === priority));
    }
    // inside an interactive transaction
    await getA(path);
    await a.db.prisma.$transaction(async (tx) => {
      await tx.workOrder.update({ where: { id: orderIds[2]! }, data: { title: 'Changed in a transaction' } });
    });
    lags.push(await soon(async () => (await getA<WorkOrderBody>(path)).body.title === 'Changed in a transaction'));
    // raw SQL
    await getA(`/assets/${assetId}`);
    await a.db.prisma.$executeRawUnsafe(`UPDATE assets SET name = 'Renamed by raw SQL' WHERE id = $1`, assetId);
    lags.push(await soon(async () => (await getA<{ name: string }>(`/assets/${assetId}`)).body.name === 'Renamed by raw SQL'));
    expect(Math.max(...lags)).toBeLessThan(1_000);
  });

  it('drops an entry within milliseconds of a change by another instance or another database client', async () => {
    const path = `/work-orders/${orderIds[0]}`;
    await getA(path);
    expect((await getA(path)).cache).toBe('hit');
    const notified = a.db.changes.stats().notifications;
    expect((await call(b.apiUrl!, 'PUT', `${path}/close-out`, { body: { rootCause: 'Changed on instance B' } })).status).toBe(200);
    const t0 = performance.now();
    await eventually(async () => (await getA<WorkOrderBody>(path)).body.rootCause === 'Changed on instance B', 2_000, 5);
    const lagMs = performance.now() - t0;
    expect(a.db.changes.stats().notifications).toBeGreaterThan(notified);
    expect(lagMs).toBeLessThan(1_000);

    await getA('/assets?limit=5');
    expect((await getA('/assets?limit=5')).cache).toBe('hit');
    await other.query(`UPDATE assets SET name = 'Renamed from psql' WHERE id = $1`, [assetId]);
    await eventually(async () => (await getA<PageBody>('/assets?limit=5')).body.items.some((x) => x.name === 'Renamed from psql'), 2_000, 5);
  });

  it('keeps work orders cached through last-seen updates (ingest, every second), not through other asset changes', async () => {
    const order = `/work-orders/${orderIds[0]}`;
    const asset = `/assets/${assetId}`;
    await getA(order);
    await getA(asset);
    const seenAt = new Date(Date.now() - 1_000).toISOString();
    // another instance's ingest: the activity writer's statement, as the trigger sees it
    await other.query(`UPDATE assets SET last_seen_at = v.ts FROM unnest($1::text[], $2::timestamptz[]) AS v(id, ts) WHERE assets.id = v.id`, [[assetId], [seenAt]]);
    await eventually(async () => (await getA<{ lastSeenAt: string | null }>(asset)).body.lastSeenAt === seenAt, 2_000, 5);
    expect((await getA(order)).cache).toBe('hit');
    // this instance's ingest (raw SQL through the pool)
    const seenAt2 = new Date(Date.now() - 500).toISOString();
    await a.db.prisma.$executeRawUnsafe(`UPDATE assets SET last_seen_at = v.ts FROM unnest($1::text[], $2::timestamptz[]) AS v(id, ts) WHERE assets.id = v.id`, [assetId], [new Date(seenAt2)]);
    // (not a request: no read-your-writes hold, so it shows once its notification has come back)
    await eventually(async () => (await getA<{ lastSeenAt: string | null }>(asset)).body.lastSeenAt === seenAt2, 2_000, 5);
    expect((await getA(order)).cache).toBe('hit');
    // a code change shows on the order
    await other.query(`UPDATE assets SET code = 'RC-P1B', last_seen_at = now() WHERE id = $1`, [assetId]);
    await eventually(async () => (await getA<{ assetCode: string }>(order)).body.assetCode === 'RC-P1B', 2_000, 5);
  });

  it('never shares a response across customers (each sees only their own rows)', async () => {
    const mkCustomer = async (code: string) => (await call<{ id: string }>(a.apiUrl!, 'POST', '/customers', { body: { code, name: `Customer ${code}` } })).body.id;
    const c1 = await mkCustomer('RC-C1');
    const c2 = await mkCustomer('RC-C2');
    // one order for each customer (the customer is taken from the order's fields here)
    await other.query('UPDATE work_orders SET customer_id = $1 WHERE id = $2', [c1, orderIds[0]]);
    await other.query('UPDATE work_orders SET customer_id = $1 WHERE id = $2', [c2, orderIds[1]]);
    const key = async (customerId: string) =>
      (await call<{ key: string }>(a.apiUrl!, 'POST', '/api-keys', { body: { name: `rc-${customerId}`, role: 'customer', customerId } })).body.key;
    // the admin keys are created on instance A with AUTH_MODE=off; check them on an instance with auth on
    const secured = await startTestPlatform({ DATABASE_URL: dbUrl, ROLES: 'api', AUTH_MODE: 'on', ADMIN_PASSWORD: 'admin-password-123', READ_CACHE_MS: '600000' });
    try {
      const k1 = await key(c1);
      const k2 = await key(c2);
      const list = (k: string) => call<PageBody>(secured.apiUrl!, 'GET', '/work-orders?limit=50', { headers: { 'x-api-key': k } });
      const first1 = await list(k1);
      const first2 = await list(k2);
      expect(first1.status).toBe(200);
      expect(first1.body.items.map((w) => w.id)).toEqual([orderIds[0]]);
      expect(first2.body.items.map((w) => w.id)).toEqual([orderIds[1]]);
      expect(first2.cache).toBe('miss'); // not customer 1's entry
      const again1 = await list(k1);
      expect(again1.cache).toBe('hit');
      expect(again1.body.items.map((w) => w.id)).toEqual([orderIds[0]]);
      // a single row outside the caller's scope stays 404 even when another scope cached it
      const own = await call(secured.apiUrl!, 'GET', `/work-orders/${orderIds[0]}`, { headers: { 'x-api-key': k1 } });
      expect(own.status).toBe(200);
      const foreign = await call(secured.apiUrl!, 'GET', `/work-orders/${orderIds[0]}`, { headers: { 'x-api-key': k2 } });
      expect(foreign.status).toBe(404);
      // and the unauthenticated get nothing
      expect((await call(secured.apiUrl!, 'GET', `/work-orders/${orderIds[0]}`)).status).toBe(401);
    } finally {
      await secured.cleanup();
    }
  });

  it('refreshes an entry ahead of its expiry in the background with the caller’s own credentials and scope (auth on)', async () => {
    const c3 = (await call<{ id: string }>(a.apiUrl!, 'POST', '/customers', { body: { code: 'RC-C3', name: 'Customer RC-C3' } })).body.id;
    await other.query('UPDATE work_orders SET customer_id = $1 WHERE id = $2', [c3, orderIds[2]]);
    const k3 = (await call<{ key: string }>(a.apiUrl!, 'POST', '/api-keys', { body: { name: 'rc-refresh', role: 'customer', customerId: c3 } })).body.key;
    // entries live 2 s; a hit after 1 s refreshes
    const secured = await startTestPlatform({ DATABASE_URL: dbUrl, ROLES: 'api', AUTH_MODE: 'on', ADMIN_PASSWORD: 'admin-password-123', READ_CACHE_MS: '2000', READ_CACHE_REFRESH_AHEAD: 'true' });
    try {
      const list = () => call<PageBody>(secured.apiUrl!, 'GET', '/work-orders?limit=50', { headers: { 'x-api-key': k3 } });
      const t0 = performance.now();
      expect((await list()).cache).toBe('miss');
      await new Promise((r) => setTimeout(r, 1_200));
      expect((await list()).cache).toBe('hit');
      await secured.api!.readCache.settled();
      expect(secured.api!.readCache.stats()).toMatchObject({ refreshes: 1, stored: 2 });
      // past the first read's life: served from the refreshed entry, still only this customer's order
      await new Promise((r) => setTimeout(r, Math.max(0, 2_300 - (performance.now() - t0))));
      const late = await list();
      expect(late.cache).toBe('hit');
      expect(late.body.items.map((w) => w.id)).toEqual([orderIds[2]]);
    } finally {
      await secured.cleanup();
    }
  });

  it('bypasses the cache while the change listener is down, and reuses nothing from before once it is back', async () => {
    const path = `/assets/${assetId}`;
    await getA(path);
    expect((await getA(path)).cache).toBe('hit');
    const listeners = await other.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`, [LISTENER_APP_NAME]);
    expect(listeners.rows.length).toBe(2); // A and B
    await other.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1', [LISTENER_APP_NAME]);
    await eventually(async () => (await getA(path)).cache === 'bypass', 2_000, 10);
    // a change nobody was listening for
    await other.query(`UPDATE assets SET name = 'Changed while nobody listened' WHERE id = $1`, [assetId]);
    const during = await getA<{ name: string }>(path);
    expect(during.body.name).toBe('Changed while nobody listened');
    await eventually(async () => a.db.changes.ready, 5_000, 20);
    const back = await getA<{ name: string }>(path);
    expect(back.cache).toBe('miss');
    expect(back.body.name).toBe('Changed while nobody listened');
    expect((await getA(path)).cache).toBe('hit');
    expect(a.db.changes.stats().reconnects).toBeGreaterThan(0);
  });

  it('reports its counters in /health', async () => {
    const health = await call<{ counters: { readCache: { enabled: boolean; hits: number; misses: number; entries: number; changes: { ready: boolean } } } }>(a.apiUrl!, 'GET', '/health');
    const rc = health.body.counters.readCache;
    expect(rc.enabled).toBe(true);
    expect(rc.hits).toBeGreaterThan(0);
    expect(rc.misses).toBeGreaterThan(0);
    expect(rc.entries).toBeGreaterThan(0);
    expect(rc.changes.ready).toBe(true);
  });
});
