/**
 * Asset history timeline (pure): turns asset events, work orders, alarms and downtime periods into
 * one list of entries, newest first. `assets.ts` loads the rows (explicit selects) and pages.
 */
import { periodHours } from './asset-downtime.ts';

export type TimelineSource = 'asset' | 'work_order' | 'alarm' | 'downtime';

export interface TimelineEntry {
  at: Date;
  source: TimelineSource;
  /** asset: the event kind; work_order: requested | completed | closed | cancelled; alarm: raised | cleared; downtime: downtime. */
  type: string;
  summary: string;
  /** Id of the asset event, work order, alarm or downtime. */
  refId: string;
  details: Record<string, unknown>;
}

export interface EventRow {
  id: string;
  kind: string;
  fromStatus: string | null;
  toStatus: string | null;
  note: string | null;
  details: unknown;
  actor: string | null;
  at: Date;
}

export interface WorkOrderRow {
  id: string;
  number: number;
  title: string;
  source: string;
  status: string;
  priority: string;
  faultCode: string | null;
  rootCause: string | null;
  resolution: string | null;
  requestedAt: Date;
  completedAt: Date | null;
  closedAt: Date | null;
  cancelledAt: Date | null;
}

export interface AlarmRow {
  id: string;
  code: string;
  severity: string;
  message: string | null;
  raisedAt: Date;
  clearedAt: Date | null;
}

export interface DowntimeRow {
  id: string;
  reason: string;
  startedAt: Date;
  endedAt: Date | null;
  workOrderId: string | null;
}

const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

export function eventEntry(e: EventRow): TimelineEntry {
  const summary =
    e.kind === 'status_changed'
      ? `status ${e.fromStatus ?? '?'} → ${e.toStatus ?? '?'}`
      : e.kind === 'created'
        ? `asset created (${e.toStatus ?? 'status unknown'})`
        : e.kind === 'moved'
          ? 'asset moved'
          : e.kind === 'updated'
            ? `updated ${Object.keys(obj(obj(e.details).changes)).join(', ') || 'fields'}`
            : e.kind.replace('_', ' ');
  return {
    at: e.at,
    source: 'asset',
    type: e.kind,
    summary: e.note ? `${summary}: ${e.note}` : summary,
    refId: e.id,
    details: { ...obj(e.details), fromStatus: e.fromStatus, toStatus: e.toStatus, actor: e.actor, note: e.note },
  };
}

/** One entry per milestone the order reached: requested, completed, closed, cancelled. */
export function workOrderEntries(w: WorkOrderRow): TimelineEntry[] {
  const details = { number: w.number, title: w.title, source: w.source, status: w.status, priority: w.priority, faultCode: w.faultCode, rootCause: w.rootCause, resolution: w.resolution };
  const entry = (type: string, at: Date, what: string): TimelineEntry => ({ at, source: 'work_order', type, summary: `work order #${w.number} ${what}: ${w.title}`, refId: w.id, details });
  const out = [entry('requested', w.requestedAt, `requested (${w.source})`)];
  if (w.completedAt) out.push(entry('completed', w.completedAt, `completed${w.faultCode ? ` [${w.faultCode}]` : ''}`));
  if (w.closedAt) out.push(entry('closed', w.closedAt, 'closed'));
  if (w.cancelledAt) out.push(entry('cancelled', w.cancelledAt, 'cancelled'));
  return out;
}

export function alarmEntries(a: AlarmRow): TimelineEntry[] {
  const details = { code: a.code, severity: a.severity, message: a.message };
  const out: TimelineEntry[] = [{ at: a.raisedAt, source: 'alarm', type: 'raised', summary: `${a.severity} alarm ${a.code} raised${a.message ? `: ${a.message}` : ''}`, refId: a.id, details }];
  if (a.clearedAt) out.push({ at: a.clearedAt, source: 'alarm', type: 'cleared', summary: `alarm ${a.code} cleared`, refId: a.id, details });
  return out;
}

/** One entry per downtime period, at its start. */
export function downtimeEntry(d: DowntimeRow, now: Date): TimelineEntry {
  const hours = periodHours(d, now);
  return {
    at: d.startedAt,
    source: 'downtime',
    type: 'downtime',
    summary: d.endedAt ? `down ${hours} h: ${d.reason}` : `down since ${d.startedAt.toISOString()} (${hours} h so far): ${d.reason}`,
    refId: d.id,
    details: { reason: d.reason, startedAt: d.startedAt, endedAt: d.endedAt, hours, open: d.endedAt === null, workOrderId: d.workOrderId },
  };
}

// Same instant: show the effect after its cause (an order completes, then the asset returns to service).
const RANK: Record<TimelineSource, number> = { asset: 0, downtime: 1, work_order: 2, alarm: 3 };

/** Newest first; ties by source (asset events first), then by type and id so paging is stable. */
export function mergeTimeline(entries: readonly TimelineEntry[], offset: number, limit: number): TimelineEntry[] {
  return [...entries]
    .sort((a, b) => b.at.getTime() - a.at.getTime() || RANK[a.source] - RANK[b.source] || a.type.localeCompare(b.type) || a.refId.localeCompare(b.refId))
    .slice(offset, offset + limit);
}
