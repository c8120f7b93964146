import { describe, expect, it } from 'vitest';
import { checkFileType, contentDisposition, detectType, mediaType, sanitizeFileName } from '../../maintenance/file-types.ts';

/** A real 1×1 RGBA PNG (IHDR, IDAT, IEND). */
const PNG_1X1 = Uint8Array.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
  0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f, 0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47,
  0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
]);
/** JPEG: SOI + APP0 (JFIF) header. */
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
const bytes = (s: string) => new TextEncoder().encode(s);
const WEBP = Uint8Array.from([...bytes('RIFF'), 0x24, 0x00, 0x00, 0x00, ...bytes('WEBPVP8 ')]);
const PDF = bytes('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<< /Type /Catalog >>\nendobj\n');
const SVG = bytes('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><path d="M0 0L10 10"/></svg>');
const SVG_XML = bytes('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>');
const ALL = ['image/png', 'image/jpeg', 'image/webp', 'image/svg+xml', 'application/pdf', 'text/plain', 'text/csv'];

describe('detectType (magic bytes)', () => {
  it.each([
    ['1×1 PNG', PNG_1X1, 'image/png'],
    ['JPEG header', JPEG, 'image/jpeg'],
    ['WebP header', WEBP, 'image/webp'],
    ['PDF header', PDF, 'application/pdf'],
    ['SVG', SVG, 'image/svg+xml'],
    ['SVG with XML prolog', SVG_XML, 'image/svg+xml'],
    ['SVG after a BOM and blank lines', bytes('\uFEFF\n  <svg viewBox="0 0 1 1"></svg>'), 'image/svg+xml'],
    ['plain UTF-8 text', bytes('Bearing replaced, vibration 2.1 mm/s.\n轴承已更换'), 'text'],
    ['CSV', bytes('reading,value\nrpm,1450\n'), 'text'],
    ['XML that is not SVG', bytes('<?xml version="1.0"?><note>hi</note>'), 'text'],
  ])('%s → %s', (_name, b, type) => {
    expect(detectType(b)?.type).toBe(type);
  });

  it.each([
    ['text with a NUL byte', bytes('abc\u0000def')],
    ['invalid UTF-8', Uint8Array.from([0x61, 0xc3, 0x28, 0x62])],
    ['RIFF that is not WebP (WAV)', Uint8Array.from([...bytes('RIFF'), 0, 0, 0, 0, ...bytes('WAVEfmt ')])],
    ['a ZIP', Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0xff, 0xfe])],
  ])('%s is not recognised', (_name, b) => {
    expect(detectType(b)).toBeUndefined();
  });

  it.each([
    ['<script>', '<svg><script>alert(1)</script></svg>'],
    ['<script with attributes', '<svg><SCRIPT type="text/javascript">x()</SCRIPT></svg>'],
    ['onload handler', '<svg onload="alert(1)"></svg>'],
    ['onclick on a child', '<svg><rect width="1" onclick = "x()"/></svg>'],
    ['javascript: link', '<svg><a href="javascript:alert(1)"><text>x</text></a></svg>'],
    ['foreignObject (HTML inside)', '<svg><foreignObject><div>x</div></foreignObject></svg>'],
  ])('flags an SVG with %s as unsafe', (_name, svg) => {
    const d = detectType(bytes(svg));
    expect(d?.type).toBe('image/svg+xml');
    expect(d && 'unsafe' in d).toBe(true);
  });
});

describe('checkFileType', () => {
  it.each([
    ['image/png', PNG_1X1, 'image/png'],
    ['Image/PNG', PNG_1X1, 'image/png'],
    ['image/jpeg', JPEG, 'image/jpeg'],
    ['application/pdf', PDF, 'application/pdf'],
    ['image/svg+xml', SVG, 'image/svg+xml'],
    ['text/plain', bytes('hello'), 'text/plain; charset=utf-8'],
    ['text/csv; charset=utf-8', bytes('a,b\n1,2\n'), 'text/csv; charset=utf-8'],
    ['text/plain', bytes('a,b\n1,2\n'), 'text/plain; charset=utf-8'],
  ])('accepts %s that is one', (declared, b, stored) => {
    expect(checkFileType(declared, b, ALL)).toEqual({ ok: true, contentType: stored });
  });

  it.each([
    ['image/png', JPEG, 'declared image/png but the content is image/jpeg'],
    ['image/jpeg', PNG_1X1, 'declared image/jpeg but the content is image/png'],
    ['application/pdf', bytes('not a pdf'), 'declared application/pdf but the content is text/plain'],
    ['text/plain', PDF, 'declared text/plain but the content is application/pdf'],
    ['text/plain', SVG, 'declared text/plain but the content is image/svg+xml'],
    ['image/png', bytes('a\u0000b'), 'declared image/png but the content is not a recognised file type'],
  ])('400 when declared %s does not match the bytes', (declared, b, message) => {
    expect(checkFileType(declared, b, ALL)).toMatchObject({ ok: false, status: 400, message });
  });

  it('refuses an SVG with a script even when declared correctly', () => {
    expect(checkFileType('image/svg+xml', bytes('<svg><script>x</script></svg>'), ALL)).toMatchObject({ ok: false, status: 400, message: expect.stringMatching(/SVG with scripts/) });
  });

  it('415 for a type outside the allowed list, naming the allowed ones', () => {
    expect(checkFileType('application/zip', bytes('x'), ALL)).toMatchObject({ ok: false, status: 415, message: expect.stringMatching(/application\/zip is not accepted; allowed: image\/png/) });
    expect(checkFileType('image/svg+xml', SVG, ['image/png'])).toMatchObject({ ok: false, status: 415 });
  });

  it('mediaType drops parameters and case', () => {
    expect(mediaType(' Text/CSV ; charset=UTF-8')).toBe('text/csv');
  });
});

describe('sanitizeFileName', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\windows\\system32\\cmd.exe', 'cmd.exe'],
    ['/var/data/photo.jpg', 'photo.jpg'],
    ['..', 'file'],
    ['.hidden', 'hidden'],
    ['a\u0000b\nc.txt', 'a_b_c.txt'],
    ['what?<>|*:"x".png', 'what_______x_.png'],
    ['泵站 照片.jpg', '泵站 照片.jpg'],
    ['   ', 'file'],
  ])('%j → %j', (raw, safe) => {
    expect(sanitizeFileName(raw)).toBe(safe);
  });

  it('shortens long names to 200 characters and keeps the extension', () => {
    const s = sanitizeFileName(`${'x'.repeat(300)}.jpeg`);
    expect(s).toHaveLength(200);
    expect(s.endsWith('.jpeg')).toBe(true);
  });

  it('contentDisposition has an ASCII fallback and the UTF-8 name', () => {
    expect(contentDisposition('泵 "a".pdf')).toBe(`attachment; filename="_ _a_.pdf"; filename*=UTF-8''%E6%B3%B5%20_a_.pdf`);
  });
});
