/**
 * API read cache: the serialized 200 responses of GET routes that opt in with
 * `config: { readCache: { tables, byId } }`, reused while nothing they show has changed — any row of
 * `tables`, or the rows of `byId` keyed by the route's :id (versions from platform/db/change-feed.ts,
 * fed by PostgreSQL notifications milliseconds after each commit). After a caller's write request
 * through this instance, that caller is not served from the cache until the write's notifications
 * have arrived, so callers always read their own writes; everybody else sees a change once its
 * notification arrives (milliseconds), as for changes made by other instances, ingest and the rules
 * engine. Concurrent misses for the same response (same key and version) are read once.
 *
 * A cached response is only ever served after the request has passed authentication, the route's
 * permission and its row-level scope check (the access-control hooks run first), and it is keyed by
 * the URL and by everything that scopes a list (role, customer, engineer), so nobody sees a response
 * built for a wider scope. Entries also expire after READ_CACHE_MS (for what depends on the clock,
 * such as "warranty ends within N days"), and the least recently used go when the cache is over
 * READ_CACHE_MB. While the change listener is down nothing is served from or stored in the cache.
 *
 * Activity (ACTIVITY_TABLES: asset last-seen times and meter readings, which ingest rewrites every
 * second in batches and which are therefore already up to a second behind the devices) may lag by up
 * to READ_CACHE_ACTIVITY_MS more; any other change to what a response shows invalidates it at once.
 *
 * Refresh ahead (READ_CACHE_REFRESH_AHEAD, off by default: measured, its extra reads cost the API's
 * tail more than the misses it saves at 1,000 req/s on two cores): a hit on an entry past half of the
 * life it has left (half of READ_CACHE_ACTIVITY_MS once activity has changed, else half of
 * READ_CACHE_MS) is served as it is, and the entry is read again in the background — the same GET,
 * injected with the caller's own headers and address, so it passes authentication, permission, scope
 * and rate limit like the caller's request. A response read
 * often enough therefore never waits for a read just because it aged; only what nobody asked for in
 * the second half of its life is read on the request. The bounds above are unchanged: nothing older
 * is ever served. At most one refresh per entry is waiting or under way, and at most two run at a time
 * (REFRESH_CONCURRENCY), in the order they were asked for, so that entries stored together do not
 * all come back at once in front of the requests.
 *
 * `x-cache: hit | miss | coalesced | bypass | refresh` says what happened (refresh: the cache's own
 * background read).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import { principalKey } from '../access/permissions.ts';
import { ACTIVITY_TABLES, type ChangeFeed, type TrackedTable } from '../platform/db/change-feed.ts';

/** A GET route's opt-in: what its 200 response shows. */
export interface ReadCacheDeps {
  /** Tables any change to which may change the response. */
  tables: readonly TrackedTable[];
  /** Tables of which only the rows keyed by the route's :id (the row, or rows belonging to it) matter. */
  byId?: readonly TrackedTable[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Cache this GET route's 200 responses until what they show changes. */
    readCache?: ReadCacheDeps;
  }
  interface FastifyRequest {
    readCacheStamp: { key: string; version: number; activity: number; flight: Flight | null } | null;
    /** ends this write request's read-your-writes hold */
    readCacheRelease: (() => void) | null;
  }
}

export interface ReadCacheOptions {
  changes: ChangeFeed;
  /** Oldest entry served, ms (0 = cache off). */
  maxAgeMs: number;
  /** How long an entry outlives a change to activity tables only, ms (≤ maxAgeMs). */
  activityLagMs: number;
  /** Size bound over all entries (bodies), bytes. */
  maxBytes: number;
  /** Refresh entries hit in the second half of their life in the background (READ_CACHE_REFRESH_AHEAD; default here on, in the service off). */
  refreshAhead?: boolean;
  now?: () => number;
}

interface Entry {
  /** encoded once: a hit writes these bytes as they are */
  body: Buffer;
  contentType: string;
  /** version of the route's other tables when the handler started reading */
  version: number;
  /** version of its activity tables then */
  activity: number;
  at: number;
}

/** A miss being computed: requests for the same key and version wait for it instead of reading too. */
interface Flight {
  version: number;
  done: Promise<Entry | null>;
  finish(e: Entry | null): void;
}

export interface ReadCacheStats {
  enabled: boolean;
  hits: number;
  /** served from a concurrent request's read of the same key */
  coalesced: number;
  misses: number;
  bypassed: number;
  /** background reads of entries in the second half of their life (refresh ahead) */
  refreshes: number;
  stored: number;
  evicted: number;
  entries: number;
  bytes: number;
}

export interface ReadCache {
  stats(): ReadCacheStats;
  clear(): void;
  /** Resolves once the background refreshes under way have finished. */
  settled(): Promise<void>;
}

export function installReadCache(app: FastifyInstance, opts: ReadCacheOptions): ReadCache {
  const now = opts.now ?? Date.now;
  const enabled = opts.maxAgeMs > 0;
  const refreshAhead = opts.refreshAhead ?? true;
  const entries = new Map<string, Entry>(); // insertion order = least recently used first
  let bytes = 0;
  const counts = { hits: 0, coalesced: 0, misses: 0, bypassed: 0, refreshes: 0, stored: 0, evicted: 0 };
  const flights = new Map<string, Flight>();
  const startFlight = (key: string, version: number): Flight => {
    let finish!: (e: Entry | null) => void;
    const done = new Promise<Entry | null>((resolve) => (finish = resolve));
    const flight: Flight = {
      version,
      done,
      finish: (e) => {
        if (flights.get(key) === flight) flights.delete(key);
        finish(e);
      },
    };
    flights.set(key, flight);
    return flight;
  };
  const split = new Map<ReadCacheDeps, { exact: TrackedTable[]; activity: TrackedTable[]; byId: readonly TrackedTable[] }>();
  const depsOf = (deps: ReadCacheDeps) => {
    let s = split.get(deps);
    if (!s) split.set(deps, (s = { exact: deps.tables.filter((t) => !ACTIVITY_TABLES.includes(t)), activity: deps.tables.filter((t) => ACTIVITY_TABLES.includes(t)), byId: deps.byId ?? [] }));
    return s;
  };
  const stats = (): ReadCacheStats => ({ enabled, ...counts, entries: entries.size, bytes });
  const drop = (key: string, e: Entry): void => {
    entries.delete(key);
    bytes -= e.body.length;
  };
  // refresh ahead: wanted refreshes in the order asked for (by key), at most REFRESH_CONCURRENCY at a time,
  // so that entries stored together (a start-up, a change to a table many responses show) are not all
  // read again at once in front of the requests
  const wanted = new Map<string, { entry: Entry; url: string; headers: Record<string, string | string[]>; ip: string; log: FastifyBaseLogger }>();
  /** refreshes under way, by key */
  const running = new Map<string, Promise<void>>();
  // marks the cache's own refresh requests; unguessable, so a client cannot pose as one
  const refreshToken = randomUUID();
  const settled = async (): Promise<void> => {
    while (running.size) await Promise.allSettled([...running.values()]);
  };
  const pump = (): void => {
    for (const [key, w] of wanted) {
      if (running.size >= REFRESH_CONCURRENCY) return;
      wanted.delete(key);
      // replaced or dropped meanwhile, or somebody is reading it right now: nothing to do
      if (entries.get(key) !== w.entry || flights.has(key)) continue;
      counts.refreshes++;
      const done: Promise<void> = app
        .inject({ method: 'GET', url: w.url, headers: { ...w.headers, [REFRESH_HEADER]: refreshToken }, remoteAddress: w.ip })
        .then(
          (res) => void (res.statusCode !== 200 && w.log.debug({ url: w.url, statusCode: res.statusCode }, 'read cache: refresh not stored')),
          (err: unknown) => w.log.debug({ err, url: w.url }, 'read cache: refresh failed'), // e.g. the server is closing
        )
        .finally(() => {
          running.delete(key);
          pump();
        });
      running.set(key, done);
    }
  };
  const refresh = (key: string, entry: Entry, req: FastifyRequest): void => {
    if (wanted.has(key) || running.has(key) || flights.has(key) || wanted.size >= MAX_WANTED) return;
    wanted.set(key, { entry, url: req.url, headers: endToEnd(req.headers), ip: req.ip, log: req.log });
    pump();
  };
  if (!enabled) return { stats, clear: () => undefined, settled };
  // closing: nothing new starts; what runs finishes (or fails fast: the app no longer takes requests)
  app.addHook('onClose', async () => {
    wanted.clear();
    await settled();
  });

  app.decorateRequest('readCacheStamp', null);
  app.decorateRequest('readCacheRelease', null);

  // after authentication (registered after access control): while a caller's write request runs, and
  // until its changes' notifications have arrived, that caller is not served from the cache
  app.addHook('onRequest', async (req) => {
    if (req.principal && !SAFE.has(req.method)) req.readCacheRelease = opts.changes.holdFor(writerOf(req));
  });

  // registered after access control and audit: runs after their preHandlers, i.e. only for permitted,
  // in-scope requests, with the query already rewritten by the scope
  app.addHook('preHandler', async (req, reply) => {
    const deps = req.routeOptions.config.readCache;
    if (!deps || req.method !== 'GET') return;
    const { exact, activity: act, byId } = depsOf(deps);
    // listener down, or the caller's own write not yet confirmed by its notification
    if (!opts.changes.ready || (req.principal && opts.changes.dirty(writerOf(req)))) {
      counts.bypassed++;
      void reply.header('x-cache', 'bypass');
      return;
    }
    const key = `${scopeKey(req)} ${req.url}`;
    const id = (req.params as { id?: string } | undefined)?.id;
    const versionNow = (): number => opts.changes.version(exact) + (byId.length ? opts.changes.rowVersion(byId, id ?? '') : 0);
    const version = versionNow();
    const activity = opts.changes.version(act);
    if (req.headers[REFRESH_HEADER] === refreshToken) {
      // the cache's own background read: read and store, unless somebody's read of the same is under way
      if (flights.get(key)?.version === version) return reply.header('x-cache', 'refresh').code(204).send();
      req.readCacheStamp = { key, version, activity, flight: startFlight(key, version) };
      void reply.header('x-cache', 'refresh');
      return;
    }
    const hit = entries.get(key);
    if (hit) {
      const age = now() - hit.at;
      const life = hit.activity === activity ? opts.maxAgeMs : Math.min(opts.activityLagMs, opts.maxAgeMs);
      if (hit.version === version && age <= life) {
        counts.hits++;
        entries.delete(key); // most recently used goes last
        entries.set(key, hit);
        const sent = reply.header('x-cache', 'hit').type(hit.contentType).send(hit.body);
        if (refreshAhead && age * 2 >= life && life > 0) refresh(key, hit, req);
        return sent;
      }
      drop(key, hit);
    }
    const flight = flights.get(key);
    if (flight && flight.version === version) {
      // the same response is being read right now: as fresh as a cache hit, if nothing changed meanwhile
      const e = await flight.done;
      if (e && opts.changes.ready && versionNow() === version) {
        counts.coalesced++;
        return reply.header('x-cache', 'coalesced').type(e.contentType).send(e.body);
      }
    }
    counts.misses++;
    // the version before the handler reads: a write committed meanwhile makes this entry stale at once
    req.readCacheStamp = { key, version, activity, flight: flights.get(key)?.version === version ? null : startFlight(key, version) };
    void reply.header('x-cache', 'miss');
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const stamp = req.readCacheStamp;
    if (!stamp) return payload;
    if (reply.statusCode !== 200 || typeof payload !== 'string' || payload.length > opts.maxBytes / 8) {
      stamp.flight?.finish(null);
      return payload;
    }
    const entry: Entry = { body: Buffer.from(payload, 'utf8'), contentType: String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8'), version: stamp.version, activity: stamp.activity, at: now() };
    stamp.flight?.finish(entry);
    const old = entries.get(stamp.key);
    if (old) drop(stamp.key, old);
    entries.set(stamp.key, entry);
    bytes += entry.body.length;
    counts.stored++;
    for (const [k, e] of entries) {
      if (bytes <= opts.maxBytes) break;
      drop(k, e);
      counts.evicted++;
    }
    return payload;
  });

  // whatever happened to the leader (error, aborted request), nobody waits for it any longer; a write
  // request's changes are all committed once its response is out
  app.addHook('onResponse', async (req) => {
    req.readCacheStamp?.flight?.finish(null);
    req.readCacheRelease?.();
  });
  app.addHook('onRequestAbort', async (req) => {
    req.readCacheStamp?.flight?.finish(null);
    req.readCacheRelease?.();
  });

  return {
    stats,
    clear() {
      entries.clear();
      bytes = 0;
    },
    settled,
  };
}

const REFRESH_HEADER = 'x-read-cache-refresh';
/** Background refreshes run at once; each is one read of a response (a few ms). */
const REFRESH_CONCURRENCY = 2;
/** Refreshes waiting beyond this are not queued: those entries are read on their next request instead. */
const MAX_WANTED = 10_000;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'te', 'trailer']);

/** A request's headers without those that describe its connection rather than the request. */
function endToEnd(headers: FastifyRequest['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whose writes a request makes (and must read back): the user or API key. */
function writerOf(req: FastifyRequest): string {
  return principalKey(req.principal!);
}

/** What a response may depend on besides the URL: the caller's row-level scope. */
function scopeKey(req: FastifyRequest): string {
  const p = req.principal;
  return p ? `${p.role}:${p.customerId ?? ''}:${p.engineerId ?? ''}` : 'anonymous';
}
