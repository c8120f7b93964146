import { describe, expect, it } from 'vitest';
import { convertSample, type RawSample } from '../../ingest/opcua/values.ts';

const now = new Date('2026-01-01T00:00:00Z');
const src = new Date('2025-12-31T23:59:59Z');
const srv = new Date('2025-12-31T23:59:58Z');
const sample = (over: Partial<RawSample>): RawSample => ({
  good: true,
  statusName: 'Good',
  dataType: 11,
  arrayType: 0,
  value: 1,
  sourceTimestamp: src,
  serverTimestamp: srv,
  ...over,
});
const identity = { scale: 1, offset: 0 };

describe('OPC-UA value conversion', () => {
  it.each([
    ['Double', sample({ value: 21.5 }), 21.5],
    ['Float', sample({ dataType: 10, value: 1.25 }), 1.25],
    ['Int32', sample({ dataType: 6, value: -7 }), -7],
    ['UInt16', sample({ dataType: 5, value: 65535 }), 65535],
    ['Boolean true', sample({ dataType: 1, value: true }), 1],
    ['Boolean false', sample({ dataType: 1, value: false }), 0],
    ['UInt64 [hi, lo]', sample({ dataType: 9, value: [1, 5] }), 2 ** 32 + 5],
    ['Int64 negative', sample({ dataType: 8, value: [0xffffffff, 0xfffffffe] }), -2],
  ])('%s', (_name, s, expected) => {
    expect(convertSample(s, identity, now)).toEqual({ kind: 'value', value: expected, ts: src });
  });

  it('applies value * scale + offset', () => {
    expect(convertSample(sample({ value: 215 }), { scale: 0.1, offset: -2 }, now)).toMatchObject({ value: 19.5 });
    expect(convertSample(sample({ dataType: 1, value: true }), { scale: 100, offset: 0 }, now)).toMatchObject({ value: 100 });
  });

  it('takes sourceTimestamp, else serverTimestamp, else now', () => {
    expect(convertSample(sample({}), identity, now)).toMatchObject({ ts: src });
    expect(convertSample(sample({ sourceTimestamp: null }), identity, now)).toMatchObject({ ts: srv });
    expect(convertSample(sample({ sourceTimestamp: null, serverTimestamp: null }), identity, now)).toMatchObject({ ts: now });
  });

  it.each([
    ['bad status', sample({ good: false, statusName: 'BadSensorFailure' }), 'bad', /BadSensorFailure/],
    ['uncertain status', sample({ good: false, statusName: 'UncertainLastUsableValue' }), 'bad', /Uncertain/],
    ['string', sample({ dataType: 12, value: 'hot' }), 'invalid', /unsupported data type 12/],
    ['null variant', sample({ dataType: 0, value: null }), 'invalid', /unsupported/],
    ['array', sample({ arrayType: 1, value: [1, 2] }), 'invalid', /array/],
    ['NaN', sample({ value: Number.NaN }), 'invalid', /not a finite number/],
    ['Infinity', sample({ value: Number.POSITIVE_INFINITY }), 'invalid', /not a finite number/],
  ])('%s is not emitted', (_name, s, kind, detail) => {
    const r = convertSample(s, identity, now);
    expect(r.kind).toBe(kind);
    expect(r.kind !== 'value' && r.detail).toMatch(detail);
  });
});
