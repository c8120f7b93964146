/**
 * The read cache's own rules, on a bare Fastify app with a hand-driven change feed and clock:
 * versions, expiry, size bound, scope keys, what is never stored, and the bypass while the feed is
 * not ready.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import '../../api/access-control.ts';
import { installReadCache } from '../../api/read-cache.ts';
import { createVersions, type ChangeFeed } from '../../platform/db/change-feed.ts';
import type { Principal } from '../../access/permissions.ts';

function fakeFeed() {
  const versions = createVersions();
  const dirty = new Set<string>();
  const feed: ChangeFeed & { isReady: boolean } = {
    isReady: true,
    get ready() {
      return this.isReady;
    },
    version: (tables) => versions.version(tables),
    rowVersion: (tables, key) => versions.rowVersion(tables, key),
    holdFor: (writer) => {
      dirty.add(writer);
      return () => dirty.delete(writer);
    },
    dirty: (writer) => dirty.has(writer),
    stats: () => ({ ready: true, changes: {}, notifications: 0, syncs: 0, syncTimeouts: 0, reconnects: 0 }),
    close: async () => undefined,
  };
  return Object.assign(feed, { changed: (payload: string) => versions.apply(payload), dirtyTables: dirty });
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function build(opts: { maxAgeMs?: number; maxBytes?: number; activityLagMs?: number; refreshAhead?: boolean } = {}) {
  const feed = fakeFeed();
  let clock = 1_000;
  let served = 0;
  app = Fastify();
  app.decorateRequest('principal', null);
  // stands in for access control: the caller's scope from a header
  app.addHook('onRequest', async (req) => {
    const who = req.headers['x-who'];
    req.principal = typeof who === 'string' ? ({ kind: 'apiKey', id: who, name: who, role: 'customer', permissions: new Set(), customerId: who, engineerId: null } as unknown as Principal) : null;
  });
  const cache = installReadCache(app, { changes: feed, maxAgeMs: opts.maxAgeMs ?? 10_000, activityLagMs: opts.activityLagMs ?? 0, maxBytes: opts.maxBytes ?? 1_000_000, refreshAhead: opts.refreshAhead ?? true, now: () => clock });
  app.get('/things', { config: { readCache: { tables: ['work_orders'] } } }, async (req) => ({ served: ++served, who: req.principal?.customerId ?? null, pad: 'x'.repeat(Number((req.query as { pad?: string }).pad ?? 0)) }));
  app.get('/asset', { config: { readCache: { tables: ['assets', 'asset_activity', 'meters'] } } }, async () => ({ served: ++served }));
  app.get('/asset-who', { config: { readCache: { tables: ['assets', 'asset_activity'] } } }, async (req) => ({ served: ++served, who: req.principal?.customerId ?? null }));
  app.get('/orders/:id', { config: { readCache: { tables: ['assets'], byId: ['work_orders', 'alarms'] } } }, async () => ({ served: ++served }));
  let gate: Promise<void> = Promise.resolve();
  app.get('/slow', { config: { readCache: { tables: ['work_orders'] } } }, async () => {
    const n = ++served;
    await gate;
    return { served: n };
  });
  app.post('/orders/:id', async (req) => ({ heldDuring: feed.dirty(`apiKey:${req.principal!.id}`) }));
  app.get('/missing', { config: { readCache: { tables: ['work_orders'] } } }, async (_req, reply) => reply.status(404).send({ served: ++served }));
  app.get('/uncached', async () => ({ served: ++served }));
  const get = async (url: string, who?: string) => {
    const res = await app!.inject({ method: 'GET', url, headers: who ? { 'x-who': who } : {} });
    const body = res.json() as { served: number; who?: string | null };
    return { cache: res.headers['x-cache'], served: body.served, who: body.who, type: res.headers['content-type'] };
  };
  const hold = (): (() => void) => {
    let open!: () => void;
    gate = new Promise((r) => (open = r));
    return open;
  };
  const post = async (url: string, who: string) => {
    const res = await app!.inject({ method: 'POST', url, headers: { 'x-who': who } });
    return { ...(res.json() as { heldDuring: boolean }), heldAfter: feed.dirty(`apiKey:${who}`) };
  };
  return { feed, cache, get, post, hold, tick: (ms: number) => void (clock += ms), served: () => served };
}

describe('read cache', () => {
  it('serves the stored response until a table it depends on changes', async () => {
    const { feed, get } = await build();
    expect(await get('/things')).toMatchObject({ cache: 'miss', served: 1 });
    expect(await get('/things')).toMatchObject({ cache: 'hit', served: 1, type: 'application/json; charset=utf-8' });
    feed.changed('assets|x'); // not a dependency
    expect(await get('/things')).toMatchObject({ cache: 'hit', served: 1 });
    feed.changed('work_orders|some-row');
    expect(await get('/things')).toMatchObject({ cache: 'miss', served: 2 });
    expect(await get('/things')).toMatchObject({ cache: 'hit', served: 2 });
  });

  it('lets activity (last-seen times, meter readings) lag by activityLagMs, and nothing else', async () => {
    const { feed, get, tick } = await build({ activityLagMs: 2_000 });
    await get('/asset');
    feed.changed('asset_activity');
    feed.changed('meters|x');
    tick(999); // in the first half of its life: served without a refresh
    expect(await get('/asset')).toMatchObject({ cache: 'hit', served: 1 });
    tick(1_002);
    expect(await get('/asset')).toMatchObject({ cache: 'miss', served: 2 });
    // unchanged activity: the entry lives on (up to maxAgeMs)
    tick(4_000);
    expect(await get('/asset')).toMatchObject({ cache: 'hit', served: 2 });
    // any other change: at once
    feed.changed('assets|y');
    expect(await get('/asset')).toMatchObject({ cache: 'miss', served: 3 });
  });

  it('a detail route (byId) is refreshed by changes to its own row, not to other rows', async () => {
    const { feed, get } = await build();
    await get('/orders/a');
    await get('/orders/b');
    feed.changed('work_orders|a');
    expect(await get('/orders/a')).toMatchObject({ cache: 'miss', served: 3 });
    expect(await get('/orders/b')).toMatchObject({ cache: 'hit', served: 2 });
    feed.changed('alarms|b'); // a row belonging to order b
    expect(await get('/orders/b')).toMatchObject({ cache: 'miss', served: 4 });
    expect((await get('/orders/a')).cache).toBe('hit');
    feed.changed('assets|x'); // a table-wide dependency (asset codes)
    expect((await get('/orders/a')).cache).toBe('miss');
    expect((await get('/orders/b')).cache).toBe('miss');
    feed.changed('work_orders'); // bulk
    expect((await get('/orders/a')).cache).toBe('miss');
  });

  it('bypasses the cache for a caller whose write is not confirmed yet', async () => {
    const { feed, get, post } = await build();
    await get('/orders/a', 'c1');
    // a write request holds its caller until its response is out (then the feed waits for the notifications)
    expect(await post('/orders/a', 'c1')).toEqual({ heldDuring: true, heldAfter: false });
    feed.dirtyTables.add('apiKey:c1');
    expect(await get('/orders/a', 'c1')).toMatchObject({ cache: 'bypass', served: 2 });
    feed.dirtyTables.clear();
    expect((await get('/orders/a', 'c1')).cache).toBe('hit');
  });

  it('concurrent misses for the same response are read once', async () => {
    const { get, hold, cache } = await build();
    const open = hold();
    const pending = [get('/slow'), get('/slow'), get('/slow')];
    await new Promise((r) => setTimeout(r, 20));
    open();
    const got = await Promise.all(pending);
    expect(got.map((g) => g.served)).toEqual([1, 1, 1]);
    expect(got.map((g) => g.cache).sort()).toEqual(['coalesced', 'coalesced', 'miss']);
    expect(cache.stats()).toMatchObject({ misses: 1, coalesced: 2 });
  });

  it('a request waiting for a concurrent read does not take its result when something changed meanwhile', async () => {
    const { feed, get, hold } = await build();
    const open = hold();
    const first = get('/slow');
    await new Promise((r) => setTimeout(r, 10));
    const second = get('/slow');
    await new Promise((r) => setTimeout(r, 10));
    feed.changed('work_orders|x');
    open();
    expect(await first).toMatchObject({ cache: 'miss', served: 1 });
    expect(await second).toMatchObject({ cache: 'miss', served: 2 });
  });

  it('expires entries after maxAgeMs', async () => {
    const { get, tick, cache } = await build({ maxAgeMs: 500 });
    await get('/things');
    tick(249);
    expect((await get('/things')).cache).toBe('hit');
    tick(252);
    expect(await get('/things')).toMatchObject({ cache: 'miss', served: 2 });
    expect(cache.stats().refreshes).toBe(0);
  });

  it('refreshes an entry hit in the second half of its life in the background, as the caller', async () => {
    const { feed, get, tick, cache, served } = await build({ activityLagMs: 2_000 });
    await get('/asset', 'c1');
    feed.changed('asset_activity');
    tick(1_000);
    expect(await get('/asset', 'c1')).toMatchObject({ cache: 'hit', served: 1 }); // served as it is …
    await cache.settled();
    expect(served()).toBe(2); // … and read again meanwhile
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, refreshes: 1, stored: 2 });
    // the refreshed entry starts a new life: 2.5 s after the first read, within 2 s of the refresh
    tick(1_500);
    expect(await get('/asset', 'c1')).toMatchObject({ cache: 'hit', served: 2 });
    await cache.settled();
    // the refresh ran with the caller's headers: in the caller's scope, under the caller's key
    expect(await get('/asset-who', 'c1')).toMatchObject({ cache: 'miss' });
    tick(5_000);
    expect(await get('/asset-who', 'c1')).toMatchObject({ cache: 'hit', who: 'c1' });
    await cache.settled();
    expect(await get('/asset-who', 'c1')).toMatchObject({ cache: 'hit', who: 'c1', served: served() });
    expect((await get('/asset-who', 'c2')).cache).toBe('miss');
  });

  it('runs at most one refresh per entry, and a refresh read before a change is not served after it', async () => {
    const { feed, get, tick, cache, hold, served } = await build();
    await get('/slow');
    const open = hold();
    tick(5_000);
    expect((await get('/slow')).cache).toBe('hit');
    expect((await get('/slow')).cache).toBe('hit');
    expect(cache.stats().refreshes).toBe(1);
    await new Promise((r) => setTimeout(r, 20)); // the refresh is reading
    feed.changed('work_orders|x');
    open();
    await cache.settled();
    expect(served()).toBe(2);
    expect(await get('/slow')).toMatchObject({ cache: 'miss', served: 3 });
  });

  it('runs refreshes two at a time, in order, skipping those whose entry was read again meanwhile', async () => {
    const { get, tick, cache, hold, served } = await build();
    for (let n = 1; n <= 5; n++) await get(`/slow?n=${n}`);
    const open = hold();
    tick(5_000);
    for (let n = 1; n <= 5; n++) expect((await get(`/slow?n=${n}`)).cache).toBe('hit');
    await new Promise((r) => setTimeout(r, 20));
    expect(served()).toBe(7); // five reads, then two refreshes reading; three waiting
    expect(cache.stats().refreshes).toBe(2);
    // n=5's entry goes (a change would do the same); its refresh is not needed any more
    tick(5_001);
    const miss = get('/slow?n=5');
    await new Promise((r) => setTimeout(r, 20));
    open();
    await miss;
    await cache.settled();
    expect(cache.stats().refreshes).toBe(4); // n=1 … n=4
    expect(served()).toBe(10);
  });

  it('does not refresh ahead when told not to', async () => {
    const { get, tick, cache } = await build({ refreshAhead: false });
    await get('/things');
    tick(9_000);
    expect((await get('/things')).cache).toBe('hit');
    await cache.settled();
    expect(cache.stats()).toMatchObject({ refreshes: 0, stored: 1 });
    tick(1_001);
    expect(await get('/things')).toMatchObject({ cache: 'miss', served: 2 });
  });

  it('a client cannot pose as a refresh', async () => {
    const { get, cache } = await build();
    await get('/things');
    const res = await app!.inject({ method: 'GET', url: '/things', headers: { 'x-read-cache-refresh': 'guess' } });
    expect(res.headers['x-cache']).toBe('hit');
    expect(cache.stats()).toMatchObject({ refreshes: 0, stored: 1 });
  });

  it('keys entries by URL and by the caller scope', async () => {
    const { get } = await build();
    expect((await get('/things', 'c1')).cache).toBe('miss');
    expect(await get('/things', 'c2')).toMatchObject({ cache: 'miss', served: 2 });
    expect(await get('/things?x=1', 'c1')).toMatchObject({ cache: 'miss', served: 3 });
    expect(await get('/things', 'c1')).toMatchObject({ cache: 'hit', served: 1 });
  });

  it('stores only 200s of opted-in routes', async () => {
    const { get, cache } = await build();
    expect((await get('/missing')).cache).toBe('miss');
    expect(await get('/missing')).toMatchObject({ cache: 'miss', served: 2 });
    expect((await get('/uncached')).cache).toBeUndefined();
    expect(cache.stats().entries).toBe(0);
  });

  it('drops the least recently used entries beyond the size bound', async () => {
    const { get, cache } = await build({ maxBytes: 8_000 });
    await get('/things?pad=900&n=1');
    await get('/things?pad=900&n=2');
    await get('/things?pad=900&n=3');
    await get('/things?pad=900&n=1'); // n=1 becomes the most recently used
    for (let n = 4; n <= 9; n++) await get(`/things?pad=900&n=${n}`);
    expect(cache.stats().bytes).toBeLessThanOrEqual(8_000);
    expect(cache.stats().evicted).toBeGreaterThan(0);
    expect((await get('/things?pad=900&n=2')).cache).toBe('miss'); // evicted first
    expect((await get('/things?pad=900&n=9')).cache).toBe('hit');
  });

  it('neither serves nor stores while the change feed is not ready', async () => {
    const { feed, get, cache } = await build();
    await get('/things');
    feed.isReady = false;
    expect(await get('/things')).toMatchObject({ cache: 'bypass', served: 2 });
    expect(await get('/things?new=1')).toMatchObject({ cache: 'bypass', served: 3 });
    feed.isReady = true;
    expect(cache.stats()).toMatchObject({ bypassed: 2, stored: 1 });
  });

  it('is off with maxAgeMs 0', async () => {
    const { get, cache } = await build({ maxAgeMs: 0 });
    expect(await get('/things')).toMatchObject({ cache: undefined, served: 1 });
    expect(await get('/things')).toMatchObject({ cache: undefined, served: 2 });
    expect(cache.stats().enabled).toBe(false);
  });
});
