/**
 * CSAT survey rules (pure): token hashing, expiry, the state a link is in, low scores and the
 * summary figures. Only sha256(token) is stored; the token itself travels in the notification link.
 */
import { createHash } from 'node:crypto';

export type SurveyStatus = 'pending' | 'answered' | 'expired';

const DAY_MS = 86_400_000;

export const hashSurveyToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export const surveyExpiresAt = (sentAt: Date, ttlDays: number): Date => new Date(sentAt.getTime() + ttlDays * DAY_MS);

/** A pending survey past its expiry is expired even before the sweep marks it. */
export function surveyState(s: { status: SurveyStatus; expiresAt: Date }, now: Date): SurveyStatus {
  if (s.status === 'pending' && now.getTime() >= s.expiresAt.getTime()) return 'expired';
  return s.status;
}

export const isLowScore = (score: number, lowScore: number): boolean => score <= lowScore;

export const surveyLink = (publicUrl: string | undefined, token: string): string => `${(publicUrl ?? '').replace(/\/+$/, '')}/surveys/${token}`;

export const escalationTitle = (score: number, workOrderNumber: number): string => `Customer follow-up: CSAT ${score}/5 on WO #${workOrderNumber}`;

export interface CsatSummary {
  sent: number;
  answered: number;
  pending: number;
  expired: number;
  /** answered / sent (pending surveys count as not answered yet); null when none were sent. */
  responseRate: number | null;
  /** Mean score of the answered surveys, 2 decimals; null when none answered. */
  averageScore: number | null;
  lowScores: number;
}

export function csatSummary(groups: readonly { status: SurveyStatus; count: number; scoreSum: number }[], lowScores: number): CsatSummary {
  const by = (s: SurveyStatus) => groups.filter((g) => g.status === s).reduce((n, g) => n + g.count, 0);
  const answered = by('answered');
  const pending = by('pending');
  const expired = by('expired');
  const sent = answered + pending + expired;
  const scoreSum = groups.filter((g) => g.status === 'answered').reduce((n, g) => n + g.scoreSum, 0);
  return {
    sent,
    answered,
    pending,
    expired,
    responseRate: sent === 0 ? null : Math.round((answered / sent) * 10_000) / 10_000,
    averageScore: answered === 0 ? null : Math.round((scoreSum / answered) * 100) / 100,
    lowScores,
  };
}
