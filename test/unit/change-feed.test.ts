/**
 * Change tracking for the read cache: which tables a statement writes, and that a pool connection's
 * writes count only once committed (a count before the commit would let a concurrent read cache the
 * old rows under the new version).
 */
import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import { watchConnection, writtenTables } from '../../platform/db/change-feed.ts';

describe('writtenTables', () => {
  it('finds the targets of Prisma-generated and hand-written writes', () => {
    expect(writtenTables('INSERT INTO "public"."work_orders" ("id","title") VALUES ($1,$2) RETURNING "public"."work_orders"."id"')).toEqual(['work_orders']);
    expect(writtenTables('UPDATE "public"."assets" SET "name" = $1 WHERE ("public"."assets"."id" = $2)')).toEqual(['assets']);
    expect(writtenTables('DELETE FROM "public"."asset_downtimes" WHERE "id" = $1')).toEqual(['asset_downtimes']);
    expect(writtenTables('update assets set name = v.name from unnest($1::text[]) as v(name)')).toEqual(['assets']);
    expect(writtenTables('INSERT INTO meters (asset_id) SELECT 1 ON CONFLICT (asset_id, name) DO UPDATE SET value = EXCLUDED.value')).toEqual(['meters']);
    expect(writtenTables('TRUNCATE TABLE alarms, work_orders')).toEqual(['alarms']); // first target; the trigger catches the rest
    expect(writtenTables('WITH x AS (UPDATE work_orders SET status = $1 RETURNING id) INSERT INTO work_order_events SELECT id FROM x')).toEqual(['work_orders', 'work_order_events']);
  });

  it('tells the ingest last-seen update (asset_activity) from any other asset update', () => {
    const activity = `UPDATE assets SET last_seen_at = v.ts FROM unnest($1::text[], $2::timestamptz[]) AS v(id, ts)
           WHERE assets.id = v.id AND (assets.last_seen_at IS NULL OR assets.last_seen_at < v.ts)`;
    expect(writtenTables(activity)).toEqual(['asset_activity']);
    expect(writtenTables('UPDATE "public"."assets" SET "last_seen_at" = $1 WHERE "id" = $2')).toEqual(['asset_activity']);
    expect(writtenTables('UPDATE assets SET last_seen_at = $1, name = $2 WHERE id = $3')).toEqual(['assets']);
    expect(writtenTables('UPDATE assets SET last_seen_at = (SELECT max(ts) FROM x), name = $1 WHERE id = $2')).toEqual(['assets']);
    expect(writtenTables('UPDATE assets SET online = $1, online_changed_at = $2 WHERE code = $3')).toEqual(['assets']);
  });

  it('ignores reads, locks and untracked tables', () => {
    expect(writtenTables('SELECT "id" FROM "public"."work_orders" WHERE "status" = $1')).toEqual([]);
    expect(writtenTables('SELECT id FROM work_orders WHERE id = $1 FOR UPDATE')).toEqual([]);
    expect(writtenTables('INSERT INTO "public"."audit_log" ("id") VALUES ($1)')).toEqual([]);
    expect(writtenTables('SELECT updated_at FROM assets')).toEqual([]);
  });
});

/** A stand-in for a pg connection: records statements and lets the test finish them in any order. */
function fakeConnection() {
  const calls: { sql: string; finish(): void; fail(): void }[] = [];
  const client = {
    query(config: string | { text: string }, values?: unknown, cb?: (err: Error | null, r?: unknown) => void): Promise<unknown> | undefined {
      const sql = typeof config === 'string' ? config : config.text;
      const callback = typeof values === 'function' ? (values as typeof cb) : cb;
      if (callback) {
        calls.push({ sql, finish: () => callback(null, { rows: [] }), fail: () => callback(new Error('boom')) });
        return undefined;
      }
      return new Promise((resolve, reject) => calls.push({ sql, finish: () => resolve({ rows: [] }), fail: () => reject(new Error('boom')) }));
    },
  };
  const committed: string[][] = [];
  watchConnection(client as unknown as pg.Client, (tables) => committed.push([...tables]));
  return { client, calls, committed };
}

describe('watchConnection', () => {
  it('counts a write outside a transaction when it completes, not when it is sent', async () => {
    const { client, calls, committed } = fakeConnection();
    const done = client.query('UPDATE "public"."work_orders" SET "title" = $1');
    expect(committed).toEqual([]);
    calls[0]!.finish();
    await done;
    expect(committed).toEqual([['work_orders']]);
  });

  it('counts writes inside a transaction only when the COMMIT completes', async () => {
    const { client, calls, committed } = fakeConnection();
    void client.query({ text: 'BEGIN' });
    void client.query({ text: 'UPDATE "public"."work_orders" SET "status" = $1' });
    void client.query({ text: 'INSERT INTO "public"."work_order_events" ("id") VALUES ($1)' });
    void client.query({ text: 'SAVEPOINT s1' });
    void client.query({ text: 'ROLLBACK TO SAVEPOINT s1' });
    for (const c of calls) c.finish();
    await Promise.resolve();
    expect(committed).toEqual([]); // still open: a concurrent read must not see a new version yet
    const commit = client.query({ text: 'COMMIT' });
    await Promise.resolve();
    expect(committed).toEqual([]);
    calls.at(-1)!.finish();
    await commit;
    expect(committed).toEqual([['work_orders', 'work_order_events']]);
  });

  it('counts on a failed write and on ROLLBACK too (counting too often is harmless), and supports callbacks', async () => {
    const { client, calls, committed } = fakeConnection();
    const failed = client.query('DELETE FROM assets WHERE id = $1');
    calls[0]!.fail();
    await expect(failed).rejects.toThrow('boom');
    expect(committed).toEqual([['assets']]);
    void client.query('BEGIN');
    void client.query('UPDATE meters SET value = 1');
    const rolledBack = client.query('ROLLBACK');
    for (const c of calls.slice(1)) c.finish();
    await rolledBack;
    expect(committed).toEqual([['assets'], ['meters']]);
    let called = false;
    client.query('UPDATE alarms SET status = $1', ['cleared'], () => {
      called = true;
      expect(committed.at(-1)).toEqual(['alarms']); // counted before the caller's callback runs
    });
    calls.at(-1)!.finish();
    expect(called).toBe(true);
  });
});
