/**
 * Asset code naming convention (pure). A convention is a template such as
 * "{type}-{brand}-{model}-{serial}": fields in braces, joined by literal separators. A field's value
 * is normalised (upper-case, everything outside [A-Z0-9] removed), so "Trane Inc." → "TRANEINC";
 * codes are therefore upper-case. No I/O; `assets.ts` decides when a convention applies (ASSET_CODE_MODE).
 */

export const CODE_FIELDS = ['type', 'brand', 'model', 'serial', 'site'] as const;
export type CodeField = (typeof CODE_FIELDS)[number];

export type Segment = { kind: 'field'; field: CodeField } | { kind: 'literal'; text: string };

export interface Convention {
  template: string;
  segments: readonly Segment[];
}

/** Values the convention may use; `site` is the site's code. */
export type CodeFields = Partial<Record<CodeField, string | null | undefined>>;

/** Same rule as the API's `Code` pattern (codes appear in MQTT topics). */
const CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const LITERAL_PATTERN = /^[A-Za-z0-9_.-]+$/;

export type Result<T> = ({ ok: true } & T) | { ok: false; message: string; field?: CodeField | undefined };

/** Parses a template; refuses unknown fields, unbalanced braces, separators a code cannot hold, and templates without fields. */
export function parseConvention(template: string): Result<{ convention: Convention }> {
  const segments: Segment[] = [];
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{');
    const close = rest.indexOf('}');
    if (close !== -1 && (open === -1 || close < open)) return { ok: false, message: `asset code convention "${template}" has a "}" without "{"` };
    if (open === -1) {
      segments.push({ kind: 'literal', text: rest });
      break;
    }
    if (open > 0) segments.push({ kind: 'literal', text: rest.slice(0, open) });
    if (close === -1) return { ok: false, message: `asset code convention "${template}" has a "{" without "}"` };
    const name = rest.slice(open + 1, close).trim();
    if (!(CODE_FIELDS as readonly string[]).includes(name)) {
      return { ok: false, message: `asset code convention "${template}" uses unknown field "{${name}}" (known: ${CODE_FIELDS.join(', ')})` };
    }
    const prev = segments.at(-1);
    if (prev?.kind === 'field') return { ok: false, message: `asset code convention "${template}" needs a separator between {${prev.field}} and {${name}}` };
    segments.push({ kind: 'field', field: name as CodeField });
    rest = rest.slice(close + 1);
  }
  if (!segments.some((s) => s.kind === 'field')) return { ok: false, message: `asset code convention "${template}" has no field in braces` };
  for (const s of segments) {
    if (s.kind === 'literal' && !LITERAL_PATTERN.test(s.text)) {
      return { ok: false, message: `asset code convention "${template}": separator "${s.text}" may only contain letters, digits, _ . -` };
    }
  }
  return { ok: true, convention: { template, segments } };
}

/** Upper-case and keep only A-Z and 0-9 ("Trane Inc." → "TRANEINC"). */
export const normaliseSegment = (value: string): string => value.toUpperCase().replace(/[^A-Z0-9]/g, '');

/** Codes are compared and stored upper-case. */
export const normaliseCode = (code: string): string => code.trim().toUpperCase();

/** Fields the convention needs. */
export const conventionFields = (c: Convention): CodeField[] => c.segments.flatMap((s) => (s.kind === 'field' ? [s.field] : []));

/** Applies the convention; a field that is missing or has no letters/digits is named in the message. */
export function buildCode(c: Convention, fields: CodeFields): Result<{ code: string }> {
  let code = '';
  for (const s of c.segments) {
    if (s.kind === 'literal') {
      code += s.text;
      continue;
    }
    const raw = fields[s.field];
    const value = raw ? normaliseSegment(raw) : '';
    if (!value) {
      const why = raw ? `"${raw}" has no letters or digits` : 'it is missing';
      return { ok: false, field: s.field, message: `asset code convention ${c.template} needs ${s.field === 'site' ? 'the site code' : `"${s.field}"`}, but ${why}` };
    }
    code += value;
  }
  code = normaliseCode(code);
  if (!CODE_PATTERN.test(code)) {
    return { ok: false, message: `generated asset code "${code}" is not a valid code (at most 64 letters, digits, _ . -, starting with a letter or digit)` };
  }
  return { ok: true, code };
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Checks a given code against the convention applied to the asset's fields (case-insensitive).
 * On a mismatch the message names the segment(s) that differ, with the expected value.
 */
export function checkCode(c: Convention, given: string, fields: CodeFields): Result<{ code: string }> {
  const built = buildCode(c, fields);
  if (!built.ok) return built;
  const code = normaliseCode(given);
  if (code === built.code) return { ok: true, code };
  const shape = new RegExp(`^${c.segments.map((s) => (s.kind === 'literal' ? escapeRe(s.text.toUpperCase()) : '(.*?)')).join('')}$`);
  const m = shape.exec(code);
  if (!m) {
    return { ok: false, message: `asset code "${given}" does not follow the convention ${c.template}; expected "${built.code}"` };
  }
  const wrong: string[] = [];
  let firstField: CodeField | undefined;
  conventionFields(c).forEach((field, i) => {
    const got = m[i + 1] ?? '';
    const want = normaliseSegment(fields[field] ?? '');
    if (got !== want) {
      firstField ??= field;
      wrong.push(`segment {${field}} is "${got}" but the asset's ${field === 'site' ? 'site code' : field} gives "${want}"`);
    }
  });
  return { ok: false, field: firstField, message: `asset code "${given}" does not match the convention ${c.template}: ${wrong.join('; ')}; expected "${built.code}"` };
}
