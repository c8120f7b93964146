/**
 * Pure validation of MQTT payloads. Returns either the decoded message or a reason + detail for the
 * dead-letter queue. No I/O; `now` is passed in.
 */
import { METRIC_NAME } from './telemetry-schema.ts';

export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type RejectReason =
  | 'unauthorized'
  | 'invalid_topic'
  | 'payload_too_large'
  | 'invalid_json'
  | 'invalid_payload'
  | 'unknown_asset'
  | 'overloaded'
  /** the database stayed unreachable while the service shut down (the message is kept here instead) */
  | 'unavailable'
  /** processing threw unexpectedly (a bug): the message is kept instead of being lost */
  | 'internal_error';

export interface Rejection {
  reason: RejectReason;
  detail: string;
}

export interface TelemetryMessage {
  ts: Date;
  metrics: Record<string, number>;
}

export interface AlarmMessage {
  ts: Date;
  code: string;
  severity: Severity;
  active: boolean;
  message: string | undefined;
}

export const MAX_METRICS = 200;
/** Device clocks drift; readings further in the future than this are refused. */
export const MAX_FUTURE_MS = 5 * 60_000;
/** Readings older than this are refused (buffers replayed after very long outages go through the API). */
export const MAX_PAST_MS = 366 * 24 * 3600_000;

type Result<T> = { ok: true; value: T } | { ok: false; rejection: Rejection };
const reject = (reason: RejectReason, detail: string): { ok: false; rejection: Rejection } => ({ ok: false, rejection: { reason, detail } });

function decodeJson(payload: Uint8Array, maxBytes: number): Result<Record<string, unknown>> {
  if (payload.byteLength > maxBytes) return reject('payload_too_large', `${payload.byteLength} bytes > limit ${maxBytes}`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch (err) {
    return reject('invalid_json', (err as Error).message);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return reject('invalid_payload', 'payload must be a JSON object');
  return { ok: true, value: value as Record<string, unknown> };
}

function decodeTs(raw: unknown, now: Date): Result<Date> {
  if (raw === undefined || raw === null) return { ok: true, value: now };
  let ts: Date;
  if (typeof raw === 'number' && Number.isFinite(raw)) ts = new Date(raw);
  else if (typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(raw)) ts = new Date(raw);
  else return reject('invalid_payload', 'ts must be epoch milliseconds or an ISO-8601 date-time');
  if (Number.isNaN(ts.getTime())) return reject('invalid_payload', `ts "${String(raw)}" is not a valid date`);
  if (ts.getTime() > now.getTime() + MAX_FUTURE_MS) return reject('invalid_payload', `ts ${ts.toISOString()} is more than 5 minutes in the future`);
  if (ts.getTime() < now.getTime() - MAX_PAST_MS) return reject('invalid_payload', `ts ${ts.toISOString()} is more than a year old`);
  return { ok: true, value: ts };
}

export const MAX_BATCH = 1000;

function decodeReading(obj: Record<string, unknown>, now: Date, where: string): Result<TelemetryMessage> {
  const ts = decodeTs(obj.ts, now);
  if (!ts.ok) return reject(ts.rejection.reason, `${where}${ts.rejection.detail}`);
  const metrics = obj.metrics;
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) return reject('invalid_payload', `${where}metrics must be an object of name → number`);
  // for…in over the parsed object's own keys (JSON.parse makes plain objects): no per-reading arrays
  const m = metrics as Record<string, unknown>;
  let count = 0;
  for (const name in m) if (Object.hasOwn(m, name)) count++;
  if (count === 0) return reject('invalid_payload', `${where}metrics is empty`);
  if (count > MAX_METRICS) return reject('invalid_payload', `${where}too many metrics (${count} > ${MAX_METRICS})`);
  const out: Record<string, number> = {};
  for (const name in m) {
    if (!Object.hasOwn(m, name)) continue;
    const v = m[name];
    if (!METRIC_NAME.test(name)) return reject('invalid_payload', `${where}metric name "${name.slice(0, 80)}" must match ${METRIC_NAME.source}`);
    if (typeof v !== 'number' || !Number.isFinite(v)) return reject('invalid_payload', `${where}metric "${name}" must be a finite number`);
    out[name] = v;
  }
  return { ok: true, value: { ts: ts.value, metrics: out } };
}

/**
 * One reading `{ts?, metrics}` or a batch `{readings: [{ts, metrics}, ...]}` (devices that buffer
 * while offline). A batch is accepted or refused whole, so a retry never half-applies.
 */
export function decodeTelemetry(payload: Uint8Array, now: Date, maxBytes: number): Result<TelemetryMessage[]> {
  const obj = decodeJson(payload, maxBytes);
  if (!obj.ok) return obj;
  if (obj.value.readings === undefined) {
    const one = decodeReading(obj.value, now, '');
    return one.ok ? { ok: true, value: [one.value] } : one;
  }
  const list = obj.value.readings;
  if (!Array.isArray(list) || list.length === 0) return reject('invalid_payload', 'readings must be a non-empty array of {ts, metrics}');
  if (list.length > MAX_BATCH) return reject('invalid_payload', `too many readings in one batch (${list.length} > ${MAX_BATCH})`);
  if (obj.value.metrics !== undefined) return reject('invalid_payload', 'send either metrics or readings, not both');
  const out: TelemetryMessage[] = [];
  for (const [i, item] of list.entries()) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return reject('invalid_payload', `readings[${i}] must be an object`);
    const r = decodeReading(item as Record<string, unknown>, now, `readings[${i}]: `);
    if (!r.ok) return r;
    out.push(r.value);
  }
  // rules see a device's buffered readings in time order
  out.sort((a, b) => a.ts.getTime() - b.ts.getTime());
  return { ok: true, value: out };
}

export function decodeAlarm(payload: Uint8Array, now: Date, maxBytes: number): Result<AlarmMessage> {
  const obj = decodeJson(payload, maxBytes);
  if (!obj.ok) return obj;
  const ts = decodeTs(obj.value.ts, now);
  if (!ts.ok) return ts;
  const { code, severity = 'major', active = true, message } = obj.value;
  if (typeof code !== 'string' || !/^[A-Za-z0-9_.-]{1,32}$/.test(code)) return reject('invalid_payload', 'code must be a short alarm code like "E01"');
  if (typeof severity !== 'string' || !(SEVERITIES as readonly string[]).includes(severity))
    return reject('invalid_payload', `severity must be one of ${SEVERITIES.join(', ')}`);
  if (typeof active !== 'boolean') return reject('invalid_payload', 'active must be a boolean');
  if (message !== undefined && (typeof message !== 'string' || message.length > 500)) return reject('invalid_payload', 'message must be a string of at most 500 characters');
  return { ok: true, value: { ts: ts.value, code, severity: severity as Severity, active, message: message as string | undefined } };
}

/** Device presence: plain "online"/"offline" (what LWT messages usually carry) or {"online": bool}. */
export function decodeStatus(payload: Uint8Array, now: Date): Result<{ online: boolean; ts: Date }> {
  const text = Buffer.from(payload.buffer, payload.byteOffset, Math.min(payload.byteLength, 256)).toString('utf8').trim();
  if (payload.byteLength > 256) return reject('payload_too_large', 'status payloads are at most 256 bytes');
  const lower = text.toLowerCase();
  if (lower === 'online' || lower === 'offline') return { ok: true, value: { online: lower === 'online', ts: now } };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return reject('invalid_payload', 'status must be "online", "offline" or {"online": true|false}');
  }
  if (typeof value !== 'object' || value === null || typeof (value as { online?: unknown }).online !== 'boolean') {
    return reject('invalid_payload', 'status must be "online", "offline" or {"online": true|false}');
  }
  const ts = decodeTs((value as { ts?: unknown }).ts, now);
  if (!ts.ok) return ts;
  return { ok: true, value: { online: (value as { online: boolean }).online, ts: ts.value } };
}
