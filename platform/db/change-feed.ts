/**
 * Which rows changed, as versions, for caches that must never serve data older than the last
 * committed write (the API read cache, api/read-cache.ts).
 *
 * Source of truth: statement triggers on the tracked tables (migration 20261127090000) send
 * `pg_notify('om_change', 'table|key,key,…')` — or just 'table' for bulk changes — which PostgreSQL
 * delivers at commit, in commit order, to every instance; a dedicated connection LISTENs. Versions
 * exist per table (anything in it changed) and per row key (that row, or rows belonging to that
 * parent, changed), the latter in a fixed number of hashed slots per table (a collision only costs a
 * needless refresh).
 *
 * Read-your-writes: a notification arrives a moment after its commit, so a caller who has just
 * written must not be served from a cache until it has. `holdFor(writer)` marks the writer (the API
 * holds its caller for the whole of each write request); releasing the hold sends a sync message on
 * the listening connection, which comes back after the notifications of everything committed before,
 * and only then does `dirty(writer)` turn false. Everybody else sees a change when its notification
 * arrives, as for changes by other instances, ingest and the rules engine. While the listener is down
 * the feed is not `ready`; when it is back every version moves on.
 *
 * Embedded PGlite has one connection and no other writers, and runs LISTEN callbacks at commit, inside
 * the writing call: the notifications alone are exact there.
 */
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from '../logger.ts';

export const CHANGE_CHANNEL = 'om_change';
/** application_name of the listening connection (pg_stat_activity). */
export const LISTENER_APP_NAME = 'om-change-listener';

/**
 * Tables with change triggers; a cache may only depend on these. `asset_activity` is the assets table
 * when nothing but last_seen_at changed (ingest writes it every second): what shows assets depends on
 * both, what only shows asset codes on `assets` alone.
 */
export const TRACKED_TABLES = ['sites', 'areas', 'assets', 'asset_activity', 'meters', 'asset_downtimes', 'alarms', 'work_orders', 'work_order_events'] as const;
export type TrackedTable = (typeof TRACKED_TABLES)[number];
/** Telemetry-driven tables rewritten every second by ingest (last-seen times, meter readings). */
export const ACTIVITY_TABLES: readonly TrackedTable[] = ['asset_activity', 'meters'];
const TRACKED = new Set<string>(TRACKED_TABLES);
const SLOTS = 4096;

export interface ChangeFeedStats {
  ready: boolean;
  /** notifications per table (row-level and bulk) */
  changes: Record<string, number>;
  notifications: number;
  /** sync messages sent after local commits, and how many timed out */
  syncs: number;
  syncTimeouts: number;
  reconnects: number;
}

export interface ChangeFeed {
  /** False while changes by other writers could go unseen (listener reconnecting). */
  readonly ready: boolean;
  /** Grows whenever anything in `tables` changes (or the feed reconnects). */
  version(tables: readonly TrackedTable[]): number;
  /** Grows whenever a row of `tables` keyed `key` (its id, or its parent's) changes. */
  rowVersion(tables: readonly TrackedTable[], key: string): number;
  /** Marks `writer` as writing until the returned release is called and its writes' notifications have arrived. */
  holdFor(writer: string): () => void;
  /** True while `writer` is held: it must not be served cached data. */
  dirty(writer: string): boolean;
  stats(): ChangeFeedStats;
  close(): Promise<void>;
}

function slotOf(key: string): number {
  let h = 2166136261; // FNV-1a
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) % SLOTS;
}

/** Version counters, fed with notification payloads. */
export function createVersions() {
  let all = 0;
  const bulk = new Map<string, number>();
  const rows = new Map<string, number>();
  const slots = new Map<string, Uint32Array>();
  const received = new Map<string, number>();
  const inc = (m: Map<string, number>, t: string): void => void m.set(t, (m.get(t) ?? 0) + 1);
  return {
    /** 'table' | 'table|key,key,…' */
    apply(payload: string): void {
      const bar = payload.indexOf('|');
      const table = bar < 0 ? payload : payload.slice(0, bar);
      if (!TRACKED.has(table)) return;
      inc(received, table);
      if (bar < 0) return inc(bulk, table);
      inc(rows, table);
      const keys = payload.slice(bar + 1);
      if (!keys) return;
      let s = slots.get(table);
      if (!s) slots.set(table, (s = new Uint32Array(SLOTS)));
      for (const k of keys.split(',')) s[slotOf(k)]!++;
    },
    bumpAll(): void {
      all++;
    },
    version(tables: readonly string[]): number {
      let v = all;
      for (const t of tables) v += (bulk.get(t) ?? 0) + (rows.get(t) ?? 0);
      return v;
    },
    rowVersion(tables: readonly string[], key: string): number {
      let v = all;
      const i = slotOf(key);
      for (const t of tables) v += (bulk.get(t) ?? 0) + (slots.get(t)?.[i] ?? 0);
      return v;
    },
    received: () => Object.fromEntries(received),
  };
}

/** PostgreSQL: LISTEN on a dedicated connection (reconnecting). */
export function pgChangeFeed(opts: { connectionString: string; logger: Logger; retryMs?: number; syncTimeoutMs?: number }): ChangeFeed & { start(): Promise<void> } {
  const log = opts.logger.child({ module: 'change-feed' });
  const versions = createVersions();
  const holds = new Map<string, number>();
  const waiting = new Map<string, () => void>(); // sync token → release
  let notifications = 0;
  let syncs = 0;
  let syncTimeouts = 0;
  let reconnects = 0;
  let nextSync = 0;
  let listener: pg.Client | undefined;
  let ready = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const token = `${process.pid}.${Math.random().toString(36).slice(2, 8)}`;

  const held = (writer: string, by: number): void => {
    const n = (holds.get(writer) ?? 0) + by;
    if (n > 0) holds.set(writer, n);
    else holds.delete(writer);
  };

  /** The writer's writes are over: clean once a message sent now has come back through the listener. */
  function settle(writer: string): void {
    const via = listener;
    if (!via || !ready) {
      // not listening: the feed is not ready (nothing is served) and reconnecting moves every version on
      held(writer, -1);
      return;
    }
    const id = `sync:${token}:${++nextSync}`;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      waiting.delete(id);
      held(writer, -1);
    };
    const timer = setTimeout(() => {
      // lost: nothing cached before now may be trusted
      syncTimeouts++;
      versions.bumpAll();
      release();
    }, opts.syncTimeoutMs ?? 5000);
    timer.unref();
    waiting.set(id, release);
    syncs++;
    // on the listening connection itself: never queued behind the pool's work, and sent after the
    // writes' commits, so delivered after their notifications
    via.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, id]).catch(() => {
      versions.bumpAll();
      release();
    });
  }

  async function listen(): Promise<void> {
    const client = new pg.Client({ connectionString: opts.connectionString, keepAlive: true, application_name: LISTENER_APP_NAME });
    const lost = (why: string): void => {
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
      const payload = n.payload ?? '';
      if (payload.startsWith('sync:')) return waiting.get(payload)?.();
      notifications++;
      versions.apply(payload);
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
    // anything may have changed while nobody listened; syncs sent meanwhile will never come back
    versions.bumpAll();
    for (const release of [...waiting.values()]) release();
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
    rowVersion: (tables, key) => versions.rowVersion(tables, key),
    holdFor(writer) {
      held(writer, 1);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        settle(writer);
      };
    },
    dirty: (writer) => holds.has(writer),
    stats: () => ({ ready, changes: versions.received(), notifications, syncs, syncTimeouts, reconnects }),
    async close() {
      closed = true;
      ready = false;
      clearTimeout(retry);
      for (const release of [...waiting.values()]) release();
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
    versions.apply(payload);
  });
  return {
    ready: true,
    version: (tables) => versions.version(tables),
    rowVersion: (tables, key) => versions.rowVersion(tables, key),
    holdFor: () => () => undefined,
    dirty: () => false,
    stats: () => ({ ready: true, changes: versions.received(), notifications, syncs: 0, syncTimeouts: 0, reconnects: 0 }),
    close: async () => {
      await unlisten().catch(() => undefined);
    },
  };
}
