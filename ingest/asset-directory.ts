/**
 * Resolves the asset code in a topic to the asset (cached), and records activity: last-seen time per
 * asset and the latest value of counter metrics (meters), both written in batches.
 */
import type { Db } from '../platform/db/database.ts';
import type { ChangeFeed } from '../platform/db/change-feed.ts';
import type { Logger } from '../platform/logger.ts';

export interface KnownAsset {
  id: string;
  code: string;
  siteCode: string;
  type: string;
}

export function createAssetDirectory(deps: {
  prisma: Db;
  logger: Logger;
  meterMetrics: readonly string[];
  flushMs?: number;
  negativeTtlMs?: number;
  /** Asset and site edits by any process (an API apart, another thread): the cache is dropped at the next flush tick. */
  changes?: Pick<ChangeFeed, 'version'>;
}) {
  const log = deps.logger.child({ module: 'asset-directory' });
  const known = new Map<string, KnownAsset>();
  const unknownUntil = new Map<string, number>();
  const negativeTtl = deps.negativeTtlMs ?? 5000;
  const meterSet = new Set(deps.meterMetrics);
  let lastSeen = new Map<string, Date>();
  let meters = new Map<string, { assetId: string; name: string; value: number; ts: Date }>();

  async function writeActivity(): Promise<void> {
    const seen = lastSeen;
    const m = meters;
    lastSeen = new Map();
    meters = new Map();
    try {
      if (seen.size > 0) {
        await deps.prisma.$executeRawUnsafe(
          `UPDATE assets SET last_seen_at = v.ts FROM unnest($1::text[], $2::timestamptz[]) AS v(id, ts)
           WHERE assets.id = v.id AND (assets.last_seen_at IS NULL OR assets.last_seen_at < v.ts)`,
          [...seen.keys()],
          [...seen.values()],
        );
      }
      if (m.size > 0) {
        const rows = [...m.values()];
        await deps.prisma.$executeRawUnsafe(
          `INSERT INTO meters (asset_id, name, value, read_at, updated_at)
           SELECT v.asset_id, v.name, v.value, v.ts, now() FROM unnest($1::text[], $2::text[], $3::float8[], $4::timestamptz[]) AS v(asset_id, name, value, ts)
           ON CONFLICT (asset_id, name) DO UPDATE SET value = EXCLUDED.value, read_at = EXCLUDED.read_at, updated_at = now()
           WHERE meters.read_at <= EXCLUDED.read_at`,
          rows.map((r) => r.assetId),
          rows.map((r) => r.name),
          rows.map((r) => r.value),
          rows.map((r) => r.ts),
        );
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'activity write failed; merged back for the next try');
      for (const [k, v] of seen) if (!lastSeen.has(k)) lastSeen.set(k, v);
      for (const [k, v] of m) if (!meters.has(k)) meters.set(k, v);
    }
  }

  let inFlight: Promise<void> | undefined;
  const flush = (): Promise<void> =>
    (inFlight ??= writeActivity().finally(() => {
      inFlight = undefined;
    }));
  /** Forget cached assets (after asset edits). */
  const invalidate = (): void => {
    known.clear();
    unknownUntil.clear();
  };
  const EDITS = ['assets', 'sites'] as const;
  let editsSeen = deps.changes?.version(EDITS);
  const timer = setInterval(() => {
    const edits = deps.changes?.version(EDITS);
    if (edits !== editsSeen) {
      editsSeen = edits;
      invalidate();
    }
    void flush();
  }, deps.flushMs ?? 1000);
  timer.unref();

  /** The asset if it is at this site, else why not. */
  const atSite = (a: KnownAsset, siteCode: string): KnownAsset | { error: string } =>
    a.siteCode === siteCode ? a : { error: `asset ${a.code} belongs to site ${a.siteCode}, not ${siteCode}` };

  /** What resolve() would give without reading the database, or undefined when it must read. */
  function cached(siteCode: string, assetCode: string, now: number): KnownAsset | { error: string } | undefined {
    const a = known.get(assetCode);
    if (a) return atSite(a, siteCode);
    const until = unknownUntil.get(assetCode);
    return until !== undefined && until > now ? { error: `unknown asset ${assetCode}` } : undefined;
  }

  return {
    cached,

    /** The asset for a topic's codes; an error when unknown or at another site. */
    async resolve(siteCode: string, assetCode: string, now: number): Promise<KnownAsset | { error: string }> {
      const hit = cached(siteCode, assetCode, now);
      if (hit) return hit;
      const row = await deps.prisma.asset.findUnique({ where: { code: assetCode }, select: { id: true, code: true, type: true, site: { select: { code: true } } } });
      if (!row) {
        unknownUntil.set(assetCode, now + negativeTtl);
        return { error: `unknown asset ${assetCode}` };
      }
      const a: KnownAsset = { id: row.id, code: row.code, siteCode: row.site.code, type: row.type };
      known.set(assetCode, a);
      unknownUntil.delete(assetCode);
      return atSite(a, siteCode);
    },

    noteActivity(asset: KnownAsset, ts: Date, metrics: Record<string, number>): void {
      const prev = lastSeen.get(asset.id);
      if (!prev || prev < ts) lastSeen.set(asset.id, ts);
      for (const name in metrics) {
        if (!meterSet.has(name)) continue;
        const value = metrics[name]!;
        const k = `${asset.id}|${name}`;
        const cur = meters.get(k);
        if (!cur || cur.ts <= ts) meters.set(k, { assetId: asset.id, name, value, ts });
      }
    },

    invalidate,

    async flush(): Promise<void> {
      if (inFlight) await inFlight;
      await flush();
    },

    async close(): Promise<void> {
      clearInterval(timer);
      await this.flush();
    },
  };
}

export type AssetDirectory = ReturnType<typeof createAssetDirectory>;
