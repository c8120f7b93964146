-- AlterTable
ALTER TABLE "assets" ADD COLUMN     "online" BOOLEAN,
ADD COLUMN     "online_changed_at" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "device_credentials" (
    "id" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "asset_id" TEXT,
    "site_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMP(3),
    "last_used_at" TIMESTAMP(3),

    CONSTRAINT "device_credentials_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "device_credentials_username_key" ON "device_credentials"("username");

-- CreateIndex
CREATE INDEX "device_credentials_asset_id_idx" ON "device_credentials"("asset_id");

-- CreateIndex
CREATE INDEX "device_credentials_site_id_idx" ON "device_credentials"("site_id");

-- AddForeignKey
ALTER TABLE "device_credentials" ADD CONSTRAINT "device_credentials_asset_id_fkey" FOREIGN KEY ("asset_id") REFERENCES "assets"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "device_credentials" ADD CONSTRAINT "device_credentials_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "sites"("id") ON DELETE CASCADE ON UPDATE CASCADE;
