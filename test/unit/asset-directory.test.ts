/**
 * The asset directory's cache (ingest/asset-directory.ts) on a stand-in for the database: cached()
 * answers exactly what resolve() would without reading, and undefined whenever a read is needed.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createAssetDirectory } from '../../ingest/asset-directory.ts';
import type { Db } from '../../platform/db/database.ts';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('asset directory cache', () => {
  it('answers from the cache what resolve() would, and undefined when the database must be read', async () => {
    let reads = 0;
    const prisma = {
      asset: {
        findUnique: async ({ where }: { where: { code: string } }) => {
          reads++;
          return where.code === 'P-1' ? { id: 'id-1', code: 'P-1', type: 'pump', site: { code: 'S1' } } : null;
        },
      },
    } as unknown as Db;
    const dir = createAssetDirectory({ prisma, logger: pino({ level: 'silent' }), meterMetrics: [], negativeTtlMs: 1000 });
    close = () => dir.close();
    expect(dir.cached('S1', 'P-1', 0)).toBeUndefined();
    expect(await dir.resolve('S1', 'P-1', 0)).toMatchObject({ id: 'id-1' });
    expect(dir.cached('S1', 'P-1', 0)).toMatchObject({ id: 'id-1', siteCode: 'S1' });
    expect(dir.cached('S2', 'P-1', 0)).toEqual(await dir.resolve('S2', 'P-1', 0));
    expect(dir.cached('S2', 'P-1', 0)).toMatchObject({ error: expect.stringContaining('belongs to site S1') });
    // an unknown code: remembered for negativeTtlMs, then read again
    expect(dir.cached('S1', 'NOPE', 0)).toBeUndefined();
    expect(await dir.resolve('S1', 'NOPE', 0)).toMatchObject({ error: 'unknown asset NOPE' });
    expect(dir.cached('S1', 'NOPE', 500)).toEqual({ error: 'unknown asset NOPE' });
    expect(dir.cached('S1', 'NOPE', 1001)).toBeUndefined();
    expect(reads).toBe(2);
    dir.invalidate();
    expect(dir.cached('S1', 'P-1', 0)).toBeUndefined();
  });

  it('drops the cache when assets or sites change anywhere (the change feed), at the next tick', async () => {
    const prisma = { asset: { findUnique: async () => ({ id: 'id-1', code: 'P-1', type: 'pump', site: { code: 'S1' } }) } } as unknown as Db;
    const versions: Record<string, number> = { assets: 0, sites: 0, asset_activity: 0 };
    const changes = { version: (tables: readonly string[]) => tables.reduce((a, t) => a + (versions[t] ?? 0), 0) };
    const dir = createAssetDirectory({ prisma, logger: pino({ level: 'silent' }), meterMetrics: [], flushMs: 20, changes });
    close = () => dir.close();
    await dir.resolve('S1', 'P-1', 0);
    const tick = () => new Promise((r) => setTimeout(r, 60));
    versions.asset_activity!++; // last-seen updates by ingest itself: not an edit
    await tick();
    expect(dir.cached('S1', 'P-1', 0)).toMatchObject({ id: 'id-1' });
    versions.assets!++;
    await tick();
    expect(dir.cached('S1', 'P-1', 0)).toBeUndefined();
    await dir.resolve('S1', 'P-1', 0);
    await tick();
    expect(dir.cached('S1', 'P-1', 0)).toMatchObject({ id: 'id-1' }); // no change since: kept
    versions.sites!++;
    await tick();
    expect(dir.cached('S1', 'P-1', 0)).toBeUndefined();
  });
});
