import { describe, expect, it } from 'vitest';
import { buildCode, checkCode, conventionFields, normaliseSegment, parseConvention, type Convention } from '../../maintenance/asset-code.ts';

const conv = (template: string): Convention => {
  const r = parseConvention(template);
  if (!r.ok) throw new Error(r.message);
  return r.convention;
};
const DEFAULT = conv('{type}-{brand}-{model}-{serial}');
const chiller = { type: 'chiller', brand: 'Trane', model: 'CVHF', serial: '77' };

describe('parseConvention', () => {
  it.each([
    ['{type}-{brand}-{model}-{serial}', ['type', 'brand', 'model', 'serial']],
    ['{site}.{type}_{serial}', ['site', 'type', 'serial']],
    ['AST-{serial}', ['serial']],
    ['{type}', ['type']],
  ])('%s uses %j', (template, fields) => {
    expect(conventionFields(conv(template))).toEqual(fields);
  });

  it.each([
    ['{type}-{colour}', /unknown field "\{colour\}"/],
    ['{type}-{brand', /"\{" without "\}"/],
    ['type}-{brand}', /"\}" without "\{"/],
    ['{type}{serial}', /separator between \{type\} and \{serial\}/],
    ['ASSET', /no field/],
    ['{type} / {serial}', /separator " \/ " may only contain/],
  ])('refuses %s', (template, message) => {
    const r = parseConvention(template);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});

describe('normaliseSegment', () => {
  it.each([
    ['Trane', 'TRANE'],
    ['Trane Inc.', 'TRANEINC'],
    ['cvhf-077/b', 'CVHF077B'],
    ['Grundfoß', 'GRUNDFOSS'],
    ['  ', ''],
  ])('%j → %j', (raw, want) => expect(normaliseSegment(raw)).toBe(want));
});

describe('buildCode', () => {
  it.each([
    [DEFAULT, chiller, 'CHILLER-TRANE-CVHF-77'],
    [DEFAULT, { type: 'Pump', brand: 'Grundfos A/S', model: 'CR 10-2', serial: 'sn:0042' }, 'PUMP-GRUNDFOSAS-CR102-SN0042'],
    [conv('{site}.{type}_{serial}'), { site: 'plant-1', type: 'ahu', serial: '9' }, 'PLANT1.AHU_9'],
    [conv('ast-{serial}'), { serial: 'x1' }, 'AST-X1'],
  ])('%#: builds %s', (c, fields, code) => {
    expect(buildCode(c, fields)).toEqual({ ok: true, code });
  });

  it.each([
    [{ ...chiller, serial: undefined }, 'serial', /needs "serial", but it is missing/],
    [{ ...chiller, brand: null }, 'brand', /needs "brand", but it is missing/],
    [{ ...chiller, model: '--' }, 'model', /needs "model", but "--" has no letters or digits/],
  ])('%#: names the missing field %s', (fields, field, message) => {
    const r = buildCode(DEFAULT, fields);
    expect(r).toMatchObject({ ok: false, field });
    if (!r.ok) expect(r.message).toMatch(message);
  });

  it('names the site when a {site} convention has no site code', () => {
    expect(buildCode(conv('{site}-{serial}'), { serial: '1' })).toMatchObject({ ok: false, field: 'site', message: expect.stringMatching(/the site code/) });
  });

  it('refuses codes longer than 64 characters', () => {
    const r = buildCode(DEFAULT, { ...chiller, model: 'M'.repeat(60) });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/not a valid code/);
  });
});

describe('checkCode', () => {
  it.each(['CHILLER-TRANE-CVHF-77', 'chiller-trane-cvhf-77', ' Chiller-Trane-CVHF-77 '])('accepts %j (case-insensitive) and normalises it', (given) => {
    expect(checkCode(DEFAULT, given, chiller)).toEqual({ ok: true, code: 'CHILLER-TRANE-CVHF-77' });
  });

  it.each([
    ['CHILLER-CARRIER-CVHF-77', 'brand', /segment \{brand\} is "CARRIER" but the asset's brand gives "TRANE"/],
    ['CHILLER-TRANE-CVHF-78', 'serial', /segment \{serial\} is "78" but the asset's serial gives "77"/],
    ['PUMP-TRANE-CVHF-1', 'type', /\{type\} is "PUMP".*\{serial\} is "1"/],
  ])('%s → names the wrong segment %s', (given, field, message) => {
    const r = checkCode(DEFAULT, given, chiller);
    expect(r).toMatchObject({ ok: false, field });
    if (!r.ok) {
      expect(r.message).toMatch(message);
      expect(r.message).toMatch(/expected "CHILLER-TRANE-CVHF-77"/);
    }
  });

  it('a code of another shape says what was expected', () => {
    const r = checkCode(DEFAULT, 'CH-1', chiller);
    expect(r).toEqual({ ok: false, message: 'asset code "CH-1" does not follow the convention {type}-{brand}-{model}-{serial}; expected "CHILLER-TRANE-CVHF-77"' });
  });

  it('missing fields are reported before comparing', () => {
    expect(checkCode(DEFAULT, 'CHILLER-TRANE-CVHF-77', { ...chiller, serial: '' })).toMatchObject({ ok: false, field: 'serial' });
  });
});
