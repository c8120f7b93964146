/**
 * Which tables changed, as a version per table, for caches that must never serve data older than
 * the last committed write (the API read cache, api/read-cache.ts).
 *
 * Two sources, both counted after commit:
 * - this process's own writes: every PostgreSQL connection of the pool is watched
 *   (`watchConnection`); a write statement outside a transaction counts when it completes, one inside
 *   a transaction when the COMMIT (or ROLLBACK: counting too often is harmless) completes — before
 *   the caller's await returns, so a read that follows a write in this process always sees it;
 * - everyone else's (other instances, psql, functions that write): statement triggers on the
 *   tracked tables send `pg_notify('om_change', table)` at commit (migration 20261127090000), and a
 *   dedicated connection LISTENs. While that connection is down the feed is not `ready` (callers must
 *   not trust versions); when it is back every version moves on, so nothing cached before is reused.
 *
 * Embedded PGlite has one connection and no other writers; its LISTEN callback runs at commit, before
 * the writing query's promise resolves, so it is the only source needed there.
 */
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from '../logger.ts';

export const CHANGE_CHANNEL = 'om_change';

/**
 * Tables with a change trigger; a cache may only depend on these. `asset_activity` is the assets
 * table when nothing but last_seen_at changed (ingest writes it every second): what shows assets
 * depends on both, what only shows asset codes on `assets` alone.
 */
export const TRACKED_TABLES = ['sites', 'areas', 'assets', 'asset_activity', 'meters', 'asset_downtimes', 'alarms', 'work_orders', 'work_order_events'] as const;
export type TrackedTable = (typeof TRACKED_TABLES)[number];
/** Telemetry-driven tables rewritten every second by ingest (last-seen times, meter readings). */
export const ACTIVITY_TABLES: readonly TrackedTable[] = ['asset_activity', 'meters'];
const TRACKED = new Set<string>(TRACKED_TABLES);

export interface ChangeFeedStats {
  ready: boolean;
  /** changes counted, per table (a change seen both locally and by NOTIFY counts twice) */
  changes: Record<string, number>;
  notifications: number;
  reconnects: number;
}

export interface ChangeFeed {
  /** False while changes by other writers could go unseen (listener reconnecting). */
  readonly ready: boolean;
  /** A number that grows whenever any of `tables` changes (or the feed reconnects). */
  version(tables: readonly TrackedTable[]): number;
  /** Counts a change (exposed for writers the feed cannot see, and for tests). */
  changed(table: string): void;
  stats(): ChangeFeedStats;
  close(): Promise<void>;
}

/** `UPDATE assets SET last_seen_at = <expression> FROM|WHERE …`: nothing but the activity column. */
const ACTIVITY_ONLY = /^\s*update\s+(?:"?public"?\.)?"?assets"?\s+set\s+"?last_seen_at"?\s*=\s*[^,;()]*?\s(?:from|where)\s/i;

/** Tables a SQL statement writes, as far as its text says (INSERT/UPDATE/DELETE/TRUNCATE targets). */
export function writtenTables(sql: string): string[] {
  if (!/insert|update|delete|truncate/i.test(sql)) return [];
  if (ACTIVITY_ONLY.test(sql)) return ['asset_activity'];
  const out: string[] = [];
  const re = /\b(?:insert\s+into|update|delete\s+from|truncate(?:\s+table)?)\s+(?:only\s+)?(?:"?public"?\.)?"?([a-z_][a-z0-9_]*)"?/gi;
  for (const m of sql.matchAll(re)) {
    const t = m[1]!.toLowerCase();
    if (TRACKED.has(t) && !out.includes(t)) out.push(t);
  }
  return out;
}

function createVersions() {
  const counts = new Map<string, number>();
  let all = 0;
  return {
    bump(table: string): void {
      if (!TRACKED.has(table)) return;
      counts.set(table, (counts.get(table) ?? 0) + 1);
    },
    bumpAll(): void {
      all++;
    },
    version(tables: readonly TrackedTable[]): number {
      let v = all;
      for (const t of tables) v += counts.get(t) ?? 0;
      return v;
    },
    changes: () => Object.fromEntries(counts),
  };
}

type QueryFn = (...args: unknown[]) => unknown;

/**
 * Watches one pool connection's statements (pg's `client.query`, promise or callback style) and
 * counts the tables it writes once they are committed.
 */
export function watchConnection(client: pg.PoolClient | pg.Client, onCommitted: (tables: Iterable<string>) => void): void {
  const original = client.query.bind(client) as QueryFn;
  let inTransaction = false;
  const pending = new Set<string>();
  const patched: QueryFn = (...args) => {
    const first = args[0];
    const sql = typeof first === 'string' ? first : first && typeof first === 'object' && 'text' in first ? String((first as { text: unknown }).text) : '';
    let after: (() => void) | undefined;
    if (/^\s*(begin|start\s+transaction)\b/i.test(sql)) {
      inTransaction = true;
      pending.clear();
    } else if (/^\s*(commit|end|rollback)\b(?!\s+to\b)/i.test(sql)) {
      after = () => {
        inTransaction = false;
        if (pending.size) onCommitted([...pending]);
        pending.clear();
      };
    } else {
      const tables = writtenTables(sql);
      if (tables.length) {
        if (inTransaction) for (const t of tables) pending.add(t);
        else after = () => onCommitted(tables);
      }
    }
    if (!after) return original(...args);
    const done = after;
    const cbIndex = args.findIndex((a) => typeof a === 'function');
    if (cbIndex >= 0) {
      const cb = args[cbIndex] as (...r: unknown[]) => void;
      args[cbIndex] = (...r: unknown[]) => {
        done();
        cb(...r);
      };
      return original(...args);
    }
    const result = original(...args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      return (result as Promise<unknown>).then(
        (v) => {
          done();
          return v;
        },
        (err: unknown) => {
          done();
          throw err;
        },
      );
    }
    return result;
  };
  (client as unknown as { query: QueryFn }).query = patched;
}

/** PostgreSQL: watch the pool's connections and LISTEN on a dedicated connection (reconnecting). */
export function pgChangeFeed(opts: { pool: pg.Pool; connectionString: string; logger: Logger; retryMs?: number }): ChangeFeed & { start(): Promise<void> } {
  const log = opts.logger.child({ module: 'change-feed' });
  const versions = createVersions();
  let notifications = 0;
  let reconnects = 0;
  let listener: pg.Client | undefined;
  let ready = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  opts.pool.on('connect', (client) => watchConnection(client, (tables) => {
    for (const t of tables) versions.bump(t);
  }));

  async function listen(): Promise<void> {
    const client = new pg.Client({ connectionString: opts.connectionString, keepAlive: true });
    const lost = (why: string) => {
      if (listener !== client) return;
      listener = undefined;
      ready = false;
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      if (closed) return;
      log.warn({ why }, 'change listener lost; API read cache bypassed until it is back');
      schedule();
    };
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('connection ended'));
    client.on('notification', (n) => {
      notifications++;
      if (n.payload) versions.bump(n.payload);
    });
    listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (err) {
      lost((err as Error).message);
      return;
    }
    if (listener !== client || closed) return;
    // anything may have changed while nobody listened
    versions.bumpAll();
    ready = true;
  }

  function schedule(): void {
    clearTimeout(retry);
    retry = setTimeout(() => {
      reconnects++;
      void listen();
    }, opts.retryMs ?? 1000);
    retry.unref();
  }

  return {
    get ready() {
      return ready;
    },
    start: listen,
    version: (tables) => versions.version(tables),
    changed: (t) => versions.bump(t),
    stats: () => ({ ready, changes: versions.changes(), notifications, reconnects }),
    async close() {
      closed = true;
      ready = false;
      clearTimeout(retry);
      const c = listener;
      listener = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}

/** Embedded PGlite: its LISTEN callback runs at commit, inside the writing call. */
export async function liteChangeFeed(lite: PGlite): Promise<ChangeFeed> {
  const versions = createVersions();
  let notifications = 0;
  const unlisten = await lite.listen(CHANGE_CHANNEL, (payload) => {
    notifications++;
    versions.bump(payload);
  });
  return {
    ready: true,
    version: (tables) => versions.version(tables),
    changed: (t) => versions.bump(t),
    stats: () => ({ ready: true, changes: versions.changes(), notifications, reconnects: 0 }),
    close: async () => {
      await unlisten().catch(() => undefined);
    },
  };
}
