/**
 * What every API route requires, in one table (pure). main.ts refuses to start if a route is
 * missing here, so a new route cannot be reachable by accident.
 *
 * scope — row-level checks for engineers and customers (access/scope.ts):
 *   work_order       :id is a work order — an engineer only their own (assignee), a customer only theirs
 *   asset            :id is an asset — a customer only assets at their sites
 *   attachment       :id is an attachment — checked through its owner (work order or asset)
 *   engineer_self    :id is an engineer — `self` permission suffices for one's own record
 *   work_order_list  list filters forced to the caller's orders
 *   asset_list       list filters forced to the caller's sites
 *   work_order_create a customer may only raise requests for their own assets (source customer, channel portal)
 *   notification_list / notification  an engineer sees only notifications addressed to them
 *   attachment_delete :id is an attachment — the caller also needs the write permission of its owner
 *                     (work order: work_orders:update and the order's row-level rule; asset: assets:write;
 *                     knowledge article: knowledge:write), for every role
 *   work_order_body   body.workOrderId is a work order — an engineer only their own (as work_order)
 *   data_entity       :entity of CSV import/export — also needs the entity's own permission (import:
 *                     assets:write, inventory:write, engineers:write; export: the matching :read), for every role
 * customer — customers may use the route at all (default: no, whatever the permission says).
 */
import type { Permission } from './permissions.ts';

export type Scope =
  | 'work_order'
  | 'asset'
  | 'attachment'
  | 'attachment_delete'
  | 'engineer_self'
  | 'work_order_list'
  | 'asset_list'
  | 'work_order_create'
  | 'work_order_body'
  | 'notification_list'
  | 'notification'
  | 'data_entity';

export type RouteAccess = { public: true } | { authenticated: true } | { permission: Permission; scope?: Scope; customer?: boolean; self?: Permission };

const P = (permission: Permission, extra: Omit<Extract<RouteAccess, { permission: Permission }>, 'permission'> = {}): RouteAccess => ({ permission, ...extra });
const PUBLIC: RouteAccess = { public: true };

export const ROUTE_ACCESS: Readonly<Record<string, RouteAccess>> = Object.freeze({
  // operations and the public survey link (the token is the credential)
  'GET /health': PUBLIC,
  'GET /surveys/:token': PUBLIC,
  'POST /surveys/:token': PUBLIC,
  'POST /auth/login': PUBLIC,
  'POST /auth/logout': { authenticated: true },
  'GET /auth/me': { authenticated: true },
  'GET /users': P('users:admin'),
  'POST /users': P('users:admin'),
  'PATCH /users/:id': P('users:admin'),
  'GET /api-keys': P('users:admin'),
  'POST /api-keys': P('users:admin'),
  'POST /api-keys/:id/revoke': P('users:admin'),

  // assets
  'GET /sites': P('assets:read'),
  'POST /sites': P('assets:write'),
  'GET /sites/:id/areas': P('assets:read'),
  'POST /sites/:id/areas': P('assets:write'),
  'GET /assets': P('assets:read', { scope: 'asset_list', customer: true }),
  'POST /assets': P('assets:write'),
  'GET /assets/code-preview': P('assets:read'),
  'POST /assets/warranty-sweep': P('assets:write'),
  'GET /assets/:id': P('assets:read', { scope: 'asset', customer: true }),
  'PATCH /assets/:id': P('assets:write'),
  'DELETE /assets/:id': P('assets:write'),
  'POST /assets/:id/status': P('assets:write'),
  'GET /assets/:id/tree': P('assets:read', { scope: 'asset', customer: true }),
  'GET /assets/:id/history': P('assets:read', { scope: 'asset', customer: true }),
  'GET /assets/:id/downtimes': P('assets:read', { scope: 'asset', customer: true }),
  'POST /assets/:id/downtimes': P('assets:write'),
  'POST /assets/:id/downtimes/:downtimeId/end': P('assets:write'),
  'GET /assets/:id/qr.svg': P('assets:read', { scope: 'asset', customer: true }),
  'GET /assets/:id/qr.png': P('assets:read', { scope: 'asset', customer: true }),
  'GET /assets/:id/documents': P('assets:read', { scope: 'asset', customer: true }),
  'POST /assets/:id/documents': P('assets:write'),
  'GET /assets/:id/telemetry': P('telemetry:read', { scope: 'asset' }),
  'POST /assets/:id/credentials': P('devices:write'),
  'POST /sites/:id/credentials': P('devices:write'),
  'GET /credentials': P('devices:write'),
  'DELETE /credentials/:id': P('devices:write'),

  // rules and PM
  'GET /rules': P('rules:read'),
  'POST /rules': P('rules:write'),
  'POST /rules/backtest': P('rules:read'),
  'GET /rules/:id': P('rules:read'),
  'PATCH /rules/:id': P('rules:write'),
  'DELETE /rules/:id': P('rules:write'),
  'GET /rules/:id/versions': P('rules:read'),
  'GET /pm-plans': P('pm:read'),
  'POST /pm-plans': P('pm:write'),
  'POST /pm-plans/run': P('pm:write'),
  'GET /pm-plans/forecast': P('pm:read'),
  'GET /pm-plans/:id': P('pm:read'),
  'PUT /pm-plans/:id': P('pm:write'),
  'PATCH /pm-plans/:id': P('pm:write'),
  'DELETE /pm-plans/:id': P('pm:write'),
  'GET /pm-plans/:id/status': P('pm:read'),
  'GET /checklist-templates': P('pm:read'),
  'POST /checklist-templates': P('pm:write'),
  'GET /checklist-templates/:id': P('pm:read'),
  'PUT /checklist-templates/:id': P('pm:write'),
  'PATCH /checklist-templates/:id': P('pm:write'),
  'DELETE /checklist-templates/:id': P('pm:write'),

  // work orders
  'GET /work-orders': P('work_orders:read', { scope: 'work_order_list', customer: true }),
  'POST /work-orders': P('work_orders:create', { scope: 'work_order_create', customer: true }),
  'GET /work-orders/:id': P('work_orders:read', { scope: 'work_order', customer: true }),
  'POST /work-orders/:id/transitions': P('work_orders:update', { scope: 'work_order' }),
  'PUT /work-orders/:id/close-out': P('work_orders:update', { scope: 'work_order' }),
  'GET /work-orders/:id/checklist': P('work_orders:read', { scope: 'work_order' }),
  'POST /work-orders/:id/checklist': P('work_orders:update', { scope: 'work_order' }),
  'POST /work-orders/:id/checklist/items': P('work_orders:update', { scope: 'work_order' }),
  'PUT /work-orders/:id/checklist/:key': P('work_orders:update', { scope: 'work_order' }),
  'GET /work-orders/:id/work-logs': P('work_orders:read', { scope: 'work_order' }),
  'POST /work-orders/:id/work-logs': P('work_orders:update', { scope: 'work_order' }),
  'GET /work-orders/:id/attachments': P('work_orders:read', { scope: 'work_order', customer: true }),
  'POST /work-orders/:id/attachments': P('work_orders:update', { scope: 'work_order' }),
  'GET /work-orders/:id/signature': P('work_orders:read', { scope: 'work_order', customer: true }),
  'POST /work-orders/:id/signature': P('work_orders:update', { scope: 'work_order' }),
  'GET /work-orders/:id/suggestions': P('knowledge:read', { scope: 'work_order' }),
  'GET /work-orders/:id/reservations': P('inventory:read', { scope: 'work_order' }),
  'POST /work-orders/:id/reservations': P('work_orders:update', { scope: 'work_order' }),
  'PUT /work-orders/:id/reservations/:reservationId': P('work_orders:update', { scope: 'work_order' }),
  'DELETE /work-orders/:id/reservations/:reservationId': P('work_orders:update', { scope: 'work_order' }),
  'POST /work-orders/:id/parts-used': P('work_orders:update', { scope: 'work_order' }),
  'POST /work-orders/:id/parts-returned': P('work_orders:update', { scope: 'work_order' }),
  'GET /work-orders/:id/parts': P('work_orders:read', { scope: 'work_order' }),
  'GET /work-orders/:id/costs': P('kpis:read'),
  'GET /work-orders/:id/recommendations': P('work_orders:dispatch'),
  'POST /work-orders/:id/assign': P('work_orders:dispatch'),
  'POST /work-orders/:id/decline': P('work_orders:update', { scope: 'work_order' }),
  'GET /work-orders/:id/dispatch-log': P('work_orders:dispatch'),
  'POST /dispatch/batch': P('work_orders:dispatch'),
  'GET /attachments/:id': P('work_orders:read', { scope: 'attachment', customer: true }),
  'GET /attachments/:id/content': P('work_orders:read', { scope: 'attachment', customer: true }),
  'DELETE /attachments/:id': P('work_orders:update', { scope: 'attachment_delete' }),
  'GET /alarms': P('alarms:read'),
  'POST /alarms/:id/acknowledge': P('alarms:ack'),

  // engineers
  'GET /engineers': P('engineers:read'),
  'POST /engineers': P('engineers:write'),
  'GET /engineers/:id': P('engineers:read', { scope: 'engineer_self', self: 'engineers:self' }),
  'PATCH /engineers/:id': P('engineers:write'),
  'PUT /engineers/:id/location': P('engineers:write', { scope: 'engineer_self', self: 'engineers:self' }),
  'PUT /engineers/:id/shifts': P('engineers:write'),
  'PUT /engineers/:id/hourly-rate': P('engineers:write'),
  'POST /engineers/:id/leave': P('engineers:write'),
  'DELETE /engineers/:id/leave/:leaveId': P('engineers:write'),
  'GET /engineers/:id/status': P('engineers:read', { scope: 'engineer_self', self: 'engineers:self' }),

  // knowledge
  'GET /fault-codes': P('knowledge:read'),
  'POST /fault-codes': P('knowledge:write'),
  'GET /knowledge-articles': P('knowledge:read'),
  'POST /knowledge-articles': P('knowledge:write'),
  'GET /knowledge-articles/:id': P('knowledge:read'),
  'PATCH /knowledge-articles/:id': P('knowledge:write'),
  'DELETE /knowledge-articles/:id': P('knowledge:write'),
  'GET /knowledge-articles/:id/attachments': P('knowledge:read'),
  'POST /knowledge-articles/:id/attachments': P('knowledge:write'),
  'POST /knowledge-articles/:id/used': P('work_orders:update', { scope: 'work_order_body' }),

  // inventory and purchasing
  'GET /parts': P('inventory:read'),
  'POST /parts': P('inventory:write'),
  'GET /parts/:id/ledger': P('inventory:read'),
  'GET /warehouses': P('inventory:read'),
  'POST /warehouses': P('inventory:write'),
  'GET /stock': P('inventory:read'),
  'POST /stock/movements': P('inventory:write'),
  'GET /purchase-requests': P('inventory:read'),
  'GET /purchase-requests/:id': P('inventory:read'),
  'POST /purchase-requests/:id/transitions': P('purchasing:write'),
  'GET /purchase-orders': P('inventory:read'),
  'POST /purchase-orders': P('purchasing:write'),
  'POST /purchase-orders/from-requests': P('purchasing:write'),
  'GET /purchase-orders/:id': P('inventory:read'),
  'POST /purchase-orders/:id/place': P('purchasing:write'),
  'POST /purchase-orders/:id/cancel': P('purchasing:write'),
  'POST /purchase-orders/:id/receipts': P('purchasing:write'),
  'GET /inventory/reports/valuation': P('inventory:read'),
  'GET /inventory/reports/turnover': P('inventory:read'),
  'GET /inventory/reports/slow-moving': P('inventory:read'),
  'GET /inventory/reports/stock-outs': P('inventory:read'),

  // customers, contracts, money
  'GET /customers': P('customers:read'),
  'POST /customers': P('customers:write'),
  'GET /customers/:id': P('customers:read'),
  'PATCH /customers/:id': P('customers:write'),
  'DELETE /customers/:id': P('customers:write'),
  'PUT /customers/:id/sites': P('customers:write'),
  'GET /contracts': P('customers:read'),
  'POST /contracts': P('customers:write'),
  'GET /contracts/:id': P('customers:read'),
  'PATCH /contracts/:id': P('customers:write'),
  'DELETE /contracts/:id': P('customers:write'),
  'GET /contracts/:id/profitability': P('kpis:read'),
  'GET /projects': P('customers:read'),
  'POST /projects': P('customers:write'),
  'GET /projects/:id': P('customers:read'),
  'PATCH /projects/:id': P('customers:write'),
  'DELETE /projects/:id': P('customers:write'),
  'GET /projects/:id/profitability': P('kpis:read'),
  'GET /priority-rules': P('customers:read'),
  'POST /priority-rules': P('customers:write'),
  'POST /priority-rules/examples': P('customers:write'),
  'GET /priority-rules/evaluate': P('customers:read'),
  'PATCH /priority-rules/:id': P('customers:write'),
  'DELETE /priority-rules/:id': P('customers:write'),
  'GET /surveys': P('surveys:read'),
  'POST /surveys/sweep': P('customers:write'),

  // reporting
  'GET /notifications': P('notifications:read', { scope: 'notification_list' }),
  'POST /notifications/:id/read': P('notifications:read', { scope: 'notification' }),
  'GET /kpis': P('kpis:read'),
  'GET /kpis/summary': P('kpis:read'),
  'GET /kpis/:id': P('kpis:read'),
  'GET /dashboards': P('dashboards:read'),
  'GET /dashboards/:uid': P('dashboards:read'),
  'POST /dashboards/push': P('dashboards:write'),
  'GET /audit': P('audit:read'),

  // webhooks (outbox delivery)
  'GET /webhooks': P('webhooks:admin'),
  'POST /webhooks': P('webhooks:admin'),
  'GET /webhooks/:id': P('webhooks:admin'),
  'PATCH /webhooks/:id': P('webhooks:admin'),
  'DELETE /webhooks/:id': P('webhooks:admin'),
  'POST /webhooks/:id/test': P('webhooks:admin'),
  'GET /webhooks/:id/deliveries': P('webhooks:admin'),
  'POST /webhook-deliveries/:id/retry': P('webhooks:admin'),
  'GET /outbox': P('webhooks:admin'),

  // CSV import / export (assets, parts, engineers)
  'GET /export/:entity': P('data:export', { scope: 'data_entity' }),
  'POST /import/:entity': P('data:import', { scope: 'data_entity' }),
});

/** Refuses routes under /docs too? No: the API description is public (it contains no data). */
export const isPublicPrefix = (url: string): boolean => url === '/docs' || url.startsWith('/docs/');
