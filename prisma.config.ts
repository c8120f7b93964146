import { defineConfig } from 'prisma/config';

// Used by the Prisma CLI (generate, migrate diff). The service applies migrations itself at start-up.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/om' },
});
