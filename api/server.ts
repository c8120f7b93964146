/**
 * Builds the Fastify app: OpenAPI at /docs, schema-validated routes, one error handler.
 * Routes are thin: validate (schema), call a service, map the result to a view.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Clock } from '../platform/clock.ts';
import type { Logger } from '../platform/logger.ts';
import type { AssetService } from '../maintenance/assets.ts';
import type { AlarmService } from '../maintenance/alarms.ts';
import type { WorkOrderService } from '../maintenance/work-orders.ts';
import type { InventoryService } from '../maintenance/inventory.ts';
import type { NotificationService } from '../maintenance/notifications.ts';
import type { PmPlanService } from '../maintenance/pm-plans.ts';
import type { ChecklistService } from '../maintenance/checklists.ts';
import type { AttachmentService } from '../maintenance/attachments.ts';
import type { WorkLogService } from '../maintenance/work-logs.ts';
import type { KnowledgeService } from '../maintenance/knowledge-base.ts';
import type { SignatureService } from '../maintenance/signatures.ts';
import type { PurchasingService } from '../maintenance/purchasing.ts';
import type { CustomerService } from '../maintenance/customers.ts';
import type { SurveyService } from '../maintenance/surveys.ts';
import type { CostService } from '../maintenance/costs.ts';
import type { EngineerService } from '../dispatch/engineers.ts';
import type { DispatchService } from '../dispatch/service.ts';
import type { KpiService } from '../kpis/service.ts';
import type { DataTransferService } from '../maintenance/data-transfer.ts';
import type { RuleService } from '../rules/service.ts';
import type { TelemetryStore } from '../ingest/telemetry-store/port.ts';
import type { DeviceCredentialService } from '../ingest/device-credentials.ts';
import type { WebhookService } from '../integrations/webhook-service.ts';
import { frameworkErrorHandler, installErrorHandling } from './error-handler.ts';
import { installHardening, type HardeningOptions } from './hardening.ts';
import { ErrorBody } from './schemas.ts';
import { assetRoutes } from './routes/assets.ts';
import { deviceRoutes } from './routes/devices.ts';
import { healthRoutes } from './routes/health.ts';
import { ruleRoutes } from './routes/rules.ts';
import { telemetryRoutes } from './routes/telemetry.ts';
import { workOrderRoutes } from './routes/work-orders.ts';
import { inventoryRoutes } from './routes/inventory.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { pmRoutes } from './routes/pm-plans.ts';
import { workExecutionRoutes } from './routes/work-execution.ts';
import { customerRoutes } from './routes/customers.ts';
import { dispatchRoutes } from './routes/dispatch.ts';
import { kpiRoutes } from './routes/kpis.ts';
import { dashboardRoutes } from './routes/dashboards.ts';
import { authRoutes } from './routes/auth.ts';
import { auditRoutes } from './routes/audit.ts';
import { dataTransferRoutes } from './routes/data-transfer.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { installAccessControl } from './access-control.ts';
import { installAuditLog } from './audit-hooks.ts';
import { installReadCache, type ReadCache } from './read-cache.ts';
import { installRequestLog, type RequestLogMode } from './request-log.ts';
import { installHttpStats, type HttpStats } from './http-stats.ts';
import type { ChangeFeed } from '../platform/db/change-feed.ts';
import type { AuthService } from '../access/auth-service.ts';
import type { AuditService } from '../access/audit.ts';
import type { ScopeChecker } from '../access/scope.ts';

export interface HealthReport {
  components: Record<string, { ok: boolean; detail: string }>;
  counters: Record<string, unknown>;
}

export interface ApiDeps {
  assets: AssetService;
  workOrders: WorkOrderService;
  alarms: AlarmService;
  inventory: InventoryService;
  purchasing: PurchasingService;
  notifications: NotificationService;
  pmPlans: PmPlanService;
  checklists: ChecklistService;
  attachments: AttachmentService;
  workLogs: WorkLogService;
  knowledge: KnowledgeService;
  signatures: SignatureService;
  customers: CustomerService;
  surveys: SurveyService;
  costs: CostService;
  engineers: EngineerService;
  dispatch: DispatchService;
  kpis: KpiService;
  /** CSV import/export of assets, parts and engineers. */
  dataTransfer: DataTransferService;
  auth: AuthService;
  audit: AuditService;
  scopes: ScopeChecker;
  /** AUTH_MODE=on: every route needs a session or API key (access/route-permissions.ts). */
  authEnabled: boolean;
  /** Rate limits and HSTS (api/hardening.ts); defaults when omitted. */
  hardening?: Partial<HardeningOptions>;
  rules: RuleService;
  credentials: DeviceCredentialService;
  /** Outbound webhooks: subscriptions, delivery log, outbox (integrations/). */
  webhooks: WebhookService;
  telemetry: TelemetryStore;
  /** Committed table changes, for the read cache. */
  changes: ChangeFeed;
  /** API read cache (api/read-cache.ts): oldest entry served (0 = off) and size bound. */
  readCache: { maxAgeMs: number; activityLagMs: number; maxBytes: number; refreshAhead: boolean };
  /** The access log (api/request-log.ts). */
  requestLog: RequestLogMode;
  clock: Clock;
  health(): Promise<HealthReport>;
  /** Asset codes/sites changed: ingest drops its cache. */
  onAssetsChanged(): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    readCache: ReadCache;
    /** Server-side response times per route (api/http-stats.ts). */
    httpStats: { stats(): HttpStats };
  }
}

export type ApiApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export async function buildApi(deps: ApiDeps, logger: Logger): Promise<ApiApp> {
  const app = Fastify({
    loggerInstance: logger.child({ module: 'api' }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array', useDefaults: true } },
    frameworkErrors: frameworkErrorHandler,
    // one access-log line per request instead (api/request-log.ts)
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(swagger, {
    openapi: {
      info: { title: 'On-site O&M platform API', version: '0.1.0', description: 'Assets, rules, work orders, alarms and telemetry.' },
      tags: [{ name: 'assets' }, { name: 'rules' }, { name: 'work orders' }, { name: 'alarms' }, { name: 'telemetry' }, { name: 'engineers' }, { name: 'devices' }, { name: 'inventory' }, { name: 'purchasing' }, { name: 'pm plans' }, { name: 'checklists' }, { name: 'work execution' }, { name: 'knowledge base' }, { name: 'customers' }, { name: 'surveys' }, { name: 'costs' }, { name: 'notifications' }, { name: 'dispatch' }, { name: 'kpis' }, { name: 'dashboards' }, { name: 'auth' }, { name: 'webhooks' }, { name: 'data transfer' }, { name: 'ops' }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.addSchema(ErrorBody);
  installErrorHandling(app);
  installRequestLog(app, deps.requestLog);
  app.decorate('httpStats', installHttpStats(app));
  await installHardening(app, { ...deps.hardening, authEnabled: deps.authEnabled });
  // before any route: every route registered below is checked against the access table
  installAccessControl(app, { enabled: deps.authEnabled, auth: deps.auth, scopes: deps.scopes });
  installAuditLog(app, deps.audit);
  // after access control: only permitted, in-scope requests reach the cache
  const readCache = installReadCache(app, { changes: deps.changes, ...deps.readCache });
  app.decorate('readCache', readCache);

  healthRoutes(app, deps);
  assetRoutes(app, deps);
  ruleRoutes(app, deps);
  workOrderRoutes(app, deps);
  telemetryRoutes(app, deps);
  deviceRoutes(app, deps);
  inventoryRoutes(app, deps);
  notificationRoutes(app, deps);
  pmRoutes(app, deps);
  workExecutionRoutes(app, deps);
  customerRoutes(app, deps);
  dispatchRoutes(app, deps);
  kpiRoutes(app, deps);
  dashboardRoutes(app, deps);
  authRoutes(app, deps);
  auditRoutes(app, deps);
  dataTransferRoutes(app, deps);
  webhookRoutes(app, deps);
  return app;
}
