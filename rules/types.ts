/** Plain types of the rules core. No I/O anywhere under rules/ except engine.ts. */
import type { AnomalyDefinition, AnomalyExplanationInputs, AnomalyState } from './anomaly.ts';
import type { AlarmDefinition, CalendarDefinition, Definition, RuleKind, ThresholdDefinition, UsageDefinition } from './definitions.ts';
import type { CompositeDefinition, CompositeState } from './composite.ts';
import type { TrendDefinition, TrendExplanationInputs, TrendState } from './trend.ts';

export interface RuleRef {
  id: string;
  name: string;
  version: number;
  kind: RuleKind;
  definition: Definition;
}

export interface ThresholdRule extends RuleRef {
  kind: 'threshold';
  definition: ThresholdDefinition;
}
export interface UsageRule extends RuleRef {
  kind: 'usage';
  definition: UsageDefinition;
}
export interface AlarmRule extends RuleRef {
  kind: 'alarm';
  definition: AlarmDefinition;
}
export interface CalendarRule extends RuleRef {
  kind: 'calendar';
  definition: CalendarDefinition;
}
export interface TrendRule extends RuleRef {
  kind: 'trend';
  definition: TrendDefinition;
}
export interface AnomalyRule extends RuleRef {
  kind: 'anomaly';
  definition: AnomalyDefinition;
}
/** Rules evaluated on telemetry readings. */
export interface CompositeRule extends RuleRef {
  kind: 'composite';
  definition: CompositeDefinition;
}
/** Rules with one metric. */
export type SingleMetricRule = ThresholdRule | UsageRule | TrendRule | AnomalyRule;
export type ReadingRule = SingleMetricRule | CompositeRule;
export type Rule = ReadingRule | AlarmRule | CalendarRule;

export interface CalendarState {
  kind: 'calendar';
  /** Start of the current interval (last PM, or the anchor). */
  lastPmAt: number;
  /** Due time an order was already requested for. */
  requestedFor?: number;
}

/** An alarm a device reported (plant/{site}/{asset}/alarm). */
export interface DeviceAlarm {
  assetId: string;
  assetCode: string;
  code: string;
  severity: 'critical' | 'major' | 'minor' | 'warning';
  active: boolean;
  message: string | undefined;
  ts: Date;
}

export interface Reading {
  assetId: string;
  assetCode: string;
  metric: string;
  value: number;
  ts: Date;
}

export type ThresholdState =
  | { kind: 'threshold'; phase: 'normal'; lastTs?: number }
  | { kind: 'threshold'; phase: 'pending'; since: number; peak: number; lastTs: number; count?: number }
  | { kind: 'threshold'; phase: 'active'; since: number; raisedAt: number; peak: number; lastTs: number };

export interface UsageState {
  kind: 'usage';
  /** Counter value at the last completed PM (or the rule's startAt). */
  lastPmValue: number;
  /** Due point an order was already requested for (so every later reading does not re-fire). */
  requestedFor?: number;
  /** Raw counter value of the last reading. */
  lastValue?: number;
  lastTs?: number;
  /** Added to the raw counter after resets/rollovers, so life-to-date keeps growing. */
  offset?: number;
  /** Time of the last PM (whichever-comes-first calendar part). */
  lastPmAt?: number;
}

export type RuleState = ThresholdState | UsageState | CalendarState | TrendState | AnomalyState | CompositeState;

/** Why an automatic work order exists: enough to reproduce the decision. */
export interface Explanation {
  ruleId: string;
  ruleName: string;
  ruleVersion: number;
  kind: Rule['kind'];
  /** The metric (reading rules) or the device alarm code (alarm rules). */
  metric: string;
  /** What the rule computed, e.g. the value that held above the threshold, or the counter. */
  statistic: { name: string; value: number };
  threshold: number;
  inputs: {
    from: string;
    to: string;
    readings?: number;
    peak?: number;
    holdSeconds?: number;
    consecutive?: number;
    lastPmValue?: number;
    every?: number;
    tolerance?: number;
    rawValue?: number;
    offset?: number;
    deviceCode?: string;
    faultCode?: string;
    lastPmAt?: string;
    dueAt?: string;
    trigger?: 'meter' | 'calendar';
    deviceSeverity?: string;
    message?: string;
  } & TrendExplanationInputs &
    AnomalyExplanationInputs;
  summary: string;
}

export interface RaiseDecision {
  type: 'raise';
  /** Identity of this cause forever: same episode / due point → same key. */
  dedupeKey: string;
  /** One open order (and one active alarm) per rule + asset. */
  openKey: string;
  source: 'rule' | 'pm';
  title: string;
  priority: 'low' | 'medium' | 'high' | 'urgent';
  alarm?: { severity: 'critical' | 'major' | 'minor' | 'warning'; code: string; message: string };
  /** false: raise the alarm only (mapping without a work-order template). */
  createWorkOrder?: boolean;
  description?: string;
  explanation: Explanation;
  at: Date;
}

export interface ClearDecision {
  type: 'clear';
  openKey: string;
  at: Date;
  value: number;
}

export type Decision = RaiseDecision | ClearDecision;

export interface Evaluation {
  state: RuleState;
  decisions: Decision[];
  /** True when the state changed in a way worth persisting (phase, episode start, due point);
   *  soft fields (lastTs, peak, lastValue) are kept in memory only. */
  changed: boolean;
}
