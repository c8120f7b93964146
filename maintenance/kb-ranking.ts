/**
 * Knowledge-base ranking (pure): how well an article fits a work order (or a search), as a score
 * with its breakdown so the suggestion can be explained.
 *
 *   fault code  +50 when the article's code is the order's own fault code,
 *               +40 when it is the code of an alarm linked to the order (the order has no code yet);
 *   asset type  +30 when the article is written for the order's asset type;
 *   text        +5 per distinct word shared between the order (title, description) and the article
 *               (title, symptoms, tags), at most +25;
 *   ties        broken by usedCount (times the article helped before), then title.
 *
 * Words: lower-cased letters/digits runs of 2+ characters minus a few stop words; Han (CJK) runs
 * become character bigrams, since Chinese is written without spaces.
 */

export const WEIGHTS = { faultCode: 50, alarmFaultCode: 40, assetType: 30, perToken: 5, maxText: 25 } as const;

const STOP = new Set([
  'the', 'and', 'for', 'with', 'not', 'was', 'are', 'but', 'from', 'has', 'had', 'have', 'this', 'that', 'its', 'into', 'out', 'off', 'too', 'very',
  'of', 'on', 'in', 'at', 'to', 'is', 'it', 'an', 'or', 'be', 'by', 'as', 'no', 'up',
]);

const HAN = /\p{Script=Han}/u;

export function tokenize(text: string | null | undefined): Set<string> {
  const out = new Set<string>();
  if (!text) return out;
  for (const run of text.toLowerCase().normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? []) {
    // split mixed runs like "E02传感器" into Han and non-Han parts
    for (const part of run.match(/\p{Script=Han}+|[^\p{Script=Han}]+/gu) ?? []) {
      if (HAN.test(part)) {
        const chars = [...part];
        if (chars.length === 1) out.add(part);
        for (let i = 0; i + 1 < chars.length; i++) out.add(chars[i]! + chars[i + 1]!);
      } else if (part.length >= 2 && !STOP.has(part)) {
        out.add(part);
      }
    }
  }
  return out;
}

export interface RankQuery {
  /** The order's own fault code (close-out). */
  faultCode?: string | null | undefined;
  /** Codes of alarms linked to the order that are in the fault-code library. */
  alarmFaultCodes?: readonly string[] | undefined;
  assetType?: string | null | undefined;
  /** Free text: order title + description, or a search query. */
  text?: string | null | undefined;
}

export interface RankArticle {
  id: string;
  title: string;
  symptoms: string | null;
  tags: readonly string[];
  faultCode: string | null;
  assetType: string | null;
  usedCount: number;
}

export interface ScoreBreakdown {
  faultCode: number;
  assetType: number;
  text: number;
  matchedWords: string[];
  usedCount: number;
}

export interface Ranked<T> {
  article: T;
  score: number;
  breakdown: ScoreBreakdown;
}

export function scoreArticle(q: RankQuery, a: RankArticle, queryTokens: Set<string> = tokenize(q.text)): Omit<Ranked<RankArticle>, 'article'> {
  let faultCode = 0;
  if (a.faultCode && q.faultCode === a.faultCode) faultCode = WEIGHTS.faultCode;
  else if (a.faultCode && !q.faultCode && q.alarmFaultCodes?.includes(a.faultCode)) faultCode = WEIGHTS.alarmFaultCode;
  const assetType = a.assetType && q.assetType && a.assetType.toLowerCase() === q.assetType.toLowerCase() ? WEIGHTS.assetType : 0;
  const articleTokens = tokenize([a.title, a.symptoms ?? '', a.tags.join(' ')].join(' '));
  const matchedWords = [...queryTokens].filter((t) => articleTokens.has(t)).sort();
  const text = Math.min(WEIGHTS.maxText, matchedWords.length * WEIGHTS.perToken);
  return { score: faultCode + assetType + text, breakdown: { faultCode, assetType, text, matchedWords, usedCount: a.usedCount } };
}

/** Articles with a positive score, best first (score, then usedCount, then title, then id). */
export function rankArticles<T extends RankArticle>(q: RankQuery, articles: readonly T[]): Ranked<T>[] {
  const tokens = tokenize(q.text);
  return articles
    .map((article) => ({ article, ...scoreArticle(q, article, tokens) }))
    .filter((r) => r.score > 0)
    .sort((x, y) => y.score - x.score || y.article.usedCount - x.article.usedCount || x.article.title.localeCompare(y.article.title) || x.article.id.localeCompare(y.article.id));
}
