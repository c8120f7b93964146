/** A tiny YAML writer for provisioning files (maps, lists, scalars; strings quoted when not plain). */
type Value = string | number | boolean | null | undefined | Value[] | { [k: string]: Value };

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./:-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|~|y|n)$/i;

function scalar(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  if (typeof v !== 'string') return String(v);
  // JSON strings are valid YAML double-quoted scalars
  return PLAIN.test(v) && !RESERVED.test(v) ? v : JSON.stringify(v);
}

const isScalar = (v: Value): v is string | number | boolean | null => v === null || typeof v !== 'object';

function lines(v: Value, indent: string): string[] {
  if (Array.isArray(v)) {
    if (v.length === 0) return [`${indent}[]`];
    return v.flatMap((item) => {
      if (isScalar(item)) return [`${indent}- ${scalar(item)}`];
      const [first = '', ...rest] = lines(item, `${indent}  `);
      return [`${indent}- ${first.trimStart()}`, ...rest];
    });
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return [`${indent}{}`];
    return entries.flatMap(([k, x]) => {
      const key = scalar(k);
      if (isScalar(x!)) return [`${indent}${key}: ${scalar(x as string | number | boolean | null)}`];
      const inner = lines(x!, `${indent}  `);
      if (inner.length === 1 && /^\s*(\[\]|\{\})$/.test(inner[0]!)) return [`${indent}${key}: ${inner[0]!.trim()}`];
      return [`${indent}${key}:`, ...inner];
    });
  }
  return [`${indent}${scalar(v ?? null)}`];
}

export function toYaml(v: Value, header?: string): string {
  const head = header ? header.split('\n').map((l) => `# ${l}`.trimEnd()) : [];
  return [...head, ...lines(v, '')].join('\n') + '\n';
}
