/**
 * What an uploaded file really is (pure): its type from the leading bytes (magic numbers), checked
 * against the type the client declared and the allowed list, plus a file name safe to store and to
 * send back in Content-Disposition. No I/O.
 *
 * Detected: PNG, JPEG, WebP, PDF, SVG (UTF-8 text starting with `<?xml`/`<svg`, refused when it
 * carries scripts: `<script`, `on*=` event handlers, `javascript:` URLs, `<foreignObject`), and
 * plain text / CSV (valid UTF-8 without NUL bytes). Text cannot tell plain text from CSV, so either
 * declared type is accepted for text; everything else must match exactly.
 */

export type DetectedType = 'image/png' | 'image/jpeg' | 'image/webp' | 'application/pdf' | 'image/svg+xml' | 'text';

/** Declared content types a detected type satisfies. */
const SATISFIES: Record<DetectedType, readonly string[]> = {
  'image/png': ['image/png'],
  'image/jpeg': ['image/jpeg', 'image/jpg', 'image/pjpeg'],
  'image/webp': ['image/webp'],
  'application/pdf': ['application/pdf'],
  'image/svg+xml': ['image/svg+xml'],
  text: ['text/plain', 'text/csv'],
};

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0): boolean => b.length >= at + sig.length && sig.every((v, i) => b[at + i] === v);
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];
const RIFF = ascii('RIFF');
const WEBP = ascii('WEBP');
const PDF = ascii('%PDF-');

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of a valid UTF-8 buffer without NUL bytes (BOM removed), else undefined. */
function asText(b: Uint8Array): string | undefined {
  if (b.includes(0)) return undefined;
  try {
    return utf8.decode(b).replace(/^\uFEFF/, '');
  } catch {
    return undefined;
  }
}

/** Active content an SVG must not carry (it would run when the image is opened directly). */
const SVG_ACTIVE = [/<script[\s>/]/i, /\son[a-z]+\s*=/i, /javascript\s*:/i, /<foreignObject[\s>/]/i];

export type Detection = { type: DetectedType } | { type: 'image/svg+xml'; unsafe: string } | undefined;

/** Type from the content alone; undefined when it is none of the supported kinds. */
export function detectType(bytes: Uint8Array): Detection {
  if (startsWith(bytes, PNG)) return { type: 'image/png' };
  if (startsWith(bytes, JPEG)) return { type: 'image/jpeg' };
  if (startsWith(bytes, RIFF) && startsWith(bytes, WEBP, 8)) return { type: 'image/webp' };
  if (startsWith(bytes, PDF)) return { type: 'application/pdf' };
  const text = asText(bytes);
  if (text === undefined) return undefined;
  const head = text.trimStart();
  const isSvg = /^<svg[\s>]/i.test(head) || (/^<\?xml[\s?]/i.test(head) && /<svg[\s>]/i.test(head));
  if (isSvg) {
    const hit = SVG_ACTIVE.find((re) => re.test(text));
    return hit ? { type: 'image/svg+xml', unsafe: hit.source } : { type: 'image/svg+xml' };
  }
  return { type: 'text' };
}

/** `Image/PNG; charset=x` → `image/png`. */
export const mediaType = (contentType: string): string => (contentType.split(';')[0] ?? '').trim().toLowerCase();

export type TypeCheck = { ok: true; contentType: string } | { ok: false; status: 400 | 415; message: string; details: Record<string, unknown> };

/**
 * Accepts a file when its declared type is allowed and the bytes are that type. Returns the
 * content type to store (the declared media type, without parameters; text gets `; charset=utf-8`).
 */
export function checkFileType(declared: string, bytes: Uint8Array, allowed: readonly string[]): TypeCheck {
  const type = mediaType(declared);
  if (!allowed.includes(type)) {
    return { ok: false, status: 415, message: `content type ${type || '(none)'} is not accepted; allowed: ${allowed.join(', ')}`, details: { declared: type, allowed } };
  }
  const found = detectType(bytes);
  if (!found) return { ok: false, status: 400, message: `declared ${type} but the content is not a recognised file type`, details: { declared: type, detected: null } };
  if (!SATISFIES[found.type].includes(type)) {
    const detected = found.type === 'text' ? 'text/plain' : found.type;
    return { ok: false, status: 400, message: `declared ${type} but the content is ${detected}`, details: { declared: type, detected } };
  }
  if ('unsafe' in found) {
    return { ok: false, status: 400, message: 'SVG with scripts, event handlers or embedded HTML is not accepted', details: { declared: type, detected: found.type, matched: found.unsafe } };
  }
  return { ok: true, contentType: found.type === 'text' ? `${type}; charset=utf-8` : type };
}

const MAX_NAME = 200;

/**
 * A file name safe to store and to send back: the last path segment only, no control or reserved
 * characters (`<>:"/\|?*`), no leading dots or spaces (no `..`, no hidden files), at most 200
 * characters keeping the extension; `file` when nothing is left.
 */
export function sanitizeFileName(raw: string): string {
  const base = raw.normalize('NFC').split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  let name = base.replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_').replace(/\s+/g, ' ').replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  if (name.length > MAX_NAME) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
    name = name.slice(0, MAX_NAME - ext.length) + ext;
  }
  return name || 'file';
}

/** Content-Disposition value: an ASCII fallback plus the UTF-8 name (RFC 6266 / 5987). */
export function contentDisposition(fileName: string, disposition: 'attachment' | 'inline' = 'attachment'): string {
  const safe = sanitizeFileName(fileName);
  const fallback = safe.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(safe).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
