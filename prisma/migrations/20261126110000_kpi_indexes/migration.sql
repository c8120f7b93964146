-- CreateIndex
CREATE INDEX "stock_movements_at_idx" ON "stock_movements"("at");

-- CreateIndex
CREATE INDEX "surveys_answered_at_idx" ON "surveys"("answered_at");

-- CreateIndex
CREATE INDEX "work_orders_requested_at_idx" ON "work_orders"("requested_at");

-- CreateIndex
CREATE INDEX "work_orders_completed_at_idx" ON "work_orders"("completed_at");

-- CreateIndex
CREATE INDEX "work_orders_resolution_due_at_idx" ON "work_orders"("resolution_due_at");

-- CreateIndex
CREATE INDEX "work_orders_asset_id_requested_at_idx" ON "work_orders"("asset_id", "requested_at");

-- CreateIndex
CREATE INDEX "work_orders_assignee_id_status_idx" ON "work_orders"("assignee_id", "status");
