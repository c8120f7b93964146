-- CreateEnum
CREATE TYPE "AreaKind" AS ENUM ('area', 'line');

-- CreateEnum
CREATE TYPE "AssetCriticality" AS ENUM ('low', 'medium', 'high', 'critical');

-- CreateEnum
CREATE TYPE "WorkOrderChannel" AS ENUM ('api', 'portal', 'phone', 'email', 'iot', 'schedule', 'internal');

-- CreateEnum
CREATE TYPE "AssetEventKind" AS ENUM ('created', 'status_changed', 'updated', 'moved', 'document_added', 'note');

-- CreateEnum
CREATE TYPE "AttachmentOwner" AS ENUM ('asset', 'work_order', 'knowledge_article');

-- CreateEnum
CREATE TYPE "AttachmentKind" AS ENUM ('document', 'photo', 'signature');

-- CreateEnum
CREATE TYPE "PmTrigger" AS ENUM ('calendar', 'meter', 'calendar_or_meter');

-- CreateEnum
CREATE TYPE "PmIntervalUnit" AS ENUM ('day', 'week', 'month', 'year');

-- CreateEnum
CREATE TYPE "WorkLogKind" AS ENUM ('note', 'labour', 'travel');

-- CreateEnum
CREATE TYPE "ReservationStatus" AS ENUM ('reserved', 'consumed', 'released');

-- CreateEnum
CREATE TYPE "PurchaseOrderStatus" AS ENUM ('draft', 'placed', 'partially_received', 'received', 'cancelled');

-- CreateEnum
CREATE TYPE "CustomerTier" AS ENUM ('standard', 'silver', 'gold', 'platinum');

-- CreateEnum
CREATE TYPE "ServiceLevel" AS ENUM ('basic', 'standard', 'premium');

-- CreateEnum
CREATE TYPE "SurveyStatus" AS ENUM ('pending', 'answered', 'expired');

-- AlterEnum
ALTER TYPE "WorkOrderSource" ADD VALUE 'followup';

-- AlterTable
ALTER TABLE "assets" ADD COLUMN     "area_id" TEXT,
ADD COLUMN     "commissioned_at" DATE,
ADD COLUMN     "criticality" "AssetCriticality" NOT NULL DEFAULT 'medium',
ADD COLUMN     "purchase_cost" DECIMAL(14,2),
ADD COLUMN     "purchase_date" DATE,
ADD COLUMN     "retired_at" TIMESTAMP(3),
ADD COLUMN     "supplier" TEXT;

-- AlterTable
ALTER TABLE "engineers" ADD COLUMN     "hourly_rate" DECIMAL(10,2);

-- AlterTable
ALTER TABLE "parts" ADD COLUMN     "lead_time_days" INTEGER,
ADD COLUMN     "supplier" TEXT;

-- AlterTable
ALTER TABLE "sites" ADD COLUMN     "customer_id" TEXT,
ADD COLUMN     "latitude" DOUBLE PRECISION,
ADD COLUMN     "longitude" DOUBLE PRECISION;

-- AlterTable
ALTER TABLE "stock" ADD COLUMN     "reserved" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "stock_movements" ADD COLUMN     "unit_cost" DECIMAL(12,2);

-- AlterTable
ALTER TABLE "warehouses" ADD COLUMN     "engineer_id" TEXT;

-- AlterTable
ALTER TABLE "work_orders" ADD COLUMN     "channel" "WorkOrderChannel" NOT NULL DEFAULT 'api',
ADD COLUMN     "contract_id" TEXT,
ADD COLUMN     "customer_id" TEXT,
ADD COLUMN     "estimated_hours" DOUBLE PRECISION,
ADD COLUMN     "fault_code" TEXT,
ADD COLUMN     "parent_work_order_id" TEXT,
ADD COLUMN     "pm_plan_id" TEXT,
ADD COLUMN     "project_id" TEXT,
ADD COLUMN     "requested_by" TEXT,
ADD COLUMN     "required_skills" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "resolution" TEXT,
ADD COLUMN     "root_cause" TEXT,
ADD COLUMN     "severity" "AlarmSeverity";

-- CreateTable
CREATE TABLE "areas" (
    "id" TEXT NOT NULL,
    "site_id" TEXT NOT NULL,
    "parent_id" TEXT,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "AreaKind" NOT NULL DEFAULT 'area',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "areas_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "asset_events" (
    "id" TEXT NOT NULL,
    "asset_id" TEXT NOT NULL,
    "kind" "AssetEventKind" NOT NULL,
    "from_status" "AssetStatus",
    "to_status" "AssetStatus",
    "note" TEXT,
    "details" JSONB NOT NULL DEFAULT '{}',
    "actor" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "asset_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "asset_downtimes" (
    "id" TEXT NOT NULL,
    "asset_id" TEXT NOT NULL,
    "work_order_id" TEXT,
    "reason" TEXT NOT NULL,
    "started_at" TIMESTAMP(3) NOT NULL,
    "ended_at" TIMESTAMP(3),
    "open_key" TEXT,

    CONSTRAINT "asset_downtimes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "attachments" (
    "id" TEXT NOT NULL,
    "owner_type" "AttachmentOwner" NOT NULL,
    "owner_id" TEXT NOT NULL,
    "kind" "AttachmentKind" NOT NULL DEFAULT 'document',
    "file_name" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "storage_key" TEXT NOT NULL,
    "description" TEXT,
    "uploaded_by" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "attachments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pm_plans" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "asset_id" TEXT,
    "asset_type" TEXT,
    "trigger" "PmTrigger" NOT NULL,
    "interval_count" INTEGER,
    "interval_unit" "PmIntervalUnit",
    "start_date" TIMESTAMP(3),
    "meter_name" TEXT,
    "meter_interval" DOUBLE PRECISION,
    "meter_tolerance" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "lead_days" INTEGER NOT NULL DEFAULT 0,
    "floating" BOOLEAN NOT NULL DEFAULT true,
    "priority" "WorkOrderPriority" NOT NULL DEFAULT 'medium',
    "estimated_hours" DOUBLE PRECISION,
    "required_skills" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "tasks" JSONB NOT NULL DEFAULT '[]',
    "checklist_template_id" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "pm_plans_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pm_plan_parts" (
    "plan_id" TEXT NOT NULL,
    "part_id" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,

    CONSTRAINT "pm_plan_parts_pkey" PRIMARY KEY ("plan_id","part_id")
);

-- CreateTable
CREATE TABLE "pm_plan_states" (
    "plan_id" TEXT NOT NULL,
    "asset_id" TEXT NOT NULL,
    "last_done_at" TIMESTAMP(3),
    "last_done_meter" DOUBLE PRECISION,
    "generated_seq" INTEGER NOT NULL DEFAULT 0,
    "last_generated_at" TIMESTAMP(3),
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "pm_plan_states_pkey" PRIMARY KEY ("plan_id","asset_id")
);

-- CreateTable
CREATE TABLE "checklist_templates" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "asset_type" TEXT,
    "items" JSONB NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "checklist_templates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "work_order_checklist_items" (
    "id" TEXT NOT NULL,
    "work_order_id" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'check',
    "required" BOOLEAN NOT NULL DEFAULT false,
    "spec" JSONB NOT NULL DEFAULT '{}',
    "done" BOOLEAN NOT NULL DEFAULT false,
    "value" JSONB,
    "out_of_range" BOOLEAN NOT NULL DEFAULT false,
    "note" TEXT,
    "done_by" TEXT,
    "done_at" TIMESTAMP(3),

    CONSTRAINT "work_order_checklist_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "work_logs" (
    "id" TEXT NOT NULL,
    "work_order_id" TEXT NOT NULL,
    "engineer_id" TEXT,
    "kind" "WorkLogKind" NOT NULL,
    "note" TEXT,
    "started_at" TIMESTAMP(3),
    "ended_at" TIMESTAMP(3),
    "minutes" INTEGER NOT NULL DEFAULT 0,
    "distance_km" DOUBLE PRECISION,
    "cost" DECIMAL(12,2) NOT NULL DEFAULT 0,
    "actor" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "work_logs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "fault_codes" (
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "description" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "fault_codes_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "knowledge_articles" (
    "id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "symptoms" TEXT,
    "solution" TEXT NOT NULL,
    "fault_code" TEXT,
    "asset_type" TEXT,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "used_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "knowledge_articles_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "work_order_signatures" (
    "work_order_id" TEXT NOT NULL,
    "signer_name" TEXT NOT NULL,
    "signer_role" TEXT,
    "attachment_id" TEXT NOT NULL,
    "content_hash" TEXT NOT NULL,
    "summary" JSONB NOT NULL,
    "signed_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "work_order_signatures_pkey" PRIMARY KEY ("work_order_id")
);

-- CreateTable
CREATE TABLE "part_reservations" (
    "id" TEXT NOT NULL,
    "work_order_id" TEXT NOT NULL,
    "part_id" TEXT NOT NULL,
    "warehouse_id" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "consumed_quantity" INTEGER NOT NULL DEFAULT 0,
    "status" "ReservationStatus" NOT NULL DEFAULT 'reserved',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "closed_at" TIMESTAMP(3),

    CONSTRAINT "part_reservations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "purchase_orders" (
    "id" TEXT NOT NULL,
    "number" SERIAL NOT NULL,
    "supplier" TEXT NOT NULL,
    "status" "PurchaseOrderStatus" NOT NULL DEFAULT 'draft',
    "note" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "placed_at" TIMESTAMP(3),
    "received_at" TIMESTAMP(3),

    CONSTRAINT "purchase_orders_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "purchase_order_lines" (
    "id" TEXT NOT NULL,
    "purchase_order_id" TEXT NOT NULL,
    "part_id" TEXT NOT NULL,
    "warehouse_id" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "received_quantity" INTEGER NOT NULL DEFAULT 0,
    "unit_price" DECIMAL(12,2),
    "purchase_request_id" TEXT,

    CONSTRAINT "purchase_order_lines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "customers" (
    "id" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "tier" "CustomerTier" NOT NULL DEFAULT 'standard',
    "email" TEXT,
    "phone" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "customers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "contracts" (
    "id" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "service_level" "ServiceLevel" NOT NULL DEFAULT 'standard',
    "starts_on" DATE NOT NULL,
    "ends_on" DATE,
    "coverage" JSONB NOT NULL DEFAULT '{}',
    "sla_targets" JSONB NOT NULL DEFAULT '{}',
    "require_signature" BOOLEAN NOT NULL DEFAULT false,
    "value" DECIMAL(14,2),
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "contracts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "projects" (
    "id" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "customer_id" TEXT,
    "contract_id" TEXT,
    "budget" DECIMAL(14,2),
    "revenue" DECIMAL(14,2),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "projects_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "priority_rules" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "conditions" JSONB NOT NULL,
    "priority" "WorkOrderPriority" NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "priority_rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "surveys" (
    "id" TEXT NOT NULL,
    "work_order_id" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "status" "SurveyStatus" NOT NULL DEFAULT 'pending',
    "score" INTEGER,
    "comment" TEXT,
    "sent_at" TIMESTAMP(3) NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "answered_at" TIMESTAMP(3),
    "escalation_work_order_id" TEXT,

    CONSTRAINT "surveys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "notifications" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "subject_type" TEXT NOT NULL,
    "subject_id" TEXT NOT NULL,
    "dedupe_key" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "read_at" TIMESTAMP(3),

    CONSTRAINT "notifications_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "areas_site_id_code_key" ON "areas"("site_id", "code");

-- CreateIndex
CREATE INDEX "asset_events_asset_id_at_idx" ON "asset_events"("asset_id", "at");

-- CreateIndex
CREATE UNIQUE INDEX "asset_downtimes_open_key_key" ON "asset_downtimes"("open_key");

-- CreateIndex
CREATE INDEX "asset_downtimes_asset_id_started_at_idx" ON "asset_downtimes"("asset_id", "started_at");

-- CreateIndex
CREATE UNIQUE INDEX "attachments_storage_key_key" ON "attachments"("storage_key");

-- CreateIndex
CREATE INDEX "attachments_owner_type_owner_id_idx" ON "attachments"("owner_type", "owner_id");

-- CreateIndex
CREATE INDEX "pm_plans_asset_id_idx" ON "pm_plans"("asset_id");

-- CreateIndex
CREATE INDEX "pm_plans_asset_type_idx" ON "pm_plans"("asset_type");

-- CreateIndex
CREATE UNIQUE INDEX "checklist_templates_name_key" ON "checklist_templates"("name");

-- CreateIndex
CREATE UNIQUE INDEX "work_order_checklist_items_work_order_id_key_key" ON "work_order_checklist_items"("work_order_id", "key");

-- CreateIndex
CREATE INDEX "work_logs_work_order_id_idx" ON "work_logs"("work_order_id");

-- CreateIndex
CREATE INDEX "work_logs_engineer_id_created_at_idx" ON "work_logs"("engineer_id", "created_at");

-- CreateIndex
CREATE INDEX "knowledge_articles_fault_code_idx" ON "knowledge_articles"("fault_code");

-- CreateIndex
CREATE INDEX "knowledge_articles_asset_type_idx" ON "knowledge_articles"("asset_type");

-- CreateIndex
CREATE INDEX "part_reservations_work_order_id_idx" ON "part_reservations"("work_order_id");

-- CreateIndex
CREATE INDEX "part_reservations_part_id_warehouse_id_status_idx" ON "part_reservations"("part_id", "warehouse_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "purchase_orders_number_key" ON "purchase_orders"("number");

-- CreateIndex
CREATE INDEX "purchase_orders_status_idx" ON "purchase_orders"("status");

-- CreateIndex
CREATE UNIQUE INDEX "purchase_order_lines_purchase_request_id_key" ON "purchase_order_lines"("purchase_request_id");

-- CreateIndex
CREATE INDEX "purchase_order_lines_purchase_order_id_idx" ON "purchase_order_lines"("purchase_order_id");

-- CreateIndex
CREATE UNIQUE INDEX "customers_code_key" ON "customers"("code");

-- CreateIndex
CREATE UNIQUE INDEX "contracts_code_key" ON "contracts"("code");

-- CreateIndex
CREATE INDEX "contracts_customer_id_idx" ON "contracts"("customer_id");

-- CreateIndex
CREATE UNIQUE INDEX "projects_code_key" ON "projects"("code");

-- CreateIndex
CREATE INDEX "priority_rules_position_idx" ON "priority_rules"("position");

-- CreateIndex
CREATE UNIQUE INDEX "surveys_work_order_id_key" ON "surveys"("work_order_id");

-- CreateIndex
CREATE UNIQUE INDEX "surveys_token_hash_key" ON "surveys"("token_hash");

-- CreateIndex
CREATE UNIQUE INDEX "surveys_escalation_work_order_id_key" ON "surveys"("escalation_work_order_id");

-- CreateIndex
CREATE INDEX "surveys_status_idx" ON "surveys"("status");

-- CreateIndex
CREATE UNIQUE INDEX "notifications_dedupe_key_key" ON "notifications"("dedupe_key");

-- CreateIndex
CREATE INDEX "notifications_kind_created_at_idx" ON "notifications"("kind", "created_at");

-- CreateIndex
CREATE INDEX "notifications_subject_type_subject_id_idx" ON "notifications"("subject_type", "subject_id");

-- CreateIndex
CREATE INDEX "assets_area_id_idx" ON "assets"("area_id");

-- CreateIndex
CREATE INDEX "assets_type_idx" ON "assets"("type");

-- CreateIndex
CREATE INDEX "sites_customer_id_idx" ON "sites"("customer_id");

-- CreateIndex
CREATE INDEX "work_orders_customer_id_idx" ON "work_orders"("customer_id");

-- CreateIndex
CREATE INDEX "work_orders_contract_id_idx" ON "work_orders"("contract_id");

-- CreateIndex
CREATE INDEX "work_orders_pm_plan_id_idx" ON "work_orders"("pm_plan_id");

-- AddForeignKey
ALTER TABLE "sites" ADD CONSTRAINT "sites_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "areas" ADD CONSTRAINT "areas_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "areas" ADD CONSTRAINT "areas_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "areas"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "assets" ADD CONSTRAINT "assets_area_id_fkey" FOREIGN KEY ("area_id") REFERENCES "areas"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "work_orders" ADD CONSTRAINT "work_orders_pm_plan_id_fkey" FOREIGN KEY ("pm_plan_id") REFERENCES "pm_plans"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "work_orders" ADD CONSTRAINT "work_orders_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "work_orders" ADD CONSTRAINT "work_orders_contract_id_fkey" FOREIGN KEY ("contract_id") REFERENCES "contracts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "work_orders" ADD CONSTRAINT "work_orders_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "work_orders" ADD CONSTRAINT "work_orders_fault_code_fkey" FOREIGN KEY ("fault_code") REFERENCES "fault_codes"("code") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "asset_events" ADD CONSTRAINT "asset_events_asset_id_fkey" FOREIGN KEY ("asset_id") REFERENCES "assets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "asset_downtimes" ADD CONSTRAINT "asset_downtimes_asset_id_fkey" FOREIGN KEY ("asset_id") REFERENCES "assets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "asset_downtimes" ADD CONSTRAINT "asset_downtimes_work_order_id_fkey" FOREIGN KEY ("work_order_id") REFERENCES "work_orders"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pm_plans" ADD CONSTRAINT "pm_plans_asset_id_fkey" FOREIGN KEY ("asset_id") REFERENCES "assets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pm_plans" ADD CONSTRAINT "pm_plans_checklist_template_id_fkey" FOREIGN KEY ("checklist_template_id") REFERENCES "checklist_templates"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pm_plan_parts" ADD CONSTRAINT "pm_plan_parts_plan_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "pm_plans"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pm_plan_parts" ADD CONSTRAINT "pm_plan_parts_part_id_fkey" FOREIGN KEY ("part_id") REFERENCES "parts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pm_plan_states" ADD CONSTRAINT "pm_plan_states_plan_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "pm_plans"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "work_order_checklist_items" ADD CONSTRAINT "work_order_checklist_items_work_order_id_fkey" FOREIGN KEY ("work_order_id") REFERENCES "work_orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "work_logs" ADD CONSTRAINT "work_logs_work_order_id_fkey" FOREIGN KEY ("work_order_id") REFERENCES "work_orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "work_logs" ADD CONSTRAINT "work_logs_engineer_id_fkey" FOREIGN KEY ("engineer_id") REFERENCES "engineers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "knowledge_articles" ADD CONSTRAINT "knowledge_articles_fault_code_fkey" FOREIGN KEY ("fault_code") REFERENCES "fault_codes"("code") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "work_order_signatures" ADD CONSTRAINT "work_order_signatures_work_order_id_fkey" FOREIGN KEY ("work_order_id") REFERENCES "work_orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "part_reservations" ADD CONSTRAINT "part_reservations_work_order_id_fkey" FOREIGN KEY ("work_order_id") REFERENCES "work_orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "part_reservations" ADD CONSTRAINT "part_reservations_part_id_fkey" FOREIGN KEY ("part_id") REFERENCES "parts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "part_reservations" ADD CONSTRAINT "part_reservations_warehouse_id_fkey" FOREIGN KEY ("warehouse_id") REFERENCES "warehouses"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "purchase_order_lines" ADD CONSTRAINT "purchase_order_lines_purchase_order_id_fkey" FOREIGN KEY ("purchase_order_id") REFERENCES "purchase_orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "purchase_order_lines" ADD CONSTRAINT "purchase_order_lines_part_id_fkey" FOREIGN KEY ("part_id") REFERENCES "parts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "purchase_order_lines" ADD CONSTRAINT "purchase_order_lines_warehouse_id_fkey" FOREIGN KEY ("warehouse_id") REFERENCES "warehouses"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "purchase_order_lines" ADD CONSTRAINT "purchase_order_lines_purchase_request_id_fkey" FOREIGN KEY ("purchase_request_id") REFERENCES "purchase_requests"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "contracts" ADD CONSTRAINT "contracts_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "projects" ADD CONSTRAINT "projects_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "projects" ADD CONSTRAINT "projects_contract_id_fkey" FOREIGN KEY ("contract_id") REFERENCES "contracts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "surveys" ADD CONSTRAINT "surveys_work_order_id_fkey" FOREIGN KEY ("work_order_id") REFERENCES "work_orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Integrity not expressible in schema.prisma.
-- Reserved stock is part of the balance: available = quantity - reserved never goes below zero.
ALTER TABLE "stock" ADD CONSTRAINT "stock_reserved_within_quantity" CHECK ("reserved" >= 0 AND "reserved" <= "quantity");
ALTER TABLE "part_reservations" ADD CONSTRAINT "part_reservations_quantities" CHECK ("quantity" > 0 AND "consumed_quantity" >= 0 AND "consumed_quantity" <= "quantity");
ALTER TABLE "purchase_order_lines" ADD CONSTRAINT "purchase_order_lines_quantities" CHECK ("quantity" > 0 AND "received_quantity" >= 0 AND "received_quantity" <= "quantity");
ALTER TABLE "pm_plan_parts" ADD CONSTRAINT "pm_plan_parts_quantity_positive" CHECK ("quantity" > 0);
ALTER TABLE "pm_plans" ADD CONSTRAINT "pm_plans_one_scope" CHECK (("asset_id" IS NULL) <> ("asset_type" IS NULL));
ALTER TABLE "surveys" ADD CONSTRAINT "surveys_score_range" CHECK ("score" IS NULL OR ("score" BETWEEN 1 AND 5));
ALTER TABLE "work_logs" ADD CONSTRAINT "work_logs_minutes_non_negative" CHECK ("minutes" >= 0 AND "cost" >= 0);

-- Standard fault-code library (extendable through the API).
INSERT INTO "fault_codes" ("code", "name", "category", "description") VALUES
  ('E01', 'Power supply failure', 'electrical', 'No or unstable supply: breaker, fuse, phase loss, undervoltage'),
  ('E02', 'Sensor fault', 'instrumentation', 'Sensor reading missing, out of range, drifting or implausible'),
  ('E03', 'Communication loss', 'controls', 'PLC, gateway, fieldbus or network link down'),
  ('E04', 'Mechanical wear or damage', 'mechanical', 'Bearings, seals, couplings, belts, impellers worn or broken'),
  ('E05', 'Overheating', 'thermal', 'Temperature above limits: cooling, ventilation, overload'),
  ('E06', 'Abnormal vibration', 'mechanical', 'Imbalance, misalignment, looseness, resonance'),
  ('E07', 'Leak', 'hydraulic', 'Fluid, oil, refrigerant, air or gas leak'),
  ('E08', 'Lubrication', 'mechanical', 'Lubricant low, contaminated or degraded'),
  ('E09', 'Control or software fault', 'controls', 'Controller error, wrong parameters, firmware'),
  ('E10', 'Pressure or flow out of range', 'process', 'Blocked filter, valve, pump cavitation'),
  ('E11', 'Motor or drive fault', 'electrical', 'Motor winding, inverter/VFD, contactor'),
  ('E12', 'Operator or usage error', 'operation', 'Misuse, wrong settings, no fault found in equipment'),
  ('E99', 'Other', 'other', 'Not covered by the codes above');
