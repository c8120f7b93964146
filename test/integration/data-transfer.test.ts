/**
 * CSV import/export on real PostgreSQL through the running API (asset code convention enforced):
 * assets with a parent later in the file, a file with bad rows refused whole with a row-level report,
 * dry runs, upsert, export → re-import round trips for assets, parts and engineers (skills,
 * certifications), the 413/415 guards, and all-or-nothing writes when a late row fails in the database.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataTransferService, IMPORT_MAX_BYTES, IMPORT_MAX_ROWS } from '../../maintenance/data-transfer.ts';
import { systemClock } from '../../platform/clock.ts';
import { AppError } from '../../platform/errors.ts';
import { createTestDatabase } from '../helpers/databases.ts';
import { api, startTestPlatform } from '../helpers/platform.ts';
import { requireService, skipReason } from '../helpers/services.ts';

const reason = skipReason('databaseUrl');

interface RowError {
  row: number;
  column: string | null;
  value: string | null;
  message: string;
}
interface Report {
  entity: string;
  mode: string;
  dryRun: boolean;
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  imported: number;
  errorCount: number;
  errors: RowError[];
}
interface ErrBody {
  code: string;
  message: string;
  details?: Report;
}

const csv = (lines: string[]): string => `${lines.join('\r\n')}\r\n`;

describe.skipIf(reason)(`CSV import/export on PostgreSQL ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base: string;
  let siteId = '';

  const importCsv = async <T = Report>(entity: string, body: string | Buffer, query = '', contentType = 'text/csv'): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${base}/import/${entity}${query}`, { method: 'POST', headers: { 'content-type': contentType }, body });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const exportCsv = async (entity: string, query = '') => {
    const res = await fetch(`${base}/export/${entity}${query}`);
    // Buffer, not res.text(): that would drop the byte-order mark
    return { status: res.status, headers: res.headers, text: Buffer.from(await res.arrayBuffer()).toString('utf8') };
  };
  const prisma = () => platform.db.prisma;

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    drop = db.drop;
    platform = await startTestPlatform({ DATABASE_URL: db.url, ROLES: 'api', ASSET_CODE_MODE: 'enforce', ASSET_CODE_CONVENTION: '{type}-{brand}-{model}-{serial}' });
    base = platform.apiUrl!;
    siteId = (await api<{ id: string }>(base, 'POST', '/sites', { code: 'PLANT-1', name: 'Plant 1' })).body.id;
    await api(base, 'POST', '/sites', { code: 'PLANT-2', name: 'Plant 2' });
    expect((await api(base, 'POST', `/sites/${siteId}/areas`, { code: 'HALL-A', name: 'Hall A' })).status).toBe(201);
  });

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  it('imports assets in one go: codes from the convention, a parent named later in the file, areas, specs, events', async () => {
    const file = csv([
      'code,name,type,brand,model,serial,siteCode,areaCode,parentCode,status,criticality,purchaseCost,warrantyEnd,specs',
      // the motor's parent is the pump two rows down
      ',Motor of pump 1,motor,ABB,M3BP,SN-M1,PLANT-1,HALL-A,PUMP-GRUNDFOS-CR10-S1,,high,1200.50,2030-06-30,"{""kW"":7.5}"',
      ',Bearing,bearing,SKF,6205,B1,PLANT-1,,MOTOR-ABB-M3BP-SNM1,installed,,,,',
      'pump-grundfos-cr10-s1,Pump 1,pump,Grundfos,CR10,S1,PLANT-1,HALL-A,,procured,critical,,,',
    ]);
    const r = await importCsv('assets', file);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ entity: 'assets', mode: 'create', dryRun: false, rows: 3, created: 3, updated: 0, imported: 3, errors: [] });

    const assets = await prisma().asset.findMany({ select: { id: true, code: true, parentId: true, areaId: true, status: true, criticality: true, specs: true, purchaseCost: true }, orderBy: { code: 'asc' } });
    const byCode = new Map(assets.map((a) => [a.code, a]));
    expect([...byCode.keys()]).toEqual(['BEARING-SKF-6205-B1', 'MOTOR-ABB-M3BP-SNM1', 'PUMP-GRUNDFOS-CR10-S1']);
    const pump = byCode.get('PUMP-GRUNDFOS-CR10-S1')!;
    const motor = byCode.get('MOTOR-ABB-M3BP-SNM1')!;
    expect(motor.parentId).toBe(pump.id);
    expect(byCode.get('BEARING-SKF-6205-B1')!.parentId).toBe(motor.id);
    expect(motor.areaId).not.toBeNull();
    expect(motor.specs).toEqual({ kW: 7.5 });
    expect(motor.purchaseCost?.toNumber()).toBe(1200.5);
    expect([pump.status, motor.status, byCode.get('BEARING-SKF-6205-B1')!.status]).toEqual(['procured', 'in_service', 'installed']);
    expect(pump.criticality).toBe('critical');
    // each asset has its `created` event, as when created through POST /assets
    expect(await prisma().assetEvent.count({ where: { kind: 'created', assetId: { in: assets.map((a) => a.id) } } })).toBe(3);
    // and the API sees the hierarchy
    const tree = await api<{ children: { code: string; children: { code: string }[] }[] }>(base, 'GET', `/assets/${pump.id}/tree`);
    expect(tree.status).toBe(200);
    expect(tree.body.children.map((c) => [c.code, c.children.map((g) => g.code)])).toEqual([['MOTOR-ABB-M3BP-SNM1', ['BEARING-SKF-6205-B1']]]);
  });

  it('refuses a file with bad rows whole: 400 listing exactly those rows and columns, nothing written', async () => {
    const before = await prisma().asset.count();
    const file = csv([
      'name,type,brand,model,serial,siteCode,areaCode,parentCode,status,purchaseDate',
      'Fan 1,fan,Ziehl,ZA,F1,PLANT-1,,,,2024-01-15',
      'Fan 2,fan,Ziehl,ZA,F2,NOPE,,,,', // row 3: unknown site
      'Fan 3,fan,Ziehl,ZA,F3,PLANT-1,,,,2024-02-30', // row 4: no such date
      'Fan 4,fan,Ziehl,ZA,F4,PLANT-1,,,,',
      'Fan 5,fan,Ziehl,ZA,F5,PLANT-1,,GHOST-1,,', // row 6: parent neither in the db nor in the file
      'Fan 6,fan,Ziehl,ZA,F6,PLANT-1,,,,',
    ]);
    const r = await importCsv<ErrBody>('assets', file);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('validation');
    expect(r.body.message).toMatch(/3 errors.*nothing was imported/);
    expect(r.body.details!.errors.map((e) => [e.row, e.column, e.value])).toEqual([
      [3, 'siteCode', 'NOPE'],
      [4, 'purchaseDate', '2024-02-30'],
      [6, 'parentCode', 'GHOST-1'],
    ]);
    expect(r.body.details).toMatchObject({ rows: 6, created: 0, imported: 0, errorCount: 3 });
    expect(await prisma().asset.count()).toBe(before);
  });

  it('reports duplicates in the file, existing codes in create mode, cycles, illegal statuses and header problems', async () => {
    const dup = await importCsv<ErrBody>(
      'assets',
      csv([
        'code,name,type,brand,model,serial,siteCode,status',
        ',Pump 1 again,pump,Grundfos,CR10,S1,PLANT-1,', // exists already
        ',Valve,valve,KSB,V1,X1,PLANT-1,retired', // a new asset cannot start retired
        ',Valve twin,valve,KSB,V1,X1,PLANT-1,', // same generated code as row 3
        'WRONG-CODE,Valve 2,valve,KSB,V1,X2,PLANT-1,', // code does not follow the convention
        ',No brand,valve,,V1,X3,PLANT-1,', // convention needs the brand
      ]),
    );
    expect(dup.status).toBe(400);
    expect(dup.body.details!.errors.map((e) => [e.row, e.column])).toEqual([
      [2, 'code'],
      [3, 'status'],
      [4, 'code'],
      [5, 'code'],
      [6, 'brand'],
    ]);
    expect(dup.body.details!.errors[0]!.message).toMatch(/already exists.*upsert/);
    expect(dup.body.details!.errors[2]!.message).toMatch(/also on row 3/);

    // a cycle through the database: the pump would become a component of its own motor
    const cycle = await importCsv<ErrBody>('assets', csv(['code,name,type,brand,model,serial,siteCode,parentCode', 'PUMP-GRUNDFOS-CR10-S1,Pump 1,pump,Grundfos,CR10,S1,PLANT-1,BEARING-SKF-6205-B1']), '?mode=upsert');
    expect(cycle.status).toBe(400);
    expect(cycle.body.details!.errors).toEqual([{ row: 2, column: 'parentCode', value: 'BEARING-SKF-6205-B1', message: expect.stringMatching(/cycle/) }]);

    const header = await importCsv<ErrBody>('parts', csv(['code,colour', 'P1,red']));
    expect(header.status).toBe(400);
    expect(header.body.details!.errors.map((e) => [e.row, e.column])).toEqual([
      [1, 'name'],
      [1, 'colour'],
    ]);

    const broken = await importCsv<ErrBody>('parts', 'code,name\r\nP1,"unterminated\r\n');
    expect(broken.status).toBe(400);
    expect(broken.body.details!.errors).toEqual([{ row: 2, column: null, value: null, message: expect.stringMatching(/not closed/) }]);
  });

  it('dry run: 200 with the report and nothing written, whether the file is good or bad', async () => {
    const good = csv(['code,name,unit,unitCost,safetyStock', 'DRY-1,Filter,pcs,3.20,5', 'DRY-2,Belt,,7,']);
    const ok = await importCsv('parts', good, '?dryRun=true');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ dryRun: true, rows: 2, created: 2, imported: 0, errors: [] });
    const bad = await importCsv('parts', csv(['code,name,unitCost', 'DRY-3,Seal,abc']), '?dryRun=true');
    expect(bad.status).toBe(200);
    expect(bad.body).toMatchObject({ dryRun: true, imported: 0, errorCount: 1, errors: [{ row: 2, column: 'unitCost', value: 'abc' }] });
    expect(await prisma().part.count({ where: { code: { startsWith: 'DRY-' } } })).toBe(0);
  });

  it('parts: create, then upsert updates by code (absent columns untouched), create mode refuses existing codes', async () => {
    const created = await importCsv('parts', csv(['code,name,unit,unitCost,safetyStock,reorderQuantity,supplier,leadTimeDays', 'P-100,Oil filter,pcs,12.50,4,10,ACME,7', 'P-200,V-belt,m,3,0,0,,']));
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect(created.body).toMatchObject({ created: 2, imported: 2 });

    const again = await importCsv<ErrBody>('parts', csv(['code,name', 'P-100,Oil filter']));
    expect(again.status).toBe(400);
    expect(again.body.details!.errors).toEqual([{ row: 2, column: 'code', value: 'P-100', message: expect.stringMatching(/already exists/) }]);

    const upsert = await importCsv('parts', csv(['code,name,unitCost', 'P-100,Oil filter XL,13', 'P-200,V-belt,3', 'P-300,Gasket,0.8']), '?mode=upsert');
    expect(upsert.status, JSON.stringify(upsert.body)).toBe(200);
    expect(upsert.body).toMatchObject({ mode: 'upsert', created: 1, updated: 1, unchanged: 1, imported: 2 });
    const p100 = await prisma().part.findUnique({ where: { code: 'P-100' } });
    expect(p100).toMatchObject({ name: 'Oil filter XL', safetyStock: 4, supplier: 'ACME', leadTimeDays: 7 });
    expect(p100!.unitCost!.toNumber()).toBe(13);
  });

  it('engineers with skills and certifications; home base pairs are checked', async () => {
    const file = csv([
      'code,name,phone,email,skills,certifications,homeLat,homeLon,timezone,maxOpenOrders,hourlyRate,active',
      'ENG-1,Li Wei,+8613800000000,li.wei@example.cn,hvac:4;pump:2,electrician@2027-12-31;F-gas@2024-01-01/2026-01-01,31.2304,121.4737,Asia/Shanghai,5,85.5,true',
      'ENG-2,Zhang Min,,,electrical,,,,,,,no',
    ]);
    const r = await importCsv('engineers', file);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ created: 2, imported: 2 });
    const list = await api<{ code: string; skills: unknown; certifications: unknown; timezone: string; active: boolean; maxOpenOrders: number; hourlyRate: number | null; phone: string | null }[]>(base, 'GET', '/engineers');
    const eng1 = list.body.find((e) => e.code === 'ENG-1')!;
    expect(eng1.skills).toEqual([
      { skill: 'hvac', level: 4 },
      { skill: 'pump', level: 2 },
    ]);
    expect(eng1.certifications).toEqual([
      { name: 'F-gas', issuedAt: '2024-01-01', expiresAt: '2026-01-01' },
      { name: 'electrician', issuedAt: null, expiresAt: '2027-12-31' },
    ]);
    expect(eng1).toMatchObject({ timezone: 'Asia/Shanghai', maxOpenOrders: 5, hourlyRate: 85.5, phone: '+8613800000000' });
    expect(list.body.find((e) => e.code === 'ENG-2')).toMatchObject({ skills: [{ skill: 'electrical', level: 3 }], timezone: 'UTC', maxOpenOrders: 8, active: false });

    const bad = await importCsv<ErrBody>('engineers', csv(['code,name,homeLat,homeLon,timezone,skills', 'ENG-3,Half home,30.1,,UTC,', 'ENG-4,Bad zone,,,Mars/Base,hvac:9']));
    expect(bad.status).toBe(400);
    expect(bad.body.details!.errors.map((e) => [e.row, e.column])).toEqual([
      [2, 'homeLon'],
      [3, 'skills'],
      [3, 'timezone'],
    ]);

    // upsert replaces the skill set when the column is given
    const up = await importCsv('engineers', csv(['code,name,skills', 'ENG-1,Li Wei,hvac:5']), '?mode=upsert');
    expect(up.body).toMatchObject({ updated: 1 });
    const skills = await prisma().engineerSkill.findMany({ where: { engineer: { code: 'ENG-1' } }, select: { skill: true, level: true } });
    expect(skills).toEqual([{ skill: 'hvac', level: 5 }]);
    expect(await prisma().engineerCertification.count({ where: { engineer: { code: 'ENG-1' } } })).toBe(2);
  });

  it('export → re-import with mode=upsert changes nothing, for every entity; the file is safe to open in a spreadsheet', async () => {
    // a name a spreadsheet would run as a formula, a negative longitude and text with a comma, quote and line break
    expect((await api(base, 'POST', '/parts', { code: 'P-EVIL', name: '=HYPERLINK("http://x","y")' })).status).toBe(201);
    await importCsv('engineers', csv(['code,name,homeLat,homeLon', 'ENG-W,"West, ""Bill""\nSmith",40.7128,-74.006']));

    for (const entity of ['assets', 'parts', 'engineers']) {
      const first = await exportCsv(entity);
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(first.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="${entity}-\\d{4}-\\d{2}-\\d{2}\\.csv"`));
      expect(first.text.charCodeAt(0)).toBe(0xfeff);
      const rowCount = Number(first.headers.get('x-row-count'));
      expect(rowCount).toBeGreaterThan(0);

      const back = await importCsv(entity, first.text, '?mode=upsert');
      expect(back.status, JSON.stringify(back.body)).toBe(200);
      expect(back.body).toMatchObject({ rows: rowCount, created: 0, updated: 0, unchanged: rowCount, errors: [] });
      expect((await exportCsv(entity)).text).toBe(first.text);
    }
    const parts = await exportCsv('parts');
    expect(parts.text).toContain(`P-EVIL,"'=HYPERLINK(""http://x"",""y"")"`);
    const engineers = await exportCsv('engineers');
    expect(engineers.text).toContain('"West, ""Bill""\nSmith"');
    expect(engineers.text).toContain(',40.7128,-74.006,');

    // the export filtered by site, and a changed export re-imports as an update
    const plant1 = await exportCsv('assets', `?siteId=${siteId}`);
    const lines = plant1.text.split('\r\n').filter(Boolean);
    expect(lines).toHaveLength(4);
    const edited = plant1.text.replace('Pump 1,pump', 'Pump one,pump');
    const up = await importCsv('assets', edited, '?mode=upsert');
    expect(up.body).toMatchObject({ updated: 1, unchanged: 2 });
    const pump = await prisma().asset.findUnique({ where: { code: 'PUMP-GRUNDFOS-CR10-S1' }, select: { id: true, name: true } });
    expect(pump!.name).toBe('Pump one');
    expect(await prisma().assetEvent.count({ where: { assetId: pump!.id, kind: 'updated' } })).toBe(1);
    expect((await exportCsv('parts', `?siteId=${siteId}`)).status).toBe(400);
  });

  it('a status change is not an import; a site move without areaCode leaves the area', async () => {
    const r = await importCsv<ErrBody>('assets', csv(['code,name,type,brand,model,serial,siteCode,status', 'PUMP-GRUNDFOS-CR10-S1,Pump one,pump,Grundfos,CR10,S1,PLANT-1,retired']), '?mode=upsert');
    expect(r.status).toBe(400);
    expect(r.body.details!.errors[0]).toMatchObject({ row: 2, column: 'status', message: expect.stringMatching(/POST \/assets\/\{id\}\/status/) });

    const move = await importCsv('assets', csv(['name,type,brand,model,serial,siteCode', 'Motor of pump 1,motor,ABB,M3BP,SN-M1,PLANT-2']), '?mode=upsert');
    expect(move.body).toMatchObject({ updated: 1 });
    const motor = await prisma().asset.findUnique({ where: { code: 'MOTOR-ABB-M3BP-SNM1' }, select: { id: true, areaId: true, site: { select: { code: true } } } });
    expect(motor).toMatchObject({ areaId: null, site: { code: 'PLANT-2' } });
    expect(await prisma().assetEvent.count({ where: { assetId: motor!.id, kind: 'moved' } })).toBe(1);
  });

  it('only text/csv bodies up to the limit are read; JSON routes are unaffected', async () => {
    const json = await importCsv<ErrBody>('parts', JSON.stringify({ code: 'X' }), '', 'application/json');
    expect(json.status).toBe(415);
    expect(json.body.code).toBe('unsupported_media_type');
    expect((await importCsv('parts', 'code,name\r\n', '', 'text/plain')).status).toBe(415);
    const latin1 = await importCsv<ErrBody>('parts', 'code,name\r\nP-L1,caf\xe9\r\n', '', 'text/csv; charset=iso-8859-1');
    expect(latin1.status).toBe(400);
    expect(latin1.body.message).toMatch(/UTF-8/);
    const notUtf8 = await importCsv<ErrBody>('parts', Buffer.from([0x63, 0x6f, 0x64, 0x65, 0x2c, 0x6e, 0x61, 0x6d, 0x65, 0x0a, 0x50, 0x2c, 0xff, 0x0a]));
    expect(notUtf8.status).toBe(400);
    expect(notUtf8.body.message).toMatch(/not valid UTF-8/);

    const big = `code,name\r\n${'P-BIG,x\r\n'.repeat(Math.ceil(IMPORT_MAX_BYTES / 9) + 1)}`;
    const tooBig = await importCsv<ErrBody>('parts', big);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.code).toBe('payload_too_large');
    const manyRows = `code,name\r\n${Array.from({ length: IMPORT_MAX_ROWS + 1 }, (_, i) => `M-${i},x`).join('\r\n')}\r\n`;
    const tooMany = await importCsv<ErrBody>('parts', manyRows);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.details!.errors).toEqual([{ row: IMPORT_MAX_ROWS + 2, column: null, value: null, message: expect.stringMatching(/at most 10000 rows/) }]);
    // hostile files within the byte limit are refused with a bounded report, not parsed whole
    const wide = await importCsv<ErrBody>('parts', `${'x,'.repeat(2_000_000)}x\r\n`);
    expect(wide.status).toBe(400);
    expect(wide.body.details).toMatchObject({ errorCount: 1, errors: [{ row: 1, message: expect.stringMatching(/more than 200 fields/) }] });
    const malformed = await importCsv<ErrBody>('parts', 'a"b\n'.repeat(1_000_000));
    expect(malformed.status).toBe(400);
    expect(malformed.body.details!.errorCount).toBe(1000);
    expect(malformed.body.details!.errors.some((e) => /stopped reading after 999 malformed records/.test(e.message))).toBe(true);
    expect((await importCsv('widgets', 'code\r\n')).status).toBe(400);
    // JSON routes still parse JSON
    expect((await api(base, 'POST', '/parts', { code: 'P-JSON', name: 'json still works' })).status).toBe(201);
    // a utf-8 charset parameter is fine
    expect((await importCsv('parts', 'code,name\r\nP-UTF,Ölfilter\r\n', '', 'text/csv; charset=UTF-8')).status).toBe(200);
  });

  it('all or nothing: a late row failing in the database rolls back the rows written before it', async () => {
    const codes = Array.from({ length: 50 }, (_, i) => `RACE-${String(i).padStart(3, '0')}`);
    const file = csv(['code,name', ...codes.map((c) => `${c},Part ${c}`)]);
    // a concurrent writer takes the last row's code between validation and the write
    const service = createDataTransferService({
      prisma: prisma(),
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      codeConvention: '{type}-{brand}-{model}-{serial}',
      codeMode: 'enforce',
      beforeWrite: async () => {
        await prisma().part.create({ data: { code: codes.at(-1)!, name: 'created concurrently' } });
      },
    });
    const err = await service.importCsv('parts', file, { mode: 'create', dryRun: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).kind).toBe('conflict');
    expect(((err as AppError).details as Report).errors).toEqual([{ row: 51, column: 'code', value: 'RACE-049', message: expect.stringMatching(/created by someone else/) }]);
    // the 49 rows before it are not there
    expect(await prisma().part.findMany({ where: { code: { startsWith: 'RACE-' } }, select: { code: true, name: true } })).toEqual([{ code: 'RACE-049', name: 'created concurrently' }]);

    // upsert: 49 new parts are inserted first, then the last row's update finds its part deleted
    // meanwhile — the inserts already made in the transaction are rolled back with it
    await prisma().part.create({ data: { code: 'GONE-1', name: 'about to be deleted' } });
    const upsertFile = csv(['code,name', ...codes.slice(0, 49).map((c) => `${c.replace('RACE', 'UPS')},Part`), 'GONE-1,renamed']);
    const deleting = createDataTransferService({
      prisma: prisma(),
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      codeConvention: '{type}-{brand}-{model}-{serial}',
      codeMode: 'enforce',
      beforeWrite: async () => {
        await prisma().part.delete({ where: { code: 'GONE-1' } });
      },
    });
    const gone = await deleting.importCsv('parts', upsertFile, { mode: 'upsert', dryRun: false }).catch((e: unknown) => e);
    expect((gone as AppError).kind).toBe('conflict');
    expect(((gone as AppError).details as Report).errors).toEqual([{ row: 51, column: 'code', value: 'GONE-1', message: expect.stringMatching(/deleted/) }]);
    expect(await prisma().part.count({ where: { code: { startsWith: 'UPS-' } } })).toBe(0);

    // the same for assets written with their events: nothing of the file remains
    const assetsBefore = await prisma().asset.count();
    const eventsBefore = await prisma().assetEvent.count();
    const assetFile = csv(['name,type,brand,model,serial,siteCode,parentCode', 'Child,pump,X,Y,C1,PLANT-1,PUMP-X-Y-P1', 'Parent,pump,X,Y,P1,PLANT-1,', 'Late,pump,X,Y,L1,PLANT-1,']);
    const assetService = createDataTransferService({
      prisma: prisma(),
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      codeConvention: '{type}-{brand}-{model}-{serial}',
      codeMode: 'enforce',
      beforeWrite: async () => {
        await prisma().asset.create({ data: { code: 'PUMP-X-Y-L1', name: 'concurrent', type: 'pump', siteId } });
      },
    });
    const assetErr = await assetService.importCsv('assets', assetFile, { mode: 'create', dryRun: false }).catch((e: unknown) => e);
    expect((assetErr as AppError).kind).toBe('conflict');
    expect(((assetErr as AppError).details as Report).errors.map((e) => [e.row, e.value])).toEqual([[4, 'PUMP-X-Y-L1']]);
    expect(await prisma().asset.count()).toBe(assetsBefore + 1);
    expect(await prisma().asset.count({ where: { code: { in: ['PUMP-X-Y-C1', 'PUMP-X-Y-P1'] } } })).toBe(0);
    expect(await prisma().assetEvent.count()).toBe(eventsBefore);
  });
});

describe.skipIf(reason)(`CSV import/export permissions with AUTH_MODE=on ${reason ?? ''}`, () => {
  let platform: Awaited<ReturnType<typeof startTestPlatform>>;
  let drop: () => Promise<void>;
  let base = '';
  const tokens: Record<string, string> = {};
  const ADMIN_PASSWORD = 'admin-password-123';

  const call = async (who: string, method: string, path: string, body?: string, contentType = 'text/csv') => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${tokens[who]}`, ...(body === undefined ? {} : { 'content-type': contentType }) }, body });
    const text = await res.text();
    return { status: res.status, text };
  };

  beforeAll(async () => {
    const db = await createTestDatabase(requireService('databaseUrl')!);
    drop = db.drop;
    platform = await startTestPlatform({ DATABASE_URL: db.url, ROLES: 'api', AUTH_MODE: 'on', ADMIN_PASSWORD, SESSION_SECRET: 's'.repeat(40) });
    base = platform.apiUrl!;
    const login = async (username: string, password: string) =>
      ((await (await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })).json()) as { token: string }).token;
    tokens.admin = await login('admin', ADMIN_PASSWORD);
    for (const role of ['planner', 'manager', 'dispatcher']) {
      const r = await fetch(`${base}/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username: role, displayName: role, password: `${role}-password-1`, role }),
      });
      expect(r.status).toBe(201);
      tokens[role] = await login(role, `${role}-password-1`);
    }
  });

  afterAll(async () => {
    await platform?.cleanup();
    await drop?.();
  });

  it('planners import (audited), managers only export, dispatchers neither', async () => {
    const file = 'code,name\r\nP-AUTH,Filter\r\n';
    expect((await call('manager', 'POST', '/import/parts', file)).status).toBe(403);
    expect((await call('dispatcher', 'POST', '/import/parts', file)).status).toBe(403);
    expect((await call('dispatcher', 'GET', '/export/parts')).status).toBe(403);
    const imported = await call('planner', 'POST', '/import/parts', file);
    expect(imported.status, imported.text).toBe(200);
    const exported = await call('manager', 'GET', '/export/parts');
    expect(exported.status).toBe(200);
    expect(exported.text).toContain('P-AUTH,Filter');
    const audit = await call('admin', 'GET', '/audit?entityType=import');
    const entries = (JSON.parse(audit.text) as { items: { route: string; actorName: string | null; statusCode: number }[] }).items;
    expect(entries.map((e) => [e.route, e.actorName, e.statusCode])).toEqual([['/import/:entity', 'planner', 200]]);
  });
});
