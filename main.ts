/**
 * The one place everything is wired, explicitly. `startPlatform(config)` starts the roles the config
 * asks for (api, ingest, rules) on the stores it names; `npm start` runs it with signal handling.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { loadConfig, type Config } from './platform/config.ts';
import { systemClock, type Clock } from './platform/clock.ts';
import { startLoopLag } from './platform/loop-lag.ts';
import { startRoleThread, type RoleThread } from './platform/role-thread.ts';
import { createRootLogger, type Logger } from './platform/logger.ts';
import { openDatabase, type Database } from './platform/db/database.ts';
import { createEmbeddedStore } from './ingest/telemetry-store/embedded.ts';
import { createInfluxStore } from './ingest/telemetry-store/influx.ts';
import { openSpool } from './ingest/telemetry-store/spool.ts';
import type { TelemetryStore } from './ingest/telemetry-store/port.ts';
import { createAssetDirectory } from './ingest/asset-directory.ts';
import { createDeadLetterSink } from './ingest/dead-letters.ts';
import { createIngestPipeline, type IngestPipeline } from './ingest/pipeline.ts';
import { openJournal } from './ingest/journal.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './ingest/broker.ts';
import { connectExternalBroker } from './ingest/external-broker.ts';
import { SUBSCRIPTION, telemetryTopic } from './ingest/topics.ts';
import { createDeviceCredentialService, type DeviceCredentialService } from './ingest/device-credentials.ts';
import { createPresence } from './ingest/presence.ts';
import { createStaleWatchdog } from './ingest/stale-watchdog.ts';
import { createAlarmService } from './maintenance/alarms.ts';
import { createAssetService } from './maintenance/assets.ts';
import { createInventoryService } from './maintenance/inventory.ts';
import { createWorkOrderService } from './maintenance/work-orders.ts';
import { createNotificationService } from './maintenance/notifications.ts';
import { createPmPlanService } from './maintenance/pm-plans.ts';
import { createChecklistService } from './maintenance/checklists.ts';
import { createAttachmentService } from './maintenance/attachments.ts';
import { createWorkLogService } from './maintenance/work-logs.ts';
import { createKnowledgeService } from './maintenance/knowledge-base.ts';
import { createSignatureService } from './maintenance/signatures.ts';
import { createPurchasingService } from './maintenance/purchasing.ts';
import { createCustomerService } from './maintenance/customers.ts';
import { createSurveyService } from './maintenance/surveys.ts';
import { createCostService } from './maintenance/costs.ts';
import { createEngineerService } from './dispatch/engineers.ts';
import { createDispatchService, parseAutoAssign, type EngineerMessage } from './dispatch/service.ts';
import { createKpiService } from './kpis/service.ts';
import { createDataTransferService } from './maintenance/data-transfer.ts';
import { createWebhookService } from './integrations/webhook-service.ts';
import { outboxWorkOrderHooks } from './integrations/work-order-events.ts';
import { createAuthService } from './access/auth-service.ts';
import { createAuditService } from './access/audit.ts';
import { createScopeChecker } from './access/scope.ts';
import { resolveSessionSecret, writeAdminPassword } from './access/session-secret.ts';
import { decodeLocation, ENGINEER_LOCATION_SUBSCRIPTION, engineerOfLocationTopic, engineerOrdersTopic } from './dispatch/engineer-topics.ts';
import { createRulesEngine, type RulesEngine } from './rules/engine.ts';
import { createRuleService } from './rules/service.ts';
import { buildApi, type ApiApp, type HealthReport } from './api/server.ts';
import { seedDemo, DEMO_GATEWAY, DEMO_SITE } from './simulators/demo-seed.ts';
import { demoMachines, startFleet } from './simulators/fleet.ts';

export interface Platform {
  config: Config;
  db: Database;
  telemetry: TelemetryStore;
  engine: RulesEngine;
  pipeline: IngestPipeline | undefined;
  broker: EmbeddedBroker | undefined;
  api: ApiApp | undefined;
  /** http://host:port of the API when the api role runs. */
  apiUrl: string | undefined;
  /** mqtt://host:port of the embedded broker when the ingest role runs it (MQTT_MODE=embedded). */
  mqttUrl: string | undefined;
  /** INGEST_THREAD=on: the worker thread running ingest and rules (then `pipeline` and `broker` are its, not here). */
  thread: RoleThread | undefined;
  /** Device credentials (the broker's authentication cache). */
  credentials: DeviceCredentialService;
  health(): Promise<HealthReport>;
  /** Publish on the MQTT broker the ingest role uses (here or in the ingest thread). */
  publish(topic: string, payload: string): Promise<void>;
  /** Assets were edited: cached asset lookups are dropped (here and in the ingest thread). */
  assetsChanged(): void;
  stop(): Promise<void>;
}

export async function startPlatform(config: Config, opts: { clock?: Clock; logger?: Logger; onThreadExit?: (err: Error) => void } = {}): Promise<Platform> {
  const logger = opts.logger ?? createRootLogger(config.logLevel);
  // INGEST_THREAD: ingest and rules start first, in their own thread (it applies the migrations, seeds
  // the demo, creates the admin); this thread keeps the API
  const threaded = (config.ingestThread === 'on' || (config.ingestThread === 'auto' && config.databaseUrl !== undefined)) && config.roles.includes('api') && config.roles.some((r) => r !== 'api');
  const thread = threaded ? await startRoleThread({ entry: new URL('./ingest-thread.ts', import.meta.url), config: { ...config, roles: config.roles.filter((r) => r !== 'api') }, logger, onExit: opts.onThreadExit }) : undefined;
  try {
    return await startInThisThread(config, opts.clock ?? systemClock, logger, thread);
  } catch (err) {
    await thread?.stop(); // e.g. the API port taken: the thread does not outlive the failed start
    throw err;
  }
}

/** The roles this thread runs: all of config.roles, or only the API when `thread` runs the others. */
async function startInThisThread(config: Config, clock: Clock, logger: Logger, thread: RoleThread | undefined): Promise<Platform> {
  const stops: (() => Promise<void> | void)[] = [];
  if (thread) stops.push(() => thread.stop());
  const roles = new Set(thread ? (['api'] as const) : config.roles);

  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  stops.push(() => db.close());

  const storeOpts = { batchSize: config.telemetryBatchSize, flushMs: config.telemetryFlushMs, maxBuffered: config.telemetryMaxBuffered, logger };
  const telemetry: TelemetryStore = config.influxUrl
    ? await createInfluxStore({
        ...storeOpts,
        url: config.influxUrl,
        database: config.influxDatabase,
        token: config.influxToken,
        username: config.influxUsername,
        password: config.influxPassword,
        createDatabase: config.influxCreateDatabase,
        // only ingest writes telemetry: a process or thread without the role opens no spool (two never share its directory)
        spool: roles.has('ingest') ? openSpool(join(config.dataDir, 'spool', 'telemetry'), config.telemetrySpoolMaxMb * 1024 * 1024) : undefined,
      })
    : createEmbeddedStore({ ...storeOpts, prisma: db.prisma });
  // runs after telemetry.close() (and the dead-letter sink's close): releases the journal segments
  // whose messages those flushed; what is still not durable stays for replay at the next start
  let closeJournal = (): void => {};
  stops.unshift(() => closeJournal());
  stops.unshift(() => telemetry.close());

  const alarms = createAlarmService({ prisma: db.prisma, clock, logger });
  const notifications = createNotificationService({ prisma: db.prisma, clock });
  const assets = createAssetService({
    prisma: db.prisma,
    clock,
    logger,
    notifications,
    codeConvention: config.assetCodeConvention,
    codeMode: config.assetCodeMode,
    warrantyAlertDays: config.warrantyAlertDays,
  });
  const inventory = createInventoryService({ prisma: db.prisma, clock, logger });
  const purchasing = createPurchasingService({ prisma: db.prisma, clock, logger, inventory });
  // the engine and the work-order service reference each other (hooks/effects): the closures below
  // run only after both exist
  const workOrders = createWorkOrderService({
    prisma: db.prisma,
    clock,
    logger,
    hooks: {
      onCompleted: (tx, order) => engine.onWorkOrderCompleted(tx, order),
      afterCompleted: (order) => {
        if (!order.ruleId) return;
        engine.forgetState(order.ruleId, order.assetId);
        thread?.ruleStateChanged(order.ruleId, order.assetId); // the engine that runs is there
      },
    },
  });
  const engine = createRulesEngine({
    prisma: db.prisma,
    clock,
    logger,
    reloadMs: config.rulesReloadMs,
    tickMs: config.rulesTickMs,
    history: telemetry,
    effects: {
      requestWorkOrder: (req) => workOrders.requestFromCause(req),
      raiseAlarm: (a) => alarms.raise(a),
      clearAlarm: (key, at) => alarms.clear(key, at),
    },
  });
  // maintenance modules plug into the work-order lifecycle (classification, checklists, parts, signature, surveys)
  const customers = createCustomerService({ prisma: db.prisma, clock });
  const checklists = createChecklistService({ prisma: db.prisma, clock });
  const attachments = createAttachmentService({
    prisma: db.prisma,
    clock,
    dir: config.attachmentsDir ?? join(config.dataDir, 'attachments'),
    maxBytes: config.attachmentMaxBytes,
    types: config.attachmentTypes,
  });
  const workLogs = createWorkLogService({ prisma: db.prisma, clock });
  const knowledge = createKnowledgeService({ prisma: db.prisma });
  const signatures = createSignatureService({ prisma: db.prisma, clock, attachments });
  const pmPlans = createPmPlanService({ prisma: db.prisma, clock, logger, workOrders });
  const costs = createCostService({ prisma: db.prisma });
  let publicUrl: string | undefined = config.publicUrl;
  const surveys = createSurveyService({
    prisma: db.prisma,
    clock,
    logger,
    workOrders,
    notifications,
    ttlDays: config.surveyTtlDays,
    lowScore: config.csatLowScore,
    publicUrl: () => publicUrl,
  });
  workOrders.use(customers.workOrderHooks);
  workOrders.use(assets.workOrderHooks);
  workOrders.use(checklists.workOrderHooks);
  workOrders.use(signatures.workOrderHooks);
  workOrders.use(inventory.workOrderHooks);
  workOrders.use(pmPlans.workOrderHooks);
  workOrders.use(surveys.workOrderHooks);
  workOrders.use(outboxWorkOrderHooks);
  // dispatch: engineers get orders over MQTT (om/engineers/<code>/orders) once a broker is up
  let publishToBroker: ((topic: string, payload: string) => Promise<void>) | undefined = thread ? (topic, payload) => thread.publish(topic, payload) : undefined;
  const dispatch = createDispatchService({
    prisma: db.prisma,
    clock,
    logger,
    workOrders,
    notifications,
    autoAssign: parseAutoAssign(config.autoAssign),
    publish: (code: string, message: EngineerMessage) => {
      publishToBroker?.(engineerOrdersTopic(code), JSON.stringify(message)).catch((err: unknown) => logger.warn({ err, engineer: code }, 'engineer notification not published'));
    },
  });
  const engineers = createEngineerService({ prisma: db.prisma, clock, onUnavailable: (id, reason) => dispatch.redispatchFrom(id, reason) });
  workOrders.use(dispatch.workOrderHooks);
  const kpis = createKpiService({ prisma: db.prisma, clock });
  const dataTransfer = createDataTransferService({ prisma: db.prisma, clock, logger, codeConvention: config.assetCodeConvention, codeMode: config.assetCodeMode, onEngineerUnavailable: (id, reason) => dispatch.redispatchFrom(id, reason) });
  const auth = createAuthService({
    prisma: db.prisma,
    clock,
    logger,
    options: {
      sessionSecret: resolveSessionSecret(config.sessionSecret, config.dataDir),
      sessionTtlSeconds: config.sessionTtlS,
      maxFailedLogins: config.loginMaxFailures,
      lockMinutes: config.loginLockMinutes,
      cacheMs: config.authCacheMs,
    },
  });
  const audit = createAuditService({ prisma: db.prisma, clock, logger });
  // outbound webhooks: events are written by the changes themselves (transactional outbox); the rules role delivers them
  const webhooks = createWebhookService({
    prisma: db.prisma,
    clock,
    logger,
    pollMs: config.webhookPollMs,
    timeoutMs: config.webhookTimeoutMs,
    policy: { baseMs: config.webhookBackoffMs, maxMs: config.webhookBackoffMaxMs, maxAttempts: config.webhookMaxAttempts },
  });
  // first start: an admin to log in with (a generated password goes to a 0600 file, not to the log)
  const admin = await auth.bootstrapAdmin(config.adminPassword);
  if (admin.created) {
    if (admin.password) logger.warn({ file: writeAdminPassword(config.dataDir, admin.password) }, 'created user "admin"; its generated password is in this file — log in and change it');
    else logger.info('created user "admin" with ADMIN_PASSWORD');
  }
  if (config.authMode === 'off') logger.warn('AUTH_MODE=off: the API accepts every request as admin — never expose it');

  const rules = createRuleService({
    prisma: db.prisma,
    onChange: () => {
      if (thread) thread.rulesChanged();
      else void engine.reload().catch(() => {});
    },
  });
  const credentials = createDeviceCredentialService({ prisma: db.prisma, clock, onRevoked: (username) => thread?.credentialRevoked(username) });

  // the simulator connects like any gateway: with a fresh secret for its seeded credential
  const simulatorLogin = config.simulatorEnabled && !thread
    ? await credentials.upsertForSite((await seedDemo(db.prisma, demoMachines(config.simulatorAssets))).siteId, DEMO_GATEWAY)
    : undefined;

  if (roles.has('rules')) {
    webhooks.start();
    stops.unshift(() => webhooks.stop());
    await engine.start();
    stops.unshift(() => engine.stop());
  }

  let pipeline: IngestPipeline | undefined;
  let broker: EmbeddedBroker | undefined;
  let brokerHealth = (): { ok: boolean; detail: string } => ({ ok: false, detail: 'not running' });
  let closeSource = async (): Promise<void> => {};
  let opcuaHealth = (): Record<string, { ok: boolean; detail: string }> => ({});
  let stopOpcua = async (): Promise<void> => {};
  const mqttUrlOf = (b: EmbeddedBroker): string => `mqtt://${config.mqttHost}:${b.port}`;
  let directory: ReturnType<typeof createAssetDirectory> | undefined;
  const deadLetters = createDeadLetterSink({ prisma: db.prisma, logger });
  const loopLag = startLoopLag();
  stops.push(() => loopLag.stop());
  stops.unshift(() => deadLetters.close());
  if (roles.has('ingest')) {
    directory = createAssetDirectory({ prisma: db.prisma, logger, meterMetrics: config.meterMetrics, changes: db.changes });
    const dir = directory;
    const presence = createPresence({ prisma: db.prisma, logger });
    const journal =
      config.ingestJournal === 'on'
        ? openJournal({
            dir: join(config.dataDir, 'journal'),
            onError: (err) => logger.error({ err: err.message }, 'ingest journal: append/delete failed; messages meanwhile are not protected against a crash'),
          })
        : undefined;
    pipeline = createIngestPipeline({
      journal,
      store: telemetry,
      directory: dir,
      deadLetters,
      clock,
      logger,
      maxPayloadBytes: config.mqttMaxPayloadBytes,
      queueLimit: config.ingestQueueLimit,
      sinks: {
        onReadings: roles.has('rules') ? (readings) => engine.onReadings(readings) : undefined,
        onStatus: (asset, online, ts) => presence.reported(asset.code, online, ts),
        onDeviceAlarm: async (asset, alarm) => {
          // alarm-mapping rules turn known codes into fault-coded alarms and work orders
          if (roles.has('rules') && (await engine.onDeviceAlarm({ assetId: asset.id, assetCode: asset.code, assetType: asset.type, ...alarm }))) return;
          const activeKey = `device:${asset.id}:${alarm.code}`;
          if (alarm.active) {
            await alarms.raise({ activeKey, assetId: asset.id, source: 'device', code: alarm.code, severity: alarm.severity, message: alarm.message, raisedAt: alarm.ts });
          } else {
            await alarms.clear(activeKey, alarm.ts);
          }
        },
      },
    });
    const pipe = pipeline;
    closeJournal = () => pipe.closeJournal();
    if (journal && journal.leftovers().length > 0) {
      // before the broker delivers anything: what the previous process acknowledged but may not have stored
      const started = Date.now();
      const { bytes, segments } = journal.stats();
      logger.info({ segments, bytes }, 'ingest journal: replaying what the previous run left (it did not stop cleanly)');
      const r = await pipe.replayJournal();
      logger.info({ ...r, ms: Date.now() - started }, `ingest journal: replayed ${r.messages} messages`);
    }
    // engineer apps report GPS fixes on om/engineers/{code}/location; everything else is telemetry
    const accept = (topic: string, payload: Buffer, clientId: string | undefined, journaled?: number): void => {
      const code = engineerOfLocationTopic(topic);
      if (code === null) return pipe.accept(topic, payload, clientId, journaled);
      const fix = decodeLocation(payload);
      if (!fix.ok) return pipe.reject(topic, payload, clientId, fix.reason, fix.detail);
      void engineers.updateLocationByCode(code, fix).catch((err: unknown) => pipe.reject(topic, payload, clientId, 'invalid_payload', (err as Error).message));
    };
    if (config.mqttMode === 'external') {
      const source = await connectExternalBroker({
        url: config.mqttUrl!,
        username: config.mqttUsername,
        password: config.mqttPassword,
        clientId: config.mqttClientId ?? `om-ingest-${hostname()}`,
        shareGroup: config.mqttShareGroup || undefined,
        topics: [SUBSCRIPTION, ENGINEER_LOCATION_SUBSCRIPTION],
        logger,
        onMessage: accept,
      });
      brokerHealth = () => {
        const st = source.status();
        return {
          ok: st.connected,
          detail: `external ${st.url}; ${st.connected ? 'connected' : 'disconnected'}; ${st.subscriptions.join(', ')}; reconnects ${st.reconnects}${st.lastError ? `; last error: ${st.lastError}` : ''}`,
        };
      };
      closeSource = () => source.close();
      publishToBroker = (topic, payload) => source.publish(topic, payload);
    } else {
      const embedded = await startEmbeddedBroker({
        host: config.mqttHost,
        port: config.mqttPort,
        logger,
        auth:
          config.mqttAuth === 'devices'
            ? {
                authenticate: (username, password) => credentials.authenticate(username, password),
                onUnauthorized: (topic, payload, clientId, reason) => pipe.reject(topic, payload, clientId, 'unauthorized', reason),
              }
            : undefined,
        onPublish: accept,
        // aedes acknowledges QoS 1 before emitting the publish: journal in its authorizePublish step
        // (engineer location fixes are not telemetry and are not journaled)
        journal: (topic, payload, clientId) => (engineerOfLocationTopic(topic) === null ? pipe.journal(topic, payload, clientId) : undefined),
        admission: () => pipe.admission(),
        onPresence: (scope, online) => scope.asset && presence.session(scope.asset, online, clock.now()),
      });
      broker = embedded;
      publishToBroker = (topic, payload) => embedded.publish(topic, payload);
      brokerHealth = () => ({ ok: true, detail: `embedded aedes on ${mqttUrlOf(embedded)}; auth ${config.mqttAuth}; ${embedded.connectedClients()} clients` });
      closeSource = () => embedded.close();
    }
    if (config.staleAfterS > 0) {
      const watchdog = createStaleWatchdog({
        prisma: db.prisma,
        alarms,
        clock,
        logger,
        staleAfterMs: config.staleAfterS * 1000,
        intervalMs: Math.min(30_000, Math.max(1000, (config.staleAfterS * 1000) / 4)),
      });
      watchdog.start();
      stops.unshift(() => watchdog.stop());
    }
    stops.unshift(async () => {
      await presence.flush();
    });
    if (config.opcuaConfig) {
      // loaded only when configured: node-opcua is large
      const { loadOpcUaConfigFile } = await import('./ingest/opcua/config.ts');
      const { startOpcUaIngest, opcUaHealthComponents, routeNodeOpcuaLogs } = await import('./ingest/opcua/connector.ts');
      routeNodeOpcuaLogs(logger);
      const opcua = await startOpcUaIngest({
        config: loadOpcUaConfigFile(config.opcuaConfig),
        logger,
        pkiDir: join(config.dataDir, 'opcua-pki'),
        // same path as MQTT telemetry: validation, asset lookup, storage, rules, dead letters
        onValue: (v) => pipe.accept(telemetryTopic(v.site, v.asset), Buffer.from(JSON.stringify({ ts: v.ts.getTime(), metrics: { [v.metric]: v.value } })), `opcua:${v.endpoint}`),
      });
      opcuaHealth = () => opcUaHealthComponents(opcua.status());
      stopOpcua = () => opcua.stop();
    }
    // order matters: stop the broker (no new input), drain the pipeline, then flush the writers
    stops.unshift(() => dir.close());
    stops.unshift(() => pipe.stop());
    stops.unshift(() => closeSource());
    stops.unshift(() => stopOpcua());
  }
  const mqttUrl = broker ? mqttUrlOf(broker) : thread?.mqttUrl;
  const assetsChanged = (): void => {
    directory?.invalidate();
    thread?.assetsChanged();
  };

  const databaseComponent = (ok: boolean): { ok: boolean; detail: string } => ({ ok, detail: `${db.kind}${ok ? '' : ': unreachable'}` });
  /** This thread's own figures: the API's (when it runs here), its event loop and heap. */
  const threadCounters = (): HealthReport['counters'] => ({
    readCache: api ? { ...api.readCache.stats(), changes: db.changes.stats() } : null,
    http: api ? api.httpStats.stats() : null,
    eventLoop: loopLag.stats(),
    memory: memoryFigures(),
  });

  async function health(): Promise<HealthReport> {
    if (thread) return threadedHealth();
    const [dbOk, store] = await Promise.all([db.ping(), telemetry.health()]);
    const components: HealthReport['components'] = {
      database: databaseComponent(dbOk),
      telemetryStore: { ok: store.ok, detail: `${telemetry.kind}: ${store.detail}` },
    };
    if (roles.has('ingest')) {
      components.broker = brokerHealth();
      Object.assign(components, opcuaHealth());
    }
    if (roles.has('rules')) components.rules = { ok: true, detail: `${engine.stats().rules} rules loaded` };
    return {
      components,
      counters: {
        ingest: pipeline?.counters() ?? null,
        journal: pipeline?.journalStats() ?? null,
        deadLetters: deadLetters.stats(),
        telemetry: telemetry.stats(),
        rules: engine.stats(),
        ...threadCounters(),
      },
    };
  }

  /** INGEST_THREAD=on: the thread's components and counters, with this thread's API figures and event loop. */
  async function threadedHealth(): Promise<HealthReport> {
    const [dbOk, inThread] = await Promise.all([
      db.ping(),
      thread!.health().then(
        (h): HealthReport & { error?: string } => h,
        (err: unknown): HealthReport & { error?: string } => ({ components: {}, counters: {}, error: (err as Error).message }),
      ),
    ]);
    const st = thread!.status();
    const unanswered = inThread.error;
    return {
      components: {
        ...inThread.components,
        database: databaseComponent(dbOk),
        ingestThread: unanswered ? { ok: false, detail: unanswered } : st,
      },
      counters: {
        ...inThread.counters,
        ...threadCounters(),
        ingestThreadEventLoop: inThread.counters.eventLoop ?? null,
        ingestThreadMemory: inThread.counters.memory ?? null,
      },
    };
  }

  let api: ApiApp | undefined;
  let apiUrl: string | undefined;
  if (roles.has('api')) {
    api = await buildApi(
      {
        assets,
        workOrders,
        alarms,
        inventory,
        purchasing,
        notifications,
        pmPlans,
        checklists,
        attachments,
        workLogs,
        knowledge,
        signatures,
        customers,
        surveys,
        costs,
        engineers,
        dispatch,
        kpis,
        dataTransfer,
        auth,
        audit,
        changes: db.changes,
        readCache: { maxAgeMs: config.readCacheMs, activityLagMs: Math.min(config.readCacheActivityMs, config.readCacheMs), maxBytes: config.readCacheMb * 2 ** 20, refreshAhead: config.readCacheRefreshAhead },
        scopes: createScopeChecker(db.prisma),
        authEnabled: config.authMode === 'on',
        requestLog: config.requestLog,
        hardening: { rateLimitPerMin: config.rateLimitPerMin, rateLimitLoginPerMin: config.rateLimitLoginPerMin, hstsMaxAgeS: config.hstsMaxAgeS },
        rules,
        credentials,
        webhooks,
        telemetry,
        clock,
        health,
        onAssetsChanged: assetsChanged,
      },
      logger,
    );
    const app = api;
    await app.listen({ host: config.httpHost, port: config.httpPort });
    const addr = app.server.address();
    apiUrl = typeof addr === 'object' && addr ? `http://${config.httpHost}:${addr.port}` : undefined;
    publicUrl ??= apiUrl;
    stops.unshift(() => app.close());
    logger.info({ apiUrl, docs: `${apiUrl}/docs` }, 'API listening');
  }

  const simulatorUrl = mqttUrl ?? (config.mqttMode === 'external' ? config.mqttUrl : undefined);
  if (config.simulatorEnabled && simulatorUrl && roles.has('ingest')) {
    const fleet = await startFleet({
      url: simulatorUrl,
      site: DEMO_SITE,
      machines: demoMachines(config.simulatorAssets),
      intervalMs: config.simulatorIntervalMs,
      hoursPerTick: config.simulatorHoursPerTick,
      onError: (err) => logger.warn({ err: err.message }, 'simulator MQTT error'),
      username: mqttUrl ? simulatorLogin?.username : config.mqttUsername,
      password: mqttUrl ? simulatorLogin?.password : config.mqttPassword,
    });
    stops.unshift(() => fleet.stop());
    logger.info({ machines: config.simulatorAssets, url: simulatorUrl }, 'demo fleet simulator publishing');
  }

  /** `work` every `ms` (timer unref'd, cleared at stop); a failure is logged and the next round tries again. */
  const every = (ms: number, work: () => Promise<unknown> | void, what: string): void => {
    const timer = setInterval(() => {
      Promise.resolve()
        .then(work)
        .catch((err: unknown) => logger.warn({ err }, `${what} failed`));
    }, ms);
    timer.unref();
    stops.unshift(() => clearInterval(timer));
  };
  const pipe = pipeline;
  if (pipe) every(60_000, () => logger.info({ ingest: pipe.counters(), deadLetters: deadLetters.stats().total, telemetry: telemetry.stats(), rules: engine.stats() }, 'throughput'), 'throughput log');
  // Idempotent sweeps, safe on every instance; with an ingest thread, that thread runs them.
  if (!thread) {
    every(60_000, () => workOrders.sweepSla(), 'SLA sweep'); // flags overdue orders still waiting (bulk update)
    every(3_600_000, () => assets.sweepWarranty(), 'warranty sweep');
    every(15 * 60_000, () => surveys.sweep(), 'CSAT sweep'); // expire overdue surveys, retry failed low-score escalations, send missed surveys
  }
  // PM plans generate due orders (dedupe keys)
  if (roles.has('rules')) every(config.pmTickMs, () => pmPlans.tick(), 'PM tick');

  let stopping: Promise<void> | undefined;
  return {
    config,
    db,
    telemetry,
    engine,
    pipeline,
    broker,
    api,
    apiUrl,
    mqttUrl,
    thread,
    credentials,
    health,
    publish: (topic, payload) => (publishToBroker ? publishToBroker(topic, payload) : Promise.reject(new Error('no MQTT broker in this process (ingest role not running)'))),
    assetsChanged,
    stop: () =>
      (stopping ??= (async () => {
        for (const s of stops) {
          try {
            await s();
          } catch (err) {
            logger.error({ err }, 'error during shutdown');
          }
        }
      })()),
  };
}

/** The process's resident memory and this thread's V8 heap (each thread has its own), in MB. */
function memoryFigures(): { rssMb: number; heapUsedMb: number } {
  const m = process.memoryUsage();
  return { rssMb: Math.round(m.rss / 2 ** 20), heapUsedMb: Math.round((m.heapUsed / 2 ** 20) * 10) / 10 };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const logger = createRootLogger(config.logLevel);
  // the ingest thread ending on its own (INGEST_THREAD=on) ends the process: a supervisor restarts it
  // and the ingest journal replays what was acknowledged but not stored
  const platform = await startPlatform(config, { logger, onThreadExit: () => shutdown('ingest thread ended', 1) });
  logger.info({ roles: config.roles, ingestThread: platform.thread !== undefined, database: platform.db.kind, telemetry: platform.telemetry.kind, api: platform.apiUrl, mqtt: platform.mqttUrl }, 'platform started');
  function shutdown(signal: string, code = 0): void {
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    void platform.stop().then(() => process.exit(code));
  }
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

if (isMainThread && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
