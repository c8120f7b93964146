-- CreateEnum
CREATE TYPE "WorkOrderHoldReason" AS ENUM ('waiting_parts', 'waiting_customer', 'other');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "WorkOrderStatus" ADD VALUE 'accepted';
ALTER TYPE "WorkOrderStatus" ADD VALUE 'en_route';
ALTER TYPE "WorkOrderStatus" ADD VALUE 'on_hold';
ALTER TYPE "WorkOrderStatus" ADD VALUE 'verified';

-- AlterTable
ALTER TABLE "work_orders" ADD COLUMN     "accepted_at" TIMESTAMP(3),
ADD COLUMN     "en_route_at" TIMESTAMP(3),
ADD COLUMN     "hold_reason" "WorkOrderHoldReason",
ADD COLUMN     "on_hold_at" TIMESTAMP(3),
ADD COLUMN     "paused_ms" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "resolution_breached" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "resolution_due_at" TIMESTAMP(3),
ADD COLUMN     "responded_at" TIMESTAMP(3),
ADD COLUMN     "response_breached" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "response_due_at" TIMESTAMP(3),
ADD COLUMN     "verified_at" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "work_orders_response_breached_resolution_breached_idx" ON "work_orders"("response_breached", "resolution_breached");

-- Backfill (hand-written): SLA due times for existing orders from the default targets in
-- maintenance/sla.ts; existing started orders count as responded when they started.
UPDATE "work_orders" SET
  "response_due_at" = "requested_at" + CASE "priority" WHEN 'urgent' THEN interval '1 hour' WHEN 'high' THEN interval '4 hours' WHEN 'medium' THEN interval '24 hours' ELSE interval '72 hours' END,
  "resolution_due_at" = "requested_at" + CASE "priority" WHEN 'urgent' THEN interval '4 hours' WHEN 'high' THEN interval '24 hours' WHEN 'medium' THEN interval '72 hours' ELSE interval '168 hours' END,
  "responded_at" = "started_at";
