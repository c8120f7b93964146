/**
 * What a webhook request looks like (pure: event + subscription + time → URL, headers, body).
 *
 * Every request carries
 *   X-OM-Event-Id     the outbox event id — stable across retries: receivers deduplicate on it
 *   X-OM-Event-Type   e.g. work_order.created
 *   X-OM-Timestamp    Unix seconds when this attempt was signed
 *   X-OM-Signature    sha256=<hex HMAC-SHA256 over "<timestamp>.<body>" keyed with the subscription secret>
 * Formats:
 *   json      {id, type, occurredAt, data}
 *   dingtalk  DingTalk custom robot: {msgtype: 'markdown', markdown: {title, text}}; when the secret is a
 *             DingTalk signing secret ("SEC…") the URL gets `timestamp` (ms) and
 *             `sign` = urlEncode(base64(HmacSHA256(key = secret, "<timestamp>\n<secret>")))
 *   wecom     WeCom (企业微信) group robot: {msgtype: 'markdown', markdown: {content}} (content ≤ 4096 bytes)
 * Robots answer HTTP 200 with {errcode, errmsg}; errcode ≠ 0 is a failed delivery (`interpretResponse`).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { EVENT_TYPES } from './outbox.ts';

export type WebhookFormat = 'json' | 'dingtalk' | 'wecom';
export const WEBHOOK_FORMATS: readonly WebhookFormat[] = ['json', 'dingtalk', 'wecom'];

export interface OutboundEvent {
  id: string;
  type: string;
  subjectId: string | null;
  occurredAt: Date;
  data: Record<string, unknown>;
}

export interface Target {
  url: string;
  secret: string;
  format: WebhookFormat;
}

export interface OutboundRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export const HEADER = {
  eventId: 'x-om-event-id',
  eventType: 'x-om-event-type',
  timestamp: 'x-om-timestamp',
  signature: 'x-om-signature',
} as const;

/** Robots' markdown limit (WeCom: 4096 bytes of content); kept for both. */
export const MARKDOWN_MAX_BYTES = 4000;

// ── signatures ─────────────────────────────────────────────────────────────────────────────────

/** `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>"). */
export function signPayload(secret: string, timestamp: number | string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** How far X-OM-Timestamp may be from the receiver's clock by default (replay window). */
export const SIGNATURE_TOLERANCE_S = 300;

/**
 * Receiver side (and tests): constant-time check of an X-OM-Signature header. With `freshness` the
 * timestamp must also be within `toleranceS` (default 5 min) of `now`: a captured request replayed
 * later is refused (deduplicate on X-OM-Event-Id for retries within the window).
 */
export function verifySignature(secret: string, timestamp: number | string, body: string, header: string | undefined, freshness?: { now: Date; toleranceS?: number }): boolean {
  if (!header) return false;
  if (freshness) {
    const ts = typeof timestamp === 'number' ? timestamp : /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : NaN;
    if (!Number.isSafeInteger(ts) || Math.abs(freshness.now.getTime() / 1000 - ts) > (freshness.toleranceS ?? SIGNATURE_TOLERANCE_S)) return false;
  }
  const expected = Buffer.from(signPayload(secret, timestamp, body));
  const got = Buffer.from(header);
  return expected.length === got.length && timingSafeEqual(expected, got);
}

/** A DingTalk robot signing secret (加签), shown as "SEC…" in the robot's security settings. */
export const isDingTalkSecret = (secret: string): boolean => /^SEC[0-9A-Za-z]+$/.test(secret);

/** base64(HmacSHA256(key = secret, "<timestampMs>\n<secret>")) — not yet URL-encoded. */
export function dingTalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** The robot URL with `timestamp` and the URL-encoded `sign` appended (existing params kept). */
export function dingTalkSignedUrl(url: string, secret: string, timestampMs: number): string {
  const u = new URL(url);
  u.searchParams.set('timestamp', String(timestampMs));
  // URLSearchParams uses form encoding: + / = become %2B %2F %3D, as DingTalk's urlEncode does
  u.searchParams.set('sign', dingTalkSign(secret, timestampMs));
  return u.toString();
}

// ── message text for the robots ───────────────────────────────────────────────────────────────

const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v)).replace(/\s+/g, ' ').trim().slice(0, 500);
const field = (d: Record<string, unknown>, k: string): string => text(d[k]);
const nested = (d: Record<string, unknown>, k: string, sub: string): string => {
  const o = d[k];
  return o && typeof o === 'object' ? text((o as Record<string, unknown>)[sub]) : '';
};

/** Title and bullet lines of an event, for people reading a group chat. */
export function eventSummary(e: Pick<OutboundEvent, 'type' | 'data'>): { title: string; lines: string[] } {
  const d = e.data;
  const wo = `#${field(d, 'number')}`;
  const lines = (...l: [string, string][]) => l.filter(([, v]) => v !== '').map(([k, v]) => `**${k}**: ${v}`);
  switch (e.type) {
    case 'work_order.created':
      return {
        title: `New work order ${wo}`,
        lines: lines(['Title', field(d, 'title')], ['Asset', field(d, 'assetCode')], ['Priority', field(d, 'priority')], ['Source', field(d, 'source')]),
      };
    case 'work_order.assigned': {
      const who = nested(d, 'assignee', 'name');
      const code = nested(d, 'assignee', 'code');
      return {
        title: `Work order ${wo} assigned`,
        lines: lines(['Title', field(d, 'title')], ['Engineer', who && code ? `${who} (${code})` : who || code], ['Asset', field(d, 'assetCode')], ['Priority', field(d, 'priority')]),
      };
    }
    case 'work_order.completed':
      return { title: `Work order ${wo} completed`, lines: lines(['Title', field(d, 'title')], ['Asset', field(d, 'assetCode')], ['By', field(d, 'actor')]) };
    case 'alarm.raised':
      return {
        title: `Alarm ${field(d, 'code')} raised on ${field(d, 'assetCode')}`,
        lines: lines(['Severity', field(d, 'severity')], ['Message', field(d, 'message')], ['Source', field(d, 'source')]),
      };
    case 'alarm.cleared':
      return { title: `Alarm ${field(d, 'code')} cleared on ${field(d, 'assetCode')}`, lines: lines(['Severity', field(d, 'severity')], ['Raised at', field(d, 'raisedAt')]) };
    case 'stock.low':
      return {
        title: `Low stock: ${field(d, 'partCode')} in ${field(d, 'warehouseCode')}`,
        lines: lines(['Balance', field(d, 'balance')], ['Safety stock', field(d, 'safetyStock')], ['Purchase request', `#${field(d, 'purchaseRequestNumber')} for ${field(d, 'quantity')}`], ['Why', field(d, 'summary')]),
      };
    case 'csat.low':
      return {
        title: `Low CSAT ${field(d, 'score')}/5 on work order #${field(d, 'workOrderNumber')}`,
        lines: lines(['Comment', field(d, 'comment')], ['Follow-up', d.followUpNumber !== undefined ? `work order #${field(d, 'followUpNumber')}` : '']),
      };
    default:
      return { title: `Event ${e.type}`, lines: lines(['Message', field(d, 'message')]) };
  }
}

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, max: number): string {
  if (Buffer.byteLength(s, 'utf8') <= max) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const b = Buffer.byteLength(ch, 'utf8');
    if (bytes + b > max - 3) break;
    out += ch;
    bytes += b;
  }
  return `${out}…`;
}

export function eventMarkdown(e: OutboundEvent): { title: string; text: string } {
  const s = eventSummary(e);
  const body = [`#### ${s.title}`, '', ...s.lines.map((l) => `- ${l}`), '', `> ${e.type} · ${e.occurredAt.toISOString()} · event ${e.id}`].join('\n');
  return { title: s.title, text: truncateUtf8(body, MARKDOWN_MAX_BYTES) };
}

// ── the request ──────────────────────────────────────────────────────────────────────────────

export function buildBody(e: OutboundEvent, format: WebhookFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify({ id: e.id, type: e.type, occurredAt: e.occurredAt.toISOString(), data: e.data });
    case 'dingtalk': {
      const m = eventMarkdown(e);
      return JSON.stringify({ msgtype: 'markdown', markdown: { title: m.title, text: m.text } });
    }
    case 'wecom':
      return JSON.stringify({ msgtype: 'markdown', markdown: { content: eventMarkdown(e).text } });
  }
}

/** URL, headers and body of one delivery attempt at `now`. */
export function buildRequest(e: OutboundEvent, t: Target, now: Date): OutboundRequest {
  const body = buildBody(e, t.format);
  const timestamp = Math.floor(now.getTime() / 1000);
  const url = t.format === 'dingtalk' && isDingTalkSecret(t.secret) ? dingTalkSignedUrl(t.url, t.secret, now.getTime()) : t.url;
  return {
    url,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'om-platform-webhooks/1',
      [HEADER.eventId]: e.id,
      [HEADER.eventType]: e.type,
      [HEADER.timestamp]: String(timestamp),
      [HEADER.signature]: signPayload(t.secret, timestamp, body),
    },
  };
}

/** 2xx is delivered, except a robot's {errcode ≠ 0} (DingTalk and WeCom answer errors with 200). */
export function interpretResponse(format: WebhookFormat, status: number, bodyText: string): { ok: true } | { ok: false; error: string } {
  if (status < 200 || status > 299) return { ok: false, error: `HTTP ${status}${bodyText ? `: ${text(bodyText).slice(0, 200)}` : ''}` };
  if (format === 'json') return { ok: true };
  try {
    const r = JSON.parse(bodyText) as { errcode?: unknown; errmsg?: unknown };
    if (typeof r.errcode === 'number' && r.errcode !== 0) return { ok: false, error: `errcode ${r.errcode}: ${text(r.errmsg).slice(0, 200)}` };
  } catch {
    // not JSON: the robot API always answers JSON, a proxy in between may not; 2xx counts
  }
  return { ok: true };
}

// ── subscriptions ─────────────────────────────────────────────────────────────────────────────

/** http(s) only, no user:password@ (secrets go in the secret field, never in a URL we show and log). */
export function checkWebhookUrl(raw: string): { ok: true; url: string } | { ok: false; message: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { ok: false, message: `not a valid URL: "${raw.slice(0, 200)}"` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { ok: false, message: `protocol must be http or https, got ${u.protocol}` };
  if (u.username || u.password) return { ok: false, message: 'credentials in the URL are refused: put the signing secret in "secret"' };
  if (!u.hostname) return { ok: false, message: 'the URL needs a host' };
  if (u.hash) return { ok: false, message: 'the URL must not have a #fragment' };
  return { ok: true, url: u.toString() };
}

/** For logs: scheme, host and path only (robot URLs carry their token in the query). */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Event patterns a subscription accepts: an event type, `<prefix>.*`, or `*` (everything). */
export function isEventPattern(p: string): boolean {
  if (p === '*') return true;
  if ((EVENT_TYPES as readonly string[]).includes(p)) return true;
  if (p.endsWith('.*')) {
    const prefix = p.slice(0, -1);
    return EVENT_TYPES.some((t) => t.startsWith(prefix));
  }
  return false;
}

/** Does a subscription with these patterns receive `type`? (Same rule as the SQL fan-out.) */
export function matchesEvent(patterns: readonly string[], type: string): boolean {
  const dot = type.indexOf('.');
  return patterns.includes('*') || patterns.includes(type) || (dot > 0 && patterns.includes(`${type.slice(0, dot)}.*`));
}
