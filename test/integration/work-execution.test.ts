/**
 * Work execution on real PostgreSQL through the platform API: work logs with labour costed at the
 * engineer's rate, totals and the per-engineer overlap refusal; the fault-code library and knowledge
 * base with ranked, explained suggestions; the customer signature, which stops being valid when the
 * work changes, and the contract guard that refuses completion without a matching signature.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const SVG_B64 = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60"><path d="M10 40 C 40 10, 65 10, 95 40"/></svg>').toString('base64');

interface Err {
  code: string;
  message: string;
}
interface WorkLog {
  id: string;
  kind: string;
  minutes: number;
  cost: number;
  startedAt: string | null;
  endedAt: string | null;
  distanceKm: number | null;
  engineerCode: string | null;
  warnings: string[];
}
interface Totals {
  labourMinutes: number;
  labourCost: number;
  travelMinutes: number;
  travelKm: number;
  travelCost: number;
  totalCost: number;
}
interface Article {
  id: string;
  title: string;
  faultCode: string | null;
  assetType: string | null;
  usedCount: number;
  score?: number;
}
interface Suggestions {
  query: { faultCode: string | null; alarmFaultCodes: string[]; assetType: string };
  items: { article: Article; score: number; breakdown: { faultCode: number; assetType: number; text: number; matchedWords: string[] } }[];
}
interface Signature {
  signerName: string;
  signerRole: string | null;
  attachmentId: string;
  contentHash: string;
  currentHash: string | null;
  valid: boolean;
  signedAt: string;
  summary: { workOrder: { number: number; status: string }; checklist: unknown[]; parts: unknown[]; work: Totals; resolution: string | null };
}

describe.skipIf(reason)(`work execution on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base = '';
  let siteId = '';
  let pumpId = '';
  let fanId = '';
  let engA = '';
  let engB = '';

  beforeAll(async () => {
    const t = await createTestDatabase(requireService('databaseUrl')!);
    drop = t.drop;
    platform = await startTestPlatform({ DATABASE_URL: t.url, ROLES: 'api' });
    base = platform.apiUrl!;
    siteId = (await api<{ id: string }>(base, 'POST', '/sites', { code: 'WX', name: 'Work execution' })).body.id;
    pumpId = (await api<{ id: string }>(base, 'POST', '/assets', { code: 'PUMP-7', name: 'Booster pump', type: 'pump', siteId })).body.id;
    fanId = (await api<{ id: string }>(base, 'POST', '/assets', { code: 'FAN-2', name: 'Roof fan', type: 'fan', siteId })).body.id;
    engA = (await api<{ id: string }>(base, 'POST', '/engineers', { code: 'ENG-A', name: 'Ana' })).body.id;
    engB = (await api<{ id: string }>(base, 'POST', '/engineers', { code: 'ENG-B', name: 'Bo' })).body.id;
  });

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  const order = async (body: Record<string, unknown> = {}) => (await api<{ id: string; number: number }>(base, 'POST', '/work-orders', { title: 'Pump pressure sensor reading drifts', assetId: pumpId, ...body })).body;
  const move = (id: string, body: Record<string, unknown>) => api<{ status: string } & Err>(base, 'POST', `/work-orders/${id}/transitions`, body);
  async function started(body: Record<string, unknown> = {}) {
    const wo = await order(body);
    expect((await move(wo.id, { to: 'assigned', assigneeId: engA })).status).toBe(200);
    expect((await move(wo.id, { to: 'accepted' })).status).toBe(200);
    expect((await move(wo.id, { to: 'in_progress' })).status).toBe(200);
    return wo;
  }
  const log = (id: string, body: Record<string, unknown>) => api<WorkLog & Err>(base, 'POST', `/work-orders/${id}/work-logs`, body);

  describe('work logs', () => {
    it('costs labour at the hourly rate, takes travel as entered and totals both', async () => {
      const wo = await started();
      const rate = await api<{ hourlyRate: number }>(base, 'PUT', `/engineers/${engA}/hourly-rate`, { hourlyRate: 45.5 });
      expect(rate).toMatchObject({ status: 200, body: { hourlyRate: 45.5 } });

      const l1 = await log(wo.id, { kind: 'labour', engineerId: engA, startedAt: '2026-03-02T08:00:00Z', endedAt: '2026-03-02T09:30:00Z' });
      expect(l1.status).toBe(201);
      expect(l1.body).toMatchObject({ kind: 'labour', minutes: 90, cost: 68.25, engineerCode: 'ENG-A', warnings: [] });
      const l2 = await log(wo.id, { kind: 'labour', engineerId: engA, minutes: 45 });
      expect(l2.body).toMatchObject({ minutes: 45, cost: 34.13, startedAt: null });
      // no rate: cost 0 and a warning
      const l3 = await log(wo.id, { kind: 'labour', engineerId: engB, startedAt: '2026-03-02T08:00:00Z', minutes: 30 });
      expect(l3.body).toMatchObject({ minutes: 30, cost: 0, endedAt: '2026-03-02T08:30:00.000Z' });
      expect(l3.body.warnings[0]).toMatch(/ENG-B has no hourly rate/);
      expect((await log(wo.id, { kind: 'travel', engineerId: engA, distanceKm: 12.4, minutes: 25, cost: 15.5 })).status).toBe(201);
      expect((await log(wo.id, { kind: 'note', note: 'customer reports drift since Monday' })).status).toBe(201);

      const list = await api<{ items: WorkLog[]; totals: Totals }>(base, 'GET', `/work-orders/${wo.id}/work-logs`);
      expect(list.body.items.map((i) => i.kind)).toEqual(['labour', 'labour', 'labour', 'travel', 'note']);
      expect(list.body.totals).toEqual({ labourMinutes: 165, labourCost: 102.38, travelMinutes: 25, travelKm: 12.4, travelCost: 15.5, totalCost: 117.88 });
    });

    it('refuses overlapping labour of one engineer (409), even on another order; back-to-back is fine', async () => {
      const a = await started();
      const b = await started();
      expect((await log(a.id, { kind: 'labour', engineerId: engA, startedAt: '2026-04-01T10:00:00Z', endedAt: '2026-04-01T12:00:00Z' })).status).toBe(201);
      const clash = await log(b.id, { kind: 'labour', engineerId: engA, startedAt: '2026-04-01T11:30:00Z', endedAt: '2026-04-01T13:00:00Z' });
      expect(clash.status).toBe(409);
      expect(clash.body.message).toMatch(/ENG-A already has labour logged from 2026-04-01T10:00:00.000Z to 2026-04-01T12:00:00.000Z/);
      expect((await log(b.id, { kind: 'labour', engineerId: engA, startedAt: '2026-04-01T12:00:00Z', endedAt: '2026-04-01T13:00:00Z' })).status).toBe(201);
      // another engineer at the same time is fine
      expect((await log(b.id, { kind: 'labour', engineerId: engB, startedAt: '2026-04-01T11:00:00Z', endedAt: '2026-04-01T12:00:00Z' })).status).toBe(201);
      // concurrent clashing entries: exactly one wins
      const race = await Promise.all([0, 1, 2, 3].map(() => log(a.id, { kind: 'labour', engineerId: engB, startedAt: '2026-04-02T09:00:00Z', endedAt: '2026-04-02T10:00:00Z' })));
      expect(race.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    });

    it('validates input and refuses logs on cancelled orders', async () => {
      const wo = await started();
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ kind: 'labour', minutes: 30 }, /needs the engineer/],
        [{ kind: 'labour', engineerId: engA, startedAt: '2026-05-01T10:00:00Z', endedAt: '2026-05-01T09:00:00Z' }, /endedAt must be after startedAt/],
        [{ kind: 'labour', engineerId: engA }, /startedAt and endedAt, or minutes/],
        [{ kind: 'travel', cost: 5 }, /distanceKm and\/or minutes/],
        [{ kind: 'travel', distanceKm: 3, cost: 1.234 }, /at most 2 decimals/],
        [{ kind: 'note' }, /needs its text/],
        [{ kind: 'note', note: 'x', minutes: 5 }, /text only/],
        [{ kind: 'labour', engineerId: '00000000-0000-4000-8000-000000000000', minutes: 5 }, /does not exist/],
      ];
      for (const [body, message] of cases) {
        const r = await log(wo.id, body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.message).toMatch(message);
      }
      expect((await log('00000000-0000-4000-8000-000000000000', { kind: 'note', note: 'x' })).status).toBe(404);
      expect((await move(wo.id, { to: 'cancelled' })).status).toBe(200);
      const closed = await log(wo.id, { kind: 'note', note: 'too late' });
      expect(closed.status).toBe(409);
      expect(closed.body.message).toMatch(/cancelled/);
    });
  });

  describe('fault codes and knowledge base', () => {
    it('lists the seeded library and adds codes once', async () => {
      const lib = await api<{ code: string; name: string }[]>(base, 'GET', '/fault-codes');
      expect(lib.body.slice(0, 2)).toMatchObject([{ code: 'E01' }, { code: 'E02', name: 'Sensor fault' }]);
      expect((await api(base, 'POST', '/fault-codes', { code: 'E13', name: 'Filter clogged', category: 'process' })).status).toBe(201);
      expect((await api(base, 'POST', '/fault-codes', { code: 'E13', name: 'again', category: 'process' })).status).toBe(409);
      expect((await api(base, 'POST', '/fault-codes', { code: 'e14', name: 'lower', category: 'x' })).status).toBe(400);
    });

    it('validates the fault code of an article and searches by words', async () => {
      const bad = await api<Err>(base, 'POST', '/knowledge-articles', { title: 'x', solution: 'y', faultCode: 'Z99' });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/Z99 is not in the fault-code library/);
      const a = await api<Article>(base, 'POST', '/knowledge-articles', { title: 'Impeller worn', symptoms: 'low flow, noise', solution: 'replace impeller', faultCode: 'E04', assetType: 'pump', tags: ['Impeller'] });
      expect(a.status).toBe(201);
      expect((await api<Article>(base, 'PATCH', `/knowledge-articles/${a.body.id}`, { title: 'Impeller worn or cracked' })).body.title).toBe('Impeller worn or cracked');
      const found = await api<{ items: Article[]; total: number }>(base, 'GET', '/knowledge-articles?q=cracked%20impeller');
      expect(found.body.items[0]).toMatchObject({ id: a.body.id, score: 10 });
      expect((await api<{ items: Article[] }>(base, 'GET', '/knowledge-articles?faultCode=E04')).body.items.map((i) => i.id)).toContain(a.body.id);
      expect((await api(base, 'DELETE', `/knowledge-articles/${a.body.id}`)).status).toBe(204);
      expect((await api(base, 'GET', `/knowledge-articles/${a.body.id}`)).status).toBe(404);
      // an article with files is not deleted (its files would be orphaned)
      const withFile = await api<Article>(base, 'POST', '/knowledge-articles', { title: 'Wiring diagram', solution: 'see attachment' });
      const up = await fetch(`${base}/knowledge-articles/${withFile.body.id}/attachments?fileName=diagram.txt`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'L1 L2 L3 PE' });
      expect(up.status).toBe(201);
      const refused = await api<Err>(base, 'DELETE', `/knowledge-articles/${withFile.body.id}`);
      expect(refused.status).toBe(409);
      expect(refused.body.message).toMatch(/1 attachment/);
    });

    it('suggests the article for the order\'s fault code and asset type first, with the breakdown', async () => {
      const mk = async (body: Record<string, unknown>) => (await api<Article>(base, 'POST', '/knowledge-articles', body)).body;
      const best = await mk({ title: 'Pump pressure sensor drift', symptoms: 'reading drifts slowly', solution: 'recalibrate, check the connector', faultCode: 'E02', assetType: 'pump' });
      const codeOnly = await mk({ title: 'Sensor replacement', solution: 'replace the transmitter', faultCode: 'E02' });
      const fanE02 = await mk({ title: 'Fan speed sensor', solution: 'clean the pickup', faultCode: 'E02', assetType: 'fan' });
      const typeOnly = await mk({ title: 'Pump seal leak', solution: 'replace seal', faultCode: 'E07', assetType: 'pump' });
      const alarmCode = await mk({ title: 'Overheating motor', solution: 'check cooling', faultCode: 'E05' });
      await mk({ title: 'Door hinge', solution: 'grease', faultCode: 'E04', assetType: 'door' });

      const wo = await order();
      await platform.db.prisma.alarm.create({ data: { assetId: pumpId, source: 'device', code: 'E05', severity: 'major', raisedAt: new Date(), workOrderId: wo.id } });
      // before a fault code is set, the linked alarm's code counts
      const early = await api<Suggestions>(base, 'GET', `/work-orders/${wo.id}/suggestions?limit=10`);
      expect(early.body.query).toMatchObject({ faultCode: null, alarmFaultCodes: ['E05'], assetType: 'pump' });
      expect(early.body.items.find((i) => i.article.id === alarmCode.id)?.breakdown.faultCode).toBe(40);

      expect((await api(base, 'PUT', `/work-orders/${wo.id}/close-out`, { faultCode: 'E02' })).status).toBe(200);
      const s = await api<Suggestions>(base, 'GET', `/work-orders/${wo.id}/suggestions?limit=10`);
      expect(s.status).toBe(200);
      const ids = s.body.items.map((i) => i.article.id);
      expect(ids[0]).toBe(best.id);
      expect(s.body.items[0]).toMatchObject({ score: 50 + 30 + 25, breakdown: { faultCode: 50, assetType: 30, text: 25 } });
      expect(s.body.items[0]!.breakdown.matchedWords).toEqual(expect.arrayContaining(['pressure', 'sensor', 'drifts', 'pump', 'reading']));
      expect(ids.indexOf(codeOnly.id)).toBeLessThan(ids.indexOf(typeOnly.id));
      expect(ids).toContain(fanE02.id);
      // with its own code, the alarm's code no longer scores
      expect(s.body.items.find((i) => i.article.id === alarmCode.id)).toBeUndefined();
      expect((await api(base, 'GET', '/work-orders/00000000-0000-4000-8000-000000000000/suggestions')).status).toBe(404);
    });

    it('counts an article as used once per order, recorded on the order', async () => {
      const art = (await api<Article>(base, 'POST', '/knowledge-articles', { title: 'Reset controller', solution: 'power cycle', faultCode: 'E09' })).body;
      const wo = await order();
      const marks = await Promise.all([0, 1, 2].map(() => api<{ article: Article; counted: boolean }>(base, 'POST', `/knowledge-articles/${art.id}/used`, { workOrderId: wo.id })));
      expect(marks.filter((m) => m.body.counted)).toHaveLength(1);
      const other = await order();
      expect((await api<{ article: Article; counted: boolean }>(base, 'POST', `/knowledge-articles/${art.id}/used`, { workOrderId: other.id })).body).toMatchObject({ counted: true, article: { usedCount: 2 } });
      const logs = await api<{ items: { kind: string; note: string }[] }>(base, 'GET', `/work-orders/${wo.id}/work-logs`);
      expect(logs.body.items.filter((l) => l.note.includes(`[kb:${art.id}]`))).toHaveLength(1);
    });
  });

  describe('customer signature', () => {
    const sign = (id: string, body: Record<string, unknown> = {}) =>
      api<Signature & Err>(base, 'POST', `/work-orders/${id}/signature`, { signerName: 'Mrs Li', signerRole: 'site manager', image: PNG_B64, imageContentType: 'image/png', ...body });

    it('signs the order summary and reads as invalid once the work changes', async () => {
      const wo = await started();
      await platform.db.prisma.workOrderChecklistItem.create({ data: { workOrderId: wo.id, position: 1, key: 'isolate', label: 'Isolate power', done: true, value: true } });
      const part = await platform.db.prisma.part.create({ data: { code: 'SEAL-9', name: 'Seal' } });
      const wh = await platform.db.prisma.warehouse.create({ data: { code: 'VAN-SIG', name: 'Van' } });
      await platform.db.prisma.stockMovement.create({ data: { partId: part.id, warehouseId: wh.id, kind: 'issue', quantity: -2, balanceAfter: 0, workOrderId: wo.id } });
      await api(base, 'PUT', `/work-orders/${wo.id}/close-out`, { faultCode: 'E07', rootCause: 'worn seal', resolution: 'replaced seal' });
      await api(base, 'PUT', `/engineers/${engA}/hourly-rate`, { hourlyRate: 45.5 });
      await log(wo.id, { kind: 'labour', engineerId: engA, minutes: 60 });

      expect((await api(base, 'GET', `/work-orders/${wo.id}/signature`)).status).toBe(404);
      const s = await sign(wo.id);
      expect(s.status).toBe(201);
      expect(s.body).toMatchObject({ signerName: 'Mrs Li', signerRole: 'site manager', valid: true });
      expect(s.body.currentHash).toBe(s.body.contentHash);
      expect(s.body.summary).toMatchObject({
        workOrder: { number: wo.number, status: 'in_progress' },
        resolution: 'replaced seal',
        checklist: [{ key: 'isolate', done: true, value: true }],
        parts: [{ partCode: 'SEAL-9', quantity: 2 }],
        work: { labourMinutes: 60, labourCost: 45.5 },
      });
      const image = await api<{ kind: string; contentType: string; ownerId: string }>(base, 'GET', `/attachments/${s.body.attachmentId}`);
      expect(image.body).toMatchObject({ kind: 'signature', contentType: 'image/png', ownerId: wo.id });

      // signing again without a change is refused
      expect((await sign(wo.id)).status).toBe(409);
      // completing is workflow, not a change
      expect((await move(wo.id, { to: 'completed' })).status).toBe(200);
      expect((await api<Signature>(base, 'GET', `/work-orders/${wo.id}/signature`)).body.valid).toBe(true);
      // work logged after signing invalidates it
      await log(wo.id, { kind: 'travel', distanceKm: 5 });
      const after = await api<Signature>(base, 'GET', `/work-orders/${wo.id}/signature`);
      expect(after.body.valid).toBe(false);
      expect(after.body.currentHash).not.toBe(after.body.contentHash);
      // re-signing replaces the signature; the first image stays
      const again = await sign(wo.id, { signerName: 'Mr Wu', image: SVG_B64, imageContentType: 'image/svg+xml' });
      expect(again.status).toBe(201);
      expect(again.body).toMatchObject({ signerName: 'Mr Wu', valid: true });
      expect(again.body.attachmentId).not.toBe(s.body.attachmentId);
      const images = await api<{ kind: string }[]>(base, 'GET', `/work-orders/${wo.id}/attachments`);
      expect(images.body.filter((a) => a.kind === 'signature')).toHaveLength(2);
    });

    it('signs reserved parts as the parts used, so consuming them at completion keeps the signature valid', async () => {
      const wo = await order();
      // (status set directly: this is about the signed parts, not the dispatch path)
      await platform.db.prisma.workOrder.update({ where: { id: wo.id }, data: { status: 'in_progress', assigneeId: engA } });
      const part = (await api<{ id: string }>(base, 'POST', '/parts', { code: 'SIG-RES', name: 'Filter', unitCost: 5 })).body;
      const wh = (await api<{ id: string }>(base, 'POST', '/warehouses', { code: 'WH-SIG-RES', name: 'Store' })).body;
      expect((await api(base, 'POST', '/stock/movements', { kind: 'receipt', partId: part.id, warehouseId: wh.id, quantity: 10 })).status).toBe(201);
      const res = await api<{ id: string }>(base, 'POST', `/work-orders/${wo.id}/reservations`, { partId: part.id, warehouseId: wh.id, quantity: 3 });
      expect(res.status).toBe(201);
      expect((await api(base, 'PUT', `/work-orders/${wo.id}/reservations/${res.body.id}`, { usedQuantity: 2 })).status).toBe(200);

      const s = await sign(wo.id);
      expect(s.status).toBe(201);
      expect(s.body.summary.parts).toEqual([{ partCode: 'SIG-RES', quantity: 2 }]);
      expect((await move(wo.id, { to: 'completed' })).status).toBe(200);
      // the reservation became an issue of 2: the same parts, so still valid
      const after = await api<Signature>(base, 'GET', `/work-orders/${wo.id}/signature`);
      expect(after.body).toMatchObject({ valid: true, summary: { parts: [{ partCode: 'SIG-RES', quantity: 2 }] } });
      expect(after.body.currentHash).toBe(after.body.contentHash);
    });

    it('refuses signing outside in_progress/completed and bad images, storing nothing', async () => {
      const open = await order();
      const r = await sign(open.id);
      expect(r.status).toBe(409);
      expect(r.body.message).toMatch(/open; the customer signs while it is in_progress or completed/);
      const wo = await started();
      const mismatch = await sign(wo.id, { image: SVG_B64, imageContentType: 'image/png' });
      expect(mismatch.status).toBe(400);
      expect(mismatch.body.message).toBe('declared image/png but the content is image/svg+xml');
      const script = await sign(wo.id, { image: Buffer.from('<svg><script>x()</script></svg>').toString('base64'), imageContentType: 'image/svg+xml' });
      expect(script.status).toBe(400);
      expect(await platform.db.prisma.attachment.count({ where: { ownerId: { in: [open.id, wo.id] } } })).toBe(0);
    });

    it('blocks completion when the contract requires a signature, until a matching one exists', async () => {
      const customer = await platform.db.prisma.customer.create({ data: { code: 'CUST-SIG', name: 'Signing customer' } });
      const contract = await platform.db.prisma.contract.create({ data: { code: 'CT-SIG', customerId: customer.id, name: 'Signed service', startsOn: new Date('2026-01-01'), requireSignature: true } });
      const wo = await started({ assetId: fanId, title: 'Fan vibration' });
      await platform.db.prisma.workOrder.update({ where: { id: wo.id }, data: { contractId: contract.id } });

      const unsigned = await move(wo.id, { to: 'completed' });
      expect(unsigned.status).toBe(409);
      expect(unsigned.body).toMatchObject({ code: 'illegal_transition', message: 'cannot complete: the customer signature is required by contract CT-SIG' });

      expect((await sign(wo.id)).status).toBe(201);
      await log(wo.id, { kind: 'note', note: 'notes do not change the signed summary' });
      expect((await api<Signature>(base, 'GET', `/work-orders/${wo.id}/signature`)).body.valid).toBe(true);
      await log(wo.id, { kind: 'labour', engineerId: engB, minutes: 15 });
      const changed = await move(wo.id, { to: 'completed' });
      expect(changed.status).toBe(409);
      expect(changed.body.message).toMatch(/required by contract CT-SIG and the work changed after signing/);

      expect((await sign(wo.id)).status).toBe(201);
      const done = await move(wo.id, { to: 'completed' });
      expect(done.status).toBe(200);
      expect(done.body.status).toBe('completed');

      // an order on a contract without the requirement completes unsigned
      const plain = await platform.db.prisma.contract.create({ data: { code: 'CT-PLAIN', customerId: customer.id, name: 'Plain', startsOn: new Date('2026-01-01') } });
      const other = await started();
      await platform.db.prisma.workOrder.update({ where: { id: other.id }, data: { contractId: plain.id } });
      expect((await move(other.id, { to: 'completed' })).status).toBe(200);
    });
  });
});
