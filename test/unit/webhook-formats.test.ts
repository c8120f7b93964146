import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildRequest,
  checkWebhookUrl,
  dingTalkSign,
  dingTalkSignedUrl,
  eventSummary,
  interpretResponse,
  isDingTalkSecret,
  isEventPattern,
  matchesEvent,
  MARKDOWN_MAX_BYTES,
  redactUrl,
  signPayload,
  truncateUtf8,
  verifySignature,
  type OutboundEvent,
} from '../../integrations/webhook-formats.ts';

const at = new Date('2023-11-14T22:13:20.000Z'); // 1700000000 s
const event: OutboundEvent = {
  id: '6f1c1f4e-8d1e-4b7a-9d55-1b1f8c7a0a01',
  type: 'work_order.assigned',
  subjectId: 'wo-1',
  occurredAt: at,
  data: { number: 42, title: 'Replace filter', assetCode: 'PUMP-1', priority: 'high', assignee: { id: 'e1', code: 'ENG-7', name: 'Li Wei' } },
};

describe('json signature', () => {
  it('matches an HMAC-SHA256 computed independently (Python hmac) for a fixed vector', () => {
    const body = '{"id":"evt-1","type":"alarm.raised","occurredAt":"2023-11-14T22:13:20.000Z","data":{"code":"E01"}}';
    expect(signPayload('whsec_test_secret_0123456789', 1700000000, body)).toBe('sha256=f8656b77be85e036eef88ce4937f3ee864e8a92b6cc11799d4ab4013e40b84c9');
  });

  it('verifies its own signature and refuses a changed body, timestamp, secret or header', () => {
    const sig = signPayload('s3cret-s3cret-s3cret', 1700000000, '{"a":1}');
    expect(verifySignature('s3cret-s3cret-s3cret', 1700000000, '{"a":1}', sig)).toBe(true);
    expect(verifySignature('s3cret-s3cret-s3cret', 1700000000, '{"a":2}', sig)).toBe(false);
    expect(verifySignature('s3cret-s3cret-s3cret', 1700000001, '{"a":1}', sig)).toBe(false);
    expect(verifySignature('other-secret-value', 1700000000, '{"a":1}', sig)).toBe(false);
    expect(verifySignature('s3cret-s3cret-s3cret', 1700000000, '{"a":1}', sig.slice(0, -1))).toBe(false);
    expect(verifySignature('s3cret-s3cret-s3cret', 1700000000, '{"a":1}', undefined)).toBe(false);
    // replay protection: with the receiver's clock, a stale (or far-future) timestamp is refused
    const at = (s: number) => ({ now: new Date((1700000000 + s) * 1000) });
    expect(verifySignature('s3cret-s3cret-s3cret', 1700000000, '{"a":1}', sig, at(299))).toBe(true);
    expect(verifySignature('s3cret-s3cret-s3cret', '1700000000', '{"a":1}', sig, at(-299))).toBe(true);
    expect(verifySignature('s3cret-s3cret-s3cret', 1700000000, '{"a":1}', sig, at(301))).toBe(false);
    expect(verifySignature('s3cret-s3cret-s3cret', 1700000000, '{"a":1}', sig, { ...at(3600), toleranceS: 7200 })).toBe(true);
    expect(verifySignature('s3cret-s3cret-s3cret', '1700000000.0', '{"a":1}', sig, at(0))).toBe(false);
  });
});

describe('buildRequest', () => {
  it('json: body {id, type, occurredAt, data}, event headers and a signature over "<timestamp>.<body>"', () => {
    const secret = 'whsec_abcdefghijklmnop';
    const req = buildRequest(event, { url: 'https://hooks.example.test/om', secret, format: 'json' }, new Date(1700000123_456));
    expect(req.url).toBe('https://hooks.example.test/om');
    expect(JSON.parse(req.body)).toEqual({ id: event.id, type: 'work_order.assigned', occurredAt: '2023-11-14T22:13:20.000Z', data: event.data });
    expect(req.headers).toMatchObject({
      'content-type': 'application/json',
      'x-om-event-id': event.id,
      'x-om-event-type': 'work_order.assigned',
      'x-om-timestamp': '1700000123',
    });
    const expected = createHmac('sha256', secret).update(`1700000123.${req.body}`).digest('hex');
    expect(req.headers['x-om-signature']).toBe(`sha256=${expected}`);
  });

  it('the same event keeps its id across attempts; only timestamp and signature change', () => {
    const t = { url: 'https://hooks.example.test/om', secret: 'whsec_abcdefghijklmnop', format: 'json' as const };
    const a = buildRequest(event, t, new Date(1700000000_000));
    const b = buildRequest(event, t, new Date(1700000600_000));
    expect(a.body).toBe(b.body);
    expect(a.headers['x-om-event-id']).toBe(b.headers['x-om-event-id']);
    expect(a.headers['x-om-signature']).not.toBe(b.headers['x-om-signature']);
  });

  it('dingtalk: a markdown robot message; an SEC… secret adds timestamp and sign to the URL', () => {
    const url = 'https://oapi.dingtalk.com/robot/send?access_token=abc123';
    const secret = 'SECabc123';
    const req = buildRequest(event, { url, secret, format: 'dingtalk' }, new Date(1700000000000));
    const body = JSON.parse(req.body) as { msgtype: string; markdown: { title: string; text: string } };
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.title).toBe('Work order #42 assigned');
    expect(body.markdown.text).toContain('#### Work order #42 assigned');
    expect(body.markdown.text).toContain('- **Engineer**: Li Wei (ENG-7)');
    expect(body.markdown.text).toContain(`event ${event.id}`);
    // Python (DingTalk's sample): quote_plus(b64encode(hmac(secret, "1700000000000\nSECabc123", sha256)))
    expect(req.url).toBe('https://oapi.dingtalk.com/robot/send?access_token=abc123&timestamp=1700000000000&sign=N5P09a4%2Bp1AMJIJWnIvQd2Yxw9%2Bfu%2FoEBnPrjCcsLXk%3D');
    expect(req.headers['x-om-event-id']).toBe(event.id);
  });

  it('dingtalk without a signing secret leaves the URL alone', () => {
    const url = 'https://oapi.dingtalk.com/robot/send?access_token=abc123';
    expect(buildRequest(event, { url, secret: 'whsec_generated_value', format: 'dingtalk' }, at).url).toBe(url);
  });

  it('wecom: {msgtype: markdown, markdown: {content}}', () => {
    const req = buildRequest(
      { ...event, type: 'alarm.raised', data: { code: 'E01', assetCode: 'CH-1', severity: 'critical', message: 'undervoltage' } },
      { url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k', secret: 'whsec_generated_value', format: 'wecom' },
      at,
    );
    const body = JSON.parse(req.body) as { msgtype: string; markdown: { content: string } };
    expect(Object.keys(body)).toEqual(['msgtype', 'markdown']);
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.content.split('\n').slice(0, 4)).toEqual(['#### Alarm E01 raised on CH-1', '', '- **Severity**: critical', '- **Message**: undervoltage']);
  });

  it('robot messages stay under the markdown size limit, whatever the comment', () => {
    const long = { ...event, type: 'csat.low', data: { score: 1, workOrderNumber: 7, comment: '很差'.repeat(5000) } };
    for (const format of ['dingtalk', 'wecom'] as const) {
      const body = JSON.parse(buildRequest(long, { url: 'https://x.test/', secret: 'whsec_generated_value', format }, at).body) as { markdown: { text?: string; content?: string } };
      const text = body.markdown.text ?? body.markdown.content!;
      expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(MARKDOWN_MAX_BYTES);
    }
  });
});

describe('DingTalk signature', () => {
  it.each([
    // computed with DingTalk's documented Python sample (hmac sha256, key = secret, msg = "<ts>\n<secret>", base64)
    ['SECabc123', 1700000000000, 'N5P09a4+p1AMJIJWnIvQd2Yxw9+fu/oEBnPrjCcsLXk='],
    ['SEC7d3b5e1f', 1700000000003, '6qZJzZJppUpn+AFC0Rd+UksOlqL7qNxt8pOzMCn3U/E='],
  ])('%s at %i', (secret, ts, sign) => {
    expect(dingTalkSign(secret, ts)).toBe(sign);
    expect(new URL(dingTalkSignedUrl('https://oapi.dingtalk.com/robot/send?access_token=t', secret, ts)).searchParams.get('sign')).toBe(sign);
    expect(dingTalkSignedUrl('https://oapi.dingtalk.com/robot/send?access_token=t', secret, ts)).toContain(`sign=${encodeURIComponent(sign)}`);
  });

  it.each([
    ['SECabc123', true],
    ['SEC', false],
    ['whsec_abc', false],
    ['SEC abc', false],
  ])('isDingTalkSecret(%s) = %s', (s, yes) => expect(isDingTalkSecret(s)).toBe(yes));
});

describe('eventSummary', () => {
  it.each([
    ['work_order.created', { number: 5, title: 'Leak', assetCode: 'P-1', priority: 'urgent', source: 'rule' }, 'New work order #5', ['**Title**: Leak', '**Asset**: P-1', '**Priority**: urgent', '**Source**: rule']],
    ['work_order.completed', { number: 5, title: 'Leak', assetCode: 'P-1', actor: 'eng' }, 'Work order #5 completed', ['**Title**: Leak', '**Asset**: P-1', '**By**: eng']],
    ['alarm.cleared', { code: 'E01', assetCode: 'P-1', severity: 'major', raisedAt: '2026-01-01T00:00:00.000Z' }, 'Alarm E01 cleared on P-1', ['**Severity**: major', '**Raised at**: 2026-01-01T00:00:00.000Z']],
    [
      'stock.low',
      { partCode: 'FLT-1', warehouseCode: 'WH-A', balance: 1, safetyStock: 2, purchaseRequestNumber: 3, quantity: 4, summary: 'x' },
      'Low stock: FLT-1 in WH-A',
      ['**Balance**: 1', '**Safety stock**: 2', '**Purchase request**: #3 for 4', '**Why**: x'],
    ],
    ['csat.low', { score: 1, workOrderNumber: 9, comment: 'late\nand rude', followUpNumber: 10 }, 'Low CSAT 1/5 on work order #9', ['**Comment**: late and rude', '**Follow-up**: work order #10']],
    ['webhook.test', { message: 'hello' }, 'Event webhook.test', ['**Message**: hello']],
  ])('%s', (type, data, title, lines) => {
    expect(eventSummary({ type, data })).toEqual({ title, lines });
  });

  it('leaves out empty fields', () => {
    expect(eventSummary({ type: 'alarm.raised', data: { code: 'E9', assetCode: 'A', severity: 'minor', message: null } }).lines).toEqual(['**Severity**: minor']);
  });
});

describe('truncateUtf8', () => {
  it.each([
    ['abc', 10, 'abc'],
    ['abcdefghij', 6, 'abc…'],
    ['维修维修', 9, '维修…'], // 3 bytes per character, never split
  ])('%s to %i bytes', (s, max, out) => {
    expect(truncateUtf8(s, max)).toBe(out);
    expect(Buffer.byteLength(truncateUtf8(s, max))).toBeLessThanOrEqual(max);
  });
});

describe('interpretResponse', () => {
  it.each([
    ['json', 200, '', { ok: true }],
    ['json', 204, '', { ok: true }],
    ['json', 500, 'boom', { ok: false, error: 'HTTP 500: boom' }],
    ['json', 302, '', { ok: false, error: 'HTTP 302' }],
    ['json', 200, '{"errcode":1}', { ok: true }], // only robots speak errcode
    ['dingtalk', 200, '{"errcode":0,"errmsg":"ok"}', { ok: true }],
    ['dingtalk', 200, '{"errcode":310000,"errmsg":"sign not match"}', { ok: false, error: 'errcode 310000: sign not match' }],
    ['wecom', 200, '{"errcode":93000,"errmsg":"invalid webhook url"}', { ok: false, error: 'errcode 93000: invalid webhook url' }],
    ['wecom', 200, 'OK', { ok: true }],
  ] as const)('%s %i %s', (format, status, body, out) => {
    expect(interpretResponse(format, status, body)).toEqual(out);
  });
});

describe('subscriptions', () => {
  it.each([
    ['https://hooks.example.test/om', true],
    ['http://127.0.0.1:8080/hook?x=1', true],
    ['ftp://hooks.example.test/', false],
    ['file:///etc/passwd', false],
    ['javascript:alert(1)', false],
    ['https://user:pass@hooks.example.test/', false],
    ['https://token@hooks.example.test/', false],
    ['https://hooks.example.test/#frag', false],
    ['not a url', false],
  ])('checkWebhookUrl(%s) ok=%s', (url, ok) => {
    expect(checkWebhookUrl(url).ok).toBe(ok);
  });

  it('redacts query strings (robot tokens) for logs', () => {
    expect(redactUrl('https://oapi.dingtalk.com/robot/send?access_token=secret')).toBe('https://oapi.dingtalk.com/robot/send?…');
    expect(redactUrl('http://127.0.0.1:9/x')).toBe('http://127.0.0.1:9/x');
  });

  it.each([
    ['*', true],
    ['work_order.created', true],
    ['work_order.*', true],
    ['stock.*', true],
    ['stock.high', false],
    ['nothing.*', false],
    ['work_order', false],
    ['webhook.test', false],
  ])('isEventPattern(%s) = %s', (p, ok) => expect(isEventPattern(p)).toBe(ok));

  it.each([
    [['*'], 'alarm.raised', true],
    [['alarm.raised'], 'alarm.raised', true],
    [['alarm.raised'], 'alarm.cleared', false],
    [['alarm.*'], 'alarm.cleared', true],
    [['work_order.*'], 'alarm.cleared', false],
    [[], 'alarm.cleared', false],
  ])('matchesEvent(%j, %s) = %s', (patterns, type, yes) => expect(matchesEvent(patterns, type)).toBe(yes));
});
