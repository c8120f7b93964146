/**
 * Attachments on real PostgreSQL and the real disk store: upload as the raw body, download the same
 * bytes, and every refusal (too large, wrong or unaccepted type, unsafe SVG, empty, unknown owner)
 * leaves nothing behind — no row and no file in the attachments directory.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const MAX = 65_536;
/** A real 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Attachment {
  id: string;
  ownerType: string;
  ownerId: string;
  kind: string;
  fileName: string;
  contentType: string;
  size: number;
  sha256: string;
}
interface Err {
  code: string;
  message: string;
}

/** Files below `root`, as paths relative to it (`yyyy/mm/<uuid>`). */
function filesUnder(root: string, dir: string = root): string[] {
  let out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  for (const n of names) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out = out.concat(filesUnder(root, p));
    else out.push(relative(root, p));
  }
  return out;
}

describe.skipIf(reason)(`attachments on PostgreSQL + disk ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base = '';
  let dir = '';
  let assetId = '';
  let workOrderId = '';

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    platform = await startTestPlatform({ DATABASE_URL: t.url, ROLES: 'api', ATTACHMENT_MAX_BYTES: String(MAX) });
    base = platform.apiUrl!;
    dir = join(platform.config.dataDir, 'attachments');
    const siteId = (await api<{ id: string }>(base, 'POST', '/sites', { code: 'AT', name: 'Attachments' })).body.id;
    assetId = (await api<{ id: string }>(base, 'POST', '/assets', { code: 'PUMP-1', name: 'Pump', type: 'pump', siteId })).body.id;
    workOrderId = (await api<{ id: string }>(base, 'POST', '/work-orders', { title: 'Seal leak', assetId })).body.id;
  });

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  async function upload(path: string, contentType: string | undefined, body: Uint8Array, query: Record<string, string> = {}) {
    const qs = new URLSearchParams({ fileName: 'file.bin', ...query }).toString();
    const res = await fetch(`${base}${path}?${qs}`, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Attachment & Err };
  }
  const rows = async () => (await platform.db.prisma.attachment.count());

  it('stores a photo and gives back the same bytes, type and hash', async () => {
    const up = await upload(`/work-orders/${workOrderId}/attachments`, 'image/png', PNG, { fileName: 'leak.png', description: 'seal from below' });
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ ownerType: 'work_order', ownerId: workOrderId, kind: 'photo', fileName: 'leak.png', contentType: 'image/png', size: PNG.length, sha256: sha(PNG) });
    // the bytes are on disk under yyyy/mm/<uuid>
    const row = await platform.db.prisma.attachment.findUniqueOrThrow({ where: { id: up.body.id }, select: { storageKey: true } });
    expect(row.storageKey).toMatch(/^\d{4}\/\d{2}\/[0-9a-f-]{36}$/);
    expect(filesUnder(dir)).toContain(row.storageKey);

    const res = await fetch(`${base}/attachments/${up.body.id}/content`);
    expect(res.status).toBe(200);
    const got = Buffer.from(await res.arrayBuffer());
    expect(got.equals(PNG)).toBe(true);
    expect(sha(got)).toBe(up.body.sha256);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="leak.png"; filename*=UTF-8''leak.png`);

    expect((await api<Attachment>(base, 'GET', `/attachments/${up.body.id}`)).body).toMatchObject({ id: up.body.id, sha256: sha(PNG) });
    const list = await api<Attachment[]>(base, 'GET', `/work-orders/${workOrderId}/attachments`);
    expect(list.body.map((a) => a.id)).toContain(up.body.id);
  });

  it('keeps asset documents and text with a charset parameter', async () => {
    const doc = await upload(`/assets/${assetId}/documents`, 'application/pdf', PDF, { fileName: 'manual.pdf' });
    expect(doc.status).toBe(201);
    expect(doc.body).toMatchObject({ ownerType: 'asset', kind: 'document', contentType: 'application/pdf' });
    const csv = await upload(`/assets/${assetId}/documents`, 'text/csv; charset=utf-8', Buffer.from('metric,value\nrpm,1450\n'), { fileName: 'readings.csv' });
    expect(csv.status).toBe(201);
    expect(csv.body.contentType).toBe('text/csv; charset=utf-8');
    const list = await api<Attachment[]>(base, 'GET', `/assets/${assetId}/documents`);
    expect(list.body.map((a) => a.fileName).sort()).toEqual(['manual.pdf', 'readings.csv']);
  });

  it('an asset with documents cannot be deleted (the files would be orphaned)', async () => {
    const site = (await api<{ id: string }[]>(base, 'GET', '/sites')).body[0]!.id;
    const spare = (await api<{ id: string }>(base, 'POST', '/assets', { code: 'SPARE-1', name: 'Spare', type: 'pump', siteId: site })).body.id;
    expect((await upload(`/assets/${spare}/documents`, 'application/pdf', PDF, { fileName: 'datasheet.pdf' })).status).toBe(201);
    const del = await api<Err>(base, 'DELETE', `/assets/${spare}`);
    expect(del.status).toBe(409);
    expect(del.body.message).toMatch(/1 document/);
  });

  it('sanitises a path-like file name; the bytes stay inside the store', async () => {
    const up = await upload(`/work-orders/${workOrderId}/attachments`, 'text/plain', Buffer.from('notes'), { fileName: '../../../etc/passwd.txt' });
    expect(up.status).toBe(201);
    expect(up.body.fileName).toBe('passwd.txt');
    const res = await fetch(`${base}/attachments/${up.body.id}/content`);
    expect(res.headers.get('content-disposition')).toContain('filename="passwd.txt"');
    expect(await res.text()).toBe('notes');
  });

  describe('refusals store nothing', () => {
    let before: { rows: number; files: string[] };
    const unchanged = async () => {
      expect(await rows()).toBe(before.rows);
      expect(filesUnder(dir).sort()).toEqual(before.files);
    };
    beforeAll(async () => {
      before = { rows: await rows(), files: filesUnder(dir).sort() };
    });

    it('413 when the file is over ATTACHMENT_MAX_BYTES', async () => {
      const big = Buffer.concat([PDF, Buffer.alloc(MAX, 0x20)]);
      const r = await upload(`/work-orders/${workOrderId}/attachments`, 'application/pdf', big);
      expect(r.status).toBe(413);
      expect(r.body).toMatchObject({ code: 'payload_too_large', message: expect.stringContaining(`${MAX} bytes`) });
      await unchanged();
    });

    it('400 when the declared type is not what the bytes are', async () => {
      const r = await upload(`/work-orders/${workOrderId}/attachments`, 'image/jpeg', PNG);
      expect(r.status).toBe(400);
      expect(r.body.message).toBe('declared image/jpeg but the content is image/png');
      const pdfAsPng = await upload(`/work-orders/${workOrderId}/attachments`, 'image/png', PDF);
      expect(pdfAsPng.body.message).toBe('declared image/png but the content is application/pdf');
      await unchanged();
    });

    it('415 for a type that is not accepted', async () => {
      const r = await upload(`/work-orders/${workOrderId}/attachments`, 'application/zip', Buffer.from([0x50, 0x4b, 0x03, 0x04]));
      expect(r.status).toBe(415);
      expect(r.body.message).toMatch(/application\/zip is not accepted; allowed: .*image\/png/);
      await unchanged();
    });

    it('400 for an SVG carrying a script, an empty body, text with NUL bytes', async () => {
      const svg = await upload(`/work-orders/${workOrderId}/attachments`, 'image/svg+xml', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'));
      expect(svg.status).toBe(400);
      expect(svg.body.message).toMatch(/SVG with scripts/);
      const empty = await upload(`/work-orders/${workOrderId}/attachments`, 'image/png', new Uint8Array(0));
      expect(empty.status).toBe(400);
      expect(empty.body.message).toMatch(/empty/);
      const nul = await upload(`/work-orders/${workOrderId}/attachments`, 'text/plain', Buffer.from('a\u0000b'));
      expect(nul.status).toBe(400);
      await unchanged();
    });

    it('404 for an owner that does not exist', async () => {
      const r = await upload('/work-orders/00000000-0000-4000-8000-000000000000/attachments', 'image/png', PNG);
      expect(r.status).toBe(404);
      await unchanged();
    });
  });

  it('deletes row and file; a signature image cannot be deleted', async () => {
    const up = await upload(`/assets/${assetId}/documents`, 'image/png', PNG, { fileName: 'nameplate.png', kind: 'photo' });
    const key = (await platform.db.prisma.attachment.findUniqueOrThrow({ where: { id: up.body.id }, select: { storageKey: true } })).storageKey;
    expect((await api(base, 'DELETE', `/attachments/${up.body.id}`)).status).toBe(204);
    expect(filesUnder(dir)).not.toContain(key);
    expect((await api(base, 'GET', `/attachments/${up.body.id}`)).status).toBe(404);
    expect((await api(base, 'DELETE', `/attachments/${up.body.id}`)).status).toBe(404);

    const sig = await platform.db.prisma.attachment.create({
      data: { ownerType: 'work_order', ownerId: workOrderId, kind: 'signature', fileName: 's.png', contentType: 'image/png', size: 1, sha256: 'x', storageKey: '2026/01/00000000-0000-4000-8000-000000000001' },
    });
    const refused = await api<Err>(base, 'DELETE', `/attachments/${sig.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/signature/);
  });

  it('refuses to serve a file whose bytes changed on disk (sha256 checked on read)', async () => {
    const up = await upload(`/work-orders/${workOrderId}/attachments`, 'text/plain', Buffer.from('original'), { fileName: 'a.txt' });
    const key = (await platform.db.prisma.attachment.findUniqueOrThrow({ where: { id: up.body.id }, select: { storageKey: true } })).storageKey;
    writeFileSync(join(dir, key), 'tampered');
    const res = await fetch(`${base}/attachments/${up.body.id}/content`);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('tampered');
  });

  it('documents the upload routes in the OpenAPI spec', async () => {
    const spec = await api<{ paths: Record<string, Record<string, unknown>> }>(base, 'GET', '/docs/json');
    expect(spec.status).toBe(200);
    expect(Object.keys(spec.body.paths['/work-orders/{id}/attachments'] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
    expect(spec.body.paths['/attachments/{id}/content']).toBeDefined();
  });

  it('leaves JSON routes alone', async () => {
    const r = await api<{ id: string }>(base, 'POST', '/work-orders', { title: 'Second', assetId });
    expect(r.status).toBe(201);
  });
});
