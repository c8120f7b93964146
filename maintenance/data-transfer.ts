/**
 * CSV import and export of assets, parts and engineers. Import = parse (platform/csv.ts) → type every
 * cell (data-transfer-columns.ts) → resolve references and check every row against the database
 * (sites, areas, parents — also rows of the same file, in any order —, codes under the asset code
 * convention, duplicates in the file, existing codes in create mode, the lifecycle's initial
 * statuses, engineers' home pair) → if any row failed nothing is written and the report lists every
 * failed cell as {row (line of the file), column, value, message}; otherwise every row is written in
 * one transaction (all or nothing: a database error on any row rolls back the rows before it).
 * Export writes the same columns, so an export re-imports unchanged with mode=upsert.
 *
 * Assets and engineers are written here with the same rules as `assets.ts` and
 * `dispatch/engineers.ts` (their services own their transactions, so they cannot join this one):
 * asset codes through the pure `asset-code.ts`, initial statuses and changed fields through
 * `asset-lifecycle.ts`, a `created` / `updated` / `moved` asset event per written asset.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../platform/clock.ts';
import { parseCsv, writeCsv, type CsvCell } from '../platform/csv.ts';
import type { Db, Prisma } from '../platform/db/database.ts';
import { AppError, isForeignKeyViolation, isRecordNotFound, isUniqueViolation } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { buildCode, checkCode, normaliseCode, parseConvention, type CodeField, type Convention } from './asset-code.ts';
import { changedFields, INITIAL_STATUSES, type AssetStatus } from './asset-lifecycle.ts';
import {
  COLUMNS,
  duplicateKeyErrors,
  formatCell,
  formatCertifications,
  formatSkills,
  hierarchyProblem,
  parentsFirst,
  reportValue,
  sortErrors,
  typeRecords,
  type CellValue,
  type Certification,
  type Entity,
  type RowError,
  type Skill,
  type TypedFile,
  type TypedRow,
} from './data-transfer-columns.ts';

export { COLUMNS, ENTITIES, isEntity, type Entity, type RowError } from './data-transfer-columns.ts';

/** Largest CSV body POST /import/:entity accepts. */
export const IMPORT_MAX_BYTES = 5 * 1024 * 1024;
/** Largest number of data rows in one file (the write is one transaction; split bigger files). */
export const IMPORT_MAX_ROWS = 10_000;
/** At most this many errors are listed (errorCount has the total). */
export const MAX_REPORTED_ERRORS = 1000;
/** Most fields a record may have (the widest entity has far fewer columns): wider records are refused unread. */
export const MAX_FIELDS = 200;
const TX_OPTIONS = { maxWait: 10_000, timeout: 300_000 };
/** Rows per INSERT statement. */
const CHUNK = 1000;

async function inChunks<T>(items: readonly T[], write: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += CHUNK) await write(items.slice(i, i + CHUNK));
}
const OPTIONAL_ASSET_FIELDS = ['brand', 'model', 'serial', 'criticality', 'supplier', 'purchaseCost', 'purchaseDate', 'commissionedAt', 'installDate', 'warrantyEnd', 'specs'] as const;

export type ImportMode = 'create' | 'upsert';

export interface ImportOptions {
  mode: ImportMode;
  dryRun: boolean;
  /** Who imports (recorded on asset events). */
  actor?: string | undefined;
}

export interface ImportReport {
  entity: Entity;
  mode: ImportMode;
  dryRun: boolean;
  /** Data rows in the file (records after the header). */
  rows: number;
  /** Rows that create a record (dry run: would create). */
  created: number;
  /** Rows that change an existing record (upsert). */
  updated: number;
  /** Rows equal to the existing record (upsert). */
  unchanged: number;
  /** Rows written: created + updated; 0 for a dry run or a refused file. */
  imported: number;
  errorCount: number;
  errors: RowError[];
}

export interface DataTransferDeps {
  prisma: Db;
  clock: Clock;
  logger: Logger;
  /** As for the asset service (ASSET_CODE_CONVENTION, ASSET_CODE_MODE). */
  codeConvention: string;
  codeMode: 'enforce' | 'generate' | 'off';
  /** An engineer deactivated by an import: their orders are re-dispatched (as PATCH /engineers/:id does). */
  onEngineerUnavailable?: ((engineerId: string, reason: string) => Promise<unknown>) | undefined;
  /** Test hook: runs after validation, before the write transaction (a concurrent writer). */
  beforeWrite?: ((entity: Entity) => Promise<void>) | undefined;
}

/** What validation decided for a file: its errors, the counts, and how to write it. */
interface Plan {
  errors: RowError[];
  created: number;
  updated: number;
  unchanged: number;
  write(tx: Prisma.TransactionClient): Promise<void>;
  /** What `write` creates and updates, by row (to explain a write that failed on a concurrent change). */
  creates: { line: number; code: string }[];
  updates: { line: number; code: string; id: string }[];
  afterCommit?(): Promise<void>;
}

const day = (d: Date | null | undefined): string | null => (d ? d.toISOString().slice(0, 10) : null);
const toDate = (s: CellValue | undefined): Date | null => (typeof s === 'string' ? new Date(`${s}T00:00:00Z`) : null);
const num = (d: { toNumber(): number } | null): number | null => (d === null ? null : d.toNumber());
const str = (v: CellValue | undefined): string | null => (typeof v === 'string' ? v : null);
const has = (file: TypedFile, column: string): boolean => file.columns.includes(column);
const rowError = (row: TypedRow, column: string, message: string): RowError => ({ row: row.line, column, value: reportValue(row.raw[column] ?? null), message });
const json = (v: unknown): Prisma.InputJsonValue => JSON.parse(JSON.stringify(v)) as Prisma.InputJsonValue;

/** Picks the header's columns from `data` (absent columns leave an existing record as it is). */
function present<T extends Record<string, unknown>>(file: TypedFile, data: T, always: readonly string[] = []): Partial<T> {
  return Object.fromEntries(Object.entries(data).filter(([k]) => always.includes(k) || has(file, k))) as Partial<T>;
}

export function createDataTransferService(deps: DataTransferDeps) {
  const { prisma, clock, codeMode } = deps;
  const log = deps.logger.child({ module: 'data-transfer' });
  const parsed = parseConvention(deps.codeConvention);
  if (!parsed.ok && codeMode !== 'off') throw new Error(`ASSET_CODE_CONVENTION: ${parsed.message}`);
  const convention: Convention | undefined = parsed.ok ? parsed.convention : undefined;

  // ───────── parts ─────────

  async function planParts(file: TypedFile, mode: ImportMode): Promise<Plan> {
    const errors: RowError[] = duplicateKeyErrors(file.rows.map((r) => ({ line: r.line, key: str(r.values.code) ?? undefined, raw: r.raw.code })), 'code', 'part code');
    const dupLines = new Set(errors.map((e) => e.row));
    const codes = file.rows.flatMap((r) => (typeof r.values.code === 'string' ? [r.values.code] : []));
    const existing = new Map(
      (await prisma.part.findMany({ where: { code: { in: codes } }, select: { id: true, code: true, name: true, unit: true, unitCost: true, safetyStock: true, reorderQuantity: true, supplier: true, leadTimeDays: true } })).map((p) => [p.code, p]),
    );
    const creates: { line: number; data: Prisma.PartCreateManyInput }[] = [];
    const updates: { line: number; code: string; id: string; data: Prisma.PartUpdateInput }[] = [];
    let unchanged = 0;
    for (const r of file.rows) {
      if (r.invalid || dupLines.has(r.line)) continue;
      const v = r.values;
      const code = v.code as string;
      const data = {
        name: v.name as string,
        unit: (v.unit as string | undefined) ?? 'pcs',
        unitCost: (v.unitCost as number | null | undefined) ?? null,
        safetyStock: (v.safetyStock as number | undefined) ?? 0,
        reorderQuantity: (v.reorderQuantity as number | undefined) ?? 0,
        supplier: (v.supplier as string | null | undefined) ?? null,
        leadTimeDays: (v.leadTimeDays as number | null | undefined) ?? null,
      };
      const before = existing.get(code);
      if (!before) creates.push({ line: r.line, data: { code, ...data } });
      else if (mode === 'create') errors.push(rowError(r, 'code', `part ${code} already exists (mode=upsert updates it)`));
      else {
        const changes = changedFields({ ...before, unitCost: num(before.unitCost) }, present(file, data, ['name']));
        if (Object.keys(changes).length === 0) unchanged++;
        else updates.push({ line: r.line, code, id: before.id, data: Object.fromEntries(Object.keys(changes).map((k) => [k, data[k as keyof typeof data]])) });
      }
    }
    return {
      errors,
      created: creates.length,
      updated: updates.length,
      unchanged,
      async write(tx) {
        await inChunks(creates, (chunk) => tx.part.createMany({ data: chunk.map((c) => c.data) }));
        for (const u of updates) await tx.part.update({ where: { id: u.id }, data: u.data, select: { id: true } });
      },
      creates: creates.map((c) => ({ line: c.line, code: c.data.code })),
      updates,
    };
  }

  // ───────── engineers ─────────

  const engineerFields = {
    id: true,
    code: true,
    name: true,
    phone: true,
    email: true,
    homeLat: true,
    homeLon: true,
    timezone: true,
    maxOpenOrders: true,
    hourlyRate: true,
    active: true,
    skillLevels: { select: { skill: true, level: true }, orderBy: { skill: 'asc' } },
    certifications: { select: { name: true, issuedAt: true, expiresAt: true }, orderBy: { name: 'asc' } },
  } satisfies Prisma.EngineerSelect;

  const certsOf = (rows: { name: string; issuedAt: Date | null; expiresAt: Date | null }[]): Certification[] => rows.map((c) => ({ name: c.name, issuedAt: day(c.issuedAt), expiresAt: day(c.expiresAt) }));

  async function planEngineers(file: TypedFile, mode: ImportMode): Promise<Plan> {
    const errors: RowError[] = duplicateKeyErrors(file.rows.map((r) => ({ line: r.line, key: str(r.values.code) ?? undefined, raw: r.raw.code })), 'code', 'engineer code');
    const dupLines = new Set(errors.map((e) => e.row));
    const codes = file.rows.flatMap((r) => (typeof r.values.code === 'string' ? [r.values.code] : []));
    const existing = new Map((await prisma.engineer.findMany({ where: { code: { in: codes } }, select: engineerFields })).map((e) => [e.code, e]));
    interface EngineerWrite {
      line: number;
      id: string;
      code: string;
      data: Record<string, unknown>;
      skills?: Skill[] | undefined;
      certifications?: Certification[] | undefined;
    }
    const creates: EngineerWrite[] = [];
    const updates: EngineerWrite[] = [];
    const deactivated: string[] = [];
    let unchanged = 0;
    for (const r of file.rows) {
      if (r.invalid || dupLines.has(r.line)) continue;
      const v = r.values;
      const code = v.code as string;
      const before = existing.get(code);
      if (before && mode === 'create') {
        errors.push(rowError(r, 'code', `engineer ${code} already exists (mode=upsert updates it)`));
        continue;
      }
      const data = {
        name: v.name as string,
        phone: (v.phone as string | null | undefined) ?? null,
        email: (v.email as string | null | undefined) ?? null,
        homeLat: (v.homeLat as number | null | undefined) ?? null,
        homeLon: (v.homeLon as number | null | undefined) ?? null,
        timezone: (v.timezone as string | undefined) ?? 'UTC',
        maxOpenOrders: (v.maxOpenOrders as number | undefined) ?? 8,
        hourlyRate: (v.hourlyRate as number | null | undefined) ?? null,
        active: (v.active as boolean | undefined) ?? true,
      };
      // same rule as the engineer service: the home base is both coordinates or neither
      const lat = has(file, 'homeLat') ? data.homeLat : (before?.homeLat ?? null);
      const lon = has(file, 'homeLon') ? data.homeLon : (before?.homeLon ?? null);
      if ((lat === null) !== (lon === null)) {
        errors.push(rowError(r, lat === null ? 'homeLat' : 'homeLon', 'homeLat and homeLon go together'));
        continue;
      }
      const skills = has(file, 'skills') ? (v.skills as Skill[]) : undefined;
      const certifications = has(file, 'certifications') ? (v.certifications as Certification[]) : undefined;
      if (!before) {
        creates.push({ line: r.line, id: randomUUID(), code, data, skills: skills ?? [], certifications: certifications ?? [] });
        continue;
      }
      const set = present(file, data, ['name']);
      const changes = changedFields({ ...before, hourlyRate: num(before.hourlyRate) }, set);
      const skillsChanged = skills !== undefined && formatSkills(skills) !== formatSkills(before.skillLevels);
      const certsChanged = certifications !== undefined && formatCertifications(certifications) !== formatCertifications(certsOf(before.certifications));
      if (Object.keys(changes).length === 0 && !skillsChanged && !certsChanged) {
        unchanged++;
        continue;
      }
      if (set.active === false && before.active) deactivated.push(before.id);
      updates.push({
        line: r.line,
        id: before.id,
        code,
        data: Object.fromEntries(Object.keys(changes).map((k) => [k, set[k as keyof typeof set]])),
        skills: skillsChanged ? skills : undefined,
        certifications: certsChanged ? certifications : undefined,
      });
    }
    const certRows = (w: EngineerWrite) => (w.certifications ?? []).map((c) => ({ engineerId: w.id, name: c.name, issuedAt: toDate(c.issuedAt), expiresAt: toDate(c.expiresAt) }));
    return {
      errors,
      created: creates.length,
      updated: updates.length,
      unchanged,
      async write(tx) {
        if (creates.length) {
          await inChunks(creates, (chunk) => tx.engineer.createMany({ data: chunk.map((c) => ({ id: c.id, code: c.code, ...(c.data as Omit<Prisma.EngineerCreateManyInput, 'code'>) })) }));
          await inChunks(
            creates.flatMap((c) => (c.skills ?? []).map((sk) => ({ engineerId: c.id, ...sk }))),
            (chunk) => tx.engineerSkill.createMany({ data: chunk }),
          );
          await inChunks(creates.flatMap(certRows), (chunk) => tx.engineerCertification.createMany({ data: chunk }));
        }
        for (const u of updates) {
          if (Object.keys(u.data).length) await tx.engineer.update({ where: { id: u.id }, data: u.data as Prisma.EngineerUpdateInput, select: { id: true } });
          if (u.skills) {
            await tx.engineerSkill.deleteMany({ where: { engineerId: u.id } });
            await tx.engineerSkill.createMany({ data: u.skills.map((s) => ({ engineerId: u.id, ...s })) });
          }
          if (u.certifications) {
            await tx.engineerCertification.deleteMany({ where: { engineerId: u.id } });
            await tx.engineerCertification.createMany({ data: certRows(u) });
          }
        }
      },
      creates,
      updates,
      async afterCommit() {
        for (const id of deactivated) {
          await deps.onEngineerUnavailable?.(id, 'engineer deactivated (CSV import)').catch((err: unknown) => log.warn({ err, engineerId: id }, 're-dispatch after deactivation failed'));
        }
      },
    };
  }

  // ───────── assets ─────────

  const assetFields = {
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
    specs: true,
    status: true,
    parent: { select: { code: true } },
  } satisfies Prisma.AssetSelect;

  const codeColumn = (field: CodeField | undefined): string => (field === 'site' ? 'siteCode' : (field ?? 'code'));

  /** The code a row stands for, per ASSET_CODE_MODE (same decisions as the asset service's create). */
  function assetCode(r: TypedRow, siteCode: string): { ok: true; code: string } | { ok: false; column: string; message: string } {
    const given = str(r.values.code) ?? undefined;
    const fields = { type: str(r.values.type), brand: str(r.values.brand), model: str(r.values.model), serial: str(r.values.serial), site: siteCode };
    if (codeMode === 'off') return given ? { ok: true, code: given } : { ok: false, column: 'code', message: 'code is required (asset codes are free: ASSET_CODE_MODE=off)' };
    if (given && codeMode === 'generate') return { ok: true, code: given };
    const res = given ? checkCode(convention!, given, fields) : buildCode(convention!, fields);
    return res.ok ? { ok: true, code: res.code } : { ok: false, column: given ? 'code' : codeColumn(res.field), message: res.message };
  }

  async function planAssets(file: TypedFile, mode: ImportMode, actor: string | undefined): Promise<Plan> {
    const errors: RowError[] = [];
    const rows = file.rows.filter((r) => !r.invalid);

    // sites and areas by code
    const siteCodes = [...new Set(rows.map((r) => r.values.siteCode as string))];
    const sites = new Map((await prisma.site.findMany({ where: { code: { in: siteCodes } }, select: { id: true, code: true } })).map((s) => [s.code, s.id]));
    const areaCodes = [...new Set(rows.flatMap((r) => (typeof r.values.areaCode === 'string' ? [r.values.areaCode] : [])))];
    const areas = new Map(
      areaCodes.length ? (await prisma.area.findMany({ where: { siteId: { in: [...sites.values()] }, code: { in: areaCodes } }, select: { id: true, siteId: true, code: true } })).map((a) => [`${a.siteId}/${a.code}`, a.id]) : [],
    );

    interface Resolved {
      row: TypedRow;
      code: string;
      siteId: string;
      areaId: string | null | undefined;
    }
    const resolved: Resolved[] = [];
    for (const r of rows) {
      const siteCode = r.values.siteCode as string;
      const siteId = sites.get(siteCode);
      let ok = true;
      if (!siteId) {
        errors.push(rowError(r, 'siteCode', `no site with code ${siteCode}`));
        ok = false;
      }
      let areaId: string | null | undefined;
      if (siteId && has(file, 'areaCode')) {
        const areaCode = str(r.values.areaCode);
        areaId = areaCode ? areas.get(`${siteId}/${areaCode}`) : null;
        if (areaId === undefined) {
          errors.push(rowError(r, 'areaCode', `site ${siteCode} has no area or line ${areaCode}`));
          ok = false;
        }
      }
      const code = assetCode(r, siteCode);
      if (!code.ok) {
        errors.push(rowError(r, code.column, code.message));
        ok = false;
      }
      if (ok && code.ok && siteId) resolved.push({ row: r, code: code.code, siteId, areaId });
    }

    const dups = duplicateKeyErrors(
      resolved.map((x) => ({ line: x.row.line, key: x.code, raw: x.row.raw.code || x.code })),
      'code',
      'asset code',
    );
    errors.push(...dups);
    const dupLines = new Set(dups.map((e) => e.row));
    const inFile = resolved.filter((x) => !dupLines.has(x.row.line));

    const existingRows = await prisma.asset.findMany({ where: { code: { in: inFile.map((x) => x.code) } }, select: assetFields });
    const existing = new Map(existingRows.map((a) => [a.code, a]));

    // the hierarchy after the import: this file's parentCode where given, else the database's
    const fileByCode = new Map(inFile.map((x) => [x.code, x]));
    const dbParent = new Map<string, string | null>(existingRows.map((a) => [a.code, a.parent?.code ?? null]));
    const dbIds = new Map(existingRows.map((a) => [a.code, a.id]));
    const parentCodeOf = (x: Resolved): string | null => {
      if (has(file, 'parentCode')) {
        const p = str(x.row.values.parentCode);
        // codes under an enforced convention are upper-case
        return p && codeMode === 'enforce' ? normaliseCode(p) : p;
      }
      return dbParent.get(x.code) ?? null;
    };
    let frontier = [...new Set([...inFile.map(parentCodeOf), ...dbParent.values()])].filter((c): c is string => !!c && !dbParent.has(c) && !fileByCode.has(c));
    for (let round = 0; frontier.length && round < 60; round++) {
      const found = await prisma.asset.findMany({ where: { code: { in: frontier } }, select: { id: true, code: true, parent: { select: { code: true } } } });
      for (const c of frontier) dbParent.set(c, null);
      for (const a of found) {
        dbParent.set(a.code, a.parent?.code ?? null);
        dbIds.set(a.code, a.id);
      }
      frontier = [...new Set(found.map((a) => a.parent?.code))].filter((c): c is string => !!c && !dbParent.has(c) && !fileByCode.has(c));
    }
    const finalParent = (code: string): string | null | undefined => {
      const x = fileByCode.get(code);
      return x ? parentCodeOf(x) : dbParent.get(code);
    };

    const now = clock.now();
    const creates: { line: number; code: string; parentCode: string | null; data: Prisma.AssetCreateManyInput }[] = [];
    const updates: { line: number; id: string; code: string; set: Record<string, unknown>; changes: Record<string, { from: unknown; to: unknown }> }[] = [];
    const newIds = new Map<string, string>();
    let unchanged = 0;
    const plans: { x: Resolved; parentCode: string | null }[] = [];

    for (const x of inFile) {
      const r = x.row;
      const before = existing.get(x.code);
      if (before && mode === 'create') {
        errors.push(rowError(r, 'code', `asset ${x.code} already exists (mode=upsert updates it)`));
        continue;
      }
      const parentCode = parentCodeOf(x);
      if (parentCode && !fileByCode.has(parentCode) && !dbIds.has(parentCode)) {
        errors.push(rowError(r, 'parentCode', `no asset with code ${parentCode} in the database or in this file`));
        continue;
      }
      const cycle = hierarchyProblem(x.code, finalParent);
      if (cycle) {
        errors.push(rowError(r, 'parentCode', cycle));
        continue;
      }
      const status = str(r.values.status) as AssetStatus | null;
      if (!before && status && !INITIAL_STATUSES.includes(status)) {
        errors.push(rowError(r, 'status', `a new asset starts as ${INITIAL_STATUSES.join(', ')}; change the status afterwards`));
        continue;
      }
      if (before && status && status !== before.status) {
        errors.push(rowError(r, 'status', `asset ${x.code} is ${before.status}; status changes go through POST /assets/{id}/status (lifecycle effects), not an import`));
        continue;
      }
      if (!before) newIds.set(x.code, randomUUID());
      plans.push({ x, parentCode });
    }

    for (const { x, parentCode } of plans) {
      const v = x.row.values;
      const before = existing.get(x.code);
      const parentId = parentCode ? (newIds.get(parentCode) ?? dbIds.get(parentCode)!) : null;
      const data = {
        name: v.name as string,
        type: v.type as string,
        brand: str(v.brand),
        model: str(v.model),
        serial: str(v.serial),
        siteId: x.siteId,
        areaId: x.areaId ?? null,
        parentId,
        criticality: ((v.criticality as string | undefined) ?? 'medium') as Prisma.AssetCreateManyInput['criticality'],
        supplier: str(v.supplier),
        purchaseCost: (v.purchaseCost as number | null | undefined) ?? null,
        purchaseDate: toDate(v.purchaseDate),
        commissionedAt: toDate(v.commissionedAt),
        installDate: toDate(v.installDate),
        warrantyEnd: toDate(v.warrantyEnd),
        specs: ((v.specs as Record<string, unknown> | undefined) ?? {}) as Prisma.InputJsonValue,
      };
      if (!before) {
        const status = (str(v.status) ?? 'in_service') as AssetStatus;
        creates.push({ line: x.row.line, code: x.code, parentCode, data: { id: newIds.get(x.code)!, code: x.code, ...data, status } });
        continue;
      }
      // columns missing from the header leave the asset's value as it is
      const set: Record<string, unknown> = { name: data.name, type: data.type, siteId: data.siteId };
      for (const k of OPTIONAL_ASSET_FIELDS) if (has(file, k)) set[k] = data[k];
      if (has(file, 'areaCode')) set.areaId = data.areaId;
      // moving to another site leaves the old site's area behind (as the asset service does)
      else if (x.siteId !== before.siteId && before.areaId) set.areaId = null;
      if (has(file, 'parentCode')) set.parentId = parentId;
      const changes = changedFields({ ...before, purchaseCost: num(before.purchaseCost) }, set);
      if (Object.keys(changes).length === 0) unchanged++;
      else updates.push({ line: x.row.line, id: before.id, code: x.code, set: Object.fromEntries(Object.keys(changes).map((k) => [k, set[k]])), changes });
    }

    const LOCATION = ['siteId', 'areaId', 'parentId'];
    return {
      errors,
      created: creates.length,
      updated: updates.length,
      unchanged,
      async write(tx) {
        const ordered = parentsFirst(creates);
        // parents first: a chunk only refers to assets of earlier chunks or the database
        await inChunks(ordered, (chunk) => tx.asset.createMany({ data: chunk.map((c) => c.data) }));
        await inChunks(ordered, (chunk) =>
          tx.assetEvent.createMany({
            data: chunk.map((c) => ({ assetId: c.data.id!, kind: 'created' as const, toStatus: c.data.status!, actor: actor ?? null, at: now, details: json({ code: c.code, siteId: c.data.siteId, source: 'csv_import' }) })),
          }),
        );
        for (const u of updates) {
          await tx.asset.update({ where: { id: u.id }, data: u.set as Prisma.AssetUncheckedUpdateInput, select: { id: true } });
          const moved = Object.fromEntries(Object.entries(u.changes).filter(([k]) => LOCATION.includes(k)));
          const updated = Object.fromEntries(Object.entries(u.changes).filter(([k]) => !LOCATION.includes(k)));
          if (Object.keys(updated).length) await tx.assetEvent.create({ data: { assetId: u.id, kind: 'updated', actor: actor ?? null, at: now, details: json({ changes: updated, source: 'csv_import' }) } });
          if (Object.keys(moved).length) await tx.assetEvent.create({ data: { assetId: u.id, kind: 'moved', actor: actor ?? null, at: now, details: json({ changes: moved, source: 'csv_import' }) } });
        }
      },
      creates,
      updates,
    };
  }

  // ───────── import ─────────

  /** After a failed write: rows whose code someone else created, or whose record someone deleted, meanwhile. */
  async function raceErrors(entity: Entity, plan: Plan): Promise<RowError[]> {
    const codes = plan.creates.map((c) => c.code);
    const ids = plan.updates.map((u) => u.id);
    const find = async (where: { codes: string[] } | { ids: string[] }): Promise<string[]> => {
      const w = 'codes' in where ? { code: { in: where.codes } } : { id: { in: where.ids } };
      const rows =
        entity === 'parts'
          ? await prisma.part.findMany({ where: w, select: { id: true, code: true } })
          : entity === 'engineers'
            ? await prisma.engineer.findMany({ where: w, select: { id: true, code: true } })
            : await prisma.asset.findMany({ where: w, select: { id: true, code: true } });
      return rows.map((r) => ('codes' in where ? r.code : r.id));
    };
    const taken = new Set(await find({ codes }));
    const alive = new Set(await find({ ids }));
    const what = entity.replace(/s$/, '');
    return [
      ...plan.creates.filter((c) => taken.has(c.code)).map((c) => ({ row: c.line, column: 'code', value: c.code, message: `${what} ${c.code} was created by someone else while this file was imported` })),
      ...plan.updates.filter((u) => !alive.has(u.id)).map((u) => ({ row: u.line, column: 'code', value: u.code, message: `${what} ${u.code} was deleted while this file was imported` })),
    ];
  }

  /** `plan` gives the counts (a refused file reports none: nothing is created or updated). */
  function report(entity: Entity, opts: ImportOptions, rows: number, plan: Plan | undefined, errors: RowError[], imported: number): ImportReport {
    const sorted = sortErrors(entity, errors);
    return {
      entity,
      mode: opts.mode,
      dryRun: opts.dryRun,
      rows,
      created: plan?.created ?? 0,
      updated: plan?.updated ?? 0,
      unchanged: plan?.unchanged ?? 0,
      imported,
      errorCount: sorted.length,
      errors: sorted.slice(0, MAX_REPORTED_ERRORS),
    };
  }

  async function importCsv(entity: Entity, body: string, opts: ImportOptions): Promise<ImportReport> {
    // bounded: a hostile file (millions of records, fields or malformed lines in IMPORT_MAX_BYTES) stops
    // the parser at the first limit instead of being held in memory whole
    const csv = parseCsv(body, { maxRecords: IMPORT_MAX_ROWS + 2, maxErrors: MAX_REPORTED_ERRORS - 1, maxFields: MAX_FIELDS });
    const rows = Math.max(0, csv.records.length - 1);
    let errors: RowError[] = csv.errors.map((e) => ({ row: e.line, column: null, value: null, message: e.message }));
    if (rows > IMPORT_MAX_ROWS) {
      errors.push({ row: csv.records[IMPORT_MAX_ROWS + 1]!.line, column: null, value: null, message: `at most ${IMPORT_MAX_ROWS} rows per file (this one has ${csv.truncated ? 'more' : rows}); split it` });
    } else if (csv.truncated) {
      errors.push({ row: csv.errors.at(-1)?.line ?? 1, column: null, value: null, message: `stopped reading after ${csv.errors.length} malformed records; fix them and import again` });
    }
    let plan: Plan | undefined;
    if (errors.length === 0) {
      const file = typeRecords(entity, csv.records);
      errors = file.errors;
      const headerBroken = file.rows.length === 0 && errors.length > 0;
      if (!headerBroken) {
        plan = entity === 'parts' ? await planParts(file, opts.mode) : entity === 'engineers' ? await planEngineers(file, opts.mode) : await planAssets(file, opts.mode, opts.actor);
        errors = [...errors, ...plan.errors];
      }
    }
    if (errors.length > 0) {
      const r = report(entity, opts, rows, opts.dryRun ? plan : undefined, errors, 0);
      if (opts.dryRun) return r;
      throw new AppError('validation', `${r.errorCount} error${r.errorCount === 1 ? '' : 's'} in the file; nothing was imported`, r);
    }
    if (opts.dryRun || !plan) return report(entity, opts, rows, plan, [], 0);

    await deps.beforeWrite?.(entity);
    const p = plan;
    try {
      await prisma.$transaction((tx) => p.write(tx), TX_OPTIONS);
    } catch (err) {
      if (isUniqueViolation(err) || isRecordNotFound(err) || isForeignKeyViolation(err)) {
        const raced = await raceErrors(entity, p);
        throw new AppError('conflict', `the ${entity} changed while the file was imported (${raced.length ? 'see errors' : 'a referenced site, area or asset was removed'}); nothing was imported — check and import again`, report(entity, opts, rows, undefined, raced, 0));
      }
      throw err;
    }
    await p.afterCommit?.();
    log.info({ entity, mode: opts.mode, created: p.created, updated: p.updated, unchanged: p.unchanged }, 'CSV import');
    return report(entity, opts, rows, p, [], p.created + p.updated);
  }

  // ───────── export ─────────

  async function exportRows(entity: Entity, f: { siteId?: string | undefined }): Promise<Record<string, CellValue>[]> {
    if (entity === 'parts') {
      const parts = await prisma.part.findMany({ select: { code: true, name: true, unit: true, unitCost: true, safetyStock: true, reorderQuantity: true, supplier: true, leadTimeDays: true }, orderBy: { code: 'asc' } });
      return parts.map((p) => ({ ...p, unitCost: num(p.unitCost) }));
    }
    if (entity === 'engineers') {
      const engineers = await prisma.engineer.findMany({ select: engineerFields, orderBy: { code: 'asc' } });
      return engineers.map(({ id: _id, skillLevels, certifications, hourlyRate, ...e }) => ({ ...e, hourlyRate: num(hourlyRate), skills: skillLevels, certifications: certsOf(certifications) }));
    }
    const assets = await prisma.asset.findMany({
      where: f.siteId ? { siteId: f.siteId } : {},
      select: { ...assetFields, site: { select: { code: true } }, area: { select: { code: true } } },
      orderBy: { code: 'asc' },
    });
    return assets.map((a) => ({
      code: a.code,
      name: a.name,
      type: a.type,
      brand: a.brand,
      model: a.model,
      serial: a.serial,
      siteCode: a.site.code,
      areaCode: a.area?.code ?? null,
      parentCode: a.parent?.code ?? null,
      status: a.status,
      criticality: a.criticality,
      supplier: a.supplier,
      purchaseCost: num(a.purchaseCost),
      purchaseDate: day(a.purchaseDate),
      commissionedAt: day(a.commissionedAt),
      installDate: day(a.installDate),
      warrantyEnd: day(a.warrantyEnd),
      specs: (a.specs ?? {}) as Record<string, unknown>,
    }));
  }

  return {
    columns: (entity: Entity) => COLUMNS[entity],

    importCsv,

    /** The entity as CSV (UTF-8 with BOM, CRLF, formulas defused), with a file name for Content-Disposition. */
    async exportCsv(entity: Entity, f: { siteId?: string | undefined } = {}): Promise<{ fileName: string; csv: string; rows: number }> {
      if (f.siteId && entity !== 'assets') throw new AppError('validation', 'siteId filters assets only', { entity });
      if (f.siteId && !(await prisma.site.findUnique({ where: { id: f.siteId }, select: { id: true } }))) throw new AppError('not_found', `Site ${f.siteId} does not exist`, { site: f.siteId });
      const cols = COLUMNS[entity];
      const rows = await exportRows(entity, f);
      const table: CsvCell[][] = [cols.map((c) => c.name), ...rows.map((r) => cols.map((c) => formatCell(c, r[c.name])))];
      return { fileName: `${entity}-${clock.now().toISOString().slice(0, 10)}.csv`, csv: writeCsv(table, { bom: true }), rows: rows.length };
    },
  };
}

export type DataTransferService = ReturnType<typeof createDataTransferService>;
