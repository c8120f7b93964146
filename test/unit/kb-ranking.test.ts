import { describe, expect, it } from 'vitest';
import { rankArticles, scoreArticle, tokenize, WEIGHTS, type RankArticle } from '../../maintenance/kb-ranking.ts';

const art = (id: string, x: Partial<RankArticle> = {}): RankArticle => ({ id, title: id, symptoms: null, tags: [], faultCode: null, assetType: null, usedCount: 0, ...x });

describe('tokenize', () => {
  it.each([
    ['Pump P-101 sensor reading is DRIFTING', ['101', 'drifting', 'pump', 'reading', 'sensor']],
    ['the fan and a belt', ['belt', 'fan']],
    ['温度传感器', ['温度', '度传', '传感', '感器']],
    ['泵', ['泵']],
    ['E02传感器 fault', ['e02', '传感', '感器', 'fault']],
    ['', []],
  ])('%j', (text, words) => {
    expect([...tokenize(text)].sort()).toEqual([...words].sort());
  });
});

describe('scoreArticle', () => {
  const q = { faultCode: 'E02', assetType: 'pump', text: 'Pressure sensor reading drifts' };
  it.each([
    ['own fault code', art('a', { faultCode: 'E02' }), { faultCode: 50, assetType: 0, text: 0 }],
    ['other fault code', art('a', { faultCode: 'E01' }), { faultCode: 0, assetType: 0, text: 0 }],
    ['asset type (case-insensitive)', art('a', { assetType: 'Pump' }), { faultCode: 0, assetType: 30, text: 0 }],
    ['shared words in title and tags', art('a', { title: 'Sensor drift', tags: ['pressure'] }), { faultCode: 0, assetType: 0, text: 10 }],
    ['all three', art('a', { faultCode: 'E02', assetType: 'pump', symptoms: 'pressure sensor reading unstable' }), { faultCode: 50, assetType: 30, text: 15 }],
  ])('%s', (_name, a, parts) => {
    const r = scoreArticle(q, a);
    expect(r.breakdown).toMatchObject(parts);
    expect(r.score).toBe(parts.faultCode + parts.assetType + parts.text);
  });

  it('an alarm code counts only while the order has no code of its own', () => {
    const a = art('a', { faultCode: 'E05' });
    expect(scoreArticle({ alarmFaultCodes: ['E05'] }, a).breakdown.faultCode).toBe(WEIGHTS.alarmFaultCode);
    expect(scoreArticle({ faultCode: 'E02', alarmFaultCodes: ['E05'] }, a).breakdown.faultCode).toBe(0);
  });

  it('caps the text part and lists the matched words', () => {
    const r = scoreArticle({ text: 'one two three four five six seven' }, art('a', { title: 'one two three four five six seven' }));
    expect(r.breakdown.text).toBe(WEIGHTS.maxText);
    expect(r.breakdown.matchedWords).toEqual(['five', 'four', 'one', 'seven', 'six', 'three', 'two']);
  });
});

describe('rankArticles', () => {
  it('orders by score, then usedCount, then title; drops articles that share nothing', () => {
    const articles = [
      art('generic-sensor', { title: 'Sensor checks', usedCount: 9 }),
      art('e02-pump', { title: 'Pump sensor drift', faultCode: 'E02', assetType: 'pump' }),
      art('e02-any', { title: 'Recalibrate', faultCode: 'E02' }),
      art('pump-b', { title: 'B pump note', assetType: 'pump', usedCount: 3 }),
      art('pump-a', { title: 'A pump note', assetType: 'pump', usedCount: 3 }),
      art('unrelated', { title: 'Door hinge', faultCode: 'E04', assetType: 'door' }),
    ];
    const ranked = rankArticles({ faultCode: 'E02', assetType: 'pump', text: 'sensor reading wrong' }, articles);
    expect(ranked.map((r) => r.article.id)).toEqual(['e02-pump', 'e02-any', 'pump-a', 'pump-b', 'generic-sensor']);
    expect(ranked[0]).toMatchObject({ score: 85, breakdown: { faultCode: 50, assetType: 30, text: 5, matchedWords: ['sensor'] } });
  });

  it('usedCount breaks a tie in score', () => {
    const ranked = rankArticles({ assetType: 'fan' }, [art('rare', { title: 'a', assetType: 'fan', usedCount: 1 }), art('popular', { title: 'b', assetType: 'fan', usedCount: 7 })]);
    expect(ranked.map((r) => r.article.id)).toEqual(['popular', 'rare']);
  });
});
