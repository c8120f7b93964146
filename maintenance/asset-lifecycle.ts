/**
 * Asset lifecycle (pure): which status changes are allowed, what each one implies, which fields an
 * update changed, and the warranty alert window. No I/O; `assets.ts` applies the effects.
 *
 *   procured → installed → in_service ⇄ under_repair;  any non-retired → retired (final)
 */
export const ASSET_STATUSES = ['procured', 'installed', 'in_service', 'under_repair', 'retired'] as const;
export type AssetStatus = (typeof ASSET_STATUSES)[number];

/** Statuses a new asset may start in (repairs and retirement happen to existing assets). */
export const INITIAL_STATUSES: readonly AssetStatus[] = ['procured', 'installed', 'in_service'];

const NEXT: Record<AssetStatus, readonly AssetStatus[]> = {
  procured: ['installed', 'retired'],
  installed: ['in_service', 'retired'],
  in_service: ['under_repair', 'retired'],
  under_repair: ['in_service', 'retired'],
  retired: [],
};

export const allowedAssetTransitions = (from: AssetStatus): readonly AssetStatus[] => NEXT[from];

export function checkAssetTransition(from: AssetStatus, to: AssetStatus): { ok: true } | { ok: false; message: string; allowed: readonly AssetStatus[] } {
  const allowed = NEXT[from];
  if (allowed.includes(to)) return { ok: true };
  if (from === 'retired') return { ok: false, allowed, message: 'the asset is retired; retired is final' };
  if (from === to) return { ok: false, allowed, message: `the asset is already ${to}; allowed next: ${allowed.join(', ')}` };
  return { ok: false, allowed, message: `cannot move an asset from ${from} to ${to}; allowed next: ${allowed.join(', ')}` };
}

export interface TransitionEffects {
  /** Entering under_repair: the asset is down from now (one open downtime per asset). */
  openDowntime: boolean;
  /** Leaving under_repair (back in service, or retired): the open downtime ends now. */
  closeDowntime: boolean;
  /** Retiring stamps retiredAt. */
  stampRetiredAt: boolean;
  /** First installation / commissioning fills installDate / commissionedAt when they are empty. */
  fillInstallDate: boolean;
  fillCommissionedAt: boolean;
}

export function transitionEffects(from: AssetStatus, to: AssetStatus): TransitionEffects {
  return {
    openDowntime: to === 'under_repair',
    closeDowntime: from === 'under_repair',
    stampRetiredAt: to === 'retired',
    fillInstallDate: to === 'installed',
    fillCommissionedAt: to === 'in_service' && from === 'installed',
  };
}

/** The open-key of an asset's open downtime: unique while open → at most one open downtime per asset. */
export const downtimeOpenKey = (assetId: string): string => `down:${assetId}`;

/** Fields whose value differs, as {field: {from, to}} (dates compared by value, JSON by content). */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const [k, to] of Object.entries(after)) {
    if (to === undefined) continue;
    const from = before[k];
    if (comparable(from) !== comparable(to)) out[k] = { from: from ?? null, to };
  }
  return out;
}

function comparable(v: unknown): string {
  if (v instanceof Date) return `d:${v.toISOString()}`;
  if (v !== null && typeof v === 'object' && 'toNumber' in v && typeof (v as { toNumber: unknown }).toNumber === 'function') return `n:${(v as { toNumber(): number }).toNumber()}`;
  if (typeof v === 'number') return `n:${v}`;
  return `j:${stableJson(v ?? null)}`;
}

/** JSON with object keys sorted at every level (so {a, b} equals {b, a}). */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const DAY = 86_400_000;

/** Midnight UTC of a timestamp's day. */
export const utcDay = (d: Date): Date => new Date(Math.floor(d.getTime() / DAY) * DAY);

/**
 * Warranty alerts: an asset whose warranty ends between today and today + alertDays (inclusive,
 * UTC days) is due for an alert. Already-expired warranties are not alerted: the alert exists to act
 * before expiry. alertDays = 0 switches alerts off.
 */
export function warrantyAlertWindow(now: Date, alertDays: number): { from: Date; to: Date } | undefined {
  if (alertDays <= 0) return undefined;
  const from = utcDay(now);
  return { from, to: new Date(from.getTime() + alertDays * DAY) };
}

/** Whole days from today (UTC) to the warranty end date: 0 = ends today, negative = already ended. */
export const daysUntil = (date: Date, now: Date): number => Math.round((utcDay(date).getTime() - utcDay(now).getTime()) / DAY);

export const warrantyDedupeKey = (assetId: string, warrantyEnd: Date): string => `warranty:${assetId}:${warrantyEnd.toISOString().slice(0, 10)}`;
