/**
 * Pure conversion of OPC-UA DataValues into numbers: quality check, numeric coercion, scaling,
 * timestamp choice. No node-opcua runtime import: the connector hands in the decoded parts.
 */
import type { OpcUaNodeMapping } from './config.ts';

/** node-opcua's DataType numbers for the scalar types we accept (Part 6 built-in type ids). */
export const NUMERIC_DATA_TYPES: ReadonlyMap<number, string> = new Map([
  [1, 'Boolean'],
  [2, 'SByte'],
  [3, 'Byte'],
  [4, 'Int16'],
  [5, 'UInt16'],
  [6, 'Int32'],
  [7, 'UInt32'],
  [8, 'Int64'],
  [9, 'UInt64'],
  [10, 'Float'],
  [11, 'Double'],
]);

export interface RawSample {
  /** The StatusCode is Good (severity bits 00). */
  good: boolean;
  statusName: string;
  /** DataType id of the Variant (0 = Null). */
  dataType: number;
  /** VariantArrayType: 0 = scalar. */
  arrayType: number;
  value: unknown;
  sourceTimestamp: Date | null | undefined;
  serverTimestamp: Date | null | undefined;
}

export type Conversion =
  | { kind: 'value'; value: number; ts: Date }
  | { kind: 'bad'; detail: string }
  | { kind: 'invalid'; detail: string };

const TWO_32 = 2 ** 32;

/** node-opcua carries Int64/UInt64 as [high, low] 32-bit words; precision beyond 2^53 is lost. */
function int64ToNumber(words: unknown, signed: boolean): number | undefined {
  if (!Array.isArray(words) || words.length !== 2) return undefined;
  const [high, low] = words as unknown[];
  if (typeof high !== 'number' || typeof low !== 'number') return undefined;
  const h = signed && high >= 0x80000000 ? high - TWO_32 : high;
  return h * TWO_32 + low;
}

function toNumber(sample: RawSample): number | undefined {
  const { dataType, value } = sample;
  if (dataType === 1) return typeof value === 'boolean' ? (value ? 1 : 0) : undefined;
  if (dataType === 8) return int64ToNumber(value, true);
  if (dataType === 9) return int64ToNumber(value, false);
  return typeof value === 'number' ? value : undefined;
}

/** `value * scale + offset`, ts = sourceTimestamp ?? serverTimestamp ?? now. */
export function convertSample(sample: RawSample, mapping: Pick<OpcUaNodeMapping, 'scale' | 'offset'>, now: Date): Conversion {
  if (!sample.good) return { kind: 'bad', detail: `status ${sample.statusName}` };
  const typeName = NUMERIC_DATA_TYPES.get(sample.dataType);
  if (typeName === undefined) return { kind: 'invalid', detail: `unsupported data type ${sample.dataType}` };
  if (sample.arrayType !== 0) return { kind: 'invalid', detail: `${typeName} array (only scalars are ingested)` };
  const raw = toNumber(sample);
  if (raw === undefined || !Number.isFinite(raw)) return { kind: 'invalid', detail: `${typeName} value ${String(sample.value)} is not a finite number` };
  const value = raw * mapping.scale + mapping.offset;
  if (!Number.isFinite(value)) return { kind: 'invalid', detail: `scaled value of ${raw} is not finite` };
  const ts = sample.sourceTimestamp ?? sample.serverTimestamp ?? now;
  return { kind: 'value', value, ts: Number.isNaN(ts.getTime()) ? now : ts };
}
