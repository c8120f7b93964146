-- KPI views (hand-written; views only, no table changes). The single source of per-row facts for
-- the KPI queries in kpis/definitions.ts; every derived column is documented in kpis/README.md.
-- Timestamps are UTC without time zone, like the tables; "now" is (now() AT TIME ZONE 'UTC').

-- One row per work order with its codes, times, SLA evidence, hold time, first-time fix, costs and CSAT.
CREATE VIEW "kpi_work_orders" AS
WITH base AS (
  -- Per-order sums are correlated subqueries (hold time, labour, parts): a KPI query over a period
  -- evaluates them only for the orders it reads, and not at all when it does not use the column.
  SELECT w."id" AS work_order_id, w."number", w."title",
         w."asset_id", a."code" AS asset_code,
         a."site_id", s."code" AS site_code,
         COALESCE(w."customer_id", s."customer_id") AS customer_id,
         COALESCE(c."code", sc."code") AS customer_code,
         w."contract_id", k."code" AS contract_code,
         w."project_id", pr."code" AS project_code,
         w."assignee_id" AS engineer_id, en."code" AS engineer_code,
         w."source"::text AS source, w."priority"::text AS priority, w."status"::text AS status,
         (w."source" IN ('rule', 'manual', 'customer')) AS is_corrective,
         (w."status" = 'cancelled') AS is_cancelled,
         (w."status" NOT IN ('completed', 'verified', 'closed', 'cancelled')) AS is_open,
         w."requested_at", w."responded_at", w."started_at", w."completed_at", w."closed_at", w."cancelled_at",
         w."response_due_at", w."resolution_due_at",
         -- PM: the plan's own due date when it is later than the SLA due time (orders generated ahead with lead days)
         CASE WHEN w."source" = 'pm' AND (w."reason"->'calendar'->>'dueAt') IS NOT NULL
              THEN GREATEST(((w."reason"->'calendar'->>'dueAt')::timestamptz AT TIME ZONE 'UTC'), w."resolution_due_at")
              ELSE w."resolution_due_at" END AS pm_due_at,
         w."response_breached", w."resolution_breached",
         -- evidence of lateness judged like maintenance/sla.ts: unanswered = open or assigned; waiting for
         -- the customer pauses the resolution clock at the moment the hold began
         (w."response_breached"
           OR COALESCE(w."responded_at" > w."response_due_at", false)
           OR (w."response_due_at" IS NOT NULL AND w."responded_at" IS NULL AND w."status" IN ('open', 'assigned')
               AND (now() AT TIME ZONE 'UTC') > w."response_due_at")) AS response_late,
         (w."resolution_breached"
           OR COALESCE(w."completed_at" > w."resolution_due_at", false)
           OR (w."resolution_due_at" IS NOT NULL AND w."completed_at" IS NULL
               AND w."status" IN ('open', 'assigned', 'accepted', 'en_route', 'in_progress', 'on_hold')
               AND (CASE WHEN w."status" = 'on_hold' AND w."hold_reason" = 'waiting_customer'
                         THEN COALESCE(w."on_hold_at", now() AT TIME ZONE 'UTC')
                         ELSE now() AT TIME ZONE 'UTC' END) > w."resolution_due_at")) AS resolution_late,
         EXTRACT(EPOCH FROM (w."responded_at" - w."requested_at")) / 60.0 AS frt_minutes,
         -- hours on hold between started_at and completed_at (a hold without an end lasts until completion)
         COALESCE((
           SELECT SUM(GREATEST(0, EXTRACT(EPOCH FROM (
                    LEAST(COALESCE(h.hold_end, w."completed_at"), w."completed_at") - GREATEST(h.hold_start, w."started_at")
                  )) / 3600.0))
             FROM (SELECT e."at" AS hold_start, e."to_status",
                          LEAD(e."at") OVER (ORDER BY e."at", e."id") AS hold_end
                     FROM "work_order_events" e WHERE e."work_order_id" = w."id") h
            WHERE h."to_status" = 'on_hold'), 0) AS hold_hours,
         (w."hold_reason" IS NOT DISTINCT FROM 'waiting_parts'
           OR EXISTS (SELECT 1 FROM "work_order_events" e
                       WHERE e."work_order_id" = w."id" AND e."to_status" = 'on_hold' AND e."note" LIKE 'on hold: waiting_parts%')) AS went_on_hold_waiting_parts,
         COALESCE((SELECT SUM(l."minutes") FROM "work_logs" l WHERE l."work_order_id" = w."id" AND l."kind" = 'labour'), 0) AS labour_minutes,
         COALESCE((SELECT SUM(l."cost") FROM "work_logs" l WHERE l."work_order_id" = w."id" AND l."kind" = 'labour'), 0) AS labour_cost,
         COALESCE((SELECT SUM(l."cost") FROM "work_logs" l WHERE l."work_order_id" = w."id" AND l."kind" = 'travel'), 0) AS travel_cost,
         -- issues are negative, returns positive: cost = −Σ quantity × (movement unit cost, else catalogue cost)
         COALESCE((SELECT SUM(-m."quantity" * COALESCE(m."unit_cost", p."unit_cost", 0))
                     FROM "stock_movements" m JOIN "parts" p ON p."id" = m."part_id"
                    WHERE m."work_order_id" = w."id" AND m."kind" IN ('issue', 'return')), 0) AS parts_cost,
         sv."score" AS csat_score, sv."answered_at" AS csat_answered_at
    FROM "work_orders" w
    JOIN "assets" a ON a."id" = w."asset_id"
    JOIN "sites" s ON s."id" = a."site_id"
    LEFT JOIN "customers" c ON c."id" = w."customer_id"
    LEFT JOIN "customers" sc ON sc."id" = s."customer_id"
    LEFT JOIN "contracts" k ON k."id" = w."contract_id"
    LEFT JOIN "projects" pr ON pr."id" = w."project_id"
    LEFT JOIN "engineers" en ON en."id" = w."assignee_id"
    LEFT JOIN "surveys" sv ON sv."work_order_id" = w."id" AND sv."status" = 'answered' AND sv."score" IS NOT NULL
)
SELECT b.*,
       CASE WHEN b.completed_at IS NOT NULL AND b.started_at IS NOT NULL
            THEN GREATEST(0, EXTRACT(EPOCH FROM (b.completed_at - b.started_at)) / 3600.0 - b.hold_hours)
       END AS repair_hours,
       (b.response_late OR b.resolution_late) AS sla_breached,
       b.labour_cost + b.travel_cost + b.parts_cost AS total_cost,
       CASE WHEN b.completed_at IS NULL OR b.is_cancelled THEN NULL
            ELSE NOT b.went_on_hold_waiting_parts
                 AND NOT EXISTS (
                   SELECT 1 FROM "work_orders" r
                    WHERE r."asset_id" = b.asset_id AND r."id" <> b.work_order_id
                      AND r."source" IN ('rule', 'manual', 'customer') AND r."status" <> 'cancelled'
                      AND r."requested_at" > b.completed_at
                      AND r."requested_at" <= b.completed_at + INTERVAL '7 days')
       END AS first_time_fix
  FROM base b;

-- One row per downtime period; open periods end "now".
CREATE VIEW "kpi_asset_downtime" AS
SELECT d."id" AS downtime_id, d."asset_id", a."code" AS asset_code,
       a."site_id", s."code" AS site_code, s."customer_id", c."code" AS customer_code,
       d."work_order_id", d."reason", d."started_at", d."ended_at",
       (d."ended_at" IS NULL) AS is_open,
       COALESCE(d."ended_at", (now() AT TIME ZONE 'UTC')) AS effective_end,
       GREATEST(0, EXTRACT(EPOCH FROM (COALESCE(d."ended_at", (now() AT TIME ZONE 'UTC')) - d."started_at")) / 3600.0) AS hours
  FROM "asset_downtimes" d
  JOIN "assets" a ON a."id" = d."asset_id"
  JOIN "sites" s ON s."id" = a."site_id"
  LEFT JOIN "customers" c ON c."id" = s."customer_id";

-- One row per asset with its site and the site's customer (MTBF denominators, per-asset panels).
CREATE VIEW "kpi_assets" AS
SELECT a."id" AS asset_id, a."code" AS asset_code, a."name" AS asset_name, a."type" AS asset_type,
       a."status"::text AS status, a."criticality"::text AS criticality, a."retired_at",
       a."site_id", s."code" AS site_code, s."customer_id", c."code" AS customer_code
  FROM "assets" a
  JOIN "sites" s ON s."id" = a."site_id"
  LEFT JOIN "customers" c ON c."id" = s."customer_id";

-- The stock ledger with codes, the balance before each movement and an effective unit cost.
CREATE VIEW "kpi_stock_movements" AS
SELECT m."id" AS movement_id, m."seq", m."part_id", p."code" AS part_code,
       m."warehouse_id", wh."code" AS warehouse_code, wh."kind"::text AS warehouse_kind,
       wh."site_id", s."code" AS site_code, s."customer_id", c."code" AS customer_code,
       m."kind"::text AS kind, m."quantity", m."balance_after", m."balance_after" - m."quantity" AS balance_before,
       COALESCE(m."unit_cost", p."unit_cost", 0) AS unit_cost,
       COALESCE(p."unit_cost", 0) AS part_unit_cost,
       m."work_order_id", m."at"
  FROM "stock_movements" m
  JOIN "parts" p ON p."id" = m."part_id"
  JOIN "warehouses" wh ON wh."id" = m."warehouse_id"
  LEFT JOIN "sites" s ON s."id" = wh."site_id"
  LEFT JOIN "customers" c ON c."id" = s."customer_id";
