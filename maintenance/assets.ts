/**
 * Sites, areas/lines and assets with their lifecycle: codes following a naming convention
 * (`asset-code.ts`), status changes with their effects (`asset-lifecycle.ts`: downtime, retirement),
 * an event for every change, downtime periods and availability (`asset-downtime.ts`), one history
 * timeline (`asset-history.ts`), the component tree, warranty alerts and QR codes. Also engineers.
 */
import QRCode from 'qrcode';
import type { Clock } from '../platform/clock.ts';
import type { Db, DbTx, Prisma } from '../platform/db/database.ts';
import type { Logger } from '../platform/logger.ts';
import type { NotificationService } from './notifications.ts';
import type { WorkOrderHooks } from './work-orders.ts';
import { AppError, conflict, isForeignKeyViolation, isUniqueViolation, notFound } from '../platform/errors.ts';
import { buildCode, checkCode, conventionFields, parseConvention, type CodeField, type CodeFields, type Convention } from './asset-code.ts';
import { clippedMs, downtimeInWindow, msToHours, periodHours } from './asset-downtime.ts';
import { alarmEntries, downtimeEntry, eventEntry, mergeTimeline, workOrderEntries, type TimelineEntry } from './asset-history.ts';
import {
  changedFields,
  checkAssetTransition,
  daysUntil,
  downtimeOpenKey,
  INITIAL_STATUSES,
  transitionEffects,
  utcDay,
  warrantyAlertWindow,
  warrantyDedupeKey,
  type AssetStatus,
} from './asset-lifecycle.ts';

export type { AssetStatus } from './asset-lifecycle.ts';
export type Criticality = 'low' | 'medium' | 'high' | 'critical';
export type AreaKind = 'area' | 'line';

export interface AssetInput {
  /** Optional when ASSET_CODE_MODE is enforce or generate (then generated from the convention). */
  code?: string | undefined;
  name: string;
  type: string;
  brand?: string | null | undefined;
  model?: string | null | undefined;
  serial?: string | null | undefined;
  siteId: string;
  areaId?: string | null | undefined;
  parentId?: string | null | undefined;
  criticality?: Criticality | undefined;
  supplier?: string | null | undefined;
  purchaseCost?: number | null | undefined;
  purchaseDate?: string | null | undefined;
  commissionedAt?: string | null | undefined;
  installDate?: string | null | undefined;
  warrantyEnd?: string | null | undefined;
  specs?: Record<string, unknown> | undefined;
  status?: AssetStatus | undefined;
  /** Who made the change (recorded on the asset event). */
  actor?: string | undefined;
}

export type AssetPatch = Partial<AssetInput>;

export interface StatusChange {
  status: AssetStatus;
  note?: string | undefined;
  actor?: string | undefined;
  /** The work order the change belongs to (entering under_repair links the downtime to it). */
  workOrderId?: string | undefined;
}

export const assetSelect = {
  id: true,
  code: true,
  name: true,
  type: true,
  brand: true,
  model: true,
  serial: true,
  siteId: true,
  areaId: true,
  parentId: true,
  criticality: true,
  supplier: true,
  purchaseCost: true,
  purchaseDate: true,
  commissionedAt: true,
  installDate: true,
  warrantyEnd: true,
  retiredAt: true,
  specs: true,
  status: true,
  lastSeenAt: true,
  createdAt: true,
  updatedAt: true,
  site: { select: { code: true } },
  area: { select: { code: true } },
} satisfies Prisma.AssetSelect;

type SelectedAsset = Prisma.AssetGetPayload<{ select: typeof assetSelect }>;

/** GET /assets/:id: the list fields plus meters and the open downtime. */
export type AssetDetail = SelectedAsset & {
  meters: { name: string; value: number; unit: string | null; readAt: Date }[];
  openDowntime: { id: string; reason: string; startedAt: Date; workOrderId: string | null } | null;
};

/** The row of AssetsService.get's statement (relations flattened, JSON sub-selects with ISO timestamps). */
type AssetDetailRow = Omit<SelectedAsset, 'site' | 'area'> & {
  siteCode: string;
  areaCode: string | null;
  meters: { name: string; value: number; unit: string | null; readAt: string }[] | null;
  openDowntime: { id: string; reason: string; startedAt: string; workOrderId: string | null } | null;
};

const areaSelect = { id: true, siteId: true, parentId: true, code: true, name: true, kind: true, createdAt: true } satisfies Prisma.AreaSelect;
const downtimeSelect = { id: true, assetId: true, workOrderId: true, reason: true, startedAt: true, endedAt: true } satisfies Prisma.AssetDowntimeSelect;
const treeNodeSelect = { id: true, code: true, name: true, type: true, status: true, criticality: true, areaId: true, parentId: true } satisfies Prisma.AssetSelect;

/** Fields an update may change, as stored (for before/after in `updated` events). */
const editableSelect = {
  code: true,
  name: true,
  type: true,
  brand: true,
  model: true,
  serial: true,
  siteId: true,
  areaId: true,
  parentId: true,
  criticality: true,
  supplier: true,
  purchaseCost: true,
  purchaseDate: true,
  commissionedAt: true,
  installDate: true,
  warrantyEnd: true,
  specs: true,
  status: true,
  site: { select: { code: true } },
} satisfies Prisma.AssetSelect;

const LOCATION_FIELDS = ['siteId', 'areaId', 'parentId'] as const;
const DAY = 86_400_000;

const toDate = (s: string | null | undefined): Date | null | undefined => (s === undefined ? undefined : s === null ? null : new Date(`${s.slice(0, 10)}T00:00:00Z`));
const jsonDetails = (v: Record<string, unknown>): Prisma.InputJsonValue => JSON.parse(JSON.stringify(v)) as Prisma.InputJsonValue;

export interface TreeNode {
  id: string;
  code: string;
  name: string;
  type: string;
  status: AssetStatus;
  criticality: Criticality;
  areaId: string | null;
  children: TreeNode[];
  /** true when the node has components below the requested depth (not loaded). */
  truncated: boolean;
}

export interface AssetServiceDeps {
  prisma: Db;
  clock: Clock;
  logger: Logger;
  notifications: NotificationService;
  /** e.g. "{type}-{brand}-{model}-{serial}" (config ASSET_CODE_CONVENTION). */
  codeConvention: string;
  codeMode: 'enforce' | 'generate' | 'off';
  warrantyAlertDays: number;
}

export function createAssetService(deps: AssetServiceDeps) {
  const { prisma, clock, notifications, codeMode } = deps;
  const log = deps.logger.child({ module: 'assets' });

  const parsed = parseConvention(deps.codeConvention);
  if (!parsed.ok && codeMode !== 'off') throw new Error(`ASSET_CODE_CONVENTION: ${parsed.message}`);
  const convention: Convention | undefined = parsed.ok ? parsed.convention : undefined;
  const usesSite = convention ? conventionFields(convention).includes('site') : false;

  // ───────── validation helpers ─────────

  async function siteCode(db: DbTx, siteId: string): Promise<string> {
    const s = await db.site.findUnique({ where: { id: siteId }, select: { code: true } });
    if (!s) throw new AppError('validation', `site ${siteId} does not exist`, { siteId });
    return s.code;
  }

  async function assertArea(db: DbTx, areaId: string | null | undefined, siteId: string): Promise<void> {
    if (!areaId) return;
    const a = await db.area.findUnique({ where: { id: areaId }, select: { siteId: true, code: true } });
    if (!a) throw new AppError('validation', `area ${areaId} does not exist`, { areaId });
    if (a.siteId !== siteId) throw new AppError('validation', `area ${a.code} belongs to another site than the asset`, { areaId, siteId });
  }

  async function assertParent(db: DbTx, id: string | undefined, parentId: string | null | undefined): Promise<void> {
    if (!parentId) return;
    if (parentId === id) throw new AppError('validation', 'an asset cannot be its own parent', { parentId });
    // walk up from the new parent; meeting `id` would close a cycle
    let cursor: string | null = parentId;
    for (let depth = 0; cursor; depth++) {
      if (depth > 50) throw new AppError('validation', 'asset hierarchy is deeper than 50 levels', { parentId });
      const row: { parentId: string | null } | null = await db.asset.findUnique({ where: { id: cursor }, select: { parentId: true } });
      if (!row) throw new AppError('validation', `parent asset ${cursor} does not exist`, { parentId });
      if (id && row.parentId === id) throw new AppError('validation', 'parent would create a cycle in the asset hierarchy', { parentId });
      cursor = row.parentId;
    }
  }

  async function assertWorkOrder(db: DbTx, assetId: string, workOrderId: string | undefined): Promise<void> {
    if (!workOrderId) return;
    const wo = await db.workOrder.findUnique({ where: { id: workOrderId }, select: { assetId: true } });
    if (!wo) throw new AppError('validation', `work order ${workOrderId} does not exist`, { workOrderId });
    if (wo.assetId !== assetId) throw new AppError('validation', `work order ${workOrderId} is for another asset`, { workOrderId });
  }

  const codeError = (r: { message: string; field?: CodeField | undefined }): AppError =>
    new AppError('validation', r.message, { convention: deps.codeConvention, mode: codeMode, ...(r.field ? { field: r.field } : {}) });

  function generate(fields: CodeFields): string {
    if (!convention) throw new AppError('validation', 'no valid asset code convention is configured; give a code');
    const r = buildCode(convention, fields);
    if (!r.ok) throw codeError(r);
    return r.code;
  }

  /** The code to store for a new asset, per ASSET_CODE_MODE. */
  function codeForNew(given: string | undefined, fields: CodeFields): string {
    if (codeMode === 'off') {
      if (!given) throw new AppError('validation', 'code is required (asset codes are free: ASSET_CODE_MODE=off)', { mode: codeMode });
      return given;
    }
    if (!given) return generate(fields);
    if (codeMode === 'generate') return given;
    const r = checkCode(convention!, given, fields);
    if (!r.ok) throw codeError(r);
    return r.code;
  }

  function mapWriteError(err: unknown, code: string | undefined): never {
    if (isUniqueViolation(err)) throw conflict(`asset code ${code} is already used`, { code });
    if (isForeignKeyViolation(err)) throw new AppError('validation', 'a referenced site, area or parent asset does not exist', { code });
    throw err;
  }

  // ───────── downtime ─────────

  /** Opens the asset's downtime (or reuses the open one, linking the work order if it had none). */
  async function openDowntime(tx: DbTx, assetId: string, o: { reason: string; workOrderId?: string | undefined; at: Date }): Promise<string | undefined> {
    const openKey = downtimeOpenKey(assetId);
    // ON CONFLICT DO NOTHING: a concurrent open downtime wins without aborting the transaction
    await tx.assetDowntime.createMany({ data: [{ assetId, reason: o.reason, workOrderId: o.workOrderId ?? null, startedAt: o.at, openKey }], skipDuplicates: true });
    const open = await tx.assetDowntime.findUnique({ where: { openKey }, select: { id: true, workOrderId: true } });
    if (open && !open.workOrderId && o.workOrderId) await tx.assetDowntime.update({ where: { id: open.id }, data: { workOrderId: o.workOrderId } });
    return open?.id;
  }

  async function closeDowntime(tx: DbTx, where: Prisma.AssetDowntimeWhereUniqueInput, at: Date): Promise<string | undefined> {
    const open = await tx.assetDowntime.findUnique({ where, select: { id: true, startedAt: true, endedAt: true } });
    if (!open || open.endedAt) return undefined;
    const endedAt = at < open.startedAt ? open.startedAt : at;
    await tx.assetDowntime.updateMany({ where: { id: open.id, endedAt: null }, data: { endedAt, openKey: null } });
    return open.id;
  }

  // ───────── status ─────────

  async function applyStatus(
    tx: DbTx,
    id: string,
    current: { status: AssetStatus; installDate: Date | null; commissionedAt: Date | null },
    change: StatusChange & { at: Date; reason?: string | undefined },
  ): Promise<void> {
    const { status: to, at } = change;
    const from = current.status;
    const check = checkAssetTransition(from, to);
    if (!check.ok) throw new AppError('illegal_transition', check.message, { from, to, allowed: check.allowed });
    await assertWorkOrder(tx, id, change.workOrderId);
    const fx = transitionEffects(from, to);
    // compare-and-set on the status: a concurrent change makes this match nothing
    const updated = await tx.asset.updateMany({
      where: { id, status: from },
      data: {
        status: to,
        ...(fx.stampRetiredAt ? { retiredAt: at } : {}),
        ...(fx.fillInstallDate && !current.installDate ? { installDate: utcDay(at) } : {}),
        ...(fx.fillCommissionedAt && !current.commissionedAt ? { commissionedAt: utcDay(at) } : {}),
      },
    });
    if (updated.count !== 1) throw conflict(`asset ${id} changed concurrently; reload and retry`, { id });
    let downtimeId: string | undefined;
    if (fx.closeDowntime) downtimeId = await closeDowntime(tx, { openKey: downtimeOpenKey(id) }, at);
    if (fx.openDowntime) downtimeId = await openDowntime(tx, id, { reason: change.reason ?? change.note ?? 'under repair', workOrderId: change.workOrderId, at });
    await tx.assetEvent.create({
      data: {
        assetId: id,
        kind: 'status_changed',
        fromStatus: from,
        toStatus: to,
        note: change.note ?? null,
        actor: change.actor ?? null,
        at,
        details: jsonDetails({ workOrderId: change.workOrderId, downtimeId }),
      },
    });
  }

  const statusSelect = { status: true, installDate: true, commissionedAt: true } satisfies Prisma.AssetSelect;

  /**
   * Work orders finishing (completed or cancelled) end the downtime linked to them and return the
   * asset from under_repair to in_service, inside the transition's transaction.
   */
  const workOrderHooks: WorkOrderHooks = {
    async onTransition(tx, ctx) {
      if (ctx.to !== 'completed' && ctx.to !== 'cancelled') return;
      const open = await tx.assetDowntime.findFirst({ where: { workOrderId: ctx.id, endedAt: null }, select: { id: true, assetId: true } });
      if (!open) return;
      const asset = await tx.asset.findUnique({ where: { id: open.assetId }, select: statusSelect });
      // not under repair (a downtime started by hand): only the downtime ends
      if (asset?.status !== 'under_repair') {
        await closeDowntime(tx, { id: open.id }, ctx.at);
        return;
      }
      // under repair: back in service, which ends the open downtime (this one: one open per asset)
      const wo = await tx.workOrder.findUnique({ where: { id: ctx.id }, select: { number: true } });
      await applyStatus(tx, open.assetId, { ...asset, status: 'under_repair' }, {
        status: 'in_service',
        at: ctx.at,
        actor: ctx.actor ?? 'work-order',
        note: `work order #${wo?.number ?? '?'} ${ctx.to}`,
        workOrderId: ctx.id,
      });
    },
  };

  async function loadAsset(id: string, db: DbTx = prisma) {
    const a = await db.asset.findUnique({ where: { id }, select: assetSelect });
    if (!a) throw notFound('Asset', id);
    return a;
  }

  async function codeOf(id: string): Promise<string> {
    const a = await prisma.asset.findUnique({ where: { id }, select: { code: true } });
    if (!a) throw notFound('Asset', id);
    return a.code;
  }

  async function assertAsset(id: string): Promise<{ status: AssetStatus }> {
    const a = await prisma.asset.findUnique({ where: { id }, select: { status: true } });
    if (!a) throw notFound('Asset', id);
    return a;
  }

  return {
    workOrderHooks,

    /**
     * Notifies once per asset + warranty end date (dedupe key) for non-retired assets whose warranty
     * ends between today and today + warrantyAlertDays. Expired warranties are not alerted.
     */
    async sweepWarranty(): Promise<{ notified: number; due: number }> {
      const now = clock.now();
      const window = warrantyAlertWindow(now, deps.warrantyAlertDays);
      if (!window) return { notified: 0, due: 0 };
      const due = await prisma.asset.findMany({
        where: { status: { not: 'retired' }, warrantyEnd: { gte: window.from, lte: window.to } },
        select: { id: true, code: true, name: true, warrantyEnd: true },
        orderBy: { warrantyEnd: 'asc' },
      });
      let notified = 0;
      for (const a of due) {
        const end = a.warrantyEnd!;
        const daysLeft = daysUntil(end, now);
        const isNew = await notifications.notify({
          kind: 'warranty_expiring',
          subjectType: 'asset',
          subjectId: a.id,
          dedupeKey: warrantyDedupeKey(a.id, end),
          title: `Warranty of ${a.code} (${a.name}) ends ${daysLeft === 0 ? 'today' : `in ${daysLeft} day${daysLeft === 1 ? '' : 's'}`}`,
          payload: { code: a.code, warrantyEnd: end.toISOString().slice(0, 10), daysLeft },
        });
        if (isNew) notified++;
      }
      if (notified > 0) log.info({ notified, due: due.length }, 'warranty alerts');
      return { notified, due: due.length };
    },

    // ───────── sites and areas ─────────

    async createSite(input: { code: string; name: string; address?: string | undefined }) {
      try {
        return await prisma.site.create({ data: { code: input.code, name: input.name, address: input.address ?? null } });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`site code ${input.code} is already used`, { code: input.code });
        throw err;
      }
    },
    listSites: () => prisma.site.findMany({ orderBy: { code: 'asc' } }),

    async createArea(siteId: string, input: { code: string; name: string; kind?: AreaKind | undefined; parentId?: string | undefined }) {
      const site = await prisma.site.findUnique({ where: { id: siteId }, select: { id: true } });
      if (!site) throw notFound('Site', siteId);
      if (input.parentId) {
        const parent = await prisma.area.findUnique({ where: { id: input.parentId }, select: { siteId: true } });
        if (!parent) throw new AppError('validation', `parent area ${input.parentId} does not exist`, { parentId: input.parentId });
        if (parent.siteId !== siteId) throw new AppError('validation', `parent area ${input.parentId} belongs to another site`, { parentId: input.parentId });
      }
      try {
        return await prisma.area.create({
          data: { siteId, code: input.code, name: input.name, kind: input.kind ?? 'area', parentId: input.parentId ?? null },
          select: areaSelect,
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`area code ${input.code} is already used at this site`, { siteId, code: input.code });
        throw err;
      }
    },

    /** Areas of a site in tree order, each with its path ("HALL-A/LINE-1") and depth (0 = top). */
    async listAreas(siteId: string) {
      const site = await prisma.site.findUnique({ where: { id: siteId }, select: { id: true } });
      if (!site) throw notFound('Site', siteId);
      const rows = await prisma.area.findMany({ where: { siteId }, select: { ...areaSelect, _count: { select: { assets: true } } }, orderBy: { code: 'asc' } });
      const byId = new Map(rows.map((r) => [r.id, r]));
      const pathOf = (id: string): string[] => {
        const path: string[] = [];
        let cur = byId.get(id);
        for (let i = 0; cur && i < 50; i++) {
          path.unshift(cur.code);
          cur = cur.parentId ? byId.get(cur.parentId) : undefined;
        }
        return path;
      };
      return rows
        .map(({ _count, ...r }) => {
          const path = pathOf(r.id);
          return { ...r, path: path.join('/'), depth: path.length - 1, assetCount: _count.assets };
        })
        .sort((a, b) => a.path.localeCompare(b.path));
    },

    // ───────── codes ─────────

    /** What the convention makes of these fields (400 naming the missing field). */
    async codePreview(f: { type?: string | undefined; brand?: string | undefined; model?: string | undefined; serial?: string | undefined; siteId?: string | undefined }) {
      const site = f.siteId ? await siteCode(prisma, f.siteId) : undefined;
      if (usesSite && !site) throw new AppError('validation', `asset code convention ${deps.codeConvention} needs the site: give siteId`, { field: 'site' });
      return { code: generate({ ...f, site }), convention: deps.codeConvention, mode: codeMode };
    },

    // ───────── assets ─────────

    async create(input: AssetInput) {
      const status = input.status ?? 'in_service';
      if (!INITIAL_STATUSES.includes(status)) {
        throw new AppError('validation', `a new asset starts as ${INITIAL_STATUSES.join(', ')}; change the status afterwards`, { status });
      }
      const site = await siteCode(prisma, input.siteId);
      await assertArea(prisma, input.areaId, input.siteId);
      await assertParent(prisma, undefined, input.parentId);
      const code = codeForNew(input.code, { ...input, site });
      const now = clock.now();
      try {
        return await prisma.$transaction(async (tx) => {
          const a = await tx.asset.create({
            data: {
              code,
              name: input.name,
              type: input.type,
              brand: input.brand ?? null,
              model: input.model ?? null,
              serial: input.serial ?? null,
              siteId: input.siteId,
              areaId: input.areaId ?? null,
              parentId: input.parentId ?? null,
              criticality: input.criticality ?? 'medium',
              supplier: input.supplier ?? null,
              purchaseCost: input.purchaseCost ?? null,
              purchaseDate: toDate(input.purchaseDate) ?? null,
              commissionedAt: toDate(input.commissionedAt) ?? null,
              installDate: toDate(input.installDate) ?? null,
              warrantyEnd: toDate(input.warrantyEnd) ?? null,
              specs: (input.specs ?? {}) as Prisma.InputJsonValue,
              status,
            },
            select: { id: true },
          });
          await tx.assetEvent.create({ data: { assetId: a.id, kind: 'created', toStatus: status, actor: input.actor ?? null, at: now, details: jsonDetails({ code, siteId: input.siteId }) } });
          return loadAsset(a.id, tx);
        });
      } catch (err) {
        mapWriteError(err, code);
      }
    },

    /**
     * Updates fields; writes an `updated` event (before/after of changed fields) and a `moved` event
     * for site/area/parent changes. A status in the patch goes through the lifecycle (same rules and
     * effects as POST /assets/:id/status). In enforce mode a changed type/brand/model/serial
     * regenerates the code; a given code must match the convention.
     */
    async update(id: string, patch: AssetPatch) {
      let code: string | undefined;
      try {
        return await prisma.$transaction(async (tx) => {
          const before = await tx.asset.findUnique({ where: { id }, select: { ...editableSelect, ...statusSelect } });
          if (!before) throw notFound('Asset', id);
          const siteId = patch.siteId ?? before.siteId;
          const site = siteId === before.siteId ? before.site.code : await siteCode(tx, siteId);
          let areaId = patch.areaId;
          if (areaId) await assertArea(tx, areaId, siteId);
          // moving to another site leaves the old site's area behind
          else if (areaId === undefined && siteId !== before.siteId && before.areaId) areaId = null;
          if (patch.parentId !== undefined) await assertParent(tx, id, patch.parentId);

          const pick = <K extends 'type' | 'brand' | 'model' | 'serial'>(k: K) => (patch[k] !== undefined ? patch[k] : before[k]);
          const fields: CodeFields = { type: pick('type'), brand: pick('brand'), model: pick('model'), serial: pick('serial'), site };
          code = patch.code;
          if (codeMode === 'enforce' && convention) {
            if (patch.code !== undefined) {
              const r = checkCode(convention, patch.code, fields);
              if (!r.ok) throw codeError(r);
              code = r.code;
            } else {
              const inputs = conventionFields(convention);
              const touched = inputs.some((f) => (f === 'site' ? siteId !== before.siteId : patch[f] !== undefined && patch[f] !== before[f]));
              if (touched) code = generate(fields);
            }
          }

          const data = {
            code,
            name: patch.name,
            type: patch.type,
            brand: patch.brand,
            model: patch.model,
            serial: patch.serial,
            siteId: patch.siteId,
            areaId,
            parentId: patch.parentId,
            criticality: patch.criticality,
            supplier: patch.supplier,
            purchaseCost: patch.purchaseCost,
            purchaseDate: toDate(patch.purchaseDate),
            commissionedAt: toDate(patch.commissionedAt),
            installDate: toDate(patch.installDate),
            warrantyEnd: toDate(patch.warrantyEnd),
            specs: patch.specs,
          };
          const changes = changedFields({ ...before, purchaseCost: before.purchaseCost?.toNumber() ?? null }, data);
          const now = clock.now();
          if (Object.keys(changes).length > 0) {
            const set = Object.fromEntries(Object.keys(changes).map((k) => [k, data[k as keyof typeof data]]));
            await tx.asset.update({ where: { id }, data: set as Prisma.AssetUncheckedUpdateInput, select: { id: true } });
            const moved = Object.fromEntries(Object.entries(changes).filter(([k]) => (LOCATION_FIELDS as readonly string[]).includes(k)));
            const updated = Object.fromEntries(Object.entries(changes).filter(([k]) => !(LOCATION_FIELDS as readonly string[]).includes(k)));
            const actor = patch.actor ?? null;
            if (Object.keys(updated).length > 0) await tx.assetEvent.create({ data: { assetId: id, kind: 'updated', actor, at: now, details: jsonDetails({ changes: updated }) } });
            if (Object.keys(moved).length > 0) await tx.assetEvent.create({ data: { assetId: id, kind: 'moved', actor, at: now, details: jsonDetails({ changes: moved }) } });
          }
          if (patch.status !== undefined && patch.status !== before.status) {
            await applyStatus(tx, id, before, { status: patch.status, actor: patch.actor, at: now });
          }
          return loadAsset(id, tx);
        });
      } catch (err) {
        mapWriteError(err, code);
      }
    },

    /** Moves the asset through its lifecycle (409 with the allowed next statuses when illegal). */
    async changeStatus(id: string, change: StatusChange) {
      return prisma.$transaction(async (tx) => {
        const current = await tx.asset.findUnique({ where: { id }, select: statusSelect });
        if (!current) throw notFound('Asset', id);
        await applyStatus(tx, id, current, { ...change, at: clock.now() });
        return loadAsset(id, tx);
      });
    },

    /** The asset with its site and area codes, meters and open downtime: one statement (the detail read path is hot). */
    async get(id: string): Promise<AssetDetail> {
      const rows = await prisma.$queryRaw<AssetDetailRow[]>`
        SELECT a.id, a.code, a.name, a.type, a.brand, a.model, a.serial, a.site_id AS "siteId", a.area_id AS "areaId", a.parent_id AS "parentId",
               a.criticality::text AS criticality, a.supplier, a.purchase_cost AS "purchaseCost", a.purchase_date AS "purchaseDate",
               a.commissioned_at AS "commissionedAt", a.install_date AS "installDate", a.warranty_end AS "warrantyEnd", a.retired_at AS "retiredAt",
               a.specs, a.status::text AS status, a.last_seen_at AS "lastSeenAt", a.created_at AS "createdAt", a.updated_at AS "updatedAt",
               s.code AS "siteCode", ar.code AS "areaCode",
               (SELECT json_agg(json_build_object('name', m.name, 'value', m.value, 'unit', m.unit, 'readAt', m.read_at) ORDER BY m.name)
                  FROM meters m WHERE m.asset_id = a.id) AS meters,
               (SELECT json_build_object('id', d.id, 'reason', d.reason, 'startedAt', d.started_at, 'workOrderId', d.work_order_id)
                  FROM asset_downtimes d WHERE d.asset_id = a.id AND d.ended_at IS NULL LIMIT 1) AS "openDowntime"
          FROM assets a JOIN sites s ON s.id = a.site_id LEFT JOIN areas ar ON ar.id = a.area_id
         WHERE a.id = ${id}`;
      const row = rows[0];
      if (!row) throw notFound('Asset', id);
      const { siteCode, areaCode, meters, openDowntime, ...asset } = row;
      return {
        ...asset,
        site: { code: siteCode },
        area: areaCode === null ? null : { code: areaCode },
        meters: (meters ?? []).map((m) => ({ ...m, readAt: new Date(m.readAt) })),
        openDowntime: openDowntime ? { ...openDowntime, startedAt: new Date(openDowntime.startedAt) } : null,
      };
    },

    async findByCode(code: string) {
      return prisma.asset.findUnique({ where: { code }, select: { id: true, code: true, site: { select: { code: true } } } });
    },

    async list(f: {
      siteId?: string | undefined;
      /** Assets at the customer's sites. */
      customerId?: string | undefined;
      areaId?: string | undefined;
      parentId?: string | undefined;
      type?: string | undefined;
      status?: AssetStatus | undefined;
      criticality?: Criticality | undefined;
      code?: string | undefined;
      /** Non-retired assets whose warranty ends between today and today + N days. */
      warrantyEndsWithinDays?: number | undefined;
      limit: number;
      offset: number;
    }) {
      const today = utcDay(clock.now());
      const where: Prisma.AssetWhereInput = {
        ...(f.siteId ? { siteId: f.siteId } : {}),
        ...(f.customerId ? { site: { customerId: f.customerId } } : {}),
        ...(f.areaId ? { areaId: f.areaId } : {}),
        ...(f.parentId ? { parentId: f.parentId } : {}),
        ...(f.type ? { type: f.type } : {}),
        ...(f.criticality ? { criticality: f.criticality } : {}),
        ...(f.code ? { code: f.code } : {}),
        ...(f.warrantyEndsWithinDays !== undefined
          ? { warrantyEnd: { gte: today, lte: new Date(today.getTime() + f.warrantyEndsWithinDays * DAY) }, status: f.status ?? { not: 'retired' } }
          : f.status
            ? { status: f.status }
            : {}),
      };
      const [items, total] = await Promise.all([
        prisma.asset.findMany({ where, select: assetSelect, orderBy: { code: 'asc' }, take: f.limit, skip: f.offset }),
        prisma.asset.count({ where }),
      ]);
      return { items, total };
    },

    /** Assets with history are retired, not deleted; only never-used assets can be removed. */
    async remove(id: string) {
      const a = await prisma.asset.findUnique({ where: { id }, select: { _count: { select: { workOrders: true, children: true } } } });
      if (!a) throw notFound('Asset', id);
      if (a._count.workOrders > 0 || a._count.children > 0) {
        throw conflict('asset has work orders or child assets; set status to retired instead of deleting', { id, ...a._count });
      }
      // documents have no foreign key to the asset: refuse rather than orphan the files
      const documents = await prisma.attachment.count({ where: { ownerType: 'asset', ownerId: id } });
      if (documents > 0) throw conflict(`asset has ${documents} document(s); delete them first or retire the asset`, { id, documents });
      await prisma.asset.delete({ where: { id } });
    },

    /** The asset and its components, recursively, down to `depth` levels (nodes below are flagged `truncated`). */
    async tree(id: string, depth: number): Promise<TreeNode> {
      const rootRow = await prisma.asset.findUnique({ where: { id }, select: treeNodeSelect });
      if (!rootRow) throw notFound('Asset', id);
      const node = ({ parentId: _p, ...r }: typeof rootRow): TreeNode => ({ ...r, children: [], truncated: false });
      const root = node(rootRow);
      let frontier = new Map([[root.id, root]]);
      for (let level = 0; level < depth && frontier.size > 0; level++) {
        const rows = await prisma.asset.findMany({ where: { parentId: { in: [...frontier.keys()] } }, select: treeNodeSelect, orderBy: { code: 'asc' } });
        const next = new Map<string, TreeNode>();
        for (const r of rows) {
          const n = node(r);
          frontier.get(r.parentId!)?.children.push(n);
          next.set(n.id, n);
        }
        frontier = next;
      }
      if (frontier.size > 0) {
        const more = await prisma.asset.groupBy({ by: ['parentId'], where: { parentId: { in: [...frontier.keys()] } }, _count: { _all: true } });
        for (const m of more) if (m.parentId) frontier.get(m.parentId)!.truncated = true;
      }
      return root;
    },

    // ───────── downtime ─────────

    /** Starts a downtime (one open per asset: a second start is 409, also under concurrency). */
    async startDowntime(assetId: string, input: { reason: string; startedAt?: Date | undefined; workOrderId?: string | undefined }) {
      const asset = await assertAsset(assetId);
      if (asset.status === 'retired') throw conflict('the asset is retired; it cannot go down', { assetId });
      const now = clock.now();
      const startedAt = input.startedAt ?? now;
      if (startedAt > now) throw new AppError('validation', 'startedAt must not be in the future', { startedAt });
      await assertWorkOrder(prisma, assetId, input.workOrderId);
      try {
        return await prisma.assetDowntime.create({
          data: { assetId, reason: input.reason, startedAt, workOrderId: input.workOrderId ?? null, openKey: downtimeOpenKey(assetId) },
          select: downtimeSelect,
        });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const open = await prisma.assetDowntime.findUnique({ where: { openKey: downtimeOpenKey(assetId) }, select: { id: true, startedAt: true } });
        throw conflict(`asset already has an open downtime${open ? ` (since ${open.startedAt.toISOString()})` : ''}; end it first`, { downtimeId: open?.id });
      }
    },

    async endDowntime(assetId: string, downtimeId: string, input: { endedAt?: Date | undefined }) {
      const d = await prisma.assetDowntime.findFirst({ where: { id: downtimeId, assetId }, select: downtimeSelect });
      if (!d) throw notFound('Downtime', downtimeId);
      if (d.endedAt) throw conflict(`downtime already ended at ${d.endedAt.toISOString()}`, { downtimeId });
      const now = clock.now();
      const endedAt = input.endedAt ?? now;
      if (endedAt > now) throw new AppError('validation', 'endedAt must not be in the future', { endedAt });
      if (endedAt < d.startedAt) throw new AppError('validation', `endedAt must not be before the start (${d.startedAt.toISOString()})`, { endedAt });
      const r = await prisma.assetDowntime.updateMany({ where: { id: downtimeId, endedAt: null }, data: { endedAt, openKey: null } });
      if (r.count !== 1) throw conflict('downtime was ended concurrently', { downtimeId });
      return { ...d, endedAt };
    },

    /** Downtime periods overlapping [from, to] (default: the last 30 days), total hours in the window and availability. */
    async downtimes(assetId: string, q: { from?: Date | undefined; to?: Date | undefined }) {
      await assertAsset(assetId);
      const now = clock.now();
      const to = q.to ?? now;
      const from = q.from ?? new Date(to.getTime() - 30 * DAY);
      if (from > to) throw new AppError('validation', '"from" must not be after "to"', { from, to });
      const rows = await prisma.assetDowntime.findMany({
        where: { assetId, startedAt: { lt: to }, OR: [{ endedAt: null }, { endedAt: { gt: from } }] },
        select: downtimeSelect,
        orderBy: { startedAt: 'desc' },
      });
      const totals = downtimeInWindow(rows, { from, to }, now);
      return {
        from: totals.from,
        to: totals.to,
        downtimeHours: totals.downtimeHours,
        availabilityPct: totals.availabilityPct,
        items: rows.map((r) => ({ ...r, open: r.endedAt === null, hours: periodHours(r, now), hoursInWindow: msToHours(clippedMs(r, from, to, now)) })),
      };
    },

    // ───────── history ─────────

    /** One timeline (newest first, paged): asset events, work orders, alarms, downtime; plus totals. */
    async history(assetId: string, page: { limit: number; offset: number }) {
      await assertAsset(assetId);
      const now = clock.now();
      const n = page.offset + page.limit;
      const woSelect = {
        id: true,
        number: true,
        title: true,
        source: true,
        status: true,
        priority: true,
        faultCode: true,
        rootCause: true,
        resolution: true,
        requestedAt: true,
        completedAt: true,
        closedAt: true,
        cancelledAt: true,
      } satisfies Prisma.WorkOrderSelect;
      const alarmSelect = { id: true, code: true, severity: true, message: true, raisedAt: true, clearedAt: true } satisfies Prisma.AlarmSelect;
      // each kind of entry: the newest n rows by its own timestamp cover the first n entries of the merge
      const woBy = (field: 'requestedAt' | 'completedAt' | 'closedAt' | 'cancelledAt') =>
        prisma.workOrder.findMany({ where: { assetId, ...(field === 'requestedAt' ? {} : { [field]: { not: null } }) }, select: woSelect, orderBy: { [field]: 'desc' }, take: n });
      const [events, woReq, woDone, woClosed, woCancelled, alarmsRaised, alarmsCleared, downtimes] = await Promise.all([
        prisma.assetEvent.findMany({ where: { assetId }, select: { id: true, kind: true, fromStatus: true, toStatus: true, note: true, details: true, actor: true, at: true }, orderBy: { at: 'desc' }, take: n }),
        woBy('requestedAt'),
        woBy('completedAt'),
        woBy('closedAt'),
        woBy('cancelledAt'),
        prisma.alarm.findMany({ where: { assetId }, select: alarmSelect, orderBy: { raisedAt: 'desc' }, take: n }),
        prisma.alarm.findMany({ where: { assetId, clearedAt: { not: null } }, select: alarmSelect, orderBy: { clearedAt: 'desc' }, take: n }),
        prisma.assetDowntime.findMany({ where: { assetId }, select: downtimeSelect, orderBy: { startedAt: 'desc' }, take: n }),
      ]);
      const orders = new Map([...woReq, ...woDone, ...woClosed, ...woCancelled].map((w) => [w.id, w]));
      const alarms = new Map([...alarmsRaised, ...alarmsCleared].map((a) => [a.id, a]));
      const entries: TimelineEntry[] = [
        ...events.map(eventEntry),
        ...[...orders.values()].flatMap(workOrderEntries),
        ...[...alarms.values()].flatMap(alarmEntries),
        ...downtimes.map((d) => downtimeEntry(d, now)),
      ];
      const [eventCount, woCounts, alarmCount, clearedCount, downtimeCount, allDowntime, lastMaintenance] = await Promise.all([
        prisma.assetEvent.count({ where: { assetId } }),
        prisma.workOrder.groupBy({ by: ['status'], where: { assetId }, _count: { _all: true } }),
        prisma.alarm.count({ where: { assetId } }),
        prisma.alarm.count({ where: { assetId, clearedAt: { not: null } } }),
        prisma.assetDowntime.count({ where: { assetId } }),
        prisma.assetDowntime.findMany({ where: { assetId }, select: { startedAt: true, endedAt: true } }),
        prisma.workOrder.aggregate({ where: { assetId, completedAt: { not: null } }, _max: { completedAt: true } }),
      ]);
      const woMilestones = await prisma.workOrder.aggregate({ where: { assetId }, _count: { completedAt: true, closedAt: true, cancelledAt: true, _all: true } });
      const total =
        eventCount +
        woMilestones._count._all +
        woMilestones._count.completedAt +
        woMilestones._count.closedAt +
        woMilestones._count.cancelledAt +
        alarmCount +
        clearedCount +
        downtimeCount;
      const ordersByStatus = Object.fromEntries(woCounts.map((c) => [c.status, c._count._all]));
      const firstStart = allDowntime.reduce((m, d) => (d.startedAt < m ? d.startedAt : m), now);
      const down = downtimeInWindow(allDowntime, { from: firstStart, to: now }, now);
      return {
        items: mergeTimeline(entries, page.offset, page.limit),
        total,
        limit: page.limit,
        offset: page.offset,
        summary: {
          ordersByStatus,
          workOrders: woMilestones._count._all,
          alarms: alarmCount,
          downtimePeriods: downtimeCount,
          totalDowntimeHours: down.downtimeHours,
          down: allDowntime.some((d) => d.endedAt === null),
          lastMaintenanceAt: lastMaintenance._max.completedAt,
        },
      };
    },

    // ───────── QR ─────────

    /**
     * QR code of an asset. It encodes `om:asset:<CODE>`: the asset code is what is printed next to
     * the QR on the label, survives moves between hosts/URLs, and resolves with GET /assets?code=<CODE>.
     */
    async qrSvg(id: string): Promise<{ payload: string; svg: string }> {
      const payload = assetQrPayload(await codeOf(id));
      return { payload, svg: await QRCode.toString(payload, { ...QR_OPTIONS, type: 'svg' }) };
    },

    async qrPng(id: string, width: number): Promise<{ payload: string; png: Buffer }> {
      const payload = assetQrPayload(await codeOf(id));
      return { payload, png: await QRCode.toBuffer(payload, { ...QR_OPTIONS, type: 'png', width }) };
    },
  };
}

/**
 * What an asset's QR code encodes: `om:asset:<CODE>`. The code is what the label prints next to the
 * QR, it does not depend on the host or URL the API is served from, and GET /assets?code=<CODE>
 * resolves it. (Renaming an asset's code therefore needs a new label.)
 */
export const assetQrPayload = (code: string): string => `om:asset:${code}`;
const QR_OPTIONS = { errorCorrectionLevel: 'M', margin: 2 } as const;

export type AssetService = ReturnType<typeof createAssetService>;
