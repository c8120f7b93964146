import { describe, expect, it } from 'vitest';
import { decodeLocation, engineerOfLocationTopic, engineerOrdersTopic } from '../../dispatch/engineer-topics.ts';

describe('engineer topics', () => {
  it.each([
    { topic: 'om/engineers/ENG-1/location', code: 'ENG-1' },
    { topic: 'om/engineers/ENG-1/orders', code: null },
    { topic: 'om/engineers//location', code: null },
    { topic: 'plant/s/a/telemetry', code: null },
    { topic: 'om/engineers/ENG-1/location/x', code: null },
  ])('$topic → $code', ({ topic, code }) => {
    expect(engineerOfLocationTopic(topic)).toBe(code);
  });
  it('orders topic', () => expect(engineerOrdersTopic('ENG-1')).toBe('om/engineers/ENG-1/orders'));
  it.each([
    { payload: '{"lat":31.2,"lon":121.5}', ok: true },
    { payload: '{"lat":31.2,"lon":121.5,"at":"2026-11-25T10:00:00Z"}', ok: true },
    { payload: 'not json', ok: false, reason: 'invalid_json' },
    { payload: '[1,2]', ok: false, reason: 'invalid_payload' },
    { payload: '{"lat":91,"lon":0}', ok: false, reason: 'invalid_payload' },
    { payload: '{"lat":"31","lon":121}', ok: false, reason: 'invalid_payload' },
    { payload: '{"lat":31,"lon":121,"at":"yesterday"}', ok: false, reason: 'invalid_payload' },
  ])('decodes $payload', ({ payload, ok, reason }) => {
    const r = decodeLocation(Buffer.from(payload));
    expect(r.ok).toBe(ok);
    if (!r.ok) expect(r.reason).toBe(reason);
  });
});
