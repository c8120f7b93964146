/**
 * API read cache: the serialized 200 responses of GET routes that opt in with
 * `config: { readCache: [tables...] }`, reused while none of those tables has changed (versions from
 * platform/db/change-feed.ts: this instance's writes count before their await returns; other
 * writers' at PostgreSQL NOTIFY delivery, i.e. milliseconds after their commit).
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
 * `x-cache: hit | miss | bypass` says what happened.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ACTIVITY_TABLES, type ChangeFeed, type TrackedTable } from '../platform/db/change-feed.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Cache this GET route's 200 responses until one of these tables changes. */
    readCache?: readonly TrackedTable[];
  }
  interface FastifyRequest {
    readCacheStamp: { key: string; version: number; activity: number } | null;
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
  now?: () => number;
}

interface Entry {
  body: string;
  contentType: string;
  /** version of the route's other tables when the handler started reading */
  version: number;
  /** version of its activity tables then */
  activity: number;
  at: number;
}

export interface ReadCacheStats {
  enabled: boolean;
  hits: number;
  misses: number;
  bypassed: number;
  stored: number;
  evicted: number;
  entries: number;
  bytes: number;
}

export function installReadCache(app: FastifyInstance, opts: ReadCacheOptions): { stats(): ReadCacheStats; clear(): void } {
  const now = opts.now ?? Date.now;
  const enabled = opts.maxAgeMs > 0;
  const entries = new Map<string, Entry>(); // insertion order = least recently used first
  let bytes = 0;
  const counts = { hits: 0, misses: 0, bypassed: 0, stored: 0, evicted: 0 };
  const split = new Map<readonly TrackedTable[], { exact: TrackedTable[]; activity: TrackedTable[] }>();
  const tablesOf = (tables: readonly TrackedTable[]) => {
    let s = split.get(tables);
    if (!s) split.set(tables, (s = { exact: tables.filter((t) => !ACTIVITY_TABLES.includes(t)), activity: tables.filter((t) => ACTIVITY_TABLES.includes(t)) }));
    return s;
  };
  const stats = (): ReadCacheStats => ({ enabled, ...counts, entries: entries.size, bytes });
  const drop = (key: string, e: Entry): void => {
    entries.delete(key);
    bytes -= e.body.length;
  };
  if (!enabled) return { stats, clear: () => undefined };

  app.decorateRequest('readCacheStamp', null);

  // registered after access control and audit: runs after their preHandlers, i.e. only for permitted,
  // in-scope requests, with the query already rewritten by the scope
  app.addHook('preHandler', async (req, reply) => {
    const tables = req.routeOptions.config.readCache;
    if (!tables || req.method !== 'GET') return;
    if (!opts.changes.ready) {
      counts.bypassed++;
      void reply.header('x-cache', 'bypass');
      return;
    }
    const key = `${scopeKey(req)} ${req.url}`;
    const { exact, activity: act } = tablesOf(tables);
    const version = opts.changes.version(exact);
    const activity = opts.changes.version(act);
    const hit = entries.get(key);
    if (hit) {
      const age = now() - hit.at;
      if (hit.version === version && age <= opts.maxAgeMs && (hit.activity === activity || age <= opts.activityLagMs)) {
        counts.hits++;
        entries.delete(key); // most recently used goes last
        entries.set(key, hit);
        return reply.header('x-cache', 'hit').type(hit.contentType).send(hit.body);
      }
      drop(key, hit);
    }
    counts.misses++;
    // the version before the handler reads: a write committed meanwhile makes this entry stale at once
    req.readCacheStamp = { key, version, activity };
    void reply.header('x-cache', 'miss');
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const stamp = req.readCacheStamp;
    if (!stamp || reply.statusCode !== 200 || typeof payload !== 'string' || payload.length > opts.maxBytes / 8) return payload;
    const old = entries.get(stamp.key);
    if (old) drop(stamp.key, old);
    entries.set(stamp.key, { body: payload, contentType: String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8'), version: stamp.version, activity: stamp.activity, at: now() });
    bytes += payload.length;
    counts.stored++;
    for (const [k, e] of entries) {
      if (bytes <= opts.maxBytes) break;
      drop(k, e);
      counts.evicted++;
    }
    return payload;
  });

  return {
    stats,
    clear() {
      entries.clear();
      bytes = 0;
    },
  };
}

/** What a response may depend on besides the URL: the caller's row-level scope. */
function scopeKey(req: FastifyRequest): string {
  const p = req.principal;
  return p ? `${p.role}:${p.customerId ?? ''}:${p.engineerId ?? ''}` : 'anonymous';
}
