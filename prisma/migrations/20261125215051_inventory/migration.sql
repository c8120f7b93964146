-- CreateEnum
CREATE TYPE "WarehouseKind" AS ENUM ('site', 'central', 'van');

-- CreateEnum
CREATE TYPE "StockMovementKind" AS ENUM ('receipt', 'issue', 'transfer_out', 'transfer_in', 'adjustment', 'return');

-- CreateEnum
CREATE TYPE "PurchaseRequestStatus" AS ENUM ('open', 'ordered', 'received', 'cancelled');

-- AlterTable
ALTER TABLE "parts" ADD COLUMN     "reorder_quantity" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "warehouses" ADD COLUMN     "kind" "WarehouseKind" NOT NULL DEFAULT 'site';

-- CreateTable
CREATE TABLE "stock_movements" (
    "id" TEXT NOT NULL,
    "seq" SERIAL NOT NULL,
    "part_id" TEXT NOT NULL,
    "warehouse_id" TEXT NOT NULL,
    "kind" "StockMovementKind" NOT NULL,
    "quantity" INTEGER NOT NULL,
    "balance_after" INTEGER NOT NULL,
    "transfer_id" TEXT,
    "work_order_id" TEXT,
    "reference" TEXT,
    "note" TEXT,
    "actor" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stock_movements_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "purchase_requests" (
    "id" TEXT NOT NULL,
    "number" SERIAL NOT NULL,
    "part_id" TEXT NOT NULL,
    "warehouse_id" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "status" "PurchaseRequestStatus" NOT NULL DEFAULT 'open',
    "open_key" TEXT,
    "reason" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ordered_at" TIMESTAMP(3),
    "received_at" TIMESTAMP(3),
    "cancelled_at" TIMESTAMP(3),

    CONSTRAINT "purchase_requests_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "stock_movements_seq_key" ON "stock_movements"("seq");

-- CreateIndex
CREATE INDEX "stock_movements_part_id_warehouse_id_at_idx" ON "stock_movements"("part_id", "warehouse_id", "at");

-- CreateIndex
CREATE INDEX "stock_movements_work_order_id_idx" ON "stock_movements"("work_order_id");

-- CreateIndex
CREATE UNIQUE INDEX "purchase_requests_number_key" ON "purchase_requests"("number");

-- CreateIndex
CREATE UNIQUE INDEX "purchase_requests_open_key_key" ON "purchase_requests"("open_key");

-- CreateIndex
CREATE INDEX "purchase_requests_status_idx" ON "purchase_requests"("status");

-- CreateIndex
CREATE INDEX "purchase_requests_part_id_warehouse_id_idx" ON "purchase_requests"("part_id", "warehouse_id");

-- AddForeignKey
ALTER TABLE "stock_movements" ADD CONSTRAINT "stock_movements_part_id_fkey" FOREIGN KEY ("part_id") REFERENCES "parts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stock_movements" ADD CONSTRAINT "stock_movements_warehouse_id_fkey" FOREIGN KEY ("warehouse_id") REFERENCES "warehouses"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "purchase_requests" ADD CONSTRAINT "purchase_requests_part_id_fkey" FOREIGN KEY ("part_id") REFERENCES "parts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "purchase_requests" ADD CONSTRAINT "purchase_requests_warehouse_id_fkey" FOREIGN KEY ("warehouse_id") REFERENCES "warehouses"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Balances are derived from the ledger and never negative (not expressible in schema.prisma).
ALTER TABLE "stock" ADD CONSTRAINT "stock_quantity_non_negative" CHECK ("quantity" >= 0);
