import { describe, expect, it } from 'vitest';
import { buildSummary, canonicalJson, comparable, stillMatches, summaryHash, type SummaryInput } from '../../maintenance/signed-summary.ts';

const input: SummaryInput = {
  number: 42,
  title: 'Pump sensor drift',
  assetCode: 'P-1',
  status: 'in_progress',
  faultCode: 'E02',
  rootCause: 'loose connector',
  resolution: 'reseated connector',
  checklist: [
    { position: 2, key: 'torque', done: true, value: { nm: 12, ok: true } },
    { position: 1, key: 'isolate', done: true, value: null },
  ],
  work: { labourMinutes: 90, labourCost: 60, travelMinutes: 30, travelKm: 12.5, travelCost: 10 },
  movements: [
    { partCode: 'SEAL', quantity: -2 },
    { partCode: 'BRG', quantity: -1 },
    { partCode: 'SEAL', quantity: 1 },
    { partCode: 'GASKET', quantity: -1 },
    { partCode: 'GASKET', quantity: 1 },
  ],
};

describe('canonicalJson', () => {
  it.each([
    [{ b: 1, a: { d: [3, { y: 1, x: 2 }], c: null } }, '{"a":{"c":null,"d":[3,{"x":2,"y":1}]},"b":1}'],
    [{ a: undefined, b: 'é"' }, '{"b":"é\\""}'],
    [[undefined, 1], '[null,1]'],
    ['x', '"x"'],
  ])('%j', (v, json) => {
    expect(canonicalJson(v)).toBe(json);
  });
});

describe('buildSummary', () => {
  it('orders the checklist by position and nets parts per code (issues minus returns)', () => {
    const s = buildSummary(input);
    expect(s.checklist.map((c) => c.key)).toEqual(['isolate', 'torque']);
    expect(s.parts).toEqual([
      { partCode: 'BRG', quantity: 1 },
      { partCode: 'SEAL', quantity: 1 },
    ]);
  });

  it('hashes the same facts in any input order to the same value, and any change to another', () => {
    const h = summaryHash(buildSummary(input));
    expect(summaryHash(buildSummary({ ...input, checklist: [...input.checklist].reverse(), movements: [...input.movements].reverse() }))).toBe(h);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    for (const changed of [
      { ...input, resolution: 'replaced sensor' },
      { ...input, work: { ...input.work, labourMinutes: 91 } },
      { ...input, movements: [...input.movements, { partCode: 'BRG', quantity: -1 }] },
      { ...input, checklist: [{ ...input.checklist[0]!, value: { nm: 13, ok: true } }, input.checklist[1]!] },
    ]) {
      expect(summaryHash(buildSummary(changed))).not.toBe(h);
    }
  });
});

describe('stillMatches (status rule)', () => {
  const signed = buildSummary(input);
  const signedAt = { status: 'in_progress', contentHash: summaryHash(signed) };
  it.each([
    ['in_progress', true],
    ['completed', true],
    ['verified', true],
    ['closed', true],
    ['on_hold', false],
    ['cancelled', false],
  ])('signed in progress, now %s → %s', (status, ok) => {
    expect(stillMatches(buildSummary({ ...input, status }), signedAt)).toBe(ok);
  });
  it('comparable keeps the status when the order left the signed flow', () => {
    expect(comparable(buildSummary({ ...input, status: 'on_hold' }), 'in_progress').workOrder.status).toBe('on_hold');
  });
});
