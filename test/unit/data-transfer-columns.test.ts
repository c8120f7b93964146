import { describe, expect, it } from 'vitest';
import { parseCsv, writeCsv } from '../../platform/csv.ts';
import {
  COLUMNS,
  duplicateKeyErrors,
  formatCell,
  hierarchyProblem,
  parentsFirst,
  parseCertifications,
  parseSkills,
  sortErrors,
  typeCell,
  typeRecords,
  type CellValue,
  type Column,
  type Entity,
} from '../../maintenance/data-transfer-columns.ts';

const col = (entity: Entity, name: string): Column => COLUMNS[entity].find((c) => c.name === name)!;

describe('typeCell', () => {
  const ok: [Entity, string, string, CellValue][] = [
    ['parts', 'code', 'P-100', 'P-100'],
    ['parts', 'unit', '', 'pcs'],
    ['parts', 'unitCost', ' 12.50 ', 12.5],
    ['parts', 'unitCost', '', null],
    ['parts', 'safetyStock', '', 0],
    ['parts', 'safetyStock', '+7', 7],
    ['assets', 'purchaseCost', '1e3', 1000],
    ['assets', 'status', 'In_Service', 'in_service'],
    ['assets', 'criticality', '', 'medium'],
    ['assets', 'warrantyEnd', '2028-02-29', '2028-02-29'],
    ['assets', 'specs', '{"kW":7.5,"poles":4}', { kW: 7.5, poles: 4 }],
    ['assets', 'specs', '', {}],
    ['engineers', 'active', 'No', false],
    ['engineers', 'active', 'yes', true],
    ['engineers', 'active', '', true],
    ['engineers', 'homeLon', '-73.9857', -73.9857],
    ['engineers', 'timezone', 'Asia/Shanghai', 'Asia/Shanghai'],
    ['engineers', 'timezone', '', 'UTC'],
    ['engineers', 'email', 'li.wei@example.cn', 'li.wei@example.cn'],
    ['engineers', 'skills', 'HVAC:4; pump ;pump:2', [{ skill: 'hvac', level: 4 }, { skill: 'pump', level: 3 }]],
    ['engineers', 'skills', '', []],
    ['engineers', 'certifications', 'electrician@2027-12-31;F-gas@2024-01-01/2026-01-01;first aid', [
      { name: 'F-gas', issuedAt: '2024-01-01', expiresAt: '2026-01-01' },
      { name: 'electrician', issuedAt: null, expiresAt: '2027-12-31' },
      { name: 'first aid', issuedAt: null, expiresAt: null },
    ]],
    ['engineers', 'certifications', 'ops@example@2030-01-01', [{ name: 'ops@example', issuedAt: null, expiresAt: '2030-01-01' }]],
  ];
  it.each(ok)('%s.%s %j → %j', (entity, name, raw, value) => {
    expect(typeCell(col(entity, name), raw)).toEqual({ ok: true, value });
  });

  const bad: [Entity, string, string, RegExp][] = [
    ['parts', 'code', '', /required/],
    ['parts', 'code', '-P1', /not a valid code/],
    ['parts', 'name', 'x'.repeat(201), /longer than 200/],
    ['parts', 'unitCost', '12,50', /not a number/],
    ['parts', 'unitCost', '1.005', /at most 2 decimals/],
    ['parts', 'unitCost', '-1', /between 0 and/],
    ['parts', 'safetyStock', '1.5', /whole number/],
    ['parts', 'leadTimeDays', '3651', /between 0 and 3650/],
    ['assets', 'status', 'broken', /one of procured, installed/],
    ['assets', 'purchaseDate', '2025-02-30', /valid date/],
    ['assets', 'purchaseDate', '30/01/2025', /valid date/],
    ['assets', 'specs', '[1,2]', /JSON object/],
    ['assets', 'specs', '{kW:1}', /not valid JSON/],
    ['engineers', 'active', 'maybe', /true or false/],
    ['engineers', 'homeLat', '91', /between -90 and 90/],
    ['engineers', 'timezone', 'Mars/Base', /unknown time zone/],
    ['engineers', 'email', 'not-an-email', /e-mail/],
    ['engineers', 'skills', 'hvac:6', /level must be 1–5/],
    ['engineers', 'skills', ':3', /no name/],
    ['engineers', 'certifications', 'gas@2026-13-01', /not a valid date/],
    ['engineers', 'certifications', 'gas@soon', /expiry date/],
    ['engineers', 'certifications', 'gas@2027-01-01/2026-01-01', /expires before/],
    ['engineers', 'certifications', 'gas@2027-01-01;gas', /listed twice/],
  ];
  it.each(bad)('%s.%s %j is refused', (entity, name, raw, message) => {
    const r = typeCell(col(entity, name), raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });

  it('limits lists to 50 entries', () => {
    expect(parseSkills(Array.from({ length: 51 }, (_, i) => `s${i}`).join(';')).ok).toBe(false);
    expect(parseCertifications(Array.from({ length: 51 }, (_, i) => `c${i}`).join(';')).ok).toBe(false);
  });
});

describe('formatCell reads back to the same value', () => {
  const values: [Entity, string, CellValue][] = [
    ['assets', 'specs', { kW: 7.5, nested: { a: [1, 'x,"y"'] } }],
    ['assets', 'purchaseCost', 1234.56],
    ['assets', 'warrantyEnd', '2030-12-31'],
    ['engineers', 'skills', [{ skill: 'electrical', level: 5 }, { skill: 'hvac', level: 1 }]],
    ['engineers', 'certifications', [{ name: 'a', issuedAt: '2024-01-01', expiresAt: null }, { name: 'b', issuedAt: null, expiresAt: '2026-06-30' }]],
    ['engineers', 'active', false],
    ['engineers', 'homeLat', -33.8688],
    ['parts', 'name', '=cmd|" /C calc"!A0'],
    ['parts', 'supplier', null],
  ];
  it.each(values)('%s.%s %j', (entity, name, value) => {
    const c = col(entity, name);
    // through a real CSV file, with formula escaping
    const text = writeCsv([[c.name], [formatCell(c, value)]]);
    const file = typeRecords(entity === 'parts' ? 'parts' : entity, parseCsv(text).records);
    if (file.errors.length === 0) expect(file.rows[0]!.values[c.name]).toEqual(value ?? c.default ?? null);
    else expect(file.errors.every((e) => e.message.includes('required column'))).toBe(true);
    expect(typeCell(c, formatCell(c, value))).toEqual({ ok: true, value: value ?? c.default ?? null });
  });
});

describe('typeRecords', () => {
  const recs = (text: string) => parseCsv(text).records;

  it('types every cell, reports each bad cell with its line and column, undoes formula escaping', () => {
    const file = typeRecords('parts', recs(['Code,NAME,unitCost,safetyStock', 'P1,"Seal, 40mm",2.5,', "P2,'=1+1,abc,3", 'P3,Belt,1,x', 'P4,Gear', ''].join('\n')));
    expect(file.columns).toEqual(['code', 'name', 'unitCost', 'safetyStock']);
    expect(file.rows.map((r) => [r.line, r.invalid])).toEqual([
      [2, false],
      [3, true],
      [4, true],
    ]);
    expect(file.rows[0]!.values).toEqual({ code: 'P1', name: 'Seal, 40mm', unitCost: 2.5, safetyStock: 0 });
    expect(file.rows[1]!.values.name).toBe('=1+1');
    expect(file.errors).toEqual([
      { row: 3, column: 'unitCost', value: 'abc', message: expect.stringMatching(/not a number/) },
      { row: 4, column: 'safetyStock', value: 'x', message: expect.stringMatching(/whole number/) },
      { row: 5, column: null, value: null, message: 'expected 4 fields like the header, found 2' },
    ]);
  });

  it.each([
    ['unknown column', 'code,name,colour\n', [{ row: 1, column: 'colour', message: /unknown column/ }]],
    ['duplicate column', 'code,name,Name\n', [{ row: 1, column: 'name', message: /twice/ }]],
    ['missing required column', 'code,unit\n', [{ row: 1, column: 'name', message: /required column is missing/ }]],
  ])('header: %s', (_n, text, expected) => {
    const file = typeRecords('parts', recs(text));
    expect(file.rows).toEqual([]);
    expect(file.errors.map((e) => e.column)).toEqual(expected.map((e) => e.column));
    file.errors.forEach((e, i) => {
      expect(e.row).toBe(expected[i]!.row);
      expect(e.message).toMatch(expected[i]!.message);
    });
  });

  it('an empty file is one error', () => {
    expect(typeRecords('engineers', []).errors).toEqual([{ row: 1, column: null, value: null, message: expect.stringMatching(/empty/) }]);
  });

  it('a missing required cell is an error, a missing optional one its default', () => {
    const file = typeRecords('assets', recs('name,type,siteCode,criticality\n,pump,S1,\nPump,pump,S1,\n'));
    expect(file.errors).toEqual([{ row: 2, column: 'name', value: '', message: 'name is required' }]);
    expect(file.rows[1]!.values).toEqual({ name: 'Pump', type: 'pump', siteCode: 'S1', criticality: 'medium' });
  });
});

describe('file-level checks', () => {
  it('duplicate keys: every later row names the first', () => {
    const rows = [
      { line: 2, key: 'A', raw: 'A' },
      { line: 3, key: 'B', raw: 'B' },
      { line: 4, key: 'A', raw: 'A' },
      { line: 5, key: undefined, raw: '' },
      { line: 6, key: 'A', raw: 'A' },
      { line: 7, key: 'a', raw: 'a' },
    ];
    expect(duplicateKeyErrors(rows, 'code', 'part code').map((e) => [e.row, e.message])).toEqual([
      [4, 'part code A is also on row 2'],
      [6, 'part code A is also on row 2'],
    ]);
  });

  const tree: Record<string, string | null> = { A: null, B: 'A', C: 'B', X: 'Y', Y: 'Z', Z: 'X', S: 'S' };
  it.each([
    ['A', undefined],
    ['C', undefined],
    ['X', /cycle/],
    ['S', /own parent/],
  ])('hierarchy from %s', (start, problem) => {
    const r = hierarchyProblem(start, (c) => tree[c]);
    if (problem) expect(r).toMatch(problem);
    else expect(r).toBeUndefined();
  });

  it('hierarchy deeper than the limit', () => {
    expect(hierarchyProblem('N0', (c) => `N${Number(c.slice(1)) + 1}`, 10)).toMatch(/deeper than 10/);
  });

  it('parentsFirst orders parents before children, keeps file order otherwise', () => {
    const items = [
      { code: 'leaf', parentCode: 'mid' },
      { code: 'other', parentCode: 'EXISTING' },
      { code: 'mid', parentCode: 'root' },
      { code: 'root', parentCode: null },
    ];
    expect(parentsFirst(items).map((i) => i.code)).toEqual(['other', 'root', 'mid', 'leaf']);
  });

  it('errors sort by row then column position', () => {
    const e = (row: number, column: string | null) => ({ row, column, value: null, message: '' });
    expect(sortErrors('parts', [e(3, 'unit'), e(2, 'leadTimeDays'), e(3, 'code'), e(3, null)]).map((x) => [x.row, x.column])).toEqual([
      [2, 'leadTimeDays'],
      [3, null],
      [3, 'code'],
      [3, 'unit'],
    ]);
  });
});
