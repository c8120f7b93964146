/**
 * CSV import/export columns (pure): for assets, parts and engineers the columns with their type,
 * required flag and default; typing one cell (and formatting it back), the header check, the typed
 * rows of a parsed file with a row-level error per bad cell, duplicate keys within a file and cycles
 * in an asset hierarchy. No I/O; `data-transfer.ts` resolves references against the database and
 * writes. The limits are the API's (same lengths, ranges and enums as the JSON routes).
 */
import { unescapeFormula, type CsvRecord } from '../platform/csv.ts';
import { ASSET_STATUSES } from './asset-lifecycle.ts';

export const ENTITIES = ['assets', 'parts', 'engineers'] as const;
export type Entity = (typeof ENTITIES)[number];

export interface Skill {
  skill: string;
  level: number;
}
export interface Certification {
  name: string;
  issuedAt: string | null;
  expiresAt: string | null;
}

export type ColumnType =
  | { kind: 'text'; max: number }
  | { kind: 'code' }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'number'; min: number; max: number; decimals?: number }
  | { kind: 'date' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'bool' }
  | { kind: 'json' }
  | { kind: 'email' }
  | { kind: 'timezone' }
  | { kind: 'skills' }
  | { kind: 'certifications' };

export type CellValue = string | number | boolean | null | Record<string, unknown> | Skill[] | Certification[];

export interface Column {
  name: string;
  type: ColumnType;
  /** The header must have it and no cell may be empty. */
  required?: boolean;
  /** What an empty cell means (otherwise null). */
  default?: CellValue;
  description: string;
}

export interface RowError {
  /** Physical line of the file (1 = the header). */
  row: number;
  /** Column name; null for errors about the whole record (parse errors, field count). */
  column: string | null;
  value: string | null;
  message: string;
}

const CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const text = (max: number): ColumnType => ({ kind: 'text', max });
const MAX_LIST = 50;
/** Code-point order (the same everywhere, unlike localeCompare). */
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export const COLUMNS: Readonly<Record<Entity, readonly Column[]>> = Object.freeze({
  assets: [
    { name: 'code', type: { kind: 'code' }, description: 'asset code; may be empty when ASSET_CODE_MODE is enforce or generate (then made from the convention), required when off' },
    { name: 'name', type: text(200), required: true, description: 'asset name' },
    { name: 'type', type: text(64), required: true, description: 'equipment type, e.g. pump' },
    { name: 'brand', type: text(100), description: 'brand' },
    { name: 'model', type: text(100), description: 'model' },
    { name: 'serial', type: text(100), description: 'serial number' },
    { name: 'siteCode', type: { kind: 'code' }, required: true, description: 'code of an existing site' },
    { name: 'areaCode', type: { kind: 'code' }, description: 'code of an area or line of that site' },
    { name: 'parentCode', type: { kind: 'code' }, description: 'code of the asset this one is a component of: an existing asset or another row of the file (any order)' },
    { name: 'status', type: { kind: 'enum', values: ASSET_STATUSES }, description: 'new assets: procured, installed or in_service (empty = in_service); existing assets: must equal the current status (changes go through POST /assets/{id}/status)' },
    { name: 'criticality', type: { kind: 'enum', values: ['low', 'medium', 'high', 'critical'] }, default: 'medium', description: 'low, medium (default), high, critical' },
    { name: 'supplier', type: text(200), description: 'supplier' },
    { name: 'purchaseCost', type: { kind: 'number', min: 0, max: 999_999_999_999.99, decimals: 2 }, description: 'purchase cost' },
    { name: 'purchaseDate', type: { kind: 'date' }, description: 'YYYY-MM-DD' },
    { name: 'commissionedAt', type: { kind: 'date' }, description: 'YYYY-MM-DD' },
    { name: 'installDate', type: { kind: 'date' }, description: 'YYYY-MM-DD' },
    { name: 'warrantyEnd', type: { kind: 'date' }, description: 'YYYY-MM-DD' },
    { name: 'specs', type: { kind: 'json' }, default: {}, description: 'technical specifications as a JSON object, e.g. {"kW":7.5}' },
  ],
  parts: [
    { name: 'code', type: { kind: 'code' }, required: true, description: 'part code' },
    { name: 'name', type: text(200), required: true, description: 'part name' },
    { name: 'unit', type: text(16), default: 'pcs', description: 'unit of measure (default pcs)' },
    { name: 'unitCost', type: { kind: 'number', min: 0, max: 9_999_999_999, decimals: 2 }, description: 'standard unit cost' },
    { name: 'safetyStock', type: { kind: 'int', min: 0, max: 1_000_000_000 }, default: 0, description: 'purchase request at or below this balance (0 = never)' },
    { name: 'reorderQuantity', type: { kind: 'int', min: 0, max: 1_000_000_000 }, default: 0, description: 'quantity requested (0 = top up to 2 × safetyStock)' },
    { name: 'supplier', type: text(200), description: 'usual supplier' },
    { name: 'leadTimeDays', type: { kind: 'int', min: 0, max: 3650 }, description: 'lead time in days' },
  ],
  engineers: [
    { name: 'code', type: { kind: 'code' }, required: true, description: 'engineer code' },
    { name: 'name', type: text(200), required: true, description: 'name' },
    { name: 'phone', type: text(50), description: 'phone' },
    { name: 'email', type: { kind: 'email' }, description: 'e-mail' },
    { name: 'skills', type: { kind: 'skills' }, default: [], description: 'skill:level pairs separated by ; (level 1–5, default 3), e.g. hvac:4;pump:2' },
    { name: 'certifications', type: { kind: 'certifications' }, default: [], description: 'name@expires or name@issued/expires separated by ;, e.g. electrician@2027-12-31;F-gas@2024-01-01/2026-01-01' },
    { name: 'homeLat', type: { kind: 'number', min: -90, max: 90 }, description: 'home base latitude (with homeLon)' },
    { name: 'homeLon', type: { kind: 'number', min: -180, max: 180 }, description: 'home base longitude (with homeLat)' },
    { name: 'timezone', type: { kind: 'timezone' }, default: 'UTC', description: 'IANA time zone of the roster (default UTC)' },
    { name: 'maxOpenOrders', type: { kind: 'int', min: 0, max: 1000 }, default: 8, description: 'most open orders at once (default 8)' },
    { name: 'hourlyRate', type: { kind: 'number', min: 0, max: 100_000, decimals: 2 }, description: 'labour cost per hour' },
    { name: 'active', type: { kind: 'bool' }, default: true, description: 'true (default) or false' },
  ],
});

export const isEntity = (s: string): s is Entity => (ENTITIES as readonly string[]).includes(s);

// ───────── cells ─────────

export type CellResult = { ok: true; value: CellValue } | { ok: false; message: string };

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const INTEGER = /^[-+]?\d+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const TRUE = new Set(['true', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'no', 'n', '0']);

export function isDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

/** Same check as dispatch/engineers.ts: the runtime knows the IANA name. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const decimalsOf = (s: string): number => {
  const m = /\.(\d+)(?:[eE]|$)/.exec(s);
  return m ? m[1]!.replace(/0+$/, '').length : 0;
};

/** "hvac:4;pump" → [{hvac,4},{pump,3}]; names lower-cased, a name listed twice keeps its highest level (as the engineer service does). */
export function parseSkills(s: string): { ok: true; value: Skill[] } | { ok: false; message: string } {
  const out = new Map<string, number>();
  for (const item of s.split(';').map((x) => x.trim()).filter(Boolean)) {
    const colon = item.lastIndexOf(':');
    const name = (colon === -1 ? item : item.slice(0, colon)).trim().toLowerCase();
    const levelText = colon === -1 ? '3' : item.slice(colon + 1).trim();
    if (!name) return { ok: false, message: `skill "${item}" has no name` };
    if (name.length > 64) return { ok: false, message: `skill "${name.slice(0, 20)}…" is longer than 64 characters` };
    if (!/^[1-5]$/.test(levelText)) return { ok: false, message: `skill ${name}: level must be 1–5, got "${levelText}"` };
    out.set(name, Math.max(Number(levelText), out.get(name) ?? 0));
  }
  if (out.size > MAX_LIST) return { ok: false, message: `at most ${MAX_LIST} skills` };
  return { ok: true, value: [...out].map(([skill, level]) => ({ skill, level })).sort((a, b) => byText(a.skill, b.skill)) };
}

export const formatSkills = (skills: readonly Skill[]): string =>
  [...skills]
    .sort((a, b) => byText(a.skill, b.skill))
    .map((s) => `${s.skill}:${s.level}`)
    .join(';');

const CERT_DATES = /^(\d{4}-\d{2}-\d{2})?(?:\/(\d{4}-\d{2}-\d{2})?)?$/;

/** "electrician@2027-12-31;F-gas@2024-01-01/2026-01-01;first-aid" (issued/expires, either may be empty). */
export function parseCertifications(s: string): { ok: true; value: Certification[] } | { ok: false; message: string } {
  const out: Certification[] = [];
  for (const item of s.split(';').map((x) => x.trim()).filter(Boolean)) {
    const at = item.lastIndexOf('@');
    let name = item;
    let issuedAt: string | null = null;
    let expiresAt: string | null = null;
    if (at !== -1) {
      const spec = item.slice(at + 1).trim();
      const m = CERT_DATES.exec(spec);
      if (!m || spec === '') return { ok: false, message: `certification "${item}": after @ give the expiry date YYYY-MM-DD or issued/expires` };
      name = item.slice(0, at).trim();
      if (spec.includes('/')) {
        issuedAt = m[1] ?? null;
        expiresAt = m[2] ?? null;
      } else expiresAt = m[1] ?? null;
      for (const d of [issuedAt, expiresAt]) if (d && !isDate(d)) return { ok: false, message: `certification "${name}": ${d} is not a valid date` };
      if (issuedAt && expiresAt && issuedAt > expiresAt) return { ok: false, message: `certification "${name}" expires before it was issued` };
    }
    if (!name) return { ok: false, message: `certification "${item}" has no name` };
    if (name.length > 100) return { ok: false, message: `certification "${name.slice(0, 20)}…" is longer than 100 characters` };
    if (out.some((c) => c.name === name)) return { ok: false, message: `certification "${name}" is listed twice` };
    out.push({ name, issuedAt, expiresAt });
  }
  if (out.length > MAX_LIST) return { ok: false, message: `at most ${MAX_LIST} certifications` };
  return { ok: true, value: out.sort((a, b) => byText(a.name, b.name)) };
}

export const formatCertifications = (certs: readonly Certification[]): string =>
  [...certs]
    .sort((a, b) => byText(a.name, b.name))
    .map((c) => (c.issuedAt ? `${c.name}@${c.issuedAt}/${c.expiresAt ?? ''}` : c.expiresAt ? `${c.name}@${c.expiresAt}` : c.name))
    .join(';');

/**
 * Types one cell (already formula-unescaped and trimmed). Empty: the column's default, else null,
 * or an error for a required column.
 */
export function typeCell(col: Column, raw: string): CellResult {
  const s = raw.trim();
  if (s === '') {
    if (col.required) return { ok: false, message: `${col.name} is required` };
    return { ok: true, value: col.default ?? null };
  }
  const t = col.type;
  switch (t.kind) {
    case 'text':
      return s.length > t.max ? { ok: false, message: `longer than ${t.max} characters` } : { ok: true, value: s };
    case 'code':
      return CODE_PATTERN.test(s) ? { ok: true, value: s } : { ok: false, message: 'not a valid code (1–64 letters, digits, _ . -, starting with a letter or digit)' };
    case 'int': {
      if (!INTEGER.test(s)) return { ok: false, message: 'not a whole number' };
      const v = Number(s);
      return v < t.min || v > t.max ? { ok: false, message: `must be between ${t.min} and ${t.max}` } : { ok: true, value: v };
    }
    case 'number': {
      if (!NUMBER.test(s)) return { ok: false, message: 'not a number (use . as the decimal separator, no thousands separators)' };
      const v = Number(s);
      if (!Number.isFinite(v) || v < t.min || v > t.max) return { ok: false, message: `must be between ${t.min} and ${t.max}` };
      if (t.decimals !== undefined && !/[eE]/.test(s) && decimalsOf(s) > t.decimals) return { ok: false, message: `at most ${t.decimals} decimals` };
      return { ok: true, value: v };
    }
    case 'date':
      return isDate(s) ? { ok: true, value: s } : { ok: false, message: 'not a valid date (YYYY-MM-DD)' };
    case 'enum': {
      const v = s.toLowerCase();
      return t.values.includes(v) ? { ok: true, value: v } : { ok: false, message: `must be one of ${t.values.join(', ')}` };
    }
    case 'bool': {
      const v = s.toLowerCase();
      if (TRUE.has(v)) return { ok: true, value: true };
      if (FALSE.has(v)) return { ok: true, value: false };
      return { ok: false, message: 'must be true or false' };
    }
    case 'json': {
      let v: unknown;
      try {
        v = JSON.parse(s);
      } catch {
        return { ok: false, message: 'not valid JSON' };
      }
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? { ok: true, value: v as Record<string, unknown> } : { ok: false, message: 'must be a JSON object, e.g. {"kW":7.5}' };
    }
    case 'email':
      return s.length <= 254 && EMAIL.test(s) ? { ok: true, value: s } : { ok: false, message: 'not a valid e-mail address' };
    case 'timezone':
      return s.length <= 64 && isTimeZone(s) ? { ok: true, value: s } : { ok: false, message: `unknown time zone "${s}" (use an IANA name such as Asia/Shanghai)` };
    case 'skills':
      return parseSkills(s);
    case 'certifications':
      return parseCertifications(s);
  }
}

/** The cell text for a typed value (what `typeCell` reads back to the same value). */
export function formatCell(col: Column, value: CellValue | undefined): string {
  if (value === null || value === undefined) return '';
  switch (col.type.kind) {
    case 'json':
      return JSON.stringify(value);
    case 'skills':
      return formatSkills(value as Skill[]);
    case 'certifications':
      return formatCertifications(value as Certification[]);
    default:
      return String(value);
  }
}

// ───────── header and rows ─────────

export interface TypedRow {
  /** Physical line of the record. */
  line: number;
  /** Typed values of the columns in the header (cells that failed are absent). */
  values: Record<string, CellValue>;
  /** Raw cells by column name (for error reports). */
  raw: Record<string, string>;
  /** Some cell of the row failed. */
  invalid: boolean;
}

export interface TypedFile {
  /** Column names in the header, canonical spelling, in file order. */
  columns: string[];
  rows: TypedRow[];
  errors: RowError[];
}

const REPORT_VALUE_MAX = 200;
export const reportValue = (s: string | null | undefined): string | null => (s === null || s === undefined ? null : s.length > REPORT_VALUE_MAX ? `${s.slice(0, REPORT_VALUE_MAX)}…` : s);

/**
 * Checks the header (known columns, no duplicates, required ones present) and types every cell of
 * every record. The first record is the header. Cells go through `unescapeFormula` first, so an
 * exported file reads back as written.
 */
export function typeRecords(entity: Entity, records: readonly CsvRecord[]): TypedFile {
  const defs = COLUMNS[entity];
  const errors: RowError[] = [];
  const [header, ...body] = records;
  if (!header) return { columns: [], rows: [], errors: [{ row: 1, column: null, value: null, message: `the file is empty; the first line must name the columns (${defs.map((c) => c.name).join(',')})` }] };
  const byLower = new Map(defs.map((c) => [c.name.toLowerCase(), c]));
  const columns: (Column | undefined)[] = [];
  const seen = new Set<string>();
  for (const cell of header.fields) {
    const name = cell.trim();
    const col = byLower.get(name.toLowerCase());
    if (!col) {
      errors.push({ row: header.line, column: name, value: reportValue(name), message: `unknown column; ${entity} columns are ${defs.map((c) => c.name).join(', ')}` });
    } else if (seen.has(col.name)) {
      errors.push({ row: header.line, column: col.name, value: reportValue(name), message: 'column appears twice' });
    } else seen.add(col.name);
    columns.push(col && !columns.includes(col) ? col : undefined);
  }
  for (const c of defs) if (c.required && !seen.has(c.name)) errors.push({ row: header.line, column: c.name, value: null, message: 'required column is missing from the header' });
  if (errors.length) return { columns: [...seen], rows: [], errors };

  const rows: TypedRow[] = [];
  for (const rec of body) {
    if (rec.fields.length !== header.fields.length) {
      errors.push({ row: rec.line, column: null, value: null, message: `expected ${header.fields.length} fields like the header, found ${rec.fields.length}` });
      continue;
    }
    const row: TypedRow = { line: rec.line, values: {}, raw: {}, invalid: false };
    rec.fields.forEach((cell, i) => {
      const col = columns[i]!;
      const raw = unescapeFormula(cell.trim());
      row.raw[col.name] = cell;
      const r = typeCell(col, raw);
      if (r.ok) row.values[col.name] = r.value;
      else {
        row.invalid = true;
        errors.push({ row: rec.line, column: col.name, value: reportValue(cell), message: r.message });
      }
    });
    rows.push(row);
  }
  return { columns: [...seen], rows, errors };
}

/** A key that appears on more than one row: an error on every later row naming the first. */
export function duplicateKeyErrors(rows: readonly { line: number; key: string | undefined; raw: string | undefined }[], column: string, what: string): RowError[] {
  const first = new Map<string, number>();
  const errors: RowError[] = [];
  for (const r of rows) {
    if (!r.key) continue;
    const at = first.get(r.key);
    if (at === undefined) first.set(r.key, r.line);
    else errors.push({ row: r.line, column, value: reportValue(r.raw ?? r.key), message: `${what} ${r.key} is also on row ${at}` });
  }
  return errors;
}

/**
 * Walks up from `start` through `parentOf` (the hierarchy after the import); returns a message when it
 * comes back to `start` or is deeper than `maxDepth`.
 */
export function hierarchyProblem(start: string, parentOf: (code: string) => string | null | undefined, maxDepth = 50): string | undefined {
  let cursor = parentOf(start);
  for (let depth = 0; cursor; depth++) {
    if (cursor === start) return depth === 0 ? 'an asset cannot be its own parent' : 'parent would create a cycle in the asset hierarchy';
    if (depth >= maxDepth) return `asset hierarchy is deeper than ${maxDepth} levels`;
    cursor = parentOf(cursor);
  }
  return undefined;
}

/** Parents before children: depth of each code within the given set (codes outside count as roots). */
export function parentsFirst<T extends { code: string; parentCode: string | null }>(items: readonly T[]): T[] {
  const byCode = new Map(items.map((it) => [it.code, it]));
  const depth = new Map<string, number>();
  const depthOf = (code: string, guard = 0): number => {
    const known = depth.get(code);
    if (known !== undefined) return known;
    const p = byCode.get(code)?.parentCode;
    const d = p && byCode.has(p) && guard < 100 ? depthOf(p, guard + 1) + 1 : 0;
    depth.set(code, d);
    return d;
  };
  return items
    .map((it, i) => ({ it, i, d: depthOf(it.code) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => x.it);
}

/** Sorts errors by row, then by the column's position, record-level errors first. */
export function sortErrors(entity: Entity, errors: RowError[]): RowError[] {
  const pos = new Map(COLUMNS[entity].map((c, i) => [c.name, i]));
  return [...errors].sort((a, b) => a.row - b.row || (a.column === null ? -1 : (pos.get(a.column) ?? 999)) - (b.column === null ? -1 : (pos.get(b.column) ?? 999)));
}
