-- CreateEnum
CREATE TYPE "DispatchKind" AS ENUM ('auto', 'batch', 'manual', 'redispatch', 'declined', 'withdrawn');

-- AlterTable
ALTER TABLE "engineers" ADD COLUMN     "home_lat" DOUBLE PRECISION,
ADD COLUMN     "home_lon" DOUBLE PRECISION,
ADD COLUMN     "lat" DOUBLE PRECISION,
ADD COLUMN     "location_at" TIMESTAMP(3),
ADD COLUMN     "lon" DOUBLE PRECISION,
ADD COLUMN     "max_open_orders" INTEGER NOT NULL DEFAULT 8,
ADD COLUMN     "timezone" TEXT NOT NULL DEFAULT 'UTC';

-- AlterTable
ALTER TABLE "work_orders" ADD COLUMN     "required_certifications" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- CreateTable
CREATE TABLE "engineer_skills" (
    "engineer_id" TEXT NOT NULL,
    "skill" TEXT NOT NULL,
    "level" INTEGER NOT NULL DEFAULT 3,

    CONSTRAINT "engineer_skills_pkey" PRIMARY KEY ("engineer_id","skill")
);

-- CreateTable
CREATE TABLE "engineer_certifications" (
    "id" TEXT NOT NULL,
    "engineer_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "issued_at" DATE,
    "expires_at" DATE,

    CONSTRAINT "engineer_certifications_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "engineer_shifts" (
    "id" TEXT NOT NULL,
    "engineer_id" TEXT NOT NULL,
    "weekday" INTEGER NOT NULL,
    "start_minute" INTEGER NOT NULL,
    "end_minute" INTEGER NOT NULL,

    CONSTRAINT "engineer_shifts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "engineer_leaves" (
    "id" TEXT NOT NULL,
    "engineer_id" TEXT NOT NULL,
    "starts_at" TIMESTAMP(3) NOT NULL,
    "ends_at" TIMESTAMP(3) NOT NULL,
    "reason" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "engineer_leaves_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dispatch_logs" (
    "id" TEXT NOT NULL,
    "work_order_id" TEXT NOT NULL,
    "engineer_id" TEXT,
    "kind" "DispatchKind" NOT NULL,
    "score" DOUBLE PRECISION,
    "details" JSONB NOT NULL DEFAULT '{}',
    "actor" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dispatch_logs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "engineer_skills_skill_idx" ON "engineer_skills"("skill");

-- CreateIndex
CREATE UNIQUE INDEX "engineer_certifications_engineer_id_name_key" ON "engineer_certifications"("engineer_id", "name");

-- CreateIndex
CREATE INDEX "engineer_shifts_engineer_id_idx" ON "engineer_shifts"("engineer_id");

-- CreateIndex
CREATE INDEX "engineer_leaves_engineer_id_starts_at_idx" ON "engineer_leaves"("engineer_id", "starts_at");

-- CreateIndex
CREATE INDEX "dispatch_logs_work_order_id_at_idx" ON "dispatch_logs"("work_order_id", "at");

-- CreateIndex
CREATE INDEX "dispatch_logs_engineer_id_at_idx" ON "dispatch_logs"("engineer_id", "at");

-- AddForeignKey
ALTER TABLE "engineer_skills" ADD CONSTRAINT "engineer_skills_engineer_id_fkey" FOREIGN KEY ("engineer_id") REFERENCES "engineers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "engineer_certifications" ADD CONSTRAINT "engineer_certifications_engineer_id_fkey" FOREIGN KEY ("engineer_id") REFERENCES "engineers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "engineer_shifts" ADD CONSTRAINT "engineer_shifts_engineer_id_fkey" FOREIGN KEY ("engineer_id") REFERENCES "engineers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "engineer_leaves" ADD CONSTRAINT "engineer_leaves_engineer_id_fkey" FOREIGN KEY ("engineer_id") REFERENCES "engineers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Skills become levelled rows (existing names move over at level 3), then the array column goes.
INSERT INTO "engineer_skills" ("engineer_id", "skill", "level")
  SELECT DISTINCT e."id", lower(trim(s)), 3 FROM "engineers" e, unnest(e."skills") AS s WHERE trim(s) <> ''
  ON CONFLICT DO NOTHING;
ALTER TABLE "engineers" DROP COLUMN "skills";

-- Integrity not expressible in schema.prisma.
ALTER TABLE "engineer_skills" ADD CONSTRAINT "engineer_skills_level_range" CHECK ("level" BETWEEN 1 AND 5);
ALTER TABLE "engineer_shifts" ADD CONSTRAINT "engineer_shifts_ranges" CHECK ("weekday" BETWEEN 1 AND 7 AND "start_minute" BETWEEN 0 AND 1439 AND "end_minute" BETWEEN 0 AND 1439 AND "start_minute" <> "end_minute");
ALTER TABLE "engineer_leaves" ADD CONSTRAINT "engineer_leaves_order" CHECK ("ends_at" > "starts_at");
ALTER TABLE "engineers" ADD CONSTRAINT "engineers_max_open_orders_non_negative" CHECK ("max_open_orders" >= 0);
