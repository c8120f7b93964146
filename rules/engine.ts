/**
 * The rules engine shell: keeps rule definitions and per-(rule, asset) state, feeds readings to the
 * pure `evaluate`, and turns decisions into work orders and alarms through the ports it is given.
 * State that matters (phase changes, due points) is persisted after the decision's effects succeeded,
 * so a crash in between re-evaluates to the same dedupe key and the database keeps it exactly-once.
 */
import type { Clock } from '../platform/clock.ts';
import type { Db, DbTx, Prisma } from '../platform/db/database.ts';
import { AppError } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';
import { hydrateAnomalyState } from './anomaly.ts';
import type { ReadingSource } from './backtest.ts';
import { hydrateTrendState } from './trend.ts';
import { checkDefinition, isRuleKind, type CalendarDefinition, type UsageDefinition } from './definitions.ts';
import { calendarCompleted, evaluate, evaluateCalendar, evaluateDeviceAlarm, evaluateUsageTick, initialState, metricsOf, pmCompleted } from './evaluate.ts';
import type { AlarmRule, CalendarState, Decision, DeviceAlarm, Evaluation, RaiseDecision, Reading, ReadingRule, Rule, RuleState, UsageState } from './types.ts';

/** What the engine needs from maintenance (ids cross the boundary, not internals). */
export interface RuleEffects {
  requestWorkOrder(req: {
    dedupeKey: string;
    openKey: string;
    source: 'rule' | 'pm';
    title: string;
    priority: RaiseDecision['priority'];
    assetId: string;
    ruleId: string;
    reason: Record<string, unknown>;
    requestedAt: Date;
    description?: string | undefined;
    /** Severity of the alarm behind the order (input to priority rules). */
    severity?: NonNullable<RaiseDecision['alarm']>['severity'] | undefined;
  }): Promise<{ workOrder: { id: string; number: number }; created: boolean }>;
  raiseAlarm(a: {
    activeKey: string;
    assetId: string;
    ruleId: string;
    source: 'rule';
    code: string;
    severity: NonNullable<RaiseDecision['alarm']>['severity'];
    message: string;
    details: Record<string, unknown>;
    raisedAt: Date;
    workOrderId: string | undefined;
  }): Promise<unknown>;
  clearAlarm(activeKey: string, at: Date): Promise<unknown>;
}

const READING_KINDS: ReadonlySet<Rule['kind']> = new Set(['threshold', 'usage', 'trend', 'anomaly', 'composite']);
const isReadingRule = (rule: Rule): rule is ReadingRule => READING_KINDS.has(rule.kind);

export interface EngineReading extends Reading {
  assetType: string;
}

export interface EngineStats {
  rules: number;
  evaluations: number;
  workOrdersCreated: number;
  duplicatesSuppressed: number;
  errors: number;
}

export function createRulesEngine(deps: {
  prisma: Db;
  effects: RuleEffects;
  clock: Clock;
  logger: Logger;
  reloadMs: number;
  tickMs?: number;
  /** Stored telemetry, to rebuild trend/anomaly windows after a restart. */
  history?: ReadingSource;
}) {
  const { prisma, effects, clock } = deps;
  const log = deps.logger.child({ module: 'rules' });
  let byAsset = new Map<string, Rule[]>();
  let byType = new Map<string, Rule[]>();
  let rulesById = new Map<string, Rule>();
  let scopes = new Map<string, { assetId: string | null; assetType: string | null }>();
  const states = new Map<string, RuleState>();
  const stats: EngineStats = { rules: 0, evaluations: 0, workOrdersCreated: 0, duplicatesSuppressed: 0, errors: 0 };
  let timer: NodeJS.Timeout | undefined;

  const key = (ruleId: string, assetId: string): string => `${ruleId}|${assetId}`;

  async function reload(): Promise<void> {
    const rows = await prisma.rule.findMany({ where: { enabled: true }, select: { id: true, name: true, kind: true, version: true, definition: true, assetId: true, assetType: true } });
    const nextAsset = new Map<string, Rule[]>();
    const nextType = new Map<string, Rule[]>();
    const nextById = new Map<string, Rule>();
    const nextScopes = new Map<string, { assetId: string | null; assetType: string | null }>();
    for (const row of rows) {
      if (!isRuleKind(row.kind)) {
        log.warn({ rule: row.id, kind: row.kind }, 'rule kind not supported by this build; rule skipped');
        continue;
      }
      const check = checkDefinition(row.kind, row.definition);
      if (!check.ok) {
        log.error({ rule: row.id, errors: check.errors }, 'stored rule definition is invalid; rule skipped');
        continue;
      }
      const rule = { id: row.id, name: row.name, kind: row.kind, version: row.version, definition: check.definition } as Rule;
      nextById.set(rule.id, rule);
      nextScopes.set(rule.id, { assetId: row.assetId, assetType: row.assetType });
      const [map, k] = row.assetId ? [nextAsset, row.assetId] : [nextType, row.assetType ?? ''];
      map.set(k, [...(map.get(k) ?? []), rule]);
    }
    byAsset = nextAsset;
    byType = nextType;
    // Persisted state is the truth where others change it (completed PM orders, other instances):
    // usage/calendar states are re-read lazily; so is any state of a changed or removed rule. The
    // windows of trend/anomaly rules stay cached (rebuilding them costs a telemetry query each).
    for (const k of states.keys()) {
      const ruleId = k.slice(0, k.indexOf('|'));
      const next = nextById.get(ruleId);
      if (!next || next.version !== rulesById.get(ruleId)?.version || next.kind === 'usage' || next.kind === 'calendar') states.delete(k);
    }
    rulesById = nextById;
    scopes = nextScopes;
    stats.rules = nextById.size;
  }

  function scoped(assetId: string, assetType: string): Rule[] {
    const a = byAsset.get(assetId);
    const t = byType.get(assetType);
    if (!a) return t ?? [];
    return t ? [...a, ...t] : a;
  }

  /** Reading rules of this asset that watch this metric. */
  function rulesFor(r: EngineReading): ReadingRule[] {
    return scoped(r.assetId, r.assetType).filter((rule): rule is ReadingRule => isReadingRule(rule) && metricsOf(rule).includes(r.metric));
  }

  /**
   * State for (rule, asset) pairs not in the cache: the persisted state, and for trend/anomaly rules
   * their window rebuilt from the telemetry store (readings before `before`, the batch's first), so
   * a restart or another instance taking over loses no window.
   */
  async function loadStates(pairs: { ruleId: string; assetId: string; assetCode?: string; before?: Date }[]): Promise<void> {
    const missing = [...new Map(pairs.filter((p) => !states.has(key(p.ruleId, p.assetId))).map((p) => [key(p.ruleId, p.assetId), p])).values()];
    if (missing.length === 0) return;
    const rows = await prisma.ruleState.findMany({
      where: { OR: missing.map((p) => ({ ruleId: p.ruleId, assetId: p.assetId })) },
      select: { ruleId: true, assetId: true, state: true },
    });
    for (const row of rows) states.set(key(row.ruleId, row.assetId), row.state as unknown as RuleState);
    for (const p of missing) {
      const k = key(p.ruleId, p.assetId);
      const rule = rulesById.get(p.ruleId);
      if (!rule || !isReadingRule(rule)) continue;
      if ((rule.kind === 'trend' || rule.kind === 'anomaly') && deps.history && p.assetCode && p.before) {
        states.set(k, await hydrate(rule, states.get(k), p.assetCode, p.before));
      } else if (!states.has(k)) states.set(k, initialState(rule));
    }
  }

  async function hydrate(rule: Extract<ReadingRule, { kind: 'trend' | 'anomaly' }>, persisted: RuleState | undefined, assetCode: string, before: Date): Promise<RuleState> {
    const to = new Date(before.getTime() - 1);
    try {
      if (rule.kind === 'trend') {
        const history = await deps.history!.query({ asset: assetCode, metric: rule.definition.metric, from: new Date(to.getTime() - rule.definition.windowSeconds * 1000), to, limit: 10_000 });
        return hydrateTrendState(rule, persisted?.kind === 'trend' ? persisted : undefined, history);
      }
      const latest = await deps.history!.query({ asset: assetCode, metric: rule.definition.metric, from: new Date(to.getTime() - 366 * 86_400_000), to, limit: rule.definition.windowSize, order: 'desc' });
      return hydrateAnomalyState(rule, persisted?.kind === 'anomaly' ? persisted : undefined, latest.reverse());
    } catch (err) {
      log.warn({ rule: rule.id, asset: assetCode, err: (err as Error).message }, 'could not rebuild the rule window from telemetry; starting empty');
      return persisted ?? initialState(rule);
    }
  }

  async function persistState(ruleId: string, assetId: string, state: RuleState, db: DbTx = prisma): Promise<void> {
    const json = state as unknown as Prisma.InputJsonValue;
    await db.ruleState.upsert({
      where: { ruleId_assetId: { ruleId, assetId } },
      create: { ruleId, assetId, state: json },
      update: { state: json, revision: { increment: 1 } },
    });
  }

  async function act(rule: Rule, r: { assetId: string }, d: Decision): Promise<void> {
    if (d.type === 'clear') {
      await effects.clearAlarm(d.openKey, d.at);
      return;
    }
    if (d.createWorkOrder === false) {
      if (d.alarm) {
        await effects.raiseAlarm({ activeKey: d.openKey, assetId: r.assetId, ruleId: rule.id, source: 'rule', ...d.alarm, details: { explanation: d.explanation }, raisedAt: d.at, workOrderId: undefined });
      }
      return;
    }
    const { workOrder, created } = await effects.requestWorkOrder({
      dedupeKey: d.dedupeKey,
      openKey: d.openKey,
      source: d.source,
      title: d.title,
      priority: d.priority,
      assetId: r.assetId,
      ruleId: rule.id,
      reason: d.explanation as unknown as Record<string, unknown>,
      requestedAt: d.at,
      description: d.description,
      severity: d.alarm?.severity,
    });
    if (created) stats.workOrdersCreated++;
    else stats.duplicatesSuppressed++;
    if (d.alarm) {
      await effects.raiseAlarm({
        activeKey: d.openKey,
        assetId: r.assetId,
        ruleId: rule.id,
        source: 'rule',
        code: d.alarm.code,
        severity: d.alarm.severity,
        message: d.alarm.message,
        details: { explanation: d.explanation },
        raisedAt: d.at,
        workOrderId: workOrder.id,
      });
    }
  }

  /** Calendar PM and the calendar side of usage rules: checked on a clock, not on readings. */
  async function tick(now: Date = clock.now()): Promise<void> {
    const timed = [...rulesById.values()].filter((r) => r.kind === 'calendar' || (r.kind === 'usage' && r.definition.calendar));
    for (const rule of timed) {
      const scope = scopes.get(rule.id);
      if (!scope) continue;
      const assets = await prisma.asset.findMany({
        where: { status: 'in_service', ...(scope.assetId ? { id: scope.assetId } : { type: scope.assetType ?? '' }) },
        select: { id: true, code: true },
      });
      await loadStates(assets.map((a) => ({ ruleId: rule.id, assetId: a.id })));
      for (const asset of assets) {
        const k = key(rule.id, asset.id);
        const before = states.get(k);
        const result: Evaluation =
          rule.kind === 'calendar'
            ? evaluateCalendar(rule, before?.kind === 'calendar' ? before : undefined, asset, now)
            : evaluateUsageTick(rule as Extract<Rule, { kind: 'usage' }>, before?.kind === 'usage' ? before : undefined, asset, now);
        stats.evaluations++;
        for (const d of result.decisions) await act(rule, { assetId: asset.id }, d);
        if (result.changed) await persistState(rule.id, asset.id, result.state);
        states.set(k, result.state);
      }
    }
  }

  let ticking: Promise<void> | undefined;
  let tickTimer: NodeJS.Timeout | undefined;

  return {
    reload,
    tick,

    async start(): Promise<void> {
      await reload();
      timer = setInterval(() => {
        reload().catch((err) => log.warn({ err: (err as Error).message }, 'rule reload failed'));
      }, deps.reloadMs);
      timer.unref();
      const runTick = (): void => {
        ticking ??= tick()
          .catch((err) => log.warn({ err: (err as Error).message }, 'calendar tick failed'))
          .finally(() => {
            ticking = undefined;
          });
      };
      runTick();
      tickTimer = setInterval(runTick, deps.tickMs ?? 60_000);
      tickTimer.unref();
      log.info({ rules: stats.rules }, 'rules engine started');
    },

    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      if (tickTimer) clearInterval(tickTimer);
      await ticking;
    },

    /**
     * Evaluates a batch in order. Throws if an effect fails (database down): the caller retries the
     * batch, and readings already applied are skipped by each state's `lastTs`.
     */
    async onReadings(readings: readonly EngineReading[]): Promise<void> {
      const pairs: { ruleId: string; assetId: string; assetCode: string; before: Date }[] = [];
      for (const r of readings) for (const rule of rulesFor(r)) pairs.push({ ruleId: rule.id, assetId: r.assetId, assetCode: r.assetCode, before: r.ts });
      if (pairs.length === 0) return;
      await loadStates(pairs);
      const now = clock.now();
      for (const r of readings) {
        for (const rule of rulesFor(r)) {
          const k = key(rule.id, r.assetId);
          const before = states.get(k);
          const result = evaluate(rule, before, r, now);
          stats.evaluations++;
          try {
            for (const d of result.decisions) await act(rule, r, d);
            if (result.changed) await persistState(rule.id, r.assetId, result.state);
          } catch (err) {
            stats.errors++;
            throw err;
          }
          states.set(k, result.state);
        }
      }
    },

    /**
     * A device alarm: alarm-mapping rules in scope turn it into a fault-coded alarm (+ work order).
     * Returns false when no rule maps the code (the caller records it as a plain device alarm).
     */
    async onDeviceAlarm(a: DeviceAlarm & { assetType: string }): Promise<boolean> {
      let handled = false;
      for (const rule of scoped(a.assetId, a.assetType)) {
        if (rule.kind !== 'alarm') continue;
        const decisions = evaluateDeviceAlarm(rule as AlarmRule, a);
        stats.evaluations++;
        for (const d of decisions) {
          await act(rule, a, d);
          handled = true;
        }
      }
      return handled;
    },

    /** Work-order hook: a completed PM order restarts its usage interval from the meter reading. */
    async onWorkOrderCompleted(tx: DbTx, order: { ruleId: string | null; assetId: string; source: string; meterReading: number | undefined }): Promise<number | undefined> {
      if (!order.ruleId || order.source !== 'pm') return order.meterReading;
      const ruleRow = await tx.rule.findUnique({ where: { id: order.ruleId }, select: { kind: true, definition: true } });
      if (ruleRow?.kind === 'calendar') {
        const cal = checkDefinition('calendar', ruleRow.definition);
        const row = await tx.ruleState.findUnique({ where: { ruleId_assetId: { ruleId: order.ruleId, assetId: order.assetId } }, select: { state: true } });
        const current = row?.state as unknown as CalendarState | undefined;
        if (cal.ok && current) {
          await persistState(order.ruleId, order.assetId, calendarCompleted(current, clock.now(), (cal.definition as CalendarDefinition).interval), tx);
          states.delete(key(order.ruleId, order.assetId));
        }
        return order.meterReading;
      }
      if (!ruleRow || ruleRow.kind !== 'usage') return order.meterReading;
      const check = checkDefinition('usage', ruleRow.definition);
      if (!check.ok) return order.meterReading;
      const def = check.definition as UsageDefinition;
      const metric = def.metric;
      const row = await tx.ruleState.findUnique({ where: { ruleId_assetId: { ruleId: order.ruleId, assetId: order.assetId } }, select: { state: true } });
      const current = (row?.state as unknown as UsageState | undefined) ?? { kind: 'usage', lastPmValue: 0 };
      let meter = order.meterReading;
      if (meter === undefined) {
        const m = await tx.meter.findUnique({ where: { assetId_name: { assetId: order.assetId, name: metric } }, select: { value: true } });
        meter = m?.value ?? current.lastValue ?? (states.get(key(order.ruleId, order.assetId)) as UsageState | undefined)?.lastValue;
      }
      if (meter === undefined) throw new AppError('validation', `completing this PM order needs meterReading (${metric}): no reading is known yet`, { metric });
      await persistState(order.ruleId, order.assetId, pmCompleted(current, meter, def.interval, def.every, clock.now()), tx);
      states.delete(key(order.ruleId, order.assetId));
      return meter;
    },

    /** Called after the completing transaction committed (drop any state read in between). */
    forgetState(ruleId: string, assetId: string): void {
      states.delete(key(ruleId, assetId));
    },

    stats: (): EngineStats => ({ ...stats }),
  };
}

export type RulesEngine = ReturnType<typeof createRulesEngine>;
